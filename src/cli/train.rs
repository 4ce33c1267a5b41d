//! `nabla train` (and `nabla` alone): load, split, normalise, train, report, save, plot.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use nabla::data::Dataset;
use nabla::io::{load_checkpoint, save_model};
use nabla::metrics::evaluate;
use nabla::model::Model;
use nabla::train::{self as trainer, TrainConfig};
use nabla::{Network, OptimizerConfig, OptimizerKind, Schedule};
use serde_json::json;

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
    /// The checkpoint file [default: the --save path + ".ckpt", else nabla-train.ckpt]. Also
    /// where the last good state goes when a numerical fault stops training.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue a run from this checkpoint: same flags, same seed and threads, and the result
    /// is bit-identical to an uninterrupted run.
    #[arg(long)]
    pub resume: Option<PathBuf>,
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
    let run = json!({
        "data": args.data.data, "label_column": args.data.label_column, "labels": args.data.labels,
        "samples": args.data.samples, "noise": args.data.noise,
        "test": args.split.test, "validation_split": args.split.validation_split,
        "test_split": args.split.test_split, "normalize": args.split.normalize,
        "network": config, "optimizer": optimizer, "schedule": args.optimizer.schedule,
        "batch": args.batch, "epochs": args.epochs, "seed": args.seed, "threads": threads,
        "patience": args.patience, "clip_grad_norm": args.clip_grad_norm,
    });
    let train_config = TrainConfig {
        optimizer,
        schedule: args.optimizer.schedule.parse::<Schedule>()?,
        batch_size: args.batch,
        epochs: args.epochs,
        seed: args.seed,
        threads,
        patience: args.patience,
        clip_grad_norm: args.clip_grad_norm,
        check_every: if args.detect_anomalies {
            1
        } else {
            nabla::train::DEFAULT_CHECK_EVERY
        },
        checkpoint_every: args.checkpoint_every,
        stop_on_faults: true,
    };
    let resume = match &args.resume {
        Some(path) => {
            let (checkpoint, context) = load_checkpoint(path)?;
            let differing: Vec<&str> = run
                .as_object()
                .expect("an object")
                .iter()
                .filter(|(key, value)| context["run"].get(key.as_str()) != Some(value))
                .map(|(key, _)| key.as_str())
                .collect();
            // What the weights and the data order depend on must match; the optimiser and the
            // run length may change (e.g. a lower learning rate after a numerical fault), at the
            // price of no longer matching an uninterrupted run.
            let structural: Vec<&str> = differing
                .iter()
                .copied()
                .filter(|k| {
                    !matches!(
                        *k,
                        "optimizer"
                            | "schedule"
                            | "epochs"
                            | "patience"
                            | "clip_grad_norm"
                            | "threads"
                    )
                })
                .collect();
            anyhow::ensure!(
                structural.is_empty(),
                "{}: the checkpoint was made with different data or network settings ({}); resume with the same flags",
                path.display(),
                structural.join(", ")
            );
            if !differing.is_empty() {
                eprintln!(
                    "warning: resuming with different settings ({}): the result will not match an uninterrupted run",
                    differing.join(", ")
                );
            }
            writeln!(
                stdout,
                "resuming {} at epoch {}, step {}",
                path.display(),
                checkpoint.state.epoch + 1,
                checkpoint.state.step
            )?;
            Some(checkpoint)
        }
        None => None,
    };
    let checkpoint_path = args.checkpoint.clone().unwrap_or_else(|| match &args.save {
        Some(save) => PathBuf::from(format!("{}.ckpt", save.display())),
        None => PathBuf::from("nabla-train.ckpt"),
    });
    // A run killed mid-checkpoint left a temporary; this run writes the same file, so clear it.
    nabla::io::remove_stale_temporaries(&checkpoint_path);
    let mut progress = Progress::new(args.metrics.as_deref())?
        .with_checkpoints(checkpoint_path.clone(), json!({ "run": run }));
    if let Some(checkpoint) = &resume {
        progress.replay(&checkpoint.state.history, args.epochs);
    }
    let outcome = match trainer::train_from(
        &mut network,
        &train,
        validation.as_ref(),
        &train_config,
        &mut progress,
        resume,
    ) {
        Ok(outcome) => outcome,
        Err(error @ nabla::Error::Anomaly(_)) => {
            return Err(anyhow::Error::new(error).context(format!(
                "training stopped; the last good state was saved to {} (continue from it with --resume {0} and, say, a lower --lr or --clip-grad-norm)",
                checkpoint_path.display()
            )));
        }
        Err(other) => return Err(other.into()),
    };
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
