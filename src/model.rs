//! A trained model: the network plus what it needs around it (the normalisation fitted on the
//! training rows, the task, the class or target names, the feature names and how it was
//! trained), as saved to and loaded from disk.

use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::{
    DataSpec, Dataset, Header, IndexColumn, LabelsAs, LoadOptions, MAX_CLASSES, Task,
};
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::network::{Network, NetworkConfig};
use crate::prepare::DataSource;
use crate::prepare::{DataFingerprint, SplitConfig};
use crate::preprocess::Normalization;
use crate::scalar::Scalar;

/// The `format` field of a saved model's config.
pub const MODEL_FORMAT: &str = "nabla-model";

/// The current model config version (fields added since version 1 all have defaults, so
/// version-1 files of earlier nablas load as they are).
pub const MODEL_VERSION: u32 = 1;

/// Where a model's rows came from: enough to find its held-out test rows again
/// (`nabla evaluate` scores those by default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingData {
    /// The data spec as given (`digits`, `moons`, a path).
    pub data: String,
    /// A data file's absolute path where it was trained, to find it again from another folder
    /// (`data` is as given, often relative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_path: Option<String>,
    /// A separate test source, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// The separate test set's labels file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_labels: Option<String>,
    /// The label columns read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_columns: Vec<String>,
    /// A separate labels file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// How numeric class labels were read.
    #[serde(default)]
    pub labels_as: LabelsAs,
    /// Whether the CSV had a header row.
    #[serde(default)]
    pub header: Header,
    /// The CSV's separator, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// The CSV's index column, when not recognised by default.
    #[serde(default, skip_serializing_if = "IndexColumn::is_auto")]
    pub index_column: IndexColumn,
    /// What was done with rows with a missing cell.
    #[serde(default, skip_serializing_if = "is_refuse")]
    pub missing: crate::data::Missing,
    /// Rows a synthetic generator drew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    /// Noise of a synthetic generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    /// How the rows were split.
    pub split: SplitConfig,
    /// The seed of the splits (and of a synthetic generator).
    pub seed: u64,
    /// What the loaded rows were.
    pub fingerprint: DataFingerprint,
    /// Each feature's range over the training rows (`evaluate` and `predict` name rows outside
    /// it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<crate::data::TrainingRange>,
}

fn is_refuse(missing: &crate::data::Missing) -> bool {
    *missing == crate::data::Missing::Refuse
}

impl TrainingData {
    /// The source the model was trained on, read as it was then (targets of `task`).
    pub fn source(&self, task: Task) -> DataSource {
        // A relative path that does not lead to the file from here: the absolute one recorded.
        let spec = match (DataSpec::parse(&self.data), &self.data_path) {
            (DataSpec::Path(given), Some(absolute))
                if !given.exists() && Path::new(absolute).exists() =>
            {
                DataSpec::Path(absolute.into())
            }
            (spec, _) => spec,
        };
        DataSource {
            spec,
            options: LoadOptions {
                label_columns: self.label_columns.clone(),
                labels: self.labels.as_ref().map(Into::into),
                targets: Some(task),
                labels_as: self.labels_as,
                header: self.header,
                delimiter: self.delimiter.and_then(|c| u8::try_from(c).ok()),
                index_column: self.index_column.clone(),
                missing: self.missing,
                samples: self.samples.unwrap_or(LoadOptions::default().samples),
                noise: self.noise,
                seed: self.seed,
                ..LoadOptions::default()
            },
            test: self.test.as_deref().map(DataSpec::parse),
            test_labels: self.test_labels.as_ref().map(Into::into),
        }
    }
}

/// Everything about a model except its weights: stored as JSON in the safetensors metadata
/// (key `nabla`), or in a JSON file beside weights saved by other tools.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Always "nabla-model".
    pub format: String,
    /// The config version (1).
    pub version: u32,
    /// The architecture and head.
    pub network: NetworkConfig,
    /// The input normalisation.
    pub normalization: Normalization,
    /// The standardisation of regression targets the network was trained on (its outputs
    /// are inverted through it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_normalization: Option<Normalization>,
    /// Class names (index → name), or the names of the target columns.
    pub label_names: Vec<String>,
    /// What the outputs predict.
    #[serde(default)]
    pub task: Task,
    /// The names of the input features (CSV columns are matched to them by name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feature_names: Vec<String>,
    /// Where the training rows came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingData>,
    /// The value each feature's missing cells are filled with (`--missing mean|median`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Vec<f32>>,
}

impl ModelConfig {
    /// Checks the format marker, version and the consistency of its parts.
    pub fn validate(&self) -> Result<()> {
        if self.format != MODEL_FORMAT {
            return Err(Error::invalid(
                "format",
                format!("'{}' is not '{MODEL_FORMAT}'", self.format),
            ));
        }
        if self.version != MODEL_VERSION {
            return Err(Error::invalid(
                "version",
                format!(
                    "{} is not a supported version ({MODEL_VERSION})",
                    self.version
                ),
            ));
        }
        self.normalization.validate()?;
        if let Some(targets) = &self.target_normalization {
            targets.validate()?;
            if self.task != Task::Regression || targets.width() != Some(self.network.outputs) {
                return Err(Error::invalid(
                    "target_normalization",
                    "only a regression's targets are normalised, one statistic per output",
                ));
            }
        }
        if let Some(width) = self.normalization.width()
            && width != self.network.inputs
        {
            return Err(Error::invalid(
                "normalization",
                format!(
                    "fitted on {width} features but the network takes {}",
                    self.network.inputs
                ),
            ));
        }
        if !self.feature_names.is_empty() && self.feature_names.len() != self.network.inputs {
            return Err(Error::invalid(
                "feature_names",
                format!(
                    "{} names for a network with {} inputs",
                    self.feature_names.len(),
                    self.network.inputs
                ),
            ));
        }
        let width = self.target_width();
        if self.task == Task::Classes && width > MAX_CLASSES {
            return Err(Error::invalid(
                "network",
                format!("{width} classes: at most {MAX_CLASSES} are supported"),
            ));
        }
        if !self.label_names.is_empty() && self.label_names.len() != width {
            return Err(Error::invalid(
                "label_names",
                format!(
                    "{} names for a network with {width} {}",
                    self.label_names.len(),
                    if self.task == Task::Classes {
                        "classes"
                    } else {
                        "outputs"
                    }
                ),
            ));
        }
        let mut seen = std::collections::HashMap::new();
        for (k, name) in self.label_names.iter().enumerate() {
            if let Some(first) = seen.insert(name.as_str(), k) {
                return Err(Error::invalid(
                    "label_names",
                    format!(
                        "'{name}' names outputs {first} and {k}: a prediction of it would be \
                         ambiguous"
                    ),
                ));
            }
        }
        self.network.head()?;
        self.task.check_output(self.network.output_activation)
    }

    /// Classes the network predicts (its outputs, or 2 for a single sigmoid unit), or the
    /// number of target columns for the other tasks.
    pub fn target_width(&self) -> usize {
        match self.task {
            Task::Classes => self.network.classes(),
            _ => self.network.outputs,
        }
    }
}

/// A network with its normalisation, task and names, in f32 (training, inference) or f64
/// (gradient checks).
#[derive(Clone, Debug)]
pub struct Model<F = f32> {
    /// The trained network.
    pub network: Network<F>,
    /// Applied to raw features before the network.
    pub normalization: Normalization,
    /// A regression's target standardisation: outputs are inverted through it.
    pub target_normalization: Option<Normalization>,
    /// What the outputs predict.
    pub task: Task,
    /// Class names (index → name), or the target columns' names.
    pub label_names: Vec<String>,
    /// The input features' names (empty when the source had none).
    pub feature_names: Vec<String>,
    /// Where the training rows came from.
    pub training: Option<TrainingData>,
    /// The value each feature's missing cells are filled with before normalisation.
    pub fill: Option<Vec<f32>>,
}

impl<F: Scalar> Model<F> {
    /// A model of `network` trained on data with `normalization` applied, predicting `data`'s
    /// kind of targets (its task, class or column names and feature names).
    pub fn new(network: Network<F>, normalization: Normalization, data: &Dataset) -> Self {
        let task = data.task().unwrap_or(Task::Classes);
        let label_names = if data.label_names().is_empty() {
            crate::data::numeric_label_names(match task {
                Task::Classes => network.config().classes(),
                _ => network.config().outputs,
            })
        } else {
            data.label_names().to_vec()
        };
        Model {
            network,
            normalization,
            target_normalization: None,
            task,
            label_names,
            feature_names: data.feature_names.clone(),
            training: None,
            fill: None,
        }
    }

    /// The model's config (what is saved beside the weights).
    pub fn config(&self) -> ModelConfig {
        ModelConfig {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            network: self.network.config().clone(),
            normalization: self.normalization.clone(),
            target_normalization: self.target_normalization.clone(),
            label_names: self.label_names.clone(),
            task: self.task,
            feature_names: self.feature_names.clone(),
            training: self.training.clone(),
            fill: self.fill.clone(),
        }
    }

    /// Rebuilds a model from its config and weights.
    pub fn from_parts(config: ModelConfig, layers: Vec<Dense<F>>) -> Result<Self> {
        config.validate()?;
        let label_names = if config.label_names.is_empty() {
            crate::data::numeric_label_names(config.target_width())
        } else {
            config.label_names
        };
        Ok(Model {
            network: Network::from_layers(config.network, layers)?,
            normalization: config.normalization,
            target_normalization: config.target_normalization,
            task: config.task,
            label_names,
            feature_names: config.feature_names,
            training: config.training,
            fill: config.fill,
        })
    }

    /// The same model in another precision.
    pub fn cast<G: Scalar>(&self) -> Model<G> {
        Model {
            network: self.network.cast(),
            normalization: self.normalization.clone(),
            target_normalization: self.target_normalization.clone(),
            task: self.task,
            label_names: self.label_names.clone(),
            feature_names: self.feature_names.clone(),
            training: self.training.clone(),
            fill: self.fill.clone(),
        }
    }

    /// Normalises a data set's features and maps its labels onto the model's classes.
    ///
    /// # Errors
    /// A feature count that differs from the model's inputs, labels the model does not know,
    /// targets of another task, or features the normalisation turns non-finite.
    pub fn prepare(&self, data: &mut Dataset) -> Result<()> {
        if data.feature_count() != self.network.config().inputs {
            return Err(Error::invalid(
                "data",
                format!(
                    "{} features per row, but the model takes {}",
                    data.feature_count(),
                    self.network.config().inputs
                ),
            ));
        }
        if let Some(task) = data.task()
            && task != self.task
        {
            return Err(Error::invalid(
                "data",
                format!(
                    "the targets are {task} but the model predicts {}",
                    self.task
                ),
            ));
        }
        if let Some(fill) = &self.fill {
            crate::preprocess::apply_fill(fill, data.features.to_mut()?);
        }
        self.normalization.apply(data.features.to_mut()?)?;
        if data.is_labelled() {
            data.relabel(&self.label_names)
                .map_err(|m| Error::invalid("labels", m))?;
        }
        if let Some(targets) = &self.target_normalization {
            data.normalize_targets(targets)?;
        }
        Ok(())
    }
}

impl Model<f32> {
    /// Scores normalised `rows` (see [`Model::prepare`]): the network's evaluation, with a
    /// regression's MSE and MAE in the targets' own units.
    ///
    /// # Errors
    /// As [`crate::metrics::evaluate_with`].
    pub fn evaluate(
        &self,
        rows: &Dataset,
        options: &crate::metrics::EvaluateOptions,
    ) -> Result<crate::metrics::Evaluation> {
        let mut evaluation = crate::metrics::evaluate_with(&self.network, rows, options)?;
        if let (
            Some(Normalization::Standardize { std, .. }),
            crate::metrics::Scores::Regression(r),
        ) = (&self.target_normalization, &mut evaluation.scores)
        {
            r.rescale(std);
        }
        Ok(evaluation)
    }

    /// The model's outputs (probabilities where the head defines them, values for regression,
    /// in the targets' own units) for raw, un-normalised features.
    pub fn predict(&self, raw: &Array2<f32>) -> Result<Array2<f32>> {
        let mut features = raw.clone();
        self.normalization.apply(&mut features)?;
        Ok(self.outputs(features.view()))
    }

    /// The model's outputs for normalised features: the network's, with a regression's
    /// target standardisation inverted.
    pub fn outputs(&self, features: ndarray::ArrayView2<f32>) -> Array2<f32> {
        let mut outputs = self.network.predict(features);
        if let Some(targets) = &self.target_normalization {
            targets.invert(&mut outputs);
        }
        outputs
    }
}
