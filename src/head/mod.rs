//! The head: a network's output activation and its loss, checked and run as one unit.
//!
//! **Compatibility** comes from the pairing table ([`Pairing`], `pairing.rs`): a pairing is
//! allowed when `range(activation) ⊆ domain(loss)` (see [`LossConfig::domain`] and `range.rs`)
//! and the loss does not squash the output a second time. A refused pairing explains which
//! range the activation has, what the loss needs, what goes wrong and how to fix it
//! (`refusal.rs`).
//!
//! **Fusion.** The pairings that form a probability model run in logit space:
//!
//! ```text
//! sigmoid     + binary cross-entropy on probabilities  ≡ BCE from logits z
//! softmax     + cross-entropy on probabilities         ≡ CE from logits z
//! log-softmax + cross-entropy / nll on log-probs        ≡ CE from logits z
//! δ = ∂C/∂z = a − y     (one-hot, unweighted, mean: (a − y)/n)
//! ```
//!
//! so δ never divides by a or 1 − a. Every other allowed pairing is *composite*: a = σ(z),
//! C(a), δ = σ′ applied to ∂C/∂a by the chain rule.

mod clipped;
mod pairing;
mod refusal;

use ndarray::{ArrayView2, ArrayViewMut2};

pub use pairing::{
    HeadPath, Pairing, Refusal, default_from, default_loss, fused_loss, outputs_for_classes,
    probability_form, sound_output,
};
pub use refusal::IncompatibleHead;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::loss::{LossConfig, LossInput, LossKind, LossValue, Targets};
use crate::scalar::Scalar;

/// Keras' clipping constant (`keras.backend.epsilon()`), used by [`HeadPath::Clipped`].
pub const UNSAFE_EPSILON: f64 = 1e-7;

/// A checked output activation + loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    activation: Activation,
    loss: LossConfig,
    path: HeadPath,
    /// The loss as it is evaluated on z (fused: from logits) or on a (composite).
    evaluated: LossConfig,
}

/// A softmax over one output unit is e^z / e^z = 1 whatever z is: it cannot learn anything
/// (two classes with `--loss binary-cross-entropy` used to build one, stuck at accuracy 0.5).
fn refuse_lone_softmax(activation: Activation, outputs: usize) -> Result<()> {
    if activation == Activation::Softmax && outputs == 1 {
        return Err(Error::invalid(
            "output",
            "a softmax over one output unit is e^z/e^z = 1 whatever z is, so it cannot learn: \
             for one yes/no output use a sigmoid output unit, or give the softmax \
             one unit per class (two for yes/no, with categorical cross-entropy)",
        ));
    }
    Ok(())
}

impl Head {
    /// Checks the pairing and the loss options for `outputs` output units.
    ///
    /// # Errors
    /// [`Error::IncompatibleHead`] when the activation's range is not inside the loss's
    /// domain; [`Error::InvalidValue`] for options that do not fit (weights of the wrong
    /// length, smoothing outside [0, 1], ...).
    ///
    /// ```
    /// use nabla::ndarray::{Array2, array};
    /// use nabla::{Activation, Head, HeadPath, LossConfig, LossInput, LossKind, Targets};
    ///
    /// let loss = LossConfig::new(LossKind::CrossEntropy, LossInput::Probabilities);
    /// let head = Head::new(Activation::Softmax, loss, 3)?;
    /// assert_eq!(head.path(), HeadPath::Fused);
    /// // δ = ∂C/∂z = (a − y)/n: no division by a, whatever z is.
    /// let z = array![[1000.0f64, 0.0, -1000.0]];
    /// let (mut a, mut delta) = (Array2::zeros((1, 3)), Array2::zeros((1, 3)));
    /// head.evaluate(z.view(), &Targets::Classes(&[0]), a.view_mut(), Some(delta.view_mut()))?;
    /// assert!(delta.iter().all(|d| d.is_finite() && d.abs() < 1e-12));
    /// # Ok::<(), nabla::Error>(())
    /// ```
    pub fn new(activation: Activation, loss: LossConfig, outputs: usize) -> Result<Head> {
        loss.validate(outputs)?;
        refuse_lone_softmax(activation, outputs)?;
        let path = match Pairing::of(activation, loss.kind, loss.from) {
            Pairing::Accepted(path) => path,
            Pairing::Refused(_) => {
                return Err(Error::IncompatibleHead(Box::new(IncompatibleHead::new(
                    activation, &loss,
                ))));
            }
        };
        let evaluated = match fused_loss(activation, loss.kind, loss.from) {
            Some(kind) => LossConfig {
                kind,
                from: LossInput::Logits,
                ..loss.clone()
            },
            None => loss.clone(),
        };
        Ok(Head {
            activation,
            loss,
            path,
            evaluated,
        })
    }

    /// Like [`Head::new`], but a refused pairing is built anyway: out of range on the
    /// [`HeadPath::Clipped`] path, squashed twice on the composite path (it computes exactly
    /// what it says), for experiments such as `nabla compare-heads`.
    pub fn new_unsafe(activation: Activation, loss: LossConfig, outputs: usize) -> Result<Head> {
        match Pairing::of(activation, loss.kind, loss.from) {
            Pairing::Refused(reason) => {
                loss.validate(outputs)?;
                refuse_lone_softmax(activation, outputs)?;
                Ok(Head {
                    activation,
                    evaluated: loss.clone(),
                    loss,
                    path: match reason {
                        Refusal::OutOfRange => HeadPath::Clipped,
                        Refusal::DoubleSquashing => HeadPath::Composite,
                    },
                })
            }
            Pairing::Accepted(_) => Head::new(activation, loss, outputs),
        }
    }

    /// The output activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The loss as configured.
    pub fn loss(&self) -> &LossConfig {
        &self.loss
    }

    /// How the head runs (fused, direct or composite).
    pub fn path(&self) -> HeadPath {
        self.path
    }

    /// The loss C of pre-activations z and, when `delta` is given, δ = ∂C/∂z.
    ///
    /// `scratch` (batch × outputs) receives a = σ(z) on the composite path and is left alone
    /// otherwise.
    ///
    /// # Shapes
    /// `pre_activations`, `scratch` and `delta` are batch × outputs.
    pub fn evaluate<F: Scalar>(
        &self,
        pre_activations: ArrayView2<F>,
        targets: &Targets<F>,
        mut scratch: ArrayViewMut2<F>,
        mut delta: Option<ArrayViewMut2<F>>,
    ) -> Result<LossValue> {
        match self.path {
            HeadPath::Fused | HeadPath::Direct => {
                self.evaluated.evaluate(pre_activations, targets, delta)
            }
            HeadPath::Composite => {
                self.activation.forward(pre_activations, scratch.view_mut());
                let value = self.evaluated.evaluate(
                    scratch.view(),
                    targets,
                    delta.as_mut().map(|d| d.view_mut()),
                )?;
                if let Some(delta) = delta {
                    self.activation
                        .backward_in_place(pre_activations, scratch.view(), delta);
                }
                Ok(value)
            }
            HeadPath::Clipped => {
                self.activation.forward(pre_activations, scratch.view_mut());
                self.evaluate_clipped(pre_activations, targets, scratch, delta)
            }
        }
    }

    /// The model's outputs for pre-activations z: probabilities where the loss defines them.
    ///
    /// ```text
    /// loss from logits (fused or identity):  softmax(z) for cross-entropy, σ(z) for binary
    /// log-softmax + nll / cross-entropy:      softmax(z)
    /// otherwise:                              σ(z) of the output activation
    /// ```
    pub fn predict<F: Scalar>(&self, pre_activations: ArrayView2<F>, outputs: ArrayViewMut2<F>) {
        self.output_activation().forward(pre_activations, outputs);
    }

    /// The activation that maps z to the model's outputs (see [`Head::predict`]): the loss's
    /// own link (softmax, sigmoid) when it reads logits, else the output activation.
    pub fn output_activation(&self) -> Activation {
        match (self.path, self.evaluated.kind, self.evaluated.from) {
            (HeadPath::Fused | HeadPath::Direct, LossKind::CrossEntropy, LossInput::Logits)
            | (
                HeadPath::Direct,
                LossKind::Nll | LossKind::CrossEntropy,
                LossInput::LogProbabilities,
            ) => Activation::Softmax,
            (
                HeadPath::Fused | HeadPath::Direct,
                LossKind::BinaryCrossEntropy,
                LossInput::Logits,
            ) => Activation::Sigmoid,
            _ => self.activation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{central_difference, relative_error};
    use crate::init::uniform_matrix;
    use crate::loss::Reduction;
    use ndarray::{Array2, array};

    /// A softmax of one unit is refused by both constructors, whatever the loss; of two, not.
    #[test]
    fn a_softmax_over_one_unit_is_refused() {
        for kind in [LossKind::CrossEntropy, LossKind::BinaryCrossEntropy] {
            let loss = LossConfig::new(kind, LossInput::Probabilities);
            for head in [
                Head::new(Activation::Softmax, loss.clone(), 1),
                Head::new_unsafe(Activation::Softmax, loss.clone(), 1),
            ] {
                let error = head.unwrap_err().to_string();
                assert!(error.contains("softmax over one output unit"), "{error}");
            }
            assert!(Head::new(Activation::Softmax, loss, 2).is_ok());
        }
    }

    fn config(kind: LossKind, from: LossInput) -> LossConfig {
        LossConfig::new(kind, from)
    }

    /// The natural input form for a loss behind an activation.
    fn form_for(activation: Activation, kind: LossKind) -> LossInput {
        match (activation, kind) {
            (Activation::Identity, kind) => kind.natural_input(),
            (Activation::LogSoftmax, _) | (_, LossKind::Nll) => LossInput::LogProbabilities,
            _ => LossInput::Probabilities,
        }
    }

    #[test]
    fn pairings_follow_the_ranges() {
        use Activation::*;
        let allowed =
            |a: Activation, k: LossKind| Head::new(a, config(k, form_for(a, k)), 3).is_ok();
        for activation in [
            Identity,
            Relu,
            LeakyRelu { slope: 0.01 },
            Tanh,
            Softplus,
            Gelu,
        ] {
            if activation != Identity {
                assert!(
                    !allowed(activation, LossKind::CrossEntropy),
                    "{activation} + CE"
                );
                assert!(
                    !allowed(activation, LossKind::BinaryCrossEntropy),
                    "{activation} + BCE"
                );
            }
            assert!(allowed(activation, LossKind::Mse));
        }
        assert!(allowed(Sigmoid, LossKind::BinaryCrossEntropy));
        assert!(
            !allowed(Sigmoid, LossKind::CrossEntropy),
            "sigmoid rows need not sum to 1"
        );
        assert!(allowed(Softmax, LossKind::CrossEntropy));
        assert!(allowed(Softmax, LossKind::BinaryCrossEntropy));
        assert!(allowed(LogSoftmax, LossKind::Nll));
        // Identity outputs are refused for losses on probabilities, allowed from logits.
        assert!(
            Head::new(
                Identity,
                config(LossKind::CrossEntropy, LossInput::Probabilities),
                3
            )
            .is_err()
        );
        assert!(
            Head::new(
                Identity,
                config(LossKind::CrossEntropy, LossInput::Logits),
                3
            )
            .is_ok()
        );
    }

    /// Every refused pairing names both ranges, at least one concrete failure, and a fix.
    #[test]
    fn every_refusal_states_ranges_failures_and_fix() {
        let mut refused = 0;
        for activation in Activation::ALL {
            for kind in LossKind::ALL {
                for from in [LossInput::Probabilities, LossInput::LogProbabilities] {
                    let loss = config(kind, from);
                    if loss.validate(3).is_err() {
                        continue;
                    }
                    let Err(Error::IncompatibleHead(why)) = Head::new(activation, loss, 3) else {
                        continue;
                    };
                    let text = why.to_string();
                    assert!(text.contains(&activation.range().to_string()), "{text}");
                    assert!(
                        text.contains(&why.needed.to_string()) || text.contains("(0, 1)"),
                        "{text}"
                    );
                    assert!(
                        !why.undefined.is_empty() && text.contains("Fix: use"),
                        "{text}"
                    );
                    refused += 1;
                }
            }
        }
        // Four probability-reading losses (CE on probabilities, CE on log-probabilities, BCE,
        // NLL): identity, ReLU, leaky ReLU, tanh, softplus and GELU fail all four (24);
        // sigmoid all but BCE (3); softmax both log-probability ones (2); log-softmax CE and
        // BCE on probabilities (2).
        assert_eq!(refused, 31);
    }

    /// The refusal of `activation` feeding `kind` on probabilities, as text.
    fn refusal(activation: Activation, kind: LossKind, outputs: usize) -> String {
        Head::new(activation, config(kind, LossInput::Probabilities), outputs)
            .unwrap_err()
            .to_string()
    }

    fn assert_names(error: &str, expected: &[&str]) {
        for expected in expected {
            assert!(
                error.contains(expected),
                "missing {expected:?} in:\n{error}"
            );
        }
    }

    #[test]
    fn relu_output_with_bce_is_refused_with_the_reason_and_the_fix() {
        let error = refusal(Activation::Relu, LossKind::BinaryCrossEntropy, 1);
        assert_names(
            &error,
            &[
                "refused: a ReLU output cannot feed binary cross-entropy on probabilities",
                "[0, ∞)",
                "(0, 1)",
                "ln a = −∞",
                "ln(1 − a) is undefined",
                "divides by zero at a = 0 and at a = 1",
                "not a probability model",
                "sigmoid output",
                "from logits",
                "Keep ReLU in the hidden layers",
            ],
        );
    }

    #[test]
    fn relu_output_with_cross_entropy_is_refused_with_the_reason_and_the_fix() {
        let error = refusal(Activation::Relu, LossKind::CrossEntropy, 4);
        assert_names(
            &error,
            &[
                "need not sum to 1",
                "ln aₖ is undefined for aₖ ≤ 0",
                "without bound",
                "softmax output",
                "from logits",
            ],
        );
    }

    #[test]
    fn tanh_refusal_names_only_what_its_range_reaches() {
        let error = refusal(Activation::Tanh, LossKind::BinaryCrossEntropy, 1);
        assert!(error.contains("(−1, 1)") && error.contains("for a < 0, ln a is undefined"));
        assert!(!error.contains("a > 1"), "tanh never exceeds 1:\n{error}");
    }

    #[test]
    fn fused_heads_are_chosen_for_probability_models() {
        let head = |a, k, f| Head::new(a, config(k, f), 3).unwrap().path();
        use Activation::*;
        use LossInput::*;
        assert_eq!(
            head(Sigmoid, LossKind::BinaryCrossEntropy, Probabilities),
            HeadPath::Fused
        );
        assert_eq!(
            head(Softmax, LossKind::CrossEntropy, Probabilities),
            HeadPath::Fused
        );
        assert_eq!(
            head(LogSoftmax, LossKind::Nll, LogProbabilities),
            HeadPath::Fused
        );
        assert_eq!(
            head(Identity, LossKind::CrossEntropy, Logits),
            HeadPath::Direct
        );
        assert_eq!(head(Sigmoid, LossKind::Mse, Logits), HeadPath::Composite);
    }

    /// A PyTorch user reaches for logits first: a softmax (or sigmoid) output in front of a loss
    /// from logits squashes twice and is refused with the reason and the fix; allow_unsafe
    /// computes it as written.
    #[test]
    fn double_softmax_and_double_sigmoid_are_refused_with_the_fix() {
        for (activation, kind, expected) in [
            (
                Activation::Softmax,
                LossKind::CrossEntropy,
                ["softmax(softmax(z))", "e/(e + K − 1)", "identity output"],
            ),
            (
                Activation::Sigmoid,
                LossKind::BinaryCrossEntropy,
                ["σ(σ(z))", "(0.5, 0.731)", "identity output"],
            ),
        ] {
            let loss = config(kind, LossInput::Logits);
            let error = Head::new(activation, loss.clone(), 3).unwrap_err();
            let Error::IncompatibleHead(why) = &error else {
                panic!("{error}")
            };
            assert_eq!(why.reason, Refusal::DoubleSquashing);
            let text = error.to_string();
            for e in expected {
                assert!(text.contains(e), "missing {e:?} in:\n{text}");
            }
            assert!(text.contains("squashes the output twice"), "{text}");
            let unsafe_head = Head::new_unsafe(activation, loss, 3).unwrap();
            assert_eq!(unsafe_head.path(), HeadPath::Composite);
        }
    }

    /// The fused softmax + cross-entropy δ is a − y over n, exactly.
    #[test]
    fn fused_softmax_delta_is_a_minus_y() {
        let head = Head::new(
            Activation::Softmax,
            config(LossKind::CrossEntropy, LossInput::Probabilities),
            3,
        )
        .unwrap();
        let z = array![[1.0f64, 2.0, 3.0], [0.5, -0.5, 0.0]];
        let targets = [2i64, 0];
        let mut scratch = Array2::zeros((2, 3));
        let mut delta = Array2::zeros((2, 3));
        head.evaluate(
            z.view(),
            &Targets::Classes(&targets),
            scratch.view_mut(),
            Some(delta.view_mut()),
        )
        .unwrap();
        let mut a = Array2::zeros((2, 3));
        head.predict(z.view(), a.view_mut());
        let y = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
        let expected = (a - y) / 2.0;
        assert!(relative_error(delta.view(), expected.view()) < 1e-15);
    }

    /// Every allowed head, every reduction and option: δ against central differences of C.
    #[test]
    fn every_allowed_head_matches_finite_differences() {
        let outputs = 3;
        let z = uniform_matrix(4, outputs, -2.0, 2.0, 11);
        let soft = {
            let mut t = uniform_matrix(4, outputs, 0.1, 1.0, 12);
            for mut row in t.rows_mut() {
                let s = row.sum();
                row /= s;
            }
            t
        };
        let binary = uniform_matrix(4, outputs, 0.0, 1.0, 13).mapv(|v| v.round());
        let classes = [2i64, 0, 1, -100];
        let mut checked = 0;
        for activation in Activation::ALL {
            for kind in LossKind::ALL {
                for from in [
                    LossInput::Logits,
                    LossInput::Probabilities,
                    LossInput::LogProbabilities,
                ] {
                    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::BatchMean] {
                        for options in 0..2 {
                            let mut loss = config(kind, from);
                            loss.reduction = reduction;
                            if options == 1 {
                                match kind {
                                    LossKind::CrossEntropy => {
                                        loss.class_weights = Some(vec![0.5, 2.0, 1.0]);
                                        loss.label_smoothing = 0.1;
                                    }
                                    LossKind::BinaryCrossEntropy => {
                                        loss.class_weights = Some(vec![0.5, 2.0, 1.0]);
                                        loss.pos_weight = Some(vec![3.0]);
                                        loss.label_smoothing = 0.2;
                                    }
                                    LossKind::Nll => loss.class_weights = Some(vec![0.5, 2.0, 1.0]),
                                    LossKind::Mse => {}
                                }
                            }
                            let Ok(head) = Head::new(activation, loss, outputs) else {
                                continue;
                            };
                            let target_sets: Vec<Targets<f64>> = match kind {
                                LossKind::CrossEntropy => {
                                    vec![Targets::Classes(&classes), Targets::Dense(soft.view())]
                                }
                                LossKind::Nll => vec![Targets::Classes(&classes)],
                                LossKind::BinaryCrossEntropy => vec![Targets::Dense(binary.view())],
                                LossKind::Mse => vec![Targets::Dense(soft.view())],
                            };
                            for targets in target_sets {
                                let mut scratch = Array2::zeros(z.raw_dim());
                                let mut delta = Array2::zeros(z.raw_dim());
                                head.evaluate(
                                    z.view(),
                                    &targets,
                                    scratch.view_mut(),
                                    Some(delta.view_mut()),
                                )
                                .unwrap();
                                let numeric = central_difference(&z, 1e-5, |z| {
                                    let mut s = Array2::zeros(z.raw_dim());
                                    head.evaluate(z.view(), &targets, s.view_mut(), None)
                                        .unwrap()
                                        .total()
                                });
                                let error = relative_error(delta.view(), numeric.view());
                                assert!(
                                    error <= 1e-6,
                                    "{activation} + {kind} from {from} ({reduction:?}, options {options}): {error:e}"
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked >= 60, "only {checked} heads checked");
    }

    /// The Keras-style clipped path: normalised, clipped raw cross-entropy with the right
    /// gradient where nothing is clipped, and NaN when a row of outputs sums to 0.
    #[test]
    fn unsafe_relu_cross_entropy_runs_clipped_like_keras() {
        let loss = config(LossKind::CrossEntropy, LossInput::Probabilities);
        assert!(Head::new(Activation::Relu, loss.clone(), 3).is_err());
        let head = Head::new_unsafe(Activation::Relu, loss, 3).unwrap();
        assert_eq!(head.path(), HeadPath::Clipped);
        let z = array![[0.5f64, 1.5, 2.0], [1.0, 0.2, 0.3]];
        let targets = [1i64, 0];
        let mut scratch = Array2::zeros((2, 3));
        let mut delta = Array2::zeros((2, 3));
        let value = head
            .evaluate(
                z.view(),
                &Targets::Classes(&targets),
                scratch.view_mut(),
                Some(delta.view_mut()),
            )
            .unwrap()
            .total();
        // Keras: p = a/Σa, loss = −mean ln p_y.
        let expected = -((1.5f64 / 4.0).ln() + (1.0f64 / 1.5).ln()) / 2.0;
        assert!((value - expected).abs() < 1e-12);
        let numeric = central_difference(&z, 1e-6, |z| {
            let mut s = Array2::zeros(z.raw_dim());
            head.evaluate(z.view(), &Targets::Classes(&targets), s.view_mut(), None)
                .unwrap()
                .total()
        });
        assert!(relative_error(delta.view(), numeric.view()) < 1e-6);
        let dead = array![[-1.0f64, -2.0, -0.5]];
        let value = head
            .evaluate(
                dead.view(),
                &Targets::Classes(&[0]),
                scratch.slice_mut(ndarray::s![..1, ..]),
                None,
            )
            .unwrap()
            .total();
        assert!(
            value.is_nan(),
            "all-zero ReLU outputs divide 0 by 0, as in Keras"
        );
    }

    /// Logits of ±1000 give finite losses and exact gradients, never NaN or ∞.
    #[test]
    fn fused_heads_are_stable_at_logits_of_a_thousand() {
        let z = array![[1000.0f32, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]];
        let ce = Head::new(
            Activation::Softmax,
            config(LossKind::CrossEntropy, LossInput::Probabilities),
            3,
        )
        .unwrap();
        let mut scratch = Array2::zeros((2, 3));
        let mut delta = Array2::zeros((2, 3));
        let loss = ce
            .evaluate(
                z.view(),
                &Targets::Classes(&[1, 0]),
                scratch.view_mut(),
                Some(delta.view_mut()),
            )
            .unwrap()
            .total();
        // Row 0: −ln softmax(z)₁ = 2000; row 1: −ln softmax(z)₀ = 2000 + ln 2.
        assert!((loss - (4000.0 + 2f64.ln()) / 2.0).abs() < 1e-3, "{loss}");
        let expected = array![[0.5f32, -0.5, 0.0], [-0.5, 0.25, 0.25]];
        assert!(
            delta
                .iter()
                .zip(&expected)
                .all(|(d, e)| (d - e).abs() < 1e-7),
            "{delta}"
        );

        let bce = Head::new(
            Activation::Sigmoid,
            config(LossKind::BinaryCrossEntropy, LossInput::Probabilities),
            3,
        )
        .unwrap();
        let y = array![[0.0f32, 1.0, 1.0], [1.0, 0.0, 1.0]];
        let loss = bce
            .evaluate(
                z.view(),
                &Targets::Dense(y.view()),
                scratch.view_mut(),
                Some(delta.view_mut()),
            )
            .unwrap()
            .total();
        assert!(
            loss.is_finite()
                && (loss - (1000.0 + 1000.0 + 2f64.ln() + 1000.0 + 1000.0) / 6.0).abs() < 1e-3
        );
        let expected = array![[1.0f32, -1.0, -0.5], [-1.0, 1.0, 0.0]] / 6.0;
        assert!(
            delta
                .iter()
                .zip(&expected)
                .all(|(d, e)| (d - e).abs() < 1e-7),
            "{delta}"
        );
    }
}
