//! `nabla train` (and `nabla` alone): fills a [`TrainRun`] from the flags, runs it, prints.

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::TrainConfig;
use nabla::workflow::{TrainRun, run_training};

use super::data_args::DataArgs;
use super::network_args::NetworkArgs;
use super::optimizer_args::OptimizerArgs;
use super::output::{Progress, catch_interrupts};
use super::split_args::SplitArgs;

/// Flags of `nabla train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub split: SplitArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub optimizer: OptimizerArgs,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    pub batch: usize,
    /// Passes over the training rows.
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    pub epochs: usize,
    /// Seed of the weights, the splits, the shuffles and synthetic data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads [default: the machine's cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Precision of the matrix products: f32, or bf16 (bf16 operands summed in f32; weights,
    /// optimiser state, losses and saved models stay f32).
    #[arg(long, default_value = "f32")]
    pub precision: String,
    /// Shuffle each epoch within windows of this many rows (0: over every row) [default: over
    /// every row when the training rows are in memory, in windows of 8192 rows when they are
    /// not].
    #[arg(long)]
    pub shuffle_window: Option<usize>,
    /// Under mpirun: how the ranks' gradients are summed: overlapped (each layer's on a
    /// communication thread while the backward pass goes on), blocking (all of them after it),
    /// or auto (overlapped when the rank has a core beyond its --threads) [default: auto]
    #[arg(long)]
    pub allreduce: Option<String>,
    /// Stop after this many epochs without a lower validation loss (keeping the best weights).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Save the trained model (safetensors with its config) to this file.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// How --save stores the weights: f32, or bf16 (each weight rounded to the nearest bf16:
    /// half the file, loaded back as f32)
    #[arg(long, default_value = "f32")]
    pub save_dtype: String,
    /// Write learning curves to this PNG (and, for 2-D data, a decision boundary beside it).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Check every step's activations and gradients for NaN/∞ (slow), instead of every 100th;
    /// the loss is checked at every step in any case.
    #[arg(long)]
    pub detect_anomalies: bool,
    /// Rescale gradients whose global L2 norm exceeds this value.
    #[arg(long)]
    pub clip_grad_norm: Option<f64>,
    /// Write a checkpoint every this many steps (atomically; see --checkpoint).
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// The checkpoint file [default: the --save path + ".ckpt"; none without --save]. Also
    /// where the last good state goes when a numerical fault or Ctrl-C stops training.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue a run from this checkpoint: same flags, same seed and threads, and the result
    /// is bit-identical to an uninterrupted run.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Write one JSON object per epoch to this file.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Multi-label decision threshold: label k is predicted where its probability > t.
    #[arg(long, default_value_t = nabla::metrics::DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

impl TrainArgs {
    /// The library's run.
    pub fn run(&self) -> anyhow::Result<TrainRun> {
        let mut source = self.data.source_or("digits", self.network.loss_kind()?)?;
        source.options.seed = self.seed;
        let (optimizer, schedule) = self.optimizer.config()?;
        let mut train = TrainConfig::default()
            .optimizer(optimizer)
            .schedule(schedule)
            .batch_size(self.batch)
            .epochs(self.epochs)
            .seed(self.seed)
            .precision(self.precision.parse()?);
        if let Some(threads) = self.threads {
            train = train.threads(threads);
        }
        if let Some(window) = self.shuffle_window {
            train = train.shuffle_window(window);
        }
        if let Some(allreduce) = &self.allreduce {
            train = train.allreduce(allreduce.parse()?);
        }
        if let Some(patience) = self.patience {
            train = train.patience(patience);
        }
        if let Some(max) = self.clip_grad_norm {
            train = train.clip_grad_norm(max);
        }
        if self.detect_anomalies {
            train = train.check_every(1);
        }
        if let Some(every) = self.checkpoint_every {
            train = train.checkpoint_every(every);
        }
        Ok(TrainRun {
            source,
            split: self.split.config()?,
            network: self.network.builder()?,
            train,
            nielsen_l2: self.optimizer.l2,
            threshold: self.threshold,
            save: self.save.clone(),
            save_dtype: self.save_dtype.parse()?,
            plot: self.plot.clone(),
            metrics: self.metrics.clone(),
            checkpoint: self.checkpoint.clone(),
            resume: self.resume.clone(),
            ranks: None,
        })
    }
}

pub fn run(args: &TrainArgs) -> anyhow::Result<ExitCode> {
    #[allow(unused_mut)]
    let mut run = args.run()?;
    catch_interrupts();
    // Under mpirun (a binary built with the feature mpi): data-parallel over its ranks.
    #[cfg(feature = "mpi")]
    if let Some(ranks) = nabla::train::mpi::MpiRanks::from_launcher() {
        run.ranks = Some(std::sync::Arc::new(ranks));
    }
    let outcome = run_training(&run, &mut Progress::new())?;
    Ok(if outcome.interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}
