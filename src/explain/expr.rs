//! A small expression language for derivations: evaluation, symbolic differentiation and
//! rendering to Unicode text and LaTeX.
//!
//! Expressions are built over the symbols of a dense output layer (z, a, y, x, w, b) with index
//! subscripts (i, j, k, …), sums over output units (Σₖ), the mean over examples ((1/n) Σₓ),
//! element-wise activations σ(u) and their slopes σ′(u), and partial-derivative nodes that
//! render as ∂Cₓ/∂a but evaluate by differentiating their expression symbolically.

use std::fmt::Write;

use ndarray::Array2;

use crate::activation::Activation;

/// An index subscript. i, k, m, p range over output units; j, l over input features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// The output unit whose weight is differentiated.
    I,
    /// The input feature whose weight is differentiated.
    J,
    /// An output unit summed over.
    K,
    /// An input feature summed over.
    L,
    /// A second summed output unit.
    M,
    /// A third summed output unit.
    P,
}

impl Index {
    const ALL: [Index; 6] = [Index::I, Index::J, Index::K, Index::L, Index::M, Index::P];

    fn slot(self) -> usize {
        self as usize
    }

    /// Whether the index runs over input features (else output units).
    pub fn over_inputs(self) -> bool {
        matches!(self, Index::J | Index::L)
    }

    fn subscript(self) -> &'static str {
        match self {
            Index::I => "ᵢ",
            Index::J => "ⱼ",
            Index::K => "ₖ",
            Index::L => "ₗ",
            Index::M => "ₘ",
            Index::P => "ₚ",
        }
    }

    fn letter(self) -> &'static str {
        match self {
            Index::I => "i",
            Index::J => "j",
            Index::K => "k",
            Index::L => "l",
            Index::M => "m",
            Index::P => "p",
        }
    }
}

/// A symbol of the output layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// Pre-activation z.
    Z,
    /// Activation a = σ(z).
    A,
    /// Target y.
    Y,
    /// Input x.
    X,
    /// Weight w.
    W,
    /// Bias b.
    B,
}

impl Symbol {
    fn letter(self) -> &'static str {
        match self {
            Symbol::Z => "z",
            Symbol::A => "a",
            Symbol::Y => "y",
            Symbol::X => "x",
            Symbol::W => "w",
            Symbol::B => "b",
        }
    }
}

/// A symbol with up to two subscripts (wᵢⱼ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    /// The symbol.
    pub symbol: Symbol,
    /// Its subscripts, first to last.
    pub indices: [Option<Index>; 2],
}

impl Var {
    /// A symbol without subscripts.
    pub fn plain(symbol: Symbol) -> Var {
        Var {
            symbol,
            indices: [None, None],
        }
    }

    /// A symbol with one subscript.
    pub fn at(symbol: Symbol, index: Index) -> Var {
        Var {
            symbol,
            indices: [Some(index), None],
        }
    }

    /// A symbol with two subscripts.
    pub fn at2(symbol: Symbol, first: Index, second: Index) -> Var {
        Var {
            symbol,
            indices: [Some(first), Some(second)],
        }
    }

    fn uses(&self, index: Index) -> bool {
        self.indices.contains(&Some(index))
    }

    fn text(&self) -> String {
        let mut s = self.symbol.letter().to_string();
        for index in self.indices.iter().flatten() {
            s.push_str(index.subscript());
        }
        s
    }

    fn latex(&self) -> String {
        let subscript: String = self.indices.iter().flatten().map(|i| i.letter()).collect();
        if subscript.is_empty() {
            self.symbol.letter().to_string()
        } else {
            format!("{}_{{{subscript}}}", self.symbol.letter())
        }
    }
}

/// A partial derivative shown by name (∂Cₓ/∂a) and evaluated by differentiating `of`.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
    /// The expression differentiated.
    pub of: Expr,
    /// The variable differentiated by.
    pub wrt: Var,
    /// How it is written in text.
    pub text: String,
    /// How it is written in LaTeX.
    pub latex: String,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// A symbol.
    Var(Var),
    /// A sum of terms.
    Add(Vec<Expr>),
    /// A product of factors.
    Mul(Vec<Expr>),
    /// −u.
    Neg(Box<Expr>),
    /// u / v.
    Div(Box<Expr>, Box<Expr>),
    /// uⁿ.
    Pow(Box<Expr>, i32),
    /// ln u.
    Ln(Box<Expr>),
    /// eᵘ.
    Exp(Box<Expr>),
    /// σ(u) of an element-wise activation.
    Act(Activation, Box<Expr>),
    /// σ′(u) of an element-wise activation.
    Slope(Activation, Box<Expr>),
    /// `[u > 0]`: 1 where u > 0, else 0 (Iverson bracket).
    Step(Box<Expr>),
    /// Φ(u), the standard normal CDF.
    NormalCdf(Box<Expr>),
    /// φ(u), the standard normal density.
    NormalPdf(Box<Expr>),
    /// δₚq: 1 when the two indices take the same value.
    Delta(Index, Index),
    /// Σ over the index's range (output units or input features).
    Sum(Index, Box<Expr>),
    /// (1/n) Σₓ over the examples.
    Mean(Box<Expr>),
    /// A named partial derivative.
    Partial(Box<Partial>),
}

/// Shorthand constructors.
pub mod build {
    use super::*;

    /// A number.
    pub fn num(v: f64) -> Expr {
        Expr::Num(v)
    }
    /// A plain symbol.
    pub fn var(s: Symbol) -> Expr {
        Expr::Var(Var::plain(s))
    }
    /// A symbol with one subscript.
    pub fn at(s: Symbol, i: Index) -> Expr {
        Expr::Var(Var::at(s, i))
    }
    /// A sum.
    pub fn add(terms: Vec<Expr>) -> Expr {
        Expr::Add(terms)
    }
    /// u − v.
    pub fn sub(u: Expr, v: Expr) -> Expr {
        Expr::Add(vec![u, neg(v)])
    }
    /// A product (nested products are flattened: (u·v)·w = u·v·w).
    pub fn mul(factors: Vec<Expr>) -> Expr {
        Expr::Mul(
            factors
                .into_iter()
                .flat_map(|f| match f {
                    Expr::Mul(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        )
    }
    /// −u.
    pub fn neg(u: Expr) -> Expr {
        Expr::Neg(Box::new(u))
    }
    /// u / v.
    pub fn div(u: Expr, v: Expr) -> Expr {
        Expr::Div(Box::new(u), Box::new(v))
    }
    /// uⁿ.
    pub fn pow(u: Expr, n: i32) -> Expr {
        Expr::Pow(Box::new(u), n)
    }
    /// ln u.
    pub fn ln(u: Expr) -> Expr {
        Expr::Ln(Box::new(u))
    }
    /// eᵘ.
    pub fn exp(u: Expr) -> Expr {
        Expr::Exp(Box::new(u))
    }
    /// σ(u).
    pub fn act(a: Activation, u: Expr) -> Expr {
        Expr::Act(a, Box::new(u))
    }
    /// σ′(u).
    pub fn slope(a: Activation, u: Expr) -> Expr {
        Expr::Slope(a, Box::new(u))
    }
    /// `[u > 0]`.
    pub fn step(u: Expr) -> Expr {
        Expr::Step(Box::new(u))
    }
    /// Σ over `i`.
    pub fn sum(i: Index, body: Expr) -> Expr {
        Expr::Sum(i, Box::new(body))
    }
    /// (1/n) Σₓ.
    pub fn mean(body: Expr) -> Expr {
        Expr::Mean(Box::new(body))
    }
    /// A named partial derivative.
    pub fn partial(of: Expr, wrt: Var, text: &str, latex: &str) -> Expr {
        Expr::Partial(Box::new(Partial {
            of,
            wrt,
            text: text.into(),
            latex: latex.into(),
        }))
    }
}

use build::*;

/// One example's values: inputs x (d), targets y, pre-activations z and activations a (K each).
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// Inputs, one per feature.
    pub x: Vec<f64>,
    /// Targets, one per output unit.
    pub y: Vec<f64>,
    /// Pre-activations z = W·x + b.
    pub z: Vec<f64>,
    /// Activations a = σ(z).
    pub a: Vec<f64>,
}

/// Where an expression is evaluated: the weights, biases and examples.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// W, outputs × inputs.
    pub w: Array2<f64>,
    /// b, one per output.
    pub b: Vec<f64>,
    /// The examples (the mean runs over them).
    pub examples: Vec<Example>,
    /// The value of i (the output unit differentiated).
    pub i: usize,
    /// The value of j (the input feature differentiated).
    pub j: usize,
}

impl Expr {
    /// The value at `point` (NaN where undefined or unbound). Outside a mean over examples,
    /// per-example symbols read the first example.
    pub fn eval(&self, point: &Point) -> f64 {
        let mut bound = [None; 6];
        bound[Index::I.slot()] = Some(point.i);
        bound[Index::J.slot()] = Some(point.j);
        let first = (!point.examples.is_empty()).then_some(0);
        self.eval_in(point, first, &mut bound)
    }

    fn eval_in(
        &self,
        point: &Point,
        example: Option<usize>,
        bound: &mut [Option<usize>; 6],
    ) -> f64 {
        let go = |e: &Expr, bound: &mut [Option<usize>; 6]| e.eval_in(point, example, bound);
        match self {
            Expr::Num(v) => *v,
            Expr::Var(var) => {
                let position = |slot: usize| var.indices[slot].map_or(Some(0), |i| bound[i.slot()]);
                let (Some(first), Some(second)) = (position(0), position(1)) else {
                    return f64::NAN;
                };
                let value = |values: &Vec<f64>| values.get(first).copied().unwrap_or(f64::NAN);
                let row = example.map(|e| &point.examples[e]);
                match (var.symbol, row) {
                    (Symbol::W, _) => point.w.get((first, second)).copied().unwrap_or(f64::NAN),
                    (Symbol::B, _) => value(&point.b),
                    (_, None) => f64::NAN,
                    (Symbol::Z, Some(r)) => value(&r.z),
                    (Symbol::A, Some(r)) => value(&r.a),
                    (Symbol::Y, Some(r)) => value(&r.y),
                    (Symbol::X, Some(r)) => value(&r.x),
                }
            }
            Expr::Add(terms) => terms.iter().map(|t| go(t, bound)).sum(),
            Expr::Mul(factors) => factors.iter().map(|f| go(f, bound)).product(),
            Expr::Neg(u) => -go(u, bound),
            Expr::Div(u, v) => go(u, bound) / go(v, bound),
            Expr::Pow(u, n) => go(u, bound).powi(*n),
            Expr::Ln(u) => {
                let v = go(u, bound);
                if v > 0.0 { v.ln() } else { f64::NAN }
            }
            Expr::Exp(u) => go(u, bound).exp(),
            Expr::Act(a, u) => a.value(go(u, bound)).unwrap_or(f64::NAN),
            Expr::Slope(a, u) => {
                let z = go(u, bound);
                a.value(z).and_then(|v| a.slope(z, v)).unwrap_or(f64::NAN)
            }
            Expr::Step(u) => {
                if go(u, bound) > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Expr::NormalCdf(u) => 0.5 * (1.0 + libm::erf(go(u, bound) / std::f64::consts::SQRT_2)),
            Expr::NormalPdf(u) => {
                let v = go(u, bound);
                (-0.5 * v * v).exp() / (2.0 * std::f64::consts::PI).sqrt()
            }
            Expr::Delta(p, q) => match (bound[p.slot()], bound[q.slot()]) {
                (Some(a), Some(b)) => f64::from(u8::from(a == b)),
                _ => f64::NAN,
            },
            Expr::Sum(index, body) => {
                let range = if index.over_inputs() {
                    point.w.ncols()
                } else {
                    point.w.nrows()
                };
                let saved = bound[index.slot()];
                let total = (0..range)
                    .map(|v| {
                        bound[index.slot()] = Some(v);
                        body.eval_in(point, example, bound)
                    })
                    .sum();
                bound[index.slot()] = saved;
                total
            }
            Expr::Mean(body) => {
                let n = point.examples.len();
                (0..n)
                    .map(|e| body.eval_in(point, Some(e), bound))
                    .sum::<f64>()
                    / n as f64
            }
            Expr::Partial(p) => p.of.diff(&p.wrt).eval_in(point, example, bound),
        }
    }

    /// Whether `index` appears anywhere in the expression.
    fn uses(&self, index: Index) -> bool {
        match self {
            Expr::Num(_) => false,
            Expr::Var(v) => v.uses(index),
            Expr::Add(items) | Expr::Mul(items) => items.iter().any(|e| e.uses(index)),
            Expr::Neg(u)
            | Expr::Pow(u, _)
            | Expr::Ln(u)
            | Expr::Exp(u)
            | Expr::Act(_, u)
            | Expr::Slope(_, u) => u.uses(index),
            Expr::Step(u) | Expr::NormalCdf(u) | Expr::NormalPdf(u) | Expr::Mean(u) => {
                u.uses(index)
            }
            Expr::Div(u, v) => u.uses(index) || v.uses(index),
            Expr::Delta(p, q) => *p == index || *q == index,
            Expr::Sum(i, body) => *i == index || body.uses(index),
            Expr::Partial(p) => p.of.uses(index) || p.wrt.uses(index),
        }
    }

    /// The expression with index `from` written as `to`.
    pub fn reindex(&self, from: Index, to: Index) -> Expr {
        let swap = |i: Index| if i == from { to } else { i };
        let r = |e: &Expr| e.reindex(from, to);
        let rb = |e: &Expr| Box::new(e.reindex(from, to));
        match self {
            Expr::Num(v) => Expr::Num(*v),
            Expr::Var(v) => Expr::Var(Var {
                symbol: v.symbol,
                indices: v.indices.map(|i| i.map(swap)),
            }),
            Expr::Add(items) => Expr::Add(items.iter().map(r).collect()),
            Expr::Mul(items) => Expr::Mul(items.iter().map(r).collect()),
            Expr::Neg(u) => Expr::Neg(rb(u)),
            Expr::Div(u, v) => Expr::Div(rb(u), rb(v)),
            Expr::Pow(u, n) => Expr::Pow(rb(u), *n),
            Expr::Ln(u) => Expr::Ln(rb(u)),
            Expr::Exp(u) => Expr::Exp(rb(u)),
            Expr::Act(a, u) => Expr::Act(*a, rb(u)),
            Expr::Slope(a, u) => Expr::Slope(*a, rb(u)),
            Expr::Step(u) => Expr::Step(rb(u)),
            Expr::NormalCdf(u) => Expr::NormalCdf(rb(u)),
            Expr::NormalPdf(u) => Expr::NormalPdf(rb(u)),
            Expr::Delta(p, q) => Expr::Delta(swap(*p), swap(*q)),
            Expr::Sum(i, body) => Expr::Sum(swap(*i), rb(body)),
            Expr::Mean(u) => Expr::Mean(rb(u)),
            Expr::Partial(p) => Expr::Partial(Box::new(Partial {
                of: p.of.reindex(from, to),
                wrt: Var {
                    symbol: p.wrt.symbol,
                    indices: p.wrt.indices.map(|i| i.map(swap)),
                },
                text: p.text.clone(),
                latex: p.latex.clone(),
            })),
        }
    }

    /// ∂self/∂wrt by the rules of calculus (symbolic; 0/1 factors pruned as it goes).
    ///
    /// ```text
    /// ∂vₐ/∂v_b = δₐb     (u·v)′ = u′v + uv′     (u/v)′ = (u′v − uv′)/v²     (uⁿ)′ = n·uⁿ⁻¹·u′
    /// (ln u)′ = u′/u     (eᵘ)′ = eᵘ·u′          σ(u)′ = σ′(u)·u′            Φ′ = φ, φ′(u) = −u·φ(u)
    /// [u > 0]′ = 0 (almost everywhere)          (Σₖ f)′ = Σₖ f′ (k renamed if it clashes)
    /// ```
    /// The derivative of σ′ itself is not needed by any derivation and evaluates to NaN.
    pub fn diff(&self, wrt: &Var) -> Expr {
        match self {
            Expr::Num(_) | Expr::Delta(..) | Expr::Step(_) => num(0.0),
            Expr::Var(v) => {
                if v.symbol != wrt.symbol {
                    return num(0.0);
                }
                let deltas: Vec<Expr> = v
                    .indices
                    .iter()
                    .zip(&wrt.indices)
                    .filter_map(|(a, b)| match (a, b) {
                        (Some(a), Some(b)) if a != b => Some(Expr::Delta(*a, *b)),
                        _ => None,
                    })
                    .collect();
                product(deltas)
            }
            Expr::Add(terms) => total(terms.iter().map(|t| t.diff(wrt)).collect()),
            Expr::Mul(factors) => total(
                (0..factors.len())
                    .map(|i| {
                        let mut parts: Vec<Expr> = factors.clone();
                        parts[i] = factors[i].diff(wrt);
                        product(parts)
                    })
                    .collect(),
            ),
            Expr::Neg(u) => negate(u.diff(wrt)),
            Expr::Div(u, v) => div(
                total(vec![
                    product(vec![u.diff(wrt), (**v).clone()]),
                    negate(product(vec![(**u).clone(), v.diff(wrt)])),
                ]),
                pow((**v).clone(), 2),
            ),
            Expr::Pow(u, n) => product(vec![
                num(f64::from(*n)),
                pow((**u).clone(), n - 1),
                u.diff(wrt),
            ]),
            Expr::Ln(u) => div(u.diff(wrt), (**u).clone()),
            Expr::Exp(u) => product(vec![self.clone(), u.diff(wrt)]),
            Expr::Act(a, u) => product(vec![slope(*a, (**u).clone()), u.diff(wrt)]),
            Expr::Slope(..) => num(f64::NAN),
            Expr::NormalCdf(u) => product(vec![Expr::NormalPdf(u.clone()), u.diff(wrt)]),
            Expr::NormalPdf(u) => negate(product(vec![(**u).clone(), self.clone(), u.diff(wrt)])),
            Expr::Sum(index, body) => {
                if wrt.uses(*index) {
                    let fresh = Index::ALL
                        .into_iter()
                        .find(|f| {
                            f.over_inputs() == index.over_inputs()
                                && !body.uses(*f)
                                && !wrt.uses(*f)
                        })
                        .expect("a free index of the same kind");
                    sum(fresh, body.reindex(*index, fresh).diff(wrt))
                } else {
                    sum(*index, body.diff(wrt))
                }
            }
            Expr::Mean(body) => mean(body.diff(wrt)),
            Expr::Partial(p) => p.of.diff(&p.wrt).diff(wrt),
        }
    }
}

/// A product with 1s dropped and 0 absorbing.
fn product(factors: Vec<Expr>) -> Expr {
    if factors.contains(&Expr::Num(0.0)) {
        return num(0.0);
    }
    let kept: Vec<Expr> = factors
        .into_iter()
        .filter(|f| *f != Expr::Num(1.0))
        .collect();
    match kept.len() {
        0 => num(1.0),
        1 => kept.into_iter().next().expect("one factor"),
        _ => Expr::Mul(kept),
    }
}

/// A sum with 0s dropped.
fn total(terms: Vec<Expr>) -> Expr {
    let kept: Vec<Expr> = terms.into_iter().filter(|t| *t != Expr::Num(0.0)).collect();
    match kept.len() {
        0 => num(0.0),
        1 => kept.into_iter().next().expect("one term"),
        _ => Expr::Add(kept),
    }
}

fn negate(u: Expr) -> Expr {
    if u == Expr::Num(0.0) { u } else { neg(u) }
}

// ---------------------------------------------------------------------------------------------
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

#[cfg(test)]
mod tests {
    use super::*;

    fn point(a: f64, y: f64) -> Point {
        Point {
            w: Array2::zeros((1, 1)),
            b: vec![0.0],
            examples: vec![Example {
                x: vec![1.0],
                y: vec![y],
                z: vec![0.0],
                a: vec![a],
            }],
            i: 0,
            j: 0,
        }
    }

    fn bce() -> Expr {
        neg(add(vec![
            mul(vec![var(Symbol::Y), ln(var(Symbol::A))]),
            mul(vec![
                sub(num(1.0), var(Symbol::Y)),
                ln(sub(num(1.0), var(Symbol::A))),
            ]),
        ]))
    }

    #[test]
    fn renders_text_and_latex_with_precedence() {
        assert_eq!(bce().text(), "−(y·ln a + (1 − y)·ln(1 − a))");
        assert_eq!(
            mean(bce()).text(),
            "(1/n) Σₓ [−(y·ln a + (1 − y)·ln(1 − a))]"
        );
        let fraction = div(
            sub(var(Symbol::Z), var(Symbol::Y)),
            mul(vec![var(Symbol::Z), sub(num(1.0), var(Symbol::Z))]),
        );
        assert_eq!(fraction.text(), "(z − y)/(z·(1 − z))");
        assert_eq!(
            fraction.latex(),
            "\\frac{z - y}{z \\cdot \\left(1 - z\\right)}"
        );
        assert_eq!(
            sum(
                Index::K,
                mul(vec![at(Symbol::Y, Index::K), ln(at(Symbol::A, Index::K))])
            )
            .text(),
            "Σₖ yₖ·ln aₖ"
        );
        assert_eq!(
            pow(sub(var(Symbol::A), var(Symbol::Y)), 2).text(),
            "(a − y)²"
        );
    }

    #[test]
    fn symbolic_derivative_of_bce_matches_the_textbook_form() {
        let derivative = bce().diff(&Var::plain(Symbol::A));
        let textbook = neg(sub(
            div(var(Symbol::Y), var(Symbol::A)),
            div(sub(num(1.0), var(Symbol::Y)), sub(num(1.0), var(Symbol::A))),
        ));
        for (a, y) in [(0.3, 1.0), (0.9, 0.0), (0.5, 0.25)] {
            let p = point(a, y);
            assert!((derivative.eval(&p) - textbook.eval(&p)).abs() < 1e-12);
        }
    }

    #[test]
    fn derivatives_through_sums_rename_clashing_indices() {
        // C = −Σₖ yₖ ln aₖ; ∂C/∂aₖ must be −yₖ/aₖ even though k is also the sum's index.
        let c = neg(sum(
            Index::K,
            mul(vec![at(Symbol::Y, Index::K), ln(at(Symbol::A, Index::K))]),
        ));
        let d = c.diff(&Var::at(Symbol::A, Index::I));
        let p = Point {
            w: Array2::zeros((3, 1)),
            b: vec![0.0; 3],
            examples: vec![Example {
                x: vec![1.0],
                y: vec![0.2, 0.5, 0.3],
                z: vec![0.0; 3],
                a: vec![0.1, 0.6, 0.3],
            }],
            i: 1,
            j: 0,
        };
        assert!((mean(d).eval(&p) - (-0.5 / 0.6)).abs() < 1e-12);
    }
}
