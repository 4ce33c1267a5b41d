//! [`csv_to_npy`]: a CSV table of any size streamed into two `.npy` files, the features (f32,
//! rows × features) and the labels (f64, rows, or rows × label columns), in bounded memory:
//! one row at a time, however long the file. What `nabla convert` runs.
//!
//! The columns are chosen as `nabla train --data FILE.csv` chooses them (a header or not, the
//! label columns by name or index, by default `label`/`target`/`class`/`y` or the last), and
//! each row is checked the same way. The label cells must be numbers (class indices, 0/1
//! multi-label values, probabilities or regression targets): `nabla train --data OUT.npy
//! --labels OUT.labels.npy` then reads what the CSV file would have given.
//!
//! Each output goes to a temporary file beside it and replaces it only when complete.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::LoadOptions;
use super::csv::read_rows;
use super::npy::npy_header;
use crate::error::{Error, Result};
use crate::io::{persist_pair, temporary_beside};

/// What [`csv_to_npy`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Converted {
    /// Data rows converted.
    pub rows: u64,
    /// The feature columns, in the order of the features file's columns.
    pub features: Vec<String>,
    /// The label columns, in the order of the labels file's columns.
    pub labels: Vec<String>,
    /// Where the labels went.
    pub labels_file: PathBuf,
    /// What reading the table noticed (a first line read as data).
    pub notes: Vec<String>,
}

/// Streams the CSV table `reader` (`input` names it in errors) into `features_out` (f32) and
/// `labels_out` (f64; by default [`default_labels_path`] of `features_out`), choosing the
/// columns by `options` as [`super::read_csv`] does.
///
/// ```
/// use nabla::data::{LoadOptions, csv_to_npy, read_npy};
///
/// let dir = tempfile::tempdir().unwrap();
/// let features = dir.path().join("x.npy");
/// let table = "a,b,label\n0.5,1,0\n2,-3,1\n";
/// let converted = csv_to_npy(table.as_bytes(), "t.csv".as_ref(), &features, None, &LoadOptions::default())?;
/// assert_eq!((converted.rows, converted.features.len()), (2, 2));
/// assert_eq!(converted.labels_file, dir.path().join("x.labels.npy"));
/// let x = read_npy(&features)?;
/// assert_eq!(x.values, vec![0.5, 1.0, 2.0, -3.0]);
/// # Ok::<(), nabla::Error>(())
/// ```
///
/// # Errors
/// What [`super::read_csv`] refuses (a ragged row, a cell that is not a finite number, no
/// data rows, a table with no column besides its label), a label cell that is not a number,
/// or an output that cannot be written.
pub fn csv_to_npy<R: Read>(
    reader: R,
    input: &Path,
    features_out: &Path,
    labels_out: Option<&Path>,
    options: &LoadOptions,
) -> Result<Converted> {
    let labels_file =
        labels_out.map_or_else(|| default_labels_path(features_out), Path::to_path_buf);
    crate::io::check_outputs(
        &[("output", features_out), ("--labels-out", &labels_file)],
        &[input],
    )?;
    if features_out == labels_file {
        return Err(Error::invalid(
            "--labels-out",
            format!(
                "{} would hold both the features and the labels; give the labels another file",
                labels_file.display()
            ),
        ));
    }
    let options = LoadOptions {
        require_labels: true,
        ..options.clone()
    };
    // Made whole in temporaries and renamed into place: only regular files (or new ones) can
    // be, a link's target rather than the link.
    let features_target = crate::io::replaceable("output", features_out)?;
    let labels_target = crate::io::replaceable("--labels-out", &labels_file)?;
    let mut features = NpyWriter::create(&features_target, "<f4")?;
    let mut labels = NpyWriter::create(&labels_target, "<f8")?;
    let mut rows = 0u64;
    let mut bytes = Vec::new();
    let columns = read_rows(reader, input, &options, &mut |line, values, cells| {
        rows += 1;
        bytes.clear();
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        features.write(&bytes)?;
        bytes.clear();
        for cell in cells {
            let number = cell.parse::<f64>().ok().filter(|v| v.is_finite());
            let number = number.ok_or_else(|| {
                Error::data(
                    input,
                    Some(format!("line {line}")),
                    format!(
                        "label '{cell}' is not a number: nabla convert writes numeric labels \
                         (class indices or values); map class names to numbers first, or train \
                         from the CSV file itself"
                    ),
                )
            })?;
            bytes.extend(number.to_le_bytes());
        }
        labels.write(&bytes)
    })?;
    let features_shape = format!("({rows}, {})", columns.features.len());
    let labels_shape = match columns.labels.len() {
        1 => format!("({rows},)"),
        k => format!("({rows}, {k})"),
    };
    // Both made whole before either is put in place, and put in place as a pair: a full disk
    // or a failed rename leaves both old files, never new features beside old labels.
    persist_pair(
        (features.finish(&features_shape)?, &features_target),
        (labels.finish(&labels_shape)?, &labels_target),
    )?;
    Ok(Converted {
        rows,
        features: columns.features,
        labels: columns.labels,
        labels_file,
        notes: columns.notes,
    })
}

/// Where [`csv_to_npy`] writes the labels unless told: the features file with the extension
/// `.labels.npy` (`big.npy` → `big.labels.npy`).
pub fn default_labels_path(features_out: &Path) -> PathBuf {
    features_out.with_extension("labels.npy")
}

/// The widest shape a converted file can have: its header's length is the one every header
/// here has, as NumPy pads them (128 bytes).
const WIDEST_SHAPE: &str = "(18446744073709551615, 18446744073709551615)";

/// A `.npy` file written row by row into a temporary beside its path, its header (which
/// holds the row count) written last, into the room kept for it.
struct NpyWriter<'p> {
    path: &'p Path,
    file: BufWriter<tempfile::NamedTempFile>,
    descr: &'static str,
    header_bytes: usize,
}

impl<'p> NpyWriter<'p> {
    fn create(path: &'p Path, descr: &'static str) -> Result<Self> {
        let header_bytes = npy_header(descr, false, WIDEST_SHAPE).len();
        let mut file = BufWriter::with_capacity(1 << 20, temporary_beside(path, "tmp")?);
        file.write_all(&vec![b' '; header_bytes])
            .map_err(|e| Error::io(path, e))?;
        Ok(NpyWriter {
            path,
            file,
            descr,
            header_bytes,
        })
    }

    /// Appends values.
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(|e| Error::io(self.path, e))
    }

    /// Writes the header for `shape` (a Python tuple): the complete temporary, not yet in place.
    fn finish(self, shape: &str) -> Result<tempfile::NamedTempFile> {
        let path = self.path;
        let header = npy_header(self.descr, false, shape);
        assert_eq!(
            header.len(),
            self.header_bytes,
            "every header pads to the same length"
        );
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&header))
            .map_err(|e| Error::io(path, e))?;
        Ok(file)
    }
}
