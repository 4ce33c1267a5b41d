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
use std::path::Path;

use super::LoadOptions;
use super::csv::read_rows;
use crate::error::{Error, Result};
use crate::io::{persist_atomically, temporary_beside};

/// What [`csv_to_npy`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Converted {
    /// Data rows converted.
    pub rows: u64,
    /// The feature columns, in the order of the features file's columns.
    pub features: Vec<String>,
    /// The label columns, in the order of the labels file's columns.
    pub labels: Vec<String>,
    /// What reading the table noticed (a first line read as data).
    pub notes: Vec<String>,
}

/// Streams the CSV table `reader` (`input` names it in errors) into `features_out` (f32) and
/// `labels_out` (f64), choosing the columns by `options` as [`super::read_csv`] does.
///
/// ```
/// use nabla::data::{LoadOptions, csv_to_npy, read_npy};
///
/// let dir = tempfile::tempdir().unwrap();
/// let (features, labels) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
/// let table = "a,b,label\n0.5,1,0\n2,-3,1\n";
/// let converted = csv_to_npy(table.as_bytes(), "t.csv".as_ref(), &features, &labels, &LoadOptions::default())?;
/// assert_eq!((converted.rows, converted.features.len()), (2, 2));
/// let x = read_npy(&features)?;
/// assert_eq!(x.values, vec![0.5, 1.0, 2.0, -3.0]);
/// # Ok::<(), nabla::Error>(())
/// ```
///
/// # Errors
/// What [`super::read_csv`] refuses (a ragged row, a cell that is not a finite number, no
/// data rows), a label cell that is not a number, a table without label columns, or an output
/// that cannot be written.
pub fn csv_to_npy<R: Read>(
    reader: R,
    input: &Path,
    features_out: &Path,
    labels_out: &Path,
    options: &LoadOptions,
) -> Result<Converted> {
    crate::io::check_outputs(
        &[("output", features_out), ("--labels-out", labels_out)],
        &[input],
    )?;
    if features_out == labels_out {
        return Err(Error::invalid(
            "--labels-out",
            format!(
                "{} would hold both the features and the labels; give the labels another file",
                labels_out.display()
            ),
        ));
    }
    let mut features = NpyWriter::create(features_out, "<f4")?;
    let mut labels = NpyWriter::create(labels_out, "<f8")?;
    let mut bytes = Vec::new();
    let columns = read_rows(reader, input, options, &mut |line, values, cells| {
        if cells.is_empty() {
            return Err(Error::data(
                input,
                None,
                "no label column: the table needs one to convert into labels".to_string(),
            ));
        }
        bytes.clear();
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        features.row(values.len(), &bytes)?;
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
        labels.row(cells.len(), &bytes)
    })?;
    let one_label = columns.labels.len() == 1;
    let rows = features.rows;
    features.finish(false)?;
    labels.finish(one_label)?;
    Ok(Converted {
        rows,
        features: columns.features,
        labels: columns.labels,
        notes: columns.notes,
    })
}

/// The bytes a `.npy` header takes here: room for any shape, padded as NumPy pads (a multiple
/// of 64, ending in a newline).
const HEADER_BYTES: usize = 128;

/// A `.npy` file written row by row into a temporary beside its path, its header (which
/// holds the row count) written last.
struct NpyWriter<'p> {
    path: &'p Path,
    file: BufWriter<tempfile::NamedTempFile>,
    descr: &'static str,
    rows: u64,
    columns: usize,
}

impl<'p> NpyWriter<'p> {
    fn create(path: &'p Path, descr: &'static str) -> Result<Self> {
        let mut file = BufWriter::with_capacity(1 << 20, temporary_beside(path, "tmp")?);
        file.write_all(&[b' '; HEADER_BYTES])
            .map_err(|e| Error::io(path, e))?;
        Ok(NpyWriter {
            path,
            file,
            descr,
            rows: 0,
            columns: 0,
        })
    }

    /// Appends a row of `columns` values, `bytes` (every row has as many).
    fn row(&mut self, columns: usize, bytes: &[u8]) -> Result<()> {
        self.columns = columns;
        self.rows += 1;
        self.file
            .write_all(bytes)
            .map_err(|e| Error::io(self.path, e))
    }

    /// Writes the header (shape (rows,) when `vector`, else (rows, columns)) and puts the file
    /// in place.
    fn finish(self, vector: bool) -> Result<()> {
        let path = self.path;
        let shape = if vector {
            format!("({},)", self.rows)
        } else {
            format!("({}, {})", self.rows, self.columns)
        };
        let dict = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
            self.descr
        );
        let mut header = b"\x93NUMPY\x01\x00".to_vec();
        header.extend_from_slice(&((HEADER_BYTES - 10) as u16).to_le_bytes());
        header.extend_from_slice(dict.as_bytes());
        header.resize(HEADER_BYTES - 1, b' ');
        header.push(b'\n');
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&header))
            .map_err(|e| Error::io(path, e))?;
        persist_atomically(file, path)
    }
}
