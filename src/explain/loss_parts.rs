//! Each loss as a derivation sees it: the cost Cₓ of one example in terms of the outputs a, and
//! its derivative ∂Cₓ/∂aₖ in closed form, with the reason.
//!
//! ```text
//! from probabilities   BCE  Cₓ = −[y ln a + (1 − y) ln(1 − a)]      ∂Cₓ/∂a = −(y/a − (1 − y)/(1 − a))
//!                      CE   Cₓ = −Σₖ yₖ ln aₖ                        ∂Cₓ/∂aₖ = −yₖ/aₖ
//! from log-probs       NLL  Cₓ = −Σₖ yₖ aₖ                           ∂Cₓ/∂aₖ = −yₖ
//! values               MSE  Cₓ = (a − y)²                            ∂Cₓ/∂a = 2(a − y)
//! from logits          BCE  Cₓ = −[y ln σ(a) + (1 − y) ln(1 − σ(a))] ∂Cₓ/∂a = σ(a) − y
//!                      CE   Cₓ = −Σₚ yₚ(aₚ − ln Σₘ e^aₘ)             ∂Cₓ/∂aₖ = (Σₚ yₚ)·e^aₖ/Σₘ e^aₘ − yₖ
//! ```
//! From logits the loss applies sigmoid or softmax itself, in log space: the outputs a are the
//! logits it reads.

use super::derivation::{Form, Symbols, one_minus, symbols};
use super::expr::build::*;
use super::expr::{Expr, Index, Symbol};
use super::question::Question;
use crate::activation::Activation;
use crate::loss::LossKind;

/// softmax(a)ₖ = e^aₖ/Σₘ e^aₘ for the unit of `a_k`.
pub(super) fn softmax_of(a_k: Expr) -> Expr {
    div(exp(a_k), sum(Index::M, exp(at(Symbol::A, Index::M))))
}

/// (Cₓ, ∂Cₓ/∂aₖ, why) for the question's loss in its form.
pub(super) fn loss_parts(question: &Question, form: Form) -> (Expr, Expr, &'static str) {
    let Symbols { a_k: a, y_k: y, .. } = symbols(form);
    let summed = |e: Expr| {
        if form == Form::Indexed {
            sum(Index::K, e)
        } else {
            e
        }
    };
    if question.reads_logits() {
        return match question.loss {
            LossKind::BinaryCrossEntropy => {
                let p = act(Activation::Sigmoid, a.clone());
                (
                    neg(summed(add(vec![
                        mul(vec![y.clone(), ln(p.clone())]),
                        mul(vec![one_minus(y.clone()), ln(one_minus(p.clone()))]),
                    ]))),
                    sub(p, y),
                    "the loss applies σ itself: ∂/∂a [y ln σ(a) + (1 − y) ln(1 − σ(a))] = \
                     y − σ(a), since σ′ = σ(1 − σ) cancels both denominators",
                )
            }
            _ => {
                let y_p = at(Symbol::Y, Index::P);
                let log_softmax = sub(
                    at(Symbol::A, Index::P),
                    ln(sum(Index::M, exp(at(Symbol::A, Index::M)))),
                );
                (
                    neg(sum(Index::P, mul(vec![y_p.clone(), log_softmax]))),
                    sub(mul(vec![sum(Index::P, y_p), softmax_of(a)]), y),
                    "the loss applies log-softmax itself: ∂/∂aₖ [Σₚ yₚ(aₚ − ln Σₘ e^aₘ)] = \
                     yₖ − (Σₚ yₚ)·e^aₖ/Σₘ e^aₘ",
                )
            }
        };
    }
    match question.loss {
        LossKind::BinaryCrossEntropy => (
            neg(summed(add(vec![
                mul(vec![y.clone(), ln(a.clone())]),
                mul(vec![one_minus(y.clone()), ln(one_minus(a.clone()))]),
            ]))),
            neg(sub(
                div(y.clone(), a.clone()),
                div(one_minus(y), one_minus(a)),
            )),
            "∂/∂a [y ln a + (1 − y) ln(1 − a)] = y/a − (1 − y)/(1 − a)",
        ),
        LossKind::CrossEntropy => (
            neg(summed(mul(vec![y.clone(), ln(a.clone())]))),
            neg(div(y, a)),
            "only the k-th term of the sum depends on aₖ, and ∂/∂aₖ (yₖ ln aₖ) = yₖ/aₖ",
        ),
        LossKind::Nll => (
            neg(summed(mul(vec![y.clone(), a]))),
            neg(y),
            "the loss is linear in the log-probabilities: ∂/∂aₖ (yₖ aₖ) = yₖ",
        ),
        LossKind::Mse => (
            summed(pow(sub(a.clone(), y.clone()), 2)),
            mul(vec![num(2.0), sub(a, y)]),
            "∂/∂a (a − y)² = 2(a − y)",
        ),
    }
}
