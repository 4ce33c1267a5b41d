//! Cₓ and ∂Cₓ/∂z against z, for y = 0 and y = 1: the data of `nabla explain --plot`. The chosen
//! output is shown beside the sound one (sigmoid + binary cross-entropy, fused), and the
//! stretches of z where a curve is undefined are collected so the picture can shade them.
//!
//! One unit is followed: the scalar output itself, or for K units unit 0 of two whose other
//! logit is held at 0 (y = 1: unit 0 is the true class; y = 0: it is a wrong one).
//! Element-wise outputs under a cross-entropy on probabilities are evaluated as mathematics
//! (undefined is NaN, 0·ln 0 = 0 for a hard label); every other head through nabla's own loss
//! and activation, which define them everywhere.

use ndarray::{Array2, array};

use super::cases;
use super::question::Question;
use crate::activation::Activation;
use crate::loss::{LossConfig, LossInput, LossKind, Targets};

/// z from −4 to 4.
pub const Z_RANGE: (f64, f64) = (-4.0, 4.0);
const STEPS: usize = 800;

/// One curve: its label and points (z, value), NaN where undefined.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// "y = 0" or "y = 1".
    pub label: String,
    /// The target.
    pub y: f64,
    /// (z, value) for z across [`Z_RANGE`].
    pub points: Vec<(f64, f64)>,
}

/// One panel: a quantity of one head.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePanel {
    /// "Cₓ, ReLU + binary cross-entropy".
    pub title: String,
    /// Whether the panel shows the cost (else ∂Cₓ/∂z).
    pub cost: bool,
    /// The curves for y = 0 and y = 1.
    pub curves: Vec<Curve>,
    /// Stretches [z₀, z₁] where a curve is undefined (NaN or infinite), with which target.
    pub undefined: Vec<(f64, f64, String)>,
}

/// The four panels: the chosen head's Cₓ and ∂Cₓ/∂z, then the sound head's.
#[derive(Clone, Debug, PartialEq)]
pub struct CostCurves {
    /// Chosen Cₓ, chosen ∂Cₓ/∂z, sound Cₓ, sound ∂Cₓ/∂z.
    pub panels: Vec<CurvePanel>,
}

/// (Cₓ, ∂Cₓ/∂z) of unit 0 at logit `z` with target `y`.
fn values(question: &Question, z: f64, y: f64) -> (f64, f64) {
    let (activation, loss) = (question.activation, question.loss);
    let element_wise_probabilities = !activation.is_row_wise()
        && question.from == LossInput::Probabilities
        && matches!(loss, LossKind::BinaryCrossEntropy | LossKind::CrossEntropy);
    if element_wise_probabilities {
        let a = activation.value(z).unwrap_or(f64::NAN);
        let slope = activation.slope(z, a).unwrap_or(f64::NAN);
        let c = cases::cost(loss, a, y);
        let d_a = cases::slope_of_cost(loss, a, y);
        let d_z = if c.is_nan() { f64::NAN } else { d_a * slope };
        return (c, d_z);
    }
    // Through the engine: a = σ(row), the loss and its gradient, back through σ.
    let scalar =
        !activation.is_row_wise() && matches!(loss, LossKind::BinaryCrossEntropy | LossKind::Mse);
    let (row, target): (Array2<f64>, Array2<f64>) = if scalar {
        (array![[z]], array![[y]])
    } else {
        (array![[z, 0.0]], array![[y, 1.0 - y]])
    };
    let mut a = Array2::zeros(row.raw_dim());
    activation.forward(row.view(), a.view_mut());
    let config = LossConfig::new(loss, question.from);
    let mut gradient = Array2::zeros(row.raw_dim());
    let Ok(value) = config.evaluate(
        a.view(),
        &Targets::Dense(target.view()),
        Some(gradient.view_mut()),
    ) else {
        return (f64::NAN, f64::NAN);
    };
    activation.backward_in_place(row.view(), a.view(), gradient.view_mut());
    (value.total(), gradient[[0, 0]])
}

fn panel(question: &Question, title: String, cost: bool) -> CurvePanel {
    let (low, high) = Z_RANGE;
    let mut curves = Vec::new();
    let mut undefined = Vec::new();
    for y in [0.0, 1.0] {
        let label = format!("y = {y}");
        let points: Vec<(f64, f64)> = (0..=STEPS)
            .map(|n| {
                let z = low + (high - low) * n as f64 / STEPS as f64;
                let (c, d) = values(question, z, y);
                (z, if cost { c } else { d })
            })
            .collect();
        // Stretches of non-finite values.
        let mut start: Option<f64> = None;
        for (n, &(z, v)) in points.iter().enumerate() {
            match (v.is_finite(), start) {
                (false, None) => start = Some(z),
                (true, Some(s)) => {
                    undefined.push((s, points[n - 1].0, label.clone()));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            undefined.push((s, high, label.clone()));
        }
        curves.push(Curve { label, y, points });
    }
    CurvePanel {
        title,
        cost,
        curves,
        undefined,
    }
}

/// The picture's data for `question` (sigmoid + binary cross-entropy beside it).
pub fn cost_curves(question: &Question) -> CostCurves {
    let sound = Question::new(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
    let name = |q: &Question| {
        format!(
            "{} + {}{}",
            q.activation.display_name(),
            q.loss.display_name(),
            if q.reads_logits() { " from logits" } else { "" }
        )
    };
    let (chosen, fused) = (name(question), name(&sound));
    CostCurves {
        panels: vec![
            panel(question, format!("Cₓ: {chosen}"), true),
            panel(question, format!("∂Cₓ/∂z: {chosen}"), false),
            panel(&sound, format!("Cₓ: {fused} (sound)"), true),
            panel(&sound, format!("∂Cₓ/∂z: {fused} (sound)"), false),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_curves_are_undefined_where_the_cases_say() {
        let curves = cost_curves(&Question::new(
            Activation::Relu,
            LossKind::BinaryCrossEntropy,
        ));
        let cost = &curves.panels[0];
        // y = 1: undefined for z ≤ 0; y = 0: from z = 1 on.
        assert!(
            cost.undefined
                .iter()
                .any(|(a, b, l)| l == "y = 1" && *a == -4.0 && b.abs() < 0.02),
            "{:?}",
            cost.undefined
        );
        assert!(
            cost.undefined
                .iter()
                .any(|(a, b, l)| l == "y = 0" && (a - 1.0).abs() < 0.02 && *b == 4.0),
            "{:?}",
            cost.undefined
        );
        // The gradient for y = 0 at z < 0 is 0 (dead), defined.
        let gradient = &curves.panels[1];
        let dead = gradient.curves[0]
            .points
            .iter()
            .find(|(z, _)| (*z + 2.0).abs() < 1e-9)
            .unwrap();
        assert_eq!(dead.1, 0.0);
        // The sound head is defined everywhere, with ∂Cₓ/∂z = σ(z) − y.
        for sound in &curves.panels[2..] {
            assert!(sound.undefined.is_empty(), "{}", sound.title);
        }
        let (z, g) = curves.panels[3].curves[1].points[400];
        assert!((g - (crate::activation::sigmoid(z) - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn row_wise_heads_go_through_the_engine() {
        let curves = cost_curves(&Question::new(Activation::Softmax, LossKind::CrossEntropy));
        assert!(curves.panels[0].undefined.is_empty());
        // Two units with the other logit at 0: the same curve as sigmoid + BCE.
        let (softmax, sigmoid) = (&curves.panels[0].curves[1], &curves.panels[2].curves[1]);
        for (a, b) in softmax.points.iter().zip(&sigmoid.points) {
            assert!((a.1 - b.1).abs() < 1e-9);
        }
    }
}
