//! Data specs: what `--data` names, and how each is turned into a train (+ test) set.
//!
//! ```text
//! digits                         the embedded 8×8 digits set
//! spirals | moons | circles | xor | blobs   synthetic 2-D data (--samples, --noise)
//! DIR                            a directory with the four MNIST IDX files (train + test)
//! FILE.csv                       a CSV table with a header
//! FILE.npy [--labels L.npy]      features (rows × features, or images) and labels
//! FILE (IDX) --labels L          an IDX features file and an IDX labels file
//! ```

use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::{Dataset, Synthetic, class_labels, digits, generate, read_csv, read_idx, read_npy};
use crate::error::{Error, Result};
use crate::preprocess::NormalizationKind;

/// The four MNIST files: (role, base name without extension).
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Where the data comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    /// The embedded digits set.
    Digits,
    /// A synthetic generator.
    Synthetic(Synthetic),
    /// A file or directory.
    Path(PathBuf),
}

impl DataSpec {
    /// Parses a `--data` value: a reserved name, else a path.
    pub fn parse(text: &str) -> DataSpec {
        match text {
            "digits" => DataSpec::Digits,
            other => match other.parse::<Synthetic>() {
                Ok(kind) => DataSpec::Synthetic(kind),
                Err(_) => DataSpec::Path(PathBuf::from(other)),
            },
        }
    }
}

/// How to read a data source.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// The CSV label column, by name or 0-based index.
    pub label_column: Option<String>,
    /// A separate labels file (for `.npy` and IDX features).
    pub labels: Option<PathBuf>,
    /// Whether data without labels is an error.
    pub require_labels: bool,
    /// The number of features a model expects (decides whether a label column is present).
    pub expected_features: Option<usize>,
    /// Rows a synthetic generator draws.
    pub samples: usize,
    /// Noise of a synthetic generator (its default when `None`).
    pub noise: Option<f64>,
    /// Seed of a synthetic generator.
    pub seed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            label_column: None,
            labels: None,
            require_labels: true,
            expected_features: None,
            samples: 1000,
            noise: None,
            seed: 0,
        }
    }
}

/// A loaded source: its training rows and, when it brings one, its own test set.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The rows to train on (validation is split off later).
    pub train: Dataset,
    /// The source's own test set (MNIST's t10k files), if any.
    pub test: Option<Dataset>,
    /// A one-line description for reports.
    pub description: String,
    /// The normalisation that suits the source: divide by 255 for 8-bit images (IDX, u1
    /// `.npy`), where per-pixel standardisation would blow up nearly-constant border pixels;
    /// standardise everything else.
    pub suggested_normalization: NormalizationKind,
}

/// Loads a data spec.
pub fn load(spec: &DataSpec, options: &LoadOptions) -> Result<Loaded> {
    match spec {
        DataSpec::Digits => Ok(Loaded {
            train: digits(),
            test: None,
            description: "digits (embedded 8×8 handwritten digits, 1797 rows)".into(),
            suggested_normalization: NormalizationKind::Standardize,
        }),
        DataSpec::Synthetic(kind) => {
            let noise = options.noise.unwrap_or(kind.default_noise());
            Ok(Loaded {
                train: generate(*kind, options.samples, noise, options.seed),
                test: None,
                description: format!(
                    "{kind} (synthetic, {} rows, noise {noise})",
                    options.samples
                ),
                suggested_normalization: NormalizationKind::Standardize,
            })
        }
        DataSpec::Path(path) => load_path(path, options),
    }
}

fn load_path(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let pixels = NormalizationKind::Scale(255.0);
    let description = path.display().to_string();
    if metadata.is_dir() {
        let [train_images, train_labels, test_images, test_labels] = find_mnist_files(path)?;
        let train = idx_dataset(&train_images, Some(&train_labels), options)?;
        let test = idx_dataset(&test_images, Some(&test_labels), options)?;
        return Ok(Loaded {
            description: format!(
                "{description} (IDX: {} train + {} test rows)",
                train.len(),
                test.len()
            ),
            train,
            test: Some(test),
            suggested_normalization: pixels,
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (train, suggested_normalization) = if name.ends_with(".csv") {
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
            "unknown data format: expected a .csv file, a .npy file, an IDX file, a directory \
             with the four MNIST files, or one of: digits, spirals, moons, circles, xor, blobs",
        ));
    };
    Ok(Loaded {
        train,
        test: None,
        description,
        suggested_normalization,
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

/// Rows × features from an array of shape (n, d₁, d₂, …) given as a flat row-major vector.
fn rows_of(path: &Path, shape: &[usize], values: Vec<f32>) -> Result<Array2<f32>> {
    let (&rows, rest) = shape
        .split_first()
        .ok_or_else(|| Error::data(path, None, "a 0-dimensional array holds no examples"))?;
    let width = rest
        .iter()
        .product::<usize>()
        .max(usize::from(rest.is_empty()));
    if rows == 0 || width == 0 {
        return Err(Error::data(
            path,
            None,
            format!("shape {shape:?} holds no data"),
        ));
    }
    Ok(Array2::from_shape_vec((rows, width), values).expect("length = product of the shape"))
}

fn labels_from(
    path: &Path,
    shape: &[usize],
    values: &[f64],
    rows: usize,
) -> Result<(Vec<usize>, Vec<String>)> {
    if shape.len() != 1 {
        return Err(Error::data(
            path,
            None,
            format!("labels must be a 1-dimensional array, got shape {shape:?}"),
        ));
    }
    if values.len() != rows {
        return Err(Error::data(
            path,
            None,
            format!(
                "mismatched: {} labels for {rows} feature rows",
                values.len()
            ),
        ));
    }
    class_labels(values)
        .map_err(|(i, message)| Error::data(path, Some(format!("entry {i}")), message))
}

fn idx_dataset(images: &Path, labels: Option<&Path>, options: &LoadOptions) -> Result<Dataset> {
    let array = read_idx(images)?;
    let features = rows_of(images, &array.dims, array.to_f32())?;
    let (labels, label_names) = match labels {
        Some(labels_path) => {
            let labels = read_idx(labels_path)?;
            labels_from(
                labels_path,
                &labels.dims,
                &labels.to_f64(),
                features.nrows(),
            )?
        }
        None if options.require_labels => {
            return Err(Error::data(
                images,
                None,
                "an IDX features file needs its labels file (--labels)",
            ));
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Dataset {
        features,
        labels,
        label_names,
    })
}

fn npy_dataset(path: &Path, options: &LoadOptions) -> Result<(Dataset, NormalizationKind)> {
    let array = read_npy(path)?;
    let normalization = if array.descr.ends_with("u1") {
        NormalizationKind::Scale(255.0)
    } else {
        NormalizationKind::Standardize
    };
    let mut features = rows_of(path, &array.shape, array.values)?;
    let (labels, label_names) = match &options.labels {
        Some(labels_path) => {
            let labels = read_npy(labels_path)?;
            let values: Vec<f64> = labels.values.iter().map(|&v| f64::from(v)).collect();
            labels_from(labels_path, &labels.shape, &values, features.nrows())?
        }
        None if options.expected_features == Some(features.ncols()) || !options.require_labels => {
            (Vec::new(), Vec::new())
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
            features = features.slice(ndarray::s![.., ..last]).to_owned();
            class_labels(&values)
                .map_err(|(i, m)| Error::data(path, Some(format!("row {i}, last column")), m))?
        }
    };
    Ok((
        Dataset {
            features,
            labels,
            label_names,
        },
        normalization,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_names_before_paths() {
        assert_eq!(DataSpec::parse("digits"), DataSpec::Digits);
        assert_eq!(
            DataSpec::parse("moons"),
            DataSpec::Synthetic(Synthetic::Moons)
        );
        assert_eq!(DataSpec::parse("a.csv"), DataSpec::Path("a.csv".into()));
    }

    #[test]
    fn unknown_format_and_missing_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("data.txt");
        std::fs::write(&odd, "hello").unwrap();
        let error = load(&DataSpec::Path(odd), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("data.txt") && error.contains("unknown data format"),
            "{error}"
        );
        let error = load(&DataSpec::Path(dir.path().into()), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("train-images-idx3-ubyte"), "{error}");
        let error = load(
            &DataSpec::Path(dir.path().join("nope.csv")),
            &LoadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("nope.csv"), "{error}");
    }
}
