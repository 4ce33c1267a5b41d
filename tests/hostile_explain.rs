//! Careless and hostile input to `nabla explain`: every work size a user can type is bounded,
//! numbers the loss cannot read are refused, and expressions are read as written. Each case
//! ends with exit 2 and a message naming the input and the limit.

mod common;

use std::time::{Duration, Instant};

use common::{nabla, refused, stderr};

fn explain(args: &[&str]) -> std::process::Output {
    nabla()
        .arg("explain")
        .args(args)
        .output()
        .expect("nabla runs")
}

#[test]
fn every_work_size_is_bounded() {
    // 10¹² check points ran for hours.
    refused(
        &explain(&["--activation", "sigmoid", "--points", "1000000000000"]),
        &["--points", "from 1 to 1000000 points"],
    );
    refused(
        &explain(&["--activation", "sigmoid", "--points", "0"]),
        &["from 1 to 1000000 points"],
    );
    // A 120 × 120 worked example did not finish in 10 s (its cost grows as K⁴).
    let row = vec!["0.1"; 120].join(",");
    let w = vec![row.as_str(); 120].join(";");
    let zeros = vec!["0"; 120].join(",");
    let mut y = vec!["0"; 120];
    y[0] = "1";
    let at = format!("x={row} w={w} b={zeros} y={}", y.join(","));
    let started = Instant::now();
    refused(
        &explain(&["--activation", "softmax", "--at", &at]),
        &[
            "--at",
            "120 inputs and 120 output units",
            "at most 64 inputs",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // At the limits, it answers promptly.
    let row = vec!["0.01"; 64].join(",");
    let w = vec![row.as_str(); 16].join(";");
    let zeros = vec!["0"; 16].join(",");
    let mut y = vec!["0"; 16];
    y[3] = "1";
    let at = format!("x={row} w={w} b={zeros} y={}", y.join(","));
    let started = Instant::now();
    let answered = explain(&["--activation", "softmax", "--at", &at]);
    assert!(answered.status.success(), "{}", stderr(&answered));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn targets_the_loss_cannot_read_are_refused() {
    let bce = ["--activation", "sigmoid", "--loss", "binary-cross-entropy"];
    let with = |extra: &[&str]| explain(&[&bce[..], extra].concat());
    refused(
        &with(&["--at", "x=1,2 w=0.1,0.2 b=0 y=5"]),
        &["--at", "y = 5", "hard labels are 0 or 1", "--targets soft"],
    );
    refused(
        &with(&["--at", "x=1,2 w=0.1,0.2 b=0 y=0.5"]),
        &["y = 0.5", "--targets soft"],
    );
    refused(
        &with(&["--targets", "soft", "--at", "x=1,2 w=0.1,0.2 b=0 y=1.5"]),
        &["y = 1.5", "y in [0, 1]"],
    );
    assert!(
        with(&["--targets", "soft", "--at", "x=1,2 w=0.1,0.2 b=0 y=0.5"])
            .status
            .success()
    );
    let softmax = |y: &str, soft: bool| {
        let at = format!("x=1,2 w=0.1,0.2;0.3,0.1 b=0,0 y={y}");
        let mut args = vec!["--activation", "softmax", "--at", &at];
        if soft {
            args.extend(["--targets", "soft"]);
        }
        explain(&args)
    };
    refused(&softmax("0.5,0.5", false), &["one-hot", "--targets soft"]);
    refused(&softmax("1,1", false), &["one-hot"]);
    refused(&softmax("0.7,0.7", true), &["sums to 1.4", "sums to 1"]);
    refused(&softmax("-0.5,1.5", true), &["no negative part"]);
    assert!(softmax("0,1", false).status.success());
    assert!(softmax("0.25,0.75", true).status.success());
    // MSE reads any target.
    let mse = explain(&[
        "--activation",
        "identity",
        "--loss",
        "mse",
        "--at",
        "x=1 w=2 b=0 y=5",
    ]);
    assert!(mse.status.success(), "{}", stderr(&mse));
}

#[test]
fn parameters_and_expressions_are_read_as_written() {
    // A slope whose checks fail on rounding is refused, not reported as CHECK FAILED.
    refused(
        &explain(&["--activation", "leaky-relu:1e20"]),
        &["leaky-relu slope", "from 0 to 1e6"],
    );
    assert!(
        explain(&["--activation", "leaky-relu:1e6"])
            .status
            .success()
    );
    // A 400-digit literal used to become ∞ silently.
    let huge = format!("{}*(a - y)*x", "9".repeat(400));
    refused(
        &explain(&["--activation", "sigmoid", "--check", &huge]),
        &["--check", "400 digits", "beyond f64's range"],
    );
    // z² is z squared (it was read as a name "z²" with a wrong subscript).
    let squared = explain(&[
        "--activation",
        "identity",
        "--loss",
        "mse",
        "--with-respect-to",
        "z",
        "--check",
        "2*(z - y) + z² - z²",
    ]);
    let out = String::from_utf8_lossy(&squared.stdout);
    assert!(out.contains("Verdict: right"), "{out}{}", stderr(&squared));
}
