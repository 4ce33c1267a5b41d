//! The last steps of a derivation: what cancels once σ′ and ∂Cₓ/∂a are in closed form.

use super::derivation::{Side, Step, averaged, one_minus, scaled, slope_closed};
use super::expr::build::*;
use super::expr::{Expr, Index, Symbol};
use super::loss_parts::softmax_of;
use super::question::Question;
use crate::activation::Activation;
use crate::loss::LossKind;

pub(super) fn scalar_simplifications(question: &Question, closed: &Expr, steps: &mut Vec<Step>) {
    let (activation, loss) = (question.activation, question.loss);
    let (a, y, z, x_j) = (
        var(Symbol::A),
        var(Symbol::Y),
        var(Symbol::Z),
        at(Symbol::X, Index::J),
    );
    let gradient = |expr: Expr, why: &str| Step {
        side: Side::Gradient,
        expr: averaged(expr),
        why: why.into(),
    };
    let over_z = || {
        div(
            mul(vec![sub(z.clone(), y.clone()), x_j.clone()]),
            mul(vec![z.clone(), one_minus(z.clone())]),
        )
    };
    if question.reads_logits() {
        // BCE from a logit: (σ(a) − y)·σ_out′(z)·xⱼ; an identity output makes a = z.
        if activation == Activation::Identity {
            steps.push(gradient(
                mul(vec![
                    sub(act(Activation::Sigmoid, z.clone()), y.clone()),
                    x_j.clone(),
                ]),
                "a = z and the slope is 1: the loss's own sigmoid of the logit, minus the target",
            ));
        }
        return;
    }
    match loss {
        LossKind::BinaryCrossEntropy => {
            steps.push(gradient(
                neg(div(
                    mul(vec![sub(y.clone(), a.clone()), closed.clone(), x_j.clone()]),
                    mul(vec![a.clone(), one_minus(a.clone())]),
                )),
                "over a common denominator: y/a − (1 − y)/(1 − a) = (y − a)/(a(1 − a))",
            ));
            steps.push(gradient(
                div(
                    mul(vec![sub(a.clone(), y.clone()), closed.clone(), x_j.clone()]),
                    mul(vec![a.clone(), one_minus(a.clone())]),
                ),
                "the leading minus sign flips the numerator: −(y − a) = a − y",
            ));
            match activation {
                Activation::Sigmoid => steps.push(gradient(
                    mul(vec![sub(a, y), x_j]),
                    "σ′(z) = a(1 − a) cancels the denominator: nothing is left to divide by",
                )),
                Activation::Identity => steps.push(gradient(over_z(), "a = z and the slope is 1")),
                Activation::Relu | Activation::LeakyRelu { .. } => steps.push(gradient(
                    over_z(),
                    "where both logarithms are defined, 0 < z < 1, the unit is linear: a = z and the slope is 1",
                )),
                Activation::Tanh => steps.push(gradient(
                    div(mul(vec![sub(a.clone(), y), add(vec![num(1.0), a.clone()]), x_j]), a),
                    "1 − a² = (1 − a)(1 + a) cancels (1 − a), but the division by a remains",
                )),
                _ => {}
            }
        }
        LossKind::Mse if activation == Activation::Identity => {
            steps.push(gradient(mul(vec![num(2.0), sub(z, y), x_j]), "a = z"));
        }
        _ => {}
    }
}

pub(super) fn indexed_simplifications(
    question: &Question,
    g_k: &Expr,
    g_i: &Expr,
    steps: &mut Vec<Step>,
) {
    let (activation, loss) = (question.activation, question.loss);
    let logits = question.reads_logits();
    let (a_i, y_i, z_i, x_j) = (
        at(Symbol::A, Index::I),
        at(Symbol::Y, Index::I),
        at(Symbol::Z, Index::I),
        at(Symbol::X, Index::J),
    );
    let (a_k, y_k) = (at(Symbol::A, Index::K), at(Symbol::Y, Index::K));
    let gradient = |expr: Expr, why: &str| Step {
        side: Side::Gradient,
        expr: averaged(expr),
        why: why.into(),
    };
    match activation {
        Activation::Softmax => {
            steps.push(gradient(
                mul(vec![
                    a_i.clone(),
                    sub(
                        g_i.clone(),
                        sum(Index::K, mul(vec![g_k.clone(), a_k.clone()])),
                    ),
                    x_j.clone(),
                ]),
                "δₖᵢ keeps only k = i: Σₖ gₖ aₖ(δₖᵢ − aᵢ) = aᵢ(gᵢ − Σₖ gₖ aₖ)",
            ));
            if loss == LossKind::CrossEntropy && !logits {
                steps.push(gradient(
                    mul(vec![
                        sub(mul(vec![a_i.clone(), sum(Index::K, y_k)]), y_i.clone()),
                        x_j.clone(),
                    ]),
                    "the aₖ cancel: gₖ aₖ = −yₖ, and aᵢ gᵢ = −yᵢ",
                ));
                steps.push(gradient(
                    mul(vec![sub(a_i, y_i), x_j]),
                    "the targets form a distribution, Σₖ yₖ = 1: the gradient is a − y, with nothing to divide by",
                ));
            }
        }
        Activation::LogSoftmax => {
            steps.push(gradient(
                mul(vec![
                    sub(
                        g_i.clone(),
                        mul(vec![exp(a_i.clone()), sum(Index::K, g_k.clone())]),
                    ),
                    x_j.clone(),
                ]),
                "δₖᵢ keeps only k = i: Σₖ gₖ(δₖᵢ − e^aᵢ) = gᵢ − e^aᵢ Σₖ gₖ",
            ));
            if loss == LossKind::Nll && !logits {
                steps.push(gradient(
                    mul(vec![
                        sub(mul(vec![exp(a_i.clone()), sum(Index::K, y_k)]), y_i.clone()),
                        x_j.clone(),
                    ]),
                    "gₖ = −yₖ",
                ));
                steps.push(gradient(
                    mul(vec![sub(exp(a_i), y_i), x_j]),
                    "Σₖ yₖ = 1, and e^aᵢ = softmax(z)ᵢ: again predicted probability minus target",
                ));
            }
        }
        element_wise => {
            let (closed, _) = slope_closed(element_wise, &z_i, &a_i);
            steps.push(gradient(
                scaled(vec![g_i.clone(), closed.clone(), x_j.clone()]),
                "δₖᵢ keeps only the term k = i of the sum",
            ));
            if logits {
                let p_i = softmax_of(a_i.clone());
                steps.push(gradient(
                    scaled(vec![sub(p_i, y_i.clone()), closed, x_j.clone()]),
                    "the targets form a distribution, Σₚ yₚ = 1",
                ));
                if element_wise == Activation::Identity {
                    let softmax_z = div(
                        exp(z_i.clone()),
                        sum(Index::M, exp(at(Symbol::Z, Index::M))),
                    );
                    steps.push(gradient(
                        mul(vec![sub(softmax_z, y_i), x_j]),
                        "a = z and the slope is 1: the loss's own softmax of the logits, minus \
                         the target — the a − y of a softmax output",
                    ));
                }
                return;
            }
            match (element_wise, loss) {
                (Activation::Sigmoid, LossKind::CrossEntropy) => steps.push(gradient(
                    mul(vec![neg(y_i), one_minus(a_i), x_j]),
                    "aᵢ cancels; but for a wrong class (yᵢ = 0) the gradient is 0: nothing pushes it down",
                )),
                (Activation::Relu | Activation::LeakyRelu { .. } | Activation::Identity, LossKind::CrossEntropy) => {
                    steps.push(gradient(
                        neg(div(mul(vec![y_i, x_j]), z_i)),
                        "where every aₖ > 0 (so zₖ > 0) the unit is linear, aᵢ = zᵢ with slope 1; the division by zᵢ remains",
                    ))
                }
                _ => {}
            }
        }
    }
}
