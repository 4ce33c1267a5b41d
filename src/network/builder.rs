//! [`NetworkBuilder`]: a [`NetworkConfig`] from a data set's shape and nabla's defaults, with
//! named setters for everything else. The defaults come from the pairing table
//! ([`crate::head`]) and the task ([`crate::data::Task`]):
//!
//! ```text
//! output   as set; else the sound output of the loss, when a loss is set (sigmoid for binary
//!          cross-entropy, softmax for cross-entropy, log-softmax for NLL, identity for MSE);
//!          else the task's (softmax for classes and distributions, sigmoid for multi-label,
//!          identity for regression)
//! loss     as set; else the task's loss behind that output (Task::loss_for)
//! from     as set; else the table's default for the output (raw scores behind identity,
//!          probabilities or log-probabilities behind the others)
//! outputs  one per class (a single unit for binary cross-entropy with 2 classes), or one per
//!          target column
//! ```

use super::{Network, NetworkConfig};
use crate::activation::Activation;
use crate::data::{Dataset, Task};
use crate::error::Result;
use crate::head::{default_from, outputs_for_classes, sound_output};
use crate::init::Init;
use crate::loss::{LossConfig, LossInput, LossKind, Reduction};

/// Builds a [`NetworkConfig`] (and a [`Network`]) for a data set.
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::{Activation, LossKind, NetworkConfig};
///
/// let data = generate(Synthetic::Spirals, 300, 0.1, 0)?; // 2 features, 3 classes
/// let config = NetworkConfig::for_data(&data).hidden([32, 32]).config()?;
/// assert_eq!((config.inputs, config.outputs), (2, 3));
/// assert_eq!(config.output_activation, Activation::Softmax);
///
/// // A loss alone picks its sound output: sigmoid for binary cross-entropy.
/// let binary = NetworkConfig::for_classes(2, 2).loss(LossKind::BinaryCrossEntropy).config()?;
/// assert_eq!((binary.output_activation, binary.outputs), (Activation::Sigmoid, 1));
///
/// // An unsound pairing is refused with the reason and the fix.
/// let refused = NetworkConfig::for_classes(2, 2).output(Activation::Relu).config();
/// assert!(refused.unwrap_err().to_string().contains("not a probability model"));
/// # Ok::<(), nabla::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkBuilder {
    inputs: usize,
    task: Task,
    targets: usize,
    hidden: Vec<usize>,
    hidden_activation: Activation,
    output: Option<Activation>,
    loss: Option<LossKind>,
    from: Option<LossInput>,
    class_weights: Option<Vec<f64>>,
    pos_weight: Option<Vec<f64>>,
    label_smoothing: f64,
    reduction: Reduction,
    init: Init,
    allow_unsafe: bool,
}

impl Default for NetworkBuilder {
    /// No shape yet (see [`NetworkBuilder::shape_of`]), one hidden layer of 128 ReLU units.
    fn default() -> Self {
        NetworkBuilder::new(0, Task::Classes, 0)
    }
}

impl NetworkBuilder {
    /// A builder for `inputs` features and a `task` with `targets` classes or target columns;
    /// one hidden layer of 128 ReLU units until told otherwise.
    pub fn new(inputs: usize, task: Task, targets: usize) -> Self {
        NetworkBuilder {
            inputs,
            task,
            targets,
            hidden: vec![128],
            hidden_activation: Activation::Relu,
            output: None,
            loss: None,
            from: None,
            class_weights: None,
            pos_weight: None,
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
            init: Init::Auto,
            allow_unsafe: false,
        }
    }

    /// A builder for `data`'s features and targets (class targets when it has none).
    pub fn for_data(data: &Dataset) -> Self {
        NetworkBuilder::default().shape_of(data)
    }

    /// Takes the inputs, task and number of classes or target columns from `data`, keeping
    /// every other choice.
    pub fn shape_of(mut self, data: &Dataset) -> Self {
        self.inputs = data.feature_count();
        self.task = data.task().unwrap_or(Task::Classes);
        self.targets = data.target_width();
        self
    }

    /// Hidden layer sizes, first to last (none: a linear model).
    pub fn hidden(mut self, sizes: impl IntoIterator<Item = usize>) -> Self {
        self.hidden = sizes.into_iter().collect();
        self
    }

    /// The activation of the hidden layers.
    pub fn hidden_activation(mut self, activation: Activation) -> Self {
        self.hidden_activation = activation;
        self
    }

    /// The output activation.
    pub fn output(mut self, activation: Activation) -> Self {
        self.output = Some(activation);
        self
    }

    /// The loss.
    pub fn loss(mut self, kind: LossKind) -> Self {
        self.loss = Some(kind);
        self
    }

    /// What the loss reads (logits, probabilities, log-probabilities).
    pub fn loss_input(mut self, from: LossInput) -> Self {
        self.from = Some(from);
        self
    }

    /// Per-class (categorical) or per-output (binary) loss weights.
    pub fn class_weights(mut self, weights: Vec<f64>) -> Self {
        self.class_weights = Some(weights);
        self
    }

    /// Binary cross-entropy: the weight of the positive term (1 or one per output).
    pub fn pos_weight(mut self, weights: Vec<f64>) -> Self {
        self.pos_weight = Some(weights);
        self
    }

    /// Label smoothing ε in [0, 1].
    pub fn label_smoothing(mut self, epsilon: f64) -> Self {
        self.label_smoothing = epsilon;
        self
    }

    /// How the losses of a batch combine.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The weight initialisation.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Trains a pairing that is not a probability model anyway (clipped like Keras), for
    /// experiments.
    pub fn allow_unsafe(mut self, allow: bool) -> Self {
        self.allow_unsafe = allow;
        self
    }

    /// The output activation, loss and input form after the defaults.
    fn head_choice(&self) -> (Activation, LossKind, LossInput) {
        let output = match (self.output, self.loss) {
            (Some(output), _) => output,
            (None, Some(loss)) => sound_output(loss),
            (None, None) => self.task.default_output(),
        };
        let loss = self.loss.unwrap_or_else(|| self.task.loss_for(output));
        let from = self.from.unwrap_or_else(|| default_from(output, loss));
        (output, loss, from)
    }

    /// The config, defaults filled in and checked (the pairing included).
    ///
    /// # Errors
    /// An unsound pairing ([`crate::Error::IncompatibleHead`]), loss options that do not fit,
    /// zero sizes, or a network beyond [`super::config::MAX_PARAMETERS`].
    pub fn config(&self) -> Result<NetworkConfig> {
        let (output, kind, from) = self.head_choice();
        if self.task == Task::Classes && self.targets < 2 && self.inputs > 0 {
            return Err(crate::Error::invalid(
                "classes",
                format!(
                    "the data holds {} class{}: a classifier needs at least two (or train a \
                     regression, --targets regression)",
                    self.targets,
                    if self.targets == 1 { "" } else { "es" }
                ),
            ));
        }
        let outputs = match self.task {
            Task::Classes => outputs_for_classes(kind, self.targets),
            _ => self.targets,
        };
        let config = NetworkConfig {
            inputs: self.inputs,
            hidden: self.hidden.clone(),
            hidden_activation: self.hidden_activation,
            outputs,
            output_activation: output,
            loss: LossConfig {
                class_weights: self.class_weights.clone(),
                pos_weight: self.pos_weight.clone(),
                label_smoothing: self.label_smoothing,
                reduction: self.reduction,
                ..LossConfig::new(kind, from)
            },
            init: self.init,
            allow_unsafe: self.allow_unsafe,
        };
        config.head()?;
        self.task.check_output(output)?;
        Ok(config)
    }

    /// The network, its weights drawn from `seed`.
    pub fn build(&self, seed: u64) -> Result<Network<f32>> {
        Network::new(self.config()?, seed)
    }
}
