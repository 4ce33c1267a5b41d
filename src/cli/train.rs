//! `nabla train` (and `nabla` alone): load, split, normalise, train, report, save, plot.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use nabla::data::Dataset;
use nabla::io::save_model;
use nabla::metrics::evaluate;
use nabla::model::Model;
use nabla::train::{self as trainer, TrainConfig};
use nabla::{Network, OptimizerConfig, OptimizerKind, Schedule};

use super::data_args::DataArgs;
use super::network_args::{NetworkArgs, describe};
use super::progress::Progress;
use super::split_args::{Prepared, SplitArgs, prepare};

/// Flags of `nabla train`.
#[derive(Debug, clap::Args)]
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
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Seed of the weights, the splits, the shuffles and synthetic data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads for the matrix products [default: the machine's cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop after this many epochs without a lower validation loss (keeping the best weights).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Save the trained model (safetensors with its config) to this file.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write learning curves to this PNG (and, for 2-D data, a decision boundary beside it).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write one JSON object per epoch to this file.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
}

/// Optimiser flags.
#[derive(Debug, Clone, clap::Args)]
pub struct OptimizerArgs {
    /// sgd, adam or adamw.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Learning rate η [default: 0.1 for sgd, 0.001 for adam/adamw].
    #[arg(long)]
    pub lr: Option<f64>,
    /// SGD momentum μ.
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// SGD dampening.
    #[arg(long, default_value_t = 0.0)]
    pub dampening: f64,
    /// SGD Nesterov momentum.
    #[arg(long)]
    pub nesterov: bool,
    /// Weight decay λ (L2 in the gradient for sgd/adam, decoupled for adamw) [default: 0, adamw 0.01].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Nielsen's L2 regularisation λ: weights (not biases) decay by (1 − ηλ/n) per step, n the
    /// number of training rows. Exclusive with --weight-decay.
    #[arg(long, conflicts_with = "weight_decay")]
    pub l2: Option<f64>,
    /// Adam β₁.
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f64,
    /// Adam β₂.
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f64,
    /// Adam ε.
    #[arg(long, default_value_t = 1e-8)]
    pub eps: f64,
    /// Learning-rate schedule: constant | step:STEP_SIZE[:GAMMA] | cosine[:T_MAX[:ETA_MIN]].
    #[arg(long, default_value = "constant")]
    pub schedule: String,
}

impl OptimizerArgs {
    /// The optimiser config for `train_rows` training rows (Nielsen's λ/n needs n).
    pub fn config(&self, train_rows: usize) -> anyhow::Result<OptimizerConfig> {
        let kind: OptimizerKind = self.optimizer.parse()?;
        let lr = self.lr.unwrap_or(if kind == OptimizerKind::Sgd {
            0.1
        } else {
            0.001
        });
        let mut config = OptimizerConfig {
            momentum: self.momentum,
            dampening: self.dampening,
            nesterov: self.nesterov,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            ..OptimizerConfig::new(kind, lr)
        };
        if let Some(decay) = self.weight_decay {
            config.weight_decay = decay;
        }
        if let Some(lambda) = self.l2 {
            anyhow::ensure!(
                lambda.is_finite() && lambda >= 0.0,
                "--l2 must be a number ≥ 0, got {lambda}"
            );
            // Nielsen: w ← (1 − ηλ/n)·w − η·∂C/∂w, biases not decayed; with SGD that is a
            // weight decay of λ/n on the weights.
            config.weight_decay = lambda / train_rows as f64;
            config.decay_biases = false;
        }
        config.validate()?;
        Ok(config)
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1, got 0");
    anyhow::ensure!(args.epochs > 0, "--epochs must be at least 1, got 0");
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    anyhow::ensure!(threads > 0, "--threads must be at least 1, got 0");
    let Prepared {
        train,
        validation,
        test,
        description,
        normalization,
    } = prepare(&args.data, &args.split, args.seed)?;
    let classes = train.classes().max(test.classes());

    let config = args.network.config(train.feature_count(), classes)?;
    let optimizer = args.optimizer.config(train.len())?;
    let mut network = Network::<f32>::new(config.clone(), args.seed)?;
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "data: {description}: {} train, {} validation, {} test rows, {} features, {classes} classes",
        train.len(),
        validation.as_ref().map_or(0, Dataset::len),
        test.len(),
        train.feature_count()
    )?;
    writeln!(
        stdout,
        "model: {}; {} lr {}; batch {}; {} epochs; seed {}; {threads} threads",
        describe(&config),
        optimizer.kind,
        optimizer.learning_rate,
        args.batch,
        args.epochs,
        args.seed
    )?;
    let train_config = TrainConfig {
        optimizer,
        schedule: args.optimizer.schedule.parse::<Schedule>()?,
        batch_size: args.batch,
        epochs: args.epochs,
        seed: args.seed,
        threads,
        patience: args.patience,
    };
    let mut progress = Progress::new(args.metrics.as_deref())?;
    let outcome = trainer::train(
        &mut network,
        &train,
        validation.as_ref(),
        &train_config,
        &mut progress,
    )?;
    progress.finish()?;
    if let Some(best) = outcome.best_epoch {
        let why = if outcome.stopped_early {
            "stopped early; "
        } else {
            ""
        };
        writeln!(
            stdout,
            "{why}kept the weights of epoch {best} (lowest validation loss)"
        )?;
    }

    let model = Model {
        network,
        normalization,
        label_names: train.label_names.clone(),
    };
    if let Some(path) = &args.save {
        save_model(&model, path)?;
        writeln!(stdout, "saved {}", path.display())?;
    }
    if let Some(path) = &args.plot {
        nabla::plot::learning_curves(path, &outcome.history)?;
        writeln!(stdout, "wrote {}", path.display())?;
        if train.feature_count() == 2 {
            let boundary = path.with_file_name(format!(
                "{}-boundary.png",
                path.file_stem()
                    .map_or("plot".into(), |s| s.to_string_lossy())
            ));
            let mut raw = args.data.load(args.seed, true, None)?.train;
            raw.relabel(&train.label_names)
                .map_err(|m| anyhow::anyhow!(m))?;
            nabla::plot::decision_boundary(&boundary, &model, &raw)
                .with_context(|| format!("drawing {}", boundary.display()))?;
            writeln!(stdout, "wrote {}", boundary.display())?;
        }
    }
    let result = evaluate(&model.network, &test, 1024)?;
    writeln!(
        stdout,
        "test accuracy: {:.4}  test loss: {:.4}",
        result.accuracy, result.loss
    )?;
    Ok(ExitCode::SUCCESS)
}
