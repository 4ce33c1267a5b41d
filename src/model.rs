//! A trained classifier: the network plus what it needs around it (the normalisation fitted
//! on the training rows and the class names), as saved to and loaded from disk.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::network::{Network, NetworkConfig};
use crate::preprocess::Normalization;

/// The `format` field of a saved model's config.
pub const MODEL_FORMAT: &str = "nabla-model";

/// The current model config version.
pub const MODEL_VERSION: u32 = 1;

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
    /// Class names, index → name.
    pub label_names: Vec<String>,
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
        let classes = self.network.classes();
        if !self.label_names.is_empty() && self.label_names.len() != classes {
            return Err(Error::invalid(
                "label_names",
                format!(
                    "{} names for a network with {classes} classes",
                    self.label_names.len()
                ),
            ));
        }
        self.network.head().map(|_| ())
    }
}

/// A network with its normalisation and class names.
#[derive(Clone, Debug)]
pub struct Model {
    /// The trained network (f32).
    pub network: Network<f32>,
    /// Applied to raw features before the network.
    pub normalization: Normalization,
    /// Class names, index → name.
    pub label_names: Vec<String>,
}

impl Model {
    /// The model's config (what is saved beside the weights).
    pub fn config(&self) -> ModelConfig {
        ModelConfig {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            network: self.network.config().clone(),
            normalization: self.normalization.clone(),
            label_names: self.label_names.clone(),
        }
    }

    /// Rebuilds a model from its config and weights.
    pub fn from_parts(config: ModelConfig, layers: Vec<Dense<f32>>) -> Result<Model> {
        config.validate()?;
        let label_names = if config.label_names.is_empty() {
            crate::data::numeric_label_names(config.network.classes())
        } else {
            config.label_names
        };
        Ok(Model {
            network: Network::from_layers(config.network, layers)?,
            normalization: config.normalization,
            label_names,
        })
    }

    /// Normalises a data set's features and maps its labels onto the model's classes.
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
        self.normalization.apply(&mut data.features)?;
        if data.is_labelled() {
            data.relabel(&self.label_names)
                .map_err(|m| Error::invalid("labels", m))?;
        } else {
            data.label_names = self.label_names.clone();
        }
        Ok(())
    }

    /// Class probabilities (the network's outputs) for raw, un-normalised features.
    pub fn predict(&self, raw: &Array2<f32>) -> Result<Array2<f32>> {
        let mut features = raw.clone();
        self.normalization.apply(&mut features)?;
        Ok(self.network.predict(features.view()))
    }
}
