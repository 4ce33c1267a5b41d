//! Where a cross-entropy is undefined for an element-wise output, precisely: each region of z
//! whose outputs lie outside the loss's domain (a ≤ 0, a ≥ 1), for each kind of target, with
//! what the cost and ∂Cₓ/∂z are there, and what PyTorch and Keras compute instead.
//!
//! Nothing here is written by hand: each region is found by scanning z, and each sentence is
//! read off the values of Cₓ and ∂Cₓ/∂z = ∂Cₓ/∂a · σ′(z) evaluated at the region's boundary and
//! inside it, with the convention of hard labels that a term whose weight is 0 vanishes
//! (0·ln 0 = 0). PyTorch's numbers come from nabla's own loss, which follows PyTorch's BCELoss
//! (ln clamped at −100, denominators floored at 10⁻¹²); Keras's from nabla's clipped head,
//! which clips as Keras does (see `head/clipped.rs`).

use ndarray::{Array2, array};

use super::derivation::Form;
use super::question::{Question, TargetSet};
use super::region::{clean, number};
use crate::activation::Activation;
use crate::head::{Head, UNSAFE_EPSILON};
use crate::loss::{LossConfig, LossInput, LossKind, Targets};

/// The undefined set in words, and what the frameworks compute there.
pub(super) struct Found {
    pub cases: Vec<String>,
    pub frameworks: Vec<String>,
}

/// One side of the domain: where a ≤ 0 or where a ≥ 1.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Low,
    High,
}

/// A region of z outside the domain: its boundary and the direction away from the domain.
struct Region {
    /// z at the boundary (a = 0 or a = 1), the last z of the region.
    boundary: f64,
    /// −1 when the region lies below the boundary, +1 above.
    outward: f64,
    /// Whether a is constant across the region (ReLU's a = 0).
    constant: bool,
}

const SCAN: (f64, f64, f64) = (-12.0, 12.0, 1e-3);

/// The regions of z where `outside(σ(z))` holds, found by scanning and bisecting.
fn regions(activation: Activation, side: Side) -> Vec<Region> {
    let value = |z: f64| activation.value(z).unwrap_or(f64::NAN);
    let outside = |z: f64| match side {
        Side::Low => value(z) <= 0.0,
        Side::High => value(z) >= 1.0,
    };
    let (low, high, step) = SCAN;
    let count = ((high - low) / step) as usize;
    let mut found = Vec::new();
    for n in 0..count {
        let (z0, z1) = (low + step * n as f64, low + step * (n + 1) as f64);
        if outside(z0) == outside(z1) {
            continue;
        }
        // Bisect to the last z inside the region.
        let (mut inside, mut other) = if outside(z0) { (z0, z1) } else { (z1, z0) };
        for _ in 0..80 {
            let m = 0.5 * (inside + other);
            if outside(m) { inside = m } else { other = m }
        }
        let outward = if outside(z0) { -1.0 } else { 1.0 };
        let boundary = inside;
        let deep = boundary + 3.0 * outward;
        found.push(Region {
            boundary,
            outward,
            constant: value(deep) == value(boundary + 0.5 * outward),
        });
    }
    found
}

/// −[y ln a + (1 − y) ln(1 − a)] (BCE) or −y ln a (one unit of CE), dropping terms of weight 0.
pub(super) fn cost(loss: LossKind, a: f64, y: f64) -> f64 {
    let term = |weight: f64, p: f64| {
        if weight == 0.0 {
            0.0
        } else if p < 0.0 {
            f64::NAN
        } else {
            -weight * p.ln()
        }
    };
    match loss {
        LossKind::BinaryCrossEntropy => term(y, a) + term(1.0 - y, 1.0 - a),
        _ => term(y, a),
    }
}

/// ∂Cₓ/∂a, dropping terms of weight 0.
pub(super) fn slope_of_cost(loss: LossKind, a: f64, y: f64) -> f64 {
    let first = if y == 0.0 { 0.0 } else { -y / a };
    let second = if loss != LossKind::BinaryCrossEntropy || y == 1.0 {
        0.0
    } else {
        (1.0 - y) / (1.0 - a)
    };
    first + second
}

/// How Cₓ reads at a point: "= 0", "= +∞", "finite", "undefined (…)".
fn describe_cost(c: f64) -> &'static str {
    if c.is_nan() {
        "undefined (the logarithm of a negative number)"
    } else if c == f64::INFINITY {
        "= +∞"
    } else if c == 0.0 {
        "= 0"
    } else {
        "finite"
    }
}

/// How ∂Cₓ/∂z = ∂Cₓ/∂a · σ′(z) reads at a point where the cost is `c`.
fn describe_gradient(c: f64, d_a: f64, slope: f64) -> String {
    let g = d_a * slope;
    if c.is_nan() {
        "undefined".to_string()
    } else if g.is_nan() && d_a.is_infinite() && slope == 0.0 {
        format!(
            "= {}·0: undefined (NaN in floating point)",
            if d_a > 0.0 { "∞" } else { "(−∞)" }
        )
    } else if g.is_nan() {
        "undefined".to_string()
    } else if g.is_infinite() {
        format!(
            "= {}∞ (a division by zero)",
            if g > 0.0 { "+" } else { "−" }
        )
    } else if g == 0.0 {
        "= 0".to_string()
    } else {
        "finite".to_string()
    }
}

/// "Cₓ = +∞ at z = 0 and undefined (…) beyond", or "Cₓ = 0" when both read the same.
fn at_and_beyond(name: &str, boundary: &str, at: String, beyond: String) -> String {
    if at == beyond {
        format!("{name} {at}")
    } else {
        format!("{name} {at} at z = {boundary} and {beyond} beyond")
    }
}

/// The targets a case is stated for: (text, value of y).
fn targets(loss: LossKind, set: TargetSet) -> Vec<(&'static str, f64)> {
    match (loss, set) {
        (LossKind::BinaryCrossEntropy, TargetSet::Hard) => vec![("y = 0", 0.0), ("y = 1", 1.0)],
        (LossKind::BinaryCrossEntropy, TargetSet::Soft) => vec![("0 < y < 1", 0.5)],
        (_, TargetSet::Hard) => vec![
            ("a wrong class, yₖ = 0", 0.0),
            ("the true class, yₖ = 1", 1.0),
        ],
        (_, TargetSet::Soft) => vec![("0 < yₖ < 1", 0.5)],
    }
}

/// The undefined set of an element-wise `question` with binary or categorical cross-entropy on
/// probabilities (other questions have none and get empty lists).
pub(super) fn undefined_cases(question: &Question, form: Form) -> Found {
    let (activation, loss) = (question.activation, question.loss);
    let mut found = Found {
        cases: Vec::new(),
        frameworks: Vec::new(),
    };
    let applies = !activation.is_row_wise()
        && question.from == LossInput::Probabilities
        && matches!(loss, LossKind::BinaryCrossEntropy | LossKind::CrossEntropy);
    if !applies {
        return found;
    }
    let sides: &[Side] = if loss == LossKind::BinaryCrossEntropy {
        &[Side::Low, Side::High]
    } else {
        &[Side::Low]
    };
    let (z, a) = if form == Form::Scalar {
        ("z", "a")
    } else {
        ("zₖ", "aₖ")
    };
    let symbol = activation.symbol().0;
    let value = |z: f64| activation.value(z).unwrap_or(f64::NAN);
    let slope = |z: f64| activation.slope(z, value(z)).unwrap_or(f64::NAN);
    for &side in sides {
        for region in regions(activation, side) {
            let inequality = if region.outward < 0.0 { "≤" } else { "≥" };
            let bound = super::region::round(region.boundary);
            let a_text = match (side, region.constant) {
                (Side::Low, true) => format!("{a} = 0"),
                (Side::Low, false) => format!("{a} ≤ 0"),
                (Side::High, _) => format!("{a} ≥ 1"),
            };
            let deep = region.boundary + region.outward;
            let dead = slope(deep) == 0.0 && slope(region.boundary + 3.0 * region.outward) == 0.0;
            for (target, y) in targets(loss, question.targets) {
                let (cost_at, cost_deep) = (
                    cost(loss, value(region.boundary), y),
                    cost(loss, value(deep), y),
                );
                let (c_at, c_deep) = (describe_cost(cost_at), describe_cost(cost_deep));
                let g_at = describe_gradient(
                    cost_at,
                    slope_of_cost(loss, value(region.boundary), y),
                    slope(region.boundary),
                );
                let g_deep =
                    describe_gradient(cost_deep, slope_of_cost(loss, value(deep), y), slope(deep));
                let cost_text = at_and_beyond("Cₓ", &bound, c_at.to_string(), c_deep.to_string());
                let gradient_text = at_and_beyond(&format!("∂Cₓ/∂{z}"), &bound, g_at, g_deep);
                let mut sentence = format!(
                    "{z} {inequality} {bound} ({a_text}), {target}: {cost_text}; {gradient_text}"
                );
                let defined = !cost_text.contains('∞') && !cost_text.contains("undefined");
                if defined && dead {
                    sentence.push_str(&format!(
                        ": the cost is defined, and the output is dead: {symbol}′({z}) = 0 there, \
                         so no gradient can ever switch it on again"
                    ));
                } else if defined {
                    sentence.push_str(": defined, though the output is no probability there");
                }
                found.cases.push(sentence);
            }
        }
    }
    found.frameworks = frameworks(activation, loss, form);
    found
}

/// What PyTorch and Keras compute at the worst point: a = 0 for a true target (y = 1), taken
/// inside the low region (z one unit past its boundary).
fn frameworks(activation: Activation, loss: LossKind, form: Form) -> Vec<String> {
    let Some(region) = regions(activation, Side::Low).into_iter().next() else {
        return Vec::new();
    };
    let z = clean(region.boundary) + region.outward;
    let a = activation.value(z).unwrap_or(f64::NAN);
    let slope = activation.slope(z, a).unwrap_or(f64::NAN);
    let outputs = if form == Form::Scalar { 1 } else { 2 };
    let zs: Array2<f64> = if outputs == 1 {
        array![[z]]
    } else {
        array![[z, 1.0]]
    };
    let y: Array2<f64> = if outputs == 1 {
        array![[1.0]]
    } else {
        array![[1.0, 0.0]]
    };
    let config = LossConfig::new(loss, LossInput::Probabilities);
    let mut lines = Vec::new();
    let symbol = activation.symbol().0;
    let passes = |d_z: f64| {
        if d_z == 0.0 {
            format!(
                "its {symbol} backward passes 0 where z ≤ 0, so the example silently teaches \
                 nothing"
            )
        } else if d_z.is_infinite() {
            "one update makes the weights infinite, then NaN".to_string()
        } else {
            "a huge finite step instead of an undefined one".to_string()
        }
    };
    let at = format!("z = {}, a = {}, y = 1", number(z), number(a));
    // PyTorch: BCELoss on a = σ(z) (nabla's loss on probabilities follows it), then back
    // through σ′, whose backward passes 0 where σ′ = 0 whatever comes in.
    if loss == LossKind::BinaryCrossEntropy {
        let activations = zs.mapv(|v| activation.value(v).unwrap_or(f64::NAN));
        let mut d_a = Array2::zeros(activations.raw_dim());
        if let Ok(value) = config.evaluate(
            activations.view(),
            &Targets::Dense(y.view()),
            Some(d_a.view_mut()),
        ) {
            let d_z = if slope == 0.0 {
                0.0
            } else {
                d_a[[0, 0]] * slope
            };
            lines.push(format!(
                "PyTorch (BCELoss) clamps ln at −100 and floors the denominator at 10⁻¹²: at {at} \
                 it returns Cₓ = {} and ∂Cₓ/∂a = {}, so ∂Cₓ/∂z = {}: {}",
                number(value.total()),
                format!("{:e}", d_a[[0, 0]]).replace('-', "−"),
                number(d_z),
                passes(d_z)
            ));
        }
    } else {
        // No categorical cross-entropy on probabilities: NLLLoss of torch.log(a).
        let loss_at = -a.ln();
        let d_z = if slope == 0.0 { 0.0 } else { -slope / a };
        lines.push(format!(
            "PyTorch has no cross-entropy on probabilities; NLLLoss of torch.log(a) at {at} \
             gives Cₓ = −ln 0 = {}, and ∂Cₓ/∂z = {}: {}",
            number(loss_at).replace("inf", "+∞"),
            number(d_z).replace("inf", "∞"),
            passes(d_z)
        ));
    }
    // Keras: normalise (categorical), clip to [ε, 1 − ε], the raw formula; gradient 0 where clipped.
    if let Ok(head) = Head::new_unsafe(activation, config.clone(), outputs) {
        let mut scratch = Array2::zeros(zs.raw_dim());
        let mut delta = Array2::zeros(zs.raw_dim());
        if let Ok(value) = head.evaluate(
            zs.view(),
            &Targets::Dense(y.view()),
            scratch.view_mut(),
            Some(delta.view_mut()),
        ) {
            lines.push(format!(
                "Keras clips a to [{UNSAFE_EPSILON:e}, 1 − {UNSAFE_EPSILON:e}] (as nabla \
                 --allow-unsafe does): at {at} it returns Cₓ = {:.4} and ∂Cₓ/∂z = {}: the \
                 clip passes no gradient, so the example teaches nothing",
                value.total(),
                number(delta[[0, 0]])
            ));
        }
    }
    lines
}

/// Checks the domain's boundaries: at each boundary z₀ of an element-wise derivation's region,
/// the cost C (the derivation's own first step, soft targets) is finite just inside and
/// undefined or infinite just outside. Returns how many boundaries were checked.
///
/// # Errors
/// A boundary where the cost does not change from defined to undefined.
pub(super) fn check_boundaries(
    derivation: &super::derivation::Derivation,
) -> Result<usize, String> {
    let question = derivation.question();
    if derivation.region.as_deref().is_none_or(str::is_empty)
        || question.activation.is_row_wise()
        || question.reads_logits()
    {
        return Ok(0);
    }
    let outputs = if derivation.form == Form::Scalar {
        1
    } else {
        3
    };
    let y = match question.loss {
        LossKind::BinaryCrossEntropy => vec![0.5; outputs],
        _ => vec![1.0 / outputs as f64; outputs],
    };
    let cost_at = |z: f64| {
        let w = Array2::from_elem((outputs, 1), z);
        let example = super::check::forward(
            question.activation,
            &w,
            &vec![0.0; outputs],
            &[1.0],
            y.clone(),
        );
        derivation.steps[0].expr.eval(&super::expr::Point {
            w,
            b: vec![0.0; outputs],
            examples: vec![example],
            i: 0,
            j: 0,
        })
    };
    let mut checked = 0;
    let sides: &[Side] = if question.loss == LossKind::BinaryCrossEntropy {
        &[Side::Low, Side::High]
    } else {
        &[Side::Low]
    };
    for &side in sides {
        for region in regions(question.activation, side) {
            let epsilon = 1e-6;
            let inside = cost_at(region.boundary - epsilon * region.outward);
            let outside = cost_at(region.boundary + epsilon * region.outward);
            if !inside.is_finite() || outside.is_finite() {
                return Err(format!(
                    "at the boundary z = {} the cost is {inside} inside and {outside} outside; \
                     expected finite, then undefined",
                    clean(region.boundary)
                ));
            }
            checked += 1;
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases(activation: Activation, targets: TargetSet) -> Vec<String> {
        let question = Question::new(activation, LossKind::BinaryCrossEntropy)
            .from(LossInput::Probabilities)
            .unwrap()
            .targets(targets);
        undefined_cases(&question, Form::Scalar).cases
    }

    #[test]
    fn relu_with_hard_labels_is_dead_below_zero_and_undefined_for_a_true_label() {
        let found = cases(Activation::Relu, TargetSet::Hard);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0].starts_with("z ≤ 0 (a = 0), y = 0: Cₓ = 0; ∂Cₓ/∂z = 0"),
            "{}",
            found[0]
        );
        assert!(found[0].contains("output is dead"), "{}", found[0]);
        assert!(
            found[1].starts_with("z ≤ 0 (a = 0), y = 1: Cₓ = +∞; ∂Cₓ/∂z = (−∞)·0: undefined"),
            "{}",
            found[1]
        );
        assert!(found[2].starts_with("z ≥ 1 (a ≥ 1), y = 0: Cₓ = +∞ at z = 1 and undefined (the logarithm of a negative number) beyond; ∂Cₓ/∂z = +∞ (a division by zero) at z = 1 and undefined beyond"), "{}", found[2]);
        assert!(
            found[3].starts_with("z ≥ 1 (a ≥ 1), y = 1: Cₓ = 0 at z = 1 and finite beyond"),
            "{}",
            found[3]
        );
    }

    #[test]
    fn soft_targets_make_both_sides_undefined() {
        let found = cases(Activation::Relu, TargetSet::Soft);
        assert_eq!(found.len(), 2);
        assert!(
            found
                .iter()
                .all(|c| c.contains("0 < y < 1") && c.contains("∞")),
            "{found:#?}"
        );
    }

    #[test]
    fn identity_outputs_go_negative_where_the_logarithm_is_undefined() {
        let found = cases(Activation::Identity, TargetSet::Hard);
        assert!(found[1].contains("(a ≤ 0), y = 1: Cₓ = +∞ at z = 0 and undefined (the logarithm of a negative number) beyond"), "{found:#?}");
        // tanh never reaches 1: only the low side.
        assert_eq!(cases(Activation::Tanh, TargetSet::Hard).len(), 2);
    }

    #[test]
    fn frameworks_numbers_come_from_the_engines() {
        let found = undefined_cases(
            &Question::new(Activation::Relu, LossKind::BinaryCrossEntropy),
            Form::Scalar,
        );
        assert!(
            found.frameworks[0].contains("Cₓ = 100 and ∂Cₓ/∂a = −1e12, so ∂Cₓ/∂z = 0"),
            "{:?}",
            found.frameworks
        );
        assert!(
            found.frameworks[1].contains("Cₓ = 16.1181 and ∂Cₓ/∂z = 0"),
            "{:?}",
            found.frameworks
        );
    }
}
