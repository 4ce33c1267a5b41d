//! Flags that name a saved model and the rows to run it on, shared by evaluate, predict,
//! diagnose, gradcheck and export.

use std::path::PathBuf;

use nabla::workflow::{ModelData, Rows};

use super::data_args::DataArgs;

/// A saved model: `--model FILE`, or the file alone (`nabla evaluate model.safetensors`).
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The model file (.safetensors, as --save wrote it).
    #[arg(
        long = "model",
        value_name = "FILE",
        required_unless_present = "model_file"
    )]
    model_flag: Option<PathBuf>,
    /// The model file, given without --model.
    #[arg(value_name = "MODEL", conflicts_with = "model_flag")]
    model_file: Option<PathBuf>,
    /// The model's config JSON, for weights saved without nabla's metadata.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl ModelArgs {
    /// The model file, however it was given.
    pub fn path(&self) -> &std::path::Path {
        self.model_flag
            .as_deref()
            .or(self.model_file.as_deref())
            .expect("clap requires one of --model and MODEL")
    }
}

/// A saved model and its rows.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelDataArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Which rows of the model's own data: test (held out), validation, train, all. Other data
    /// is used whole.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Threads [default: the machine's cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Precision of the matrix products: f32, or bf16 (bf16 operands, f32 sums).
    #[arg(long, default_value = "f32")]
    pub precision: String,
}

impl ModelDataArgs {
    /// The library's request; `require_labels` for commands that score.
    pub fn request(&self, require_labels: bool) -> anyhow::Result<ModelData> {
        let rows: Rows = self.split.parse()?;
        let mut request = ModelData::new(self.model.path());
        request.config = self.model.config.clone();
        request.data = self.data.source(None)?;
        request.rows = rows;
        request.require_labels = require_labels;
        request.precision = self.precision.parse()?;
        request.download = self.data.download.options();
        if let Some(threads) = self.threads {
            anyhow::ensure!(
                (1..=nabla::train::MAX_THREADS).contains(&threads),
                "--threads must be from 1 to {}, got {threads}",
                nabla::train::MAX_THREADS
            );
            request.threads = threads;
        }
        Ok(request)
    }
}
