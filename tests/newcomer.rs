//! A newcomer's first hour: no lost rows, no lost runs, no misleading numbers. One test per
//! thing that went wrong for someone trying nabla on their own data.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use common::{nabla, ok, run, run_with_stdin, stderr, stdout};

/// 150 rows of an iris-like table: 4 features and a numeric class 0–2, no header.
fn headerless(dir: &Path) -> String {
    let text: String = (0..150)
        .map(|i| {
            let class = i % 3;
            let f = |j: usize| ((i * 31 + j * 17) % 10) as f64 / 10.0 + class as f64 * 1.5;
            format!("{},{},{},{},{class}\n", f(0), f(1), f(2), f(3))
        })
        .collect();
    std::fs::write(dir.join("iris.csv"), &text).unwrap();
    text
}

#[test]
fn a_csv_without_a_header_keeps_its_first_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    headerless(d);
    let out = run(&["train", "--data", "iris.csv", "--epochs", "2"], d);
    let text = ok(&out);
    // 150 rows: 30 test, 12 validation, 108 train.
    assert!(
        text.contains("108 train, 12 validation, 30 test rows"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("read as data, not as a header"),
        "{}",
        stderr(&out)
    );
    // --header forces the first line to be names: here they repeat, and that is refused.
    let forced = run(
        &["train", "--data", "iris.csv", "--epochs", "1", "--header"],
        d,
    );
    assert!(
        stderr(&forced).contains("'0' appears twice in the header"),
        "{}",
        stderr(&forced)
    );
    let text = std::fs::read_to_string(d.join("iris.csv")).unwrap();
    std::fs::write(d.join("named.csv"), format!("10,20,30,40,50\n{text}")).unwrap();
    let named = ok(&run(
        &["train", "--data", "named.csv", "--epochs", "1", "--header"],
        d,
    ));
    assert!(
        named.contains("108 train, 12 validation, 30 test rows"),
        "{named}"
    );
    // predict gives one line per row of a three-row file without a header.
    std::fs::write(
        d.join("three.csv"),
        "0.1,0.2,0.3,0.4\n1.6,1.7,1.8,1.9\n3.1,3.2,3.3,3.4\n",
    )
    .unwrap();
    let trained = ok(&run(
        &[
            "train",
            "--data",
            "iris.csv",
            "--epochs",
            "1",
            "--save",
            "h.safetensors",
        ],
        d,
    ));
    assert!(trained.contains("saved h.safetensors"));
    let predicted = ok(&run(
        &[
            "predict",
            "--model",
            "h.safetensors",
            "--data",
            "three.csv",
            "--no-header",
        ],
        d,
    ));
    assert_eq!(
        predicted.lines().count(),
        4,
        "header + 3 rows:\n{predicted}"
    );
    // Standard input works as a source too.
    let piped = run_with_stdin(
        &[
            "predict",
            "--model",
            d.join("h.safetensors").to_str().unwrap(),
            "--data",
            "-",
        ],
        "0.1,0.2,0.3,0.4\n1.6,1.7,1.8,1.9\n",
    );
    assert_eq!(ok(&piped).lines().count(), 3);
}

#[test]
fn too_few_rows_are_refused_before_training_and_splits_of_zero_are_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.csv"), "a,label\n1,0\n2,1\n").unwrap();
    let out = run(&["train", "--data", "tiny.csv"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("leaves no test row") && stderr(&out).contains("--test FILE"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("epoch"),
        "refused before the first epoch"
    );
    // --test-split 0 is accepted, like --validation-split 0: the last line scores the
    // training rows and says so.
    headerless(d);
    let text = ok(&run(
        &[
            "train",
            "--data",
            "iris.csv",
            "--epochs",
            "1",
            "--test-split",
            "0",
            "--validation-split",
            "0",
        ],
        d,
    ));
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("train accuracy: ") && last.contains("no test rows"),
        "{last}"
    );
}

#[test]
fn evaluate_scores_the_held_out_rows_by_default_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let trained = ok(&run(
        &["train", "--epochs", "5", "--save", "digits.safetensors"],
        d,
    ));
    let test_line = trained.lines().last().unwrap().to_string();
    let evaluated = ok(&run(&["evaluate", "--model", "digits.safetensors"], d));
    assert!(
        evaluated.contains("rows: the 359 held-out test rows of digits"),
        "{evaluated}"
    );
    // The same accuracy as train's last line.
    let accuracy = test_line.split_whitespace().nth(2).unwrap();
    assert!(
        evaluated.contains(&format!("accuracy: {accuracy}")),
        "{test_line}\n{evaluated}"
    );
    let all = ok(&run(
        &[
            "evaluate",
            "--model",
            "digits.safetensors",
            "--split",
            "all",
        ],
        d,
    ));
    assert!(all.contains("rows: all 1797 rows of digits"), "{all}");
    let train = ok(&run(
        &[
            "evaluate",
            "--model",
            "digits.safetensors",
            "--split",
            "train",
        ],
        d,
    ));
    assert!(train.contains("the 1294 training rows"), "{train}");
}

#[test]
fn numeric_labels_with_gaps_are_named_and_readable_as_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..60)
        .map(|i| format!("{},{}\n", i, [1, 2, 10][i % 3]))
        .collect();
    std::fs::write(d.join("gaps.csv"), format!("a,label\n{rows}")).unwrap();
    let out = run(&["train", "--data", "gaps.csv", "--epochs", "1"], d);
    ok(&out);
    assert!(stdout(&out).contains("11 classes"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("8 classes never occur")
            && stderr(&out).contains("--labels-as names"),
        "{}",
        stderr(&out)
    );
    let named = ok(&run(
        &[
            "train",
            "--data",
            "gaps.csv",
            "--epochs",
            "1",
            "--labels-as",
            "names",
        ],
        d,
    ));
    assert!(named.contains("3 classes"), "{named}");
}

#[test]
fn friction_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Train's flags work without the word `train`, and one epoch is "1 epoch".
    let text = ok(&run(&["--epochs", "1", "--threads", "1"], d));
    assert!(
        text.contains("; 1 epoch; ") && text.contains("; 1 thread"),
        "{text}"
    );
    // A near-miss of a built-in name is suggested, with the list.
    let out = run(&["train", "--data", "moon"], d);
    assert!(
        stderr(&out).contains("did you mean moons?") && stderr(&out).contains("fashion-mnist"),
        "{}",
        stderr(&out)
    );
    // --hidden 0 points to --hidden none.
    let out = run(&["train", "--hidden", "0"], d);
    assert!(stderr(&out).contains("--hidden none"), "{}", stderr(&out));
    // A mirror that is not a URL is refused, not retried.
    let out = run(
        &[
            "train",
            "--data",
            "mnist",
            "--mirror",
            "not-a-url",
            "--cache-dir",
            "cache",
        ],
        d,
    );
    assert!(
        stderr(&out).contains("not an http:// or https:// URL"),
        "{}",
        stderr(&out)
    );
    // predict asks for its rows instead of defaulting to the digits.
    ok(&run(
        &[
            "train",
            "--data",
            "xor",
            "--epochs",
            "1",
            "--save",
            "x.safetensors",
        ],
        d,
    ));
    let out = run(&["predict", "--model", "x.safetensors"], d);
    assert!(stderr(&out).contains("--data FILE"), "{}", stderr(&out));
    // The model may be named without --model.
    let text = ok(&run(&["evaluate", "x.safetensors"], d));
    assert!(text.contains("rows: the "), "{text}");
    // --test is a file; a number there points to --test-split.
    let out = run(&["train", "--data", "xor", "--test", "0.3"], d);
    assert!(
        stderr(&out).contains("--test-split 0.3"),
        "{}",
        stderr(&out)
    );
    // A picture path that is not .png is refused before training.
    let out = run(&["train", "--data", "xor", "--plot", "curves.jpg"], d);
    assert!(
        stderr(&out).contains("give a path ending in .png") && !stdout(&out).contains("epoch 1"),
        "{}",
        stderr(&out)
    );
    // One spelling of output formats: predict refuses latex, naming what it prints.
    let out = run(
        &[
            "predict",
            "--model",
            "x.safetensors",
            "--data",
            "xor",
            "--format",
            "latex",
        ],
        d,
    );
    assert!(
        stderr(&out).contains("predict prints csv, jsonl, json"),
        "{}",
        stderr(&out)
    );
    // nabla loss --help documents the case with an example.
    let help = ok(&run(&["loss", "--help"], d));
    assert!(
        help.contains("\"target\"") && help.contains("Example:"),
        "{help}"
    );
}

#[test]
fn compare_heads_averages_seeds_and_wraps_its_paragraph() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&run(
        &[
            "compare-heads",
            "--epochs",
            "2",
            "--seeds",
            "0,1",
            "--allow-unsafe",
        ],
        dir.path(),
    ));
    assert!(
        out.lines().skip(1).all(|l| l.chars().count() <= 140),
        "{out}"
    );
    let paragraph: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("softmax is"))
        .collect();
    assert!(
        paragraph.len() > 2 && paragraph.iter().all(|l| l.chars().count() <= 100),
        "{out}"
    );
    assert!(out.contains(" ± "), "mean ± spread over the seeds:\n{out}");
    assert!(
        out.contains("1438 train") && out.contains("seeds 0, 1"),
        "{out}"
    );
    assert!(
        !out.contains("validation"),
        "no validation rows are split off: {out}"
    );
}

#[test]
fn ctrl_c_finishes_the_step_saves_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "train",
        "--data",
        "moons",
        "--samples",
        "20000",
        "--epochs",
        "400",
        "--threads",
        "1",
        "--save",
        "m.safetensors",
    ];
    let mut child = nabla()
        .args(args)
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait for training to run, then interrupt as Ctrl-C does.
    for line in lines.by_ref() {
        if line.unwrap().split_whitespace().nth(1) == Some("2/400") {
            break;
        }
    }
    // SAFETY: kill sends a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}\n{err}");
    assert!(rest.iter().any(|l| l == "saved m.safetensors"), "{rest:?}");
    assert!(
        err.contains("interrupted") && err.contains("--resume m.safetensors.ckpt"),
        "{err}"
    );
    assert!(d.join("m.safetensors.ckpt").is_file() && d.join("m.safetensors").is_file());
    // The interrupted run continues where it stopped.
    let mut resume: Vec<&str> = args.to_vec();
    resume[6] = "4";
    resume.extend(["--resume", "m.safetensors.ckpt"]);
    let out = run(&resume, d);
    assert!(
        stdout(&out).contains("resuming m.safetensors.ckpt"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("different settings (epochs)"),
        "{}",
        stderr(&out)
    );
}
