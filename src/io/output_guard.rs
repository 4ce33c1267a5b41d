//! The one check every command runs on the files it will write, before any work: the path must
//! not be one of the command's inputs (after resolving links), and its directory must exist and
//! take a new file. So a long training run never ends in "cannot write" with the model lost, and
//! `--save data.csv` never overwrites the data being read.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The resolved form of a path for comparison: the canonical path of the file when it exists,
/// else of its directory joined with its name.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = path.canonicalize() {
        return Some(canonical);
    }
    let name = path.file_name()?;
    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    directory.canonicalize().ok().map(|d| d.join(name))
}

/// Checks that `path` (what `flag` names) can be written without destroying an input and
/// without failing at the end: standard output, a FIFO or /dev/null (written in place), or a
/// regular file or new path that is not one of `inputs`, in an existing directory that accepts
/// a new file; never a device, a socket, a directory or a link to nothing
/// ([`super::output_target`]). Nothing is left behind.
///
/// # Errors
/// The path is an input, a directory, or in a directory that does not exist or is not writable.
pub fn check_output(flag: &str, path: &Path, inputs: &[&Path]) -> Result<()> {
    // Standard output, a FIFO or /dev/null is written in place; a device, a socket or a link to
    // nothing is no output at all.
    match super::output_target(path) {
        Ok(super::OutputTarget::Replace(_)) => {}
        Ok(_) => return Ok(()),
        Err(reason) => return Err(Error::invalid(flag, reason)),
    }
    let target = resolved(path);
    for input in inputs {
        if let (Some(target), Some(input_path)) = (&target, resolved(input))
            && *target == input_path
        {
            return Err(Error::invalid(
                flag,
                format!(
                    "{} is {}, which this command reads: writing it would destroy it; choose \
                     another path",
                    path.display(),
                    input.display()
                ),
            ));
        }
    }
    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !directory.is_dir() {
        return Err(Error::invalid(
            flag,
            format!(
                "{}: the directory {} does not exist (create it first)",
                path.display(),
                directory.display()
            ),
        ));
    }
    tempfile::Builder::new()
        .prefix(".nabla-write-check-")
        .tempfile_in(directory)
        .map(drop)
        .map_err(|e| {
            Error::invalid(
                flag,
                format!(
                    "{}: cannot create a file in {}: {e}",
                    path.display(),
                    directory.display()
                ),
            )
        })
}

/// Checks each (flag, path) output against `inputs` and against each other (two outputs on one
/// path would overwrite each other).
///
/// # Errors
/// The first output that [`check_output`] refuses, or two flags naming one file.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[&Path]) -> Result<()> {
    for (n, (flag, path)) in outputs.iter().enumerate() {
        check_output(flag, path, inputs)?;
        if let Some((other, _)) = outputs[..n]
            .iter()
            .find(|(_, earlier)| resolved(earlier) == resolved(path))
        {
            return Err(Error::invalid(
                *flag,
                format!(
                    "{} is also the {other} file: give each output its own path",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_links_to_inputs_and_missing_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.csv");
        std::fs::write(&data, "a,label\n1,0\n").unwrap();
        let error = check_output("--save", &data, &[&data])
            .unwrap_err()
            .to_string();
        assert!(error.contains("which this command reads"), "{error}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.safetensors");
            std::os::unix::fs::symlink(&data, &link).unwrap();
            assert!(check_output("--save", &link, &[&data]).is_err());
        }
        let missing = dir.path().join("nodir").join("m.safetensors");
        let error = check_output("--save", &missing, &[&data])
            .unwrap_err()
            .to_string();
        assert!(error.contains("does not exist"), "{error}");
        let fine = dir.path().join("m.safetensors");
        check_output("--save", &fine, &[&data]).unwrap();
        assert!(!fine.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1 + usize::from(cfg!(unix))
        );
        let error = check_outputs(&[("--save", &fine), ("--metrics", &fine)], &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("also the --save file"), "{error}");
    }
}
