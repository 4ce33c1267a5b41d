//! The `--metrics` files under a folder, as `nabla serve`'s runs page reads them: listed by
//! their path inside the folder, and read from a given epoch on, so a run that is still being
//! written is followed as it grows. Nothing outside the folder is ever read: a name with an
//! absolute path, a `..`, or a link leading out is refused.

use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::Serialize;

use crate::error::{Error, Result};

/// The most files listed.
pub const MAX_RUNS: usize = 500;
/// How deep under the folder files are looked for.
const MAX_DEPTH: usize = 3;
/// The most records in one reply of [`read_run`].
pub const MAX_REPLY_RECORDS: usize = 2000;
/// About the most bytes of records in one reply of [`read_run`] (a line per epoch: about 300
/// bytes each).
pub const MAX_REPLY_BYTES: usize = 1 << 20;
/// The longest line a metrics file may have.
pub const MAX_LINE_BYTES: usize = 1 << 20;

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
    /// The number of complete lines read so far: ask from here for the next ones.
    pub next: usize,
    /// Whether complete lines after `next` were left for another reply (the reply's bounds
    /// were reached).
    pub more: bool,
}

/// The `.jsonl` files under `folder` (down to three folders deep), by name. A folder inside
/// it that cannot be read is passed over, and so is a file whose path is not UTF-8 (a name the
/// page could not ask for again).
///
/// # Errors
/// `folder` itself cannot be read.
pub fn list_runs(folder: &Path) -> Result<Vec<RunFile>> {
    let mut runs = Vec::new();
    std::fs::read_dir(folder).map_err(|e| Error::io(folder, e))?;
    let mut pending = vec![(folder.to_path_buf(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
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
                let name: Option<Vec<&str>> = relative
                    .components()
                    .map(|c| c.as_os_str().to_str())
                    .collect();
                let Some(name) = name else { continue };
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

/// The records of run `name` from complete line `from` on, at most [`MAX_REPLY_RECORDS`]
/// of them and about [`MAX_REPLY_BYTES`] (`more` says when there are further ones: ask again
/// from `next`). A last line still being written is left for the next call. The file is
/// streamed, never held whole: reading a run takes the same memory at any size.
///
/// # Errors
/// What [`run_path`] refuses, a line over [`MAX_LINE_BYTES`], or a complete line that is not a
/// JSON object (naming the file and line).
pub fn read_run(folder: &Path, name: &str, from: usize) -> Result<RunRecords> {
    let path = run_path(folder, name)?;
    let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
    let mut reader = BufReader::with_capacity(64 << 10, file);
    let mut line = Vec::new();
    let mut records = Vec::new();
    let mut bytes = 0;
    let mut next = 0;
    let mut more = false;
    loop {
        line.clear();
        (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(&path, e))?;
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_LINE_BYTES {
                return Err(Error::data(
                    &path,
                    Some(format!("line {}", next + 1)),
                    format!("longer than {MAX_LINE_BYTES} bytes; a metrics line is one epoch"),
                ));
            }
            // The end of the file, or a last line still being written.
            break;
        }
        if next >= from && (records.len() >= MAX_REPLY_RECORDS || bytes >= MAX_REPLY_BYTES) {
            more = true;
            break;
        }
        next += 1;
        if next <= from || line.trim_ascii().is_empty() {
            continue;
        }
        bytes += line.len();
        let record: serde_json::Value = serde_json::from_slice(&line)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| {
                Error::data(
                    &path,
                    Some(format!("line {next}")),
                    "expected one JSON object per line",
                )
            })?;
        records.push(record);
    }
    Ok(RunRecords {
        name: name.to_string(),
        records,
        next: next.max(from),
        more,
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

    #[test]
    fn a_long_run_comes_in_bounded_replies() {
        let dir = tempfile::tempdir().unwrap();
        let lines: String = (1..=5000).map(|e| format!("{{\"epoch\":{e}}}\n")).collect();
        std::fs::write(dir.path().join("long.jsonl"), lines).unwrap();
        let mut from = 0;
        let mut epochs = Vec::new();
        loop {
            let reply = read_run(dir.path(), "long.jsonl", from).unwrap();
            assert!(reply.records.len() <= MAX_REPLY_RECORDS);
            epochs.extend(reply.records.iter().map(|r| r["epoch"].as_u64().unwrap()));
            from = reply.next;
            if !reply.more {
                break;
            }
        }
        assert_eq!(epochs, (1..=5000).collect::<Vec<u64>>());
        assert_eq!(from, 5000);

        let endless = format!("{{\"x\":\"{}\"}}\n", "a".repeat(MAX_LINE_BYTES));
        std::fs::write(dir.path().join("wide.jsonl"), endless).unwrap();
        let error = read_run(dir.path(), "wide.jsonl", 0)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 1") && error.contains("longer than"),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_folder_or_a_non_utf8_name_leaves_the_other_runs_listed() {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.jsonl"), "{}\n").unwrap();
        let name = std::ffi::OsStr::from_bytes(b"bad\xff.jsonl");
        std::fs::write(dir.path().join(name), "{}\n").unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::write(locked.join("hidden.jsonl"), "{}\n").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let names: Vec<String> = list_runs(dir.path())
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(names.contains(&"good.jsonl".to_string()), "{names:?}");
        assert!(names.iter().all(|n| !n.contains('\u{fffd}')), "{names:?}");
        for name in &names {
            read_run(dir.path(), name, 0).unwrap();
        }
    }
}
