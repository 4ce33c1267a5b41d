//! What the command line prints, and how: the report on stdout, notes on stderr, progress
//! bars on a terminal. A closed stdout or stderr (`nabla … | head`) never stops the work or
//! panics: the line is dropped and the command finishes what it was doing.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nabla::data::LoadProgress;
use nabla::train::{EpochReport, Observer};
use nabla::workflow::Reporter;

/// Writes a line to stdout; a closed stdout drops it.
pub fn out(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes text to stdout as it is; a closed stdout drops it.
pub fn out_raw(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes a line to stderr; a closed stderr drops it (`eprintln!` would panic).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static TRAINING: AtomicBool = AtomicBool::new(false);

/// From now on Ctrl-C (SIGINT) and SIGTERM, while training runs, ask it to stop after its
/// current step instead of killing the process; before training starts (loading, a
/// download) and at a second one, the process ends at once with 130.
pub fn catch_interrupts() {
    let _ = ctrlc::set_handler(|| {
        if !TRAINING.load(Ordering::SeqCst) || INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// Whether an interrupt arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A download's progress on stderr: a bar on a terminal, a line per file otherwise.
#[derive(Default)]
pub struct DownloadBar {
    bar: Option<ProgressBar>,
}

impl DownloadBar {
    /// Shows one event.
    pub fn show(&mut self, event: LoadProgress) {
        match event {
            LoadProgress::Cached(_) => {}
            LoadProgress::Started(name, total) => {
                if std::io::stderr().is_terminal() {
                    let b = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
                    b.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        )
                        .expect("a valid template")
                        .progress_chars("=> "),
                    );
                    b.set_prefix(name.to_string());
                    self.bar = Some(b);
                } else {
                    note(&format!(
                        "downloading {name} ({})",
                        total.map_or("size unknown".into(), |t| format!("{t} bytes"))
                    ));
                }
            }
            LoadProgress::Received(bytes) => {
                if let Some(b) = &self.bar {
                    b.set_position(bytes);
                }
            }
            LoadProgress::Finished(name) => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
                note(&format!("{name}: downloaded, SHA-256 verified"));
            }
            LoadProgress::Retrying(name, why) => {
                if let Some(b) = self.bar.take() {
                    b.abandon();
                }
                note(&format!("{name}: {why}; retrying"));
            }
        }
    }
}

/// The terminal's view of a training run: the report's lines on stdout, notes on stderr, a
/// progress bar per epoch (elapsed, ETA, the epoch's running mean loss) on a terminal, and
/// Ctrl-C as a stop request.
pub struct Progress {
    terminal: bool,
    bar: Option<ProgressBar>,
    download: DownloadBar,
    epoch_started: Instant,
    epochs: usize,
    rows: usize,
    loss_total: f64,
}

impl Progress {
    /// A reporter for the terminal (bars only when stderr is one).
    pub fn new() -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            download: DownloadBar::default(),
            epoch_started: Instant::now(),
            epochs: 0,
            rows: 0,
            loss_total: 0.0,
        }
    }
}

impl Observer for Progress {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        TRAINING.store(true, Ordering::SeqCst);
        self.epoch_started = Instant::now();
        self.epochs = epochs;
        self.rows = 0;
        self.loss_total = 0.0;
        if self.terminal {
            let bar =
                ProgressBar::with_draw_target(Some(batches as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} batches  {elapsed_precise} elapsed, \
                     {eta} left  {msg}",
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
        self.loss_total += loss * rows as f64;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if bar.position() % 10 == 0 {
                let seconds = self.epoch_started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "mean loss {:.4}  {:.0} samples/s",
                    self.loss_total / self.rows.max(1) as f64,
                    self.rows as f64 / seconds
                ));
            }
        }
    }

    fn epoch_finished(&mut self, report: &EpochReport) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.epochs = self.epochs.max(report.epoch);
        out(&report.line(self.epochs));
    }

    fn stop_requested(&mut self) -> bool {
        interrupted()
    }
}

impl Reporter for Progress {
    fn line(&mut self, text: &str) {
        out(text);
    }

    fn note(&mut self, text: &str) {
        note(text);
    }

    fn download(&mut self, progress: LoadProgress) {
        self.download.show(progress);
    }
}
