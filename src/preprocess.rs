//! Feature normalisation, fitted on the training split only and saved with the model.
//!
//! ```text
//! standardize   x′ⱼ = (xⱼ − μⱼ) / σⱼ        μ, σ of the training rows (σ = 0 → 1)
//! min-max       x′ⱼ = (xⱼ − minⱼ) / (maxⱼ − minⱼ)   (range 0 → 1)
//! scale:K       x′ⱼ = xⱼ / K                 (e.g. scale:255 for pixels)
//! none          x′ⱼ = xⱼ
//! ```

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayRef2, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which normalisation to fit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum NormalizationKind {
    /// Zero mean, unit variance per feature.
    #[default]
    Standardize,
    /// Each feature to [0, 1].
    MinMax,
    /// Divide every feature by a constant.
    Scale(f32),
    /// Leave features as they are.
    None,
}

/// The value each feature's missing cells (NaN) are filled with, fitted on the training rows
/// (`--missing mean|median`) and stored in the model.
///
/// fillⱼ = mean or median of feature j's present training values.
///
/// # Errors
/// A feature with no present value in the training rows.
pub fn fit_fill(features: &ndarray::ArrayRef2<f32>, median: bool) -> Result<Vec<f32>> {
    (0..features.ncols())
        .map(|j| {
            let mut present: Vec<f32> = features
                .column(j)
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            if present.is_empty() {
                return Err(Error::invalid(
                    "missing",
                    format!("feature {j} has no value in the training rows to fill with"),
                ));
            }
            Ok(if median {
                present.sort_by(f32::total_cmp);
                let mid = present.len() / 2;
                if present.len() % 2 == 1 {
                    present[mid]
                } else {
                    (present[mid - 1] + present[mid]) / 2.0
                }
            } else {
                (present.iter().map(|&v| f64::from(v)).sum::<f64>() / present.len() as f64) as f32
            })
        })
        .collect()
}

/// Replaces each NaN in feature j by `fill[j]`; the number replaced.
pub fn apply_fill(fill: &[f32], features: &mut ndarray::ArrayRef2<f32>) -> usize {
    let mut filled = 0;
    for mut row in features.rows_mut() {
        for (x, &f) in row.iter_mut().zip(fill) {
            if x.is_nan() {
                *x = f;
                filled += 1;
            }
        }
    }
    filled
}

/// Standardisation's σ is at least the training range divided by this (10): values inside the
/// training range stay within 10 of the mean after scaling.
pub const ROBUST_RANGE_SHARE: f32 = 10.0;

impl NormalizationKind {
    /// The syntax accepted on the command line.
    pub const SYNTAX: &'static str = "standardize | min-max | scale:K | none";

    /// Fits the normalisation to the (training) features. Standardisation divides by
    /// max(σ, range / [`ROBUST_RANGE_SHARE`]) per feature (1 for a constant one).
    ///
    /// # Errors
    /// No rows to fit on, or statistics that are not finite (values so large that their
    /// spread overflows f32).
    pub fn fit(self, features: &ndarray::ArrayRef2<f32>) -> Result<Normalization> {
        if features.nrows() == 0 && matches!(self, Self::Standardize | Self::MinMax) {
            return Err(Error::invalid("normalize", "no training rows to fit on"));
        }
        let fitted = self.fit_unchecked(features);
        fitted.validate()?;
        Ok(fitted)
    }

    fn fit_unchecked(self, features: &ndarray::ArrayRef2<f32>) -> Normalization {
        match self {
            NormalizationKind::None => Normalization::None,
            NormalizationKind::Scale(factor) => Normalization::Scale { factor },
            NormalizationKind::Standardize => {
                let mean = features
                    .mean_axis(Axis(0))
                    .expect("at least one training row");
                let std = features.std_axis(Axis(0), 0.0);
                let min = features.fold_axis(Axis(0), f32::INFINITY, |m, &v| m.min(v));
                let max = features.fold_axis(Axis(0), f32::NEG_INFINITY, |m, &v| m.max(v));
                // σ floored at a tenth of the column's training range: a value inside that
                // range lands within 10 of the mean, so a column that is almost constant (a
                // pixel non-zero in 4 of 1797 rows) cannot turn a rare value into an input
                // 27 standard deviations out.
                let scale = std
                    .iter()
                    .zip(min.iter().zip(&max))
                    .map(|(&s, (&lo, &hi))| {
                        let floored = s.max((hi - lo) / ROBUST_RANGE_SHARE);
                        if floored > 0.0 && floored.is_finite() {
                            floored
                        } else {
                            1.0
                        }
                    })
                    .collect();
                Normalization::Standardize {
                    mean: mean.to_vec(),
                    std: scale,
                }
            }
            NormalizationKind::MinMax => {
                let min = features.fold_axis(Axis(0), f32::INFINITY, |m, &v| m.min(v));
                let max = features.fold_axis(Axis(0), f32::NEG_INFINITY, |m, &v| m.max(v));
                Normalization::MinMax {
                    min: min.to_vec(),
                    max: max.to_vec(),
                }
            }
        }
    }
}

impl fmt::Display for NormalizationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NormalizationKind::Standardize => write!(f, "standardize"),
            NormalizationKind::MinMax => write!(f, "min-max"),
            NormalizationKind::Scale(k) => write!(f, "scale:{k}"),
            NormalizationKind::None => write!(f, "none"),
        }
    }
}

impl FromStr for NormalizationKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "standardize" | "standardise" | "z-score" => Ok(NormalizationKind::Standardize),
            "min-max" | "minmax" => Ok(NormalizationKind::MinMax),
            "none" => Ok(NormalizationKind::None),
            other => match other.strip_prefix("scale:").map(str::parse::<f32>) {
                Some(Ok(k)) if k.is_finite() && k > 0.0 => Ok(NormalizationKind::Scale(k)),
                _ => Err(Error::invalid(
                    "normalize",
                    format!("'{text}' is not one of {}", Self::SYNTAX),
                )),
            },
        }
    }
}

/// A fitted normalisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Normalization {
    /// Identity.
    None,
    /// (x − mean) / std per feature.
    Standardize {
        /// μ per feature.
        mean: Vec<f32>,
        /// σ per feature (never 0).
        std: Vec<f32>,
    },
    /// (x − min) / (max − min) per feature.
    MinMax {
        /// Minimum per feature.
        min: Vec<f32>,
        /// Maximum per feature.
        max: Vec<f32>,
    },
    /// x / factor.
    Scale {
        /// K.
        factor: f32,
    },
}

impl Normalization {
    /// Checks that every statistic is finite and every divisor a finite number > 0 (a model
    /// file can hold anything).
    ///
    /// # Errors
    /// The first bad statistic, with its feature.
    pub fn validate(&self) -> Result<()> {
        let check = |what: &str, values: &[f32], positive: bool| -> Result<()> {
            match values
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite() || (positive && **v <= 0.0))
            {
                Some((j, v)) => Err(Error::invalid(
                    format!("normalization {what}[{j}]"),
                    format!(
                        "{v} is not a finite number{}",
                        if positive { " > 0" } else { "" }
                    ),
                )),
                None => Ok(()),
            }
        };
        match self {
            Normalization::None => Ok(()),
            Normalization::Scale { factor } => check("scale", &[*factor], true),
            Normalization::Standardize { mean, std } => {
                if mean.len() != std.len() {
                    return Err(Error::invalid(
                        "normalization",
                        format!("{} means but {} deviations", mean.len(), std.len()),
                    ));
                }
                check("mean", mean, false)?;
                check("std", std, true)
            }
            Normalization::MinMax { min, max } => {
                if min.len() != max.len() {
                    return Err(Error::invalid(
                        "normalization",
                        format!("{} minima but {} maxima", min.len(), max.len()),
                    ));
                }
                check("min", min, false)?;
                check("max", max, false)?;
                match min
                    .iter()
                    .zip(max)
                    .position(|(lo, hi)| !(hi - lo).is_finite() || hi < lo)
                {
                    Some(j) => Err(Error::invalid(
                        format!("normalization max[{j}]"),
                        format!("{} is below min {} or too far above it", max[j], min[j]),
                    )),
                    None => Ok(()),
                }
            }
        }
    }

    /// Undoes [`Normalization::apply`] (up to rounding): the features in their own units.
    pub fn invert(&self, features: &mut ArrayRef2<f32>) {
        match self {
            Normalization::None => {}
            Normalization::Scale { factor } => features.mapv_inplace(|v| v * factor),
            Normalization::Standardize { mean, std } => {
                for mut row in features.rows_mut() {
                    Zip::from(&mut row)
                        .and(mean)
                        .and(std)
                        .for_each(|x, &m, &s| *x = *x * s + m);
                }
            }
            Normalization::MinMax { min, max } => {
                for mut row in features.rows_mut() {
                    Zip::from(&mut row)
                        .and(min)
                        .and(max)
                        .for_each(|x, &lo, &hi| *x = lo + *x * (hi - lo));
                }
            }
        }
    }

    /// The number of features it was fitted on (None for shape-free normalisations).
    pub fn width(&self) -> Option<usize> {
        match self {
            Normalization::Standardize { mean, .. } => Some(mean.len()),
            Normalization::MinMax { min, .. } => Some(min.len()),
            Normalization::None | Normalization::Scale { .. } => None,
        }
    }

    /// Applies the normalisation in place.
    ///
    /// # Errors
    /// A feature count that differs from the fitted one.
    pub fn apply(&self, features: &mut ArrayRef2<f32>) -> Result<()> {
        if let Some(width) = self.width()
            && width != features.ncols()
        {
            return Err(Error::invalid(
                "features",
                format!(
                    "the normalisation was fitted on {width} features, the data has {}",
                    features.ncols()
                ),
            ));
        }
        match self {
            Normalization::None => {}
            Normalization::Scale { factor } => features.mapv_inplace(|v| v / factor),
            Normalization::Standardize { mean, std } => {
                for mut row in features.rows_mut() {
                    Zip::from(&mut row)
                        .and(mean)
                        .and(std)
                        .for_each(|x, &m, &s| *x = (*x - m) / s);
                }
            }
            Normalization::MinMax { min, max } => {
                for mut row in features.rows_mut() {
                    Zip::from(&mut row)
                        .and(min)
                        .and(max)
                        .for_each(|x, &lo, &hi| {
                            let span = hi - lo;
                            *x = if span > 0.0 { (*x - lo) / span } else { 0.0 };
                        });
                }
            }
        }
        // Finite inputs can still overflow (x / 1e-45, (x − μ)/σ with x near f32::MAX).
        if let Some(((i, j), v)) = features.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(
                format!("normalised feature [{i}][{j}]"),
                format!(
                    "{self} normalisation gives {v}: the feature's values are too large for it"
                ),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Normalization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Normalization::None => write!(f, "none"),
            Normalization::Standardize { .. } => write!(f, "standardize"),
            Normalization::MinMax { .. } => write!(f, "min-max"),
            Normalization::Scale { factor } => write!(f, "scale:{factor}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_rare_value_inside_the_training_range_stays_within_ten() {
        // A pixel non-zero in 4 of 1797 rows: its σ is tiny, so plain standardisation put a
        // test row's 16 about 27σ out.
        let mut column = vec![0.0f32; 1797];
        column[..4].copy_from_slice(&[16.0, 12.0, 3.0, 1.0]);
        let features = ndarray::Array2::from_shape_vec((1797, 1), column).unwrap();
        let fitted = NormalizationKind::Standardize.fit(&features).unwrap();
        let mut row = array![[16.0f32]];
        fitted.apply(&mut row).unwrap();
        assert!(row[[0, 0]] <= ROBUST_RANGE_SHARE, "{}", row[[0, 0]]);
        assert!(row[[0, 0]] > 9.0, "the floor binds: {}", row[[0, 0]]);
        // A column spread as usual keeps its σ.
        let spread = ndarray::Array2::from_shape_fn((1000, 1), |(i, _)| (i % 10) as f32);
        let Normalization::Standardize { std, .. } =
            NormalizationKind::Standardize.fit(&spread).unwrap()
        else {
            unreachable!()
        };
        assert!((std[0] - 2.8722813).abs() < 1e-4, "{}", std[0]);
    }

    #[test]
    fn standardize_centres_and_scales_with_constant_columns_kept_finite() {
        let train = array![[1.0f32, 5.0], [3.0, 5.0]];
        let fitted = NormalizationKind::Standardize.fit(&train).unwrap();
        let mut x = train.clone();
        fitted.apply(&mut x).unwrap();
        assert_eq!(x, array![[-1.0, 0.0], [1.0, 0.0]]);
        let mut wrong = array![[1.0f32, 2.0, 3.0]];
        assert!(
            fitted
                .apply(&mut wrong)
                .unwrap_err()
                .to_string()
                .contains("fitted on 2 features")
        );
    }

    #[test]
    fn min_max_and_scale() {
        let train = array![[0.0f32, 10.0], [4.0, 20.0]];
        let mut x = array![[2.0f32, 15.0]];
        NormalizationKind::MinMax
            .fit(&train)
            .unwrap()
            .apply(&mut x)
            .unwrap();
        assert_eq!(x, array![[0.5, 0.5]]);
        let kind: NormalizationKind = "scale:255".parse().unwrap();
        let mut p = array![[255.0f32]];
        kind.fit(&train).unwrap().apply(&mut p).unwrap();
        assert_eq!(p, array![[1.0]]);
        assert!("scale:0".parse::<NormalizationKind>().is_err());
    }
}
