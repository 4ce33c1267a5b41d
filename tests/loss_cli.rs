//! `nabla loss` end to end: the PyTorch reference cases and the error contract.

mod common;

use common::{run_with_stdin, shared_path, stdout};
use serde_json::Value;

fn close(got: &Value, expected: &Value) -> bool {
    match (got, expected) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(x, y))
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= 1e-7 + 1e-5 * b.abs()
        }
        _ => false,
    }
}

/// Every case of ../shared/reference/loss-cases.jsonl, computed by PyTorch: values to 1e-5
/// relative, refusals with exit 2 and a JSON error.
#[test]
#[cfg_attr(
    not(shared_reference),
    ignore = "needs ../shared/reference/loss-cases.jsonl (or $NABLA_SHARED)"
)]
fn reference_cases_computed_by_pytorch_agree() {
    let Some(path) = shared_path(
        "reference/loss-cases.jsonl",
        "reference_cases_computed_by_pytorch_agree",
    ) else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let output = run_with_stdin(&["loss"], &case["case"].to_string());
        let result: Value = serde_json::from_str(&stdout(&output)).unwrap_or(Value::Null);
        let expected = &case["expected"];
        let ok = if expected.get("error").is_some() {
            output.status.code() == Some(2)
                && result["error"]
                    .as_str()
                    .is_some_and(|e| !e.trim().is_empty())
        } else {
            output.status.success()
                && close(&result["loss"], &expected["loss"])
                && close(&result["gradient"], &expected["gradient"])
        };
        if !ok {
            failures.push(format!("{}: {}", case["name"], stdout(&output)));
        }
        count += 1;
    }
    assert!(count >= 168, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn error_of(case: &str) -> String {
    let output = run_with_stdin(&["loss"], case);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{case} → {}",
        stdout(&output)
    );
    let result: Value = serde_json::from_str(&stdout(&output)).expect("the error is JSON");
    result["error"]
        .as_str()
        .expect("an error string")
        .to_string()
}

#[test]
fn bad_input_is_refused_with_a_json_error_and_exit_2() {
    let cases = [
        ("{not json", "malformed case JSON"),
        (
            r#"{"loss": "hinge", "output": [[1.0]], "target": [0]}"#,
            "unknown loss 'hinge'",
        ),
        (
            r#"{"loss": "mse", "output": [[1.0], [2.0, 3.0]], "target": [[1.0], [2.0]]}"#,
            "output[1]: expected 1 values",
        ),
        (
            r#"{"loss": "cross-entropy", "output": [[1.0, 2.0]], "target": [2]}"#,
            "target[0]: class index 2 is outside 0..2",
        ),
        (
            r#"{"loss": "cross-entropy", "output": [[1.0, 2.0]], "target": [0.5]}"#,
            "expected an integer class index",
        ),
        (
            r#"{"loss": "binary-cross-entropy", "from": "probabilities", "output": [[1.5]], "target": [[1.0]]}"#,
            "1.5 is not a probability",
        ),
        (
            r#"{"loss": "mse", "output": [[1.0]], "target": [[1.0]], "colour": 3}"#,
            "unknown field `colour`",
        ),
        (
            r#"{"loss": "cross-entropy", "output": [[1.0, 2.0]], "target": [[1.0, 0.0], [0.0, 1.0]]}"#,
            "target",
        ),
        (
            r#"{"loss": "cross-entropy", "output": [[1.0, 2.0]], "target": [0], "label_smoothing": 2}"#,
            "label_smoothing",
        ),
        (
            r#"{"loss": "cross-entropy", "output": [[1.0, 2.0]], "target": [0], "class_weights": [1.0]}"#,
            "class_weights",
        ),
        (
            r#"{"loss": "cross-entropy", "activation": "swish", "output": [[1.0, 2.0]], "target": [0]}"#,
            "unknown activation 'swish'",
        ),
        (
            r#"{"loss": "cross-entropy", "output": [], "target": []}"#,
            "at least one row",
        ),
    ];
    for (case, expected) in cases {
        let error = error_of(case);
        assert!(
            error.contains(expected),
            "{case}: {error:?} lacks {expected:?}"
        );
    }
}

#[test]
fn refusal_explains_range_and_fix() {
    let error = error_of(
        r#"{"loss": "cross-entropy", "activation": "relu", "output": [[1.0, 2.0]], "target": [0]}"#,
    );
    assert!(
        error.contains("[0, ∞)") && error.contains("softmax") && error.contains("from logits"),
        "{error}"
    );
}

/// Logits of ±1000 through the binary: finite loss, exact gradient.
#[test]
fn logits_of_a_thousand_stay_finite() {
    let output = run_with_stdin(
        &["loss"],
        r#"{"loss": "cross-entropy", "from": "logits", "output": [[1000.0, -1000.0]], "target": [1]}"#,
    );
    let result: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["loss"].as_f64(), Some(2000.0));
    assert_eq!(result["gradient"], serde_json::json!([[1.0, -1.0]]));
    let output = run_with_stdin(
        &["loss"],
        r#"{"loss": "binary-cross-entropy", "from": "logits", "output": [[-1000.0]], "target": [[1.0]]}"#,
    );
    let result: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["loss"].as_f64(), Some(1000.0));
    assert_eq!(result["gradient"], serde_json::json!([[-1.0]]));
}
