//! Symbolic differentiation of expressions, and the index bookkeeping it needs.

use super::build::*;
use super::{Expr, Index, Partial, Var};

impl Expr {
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

    /// The expression with the input xⱼ set to 1 and the factors of 1 dropped: a gradient with
    /// respect to wⱼ becomes the one with respect to b (∂z/∂b = 1 where ∂z/∂wⱼ = xⱼ).
    pub fn without_input(&self) -> Expr {
        let r = |e: &Expr| Box::new(e.without_input());
        match self {
            Expr::Var(v) if v.symbol == super::Symbol::X && v.indices[0] == Some(Index::J) => {
                Expr::Num(1.0)
            }
            Expr::Num(_) | Expr::Var(_) | Expr::Delta(..) | Expr::Partial(_) => self.clone(),
            Expr::Add(items) => Expr::Add(items.iter().map(Expr::without_input).collect()),
            Expr::Mul(items) => {
                let mut kept: Vec<Expr> = items
                    .iter()
                    .map(Expr::without_input)
                    .filter(|e| *e != Expr::Num(1.0))
                    .collect();
                match kept.len() {
                    0 => Expr::Num(1.0),
                    1 => kept.remove(0),
                    _ => Expr::Mul(kept),
                }
            }
            Expr::Neg(u) => Expr::Neg(r(u)),
            Expr::Div(u, v) => Expr::Div(r(u), r(v)),
            Expr::Pow(u, n) => Expr::Pow(r(u), *n),
            Expr::Ln(u) => Expr::Ln(r(u)),
            Expr::Exp(u) => Expr::Exp(r(u)),
            Expr::Act(a, u) => Expr::Act(*a, r(u)),
            Expr::Slope(a, u) => Expr::Slope(*a, r(u)),
            Expr::Step(u) => Expr::Step(r(u)),
            Expr::NormalCdf(u) => Expr::NormalCdf(r(u)),
            Expr::NormalPdf(u) => Expr::NormalPdf(r(u)),
            Expr::Sum(i, body) => Expr::Sum(*i, r(body)),
            Expr::Mean(u) => Expr::Mean(r(u)),
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
