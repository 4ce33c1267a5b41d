//! [`NetworkConfig`]: a network's architecture and head as plain data, and
//! [`NetworkBuilder`], which fills it in from a data set and nabla's defaults.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::head::Head;
use crate::init::Init;
use crate::loss::LossConfig;

/// The most weights and biases a network may have (256 MiB of f32 weights; training keeps
/// gradients and optimiser moments beside them).
pub const MAX_PARAMETERS: usize = 1 << 26;

/// The architecture of a network: plain data, validated by [`NetworkConfig::head`] and
/// [`Network::new`](super::Network::new). Build one from a data set with
/// [`NetworkConfig::for_data`]; in JSON, `inputs` and `outputs` are required and every other
/// field has a default (no hidden layers, ReLU, a softmax output with cross-entropy on
/// probabilities, automatic initialisation).
///
/// ```
/// use nabla::{Activation, NetworkConfig};
///
/// let config: NetworkConfig = serde_json::from_str(r#"{"inputs": 4, "outputs": 3}"#).unwrap();
/// assert_eq!(config.output_activation, Activation::Softmax);
/// assert_eq!(config.parameter_count(), 15);
/// assert_eq!(config.describe(), "4 → 3 softmax + categorical cross-entropy on probabilities (fused), 15 parameters");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Number of input features.
    pub inputs: usize,
    /// Units of each hidden layer, first to last (may be empty: a linear model).
    #[serde(default)]
    pub hidden: Vec<usize>,
    /// The activation of every hidden layer.
    #[serde(default = "relu")]
    pub hidden_activation: Activation,
    /// Number of output units (classes, or labels for multi-label).
    pub outputs: usize,
    /// The activation of the output layer (part of the head).
    #[serde(default = "softmax")]
    pub output_activation: Activation,
    /// The loss (part of the head).
    #[serde(default = "cross_entropy")]
    pub loss: LossConfig,
    /// The weight initialisation.
    #[serde(default)]
    pub init: Init,
    /// Run a pairing that is not a probability model anyway, clipped like Keras
    /// ([`crate::head::HeadPath::Clipped`]); for experiments only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unsafe: bool,
}

fn relu() -> Activation {
    Activation::Relu
}

fn softmax() -> Activation {
    Activation::Softmax
}

fn cross_entropy() -> LossConfig {
    LossConfig::new(
        crate::loss::LossKind::CrossEntropy,
        crate::loss::LossInput::Probabilities,
    )
}

impl Default for NetworkConfig {
    /// No inputs or outputs yet (set them, or start from [`NetworkConfig::for_data`]), one
    /// hidden layer of 128 ReLU units, a softmax output with cross-entropy (fused).
    fn default() -> Self {
        NetworkConfig {
            inputs: 0,
            hidden: vec![128],
            hidden_activation: relu(),
            outputs: 0,
            output_activation: softmax(),
            loss: cross_entropy(),
            init: Init::Auto,
            allow_unsafe: false,
        }
    }
}

impl NetworkConfig {
    /// A builder for a network that fits `data`: its features as inputs, and a sound head for
    /// its targets (softmax + cross-entropy for classes, sigmoid + binary cross-entropy for
    /// multi-label values, identity + MSE for regression), with one output per class or target
    /// column.
    pub fn for_data(data: &crate::data::Dataset) -> super::NetworkBuilder {
        super::NetworkBuilder::for_data(data)
    }

    /// A builder for `inputs` features and `classes` exclusive classes.
    pub fn for_classes(inputs: usize, classes: usize) -> super::NetworkBuilder {
        super::NetworkBuilder::new(inputs, crate::data::Task::Classes, classes)
    }

    /// Layer widths from input to output: [inputs, hidden…, outputs].
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = vec![self.inputs];
        widths.extend(&self.hidden);
        widths.push(self.outputs);
        widths
    }

    /// Checks the sizes and builds the head (refusing incompatible pairings).
    pub fn head(&self) -> Result<Head> {
        self.check_sizes()?;
        if self.allow_unsafe {
            Head::new_unsafe(self.output_activation, self.loss.clone(), self.outputs)
        } else {
            Head::new(self.output_activation, self.loss.clone(), self.outputs)
        }
    }

    /// Checks that every layer has at least one unit and the network at most
    /// [`MAX_PARAMETERS`] parameters.
    pub fn check_sizes(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(Error::invalid(
                "inputs",
                "a network needs at least 1 input feature",
            ));
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(Error::invalid(
                format!("hidden[{i}]"),
                "a hidden layer needs at least 1 unit, got 0",
            ));
        }
        if self.outputs == 0 {
            return Err(Error::invalid(
                "outputs",
                "a network needs at least 1 output unit",
            ));
        }
        match self.checked_parameter_count() {
            Some(n) if n <= MAX_PARAMETERS => {}
            count => {
                return Err(Error::invalid(
                    "network size",
                    format!(
                        "{} → {} → {} has {} parameters; at most {MAX_PARAMETERS} are supported",
                        self.inputs,
                        self.hidden
                            .iter()
                            .map(|h| h.to_string())
                            .collect::<Vec<_>>()
                            .join(" → "),
                        self.outputs,
                        count.map_or("more than 2⁶⁴".into(), |n| n.to_string())
                    )
                    .replace(" →  →", " →"),
                ));
            }
        }
        Ok(())
    }

    /// Number of classes the network predicts: its outputs, or 2 for a single (sigmoid)
    /// output unit.
    pub fn classes(&self) -> usize {
        self.outputs.max(2)
    }

    /// Total number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.checked_parameter_count().unwrap_or(usize::MAX)
    }

    /// Total number of weights and biases, or `None` when that overflows.
    fn checked_parameter_count(&self) -> Option<usize> {
        self.widths().windows(2).try_fold(0usize, |total, w| {
            w[0].checked_mul(w[1])?
                .checked_add(w[1])?
                .checked_add(total)
        })
    }

    /// One line: "64 → 128 relu → 10 softmax + categorical cross-entropy on probabilities
    /// (fused), 9610 parameters".
    pub fn describe(&self) -> String {
        let mut text = self.inputs.to_string();
        for h in &self.hidden {
            text.push_str(&format!(" → {h} {}", self.hidden_activation));
        }
        let path = match self.head() {
            Ok(head) => head.path().name().to_string(),
            Err(_) => "refused".to_string(),
        };
        format!(
            "{text} → {} {} + {} ({path}), {} parameters",
            self.outputs,
            self.output_activation,
            self.loss.describe(),
            self.parameter_count()
        )
    }
}
