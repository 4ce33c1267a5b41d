//! A saved model and the rows to run it on, for `nabla evaluate`, `predict`, `diagnose` and
//! `gradcheck`: by default the model's own data, and of it the held-out test rows, found again
//! by re-running the split the model records.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{DataSpec, Dataset, LoadOptions, LoadProgress, load_reporting};
use crate::error::{Error, Result};
use crate::io::load_model;
use crate::model::Model;
use crate::prepare::{DataFingerprint, DataSource, Parts, split_parts};

/// Which of a model's data rows to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rows {
    /// The held-out test rows (the default: the rows the model never saw).
    #[default]
    Test,
    /// The validation rows.
    Validation,
    /// The training rows.
    Train,
    /// Every row of the data.
    All,
}

impl Rows {
    /// The names accepted on the command line.
    pub const NAMES: &'static str = "test, validation, train, all";
}

impl std::str::FromStr for Rows {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "test" => Ok(Rows::Test),
            "validation" | "val" => Ok(Rows::Validation),
            "train" | "training" => Ok(Rows::Train),
            "all" => Ok(Rows::All),
            _ => Err(Error::UnknownName {
                kind: "rows (--split)",
                name: text.into(),
                expected: Rows::NAMES.into(),
            }),
        }
    }
}

impl std::fmt::Display for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rows::Test => "test",
            Rows::Validation => "validation",
            Rows::Train => "train",
            Rows::All => "all",
        })
    }
}

/// Which model, which data, which rows.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelData {
    /// The model file.
    pub model: PathBuf,
    /// A config JSON for weights saved without nabla's metadata.
    pub config: Option<PathBuf>,
    /// The data (`None`: the data the model was trained on, from its record).
    pub data: Option<DataSource>,
    /// Which rows, when the data is the model's own (other data is used whole).
    pub rows: Rows,
    /// Whether the rows must have targets (evaluate) or may not (predict).
    pub require_labels: bool,
    /// Threads for the model's work.
    pub threads: usize,
    /// The precision of the model's matrix products.
    pub precision: crate::kernels::Precision,
    /// Where a data set the model records as its training data is looked for (its cache
    /// directory and mirror). Such a set is read only from the cache, never downloaded: a
    /// model file does not make nabla go to the network by itself.
    #[cfg(feature = "download")]
    pub download: crate::data::download::DownloadOptions,
}

impl ModelData {
    /// The model at `path` on its own test rows.
    pub fn new(model: impl Into<PathBuf>) -> Self {
        ModelData {
            model: model.into(),
            config: None,
            data: None,
            rows: Rows::Test,
            require_labels: true,
            threads: crate::train::available_threads(),
            precision: crate::kernels::Precision::F32,
            #[cfg(feature = "download")]
            download: Default::default(),
        }
    }

    /// The files read.
    pub fn inputs(&self) -> Vec<&Path> {
        let mut inputs: Vec<&Path> = vec![&self.model];
        inputs.extend(self.config.as_deref());
        if let Some(source) = &self.data {
            for spec in std::iter::once(&source.spec).chain(&source.test) {
                if let DataSpec::Path(path) = spec {
                    inputs.push(path);
                }
            }
            inputs.extend(source.options.labels.as_deref());
            inputs.extend(source.test_labels.as_deref());
        }
        inputs
    }
}

/// A model with its rows, normalised and labelled in its terms.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The model.
    pub model: Model,
    /// The rows.
    pub rows: Dataset,
    /// Which rows they are, in words ("the 359 held-out test rows of digits").
    pub scored: String,
    /// What loading noticed.
    pub notes: Vec<String>,
}

/// Loads the model and its rows (see the module docs).
///
/// # Errors
/// An unreadable model or data file, data that does not fit the model, `rows` other than all
/// on data the model was not trained on, or a model without a training record and no data.
pub fn load_model_and_rows(
    request: &ModelData,
    report: &mut dyn FnMut(LoadProgress),
) -> Result<Loaded> {
    let mut model: Model = load_model(&request.model, request.config.as_deref())?;
    model.network.set_threads(request.threads);
    model.network.set_precision(request.precision);
    let own = model.training.as_ref().map(|t| t.source(model.task));
    let source = match (&request.data, &own) {
        (Some(given), _) => given.clone(),
        (None, Some(own)) => {
            if let DataSpec::Path(path) = &own.spec
                && !path.exists()
            {
                let recorded = model
                    .training
                    .as_ref()
                    .and_then(|t| t.data_path.clone())
                    .map_or(String::new(), |p| format!(" (where it was trained: {p})"));
                return Err(Error::invalid(
                    "data",
                    format!(
                        "{} was trained on {}{recorded}, which is not found from {}: give the \
                         rows with --data",
                        request.model.display(),
                        path.display(),
                        std::env::current_dir().map_or("here".into(), |d| d.display().to_string())
                    ),
                ));
            }
            #[allow(unused_mut)]
            let mut own = own.clone();
            #[cfg(feature = "download")]
            {
                own.options.download = crate::data::download::DownloadOptions {
                    offline: true,
                    ..request.download.clone()
                };
            }
            own
        }
        (None, None) => {
            return Err(Error::invalid(
                "data",
                format!(
                    "{} does not record its training data: give the rows with --data",
                    request.model.display()
                ),
            ));
        }
    };
    let feature_names = Some(model.feature_names.clone()).filter(|n| !n.is_empty());
    // Dense targets are read from the model's own target columns unless told otherwise.
    let label_columns = if source.options.label_columns.is_empty()
        && model.task != crate::data::Task::Classes
        && !model.feature_names.is_empty()
    {
        model.label_names.clone()
    } else {
        source.options.label_columns.clone()
    };
    let options = LoadOptions {
        label_columns,
        require_labels: request.require_labels,
        expected_features: Some(model.network.config().inputs),
        feature_names,
        targets: source.options.targets.or(Some(model.task)),
        // A model that fills missing features reads them as missing, and fills them itself.
        missing: match (source.options.missing, &model.fill) {
            (crate::data::Missing::Refuse, Some(_)) => crate::data::Missing::Mean,
            (given, _) => given,
        },
        ..source.options.clone()
    };
    let loaded = load_reporting(&source.spec, &options, report)?;
    let separate = match &source.test {
        Some(spec) => {
            let options = LoadOptions {
                labels: source.test_labels.clone(),
                ..options.clone()
            };
            Some(load_reporting(spec, &options, report)?.train)
        }
        None => None,
    };
    let mut notes = loaded.notes.clone();
    let record = model.training.clone();
    // The same spec, or the same rows under another name (the training file spelled
    // differently, or copied): then its held-out rows are found again, as for the model's own
    // data. The fingerprint below tells whether a same-named file still holds the same rows.
    let spec_matches = record.as_ref().is_some_and(|t| {
        t.data == source.spec.to_string()
            || t.data_path.as_deref().is_some_and(|p| match &source.spec {
                DataSpec::Path(given) => given
                    .canonicalize()
                    .is_ok_and(|c| c.display().to_string() == p),
                _ => false,
            })
    });
    // The rows' fingerprint, taken once (whole-data hashing) when there is a record to compare.
    let fingerprint = record.as_ref().map(|_| {
        DataFingerprint::of(
            &std::iter::once(&loaded.train)
                .chain(&loaded.test)
                .chain(&separate)
                .collect::<Vec<_>>(),
        )
    });
    let recognised = !spec_matches
        && record
            .as_ref()
            .zip(fingerprint.as_ref())
            .is_some_and(|(r, f)| *f == r.fingerprint);
    if let (true, Some(record)) = (recognised, &record) {
        notes.push(format!(
            "{} holds the rows the model was trained on (as {}): scoring its {} rows, as there \
             (--split all scores every row)",
            source.spec, record.data, request.rows
        ));
    }
    let same_source = spec_matches || recognised;
    let (rows, scored) = match (&record, same_source, request.rows) {
        (Some(record), true, which) => {
            let fingerprint = fingerprint.clone().expect("taken when there is a record");
            let own_test = separate.clone().or(loaded.test.clone());
            if fingerprint != record.fingerprint {
                if request.data.is_some() && which == Rows::Test {
                    // Rows given explicitly that are not the training rows: new to the model.
                    notes.push(format!(
                        "{} is not the data the model was trained on ({} rows, not {}): scoring \
                         all of it",
                        source.spec, fingerprint.rows, record.fingerprint.rows
                    ));
                    let rows = separate.or(loaded.test).unwrap_or(loaded.train);
                    let text = format!("all {} rows of {}", rows.len(), source.spec);
                    return finish(model, rows, text, notes);
                }
                if which != Rows::All {
                    return Err(Error::invalid(
                        "data",
                        format!(
                            "{} has changed since the model was trained on it ({} rows now, {} \
                             then): its held-out rows cannot be found again; pass --split all \
                             to score every row",
                            source.spec, fingerprint.rows, record.fingerprint.rows
                        ),
                    ));
                }
                notes.push(format!("{} has changed since training", source.spec));
                let rows = all_rows(loaded.train, own_test);
                let text = format!(
                    "all {} rows of {} (changed since training)",
                    rows.len(),
                    source.spec
                );
                return finish(model, rows, text, notes);
            }
            let Parts {
                train,
                validation,
                test,
            } = split_parts(
                loaded.train.clone(),
                own_test.clone(),
                &record.split,
                record.seed,
            )?;
            let part = |rows: Option<Dataset>, name: &str| {
                rows.ok_or_else(|| {
                    Error::invalid(
                        "split",
                        format!(
                            "the model was trained without {name} rows (a {name} split of 0): \
                             --split train or --split all scores the rows it was trained on"
                        ),
                    )
                })
            };
            match which {
                Rows::Test => {
                    let rows = part(test, "test")?;
                    let text = format!("the {} held-out test rows of {}", rows.len(), source.spec);
                    (rows, text)
                }
                Rows::Validation => {
                    let rows = part(validation, "validation")?;
                    let text = format!("the {} validation rows of {}", rows.len(), source.spec);
                    (rows, text)
                }
                Rows::Train => {
                    let text = format!("the {} training rows of {}", train.len(), source.spec);
                    (train, text)
                }
                Rows::All => {
                    let rows = all_rows(loaded.train, own_test);
                    let text = format!("all {} rows of {}", rows.len(), source.spec);
                    (rows, text)
                }
            }
        }
        (_, _, Rows::Test | Rows::All) if request.data.is_some() => {
            // Other data: every row is new to the model. Its own test set, if it brings one.
            let rows = separate.or(loaded.test.clone()).unwrap_or(loaded.train);
            let text = format!("all {} rows of {}", rows.len(), source.spec);
            (rows, text)
        }
        (_, _, which) => {
            return Err(Error::invalid(
                "split",
                format!(
                    "{which} rows exist only for the data the model was trained on ({}); \
                     these rows are new to it: use --split all",
                    record
                        .as_ref()
                        .map_or("not recorded".into(), |r| r.data.clone())
                ),
            ));
        }
    };
    finish(model, rows, scored, notes)
}

/// Normalises and labels `rows` in the model's terms, with a note on the rows that lie
/// outside the training range.
fn finish(
    model: Model,
    mut rows: Dataset,
    scored: String,
    mut notes: Vec<String>,
) -> Result<Loaded> {
    let range = model.training.as_ref().and_then(|t| t.range.as_ref());
    if let Some(range) = range
        && let Some(note) = range
            .outside(&rows.features)
            .note(rows.len(), &model.feature_names)
    {
        notes.push(note);
    }
    model.prepare(&mut rows)?;
    Ok(Loaded {
        model,
        rows,
        scored,
        notes,
    })
}

/// The rows of a source and its own test set, together.
fn all_rows(rows: Dataset, test: Option<Dataset>) -> Dataset {
    match test {
        None => rows,
        Some(test) => {
            let mut features = rows.features.into_owned();
            features
                .append(ndarray::Axis(0), test.features.view())
                .expect("the same width");
            let labels = match (&rows.labels, &test.labels) {
                (
                    crate::data::Labels::Classes { indices, names },
                    crate::data::Labels::Classes { indices: more, .. },
                ) => crate::data::Labels::Classes {
                    indices: indices.iter().chain(more).copied().collect(),
                    names: names.clone(),
                },
                (
                    crate::data::Labels::Values {
                        task,
                        values,
                        names,
                    },
                    crate::data::Labels::Values { values: more, .. },
                ) => {
                    let mut all = values.clone();
                    all.append(ndarray::Axis(0), more.view())
                        .expect("the same width");
                    crate::data::Labels::Values {
                        task: *task,
                        values: all,
                        names: names.clone(),
                    }
                }
                _ => crate::data::Labels::None,
            };
            Dataset::with_labels(features, labels)
                .expect("rows and targets of the same parts")
                .with_feature_names(rows.feature_names)
        }
    }
}
