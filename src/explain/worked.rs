//! A worked example (`nabla explain --at "x=1,2 w=0.1,0.2 b=0 y=1"`): the derivation evaluated
//! at one example — z, a, the cost, the value of every step, ∂C/∂z, ∂C/∂w and ∂C/∂b — and the
//! result checked against central finite differences of the cost at the same numbers.

use std::fmt::Write;

use ndarray::Array2;

use super::check::forward;
use super::derivation::{Derivation, Form, Side};
use super::expr::{Example, Point};
use super::question::TargetSet;
use crate::error::{Error, Result};
use crate::loss::LossKind;

/// The most inputs a worked example takes (its finite differences cost about
/// (outputs × inputs)² evaluations: a 120 × 120 matrix did not finish in 10 s).
pub const MAX_AT_INPUTS: usize = 64;
/// The most output units a worked example takes.
pub const MAX_AT_OUTPUTS: usize = 16;

/// The numbers of a worked example: inputs x, weights W (outputs × inputs), biases b, targets y.
#[derive(Clone, Debug, PartialEq)]
pub struct At {
    /// The inputs x.
    pub x: Vec<f64>,
    /// The weights, one row per output unit.
    pub w: Array2<f64>,
    /// The biases, one per output unit.
    pub b: Vec<f64>,
    /// The targets, one per output unit.
    pub y: Vec<f64>,
}

fn numbers(field: &str, text: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|v| {
            v.trim()
                .replace('−', "-")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::invalid(
                        "--at",
                        format!("{field}: '{}' is not a finite number", v.trim()),
                    )
                })
        })
        .collect()
}

impl std::str::FromStr for At {
    type Err = Error;

    /// `x=1,2 w=0.1,0.2 b=0 y=1`; several output units separate the rows of w with `;`
    /// (`w=0.1,0.2;0.3,0.4 b=0,0 y=1,0`).
    fn from_str(text: &str) -> Result<At> {
        let (mut x, mut w, mut b, mut y) = (None, None, None, None);
        for part in text.split_whitespace() {
            let Some((key, value)) = part.split_once('=') else {
                return Err(Error::invalid(
                    "--at",
                    format!("'{part}': expected name=values, as in x=1,2 w=0.1,0.2 b=0 y=1"),
                ));
            };
            match key {
                "x" => x = Some(numbers("x", value)?),
                "b" => b = Some(numbers("b", value)?),
                "y" => y = Some(numbers("y", value)?),
                "w" => {
                    let rows: Vec<Vec<f64>> = value
                        .split(';')
                        .map(|row| numbers("w", row))
                        .collect::<Result<_>>()?;
                    let width = rows[0].len();
                    if rows.iter().any(|r| r.len() != width) {
                        return Err(Error::invalid(
                            "--at",
                            "w: every row (separated by ;) needs as many weights as x has inputs",
                        ));
                    }
                    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
                    w = Some(Array2::from_shape_vec((rows.len(), width), flat).expect("checked"));
                }
                other => {
                    return Err(Error::invalid(
                        "--at",
                        format!("unknown name '{other}': expected x, w, b and y"),
                    ));
                }
            }
        }
        let missing = |name: &str| Error::invalid("--at", format!("{name}=… is missing"));
        let at = At {
            x: x.ok_or_else(|| missing("x"))?,
            w: w.ok_or_else(|| missing("w"))?,
            b: b.ok_or_else(|| missing("b"))?,
            y: y.ok_or_else(|| missing("y"))?,
        };
        if at.w.ncols() != at.x.len() {
            return Err(Error::invalid(
                "--at",
                format!(
                    "w has {} weights per row but x has {} inputs",
                    at.w.ncols(),
                    at.x.len()
                ),
            ));
        }
        if at.x.len() > MAX_AT_INPUTS || at.w.nrows() > MAX_AT_OUTPUTS {
            return Err(Error::invalid(
                "--at",
                format!(
                    "{} inputs and {} output units: a worked example takes at most \
                     {MAX_AT_INPUTS} inputs and {MAX_AT_OUTPUTS} output units",
                    at.x.len(),
                    at.w.nrows()
                ),
            ));
        }
        if at.b.len() != at.w.nrows() || at.y.len() != at.w.nrows() {
            return Err(Error::invalid(
                "--at",
                format!(
                    "w has {} row(s), one per output unit, so b and y need {} value(s) each (got \
                     {} and {})",
                    at.w.nrows(),
                    at.w.nrows(),
                    at.b.len(),
                    at.y.len()
                ),
            ));
        }
        Ok(at)
    }
}

/// The derivation evaluated at one example.
#[derive(Clone, Debug)]
pub struct Worked {
    /// The example's z, a and y.
    pub example: Example,
    /// The cost C at the example (the first step).
    pub cost: f64,
    /// Each gradient step's value at every weight, as (step number, values outputs × inputs).
    pub steps: Vec<(usize, Array2<f64>)>,
    /// ∂C/∂w: the result's values.
    pub dw: Array2<f64>,
    /// ∂C/∂b = ∂C/∂z for one example.
    pub db: Vec<f64>,
    /// Central finite differences of C in each weight.
    pub fd_w: Array2<f64>,
    /// Central finite differences of C in each bias.
    pub fd_b: Vec<f64>,
}

/// Refuses targets the loss cannot read: binary cross-entropy takes y ∈ {0, 1} (hard labels)
/// or y ∈ [0, 1] (`--targets soft`); categorical cross-entropy and NLL a one-hot y (hard) or a
/// distribution (soft: yₖ ≥ 0, Σₖ yₖ = 1); MSE any y.
///
/// # Errors
/// The first target that does not fit, with the set the loss reads.
pub fn check_targets(derivation: &Derivation, y: &[f64]) -> Result<()> {
    let refuse = |why: String| Err(Error::invalid("--at", why));
    let soft = derivation.targets == TargetSet::Soft;
    match derivation.loss {
        LossKind::Mse => Ok(()),
        LossKind::BinaryCrossEntropy => match y.iter().find(|&&v| {
            if soft {
                !(0.0..=1.0).contains(&v)
            } else {
                v != 0.0 && v != 1.0
            }
        }) {
            Some(v) if soft => refuse(format!(
                "y = {v}: binary cross-entropy reads a probability, y in [0, 1]"
            )),
            Some(v) => refuse(format!(
                "y = {v}: hard labels are 0 or 1 (for a probability in [0, 1], add --targets soft)"
            )),
            None => Ok(()),
        },
        LossKind::CrossEntropy | LossKind::Nll => {
            let sum: f64 = y.iter().sum();
            if let Some(v) = y.iter().find(|&&v| v < 0.0) {
                refuse(format!(
                    "y has {v}: a target distribution has no negative part"
                ))
            } else if soft && (sum - 1.0).abs() > 1e-9 {
                refuse(format!("y sums to {sum}: a target distribution sums to 1"))
            } else if !soft && (y.iter().any(|&v| v != 0.0 && v != 1.0) || sum != 1.0) {
                refuse(format!(
                    "y = {}: a hard label is one-hot (one 1, the rest 0; for a distribution, \
                     add --targets soft)",
                    y.iter().map(f64::to_string).collect::<Vec<_>>().join(",")
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// Evaluates `derivation` at `at`.
///
/// # Errors
/// Numbers that do not fit the derivation's form (one output unit for a scalar derivation, at
/// least two for an indexed one), or targets the loss cannot read ([`check_targets`]).
pub fn worked_example(derivation: &Derivation, at: &At) -> Result<Worked> {
    let outputs = at.w.nrows();
    match derivation.form {
        Form::Scalar if outputs != 1 => {
            return Err(Error::invalid(
                "--at",
                format!(
                    "this derivation has one output unit: give w one row, b and y one value (got \
                     {outputs} rows)"
                ),
            ));
        }
        Form::Indexed if outputs < 2 => {
            return Err(Error::invalid(
                "--at",
                "this derivation has K ≥ 2 output units: give w one row per unit (rows separated \
                 by ;), and b and y one value per unit",
            ));
        }
        _ => {}
    }
    check_targets(derivation, &at.y)?;
    let point_with = |w: &Array2<f64>, b: &[f64], i: usize, j: usize| Point {
        w: w.clone(),
        b: b.to_vec(),
        examples: vec![forward(derivation.activation, w, b, &at.x, at.y.clone())],
        i,
        j,
    };
    let cost_at =
        |w: &Array2<f64>, b: &[f64]| derivation.steps[0].expr.eval(&point_with(w, b, 0, 0));
    let example = forward(derivation.activation, &at.w, &at.b, &at.x, at.y.clone());
    let every = |f: &dyn Fn(&Point) -> f64| {
        Array2::from_shape_fn(at.w.dim(), |(i, j)| f(&point_with(&at.w, &at.b, i, j)))
    };
    let steps: Vec<(usize, Array2<f64>)> = derivation
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.side == Side::Gradient)
        .map(|(n, s)| (n + 1, every(&|p| s.expr.eval(p))))
        .collect();
    let dw = every(&|p| derivation.gradient().expr.eval(p));
    let db = (0..outputs)
        .map(|i| derivation.bias.eval(&point_with(&at.w, &at.b, i, 0)))
        .collect();
    let h = 1e-6;
    let fd_w = Array2::from_shape_fn(at.w.dim(), |(i, j)| {
        let (mut up, mut down) = (at.w.clone(), at.w.clone());
        up[[i, j]] += h;
        down[[i, j]] -= h;
        (cost_at(&up, &at.b) - cost_at(&down, &at.b)) / (2.0 * h)
    });
    let fd_b = (0..outputs)
        .map(|i| {
            let (mut up, mut down) = (at.b.clone(), at.b.clone());
            up[i] += h;
            down[i] -= h;
            (cost_at(&at.w, &up) - cost_at(&at.w, &down)) / (2.0 * h)
        })
        .collect();
    // Hard labels keep 0·ln 0 = 0, which the formula in floating point makes NaN.
    let mut cost = cost_at(&at.w, &at.b);
    let element_wise_probabilities = !derivation.activation.is_row_wise()
        && derivation.from == crate::loss::LossInput::Probabilities
        && matches!(
            derivation.loss,
            crate::loss::LossKind::BinaryCrossEntropy | crate::loss::LossKind::CrossEntropy
        );
    if cost.is_nan() && element_wise_probabilities {
        cost = example
            .a
            .iter()
            .zip(&example.y)
            .map(|(&a, &y)| super::cases::cost(derivation.loss, a, y))
            .sum();
    }
    Ok(Worked {
        cost,
        example,
        steps,
        dw,
        db,
        fd_w,
        fd_b,
    })
}

/// A number as the worked example prints it: 4 significant digits, or what a non-finite value
/// means.
fn shown(v: f64) -> String {
    if v.is_nan() {
        "NaN (undefined)".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+∞" } else { "−∞" }.into()
    } else {
        let rounded = format!("{:.4}", v);
        let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".into()
        } else {
            trimmed.replace('-', "−")
        }
    }
}

fn vector(values: impl IntoIterator<Item = f64>) -> String {
    let parts: Vec<String> = values.into_iter().map(shown).collect();
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("({})", parts.join(", "))
    }
}

fn matrix(values: &Array2<f64>) -> String {
    if values.nrows() == 1 {
        vector(values.row(0).iter().copied())
    } else {
        let rows: Vec<String> = values
            .rows()
            .into_iter()
            .map(|r| vector(r.iter().copied()))
            .collect();
        format!("[{}]", rows.join("; "))
    }
}

/// The worked example as text.
pub fn render_worked(derivation: &Derivation, at: &At, worked: &Worked) -> String {
    let mut out = String::new();
    let scalar = derivation.form == Form::Scalar;
    let (w, b) = if scalar { ("w", "b") } else { ("W", "b") };
    let _ = writeln!(
        out,
        "Worked example: x = {}, {w} = {}, {b} = {}, y = {}",
        vector(at.x.iter().copied()),
        matrix(&at.w),
        vector(at.b.iter().copied()),
        vector(at.y.iter().copied())
    );
    let _ = writeln!(
        out,
        "  z = {w}·x + b = {}",
        vector(worked.example.z.iter().copied())
    );
    let _ = writeln!(
        out,
        "  a = {}(z) = {}",
        derivation.activation.symbol().0,
        vector(worked.example.a.iter().copied())
    );
    let _ = writeln!(out, "  C = {}   (step 1)", shown(worked.cost));
    let (lhs, _) = derivation.side(Side::Gradient);
    for (n, values) in &worked.steps {
        let _ = writeln!(out, "  step {n:>2}: {lhs} = {}", matrix(values));
    }
    let (bias, _) = derivation.side(Side::Bias);
    let dz = if scalar { "∂C/∂z" } else { "∂C/∂zᵢ" };
    let _ = writeln!(
        out,
        "  {dz} = {bias} = {}   (one example: z moves with b at slope 1)",
        vector(worked.db.iter().copied())
    );
    let _ = writeln!(
        out,
        "  finite differences of C: {lhs} ≈ {}, {bias} ≈ {}",
        matrix(&worked.fd_w),
        vector(worked.fd_b.iter().copied())
    );
    let agree = worked
        .dw
        .iter()
        .chain(&worked.db)
        .zip(worked.fd_w.iter().chain(&worked.fd_b))
        .all(|(a, n)| (a - n).abs() <= 1e-5 * a.abs().max(1.0));
    let undefined =
        worked.dw.iter().chain(&worked.db).any(|v| !v.is_finite()) || !worked.cost.is_finite();
    let region = derivation
        .region
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!(" (it holds where {r})"))
        .unwrap_or_default();
    let verdict = if undefined {
        format!(
            "  The cost or its gradient is undefined at these numbers{region}: see \"Where it is \
             undefined\" above."
        )
    } else if agree {
        "  The result agrees with the finite differences.".to_string()
    } else {
        format!(
            "  The result does not agree with the finite differences: these numbers lie outside \
             the region where the derivation holds{region}."
        )
    };
    let _ = writeln!(out, "{verdict}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::explain::derive;
    use crate::loss::LossKind;

    fn close(values: &[f64], expected: &[f64]) -> bool {
        values.len() == expected.len()
            && values
                .iter()
                .zip(expected)
                .all(|(a, b)| (a - b).abs() < 5e-5)
    }

    #[test]
    fn the_learners_numbers() {
        let at: At = "x=1,2 w=0.1,0.2 b=0 y=1".parse().unwrap();
        let relu = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
        let worked = worked_example(&relu, &at).unwrap();
        assert!(
            close(worked.dw.as_slice().unwrap(), &[-2.0, -4.0]),
            "{:?}",
            worked.dw
        );
        assert!(close(worked.fd_w.as_slice().unwrap(), &[-2.0, -4.0]));
        assert!(close(&worked.db, &[-2.0]));
        let sigmoid = derive(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
        let worked = worked_example(&sigmoid, &at).unwrap();
        assert!(
            close(worked.dw.as_slice().unwrap(), &[-0.377541, -0.755082]),
            "{:?}",
            worked.dw
        );
        let text = render_worked(&sigmoid, &at, &worked);
        assert!(
            text.contains("(−0.3775, −0.7551)")
                && text.contains("agrees with the finite differences"),
            "{text}"
        );
    }

    #[test]
    fn a_dead_relu_is_named_undefined() {
        let at: At = "x=1,2 w=-0.1,-0.2 b=0 y=1".parse().unwrap();
        let relu = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
        let worked = worked_example(&relu, &at).unwrap();
        let text = render_worked(&relu, &at, &worked);
        assert!(
            text.contains("C = +∞") && text.contains("undefined at these numbers"),
            "{text}"
        );
    }

    #[test]
    fn bad_numbers_are_refused_naming_the_field() {
        for (text, expected) in [
            (
                "x=1,2 w=0.1 b=0 y=1",
                "w has 1 weights per row but x has 2 inputs",
            ),
            ("x=1 w=0.1 b=0", "y=… is missing"),
            ("x=1 w=a b=0 y=1", "w: 'a' is not a finite number"),
            ("x=1 w=1 b=0 y=1 q=2", "unknown name 'q'"),
        ] {
            let error = text.parse::<At>().unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let softmax = derive(Activation::Softmax, LossKind::CrossEntropy);
        let at: At = "x=1 w=1 b=0 y=1".parse().unwrap();
        assert!(
            worked_example(&softmax, &at)
                .unwrap_err()
                .to_string()
                .contains("K ≥ 2")
        );
    }
}
