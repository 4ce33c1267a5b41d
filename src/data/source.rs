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

use super::label_columns::{LabelColumn, LabelsAs, labels_from_columns};
use super::{
    Dataset, Labels, Synthetic, Task, digits, generate, read_csv, read_idx, read_npy, read_npy_as,
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
    /// The loss is mean squared error: with `targets` unset, a numeric label column of a CSV or
    /// `.npy` file is a regression target (what `--loss mse` means for the user's own columns),
    /// not class indices. Built-in class sets (digits, MNIST's IDX labels) stay classes, so
    /// MSE on them is Nielsen's quadratic cost on one-hot targets.
    pub mse: bool,
    /// Whether a CSV file has a header row.
    pub header: Header,
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
        match (self.targets, self.mse && own_columns) {
            (Some(task), _) => TargetsChoice::Task(task),
            (None, true) => TargetsChoice::ValuesWhenNumeric,
            (None, false) => TargetsChoice::Auto,
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
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            label_columns: Vec::new(),
            labels: None,
            targets: None,
            labels_as: LabelsAs::Indices,
            mse: false,
            header: Header::Auto,
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
fn name_fashion_classes(loaded: &mut Loaded) {
    let numbered: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    for data in std::iter::once(&mut loaded.train).chain(loaded.test.as_mut()) {
        if let Labels::Classes { names, .. } = &mut data.labels
            && *names == numbered
        {
            *names = FASHION_MNIST_CLASSES.map(String::from).to_vec();
        }
    }
}

fn load_path(path: &Path, options: &LoadOptions) -> Result<Loaded> {
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
    let ((train, notes), suggested_normalization) = if name.ends_with(".csv") {
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
                "unknown data format: expected a .csv file, a .npy file, an IDX file, a \
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

/// A missing path that looks like a name gets the nearest built-in names.
fn not_found(path: &Path, error: std::io::Error) -> Error {
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
fn edit_distance(a: &str, b: &str) -> usize {
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
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::data(
            path,
            Some(format!("row {}, column {}", i / width, i % width)),
            format!("{} is not a finite number", values[i]),
        ));
    }
    Ok(Array2::from_shape_vec((rows, width), values).expect("length = product of the shape"))
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
    let array = read_idx(images)?;
    let features = rows_of(images, &array.dims, array.to_f32())?;
    let (labels, notes) = match labels {
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
    Ok((Dataset::with_labels(features, labels)?, notes))
}

fn npy_dataset(
    path: &Path,
    options: &LoadOptions,
) -> Result<((Dataset, Vec<String>), NormalizationKind)> {
    let array = read_npy(path)?;
    let normalization = if array.descr.ends_with("u1") {
        NormalizationKind::Scale(255.0)
    } else {
        NormalizationKind::Standardize
    };
    let mut features = rows_of(path, &array.shape, array.values)?;
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
            features = features.slice(ndarray::s![.., ..last]).to_owned();
            labels_from_columns(
                vec![LabelColumn::Numbers(values)],
                vec![last.to_string()],
                options.targets_for(true),
                options.labels_as,
            )
            .map_err(|(i, m)| Error::data(path, Some(format!("row {i}, last column")), m))?
        }
    };
    Ok((
        (Dataset::with_labels(features, labels)?, notes),
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
