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

use super::files::{load_path, name_fashion_classes};
use super::label_columns::LabelsAs;
use super::{Dataset, Synthetic, Task, digits, generate, read_csv};
use crate::error::{Error, Result};
use crate::preprocess::NormalizationKind;

/// Where the data comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    /// The embedded digits set.
    Digits,
    /// A synthetic generator.
    Synthetic(Synthetic),
    /// A published data set fetched into the cache (`mnist`, `fashion-mnist`).
    Remote(&'static str),
    /// A file or directory.
    Path(PathBuf),
    /// CSV on standard input (`-`).
    Stdin,
}

/// The names `--data` knows besides paths.
pub const BUILT_IN: [&str; 8] = [
    "digits",
    "mnist",
    "fashion-mnist",
    "spirals",
    "moons",
    "circles",
    "xor",
    "blobs",
];

impl DataSpec {
    /// Parses a `--data` value: a reserved name, else a path (`mnist` and `fashion-mnist` name
    /// a directory of that name when one exists, else the published set).
    pub fn parse(text: &str) -> DataSpec {
        match text {
            "-" => DataSpec::Stdin,
            "digits" => DataSpec::Digits,
            "mnist" | "fashion-mnist" if !Path::new(text).exists() => match text {
                "mnist" => DataSpec::Remote("mnist"),
                _ => DataSpec::Remote("fashion-mnist"),
            },
            other => match other.parse::<Synthetic>() {
                Ok(kind) => DataSpec::Synthetic(kind),
                Err(_) => DataSpec::Path(PathBuf::from(other)),
            },
        }
    }
}

impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSpec::Digits => f.write_str("digits"),
            DataSpec::Synthetic(kind) => write!(f, "{kind}"),
            DataSpec::Remote(name) => f.write_str(name),
            DataSpec::Path(path) => write!(f, "{}", path.display()),
            DataSpec::Stdin => f.write_str("-"),
        }
    }
}

/// Whether a CSV file starts with a header row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Header {
    /// A first line of numbers only is data; anything else is a header.
    #[default]
    Auto,
    /// The first line names the columns.
    Present,
    /// The first line is data; columns are named by their 0-based index.
    Absent,
}

impl From<Option<bool>> for Header {
    /// `Some(true)`: the file has a header; `Some(false)`: it has none; `None`: tell by the
    /// first line.
    fn from(present: Option<bool>) -> Header {
        match present {
            Some(true) => Header::Present,
            Some(false) => Header::Absent,
            None => Header::Auto,
        }
    }
}

/// How to read a data source.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// The CSV label columns, by name or 0-based index (empty: the column named label, target,
    /// class or y, else the last).
    pub label_columns: Vec<String>,
    /// A separate labels file (for `.npy` and IDX features).
    pub labels: Option<PathBuf>,
    /// What the label columns hold (`None`: classes for one column, multi-label for several).
    pub targets: Option<Task>,
    /// How numeric class labels are read.
    pub labels_as: LabelsAs,
    /// The loss given, which says what a user's own label columns are when `targets` is unset:
    /// under mean squared error a numeric label column of a CSV or `.npy` file is a regression
    /// target, not class indices (built-in class sets, digits and MNIST's IDX labels, stay
    /// classes, so MSE on them is Nielsen's quadratic cost on one-hot targets); under binary
    /// cross-entropy several label columns are yes/no targets (multi-label), whatever values
    /// they hold (a value outside [0, 1] is then named, with its line).
    pub loss: Option<crate::loss::LossKind>,
    /// Whether a CSV file has a header row.
    pub header: Header,
    /// A CSV file's separator (`None`: told from its first line: comma, semicolon or tab).
    pub delimiter: Option<u8>,
    /// A CSV file's index column (row numbers, not a feature).
    pub index_column: super::IndexColumn,
    /// What to do with a CSV row with a missing cell.
    pub missing: super::Missing,
    /// Whether data without labels is an error.
    pub require_labels: bool,
    /// The number of features a model expects (decides whether a label column is present).
    pub expected_features: Option<usize>,
    /// A model's feature names: CSV columns are matched to them by name when the file has a
    /// header.
    pub feature_names: Option<Vec<String>>,
    /// Rows a synthetic generator draws.
    pub samples: usize,
    /// Noise of a synthetic generator (its default when `None`).
    pub noise: Option<f64>,
    /// Seed of a synthetic generator.
    pub seed: u64,
    /// Where downloaded data sets come from and are kept.
    #[cfg(feature = "download")]
    pub download: super::download::DownloadOptions,
}

impl LoadOptions {
    /// How the label columns of a user's file are read (`own_columns`: a CSV or `.npy` file,
    /// not a built-in class set).
    pub(super) fn targets_for(&self, own_columns: bool) -> TargetsChoice {
        use crate::loss::LossKind;
        match (self.targets, self.loss.filter(|_| own_columns)) {
            (Some(task), _) => TargetsChoice::Task(task),
            (None, Some(LossKind::Mse)) => TargetsChoice::ValuesWhenNumeric,
            (None, Some(LossKind::BinaryCrossEntropy)) => {
                TargetsChoice::SeveralAs(Task::MultiLabel)
            }
            (None, _) => TargetsChoice::Auto,
        }
    }
}

/// How label columns are read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TargetsChoice {
    /// As this task.
    Task(Task),
    /// Classes for one column; for several, multi-label when every value is in [0, 1], else
    /// (numbers beyond it, which cannot be probabilities) a regression, with a note.
    Auto,
    /// Regression values when one column holds numbers, class names otherwise.
    ValuesWhenNumeric,
    /// Classes for one column, this task for several.
    SeveralAs(Task),
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            label_columns: Vec::new(),
            labels: None,
            targets: None,
            labels_as: LabelsAs::Indices,
            loss: None,
            header: Header::Auto,
            delimiter: None,
            index_column: super::IndexColumn::Auto,
            missing: super::Missing::Refuse,
            require_labels: true,
            expected_features: None,
            feature_names: None,
            samples: 1000,
            noise: None,
            seed: 0,
            #[cfg(feature = "download")]
            download: Default::default(),
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
    /// What the reader noticed and the user should hear (a first line read as data, classes
    /// that never occur).
    pub notes: Vec<String>,
}

/// Loads a data spec (a remote set is downloaded first, silently; see [`load_reporting`]).
pub fn load(spec: &DataSpec, options: &LoadOptions) -> Result<Loaded> {
    load_reporting(spec, options, &mut |_| {})
}

/// What loading reports as it goes: a download's progress.
#[cfg(feature = "download")]
pub type LoadProgress<'a> = super::download::Progress<'a>;

/// What loading reports as it goes (nothing without the `download` feature).
#[cfg(not(feature = "download"))]
pub type LoadProgress<'a> = std::marker::PhantomData<&'a ()>;

/// [`load`], reporting a download's progress to `report`.
pub fn load_reporting(
    spec: &DataSpec,
    options: &LoadOptions,
    report: &mut dyn FnMut(LoadProgress),
) -> Result<Loaded> {
    let mut loaded = match spec {
        DataSpec::Digits => Loaded {
            train: digits(),
            test: None,
            description: "digits (embedded 8×8 handwritten digits, 1797 rows)".into(),
            suggested_normalization: NormalizationKind::Standardize,
            notes: Vec::new(),
        },
        DataSpec::Synthetic(kind) => {
            let noise = options.noise.unwrap_or(kind.default_noise());
            Loaded {
                train: generate(*kind, options.samples, noise, options.seed)?,
                test: None,
                description: format!(
                    "{kind} (synthetic, {} rows, noise {noise})",
                    options.samples
                ),
                suggested_normalization: NormalizationKind::Standardize,
                notes: Vec::new(),
            }
        }
        DataSpec::Remote(name) => {
            let directory = fetch_remote(name, options, report)?;
            let mut loaded = load_path(&directory, options)?;
            if *name == "fashion-mnist" {
                name_fashion_classes(&mut loaded);
            }
            loaded.description = format!("{name} ({})", loaded.description);
            loaded
        }
        DataSpec::Path(path) => load_path(path, options)?,
        DataSpec::Stdin => {
            let (train, notes) = read_csv(
                std::io::stdin().lock(),
                Path::new("<standard input>"),
                options,
            )?;
            Loaded {
                train,
                test: None,
                description: "CSV on standard input".into(),
                suggested_normalization: NormalizationKind::Standardize,
                notes,
            }
        }
    };
    if !options.require_labels {
        return Ok(loaded);
    }
    for data in std::iter::once(&loaded.train).chain(&loaded.test) {
        if !data.is_labelled() {
            return Err(Error::invalid(
                "data",
                format!(
                    "{}: no labels (the rows need targets to train or evaluate)",
                    loaded.description
                ),
            ));
        }
    }
    loaded.notes.dedup();
    Ok(loaded)
}

/// Downloads (or finds in the cache) the remote set `name`; returns its directory.
#[cfg(feature = "download")]
fn fetch_remote(
    name: &str,
    options: &LoadOptions,
    report: &mut dyn FnMut(LoadProgress),
) -> Result<PathBuf> {
    let set = super::download::remote(name)
        .ok_or_else(|| Error::invalid("data", format!("'{name}' is not a published data set")))?;
    super::download::ensure_downloaded(set, &options.download, report)
}

#[cfg(not(feature = "download"))]
fn fetch_remote(
    name: &str,
    _options: &LoadOptions,
    _report: &mut dyn FnMut(LoadProgress),
) -> Result<PathBuf> {
    Err(Error::invalid(
        "data",
        format!(
            "'{name}' is downloaded, and this build of nabla has no download support (cargo feature \"download\"); give the directory of its four IDX files instead"
        ),
    ))
}

/// A missing path that looks like a name gets the nearest built-in names.
pub(super) fn not_found(path: &Path, error: std::io::Error) -> Error {
    let text = path.to_string_lossy();
    let bare = !text.contains(['/', '\\', '.']);
    if error.kind() == std::io::ErrorKind::NotFound && bare {
        let nearest: Vec<&str> = BUILT_IN
            .iter()
            .copied()
            .filter(|name| edit_distance(name, &text) <= 2 || name.starts_with(text.as_ref()))
            .collect();
        let hint = match nearest.as_slice() {
            [] => String::new(),
            names => format!("did you mean {}? ", names.join(" or ")),
        };
        return Error::data(
            path,
            None,
            format!(
                "no such file or data set; {hint}the built-in data sets are {}",
                BUILT_IN.join(", ")
            ),
        );
    }
    Error::io(path, error)
}

/// Levenshtein distance between two short names.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Labels;

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

    /// Writes a 10-image, 10-class MNIST-shaped IDX set (2×2 pixels) into `dir`.
    fn write_tiny_idx(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let images = |n: u8| {
            let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 2, 0, 0, 0, 2];
            bytes.extend((0..4 * n).map(|i| i.wrapping_mul(37)));
            bytes
        };
        let labels = |n: u8| {
            let mut bytes = vec![0, 0, 8, 1, 0, 0, 0, n];
            bytes.extend((0..n).map(|i| i % 10));
            bytes
        };
        for (name, bytes) in [
            ("train-images-idx3-ubyte", images(10)),
            ("train-labels-idx1-ubyte", labels(10)),
            ("t10k-images-idx3-ubyte", images(10)),
            ("t10k-labels-idx1-ubyte", labels(10)),
        ] {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn fashion_mnist_classes_are_named_and_mnist_stays_numbered() {
        let root = tempfile::tempdir().unwrap();
        let names = |dir: &str| {
            let path = root.path().join(dir);
            write_tiny_idx(&path);
            let loaded = load(&DataSpec::Path(path), &LoadOptions::default()).unwrap();
            let test = loaded.test.unwrap();
            assert_eq!(test.labels, loaded.train.labels);
            match loaded.train.labels {
                Labels::Classes { names, .. } => names,
                other => panic!("{other:?}"),
            }
        };
        let fashion = names("Fashion-MNIST");
        assert_eq!(fashion[4], "Coat");
        assert_eq!(fashion[9], "Ankle boot");
        assert_eq!(names("mnist")[4], "4");
    }
}
