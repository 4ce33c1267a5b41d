//! docs/ERRORS.md's table is the program's output: each case below writes its bad input into a
//! scratch directory, runs the command, and the row shows the exit code and the message it
//! printed. The test fails when a message, an exit code or the table changes;
//! `NABLA_BLESS=1 cargo test --release --test docs_errors` rewrites the table.

mod common;

use std::io::Write;
use std::path::Path;

use common::{nabla, npy_bytes, stderr};

/// A case: what is bad, the files it needs, and the command.
struct Case {
    title: &'static str,
    files: &'static [(&'static str, Fixture)],
    args: &'static [&'static str],
}

/// How a fixture's bytes are made.
#[derive(Clone, Copy)]
enum Fixture {
    Text(&'static str),
    Bytes(&'static [u8]),
    Gzip(&'static [u8]),
    /// A gzip stream of these bytes with its checksum broken.
    GzipBadChecksum(&'static [u8]),
    /// A gzip stream of these bytes cut 10 bytes short.
    GzipTruncated(&'static [u8]),
    /// A .npy file: (descr, shape, body bytes).
    Npy(&'static str, &'static str, usize),
    /// A file of this many bytes of 'a,' (beyond a limit).
    Repeated(usize),
    /// A model trained here on two features and three classes 0–2 (`model.csv`).
    Model,
    /// A model's safetensors file with one tensor's bytes or shape broken.
    BrokenModel(Breakage),
    Directory,
}

#[derive(Clone, Copy)]
enum Breakage {
    MissingBias,
    BiasShape,
    BiasDtype,
    HeaderLength,
    HeaderTooLarge,
}

const IDX_IMAGES: &[u8] = &[
    0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8,
];
const IDX_LABELS: &[u8] = &[0, 0, 8, 1, 0, 0, 0, 2, 0, 1];
const TRAIN: &str =
    "a,b,label\n0,0,0\n1,0,1\n0,1,2\n1,1,0\n2,0,1\n0,2,2\n2,2,0\n3,0,1\n0,3,2\n3,3,0\n";

const CASES: &[Case] = &[
    Case {
        title: "CSV: ragged row",
        files: &[("ragged.csv", Fixture::Text("a,b,label\n1,2,0\n3,1\n"))],
        args: &["train", "--data", "ragged.csv"],
    },
    Case {
        title: "CSV: non-numeric cell",
        files: &[("text.csv", Fixture::Text("a,b,label\n1,2,0\n3,x,1\n"))],
        args: &["train", "--data", "text.csv"],
    },
    Case {
        title: "CSV: NaN cell",
        files: &[("nan.csv", Fixture::Text("a,b,label\nNaN,2,0\n3,1,1\n"))],
        args: &["train", "--data", "nan.csv"],
    },
    Case {
        title: "CSV: a header naming a column twice",
        files: &[("twice.csv", Fixture::Text("a,label,label\n1,0,1\n2,1,0\n"))],
        args: &["train", "--data", "twice.csv"],
    },
    Case {
        title: "CSV: missing label column",
        files: &[("nolabel.csv", Fixture::Text("a,b,c\n1,2,0\n3,1,1\n"))],
        args: &["train", "--data", "nolabel.csv", "--label-column", "label"],
    },
    Case {
        title: "CSV: non-integer class label (classes asked for)",
        files: &[("frac.csv", Fixture::Text("a,label\n1,0\n2,2.5\n"))],
        args: &["train", "--data", "frac.csv", "--targets", "classes"],
    },
    Case {
        title: "CSV: a line longer than 16 MiB",
        files: &[("long.csv", Fixture::Repeated(17 << 20))],
        args: &["train", "--data", "long.csv"],
    },
    Case {
        title: "CSV: too few rows for the splits",
        files: &[("tiny.csv", Fixture::Text("a,label\n1,0\n2,1\n3,0\n"))],
        args: &["train", "--data", "tiny.csv"],
    },
    Case {
        title: "targets: multi-label value outside [0, 1]",
        files: &[("range.csv", Fixture::Text("x,a,b\n1,0,1\n2,1,1.5\n3,0,0\n"))],
        args: &[
            "train",
            "--data",
            "range.csv",
            "--label-column",
            "a,b",
            "--targets",
            "multi-label",
        ],
    },
    Case {
        title: "targets: a distribution that does not sum to 1",
        files: &[("sum.csv", Fixture::Text("x,p,q\n1,0.5,0.5\n2,0.7,0.4\n"))],
        args: &[
            "train",
            "--data",
            "sum.csv",
            "--label-column",
            "p,q",
            "--targets",
            "distribution",
        ],
    },
    Case {
        title: "targets: text in a regression target",
        files: &[("price.csv", Fixture::Text("x,price\n1,2.5\n2,high\n"))],
        args: &[
            "train",
            "--data",
            "price.csv",
            "--label-column",
            "price",
            "--targets",
            "regression",
        ],
    },
    Case {
        title: "labels: a class the model does not know",
        files: &[
            ("model.safetensors", Fixture::Model),
            ("unknown.csv", Fixture::Text("a,b,label\n1,2,0\n3,1,7\n")),
        ],
        args: &["evaluate", "model.safetensors", "--data", "unknown.csv"],
    },
    Case {
        title: "predict: a column the model needs is missing",
        files: &[
            ("model.safetensors", Fixture::Model),
            ("rows.csv", Fixture::Text("a,c\n1,2\n")),
        ],
        args: &["predict", "model.safetensors", "--data", "rows.csv"],
    },
    Case {
        title: "IDX: wrong magic",
        files: &[
            (
                "magic.idx",
                Fixture::Bytes(&[1, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]),
            ),
            ("lab.idx", Fixture::Bytes(IDX_LABELS)),
        ],
        args: &["train", "--data", "magic.idx", "--labels", "lab.idx"],
    },
    Case {
        title: "IDX: truncated body",
        files: &[
            (
                "short.idx",
                Fixture::Bytes(&[
                    0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5,
                ]),
            ),
            ("lab.idx", Fixture::Bytes(IDX_LABELS)),
        ],
        args: &["train", "--data", "short.idx", "--labels", "lab.idx"],
    },
    Case {
        title: "IDX: gzip with a wrong checksum",
        files: &[
            ("corrupt.idx.gz", Fixture::GzipBadChecksum(IDX_IMAGES)),
            ("lab.idx", Fixture::Bytes(IDX_LABELS)),
        ],
        args: &["train", "--data", "corrupt.idx.gz", "--labels", "lab.idx"],
    },
    Case {
        title: "IDX: truncated gzip",
        files: &[
            ("cut.idx.gz", Fixture::GzipTruncated(IDX_IMAGES)),
            ("lab.idx", Fixture::Bytes(IDX_LABELS)),
        ],
        args: &["train", "--data", "cut.idx.gz", "--labels", "lab.idx"],
    },
    Case {
        title: "IDX: a gzip bomb declaring 4 GB",
        files: &[
            (
                "bomb.idx.gz",
                Fixture::Gzip(&[0, 0, 8, 3, 0, 1, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 1]),
            ),
            ("lab.idx", Fixture::Bytes(IDX_LABELS)),
        ],
        args: &["train", "--data", "bomb.idx.gz", "--labels", "lab.idx"],
    },
    Case {
        title: "IDX: images and labels disagree",
        files: &[
            ("images.idx", Fixture::Bytes(IDX_IMAGES)),
            (
                "three.idx",
                Fixture::Bytes(&[0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 0]),
            ),
        ],
        args: &["train", "--data", "images.idx", "--labels", "three.idx"],
    },
    Case {
        title: ".npy: unsupported dtype",
        files: &[("complex.npy", Fixture::Npy("<c8", "(2, 2)", 32))],
        args: &["train", "--data", "complex.npy"],
    },
    Case {
        title: ".npy: truncated",
        files: &[("trunc.npy", Fixture::Npy("<f4", "(2, 3)", 20))],
        args: &["train", "--data", "trunc.npy"],
    },
    Case {
        title: ".npy: 3-D labels",
        files: &[
            ("feat.npy", Fixture::Npy("<f4", "(2, 2)", 16)),
            ("labels3d.npy", Fixture::Npy("<f4", "(2, 1, 1)", 8)),
        ],
        args: &["train", "--data", "feat.npy", "--labels", "labels3d.npy"],
    },
    Case {
        title: "a directory where a file belongs",
        files: &[("folder.csv", Fixture::Directory)],
        args: &["train", "--data", "folder.csv"],
    },
    Case {
        title: "a near-miss of a built-in data set",
        files: &[],
        args: &["train", "--data", "moon"],
    },
    Case {
        title: "safetensors: header length cut off",
        files: &[(
            "cut.safetensors",
            Fixture::BrokenModel(Breakage::HeaderLength),
        )],
        args: &["evaluate", "cut.safetensors"],
    },
    Case {
        title: "safetensors: header larger than the file",
        files: &[(
            "huge.safetensors",
            Fixture::BrokenModel(Breakage::HeaderTooLarge),
        )],
        args: &["evaluate", "huge.safetensors"],
    },
    Case {
        title: "safetensors: missing tensor",
        files: &[(
            "missing.safetensors",
            Fixture::BrokenModel(Breakage::MissingBias),
        )],
        args: &["evaluate", "missing.safetensors"],
    },
    Case {
        title: "safetensors: wrong shape",
        files: &[(
            "shape.safetensors",
            Fixture::BrokenModel(Breakage::BiasShape),
        )],
        args: &["evaluate", "shape.safetensors"],
    },
    Case {
        title: "safetensors: unsupported dtype",
        files: &[(
            "dtype.safetensors",
            Fixture::BrokenModel(Breakage::BiasDtype),
        )],
        args: &["evaluate", "dtype.safetensors"],
    },
    Case {
        title: "config JSON: unknown field",
        files: &[(
            "unknown.json",
            Fixture::Text(r#"{"inputs": 2, "outputs": 3, "colour": "red"}"#),
        )],
        args: &["diagnose", "--config", "unknown.json"],
    },
    Case {
        title: "outputs: --save into a missing directory (before training)",
        files: &[],
        args: &[
            "train",
            "--data",
            "xor",
            "--save",
            "nodir/model.safetensors",
        ],
    },
    Case {
        title: "convert: a label that is not a number",
        files: &[("names.csv", Fixture::Text("a,b,label\n1,2,0\n3,4,cat\n"))],
        args: &["convert", "names.csv", "names.npy"],
    },
    Case {
        title: "outputs: a --save-dtype nabla does not write",
        files: &[],
        args: &[
            "train",
            "--data",
            "xor",
            "--save",
            "model.safetensors",
            "--save-dtype",
            "f16",
        ],
    },
    Case {
        title: "outputs: --metrics would overwrite the data",
        files: &[("data.csv", Fixture::Text(TRAIN))],
        args: &["train", "--data", "data.csv", "--metrics", "data.csv"],
    },
    Case {
        title: "outputs: a picture that is not .png",
        files: &[],
        args: &["train", "--data", "xor", "--plot", "curves.jpg"],
    },
    Case {
        title: "flag: --test given a number",
        files: &[],
        args: &["train", "--data", "xor", "--test", "0.3"],
    },
    Case {
        title: "flag: a mirror that is not a URL",
        files: &[],
        args: &[
            "download",
            "mnist",
            "--mirror",
            "not-a-url",
            "--cache-dir",
            "cache",
        ],
    },
    Case {
        title: "flag: batch 0",
        files: &[],
        args: &["train", "--batch", "0"],
    },
    Case {
        title: "flag: negative learning rate",
        files: &[],
        args: &["train", "--lr=-0.1"],
    },
    Case {
        title: "flag: hidden size 0",
        files: &[],
        args: &["train", "--hidden", "64,0"],
    },
    Case {
        title: "flag: unknown activation",
        files: &[],
        args: &["train", "--activation", "swish"],
    },
    Case {
        title: "pairing: a ReLU output with binary cross-entropy",
        files: &[],
        args: &[
            "train",
            "--output",
            "relu",
            "--loss",
            "binary-cross-entropy",
        ],
    },
    Case {
        title: "explain: bad worked-example numbers",
        files: &[],
        args: &[
            "explain",
            "--activation",
            "relu",
            "--at",
            "x=1,2 w=0.1 b=0 y=1",
        ],
    },
    Case {
        title: "explain --check: three sums nested",
        files: &[],
        args: &[
            "explain",
            "--activation",
            "softmax",
            "--check",
            "Σₖ Σₓ Σₖ (a - y)",
        ],
    },
];

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Trains the small model the cases share (once per scratch directory).
fn model(dir: &Path) {
    std::fs::write(dir.join("model.csv"), TRAIN).unwrap();
    let out = nabla()
        .args([
            "train",
            "--data",
            "model.csv",
            "--epochs",
            "1",
            "--validation-split",
            "0",
            "--test-split",
            "0",
            "--save",
            "model.safetensors",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The shared model with one part broken: cut, a header length beyond the file, or re-written
/// by the safetensors crate without its last bias, with it reshaped, or with it as I32.
fn broken(dir: &Path, breakage: Breakage) -> Vec<u8> {
    use safetensors::tensor::{Dtype, TensorView};
    if !dir.join("model.safetensors").exists() {
        model(dir);
    }
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    match breakage {
        Breakage::HeaderLength => return bytes[..5].to_vec(),
        Breakage::HeaderTooLarge => {
            let mut b = bytes.clone();
            b[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
            return b;
        }
        _ => {}
    }
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let last_bias = file
        .names()
        .into_iter()
        .filter(|k| k.ends_with(".bias"))
        .max()
        .unwrap()
        .to_string();
    let mut views: Vec<(String, TensorView)> = Vec::new();
    for (name, view) in file.tensors() {
        if name != last_bias {
            views.push((name, view));
            continue;
        }
        let data = view.data();
        match breakage {
            Breakage::MissingBias => {}
            Breakage::BiasShape => views.push((
                name,
                TensorView::new(Dtype::F32, vec![1, view.shape()[0]], data).unwrap(),
            )),
            Breakage::BiasDtype => views.push((
                name,
                TensorView::new(Dtype::I32, view.shape().to_vec(), data).unwrap(),
            )),
            _ => unreachable!(),
        }
    }
    safetensors::serialize(views, metadata.metadata().clone()).unwrap()
}

/// Runs every case and renders the table rows.
fn table() -> String {
    let mut rows = String::from("| bad input | command | exit | message |\n|---|---|---|---|\n");
    for case in CASES {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        for (name, fixture) in case.files {
            let path = dir.join(name);
            let bytes = match fixture {
                Fixture::Text(t) => t.as_bytes().to_vec(),
                Fixture::Bytes(b) => b.to_vec(),
                Fixture::Gzip(b) => gzip(b),
                Fixture::GzipBadChecksum(b) => {
                    let mut g = gzip(b);
                    let at = g.len() - 6;
                    g[at] ^= 0xff;
                    g
                }
                Fixture::GzipTruncated(b) => {
                    let g = gzip(b);
                    g[..g.len() - 10].to_vec()
                }
                Fixture::Npy(descr, shape, body) => npy_bytes(descr, shape, &vec![0; *body]),
                Fixture::Repeated(n) => b"a,".repeat(n / 2),
                Fixture::Model => {
                    model(dir);
                    continue;
                }
                Fixture::BrokenModel(b) => broken(dir, *b),
                Fixture::Directory => {
                    std::fs::create_dir(&path).unwrap();
                    continue;
                }
            };
            std::fs::write(&path, bytes).unwrap();
        }
        let out = nabla().args(case.args).current_dir(dir).output().unwrap();
        let code = out
            .status
            .code()
            .map_or("signal".to_string(), |c| c.to_string());
        let message: Vec<String> = stderr(&out)
            .lines()
            .map(|l| l.trim_end().replace('|', "\\|"))
            .filter(|l| !l.is_empty())
            .collect();
        let mut message = message.join(" ⏎ ");
        if message.chars().count() > 400 {
            message = message.chars().take(400).collect::<String>() + " …";
        }
        let command: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("\"{a}\"")
                } else {
                    a.to_string()
                }
            })
            .collect();
        rows.push_str(&format!(
            "| {} | `nabla {}` | {code} | {message} |\n",
            case.title,
            command.join(" ")
        ));
    }
    rows
}

#[test]
fn errors_md_shows_what_nabla_prints() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ERRORS.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- cases: tests/docs_errors.rs -->\n", "<!-- /cases -->");
    let begin = text.find(start).expect("the table's start marker") + start.len();
    let finish = text.find(end).expect("the table's end marker");
    let generated = table();
    // Every case is an input error: exit 2, one message naming what was expected.
    for line in generated.lines().skip(2) {
        assert!(
            line.contains("| 2 | error: "),
            "not a clean refusal: {line}"
        );
    }
    if std::env::var_os("NABLA_BLESS").is_some() {
        let updated = format!("{}{generated}{}", &text[..begin], &text[finish..]);
        std::fs::write(&path, updated).unwrap();
    } else {
        assert_eq!(
            text[begin..finish],
            generated,
            "docs/ERRORS.md is stale: NABLA_BLESS=1 cargo test --release --test docs_errors"
        );
    }
}
