//! The MNIST check of the training workflow (needs ../shared/data/mnist; skips without it).

mod common;

use common::{nabla, shared_path, stderr, stdout};

/// `nabla train --data ../shared/data/mnist --hidden 128 --epochs 5` reaches ≥ 0.97.
#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn mnist_hidden_128_five_epochs_reaches_97_percent() {
    let Some(dir) = shared_path(
        "data/mnist",
        "mnist_hidden_128_five_epochs_reaches_97_percent",
    ) else {
        return;
    };
    let out = nabla()
        .args([
            "train",
            "--data",
            dir.to_str().unwrap(),
            "--hidden",
            "128",
            "--epochs",
            "5",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let last = text.lines().last().unwrap();
    let accuracy: f64 = last.split_whitespace().nth(2).unwrap().parse().unwrap();
    println!("{last}");
    assert!(accuracy >= 0.97, "{text}");
}

/// docs/RESULTS.md, row 1, seed 1: Nielsen's 784-30-10 reproduces the documented 95.74 %
/// within half a point, and beats the book's 95.49 %. (Not to the digit: a change of the
/// matrix kernels' summation order changes the rounding, which 30 epochs of batch-10 SGD
/// amplify to a few tenths of a point.)
#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn nielsen_784_30_10_reproduces_the_documented_result() {
    let Some(dir) = shared_path(
        "data/mnist",
        "nielsen_784_30_10_reproduces_the_documented_result",
    ) else {
        return;
    };
    let out = nabla()
        .args([
            "train",
            "--data",
            dir.to_str().unwrap(),
            "--validation-split",
            "10000",
            "--hidden",
            "30",
        ])
        .args([
            "--activation",
            "sigmoid",
            "--output",
            "sigmoid",
            "--loss",
            "binary-cross-entropy",
            "--reduction",
            "batch-mean",
        ])
        .args([
            "--optimizer",
            "sgd",
            "--lr",
            "0.5",
            "--batch",
            "10",
            "--epochs",
            "30",
            "--init",
            "nielsen",
            "--seed",
            "1",
            "--threads",
            "2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("50000 train, 10000 validation, 10000 test rows"),
        "{text}"
    );
    let last = text.lines().last().unwrap();
    let accuracy: f64 = last.split_whitespace().nth(2).unwrap().parse().unwrap();
    println!("{last}");
    assert!(
        (accuracy - 0.9574).abs() <= 0.005 && accuracy > 0.9549,
        "{text}"
    );
}
