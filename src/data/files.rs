//! Loading a path: a CSV file, a `.npy` file (with its labels), an IDX file (with its labels) or a
//! directory of the four MNIST IDX files; Fashion-MNIST's class names.

use std::path::{Path, PathBuf};

use super::label_columns::{LabelColumn, labels_from_columns};
use super::source::{BUILT_IN, LoadOptions, Loaded, not_found};
use super::{
    Dataset, Features, Labels, read_csv, read_idx, read_idx_features, read_npy_as,
    read_npy_features,
};
use crate::error::{Error, Result};
use crate::preprocess::NormalizationKind;

/// The four MNIST files: (role, base name without extension).
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Fashion-MNIST's ten classes, in label order (Xiao, Rasul, Vollgraf 2017, table 1).
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Names Fashion-MNIST's classes 0–9 (`fashion-mnist`, or a directory of IDX files whose name
/// contains "fashion") as its authors do, so reports and pictures say "Coat", not "4".
pub(super) fn name_fashion_classes(loaded: &mut Loaded) {
    let numbered: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    for data in std::iter::once(&mut loaded.train).chain(loaded.test.as_mut()) {
        if let Labels::Classes { names, .. } = &mut data.labels
            && *names == numbered
        {
            *names = FASHION_MNIST_CLASSES.map(String::from).to_vec();
        }
    }
}

/// Loads a file or MNIST directory.
pub(super) fn load_path(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let metadata = std::fs::metadata(path).map_err(|e| not_found(path, e))?;
    let pixels = NormalizationKind::Scale(255.0);
    let description = path.display().to_string();
    if metadata.is_dir() {
        let [train_images, train_labels, test_images, test_labels] = find_mnist_files(path)?;
        let (train, mut notes) = idx_dataset(&train_images, Some(&train_labels), options)?;
        let (test, test_notes) = idx_dataset(&test_images, Some(&test_labels), options)?;
        notes.extend(test_notes);
        let mut loaded = Loaded {
            description: format!(
                "{description} (IDX: {} train + {} test rows)",
                train.len(),
                test.len()
            ),
            train,
            test: Some(test),
            suggested_normalization: pixels,
            notes,
        };
        let fashion = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_lowercase().contains("fashion"));
        if fashion {
            name_fashion_classes(&mut loaded);
        }
        return Ok(loaded);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    // A table: .csv, or .tsv for tab-separated ones (the separator is told from the header).
    let table = [".csv", ".tsv"].iter().any(|e| name.ends_with(e));
    let ((train, notes), suggested_normalization) = if table {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        (
            read_csv(std::io::BufReader::new(file), path, options)?,
            NormalizationKind::Standardize,
        )
    } else if name.ends_with(".npy") {
        npy_dataset(path, options)?
    } else if name.contains("idx") || looks_like_idx(path) {
        (
            idx_dataset(path, options.labels.as_deref(), options)?,
            pixels,
        )
    } else {
        return Err(Error::data(
            path,
            None,
            format!(
                "unknown data format: expected a .csv or .tsv file, a .npy file, an IDX file, a \
                 directory with the four MNIST files, or one of: {}",
                BUILT_IN.join(", ")
            ),
        ));
    };
    Ok(Loaded {
        train,
        test: None,
        description,
        suggested_normalization,
        notes,
    })
}

/// Whether the file starts like an IDX file (two zero bytes, a known type code) or gzip.
fn looks_like_idx(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 3];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| {
            (head[0] == 0 && head[1] == 0 && matches!(head[2], 8..=0x0e))
                || head[..2] == [0x1f, 0x8b]
        })
        .unwrap_or(false)
}

/// The four MNIST files in `dir`, plain or gzip, in either naming (`train-images-idx3-ubyte`
/// or `train-images.idx3-ubyte`).
pub fn find_mnist_files(dir: &Path) -> Result<[PathBuf; 4]> {
    let find = |base: &str| -> Result<PathBuf> {
        let dotted = base.replacen("-idx", ".idx", 1);
        [
            base.to_string(),
            format!("{base}.gz"),
            dotted.clone(),
            format!("{dotted}.gz"),
        ]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::data(
                dir,
                None,
                format!(
                    "no {base}[.gz] here: a data directory needs the four MNIST files {}",
                    MNIST_FILES.join(", ")
                ),
            )
        })
    };
    Ok([
        find(MNIST_FILES[0])?,
        find(MNIST_FILES[1])?,
        find(MNIST_FILES[2])?,
        find(MNIST_FILES[3])?,
    ])
}

/// What to tell the user when the features of `path` are not in memory: read in place from
/// the file, or kept in a temporary file, because they do not fit the memory budget.
fn out_of_memory_note(path: &Path, features: &Features) -> Option<String> {
    if features.is_in_memory() {
        return None;
    }
    let size = super::spill::size_text((features.len() * std::mem::size_of::<f32>()) as u64);
    let budget = super::spill::size_text(super::spill::memory_budget());
    Some(if features.is_spilled() {
        format!(
            "{}: its {size} of features are kept in a temporary file (in {}): they do not fit \
             the memory budget of {budget}",
            path.display(),
            std::env::temp_dir().display()
        )
    } else {
        format!(
            "{}: read in place (memory-mapped): its {size} of features do not fit the memory \
             budget of {budget}",
            path.display()
        )
    })
}

/// Refuses a table with no rows or no columns, or with a value that is not a finite number
/// (naming its row and column).
fn check_rows(path: &Path, shape: &[usize], table: &ndarray::ArrayRef2<f32>) -> Result<()> {
    if table.nrows() == 0 || table.ncols() == 0 {
        return Err(Error::data(
            path,
            None,
            format!("shape {shape:?} holds no data"),
        ));
    }
    for (r, row) in table.rows().into_iter().enumerate() {
        if let Some(c) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::data(
                path,
                Some(format!("row {r}, column {c}")),
                format!("{} is not a finite number", row[c]),
            ));
        }
    }
    Ok(())
}

/// The targets in a labels array of shape (rows,) (one column) or (rows, k) (k columns).
fn labels_from(
    path: &Path,
    shape: &[usize],
    values: Vec<f64>,
    rows: usize,
    options: &LoadOptions,
    own_columns: bool,
) -> Result<(Labels, Vec<String>)> {
    let columns = match shape {
        [n] if *n == rows => 1,
        [n, k] if *n == rows && *k > 0 => *k,
        [n] | [n, _] if *n != rows => {
            return Err(Error::data(
                path,
                None,
                format!("mismatched: {n} labels for {rows} feature rows"),
            ));
        }
        _ => {
            return Err(Error::data(
                path,
                None,
                format!("labels must be an array of shape (rows,) or (rows, k), got {shape:?}"),
            ));
        }
    };
    let names = (0..columns).map(|c| c.to_string()).collect();
    let columns = (0..columns)
        .map(|c| LabelColumn::Numbers(values.iter().skip(c).step_by(columns).copied().collect()))
        .collect();
    labels_from_columns(
        columns,
        names,
        options.targets_for(own_columns),
        options.labels_as,
    )
    .map_err(|(i, message)| Error::data(path, Some(format!("entry {i}")), message))
}

fn idx_dataset(
    images: &Path,
    labels: Option<&Path>,
    options: &LoadOptions,
) -> Result<(Dataset, Vec<String>)> {
    let (dims, features) = read_idx_features(images)?;
    check_rows(images, &dims, &features)?;
    let (labels, mut notes) = match labels {
        Some(labels_path) => {
            let labels = read_idx(labels_path)?;
            labels_from(
                labels_path,
                &labels.dims,
                labels.to_f64(),
                features.nrows(),
                options,
                false,
            )?
        }
        None if options.require_labels => {
            return Err(Error::data(
                images,
                None,
                "an IDX features file needs its labels file (--labels)",
            ));
        }
        None => (Labels::None, Vec::new()),
    };
    notes.extend(out_of_memory_note(images, &features));
    Ok((Dataset::with_labels(features, labels)?, notes))
}

fn npy_dataset(
    path: &Path,
    options: &LoadOptions,
) -> Result<((Dataset, Vec<String>), NormalizationKind)> {
    let (shape, descr, mut features) = read_npy_features(path)?;
    let normalization = if descr.ends_with("u1") {
        NormalizationKind::Scale(255.0)
    } else {
        NormalizationKind::Standardize
    };
    check_rows(path, &shape, &features)?;
    let (labels, notes) = match &options.labels {
        Some(labels_path) => {
            // f64: an f8 label such as 1.00000001 must not round to a class index.
            let labels = read_npy_as::<f64>(labels_path)?;
            let values = labels.values;
            labels_from(
                labels_path,
                &labels.shape,
                values,
                features.nrows(),
                options,
                true,
            )?
        }
        None if options.expected_features == Some(features.ncols()) || !options.require_labels => {
            (Labels::None, Vec::new())
        }
        None => {
            // No labels file: the last column holds the labels, as in a CSV table.
            if features.ncols() < 2 {
                return Err(Error::data(
                    path,
                    None,
                    "one column only: give the labels with --labels",
                ));
            }
            let last = features.ncols() - 1;
            let values: Vec<f64> = features
                .column(last)
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            features = Features::copy_of(features.slice(ndarray::s![.., ..last]))?;
            labels_from_columns(
                vec![LabelColumn::Numbers(values)],
                vec![last.to_string()],
                options.targets_for(true),
                options.labels_as,
            )
            .map_err(|(i, m)| Error::data(path, Some(format!("row {i}, last column")), m))?
        }
    };
    let mut notes = notes;
    notes.extend(out_of_memory_note(path, &features));
    Ok((
        (Dataset::with_labels(features, labels)?, notes),
        normalization,
    ))
}
