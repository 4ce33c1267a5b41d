//! Machine checks of a derivation: every consecutive pair of gradient steps is numerically
//! equal at random points where the cost is defined, the cost equals nabla's own loss, and the
//! final gradient equals central finite differences of the cost.

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::derivation::{Derivation, Form, Side};
use super::expr::{Example, Point};
use super::question::TargetSet;
use crate::activation::Activation;
use crate::loss::{LossKind, Reduction, Targets};

/// What the checks found.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// Random points at which every step was evaluated.
    pub points: usize,
    /// Largest relative difference between consecutive gradient steps.
    pub max_step_difference: f64,
    /// Per step of the derivation: the largest relative difference from what it was checked
    /// against over the points (the cost: nabla's loss; a later gradient step: the step before
    /// it); `None` for a step with nothing before it to agree with (the chain rule's first form,
    /// which the later steps and the finite differences check).
    pub step_differences: Vec<Option<f64>>,
    /// Largest relative difference between the cost expression and nabla's loss.
    pub max_cost_difference: f64,
    /// Largest relative error of the final gradient against finite differences.
    pub gradient_error: f64,
    /// Largest relative error of ∂C/∂b against finite differences.
    pub bias_error: f64,
    /// Boundaries of the cost's domain at which the cost was found finite on one side and
    /// undefined on the other.
    pub boundaries: usize,
    /// Largest relative difference of the reverse argument's (∂C/∂a)·σ′(z) from a − y.
    pub reverse_error: Option<f64>,
}

/// Relative difference with a floor, so values near 0 are compared absolutely.
pub(super) fn relative(a: f64, b: f64, floor: f64) -> f64 {
    let d = (a - b).abs() / a.abs().max(b.abs()).max(floor);
    if d.is_nan() { f64::INFINITY } else { d }
}

/// Consecutive steps must agree to this relative difference.
pub const STEP_TOLERANCE: f64 = 1e-9;
/// The final gradient must agree with finite differences to this relative error.
pub const GRADIENT_TOLERANCE: f64 = 1e-6;

/// z = W·x + b and a = σ(z) for one example.
pub(super) fn forward(
    activation: Activation,
    w: &Array2<f64>,
    b: &[f64],
    x: &[f64],
    y: Vec<f64>,
) -> Example {
    let z: Vec<f64> = (0..w.nrows())
        .map(|k| (0..w.ncols()).map(|j| w[[k, j]] * x[j]).sum::<f64>() + b[k])
        .collect();
    let row = Array2::from_shape_vec((1, z.len()), z.clone()).expect("one row");
    let mut a = Array2::zeros(row.raw_dim());
    activation.forward(row.view(), a.view_mut());
    Example {
        x: x.to_vec(),
        y,
        z,
        a: a.row(0).to_vec(),
    }
}

/// Whether the cost is defined at this example, away from kinks where σ′ jumps.
fn inside(derivation: &Derivation, example: &Example) -> bool {
    let kink = matches!(
        derivation.activation,
        Activation::Relu | Activation::LeakyRelu { .. }
    );
    if kink && example.z.iter().any(|z| z.abs() < 1e-4) {
        return false;
    }
    let margin = 1e-6;
    if derivation.reads_logits() {
        return example.a.iter().all(|a| a.is_finite());
    }
    example.a.iter().all(|&a| match derivation.loss {
        LossKind::BinaryCrossEntropy => a > margin && a < 1.0 - margin,
        LossKind::CrossEntropy => a > margin,
        LossKind::Nll | LossKind::Mse => a.is_finite(),
    })
}

/// Random targets from the derivation's target set: one-hot or {0, 1} values (hard); a
/// distribution or values in [0, 1] (soft); any values (MSE).
fn targets(loss: LossKind, set: TargetSet, outputs: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let hard = set == TargetSet::Hard;
    match loss {
        LossKind::CrossEntropy | LossKind::Nll => {
            if hard {
                let hot = rng.random_range(0..outputs);
                (0..outputs)
                    .map(|k| f64::from(u8::from(k == hot)))
                    .collect()
            } else {
                let raw: Vec<f64> = (0..outputs).map(|_| rng.random_range(0.01..1.0)).collect();
                let total: f64 = raw.iter().sum();
                raw.iter().map(|v| v / total).collect()
            }
        }
        LossKind::BinaryCrossEntropy => (0..outputs)
            .map(|_| {
                if hard {
                    f64::from(u8::from(rng.random_bool(0.5)))
                } else {
                    rng.random_range(0.0..1.0)
                }
            })
            .collect(),
        LossKind::Mse => (0..outputs).map(|_| rng.random_range(-1.0..1.0)).collect(),
    }
}

/// A random point with `examples` examples, all inside the cost's domain (None if the draw
/// fell outside).
pub(super) fn sample(
    derivation: &Derivation,
    examples: usize,
    rng: &mut ChaCha8Rng,
) -> Option<Point> {
    let outputs = if derivation.form == Form::Scalar {
        1
    } else {
        3
    };
    let inputs = 3;
    let w = Array2::from_shape_simple_fn((outputs, inputs), || rng.random_range(-1.5..1.5));
    let b: Vec<f64> = (0..outputs).map(|_| rng.random_range(-1.5..1.5)).collect();
    let mut rows = Vec::with_capacity(examples);
    for _ in 0..examples {
        let x: Vec<f64> = (0..inputs).map(|_| rng.random_range(-1.0..1.0)).collect();
        let y = targets(derivation.loss, derivation.targets, outputs, rng);
        let example = forward(derivation.activation, &w, &b, &x, y);
        if !inside(derivation, &example) {
            return None;
        }
        rows.push(example);
    }
    Some(Point {
        w,
        b,
        examples: rows,
        i: outputs - 1,
        j: 1,
    })
}

/// nabla's own loss (sum over outputs, mean over examples) at the point's activations; `None`
/// where the engine refuses the values (log-probabilities above 0, probabilities above 1).
fn engine_cost(derivation: &Derivation, point: &Point) -> Option<f64> {
    let outputs = point.w.nrows();
    let a = Array2::from_shape_fn((point.examples.len(), outputs), |(e, k)| {
        point.examples[e].a[k]
    });
    let y = Array2::from_shape_fn((point.examples.len(), outputs), |(e, k)| {
        point.examples[e].y[k]
    });
    let mut config = derivation.loss_config();
    config.reduction = Reduction::BatchMean;
    config
        .evaluate(ArrayView2::from(&a), &Targets::Dense(y.view()), None)
        .ok()
        .map(|v| v.total())
}

/// Runs the checks at `points` random points (seeded). A derivation whose cost is defined
/// nowhere has nothing to check and reports 0 points.
///
/// # Errors
/// The first step that disagrees with its predecessor, a cost that differs from nabla's loss,
/// a gradient that differs from finite differences, or a domain where no point could be found.
pub fn check(derivation: &Derivation, points: usize, seed: u64) -> Result<CheckReport, String> {
    let mut report = CheckReport {
        points: 0,
        max_step_difference: 0.0,
        step_differences: vec![None; derivation.steps.len()],
        max_cost_difference: 0.0,
        gradient_error: 0.0,
        bias_error: 0.0,
        boundaries: 0,
        reverse_error: None,
    };
    if derivation.defined_nowhere() {
        return Ok(report);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gradient_steps: Vec<usize> = (0..derivation.steps.len())
        .filter(|&s| derivation.steps[s].side == Side::Gradient)
        .collect();
    let mut attempts = 0;
    while report.points < points {
        attempts += 1;
        if attempts > 400 * points.max(1) {
            return Err(format!(
                "found only {} points where the cost is defined",
                report.points
            ));
        }
        let Some(point) = sample(derivation, 1, &mut rng) else {
            continue;
        };
        let values: Vec<f64> = gradient_steps
            .iter()
            .map(|&s| derivation.steps[s].expr.eval(&point))
            .collect();
        for (n, pair) in values.windows(2).enumerate() {
            let d = relative(pair[0], pair[1], 1e-6);
            if d > STEP_TOLERANCE {
                let step = gradient_steps[n + 1];
                return Err(format!(
                    "step {} ({}) differs from the step before it: {} vs {} (relative {d:.2e})",
                    step + 1,
                    derivation.steps[step].expr.text(),
                    pair[1],
                    pair[0]
                ));
            }
            report.max_step_difference = report.max_step_difference.max(d);
            let step = &mut report.step_differences[gradient_steps[n + 1]];
            *step = Some(step.unwrap_or(0.0).max(d));
        }
        let cost = derivation.steps[0].expr.eval(&point);
        if let Some(engine) = engine_cost(derivation, &point) {
            let d = relative(cost, engine, 1e-6);
            if d > STEP_TOLERANCE {
                return Err(format!(
                    "the cost {} = {cost} differs from nabla's loss {engine} (relative {d:.2e})",
                    derivation.steps[0].expr.text()
                ));
            }
            report.max_cost_difference = report.max_cost_difference.max(d);
            let step = &mut report.step_differences[0];
            *step = Some(step.unwrap_or(0.0).max(d));
        }
        report.points += 1;
    }

    // The result against central differences of C over a few examples at a time.
    let h = 1e-6;
    let mut checked = 0;
    while checked < 20 {
        attempts += 1;
        if attempts > 400 * (points + 20) {
            return Err("found no batch of examples where the cost is defined".into());
        }
        let Some(point) = sample(derivation, 4, &mut rng) else {
            continue;
        };
        // C with w_ij (bias: false) or b_i (bias: true) moved by delta.
        let cost_at = |delta: f64, bias: bool| -> Option<f64> {
            let mut w = point.w.clone();
            let mut b = point.b.clone();
            if bias {
                b[point.i] += delta;
            } else {
                w[[point.i, point.j]] += delta;
            }
            let examples: Vec<Example> = point
                .examples
                .iter()
                .map(|e| forward(derivation.activation, &w, &b, &e.x, e.y.clone()))
                .collect();
            examples.iter().all(|e| inside(derivation, e)).then(|| {
                derivation.steps[0].expr.eval(&Point {
                    w,
                    b,
                    examples,
                    ..point.clone()
                })
            })
        };
        let (Some(up), Some(down), Some(b_up), Some(b_down)) = (
            cost_at(h, false),
            cost_at(-h, false),
            cost_at(h, true),
            cost_at(-h, true),
        ) else {
            continue;
        };
        for (what, analytic, numeric) in [
            (
                derivation.gradient().expr.text(),
                derivation.gradient().expr.eval(&point),
                (up - down) / (2.0 * h),
            ),
            (
                format!("∂C/∂b = {}", derivation.bias.text()),
                derivation.bias.eval(&point),
                (b_up - b_down) / (2.0 * h),
            ),
        ] {
            let error = relative(analytic, numeric, 1e-3);
            if error > GRADIENT_TOLERANCE {
                return Err(format!(
                    "the result {what} = {analytic} but finite differences of C give {numeric} (relative error {error:.2e})"
                ));
            }
        }
        report.gradient_error = report.gradient_error.max(relative(
            derivation.gradient().expr.eval(&point),
            (up - down) / (2.0 * h),
            1e-3,
        ));
        report.bias_error = report.bias_error.max(relative(
            derivation.bias.eval(&point),
            (b_up - b_down) / (2.0 * h),
            1e-3,
        ));
        checked += 1;
    }
    report.boundaries = super::cases::check_boundaries(derivation)?;
    if let Some(reverse) =
        super::reverse::reverse(derivation.activation, derivation.loss, derivation.from)
            .filter(|_| !derivation.compatible)
    {
        report.reverse_error = Some(super::reverse::check_reverse(
            &reverse,
            derivation.activation,
            points.clamp(1, 200),
        )?);
    }
    Ok(report)
}
