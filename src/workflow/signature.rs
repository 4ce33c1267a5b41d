//! [`RunSignature`]: what a training run depends on, saved in its checkpoints, so that a resumed
//! run can check it continues the same run: the same data (by content, not only by name), the
//! same network, splits, batch and seed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::{Header, LabelsAs, Task};
use crate::error::{Error, Result};
use crate::network::NetworkConfig;
use crate::optim::OptimizerConfig;
use crate::prepare::{DataFingerprint, SplitConfig};
use crate::schedule::Schedule;

/// The settings of a training run, and what its data was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSignature {
    /// The data spec as given.
    pub data: String,
    /// A separate test source.
    pub test: Option<String>,
    /// The label columns.
    pub label_columns: Vec<String>,
    /// A separate labels file.
    pub labels: Option<String>,
    /// How the label columns were read.
    pub targets: Option<Task>,
    /// How numeric class labels were read.
    pub labels_as: LabelsAs,
    /// Whether the CSV had a header.
    pub header: Header,
    /// Rows of a synthetic generator.
    pub samples: usize,
    /// Noise of a synthetic generator.
    pub noise: Option<f64>,
    /// What the loaded rows were.
    pub fingerprint: DataFingerprint,
    /// How they were split and normalised.
    pub split: SplitConfig,
    /// The network.
    pub network: NetworkConfig,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// Rows per batch.
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// The seed of weights, splits and shuffles.
    pub seed: u64,
    /// Threads.
    pub threads: usize,
    /// Early-stopping patience.
    pub patience: Option<usize>,
    /// Gradient clipping.
    pub clip_grad_norm: Option<f64>,
    /// The precision of the products (f32 in checkpoints from before it was recorded).
    #[serde(default)]
    pub precision: crate::kernels::Precision,
}

/// Settings a resumed run may change: how it optimises and how long it runs (a lower learning
/// rate after a numerical fault, more epochs), at the price of no longer matching an
/// uninterrupted run. Everything else decides the weights or the order of the rows.
const MAY_CHANGE: [&str; 7] = [
    "optimizer",
    "schedule",
    "epochs",
    "patience",
    "clip_grad_norm",
    "threads",
    "precision",
];

impl RunSignature {
    /// Compares this run with the one a checkpoint was made by: `Ok` with the settings that
    /// changed but may (see the module docs), or an error naming those that may not.
    ///
    /// # Errors
    /// Different data (content or reading), network, splits, batch size or seed.
    pub fn check_resume(&self, saved: &RunSignature) -> Result<Vec<String>> {
        let (now, before) = (object(self), object(saved));
        let changed: Vec<String> = now
            .iter()
            .filter(|(key, value)| before.get(key.as_str()) != Some(value))
            .map(|(key, _)| key.clone())
            .collect();
        let structural: Vec<&String> = changed
            .iter()
            .filter(|key| !MAY_CHANGE.contains(&key.as_str()))
            .collect();
        if !structural.is_empty() {
            let what: Vec<String> = structural
                .iter()
                .map(|key| match key.as_str() {
                    "fingerprint" => format!(
                        "fingerprint (the data changed: {} rows, SHA-256 {}…, was {} rows, {}…)",
                        self.fingerprint.rows,
                        &self.fingerprint.sha256[..12],
                        saved.fingerprint.rows,
                        &saved.fingerprint.sha256[..12.min(saved.fingerprint.sha256.len())]
                    ),
                    other => other.to_string(),
                })
                .collect();
            return Err(Error::invalid(
                "resume",
                format!(
                    "the checkpoint was made with different data or settings ({}); resume with \
                     the same data and flags",
                    what.join(", ")
                ),
            ));
        }
        Ok(changed)
    }
}

fn object(signature: &RunSignature) -> serde_json::Map<String, Value> {
    match serde_json::to_value(signature).expect("a signature serialises") {
        Value::Object(map) => map,
        _ => unreachable!("a struct serialises to an object"),
    }
}
