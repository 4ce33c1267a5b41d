//! Finite-difference gradient checks in f64: the second opinion on every analytic gradient.
//!
//! ```text
//! numeric ∂C/∂θᵢ ≈ (C(θ + h·eᵢ) − C(θ − h·eᵢ)) / 2h          error O(h²) + O(ε_machine·|C|/h)
//! relative error = |analytic − numeric| / max(|analytic|, |numeric|, 1e-3)
//! ```
//!
//! The floor 1e-3 keeps tiny gradients (where round-off, not the formula, dominates) from
//! producing meaningless ratios: below it the check is an absolute one at 1e-3 × tolerance.

use ndarray::{Array2, ArrayView2, Zip};

use crate::error::Result;
use crate::loss::Targets;
use crate::network::Network;

/// Gradients smaller than this are compared absolutely (see the module docs).
pub const RELATIVE_ERROR_FLOOR: f64 = 1e-3;

/// The default step h: balances truncation (h²) against round-off (1/h) in f64.
pub const DEFAULT_STEP: f64 = 1e-5;

/// Central differences of `objective` at every entry of `point`.
pub fn central_difference(
    point: &Array2<f64>,
    step: f64,
    mut objective: impl FnMut(&Array2<f64>) -> f64,
) -> Array2<f64> {
    let mut probe = point.clone();
    let mut numeric = Array2::zeros(point.raw_dim());
    for (index, value) in point.indexed_iter() {
        probe[index] = value + step;
        let up = objective(&probe);
        probe[index] = value - step;
        let down = objective(&probe);
        probe[index] = *value;
        numeric[index] = (up - down) / (2.0 * step);
    }
    numeric
}

/// The largest entry-wise relative error between two gradients (see the module docs).
pub fn relative_error(analytic: ArrayView2<f64>, numeric: ArrayView2<f64>) -> f64 {
    assert_eq!(
        analytic.dim(),
        numeric.dim(),
        "relative_error: shapes differ"
    );
    let mut worst = 0.0f64;
    Zip::from(&analytic).and(&numeric).for_each(|&a, &n| {
        let error = (a - n).abs() / a.abs().max(n.abs()).max(RELATIVE_ERROR_FLOOR);
        // NaN on either side is the worst possible outcome, never a pass.
        worst = if error.is_nan() {
            f64::INFINITY
        } else {
            worst.max(error)
        };
    });
    worst
}

/// The outcome of a network gradient check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Number of parameters compared.
    pub checked: usize,
    /// The largest relative error over all of them.
    pub max_relative_error: f64,
    /// Where that error occurred (`2.weight[3][1]`).
    pub worst: String,
}

/// Compares the network's backpropagated gradients with central differences of its loss over
/// every weight and bias.
pub fn gradcheck_network(
    network: &Network<f64>,
    inputs: ArrayView2<f64>,
    targets: &Targets<f64>,
    step: f64,
) -> Result<GradcheckReport> {
    let mut workspace = network.workspace(inputs.nrows());
    let mut gradients = network.zero_gradients();
    network.loss_and_gradients(inputs.view(), targets, &mut workspace, &mut gradients)?;

    let mut probe = network.clone();
    let mut report = GradcheckReport {
        checked: 0,
        max_relative_error: 0.0,
        worst: String::new(),
    };
    let loss_at =
        |probe: &Network<f64>| -> Result<f64> { Ok(probe.loss(inputs.view(), targets)?.total()) };
    for l in 0..network.layers().len() {
        let (weight_name, bias_name) = Network::<f64>::parameter_names(l);
        let analytic = &gradients.layers[l];
        let count = network.layers()[l].parameter_count();
        for i in 0..count {
            let (name, original, analytic_value) = {
                let layer = &network.layers()[l];
                if i < layer.weights.len() {
                    let (r, c) = (i / layer.inputs(), i % layer.inputs());
                    (
                        format!("{weight_name}[{r}][{c}]"),
                        layer.weights[[r, c]],
                        analytic.weights[[r, c]],
                    )
                } else {
                    let j = i - layer.weights.len();
                    (format!("{bias_name}[{j}]"), layer.bias[j], analytic.bias[j])
                }
            };
            let set = |probe: &mut Network<f64>, value: f64| {
                let layer = &mut probe.layers_mut()[l];
                let inputs = layer.inputs();
                if i < layer.weights.len() {
                    layer.weights[[i / inputs, i % inputs]] = value;
                } else {
                    let j = i - layer.weights.len();
                    layer.bias[j] = value;
                }
            };
            set(&mut probe, original + step);
            let up = loss_at(&probe)?;
            set(&mut probe, original - step);
            let down = loss_at(&probe)?;
            set(&mut probe, original);
            let numeric = (up - down) / (2.0 * step);
            let error = (analytic_value - numeric).abs()
                / analytic_value
                    .abs()
                    .max(numeric.abs())
                    .max(RELATIVE_ERROR_FLOOR);
            let error = if error.is_nan() { f64::INFINITY } else { error };
            report.checked += 1;
            if error >= report.max_relative_error {
                report.max_relative_error = error;
                report.worst = name;
            }
        }
    }
    Ok(report)
}

/// [`gradcheck_network`] of an f32 network, in f64, on the first `rows` rows of `data`
/// (normalised; any task: class indices or dense targets).
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::gradcheck::{DEFAULT_STEP, gradcheck_rows};
/// use nabla::NetworkConfig;
///
/// let data = generate(Synthetic::Circles, 50, 0.1, 0)?;
/// let network = NetworkConfig::for_data(&data).hidden([5]).build(0)?;
/// let report = gradcheck_rows(&network, &data, 8, DEFAULT_STEP)?;
/// assert!(report.max_relative_error < 1e-6, "{report:?}");
/// # Ok::<(), nabla::Error>(())
/// ```
///
/// # Errors
/// No rows or targets, or a loss the targets do not fit.
pub fn gradcheck_rows(
    network: &Network<f32>,
    data: &crate::data::Dataset,
    rows: usize,
    step: f64,
) -> Result<GradcheckReport> {
    let rows = rows.min(data.len());
    if rows == 0 || !data.is_labelled() {
        return Err(crate::Error::invalid(
            "data",
            "a gradient check needs at least one row with a target",
        ));
    }
    let inputs = data.features.slice(ndarray::s![..rows, ..]).mapv(f64::from);
    let exact = network.cast::<f64>();
    match &data.labels {
        crate::data::Labels::Classes { indices, .. } => {
            let labels: Vec<i64> = indices[..rows].iter().map(|&l| l as i64).collect();
            gradcheck_network(&exact, inputs.view(), &Targets::Classes(&labels), step)
        }
        crate::data::Labels::Values { values, .. } => {
            let targets = values.slice(ndarray::s![..rows, ..]).mapv(f64::from);
            gradcheck_network(&exact, inputs.view(), &Targets::Dense(targets.view()), step)
        }
        crate::data::Labels::None => unreachable!("checked labelled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The training step of every task (class indices, multi-label values, distributions,
    /// real values) backpropagates what finite differences of its loss say.
    #[test]
    fn every_task_gradient_matches_finite_differences() {
        use crate::data::{Dataset, Task};
        use crate::network::NetworkConfig;
        let features =
            ndarray::Array2::from_shape_fn((6, 3), |(i, j)| ((i * 3 + j) as f32 * 0.37).sin());
        let dense = |task: Task| {
            let values = ndarray::Array2::from_shape_fn((6, 3), |(i, k)| match task {
                Task::MultiLabel => f32::from(u8::from((i + k) % 2 == 0)) * 0.9,
                Task::Distribution => [0.2f32, 0.5, 0.3][(i + k) % 3],
                _ => (i as f32 - k as f32) * 0.7,
            });
            Dataset::values(features.clone(), task, values, Vec::new()).unwrap()
        };
        let sets = [
            Dataset::classes(
                features.clone(),
                vec![0, 1, 2, 0, 1, 2],
                vec!["a".into(), "b".into(), "c".into()],
            )
            .unwrap(),
            dense(Task::MultiLabel),
            dense(Task::Distribution),
            dense(Task::Regression),
        ];
        for data in &sets {
            let network = NetworkConfig::for_data(data).hidden([4]).build(3).unwrap();
            let report = gradcheck_rows(&network, data, 6, DEFAULT_STEP).unwrap();
            assert!(
                report.max_relative_error < 1e-6,
                "{:?}: {report:?}",
                data.task()
            );
        }
    }

    #[test]
    fn central_difference_of_a_quadratic_is_exact() {
        let point = array![[1.0, -2.0], [0.5, 3.0]];
        let numeric = central_difference(&point, 1e-4, |p| p.mapv(|v| v * v).sum());
        assert!(relative_error((2.0 * &point).view(), numeric.view()) < 1e-10);
    }

    /// The check must be able to fail: a gradient off by 1e-4 relative is caught.
    #[test]
    fn a_wrong_gradient_fails_the_check() {
        let point = array![[1.0, -2.0]];
        let numeric = central_difference(&point, 1e-5, |p| p.mapv(|v| v * v * v).sum());
        let wrong = point.mapv(|v| 3.0 * v * v * (1.0 + 1e-4));
        assert!(relative_error(wrong.view(), numeric.view()) > 1e-6);
        let nan = array![[f64::NAN, 12.0]];
        assert_eq!(relative_error(nan.view(), numeric.view()), f64::INFINITY);
    }
}
