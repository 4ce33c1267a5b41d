//! [`TrainRun`]: everything `nabla train` does, as data, and [`run_training`], which does it:
//! check the outputs, prepare the data, build the network, resume, train with checkpoints and
//! a metrics file, save, draw, and score the test rows. The command line only fills a
//! `TrainRun` from its flags and prints what the [`Reporter`] is told.

use std::path::{Path, PathBuf};

use super::reporter::Reporter;
use super::run_products::{boundary_path, draw, trained_model};
use super::signature::RunSignature;
use crate::data::{DataSpec, Task};
use crate::error::{Error, Result};
use crate::io::{
    MetricsLog, check_outputs, load_checkpoint, remove_stale_temporaries, save_checkpoint,
    save_model_as,
};
use crate::metrics::{EvaluateOptions, Evaluation};
use crate::model::Model;
use crate::network::{Network, NetworkBuilder};
use crate::prepare::{DataSource, Prepared, SplitConfig, prepare};
use crate::train::{Checkpoint, EpochReport, Observer, TrainConfig, TrainOutcome, Trainer};

/// Everything a training run does, as data.
#[derive(Clone, Debug)]
pub struct TrainRun {
    /// Where the rows come from and how they are read.
    pub source: DataSource,
    /// How they are split and normalised.
    pub split: SplitConfig,
    /// The network (its shape comes from the data).
    pub network: NetworkBuilder,
    /// How to train (its seed also seeds the weights, the splits and synthetic data).
    pub train: TrainConfig,
    /// Nielsen's L2 λ, turned into a weight decay of λ/n for n training rows.
    pub nielsen_l2: Option<f64>,
    /// The multi-label decision threshold of the scores.
    pub threshold: f64,
    /// Save the trained model here.
    pub save: Option<PathBuf>,
    /// How the saved model stores its weights (f32, or bf16 for half the size).
    pub save_dtype: crate::io::WeightDtype,
    /// Draw learning curves here (and a decision boundary beside it for 2-D data).
    pub plot: Option<PathBuf>,
    /// Write one JSON object per epoch here.
    pub metrics: Option<PathBuf>,
    /// Write checkpoints here (default: the save path + ".ckpt"; none without either).
    pub checkpoint: Option<PathBuf>,
    /// Continue from this checkpoint.
    pub resume: Option<PathBuf>,
    /// The other processes of a data-parallel run (see [`crate::train::ranks`]); `None`
    /// trains in this process alone.
    pub ranks: Option<std::sync::Arc<dyn crate::train::Ranks>>,
}

impl TrainRun {
    /// A run on `source` with every default: the default splits and network, Adam, 20 epochs.
    pub fn new(source: DataSource) -> Self {
        TrainRun {
            source,
            split: SplitConfig::default(),
            network: NetworkBuilder::default(),
            train: TrainConfig::default(),
            nielsen_l2: None,
            threshold: crate::metrics::DEFAULT_THRESHOLD,
            save: None,
            save_dtype: crate::io::WeightDtype::Native,
            plot: None,
            metrics: None,
            checkpoint: None,
            resume: None,
            ranks: None,
        }
    }

    /// Where checkpoints go: `checkpoint`, else the save path + ".ckpt", else nowhere.
    pub fn checkpoint_path(&self) -> Option<PathBuf> {
        self.checkpoint.clone().or_else(|| {
            self.save
                .as_ref()
                .map(|save| PathBuf::from(format!("{}.ckpt", save.display())))
        })
    }

    /// The file the decision boundary is drawn to, beside the learning curves.
    pub fn boundary_path(plot: &Path) -> PathBuf {
        boundary_path(plot)
    }

    /// The files the run reads.
    fn inputs(&self) -> Vec<&Path> {
        let mut inputs: Vec<&Path> = Vec::new();
        for spec in std::iter::once(&self.source.spec).chain(&self.source.test) {
            if let DataSpec::Path(path) = spec {
                inputs.push(path);
            }
        }
        inputs.extend(self.source.options.labels.as_deref());
        inputs.extend(self.source.test_labels.as_deref());
        inputs.extend(self.resume.as_deref());
        inputs
    }

    /// Refuses outputs that would overwrite an input, each other, or fail at the end.
    fn check_outputs(&self) -> Result<()> {
        let boundary = self.plot.as_deref().map(TrainRun::boundary_path);
        let checkpoint = self.checkpoint_path();
        let mut outputs: Vec<(&str, &Path)> = Vec::new();
        outputs.extend(self.save.as_deref().map(|p| ("--save", p)));
        outputs.extend(self.plot.as_deref().map(|p| ("--plot", p)));
        outputs.extend(
            boundary
                .as_deref()
                .map(|p| ("--plot (decision boundary)", p)),
        );
        outputs.extend(self.metrics.as_deref().map(|p| ("--metrics", p)));
        // Resuming writes the checkpoint it read: that one is allowed.
        let inputs: Vec<&Path> = self
            .inputs()
            .into_iter()
            .filter(|p| Some(*p) != self.resume.as_deref() || checkpoint.as_deref() != Some(p))
            .collect();
        if let Some(checkpoint) = &checkpoint {
            outputs.push(("--checkpoint", checkpoint));
        }
        #[cfg(not(feature = "plot"))]
        if self.plot.is_some() {
            return Err(Error::invalid(
                "--plot",
                "this build of nabla has no pictures (cargo feature \"plot\")",
            ));
        }
        check_outputs(&outputs, &inputs)?;
        #[cfg(feature = "plot")]
        if let Some(plot) = &self.plot {
            crate::plot::check_path("--plot", plot)?;
        }
        Ok(())
    }

    /// What the run depends on, for its checkpoints.
    fn signature(
        &self,
        prepared: &Prepared,
        network: &Network<f32>,
        train: &TrainConfig,
    ) -> RunSignature {
        let options = &self.source.options;
        RunSignature {
            data: self.source.spec.to_string(),
            test: self.source.test.as_ref().map(ToString::to_string),
            label_columns: options.label_columns.clone(),
            labels: options.labels.as_ref().map(|p| p.display().to_string()),
            targets: options.targets,
            labels_as: options.labels_as,
            header: options.header,
            samples: options.samples,
            noise: options.noise,
            fingerprint: prepared.fingerprint.clone(),
            split: self.split.clone(),
            network: network.config().clone(),
            optimizer: train.optimizer.clone(),
            schedule: train.schedule,
            batch_size: train.batch_size,
            epochs: train.epochs,
            seed: train.seed,
            threads: train.threads,
            patience: train.patience,
            clip_grad_norm: train.clip_grad_norm,
            precision: train.precision,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The trained model (the best epoch's weights under early stopping).
    pub model: Model,
    /// One report per epoch (a resumed run's earlier epochs included).
    pub history: Vec<EpochReport>,
    /// The scores of the test rows (of the training rows when there are no test rows).
    pub test: Evaluation,
    /// Whether `test` scored held-out test rows (false: the training rows).
    pub held_out: bool,
    /// Whether the reporter asked to stop before the last epoch.
    pub interrupted: bool,
    /// Where the checkpoints went, if anywhere.
    pub checkpoint: Option<PathBuf>,
}

/// "digits (…): 1294 train, 144 validation, 359 test rows, 64 features, 10 classes".
fn data_line(prepared: &Prepared) -> String {
    let train = &prepared.train;
    let width = train.target_width();
    let targets = match train.task().unwrap_or(Task::Classes) {
        Task::Classes => format!("{width} {}", plural(width, "class", "classes")),
        Task::MultiLabel => format!("{width} {} (multi-label)", plural(width, "label", "labels")),
        Task::Distribution => format!(
            "{width} {} (probability targets)",
            plural(width, "class", "classes")
        ),
        Task::Regression => format!(
            "{width} {} (regression)",
            plural(width, "target", "targets")
        ),
    };
    let features = train.feature_count();
    format!(
        "data: {}: {} train, {} validation, {} test rows, {features} {}, {targets}",
        prepared.description,
        train.len(),
        prepared.validation.as_ref().map_or(0, |v| v.len()),
        prepared.test.as_ref().map_or(0, |t| t.len()),
        plural(features, "feature", "features")
    )
}

/// `singular` for 1, else `plural`.
pub fn plural<'a>(n: usize, singular: &'a str, plural: &'a str) -> &'a str {
    if n == 1 { singular } else { plural }
}

/// Forwards training progress to the reporter, writes checkpoints (with the run's signature)
/// and the metrics file.
struct RunObserver<'r> {
    reporter: &'r mut dyn Reporter,
    checkpoint: Option<(PathBuf, serde_json::Value)>,
    metrics: Option<MetricsLog>,
}

impl Observer for RunObserver<'_> {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.reporter.epoch_started(epoch, epochs, batches);
    }
    fn batch_finished(&mut self, loss: f64, rows: usize) {
        self.reporter.batch_finished(loss, rows);
    }
    fn epoch_finished(&mut self, report: &EpochReport) {
        self.reporter.epoch_finished(report);
        if let Some(log) = &mut self.metrics {
            log.record(report);
        }
    }
    fn epoch_network(&mut self, network: &Network<f32>) {
        self.reporter.epoch_network(network);
    }
    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        match &self.checkpoint {
            Some((path, context)) => save_checkpoint(path, checkpoint, context),
            None => Ok(()),
        }
    }
    fn stop_requested(&mut self) -> bool {
        self.reporter.stop_requested()
    }
}

/// Runs `run`, telling `reporter` what happens.
///
/// ```
/// use nabla::data::DataSpec;
/// use nabla::prepare::DataSource;
/// use nabla::workflow::{Collect, TrainRun, run_training};
///
/// let mut run = TrainRun::new(DataSource::new(DataSpec::parse("moons")));
/// run.train = run.train.epochs(5).threads(1);
/// let mut report = Collect::default();
/// let outcome = run_training(&run, &mut report)?;
/// assert!(report.lines[0].starts_with("data: moons"));
/// assert!(report.lines.last().unwrap().starts_with("test accuracy: "));
/// assert!(outcome.test.accuracy().unwrap() > 0.8);
/// # Ok::<(), nabla::Error>(())
/// ```
///
/// # Errors
/// Bad outputs or data, an unsound network, a checkpoint that does not fit, a numerical
/// fault (the last good state saved to the checkpoint path when there is one), or a failed
/// write. A metrics file that fails to write does not lose the model: it is saved first.
pub fn run_training(run: &TrainRun, reporter: &mut dyn Reporter) -> Result<RunOutcome> {
    // Data-parallel: rank 0 alone reports and writes; the other ranks train silently beside
    // it (a stop request still reaches them).
    if run.ranks.as_deref().is_some_and(|r| r.rank() > 0) {
        let silent = TrainRun {
            save: None,
            metrics: None,
            checkpoint: None,
            plot: None,
            ..run.clone()
        };
        return train_and_report(&silent, &mut Quiet(reporter));
    }
    train_and_report(run, reporter)
}

/// A reporter that passes on nothing but the stop requests of the one it wraps.
struct Quiet<'r>(&'r mut dyn Reporter);

impl Observer for Quiet<'_> {
    fn stop_requested(&mut self) -> bool {
        self.0.stop_requested()
    }
}

impl Reporter for Quiet<'_> {
    fn line(&mut self, _text: &str) {}
    fn note(&mut self, _text: &str) {}
}

/// [`run_training`] on this process, reporting to `reporter`.
fn train_and_report(run: &TrainRun, reporter: &mut dyn Reporter) -> Result<RunOutcome> {
    run.check_outputs()?;
    let seed = run.train.seed;
    let prepared = prepare(&run.source, &run.split, seed, &mut |p| reporter.download(p))?;
    for note in &prepared.notes {
        reporter.note(note);
    }
    reporter.prepared(&prepared);
    let network_builder = run.network.clone().shape_of(&prepared.train);
    let mut network = network_builder.build(seed)?;
    let mut train = run.train.clone();
    if let Some(lambda) = run.nielsen_l2 {
        train.optimizer = train.optimizer.nielsen_l2(lambda, prepared.train.len())?;
    }
    train.validate()?;
    reporter.line(&data_line(&prepared));
    reporter.line(&format!(
        "model: {}; {} lr {}; batch {}; {} {}; seed {}; {} {}{}",
        network.config().describe(),
        train.optimizer.kind,
        train.optimizer.learning_rate,
        train.batch_size,
        train.epochs,
        plural(train.epochs, "epoch", "epochs"),
        seed,
        train.threads,
        plural(train.threads, "thread", "threads"),
        if train.precision == crate::kernels::Precision::Bf16 {
            format!(
                "; bf16 products ({})",
                crate::kernels::kernel_name(crate::kernels::Precision::Bf16)
            )
        } else {
            String::new()
        },
    ));
    if let Some(ranks) = run.ranks.as_deref().filter(|r| r.size() > 1) {
        reporter.line(&format!(
            "data parallel: {} ranks, each training on its share of every batch of {} (rows \
             ⌊r·B/N⌋ to ⌊(r+1)·B/N⌋ of it), gradients summed by a ring in a fixed order{}",
            ranks.size(),
            train.batch_size,
            match train.allreduce.on(ranks, train.threads) {
                crate::train::Allreduce::Overlapped => {
                    ", each layer's on a communication thread while the layers below compute"
                }
                _ => ", after the backward pass",
            }
        ));
    }
    let signature = run.signature(&prepared, &network, &train);
    let resume = match &run.resume {
        Some(path) => {
            let (checkpoint, context) = load_checkpoint(path)?;
            let saved: RunSignature =
                serde_json::from_value(context["run"].clone()).map_err(|_| {
                    Error::data(
                        path,
                        None,
                        "not a checkpoint of `nabla train` (or one of an older nabla, whose \
                         settings cannot be compared): start the run afresh",
                    )
                })?;
            let changed = signature
                .check_resume(&saved)
                .map_err(|e| Error::data(path, None, e.to_string()))?;
            checkpoint
                .fits(&network)
                .map_err(|e| Error::data(path, None, e.to_string()))?;
            let done = checkpoint.state.history.len();
            if done >= train.epochs {
                return Err(Error::invalid(
                    "--epochs",
                    format!(
                        "{} has finished {done} epochs already, and --epochs {} leaves nothing to \
                         train: give more than {done} to continue it",
                        path.display(),
                        train.epochs
                    ),
                ));
            }
            if !changed.is_empty() {
                reporter.note(&format!(
                    "warning: resuming with different settings ({}): the result will not match \
                     an uninterrupted run",
                    changed.join(", ")
                ));
            }
            reporter.line(&format!(
                "resuming {} at epoch {}, step {}",
                path.display(),
                checkpoint.state.epoch + 1,
                checkpoint.state.step
            ));
            Some(checkpoint)
        }
        None => None,
    };
    let checkpoint_path = run.checkpoint_path();
    if let Some(path) = &checkpoint_path {
        // A run killed mid-checkpoint left a temporary; this run writes the same file.
        remove_stale_temporaries(path, "tmp");
    }
    let mut metrics = run.metrics.as_deref().map(MetricsLog::create).transpose()?;
    if let (Some(log), Some(checkpoint)) = (&mut metrics, &resume) {
        for report in &checkpoint.state.history {
            log.record(report);
        }
    }
    if let Some(checkpoint) = &resume {
        for report in &checkpoint.state.history {
            reporter.line(&report.line(train.epochs));
        }
    }
    let context = serde_json::json!({ "run": signature });
    let mut observer = RunObserver {
        reporter,
        checkpoint: checkpoint_path.clone().map(|p| (p, context)),
        metrics,
    };
    let trained = Trainer::new(&train)
        .validation_if_any(prepared.validation.as_ref())
        .observer(&mut observer)
        .resume(resume)
        .ranks(run.ranks.as_deref())
        .run(&mut network, &prepared.train);
    let RunObserver {
        reporter, metrics, ..
    } = observer;
    let outcome: TrainOutcome = match trained {
        Ok(outcome) => outcome,
        Err(error @ Error::Anomaly(_)) => {
            let cause = if network.config().allow_unsafe
                && network.head().path() == crate::head::HeadPath::Clipped
            {
                " The pairing is the cause, not the learning rate: it is not a probability model, \
                 and clipping it (allow_unsafe) leaves rows whose outputs sum to 0 or sit at the \
                 clip, where the formula divides by zero. Use a sound output."
                    .to_string()
            } else {
                String::new()
            };
            let saved = match &checkpoint_path {
                Some(path) => format!(
                    "; the last good state was saved to {0} (continue from it with --resume {0} \
                     and, say, a lower --lr or --clip-grad-norm)",
                    path.display()
                ),
                None => {
                    "; give --checkpoint FILE (or --save) to keep the last good state next time"
                        .to_string()
                }
            };
            return Err(Error::Training(format!(
                "training stopped{saved}.{cause} Cause: {error}"
            )));
        }
        Err(other) => return Err(other),
    };
    if let Some(best) = outcome.best_epoch
        && !outcome.interrupted
    {
        let why = if outcome.stopped_early {
            "stopped early; "
        } else {
            ""
        };
        reporter.line(&format!(
            "{why}kept the weights of epoch {best} (lowest validation loss)"
        ));
    }
    let model = trained_model(&run.source, &run.split, run.train.seed, network, &prepared);
    if let Some(path) = &run.save {
        save_model_as(&model, path, run.save_dtype)?;
        reporter.line(&format!("saved {}", path.display()));
    }
    if outcome.interrupted {
        let resume = match &checkpoint_path {
            Some(path) => format!(
                "the run so far is in {0}; continue it with the same flags and --resume {0}",
                path.display()
            ),
            None => "nothing was checkpointed: give --save or --checkpoint to continue an \
                     interrupted run"
                .to_string(),
        };
        reporter.note(&format!("interrupted: {resume}"));
    }
    draw(
        run.plot.as_deref(),
        &outcome.history,
        &model,
        &prepared,
        reporter,
    )?;
    let options = EvaluateOptions {
        threshold: run.threshold,
        ..EvaluateOptions::default()
    };
    let (rows, held_out) = match &prepared.test {
        Some(test) => (test, true),
        None => (&prepared.train, false),
    };
    let test = model.evaluate(rows, &options)?;
    reporter.line(&if held_out {
        test.summary("test")
    } else {
        format!(
            "{}  (no test rows: scored on the training rows)",
            test.summary("train")
        )
    });
    if let Some(log) = metrics {
        log.finish()?;
    }
    Ok(RunOutcome {
        model,
        history: outcome.history,
        test,
        held_out,
        interrupted: outcome.interrupted,
        checkpoint: checkpoint_path,
    })
}
