//! Class metrics: arg-max predictions, the confusion matrix and precision, recall and F1 per
//! class.
//!
//! ```text
//! precision_c = TP_c / (TP_c + FP_c)     recall_c = TP_c / (TP_c + FN_c)
//! F1_c = 2·precision·recall / (precision + recall)        (0 where undefined, as scikit-learn)
//! ```

use ndarray::{Array2, ArrayView2};
use serde::Serialize;

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

/// Accuracy, the confusion matrix and the per-class scores.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScores {
    /// Share of rows classified correctly, in [0, 1].
    pub accuracy: f64,
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
                crate::data::arg_max(row.iter())
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

impl ClassScores {
    /// Accuracy and per-class metrics from a confusion matrix.
    pub fn from_confusion(confusion: Array2<usize>) -> Self {
        let classes = confusion.nrows();
        let total: usize = confusion.sum();
        let correct: usize = (0..classes).map(|c| confusion[[c, c]]).sum();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class = (0..classes)
            .map(|c| {
                let tp = confusion[[c, c]];
                let predicted: usize = confusion.column(c).sum();
                let support: usize = confusion.row(c).sum();
                ClassMetrics::from_counts(tp, predicted - tp, support - tp)
            })
            .collect();
        ClassScores {
            accuracy: ratio(correct, total),
            confusion,
            per_class,
        }
    }
}

impl ClassMetrics {
    /// The scores from true positives, false positives and false negatives (0 where a ratio
    /// is undefined, as scikit-learn's `zero_division=0`).
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> ClassMetrics {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        ClassMetrics {
            precision,
            recall,
            f1,
            support: tp + fn_,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn metrics_from_a_confusion_matrix() {
        // true 0: 3 right, 1 called 1; true 1: 2 right; true 2: never predicted.
        let confusion = array![[3usize, 1, 0], [0, 2, 0], [1, 0, 0]];
        let e = ClassScores::from_confusion(confusion);
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
