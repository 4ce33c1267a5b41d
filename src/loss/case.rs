//! The `nabla loss` contract (DESIGN.md §5): one JSON case in, loss and ∂loss/∂output out, in
//! f64, with PyTorch's semantics; refused pairings and bad input become an error message.

use ndarray::Array2;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::activation::Activation;
use crate::head::Head;
use crate::loss::{DEFAULT_IGNORE_INDEX, LossConfig, LossKind, LossValue, Reduction, Targets};

/// One case, exactly the fields of the contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LossCase {
    loss: String,
    from: Option<String>,
    activation: Option<String>,
    output: Vec<Vec<f64>>,
    target: Value,
    class_weights: Option<Vec<f64>>,
    pos_weight: Option<Vec<f64>>,
    ignore_index: Option<i64>,
    label_smoothing: Option<f64>,
    reduction: Option<String>,
}

/// The targets of a case, owned.
enum OwnedTargets {
    Classes(Vec<i64>),
    Dense(Array2<f64>),
}

/// Evaluates one `nabla loss` case (DESIGN.md §5): the JSON text of the case in, the JSON result
/// `{"loss", "gradient"}` out, or the message for `{"error": …}`. Never panics, whatever the
/// input.
pub fn evaluate_case(input: &str) -> Result<Value, String> {
    let case: LossCase =
        serde_json::from_str(input).map_err(|e| format!("malformed case JSON: {e}"))?;
    let kind: LossKind = case
        .loss
        .parse()
        .map_err(|e: crate::error::Error| e.to_string())?;
    let activation: Option<Activation> = case
        .activation
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: crate::error::Error| e.to_string())?;
    let from = match &case.from {
        Some(from) => from
            .parse()
            .map_err(|e: crate::error::Error| e.to_string())?,
        // The output holds pre-activations z of `activation`, and the loss reads σ(z) as
        // probabilities (log-probabilities for nll and log-softmax); so an identity or ReLU
        // output with a cross-entropy is refused. Without an activation, the loss's natural
        // input: logits (log-probabilities for nll).
        None => match activation {
            None => kind.natural_input(),
            Some(activation) => crate::head::probability_form(activation, kind),
        },
    };
    let output = matrix("output", &case.output)?;
    let targets = parse_targets(&case.target)?;
    let config = LossConfig {
        kind,
        from,
        class_weights: case.class_weights,
        pos_weight: case.pos_weight,
        ignore_index: case.ignore_index.unwrap_or(DEFAULT_IGNORE_INDEX),
        label_smoothing: case.label_smoothing.unwrap_or(0.0),
        reduction: match &case.reduction {
            Some(r) => r.parse().map_err(|e: crate::error::Error| e.to_string())?,
            None => Reduction::Mean,
        },
    };
    let targets_view = match &targets {
        OwnedTargets::Classes(c) => Targets::Classes(c),
        OwnedTargets::Dense(d) => Targets::Dense(d.view()),
    };
    let mut gradient = Array2::zeros(output.raw_dim());
    let value = match activation {
        Some(activation) => {
            let head = Head::new(activation, config, output.ncols()).map_err(|e| e.to_string())?;
            let mut scratch = Array2::zeros(output.raw_dim());
            head.evaluate(
                output.view(),
                &targets_view,
                scratch.view_mut(),
                Some(gradient.view_mut()),
            )
        }
        None => config.evaluate(output.view(), &targets_view, Some(gradient.view_mut())),
    }
    .map_err(|e| e.to_string())?;
    let finite = match &value {
        LossValue::Scalar(v) => v.is_finite(),
        LossValue::PerExample(v) => v.iter().all(|x| x.is_finite()),
        LossValue::PerElement(v) => v.iter().all(|x| x.is_finite()),
    };
    if !finite || !gradient.iter().all(|g| g.is_finite()) {
        return Err(format!(
            "the loss or its gradient is not a finite number here ({}): the outputs are too \
             extreme for this loss in f64",
            match &value {
                LossValue::Scalar(v) => format!("loss {v}"),
                _ => "some losses are ±∞ or NaN".to_string(),
            }
        ));
    }
    let loss = match value {
        LossValue::Scalar(v) => json!(v),
        LossValue::PerExample(v) => json!(v),
        LossValue::PerElement(v) => json!(rows(&v)),
    };
    Ok(json!({ "loss": loss, "gradient": rows(&gradient) }))
}

/// The largest case `nabla loss` reads (16 MiB of JSON: a million numbers).
pub const MAX_CASE_BYTES: u64 = 16 << 20;

/// Reads one case from `input` (at most [`MAX_CASE_BYTES`], UTF-8) and evaluates it: the JSON
/// result and whether it is one, or `{"error": …}` and false. Whatever the input, the answer
/// is JSON (the contract).
pub fn read_and_evaluate_case(input: impl std::io::Read) -> (Value, bool) {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Err(e) = input.take(MAX_CASE_BYTES + 1).read_to_end(&mut bytes) {
        return (
            json!({ "error": format!("cannot read the case: {e}") }),
            false,
        );
    }
    if bytes.len() as u64 > MAX_CASE_BYTES {
        return (
            json!({ "error": format!("the case is larger than {MAX_CASE_BYTES} bytes, the most nabla loss reads") }),
            false,
        );
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            return (
                json!({ "error": format!("the case is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()) }),
                false,
            );
        }
    };
    match evaluate_case(&text) {
        Ok(result) => (result, true),
        Err(message) => (json!({ "error": message }), false),
    }
}

fn rows(matrix: &Array2<f64>) -> Vec<Vec<f64>> {
    matrix.rows().into_iter().map(|r| r.to_vec()).collect()
}

/// A rectangular, non-empty matrix from nested lists.
fn matrix(field: &str, rows: &[Vec<f64>]) -> Result<Array2<f64>, String> {
    let width = rows
        .first()
        .map(Vec::len)
        .ok_or_else(|| format!("{field}: expected at least one row"))?;
    if width == 0 {
        return Err(format!("{field}[0]: expected at least one value per row"));
    }
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
        return Err(format!(
            "{field}[{i}]: expected {width} values like {field}[0], got {}",
            row.len()
        ));
    }
    Ok(Array2::from_shape_fn((rows.len(), width), |(i, j)| {
        rows[i][j]
    }))
}

/// A list of integers (class indices) or a list of rows (dense targets).
fn parse_targets(target: &Value) -> Result<OwnedTargets, String> {
    let items = target
        .as_array()
        .ok_or_else(|| "target: expected a list of class indices or a list of rows".to_string())?;
    if items.iter().all(Value::is_array) && !items.is_empty() {
        let rows = items
            .iter()
            .enumerate()
            .map(|(i, row)| {
                row.as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(j, v)| {
                        v.as_f64()
                            .ok_or_else(|| format!("target[{i}][{j}]: expected a number, got {v}"))
                    })
                    .collect::<Result<Vec<f64>, String>>()
            })
            .collect::<Result<Vec<_>, String>>()?;
        return matrix("target", &rows).map(OwnedTargets::Dense);
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_i64().ok_or_else(|| {
                format!(
                    "target[{i}]: expected an integer class index (or every entry a row), got {v}"
                )
            })
        })
        .collect::<Result<Vec<i64>, String>>()
        .map(OwnedTargets::Classes)
}
