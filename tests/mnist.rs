//! The MNIST check of the training workflow (needs ../shared/data/mnist; skips without it).

mod common;

use common::{nabla, shared_path, stderr, stdout};

/// `nabla train --data ../shared/data/mnist --hidden 128 --epochs 5` reaches ≥ 0.97.
#[test]
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
