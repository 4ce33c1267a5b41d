//! Careless and hostile input, one test per class of failure: every case ends with exit 2 and a
//! message naming the input and the limit (or does the documented right thing), under a 2 GB
//! memory cap, with no panic, no abort, and no file destroyed.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Output, Stdio};

use common::{nabla, npy_bytes, refused, stderr, stdout};

/// Runs `nabla args` in `dir` with its address space capped at 2 GB.
fn capped(args: &[&str], dir: &Path) -> Output {
    let mut command = nabla();
    command.args(args).current_dir(dir);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().expect("nabla runs")
}

/// A small two-class CSV (header a,b,label; 60 rows) that trains in a moment.
fn two_classes() -> String {
    let rows: String = (0..60)
        .map(|i| format!("{},{},{}\n", i, 60 - i, i % 2))
        .collect();
    format!("a,b,label\n{rows}")
}

fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Class 1: what used to panic.
#[test]
fn former_panics_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.npy"), npy_bytes("<é4", "(2, 2)", &[0; 16])).unwrap();
    refused(
        &capped(&["train", "--data", "bad.npy"], d),
        &["bad.npy", "element type '<é4' is not supported"],
    );
    refused(
        &capped(&["train", "--hidden", "100000000"], d),
        &["parameters", "at most 67108864"],
    );
    refused(
        &capped(&["train", "--hidden", "18446744073709551615"], d),
        &["parameters", "at most"],
    );
    refused(
        &capped(
            &["train", "--data", "moons", "--samples", "1000000000000"],
            d,
        ),
        &["samples", "from 1 to 16777216"],
    );
    // A distribution over one column (a softmax of one unit, always 1) ended in an index out
    // of bounds in the confusion matrix: CSV and .npy labels are refused, and so is a softmax
    // output over one unit (softmax with binary cross-entropy on two classes).
    let rows: String = (0..60).map(|i| format!("{i},{},1.0\n", 60 - i)).collect();
    std::fs::write(d.join("p.csv"), format!("a,b,p\n{rows}")).unwrap();
    refused(
        &capped(
            &[
                "train",
                "--data",
                "p.csv",
                "--label-column",
                "p",
                "--targets",
                "distribution",
            ],
            d,
        ),
        &["p.csv", "at least two", "--targets multi-label"],
    );
    let features: Vec<u8> = (0..120).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let ones: Vec<u8> = (0..60).flat_map(|_| 1.0f64.to_le_bytes()).collect();
    std::fs::write(d.join("x.npy"), npy_bytes("<f4", "(60, 2)", &features)).unwrap();
    std::fs::write(d.join("y.npy"), npy_bytes("<f8", "(60, 1)", &ones)).unwrap();
    refused(
        &capped(
            &[
                "train",
                "--data",
                "x.npy",
                "--labels",
                "y.npy",
                "--targets",
                "distribution",
            ],
            d,
        ),
        &["y.npy", "at least two"],
    );
    let two: String = (0..60)
        .map(|i| format!("{i},{},{}\n", 60 - i, i % 2))
        .collect();
    std::fs::write(d.join("two.csv"), format!("a,b,label\n{two}")).unwrap();
    refused(
        &capped(
            &[
                "train",
                "--data",
                "two.csv",
                "--output",
                "softmax",
                "--loss",
                "binary-cross-entropy",
            ],
            d,
        ),
        &["softmax over one output unit", "sigmoid"],
    );
    // An error while stderr is a closed pipe: exit 2, not a panic on EPIPE.
    let mut child = nabla()
        .args(["train", "--data", "nothere.csv"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

/// Class 2: small inputs that asked for huge memory.
#[test]
fn memory_is_bounded_by_what_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A gzip IDX file of a few bytes that declares a 1 GiB array.
    let mut header = vec![0, 0, 0x08, 2];
    header.extend(32768u32.to_be_bytes());
    header.extend(32768u32.to_be_bytes());
    header.extend([0u8; 1024]);
    std::fs::write(d.join("bomb-idx.gz"), gzip(&header)).unwrap();
    std::fs::write(d.join("labels-idx"), [0, 0, 8, 1, 0, 0, 0, 1, 0]).unwrap();
    refused(
        &capped(
            &["train", "--data", "bomb-idx.gz", "--labels", "labels-idx"],
            d,
        ),
        &["bomb-idx.gz", "1073741824 values", "larger than"],
    );
    // A class count taken from one stray label.
    let mut csv = String::from("a,label\n");
    for i in 0..40 {
        csv.push_str(&format!("{i},{}\n", if i == 7 { 65535 } else { i % 2 }));
    }
    std::fs::write(d.join("stray.csv"), csv).unwrap();
    refused(
        &capped(&["train", "--data", "stray.csv"], d),
        &["stray.csv", "line 9", "too large", "4096 classes"],
    );
    // One endless CSV line.
    let mut line = b"a,label\n".to_vec();
    line.extend(std::iter::repeat_n(b'1', 17 << 20));
    std::fs::write(d.join("line.csv"), line).unwrap();
    refused(
        &capped(&["train", "--data", "line.csv"], d),
        &["line.csv", "longer than 16777216 bytes"],
    );
    // A model file that never ends.
    refused(
        &capped(&["evaluate", "--model", "/dev/zero", "--data", "moons"], d),
        &["/dev/zero", "not a regular file"],
    );
    // A loss case larger than the contract reads: a JSON error, not an abort.
    let mut child = nabla()
        .arg("loss")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&vec![b' '; 17 << 20]);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("larger than"),
        "{body}"
    );
    // Thread counts beyond reason.
    refused(
        &capped(&["train", "--data", "xor", "--threads", "1000000"], d),
        &["threads", "256"],
    );
}

/// A model file of `classes` softmax outputs on 2 inputs, written directly.
fn wide_model(path: &Path, classes: usize) {
    model_with(path, classes, serde_json::json!({}));
}

/// [`wide_model`] with the fields of `patch` set over its config (objects merged one level).
fn model_with(path: &Path, classes: usize, patch: serde_json::Value) {
    use safetensors::tensor::{Dtype, TensorView};
    let mut config = serde_json::json!({
        "format": "nabla-model", "version": 1,
        "network": {"inputs": 2, "outputs": classes},
        "normalization": {"kind": "none"}, "label_names": [],
    });
    for (key, value) in patch.as_object().unwrap() {
        match (config.get_mut(key), value) {
            (Some(serde_json::Value::Object(old)), serde_json::Value::Object(new)) => {
                old.extend(new.clone());
            }
            _ => config[key] = value.clone(),
        }
    }
    let weights = vec![0u8; classes * 2 * 4];
    let bias = vec![0u8; classes * 4];
    let views = vec![
        (
            "0.weight".to_string(),
            TensorView::new(Dtype::F32, vec![classes, 2], &weights).unwrap(),
        ),
        (
            "0.bias".to_string(),
            TensorView::new(Dtype::F32, vec![classes], &bias).unwrap(),
        ),
    ];
    let metadata = std::collections::HashMap::from([("nabla".to_string(), config.to_string())]);
    std::fs::write(path, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

/// A row whose outputs overflow f32 (finite features and finite weights of 3e38: the logits are
/// ∞ and the softmax NaN) is refused, naming the file and the row, where predict printed
/// `0,0,NaN,NaN` and exited 0.
#[test]
fn predictions_that_overflow_are_refused() {
    use safetensors::tensor::{Dtype, TensorView};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = serde_json::json!({
        "format": "nabla-model", "version": 1,
        "network": {"inputs": 2, "outputs": 2},
        "normalization": {"kind": "none"}, "label_names": ["no", "yes"],
    });
    let weights = f32s(&[3e38; 4]);
    let bias = f32s(&[0.0; 2]);
    let views = vec![
        (
            "0.weight".to_string(),
            TensorView::new(Dtype::F32, vec![2, 2], &weights).unwrap(),
        ),
        (
            "0.bias".to_string(),
            TensorView::new(Dtype::F32, vec![2], &bias).unwrap(),
        ),
    ];
    let metadata = std::collections::HashMap::from([("nabla".to_string(), config.to_string())]);
    std::fs::write(
        d.join("huge.safetensors"),
        safetensors::serialize(views, Some(metadata)).unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("rows.csv"), "a,b\n0,0\n1,1\n").unwrap();
    refused(
        &capped(
            &[
                "predict",
                "--model",
                "huge.safetensors",
                "--data",
                "rows.csv",
            ],
            d,
        ),
        &["rows.csv", "row 1", "not numbers", "overflow"],
    );
}

/// Model files nabla would never write are refused at load: two outputs of one name, and a
/// softmax over one output (a regression's single value, always 1).
#[test]
fn inconsistent_model_files_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    model_with(
        &d.join("twins.safetensors"),
        2,
        serde_json::json!({"label_names": ["yes", "yes"]}),
    );
    refused(
        &capped(
            &[
                "evaluate",
                "--model",
                "twins.safetensors",
                "--data",
                "moons",
            ],
            d,
        ),
        &["twins.safetensors", "'yes' names outputs 0 and 1"],
    );
    model_with(
        &d.join("soft.safetensors"),
        1,
        serde_json::json!({"task": "regression", "label_names": ["y"]}),
    );
    refused(
        &capped(
            &["predict", "--model", "soft.safetensors", "--data", "moons"],
            d,
        ),
        &["soft.safetensors", "softmax over one output unit"],
    );
    // A regression's values from a softmax (tied to sum 1): refused at load, and at training.
    model_with(
        &d.join("tied.safetensors"),
        2,
        serde_json::json!({"task": "regression", "label_names": ["u", "v"]}),
    );
    refused(
        &capped(
            &["predict", "--model", "tied.safetensors", "--data", "moons"],
            d,
        ),
        &[
            "tied.safetensors",
            "softmax output cannot fit regression targets",
        ],
    );
    let rows: String = (0..40).map(|i| format!("{i},{}.5,-{i}\n", i % 7)).collect();
    std::fs::write(d.join("values.csv"), format!("a,u,v\n{rows}")).unwrap();
    refused(
        &capped(
            &[
                "train",
                "--data",
                "values.csv",
                "--label-column",
                "u,v",
                "--loss",
                "mse",
                "--output",
                "softmax",
            ],
            d,
        ),
        &[
            "softmax output cannot fit regression targets",
            "Use identity",
        ],
    );
}

#[test]
fn a_model_with_too_many_classes_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    wide_model(&d.join("wide.safetensors"), 65536);
    refused(
        &capped(
            &["evaluate", "--model", "wide.safetensors", "--data", "moons"],
            d,
        ),
        &["wide.safetensors", "65536 classes", "at most 4096"],
    );
}

/// Class 3: NaN and ∞ outside CSV.
#[test]
fn non_finite_values_are_refused_at_every_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("nan.npy"),
        npy_bytes("<f4", "(2, 3)", &f32s(&[1.0, f32::NAN, 0.0, 2.0, 3.0, 1.0])),
    )
    .unwrap();
    refused(
        &capped(&["train", "--data", "nan.npy"], d),
        &["nan.npy", "row 0, column 1", "NaN is not a finite number"],
    );
    let mut idx = vec![0, 0, 0x0D, 2, 0, 0, 0, 2, 0, 0, 0, 2];
    for v in [1.0f32, f32::INFINITY, 0.0, 1.0] {
        idx.extend(v.to_be_bytes());
    }
    std::fs::write(d.join("inf-idx"), idx).unwrap();
    std::fs::write(d.join("labels-idx"), [0, 0, 8, 1, 0, 0, 0, 2, 0, 1]).unwrap();
    refused(
        &capped(&["train", "--data", "inf-idx", "--labels", "labels-idx"], d),
        &["inf-idx", "inf is not a finite number"],
    );
    refused(
        &capped(&["train", "--data", "moons", "--noise", "nan"], d),
        &["noise", "NaN is not a finite number"],
    );
    refused(
        &capped(
            &["train", "--data", "moons", "--normalize", "scale:1e-45"],
            d,
        ),
        &["normalisation gives inf"],
    );
    // A model whose normalisation divides by 0.
    let trained = capped(
        &[
            "train",
            "--data",
            "xor",
            "--epochs",
            "1",
            "--save",
            "m.safetensors",
        ],
        d,
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let bytes = std::fs::read(d.join("m.safetensors")).unwrap();
    // Byte offsets (the header's length prefix is not UTF-8, so a lossy string would shift
    // them).
    let key = b"\\\"std\\\":[";
    let start = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let end = start + bytes[start..].iter().position(|&b| b == b']').unwrap();
    let text = String::from_utf8_lossy(&bytes[start..end]).into_owned();
    let zeros = vec!["0"; text.split(',').count()].join(",");
    // Same length: pad with spaces inside the JSON header.
    let padded = format!("{zeros:<width$}", width = end - start);
    let mut broken = bytes.clone();
    broken[start..end].copy_from_slice(padded.as_bytes());
    std::fs::write(d.join("std0.safetensors"), broken).unwrap();
    refused(
        &capped(&["evaluate", "--model", "std0.safetensors"], d),
        &[
            "std0.safetensors",
            "normalization std[0]",
            "not a finite number > 0",
        ],
    );
    // A checkpoint holding a NaN weight.
    let run = capped(
        &[
            "train",
            "--data",
            "xor",
            "--epochs",
            "2",
            "--checkpoint-every",
            "5",
            "--checkpoint",
            "c.ckpt",
        ],
        d,
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let mut checkpoint = std::fs::read(d.join("c.ckpt")).unwrap();
    let header = u64::from_le_bytes(checkpoint[..8].try_into().unwrap()) as usize;
    let data = 8 + header;
    checkpoint[data..data + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(d.join("c.ckpt"), checkpoint).unwrap();
    refused(
        &capped(
            &[
                "train", "--data", "xor", "--epochs", "2", "--resume", "c.ckpt",
            ],
            d,
        ),
        &["c.ckpt", "NaN, not a finite number"],
    );
}

/// Class 4: what used to give silently wrong results.
#[test]
fn silently_wrong_results_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A separate .npy test set never reuses the training labels file.
    std::fs::write(
        d.join("x.npy"),
        npy_bytes(
            "<f4",
            "(4, 2)",
            &f32s(&[0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 1.0, 1.0]),
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("y.npy"),
        npy_bytes(
            "<i8",
            "(4,)",
            &[0, 1, 0, 1]
                .iter()
                .flat_map(|v: &i64| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("tx.npy"),
        npy_bytes("<f4", "(2, 2)", &f32s(&[0.0, 1.0, 1.0, 0.0])),
    )
    .unwrap();
    refused(
        &capped(
            &[
                "train", "--data", "x.npy", "--labels", "y.npy", "--test", "tx.npy", "--epochs",
                "1",
            ],
            d,
        ),
        &["tx.npy", "--test-labels"],
    );
    // An f8 label that is not quite a class index.
    std::fs::write(
        d.join("f8.npy"),
        npy_bytes(
            "<f8",
            "(4,)",
            &[0.0f64, 1.0, 1.00000001, 0.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
    )
    .unwrap();
    refused(
        &capped(&["train", "--data", "x.npy", "--labels", "f8.npy"], d),
        &["f8.npy", "entry 2", "1.00000001", "not a class index"],
    );
    // One class only.
    std::fs::write(
        d.join("one.csv"),
        "a,label\n1,x\n2,x\n3,x\n4,x\n5,x\n6,x\n7,x\n8,x\n9,x\n10,x\n",
    )
    .unwrap();
    refused(
        &capped(
            &["train", "--data", "one.csv", "--validation-split", "0"],
            d,
        ),
        &["1 class", "at least two"],
    );
    // A label column named twice in the header.
    std::fs::write(d.join("twice.csv"), "a,label,label\n1,0,1\n2,1,0\n").unwrap();
    refused(
        &capped(&["train", "--data", "twice.csv"], d),
        &["twice.csv", "line 1", "'label' appears twice"],
    );
    // Resume notices changed data at the same path.
    let rows: String = (0..60).map(|i| format!("{},{}\n", i, i % 2)).collect();
    std::fs::write(d.join("d.csv"), format!("a,label\n{rows}")).unwrap();
    let first = capped(
        &[
            "train",
            "--data",
            "d.csv",
            "--epochs",
            "2",
            "--checkpoint-every",
            "1",
            "--checkpoint",
            "r.ckpt",
        ],
        d,
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let rows: String = (0..60).map(|i| format!("{},{}\n", i + 1, i % 2)).collect();
    std::fs::write(d.join("d.csv"), format!("a,label\n{rows}")).unwrap();
    refused(
        &capped(
            &[
                "train", "--data", "d.csv", "--epochs", "2", "--resume", "r.ckpt",
            ],
            d,
        ),
        &["r.ckpt", "the data changed"],
    );
}

/// Class 5: outputs that would destroy inputs, checked before any work.
#[test]
fn outputs_never_overwrite_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = two_classes();
    std::fs::write(d.join("data.csv"), &csv).unwrap();
    for flag in ["--save", "--metrics", "--plot", "--checkpoint"] {
        refused(
            &capped(&["train", "--data", "data.csv", flag, "data.csv"], d),
            &["data.csv", "which this command reads"],
        );
        assert_eq!(std::fs::read_to_string(d.join("data.csv")).unwrap(), csv);
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("data.csv"), d.join("alias.safetensors")).unwrap();
        refused(
            &capped(
                &["train", "--data", "data.csv", "--save", "alias.safetensors"],
                d,
            ),
            &["which this command reads"],
        );
    }
    refused(
        &capped(
            &[
                "train",
                "--data",
                "data.csv",
                "--save",
                "nodir/m.safetensors",
            ],
            d,
        ),
        &["nodir", "does not exist"],
    );
    let trained = capped(
        &[
            "train",
            "--data",
            "data.csv",
            "--epochs",
            "1",
            "--save",
            "m.safetensors",
        ],
        d,
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let model = std::fs::read(d.join("m.safetensors")).unwrap();
    for args in [
        vec![
            "predict",
            "--model",
            "m.safetensors",
            "--data",
            "data.csv",
            "--output",
            "m.safetensors",
        ],
        vec![
            "evaluate",
            "--model",
            "m.safetensors",
            "--plot",
            "m.safetensors",
        ],
        vec![
            "export",
            "--model",
            "m.safetensors",
            "--onnx",
            "m.safetensors",
        ],
        vec![
            "predict",
            "--model",
            "m.safetensors",
            "--data",
            "data.csv",
            "--output",
            "data.csv",
        ],
    ] {
        refused(&capped(&args, d), &["which this command reads"]);
    }
    assert_eq!(std::fs::read(d.join("m.safetensors")).unwrap(), model);
    assert_eq!(std::fs::read_to_string(d.join("data.csv")).unwrap(), csv);
    // A device as the metrics file is refused before any training (it used to be opened and
    // fail at the first write, after the model was saved).
    if Path::new("/dev/full").exists() {
        let out = capped(
            &[
                "train",
                "--data",
                "data.csv",
                "--epochs",
                "1",
                "--save",
                "kept.safetensors",
                "--metrics",
                "/dev/full",
            ],
            d,
        );
        refused(&out, &["/dev/full", "a character device"]);
        assert!(!d.join("kept.safetensors").exists(), "nothing was trained");
    }
}

/// Outputs replace only regular files: a device node, a FIFO or a link at an output path stays
/// what it was. As root, `--save n` where n is a device node used to leave a regular file in
/// its place, and `--output` at a link to /proc/self/fd/1 replaced the link and printed
/// nothing.
#[cfg(unix)]
#[test]
fn outputs_never_replace_devices_fifos_or_links() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("data.csv"), two_classes()).unwrap();
    let trained = capped(
        &[
            "train",
            "--data",
            "data.csv",
            "--epochs",
            "1",
            "--save",
            "m.safetensors",
        ],
        d,
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let kind = |name: &str| std::fs::symlink_metadata(d.join(name)).unwrap().file_type();
    let predict_to = |output: &str| {
        capped(
            &[
                "predict",
                "--model",
                "m.safetensors",
                "--data",
                "data.csv",
                "--output",
                output,
            ],
            d,
        )
    };

    // A link to this process's standard output: the predictions appear there, the link stays.
    std::os::unix::fs::symlink("/proc/self/fd/1", d.join("out.csv")).unwrap();
    let out = predict_to("out.csv");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("row,class"), "{}", stdout(&out));
    assert!(kind("out.csv").is_symlink());

    // `-` is standard output too.
    let out = predict_to("-");
    assert!(stdout(&out).contains("row,class"), "{}", stdout(&out));

    // A FIFO is written in place.
    let fifo = d.join("fifo");
    let c_path = |p: &Path| CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid C path.
    assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o600) }, 0);
    let reader = std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap());
    let out = predict_to("fifo");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(reader.join().unwrap().contains("row,class"));
    assert!(kind("fifo").is_fifo());

    // A device node (root only): refused by every writer, before any work, and left a device.
    let node = d.join("n");
    // SAFETY: a valid C path; (1, 7) is /dev/full's number.
    let made = unsafe {
        libc::mknod(
            c_path(&node).as_ptr(),
            libc::S_IFCHR | 0o600,
            libc::makedev(1, 7),
        ) == 0
    };
    if !made {
        eprintln!("mknod refused (not root): the device node is not checked here");
        return;
    }
    for args in [
        vec![
            "train", "--data", "data.csv", "--epochs", "1", "--save", "n",
        ],
        vec![
            "train",
            "--data",
            "data.csv",
            "--epochs",
            "1",
            "--checkpoint",
            "n",
        ],
        vec![
            "train", "--data", "data.csv", "--epochs", "1", "--plot", "n",
        ],
        vec![
            "predict",
            "--model",
            "m.safetensors",
            "--data",
            "data.csv",
            "--output",
            "n",
        ],
        vec!["export", "--model", "m.safetensors", "--onnx", "n"],
        vec!["convert", "data.csv", "n"],
    ] {
        refused(&capped(&args, d), &["n is a character device (1:7)"]);
        assert!(kind("n").is_char_device(), "{args:?}");
    }
}

/// Class 7: what used to hang or fill the disk.
#[test]
fn data_near_the_float_limit_does_not_hang_the_plot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..40)
        .map(|i| {
            format!(
                "{},{},{}\n",
                3.0e38 * if i % 2 == 0 { 1.0 } else { -1.0 },
                i,
                i % 2
            )
        })
        .collect();
    std::fs::write(d.join("huge.csv"), format!("a,b,label\n{rows}")).unwrap();
    let started = std::time::Instant::now();
    let out = capped(
        &[
            "train",
            "--data",
            "huge.csv",
            "--epochs",
            "1",
            "--normalize",
            "none",
            "--plot",
            "p.png",
        ],
        d,
    );
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(matches!(out.status.code(), Some(0 | 2)), "{:?}", out.status);
}

/// A header of 10⁶ columns is read in one pass (a search of the earlier columns for each one
/// did not finish in 120 s; now well under a second): the file is refused for its one data
/// row, not waited on. The 60 s bound is a hang guard, not a speed target.
#[test]
fn a_wide_header_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let columns = 1_000_000;
    let header: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    let row = vec!["1"; columns].join(",");
    std::fs::write(d.join("wide.csv"), format!("{}\n{row}\n", header.join(","))).unwrap();
    let started = std::time::Instant::now();
    let out = capped(&["train", "--data", "wide.csv", "--epochs", "1"], d);
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    refused(&out, &["1 rows"]);
}

/// Class 8: pipes.
#[test]
fn pipes_do_not_skip_work_or_underflow() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A closed stdout: training still finishes and saves.
    let mut child = nabla()
        .args([
            "train",
            "--data",
            "xor",
            "--epochs",
            "2",
            "--save",
            "piped.safetensors",
        ])
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(d.join("piped.safetensors").is_file());
    // A FIFO where a .npy file belongs.
    let fifo = d.join("fifo.npy");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    refused(
        &capped(&["train", "--data", "fifo.npy"], d),
        &["fifo.npy", "not a regular file"],
    );
}

/// Class 9: the contracts.
#[test]
fn contracts_hold() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // nabla loss: a number or an {"error"}, never null; invalid UTF-8 gets a JSON error.
    let out = common::run_with_stdin(
        &["loss"],
        r#"{"loss": "cross-entropy", "from": "logits", "output": [[1e308, -1e308]], "target": [1]}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a finite number"),
        "{body}"
    );
    let mut child = nabla()
        .arg("loss")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"{\"loss\": \"\xff\"}")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("not UTF-8"),
        "{body}"
    );
    // All-zero class weights are a bad flag, not a numerical fault.
    refused(
        &capped(&["train", "--data", "xor", "--class-weights", "0,0"], d),
        &["class_weights", "all zero"],
    );
    // diagnose reports a config with no inputs.
    std::fs::write(d.join("zero.json"), r#"{"inputs": 0, "outputs": 3}"#).unwrap();
    let out = capped(&["diagnose", "--config", "zero.json"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("error    size: inputs"),
        "{}",
        stdout(&out)
    );
    // An I/O error says its cause once.
    let out = capped(&["train", "--data", "nothere.csv"], d);
    refused(&out, &["nothere.csv"]);
    assert_eq!(
        stderr(&out).matches("No such file or directory").count(),
        1,
        "{}",
        stderr(&out)
    );
}

/// Class names with commas or quotes: the prediction CSV's header quotes the whole field, the
/// `p_` prefix inside the quotes (it was `p_"a,b"`, which no CSV reader splits right).
#[test]
fn class_names_with_commas_and_quotes_keep_the_prediction_csv_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = ["\"a,b\"", "\"say \"\"hi\"\"\""];
    let rows: String = (0..60)
        .map(|i| format!("{i},{},{}\n", 60 - i, names[i % 2]))
        .collect();
    std::fs::write(d.join("data.csv"), format!("x,y,label\n{rows}")).unwrap();
    let trained = capped(
        &[
            "train",
            "--data",
            "data.csv",
            "--epochs",
            "1",
            "--save",
            "m.safetensors",
        ],
        d,
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let out = capped(
        &["predict", "--model", "m.safetensors", "--data", "data.csv"],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut expected = vec!["row".to_string(), "class".to_string()];
    let mut classes: Vec<&str> = vec!["a,b", "say \"hi\""];
    classes.sort();
    expected.extend(classes.iter().map(|c| format!("p_{c}")));
    assert_eq!(header, expected, "{text}");
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(record.len(), 4);
        assert!(classes.contains(&&record[1]), "{:?}", record);
    }
}

/// `--resume` with no epochs left to train exits 2 saying so (it exited 0 having done nothing),
/// and resuming in another precision than the checkpoint's is said (it was silent).
#[test]
fn resuming_says_what_it_will_and_will_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("data.csv"), two_classes()).unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            "data.csv",
            "--checkpoint",
            "run.ckpt",
            "--checkpoint-every",
            "1",
        ];
        args.extend_from_slice(extra);
        capped(&args, d)
    };
    let first = train(&["--epochs", "2"]);
    assert!(first.status.success(), "{}", stderr(&first));
    refused(
        &train(&["--epochs", "1", "--resume", "run.ckpt"]),
        &[
            "run.ckpt has finished",
            "epochs already",
            "--epochs 1 leaves nothing",
        ],
    );
    let resumed = train(&[
        "--epochs",
        "3",
        "--resume",
        "run.ckpt",
        "--precision",
        "bf16",
    ]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let said = format!("{}{}", stdout(&resumed), stderr(&resumed));
    assert!(
        said.contains("different settings (epochs, precision)"),
        "{said}"
    );
}

/// A model file whose record names a data set to download (mnist) does not make `evaluate`
/// download it: a set not in the cache (`--cache-dir`, which it now follows) is refused with
/// the flag that fetches it, and nothing is fetched.
#[test]
fn a_model_file_never_makes_nabla_download() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let trained = capped(
        &[
            "train",
            "--data",
            "moons",
            "--epochs",
            "1",
            "--save",
            "m.safetensors",
        ],
        d,
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let bytes = std::fs::read(d.join("m.safetensors")).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut extra = metadata.metadata().clone().unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&extra["nabla"]).unwrap();
    config["training"]["data"] = "mnist".into();
    extra.insert("nabla".into(), config.to_string());
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    std::fs::write(
        d.join("crafted.safetensors"),
        safetensors::serialize(tensors.tensors(), Some(extra)).unwrap(),
    )
    .unwrap();
    let cache = d.join("cache");
    let started = std::time::Instant::now();
    let out = capped(
        &[
            "evaluate",
            "--model",
            "crafted.safetensors",
            "--cache-dir",
            cache.to_str().unwrap(),
            "--mirror",
            "http://127.0.0.1:9/",
        ],
        d,
    );
    refused(
        &out,
        &["mnist is not in the cache", "cache", "--data mnist"],
    );
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert!(
        !cache.join("mnist").exists(),
        "nothing was fetched into the cache"
    );
}

/// Targets are refused by what is wrong with them, naming the file, line and column: a negative
/// probability (it was "they sum to 1" with nothing named) and a regression target beyond f32
/// (it was "normalization mean[0]: inf", naming neither file nor line).
#[test]
fn bad_targets_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..60)
        .map(|i| {
            let (p, q) = if i == 4 { (-0.2, 1.2) } else { (0.5, 0.5) };
            format!("{i},{},{p},{q}\n", 60 - i)
        })
        .collect();
    std::fs::write(d.join("soft.csv"), format!("a,b,p,q\n{rows}")).unwrap();
    refused(
        &capped(
            &[
                "train",
                "--data",
                "soft.csv",
                "--label-column",
                "p,q",
                "--targets",
                "distribution",
            ],
            d,
        ),
        &["soft.csv", "line 6", "target 'p' is -0.2, below 0"],
    );
    let rows: String = (0..60)
        .map(|i| {
            format!(
                "{i},{},{}\n",
                60 - i,
                if i == 7 { 1e39 } else { i as f64 * 0.5 }
            )
        })
        .collect();
    std::fs::write(d.join("huge.csv"), format!("a,b,y\n{rows}")).unwrap();
    refused(
        &capped(
            &["train", "--data", "huge.csv", "--targets", "regression"],
            d,
        ),
        &["huge.csv", "line 9", "target 'y' is 1e39", "largest f32"],
    );
}
