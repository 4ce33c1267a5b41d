//! Data sets: the table of examples (in memory, or in a file mapped into memory when it does
//! not fit), and the loaders that fill it.
//!
//! | source | file |
//! |---|---|
//! | the table of examples and its targets | `dataset.rs`, `labels.rs` |
//! | its feature values, owned or read in place from a caller's memory or a mapped file | `features.rs` |
//! | the memory budget, and the temporary files of tables beyond it | `spill.rs` |
//! | 2 MB pages for large tables in memory | `huge_pages.rs` |
//! | CSV with a header (label column by name or index) | `csv.rs` |
//! | a CSV table of any size streamed into `.npy` features and labels | `convert.rs` |
//! | MNIST IDX files, plain or gzip, any IDX element type | `idx.rs` |
//! | NumPy `.npy` arrays (f32, f64, u8 and integer types), mapped, never read whole | `npy.rs` |
//! | mapped files named to a SIGBUS handler: a file truncated meanwhile is an error, not a crash | `mapped_files.rs` |
//! | the 8×8 digits set compiled into the binary | `digits.rs` |
//! | spirals, moons, circles, XOR, Gaussian blobs | `synthetic.rs` |
//! | stratified, seeded splits | `split.rs` |
//! | MNIST / Fashion-MNIST fetched into a cache, SHA-256 verified | `download.rs` |
//! | a data spec ("digits", "spirals", a path) → train (+ test) | `source.rs` |
//! | a path: CSV, `.npy`, IDX file, MNIST directory; Fashion-MNIST's names | `files.rs` |
//!
//! Every loader checks what it reads against what the file declares and reports the file,
//! the position and the expectation on failure; nothing is allocated from a declared size that
//! the file's actual length does not back.

mod convert;
mod csv;
mod csv_columns;
mod csv_layout;
mod dataset;
mod digits;
#[cfg(feature = "download")]
pub mod download;
mod features;
mod files;
pub mod huge_pages;
mod idx;
mod label_columns;
mod labels;
mod mapped_files;
mod npy;
mod source;
pub mod spill;
mod split;
mod synthetic;
mod training_range;

pub use self::csv::read_csv;
pub use convert::{Converted, csv_to_npy, default_labels_path};
pub use csv_layout::{IndexColumn, Missing, parse_separator};
pub use dataset::Dataset;
pub use digits::digits;
pub use features::Features;
pub use files::{FASHION_MNIST_CLASSES, MNIST_FILES, find_mnist_files};
pub use idx::{IdxArray, read_idx, read_idx_features};
pub use label_columns::{LabelsAs, MAX_CLASSES};
pub(crate) use labels::arg_max;
pub use labels::{DISTRIBUTION_TOLERANCE, Labels, Task};
pub use mapped_files::{MappedFile, report_truncated_files};
pub use npy::{NpyArray, NpyValue, npy_header, read_npy, read_npy_as, read_npy_features};
pub use source::{
    BUILT_IN, DataSpec, Header, LoadOptions, LoadProgress, Loaded, TargetsChoice, load,
    load_reporting,
};
pub use split::stratified_split;
pub(crate) use synthetic::check_noise;
pub use synthetic::{Synthetic, generate};
pub use training_range::{OutsideRange, TrainingRange};

/// The most values a data file may hold (2²⁸: 1 GiB as f32), so that a small file that
/// declares (or inflates to) a huge array is refused instead of exhausting memory.
pub const MAX_DATA_VALUES: usize = 1 << 28;

/// Refuses an array of `values` values from `path` beyond [`MAX_DATA_VALUES`].
pub(crate) fn check_data_size(path: &std::path::Path, values: usize) -> crate::Result<()> {
    if values > MAX_DATA_VALUES {
        return Err(crate::Error::data(
            path,
            None,
            format!(
                "{values} values: larger than the {MAX_DATA_VALUES} values (1 GiB as f32) nabla \
                 reads from one data file"
            ),
        ));
    }
    Ok(())
}

/// Bytes of an array of `dims` with `element_size`-byte elements, or `None` when that
/// overflows (a header declaring an absurd size).
pub(crate) fn byte_size(dims: &[usize], element_size: usize) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))?
        .checked_mul(element_size)
}

/// Class names for numeric labels 0..classes.
pub fn numeric_label_names(classes: usize) -> Vec<String> {
    (0..classes).map(|c| c.to_string()).collect()
}
