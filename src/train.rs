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
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::loss::{Reduction, Targets};
use crate::metrics::evaluate;
use crate::network::{Gradients, Network, Workspace};
use crate::optim::{Optimizer, OptimizerConfig, OptimizerState};
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
}

impl TrainConfig {
    /// Sensible defaults for everything but the optimiser, batch, epochs and seed.
    pub fn new(optimizer: OptimizerConfig, batch_size: usize, epochs: usize, seed: u64) -> Self {
        TrainConfig {
            optimizer,
            schedule: Schedule::Constant,
            batch_size,
            epochs,
            seed,
            threads: 1,
            patience: None,
            clip_grad_norm: None,
            check_every: DEFAULT_CHECK_EVERY,
            checkpoint_every: None,
            stop_on_faults: true,
        }
    }
}

/// The default interval of the activation and gradient checks.
pub const DEFAULT_CHECK_EVERY: usize = 100;

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

/// What one epoch did (one line of `--metrics`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// A checkpoint is due (every `checkpoint_every` steps, and the last good state when a
    /// numerical fault stops the run): write it somewhere.
    fn checkpoint(&mut self, _checkpoint: &Checkpoint) -> Result<()> {
        Ok(())
    }
}

/// Where a run stands, apart from the weights and optimiser buffers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// The current epoch, 0-based.
    pub epoch: usize,
    /// Batches of the current epoch already taken.
    pub step: usize,
    /// Steps taken in all.
    pub global_step: u64,
    /// Σ loss · rows over the current epoch's batches so far.
    pub epoch_loss_total: f64,
    /// Reports of the finished epochs.
    pub history: Vec<EpochReport>,
    /// Lowest validation loss so far and its epoch (early stopping).
    pub best: Option<(f64, usize)>,
}

/// Everything needed to continue a run exactly where it stood.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Position and history.
    pub state: TrainState,
    /// The network's parameters.
    pub layers: Vec<Dense<f32>>,
    /// The optimiser's state.
    pub optimizer: OptimizerState<f32>,
    /// The weights of the best epoch so far (early stopping).
    pub best_layers: Option<Vec<Dense<f32>>>,
}

/// A numerical fault: where training found NaN or ∞.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps taken in all, this one included.
    pub global_step: u64,
    /// What held the bad value ("the loss", "layer 2 pre-activations", …).
    pub place: String,
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
    train_from(network, train, validation, config, observer, None)
}

/// [`train`], continuing from `resume` when given: the weights, optimiser state, position in
/// the epoch and history of a checkpoint, so that the run ends exactly as an uninterrupted one
/// (same seed and thread count).
pub fn train_from(
    network: &mut Network<f32>,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    observer: &mut dyn Observer,
    resume: Option<Checkpoint>,
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
    pool.install(|| run(network, train, validation, config, observer, resume))
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
    rows: usize,
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
            rows: 0,
        })
    }

    /// The optimiser (for schedules and checkpoints).
    pub fn optimizer_mut(&mut self) -> &mut Optimizer<f32> {
        &mut self.optimizer
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &Optimizer<f32> {
        &self.optimizer
    }

    /// One step on the rows `rows` of the data: returns the batch loss.
    pub fn step(&mut self, network: &mut Network<f32>, rows: &[usize]) -> Result<f64> {
        let loss = self.gradients_for(network, rows)?;
        self.apply(network, None);
        Ok(loss)
    }

    /// Forward and backward on the rows `rows`: the batch loss, with the gradients kept for
    /// [`Stepper::apply`].
    pub fn gradients_for(&mut self, network: &Network<f32>, rows: &[usize]) -> Result<f64> {
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
        crate::kernels::elementwise::gather_rows(source, width, rows, batch);
        for (label, &i) in self.batch_labels.iter_mut().zip(rows) {
            *label = self.data.labels[i] as i64;
        }
        self.rows = n;
        Ok(network
            .loss_and_gradients(
                self.batch_features.slice(s![..n, ..]),
                &Targets::Classes(&self.batch_labels[..n]),
                &mut self.workspace,
                &mut self.gradients,
            )?
            .total())
    }

    /// Clips the gradients to a global L2 norm of `clip` when given, then updates the
    /// parameters. Returns the gradients' norm before clipping when it was computed.
    pub fn apply(&mut self, network: &mut Network<f32>, clip: Option<f64>) -> Option<f64> {
        let norm = clip.map(|max| {
            let norm = self.gradients.norm();
            let coefficient = max / (norm + 1e-6);
            if coefficient < 1.0 {
                self.gradients.scale(coefficient as f32);
            }
            norm
        });
        self.optimizer.step(network, &self.gradients);
        norm
    }

    /// The first place holding NaN or ∞ after [`Stepper::gradients_for`]: pre-activations and
    /// activations of each layer, then each layer's gradients.
    pub fn fault(&self, network: &Network<f32>) -> Option<String> {
        let finite = |values: ndarray::ArrayView2<f32>| values.iter().all(|v| v.is_finite());
        for l in 0..network.layers().len() {
            if !finite(self.workspace.pre_activations(l, self.rows)) {
                return Some(format!("layer {} pre-activations z", l + 1));
            }
            if l + 1 < network.layers().len() && !finite(self.workspace.activations(l, self.rows)) {
                return Some(format!("layer {} activations a", l + 1));
            }
        }
        for (l, g) in self.gradients.layers.iter().enumerate() {
            if !g.weights.iter().chain(&g.bias).all(|v| v.is_finite()) {
                return Some(format!("layer {} gradients (∂C/∂W or ∂C/∂b)", l + 1));
            }
        }
        None
    }
}

fn run(
    network: &mut Network<f32>,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    observer: &mut dyn Observer,
    resume: Option<Checkpoint>,
) -> Result<TrainOutcome> {
    let rows = train.len();
    let batch = config.batch_size.min(rows);
    let mut stepper = Stepper::new(network, train, config.optimizer.clone(), batch)?;
    let summed = network.head().loss().reduction == Reduction::Sum;
    let validation = validation.filter(|v| !v.is_empty());

    let mut state = TrainState::default();
    let mut best_layers: Option<Vec<Dense<f32>>> = None;
    if let Some(checkpoint) = resume {
        if checkpoint.layers.len() != network.layers().len()
            || checkpoint
                .layers
                .iter()
                .zip(network.layers())
                .any(|(a, b)| a.weights.dim() != b.weights.dim())
        {
            return Err(Error::invalid(
                "checkpoint",
                "its layers do not fit this network",
            ));
        }
        network.layers_mut().clone_from_slice(&checkpoint.layers);
        stepper.optimizer_mut().restore(&checkpoint.optimizer)?;
        state = checkpoint.state;
        best_layers = checkpoint.best_layers;
    }
    // The last state known to be free of NaN/∞, written out if a fault stops the run.
    let mut good = Checkpoint {
        state: state.clone(),
        layers: network.layers().to_vec(),
        optimizer: stepper.optimizer().state(),
        best_layers: best_layers.clone(),
    };
    let mut stopped_early = false;
    while state.epoch < config.epochs {
        let epoch = state.epoch;
        let learning_rate =
            config
                .schedule
                .learning_rate(config.optimizer.learning_rate, epoch, config.epochs);
        stepper.optimizer_mut().set_learning_rate(learning_rate);
        let order = epoch_order(rows, config.seed, epoch);
        observer.epoch_started(epoch + 1, config.epochs, rows.div_ceil(batch));
        let started = Instant::now();
        for chunk in order.chunks(batch).skip(state.step) {
            let due =
                config.stop_on_faults && (state.global_step + 1) % config.check_every as u64 == 0;
            let (loss, fault) = match stepper.gradients_for(network, chunk) {
                // Forward order: the first layer holding NaN/∞ is the most telling; the loss
                // alone when the layers were not checked this step.
                Ok(loss) => (
                    loss,
                    if due { stepper.fault(network) } else { None }.or_else(|| {
                        (config.stop_on_faults && !loss.is_finite())
                            .then(|| "the loss (check every step with --detect-anomalies to find the layer)".to_string())
                    }),
                ),
                // The loss refuses non-finite outputs: that is a fault in the layers before it.
                Err(error) => match stepper.fault(network).filter(|_| config.stop_on_faults) {
                    Some(place) => (f64::NAN, Some(place)),
                    None => return Err(error),
                },
            };
            if let Some(place) = fault {
                observer.checkpoint(&good)?;
                return Err(Error::Anomaly(Box::new(Anomaly {
                    epoch: epoch + 1,
                    step: state.step + 1,
                    global_step: state.global_step + 1,
                    place,
                })));
            }
            if due {
                // Checked clean before its update: this state is good.
                good.state.clone_from(&state);
                for (target, source) in good.layers.iter_mut().zip(network.layers()) {
                    target.weights.assign(&source.weights);
                    target.bias.assign(&source.bias);
                }
                stepper.optimizer().state_into(&mut good.optimizer);
                good.best_layers.clone_from(&best_layers);
            }
            stepper.apply(network, config.clip_grad_norm);
            state.epoch_loss_total += if summed {
                loss
            } else {
                loss * chunk.len() as f64
            };
            state.step += 1;
            state.global_step += 1;
            observer.batch_finished(loss, chunk.len());
            if let Some(every) = config.checkpoint_every
                && state.global_step % every as u64 == 0
            {
                observer.checkpoint(&Checkpoint {
                    state: state.clone(),
                    layers: network.layers().to_vec(),
                    optimizer: stepper.optimizer().state(),
                    best_layers: best_layers.clone(),
                })?;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let evaluation = validation.map(|v| evaluate(network, v, 1024)).transpose()?;
        let report = EpochReport {
            epoch: epoch + 1,
            train_loss: state.epoch_loss_total / rows as f64,
            validation_loss: evaluation.as_ref().map(|e| e.loss),
            validation_accuracy: evaluation.as_ref().map(|e| e.accuracy),
            learning_rate,
            seconds,
            samples_per_second: rows as f64 / seconds.max(1e-9),
        };
        observer.epoch_finished(&report);
        state.history.push(report);
        state.epoch += 1;
        state.step = 0;
        state.epoch_loss_total = 0.0;

        if let (Some(patience), Some(evaluation)) = (config.patience, &evaluation) {
            let improved = state.best.is_none_or(|(loss, _)| evaluation.loss < loss);
            if improved {
                state.best = Some((evaluation.loss, epoch + 1));
                best_layers = Some(network.layers().to_vec());
            } else if state.best.is_some_and(|(_, at)| epoch + 1 - at >= patience) {
                stopped_early = epoch + 1 < config.epochs;
                break;
            }
        }
    }
    let best_epoch = state.best.map(|(_, epoch)| epoch);
    if let Some(layers) = best_layers {
        network.layers_mut().clone_from_slice(&layers);
    }
    Ok(TrainOutcome {
        history: state.history,
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
            clip_grad_norm: None,
            check_every: crate::train::DEFAULT_CHECK_EVERY,
            checkpoint_every: None,
            stop_on_faults: true,
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
