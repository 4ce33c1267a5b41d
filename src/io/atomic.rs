//! Atomic file replacement: a reader sees the old file or the complete new one, never a
//! half-written file, even if the process is killed mid-write.
//!
//! The bytes go to a temporary file in the same directory, which is flushed to disk (fsync),
//! then renamed over the target; the directory is synced so the rename itself survives a crash.
//! A process killed mid-write leaves its temporary behind (nothing can remove it at SIGKILL);
//! the next successful write of the same target removes such leftovers of dead processes.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The directory a path's temporaries go in: its own, so the rename stays on one file system.
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A new temporary file beside `path`, created exclusively (`O_EXCL`) under an unpredictable
/// name `.NAME.TAG-PID-RANDOM`, so a planted file or symbolic link is never followed or
/// overwritten; the process id lets a later run tell a dead writer's leftovers
/// ([`remove_stale_temporaries`]). Removed when dropped unless persisted. Its permissions are
/// those of any new file (0666 less the umask, as `File::create` gives), not tempfile's
/// private 0600: the file it becomes is the user's output.
pub fn temporary_beside(path: &Path, tag: &str) -> Result<tempfile::NamedTempFile> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid("path", format!("'{}' names no file", path.display())))?;
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder
        .prefix(&format!(
            ".{}.{tag}-{}-",
            name.to_string_lossy(),
            std::process::id()
        ))
        .tempfile_in(directory_of(path))
        .map_err(|e| Error::io(path, e))
}

/// Writes `bytes` to `path` atomically (temp file + fsync + rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temporary = temporary_beside(path, "tmp")?;
    temporary
        .write_all(bytes)
        .map_err(|e: std::io::Error| Error::io(path, e))?;
    persist_atomically(temporary, path)
}

/// Puts a complete temporary from [`temporary_beside`] (tag `tmp`) in `path`'s place: flushed
/// to disk (fsync), renamed over `path`, the rename synced.
pub fn persist_atomically(temporary: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    temporary
        .as_file()
        .sync_all()
        .map_err(|e| Error::io(path, e))?;
    temporary
        .persist(path)
        .map_err(|e| Error::io(path, e.error))?;
    // Persist the rename; some file systems cannot sync a directory, which is harmless.
    if let Ok(dir) = File::open(directory_of(path)) {
        let _ = dir.sync_all();
    }
    remove_stale_temporaries(path, "tmp");
    Ok(())
}

/// Removes the temporaries (tag `tmp` for writes, `part` for downloads) that killed writers of
/// `path` left behind: files named like ours whose process no longer runs. Best effort: where
/// liveness cannot be told (no `/proc`), or a file cannot be removed, it is left alone.
pub fn remove_stale_temporaries(path: &Path, tag: &str) {
    let Some(name) = path.file_name() else {
        return;
    };
    let directory = directory_of(path);
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{}.{tag}-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(&directory) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let running = Path::new(&format!("/proc/{pid}")).exists();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !running && is_file {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A written model is readable like any file the user makes (umask applies), not 0600.
    #[cfg(unix)]
    #[test]
    fn outputs_get_the_permissions_of_any_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (atomic, plain) = (dir.path().join("a"), dir.path().join("b"));
        write_atomically(&atomic, b"x").unwrap();
        fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&atomic), mode(&plain));
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.bin")]);
    }

    #[test]
    fn a_write_removes_what_dead_writers_left_but_not_what_live_ones_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        // No process has pid 0 under /proc; our own pid is alive.
        let dead = dir.path().join(".run.ckpt.tmp-0-3");
        let live = dir
            .path()
            .join(format!(".run.ckpt.tmp-{}-99", std::process::id()));
        let other = dir.path().join(".other.ckpt.tmp-0-1");
        for file in [&dead, &live, &other] {
            fs::write(file, b"partial").unwrap();
        }
        write_atomically(&path, b"whole").unwrap();
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists());
        }
        assert!(live.exists());
        assert!(other.exists());
        assert_eq!(fs::read(&path).unwrap(), b"whole");
    }

    /// The old names (`.NAME.tmp-PID-N`) were predictable: a symbolic link planted there was
    /// followed and its target overwritten. Temporaries are now created exclusively under a
    /// random name.
    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_a_predictable_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        fs::write(&victim, b"precious").unwrap();
        for n in 0..4 {
            let planted = dir
                .path()
                .join(format!(".model.bin.tmp-{}-{n}", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        let path = dir.path().join("model.bin");
        write_atomically(&path, b"weights").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(&path).unwrap(), b"weights");
        let temporary = temporary_beside(&path, "tmp").unwrap();
        let name = temporary
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(&format!(".model.bin.tmp-{}-", std::process::id())));
        assert!(
            name.len() > ".model.bin.tmp-".len() + 8,
            "{name}: a random part"
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("model.bin");
        let error = write_atomically(&path, b"x").unwrap_err().to_string();
        assert!(error.contains("model.bin"), "{error}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
