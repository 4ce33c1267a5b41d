//! `nabla explain --check "EXPR"`: a learner's own derivative, compared with the machine-checked
//! one and diagnosed the way a tutor would: right; off by a constant (−1 is a sign error, 1/n a
//! missing average); missing a factor of the chain (xⱼ: a derivative by z, not by wⱼ; σ′(z));
//! right only on part of the domain (z > 0, the true class); or different, with a point that
//! shows it. Each mistake is tied to the step of the derivation it belongs to.
//!
//! The comparison is numerical, at random points of the cost's domain drawn by the same
//! sampler as the step checks: a claim is the truth times c·F when the two agree to 10⁻⁶ at
//! every point, for the fewest corrections c (a constant) and F (factors of the chain).

mod parse;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

pub use parse::{MAX_CLAIM_CHARS, ParseError, parse_claim};

use super::check::{relative, sample};
use super::derivation::{Derivation, Form};
use super::expr::build::*;
use super::expr::{Expr, Index, Point, Symbol, Var};
use crate::error::{Error, Result};
use crate::format::wrap;

/// What the claim is a derivative of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// ∂C/∂wⱼ (∂C/∂wᵢⱼ).
    W,
    /// ∂C/∂b.
    B,
    /// ∂C/∂z (per example, the same as ∂C/∂b).
    Z,
    /// ∂C/∂a.
    A,
}

impl std::str::FromStr for Quantity {
    type Err = Error;

    fn from_str(text: &str) -> Result<Quantity> {
        match text {
            "w" => Ok(Quantity::W),
            "b" => Ok(Quantity::B),
            "z" => Ok(Quantity::Z),
            "a" => Ok(Quantity::A),
            other => Err(Error::invalid(
                "--with-respect-to",
                format!("'{other}': expected w, b, z or a"),
            )),
        }
    }
}

impl Quantity {
    fn name(self, form: Form) -> &'static str {
        match (self, form) {
            (Quantity::W, Form::Scalar) => "∂C/∂wⱼ",
            (Quantity::W, Form::Indexed) => "∂C/∂wᵢⱼ",
            (Quantity::B, Form::Scalar) => "∂C/∂b",
            (Quantity::B, Form::Indexed) => "∂C/∂bᵢ",
            (Quantity::Z, Form::Scalar) => "∂C/∂z",
            (Quantity::Z, Form::Indexed) => "∂C/∂zᵢ",
            (Quantity::A, Form::Scalar) => "∂C/∂a",
            (Quantity::A, Form::Indexed) => "∂C/∂aᵢ",
        }
    }

    /// The machine-checked expression of this derivative.
    fn truth(self, d: &Derivation) -> Expr {
        match self {
            Quantity::W => d.gradient().expr.clone(),
            Quantity::B | Quantity::Z => d.bias.clone(),
            Quantity::A => {
                let wrt = if d.form == Form::Scalar {
                    Var::plain(Symbol::A)
                } else {
                    Var::at(Symbol::A, Index::I)
                };
                partial(
                    d.steps[0].expr.clone(),
                    wrt,
                    "∂C/∂a",
                    "\\frac{\\partial C}{\\partial a}",
                )
            }
        }
    }
}

/// A correction that turns the claim into the truth: a constant, or a factor of the chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Correction {
    /// The claim times this constant (−1: a sign error; 1/n or n: the average).
    Constant(f64),
    /// The claim lacks this factor of the chain rule (xⱼ, σ′(z)).
    Missing(String),
}

/// The verdict on a claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Equal to the derivative at every point.
    Equal,
    /// Equal after these corrections, where the claim holds (everywhere when `only_where` is
    /// None); `matches` names a derivative the claim is, up to the constant, when it is not the
    /// one asked about (∂C/∂z for ∂C/∂wⱼ).
    Corrected {
        /// What to change.
        corrections: Vec<Correction>,
        /// Where the corrected claim holds, when only on part of the domain.
        only_where: Option<String>,
        /// The derivative the claim is, up to its constant, if another one.
        matches: Option<&'static str>,
    },
    /// Equal only on part of the domain.
    OnlyWhere(String),
    /// Different: a point where the two differ, with both values.
    Different {
        /// The point, in words.
        at: String,
        /// The claim's value there.
        claimed: f64,
        /// The derivative's value there.
        truth: f64,
    },
}

/// The diagnosis of a claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    /// The claim as read back.
    pub claim: String,
    /// Which derivative it claims.
    pub quantity: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// For each correction, the step it belongs to (1-based) and that step's line.
    pub steps: Vec<(usize, String)>,
    /// The right expression.
    pub corrected: String,
    /// Points compared.
    pub points: usize,
}

const POINTS: usize = 400;

/// Values at the points, NaN where not finite.
fn values(expr: &Expr, points: &[Point]) -> Vec<f64> {
    points.iter().map(|p| expr.eval(p)).collect()
}

/// Both finite and equal to 10⁻⁶ relative (absolute below 10⁻³).
fn agree(a: f64, b: f64) -> bool {
    a.is_finite() && b.is_finite() && relative(a, b, 1e-3) <= 1e-6
}

/// Which points agree.
fn agreement(claim: &[f64], truth: &[f64]) -> Vec<bool> {
    claim
        .iter()
        .zip(truth)
        .map(|(c, t)| agree(*c, *t))
        .collect()
}

/// A named condition on a point ("z > 0").
type Condition = (String, Box<dyn Fn(&Point) -> bool>);

/// A predicate on the points that describes exactly where `mask` holds.
fn describe(mask: &[bool], d: &Derivation, points: &[Point]) -> Option<String> {
    let (z, y, a) = if d.form == Form::Scalar {
        (var(Symbol::Z), var(Symbol::Y), var(Symbol::A))
    } else {
        (
            at(Symbol::Z, Index::I),
            at(Symbol::Y, Index::I),
            at(Symbol::A, Index::I),
        )
    };
    let unit = if d.form == Form::Scalar { "" } else { "ᵢ" };
    let candidates: Vec<Condition> = vec![
        (format!("z{unit} > 0"), Box::new(move |p| z.eval(p) > 0.0)),
        (
            format!("y{unit} = 1 (the true class)"),
            Box::new({
                let y = y.clone();
                move |p| y.eval(p) == 1.0
            }),
        ),
        (format!("y{unit} = 0"), Box::new(move |p| y.eval(p) == 0.0)),
        (format!("a{unit} < 1"), Box::new(move |p| a.eval(p) < 1.0)),
    ];
    let share = mask.iter().filter(|m| **m).count() as f64 / mask.len() as f64;
    if !(0.02..=0.98).contains(&share) {
        return None;
    }
    candidates
        .into_iter()
        .find(|(_, holds)| points.iter().zip(mask).all(|(p, m)| holds(p) == *m))
        .map(|(name, _)| name)
}

/// The constant the claim is off by, if it is off by one (same ratio at every point).
fn constant_ratio(claim: &[f64], truth: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = claim
        .iter()
        .zip(truth)
        .filter(|(c, t)| c.is_finite() && t.is_finite() && c.abs() > 1e-9 && t.abs() > 1e-9)
        .map(|(c, t)| t / c)
        .collect();
    if ratios.len() < claim.len() / 2 {
        return None;
    }
    let first = ratios[0];
    ratios
        .iter()
        .all(|r| (r - first).abs() <= 1e-6 * first.abs().max(1e-3))
        .then_some(first)
}

/// Names a constant: the nearest of −1, n, 1/n, 2, ½ and their negatives, or the number.
fn round_constant(c: f64, n: usize) -> f64 {
    let n = n as f64;
    for candidate in [1.0, -1.0, 2.0, -2.0, 0.5, -0.5, n, -n, 1.0 / n, -1.0 / n] {
        if (c - candidate).abs() <= 1e-6 * candidate.abs() {
            return candidate;
        }
    }
    c
}

/// Diagnoses `claim` as the derivative `quantity` of `derivation`.
///
/// # Errors
/// A derivation whose cost is defined nowhere (nothing to compare with).
pub fn diagnose(derivation: &Derivation, claim: &Expr, quantity: Quantity) -> Result<Diagnosis> {
    if derivation.defined_nowhere() {
        return Err(Error::invalid(
            "--check",
            "this pairing's cost is defined nowhere: there is no derivative to compare with",
        ));
    }
    // A claim with Σₓ or n is compared over several examples, so a missing 1/n shows.
    let text = claim.text();
    let examples = if text.contains('n') || text.contains("Σₓ") {
        4
    } else {
        1
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut points = Vec::with_capacity(POINTS);
    let mut attempts = 0;
    while points.len() < POINTS && attempts < 400 * POINTS {
        attempts += 1;
        if let Some(point) = sample(derivation, examples, &mut rng) {
            points.push(point);
        }
    }
    let claimed = values(claim, &points);
    let form = derivation.form;
    let (x_j, slope_z) = {
        let z = if form == Form::Scalar {
            var(Symbol::Z)
        } else {
            at(Symbol::Z, Index::I)
        };
        let slope = if derivation.activation.is_row_wise() {
            None
        } else {
            Some(slope(derivation.activation, z))
        };
        (at(Symbol::X, Index::J), slope)
    };
    // Chain factors a claim may lack, per derivative: xⱼ for a weight; σ′(z).
    let mut factor_sets: Vec<Vec<(String, Expr)>> = vec![Vec::new()];
    let slope_name = format!("{}′(z)", derivation.activation.symbol().0);
    if let Some(s) = &slope_z {
        factor_sets.push(vec![(slope_name.clone(), s.clone())]);
    }
    let with_x = |set: &Vec<(String, Expr)>| {
        let mut s = set.clone();
        s.insert(0, ("xⱼ".to_string(), x_j.clone()));
        s
    };
    let mut search: Vec<(Quantity, Vec<(String, Expr)>)> = Vec::new();
    for set in &factor_sets {
        search.push((quantity, set.clone()));
        if quantity == Quantity::W {
            search.push((quantity, with_x(set)));
        }
    }
    search.sort_by_key(|(_, set)| set.len());
    let truth_values = values(&quantity.truth(derivation), &points);
    let corrected = format!(
        "{} = {}",
        quantity.name(form),
        quantity.truth(derivation).text()
    );
    let mut best: Option<(usize, Verdict)> = None;
    for (q, factors) in &search {
        let product = if factors.is_empty() {
            claim.clone()
        } else {
            let mut all = vec![claim.clone()];
            all.extend(factors.iter().map(|(_, f)| f.clone()));
            mul(all)
        };
        let fixed = values(&product, &points);
        let truth = values(&q.truth(derivation), &points);
        let (constant, mask) = match constant_ratio(&fixed, &truth) {
            Some(c) => {
                let c = round_constant(c, examples);
                let scaled: Vec<f64> = fixed.iter().map(|v| v * c).collect();
                (c, agreement(&scaled, &truth))
            }
            None => (1.0, agreement(&fixed, &truth)),
        };
        let everywhere = mask.iter().all(|m| *m);
        let only_where = if everywhere {
            None
        } else {
            describe(&mask, derivation, &points)
        };
        if !everywhere && only_where.is_none() {
            continue;
        }
        let mut corrections = Vec::new();
        if constant != 1.0 {
            corrections.push(Correction::Constant(constant));
        }
        corrections.extend(
            factors
                .iter()
                .map(|(name, _)| Correction::Missing(name.clone())),
        );
        let cost = corrections.len() + usize::from(only_where.is_some()) * 2;
        if best.as_ref().is_some_and(|(c, _)| *c <= cost) {
            continue;
        }
        // Missing xⱼ: the claim is a derivative by z (up to its constant).
        let matches = factors
            .iter()
            .any(|(name, _)| name == "xⱼ")
            .then_some(Quantity::Z.name(form));
        let verdict = if corrections.is_empty() {
            match only_where {
                None => Verdict::Equal,
                Some(w) => Verdict::OnlyWhere(w),
            }
        } else {
            Verdict::Corrected {
                corrections,
                only_where,
                matches,
            }
        };
        best = Some((cost, verdict));
    }
    let verdict = match best {
        Some((_, verdict)) => verdict,
        None => {
            let (n, (c, t)) = claimed
                .iter()
                .zip(&truth_values)
                .enumerate()
                .find(|(_, (c, t))| !agree(**c, **t))
                .map(|(n, (c, t))| (n, (*c, *t)))
                .unwrap_or((0, (f64::NAN, f64::NAN)));
            Verdict::Different {
                at: point_text(&points[n], form),
                claimed: c,
                truth: t,
            }
        }
    };
    let steps = step_refs(derivation, &verdict);
    Ok(Diagnosis {
        claim: text,
        quantity: quantity.name(form),
        verdict,
        steps,
        corrected,
        points: points.len(),
    })
}

/// "x = (0.3, −0.1, 0.7), z = 0.42, a = 0.42, y = 1" for the first example of a point.
fn point_text(point: &Point, form: Form) -> String {
    let e = &point.examples[0];
    let list = |v: &[f64]| {
        let parts: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
        if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("({})", parts.join(", "))
        }
    };
    let unit = if form == Form::Scalar {
        String::new()
    } else {
        format!(" (unit i = {}, input j = {})", point.i + 1, point.j + 1)
    };
    format!(
        "x = {}, z = {}, a = {}, y = {}{unit}",
        list(&e.x),
        list(&e.z),
        list(&e.a),
        list(&e.y)
    )
    .replace('-', "−")
}

/// The step each correction belongs to.
fn step_refs(d: &Derivation, verdict: &Verdict) -> Vec<(usize, String)> {
    let find = |needle: &dyn Fn(&str) -> bool| {
        d.steps.iter().position(|s| needle(&s.why)).map(|n| {
            let (lhs, _) = d.side(d.steps[n].side);
            (
                n + 1,
                format!("{lhs} = {}   ↳ {}", d.steps[n].expr.text(), d.steps[n].why),
            )
        })
    };
    let Verdict::Corrected { corrections, .. } = verdict else {
        return Vec::new();
    };
    corrections
        .iter()
        .filter_map(|c| match c {
            Correction::Constant(c) if *c < 0.0 => find(&|w| w.contains("leading minus"))
                .or_else(|| find(&|w| w.starts_with("∂/∂a") || w.starts_with("only the k-th"))),
            Correction::Constant(_) => find(&|w| w.contains("averaged over the n examples")),
            Correction::Missing(name) if name == "xⱼ" => {
                find(&|w| w.contains("∂z/∂wⱼ = xⱼ") || w.contains("∂zᵢ/∂wᵢⱼ = xⱼ"))
            }
            Correction::Missing(_) => find(&|w| w.contains("′(z)") || w.contains("′(zᵢ)")),
        })
        .collect()
}

fn correction_text(c: &Correction, examples_note: bool) -> String {
    match c {
        Correction::Constant(k) if *k == -1.0 => {
            "a sign error (the claim is −1 times the derivative)".into()
        }
        Correction::Constant(k) if examples_note && *k < 1.0 && *k > 0.0 => {
            format!(
                "a missing average: the claim is {} times the derivative (the 1/n of the mean)",
                1.0 / k
            )
        }
        Correction::Constant(k) => format!("off by a factor of {k}"),
        Correction::Missing(name) if name == "xⱼ" => {
            "a missing factor xⱼ (∂z/∂wⱼ = xⱼ: the claim is a derivative by z, not by wⱼ)".into()
        }
        Correction::Missing(name) => format!("a missing factor {name} (the activation's slope)"),
    }
}

/// The diagnosis as text.
pub fn render_diagnosis(d: &Derivation, diagnosis: &Diagnosis) -> String {
    let mut out = format!("Your claim: {} = {}\n", diagnosis.quantity, diagnosis.claim);
    let line = match &diagnosis.verdict {
        Verdict::Equal => {
            "Verdict: right — it equals the machine-checked derivative at every point.".to_string()
        }
        Verdict::OnlyWhere(w) => format!("Verdict: right only where {w}; elsewhere it differs."),
        Verdict::Corrected {
            corrections,
            only_where,
            matches,
        } => {
            let parts: Vec<String> = corrections
                .iter()
                .map(|c| correction_text(c, true))
                .collect();
            let mut text = format!("Verdict: {}", parts.join(", and "));
            if let Some(m) = matches {
                text.push_str(&format!(
                    "; up to its constant it is {m}, not {}",
                    diagnosis.quantity
                ));
            }
            if let Some(w) = only_where {
                text.push_str(&format!("; and even so it holds only where {w}"));
            }
            text.push('.');
            text
        }
        Verdict::Different { at, claimed, truth } => format!(
            "Verdict: different — at {at} the claim gives {claimed:.6} but the derivative is {truth:.6}."
        ),
    };
    out.push_str(&wrap(&line, 100, "  "));
    out.push('\n');
    for (n, step) in &diagnosis.steps {
        out.push_str("  ");
        out.push_str(&wrap(&format!("- step {n}: {step}"), 98, "    "));
        out.push('\n');
    }
    if let Some(region) = d.region.as_deref().filter(|r| !r.is_empty()) {
        out.push_str(&format!(
            "Where: the derivation holds only where {region}.\n"
        ));
    }
    out.push_str(&format!("Corrected: {}\n", diagnosis.corrected));
    if !d.compatible {
        out.push_str(&wrap(&format!("Advice: {}", d.advice), 100, "  "));
        out.push('\n');
    }
    out.push_str(&format!(
        "Compared at {} random points of the domain.\n",
        diagnosis.points
    ));
    out
}

/// The diagnosis as JSON: {"claim", "quantity", "verdict", "factor", "missing", "only_where",
/// "matches", "steps", "corrected", "points", "counterexample"}.
pub fn diagnosis_json(diagnosis: &Diagnosis) -> Value {
    let (kind, factor, missing, only_where, matches, counterexample) = match &diagnosis.verdict {
        Verdict::Equal => ("equal", 1.0, Vec::new(), None, None, Value::Null),
        Verdict::OnlyWhere(w) => (
            "equal-on-part",
            1.0,
            Vec::new(),
            Some(w.clone()),
            None,
            Value::Null,
        ),
        Verdict::Corrected {
            corrections,
            only_where,
            matches,
        } => {
            let factor = corrections
                .iter()
                .find_map(|c| match c {
                    Correction::Constant(k) => Some(*k),
                    _ => None,
                })
                .unwrap_or(1.0);
            let missing: Vec<String> = corrections
                .iter()
                .filter_map(|c| match c {
                    Correction::Missing(m) => Some(m.clone()),
                    _ => None,
                })
                .collect();
            (
                "corrected",
                factor,
                missing,
                only_where.clone(),
                *matches,
                Value::Null,
            )
        }
        Verdict::Different { at, claimed, truth } => (
            "different",
            f64::NAN,
            Vec::new(),
            None,
            None,
            json!({"at": at, "claimed": claimed, "truth": truth}),
        ),
    };
    json!({
        "claim": diagnosis.claim,
        "quantity": diagnosis.quantity,
        "verdict": kind,
        "factor": if factor.is_finite() { json!(factor) } else { Value::Null },
        "missing": missing,
        "only_where": only_where,
        "matches": matches,
        "steps": diagnosis.steps.iter().map(|(n, s)| json!({"step": n, "line": s})).collect::<Vec<_>>(),
        "corrected": diagnosis.corrected,
        "points": diagnosis.points,
        "counterexample": counterexample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::explain::derive;
    use crate::loss::LossKind;

    #[test]
    fn the_seed_claim_is_a_sign_error_and_a_missing_x() {
        let d = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
        let claim = parse_claim("(y - z)/(z*(1 - z))").unwrap();
        let diagnosis = diagnose(&d, &claim, Quantity::W).unwrap();
        assert_eq!(
            diagnosis.verdict,
            Verdict::Corrected {
                corrections: vec![Correction::Constant(-1.0), Correction::Missing("xⱼ".into())],
                only_where: None,
                matches: Some("∂C/∂z"),
            }
        );
        let text = render_diagnosis(&d, &diagnosis);
        for expected in [
            "a sign error",
            "a missing factor xⱼ",
            "it is ∂C/∂z",
            "0 < z < 1",
            "sigmoid",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        assert_eq!(diagnosis.steps.len(), 2);
    }

    #[test]
    fn quantities_parse() {
        assert_eq!("z".parse::<Quantity>().unwrap(), Quantity::Z);
        assert!("q".parse::<Quantity>().is_err());
    }
}
