//! The training loop: seeded shuffles, mini-batches, optimiser steps, schedules, validation
//! and early stopping.
//!
//! Determinism: epoch e visits the rows in the order of a ChaCha8 shuffle seeded by (seed, e),
//! weights come from the seed (`init.rs`), and matrix products split work the same way for a
//! given thread count, so the same seed and thread count give the same run, bit for bit.

use std::time::Instant;

use ndarray::{Array2, s};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::loss::{Reduction, Targets};
use crate::metrics::evaluate;
use crate::network::{Gradients, Network, Workspace};
use crate::optim::{Optimizer, OptimizerConfig};
use crate::schedule::Schedule;

/// Mixed into the seed of the shuffles so they never share a stream with the weights.
const SHUFFLE_SALT: u64 = 0x5348_5546_464c_4521;

/// How to train.
#[derive(Clone, Debug, PartialEq)]
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
    /// Threads for the matrix products.
    pub threads: usize,
    /// Stop after this many epochs without a lower validation loss, keeping the best weights.
    pub patience: Option<usize>,
}

impl TrainConfig {
    /// Refuses zero batch sizes, epochs or threads.
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
        if self.patience == Some(0) {
            return Err(Error::invalid(
                "patience",
                "must be at least 1 epoch, got 0",
            ));
        }
        self.optimizer.validate()
    }
}

/// What one epoch did (one line of `--metrics`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (per example).
    pub train_loss: f64,
    /// Loss on the validation rows after the epoch.
    pub validation_loss: Option<f64>,
    /// Accuracy on the validation rows after the epoch.
    pub validation_accuracy: Option<f64>,
    /// The learning rate used.
    pub learning_rate: f64,
    /// Seconds of the training pass (validation excluded).
    pub seconds: f64,
    /// Training rows per second.
    pub samples_per_second: f64,
}

/// Receives progress while training runs (progress bars, metric files).
pub trait Observer: Send {
    /// An epoch begins.
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A batch finished with this loss.
    fn batch_finished(&mut self, _loss: f64, _rows: usize) {}
    /// An epoch finished.
    fn epoch_finished(&mut self, _report: &EpochReport) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}

/// The result of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOutcome {
    /// One report per epoch run.
    pub history: Vec<EpochReport>,
    /// The epoch whose weights were kept, when early stopping watched the validation loss.
    pub best_epoch: Option<usize>,
    /// Whether patience ran out before the last epoch.
    pub stopped_early: bool,
}

/// The row order of epoch `epoch`: a seeded shuffle of 0..rows.
pub fn epoch_order(rows: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SHUFFLE_SALT);
    rng.set_stream(epoch as u64);
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut rng);
    order
}

/// Trains `network` on `train`, validating on `validation` after each epoch.
pub fn train(
    network: &mut Network<f32>,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome> {
    config.validate()?;
    if !train.is_labelled() {
        return Err(Error::invalid(
            "training data",
            "needs at least one labelled row",
        ));
    }
    if train.feature_count() != network.config().inputs {
        return Err(Error::invalid(
            "training data",
            format!(
                "{} features per row, the network takes {}",
                train.feature_count(),
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
    if config.patience.is_some() && validation.is_none_or(Dataset::is_empty) {
        return Err(Error::invalid(
            "patience",
            "early stopping needs validation rows (--validation-split > 0)",
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| Error::invalid("threads", e.to_string()))?;
    network.set_threads(config.threads);
    pool.install(|| run(network, train, validation, config, observer))
}

/// One optimisation step at a time over rows of a data set: the rows are gathered into a
/// preallocated batch, then forward, backward and the optimiser's update run in buffers sized
/// once, so a step allocates nothing.
pub struct Stepper<'a> {
    data: &'a Dataset,
    optimizer: Optimizer<f32>,
    workspace: Workspace<f32>,
    gradients: Gradients<f32>,
    batch_features: Array2<f32>,
    batch_labels: Vec<i64>,
}

impl<'a> Stepper<'a> {
    /// Buffers for batches of up to `batch` rows of `data`, and a fresh optimiser.
    pub fn new(
        network: &Network<f32>,
        data: &'a Dataset,
        optimizer: OptimizerConfig,
        batch: usize,
    ) -> Result<Self> {
        let batch = batch.min(data.len()).max(1);
        crate::kernels::reserve_packing_buffers();
        Ok(Stepper {
            data,
            optimizer: Optimizer::new(optimizer, network)?,
            workspace: network.workspace(batch),
            gradients: network.zero_gradients(),
            batch_features: Array2::zeros((batch, data.feature_count())),
            batch_labels: vec![0; batch],
        })
    }

    /// The optimiser (for schedules).
    pub fn optimizer_mut(&mut self) -> &mut Optimizer<f32> {
        &mut self.optimizer
    }

    /// One step on the rows `rows` of the data: returns the batch loss.
    pub fn step(&mut self, network: &mut Network<f32>, rows: &[usize]) -> Result<f64> {
        let n = rows.len();
        let width = self.data.feature_count();
        let source = self
            .data
            .features
            .as_slice()
            .expect("data sets are kept in standard layout");
        let batch = self
            .batch_features
            .as_slice_mut()
            .expect("the batch buffer is standard layout");
        // Gathering random rows is memory-bound: the copies are split over the thread pool.
        batch[..n * width]
            .par_chunks_mut(width)
            .zip(rows.par_iter())
            .with_min_len(16)
            .for_each(|(row, &i)| row.copy_from_slice(&source[i * width..(i + 1) * width]));
        for (label, &i) in self.batch_labels.iter_mut().zip(rows) {
            *label = self.data.labels[i] as i64;
        }
        let loss = network
            .loss_and_gradients(
                self.batch_features.slice(s![..n, ..]),
                &Targets::Classes(&self.batch_labels[..n]),
                &mut self.workspace,
                &mut self.gradients,
            )?
            .total();
        self.optimizer.step(network, &self.gradients);
        Ok(loss)
    }
}

fn run(
    network: &mut Network<f32>,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome> {
    let rows = train.len();
    let batch = config.batch_size.min(rows);
    let mut stepper = Stepper::new(network, train, config.optimizer.clone(), batch)?;
    let summed = network.head().loss().reduction == Reduction::Sum;
    let validation = validation.filter(|v| !v.is_empty());

    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<(f64, usize, Vec<Dense<f32>>)> = None;
    let mut stopped_early = false;
    for epoch in 0..config.epochs {
        let learning_rate =
            config
                .schedule
                .learning_rate(config.optimizer.learning_rate, epoch, config.epochs);
        stepper.optimizer_mut().set_learning_rate(learning_rate);
        let order = epoch_order(rows, config.seed, epoch);
        observer.epoch_started(epoch + 1, config.epochs, rows.div_ceil(batch));
        let started = Instant::now();
        let mut loss_total = 0.0;
        for chunk in order.chunks(batch) {
            let loss = stepper.step(network, chunk)?;
            loss_total += if summed {
                loss
            } else {
                loss * chunk.len() as f64
            };
            observer.batch_finished(loss, chunk.len());
        }
        let seconds = started.elapsed().as_secs_f64();
        let evaluation = validation.map(|v| evaluate(network, v, 1024)).transpose()?;
        let report = EpochReport {
            epoch: epoch + 1,
            train_loss: loss_total / rows as f64,
            validation_loss: evaluation.as_ref().map(|e| e.loss),
            validation_accuracy: evaluation.as_ref().map(|e| e.accuracy),
            learning_rate,
            seconds,
            samples_per_second: rows as f64 / seconds.max(1e-9),
        };
        observer.epoch_finished(&report);
        history.push(report);

        if let (Some(patience), Some(evaluation)) = (config.patience, &evaluation) {
            let improved = best
                .as_ref()
                .is_none_or(|(loss, _, _)| evaluation.loss < *loss);
            if improved {
                best = Some((evaluation.loss, epoch + 1, network.layers().to_vec()));
            } else if best
                .as_ref()
                .is_some_and(|(_, at, _)| epoch + 1 - at >= patience)
            {
                stopped_early = epoch + 1 < config.epochs;
                break;
            }
        }
    }
    let best_epoch = best.map(|(_, epoch, layers)| {
        network.layers_mut().clone_from_slice(&layers);
        epoch
    });
    Ok(TrainOutcome {
        history,
        best_epoch,
        stopped_early,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::data::{Synthetic, generate};
    use crate::init::Init;
    use crate::loss::{LossConfig, LossInput, LossKind};
    use crate::network::NetworkConfig;
    use crate::optim::OptimizerKind;

    fn setup() -> (Network<f32>, Dataset, TrainConfig) {
        let data = generate(Synthetic::Moons, 400, 0.1, 3);
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
        let config = TrainConfig {
            optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
            schedule: Schedule::Constant,
            batch_size: 32,
            epochs: 30,
            seed: 5,
            threads: 1,
            patience: None,
        };
        (network, data, config)
    }

    #[test]
    fn training_learns_moons_and_is_reproducible() {
        let (mut a, data, config) = setup();
        let mut b = a.clone();
        let outcome = train(&mut a, &data, None, &config, &mut Silent).unwrap();
        train(&mut b, &data, None, &config, &mut Silent).unwrap();
        assert_eq!(
            a.layers(),
            b.layers(),
            "same seed and threads, same weights"
        );
        let first = outcome.history[0].train_loss;
        let last = outcome.history.last().unwrap().train_loss;
        assert!(last < first / 3.0, "loss {first} → {last}");
        let accuracy = evaluate(&a, &data, 100).unwrap().accuracy;
        assert!(accuracy > 0.95, "{accuracy}");
    }

    #[test]
    fn early_stopping_keeps_the_best_weights() {
        let (mut network, data, mut config) = setup();
        config.patience = Some(2);
        config.epochs = 200;
        config.optimizer.learning_rate = 0.05;
        let validation = generate(Synthetic::Moons, 100, 0.3, 9);
        let outcome = train(&mut network, &data, Some(&validation), &config, &mut Silent).unwrap();
        let best = outcome.best_epoch.unwrap();
        assert!(
            outcome.stopped_early,
            "200 epochs at lr 0.05 should overfit noisy moons"
        );
        assert_eq!(outcome.history.len(), best + 2);
        let best_loss = outcome.history[best - 1].validation_loss.unwrap();
        let now = evaluate(&network, &validation, 100).unwrap().loss;
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
            train(&mut network, &data, None, &config, &mut Silent)
                .unwrap_err()
                .to_string()
                .contains("batch size")
        );
        config.batch_size = 8;
        config.patience = Some(3);
        assert!(
            train(&mut network, &data, None, &config, &mut Silent)
                .unwrap_err()
                .to_string()
                .contains("validation")
        );
    }
}
