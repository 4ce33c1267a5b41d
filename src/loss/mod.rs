//! Losses C(output, target), each with its value and its gradient ∂C/∂output (network2's
//! `fn`/`delta` pair), following PyTorch's definitions so numbers compare one to one.
//!
//! | loss | PyTorch equivalent | file |
//! |---|---|---|
//! | cross-entropy from logits | `CrossEntropyLoss` | `categorical.rs` |
//! | cross-entropy from probabilities | `NLLLoss` of `ln p` (ln clamped at −100) | `categorical.rs` |
//! | nll from log-probabilities | `NLLLoss` | `categorical.rs` |
//! | binary cross-entropy from logits | `BCEWithLogitsLoss` | `binary.rs` |
//! | binary cross-entropy from probabilities | `BCELoss` | `binary.rs` |
//! | mse | `MSELoss` | `squared.rs` |
//!
//! `case.rs` holds the `nabla loss` JSON contract built on them; `checks.rs` what every loss
//! refuses (weights, non-finite values, outputs outside the form they are read as);
//! `elementwise.rs` what the element-wise losses (binary, MSE) share.
//!
//! Every from-logits form runs in logit space (log-sum-exp, softplus): logits of ±1000 give
//! finite losses and exact gradients.

mod binary;
mod case;
mod categorical;
mod checks;
mod elementwise;
mod squared;

pub use case::{MAX_CASE_BYTES, evaluate_case, read_and_evaluate_case};

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::range::{Interval, OutputRange};
use crate::scalar::Scalar;
use checks::{check_finite, check_inputs, check_weights};

/// ln p is clamped at −100 before use, as PyTorch's `BCELoss` does, so p = 0 gives a large
/// finite loss instead of ∞.
pub const LOG_CLAMP: f64 = -100.0;

/// Denominators such as p(1 − p) are kept ≥ 1e-12 (PyTorch's `EPSILON` in BCELoss backward).
pub const DENOMINATOR_FLOOR: f64 = 1e-12;

/// PyTorch's default `ignore_index`: class-index targets equal to it are skipped.
pub const DEFAULT_IGNORE_INDEX: i64 = -100;

/// Which loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Categorical cross-entropy C = −Σₖ yₖ ln aₖ over exclusive classes.
    CrossEntropy,
    /// Binary cross-entropy C = −[y ln a + (1 − y) ln(1 − a)] per output (multi-label ok).
    BinaryCrossEntropy,
    /// Negative log-likelihood C = −x_y of log-probabilities x.
    Nll,
    /// Mean squared error C = (a − y)².
    Mse,
}

impl LossKind {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str = "cross-entropy, binary-cross-entropy, nll, mse";

    /// Every loss.
    pub const ALL: [LossKind; 4] = [
        LossKind::CrossEntropy,
        LossKind::BinaryCrossEntropy,
        LossKind::Nll,
        LossKind::Mse,
    ];

    /// The canonical name ("cross-entropy", ...).
    pub fn name(&self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "cross-entropy",
            LossKind::BinaryCrossEntropy => "binary-cross-entropy",
            LossKind::Nll => "nll",
            LossKind::Mse => "mse",
        }
    }

    /// The name people write in prose.
    pub fn display_name(&self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "categorical cross-entropy",
            LossKind::BinaryCrossEntropy => "binary cross-entropy",
            LossKind::Nll => "negative log-likelihood",
            LossKind::Mse => "mean squared error",
        }
    }

    /// The input form a network output with this activation-free head would naturally feed:
    /// log-probabilities for NLL, logits otherwise.
    pub fn natural_input(&self) -> LossInput {
        match self {
            LossKind::Nll => LossInput::LogProbabilities,
            _ => LossInput::Logits,
        }
    }
}

impl fmt::Display for LossKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LossKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "cross-entropy" | "ce" | "categorical-cross-entropy" | "categorical-crossentropy" => {
                Ok(LossKind::CrossEntropy)
            }
            "binary-cross-entropy" | "bce" | "binary-crossentropy" => {
                Ok(LossKind::BinaryCrossEntropy)
            }
            "nll" | "negative-log-likelihood" => Ok(LossKind::Nll),
            "mse" | "mean-squared-error" | "quadratic" => Ok(LossKind::Mse),
            _ => Err(Error::UnknownName {
                kind: "loss",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

/// What the loss receives: raw scores, probabilities, or log-probabilities (the JSON `from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossInput {
    /// Unnormalised scores z ∈ ℝ; the loss applies softmax / sigmoid itself, in log space.
    Logits,
    /// Probabilities a ∈ [0, 1] (a row of the simplex for categorical losses).
    Probabilities,
    /// Log-probabilities ln a ≤ 0.
    LogProbabilities,
}

impl LossInput {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str = "logits, probabilities, log-probabilities";

    /// The canonical name.
    pub fn name(&self) -> &'static str {
        match self {
            LossInput::Logits => "logits",
            LossInput::Probabilities => "probabilities",
            LossInput::LogProbabilities => "log-probabilities",
        }
    }
}

impl fmt::Display for LossInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LossInput {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "logits" => Ok(LossInput::Logits),
            "probabilities" | "probs" => Ok(LossInput::Probabilities),
            "log-probabilities" | "log-probs" => Ok(LossInput::LogProbabilities),
            _ => Err(Error::UnknownName {
                kind: "loss input ('from')",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

/// How per-example (or per-element) losses combine into the reported value.
///
/// ```text
/// mean        Σ lᵢ / Σ wᵢ     categorical with class targets: the summed weights of the
///                             counted targets (PyTorch); otherwise the number of elements
/// batch-mean  Σ lᵢ / n        n = number of examples (rows): binary and MSE losses are summed
///                             over the outputs and averaged over the examples
/// sum         Σ lᵢ
/// none        the lᵢ themselves; the gradient is then that of their sum
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reduction {
    /// PyTorch's `mean`.
    #[default]
    Mean,
    /// Sum over outputs, mean over examples (Nielsen's cost; PyTorch's `batchmean`).
    BatchMean,
    /// PyTorch's `sum`.
    Sum,
    /// PyTorch's `none`.
    None,
}

impl Reduction {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str = "mean, batch-mean, sum, none";
}

impl FromStr for Reduction {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "mean" => Ok(Reduction::Mean),
            "batch-mean" | "batchmean" => Ok(Reduction::BatchMean),
            "sum" => Ok(Reduction::Sum),
            "none" => Ok(Reduction::None),
            _ => Err(Error::UnknownName {
                kind: "reduction",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

/// A loss with its options (PyTorch's keyword arguments).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossConfig {
    /// Which loss.
    pub kind: LossKind,
    /// What the loss receives.
    pub from: LossInput,
    /// Per-class (categorical) or per-output (binary) weights w; default all 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weights: Option<Vec<f64>>,
    /// Binary only: weight of the positive term per output (length 1 broadcasts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_weight: Option<Vec<f64>>,
    /// Class-index targets equal to this are skipped (PyTorch default −100).
    #[serde(default = "default_ignore_index")]
    pub ignore_index: i64,
    /// ε: targets become (1 − ε)·y + ε/K (categorical, K classes) or (1 − ε)·y + ε/2 (binary).
    #[serde(default)]
    pub label_smoothing: f64,
    /// How losses combine.
    #[serde(default)]
    pub reduction: Reduction,
}

fn default_ignore_index() -> i64 {
    DEFAULT_IGNORE_INDEX
}

/// Targets of a mini-batch.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, F> {
    /// One class index per example. Binary and MSE losses read them as one-hot rows (or as
    /// the value 0/1 when there is a single output).
    Classes(&'a [i64]),
    /// One row of target values per example: probability targets for cross-entropy, 0/1 (or
    /// soft) labels for binary cross-entropy, values for MSE.
    Dense(ArrayView2<'a, F>),
}

impl<F> Targets<'_, F> {
    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(classes) => classes.len(),
            Targets::Dense(values) => values.nrows(),
        }
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A loss value after reduction.
#[derive(Clone, Debug, PartialEq)]
pub enum LossValue {
    /// `mean`, `batch-mean` or `sum`.
    Scalar(f64),
    /// `none` for categorical losses: one loss per example.
    PerExample(Vec<f64>),
    /// `none` for element-wise losses (binary, MSE): one loss per output.
    PerElement(Array2<f64>),
}

impl LossValue {
    /// The value that was differentiated: the scalar, or the sum of the unreduced losses.
    pub fn total(&self) -> f64 {
        match self {
            LossValue::Scalar(value) => *value,
            LossValue::PerExample(values) => values.iter().sum(),
            LossValue::PerElement(values) => values.sum(),
        }
    }
}

impl LossConfig {
    /// A loss with PyTorch's default options.
    pub fn new(kind: LossKind, from: LossInput) -> Self {
        LossConfig {
            kind,
            from,
            class_weights: None,
            pos_weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
        }
    }

    /// The set of output rows this loss accepts as input: its domain.
    ///
    /// ```text
    /// from logits (any loss), mse       (−∞, ∞)
    /// binary from probabilities          (0, 1) each, so ln a and ln(1 − a) are finite
    /// categorical from probabilities     the open simplex
    /// categorical from log-probabilities log-probabilities of the open simplex
    /// ```
    pub fn domain(&self) -> OutputRange {
        match (self.kind, self.from) {
            (LossKind::Mse, _) | (_, LossInput::Logits) => OutputRange::Interval(Interval::REAL),
            (LossKind::BinaryCrossEntropy, _) => OutputRange::Interval(Interval::OPEN_UNIT),
            (_, LossInput::Probabilities) => OutputRange::Simplex,
            (_, LossInput::LogProbabilities) => OutputRange::LogSimplex,
        }
    }

    /// A short description such as "binary cross-entropy on probabilities".
    pub fn describe(&self) -> String {
        match self.kind {
            LossKind::Mse => self.kind.display_name().to_string(),
            kind => format!("{} on {}", kind.display_name(), self.from),
        }
    }

    /// Checks the options against the number of outputs, as PyTorch would at call time.
    pub fn validate(&self, outputs: usize) -> Result<()> {
        let kind = self.kind;
        match (kind, self.from) {
            (LossKind::Nll, LossInput::Logits | LossInput::Probabilities) => {
                return Err(Error::invalid(
                    "from",
                    "nll takes log-probabilities (as PyTorch's NLLLoss); for logits or \
                     probabilities use cross-entropy",
                ));
            }
            (LossKind::BinaryCrossEntropy, LossInput::LogProbabilities) => {
                return Err(Error::invalid(
                    "from",
                    "binary cross-entropy takes logits or probabilities, not log-probabilities",
                ));
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return Err(Error::invalid(
                "label_smoothing",
                format!("{} is outside [0, 1]", self.label_smoothing),
            ));
        }
        if self.label_smoothing != 0.0 && matches!(kind, LossKind::Nll | LossKind::Mse) {
            return Err(Error::invalid(
                "label_smoothing",
                format!(
                    "{} has no label smoothing (cross-entropy losses do)",
                    kind.display_name()
                ),
            ));
        }
        if let Some(weights) = &self.class_weights {
            if kind == LossKind::Mse {
                return Err(Error::invalid(
                    "class_weights",
                    "mse takes no class weights",
                ));
            }
            check_weights("class_weights", weights, &[outputs])?;
            if weights.iter().all(|&w| w == 0.0) {
                return Err(Error::invalid(
                    "class_weights",
                    "all zero: every example would weigh nothing and the mean loss is 0/0; give \
                     at least one class a weight > 0",
                ));
            }
        }
        if let Some(weights) = &self.pos_weight {
            if kind != LossKind::BinaryCrossEntropy {
                return Err(Error::invalid(
                    "pos_weight",
                    "pos_weight applies to binary cross-entropy only",
                ));
            }
            check_weights("pos_weight", weights, &[1, outputs])?;
        }
        Ok(())
    }

    /// Computes the loss and, when `gradient` is given, writes ∂C/∂output into it (for
    /// reduction `none`, the gradient of the summed losses).
    ///
    /// # Shapes
    /// `output` and `gradient` are batch × outputs; `targets` has one entry (class) or one
    /// row (dense) per example.
    ///
    /// # Errors
    /// Shape mismatches, class indices out of range, probabilities outside [0, 1], non-finite
    /// values, and options that do not fit the loss.
    ///
    /// ```
    /// use nabla::ndarray::{Array2, array};
    /// use nabla::{LossConfig, LossInput, LossKind, Targets};
    ///
    /// // PyTorch: F.cross_entropy(torch.tensor([[2.0, 0.5]]), torch.tensor([0])) = 0.2014
    /// let ce = LossConfig::new(LossKind::CrossEntropy, LossInput::Logits);
    /// let mut gradient = Array2::zeros((1, 2));
    /// let loss = ce.evaluate(array![[2.0f64, 0.5]].view(), &Targets::Classes(&[0]), Some(gradient.view_mut()))?;
    /// assert!((loss.total() - 0.201413).abs() < 1e-6);
    /// assert!((gradient[[0, 0]] + gradient[[0, 1]]).abs() < 1e-12); // softmax − one-hot sums to 0
    /// # Ok::<(), nabla::Error>(())
    /// ```
    pub fn evaluate<F: Scalar>(
        &self,
        output: ArrayView2<F>,
        targets: &Targets<F>,
        gradient: Option<ArrayViewMut2<F>>,
    ) -> Result<LossValue> {
        self.validate(output.ncols())?;
        if targets.len() != output.nrows() {
            return Err(Error::Shape {
                what: "target".into(),
                expected: format!("{} entries (one per output row)", output.nrows()),
                got: format!("{} entries", targets.len()),
            });
        }
        if let Targets::Dense(values) = targets {
            if values.dim() != output.dim() {
                return Err(Error::shape("target", output.dim(), values.dim()));
            }
            check_finite("target", values.view())?;
        }
        check_inputs(self, output.view())?;
        if let Some(gradient) = &gradient {
            debug_assert_eq!(gradient.dim(), output.dim());
        }
        match self.kind {
            LossKind::CrossEntropy | LossKind::Nll => {
                categorical::evaluate(self, output, targets, gradient)
            }
            LossKind::BinaryCrossEntropy => binary::evaluate(self, output, targets, gradient),
            LossKind::Mse => squared::evaluate(self, output, targets, gradient),
        }
    }
}
