//! `nabla convert`: a CSV table streamed into `.npy` features and labels gives the rows the CSV
//! gives, and converting a large table takes bounded memory.

mod common;

use std::io::{BufWriter, Write};

use common::{nabla, ok, run, stderr};

/// A CSV table of `rows` rows: 6 features and a numeric class label (not the last column).
fn table(rows: usize) -> String {
    let mut text = String::from("f0,f1,label,f2,f3,f4,f5\n");
    for i in 0..rows {
        let x = |k: usize| ((i * 7 + k * 13) % 29) as f64 / 7.0 - 2.0;
        let label = (x(0) + x(1) > 0.0) as usize + (x(3) > 1.0) as usize;
        text += &format!(
            "{},{},{label},{},{},{},{}\n",
            x(0),
            x(1),
            x(2),
            x(3),
            x(4),
            x(5)
        );
    }
    text
}

#[test]
fn converted_files_train_exactly_as_the_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rows.csv"), table(400)).unwrap();
    let converted = ok(&run(&["convert", "rows.csv", "rows.npy"], d));
    assert!(
        converted.contains("400 rows × 6 features") && converted.contains("rows.labels.npy"),
        "{converted}"
    );
    let flags = [
        "--epochs",
        "3",
        "--hidden",
        "8",
        "--threads",
        "1",
        "--seed",
        "4",
    ];
    let from_csv = ok(&run(
        &[&["train", "--data", "rows.csv"][..], &flags].concat(),
        d,
    ));
    let from_npy = ok(&run(
        &[
            &["train", "--data", "rows.npy", "--labels", "rows.labels.npy"][..],
            &flags,
        ]
        .concat(),
        d,
    ));
    let last = |text: &str| text.lines().last().unwrap().to_string();
    assert!(last(&from_csv).starts_with("test accuracy:"), "{from_csv}");
    assert_eq!(last(&from_csv), last(&from_npy));
}

#[test]
fn a_label_that_is_not_a_number_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("names.csv"), "a,b,label\n1,2,0\n3,4,cat\n").unwrap();
    let refused = run(&["convert", "names.csv", "names.npy"], d);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("names.csv, line 3: label 'cat' is not a number"),
        "{}",
        stderr(&refused)
    );
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("names.csv")]);
}

/// 900 000 rows (91 MB of CSV, 21.6 MB of f32 features) convert with a peak resident
/// memory of a few MB: the table is read one row at a time.
#[cfg(target_os = "linux")]
#[test]
// The child is reaped by wait4 below, which std does not know of.
#[allow(clippy::zombie_processes)]
fn a_large_table_converts_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("large.csv");
    let mut file = BufWriter::new(std::fs::File::create(&path).unwrap());
    let block = table(1000);
    let mut lines = block.lines();
    writeln!(file, "{}", lines.next().unwrap()).unwrap();
    let body: String = lines.map(|l| format!("{l}\n")).collect();
    for _ in 0..900 {
        file.write_all(body.as_bytes()).unwrap();
    }
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();
    let child = nabla()
        .args(["convert", "large.csv", "large.npy"])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The child's own peak resident memory, from wait4 (not std's wait, which drops it).
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid std gave us, with valid out-pointers.
    let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as i32);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let peak_mb = usage.ru_maxrss as f64 / 1024.0;
    let features = std::fs::metadata(d.join("large.npy")).unwrap().len();
    assert_eq!(features, 128 + 900_000 * 6 * 4);
    assert!(size > 80 << 20, "{size} bytes of CSV");
    assert!(
        peak_mb < 24.0,
        "peak resident memory {peak_mb:.1} MB converting {size} bytes"
    );
    println!("converted {size} bytes of CSV with a peak of {peak_mb:.1} MB");
}

/// A disk that fills while the pair is written (here a file-size limit, `ulimit -f`, that the
/// labels file crosses and the features file does not) leaves both old files: it used to put
/// the new features in place beside the old labels, a pair that trained silently.
#[cfg(unix)]
#[test]
fn a_full_disk_leaves_the_old_pair_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // One feature (4 bytes a row) and one label (8 bytes a row): 80 KB and 160 KB.
    let table = |shift: usize| -> String {
        let mut text = String::from("x,label\n");
        for i in 0..20_000 {
            text += &format!("{},{}\n", (i + shift) % 97, (i + shift) % 3);
        }
        text
    };
    std::fs::write(d.join("first.csv"), table(0)).unwrap();
    std::fs::write(d.join("second.csv"), table(1)).unwrap();
    ok(&run(&["convert", "first.csv", "pair.npy"], d));
    let before = (
        std::fs::read(d.join("pair.npy")).unwrap(),
        std::fs::read(d.join("pair.labels.npy")).unwrap(),
    );
    // 240 blocks of 512 bytes: room for the features (80 KB), not for the labels (160 KB).
    let full = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 240 && exec \"$0\" convert second.csv pair.npy")
        .arg(env!("CARGO_BIN_EXE_nabla"))
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2), "{}", stderr(&full));
    assert!(
        stderr(&full).contains("pair.labels.npy"),
        "{}",
        stderr(&full)
    );
    let after = (
        std::fs::read(d.join("pair.npy")).unwrap(),
        std::fs::read(d.join("pair.labels.npy")).unwrap(),
    );
    assert!(after == before, "the old pair is left whole");
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "no temporaries left: {left:?}");
}
