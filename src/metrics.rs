//! Classification metrics of a network on a data set: accuracy, mean loss, the confusion
//! matrix and per-class precision, recall and F1.
//!
//! ```text
//! precision_c = TP_c / (TP_c + FP_c)     recall_c = TP_c / (TP_c + FN_c)
//! F1_c = 2·precision·recall / (precision + recall)        (0 where undefined, as scikit-learn)
//! ```

use ndarray::{Array2, ArrayView2, s};
use serde::Serialize;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::loss::{Reduction, Targets};
use crate::network::Network;

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows whose true class this is.
    pub support: usize,
}

/// A network's performance on a labelled data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Share of rows classified correctly, in [0, 1].
    pub accuracy: f64,
    /// The head's loss over the set (batches combined by row count; summed for `sum`).
    pub loss: f64,
    /// `confusion[true][predicted]`.
    pub confusion: Array2<usize>,
    /// One entry per class.
    pub per_class: Vec<ClassMetrics>,
}

/// The predicted class of each output row: the arg-max, or p > ½ for a single sigmoid output.
pub fn predicted_classes(outputs: ArrayView2<f32>) -> Vec<usize> {
    outputs
        .rows()
        .into_iter()
        .map(|row| {
            if row.len() == 1 {
                usize::from(row[0] > 0.5)
            } else {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &p)| {
                        if p > best.1 { (i, p) } else { best }
                    })
                    .0
            }
        })
        .collect()
}

/// `confusion[true][predicted]` counts.
pub fn confusion_matrix(labels: &[usize], predictions: &[usize], classes: usize) -> Array2<usize> {
    let mut confusion = Array2::zeros((classes, classes));
    for (&truth, &predicted) in labels.iter().zip(predictions) {
        confusion[[truth, predicted]] += 1;
    }
    confusion
}

impl Evaluation {
    /// Accuracy and per-class metrics from a confusion matrix.
    pub fn from_confusion(confusion: Array2<usize>, loss: f64) -> Self {
        let classes = confusion.nrows();
        let total: usize = confusion.sum();
        let correct: usize = (0..classes).map(|c| confusion[[c, c]]).sum();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class = (0..classes)
            .map(|c| {
                let tp = confusion[[c, c]];
                let predicted: usize = confusion.column(c).sum();
                let support: usize = confusion.row(c).sum();
                let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        Evaluation {
            accuracy: ratio(correct, total),
            loss,
            confusion,
            per_class,
        }
    }
}

/// Runs the network over `data` in batches of `batch` rows: loss, predictions, metrics.
///
/// # Errors
/// Unlabelled data, a feature count that does not fit, or labels beyond the network's classes.
pub fn evaluate(network: &Network<f32>, data: &Dataset, batch: usize) -> Result<Evaluation> {
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
    let classes = network.config().classes();
    if let Some((row, label)) = data.labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(Error::invalid(
            format!("label of row {row}"),
            format!("class {label} is beyond the network's {classes} classes"),
        ));
    }
    let batch = batch.clamp(1, data.len());
    let mut workspace = network.workspace(batch);
    let targets: Vec<i64> = data.labels.iter().map(|&l| l as i64).collect();
    let mut predictions = Vec::with_capacity(data.len());
    let mut loss_sum = 0.0;
    let mut start = 0;
    while start < data.len() {
        let end = (start + batch).min(data.len());
        let rows = end - start;
        let inputs = data.features.slice(s![start..end, ..]);
        let value = network
            .forward_with_loss(
                inputs,
                &Targets::Classes(&targets[start..end]),
                &mut workspace,
            )?
            .total();
        predictions.extend(predicted_classes(workspace.outputs(rows)));
        loss_sum += match network.head().loss().reduction {
            Reduction::Sum | Reduction::None => value,
            _ => value * rows as f64,
        };
        start = end;
    }
    let loss = match network.head().loss().reduction {
        Reduction::Sum | Reduction::None => loss_sum,
        _ => loss_sum / data.len() as f64,
    };
    Ok(Evaluation::from_confusion(
        confusion_matrix(&data.labels, &predictions, classes),
        loss,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn metrics_from_a_confusion_matrix() {
        // true 0: 3 right, 1 called 1; true 1: 2 right; true 2: never predicted.
        let confusion = array![[3usize, 1, 0], [0, 2, 0], [1, 0, 0]];
        let e = Evaluation::from_confusion(confusion, 0.5);
        assert!((e.accuracy - 5.0 / 7.0).abs() < 1e-12);
        assert!((e.per_class[0].precision - 0.75).abs() < 1e-12);
        assert!((e.per_class[0].recall - 0.75).abs() < 1e-12);
        assert!((e.per_class[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.per_class[2].f1, 0.0);
        assert_eq!(e.per_class[2].support, 1);
    }

    #[test]
    fn predicted_classes_use_argmax_or_a_half_threshold() {
        assert_eq!(
            predicted_classes(array![[0.1f32, 0.7, 0.2], [0.5, 0.2, 0.3]].view()),
            vec![1, 0]
        );
        assert_eq!(
            predicted_classes(array![[0.7f32], [0.2]].view()),
            vec![1, 0]
        );
    }
}
