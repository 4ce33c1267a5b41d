//! Training progress: a progress bar per epoch on a terminal, a plain line per epoch on stdout,
//! and optionally one JSON object per epoch in a metrics file.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nabla::io::save_checkpoint;
use nabla::train::{Checkpoint, EpochReport, Observer};
use serde_json::Value;

/// Progress bar + epoch lines + metrics file.
pub struct Progress {
    terminal: bool,
    bar: Option<ProgressBar>,
    metrics: Option<(PathBuf, BufWriter<File>)>,
    metrics_error: Option<anyhow::Error>,
    epoch_started: Instant,
    epochs: usize,
    rows: usize,
    checkpoints: Option<(PathBuf, Value)>,
}

impl Progress {
    /// Shows a bar when stderr is a terminal; writes epoch objects to `metrics` when given (a
    /// resumed run rewrites the finished epochs first, see [`Progress::replay`]).
    pub fn new(metrics: Option<&Path>) -> anyhow::Result<Self> {
        let metrics = metrics
            .map(|path| {
                File::create(path)
                    .with_context(|| format!("creating the metrics file {}", path.display()))
                    .map(|f| (path.to_path_buf(), BufWriter::new(f)))
            })
            .transpose()?;
        Ok(Progress {
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            metrics,
            metrics_error: None,
            epoch_started: Instant::now(),
            epochs: 0,
            rows: 0,
            checkpoints: None,
        })
    }

    /// Writes checkpoints to `path`, with `context` (the run's settings) inside.
    pub fn with_checkpoints(mut self, path: PathBuf, context: Value) -> Self {
        self.checkpoints = Some((path, context));
        self
    }

    /// Prints and records the epochs a resumed run already finished.
    pub fn replay(&mut self, history: &[EpochReport], epochs: usize) {
        self.epochs = epochs;
        for report in history {
            self.epoch_finished(report);
        }
    }

    /// The first error writing the metrics file, if any.
    pub fn finish(mut self) -> anyhow::Result<()> {
        if let Some((path, mut writer)) = self.metrics.take()
            && let Err(e) = writer.flush()
        {
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        self.metrics_error.map_or(Ok(()), Err)
    }
}

/// "epoch  3/20  train loss 0.1234  val loss 0.2345  val acc 0.9611  lr 0.001  0.05 s  25000 samples/s"
pub fn epoch_line(report: &EpochReport, epochs: usize) -> String {
    let width = epochs.to_string().len();
    let mut line = format!(
        "epoch {:>width$}/{epochs}  train loss {:.4}",
        report.epoch, report.train_loss
    );
    if let (Some(loss), Some(accuracy)) = (report.validation_loss, report.validation_accuracy) {
        line.push_str(&format!("  val loss {loss:.4}  val acc {accuracy:.4}"));
    }
    line.push_str(&format!(
        "  lr {:.3e}  {:.2} s  {:.0} samples/s",
        report.learning_rate, report.seconds, report.samples_per_second
    ));
    line
}

impl Observer for Progress {
    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> nabla::Result<()> {
        match &self.checkpoints {
            Some((path, context)) => save_checkpoint(path, checkpoint, context),
            None => Ok(()),
        }
    }

    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.epoch_started = Instant::now();
        self.epochs = epochs;
        self.rows = 0;
        if self.terminal {
            let bar =
                ProgressBar::with_draw_target(Some(batches as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} batches  {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{epochs}"));
            self.bar = Some(bar);
        }
    }

    fn batch_finished(&mut self, loss: f64, rows: usize) {
        self.rows += rows;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if bar.position() % 10 == 0 {
                let rate = self.rows as f64 / self.epoch_started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("loss {loss:.4}  {rate:.0} samples/s"));
            }
        }
    }

    fn epoch_finished(&mut self, report: &EpochReport) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        // A closed stdout must not stop training; the final result line reports it instead.
        let _ = writeln!(std::io::stdout(), "{}", epoch_line(report, self.epochs));
        if let Some((path, writer)) = &mut self.metrics
            && self.metrics_error.is_none()
        {
            let line = serde_json::to_string(report).expect("a report always serialises");
            if let Err(e) = writeln!(writer, "{line}").and_then(|()| writer.flush()) {
                self.metrics_error =
                    Some(anyhow::Error::new(e).context(format!("writing {}", path.display())));
            }
        }
    }
}
