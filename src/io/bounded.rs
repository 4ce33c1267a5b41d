//! Reads bounded by a budget: a file, a stream or an allocation sized by what the user gives
//! (a file's declared sizes, a flag) is checked against a limit before memory is taken, and
//! refused with the limit named instead of exhausting memory or aborting.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The most bytes a model, checkpoint or config file may have (4 GiB).
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// Reads all of the regular file `path` if it holds at most `limit` bytes (a file that grows
/// while it is read is cut off at `limit + 1` bytes and refused).
///
/// # Errors
/// The file cannot be opened or read, or holds more than `limit` bytes.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    // Before opening: a FIFO would wait for a writer, a device (/dev/zero) never ends.
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !metadata.is_file() {
        return Err(Error::data(
            path,
            None,
            "not a regular file (a directory, pipe or device): give a file",
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let declared = metadata.len();
    if declared > limit {
        return Err(too_large(path, limit));
    }
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(declared as usize).map_err(|_| {
        Error::data(
            path,
            None,
            format!("cannot allocate {declared} bytes to read it"),
        )
    })?;
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, limit));
    }
    Ok(bytes)
}

/// [`read_file`] as UTF-8 text.
///
/// # Errors
/// As [`read_file`], or bytes that are not UTF-8 (with the offset of the first bad one).
pub fn read_text(path: &Path, limit: u64) -> Result<String> {
    String::from_utf8(read_file(path, limit)?).map_err(|e| {
        Error::data(
            path,
            Some(format!("byte {}", e.utf8_error().valid_up_to())),
            "not UTF-8 text",
        )
    })
}

fn too_large(path: &Path, limit: u64) -> Error {
    Error::data(
        path,
        None,
        format!("larger than {limit} bytes, the most nabla reads from such a file"),
    )
}

/// A vector of `len` copies of `value`, or an error naming `what` when the memory cannot be
/// had: for buffers whose size comes from input.
///
/// # Errors
/// The allocation failed.
pub fn vec_of<T: Clone>(what: &str, len: usize, value: T) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::invalid(
            what,
            format!(
                "{len} elements of {} bytes do not fit in memory",
                std::mem::size_of::<T>()
            ),
        )
    })?;
    v.resize(len, value);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_and_oversized_files_are_refused_with_the_limit() {
        if Path::new("/dev/zero").exists() {
            let error = read_file(Path::new("/dev/zero"), 1 << 20)
                .unwrap_err()
                .to_string();
            assert!(error.contains("not a regular file"), "{error}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        std::fs::write(&path, [1u8; 100]).unwrap();
        assert!(read_file(&path, 99).is_err());
        assert_eq!(read_file(&path, 100).unwrap().len(), 100);
        assert!(vec_of("huge", usize::MAX / 2, 0u64).is_err());
    }
}
