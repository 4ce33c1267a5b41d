//! Optimisers with PyTorch's update rules, so runs compare step for step.
//!
//! With gradient g, parameter θ, learning rate η, weight decay λ and step t = 1, 2, …:
//!
//! ```text
//! sgd    g ← g + λθ
//!        b ← g                              (t = 1)
//!        b ← μ·b + (1 − dampening)·g        (t > 1)          momentum μ > 0 only
//!        g ← g + μ·b  (nesterov)  or  g ← b
//!        θ ← θ − η·g
//! adam   g ← g + λθ                         (L2 inside the gradient)
//! adamw  θ ← θ·(1 − ηλ)                     (decoupled weight decay)
//!        m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
//!        θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
//! ```
//!
//! `decay_biases = false` exempts biases from λ (Nielsen's L2 rule decays weights only).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::elementwise::{map2, update2, update3};
use crate::network::{Gradients, Network};
use crate::scalar::Scalar;

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent, with optional (Nesterov) momentum.
    Sgd,
    /// Adam with L2 weight decay added to the gradient.
    Adam,
    /// Adam with decoupled weight decay ("adamw"; "adam-w" is read too).
    #[serde(alias = "adam-w")]
    AdamW,
}

impl OptimizerKind {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str = "sgd, adam, adamw";
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
        })
    }
}

impl FromStr for OptimizerKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sgd" => Ok(OptimizerKind::Sgd),
            "adam" => Ok(OptimizerKind::Adam),
            "adamw" | "adam-w" => Ok(OptimizerKind::AdamW),
            _ => Err(Error::UnknownName {
                kind: "optimizer",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

/// An optimiser's settings (PyTorch's constructor arguments). In JSON only `kind` is needed:
/// every other field has PyTorch's default (the learning rate: 0.1 for SGD, 0.001 for Adam and
/// AdamW; AdamW's weight decay 0.01).
///
/// ```
/// use nabla::{OptimizerConfig, OptimizerKind};
///
/// let adamw: OptimizerConfig = serde_json::from_str(r#"{"kind": "adamw"}"#).unwrap();
/// assert_eq!(adamw, OptimizerConfig::default_for(OptimizerKind::AdamW));
/// assert_eq!((adamw.learning_rate, adamw.weight_decay), (0.001, 0.01));
/// let sgd: OptimizerConfig = serde_json::from_str(r#"{"kind": "sgd", "momentum": 0.9}"#).unwrap();
/// assert_eq!(sgd, OptimizerConfig::default_for(OptimizerKind::Sgd).momentum(0.9));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// The update rule.
    pub kind: OptimizerKind,
    /// η.
    pub learning_rate: f64,
    /// μ (SGD).
    pub momentum: f64,
    /// Dampening of the momentum's gradient term (SGD).
    pub dampening: f64,
    /// Nesterov momentum (SGD; needs μ > 0 and dampening 0, as in PyTorch).
    pub nesterov: bool,
    /// β₁ (Adam, AdamW).
    pub beta1: f64,
    /// β₂ (Adam, AdamW).
    pub beta2: f64,
    /// ε (Adam, AdamW).
    pub eps: f64,
    /// λ.
    pub weight_decay: f64,
    /// Whether λ applies to biases too (PyTorch: yes; Nielsen's L2: no).
    pub decay_biases: bool,
}

/// The JSON form: every field but `kind` optional, defaulting as [`OptimizerConfig::default_for`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptimizerConfigJson {
    kind: OptimizerKind,
    learning_rate: Option<f64>,
    momentum: Option<f64>,
    dampening: Option<f64>,
    nesterov: Option<bool>,
    beta1: Option<f64>,
    beta2: Option<f64>,
    eps: Option<f64>,
    weight_decay: Option<f64>,
    decay_biases: Option<bool>,
}

impl<'de> Deserialize<'de> for OptimizerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let json = OptimizerConfigJson::deserialize(deserializer)?;
        let base = OptimizerConfig::default_for(json.kind);
        Ok(OptimizerConfig {
            kind: json.kind,
            learning_rate: json.learning_rate.unwrap_or(base.learning_rate),
            momentum: json.momentum.unwrap_or(base.momentum),
            dampening: json.dampening.unwrap_or(base.dampening),
            nesterov: json.nesterov.unwrap_or(base.nesterov),
            beta1: json.beta1.unwrap_or(base.beta1),
            beta2: json.beta2.unwrap_or(base.beta2),
            eps: json.eps.unwrap_or(base.eps),
            weight_decay: json.weight_decay.unwrap_or(base.weight_decay),
            decay_biases: json.decay_biases.unwrap_or(base.decay_biases),
        })
    }
}

impl OptimizerConfig {
    /// PyTorch's defaults for `kind` with nabla's default learning rate: 0.1 for SGD (the rate
    /// PyTorch's examples use; PyTorch itself has none), 0.001 for Adam and AdamW (PyTorch's).
    pub fn default_for(kind: OptimizerKind) -> Self {
        let learning_rate = match kind {
            OptimizerKind::Sgd => 0.1,
            OptimizerKind::Adam | OptimizerKind::AdamW => 0.001,
        };
        OptimizerConfig::new(kind, learning_rate)
    }

    /// The learning rate η.
    pub fn learning_rate(mut self, learning_rate: f64) -> Self {
        self.learning_rate = learning_rate;
        self
    }

    /// SGD momentum μ.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// SGD Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Weight decay λ (L2 in the gradient for SGD and Adam, decoupled for AdamW).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Nielsen's L2 regularisation for `train_rows` training rows: weights (not biases) decay
    /// by (1 − ηλ/n) per step, which with SGD is a weight decay of λ/n on the weights.
    ///
    /// # Errors
    /// λ not a finite number ≥ 0, or no training rows.
    pub fn nielsen_l2(mut self, lambda: f64, train_rows: usize) -> Result<Self> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(Error::invalid(
                "l2",
                format!("λ must be a number ≥ 0, got {lambda}"),
            ));
        }
        if train_rows == 0 {
            return Err(Error::invalid("l2", "λ/n needs at least one training row"));
        }
        // Nielsen: w ← (1 − ηλ/n)·w − η·∂C/∂w, biases not decayed.
        self.weight_decay = lambda / train_rows as f64;
        self.decay_biases = false;
        Ok(self)
    }

    /// PyTorch's defaults for `kind` at learning rate η (AdamW: λ = 0.01).
    pub fn new(kind: OptimizerKind, learning_rate: f64) -> Self {
        OptimizerConfig {
            kind,
            learning_rate,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: if kind == OptimizerKind::AdamW {
                0.01
            } else {
                0.0
            },
            decay_biases: true,
        }
    }

    /// Refuses settings PyTorch refuses (negative rates, Nesterov without momentum, β ∉ [0, 1)).
    pub fn validate(&self) -> Result<()> {
        let positive = |field: &str, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(
                    field,
                    format!("{value} must be a finite number ≥ 0"),
                ))
            }
        };
        positive("learning rate", self.learning_rate)?;
        positive("momentum", self.momentum)?;
        positive("dampening", self.dampening)?;
        positive("weight decay", self.weight_decay)?;
        positive("eps", self.eps)?;
        for (field, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::invalid(field, format!("{beta} must be in [0, 1)")));
            }
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "nesterov",
                "Nesterov momentum requires a momentum > 0 and zero dampening",
            ));
        }
        Ok(())
    }
}

/// Per-tensor state: SGD's momentum buffer b, or Adam's moments m and v.
#[derive(Clone, Debug, PartialEq)]
struct TensorState<F> {
    first: Vec<F>,
    second: Vec<F>,
}

/// An optimiser's mutable state, for checkpoints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState<F> {
    /// Steps taken.
    pub steps: u64,
    /// The current learning rate.
    pub learning_rate: f64,
    /// (first, second) moment buffers per tensor: weights then bias of each layer.
    pub buffers: Vec<(Vec<F>, Vec<F>)>,
}

/// An optimiser bound to the shapes of one network.
#[derive(Clone, Debug)]
pub struct Optimizer<F> {
    config: OptimizerConfig,
    learning_rate: f64,
    steps: u64,
    /// Two entries per layer: weights, then bias.
    state: Vec<TensorState<F>>,
}

impl<F: Scalar> Optimizer<F> {
    /// An optimiser for `network`'s parameters, with zeroed state.
    pub fn new(config: OptimizerConfig, network: &Network<F>) -> Result<Self> {
        config.validate()?;
        let uses = |needed: bool, len: usize| vec![F::zero(); if needed { len } else { 0 }];
        let first = config.kind != OptimizerKind::Sgd || config.momentum != 0.0;
        let second = config.kind != OptimizerKind::Sgd;
        let state = network
            .layers()
            .iter()
            .flat_map(|l| [l.weights.len(), l.bias.len()])
            .map(|len| TensorState {
                first: uses(first, len),
                second: uses(second, len),
            })
            .collect();
        Ok(Optimizer {
            learning_rate: config.learning_rate,
            config,
            steps: 0,
            state,
        })
    }

    /// The settings.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The learning rate the next step uses.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// Sets the learning rate (schedules call this between epochs).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The state a checkpoint needs: step count, learning rate, and per tensor (weights, then
    /// bias, of each layer) the first and second moment buffers (empty where unused).
    pub fn state(&self) -> OptimizerState<F> {
        OptimizerState {
            steps: self.steps,
            learning_rate: self.learning_rate,
            buffers: self
                .state
                .iter()
                .map(|t| (t.first.clone(), t.second.clone()))
                .collect(),
        }
    }

    /// Copies the state into `into`, reusing its buffers (for snapshots taken during training).
    pub fn state_into(&self, into: &mut OptimizerState<F>) {
        into.steps = self.steps;
        into.learning_rate = self.learning_rate;
        into.buffers.resize_with(self.state.len(), Default::default);
        for (target, source) in into.buffers.iter_mut().zip(&self.state) {
            target.0.clone_from(&source.first);
            target.1.clone_from(&source.second);
        }
    }

    /// Restores a state saved by [`Optimizer::state`] for the same network and settings.
    ///
    /// # Errors
    /// A state whose buffers do not fit this optimiser's tensors.
    pub fn restore(&mut self, state: &OptimizerState<F>) -> Result<()> {
        if state.buffers.len() != self.state.len()
            || state
                .buffers
                .iter()
                .zip(&self.state)
                .any(|(b, t)| b.0.len() != t.first.len() || b.1.len() != t.second.len())
        {
            return Err(Error::invalid(
                "optimizer state",
                "its buffers do not fit this network and optimiser",
            ));
        }
        self.steps = state.steps;
        self.learning_rate = state.learning_rate;
        for (target, source) in self.state.iter_mut().zip(&state.buffers) {
            target.first.clone_from(&source.0);
            target.second.clone_from(&source.1);
        }
        Ok(())
    }

    /// Applies one update to every parameter of `network` from `gradients`.
    pub fn step(&mut self, network: &mut Network<F>, gradients: &Gradients<F>) {
        crate::kernels::with_threads(network.threads(), || self.step_here(network, gradients));
    }

    /// [`Optimizer::step`] on the current thread setting.
    fn step_here(&mut self, network: &mut Network<F>, gradients: &Gradients<F>) {
        self.steps += 1;
        let mut slot = 0;
        for (layer, gradient) in network.layers_mut().iter_mut().zip(&gradients.layers) {
            let tensors = [
                (
                    layer.weights.as_slice_mut(),
                    gradient.weights.as_slice(),
                    true,
                ),
                (
                    layer.bias.as_slice_mut(),
                    gradient.bias.as_slice(),
                    self.config.decay_biases,
                ),
            ];
            for (values, gradient, decays) in tensors {
                let (values, gradient) = (
                    values.expect("parameters are kept in standard layout"),
                    gradient.expect("gradients are kept in standard layout"),
                );
                self.update(slot, values, gradient, decays);
                slot += 1;
            }
        }
    }

    fn update(&mut self, slot: usize, values: &mut [F], gradient: &[F], decays: bool) {
        let c = &self.config;
        let eta = self.learning_rate;
        let decay = F::of(if decays { c.weight_decay } else { 0.0 });
        let state = &mut self.state[slot];
        match c.kind {
            OptimizerKind::Sgd if c.momentum == 0.0 => {
                let eta = F::of(eta);
                map2(
                    values,
                    gradient,
                    #[inline(always)]
                    |values, gradient| {
                        for (theta, &g) in values.iter_mut().zip(gradient) {
                            *theta -= eta * (g + decay * *theta);
                        }
                    },
                );
            }
            OptimizerKind::Sgd => {
                let (mu, keep, eta) = (F::of(c.momentum), F::of(1.0 - c.dampening), F::of(eta));
                // PyTorch starts the buffer at the first gradient, undamped: b = g, i.e. μ = 0
                // and no dampening on step 1.
                let (mu_b, keep) = if self.steps == 1 {
                    (F::zero(), F::one())
                } else {
                    (mu, keep)
                };
                let nesterov = F::of(if c.nesterov { 1.0 } else { 0.0 });
                update2(
                    values,
                    &mut state.first,
                    gradient,
                    #[inline(always)]
                    |values, buffer, gradient| {
                        for ((theta, b), &g) in
                            values.iter_mut().zip(buffer.iter_mut()).zip(gradient)
                        {
                            let g = g + decay * *theta;
                            *b = flush_subnormal(mu_b * *b + keep * g);
                            // nesterov: g + μb; plain: b.
                            let direction = nesterov * (g + mu * *b) + (F::one() - nesterov) * *b;
                            *theta -= eta * direction;
                        }
                    },
                );
            }
            OptimizerKind::Adam | OptimizerKind::AdamW => {
                let t = self.steps as i32;
                let (beta1, beta2) = (c.beta1, c.beta2);
                let step_size = F::of(eta / (1.0 - beta1.powi(t)));
                let root_correction = F::of((1.0 - beta2.powi(t)).sqrt());
                let (b1, b2, eps) = (F::of(beta1), F::of(beta2), F::of(c.eps));
                let (one_minus_b1, one_minus_b2) = (F::of(1.0 - beta1), F::of(1.0 - beta2));
                let (l2, shrink) = match c.kind {
                    OptimizerKind::AdamW => (F::zero(), F::one() - F::of(eta) * decay),
                    _ => (decay, F::one()),
                };
                let state = &mut *state;
                update3(
                    values,
                    &mut state.first,
                    &mut state.second,
                    gradient,
                    #[inline(always)]
                    |values, first, second, gradient| {
                        for (((theta, m), v), &g) in values
                            .iter_mut()
                            .zip(first.iter_mut())
                            .zip(second.iter_mut())
                            .zip(gradient)
                        {
                            // Each value is read once and written once: storing θ, m and v
                            // as they change made the compiler reload them after the store,
                            // and stores and loads of these same-sized buffers, which start
                            // at the same offset in a 4 KB page, then stall on each other
                            // (the update took 36 µs instead of 21 for 784-128-10).
                            let shrunk = *theta * shrink;
                            let g = g + l2 * shrunk;
                            let m_new = flush_subnormal(b1 * *m + one_minus_b1 * g);
                            let v_new = flush_subnormal(b2 * *v + one_minus_b2 * g * g);
                            *m = m_new;
                            *v = v_new;
                            *theta =
                                shrunk - step_size * m_new / (v_new.sqrt() / root_correction + eps);
                        }
                    },
                );
            }
        }
    }
}

/// x, or 0 when |x| is subnormal (below the smallest normal number, 1.2·10⁻³⁸ in f32).
///
/// The momentum of a weight whose gradient stays 0 (a dead ReLU unit's, or one fed by an input
/// that is always 0) decays as μᵗ and, after about 830 steps at μ = 0.9, enters the subnormal
/// range, where x86 arithmetic is many times slower: in the benchmark at batch 32, 25–60 % of
/// the buffers ended there and the update took 4× as long. Flushing them changes an update by
/// less than η · 1.2·10⁻³⁸.
#[inline(always)]
fn flush_subnormal<F: Scalar>(x: F) -> F {
    if x.abs() < F::min_positive_value() {
        F::zero()
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::init::Init;
    use crate::layer::DenseGradients;
    use crate::loss::{LossConfig, LossInput, LossKind};
    use crate::network::NetworkConfig;
    use ndarray::array;

    /// A 2-input, 1-output linear network with W = [1, −2], b = 0.5.
    fn tiny() -> Network<f64> {
        let config = NetworkConfig {
            inputs: 2,
            hidden: vec![],
            hidden_activation: Activation::Relu,
            outputs: 1,
            output_activation: Activation::Identity,
            loss: LossConfig::new(LossKind::Mse, LossInput::Logits),
            init: Init::Auto,
            allow_unsafe: false,
        };
        let mut network = Network::new(config, 0).unwrap();
        network.layers_mut()[0].weights = array![[1.0, -2.0]];
        network.layers_mut()[0].bias = array![0.5];
        network
    }

    /// Runs three steps with the gradients (∂W, ∂b) = ([.5, −1], .25), ([.1, .3], −.4),
    /// ([−.2, .4], .05) and returns [w₁, w₂, b].
    fn run(config: OptimizerConfig) -> Vec<f64> {
        let mut network = tiny();
        let mut optimizer = Optimizer::new(config, &network).unwrap();
        for (w, b) in [([0.5, -1.0], 0.25), ([0.1, 0.3], -0.4), ([-0.2, 0.4], 0.05)] {
            let gradients = Gradients {
                layers: vec![DenseGradients {
                    weights: array![[w[0], w[1]]],
                    bias: array![b],
                }],
            };
            optimizer.step(&mut network, &gradients);
        }
        let layer = &network.layers()[0];
        vec![layer.weights[[0, 0]], layer.weights[[0, 1]], layer.bias[0]]
    }

    fn assert_close(got: Vec<f64>, expected: [f64; 3]) {
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-12, "got {got:?}, expected {expected:?}");
        }
    }

    // Expected values: hand-computed in Python (plain floats) by the update rules written in
    // PyTorch's torch.optim.SGD / Adam / AdamW documentation, three steps from the same start.

    #[test]
    fn sgd_matches_pytorch_rule() {
        assert_close(
            run(OptimizerConfig::new(OptimizerKind::Sgd, 0.1)),
            [0.96, -1.97, 0.51],
        );
    }

    #[test]
    fn sgd_momentum_matches_pytorch_rule() {
        let config = OptimizerConfig {
            momentum: 0.9,
            ..OptimizerConfig::new(OptimizerKind::Sgd, 0.1)
        };
        assert_close(run(config), [0.8655, -1.826, 0.50325]);
    }

    #[test]
    fn sgd_nesterov_with_weight_decay_matches_pytorch_rule() {
        let config = OptimizerConfig {
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.01,
            ..OptimizerConfig::new(OptimizerKind::Sgd, 0.1)
        };
        assert_close(
            run(config),
            [0.831465558191, -1.798250616382, 0.5090203290955],
        );
    }

    #[test]
    fn sgd_dampening_and_weights_only_decay() {
        let config = OptimizerConfig {
            momentum: 0.9,
            dampening: 0.5,
            weight_decay: 0.1,
            decay_biases: false,
            ..OptimizerConfig::new(OptimizerKind::Sgd, 0.1)
        };
        assert_close(run(config), [0.8245885, -1.696552, 0.46775]);
    }

    #[test]
    fn adam_matches_pytorch_rule() {
        assert_close(
            run(OptimizerConfig::new(OptimizerKind::Adam, 0.01)),
            [0.9785260531835489, -1.9849209238476584, 0.49420979037381646],
        );
        let l2 = OptimizerConfig {
            weight_decay: 0.1,
            ..OptimizerConfig::new(OptimizerKind::Adam, 0.01)
        };
        assert_close(
            run(l2),
            [0.9756723162326255, -1.9803889834219444, 0.4909506180818527],
        );
    }

    #[test]
    fn adamw_matches_pytorch_rule() {
        let config = OptimizerConfig {
            weight_decay: 0.1,
            ..OptimizerConfig::new(OptimizerKind::AdamW, 0.01)
        };
        assert_close(
            run(config),
            [0.9755570725927106, -1.9789511903333155, 0.4927285187431793],
        );
    }

    /// A weight whose gradient is 0 after the first step: its momentum decays as 0.9ᵗ and is
    /// flushed to 0 instead of lingering in the slow subnormal range; the weight stops moving.
    #[test]
    fn decayed_momentum_is_flushed_to_zero_not_subnormal() {
        for kind in [OptimizerKind::Sgd, OptimizerKind::Adam] {
            let mut network = tiny().cast::<f32>();
            let config = OptimizerConfig {
                momentum: 0.9,
                ..OptimizerConfig::new(kind, 0.1)
            };
            let mut optimizer = Optimizer::new(config, &network).unwrap();
            let mut gradients = network.zero_gradients();
            gradients.layers[0].weights[[0, 0]] = 1.0;
            optimizer.step(&mut network, &gradients);
            gradients.layers[0].weights[[0, 0]] = 0.0;
            let mut was_tiny = false;
            for _ in 0..2000 {
                optimizer.step(&mut network, &gradients);
                let first = optimizer.state().buffers[0].0[0];
                was_tiny |= first != 0.0 && first.abs() < 1e-30;
                assert!(!first.is_subnormal(), "{kind:?}: {first:e}");
            }
            assert!(
                was_tiny,
                "{kind:?}: the momentum never came near the subnormal range"
            );
            assert_eq!(optimizer.state().buffers[0].0[0], 0.0, "{kind:?}");
        }
    }

    #[test]
    fn invalid_settings_are_refused() {
        let nesterov = OptimizerConfig {
            nesterov: true,
            ..OptimizerConfig::new(OptimizerKind::Sgd, 0.1)
        };
        assert!(
            nesterov
                .validate()
                .unwrap_err()
                .to_string()
                .contains("momentum > 0")
        );
        let negative = OptimizerConfig::new(OptimizerKind::Sgd, -0.1);
        assert!(
            negative
                .validate()
                .unwrap_err()
                .to_string()
                .contains("learning rate")
        );
    }
}
