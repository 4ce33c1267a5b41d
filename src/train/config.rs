//! [`TrainConfig`]: how to train, as plain data with defaults and named setters.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::{OptimizerConfig, OptimizerKind};
use crate::schedule::Schedule;

/// The default interval of the activation and gradient checks.
pub const DEFAULT_CHECK_EVERY: usize = 100;

/// The threads of this machine (what [`TrainConfig::default`] uses).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How to train. Every field has a default ([`TrainConfig::default`]: Adam at η = 0.001,
/// batches of 32, 20 epochs, seed 0, this machine's threads) and a setter of the same name.
///
/// ```
/// use nabla::{OptimizerConfig, OptimizerKind, TrainConfig};
///
/// let config = TrainConfig::default()
///     .optimizer(OptimizerConfig::default_for(OptimizerKind::Sgd).momentum(0.9))
///     .batch_size(64)
///     .epochs(5)
///     .seed(7)
///     .threads(1);
/// assert_eq!((config.batch_size, config.epochs, config.seed), (64, 5, 7));
/// assert_eq!(config.optimizer.learning_rate, 0.1); // SGD's default rate
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// The optimiser and its base learning rate.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule over epochs.
    pub schedule: Schedule,
    /// Rows per mini-batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Threads for the network's work (products, element-wise loops, updates); training sets
    /// the network's [`threads`](crate::Network::threads) to this.
    pub threads: usize,
    /// Stop after this many epochs without a lower validation loss, keeping the best weights.
    pub patience: Option<usize>,
    /// Rescale the gradients when their global L2 norm exceeds this (PyTorch's
    /// `clip_grad_norm_`: g ← g · max / (‖g‖ + 1e-6)).
    pub clip_grad_norm: Option<f64>,
    /// Check activations and gradients for NaN/∞ every this many steps (1 = every step, as
    /// `--detect-anomalies`; the loss is checked every step regardless).
    pub check_every: usize,
    /// Hand a checkpoint to the observer every this many steps.
    pub checkpoint_every: Option<usize>,
    /// Stop at the first NaN/∞ (on by default; experiments that measure divergence, such as
    /// `compare-heads`, turn it off).
    pub stop_on_faults: bool,
    /// Shuffle the rows every epoch (seeded; on by default). Off, every epoch takes the rows in
    /// their order (scikit-learn's `shuffle=False`).
    pub shuffle: bool,
    /// Shuffle within windows of this many rows ([`super::windowed_order`]) rather than over
    /// every row: `None` (the default) does so with windows of
    /// [`super::DEFAULT_WINDOW_ROWS`] when the training rows are not in memory (a temporary
    /// file, or a `.npy` file read in place; [`crate::data::Features::is_in_memory`]) and
    /// shuffles every row otherwise; `Some(0)` always shuffles every row. A resumed run keeps
    /// the window its checkpoint started with unless this gives one.
    #[serde(default)]
    pub shuffle_window: Option<usize>,
    /// The precision of the matrix products (bf16: bf16 operands, f32 sums; weights, optimiser
    /// state and everything else stay f32).
    pub precision: crate::kernels::Precision,
    /// Data-parallel runs: how the ranks' gradients are summed (see [`Allreduce`]).
    #[serde(default)]
    pub allreduce: Allreduce,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            optimizer: OptimizerConfig::default_for(OptimizerKind::Adam),
            schedule: Schedule::Constant,
            batch_size: 32,
            epochs: 20,
            seed: 0,
            threads: available_threads(),
            patience: None,
            clip_grad_norm: None,
            check_every: DEFAULT_CHECK_EVERY,
            checkpoint_every: None,
            stop_on_faults: true,
            shuffle: true,
            shuffle_window: None,
            precision: crate::kernels::Precision::F32,
            allreduce: Allreduce::default(),
        }
    }
}

impl TrainConfig {
    /// The optimiser.
    pub fn optimizer(mut self, optimizer: OptimizerConfig) -> Self {
        self.optimizer = optimizer;
        self
    }

    /// The optimiser's base learning rate η.
    pub fn learning_rate(mut self, learning_rate: f64) -> Self {
        self.optimizer.learning_rate = learning_rate;
        self
    }

    /// The learning-rate schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Rows per mini-batch.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Passes over the training rows.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Seed of the shuffles.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Threads for the network's work.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Early stopping: stop after `epochs` epochs without a lower validation loss.
    pub fn patience(mut self, epochs: usize) -> Self {
        self.patience = Some(epochs);
        self
    }

    /// Gradient clipping to a global L2 norm.
    pub fn clip_grad_norm(mut self, max: f64) -> Self {
        self.clip_grad_norm = Some(max);
        self
    }

    /// Checks for NaN/∞ in activations and gradients every `steps` steps.
    pub fn check_every(mut self, steps: usize) -> Self {
        self.check_every = steps;
        self
    }

    /// A checkpoint for the observer every `steps` steps.
    pub fn checkpoint_every(mut self, steps: usize) -> Self {
        self.checkpoint_every = Some(steps);
        self
    }

    /// Whether the first NaN/∞ stops the run.
    pub fn stop_on_faults(mut self, stop: bool) -> Self {
        self.stop_on_faults = stop;
        self
    }

    /// The precision of the matrix products.
    pub fn precision(mut self, precision: crate::kernels::Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Shuffles every epoch, or takes the rows in order.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Shuffles within windows of `rows` rows (0: over every row); see
    /// [`TrainConfig::shuffle_window`].
    pub fn shuffle_window(mut self, rows: usize) -> Self {
        self.shuffle_window = Some(rows);
        self
    }

    /// How data-parallel runs sum the ranks' gradients ([`TrainConfig::allreduce`]).
    pub fn allreduce(mut self, allreduce: Allreduce) -> Self {
        self.allreduce = allreduce;
        self
    }

    /// Refuses zero batch sizes, epochs or threads, and bad optimiser settings.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("batch size", self.batch_size),
            ("epochs", self.epochs),
            ("threads", self.threads),
        ] {
            if value == 0 {
                return Err(Error::invalid(field, "must be at least 1, got 0"));
            }
        }
        if self.threads > MAX_THREADS {
            return Err(Error::invalid(
                "threads",
                format!(
                    "{} is more than {MAX_THREADS}, the most nabla runs (this machine has {})",
                    self.threads,
                    available_threads()
                ),
            ));
        }
        if self.check_every == 0 || self.checkpoint_every == Some(0) {
            return Err(Error::invalid(
                "check/checkpoint interval",
                "must be at least 1 step",
            ));
        }
        if let Some(max) = self.clip_grad_norm
            && !(max.is_finite() && max > 0.0)
        {
            return Err(Error::invalid(
                "clip-grad-norm",
                format!("{max} must be a finite number > 0"),
            ));
        }
        if self.patience == Some(0) {
            return Err(Error::invalid(
                "patience",
                "must be at least 1 epoch, got 0",
            ));
        }
        self.optimizer.validate()
    }
}

/// The most threads a network runs on: each is a spinning helper, and beyond the machine's
/// cores they only slow each other down.
pub const MAX_THREADS: usize = 256;

/// How the ranks' gradients are summed in a data-parallel step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Allreduce {
    /// Overlapped where this process has a core beyond its training threads for the
    /// communication thread, else blocking: on a core of its own, a communication thread that
    /// polls the network competes with the training thread (measured in docs/SCALE.md).
    #[default]
    Auto,
    /// Every layer's gradients in one ring after the backward pass.
    Blocking,
    /// Each layer's gradients in a ring of their own on a communication thread, overlapping
    /// the backward pass of the layers below (where the ranks allow a second thread to
    /// communicate, [`super::Ranks::concurrent`]; else blocking).
    Overlapped,
}

impl Allreduce {
    /// What runs on `ranks` for a rank training on `threads` threads: [`Allreduce::resolve`]
    /// with this process's cores (those it may run on: under `mpirun`, the ones it is bound
    /// to).
    pub fn on(self, ranks: &dyn super::Ranks, threads: usize) -> Allreduce {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.resolve(ranks.concurrent(), threads, cores)
    }

    /// Blocking or overlapped: overlapped when asked for, or for `Auto` when `cores` exceed
    /// the training `threads`, and only where the ranks allow a communication thread
    /// (`concurrent`).
    pub fn resolve(self, concurrent: bool, threads: usize, cores: usize) -> Allreduce {
        let overlap = match self {
            Allreduce::Blocking => false,
            Allreduce::Overlapped => true,
            Allreduce::Auto => cores > threads,
        };
        if overlap && concurrent {
            Allreduce::Overlapped
        } else {
            Allreduce::Blocking
        }
    }
}

impl std::str::FromStr for Allreduce {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        match text {
            "auto" => Ok(Allreduce::Auto),
            "blocking" => Ok(Allreduce::Blocking),
            "overlapped" => Ok(Allreduce::Overlapped),
            _ => Err(crate::Error::invalid(
                "allreduce",
                format!("expected auto, blocking or overlapped, got {text:?}"),
            )),
        }
    }
}

#[cfg(test)]
mod allreduce_tests {
    use super::Allreduce;
    use crate::train::Ranks;

    #[test]
    fn the_mode_parses_and_falls_back_to_blocking_where_ranks_allow_no_thread() {
        assert_eq!(
            "blocking".parse::<Allreduce>().unwrap(),
            Allreduce::Blocking
        );
        assert_eq!(
            "overlapped".parse::<Allreduce>().unwrap(),
            Allreduce::Overlapped
        );
        assert_eq!("auto".parse::<Allreduce>().unwrap(), Allreduce::default());
        let error = "async".parse::<Allreduce>().unwrap_err().to_string();
        assert!(error.contains("auto, blocking or overlapped"), "{error}");
        // Auto overlaps only with a core to spare beyond the training threads.
        assert_eq!(Allreduce::Auto.resolve(true, 1, 2), Allreduce::Overlapped);
        assert_eq!(Allreduce::Auto.resolve(true, 2, 2), Allreduce::Blocking);
        assert_eq!(Allreduce::Auto.resolve(false, 1, 8), Allreduce::Blocking);
        assert_eq!(
            Allreduce::Overlapped.resolve(true, 4, 1),
            Allreduce::Overlapped
        );
        struct One(bool);
        impl Ranks for One {
            fn rank(&self) -> usize {
                0
            }
            fn size(&self) -> usize {
                2
            }
            fn send_receive(&self, _: &[f32], _: usize, _: &mut [f32], _: usize) {}
            fn concurrent(&self) -> bool {
                self.0
            }
        }
        assert_eq!(
            Allreduce::Overlapped.on(&One(true), 1),
            Allreduce::Overlapped
        );
        assert_eq!(
            Allreduce::Overlapped.on(&One(false), 1),
            Allreduce::Blocking
        );
        assert_eq!(Allreduce::Blocking.on(&One(true), 1), Allreduce::Blocking);
    }
}
