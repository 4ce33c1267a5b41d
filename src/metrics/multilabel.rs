//! Multi-label metrics (scikit-learn's definitions): each label k of each row is a yes/no
//! decision, predicted yes where aₖ > t (t = ½ by default) and true where yₖ ≥ ½.
//!
//! ```text
//! micro-F1        F1 of the counts summed over every label: 2·ΣTP / (2·ΣTP + ΣFP + ΣFN)
//! macro-F1        the mean of the labels' F1 scores
//! Hamming loss    the share of wrong decisions over rows × labels
//! subset accuracy the share of rows whose every label is right
//! ```

use ndarray::ArrayView2;

use super::ClassMetrics;

/// The scores of multi-label predictions.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiLabelScores {
    /// The decision threshold t.
    pub threshold: f64,
    /// F1 over the counts of every label together.
    pub micro_f1: f64,
    /// The mean of the per-label F1 scores.
    pub macro_f1: f64,
    /// Precision over the counts of every label together.
    pub micro_precision: f64,
    /// Recall over the counts of every label together.
    pub micro_recall: f64,
    /// The share of wrong decisions.
    pub hamming_loss: f64,
    /// The share of rows with every label right.
    pub subset_accuracy: f64,
    /// Precision, recall, F1 and support (rows where the label is true) per label.
    pub per_label: Vec<ClassMetrics>,
}

impl MultiLabelScores {
    /// Scores `outputs` (probabilities, rows × labels) against `targets` (values in [0, 1]).
    pub fn new(targets: ArrayView2<f32>, outputs: ArrayView2<f32>, threshold: f64) -> Self {
        let labels = targets.ncols();
        let rows = targets.nrows();
        let mut counts = vec![(0usize, 0usize, 0usize); labels]; // (tp, fp, fn) per label
        let (mut wrong, mut rows_right) = (0usize, 0usize);
        for (truth, predicted) in targets.rows().into_iter().zip(outputs.rows()) {
            let mut all_right = true;
            for (k, (&y, &a)) in truth.iter().zip(predicted.iter()).enumerate() {
                let (yes, said) = (y >= 0.5, f64::from(a) > threshold);
                match (yes, said) {
                    (true, true) => counts[k].0 += 1,
                    (false, true) => counts[k].1 += 1,
                    (true, false) => counts[k].2 += 1,
                    (false, false) => {}
                }
                if yes != said {
                    wrong += 1;
                    all_right = false;
                }
            }
            rows_right += usize::from(all_right);
        }
        let per_label: Vec<ClassMetrics> = counts
            .iter()
            .map(|&(tp, fp, fn_)| ClassMetrics::from_counts(tp, fp, fn_))
            .collect();
        let (tp, fp, fn_) = counts
            .iter()
            .fold((0, 0, 0), |s, c| (s.0 + c.0, s.1 + c.1, s.2 + c.2));
        let micro = ClassMetrics::from_counts(tp, fp, fn_);
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        MultiLabelScores {
            threshold,
            micro_f1: micro.f1,
            macro_f1: if labels == 0 {
                0.0
            } else {
                per_label.iter().map(|m| m.f1).sum::<f64>() / labels as f64
            },
            micro_precision: micro.precision,
            micro_recall: micro.recall,
            hamming_loss: share(wrong, rows * labels),
            subset_accuracy: share(rows_right, rows),
            per_label,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Hand-computed: 3 rows × 2 labels.
    /// label 0: truth 1,0,1 predicted 1,1,0 → TP 1, FP 1, FN 1: P = R = F1 = ½.
    /// label 1: truth 0,1,1 predicted 0,1,1 → TP 2: P = R = F1 = 1.
    /// micro: TP 3, FP 1, FN 1 → F1 = 6/8 = 0.75; macro F1 = (½ + 1)/2 = 0.75;
    /// Hamming loss 2/6; subset accuracy 1/3 (row 0 only... row 0: (1,0) vs (1,0) right,
    /// row 1: (0,1) vs (1,1) wrong, row 2: (1,1) vs (0,1) wrong).
    #[test]
    fn scores_match_hand_computed_values() {
        let targets = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let outputs = array![[0.9f32, 0.2], [0.7, 0.8], [0.4, 0.6]];
        let s = MultiLabelScores::new(targets.view(), outputs.view(), 0.5);
        assert!((s.micro_f1 - 0.75).abs() < 1e-12);
        assert!((s.macro_f1 - 0.75).abs() < 1e-12);
        assert!((s.hamming_loss - 2.0 / 6.0).abs() < 1e-12);
        assert!((s.subset_accuracy - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.per_label[0].support, 2);
        assert!((s.per_label[0].f1 - 0.5).abs() < 1e-12);
        // A higher threshold says "no" more often.
        let strict = MultiLabelScores::new(targets.view(), outputs.view(), 0.75);
        assert!((strict.per_label[1].recall - 0.5).abs() < 1e-12);
    }
}
