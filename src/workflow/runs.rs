//! The `--metrics` files under a folder, as `nabla serve`'s runs page reads them: listed by
//! their path inside the folder, and read from a given epoch on, so a run that is still being
//! written is followed as it grows. Nothing outside the folder is ever read: a name with an
//! absolute path, a `..`, or a link leading out is refused.

use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::Serialize;

use crate::error::{Error, Result};

/// The most files listed.
pub const MAX_RUNS: usize = 500;
/// How deep under the folder files are looked for.
const MAX_DEPTH: usize = 3;
/// The largest metrics file read (a line per epoch: about 300 bytes each).
pub const MAX_RUN_BYTES: u64 = 64 << 20;

/// A metrics file under the runs folder.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunFile {
    /// Its path inside the folder, with `/` between the parts.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// When it last changed, in seconds since 1970.
    pub modified: f64,
}

/// Epoch records of one run, from a given line on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRecords {
    /// The run's name.
    pub name: String,
    /// One JSON object per epoch (the line `nabla train --metrics` wrote).
    pub records: Vec<serde_json::Value>,
    /// The number of complete lines so far: ask from here for the next ones.
    pub next: usize,
}

/// The `.jsonl` files under `folder` (down to three folders deep), by name.
///
/// # Errors
/// `folder` cannot be read.
pub fn list_runs(folder: &Path) -> Result<Vec<RunFile>> {
    let mut runs = Vec::new();
    let mut pending = vec![(folder.to_path_buf(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth + 1 < MAX_DEPTH {
                pending.push((path, depth + 1));
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
                let Ok(meta) = entry.metadata() else { continue };
                let relative = path.strip_prefix(folder).unwrap_or(&path);
                let name: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                runs.push(RunFile {
                    name: name.join("/"),
                    bytes: meta.len(),
                    modified: meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(0.0, |d| d.as_secs_f64()),
                });
            }
        }
    }
    runs.sort_by(|a, b| a.name.cmp(&b.name));
    runs.truncate(MAX_RUNS);
    Ok(runs)
}

/// The path of run `name` inside `folder`.
///
/// # Errors
/// A name that is empty, absolute, has a `..` part, does not end in `.jsonl`, or leads (through
/// a link) outside `folder`; or no such file.
pub fn run_path(folder: &Path, name: &str) -> Result<PathBuf> {
    let refuse = |why: &str| Error::invalid("run", format!("'{name}' {why}"));
    let relative = Path::new(name);
    if name.is_empty()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(refuse(
            "is not a path inside the runs folder (no leading /, no ..)",
        ));
    }
    if relative.extension().is_none_or(|e| e != "jsonl") {
        return Err(refuse("is not a metrics file (.jsonl)"));
    }
    let root = folder.canonicalize().map_err(|e| Error::io(folder, e))?;
    let path = root
        .join(relative)
        .canonicalize()
        .map_err(|_| refuse("is not a run in the runs folder"))?;
    if !path.starts_with(&root) || !path.is_file() {
        return Err(refuse("is not a run in the runs folder"));
    }
    Ok(path)
}

/// The records of run `name` from complete line `from` on (a last line still being written is
/// left for the next call).
///
/// # Errors
/// What [`run_path`] refuses, a file over [`MAX_RUN_BYTES`], or a complete line that is not a
/// JSON object (naming the file and line).
pub fn read_run(folder: &Path, name: &str, from: usize) -> Result<RunRecords> {
    let path = run_path(folder, name)?;
    let size = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .len();
    if size > MAX_RUN_BYTES {
        return Err(Error::data(
            &path,
            None,
            format!("{size} bytes; a metrics file is read up to {MAX_RUN_BYTES}"),
        ));
    }
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&text[..complete]);
    let mut records = Vec::new();
    let mut lines = 0;
    for (n, line) in text.lines().enumerate() {
        lines = n + 1;
        if n < from || line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(line)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| {
                Error::data(
                    &path,
                    Some(format!("line {}", n + 1)),
                    "expected one JSON object per line",
                )
            })?;
        records.push(record);
    }
    Ok(RunRecords {
        name: name.to_string(),
        records,
        next: lines.max(from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_listed_and_followed_as_they_grow() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("a.jsonl"),
            "{\"epoch\":1}\n{\"epoch\":2}\n{\"ep",
        )
        .unwrap();
        std::fs::write(dir.path().join("sub/b.jsonl"), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let names: Vec<String> = list_runs(dir.path())
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a.jsonl", "sub/b.jsonl"]);
        let first = read_run(dir.path(), "a.jsonl", 0).unwrap();
        assert_eq!(first.records.len(), 2, "the unfinished line waits");
        assert_eq!(first.next, 2);
        std::fs::write(
            dir.path().join("a.jsonl"),
            "{\"epoch\":1}\n{\"epoch\":2}\n{\"epoch\":3}\n",
        )
        .unwrap();
        let more = read_run(dir.path(), "a.jsonl", first.next).unwrap();
        assert_eq!(more.records, [serde_json::json!({"epoch": 3})]);
        assert_eq!(more.next, 3);
    }

    #[test]
    fn nothing_outside_the_folder_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        std::fs::create_dir(&runs).unwrap();
        std::fs::write(dir.path().join("secret.jsonl"), "{}\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.jsonl"), runs.join("link.jsonl"))
            .unwrap();
        let outside = dir.path().join("secret.jsonl");
        for name in [
            "../secret.jsonl",
            outside.to_str().unwrap(),
            "link.jsonl",
            "",
            "x/../../secret.jsonl",
        ] {
            let error = read_run(&runs, name, 0).unwrap_err().to_string();
            assert!(
                error.contains("runs folder") || error.contains("not a"),
                "{name}: {error}"
            );
        }
        let error = read_run(&runs, "a.txt", 0).unwrap_err().to_string();
        assert!(error.contains(".jsonl"), "{error}");
    }
}
