//! Flags that choose and read a data source, shared by train, evaluate, predict and gradcheck.

use std::path::PathBuf;

use nabla::data::{DataSpec, LoadOptions, Loaded, load};

/// Where the data comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// digits (embedded), spirals, moons, circles, xor, blobs (synthetic), a .csv or .npy file,
    /// an IDX file (with --labels), or a directory holding the four MNIST files.
    #[arg(long, default_value = "digits")]
    pub data: String,
    /// CSV label column, by name or 0-based index [default: "label", else the last column].
    #[arg(long)]
    pub label_column: Option<String>,
    /// A separate labels file for .npy or IDX features.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Rows drawn by a synthetic generator.
    #[arg(long, default_value_t = 1000)]
    pub samples: usize,
    /// Noise of a synthetic generator [default: the generator's own].
    #[arg(long)]
    pub noise: Option<f64>,
}

impl DataArgs {
    /// Reads the source. `seed` seeds synthetic generators; `expected_features` tells CSV and
    /// npy readers how wide the feature part is (a model's inputs), so a label column is
    /// optional.
    pub fn load(
        &self,
        seed: u64,
        require_labels: bool,
        expected_features: Option<usize>,
    ) -> anyhow::Result<Loaded> {
        if self.samples == 0 {
            anyhow::bail!("--samples must be at least 1");
        }
        let options = LoadOptions {
            label_column: self.label_column.clone(),
            labels: self.labels.clone(),
            require_labels,
            expected_features,
            samples: self.samples,
            noise: self.noise,
            seed,
        };
        Ok(load(&DataSpec::parse(&self.data), &options)?)
    }
}
