//! Training rows that do not fit in memory: a `.npy` file read in place (memory-mapped), parts
//! copied into temporary files, and the windowed shuffle. `NABLA_MEMORY_BUDGET` makes a small
//! set "not fit" here; `bench/out_of_core.sh` measures a set twice a real memory limit.

mod common;

use std::path::Path;
use std::process::Output;

use common::{nabla, ok, stderr};

/// `nabla train` for 2 epochs on the embedded digits converted to `.npy`, in `dir`, with a
/// memory budget (None: this machine's) and more flags; saves to `model`.
fn train(dir: &Path, budget: Option<&str>, model: &str, flags: &[&str]) -> Output {
    train_for("2", dir, budget, model, flags)
}

/// [`train`] for `epochs` epochs.
fn train_for(
    epochs: &str,
    dir: &Path,
    budget: Option<&str>,
    model: &str,
    flags: &[&str],
) -> Output {
    let mut command = nabla();
    command.current_dir(dir).args([
        "train",
        "--data",
        "d.npy",
        "--labels",
        "d.labels.npy",
        "--hidden",
        "16",
        "--epochs",
        epochs,
        "--threads",
        "1",
        "--save",
        model,
    ]);
    command.args(flags).env_remove("NABLA_MEMORY_BUDGET");
    if let Some(budget) = budget {
        command.env("NABLA_MEMORY_BUDGET", budget);
    }
    command.output().expect("nabla runs")
}

fn digits_npy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits/digits.csv");
    ok(&nabla()
        .current_dir(dir.path())
        .args(["convert", csv.to_str().unwrap(), "d.npy"])
        .output()
        .unwrap());
    dir
}

fn bytes(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap()
}

/// Read in place and copied into temporary files, the rows train to the same bits as in
/// memory when shuffled the same way; out of memory the default shuffle is the windowed one.
#[test]
fn rows_out_of_memory_train_as_rows_in_memory() {
    let dir = digits_npy();
    let d = dir.path();
    let in_memory = train(d, None, "memory.safetensors", &[]);
    let report = ok(&in_memory) + &stderr(&in_memory);
    assert!(!report.contains("memory-mapped"), "{report}");

    let out = train(d, Some("1K"), "out.safetensors", &["--shuffle-window", "0"]);
    let report = ok(&out) + &stderr(&out);
    assert!(
        report.contains("d.npy: read in place (memory-mapped)")
            && report.contains("the training, validation, test rows are kept in a temporary file")
            && report.contains("budget of 1.0 KB"),
        "{report}"
    );
    assert!(
        bytes(d, "memory.safetensors") == bytes(d, "out.safetensors"),
        "the same rows in the same order give the same model"
    );

    // Out of memory, nabla shuffles in windows of 8192 rows unless told otherwise: the model
    // of an in-memory run told to do the same.
    ok(&train(d, Some("1K"), "windows.safetensors", &[]));
    ok(&train(
        d,
        None,
        "memory-windows.safetensors",
        &["--shuffle-window", "8192"],
    ));
    assert!(bytes(d, "windows.safetensors") == bytes(d, "memory-windows.safetensors"));
    assert!(bytes(d, "windows.safetensors") != bytes(d, "memory.safetensors"));
}

/// An IDX images file (gzip) whose features do not fit streams into a temporary file, and
/// trains as it does from memory.
#[test]
fn idx_rows_out_of_memory_train_as_rows_in_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (rows, width) = (600usize, 20usize);
    let mut images = vec![0, 0, 0x08, 2];
    images.extend((rows as u32).to_be_bytes());
    images.extend((width as u32).to_be_bytes());
    images.extend((0..rows * width).map(|k| {
        let (i, j) = (k / width, k % width);
        ((i % 3) * 60 + (i * 7 + j * 13) % 50) as u8
    }));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&images).unwrap();
    std::fs::write(d.join("images.gz"), encoder.finish().unwrap()).unwrap();
    let mut labels = vec![0, 0, 0x08, 1];
    labels.extend((rows as u32).to_be_bytes());
    labels.extend((0..rows).map(|i| (i % 3) as u8));
    std::fs::write(d.join("labels"), labels).unwrap();
    let run = |budget: Option<&str>, model: &str| {
        let mut command = nabla();
        command
            .current_dir(d)
            .env_remove("NABLA_MEMORY_BUDGET")
            .args([
                "train",
                "--data",
                "images.gz",
                "--labels",
                "labels",
                "--hidden",
                "8",
                "--epochs",
                "2",
                "--threads",
                "1",
                "--shuffle-window",
                "0",
                "--save",
                model,
            ]);
        if let Some(budget) = budget {
            command.env("NABLA_MEMORY_BUDGET", budget);
        }
        let output = command.output().unwrap();
        ok(&output) + &stderr(&output)
    };
    let report = run(Some("1K"), "out.safetensors");
    assert!(
        report.contains("images.gz: its 47 KB of features are kept in a temporary file"),
        "{report}"
    );
    let report = run(None, "memory.safetensors");
    assert!(!report.contains("temporary file"), "{report}");
    assert!(bytes(d, "out.safetensors") == bytes(d, "memory.safetensors"));

    // Cut short or too long, a streamed file is refused as one read whole is.
    for (name, body) in [
        ("short.gz", &images[..images.len() - 100]),
        ("long.gz", &[&images[..], &[7u8; 30][..]].concat()[..]),
    ] {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(body).unwrap();
        std::fs::write(d.join(name), encoder.finish().unwrap()).unwrap();
        let output = nabla()
            .current_dir(d)
            .env("NABLA_MEMORY_BUDGET", "1K")
            .args([
                "train", "--data", name, "--labels", "labels", "--epochs", "1",
            ])
            .output()
            .unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{message}");
        let expected = if name == "short.gz" {
            "truncated"
        } else {
            "too long"
        };
        assert!(
            message.contains(name) && message.contains(expected),
            "{message}"
        );
    }
}

/// A memory budget that is not a size is ignored (this machine's is used), never a failure.
#[test]
fn a_malformed_budget_falls_back_to_the_machines() {
    let dir = digits_npy();
    let output = train(dir.path(), Some("lots"), "m.safetensors", &[]);
    let report = ok(&output) + &stderr(&output);
    assert!(!report.contains("memory-mapped"), "{report}");
}

/// A run started out of memory (windowed shuffle by default) and resumed where the rows fit in
/// memory keeps its window, so it ends with the model of an uninterrupted run.
#[test]
fn a_resumed_run_keeps_its_shuffle_window() {
    let dir = digits_npy();
    let d = dir.path();
    let run = |budget: Option<&str>, epochs: &str, model: &str, more: &[&str]| {
        let output = train_for(epochs, d, budget, model, more);
        ok(&output) + &stderr(&output)
    };
    run(Some("1K"), "2", "whole.safetensors", &[]);
    run(
        Some("1K"),
        "1",
        "first.safetensors",
        &["--checkpoint", "run.ckpt", "--checkpoint-every", "20"],
    );
    let report = run(None, "2", "resumed.safetensors", &["--resume", "run.ckpt"]);
    assert!(!report.contains("temporary file"), "{report}");
    assert!(
        bytes(d, "resumed.safetensors") == bytes(d, "whole.safetensors"),
        "the resumed run took its rows in another order: {report}"
    );
}
