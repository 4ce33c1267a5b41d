//! The playground of `nabla serve`, as a library: a small training run on a 2-D synthetic set
//! (exactly what `nabla train --data moons …` runs, through [`run_training`]) on a thread of
//! its own, which can be paused, stepped one epoch at a time and stopped, and which reports
//! every epoch with the classes the network predicts over a grid of the plane.
//!
//! The network sees the rows after the training pipeline's normalisation, and the picture
//! shows them there: the grid spans the prepared rows, padded by a tenth on each side.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use ndarray::Array2;
use serde::Serialize;

use super::playground_spec::PlaygroundSpec;
use super::reporter::Reporter;
use super::train_run::run_training;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::plane::{grid_centres, padded_range};
use crate::prepare::Prepared;
use crate::train::{EpochReport, Observer};

/// Cells per side of the grid the classes are predicted on.
pub const GRID: usize = 48;

/// Where a playground run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Training.
    Running,
    /// Waiting at an epoch boundary for [`Playground::resume`] or [`Playground::step`].
    Paused,
    /// All epochs done.
    Finished,
    /// Stopped by [`Playground::stop`].
    Stopped,
    /// Ended by an error (a numerical fault of an unsound pairing, say).
    Failed,
}

/// A point of the picture: its two (normalised) coordinates and its class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The coordinates the network sees.
    pub x: [f32; 2],
    /// The true class.
    pub class: usize,
    /// A held-out test row (drawn hollow).
    pub test: bool,
}

/// The classes predicted over the plane after one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Boundary {
    /// The epoch it follows (1-based).
    pub epoch: usize,
    /// Cells per side; cell (row i, column j) is centred at
    /// (x₀ + (j + ½)·(x₁ − x₀)/n, y₀ + (i + ½)·(y₁ − y₀)/n), row 0 at the bottom.
    pub size: usize,
    /// Predicted class per cell, rows of `size`; `None` where the outputs are NaN.
    pub classes: Vec<Option<usize>>,
    /// How sure: the predicted class's output (a probability for a probability model),
    /// clamped to [0, 1].
    pub confidence: Vec<f32>,
}

/// What a playground run has reported so far.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    /// Where it is.
    pub status: Status,
    /// Bumped at every change.
    pub version: u64,
    /// The equivalent `nabla train` command.
    pub command: String,
    /// The epochs planned.
    pub epochs_planned: usize,
    /// The report of each finished epoch.
    pub epochs: Vec<EpochReport>,
    /// The rows, once prepared.
    pub points: Vec<Point>,
    /// The plane's x and y ranges.
    pub x_range: (f64, f64),
    /// The plane's y range.
    pub y_range: (f64, f64),
    /// The classes over the plane after the latest epoch.
    pub boundary: Option<Boundary>,
    /// The accuracy on the held-out test rows, when finished or stopped.
    pub test_accuracy: Option<f64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What the controls ask of the training thread.
#[derive(Debug, Default)]
struct Control {
    paused: bool,
    /// Epochs that may start while paused.
    steps: usize,
}

struct Shared {
    progress: Mutex<Progress>,
    control: Mutex<Control>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn update(&self, change: impl FnOnce(&mut Progress)) {
        let mut progress = self.progress();
        change(&mut progress);
        progress.version += 1;
    }
}

/// A playground run on its own thread.
///
/// ```
/// use nabla::workflow::{Playground, PlaygroundSpec, Status};
///
/// let spec = PlaygroundSpec { epochs: 5, ..PlaygroundSpec::default() };
/// let run = Playground::start(&spec, false)?;
/// let done = run.wait();
/// assert_eq!(done.status, Status::Finished);
/// assert_eq!(done.epochs.len(), 5);
/// assert!(done.test_accuracy.unwrap() > 0.5);
/// # Ok::<(), nabla::Error>(())
/// ```
pub struct Playground {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Playground {
    /// Checks `spec` and the pairing, then starts training (paused before the first epoch when
    /// `paused`).
    ///
    /// # Errors
    /// What [`PlaygroundSpec::train_run`] refuses, and a refused pairing
    /// ([`Error::IncompatibleHead`]) unless `allow_unsafe`: found before any thread starts.
    pub fn start(spec: &PlaygroundSpec, paused: bool) -> Result<Playground> {
        let run = spec.train_run()?;
        // The pairing and the sizes, checked now: on 2-D rows with this set's targets.
        let probe = crate::data::generate(spec.data.parse()?, 3, 0.0, 0)?;
        run.network.clone().shape_of(&probe).config()?;
        let shared = Arc::new(Shared {
            progress: Mutex::new(Progress {
                status: if paused {
                    Status::Paused
                } else {
                    Status::Running
                },
                version: 0,
                command: spec.command_line(),
                epochs_planned: spec.epochs,
                epochs: Vec::new(),
                points: Vec::new(),
                x_range: (0.0, 0.0),
                y_range: (0.0, 0.0),
                boundary: None,
                test_accuracy: None,
                error: None,
            }),
            control: Mutex::new(Control { paused, steps: 0 }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let delay = Duration::from_millis(spec.delay_ms);
        let thread = std::thread::Builder::new()
            .name("nabla-playground".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || {
                    let mut reporter = Watcher {
                        shared: &shared,
                        grid: None,
                        delay,
                    };
                    let outcome = run_training(&run, &mut reporter);
                    let stopped = shared.stop.load(Ordering::SeqCst);
                    shared.update(|p| match outcome {
                        Ok(outcome) => {
                            p.test_accuracy = outcome.test.accuracy();
                            p.status = if stopped {
                                Status::Stopped
                            } else {
                                Status::Finished
                            };
                        }
                        Err(error) => {
                            p.error = Some(error.to_string());
                            p.status = Status::Failed;
                        }
                    });
                }
            })
            .map_err(|e| Error::invalid("playground", format!("no thread to train on: {e}")))?;
        Ok(Playground {
            shared,
            thread: Some(thread),
        })
    }

    /// What it has reported so far.
    pub fn progress(&self) -> Progress {
        self.shared.progress().clone()
    }

    /// The version of the latest change (cheap: to see whether [`Playground::progress`] moved).
    pub fn version(&self) -> u64 {
        self.shared.progress().version
    }

    /// Whether training is over (finished, stopped or failed).
    pub fn is_over(&self) -> bool {
        matches!(
            self.shared.progress().status,
            Status::Finished | Status::Stopped | Status::Failed
        )
    }

    /// Pauses before the next epoch.
    pub fn pause(&self) {
        self.set(|c| c.paused = true, Status::Paused);
    }

    /// Goes on training.
    pub fn resume(&self) {
        self.set(
            |c| {
                c.paused = false;
                c.steps = 0;
            },
            Status::Running,
        );
    }

    /// Trains one more epoch, then pauses.
    pub fn step(&self) {
        self.set(
            |c| {
                c.paused = true;
                c.steps += 1;
            },
            Status::Paused,
        );
    }

    /// Ends training after the current step (the test rows are still scored).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
    }

    /// Waits until training is over and returns the final progress.
    pub fn wait(mut self) -> Progress {
        if let Some(thread) = self.thread.take() {
            // A panic in training is reported as a failure below, never raised here.
            let _ = thread.join();
        }
        let mut progress = self.progress();
        if !matches!(
            progress.status,
            Status::Finished | Status::Stopped | Status::Failed
        ) {
            progress.status = Status::Failed;
            progress.error = Some("training ended without a result".into());
        }
        progress
    }

    fn set(&self, change: impl FnOnce(&mut Control), status: Status) {
        change(&mut self.shared.control());
        self.shared.update(|p| {
            if matches!(p.status, Status::Running | Status::Paused) {
                p.status = status;
            }
        });
        self.shared.wake.notify_all();
    }
}

impl Drop for Playground {
    /// Stops the training thread and waits for it.
    fn drop(&mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The reporter on the training thread: records epochs and boundaries, and holds each epoch
/// back while paused.
struct Watcher<'a> {
    shared: &'a Shared,
    /// The grid's points, in the network's coordinates.
    grid: Option<Array2<f32>>,
    delay: Duration,
}

impl Observer for Watcher<'_> {
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {
        let mut control = self.shared.control();
        while control.paused && control.steps == 0 && !self.shared.stop.load(Ordering::SeqCst) {
            control = self
                .shared
                .wake
                .wait(control)
                .unwrap_or_else(|p| p.into_inner());
        }
        control.steps = control.steps.saturating_sub(1);
        let status = if control.paused {
            Status::Paused
        } else {
            Status::Running
        };
        drop(control);
        self.shared.update(|p| {
            if matches!(p.status, Status::Running | Status::Paused) {
                p.status = status;
            }
        });
    }

    fn epoch_finished(&mut self, report: &EpochReport) {
        self.shared.update(|p| p.epochs.push(report.clone()));
    }

    fn epoch_network(&mut self, network: &Network<f32>) {
        if let Some(grid) = &self.grid {
            let boundary = classes_over(network, grid);
            self.shared.update(|p| {
                p.boundary = Some(Boundary {
                    epoch: p.epochs.len(),
                    ..boundary
                });
            });
        }
        if !self.delay.is_zero() {
            // A pause that `stop` cuts short, so a stopped run ends at once.
            let control = self.shared.control();
            let _ = self
                .shared
                .wake
                .wait_timeout_while(control, self.delay, |_| {
                    !self.shared.stop.load(Ordering::SeqCst)
                });
        }
    }

    fn stop_requested(&mut self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }
}

impl Reporter for Watcher<'_> {
    fn line(&mut self, _text: &str) {}
    fn note(&mut self, _text: &str) {}

    fn prepared(&mut self, prepared: &Prepared) {
        let sets = std::iter::once((&prepared.train, false))
            .chain(prepared.validation.iter().map(|v| (v, false)))
            .chain(prepared.test.iter().map(|t| (t, true)));
        let points: Vec<Point> = sets.flat_map(|(set, test)| points_of(set, test)).collect();
        let x = padded_range(points.iter().map(|p| p.x[0]));
        let y = padded_range(points.iter().map(|p| p.x[1]));
        self.grid = Some(grid_centres(x, y, GRID));
        self.shared.update(|p| {
            p.points = points;
            p.x_range = x;
            p.y_range = y;
        });
    }
}

fn points_of(set: &Dataset, test: bool) -> Vec<Point> {
    set.features
        .rows()
        .into_iter()
        .zip(set.labels.strata())
        .map(|(row, class)| Point {
            x: [row[0], row[1]],
            class,
            test,
        })
        .collect()
}

/// The class `network` predicts at each grid point and the output behind it.
fn classes_over(network: &Network<f32>, grid: &Array2<f32>) -> Boundary {
    let outputs = network.predict(grid.view());
    let mut classes = Vec::with_capacity(outputs.nrows());
    let mut confidence = Vec::with_capacity(outputs.nrows());
    for row in outputs.rows() {
        if row.iter().any(|v| v.is_nan()) {
            classes.push(None);
            confidence.push(0.0);
        } else if row.len() == 1 {
            let p = row[0];
            classes.push(Some(usize::from(p > 0.5)));
            confidence.push(p.max(1.0 - p).clamp(0.0, 1.0));
        } else {
            let class = crate::data::arg_max(row.iter());
            classes.push(Some(class));
            confidence.push(row[class].clamp(0.0, 1.0));
        }
    }
    Boundary {
        epoch: 0,
        size: (grid.nrows() as f64).sqrt() as usize,
        classes,
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::MAX_DELAY_MS;

    #[test]
    fn a_refused_pairing_is_refused_before_training() {
        let spec = PlaygroundSpec {
            output: Some("relu".into()),
            loss: Some("cross-entropy".into()),
            ..PlaygroundSpec::default()
        };
        let Err(Error::IncompatibleHead(refusal)) = Playground::start(&spec, false) else {
            panic!("a ReLU output with cross-entropy must be refused");
        };
        assert!(refusal.fix.contains("softmax"), "{}", refusal.fix);
    }

    #[test]
    fn an_unsafe_pairing_trains_on_through_nan() {
        let spec = PlaygroundSpec {
            output: Some("relu".into()),
            loss: Some("cross-entropy".into()),
            allow_unsafe: true,
            epochs: 5,
            ..PlaygroundSpec::default()
        };
        let done = Playground::start(&spec, false).unwrap().wait();
        assert_eq!(done.status, Status::Finished, "{:?}", done.error);
        assert_eq!(done.epochs.len(), 5);
        let losses: Vec<f64> = done.epochs.iter().map(|e| e.train_loss).collect();
        assert!(losses.iter().any(|l| l.is_nan()), "{losses:?}");
    }

    #[test]
    fn a_stop_cuts_the_pause_after_an_epoch_short() {
        let spec = PlaygroundSpec {
            epochs: 100,
            delay_ms: MAX_DELAY_MS,
            ..PlaygroundSpec::default()
        };
        let run = Playground::start(&spec, false).unwrap();
        while run.progress().epochs.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let asked = std::time::Instant::now();
        run.stop();
        let done = run.wait();
        assert_eq!(done.status, Status::Stopped);
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "{:?}",
            asked.elapsed()
        );
    }

    #[test]
    fn paused_runs_step_one_epoch_at_a_time_and_stop() {
        let spec = PlaygroundSpec {
            epochs: 50,
            ..PlaygroundSpec::default()
        };
        let run = Playground::start(&spec, true).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(run.progress().epochs.len(), 0, "paused before epoch 1");
        run.step();
        run.step();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while run.progress().epochs.len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        let progress = run.progress();
        assert_eq!(progress.epochs.len(), 2, "two steps, two epochs");
        assert_eq!(progress.status, Status::Paused);
        let boundary = progress.boundary.unwrap();
        assert_eq!(boundary.epoch, 2);
        assert_eq!(boundary.classes.len(), GRID * GRID);
        assert_eq!(progress.points.len(), 400);
        run.stop();
        let done = run.wait();
        assert_eq!(done.status, Status::Stopped);
        assert!(done.epochs.len() < 50);
        assert!(done.test_accuracy.is_some());
    }
}
