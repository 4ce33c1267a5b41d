//! The range each feature took in the training rows, stored with a model so that `evaluate`
//! and `predict` can say which rows lie outside it: there the network extrapolates, and a
//! value far out (a pixel that was non-zero in 4 of 1797 training rows) can give any answer.

use ndarray::ArrayRef2;
use serde::{Deserialize, Serialize};

/// Per feature, the smallest and largest training value (in the data's own units).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRange {
    /// min over the training rows, per feature.
    pub min: Vec<f32>,
    /// max over the training rows, per feature.
    pub max: Vec<f32>,
}

/// Rows outside a [`TrainingRange`]: how many, and the features most often out.
#[derive(Clone, Debug, PartialEq)]
pub struct OutsideRange {
    /// Rows with at least one feature outside its training range.
    pub rows: usize,
    /// (feature index, rows where it is outside), most often first.
    pub features: Vec<(usize, usize)>,
}

impl TrainingRange {
    /// The range of `features` (raw, one row per example); `None` for no rows.
    pub fn of(features: &ArrayRef2<f32>) -> Option<TrainingRange> {
        (features.nrows() > 0).then(|| {
            let min = features.fold_axis(ndarray::Axis(0), f32::INFINITY, |m, &v| m.min(v));
            let max = features.fold_axis(ndarray::Axis(0), f32::NEG_INFINITY, |m, &v| m.max(v));
            TrainingRange {
                min: min.to_vec(),
                max: max.to_vec(),
            }
        })
    }

    /// The rows of `features` outside the range: a value below min − t or above max + t,
    /// t = 10⁻⁶·(|min| + |max| + 1) (rounding in a CSV's decimals is not "outside").
    pub fn outside(&self, features: &ArrayRef2<f32>) -> OutsideRange {
        let width = self.min.len().min(features.ncols());
        let mut per_feature = vec![0usize; width];
        let mut rows = 0;
        for row in features.rows() {
            let mut out = false;
            for j in 0..width {
                let (lo, hi) = (self.min[j], self.max[j]);
                let tolerance = 1e-6 * (lo.abs() + hi.abs() + 1.0);
                if row[j] < lo - tolerance || row[j] > hi + tolerance {
                    per_feature[j] += 1;
                    out = true;
                }
            }
            rows += usize::from(out);
        }
        let mut features: Vec<(usize, usize)> = per_feature
            .into_iter()
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .collect();
        features.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        OutsideRange { rows, features }
    }
}

impl OutsideRange {
    /// "3 of 40 rows have features outside the training range (pixel12 in 2 rows, …)", or
    /// `None` when every row is inside.
    pub fn note(&self, total: usize, names: &[String]) -> Option<String> {
        if self.rows == 0 {
            return None;
        }
        let name = |j: usize| {
            names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("feature {j}"))
        };
        let shown: Vec<String> = self
            .features
            .iter()
            .take(5)
            .map(|&(j, n)| format!("{} in {n} {}", name(j), if n == 1 { "row" } else { "rows" }))
            .collect();
        let more = if self.features.len() > 5 {
            format!(", and {} more features", self.features.len() - 5)
        } else {
            String::new()
        };
        Some(format!(
            "{} of {total} {} features outside the training range ({}{more}): there the model \
             extrapolates",
            self.rows,
            if self.rows == 1 {
                "row has"
            } else {
                "rows have"
            },
            shown.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn rows_outside_the_training_range_are_counted_by_feature() {
        let range = TrainingRange::of(&array![[0.0f32, 1.0], [2.0, 3.0]]).unwrap();
        assert_eq!(
            (range.min.clone(), range.max.clone()),
            (vec![0.0, 1.0], vec![2.0, 3.0])
        );
        let outside = range.outside(&array![[1.0f32, 2.0], [5.0, 2.0], [-1.0, 9.0]]);
        assert_eq!(outside.rows, 2);
        assert_eq!(outside.features, vec![(0, 2), (1, 1)]);
        let note = outside.note(3, &["a".into(), "b".into()]).unwrap();
        assert!(
            note.starts_with(
                "2 of 3 rows have features outside the training range (a in 2 rows, b in 1 row)"
            ),
            "{note}"
        );
        assert!(
            range
                .outside(&array![[2.0000001f32, 1.0]])
                .note(1, &[])
                .is_none()
        );
    }
}
