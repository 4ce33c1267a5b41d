//! Data-parallel training under `mpirun` (a binary built with `--features mpi`): two ranks with
//! a global batch of B train as one process with batch B does, to f32 rounding, and two runs
//! with the same ranks are bit-identical. `.ci/run` runs this with Open MPI installed; without
//! `mpirun` on the PATH the test says so and passes nothing.

#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::Command;

use common::test_accuracy;

const NABLA: &str = env!("CARGO_BIN_EXE_nabla");

/// `nabla` on `ranks` processes: itself for 1, under mpirun for more.
fn nabla_on(ranks: usize) -> Command {
    if ranks == 1 {
        return Command::new(NABLA);
    }
    let mut mpirun = Command::new("mpirun");
    mpirun.args(["--allow-run-as-root", "-np", &ranks.to_string(), NABLA]);
    mpirun
}

/// Whether mpirun is missing (the tests then say so and check nothing).
fn mpirun_missing() -> bool {
    let missing = Command::new("mpirun").arg("--version").output().is_err();
    if missing {
        eprintln!("skipped: no mpirun on the PATH (install openmpi-bin)");
    }
    missing
}

/// Trains on the digits with `ranks` processes (1: no mpirun), their gradients summed as
/// `allreduce` says; returns the report.
fn train(ranks: usize, allreduce: &str, save: &Path) -> String {
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
    let output = nabla_on(ranks)
        .args(flags)
        .arg(save)
        .args(["--allreduce", allreduce])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

#[test]
fn two_ranks_train_as_one_process_and_repeat_bit_for_bit() {
    if mpirun_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (one, two, again, blocked) = (
        dir.path().join("one.safetensors"),
        dir.path().join("two.safetensors"),
        dir.path().join("again.safetensors"),
        dir.path().join("blocked.safetensors"),
    );
    let single = train(1, "auto", &one);
    let parallel = train(2, "overlapped", &two);
    train(2, "overlapped", &again);
    // Each layer's sum on a communication thread gives the same bits as one sum after the
    // backward pass: with two ranks each value is the same sum of the same two values.
    let blocking = train(2, "blocking", &blocked);
    assert!(parallel.contains("on a communication thread"), "{parallel}");
    assert!(blocking.contains("after the backward pass"), "{blocking}");
    assert_eq!(
        std::fs::read(&two).unwrap(),
        std::fs::read(&blocked).unwrap(),
        "the overlapped and blocking sums wrote different models"
    );
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

/// A rank killed with SIGKILL ends the whole job within seconds, leaving no model file, only
/// the last complete checkpoint; the run resumes from it with one process or with two ranks.
#[test]
fn a_killed_rank_ends_the_job_and_the_run_resumes_with_another_rank_count() {
    if mpirun_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("killed.safetensors");
    let checkpoint = dir.path().join("killed.safetensors.ckpt");
    let flags = |save: &Path| -> Vec<String> {
        [
            "train",
            "--data",
            "spirals",
            "--samples",
            "40000",
            "--hidden",
            "64",
            "--epochs",
            "12",
            "--batch",
            "128",
            "--threads",
            "1",
            "--checkpoint-every",
            "50",
            "--save",
        ]
        .iter()
        .map(ToString::to_string)
        .chain([save.display().to_string()])
        .collect()
    };
    let mut job = nabla_on(2)
        .args(flags(&model))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !checkpoint.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint was written"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The ranks are the processes whose command line names this run's model.
    let ranks = Command::new("pgrep")
        .args(["-f", &format!("^{NABLA} train .*{}", model.display())])
        .output()
        .unwrap();
    let pids: Vec<i32> = String::from_utf8_lossy(&ranks.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    let killed = std::time::Instant::now();
    // SAFETY: a process of this test's own job.
    unsafe { libc::kill(pids[1], libc::SIGKILL) };
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        assert!(
            killed.elapsed() < std::time::Duration::from_secs(10),
            "the job went on"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    eprintln!(
        "the job ended {:.2} s after the kill",
        killed.elapsed().as_secs_f64()
    );
    assert!(!status.success());
    assert!(!model.exists(), "a model was written by a killed job");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["killed.safetensors.ckpt"], "{leftovers:?}");
    // Resumed by one process, and (from a copy) by two ranks: both finish and save.
    let copy = dir.path().join("copy.safetensors.ckpt");
    std::fs::copy(&checkpoint, &copy).unwrap();
    for (ranks, checkpoint, save) in [
        (1, &checkpoint, &model),
        (2, &copy, &dir.path().join("copy.safetensors")),
    ] {
        let output = nabla_on(ranks)
            .args(flags(save))
            .arg("--resume")
            .arg(checkpoint)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(report.contains("resuming"), "{report}");
        assert!(test_accuracy(&report) > 0.9, "{report}");
        assert!(save.exists());
    }
}
