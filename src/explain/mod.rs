//! `explain`: machine-checked derivations of ∂C/∂w for every output activation and loss.
//!
//! | file | holds |
//! |---|---|
//! | `question.rs` | what is asked: activation, loss, the form the loss reads, the targets |
//! | `expr/` | the expression type: evaluation, symbolic differentiation, text and LaTeX |
//! | `loss_parts.rs` | each loss's Cₓ and ∂Cₓ/∂a, from probabilities or from logits |
//! | `derivation.rs` | the steps of a derivation, built from the loss and the activation |
//! | `simplify.rs` | the last steps: what cancels, the sign |
//! | `region.rs` | where the derivation holds |
//! | `cases.rs` | where it does not: the cost and gradient in each region, PyTorch's and Keras's numbers |
//! | `reverse.rs` | Nielsen's argument backwards: the cost that would give a − y |
//! | `advice.rs` | what to do about the pairing |
//! | `check.rs` | the numerical checks of every step, the result, ∂C/∂b and the boundaries |
//! | `worked.rs` | a worked example at given numbers (`--at`) |
//! | `curves.rs` | Cₓ and ∂Cₓ/∂z against z, for the picture (`--plot`) |
//! | `claim/` | a learner's own derivative (`--check`): parsed, compared, diagnosed |
//! | `render.rs`, `latex.rs` | text, Markdown, JSON; ASCII LaTeX |

mod advice;
mod cases;
mod check;
pub mod claim;
pub mod curves;
mod derivation;
pub mod expr;
mod latex;
mod loss_parts;
mod question;
mod region;
mod render;
mod reverse;
mod simplify;
pub mod worked;

pub use crate::format::Format;
pub use check::{CheckReport, GRADIENT_TOLERANCE, STEP_TOLERANCE, check};
pub use derivation::{Derivation, Form, Side, Step, derive, derive_for};
pub use question::{Question, TargetSet};
pub use render::{check_sentence, json, title};

/// The formats `nabla explain` prints.
pub const FORMATS: [Format; 4] = [Format::Text, Format::Latex, Format::Markdown, Format::Json];

/// The random points at which `nabla explain`, the Python package and `nabla serve` check
/// each step unless told otherwise.
pub const DEFAULT_CHECK_POINTS: usize = 1000;

/// The most points a check takes (a million take about 3 s; `points=10**12` ran for hours).
pub const MAX_CHECK_POINTS: usize = 1_000_000;

/// `points` as a number of check points: 1 to [`MAX_CHECK_POINTS`].
///
/// # Errors
/// 0, or more than [`MAX_CHECK_POINTS`], naming the field `points`.
pub fn check_points(points: usize) -> crate::error::Result<usize> {
    if (1..=MAX_CHECK_POINTS).contains(&points) {
        Ok(points)
    } else {
        Err(crate::error::Error::invalid(
            "points",
            format!("{points}: a check takes from 1 to {MAX_CHECK_POINTS} points"),
        ))
    }
}

/// The seed of the points [`checked`] draws: the same points on every run, so a report is
/// reproducible.
const CHECK_SEED: u64 = 1;

/// [`check`] at `points` random points of the derivation's domain, always the same ones: what
/// `nabla explain` and the Python package's `explain` report.
pub fn checked(d: &Derivation, points: usize) -> Result<CheckReport, String> {
    check(d, points, CHECK_SEED)
}

/// Renders a derivation (with the outcome of its checks) in `format`.
pub fn render(d: &Derivation, report: &Result<CheckReport, String>, format: Format) -> String {
    match format {
        Format::Text => render::text(d, report),
        Format::Latex => latex::latex(d, report),
        Format::Markdown => render::markdown(d, report),
        Format::Json => render::json(d, report).to_string(),
        // The other formats print tables (see FORMATS); a derivation reads as text.
        Format::Jsonl | Format::Csv => render::text(d, report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::loss::LossKind;
    use expr::build::*;
    use expr::{Index, Symbol};

    /// Every activation × loss × form the loss reads × target set: the steps agree pairwise at
    /// ≥ 1000 points of the domain, the cost is nabla's loss, and the result and ∂C/∂b match
    /// finite differences of C.
    #[test]
    fn every_pairing_derivation_is_machine_checked() {
        use crate::loss::LossInput;
        let (mut checked, mut nowhere) = (0, Vec::new());
        for activation in Activation::ALL {
            for loss in LossKind::ALL {
                for from in [
                    LossInput::Logits,
                    LossInput::Probabilities,
                    LossInput::LogProbabilities,
                ] {
                    let Ok(question) = Question::new(activation, loss).from(from) else {
                        continue;
                    };
                    for targets in [TargetSet::Hard, TargetSet::Soft] {
                        let d = derive_for(&question.targets(targets));
                        let report = check(&d, 1000, 7).unwrap_or_else(|e| {
                            panic!("{activation} + {loss} from {from}, {targets:?}: {e}")
                        });
                        if d.defined_nowhere() {
                            assert!(!d.compatible);
                            nowhere.push(format!("{activation} + {loss}"));
                            continue;
                        }
                        assert_eq!(report.points, 1000);
                        assert!(report.gradient_error <= GRADIENT_TOLERANCE);
                        assert!(report.bias_error <= GRADIENT_TOLERANCE);
                        // Every step but the chain rule's first form has its own figure.
                        let figures = &report.step_differences;
                        assert_eq!(figures.len(), d.steps.len());
                        let missing = figures.iter().filter(|f| f.is_none()).count();
                        assert!(missing <= 2, "{activation} + {loss}: {figures:?}");
                        assert!(figures.iter().flatten().all(|&f| f <= STEP_TOLERANCE));
                        checked += 1;
                    }
                }
            }
        }
        nowhere.dedup();
        assert_eq!(
            nowhere,
            [
                "log-softmax + cross-entropy",
                "log-softmax + binary-cross-entropy"
            ],
            "log-probabilities read as probabilities: no logarithm of them exists"
        );
        // 9 activations × (BCE, CE: logits and probabilities; NLL; MSE) × 2 target sets, less
        // the two defined nowhere.
        assert_eq!(checked, 9 * 6 * 2 - 4);
    }

    #[test]
    fn soft_targets_of_softmax_and_sigmoid_reach_a_minus_y_too() {
        for (activation, loss) in [
            (Activation::Softmax, LossKind::CrossEntropy),
            (Activation::Sigmoid, LossKind::BinaryCrossEntropy),
        ] {
            let d = derive_for(&Question::new(activation, loss).targets(TargetSet::Soft));
            assert!(
                d.setting
                    .iter()
                    .any(|(t, _)| t.contains("distribution") || t.contains("[0, 1]"))
            );
            assert!(d.gradient().expr.text().contains("− y"));
            assert!(check(&d, 500, 3).is_ok());
        }
    }

    #[test]
    fn latex_output_is_ascii_for_every_pairing() {
        for activation in Activation::ALL {
            for loss in LossKind::ALL {
                let d = derive(activation, loss);
                let report = check(&d, 50, 1);
                let latex = render(&d, &report, Format::Latex);
                let odd: Vec<char> = latex
                    .chars()
                    .filter(|c| !c.is_ascii() || *c == '?')
                    .collect();
                assert!(odd.is_empty(), "{activation} + {loss}: {odd:?} in\n{latex}");
                let dollars = latex.matches('$').count() - latex.matches("\\$").count();
                assert_eq!(
                    dollars % 2,
                    0,
                    "{activation} + {loss}: unbalanced $ in\n{latex}"
                );
                assert!(
                    !latex.contains("$$"),
                    "{activation} + {loss}: display math in text"
                );
                let depth = latex.chars().try_fold(0i32, |depth, c| {
                    let next = depth + i32::from(c == '{') - i32::from(c == '}');
                    (next >= 0).then_some(next)
                });
                assert!(depth.is_some(), "{activation} + {loss}: unbalanced braces");
                for part in ["Result.", "Where it is undefined", "Advice."] {
                    assert!(latex.contains(part), "{activation} + {loss}: no {part}");
                }
            }
        }
    }

    #[test]
    fn a_wrong_step_fails_the_check() {
        let mut d = derive(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
        // Drop the factor xⱼ from the last step: numerically different, must be caught.
        let last = d.steps.len() - 1;
        d.steps[last].expr = mean(sub(var(Symbol::A), var(Symbol::Y)));
        assert!(
            check(&d, 100, 1)
                .unwrap_err()
                .contains("differs from the step before it")
        );
        // A wrong result that still equals its (also wrong) predecessor: finite differences catch it.
        let mut d = derive(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
        for step in d.steps.iter_mut().skip(1) {
            step.expr = mean(mul(vec![
                num(2.0),
                sub(var(Symbol::A), var(Symbol::Y)),
                at(Symbol::X, Index::J),
            ]));
        }
        assert!(
            check(&d, 100, 1)
                .unwrap_err()
                .contains("finite differences")
        );
    }

    #[test]
    fn the_learners_question_reads_as_the_textbook_answer() {
        let d = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
        assert!(!d.compatible);
        assert_eq!(d.region.as_deref(), Some("0 < z < 1"));
        assert_eq!(d.gradient().expr.text(), "(1/n) Σₓ (z − y)·xⱼ/(z·(1 − z))");
        assert!(d.what_goes_wrong.iter().any(|u| u.contains("ln a = −∞")));
        assert!(d.undefined_where[0].contains("output is dead"));
        assert!(d.reverse.as_deref().unwrap().contains("½(a − y)²"));
        assert_eq!(d.bias.text(), "(1/n) Σₓ (z − y)/(z·(1 − z))");
        assert!(
            d.steps
                .iter()
                .any(|s| s.why.contains("the leading minus sign flips"))
        );
        assert!(d.advice.contains("sigmoid"));
        let fused = derive(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
        assert_eq!(fused.gradient().expr.text(), "(1/n) Σₓ (a − y)·xⱼ");
        assert!(fused.compatible && fused.undefined_where.is_empty());
        let softmax = derive(Activation::Softmax, LossKind::CrossEntropy);
        assert_eq!(softmax.gradient().expr.text(), "(1/n) Σₓ (aᵢ − yᵢ)·xⱼ");
    }

    #[test]
    fn mse_with_sigmoid_shows_the_slowing_factor() {
        let d = derive(Activation::Sigmoid, LossKind::Mse);
        assert_eq!(d.gradient().expr.text(), "(1/n) Σₓ 2·(a − y)·a·(1 − a)·xⱼ");
        assert!(d.advice.contains("saturates"));
    }

    #[test]
    fn json_has_the_contract_fields() {
        let d = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
        let v = json(&d, &check(&d, 50, 1));
        for key in [
            "activation",
            "loss",
            "compatible",
            "steps",
            "gradient",
            "undefined_where",
            "advice",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert!(v["steps"][0]["text"].as_str().unwrap().starts_with("C = "));
        assert!(v["steps"][0]["latex"].is_string() && v["steps"][0]["why"].is_string());
        assert_eq!(v["compatible"], false);
    }
}
