//! `nabla train` (and `nabla` alone): load, split, normalise, train, report, save, plot.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use nabla::data::{Dataset, stratified_split};
use nabla::io::save_model;
use nabla::metrics::evaluate;
use nabla::model::Model;
use nabla::preprocess::NormalizationKind;
use nabla::train::{self as trainer, TrainConfig};
use nabla::{Network, OptimizerConfig, OptimizerKind, Schedule};

use super::data_args::DataArgs;
use super::network_args::{NetworkArgs, describe};
use super::progress::Progress;

/// Flags of `nabla train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// A separate test set (same format as --data) instead of one split off --data.
    #[arg(long)]
    pub test: Option<PathBuf>,
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
    /// Validation rows split off the training rows: a fraction (< 1) or a count.
    #[arg(long, default_value_t = 0.1)]
    pub validation_split: f64,
    /// Test rows split off --data when it brings no test set and --test is not given.
    #[arg(long, default_value_t = 0.2)]
    pub test_split: f64,
    /// Stop after this many epochs without a lower validation loss (keeping the best weights).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Input normalisation fitted on the training rows: auto, standardize, min-max, scale:K,
    /// none. auto divides 8-bit images (IDX, u1 .npy) by 255 and standardises other data.
    #[arg(long, default_value = "auto")]
    pub normalize: String,
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

/// train / validation / test splits of the loaded data.
struct Splits {
    train: Dataset,
    validation: Option<Dataset>,
    test: Dataset,
    description: String,
    normalization: NormalizationKind,
}

fn split(args: &TrainArgs) -> anyhow::Result<Splits> {
    let loaded = args.data.load(args.seed, true, None)?;
    let (pool, test) = match (&args.test, loaded.test) {
        (Some(path), _) => {
            let test_args = DataArgs {
                data: path.display().to_string(),
                ..args.data.clone()
            };
            let test = test_args
                .load(args.seed, true, Some(loaded.train.feature_count()))?
                .train;
            (loaded.train, test)
        }
        (None, Some(test)) => (loaded.train, test),
        (None, None) => {
            anyhow::ensure!(
                args.test_split > 0.0 && args.test_split < 1.0,
                "--test-split must be a fraction in (0, 1), got {}",
                args.test_split
            );
            let parts = stratified_split(&loaded.train.labels, &[args.test_split], args.seed);
            (
                loaded.train.select(&parts[1]),
                loaded.train.select(&parts[0]),
            )
        }
    };
    let fraction = if args.validation_split >= 1.0 {
        anyhow::ensure!(
            args.validation_split.fract() == 0.0 && (args.validation_split as usize) < pool.len(),
            "--validation-split {} must be a fraction below 1 or a whole count below the {} training rows",
            args.validation_split,
            pool.len()
        );
        args.validation_split / pool.len() as f64
    } else {
        anyhow::ensure!(
            args.validation_split >= 0.0,
            "--validation-split must be ≥ 0, got {}",
            args.validation_split
        );
        args.validation_split
    };
    let (train, validation) = if fraction > 0.0 {
        let parts = stratified_split(&pool.labels, &[fraction], args.seed.wrapping_add(1));
        (pool.select(&parts[1]), Some(pool.select(&parts[0])))
    } else {
        (pool, None)
    };
    let mut test = test;
    if test.feature_count() != train.feature_count() {
        anyhow::bail!(
            "the test set has {} features per row, the training set {}",
            test.feature_count(),
            train.feature_count()
        );
    }
    test.relabel(&train.label_names)
        .map_err(|m| anyhow::anyhow!("test set: {m}"))?;
    Ok(Splits {
        train,
        validation,
        test,
        description: loaded.description,
        normalization: loaded.suggested_normalization,
    })
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1, got 0");
    anyhow::ensure!(args.epochs > 0, "--epochs must be at least 1, got 0");
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    anyhow::ensure!(threads > 0, "--threads must be at least 1, got 0");
    let Splits {
        mut train,
        mut validation,
        mut test,
        description,
        normalization,
    } = split(&args)?;
    let classes = train.classes().max(test.classes());
    let kind = match args.normalize.as_str() {
        "auto" => normalization,
        other => other.parse::<NormalizationKind>()?,
    };
    let normalization = kind.fit(&train.features);
    normalization.apply(&mut train.features)?;
    if let Some(v) = validation.as_mut() {
        normalization.apply(&mut v.features)?;
    }
    normalization.apply(&mut test.features)?;

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
