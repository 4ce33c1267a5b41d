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

/// The learner's whole question: z ≤ 0, the sign, the bias, the reverse argument, a worked
/// example, a picture, PyTorch's Linear + CrossEntropyLoss, soft targets, and labels that do
/// not contradict each other.
#[test]
fn explain_answers_the_whole_question() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("relu.png");
    let out = run(&[
        "explain",
        "--activation",
        "relu",
        "--loss",
        "binary-cross-entropy",
        "--at",
        "x=1,2 w=0.1,0.2 b=0 y=1",
        "--plot",
        picture.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Compared with line breaks as spaces: the paragraphs are wrapped.
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = flat(&stdout(&out));
    for expected in [
        "y ∈ {0, 1} (hard labels)",
        "the leading minus sign flips the numerator: −(y − a) = a − y",
        "∂C/∂b = (1/n) Σₓ (z − y)/(z·(1 − z))",
        "z ≤ 0 (a = 0), y = 0: Cₓ = 0; ∂Cₓ/∂z = 0: the cost is defined, and the output is dead",
        "z ≤ 0 (a = 0), y = 1: Cₓ = +∞; ∂Cₓ/∂z = (−∞)·0: undefined (NaN in floating point)",
        "PyTorch (BCELoss) clamps ln at −100",
        "Keras clips a to [1e-7, 1 − 1e-7]",
        "Cₓ = ½(a − y)²: the squared error",
        "∂C/∂wⱼ = (−2, −4)",
        "The result agrees with the finite differences.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(std::fs::read(&picture).unwrap().starts_with(b"\x89PNG"));
    let sigmoid = flat(&stdout(&run(&[
        "explain",
        "--activation",
        "sigmoid",
        "--at",
        "x=1,2 w=0.1,0.2 b=0 y=1",
        "--targets",
        "soft",
    ])));
    assert!(
        sigmoid.contains("y ∈ [0, 1] (soft targets)") && sigmoid.contains("(−0.3775, −0.7551)"),
        "{sigmoid}"
    );
    // An identity output reads logits, as nabla train does: PyTorch's Linear + CrossEntropyLoss.
    let identity = flat(&stdout(&run(&["explain", "--activation", "identity"])));
    assert!(
        identity.contains("from logits")
            && identity.contains("Probability model: yes")
            && identity.contains("nn.CrossEntropyLoss")
            && identity.contains("an identity output"),
        "{identity}"
    );
    let probabilities = stdout(&run(&[
        "explain",
        "--activation",
        "identity",
        "--from",
        "probabilities",
    ]));
    assert!(
        probabilities.contains("Probability model: no"),
        "{probabilities}"
    );
    // MSE is not a probability model, and says so without contradicting its advice.
    let mse = flat(&stdout(&run(&[
        "explain",
        "--activation",
        "sigmoid",
        "--loss",
        "mse",
    ])));
    assert!(
        mse.contains("Probability model: not a probability model")
            && mse.contains("compatible: yes"),
        "{mse}"
    );
    // log-softmax + NLL advice matches its result.
    let nll = flat(&stdout(&run(&["explain", "--activation", "log-softmax"])));
    assert!(
        nll.contains("e^aᵢ − yᵢ") && !nll.contains("leaves a − y"),
        "{nll}"
    );
    // LaTeX is ASCII and carries the result, the undefined set and the advice.
    let latex = stdout(&run(&[
        "explain",
        "--activation",
        "relu",
        "--loss",
        "binary-cross-entropy",
        "--format",
        "latex",
    ]));
    assert!(latex.is_ascii(), "{latex}");
    for part in [
        "\\paragraph{Result.}",
        "Where it is undefined:",
        "\\paragraph{Advice.}",
    ] {
        assert!(latex.contains(part), "{part} in {latex}");
    }
    // Bad --at numbers exit 2 naming the field.
    let bad = run(&["explain", "--activation", "relu", "--at", "x=1 w=q b=0 y=1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("w: 'q' is not a finite number"),
        "{}",
        stderr(&bad)
    );
}

/// A model trained with --allow-unsafe: evaluate warns that its outputs are not probabilities.
#[test]
fn evaluate_warns_about_an_unsafe_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("unsafe.safetensors");
    let trained = run(&[
        "train",
        "--data",
        "moons",
        "--output",
        "relu",
        "--loss",
        "binary-cross-entropy",
        "--allow-unsafe",
        "--epochs",
        "3",
        "--save",
        model.to_str().unwrap(),
    ]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    let evaluated = run(&["evaluate", model.to_str().unwrap()]);
    assert!(
        stderr(&evaluated).contains("its outputs are not probabilities")
            && stderr(&evaluated).contains("rows have an output outside [0, 1]"),
        "{}",
        stderr(&evaluated)
    );
}

/// `explain --check`: the learner's own expression, diagnosed; a typo points at its column.
#[test]
fn explain_checks_the_learners_own_derivative() {
    let seed = [
        "explain",
        "--activation",
        "relu",
        "--loss",
        "binary-cross-entropy",
        "--check",
        "(y - z)/(z*(1 - z))",
    ];
    let out = run(&seed);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "a sign error",
        "a missing factor xⱼ",
        "it is ∂C/∂z, not ∂C/∂wⱼ",
        "step 7",
        "step 3",
        "holds only where 0 < z < 1",
        "use a sigmoid output",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let json = run(&[&seed[..], &["--format", "json"]].concat());
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(value["verdict"], "corrected");
    assert_eq!(value["factor"], -1.0);
    assert_eq!(value["missing"][0], "xⱼ");
    let typo = run(&[
        "explain",
        "--activation",
        "relu",
        "--check",
        "(y - z)/(z*(1 - z)",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("expected ')'\n  (y - z)/(z*(1 - z)\n                    ^"),
        "{}",
        stderr(&typo)
    );
}
