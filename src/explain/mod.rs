//! `explain`: machine-checked derivations of ∂C/∂w for every output activation and loss.
//!
//! | file | holds |
//! |---|---|
//! | `expr.rs` | the expression type: evaluation, symbolic differentiation, text and LaTeX |
//! | `derivation.rs` | the steps of a derivation, built from the loss and the activation |
//! | `simplify.rs` | the last steps: what cancels |
//! | `region.rs` | where the derivation holds |
//! | `advice.rs` | what to do about the pairing |
//! | `check.rs` | the numerical checks of every step and of the result |
//!
//! This module renders a derivation as text (for a terminal), LaTeX, Markdown or JSON.

mod advice;
mod check;
mod derivation;
pub mod expr;
mod region;
mod simplify;

use std::fmt::Write;

use serde_json::{Value, json};

pub use crate::format::Format;
use crate::format::wrap;
pub use check::{CheckReport, GRADIENT_TOLERANCE, STEP_TOLERANCE, check};
pub use derivation::{Derivation, Form, Side, Step, derive};

/// The formats `nabla explain` prints.
pub const FORMATS: [Format; 4] = [Format::Text, Format::Latex, Format::Markdown, Format::Json];

fn title(d: &Derivation) -> String {
    let (lhs, _) = d.side(Side::Gradient);
    format!(
        "{lhs} for a {} output with {}",
        d.activation.display_name(),
        d.loss.display_name()
    )
}

/// "checked at 1000 points …" — what the checks established, in one sentence.
pub fn check_sentence(d: &Derivation, report: &Result<CheckReport, String>) -> String {
    match report {
        Ok(r) if r.points == 0 => "Not checked numerically: the cost is defined nowhere.".into(),
        Ok(r) => format!(
            "Machine-checked: each step equals the one before it at {} random points{} (largest \
             relative difference {:.1e}), the cost equals nabla's own loss, and the result matches \
             central finite differences of C (relative error {:.1e}).",
            r.points,
            d.region
                .as_deref()
                .map(|region| format!(" with {region}"))
                .unwrap_or_default(),
            r.max_step_difference,
            r.gradient_error
        ),
        Err(why) => format!("CHECK FAILED: {why}"),
    }
}

/// Renders a derivation (with the outcome of its checks) in `format`.
pub fn render(d: &Derivation, report: &Result<CheckReport, String>, format: Format) -> String {
    match format {
        Format::Text => text(d, report),
        Format::Latex => latex(d),
        Format::Markdown => markdown(d, report),
        Format::Json => json(d, report).to_string(),
        // The other formats print tables (see FORMATS); a derivation reads as text.
        Format::Jsonl | Format::Csv => text(d, report),
    }
}

const WIDTH: usize = 100;

fn text(d: &Derivation, report: &Result<CheckReport, String>) -> String {
    let mut out = String::new();
    let heading = title(d);
    let _ = writeln!(out, "{heading}\n{}", "═".repeat(heading.chars().count()));
    let setting: Vec<&str> = d.setting.iter().map(|(t, _)| t.as_str()).collect();
    let units = if d.form == Form::Scalar {
        "one output unit"
    } else {
        "K output units, unit i"
    };
    let _ = writeln!(
        out,
        "Setting: {units}, n examples x with targets y;  {}\n",
        setting.join(",  ")
    );
    for (n, step) in d.steps.iter().enumerate() {
        let (lhs, _) = d.side(step.side);
        let _ = writeln!(out, "{:>2}. {lhs} = {}", n + 1, step.expr.text());
        let _ = writeln!(out, "    ↳ {}", wrap(&step.why, WIDTH, "      "));
    }
    let (lhs, _) = d.side(Side::Gradient);
    let region = d
        .region
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!("   (where {r})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\nResult: {lhs} = {}{region}",
        d.gradient().expr.text()
    );
    let _ = writeln!(out, "\nWhere it is undefined:");
    if d.undefined_where.is_empty() {
        let _ = writeln!(out, "  nowhere: every step is defined for every z.");
    }
    for item in &d.undefined_where {
        let _ = writeln!(out, "  - {}", wrap(item, WIDTH, "    "));
    }
    let _ = writeln!(
        out,
        "\nProbability model: {}",
        if d.compatible { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "\n{}",
        wrap(&format!("Advice: {}", d.advice), WIDTH, "  ")
    );
    let _ = writeln!(out, "\n{}", wrap(&check_sentence(d, report), WIDTH, ""));
    out
}

fn latex(d: &Derivation) -> String {
    let mut out = format!("% {}\n\\begin{{align*}}\n", title(d));
    for (n, step) in d.steps.iter().enumerate() {
        let (_, lhs) = d.side(step.side);
        let prefix = if n > 0 && d.steps[n - 1].side == step.side {
            String::new()
        } else {
            lhs.to_string()
        };
        let _ = writeln!(
            out,
            "{prefix} &= {} && \\text{{{}}} \\\\",
            step.expr.latex(),
            latex_text(&step.why)
        );
    }
    out.push_str("\\end{align*}\n");
    out
}

/// Escapes text for \text{…}.
fn latex_text(text: &str) -> String {
    text.replace('\\', "\\textbackslash{}")
        .replace('&', "\\&")
        .replace('%', "\\%")
        .replace('_', "\\_")
        .replace('#', "\\#")
}

fn markdown(d: &Derivation, report: &Result<CheckReport, String>) -> String {
    let mut out = format!("### {}\n\n", title(d));
    let setting: Vec<String> = d.setting.iter().map(|(_, l)| format!("${l}$")).collect();
    let _ = writeln!(out, "Setting: {}\n", setting.join(", "));
    for (n, step) in d.steps.iter().enumerate() {
        let (_, lhs) = d.side(step.side);
        let _ = writeln!(
            out,
            "{}. $${lhs} = {}$$  \n   {}",
            n + 1,
            step.expr.latex(),
            step.why
        );
    }
    let _ = writeln!(
        out,
        "\n**Where it is undefined:** {}\n",
        if d.undefined_where.is_empty() {
            "nowhere.".into()
        } else {
            d.undefined_where.join("; ")
        }
    );
    let _ = writeln!(
        out,
        "**Probability model:** {}\n",
        if d.compatible { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "**Advice:** {}\n\n{}",
        d.advice,
        check_sentence(d, report)
    );
    out
}

/// The JSON form: {"activation", "loss", "compatible", "steps": [{"text", "latex", "why"}],
/// "gradient": {"text", "latex"}, "undefined_where", "advice", "region", "checked"}.
pub fn json(d: &Derivation, report: &Result<CheckReport, String>) -> Value {
    let steps: Vec<Value> = d
        .steps
        .iter()
        .map(|s| {
            let (lhs, lhs_latex) = d.side(s.side);
            json!({"text": format!("{lhs} = {}", s.expr.text()), "latex": format!("{lhs_latex} = {}", s.expr.latex()), "why": s.why})
        })
        .collect();
    let (lhs, lhs_latex) = d.side(Side::Gradient);
    let gradient = d.gradient();
    let checked = match report {
        Ok(r) => {
            json!({"points": r.points, "max_step_difference": r.max_step_difference, "gradient_error": r.gradient_error})
        }
        Err(why) => json!({"error": why}),
    };
    json!({
        "activation": d.activation.to_string(),
        "loss": d.loss.name(),
        "compatible": d.compatible,
        "steps": steps,
        "gradient": {"text": format!("{lhs} = {}", gradient.expr.text()), "latex": format!("{lhs_latex} = {}", gradient.expr.latex())},
        "undefined_where": d.undefined_where,
        "advice": d.advice,
        "region": d.region,
        "checked": checked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::loss::LossKind;
    use expr::build::*;
    use expr::{Index, Symbol};

    /// Every activation × loss: the steps agree pairwise at ≥ 1000 points of the domain, the
    /// cost is nabla's loss, and the result matches finite differences of C.
    #[test]
    fn every_pairing_derivation_is_machine_checked() {
        let mut checked = 0;
        for activation in Activation::ALL {
            for loss in LossKind::ALL {
                let d = derive(activation, loss);
                let report =
                    check(&d, 1000, 7).unwrap_or_else(|e| panic!("{activation} + {loss}: {e}"));
                if d.defined_nowhere() {
                    assert!(!d.compatible);
                    continue;
                }
                assert_eq!(report.points, 1000);
                assert!(report.gradient_error <= GRADIENT_TOLERANCE);
                checked += 1;
            }
        }
        assert_eq!(checked, 34, "every pairing but log-softmax with CE and BCE");
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
        assert!(d.undefined_where.iter().any(|u| u.contains("ln a = −∞")));
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
