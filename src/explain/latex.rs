//! A derivation as LaTeX (amsmath), in ASCII only: pdflatex reads it without inputenc tricks.
//! Prose keeps its formulas: each Unicode symbol becomes its math-mode command, runs of symbols
//! share one `$…$`, and sub- and superscript letters (ⱼ, ⁻¹²) are grouped into `_{…}`, `^{…}`.

use std::fmt::Write;

use super::check::CheckReport;
use super::derivation::{Derivation, Side};
use super::render::{check_sentence, title};

/// How one character is written: in text mode, in math mode, or as a sub/superscript.
enum Piece {
    Text(&'static str),
    Math(&'static str),
    Sub(&'static str),
    Sup(&'static str),
}

fn piece(c: char) -> Option<Piece> {
    use Piece::*;
    Some(match c {
        '∂' => Math("\\partial "),
        'Σ' => Math("\\Sigma "),
        'σ' => Math("\\sigma "),
        'δ' => Math("\\delta "),
        'φ' => Math("\\varphi "),
        'Φ' => Math("\\Phi "),
        'α' => Math("\\alpha "),
        'ε' => Math("\\varepsilon "),
        'ℓ' => Math("\\ell "),
        'ℝ' => Math("\\mathbf{R}"),
        '·' => Math("\\cdot "),
        '×' => Math("\\times "),
        '≤' => Math("\\le "),
        '≥' => Math("\\ge "),
        '≠' => Math("\\ne "),
        '≈' => Math("\\approx "),
        '±' => Math("\\pm "),
        '√' => Math("\\surd "),
        '⋯' => Math("\\cdots "),
        '∞' => Math("\\infty "),
        '∈' => Math("\\in "),
        '∉' => Math("\\notin "),
        '⊆' => Math("\\subseteq "),
        '→' => Math("\\to "),
        '↳' => Math("\\hookrightarrow "),
        '½' => Math("\\frac{1}{2}"),
        '¼' => Math("\\frac{1}{4}"),
        '<' => Math("<"),
        '>' => Math(">"),
        '|' => Math("|"),
        '′' => Math("'"),
        'ⱼ' => Sub("j"),
        'ᵢ' => Sub("i"),
        'ₖ' => Sub("k"),
        'ₘ' => Sub("m"),
        'ₓ' => Sub("x"),
        'ₚ' => Sub("p"),
        'ₗ' => Sub("l"),
        'ₙ' => Sub("n"),
        '₀' => Sub("0"),
        '₁' => Sub("1"),
        '₂' => Sub("2"),
        '⁰' => Sup("0"),
        '¹' => Sup("1"),
        '²' => Sup("2"),
        '³' => Sup("3"),
        '⁴' => Sup("4"),
        '⁵' => Sup("5"),
        '⁶' => Sup("6"),
        '⁷' => Sup("7"),
        '⁸' => Sup("8"),
        '⁹' => Sup("9"),
        '⁻' => Sup("-"),
        'ᶻ' => Sup("z"),
        'ⁿ' => Sup("n"),
        '−' => Text("-"),
        '–' => Text("--"),
        '—' => Text("---"),
        '…' => Text("\\ldots{}"),
        '‘' | '’' => Text("'"),
        '“' => Text("``"),
        '”' => Text("''"),
        '\\' => Text("\\textbackslash{}"),
        '&' => Text("\\&"),
        '%' => Text("\\%"),
        '_' => Text("\\_"),
        '#' => Text("\\#"),
        '$' => Text("\\$"),
        '{' => Text("\\{"),
        '}' => Text("\\}"),
        '~' => Text("\\textasciitilde{}"),
        '^' => Text("\\textasciicircum{}"),
        _ => return None,
    })
}

/// Prose with formulas, as ASCII LaTeX text. A character without a LaTeX form is written as
/// `?` (the tests keep the list complete for every derivation nabla prints).
pub(super) fn latex_text(text: &str) -> String {
    let mut out = String::new();
    let mut math = String::new();
    // The open group of a run of sub- or superscripts: ('_' or '^', its letters).
    let mut script: Option<(char, String)> = None;
    let flush_script = |math: &mut String, script: &mut Option<(char, String)>| {
        if let Some((mark, letters)) = script.take() {
            let _ = write!(math, "{mark}{{{letters}}}");
        }
    };
    // A group right after another one joins it: `$a$$b$` would open display math.
    let flush_math = |out: &mut String, math: &mut String| {
        if !math.is_empty() {
            if out.ends_with('$') && !out.ends_with("\\$") {
                out.pop();
                let _ = write!(out, " {}$", math.trim_end());
            } else {
                let _ = write!(out, "${}$", math.trim_end());
            }
            math.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii() && piece(c).is_none() {
            flush_script(&mut math, &mut script);
            flush_math(&mut out, &mut math);
            out.push(c);
            continue;
        }
        match piece(c) {
            Some(Piece::Math(m)) => {
                flush_script(&mut math, &mut script);
                math.push_str(m);
            }
            Some(Piece::Sub(s)) | Some(Piece::Sup(s)) => {
                let mark = if matches!(piece(c), Some(Piece::Sub(_))) {
                    '_'
                } else {
                    '^'
                };
                match &mut script {
                    Some((open, letters)) if *open == mark => letters.push_str(s),
                    _ => {
                        flush_script(&mut math, &mut script);
                        // A script needs a base: the letter just written in text mode moves
                        // into the math group.
                        if math.is_empty() {
                            let digits: String = {
                                let tail: Vec<char> = out
                                    .chars()
                                    .rev()
                                    .take_while(|c| c.is_ascii_digit())
                                    .collect();
                                tail.into_iter().rev().collect()
                            };
                            match out.chars().last() {
                                Some(_) if !digits.is_empty() => {
                                    out.truncate(out.len() - digits.len());
                                    math.push_str(&digits);
                                }
                                Some(base) if base.is_ascii_alphabetic() || base == ')' => {
                                    out.pop();
                                    math.push(base);
                                }
                                _ => math.push_str("{}"),
                            }
                        }
                        script = Some((mark, s.to_string()));
                    }
                }
            }
            Some(Piece::Text(t)) => {
                flush_script(&mut math, &mut script);
                flush_math(&mut out, &mut math);
                out.push_str(t);
            }
            None => {
                flush_script(&mut math, &mut script);
                flush_math(&mut out, &mut math);
                out.push('?');
            }
        }
    }
    flush_script(&mut math, &mut script);
    flush_math(&mut out, &mut math);
    out
}

fn itemize(out: &mut String, heading: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\\paragraph{{{heading}}}\n\\begin{{itemize}}");
    for item in items {
        let _ = writeln!(out, "  \\item {}", latex_text(item));
    }
    out.push_str("\\end{itemize}\n");
}

/// The whole derivation: steps, result and ∂C/∂b, the undefined set, what the frameworks
/// compute, what goes wrong, the reverse argument, the verdict, the advice and the checks.
pub(super) fn latex(d: &Derivation, report: &Result<CheckReport, String>) -> String {
    let mut out = format!(
        "% {}\n% Needs \\usepackage{{amsmath}}.\n\\paragraph{{{}}}\n",
        latex_text(&title(d)),
        latex_text(&title(d))
    );
    let setting: Vec<String> = d.setting.iter().map(|(_, l)| format!("${l}$")).collect();
    let _ = writeln!(
        out,
        "Setting: {}, $n$ examples $x$ with targets $y$; {}.",
        if d.form == super::derivation::Form::Scalar {
            "one output unit"
        } else {
            "$K$ output units, unit $i$"
        },
        setting.join(", ")
    );
    out.push_str("\\begin{align*}\n");
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
    let (_, lhs) = d.side(Side::Gradient);
    let (_, bias) = d.side(Side::Bias);
    let region = d
        .region
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!(" (where {})", latex_text(r)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\\paragraph{{Result.}}{region}\n\\[ {lhs} = {} \\qquad {bias} = {} \\]",
        d.gradient().expr.latex(),
        d.bias.latex()
    );
    if d.undefined_where.is_empty() {
        out.push_str("\\paragraph{Where it is undefined:} nowhere.\n");
    } else {
        itemize(&mut out, "Where it is undefined:", &d.undefined_where);
    }
    itemize(
        &mut out,
        "What PyTorch and Keras compute there:",
        &d.frameworks,
    );
    itemize(&mut out, "What goes wrong:", &d.what_goes_wrong);
    if let Some(reverse) = &d.reverse {
        let _ = writeln!(out, "\\paragraph{{Run backwards.}} {}", latex_text(reverse));
    }
    let _ = writeln!(
        out,
        "\\paragraph{{Probability model:}} {}",
        latex_text(&d.verdict)
    );
    let _ = writeln!(out, "\\paragraph{{Advice.}} {}", latex_text(&d.advice));
    let _ = writeln!(out, "\n{}", latex_text(&check_sentence(d, report)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_formulas_become_ascii_math() {
        assert_eq!(
            latex_text("∂C/∂wⱼ = a − y"),
            "$\\partial$C/$\\partial w_{j}$ = a - y"
        );
        assert_eq!(latex_text("at 10⁻¹²"), "at $10^{-12}$");
        assert_eq!(latex_text("50% & a_b {}"), "50\\% \\& a\\_b \\{\\}");
        assert_eq!(
            latex_text("σ′(z) ≤ ¼"),
            "$\\sigma '$(z) $\\le$ $\\frac{1}{4}$"
        );
        assert_eq!(latex_text("☃"), "?");
    }
}
