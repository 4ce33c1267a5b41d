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
use serde::{Deserialize, Serialize};

use super::train_run::{Reporter, TrainRun, run_training};
use crate::activation::Activation;
use crate::data::{DataSpec, Dataset, Synthetic};
use crate::error::{Error, Result};
use crate::loss::{LossInput, LossKind};
use crate::network::{Network, NetworkBuilder};
use crate::optim::{OptimizerConfig, OptimizerKind};
use crate::prepare::{DataSource, Prepared};
use crate::train::{EpochReport, Observer, TrainConfig};

/// The most points a playground set has.
pub const MAX_POINTS: usize = 5000;
/// The most hidden layers.
pub const MAX_LAYERS: usize = 6;
/// The most units in a hidden layer.
pub const MAX_UNITS: usize = 64;
/// The most epochs a playground run trains.
pub const MAX_EPOCHS: usize = 5000;
/// The longest pause after each epoch, in milliseconds (to watch a fast run learn).
pub const MAX_DELAY_MS: u64 = 1000;
/// Cells per side of the grid the classes are predicted on.
pub const GRID: usize = 48;

/// A playground run, as the page sends it (JSON; every field has a default). Names are read as
/// the command line reads them, so a bad one gets the command line's error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaygroundSpec {
    /// The data set: spirals, moons, circles, xor or blobs.
    pub data: String,
    /// Points drawn (1 to [`MAX_POINTS`]).
    pub samples: usize,
    /// The generator's noise (its default when absent).
    pub noise: Option<f64>,
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// The hidden activation.
    pub activation: String,
    /// The output activation (the task's default when absent).
    pub output: Option<String>,
    /// The loss (the output's default when absent).
    pub loss: Option<String>,
    /// What the loss reads: logits or probabilities (the pairing table's default when absent).
    pub from: Option<String>,
    /// The optimiser: sgd, momentum, adam, adamw.
    pub optimizer: String,
    /// Its learning rate (the optimiser's default when absent).
    pub learning_rate: Option<f64>,
    /// Rows per step.
    pub batch: usize,
    /// Epochs (1 to [`MAX_EPOCHS`]).
    pub epochs: usize,
    /// The seed of the data, the weights and the shuffles.
    pub seed: u64,
    /// Train a refused pairing anyway, clipped as Keras clips it.
    pub allow_unsafe: bool,
    /// A pause after each epoch, in milliseconds, to watch a fast run (not part of training).
    pub delay_ms: u64,
}

impl Default for PlaygroundSpec {
    /// Moons, 400 points, two hidden layers of 8 ReLU units, Adam, batch 32, 100 epochs.
    fn default() -> Self {
        PlaygroundSpec {
            data: "moons".into(),
            samples: 400,
            noise: None,
            hidden: vec![8, 8],
            activation: "relu".into(),
            output: None,
            loss: None,
            from: None,
            optimizer: "adam".into(),
            learning_rate: None,
            batch: TrainConfig::default().batch_size,
            epochs: 100,
            seed: 0,
            allow_unsafe: false,
            delay_ms: 0,
        }
    }
}

impl PlaygroundSpec {
    /// The `nabla train` run this is: the same data, network, optimiser, batch, epochs and
    /// seed, one thread, nothing written.
    ///
    /// # Errors
    /// A name the command line would refuse, a data set that is not one of the 2-D generators
    /// (the playground reads no files), or a size beyond the playground's bounds.
    pub fn train_run(&self) -> Result<TrainRun> {
        let kind: Synthetic = self.data.parse()?;
        let bounded = |field: &'static str, value: usize, max: usize| {
            if value == 0 || value > max {
                Err(Error::invalid(
                    field,
                    format!("{value} is outside the playground's 1 to {max}"),
                ))
            } else {
                Ok(())
            }
        };
        bounded("samples", self.samples, MAX_POINTS)?;
        bounded("epochs", self.epochs, MAX_EPOCHS)?;
        bounded("batch", self.batch, MAX_POINTS)?;
        if self.hidden.len() > MAX_LAYERS {
            return Err(Error::invalid(
                "hidden",
                format!(
                    "{} layers; the playground takes at most {MAX_LAYERS}",
                    self.hidden.len()
                ),
            ));
        }
        for &units in &self.hidden {
            bounded("hidden", units, MAX_UNITS)?;
        }
        if self.delay_ms > MAX_DELAY_MS {
            return Err(Error::invalid(
                "delay_ms",
                format!("{} ms is longer than {MAX_DELAY_MS} ms", self.delay_ms),
            ));
        }
        let mut source = DataSource::new(DataSpec::Synthetic(kind));
        source.options.samples = self.samples;
        source.options.noise = self.noise;
        source.options.seed = self.seed;
        let mut network = NetworkBuilder::default()
            .hidden(self.hidden.iter().copied())
            .hidden_activation(self.activation.parse::<Activation>()?)
            .allow_unsafe(self.allow_unsafe);
        if let Some(output) = &self.output {
            network = network.output(output.parse::<Activation>()?);
        }
        if let Some(loss) = &self.loss {
            network = network.loss(loss.parse::<LossKind>()?);
        }
        if let Some(from) = &self.from {
            network = network.loss_input(from.parse::<LossInput>()?);
        }
        let base = OptimizerConfig::default_for(self.optimizer.parse::<OptimizerKind>()?);
        let optimizer = OptimizerConfig {
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            ..base
        };
        optimizer.validate()?;
        let mut run = TrainRun::new(source);
        run.network = network;
        run.train = TrainConfig::default()
            .optimizer(optimizer)
            .batch_size(self.batch)
            .epochs(self.epochs)
            .seed(self.seed)
            .threads(1)
            // A refused pairing trained anyway goes on through NaN (as `compare-heads` does),
            // so the page shows what happens; `nabla train` stops at the first fault.
            .stop_on_faults(!self.allow_unsafe);
        Ok(run)
    }

    /// The same run as a command line.
    pub fn command_line(&self) -> String {
        let mut words = vec![
            format!("nabla train --data {}", self.data),
            format!("--samples {}", self.samples),
        ];
        if let Some(noise) = self.noise {
            words.push(format!("--noise {noise}"));
        }
        let hidden: Vec<String> = self.hidden.iter().map(ToString::to_string).collect();
        words.push(format!("--hidden {}", none_if_empty(&hidden.join(","))));
        words.push(format!("--activation {}", self.activation));
        for (flag, value) in [
            ("--output", &self.output),
            ("--loss", &self.loss),
            ("--from", &self.from),
        ] {
            if let Some(value) = value {
                words.push(format!("{flag} {value}"));
            }
        }
        words.push(format!("--optimizer {}", self.optimizer));
        if let Some(rate) = self.learning_rate {
            words.push(format!("--lr {rate}"));
        }
        words.push(format!(
            "--batch {} --epochs {} --seed {} --threads 1",
            self.batch, self.epochs, self.seed
        ));
        if self.allow_unsafe {
            words.push("--allow-unsafe".into());
        }
        words.join(" ")
    }
}

fn none_if_empty(text: &str) -> &str {
    if text.is_empty() { "none" } else { text }
}

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
        run.network.clone().shape_of(&probe).build(spec.seed)?;
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
        let x = padded(points.iter().map(|p| p.x[0]));
        let y = padded(points.iter().map(|p| p.x[1]));
        self.grid = Some(grid_points(x, y, GRID));
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

/// The range of `values`, padded by a tenth of its span on each side.
fn padded(values: impl Iterator<Item = f32>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(f64::from(v)), b.max(f64::from(v)))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = (hi - lo).max(1e-3) * 0.1;
    (lo - pad, hi + pad)
}

/// The centres of an n × n grid over x × y, row by row from the bottom.
fn grid_points(x: (f64, f64), y: (f64, f64), n: usize) -> Array2<f32> {
    Array2::from_shape_fn((n * n, 2), |(cell, axis)| {
        let (i, j) = (cell / n, cell % n);
        let (range, k) = if axis == 0 { (x, j) } else { (y, i) };
        (range.0 + (range.1 - range.0) * (k as f64 + 0.5) / n as f64) as f32
    })
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

    #[test]
    fn the_run_is_the_command_lines() {
        let spec = PlaygroundSpec {
            data: "spirals".into(),
            hidden: vec![16],
            learning_rate: Some(0.01),
            ..PlaygroundSpec::default()
        };
        let run = spec.train_run().unwrap();
        assert_eq!(run.train.threads, 1);
        assert_eq!(run.train.optimizer.learning_rate, 0.01);
        assert_eq!(run.source.options.samples, 400);
        assert_eq!(
            spec.command_line(),
            "nabla train --data spirals --samples 400 --hidden 16 --activation relu \
             --optimizer adam --lr 0.01 --batch 32 --epochs 100 --seed 0 --threads 1"
        );
    }

    #[test]
    fn files_and_sizes_beyond_the_bounds_are_refused() {
        let refused = |spec: PlaygroundSpec, field: &str| {
            let message = spec.train_run().unwrap_err().to_string();
            assert!(message.contains(field), "{message}");
        };
        refused(
            PlaygroundSpec {
                data: "/etc/passwd".into(),
                ..PlaygroundSpec::default()
            },
            "synthetic data set",
        );
        refused(
            PlaygroundSpec {
                samples: MAX_POINTS + 1,
                ..PlaygroundSpec::default()
            },
            "samples",
        );
        refused(
            PlaygroundSpec {
                hidden: vec![MAX_UNITS + 1],
                ..PlaygroundSpec::default()
            },
            "hidden",
        );
        refused(
            PlaygroundSpec {
                activation: "relu6".into(),
                ..PlaygroundSpec::default()
            },
            "relu6",
        );
    }

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
