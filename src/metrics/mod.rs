//! How well a network does on a labelled data set, per task: accuracy, per-class scores and the
//! confusion matrix for classes (and for distributions, against the target's arg-max); F1
//! scores, the Hamming loss and subset accuracy for multi-label targets; MSE, MAE and R² for
//! regression. The definitions follow scikit-learn's, so the numbers compare one to one.
//!
//! | file | holds |
//! |---|---|
//! | `classes.rs` | arg-max predictions, the confusion matrix, precision/recall/F1 per class |
//! | `multilabel.rs` | thresholded decisions, micro/macro F1, Hamming loss, subset accuracy |
//! | `regression.rs` | MSE, MAE, R² |
//! | `report.rs` | an evaluation as text and JSON |

mod classes;
mod multilabel;
mod regression;
mod report;

use ndarray::{Array2, s};

pub use classes::{ClassMetrics, ClassScores, confusion_matrix, predicted_classes};
pub use multilabel::MultiLabelScores;
pub use regression::RegressionScores;

use crate::data::{Dataset, Labels, MAX_CLASSES, Task};
use crate::error::{Error, Result};
use crate::loss::{Reduction, Targets};
use crate::network::Network;

/// Rows per forward pass of [`evaluate`].
pub const DEFAULT_BATCH: usize = 1024;

/// The decision threshold of multi-label outputs: label k is predicted where aₖ > ½.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// How to evaluate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvaluateOptions {
    /// Rows per forward pass (memory, not results).
    pub batch: usize,
    /// Multi-label decision threshold: label k is predicted where aₖ > threshold.
    pub threshold: f64,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            batch: DEFAULT_BATCH,
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

/// The scores of one task.
#[derive(Clone, Debug, PartialEq)]
pub enum Scores {
    /// Exclusive classes: accuracy, per-class scores, confusion matrix.
    Classes(ClassScores),
    /// Independent labels: F1 scores, Hamming loss, subset accuracy.
    MultiLabel(MultiLabelScores),
    /// Probability targets: the class scores of the predicted arg-max against the target's.
    Distribution(ClassScores),
    /// Real-valued targets: MSE, MAE, R².
    Regression(RegressionScores),
}

/// A network's performance on a labelled data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Rows scored.
    pub rows: usize,
    /// The head's loss over the set (batches combined by row count; summed for `sum`).
    pub loss: f64,
    /// The task's scores.
    pub scores: Scores,
}

impl Evaluation {
    /// The task scored.
    pub fn task(&self) -> Task {
        match self.scores {
            Scores::Classes(_) => Task::Classes,
            Scores::MultiLabel(_) => Task::MultiLabel,
            Scores::Distribution(_) => Task::Distribution,
            Scores::Regression(_) => Task::Regression,
        }
    }

    /// The share of rows classified correctly (classes, and the arg-max of distributions).
    pub fn accuracy(&self) -> Option<f64> {
        match &self.scores {
            Scores::Classes(c) | Scores::Distribution(c) => Some(c.accuracy),
            _ => None,
        }
    }

    /// The one number that sums the task up, with its name: accuracy, micro-F1 or R².
    pub fn headline(&self) -> (&'static str, f64) {
        match &self.scores {
            Scores::Classes(c) | Scores::Distribution(c) => ("accuracy", c.accuracy),
            Scores::MultiLabel(m) => ("micro-F1", m.micro_f1),
            Scores::Regression(r) => ("R²", r.r2),
        }
    }

    /// The machine-readable summary line of `part` ("test", "train"):
    ///
    /// ```text
    /// classes, distributions   test accuracy: A  test loss: L
    /// multi-label              test micro-F1: F  test hamming loss: H  test loss: L
    /// regression               test R²: R  test MSE: M
    /// ```
    pub fn summary(&self, part: &str) -> String {
        match &self.scores {
            Scores::Classes(c) | Scores::Distribution(c) => format!(
                "{part} accuracy: {:.4}  {part} loss: {:.4}",
                c.accuracy, self.loss
            ),
            Scores::MultiLabel(m) => format!(
                "{part} micro-F1: {:.4}  {part} hamming loss: {:.4}  {part} loss: {:.4}",
                m.micro_f1, m.hamming_loss, self.loss
            ),
            Scores::Regression(r) => format!("{part} R²: {:.4}  {part} MSE: {:.4}", r.r2, r.mse),
        }
    }

    /// The class scores (classes and distributions).
    pub fn class_scores(&self) -> Option<&ClassScores> {
        match &self.scores {
            Scores::Classes(c) | Scores::Distribution(c) => Some(c),
            _ => None,
        }
    }
}

/// [`evaluate_with`] with the default batch and threshold.
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::{NetworkConfig, evaluate};
///
/// let data = generate(Synthetic::Moons, 200, 0.1, 0)?;
/// let network = NetworkConfig::for_data(&data).hidden([8]).build(0)?;
/// let untrained = evaluate(&network, &data)?;
/// assert_eq!(untrained.rows, 200);
/// assert!(untrained.accuracy().unwrap() <= 1.0);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn evaluate(network: &Network<f32>, data: &Dataset) -> Result<Evaluation> {
    evaluate_with(network, data, &EvaluateOptions::default())
}

/// Runs the network over `data` in batches: the loss, and the scores of the data's task.
///
/// # Errors
/// Unlabelled data, a feature count that does not fit, class labels beyond the network's
/// classes, dense targets whose width is not the network's outputs.
pub fn evaluate_with(
    network: &Network<f32>,
    data: &Dataset,
    options: &EvaluateOptions,
) -> Result<Evaluation> {
    if !data.is_labelled() {
        return Err(Error::invalid("data", "evaluation needs labelled data"));
    }
    if data.feature_count() != network.config().inputs {
        return Err(Error::invalid(
            "data",
            format!(
                "{} features per row, but the network takes {}",
                data.feature_count(),
                network.config().inputs
            ),
        ));
    }
    let outputs = network.config().outputs;
    let class_targets: Option<Vec<i64>> = match &data.labels {
        Labels::Classes { indices, .. } => {
            let classes = network.config().classes();
            if classes > MAX_CLASSES {
                return Err(Error::invalid(
                    "network",
                    format!(
                        "{classes} classes: class metrics are computed for at most {MAX_CLASSES}"
                    ),
                ));
            }
            if let Some((row, label)) = indices.iter().enumerate().find(|(_, l)| **l >= classes) {
                return Err(Error::invalid(
                    format!("label of row {row}"),
                    format!("class {label} is beyond the network's {classes} classes"),
                ));
            }
            Some(indices.iter().map(|&l| l as i64).collect())
        }
        Labels::Values { values, .. } => {
            if values.ncols() != outputs {
                return Err(Error::invalid(
                    "targets",
                    format!(
                        "{} target columns, but the network has {outputs} outputs",
                        values.ncols()
                    ),
                ));
            }
            None
        }
        Labels::None => unreachable!("checked labelled"),
    };
    let batch = options.batch.min(network.max_batch()).clamp(1, data.len());
    let mut workspace = network.workspace(batch);
    let mut predictions = Array2::<f32>::zeros((data.len(), outputs));
    let mut loss_sum = 0.0;
    let mut start = 0;
    // The weights packed once for every batch (bf16 products), not once per batch.
    network.with_frozen_weights(|| -> Result<()> {
        while start < data.len() {
            let end = (start + batch).min(data.len());
            let rows = end - start;
            let inputs = data.features.slice(s![start..end, ..]);
            let targets = match (&class_targets, &data.labels) {
                (Some(classes), _) => Targets::Classes(&classes[start..end]),
                (None, Labels::Values { values, .. }) => {
                    Targets::Dense(values.slice(s![start..end, ..]))
                }
                _ => unreachable!("class or dense targets"),
            };
            let value = network
                .forward_with_loss(inputs, &targets, &mut workspace)?
                .total();
            predictions
                .slice_mut(s![start..end, ..])
                .assign(&workspace.outputs(rows));
            loss_sum += match network.head().loss().reduction {
                Reduction::Sum | Reduction::None => value,
                _ => value * rows as f64,
            };
            start = end;
        }
        Ok(())
    })?;
    let loss = match network.head().loss().reduction {
        Reduction::Sum | Reduction::None => loss_sum,
        _ => loss_sum / data.len() as f64,
    };
    let scores = match &data.labels {
        Labels::Classes { indices, .. } => {
            let predicted = predicted_classes(predictions.view());
            Scores::Classes(ClassScores::from_confusion(confusion_matrix(
                indices,
                &predicted,
                network.config().classes(),
            )))
        }
        Labels::Values {
            task: Task::Distribution | Task::Classes,
            ..
        } => {
            let truth = data.labels.strata();
            let predicted = predicted_classes(predictions.view());
            Scores::Distribution(ClassScores::from_confusion(confusion_matrix(
                &truth, &predicted, outputs,
            )))
        }
        Labels::Values {
            task: Task::MultiLabel,
            values,
            ..
        } => Scores::MultiLabel(MultiLabelScores::new(
            values.view(),
            predictions.view(),
            options.threshold,
        )),
        Labels::Values {
            task: Task::Regression,
            values,
            ..
        } => Scores::Regression(RegressionScores::new(values.view(), predictions.view())),
        Labels::None => unreachable!("checked labelled"),
    };
    Ok(Evaluation {
        rows: data.len(),
        loss,
        scores,
    })
}
