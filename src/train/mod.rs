//! The training loop: seeded shuffles, mini-batches, optimiser steps, schedules, validation,
//! early stopping, checkpoints and resume.
//!
//! | file | holds |
//! |---|---|
//! | `config.rs` | [`TrainConfig`]: how to train, with defaults and setters |
//! | `stepper.rs` | [`Stepper`]: one allocation-free step (gather, forward/backward, clip, update) |
//! | `run.rs` | the epochs: NaN/∞ checks, validation, early stopping, checkpoints, stop requests |
//! | `state.rs` | [`EpochReport`], [`Observer`], [`Checkpoint`], [`TrainState`], [`Anomaly`], [`TrainOutcome`] |
//!
//! Determinism: epoch e visits the rows in the order of a ChaCha8 shuffle seeded by (seed, e),
//! weights come from the seed (`init.rs`), and matrix products split work the same way for a
//! given thread count, so the same seed and thread count give the same run, bit for bit.

mod config;
#[cfg(feature = "mpi")]
pub mod mpi;
mod order;
pub mod overlap;
pub mod ranks;
mod run;
mod state;
mod stepper;

pub use config::{Allreduce, DEFAULT_CHECK_EVERY, MAX_THREADS, TrainConfig, available_threads};
pub use order::{BLOCK_ROWS, DEFAULT_WINDOW_ROWS, Window, epoch_order, windowed_order};
pub use ranks::Ranks;
pub use run::MAX_HISTORY;
pub use state::{
    Anomaly, Checkpoint, EpochReport, Observer, Silent, TrainOutcome, TrainState, duration,
};
pub use stepper::Stepper;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::network::Network;

/// Trains `network` on `data` as `config` says, with no validation rows and no observer (see
/// [`Trainer`] for those).
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::{NetworkConfig, TrainConfig, evaluate, train};
///
/// let data = generate(Synthetic::Moons, 400, 0.1, 0)?;
/// let mut network = NetworkConfig::for_data(&data).hidden([16]).build(0)?;
/// let config = TrainConfig::default().learning_rate(0.01).epochs(30).threads(1);
/// let outcome = train(&mut network, &data, &config)?;
/// assert_eq!(outcome.history.len(), 30);
/// assert!(evaluate(&network, &data)?.accuracy().unwrap() > 0.9);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn train(
    network: &mut Network<f32>,
    data: &Dataset,
    config: &TrainConfig,
) -> Result<TrainOutcome> {
    Trainer::new(config).run(network, data)
}

/// A training run with the optional parts: validation rows (for the per-epoch report and early
/// stopping), an [`Observer`] (progress, checkpoints, stop requests) and a checkpoint to
/// resume from.
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::train::{EpochReport, Observer, Trainer};
/// use nabla::{NetworkConfig, TrainConfig};
///
/// struct Log(Vec<f64>);
/// impl Observer for Log {
///     fn epoch_finished(&mut self, report: &EpochReport) {
///         self.0.push(report.validation_loss.unwrap());
///     }
/// }
///
/// let data = generate(Synthetic::Blobs, 300, 0.0, 1)?;
/// let validation = generate(Synthetic::Blobs, 100, 0.0, 2)?;
/// let mut network = NetworkConfig::for_data(&data).hidden([8]).build(0)?;
/// let mut log = Log(Vec::new());
/// Trainer::new(&TrainConfig::default().epochs(3).threads(1))
///     .validation(&validation)
///     .observer(&mut log)
///     .run(&mut network, &data)?;
/// assert_eq!(log.0.len(), 3);
/// # Ok::<(), nabla::Error>(())
/// ```
pub struct Trainer<'a> {
    config: &'a TrainConfig,
    validation: Option<&'a Dataset>,
    observer: Option<&'a mut dyn Observer>,
    resume: Option<Checkpoint>,
    ranks: Option<&'a dyn Ranks>,
}

impl<'a> Trainer<'a> {
    /// A run with `config`, no validation rows, no observer, from the network's current weights.
    pub fn new(config: &'a TrainConfig) -> Self {
        Trainer {
            config,
            validation: None,
            observer: None,
            resume: None,
            ranks: None,
        }
    }

    /// Trains data-parallel with the other `ranks` (see [`ranks`]): each trains on its share
    /// of every batch, and all apply the same update.
    pub fn ranks(mut self, ranks: Option<&'a dyn Ranks>) -> Self {
        self.ranks = ranks;
        self
    }

    /// Rows to evaluate after each epoch (and to watch for early stopping).
    pub fn validation(mut self, rows: &'a Dataset) -> Self {
        self.validation = Some(rows);
        self
    }

    /// Validation rows when there are any.
    pub fn validation_if_any(mut self, rows: Option<&'a Dataset>) -> Self {
        self.validation = rows;
        self
    }

    /// Receives progress and checkpoints, and may ask to stop.
    pub fn observer(mut self, observer: &'a mut dyn Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Continues from a checkpoint: its weights, optimiser state, position and history, so the
    /// run ends exactly as an uninterrupted one would (same data, seed and thread count).
    pub fn resume(mut self, checkpoint: Option<Checkpoint>) -> Self {
        self.resume = checkpoint;
        self
    }

    /// Trains `network` on `data`.
    ///
    /// On x86-64 the run computes with subnormal numbers (below 1.2·10⁻³⁸ in magnitude) flushed
    /// to zero, on this thread and the helpers, and restores the thread's mode after; see
    /// `kernels/subnormals.rs` for why.
    ///
    /// # Errors
    /// A config that does not validate, data that does not fit the network or has no targets,
    /// early stopping without validation rows, a checkpoint that does not fit, an observer's
    /// error, or [`Error::Anomaly`] when NaN/∞ stops the run.
    pub fn run(self, network: &mut Network<f32>, data: &Dataset) -> Result<TrainOutcome> {
        let config = self.config;
        config.validate()?;
        if !data.is_labelled() {
            return Err(Error::invalid(
                "training data",
                "needs at least one row, and a target for every row",
            ));
        }
        if data.feature_count() != network.config().inputs {
            return Err(Error::invalid(
                "training data",
                format!(
                    "{} features per row, the network takes {}",
                    data.feature_count(),
                    network.config().inputs
                ),
            ));
        }
        if network.head().loss().reduction == Reduction::None {
            return Err(Error::invalid(
                "reduction",
                "training needs a scalar loss: use mean, batch-mean or sum",
            ));
        }
        data.labels.check_for(network.head().loss().kind)?;
        if config.patience.is_some() && self.validation.is_none_or(Dataset::is_empty) {
            return Err(Error::invalid(
                "patience",
                "early stopping needs validation rows (--validation-split > 0)",
            ));
        }
        network.set_threads(config.threads);
        network.set_precision(config.precision);
        let mut silent = Silent;
        let observer = match self.observer {
            Some(observer) => observer,
            None => &mut silent,
        };
        // Subnormal values are 0 while the run lasts: an L2 penalty drives the weights of an
        // input that is always 0 through them, and they slow every step (kernels::subnormals).
        let _flush = crate::kernels::subnormals::FlushSubnormals::new();
        run::run(
            network,
            data,
            self.validation,
            config,
            observer,
            self.resume,
            self.ranks.filter(|r| r.size() > 1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::data::{Synthetic, generate};
    use crate::init::Init;
    use crate::loss::{LossConfig, LossInput, LossKind};
    use crate::metrics::evaluate;
    use crate::network::NetworkConfig;

    fn setup() -> (Network<f32>, Dataset, TrainConfig) {
        let data = generate(Synthetic::Moons, 400, 0.1, 3).unwrap();
        let network = Network::new(
            NetworkConfig {
                inputs: 2,
                hidden: vec![16],
                hidden_activation: Activation::Relu,
                outputs: 2,
                output_activation: Activation::Softmax,
                loss: LossConfig::new(LossKind::CrossEntropy, LossInput::Probabilities),
                init: Init::Auto,
                allow_unsafe: false,
            },
            1,
        )
        .unwrap();
        let config = TrainConfig::default()
            .learning_rate(0.01)
            .epochs(30)
            .seed(5)
            .threads(1);
        (network, data, config)
    }

    /// A run computes with subnormal results flushed to 0, on the caller (where observers run)
    /// and on the helpers, and leaves the caller's mode as it found it.
    #[test]
    fn a_run_flushes_subnormals_and_restores_the_mode_after() {
        use std::hint::black_box;
        struct Probe(Vec<f32>);
        impl Observer for Probe {
            fn batch_finished(&mut self, _loss: f64, _rows: usize) {
                self.0.push(black_box(f32::MIN_POSITIVE) * black_box(0.5));
            }
        }
        let (mut network, data, config) = setup();
        let config = config.epochs(1).threads(2);
        let mut probe = Probe(Vec::new());
        Trainer::new(&config)
            .observer(&mut probe)
            .run(&mut network, &data)
            .unwrap();
        assert!(!probe.0.is_empty());
        if cfg!(target_arch = "x86_64") {
            assert!(probe.0.iter().all(|x| *x == 0.0), "{:?}", probe.0);
        }
        let after = black_box(f32::MIN_POSITIVE) * black_box(0.5);
        assert!(after > 0.0, "the caller's mode is restored");
    }

    #[test]
    fn training_learns_moons_and_is_reproducible() {
        let (mut a, data, config) = setup();
        let mut b = a.clone();
        let outcome = train(&mut a, &data, &config).unwrap();
        train(&mut b, &data, &config).unwrap();
        assert_eq!(
            a.layers(),
            b.layers(),
            "same seed and threads, same weights"
        );
        let first = outcome.history[0].train_loss;
        let last = outcome.history.last().unwrap().train_loss;
        assert!(last < first / 3.0, "loss {first} → {last}");
        let accuracy = evaluate(&a, &data).unwrap().accuracy().unwrap();
        assert!(accuracy > 0.95, "{accuracy}");
    }

    #[test]
    fn early_stopping_keeps_the_best_weights() {
        let (mut network, data, mut config) = setup();
        config.patience = Some(2);
        config.epochs = 200;
        config.optimizer.learning_rate = 0.05;
        let validation = generate(Synthetic::Moons, 100, 0.3, 9).unwrap();
        let outcome = Trainer::new(&config)
            .validation(&validation)
            .run(&mut network, &data)
            .unwrap();
        let best = outcome.best_epoch.unwrap();
        assert!(
            outcome.stopped_early,
            "200 epochs at lr 0.05 should overfit noisy moons"
        );
        assert_eq!(outcome.history.len(), best + 2);
        let best_loss = outcome.history[best - 1].validation_loss.unwrap();
        let now = evaluate(&network, &validation).unwrap().loss;
        assert!(
            (now - best_loss).abs() < 1e-9,
            "restored {now} vs best {best_loss}"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let (mut network, data, mut config) = setup();
        config.batch_size = 0;
        assert!(
            train(&mut network, &data, &config)
                .unwrap_err()
                .to_string()
                .contains("batch size")
        );
        config.batch_size = 8;
        config.patience = Some(3);
        assert!(
            train(&mut network, &data, &config)
                .unwrap_err()
                .to_string()
                .contains("validation")
        );
    }
}
