//! The output shown in README.md is the program's output, checked here so it cannot drift.
//!
//! A ```text block right after a marker line is what the command in the marker prints:
//!
//! ```text
//! <!-- output: nabla ARGS -->            stdout then stderr of `nabla ARGS`
//! <!-- output: nabla ARGS <<< TEXT -->   … with TEXT on standard input
//! <!-- output(mnist): nabla ARGS -->     … needs ../shared/data/mnist (ignored without it)
//! <!-- run: nabla ARGS -->               run only (making a file a later block uses)
//! ```
//!
//! Commands run in a scratch directory in which `../shared` is the real one. A block may begin
//! with the command as the reader would type it (`$ …`); a `…` line stands for the epoch lines
//! between the first and the last. Timings, throughputs and thread counts are masked before
//! comparing. `NABLA_BLESS=1 cargo test --release --test docs_output` rewrites the blocks, and
//! every ```text block of README.md must have a marker.

mod common;

use std::path::{Path, PathBuf};

use common::{nabla, stderr, stdout};

/// Which markers a test run handles.
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    Nothing,
    Mnist,
}

struct Marker {
    /// The marker's line (0-based).
    line: usize,
    kind: &'static str,
    needs: Needs,
    args: Vec<String>,
    stdin: Option<String>,
}

fn parse_marker(line: usize, text: &str) -> Option<Marker> {
    let body = text
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let (head, command) = body.split_once(':')?;
    let (kind, needs) = match head.trim() {
        "output" => ("output", Needs::Nothing),
        "output(mnist)" => ("output", Needs::Mnist),
        "run" => ("run", Needs::Nothing),
        _ => return None,
    };
    let (command, stdin) = match command.split_once("<<<") {
        Some((c, s)) => (c, Some(s.trim().to_string())),
        None => (command, None),
    };
    let mut words = shell_words(command).into_iter();
    assert_eq!(
        words.next().as_deref(),
        Some("nabla"),
        "line {}: a marker runs nabla",
        line + 1
    );
    Some(Marker {
        line,
        kind,
        needs,
        args: words.collect(),
        stdin,
    })
}

/// Splits a command line at spaces, keeping "double-quoted words" together.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// `line` with the numbers that change between runs replaced by `#`: those before `ms`, `s`,
/// `samples/s`, `thread` and `threads`.
fn mask(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let units = [
        "ms",
        "s",
        "samples/s",
        "thread",
        "threads",
        "thread;",
        "threads;",
    ];
    words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let timed = words.get(i + 1).is_some_and(|next| units.contains(next));
            if timed && word.parse::<f64>().is_ok() {
                "#"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The epoch lines between the first and the last replaced by one `…`.
fn elide_epochs(lines: Vec<String>) -> Vec<String> {
    let epochs: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("epoch "))
        .collect();
    match (epochs.first(), epochs.last()) {
        (Some(&first), Some(&last)) if last > first + 1 => {
            let mut kept = lines[..=first].to_vec();
            kept.push("…".into());
            kept.extend_from_slice(&lines[last..]);
            kept
        }
        _ => lines,
    }
}

/// A scratch directory `work/` whose `../shared` is the real `../shared` (when present).
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    if let Some(shared) = common::shared_dir() {
        std::os::unix::fs::symlink(shared, root.path().join("shared")).unwrap();
    }
    (root, work)
}

fn run(marker: &Marker, dir: &Path) -> Vec<String> {
    let output = match &marker.stdin {
        None => nabla()
            .args(&marker.args)
            .current_dir(dir)
            .output()
            .unwrap(),
        Some(input) => {
            use std::io::Write;
            let mut child = nabla()
                .args(&marker.args)
                .current_dir(dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
            drop(pipe);
            child.wait_with_output().unwrap()
        }
    };
    let text = format!("{}{}", stdout(&output), stderr(&output));
    if marker.kind == "run" {
        assert!(output.status.success(), "nabla {:?}: {text}", marker.args);
    }
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

/// Checks (or, with NABLA_BLESS=1, rewrites) the blocks of `file` whose markers need `needs`.
fn check_file(file: &str, needs: Needs) {
    // Blessing, the tests that rewrite the same file take turns: each reads it and writes it
    // back whole, so two at once would lose one's rewrite.
    static REWRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let bless = std::env::var_os("NABLA_BLESS").is_some();
    let _turn = bless.then(|| REWRITING.lock().unwrap_or_else(|p| p.into_inner()));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let markers: Vec<Marker> = (0..lines.len())
        .filter_map(|i| parse_marker(i, &lines[i]))
        .collect();
    // Every text block follows a marker: the README shows no output a test does not make.
    for (i, line) in lines.iter().enumerate() {
        if line.trim() == "```text" {
            assert!(
                i > 0
                    && markers
                        .iter()
                        .any(|m| m.line + 1 == i && m.kind == "output"),
                "{file}, line {}: a ```text block without an <!-- output: … --> marker",
                i + 1
            );
        }
    }
    let (_root, dir) = scratch();
    let mut failures = Vec::new();
    // Blocks are rewritten from the last to the first so earlier line numbers stay valid.
    let mut rewrites: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for marker in &markers {
        if marker.needs != needs && marker.kind == "output" {
            continue;
        }
        let actual = run(marker, &dir);
        if marker.kind == "run" {
            continue;
        }
        let open = marker.line + 1;
        assert_eq!(lines[open].trim(), "```text", "{file}, line {}", open + 1);
        let close = open
            + 1
            + lines[open + 1..]
                .iter()
                .position(|l| l.trim() == "```")
                .expect("a closed block");
        let shown = &lines[open + 1..close];
        let command = shown.first().filter(|l| l.starts_with("$ ")).cloned();
        let body = &shown[usize::from(command.is_some())..];
        let actual = if body.iter().any(|l| l == "…") {
            elide_epochs(actual)
        } else {
            actual
        };
        let masked = |lines: &[String]| lines.iter().map(|l| mask(l)).collect::<Vec<_>>();
        if masked(body) != masked(&actual) {
            failures.push(format!(
                "{file}, line {}: `nabla {}` prints\n{}\nbut the block shows\n{}",
                marker.line + 1,
                marker.args.join(" "),
                actual.join("\n"),
                body.join("\n")
            ));
            let mut block: Vec<String> = command.into_iter().collect();
            block.extend(actual);
            rewrites.push((open + 1, close, block));
        }
    }
    if bless {
        for (start, end, block) in rewrites.into_iter().rev() {
            lines.splice(start..end, block);
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    } else {
        assert!(
            failures.is_empty(),
            "{}\n\n(NABLA_BLESS=1 cargo test --release --test docs_output rewrites the blocks)",
            failures.join("\n\n")
        );
    }
}

#[test]
fn readme_output_is_the_programs() {
    check_file("README.md", Needs::Nothing);
}

#[test]
#[cfg_attr(not(shared_mnist), ignore = "needs ../shared/data/mnist")]
fn readme_mnist_output_is_the_programs() {
    check_file("README.md", Needs::Mnist);
}

#[test]
fn masks_hide_only_what_changes_between_runs() {
    assert_eq!(
        mask("epoch 1/5  train loss 0.27  val acc 0.95  37 ms  67488 samples/s"),
        "epoch 1/5  train loss 0.27  val acc 0.95  # ms  # samples/s"
    );
    assert_eq!(
        mask("batch 32; 5 epochs; seed 0; 2 threads"),
        "batch 32; 5 epochs; seed 0; # threads"
    );
    assert_eq!(
        shell_words(r#"nabla explain --at "x=1,2 w=0.1 b=0 y=1" --plot p.png"#),
        [
            "nabla",
            "explain",
            "--at",
            "x=1,2 w=0.1 b=0 y=1",
            "--plot",
            "p.png"
        ]
    );
    let lines: Vec<String> = ["data", "epoch 1", "epoch 2", "epoch 3", "test"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        elide_epochs(lines),
        ["data", "epoch 1", "…", "epoch 3", "test"]
    );
}
