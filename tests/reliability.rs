//! Crash safety and numerical faults through the binary: runs killed with SIGKILL at random
//! moments resume from their checkpoint to the same final weights, bit for bit; a diverging run
//! stops at the first NaN/∞, names where, and leaves a loadable last-good checkpoint.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{nabla, stderr, stdout};

/// A run long enough to be killed in the middle (about a second), with a checkpoint every 7
/// steps.
fn train(dir: &Path, extra: &[&str]) -> Command {
    let mut command = nabla();
    command
        .current_dir(dir)
        .args([
            "train",
            "--data",
            "spirals",
            "--samples",
            "3000",
            "--hidden",
            "128,128",
            "--epochs",
            "6",
            "--batch",
            "16",
            "--seed",
            "5",
            "--threads",
            "2",
            "--checkpoint-every",
            "7",
            "--checkpoint",
            "run.ckpt",
            "--save",
            "final.safetensors",
        ])
        .args(extra);
    command
}

#[test]
fn killed_runs_resume_bit_identically() {
    let reference_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let reference = train(reference_dir.path(), &[]).output().unwrap();
    assert!(reference.status.success(), "{}", stderr(&reference));
    let full = started.elapsed();
    let expected = std::fs::read(reference_dir.path().join("final.safetensors")).unwrap();

    // Kill times spread over the run, from a fixed sequence (bounded: 20 kills).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut resumed_mid_run = 0;
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let fraction = 0.05 + 0.9 * (state % 1000) as f64 / 1000.0;
        let mut child = train(dir.path(), &[])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let checkpoint = dir.path().join("run.ckpt");
        // Every few rounds, kill the resumed run once more before letting it finish.
        if round % 4 == 0 && checkpoint.exists() {
            let mut again = train(dir.path(), &["--resume", "run.ckpt"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(full.mul_f64(0.3));
            again.kill().unwrap();
            again.wait().unwrap();
        }
        let finish = if checkpoint.exists() {
            resumed_mid_run += 1;
            train(dir.path(), &["--resume", "run.ckpt"])
                .output()
                .unwrap()
        } else {
            train(dir.path(), &[]).output().unwrap()
        };
        assert!(
            finish.status.success(),
            "round {round}: {}",
            stderr(&finish)
        );
        let got = std::fs::read(dir.path().join("final.safetensors")).unwrap();
        assert!(
            got == expected,
            "round {round} (killed at {:.0}% of the run) ended with different weights",
            100.0 * fraction
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
    }
    assert!(
        resumed_mid_run >= 15,
        "only {resumed_mid_run} of 20 kills left a checkpoint to resume from"
    );
}

#[test]
fn a_checkpoint_from_other_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = nabla()
        .current_dir(dir.path())
        .args([
            "train",
            "--data",
            "xor",
            "--epochs",
            "1",
            "--checkpoint-every",
            "5",
            "--checkpoint",
            "c.ckpt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let other = nabla()
        .current_dir(dir.path())
        .args([
            "train", "--data", "xor", "--epochs", "1", "--hidden", "7", "--resume", "c.ckpt",
        ])
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
    assert!(
        stderr(&other).contains("different data or settings (network)"),
        "{}",
        stderr(&other)
    );
}

#[test]
fn a_diverging_run_stops_at_the_first_fault_and_keeps_the_last_good_state() {
    let dir = tempfile::tempdir().unwrap();
    let out = nabla()
        .current_dir(dir.path())
        .args([
            "train",
            "--data",
            "moons",
            "--optimizer",
            "sgd",
            "--lr=1e30",
            "--epochs",
            "3",
            "--detect-anomalies",
            "--checkpoint",
            "good.ckpt",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("numerical fault at epoch 1, step") && err.contains("NaN or ∞ in layer"),
        "{err}"
    );
    assert!(
        err.contains("good.ckpt") && !err.contains("panicked"),
        "{err}"
    );
    // The last good state is a valid checkpoint with finite weights: resume it with a sane rate.
    let resumed = nabla()
        .current_dir(dir.path())
        .args([
            "train",
            "--data",
            "moons",
            "--optimizer",
            "sgd",
            "--lr",
            "0.1",
            "--epochs",
            "3",
            "--resume",
            "good.ckpt",
        ])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(stderr(&resumed).contains("warning: resuming with different settings (optimizer)"));
    let _ = Duration::ZERO;
}

#[test]
fn gradient_clipping_keeps_a_steep_run_finite() {
    let dir = tempfile::tempdir().unwrap();
    let out = nabla()
        .current_dir(dir.path())
        .args([
            "train",
            "--data",
            "moons",
            "--optimizer",
            "sgd",
            "--lr",
            "50",
            "--epochs",
            "2",
            "--clip-grad-norm",
            "0.01",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
