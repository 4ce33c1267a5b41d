//! The pairing table: for an output activation, a loss and the form the loss reads, whether the
//! pair is a probability model, how it runs, and the defaults that go with an output. Every
//! part of nabla that needs this knowledge (the head, explain, diagnose, the CLI, the Python
//! package) reads it here.
//!
//! ```text
//! refused, out of range     range(activation) ⊄ domain(loss)       ReLU + BCE on probabilities
//! refused, double squashing a link (σ, softmax, log-softmax) feeds  softmax + CE from logits:
//!                           a loss that applies its own link        softmax(softmax(z))
//! fused                     the loss of the activation's outputs    sigmoid + BCE, softmax + CE,
//!                           is one function of z: δ = a − y         log-softmax + NLL / CE
//! direct                    identity output: the loss reads z       identity + CE from logits
//! composite                 everything else that fits: a = σ(z),    tanh + MSE, softmax + BCE
//!                           C(a), δ through σ′
//! ```
//!
//! A pair is a *probability model* when it is accepted and its loss is a negative
//! log-likelihood (cross-entropy, binary cross-entropy, NLL); MSE compares numbers, so an MSE
//! pair is accepted ("compatible") but not a probability model.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::loss::{LossInput, LossKind};

/// How a head computes its loss and δ (the pairing table's verdict for an accepted pair, or
/// [`HeadPath::Clipped`] for a refused pair run anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadPath {
    /// The activation and loss are one function of the logits (log-sum-exp or softplus);
    /// δ = a − y.
    Fused,
    /// Identity output: the loss reads z itself (logits, or values for MSE).
    Direct,
    /// a = σ(z), then the loss on a, then δ = ∂C/∂a through σ′.
    Composite,
    /// A refused pairing run anyway (`allow_unsafe`), the way Keras runs it: a = σ(z), for
    /// categorical cross-entropy p = a / Σₖ aₖ, then p clipped to [ε, 1 − ε] (ε = 1e-7; for
    /// NLL, to ≤ 0), then the raw formula. Where p is clipped the gradient is 0; a row whose
    /// outputs sum to 0 gives NaN, as in Keras.
    Clipped,
}

impl HeadPath {
    /// "fused", "direct", "composite", "clipped".
    pub fn name(self) -> &'static str {
        match self {
            HeadPath::Fused => "fused",
            HeadPath::Direct => "direct",
            HeadPath::Composite => "composite",
            HeadPath::Clipped => "clipped",
        }
    }

    /// What the path means for the gradient, in a few words ("fused: δ = a − y", ...).
    pub fn description(self) -> &'static str {
        match self {
            HeadPath::Fused => "fused: δ = a − y",
            HeadPath::Direct => "direct: the loss reads z",
            HeadPath::Composite => "composite: chain rule through σ′",
            HeadPath::Clipped => "unsafe: clipped like Keras",
        }
    }
}

impl fmt::Display for HeadPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a pair is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The activation's range is not inside the loss's domain: the loss is undefined (or
    /// meaningless) on some outputs.
    OutOfRange,
    /// A squashing output (sigmoid, softmax, log-softmax) feeds a loss that applies its own
    /// squashing to the logits it reads: σ(σ(z)), softmax(softmax(z)).
    DoubleSquashing,
}

/// The table's verdict on one (activation, loss, from) triple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pairing {
    /// Accepted, computed along this path (never [`HeadPath::Clipped`]).
    Accepted(HeadPath),
    /// Refused, for this reason.
    Refused(Refusal),
}

impl Pairing {
    /// The verdict for `activation` feeding `loss`, which reads its input as `from`.
    ///
    /// The range rule is `range(activation) ⊆ domain(loss)` (see [`LossConfig::domain`]);
    /// double squashing and fusion are properties of the pair.
    ///
    /// [`LossConfig::domain`]: crate::loss::LossConfig::domain
    ///
    /// ```
    /// use nabla::head::{HeadPath, Pairing, Refusal};
    /// use nabla::{Activation, LossInput, LossKind};
    ///
    /// let fused = Pairing::of(Activation::Sigmoid, LossKind::BinaryCrossEntropy, LossInput::Probabilities);
    /// assert_eq!(fused, Pairing::Accepted(HeadPath::Fused));
    /// let relu = Pairing::of(Activation::Relu, LossKind::BinaryCrossEntropy, LossInput::Probabilities);
    /// assert_eq!(relu, Pairing::Refused(Refusal::OutOfRange));
    /// let double = Pairing::of(Activation::Softmax, LossKind::CrossEntropy, LossInput::Logits);
    /// assert_eq!(double, Pairing::Refused(Refusal::DoubleSquashing));
    /// ```
    pub fn of(activation: Activation, loss: LossKind, from: LossInput) -> Pairing {
        let domain = crate::loss::LossConfig::new(loss, from).domain();
        if !activation.range().is_subset_of(&domain) {
            return Pairing::Refused(Refusal::OutOfRange);
        }
        if squashes(activation) && from == LossInput::Logits && loss != LossKind::Mse {
            return Pairing::Refused(Refusal::DoubleSquashing);
        }
        if fused_loss(activation, loss, from).is_some() {
            Pairing::Accepted(HeadPath::Fused)
        } else if activation == Activation::Identity {
            Pairing::Accepted(HeadPath::Direct)
        } else {
            Pairing::Accepted(HeadPath::Composite)
        }
    }

    /// Whether nabla accepts the pair.
    pub fn is_accepted(self) -> bool {
        matches!(self, Pairing::Accepted(_))
    }

    /// Whether the pair is a probability model: accepted, and its loss is a negative
    /// log-likelihood of the outputs (every cross-entropy; not MSE).
    pub fn is_probability_model(self, loss: LossKind) -> bool {
        self.is_accepted() && loss != LossKind::Mse
    }
}

/// Whether the activation turns scores into probabilities or log-probabilities, the way a
/// loss from logits does itself.
fn squashes(activation: Activation) -> bool {
    matches!(
        activation,
        Activation::Sigmoid | Activation::Softmax | Activation::LogSoftmax
    )
}

/// For a fused pair, the loss that is evaluated on the logits instead (binary cross-entropy
/// for sigmoid, cross-entropy for softmax and log-softmax); `None` for every other pair.
///
/// ```text
/// sigmoid     + binary cross-entropy on probabilities  ≡ BCE from logits z
/// softmax     + cross-entropy on probabilities         ≡ CE from logits z
/// log-softmax + cross-entropy / nll on log-probs        ≡ CE from logits z
/// ```
pub fn fused_loss(activation: Activation, loss: LossKind, from: LossInput) -> Option<LossKind> {
    match (activation, loss, from) {
        (Activation::Sigmoid, LossKind::BinaryCrossEntropy, LossInput::Probabilities) => {
            Some(LossKind::BinaryCrossEntropy)
        }
        (Activation::Softmax, LossKind::CrossEntropy, LossInput::Probabilities)
        | (
            Activation::LogSoftmax,
            LossKind::CrossEntropy | LossKind::Nll,
            LossInput::LogProbabilities,
        ) => Some(LossKind::CrossEntropy),
        _ => None,
    }
}

/// The loss an output activation trains with when none is named: binary cross-entropy for a
/// sigmoid output, NLL for log-softmax, MSE for an identity output of a regression,
/// cross-entropy otherwise.
pub fn default_loss(output: Activation) -> LossKind {
    match output {
        Activation::Sigmoid => LossKind::BinaryCrossEntropy,
        Activation::LogSoftmax => LossKind::Nll,
        _ => LossKind::CrossEntropy,
    }
}

/// The form in which a loss reads an activation's outputs as probabilities: log-probabilities
/// behind log-softmax and for NLL, probabilities otherwise. (The `nabla loss` contract reads a
/// case's `activation` outputs this way when it names no `from`.)
pub fn probability_form(activation: Activation, loss: LossKind) -> LossInput {
    if activation == Activation::LogSoftmax || loss == LossKind::Nll {
        LossInput::LogProbabilities
    } else {
        LossInput::Probabilities
    }
}

/// The form a loss reads behind an output activation when none is named: an identity output
/// gives raw scores (logits; log-probabilities for NLL; values for MSE), every other output
/// gives [`probability_form`].
pub fn default_from(output: Activation, loss: LossKind) -> LossInput {
    match (output, loss) {
        (Activation::Identity, kind) => kind.natural_input(),
        (_, LossKind::Mse) => LossInput::Logits,
        (activation, kind) => probability_form(activation, kind),
    }
}

/// Output units for `classes` exclusive classes under `loss`: a single unit for binary
/// cross-entropy with two classes (the probability of class 1), one unit per class otherwise.
pub fn outputs_for_classes(loss: LossKind, classes: usize) -> usize {
    if loss == LossKind::BinaryCrossEntropy && classes == 2 {
        1
    } else {
        classes
    }
}

/// The output activation a refused or clumsy pairing should use instead for `loss`: sigmoid for
/// binary cross-entropy, softmax for cross-entropy, log-softmax for NLL, identity for MSE.
pub fn sound_output(loss: LossKind) -> Activation {
    match loss {
        LossKind::BinaryCrossEntropy => Activation::Sigmoid,
        LossKind::CrossEntropy => Activation::Softmax,
        LossKind::Nll => Activation::LogSoftmax,
        LossKind::Mse => Activation::Identity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_squashing_is_refused_for_every_link() {
        use Activation::*;
        for (activation, loss) in [
            (Softmax, LossKind::CrossEntropy),
            (LogSoftmax, LossKind::CrossEntropy),
            (Sigmoid, LossKind::BinaryCrossEntropy),
            (Sigmoid, LossKind::CrossEntropy),
            (Softmax, LossKind::BinaryCrossEntropy),
        ] {
            assert_eq!(
                Pairing::of(activation, loss, LossInput::Logits),
                Pairing::Refused(Refusal::DoubleSquashing),
                "{activation} + {loss} from logits"
            );
        }
        assert_eq!(
            Pairing::of(Tanh, LossKind::CrossEntropy, LossInput::Logits),
            Pairing::Accepted(HeadPath::Composite)
        );
        assert_eq!(
            Pairing::of(Sigmoid, LossKind::Mse, LossInput::Logits),
            Pairing::Accepted(HeadPath::Composite)
        );
    }

    #[test]
    fn defaults_of_each_output_form_accepted_pairs() {
        for output in Activation::ALL {
            let loss = default_loss(output);
            let from = default_from(output, loss);
            let pairing = Pairing::of(output, loss, from);
            let sound = matches!(
                output,
                Activation::Identity
                    | Activation::Sigmoid
                    | Activation::Softmax
                    | Activation::LogSoftmax
            );
            assert_eq!(pairing.is_accepted(), sound, "{output}: {loss} from {from}");
        }
        for loss in LossKind::ALL {
            let output = sound_output(loss);
            assert!(
                Pairing::of(output, loss, default_from(output, loss)).is_probability_model(loss)
                    || loss == LossKind::Mse
            );
        }
    }

    #[test]
    fn mse_pairs_are_compatible_but_not_probability_models() {
        let pairing = Pairing::of(Activation::Sigmoid, LossKind::Mse, LossInput::Logits);
        assert!(pairing.is_accepted());
        assert!(!pairing.is_probability_model(LossKind::Mse));
        let fused = Pairing::of(
            Activation::Sigmoid,
            LossKind::BinaryCrossEntropy,
            LossInput::Probabilities,
        );
        assert_eq!(fused, Pairing::Accepted(HeadPath::Fused));
        assert!(fused.is_probability_model(LossKind::BinaryCrossEntropy));
    }
}
