//! A file read in place (memory-mapped) that another program truncates meanwhile: with
//! `report_truncated_files` (which the `nabla` command installs first thing), the fault is an
//! error naming the file, with exit status 2, instead of a silent death by SIGBUS. A SIGBUS
//! elsewhere keeps its default action. Each case runs in a child process (this test binary,
//! told by an environment variable), since it ends the process.

use std::path::Path;
use std::process::Command;

use nabla::data::{MappedFile, report_truncated_files};

const CHILD: &str = "NABLA_TRUNCATED_FILE_CHILD";

/// Runs `case` of this file's test in a child process.
fn child(case: &str, path: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "truncated_files_are_named", "--nocapture"])
        .env(CHILD, format!("{case}:{}", path.display()))
        .output()
        .unwrap()
}

/// In the child: maps the file, truncates it and reads past its new end ("named"), or sends
/// itself SIGBUS ("elsewhere").
fn run_child(spec: &str) -> ! {
    let (case, path) = spec.split_once(':').unwrap();
    report_truncated_files();
    if case == "elsewhere" {
        // SAFETY: raising a signal.
        unsafe { libc::raise(libc::SIGBUS) };
        eprintln!("survived SIGBUS");
        std::process::exit(0);
    }
    let file = std::fs::File::open(path).unwrap();
    // SAFETY: the file is this test's own; truncating it is the point.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let mapped = MappedFile::new(Path::new(path), map);
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
    // SAFETY: inside the mapping; the page behind it is gone, which is what is tested.
    let value = unsafe { std::ptr::read_volatile(mapped.as_ptr().add(3 * 4096)) };
    eprintln!("read {value} past the end");
    std::process::exit(0);
}

#[test]
fn truncated_files_are_named() {
    if let Ok(spec) = std::env::var(CHILD) {
        run_child(&spec);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.npy");
    std::fs::write(&path, vec![7u8; 4 * 4096]).unwrap();

    let output = child("named", &path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {} changed while nabla read it in place",
            path.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("past the end"), "{stderr}");

    let output = child("elsewhere", &path);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGBUS),
        "a SIGBUS outside a named mapping keeps its default action: {:?} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
