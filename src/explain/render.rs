//! A derivation as text (for a terminal), Markdown and JSON. Every format carries the same
//! parts: setting, steps, result with ∂C/∂b, where it is undefined, what the frameworks compute
//! there, what goes wrong, the reverse argument, the verdict, the advice and the checks.

use std::fmt::Write;

use serde_json::{Value, json};

use super::check::CheckReport;
use super::derivation::{Derivation, Form, Side};
use crate::format::{article, wrap};

const WIDTH: usize = 100;

/// "∂C/∂wⱼ for a ReLU output with binary cross-entropy" (" from logits" when the loss reads
/// logits).
pub fn title(d: &Derivation) -> String {
    let (lhs, _) = d.side(Side::Gradient);
    let name = d.activation.display_name();
    format!(
        "{lhs} for {} {name} output with {}{}",
        article(name),
        d.loss.display_name(),
        if d.reads_logits() { " from logits" } else { "" }
    )
}

/// "Machine-checked: …" — what the checks established, in one sentence.
pub fn check_sentence(d: &Derivation, report: &Result<CheckReport, String>) -> String {
    match report {
        Ok(r) if r.points == 0 => "Not checked numerically: the cost is defined nowhere.".into(),
        Ok(r) => {
            let mut extra = String::new();
            if r.boundaries > 0 {
                let _ = write!(
                    extra,
                    "; the cost is finite just inside each of the {} boundar{} of its domain and \
                     undefined just outside",
                    r.boundaries,
                    if r.boundaries == 1 { "y" } else { "ies" }
                );
            }
            if let Some(e) = r.reverse_error {
                let _ = write!(
                    extra,
                    "; the reverse argument's cost gives ∂Cₓ/∂z = a − y (largest relative \
                     difference {e:.1e})"
                );
            }
            format!(
                "Machine-checked: each step equals the one before it at {} random points{} \
                 (largest relative difference {:.1e}), the cost equals nabla's own loss, and the \
                 result and ∂C/∂{} match central finite differences of C (relative errors \
                 {:.1e} and {:.1e}){extra}.",
                r.points,
                d.region
                    .as_deref()
                    .map(|region| format!(" with {region}"))
                    .unwrap_or_default(),
                r.max_step_difference,
                if d.form == Form::Scalar { "b" } else { "bᵢ" },
                r.gradient_error,
                r.bias_error
            )
        }
        Err(why) => format!("CHECK FAILED: {why}"),
    }
}

fn list(out: &mut String, heading: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{heading}");
    for item in items {
        let _ = writeln!(out, "  - {}", wrap(item, WIDTH, "    "));
    }
}

pub(super) fn text(d: &Derivation, report: &Result<CheckReport, String>) -> String {
    let mut out = String::new();
    let heading = title(d);
    let _ = writeln!(out, "{heading}\n{}", "═".repeat(heading.chars().count()));
    // The definitions of z and a on the first line; the targets and the loss's input each on
    // their own.
    let setting: Vec<&str> = d.setting.iter().map(|(t, _)| t.as_str()).collect();
    let (definitions, rest) = setting.split_at(setting.len().min(2));
    let units = if d.form == Form::Scalar {
        "one output unit"
    } else {
        "K output units, unit i"
    };
    let _ = writeln!(
        out,
        "{}",
        wrap(
            &format!(
                "Setting: {units}, n examples x with targets y;  {}",
                definitions.join(",  ")
            ),
            WIDTH,
            "  "
        )
    );
    for (n, line) in rest.iter().enumerate() {
        let label = if n == 0 { "Targets" } else { "Loss input" };
        let _ = writeln!(out, "{}", wrap(&format!("{label}: {line}"), WIDTH, "  "));
    }
    out.push('\n');
    for (n, step) in d.steps.iter().enumerate() {
        let (lhs, _) = d.side(step.side);
        let _ = writeln!(out, "{:>2}. {lhs} = {}", n + 1, step.expr.text());
        let _ = writeln!(out, "    ↳ {}", wrap(&step.why, WIDTH, "      "));
    }
    let (lhs, _) = d.side(Side::Gradient);
    let (bias, _) = d.side(Side::Bias);
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
    let _ = writeln!(
        out,
        "{:>width$} = {}   (z depends on b with slope 1: xⱼ becomes 1)",
        bias,
        d.bias.text(),
        width = "Result: ".len() + bias.chars().count()
    );
    let _ = writeln!(out, "\nWhere it is undefined:");
    if d.undefined_where.is_empty() {
        let _ = writeln!(out, "  nowhere: every step is defined for every z.");
    }
    for item in &d.undefined_where {
        let _ = writeln!(out, "  - {}", wrap(item, WIDTH, "    "));
    }
    list(
        &mut out,
        "What PyTorch and Keras compute there:",
        &d.frameworks,
    );
    list(&mut out, "What goes wrong:", &d.what_goes_wrong);
    if let Some(reverse) = &d.reverse {
        let _ = writeln!(out, "\n{}", wrap(reverse, WIDTH, ""));
    }
    let _ = writeln!(
        out,
        "\n{}",
        wrap(&format!("Probability model: {}", d.verdict), WIDTH, "  ")
    );
    let _ = writeln!(
        out,
        "\n{}",
        wrap(&format!("Advice: {}", d.advice), WIDTH, "  ")
    );
    let _ = writeln!(out, "\n{}", wrap(&check_sentence(d, report), WIDTH, ""));
    out
}

pub(super) fn markdown(d: &Derivation, report: &Result<CheckReport, String>) -> String {
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
    let (_, lhs) = d.side(Side::Gradient);
    let (_, bias) = d.side(Side::Bias);
    let _ = writeln!(
        out,
        "\n**Result:** $${lhs} = {}$$ $${bias} = {}$$\n",
        d.gradient().expr.latex(),
        d.bias.latex()
    );
    let items = |items: &[String]| -> String { items.iter().map(|i| format!("\n- {i}")).collect() };
    let _ = writeln!(
        out,
        "**Where it is undefined:**{}\n",
        if d.undefined_where.is_empty() {
            " nowhere.".into()
        } else {
            items(&d.undefined_where)
        }
    );
    if !d.frameworks.is_empty() {
        let _ = writeln!(
            out,
            "**What PyTorch and Keras compute there:**{}\n",
            items(&d.frameworks)
        );
    }
    if !d.what_goes_wrong.is_empty() {
        let _ = writeln!(out, "**What goes wrong:**{}\n", items(&d.what_goes_wrong));
    }
    if let Some(reverse) = &d.reverse {
        let _ = writeln!(out, "{reverse}\n");
    }
    let _ = writeln!(out, "**Probability model:** {}\n", d.verdict);
    let _ = writeln!(
        out,
        "**Advice:** {}\n\n{}",
        d.advice,
        check_sentence(d, report)
    );
    out
}

/// The JSON form: {"activation", "loss", "from", "targets", "compatible", "probability_model",
/// "setting", "steps": [{"text", "latex", "why", "check": {"against", "max_relative_difference",
/// "points"} or null}], "gradient": {"text", "latex"}, "bias",
/// "undefined_where", "frameworks", "what_goes_wrong", "reverse", "advice", "region",
/// "checked"}.
pub fn json(d: &Derivation, report: &Result<CheckReport, String>) -> Value {
    let steps: Vec<Value> = d
        .steps
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let (lhs, lhs_latex) = d.side(s.side);
            let check = match report {
                Ok(r) => r.step_differences.get(n).copied().flatten().map(|difference| {
                    json!({
                        "against": if n == 0 { "nabla's loss" } else { "the step before" },
                        "max_relative_difference": difference,
                        "points": r.points,
                    })
                }),
                Err(_) => None,
            };
            json!({"text": format!("{lhs} = {}", s.expr.text()), "latex": format!("{lhs_latex} = {}", s.expr.latex()), "why": s.why, "check": check})
        })
        .collect();
    let side = |side: Side, expr: &super::expr::Expr| {
        let (lhs, lhs_latex) = d.side(side);
        json!({"text": format!("{lhs} = {}", expr.text()), "latex": format!("{lhs_latex} = {}", expr.latex())})
    };
    let checked = match report {
        Ok(r) => json!({
            "points": r.points,
            "max_step_difference": r.max_step_difference,
            "gradient_error": r.gradient_error,
            "bias_error": r.bias_error,
            "boundaries": r.boundaries,
            "reverse_error": r.reverse_error,
        }),
        Err(why) => json!({"error": why}),
    };
    json!({
        "activation": d.activation.to_string(),
        "loss": d.loss.name(),
        "from": d.from.to_string(),
        "targets": format!("{:?}", d.targets).to_lowercase(),
        "compatible": d.compatible,
        "probability_model": d.verdict,
        "setting": d.setting.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
        "steps": steps,
        "gradient": side(Side::Gradient, &d.gradient().expr),
        "bias": side(Side::Bias, &d.bias),
        "undefined_where": d.undefined_where,
        "frameworks": d.frameworks,
        "what_goes_wrong": d.what_goes_wrong,
        "reverse": d.reverse,
        "advice": d.advice,
        "region": d.region,
        "checked": checked,
    })
}
