//! Helpers shared by the integration tests: run the `nabla` binary, find `../shared`.
#![allow(dead_code)]

pub mod http;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `nabla` binary built for this test run.
pub fn nabla() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nabla"))
}

/// Runs `nabla args…` in `dir`, returning its output.
pub fn run(args: &[&str], dir: &Path) -> Output {
    nabla()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("nabla runs")
}

/// The standard output of a run that must have succeeded (both outputs shown if not).
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// Runs `nabla args…` with `stdin`, returning its output.
pub fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = nabla()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nabla binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `../shared` (or `$NABLA_SHARED`), when it exists. Tests that need it print why they skip.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NABLA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    dir.is_dir().then_some(dir)
}

/// `../shared/<relative>` when present; otherwise prints the reason the test skips.
pub fn shared_path(relative: &str, test: &str) -> Option<PathBuf> {
    let path = shared_dir()
        .map(|d| d.join(relative))
        .filter(|p| p.exists());
    if path.is_none() {
        println!(
            "skipping {test}: ../shared/{relative} is absent (set NABLA_SHARED to point at it)"
        );
    }
    path
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A `.npy` file (version 1.0, C order) with this dtype, shape and body, its header padded so
/// that the data starts at a multiple of 64 bytes as numpy writes it.
pub fn npy_bytes(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = nabla::data::npy_header(descr, false, shape);
    bytes.extend(body);
    bytes
}

/// "test accuracy: A  test loss: L" with A in [0, 1].
pub fn accuracy_of(line: &str) -> f64 {
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts[..2], ["test", "accuracy:"], "{line}");
    assert_eq!(parts[3..5], ["test", "loss:"], "{line}");
    let accuracy: f64 = parts[2].parse().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    accuracy
}

/// The test accuracy a `nabla train` report ends with (see [`accuracy_of`]).
pub fn test_accuracy(report: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.starts_with("test accuracy: "))
        .unwrap_or_else(|| panic!("no test accuracy in: {report}"));
    accuracy_of(line)
}

/// Exit 2, no panic, no abort, and every `expected` piece in the message.
pub fn refused(output: &Output, expected: &[&str]) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "status {:?}\nstdout: {}\nstderr: {err}",
        output.status,
        stdout(output)
    );
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "{err}"
    );
    for e in expected {
        assert!(err.contains(e), "missing {e:?} in: {err}");
    }
}
