//! Data preparation, the pipeline before training: load a source (downloading a published set
//! first), take the test rows (the source's own test set, a separate source, or a stratified
//! split), split validation rows off the rest, and normalise all three with statistics of the
//! training rows only.
//!
//! ```text
//! source ──load──► rows (+ own test set)
//!                   │ stratified split (seeded): test ← fraction or count, unless given
//!                   ▼
//!                  pool ──stratified split (seed + 1)──► train, validation
//!                   normalisation fitted on train, applied to train, validation and test
//! ```
//!
//! Stratified means each part keeps the class mix (for multi-label, the mix of label sets;
//! for distributions, of the arg-max; regression is split at random).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::{
    DataSpec, Dataset, LoadOptions, LoadProgress, Loaded, load_reporting, stratified_split,
};
use crate::error::{Error, Result};
use crate::preprocess::{Normalization, NormalizationKind};

/// Which normalisation to fit on the training rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Normalize {
    /// The source's suggestion: divide 8-bit images (IDX, u1 `.npy`) by 255, standardise
    /// everything else.
    #[default]
    Auto,
    /// This one.
    Kind(NormalizationKind),
}

impl std::str::FromStr for Normalize {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "auto" => Ok(Normalize::Auto),
            other => other.parse().map(Normalize::Kind),
        }
    }
}

impl std::fmt::Display for Normalize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Normalize::Auto => f.write_str("auto"),
            Normalize::Kind(kind) => write!(f, "{kind}"),
        }
    }
}

impl Serialize for Normalize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Normalize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How the rows are split and normalised. A part's size is a fraction below 1 or a whole count
/// of rows ≥ 1; 0 means none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitConfig {
    /// Validation rows split off the training rows (default 0.1).
    pub validation: f64,
    /// Test rows split off the source when it brings no test set and none is given
    /// (default 0.2; 0: no test rows).
    pub test: f64,
    /// The normalisation fitted on the training rows.
    pub normalize: Normalize,
    /// Standardise regression targets with the training rows' mean and deviation (the model
    /// predicts in the targets' own units all the same): raw targets in the hundreds would
    /// take an optimiser at η = 0.001 thousands of steps just to move the output's bias.
    pub normalize_targets: bool,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            validation: 0.1,
            test: 0.2,
            normalize: Normalize::Auto,
            normalize_targets: true,
        }
    }
}

impl SplitConfig {
    /// Validation rows: a fraction below 1 or a count.
    pub fn validation(mut self, size: f64) -> Self {
        self.validation = size;
        self
    }

    /// Test rows: a fraction below 1 or a count.
    pub fn test(mut self, size: f64) -> Self {
        self.test = size;
        self
    }

    /// The normalisation.
    pub fn normalize(mut self, normalize: Normalize) -> Self {
        self.normalize = normalize;
        self
    }
}

/// What the loaded data was, so that a resumed run can tell it is training on the same rows:
/// its shape and a SHA-256 of every feature and target value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Rows loaded (training and the source's own test rows).
    pub rows: usize,
    /// Features per row.
    pub features: usize,
    /// SHA-256 of the values, in hex.
    pub sha256: String,
}

impl DataFingerprint {
    /// The fingerprint of `parts`, in order.
    pub fn of(parts: &[&Dataset]) -> DataFingerprint {
        let mut hasher = Sha256::new();
        for part in parts {
            hash_dataset(&mut hasher, part);
        }
        DataFingerprint {
            rows: parts.iter().map(|p| p.len()).sum(),
            features: parts.first().map_or(0, |p| p.feature_count()),
            sha256: hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }
    }
}

fn hash_dataset(hasher: &mut Sha256, data: &Dataset) {
    hasher.update((data.len() as u64).to_le_bytes());
    hasher.update((data.feature_count() as u64).to_le_bytes());
    match data.features.as_slice() {
        Some(values) => {
            for chunk in values.chunks(1 << 14) {
                let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
                hasher.update(&bytes);
            }
        }
        None => {
            for v in data.features.iter() {
                hasher.update(v.to_le_bytes());
            }
        }
    }
    match &data.labels {
        crate::data::Labels::None => {}
        crate::data::Labels::Classes { indices, names } => {
            for i in indices {
                hasher.update((*i as u32).to_le_bytes());
            }
            for name in names {
                hasher.update(name.as_bytes());
                hasher.update([0]);
            }
        }
        crate::data::Labels::Values { values, names, .. } => {
            for v in values {
                hasher.update(v.to_le_bytes());
            }
            for name in names {
                hasher.update(name.as_bytes());
                hasher.update([0]);
            }
        }
    }
}

/// Normalised training, validation and test rows, ready to train on.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The rows to train on.
    pub train: Dataset,
    /// Rows to validate on after each epoch (early stopping), when any.
    pub validation: Option<Dataset>,
    /// Rows held out for the final score; `None` when the test split is 0.
    pub test: Option<Dataset>,
    /// Fitted on the training rows, applied to all three (and saved with the model).
    pub normalization: Normalization,
    /// For regression targets (unless turned off): their standardisation, fitted on the
    /// training rows, applied to all three (and inverted by the model's predictions).
    pub target_normalization: Option<Normalization>,
    /// The value each feature's missing cells were filled with (`--missing mean|median`).
    pub fill: Option<Vec<f32>>,
    /// One line about the source.
    pub description: String,
    /// What loading noticed and the user should hear.
    pub notes: Vec<String>,
    /// What the loaded data was (for resume checks).
    pub fingerprint: DataFingerprint,
}

/// A data source: what `--data` names, how to read it, and an optional separate test source.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    /// The training data (and, for MNIST directories, its own test set).
    pub spec: DataSpec,
    /// How to read it.
    pub options: LoadOptions,
    /// A separate test set, read the same way.
    pub test: Option<DataSpec>,
    /// The separate test set's labels file (for `.npy` and IDX test features; the training
    /// labels file is never reused for them).
    pub test_labels: Option<std::path::PathBuf>,
}

impl DataSource {
    /// `spec` read with the default options and no separate test set.
    pub fn new(spec: DataSpec) -> Self {
        DataSource {
            spec,
            options: LoadOptions::default(),
            test: None,
            test_labels: None,
        }
    }
}

/// Loads `source` and prepares it (see the module docs); a download reports to `report`.
///
/// ```
/// use nabla::data::DataSpec;
/// use nabla::prepare::{DataSource, SplitConfig, prepare};
///
/// let prepared = prepare(&DataSource::new(DataSpec::Digits), &SplitConfig::default(), 0, &mut |_| {})?;
/// assert_eq!(prepared.train.len() + prepared.validation.unwrap().len(), 1438);
/// assert_eq!(prepared.test.unwrap().len(), 359);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn prepare(
    source: &DataSource,
    split: &SplitConfig,
    seed: u64,
    report: &mut dyn FnMut(LoadProgress),
) -> Result<Prepared> {
    let options = LoadOptions {
        require_labels: true,
        seed,
        ..source.options.clone()
    };
    let loaded = load_reporting(&source.spec, &options, report)?;
    let separate = match &source.test {
        Some(DataSpec::Path(path))
            if !path.exists() && path.to_string_lossy().parse::<f64>().is_ok() =>
        {
            return Err(Error::invalid(
                "test",
                format!(
                    "{}: no such file; --test names a separate test set. To hold out a share or a count of the rows of --data, use --test-split {}",
                    path.display(),
                    path.display()
                ),
            ));
        }
        Some(spec) => {
            let options = LoadOptions {
                expected_features: Some(loaded.train.feature_count()),
                feature_names: Some(loaded.train.feature_names.clone())
                    .filter(|names| !names.is_empty()),
                labels: source.test_labels.clone(),
                ..options.clone()
            };
            Some(load_reporting(spec, &options, report).map_err(|e| {
                if source.options.labels.is_some() && source.test_labels.is_none() {
                    Error::invalid(
                        "test",
                        format!(
                            "{e} (the test features need their own labels: --test-labels FILE)"
                        ),
                    )
                } else {
                    e
                }
            })?)
        }
        None => None,
    };
    prepare_loaded(loaded, separate, split, seed, source.options.missing)
}

/// Prepares rows already in memory (a user's own data): `test` when given, else a test split.
///
/// ```
/// use nabla::data::Dataset;
/// use nabla::ndarray::Array2;
/// use nabla::prepare::{SplitConfig, split_dataset};
///
/// let features = Array2::from_shape_fn((100, 3), |(i, j)| (i * j) as f32);
/// let labels = (0..100).map(|i| i % 2).collect();
/// let data = Dataset::classes(features, labels, vec!["even".into(), "odd".into()])?;
/// let prepared = split_dataset(data, None, &SplitConfig::default(), 0)?;
/// assert_eq!(prepared.test.as_ref().unwrap().len(), 20);
/// assert_eq!(prepared.validation.as_ref().unwrap().len(), 8);
/// assert_eq!(prepared.train.len(), 72);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn split_dataset(
    data: Dataset,
    test: Option<Dataset>,
    split: &SplitConfig,
    seed: u64,
) -> Result<Prepared> {
    let loaded = Loaded {
        train: data,
        test: None,
        description: "rows given".into(),
        suggested_normalization: NormalizationKind::Standardize,
        notes: Vec::new(),
    };
    let separate = test.map(|test| Loaded {
        train: test,
        test: None,
        description: "test rows given".into(),
        suggested_normalization: NormalizationKind::Standardize,
        notes: Vec::new(),
    });
    prepare_loaded(loaded, separate, split, seed, crate::data::Missing::Refuse)
}

/// The number of rows a split size asks for out of `rows`: a fraction below 1, or a count.
fn part_size(what: &str, size: f64, rows: usize) -> Result<usize> {
    if !(size.is_finite() && size >= 0.0) {
        return Err(Error::invalid(
            what,
            format!("{size} is not a fraction in [0, 1) or a whole count of rows"),
        ));
    }
    if size < 1.0 {
        return Ok((rows as f64 * size).round() as usize);
    }
    if size.fract() != 0.0 || size as usize >= rows {
        return Err(Error::invalid(
            what,
            format!(
                "{size} must be a fraction below 1 or a whole count below the {rows} rows there are"
            ),
        ));
    }
    Ok(size as usize)
}

/// Splits `data` into (the rest, a part of `take` rows), stratified and seeded. Each part keeps
/// the rows' order, so a copy of rows that are not in memory reads them in one sequential pass.
fn split_off(data: Dataset, take: usize, seed: u64) -> Result<(Dataset, Dataset)> {
    let fraction = take as f64 / data.len() as f64;
    let parts = stratified_split(&data.labels.strata(), &[fraction], seed);
    Ok((data.select(&parts[1])?, data.select(&parts[0])?))
}

/// The three parts of a source before normalisation.
#[derive(Clone, Debug)]
pub struct Parts {
    /// Rows to train on.
    pub train: Dataset,
    /// Validation rows, when any.
    pub validation: Option<Dataset>,
    /// Test rows, when any.
    pub test: Option<Dataset>,
}

/// Splits loaded rows as [`prepare`] does, without normalising: the same `split` and `seed`
/// give the same parts (`nabla evaluate` finds a model's held-out rows this way).
///
/// # Errors
/// Split sizes that are not fractions or counts, or that leave a requested part empty.
pub fn split_parts(
    rows: Dataset,
    own_test: Option<Dataset>,
    split: &SplitConfig,
    seed: u64,
) -> Result<Parts> {
    let (pool, test) = match own_test {
        Some(test) => (rows, Some(test)),
        None => {
            let take = part_size("test split", split.test, rows.len())?;
            if take == 0 && split.test > 0.0 {
                return Err(Error::invalid(
                    "test split",
                    format!(
                        "{} of {} rows leaves no test row: give more rows, a larger test split, \
                         a separate test set (--test FILE), or a test split of 0 to train on \
                         every row",
                        split.test,
                        rows.len()
                    ),
                ));
            }
            if take == 0 {
                (rows, None)
            } else {
                let (rest, test) = split_off(rows, take, seed)?;
                (rest, Some(test))
            }
        }
    };
    let take = part_size("validation split", split.validation, pool.len())?;
    if take == 0 && split.validation > 0.0 {
        return Err(Error::invalid(
            "validation split",
            format!(
                "{} of {} training rows leaves no validation row: give more rows, a larger \
                 validation split, or a validation split of 0",
                split.validation,
                pool.len()
            ),
        ));
    }
    let (train, validation) = if take > 0 {
        let (rest, validation) = split_off(pool, take, seed.wrapping_add(1))?;
        (rest, Some(validation))
    } else {
        (pool, None)
    };
    if train.is_empty() {
        return Err(Error::invalid(
            "training rows",
            "the splits leave no row to train on: lower the test or validation split",
        ));
    }
    Ok(Parts {
        train,
        validation,
        test,
    })
}

fn prepare_loaded(
    loaded: Loaded,
    separate: Option<Loaded>,
    split: &SplitConfig,
    seed: u64,
    missing: crate::data::Missing,
) -> Result<Prepared> {
    let fingerprint = DataFingerprint::of(
        &std::iter::once(&loaded.train)
            .chain(&loaded.test)
            .chain(separate.as_ref().map(|s| &s.train))
            .collect::<Vec<_>>(),
    );
    let mut notes = loaded.notes;
    let own_test = match separate {
        Some(separate) => {
            notes.extend(separate.notes);
            Some(separate.train)
        }
        None => loaded.test,
    };
    let Parts {
        mut train,
        mut validation,
        mut test,
    } = split_parts(loaded.train, own_test, split, seed)?;
    if let Some(test) = &mut test {
        if test.feature_count() != train.feature_count() {
            return Err(Error::invalid(
                "test set",
                format!(
                    "{} features per row, the training set {}",
                    test.feature_count(),
                    train.feature_count()
                ),
            ));
        }
        test.relabel(train.label_names())
            .map_err(|m| Error::invalid("test set", m))?;
    }
    // Missing features (NaN from --missing mean|median) filled from the training rows alone.
    let fill = if missing.fills() {
        let fill =
            crate::preprocess::fit_fill(&train.features, missing == crate::data::Missing::Median)?;
        let mut filled = 0;
        for part in std::iter::once(&mut train)
            .chain(validation.iter_mut())
            .chain(test.iter_mut())
        {
            filled += crate::preprocess::apply_fill(&fill, part.features.to_mut()?);
        }
        if filled > 0 {
            notes.push(format!(
                "filled {filled} missing {} with the training rows' column {}s (stored in the \
                 model, which fills new rows the same way)",
                if filled == 1 { "cell" } else { "cells" },
                if missing == crate::data::Missing::Median {
                    "median"
                } else {
                    "mean"
                }
            ));
        }
        Some(fill)
    } else {
        None
    };
    let kind = match split.normalize {
        Normalize::Auto => loaded.suggested_normalization,
        Normalize::Kind(kind) => kind,
    };
    let normalization = kind.fit(&train.features)?;
    normalization.apply(train.features.to_mut()?)?;
    for part in validation.iter_mut().chain(test.iter_mut()) {
        normalization.apply(part.features.to_mut()?)?;
    }
    let spilled: Vec<&str> = [
        ("training", Some(&train)),
        ("validation", validation.as_ref()),
        ("test", test.as_ref()),
    ]
    .into_iter()
    .filter(|(_, part)| part.is_some_and(|p| p.features.is_spilled()))
    .map(|(name, _)| name)
    .collect();
    if !spilled.is_empty() {
        notes.push(format!(
            "the {} rows are kept in a temporary file (in {}): they do not fit the memory budget \
             of {}; by default, training shuffles them within windows of {} rows, read from \
             the disk a window ahead (--shuffle-window)",
            spilled.join(", "),
            std::env::temp_dir().display(),
            crate::data::spill::size_text(crate::data::spill::memory_budget()),
            crate::train::DEFAULT_WINDOW_ROWS
        ));
    }
    let target_normalization = if split.normalize_targets {
        train.target_standardization()?
    } else {
        None
    };
    if let Some(targets) = &target_normalization {
        for part in std::iter::once(&mut train)
            .chain(validation.iter_mut())
            .chain(test.iter_mut())
        {
            part.normalize_targets(targets)?;
        }
    }
    Ok(Prepared {
        train,
        validation,
        test,
        normalization,
        target_normalization,
        fill,
        description: loaded.description,
        notes,
        fingerprint,
    })
}

impl Prepared {
    /// The training rows as loaded, before normalisation (for pictures in the data's own units).
    ///
    /// # Errors
    /// No room for the copy (see [`crate::data::Features::build`]).
    pub fn raw_train(&self) -> Result<Dataset> {
        let mut raw = self.train.clone();
        self.normalization.invert(raw.features.to_mut()?);
        Ok(raw)
    }

    /// The held-out test rows in their original units, when there are any.
    ///
    /// # Errors
    /// As [`Prepared::raw_train`].
    pub fn raw_test(&self) -> Result<Option<Dataset>> {
        let Some(mut raw) = self.test.clone() else {
            return Ok(None);
        };
        self.normalization.invert(raw.features.to_mut()?);
        Ok(Some(raw))
    }
}
