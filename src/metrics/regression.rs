//! Regression metrics (scikit-learn's definitions, outputs averaged uniformly).
//!
//! ```text
//! MSE = (1/(n·K)) Σ (aₖ − yₖ)²        MAE = (1/(n·K)) Σ |aₖ − yₖ|
//! R²ₖ = 1 − Σₓ (aₖ − yₖ)² / Σₓ (yₖ − ȳₖ)²     R² = (1/K) Σₖ R²ₖ
//! ```
//! An output whose targets are constant has R²ₖ = 1 when predicted exactly and 0 otherwise,
//! as in scikit-learn.

use ndarray::{ArrayView2, Axis};

/// The scores of real-valued predictions.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionScores {
    /// Mean squared error over every row and output.
    pub mse: f64,
    /// Mean absolute error over every row and output.
    pub mae: f64,
    /// The coefficient of determination, averaged over the outputs.
    pub r2: f64,
    /// R² of each output.
    pub r2_per_output: Vec<f64>,
    /// MSE of each output.
    pub mse_per_output: Vec<f64>,
    /// MAE of each output.
    pub mae_per_output: Vec<f64>,
}

impl RegressionScores {
    /// Scores `outputs` against `targets` (rows × outputs each).
    pub fn new(targets: ArrayView2<f32>, outputs: ArrayView2<f32>) -> Self {
        let count = targets.len().max(1) as f64;
        let (mut squared, mut absolute) = (0.0, 0.0);
        for (&y, &a) in targets.iter().zip(outputs.iter()) {
            let d = f64::from(a) - f64::from(y);
            squared += d * d;
            absolute += d.abs();
        }
        let r2_per_output: Vec<f64> = targets
            .axis_iter(Axis(1))
            .zip(outputs.axis_iter(Axis(1)))
            .map(|(y, a)| {
                let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / y.len().max(1) as f64;
                let total: f64 = y.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum();
                let residual: f64 = y
                    .iter()
                    .zip(a.iter())
                    .map(|(&y, &a)| (f64::from(a) - f64::from(y)).powi(2))
                    .sum();
                match (total > 0.0, residual > 0.0) {
                    (true, _) => 1.0 - residual / total,
                    (false, false) => 1.0,
                    (false, true) => 0.0,
                }
            })
            .collect();
        let rows = targets.nrows().max(1) as f64;
        let per_output = |f: fn(f64) -> f64| -> Vec<f64> {
            targets
                .axis_iter(Axis(1))
                .zip(outputs.axis_iter(Axis(1)))
                .map(|(y, a)| {
                    y.iter()
                        .zip(a.iter())
                        .map(|(&y, &a)| f(f64::from(a) - f64::from(y)))
                        .sum::<f64>()
                        / rows
                })
                .collect()
        };
        RegressionScores {
            mse: squared / count,
            mae: absolute / count,
            r2: r2_per_output.iter().sum::<f64>() / r2_per_output.len().max(1) as f64,
            r2_per_output,
            mse_per_output: per_output(|d| d * d),
            mae_per_output: per_output(f64::abs),
        }
    }

    /// The scores of targets that were standardised by `std` (one per output), in the
    /// targets' own units: MSEₖ·σₖ², MAEₖ·σₖ (R² is unchanged by scaling).
    pub fn rescale(&mut self, std: &[f32]) {
        for (k, &s) in std.iter().enumerate() {
            let s = f64::from(s);
            if let (Some(mse), Some(mae)) = (
                self.mse_per_output.get_mut(k),
                self.mae_per_output.get_mut(k),
            ) {
                *mse *= s * s;
                *mae *= s;
            }
        }
        let outputs = self.mse_per_output.len().max(1) as f64;
        self.mse = self.mse_per_output.iter().sum::<f64>() / outputs;
        self.mae = self.mae_per_output.iter().sum::<f64>() / outputs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Hand-computed: y = (1, 2, 3), a = (1, 2, 5): MSE 4/3, MAE 2/3, ȳ = 2, SS_tot = 2,
    /// SS_res = 4, R² = 1 − 4/2 = −1 (scikit-learn's r2_score gives −1.0 too).
    #[test]
    fn scores_match_hand_computed_values() {
        let y = array![[1.0f32], [2.0], [3.0]];
        let a = array![[1.0f32], [2.0], [5.0]];
        let s = RegressionScores::new(y.view(), a.view());
        assert!((s.mse - 4.0 / 3.0).abs() < 1e-12);
        assert!((s.mae - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.r2 + 1.0).abs() < 1e-12);
        let perfect = RegressionScores::new(y.view(), y.view());
        assert_eq!((perfect.mse, perfect.r2), (0.0, 1.0));
        // Standardised with σ = 2: the error in the targets' units is twice, squared four times.
        let mut scaled = RegressionScores::new(y.view(), a.view());
        scaled.rescale(&[2.0]);
        assert!((scaled.mse - 16.0 / 3.0).abs() < 1e-12 && (scaled.mae - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(scaled.r2, s.r2);
    }
}
