//! Nielsen's argument run backwards (Neural Networks and Deep Learning, ch. 3): asking for
//! ∂Cₓ/∂z = a − y forces ∂Cₓ/∂a = (a − y)/σ′(z), and integrating that over a gives the one cost
//! that suits σ. For a sigmoid it is the binary cross-entropy; for an output with slope 1 it is
//! the squared error, so a cross-entropy keeps its 1/(a(1 − a)).
//!
//! Each cost stated here is checked in [`check_reverse`]: (∂C/∂a)·σ′(z) = a − y at random points.

use super::expr::build::*;
use super::expr::{Example, Expr, Point, Symbol, Var};
use crate::activation::Activation;
use crate::loss::{LossInput, LossKind};

/// The cost that gives ∂Cₓ/∂z = a − y for an activation, and what it is called.
pub(super) struct Reverse {
    /// Cₓ in terms of a and y.
    pub cost: Expr,
    /// The paragraph.
    pub text: String,
}

/// The reverse argument for an element-wise `activation` refused under `loss` (probabilities);
/// `None` where it does not apply (row-wise outputs, logits, MSE and NLL).
pub(super) fn reverse(activation: Activation, loss: LossKind, from: LossInput) -> Option<Reverse> {
    if activation.is_row_wise()
        || from != LossInput::Probabilities
        || !matches!(loss, LossKind::BinaryCrossEntropy | LossKind::CrossEntropy)
    {
        return None;
    }
    let (a, y) = (var(Symbol::A), var(Symbol::Y));
    let name = activation.display_name();
    let symbol = activation.symbol().0;
    let opening = format!(
        "Run backwards (Nielsen, ch. 3): for ∂Cₓ/∂z = a − y, the chain rule needs ∂Cₓ/∂a = \
         (a − y)/{symbol}′(z). A sigmoid has σ′(z) = a(1 − a), and integrating \
         (a − y)/(a(1 − a)) over a gives −[y ln a + (1 − y) ln(1 − a)]: the cross-entropy is the \
         cost that makes a sigmoid learn in proportion to its error."
    );
    let (cost, rest) = match activation {
        Activation::Relu | Activation::LeakyRelu { .. } | Activation::Identity => (
            mul(vec![num(0.5), pow(sub(a.clone(), y.clone()), 2)]),
            format!(
                " A{} {name} output has slope 1{}, so the cost would need \
                 ∂Cₓ/∂a = a − y, that is Cₓ = ½(a − y)²: the squared error, not a \
                 cross-entropy. Nothing in {symbol}′ cancels the 1/(a(1 − a)) of \
                 cross-entropy, which is why {}.",
                if activation == Activation::Identity {
                    "n"
                } else {
                    ""
                },
                if activation == Activation::Identity {
                    ""
                } else {
                    " for z > 0"
                },
                if loss == LossKind::BinaryCrossEntropy {
                    "∂C/∂w = (z − y)·x/(z(1 − z)) blows up at z = 0 and z = 1"
                } else {
                    "∂C/∂wᵢⱼ = −yᵢ·xⱼ/zᵢ blows up at zᵢ = 0"
                }
            ),
        ),
        Activation::Tanh => (
            neg(add(vec![
                mul(vec![
                    div(add(vec![num(1.0), y.clone()]), num(2.0)),
                    ln(add(vec![num(1.0), a.clone()])),
                ]),
                mul(vec![
                    div(sub(num(1.0), y.clone()), num(2.0)),
                    ln(sub(num(1.0), a.clone())),
                ]),
            ])),
            " A tanh output has tanh′(z) = 1 − a², and integrating (a − y)/(1 − a²) gives \
             −[(1 + y)/2·ln(1 + a) + (1 − y)/2·ln(1 − a)]: the binary cross-entropy of \
             (1 + a)/2 against (1 + y)/2, a cross-entropy over [−1, 1] with targets in [−1, 1], \
             not the one over [0, 1] used here."
                .to_string(),
        ),
        _ => return None,
    };
    Some(Reverse {
        cost,
        text: format!("{opening}{rest}"),
    })
}

/// The paragraph of [`reverse`], for a derivation.
pub(super) fn reverse_argument(
    activation: Activation,
    loss: LossKind,
    from: LossInput,
) -> Option<String> {
    reverse(activation, loss, from).map(|r| r.text)
}

/// Checks that the stated cost gives ∂Cₓ/∂z = a − y: (∂C/∂a)·σ′(z) at `points` points where
/// σ′(z) ≠ 0 and the cost is defined. Returns the largest relative difference.
///
/// # Errors
/// A point where the two differ by more than 1e-9.
pub(super) fn check_reverse(
    reverse: &Reverse,
    activation: Activation,
    points: usize,
) -> Result<f64, String> {
    let derivative = reverse.cost.diff(&Var::plain(Symbol::A));
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    let mut n = 0u64;
    while checked < points {
        n += 1;
        if n > 100 * points as u64 + 100 {
            return Err("found no point to check the reverse argument at".into());
        }
        // A deterministic spread of z in (−0.95, 2.5) and y in [0, 1].
        let z = -0.95 + 3.45 * ((n as f64 * 0.618_034).fract());
        let y = (n as f64 * 0.414_213_5).fract();
        let a = activation.value(z).unwrap_or(f64::NAN);
        let slope = activation.slope(z, a).unwrap_or(f64::NAN);
        let leaky_side = matches!(activation, Activation::LeakyRelu { .. }) && z <= 0.0;
        if slope == 0.0 || leaky_side || !(a > -1.0 && a < 1.0) || a == 0.0 {
            continue;
        }
        let point = Point {
            w: ndarray::Array2::zeros((1, 1)),
            b: vec![0.0],
            examples: vec![Example {
                x: vec![1.0],
                y: vec![y],
                z: vec![z],
                a: vec![a],
            }],
            i: 0,
            j: 0,
        };
        let got = derivative.eval(&point) * slope;
        let want = a - y;
        let difference = (got - want).abs() / want.abs().max(1e-6);
        if difference.is_nan() || difference > 1e-9 {
            return Err(format!(
                "the reverse cost gives ∂Cₓ/∂z = {got} at z = {z}, y = {y}, not a − y = {want}"
            ));
        }
        worst = worst.max(difference);
        checked += 1;
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reverse_costs_give_a_minus_y() {
        for activation in [
            Activation::Relu,
            Activation::Identity,
            Activation::LeakyRelu { slope: 0.01 },
            Activation::Tanh,
        ] {
            let r = reverse(
                activation,
                LossKind::BinaryCrossEntropy,
                LossInput::Probabilities,
            )
            .unwrap();
            assert!(check_reverse(&r, activation, 200).is_ok(), "{activation}");
        }
        let relu = reverse(
            Activation::Relu,
            LossKind::CrossEntropy,
            LossInput::Probabilities,
        )
        .unwrap();
        assert!(relu.text.contains("½(a − y)²: the squared error"));
        assert!(
            reverse(
                Activation::Softmax,
                LossKind::CrossEntropy,
                LossInput::Probabilities
            )
            .is_none()
        );
    }

    #[test]
    fn a_wrong_reverse_cost_is_caught() {
        let wrong = Reverse {
            cost: pow(sub(var(Symbol::A), var(Symbol::Y)), 2),
            text: String::new(),
        };
        assert!(check_reverse(&wrong, Activation::Relu, 50).is_err());
    }
}
