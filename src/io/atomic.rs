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

/// Where an output path leads, and so how an output is written there. Only a regular file, or
/// nothing, is replaced by a rename: renaming over a device node, a FIFO or a link would
/// destroy what is there (as root, a device file of the machine), so those are written in
/// place or refused ([`output_target`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    /// Nothing yet, or a regular file: replaced whole, atomically, at this path (a link's
    /// target, resolved, so the link itself stays).
    Replace(PathBuf),
    /// This process's standard output (`-`, `/dev/stdout`, `/proc/self/fd/1` or any path to
    /// the same file): written to it.
    Stdout,
    /// This process's standard error.
    Stderr,
    /// A FIFO or a null device (`/dev/null`, or a node with its numbers): opened and written in
    /// place.
    InPlace(PathBuf),
}

/// Classifies `path` as an output (see [`OutputTarget`]); the error is the reason it cannot be
/// one: a directory, a link to nothing, a block or character device other than a null
/// device, a socket.
pub fn output_target(path: &Path) -> std::result::Result<OutputTarget, String> {
    if path.as_os_str() == "-" {
        return Ok(OutputTarget::Stdout);
    }
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match fs::read_link(path) {
                Ok(target) => Err(format!(
                    "{} is a link to {}, which does not exist",
                    path.display(),
                    target.display()
                )),
                Err(_) => Ok(OutputTarget::Replace(path.to_path_buf())),
            };
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let same = |fd: i32| {
            // SAFETY: fstat writes into the zeroed struct; fds 1 and 2 may be closed (then -1).
            let mut stat: libc::stat = unsafe { std::mem::zeroed() };
            let open = unsafe { libc::fstat(fd, &mut stat) } == 0;
            open && stat.st_dev == metadata.dev() && stat.st_ino == metadata.ino()
        };
        if same(1) {
            return Ok(OutputTarget::Stdout);
        }
        if same(2) {
            return Ok(OutputTarget::Stderr);
        }
        let kind = metadata.file_type();
        let (major, minor) = (libc::major(metadata.rdev()), libc::minor(metadata.rdev()));
        let place = || {
            Err(format!(
                "nabla writes an output to a regular file (replaced whole), to - (standard \
                 output), to a FIFO or to /dev/null, and {} is {}",
                path.display(),
                if kind.is_block_device() {
                    format!("a block device ({major}:{minor})")
                } else if kind.is_char_device() {
                    format!("a character device ({major}:{minor})")
                } else if kind.is_socket() {
                    "a socket".to_string()
                } else {
                    "neither".to_string()
                }
            ))
        };
        if kind.is_fifo() || (kind.is_char_device() && (major, minor) == (1, 3)) {
            return Ok(OutputTarget::InPlace(path.to_path_buf()));
        }
        if kind.is_block_device() || kind.is_char_device() || kind.is_socket() {
            return place();
        }
    }
    if metadata.is_dir() {
        return Err(format!(
            "{} is a directory; give a file path",
            path.display()
        ));
    }
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    fs::canonicalize(path)
        .map(OutputTarget::Replace)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The path a whole-file writer (a temporary renamed into place) may replace: `path`'s
/// [`OutputTarget::Replace`] path; anything else refused with the reason, naming `flag`.
pub fn replaceable(flag: &str, path: &Path) -> Result<PathBuf> {
    match output_target(path) {
        Ok(OutputTarget::Replace(resolved)) => Ok(resolved),
        Ok(_) => Err(Error::invalid(
            flag,
            format!(
                "{} is not a regular file: this output is a file made whole in a temporary and \
                 renamed into place; give a file path",
                path.display()
            ),
        )),
        Err(reason) => Err(Error::invalid(flag, reason)),
    }
}

/// Writes `bytes` to `path` as its [`OutputTarget`] says: a regular file (or a new one)
/// atomically (temp file + fsync + rename, over a link's target rather than the link), standard
/// output or error, or a FIFO or null device in place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = output_target(path).map_err(|reason| Error::invalid("output", reason))?;
    let written = match target {
        OutputTarget::Replace(resolved) => {
            let mut temporary = temporary_beside(&resolved, "tmp")?;
            temporary
                .write_all(bytes)
                .map_err(|e: std::io::Error| Error::io(path, e))?;
            return persist_at(temporary, &resolved);
        }
        OutputTarget::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
        OutputTarget::Stderr => std::io::stderr().lock().write_all(bytes),
        OutputTarget::InPlace(place) => fs::OpenOptions::new()
            .write(true)
            .open(place)
            .and_then(|mut file| file.write_all(bytes)),
    };
    written.map_err(|e| Error::io(path, e))
}

/// Puts a complete temporary from [`temporary_beside`] (tag `tmp`) in `path`'s place: flushed
/// to disk (fsync), renamed over `path`, the rename synced. `path` must be what [`replaceable`]
/// gave (a regular file or nothing, links resolved): anything else is refused, and nothing is
/// renamed over it.
pub fn persist_atomically(temporary: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    replaceable("output", path)?;
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::invalid(
            "output",
            format!(
                "{} is a link: resolve it before writing beside it",
                path.display()
            ),
        ));
    }
    persist_at(temporary, path)
}

/// Puts two complete temporaries in their places as a pair: afterwards both paths hold the new
/// files or, on any error, both still hold what they held before (a features file and its
/// labels never end up from different writes). Both are flushed to disk before either is
/// renamed, so a full disk is found before anything moves; the first path's old file is kept
/// under a hard link (a copy where links are not supported) until the second is in place, and
/// put back if the second rename fails.
///
/// # Errors
/// What [`persist_atomically`] refuses, or a write, sync or rename that fails (nothing replaced).
pub fn persist_pair(
    first: (tempfile::NamedTempFile, &Path),
    second: (tempfile::NamedTempFile, &Path),
) -> Result<()> {
    let ((first, first_path), (second, second_path)) = (first, second);
    for path in [first_path, second_path] {
        replaceable("output", path)?;
    }
    for (temporary, path) in [(&first, first_path), (&second, second_path)] {
        temporary
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(path, e))?;
    }
    // The first file's old content, kept until the pair is in place (removed when dropped).
    let old_first = if fs::symlink_metadata(first_path).is_ok() {
        let kept = tempfile::Builder::new()
            .prefix(&format!(
                ".{}.old-{}-",
                first_path.file_name().unwrap_or_default().to_string_lossy(),
                std::process::id()
            ))
            .make_in(directory_of(first_path), |backup| {
                fs::hard_link(first_path, backup)
                    .or_else(|_| fs::copy(first_path, backup).map(drop))
            })
            .map_err(|e| Error::io(first_path, e))?;
        Some(kept)
    } else {
        None
    };
    persist_at(first, first_path)?;
    if let Err(error) = persist_at(second, second_path) {
        match old_first {
            Some(old) => {
                let _ = old.persist(first_path);
            }
            None => {
                let _ = fs::remove_file(first_path);
            }
        }
        return Err(error);
    }
    drop(old_first);
    remove_stale_temporaries(first_path, "old");
    Ok(())
}

/// [`persist_atomically`] on a path already classified.
fn persist_at(temporary: tempfile::NamedTempFile, path: &Path) -> Result<()> {
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

    fn temporary_with(path: &Path, bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut temporary = temporary_beside(path, "tmp").unwrap();
        temporary.write_all(bytes).unwrap();
        temporary
    }

    #[test]
    fn a_pair_is_replaced_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (features, labels) = (dir.path().join("x.npy"), dir.path().join("x.labels.npy"));
        for (old, new) in [(true, false), (false, false), (true, true)] {
            let _ = fs::remove_file(&features);
            let _ = fs::remove_file(&labels);
            if old {
                fs::write(&features, b"old features").unwrap();
                fs::write(&labels, b"old labels").unwrap();
            }
            let first = temporary_with(&features, b"new features");
            let second = temporary_with(&labels, b"new labels");
            if !new {
                // The second rename fails: its temporary is gone.
                fs::remove_file(second.path()).unwrap();
            }
            let persisted = persist_pair((first, &features), (second, &labels));
            assert_eq!(persisted.is_ok(), new);
            let read = |p: &Path| fs::read(p).ok();
            if new {
                assert_eq!(read(&features).unwrap(), b"new features");
                assert_eq!(read(&labels).unwrap(), b"new labels");
            } else if old {
                assert_eq!(read(&features).unwrap(), b"old features", "put back");
                assert_eq!(read(&labels).unwrap(), b"old labels");
            } else {
                assert!(read(&features).is_none() && read(&labels).is_none());
            }
            let left: Vec<String> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(left.is_empty(), "no temporaries or backups left: {left:?}");
        }
    }

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

    /// Only a regular file (or nothing) is renamed over. A device node, a FIFO, a socket or a
    /// link keeps being what it was: a null device and a FIFO are written in place, other
    /// devices and sockets refused, a link's target replaced with the link kept, a link to
    /// nothing refused.
    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_replaced() {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let c_path = |p: &Path| CString::new(p.as_os_str().as_bytes()).unwrap();
        let kind = |p: &Path| fs::symlink_metadata(p).unwrap().file_type();

        // A FIFO: written in place, read by the other end.
        let fifo = at("fifo");
        // SAFETY: a valid C path.
        assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o600) }, 0);
        assert_eq!(
            output_target(&fifo),
            Ok(OutputTarget::InPlace(fifo.clone()))
        );
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_atomically(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(kind(&fifo).is_fifo());

        // Device nodes (root only: mknod needs CAP_MKNOD): a null device is written in place,
        // any other device refused; both stay devices.
        let null = at("null");
        let full = at("full");
        // SAFETY: valid C paths; makedev(1, 3) is /dev/null's number, (1, 7) /dev/full's.
        let made = unsafe {
            libc::mknod(
                c_path(&null).as_ptr(),
                libc::S_IFCHR | 0o600,
                libc::makedev(1, 3),
            ) == 0
                && libc::mknod(
                    c_path(&full).as_ptr(),
                    libc::S_IFCHR | 0o600,
                    libc::makedev(1, 7),
                ) == 0
        };
        if made {
            write_atomically(&null, b"discarded").unwrap();
            assert!(kind(&null).is_char_device());
            let error = write_atomically(&full, b"x").unwrap_err().to_string();
            assert!(error.contains("a character device (1:7)"), "{error}");
            assert!(kind(&full).is_char_device());
        } else {
            eprintln!("mknod refused (not root): the device nodes are not checked here");
        }

        // A socket: refused.
        let socket = at("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let error = write_atomically(&socket, b"x").unwrap_err().to_string();
        assert!(error.contains("a socket"), "{error}");
        assert!(kind(&socket).is_socket());

        // A link to a regular file: the file replaced, the link kept.
        let real = at("real.bin");
        fs::write(&real, b"old").unwrap();
        let link = at("link.bin");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(kind(&link).is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        // A whole-file writer handed the link itself renames nothing over it.
        let temporary = temporary_beside(&link, "tmp").unwrap();
        assert!(persist_atomically(temporary, &link).is_err());
        assert!(kind(&link).is_symlink());

        // A link to nothing: refused, left as it is.
        let dangling = at("dangling.bin");
        std::os::unix::fs::symlink(at("missing"), &dangling).unwrap();
        let error = write_atomically(&dangling, b"x").unwrap_err().to_string();
        assert!(error.contains("which does not exist"), "{error}");
        assert!(kind(&dangling).is_symlink());

        assert_eq!(output_target(Path::new("-")), Ok(OutputTarget::Stdout));
        assert!(output_target(dir.path()).unwrap_err().contains("directory"));
        // Nothing else was left in the directory.
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected = vec!["dangling.bin", "fifo", "link.bin", "real.bin", "socket"];
        if made {
            expected.extend(["full", "null"]);
        }
        expected.sort();
        assert_eq!(names, expected);
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
