//! Every kind of target end to end through the binary: multi-label columns, probability
//! distributions and regression values are trained, evaluated, predicted, exported and resumed;
//! bad targets are refused before training, naming the line.

mod common;

use std::path::Path;
use std::process::Output;

use common::{ok, run, stderr, stdout};

fn refused(output: &Output, expected: &[&str]) {
    assert_eq!(output.status.code(), Some(2), "{}", stdout(output));
    let err = stderr(output);
    for e in expected {
        assert!(err.contains(e), "missing {e:?} in {err}");
    }
}

/// 300 rows of 4 features; labels a, b, c (yes/no), a distribution p0, p1, p2, and a value.
fn write_data(dir: &Path) {
    let mut multi = String::from("x0,x1,x2,x3,a,b,c\n");
    let mut soft = String::from("x0,x1,x2,x3,p0,p1,p2\n");
    let mut values = String::from("x0,x1,x2,x3,price\n");
    for i in 0..300 {
        let x: Vec<f64> = (0..4)
            .map(|j| (((i * 7 + j * 13) % 17) as f64 / 8.5) - 1.0)
            .collect();
        let features = x
            .iter()
            .map(|v| format!("{v}"))
            .collect::<Vec<_>>()
            .join(",");
        let (a, b, c) = (x[0] > 0.0, x[1] + x[2] > 0.0, x[3] > 0.5);
        multi.push_str(&format!(
            "{features},{},{},{}\n",
            u8::from(a),
            u8::from(b),
            u8::from(c)
        ));
        let k = usize::from(a) + usize::from(b);
        let mut p = [0.1, 0.1, 0.1];
        p[k] = 0.8;
        soft.push_str(&format!("{features},{},{},{}\n", p[0], p[1], p[2]));
        values.push_str(&format!(
            "{features},{}\n",
            100.0 + 30.0 * x[0] - 20.0 * x[3]
        ));
    }
    std::fs::write(dir.join("multi.csv"), multi).unwrap();
    std::fs::write(dir.join("soft.csv"), soft).unwrap();
    std::fs::write(dir.join("values.csv"), values).unwrap();
}

/// The last line's `name: value` pairs.
fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.starts_with(b"\x89PNG\r\n\x1a\n"))
}

fn last_line(text: &str) -> String {
    text.lines().last().unwrap_or_default().to_string()
}

#[test]
fn multi_label_columns_train_evaluate_predict_export_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_data(d);
    let out = ok(&run(
        &[
            "train",
            "--data",
            "multi.csv",
            "--label-column",
            "a,b,c",
            "--epochs",
            "30",
            "--hidden",
            "16",
            "--save",
            "m.safetensors",
            "--checkpoint-every",
            "20",
        ],
        d,
    ));
    assert!(out.contains("3 labels (multi-label)"), "{out}");
    assert!(
        out.contains("3 sigmoid + binary cross-entropy on probabilities (fused)"),
        "{out}"
    );
    let line = last_line(&out);
    assert!(
        line.starts_with("test micro-F1: ") && line.contains("test hamming loss: "),
        "{line}"
    );
    let evaluated = ok(&run(
        &["evaluate", "m.safetensors", "--plot", "labels.png"],
        d,
    ));
    assert!(is_png(&d.join("labels.png")), "per-label bars drawn");
    for expected in [
        "micro-F1: ",
        "macro-F1: ",
        "hamming loss: ",
        "subset accuracy: ",
        "label  precision",
    ] {
        assert!(evaluated.contains(expected), "{expected} in {evaluated}");
    }
    let json = ok(&run(
        &[
            "evaluate",
            "--model",
            "m.safetensors",
            "--json",
            "--threshold",
            "0.7",
        ],
        d,
    ));
    let body: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(body["task"], "multi-label");
    assert_eq!(body["threshold"], 0.7);
    assert_eq!(body["per_label"].as_array().unwrap().len(), 3);
    let predicted = ok(&run(
        &["predict", "--model", "m.safetensors", "--data", "multi.csv"],
        d,
    ));
    assert!(
        predicted.starts_with("row,a,b,c,p_a,p_b,p_c\n"),
        "{predicted}"
    );
    ok(&run(
        &["export", "--model", "m.safetensors", "--onnx", "m.onnx"],
        d,
    ));
    // Resume from the checkpoint for more epochs.
    let resumed = ok(&run(
        &[
            "train",
            "--data",
            "multi.csv",
            "--label-column",
            "a,b,c",
            "--epochs",
            "35",
            "--hidden",
            "16",
            "--resume",
            "m.safetensors.ckpt",
        ],
        d,
    ));
    assert!(resumed.contains("resuming m.safetensors.ckpt"), "{resumed}");
    assert!(last_line(&resumed).starts_with("test micro-F1: "));
}

#[test]
fn distributions_and_regression_train_and_score_in_their_own_terms() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_data(d);
    let out = ok(&run(
        &[
            "train",
            "--data",
            "soft.csv",
            "--label-column",
            "p0,p1,p2",
            "--targets",
            "distribution",
            "--epochs",
            "30",
            "--hidden",
            "16",
            "--save",
            "soft.safetensors",
        ],
        d,
    ));
    assert!(out.contains("3 classes (probability targets)"), "{out}");
    let line = last_line(&out);
    assert!(line.starts_with("test accuracy: "), "{line}");
    let accuracy: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(accuracy > 0.8, "{line}");
    let predicted = ok(&run(
        &[
            "predict",
            "--model",
            "soft.safetensors",
            "--data",
            "soft.csv",
            "--format",
            "jsonl",
        ],
        d,
    ));
    let first: serde_json::Value = serde_json::from_str(predicted.lines().next().unwrap()).unwrap();
    let sum: f64 = first["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-5);

    let out = ok(&run(
        &[
            "train",
            "--data",
            "values.csv",
            "--loss",
            "mse",
            "--epochs",
            "60",
            "--hidden",
            "16",
            "--save",
            "values.safetensors",
        ],
        d,
    ));
    assert!(
        out.contains("1 target (regression)") && out.contains("1 identity + mean squared error"),
        "{out}"
    );
    let line = last_line(&out);
    assert!(
        line.starts_with("test R²: ") && line.contains("test MSE: "),
        "{line}"
    );
    let r2: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(r2 > 0.8, "{line}");
    let evaluated = ok(&run(
        &["evaluate", "values.safetensors", "--plot", "values.png"],
        d,
    ));
    assert!(
        is_png(&d.join("values.png")),
        "predicted against true drawn"
    );
    assert!(
        evaluated.contains("R²: ") && evaluated.contains("MAE: "),
        "{evaluated}"
    );
    // Predictions are in the targets' own units (around 100), not standardised ones.
    let predicted = ok(&run(
        &[
            "predict",
            "--model",
            "values.safetensors",
            "--data",
            "values.csv",
        ],
        d,
    ));
    let value: f64 = predicted
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((50.0..150.0).contains(&value), "{predicted}");
}

#[test]
fn bad_targets_are_refused_before_training_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("range.csv"), "x,a,b\n1,0,1\n2,1,1.5\n3,0,0\n").unwrap();
    refused(
        &run(
            &[
                "train",
                "--data",
                "range.csv",
                "--label-column",
                "a,b",
                "--targets",
                "multi-label",
            ],
            d,
        ),
        &["range.csv", "line 3", "'b' is 1.5, outside [0, 1]"],
    );
    std::fs::write(d.join("sum.csv"), "x,p,q\n1,0.5,0.5\n2,0.7,0.4\n").unwrap();
    refused(
        &run(
            &[
                "train",
                "--data",
                "sum.csv",
                "--label-column",
                "p,q",
                "--targets",
                "distribution",
            ],
            d,
        ),
        &["sum.csv", "line 3", "sum to 1.1"],
    );
    std::fs::write(d.join("text.csv"), "x,price\n1,2.5\n2,high\n").unwrap();
    refused(
        &run(
            &[
                "train",
                "--data",
                "text.csv",
                "--label-column",
                "price",
                "--targets",
                "regression",
            ],
            d,
        ),
        &["text.csv", "line 3", "'high' is not a number"],
    );
    refused(
        &run(
            &["train", "--data", "text.csv", "--label-column", "nope"],
            d,
        ),
        &["text.csv", "no column named 'nope'"],
    );
    // Range refusals stand: a ReLU output with binary cross-entropy on multi-label targets.
    std::fs::write(
        d.join("ok.csv"),
        "x,a,b\n1,0,1\n2,1,1\n3,0,0\n4,1,0\n5,1,1\n6,0,0\n",
    )
    .unwrap();
    refused(
        &run(
            &[
                "train",
                "--data",
                "ok.csv",
                "--label-column",
                "a,b",
                "--output",
                "relu",
            ],
            d,
        ),
        &["refused: a ReLU output cannot feed binary cross-entropy"],
    );
}
