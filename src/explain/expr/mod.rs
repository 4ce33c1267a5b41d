//! A small expression language for derivations: evaluation, symbolic differentiation and
//! rendering to Unicode text and LaTeX.
//!
//! Expressions are built over the symbols of a dense output layer (z, a, y, x, w, b) with index
//! subscripts (i, j, k, …), sums over output units (Σₖ), the mean over examples ((1/n) Σₓ),
//! element-wise activations σ(u) and their slopes σ′(u), and partial-derivative nodes that
//! render as ∂Cₓ/∂a but evaluate by differentiating their expression symbolically.

mod diff;
mod eval;
mod render;

pub use eval::{Example, Point};

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
    /// The number of examples n (a claim's Σₓ is n · (1/n) Σₓ).
    N,
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
            Symbol::N => "n",
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
pub(crate) mod build {
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

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;
    use ndarray::Array2;

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
