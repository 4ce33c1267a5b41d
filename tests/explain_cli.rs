//! `nabla explain`, `nabla diagnose` and `nabla compare-heads` through the binary.

mod common;

use common::{nabla, stderr, stdout};

fn run(args: &[&str]) -> std::process::Output {
    nabla().args(args).output().expect("nabla runs")
}

#[test]
fn explain_answers_the_learners_question_in_every_format() {
    let text = run(&[
        "explain",
        "--activation",
        "relu",
        "--loss",
        "binary-cross-entropy",
    ]);
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    for expected in [
        "C = −(1/n) Σₓ [y·ln a + (1 − y)·ln(1 − a)]",
        "chain rule",
        "Result: ∂C/∂wⱼ = (1/n) Σₓ (z − y)·xⱼ/(z·(1 − z))   (where 0 < z < 1)",
        "Where it is undefined:",
        "Probability model: no",
        "sigmoid output",
        "Machine-checked: each step equals the one before it at 1000 random points",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    let json = run(&[
        "explain",
        "--activation",
        "softmax",
        "--loss",
        "cross-entropy",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(value["compatible"], true);
    assert_eq!(value["gradient"]["text"], "∂C/∂wᵢⱼ = (1/n) Σₓ (aᵢ − yᵢ)·xⱼ");
    assert!(value["steps"].as_array().unwrap().len() >= 5);
    assert_eq!(value["checked"]["points"], 1000);
    let latex = stdout(&run(&[
        "explain",
        "--activation",
        "sigmoid",
        "--loss",
        "mse",
        "--format",
        "latex",
    ]));
    assert!(
        latex.contains("\\begin{align*}") && latex.contains("\\frac{1}{n} \\sum_{x}"),
        "{latex}"
    );
    let markdown = stdout(&run(&[
        "explain",
        "--activation",
        "tanh",
        "--loss",
        "nll",
        "--format",
        "markdown",
    ]));
    assert!(
        markdown.starts_with("### ") && markdown.contains("$$"),
        "{markdown}"
    );
}

#[test]
fn explain_refuses_unknown_names() {
    let out = run(&["explain", "--activation", "swish", "--loss", "mse"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown activation 'swish'"));
}

#[test]
fn diagnose_finds_a_double_softmax_and_an_incompatible_pairing() {
    let dir = tempfile::tempdir().unwrap();
    let double = dir.path().join("double.json");
    std::fs::write(
        &double,
        r#"{"inputs": 4, "hidden": [8], "hidden_activation": "relu", "outputs": 3, "output_activation": "softmax", "loss": {"kind": "cross-entropy", "from": "logits"}}"#,
    )
    .unwrap();
    let out = run(&["diagnose", "--config", double.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("error    double softmax"),
        "{}",
        stdout(&out)
    );
    let relu = dir.path().join("relu.json");
    std::fs::write(
        &relu,
        r#"{"inputs": 4, "hidden": [8], "hidden_activation": "relu", "outputs": 3, "output_activation": "relu", "loss": {"kind": "cross-entropy", "from": "probabilities"}}"#,
    )
    .unwrap();
    let out = stdout(&run(&["diagnose", "--config", relu.to_str().unwrap()]));
    assert!(
        out.contains("error    pairing: refused: a ReLU output cannot feed"),
        "{out}"
    );
}

#[test]
fn diagnose_runs_a_trained_model_on_data() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let trained = run(&["train", "--epochs", "2", "--save", model.to_str().unwrap()]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    let out = run(&[
        "diagnose",
        "--model",
        model.to_str().unwrap(),
        "--data",
        "digits",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("dead relu: hidden layer 1"),
        "{}",
        stdout(&out)
    );
}

/// The table answers the question: the fused softmax never goes NaN, a ReLU output does.
#[test]
fn compare_heads_measures_what_each_output_does() {
    let safe = stdout(&run(&["compare-heads", "--epochs", "2"]));
    assert!(safe.contains("relu      refused"), "{safe}");
    let out = run(&["compare-heads", "--epochs", "3", "--allow-unsafe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} row in\n{table}"))
            .to_string()
    };
    let steps = |line: &str| -> usize {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let of = fields.iter().position(|f| *f == "of").unwrap();
        fields[of - 1].parse().unwrap()
    };
    assert!(row("softmax").contains("fused"));
    assert_eq!(steps(&row("softmax")), 0);
    assert!(steps(&row("relu")) > 0, "{table}");
}
