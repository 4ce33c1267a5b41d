//! Flags that describe a network (architecture, head, initialisation), shared by train and
//! gradcheck.

use anyhow::Context;
use nabla::{Activation, Init, LossConfig, LossKind, NetworkConfig, Reduction};

/// The architecture and head.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Hidden layer sizes, comma-separated ("none" for a linear model).
    #[arg(long, default_value = "128")]
    pub hidden: String,
    /// Activation of the hidden layers (relu, leaky-relu[:α], sigmoid, tanh, softplus, gelu, …).
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Output activation: softmax, sigmoid, log-softmax, identity (or any activation; pairings
    /// that are not a probability model are refused with the reason).
    #[arg(long, default_value = "softmax")]
    pub output: String,
    /// Loss: cross-entropy, binary-cross-entropy, nll, mse [default: binary-cross-entropy for a
    /// sigmoid output, nll for log-softmax, cross-entropy otherwise].
    #[arg(long)]
    pub loss: Option<String>,
    /// What the loss reads: logits, probabilities, log-probabilities [default: logits for an
    /// identity output, log-probabilities for log-softmax, probabilities otherwise].
    #[arg(long)]
    pub from: Option<String>,
    /// Per-class weights, comma-separated (one per output).
    #[arg(long)]
    pub class_weights: Option<String>,
    /// Binary cross-entropy: weight of the positive term, comma-separated (1 or one per output).
    #[arg(long)]
    pub pos_weight: Option<String>,
    /// Label smoothing ε in [0, 1].
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f64,
    /// How losses combine: mean, batch-mean (sum over outputs, mean over examples), sum.
    #[arg(long, default_value = "mean")]
    pub reduction: String,
    /// Weight initialisation: auto, he-normal, he-uniform, xavier-uniform, xavier-normal, pytorch,
    /// nielsen, nielsen-large.
    #[arg(long, default_value = "auto")]
    pub init: String,
    /// Train a pairing that is not a probability model anyway (e.g. a ReLU output with
    /// cross-entropy), computing the raw formula with Keras-style clipping. For experiments.
    #[arg(long)]
    pub allow_unsafe: bool,
}

fn list(text: &str, flag: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .with_context(|| format!("{flag}: '{v}' is not a number"))
        })
        .collect()
}

impl NetworkArgs {
    /// The hidden sizes.
    pub fn hidden_sizes(&self) -> anyhow::Result<Vec<usize>> {
        let text = self.hidden.trim();
        if text.is_empty() || text == "none" {
            return Ok(Vec::new());
        }
        text.split(',')
            .map(|v| {
                let size: usize = v
                    .trim()
                    .parse()
                    .with_context(|| format!("--hidden: '{v}' is not a whole number"))?;
                anyhow::ensure!(size > 0, "--hidden: a layer needs at least 1 unit, got 0");
                Ok(size)
            })
            .collect()
    }

    /// The network config for `inputs` features and `classes` classes (binary cross-entropy
    /// with two classes uses a single output unit).
    pub fn config(&self, inputs: usize, classes: usize) -> anyhow::Result<NetworkConfig> {
        let output: Activation = self.output.parse()?;
        let kind: LossKind = match &self.loss {
            Some(loss) => loss.parse()?,
            None => nabla::head::default_loss(output),
        };
        let from = match &self.from {
            Some(from) => from.parse()?,
            None => nabla::head::default_from(output, kind),
        };
        let reduction: Reduction = self.reduction.parse()?;
        let outputs = nabla::head::outputs_for_classes(kind, classes);
        let loss = LossConfig {
            class_weights: self
                .class_weights
                .as_deref()
                .map(|w| list(w, "--class-weights"))
                .transpose()?,
            pos_weight: self
                .pos_weight
                .as_deref()
                .map(|w| list(w, "--pos-weight"))
                .transpose()?,
            label_smoothing: self.label_smoothing,
            reduction,
            ..LossConfig::new(kind, from)
        };
        let config = NetworkConfig {
            inputs,
            hidden: self.hidden_sizes()?,
            hidden_activation: self.activation.parse()?,
            outputs,
            output_activation: output,
            loss,
            init: self.init.parse::<Init>()?,
            allow_unsafe: self.allow_unsafe,
        };
        config.head()?;
        Ok(config)
    }
}

/// "64 → 128 relu → 10 softmax + cross-entropy on probabilities (fused), 9610 parameters".
pub fn describe(config: &NetworkConfig) -> String {
    config.describe()
}
