//! Flags that describe a network (architecture, head, initialisation).

use anyhow::Context;
use nabla::{LossKind, NetworkBuilder};

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
    /// that are not a probability model are refused with the reason) [default: the sound one
    /// for the targets and the loss].
    #[arg(long)]
    pub output: Option<String>,
    /// Loss: cross-entropy, binary-cross-entropy, nll, mse [default: the one the targets and
    /// the output call for].
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

/// Hidden sizes from "128,64" ("none" or "" for none).
pub fn hidden_sizes(text: &str) -> anyhow::Result<Vec<usize>> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|v| {
            let size: usize = v.trim().parse().with_context(|| {
                format!("--hidden: '{v}' is not a whole number (or \"none\" for no hidden layer)")
            })?;
            anyhow::ensure!(
                size > 0,
                "--hidden: a layer needs at least 1 unit, got 0 (for no hidden layer at all, \
                 give --hidden none)"
            );
            Ok(size)
        })
        .collect()
}

impl NetworkArgs {
    /// The loss named, if any.
    pub fn loss_kind(&self) -> anyhow::Result<Option<LossKind>> {
        Ok(self.loss.as_deref().map(str::parse).transpose()?)
    }

    /// The library's network builder (its shape comes from the data).
    pub fn builder(&self) -> anyhow::Result<NetworkBuilder> {
        let mut builder = NetworkBuilder::default()
            .hidden(hidden_sizes(&self.hidden)?)
            .hidden_activation(self.activation.parse()?)
            .label_smoothing(self.label_smoothing)
            .reduction(self.reduction.parse()?)
            .init(self.init.parse()?)
            .allow_unsafe(self.allow_unsafe);
        if let Some(output) = &self.output {
            builder = builder.output(output.parse()?);
        }
        if let Some(loss) = self.loss_kind()? {
            builder = builder.loss(loss);
        }
        if let Some(from) = &self.from {
            builder = builder.loss_input(from.parse()?);
        }
        if let Some(weights) = &self.class_weights {
            builder = builder.class_weights(list(weights, "--class-weights")?);
        }
        if let Some(weights) = &self.pos_weight {
            builder = builder.pos_weight(list(weights, "--pos-weight")?);
        }
        Ok(builder)
    }
}
