//! Rendering expressions as Unicode text (for a terminal) and LaTeX.

use std::fmt::Write;

use super::Expr;

// Rendering

/// Binding strength, loosest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Sum,
    Product,
    Power,
    Atom,
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

impl Expr {
    fn level(&self) -> Level {
        match self {
            Expr::Num(v) if *v < 0.0 => Level::Sum,
            Expr::Add(_) | Expr::Neg(_) => Level::Sum,
            Expr::Mul(_) | Expr::Div(..) | Expr::Sum(..) | Expr::Mean(_) => Level::Product,
            Expr::Pow(..) | Expr::Ln(_) => Level::Power,
            _ => Level::Atom,
        }
    }

    /// Whether a function argument can go without parentheses (ln a, not ln(1 − a)).
    fn is_simple(&self) -> bool {
        matches!(self, Expr::Var(_)) || matches!(self, Expr::Num(v) if *v >= 0.0)
    }

    /// Unicode text, as a terminal shows it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    fn text_at(&self, level: Level) -> String {
        if self.level() < level {
            format!("({})", self.text())
        } else {
            self.text()
        }
    }

    fn write_text(&self, out: &mut String) {
        match self {
            Expr::Num(v) => out.push_str(&number(*v).replace('-', "−")),
            Expr::Var(v) => out.push_str(&v.text()),
            Expr::Add(terms) => {
                for (n, term) in terms.iter().enumerate() {
                    match term {
                        Expr::Neg(inner) if n > 0 => {
                            let _ = write!(out, " − {}", inner.text_at(Level::Product));
                        }
                        Expr::Num(v) if n > 0 && *v < 0.0 => {
                            let _ = write!(out, " − {}", number(-v));
                        }
                        _ if n > 0 => {
                            let _ = write!(out, " + {}", term.text_at(Level::Product));
                        }
                        _ => out.push_str(&term.text()),
                    }
                }
            }
            Expr::Mul(factors) => {
                let last = factors.len().saturating_sub(1);
                let parts: Vec<String> = factors
                    .iter()
                    .enumerate()
                    // "ln a·b" would read as ln(a·b): a logarithm before other factors gets brackets.
                    .map(|(n, f)| match f {
                        Expr::Ln(_) if n < last => format!("({})", f.text()),
                        _ => f.text_at(Level::Power),
                    })
                    .collect();
                // Named partial derivatives read better with room around the dots.
                let separator = if factors.iter().any(|f| matches!(f, Expr::Partial(_))) {
                    " · "
                } else {
                    "·"
                };
                out.push_str(&parts.join(separator));
            }
            Expr::Neg(u) => {
                let _ = write!(out, "−{}", u.text_at(Level::Product));
            }
            Expr::Div(u, v) => {
                let _ = write!(
                    out,
                    "{}/{}",
                    u.text_at(Level::Product),
                    v.text_at(Level::Atom)
                );
            }
            Expr::Pow(u, n) => {
                let _ = write!(out, "{}{}", u.text_at(Level::Atom), superscript(*n));
            }
            Expr::Ln(u) => {
                if u.is_simple() {
                    let _ = write!(out, "ln {}", u.text());
                } else {
                    let _ = write!(out, "ln({})", u.text());
                }
            }
            Expr::Exp(u) => {
                if u.is_simple() {
                    let _ = write!(out, "e^{}", u.text());
                } else {
                    let _ = write!(out, "e^({})", u.text());
                }
            }
            Expr::Act(a, u) => {
                let _ = write!(out, "{}({})", a.symbol().0, u.text());
            }
            Expr::Slope(a, u) => {
                let _ = write!(out, "{}′({})", a.symbol().0, u.text());
            }
            Expr::Step(u) => {
                let _ = write!(out, "[{} > 0]", u.text());
            }
            Expr::NormalCdf(u) => {
                let _ = write!(out, "Φ({})", u.text());
            }
            Expr::NormalPdf(u) => {
                let _ = write!(out, "φ({})", u.text());
            }
            Expr::Delta(p, q) => {
                let _ = write!(out, "δ{}{}", p.subscript(), q.subscript());
            }
            Expr::Sum(i, body) => {
                let inner = if body.level() <= Level::Sum {
                    format!("[{}]", body.text())
                } else {
                    body.text()
                };
                let _ = write!(out, "Σ{} {inner}", i.subscript());
            }
            Expr::Mean(body) => {
                let inner = if body.level() <= Level::Sum {
                    format!("[{}]", body.text())
                } else {
                    body.text()
                };
                let _ = write!(out, "(1/n) Σₓ {inner}");
            }
            Expr::Partial(p) => out.push_str(&p.text),
        }
    }

    /// LaTeX math (without surrounding dollars).
    pub fn latex(&self) -> String {
        match self {
            Expr::Num(v) => number(*v),
            Expr::Var(v) => v.latex(),
            Expr::Add(terms) => {
                let mut out = String::new();
                for (n, term) in terms.iter().enumerate() {
                    match term {
                        Expr::Neg(inner) if n > 0 => {
                            let _ = write!(out, " - {}", inner.latex_at(Level::Product));
                        }
                        Expr::Num(v) if n > 0 && *v < 0.0 => {
                            let _ = write!(out, " - {}", number(-v));
                        }
                        _ if n > 0 => {
                            let _ = write!(out, " + {}", term.latex_at(Level::Product));
                        }
                        _ => out.push_str(&term.latex()),
                    }
                }
                out
            }
            Expr::Mul(factors) => factors
                .iter()
                .map(|f| f.latex_at(Level::Power))
                .collect::<Vec<_>>()
                .join(" \\cdot "),
            Expr::Neg(u) => format!("-{}", u.latex_at(Level::Product)),
            Expr::Div(u, v) => format!("\\frac{{{}}}{{{}}}", u.latex(), v.latex()),
            Expr::Pow(u, n) => format!("{}^{{{n}}}", u.latex_at(Level::Atom)),
            Expr::Ln(u) => {
                if u.is_simple() {
                    format!("\\ln {}", u.latex())
                } else {
                    format!("\\ln\\left({}\\right)", u.latex())
                }
            }
            Expr::Exp(u) => format!("e^{{{}}}", u.latex()),
            Expr::Act(a, u) => format!("{}({})", a.symbol().1, u.latex()),
            Expr::Slope(a, u) => format!("{}'({})", a.symbol().1, u.latex()),
            Expr::Step(u) => format!("[{} > 0]", u.latex()),
            Expr::NormalCdf(u) => format!("\\Phi({})", u.latex()),
            Expr::NormalPdf(u) => format!("\\varphi({})", u.latex()),
            Expr::Delta(p, q) => format!("\\delta_{{{}{}}}", p.letter(), q.letter()),
            Expr::Sum(i, body) => {
                let inner = if body.level() <= Level::Sum {
                    format!("\\left[{}\\right]", body.latex())
                } else {
                    body.latex()
                };
                format!("\\sum_{{{}}} {inner}", i.letter())
            }
            Expr::Mean(body) => {
                let inner = if body.level() <= Level::Sum {
                    format!("\\left[{}\\right]", body.latex())
                } else {
                    body.latex()
                };
                format!("\\frac{{1}}{{n}} \\sum_{{x}} {inner}")
            }
            Expr::Partial(p) => p.latex.clone(),
        }
    }

    fn latex_at(&self, level: Level) -> String {
        if self.level() < level {
            format!("\\left({}\\right)", self.latex())
        } else {
            self.latex()
        }
    }
}
