//! Evaluating an expression at a point: the weights, biases and examples.

use ndarray::Array2;

use super::{Expr, Index, Symbol};

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
                    (Symbol::N, _) => point.examples.len() as f64,
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
}
