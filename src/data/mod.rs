//! Data sets: the in-memory table of examples, and the loaders that fill it.
//!
//! | source | file |
//! |---|---|
//! | CSV with a header (label column by name or index) | `csv.rs` |
//! | MNIST IDX files, plain or gzip, any IDX element type | `idx.rs` |
//! | NumPy `.npy` arrays (f32, f64, u8 and integer types) | `npy.rs` |
//! | the 8×8 digits set compiled into the binary | `digits.rs` |
//! | spirals, moons, circles, XOR, Gaussian blobs | `synthetic.rs` |
//! | stratified, seeded splits | `split.rs` |
//! | MNIST / Fashion-MNIST fetched into a cache, SHA-256 verified | `download.rs` |
//! | a data spec ("digits", "spirals", a path) → train (+ test) | `source.rs` |
//!
//! Every loader checks what it reads against what the file declares and reports the file,
//! the position and the expectation on failure; nothing is allocated from a declared size that
//! the file's actual length does not back.

mod csv;
mod digits;
pub mod download;
pub mod huge_pages;
mod idx;
mod npy;
mod source;
mod split;
mod synthetic;

use ndarray::{Array2, Axis};

pub use self::csv::read_csv;
pub use digits::digits;
pub use idx::{IdxArray, read_idx};
pub use npy::{NpyArray, read_npy};
pub use source::{DataSpec, LoadOptions, Loaded, MNIST_FILES, find_mnist_files, load};
pub use split::stratified_split;
pub use synthetic::{Synthetic, generate};

/// A labelled (or unlabelled) table of examples.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// One row per example, one column per feature.
    pub features: Array2<f32>,
    /// The class index of each row; empty for unlabelled data.
    pub labels: Vec<usize>,
    /// The name of each class (index → name); "0", "1", … for numeric labels.
    pub label_names: Vec<String>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.features.nrows()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of features per example.
    pub fn feature_count(&self) -> usize {
        self.features.ncols()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.label_names.len()
    }

    /// Whether every row has a label.
    pub fn is_labelled(&self) -> bool {
        self.labels.len() == self.len() && !self.is_empty()
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select(Axis(0), indices),
            labels: if self.labels.is_empty() {
                Vec::new()
            } else {
                indices.iter().map(|&i| self.labels[i]).collect()
            },
            label_names: self.label_names.clone(),
        }
    }

    /// How many rows carry each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes()];
        for &label in &self.labels {
            counts[label] += 1;
        }
        counts
    }

    /// Re-expresses the labels in terms of `names` (a model's classes), matching by name.
    ///
    /// # Errors
    /// A label whose name is not among `names`, with the row it first occurs in.
    pub fn relabel(&mut self, names: &[String]) -> Result<(), String> {
        if self.label_names == names {
            return Ok(());
        }
        let mapping: Vec<Option<usize>> = self
            .label_names
            .iter()
            .map(|n| names.iter().position(|m| m == n))
            .collect();
        if let Some((row, &label)) = self
            .labels
            .iter()
            .enumerate()
            .find(|(_, l)| mapping[**l].is_none())
        {
            return Err(format!(
                "row {row}: label '{}' is not one of the model's {} classes ({})",
                self.label_names[label],
                names.len(),
                names.join(", ")
            ));
        }
        for label in &mut self.labels {
            *label = mapping[*label].expect("checked above");
        }
        self.label_names = names.to_vec();
        Ok(())
    }
}

/// The most classes a label column may declare (a guard against a stray huge number
/// allocating a huge table).
pub const MAX_CLASSES: usize = 1 << 16;

/// Class indices from numeric label values: each must be a whole number in 0..MAX_CLASSES.
/// On failure returns the position of the first bad value and why.
pub(crate) fn class_labels(values: &[f64]) -> Result<(Vec<usize>, Vec<String>), (usize, String)> {
    let mut labels = Vec::with_capacity(values.len());
    for (i, &value) in values.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0 && value.fract() == 0.0) {
            return Err((
                i,
                format!("label '{value}' is not a class index (a whole number ≥ 0)"),
            ));
        }
        if value >= MAX_CLASSES as f64 {
            return Err((
                i,
                format!("label {value} is too large: at most {MAX_CLASSES} classes are supported"),
            ));
        }
        labels.push(value as usize);
    }
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    Ok((labels, numeric_label_names(classes)))
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
