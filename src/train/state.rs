//! What a run reports and keeps: epoch reports, the observer that receives them, the state a
//! checkpoint holds, numerical faults, and the outcome.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::layer::Dense;
use crate::optim::OptimizerState;

/// What one epoch did (one line of `--metrics`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (per example).
    pub train_loss: f64,
    /// The share of training rows classified right as the epoch went (each batch before its
    /// update, as Keras reports it); class and distribution targets only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_accuracy: Option<f64>,
    /// Loss on the validation rows after the epoch.
    pub validation_loss: Option<f64>,
    /// Accuracy on the validation rows after the epoch.
    pub validation_accuracy: Option<f64>,
    /// Micro-F1 on the validation rows (multi-label targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_micro_f1: Option<f64>,
    /// R² on the validation rows (regression targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_r2: Option<f64>,
    /// The learning rate used.
    pub learning_rate: f64,
    /// Seconds of the training pass (validation excluded).
    pub seconds: f64,
    /// Training rows per second.
    pub samples_per_second: f64,
    /// Data-parallel runs: the mean time per step spent combining the ranks' gradients
    /// (gathering them and summing), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_ms_per_step: Option<f64>,
}

impl EpochReport {
    /// The report's line, for a run of `epochs` epochs:
    ///
    /// ```text
    /// epoch  3/20  train loss 0.1234  train acc 0.9712  val loss 0.2345  val acc 0.9611  lr 1.000e-3  48 ms  25000 samples/s
    /// ```
    /// (`val F1` for multi-label targets, `val R²` for regression; seconds from 1 s up).
    pub fn line(&self, epochs: usize) -> String {
        let width = epochs.to_string().len();
        let mut line = format!(
            "epoch {:>width$}/{epochs}  train loss {:.4}",
            self.epoch, self.train_loss
        );
        if let Some(accuracy) = self.train_accuracy {
            line.push_str(&format!("  train acc {accuracy:.4}"));
        }
        if let Some(loss) = self.validation_loss {
            line.push_str(&format!("  val loss {loss:.4}"));
        }
        for (name, value) in [
            ("val acc", self.validation_accuracy),
            ("val F1", self.validation_micro_f1),
            ("val R²", self.validation_r2),
        ] {
            if let Some(value) = value {
                line.push_str(&format!("  {name} {value:.4}"));
            }
        }
        line.push_str(&format!(
            "  lr {:.3e}  {}  {:.0} samples/s",
            self.learning_rate,
            duration(self.seconds),
            self.samples_per_second
        ));
        if let Some(ms) = self.combine_ms_per_step {
            line.push_str(&format!("  combining {ms:.3} ms/step"));
        }
        line
    }
}

/// "48 ms" below a second, "1.25 s" from one second up.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

/// Receives progress while training runs (progress bars, metric files, a stop request).
pub trait Observer: Send {
    /// An epoch begins.
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A batch finished with this loss.
    fn batch_finished(&mut self, _loss: f64, _rows: usize) {}
    /// An epoch finished.
    fn epoch_finished(&mut self, _report: &EpochReport) {}
    /// The network as an epoch left it (after [`Observer::epoch_finished`]), to inspect.
    fn epoch_network(&mut self, _network: &crate::network::Network<f32>) {}
    /// A checkpoint is due (every `checkpoint_every` steps, and the last good state when a
    /// numerical fault stops the run): write it somewhere.
    fn checkpoint(&mut self, _checkpoint: &Checkpoint) -> Result<()> {
        Ok(())
    }
    /// Asked after every step: true ends the run there (Ctrl-C, a Python KeyboardInterrupt),
    /// after a checkpoint of the state reached.
    fn stop_requested(&mut self) -> bool {
        false
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
    /// Rows classified right in the current epoch's batches so far.
    #[serde(default)]
    pub epoch_correct: usize,
    /// Reports of the finished epochs.
    pub history: Vec<EpochReport>,
    /// Lowest validation loss so far and its epoch (early stopping).
    pub best: Option<(f64, usize)>,
    /// The shuffle window the run took its rows in (0: every row; see
    /// [`super::TrainConfig::shuffle_window`]), once it has started: a resumed run keeps it
    /// where its config leaves the choice to nabla, even on a machine where the rows would
    /// otherwise be placed elsewhere, so that it continues the same order.
    #[serde(default)]
    pub shuffle_window: Option<usize>,
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

impl Checkpoint {
    /// The run as it stands: its state, the network's parameters, the optimiser's state and
    /// the early-stopping copy, each copied.
    pub(crate) fn of(
        state: &TrainState,
        network: &crate::network::Network<f32>,
        optimizer: &crate::optim::Optimizer<f32>,
        best_layers: &Option<Vec<Dense<f32>>>,
    ) -> Checkpoint {
        Checkpoint {
            state: state.clone(),
            layers: network.layers().to_vec(),
            optimizer: optimizer.state(),
            best_layers: best_layers.clone(),
        }
    }

    /// Checks that the checkpoint's layers (and its early-stopping copy) have the network's
    /// shapes, so that restoring it cannot fail half-way.
    ///
    /// # Errors
    /// The first part that does not fit, with both shapes.
    pub fn fits(&self, network: &crate::network::Network<f32>) -> Result<()> {
        let parts = std::iter::once(("its layers", &self.layers)).chain(
            self.best_layers
                .iter()
                .map(|b| ("its best-epoch layers", b)),
        );
        for (what, layers) in parts {
            if layers.len() != network.layers().len() {
                return Err(crate::Error::invalid(
                    "checkpoint",
                    format!(
                        "{what}: {} layers, the network has {}",
                        layers.len(),
                        network.layers().len()
                    ),
                ));
            }
            for (l, (saved, own)) in layers.iter().zip(network.layers()).enumerate() {
                if saved.weights.dim() != own.weights.dim() || saved.bias.len() != own.bias.len() {
                    return Err(crate::Error::invalid(
                        "checkpoint",
                        format!(
                            "{what}: layer {l} is {:?} + {}, the network's is {:?} + {}",
                            saved.weights.dim(),
                            saved.bias.len(),
                            own.weights.dim(),
                            own.bias.len()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
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
    /// Whether the observer asked to stop ([`Observer::stop_requested`]); the last
    /// checkpoint handed to it holds where the run stood.
    pub interrupted: bool,
    /// Where the run ended (weights, optimiser state, position, history): resuming from it
    /// continues the run for more epochs with the optimiser's state intact, on the same rows or
    /// new ones (scikit-learn's `partial_fit` and `warm_start`).
    pub end: Checkpoint,
}
