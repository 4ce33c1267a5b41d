//! Data-parallel training under `mpirun` (a binary built with `--features mpi`): two ranks with
//! a global batch of B train as one process with batch B does, to f32 rounding, and two runs
//! with the same ranks are bit-identical. `.ci/run` runs this with Open MPI installed; without
//! `mpirun` on the PATH the test says so and passes nothing.

#![cfg(feature = "mpi")]

use std::path::Path;
use std::process::Command;

const NABLA: &str = env!("CARGO_BIN_EXE_nabla");

/// Trains on the digits with `ranks` processes (1: no mpirun); returns the report.
fn train(ranks: usize, save: &Path) -> String {
    let flags = [
        "train",
        "--data",
        "digits",
        "--hidden",
        "32",
        "--epochs",
        "4",
        "--batch",
        "64",
        // SGD, not Adam: Adam's update does not see a gradient's scale, SGD's does.
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--momentum",
        "0.9",
        "--threads",
        "1",
        "--save",
    ];
    let output = if ranks == 1 {
        Command::new(NABLA).args(flags).arg(save).output()
    } else {
        Command::new("mpirun")
            .args(["--allow-run-as-root", "-np", &ranks.to_string(), NABLA])
            .args(flags)
            .arg(save)
            .output()
    }
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

fn test_accuracy(report: &str) -> f64 {
    report
        .lines()
        .find_map(|l| l.strip_prefix("test accuracy: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{report}"))
        .parse()
        .unwrap()
}

#[test]
fn two_ranks_train_as_one_process_and_repeat_bit_for_bit() {
    if Command::new("mpirun").arg("--version").output().is_err() {
        eprintln!("skipped: no mpirun on the PATH (install openmpi-bin)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (one, two, again) = (
        dir.path().join("one.safetensors"),
        dir.path().join("two.safetensors"),
        dir.path().join("again.safetensors"),
    );
    let single = train(1, &one);
    let parallel = train(2, &two);
    train(2, &again);
    // Rank 0 alone reports, and says how the batch is shared.
    assert_eq!(parallel.matches("test accuracy: ").count(), 1, "{parallel}");
    assert!(parallel.contains("data parallel: 2 ranks"), "{parallel}");
    assert!(!single.contains("data parallel"));
    assert!((test_accuracy(&single) - test_accuracy(&parallel)).abs() <= 0.001);
    assert_eq!(
        std::fs::read(&two).unwrap(),
        std::fs::read(&again).unwrap(),
        "two 2-rank runs wrote different models"
    );
    let load = |path: &Path| nabla::io::load_model::<f32>(path, None).unwrap();
    let (a, b) = (load(&one), load(&two));
    let mut largest = 0.0f32;
    for (x, y) in a.network.layers().iter().zip(b.network.layers()) {
        for (p, q) in x
            .weights
            .iter()
            .chain(&x.bias)
            .zip(y.weights.iter().chain(&y.bias))
        {
            largest = largest.max((p - q).abs());
        }
    }
    // Measured: 3.0e-7 after 4 epochs of SGD (the halves of each batch are summed in another
    // order than one product sums them; the largest weight is about 1).
    eprintln!("largest weight difference, 2 ranks against 1 process: {largest:e}");
    assert!(largest < 1e-5, "the weights differ by {largest}");
}
