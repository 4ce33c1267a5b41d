//! What a scikit-learn-style estimator does at `fit` and `partial_fit`, with scikit-learn's
//! meanings: the Python package's `nabla.MLPClassifier` and `nabla.MLPRegressor` are thin
//! shells over [`fit_estimator`].
//!
//! ```text
//! alpha                 L2 penalty α·‖W‖²/(2B) per batch of B rows: weight decay α/B on the
//!                       weights (not the biases), added to the gradient, as scikit-learn does
//! batch_size            None: min(200, rows)
//! tol, n_iter_no_change stop when the training loss has not fallen by tol (or, with early
//!                       stopping, the validation score has not risen by tol) for more than
//!                       n_iter_no_change epochs in a row
//! early_stopping        validation_fraction of the rows (stratified for classes) held out; the
//!                       weights of the best validation score are kept
//! partial_fit           one more epoch on the rows given, the optimiser's state kept
//! ```
//! Regression targets are standardised with the training rows (as `nabla train` does); the
//! model predicts in the targets' own units.

use crate::activation::Activation;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::loss::{LossInput, LossKind};
use crate::model::Model;
use crate::network::{Network, NetworkConfig};
use crate::optim::OptimizerConfig;
use crate::prepare::{SplitConfig, split_parts};
use crate::preprocess::Normalization;
use crate::train::{Checkpoint, EpochReport, Observer, TrainConfig, Trainer};

/// An estimator's settings, in scikit-learn's terms where it has them.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimatorSpec {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// The hidden activation.
    pub activation: Activation,
    /// The output activation [default: the task's sound one].
    pub output_activation: Option<Activation>,
    /// The loss [default: the task's].
    pub loss: Option<LossKind>,
    /// What the loss reads the outputs as [default: as `nabla train`].
    pub from: Option<LossInput>,
    /// The optimiser: its kind, rate, momentum (SGD only, as in scikit-learn), betas and ε.
    pub optimizer: OptimizerConfig,
    /// scikit-learn's alpha: the L2 penalty.
    pub alpha: f64,
    /// Rows per batch [default: min(200, rows)].
    pub batch_size: Option<usize>,
    /// Epochs at most.
    pub max_iter: usize,
    /// Shuffle the rows every epoch.
    pub shuffle: bool,
    /// Seed of the weights, the shuffles and the validation split.
    pub seed: u64,
    /// The improvement that counts (see the module docs).
    pub tol: f64,
    /// Hold out validation rows and keep the best weights.
    pub early_stopping: bool,
    /// The share of rows held out with early stopping.
    pub validation_fraction: f64,
    /// Epochs without improvement tolerated.
    pub n_iter_no_change: usize,
    /// Label smoothing ε of categorical cross-entropy.
    pub label_smoothing: f64,
    /// A weight per class.
    pub class_weight: Option<Vec<f64>>,
    /// Threads [default: the machine's].
    pub threads: Option<usize>,
}

impl Default for EstimatorSpec {
    /// scikit-learn's MLPClassifier defaults: one hidden layer of 100 ReLU units, Adam at
    /// 0.001, alpha 1e-4, 200 epochs, tol 1e-4, 10 epochs without change.
    fn default() -> Self {
        EstimatorSpec {
            hidden: vec![100],
            activation: Activation::Relu,
            output_activation: None,
            loss: None,
            from: None,
            optimizer: OptimizerConfig::default_for(crate::optim::OptimizerKind::Adam),
            alpha: 1e-4,
            batch_size: None,
            max_iter: 200,
            shuffle: true,
            seed: 0,
            tol: 1e-4,
            early_stopping: false,
            validation_fraction: 0.1,
            n_iter_no_change: 10,
            label_smoothing: 0.0,
            class_weight: None,
            threads: None,
        }
    }
}

impl EstimatorSpec {
    /// The optimiser as training uses it: momentum and Nesterov's only with SGD (scikit-learn
    /// reads `momentum` and `nesterovs_momentum` only when `solver='sgd'`).
    fn optimizer(&self) -> OptimizerConfig {
        let mut optimizer = self.optimizer.clone();
        if optimizer.kind != crate::optim::OptimizerKind::Sgd {
            optimizer.momentum = 0.0;
            optimizer.nesterov = false;
        }
        optimizer
    }
}

/// A fitted estimator: the model, where training stood, and scikit-learn's fitted numbers.
#[derive(Clone, Debug)]
pub struct Fitted {
    /// The model (with the best weights when early stopping chose them).
    pub model: Model,
    /// Where training stood, to continue it (`partial_fit`, `warm_start`).
    pub end: Checkpoint,
    /// The mean training loss of each epoch (scikit-learn's `loss_curve_`).
    pub loss_curve: Vec<f64>,
    /// The validation score of each epoch with early stopping: accuracy, micro-F1 or R².
    pub validation_scores: Vec<f64>,
    /// The lowest training loss (without early stopping).
    pub best_loss: Option<f64>,
    /// The best validation score (with early stopping).
    pub best_validation_score: Option<f64>,
    /// Epochs run in all (scikit-learn's `n_iter_`).
    pub epochs: usize,
    /// Whether the tol criterion ended training before max_iter.
    pub converged: bool,
}

/// What happens at the end of an epoch: scikit-learn's stopping rule, and the best weights.
struct Stopping<'a> {
    early_stopping: bool,
    tol: f64,
    patience: usize,
    best: Option<f64>,
    without_change: usize,
    best_layers: Option<Vec<Dense<f32>>>,
    new_best: bool,
    converged: bool,
    scores: Vec<f64>,
    interrupt: &'a mut (dyn FnMut() -> bool + Send),
    interrupted: bool,
}

fn score(report: &EpochReport) -> Option<f64> {
    report
        .validation_accuracy
        .or(report.validation_micro_f1)
        .or(report.validation_r2)
}

impl Observer for Stopping<'_> {
    fn epoch_finished(&mut self, report: &EpochReport) {
        // Higher is better for a validation score; lower for the training loss.
        let value = if self.early_stopping {
            let Some(score) = score(report) else { return };
            self.scores.push(score);
            score
        } else {
            -report.train_loss
        };
        let improved = self.best.is_none_or(|best| value > best + self.tol);
        if improved {
            self.without_change = 0;
        } else {
            self.without_change += 1;
        }
        self.new_best = self.best.is_none_or(|best| value > best);
        if self.new_best {
            self.best = Some(value);
        }
        if self.without_change > self.patience {
            self.converged = true;
        }
    }

    fn epoch_network(&mut self, network: &Network<f32>) {
        if self.early_stopping && self.new_best {
            self.best_layers = Some(network.layers().to_vec());
        }
    }

    fn stop_requested(&mut self) -> bool {
        if (self.interrupt)() {
            self.interrupted = true;
        }
        self.interrupted || self.converged
    }
}

/// Trains an estimator on `data` (classes, multi-label, distributions or regression values),
/// for `spec.max_iter` epochs or one (`partial`), continuing `previous` when given; `interrupt`
/// is asked after every step (a Python KeyboardInterrupt) and ends training with
/// [`Error::Interrupted`].
///
/// # Errors
/// Settings nabla refuses (an unsound pairing, a bad optimiser setting), data without targets
/// or with a different shape than `previous`, an interrupt, or a numerical fault.
pub fn fit_estimator(
    spec: &EstimatorSpec,
    data: Dataset,
    previous: Option<&Fitted>,
    partial: bool,
    interrupt: &mut (dyn FnMut() -> bool + Send),
) -> Result<Fitted> {
    if data.is_empty() || !data.is_labelled() {
        return Err(Error::invalid(
            "y",
            "fit needs at least one row with its target",
        ));
    }
    // A NaN tolerance compares false with every loss, so training stopped after
    // n_iter_no_change epochs as if converged; a negative one never stops it.
    if !(spec.tol.is_finite() && spec.tol >= 0.0) {
        return Err(Error::invalid(
            "tol",
            format!("{} is not a finite number ≥ 0", spec.tol),
        ));
    }
    let early_stopping = spec.early_stopping && !partial;
    let (mut train, mut validation) = if early_stopping {
        let split = SplitConfig {
            validation: spec.validation_fraction,
            test: 0.0,
            ..SplitConfig::default()
        };
        let parts = split_parts(data, None, &split, spec.seed)?;
        (parts.train, parts.validation)
    } else {
        (data, None)
    };
    // Regression targets standardised with the training rows (or kept from `previous`).
    let target_normalization = match previous {
        Some(previous) => previous.model.target_normalization.clone(),
        None => train.target_standardization()?,
    };
    if let Some(targets) = &target_normalization {
        for part in std::iter::once(&mut train).chain(validation.iter_mut()) {
            part.normalize_targets(targets)?;
        }
    }
    let mut network = match previous {
        Some(previous) => {
            let network = previous.model.network.clone();
            if network.config().inputs != train.feature_count() {
                return Err(Error::invalid(
                    "X",
                    format!(
                        "{} features per row, but the estimator was fitted with {}",
                        train.feature_count(),
                        network.config().inputs
                    ),
                ));
            }
            network
        }
        None => network_for(spec, &train)?,
    };
    let batch = spec.batch_size.unwrap_or(200).clamp(1, train.len());
    let done = previous.map_or(0, |p| p.epochs);
    let mut optimizer = spec.optimizer();
    optimizer.weight_decay = spec.alpha / batch as f64;
    optimizer.decay_biases = false;
    let mut config = TrainConfig::default()
        .optimizer(optimizer)
        .batch_size(batch)
        .epochs(done + if partial { 1 } else { spec.max_iter })
        .seed(spec.seed)
        .shuffle(spec.shuffle);
    if let Some(threads) = spec.threads {
        config = config.threads(threads);
    }
    let mut stopping = Stopping {
        early_stopping,
        tol: spec.tol,
        patience: spec.n_iter_no_change,
        best: None,
        without_change: 0,
        best_layers: None,
        new_best: false,
        converged: false,
        scores: previous
            .map(|p| p.validation_scores.clone())
            .unwrap_or_default(),
        interrupt,
        interrupted: false,
    };
    let outcome = Trainer::new(&config)
        .validation_if_any(validation.as_ref())
        .observer(&mut stopping)
        .resume(previous.map(|p| p.end.clone()))
        .run(&mut network, &train)?;
    if stopping.interrupted {
        return Err(Error::Interrupted);
    }
    if let Some(layers) = &stopping.best_layers {
        network.layers_mut().clone_from_slice(layers);
    }
    let mut model = Model::new(network, Normalization::None, &train);
    model.target_normalization = target_normalization;
    let loss_curve: Vec<f64> = outcome.history.iter().map(|r| r.train_loss).collect();
    let best_loss = (!early_stopping)
        .then(|| loss_curve.iter().copied().fold(f64::INFINITY, f64::min))
        .filter(|l| l.is_finite());
    Ok(Fitted {
        model,
        end: outcome.end,
        best_validation_score: stopping.scores.iter().copied().reduce(f64::max),
        validation_scores: stopping.scores,
        best_loss,
        epochs: outcome.history.len(),
        loss_curve,
        converged: stopping.converged,
    })
}

impl Fitted {
    /// A fitted estimator around a saved model (`nabla.load`, unpickling): its training may
    /// continue (`partial_fit`) with a fresh optimiser state under `spec`.
    ///
    /// # Errors
    /// An optimiser setting `spec` holds that nabla refuses.
    pub fn from_model(model: Model, spec: &EstimatorSpec) -> Result<Fitted> {
        let optimizer = crate::optim::Optimizer::new(spec.optimizer(), &model.network)?;
        let end = Checkpoint::of(
            &crate::train::TrainState::default(),
            &model.network,
            &optimizer,
            &None,
        );
        Ok(Fitted {
            model,
            end,
            loss_curve: Vec::new(),
            validation_scores: Vec::new(),
            best_loss: None,
            best_validation_score: None,
            epochs: 0,
            converged: false,
        })
    }
}

/// The network an estimator starts from: the data's shape, the spec's layers and head.
fn network_for(spec: &EstimatorSpec, data: &Dataset) -> Result<Network<f32>> {
    let mut builder = NetworkConfig::for_data(data)
        .hidden(spec.hidden.iter().copied())
        .hidden_activation(spec.activation);
    if let Some(output) = spec.output_activation {
        builder = builder.output(output);
    }
    if let Some(loss) = spec.loss {
        builder = builder.loss(loss);
    }
    if let Some(from) = spec.from {
        builder = builder.loss_input(from);
    }
    if spec.label_smoothing > 0.0 {
        builder = builder.label_smoothing(spec.label_smoothing);
    }
    if let Some(weights) = &spec.class_weight {
        builder = builder.class_weights(weights.clone());
    }
    builder.build(spec.seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Synthetic, generate};

    fn never() -> impl FnMut() -> bool + Send {
        || false
    }

    #[test]
    fn fit_stops_when_the_loss_stops_falling_and_partial_fit_continues() {
        let data = generate(Synthetic::Moons, 300, 0.1, 0).unwrap();
        let spec = EstimatorSpec {
            hidden: vec![16],
            threads: Some(1),
            max_iter: 2000,
            tol: 1e-3,
            ..EstimatorSpec::default()
        };
        let fitted = fit_estimator(&spec, data.clone(), None, false, &mut never()).unwrap();
        assert!(
            fitted.converged && fitted.epochs < 2000,
            "{} epochs",
            fitted.epochs
        );
        assert_eq!(fitted.loss_curve.len(), fitted.epochs);
        let accuracy = crate::metrics::evaluate(&fitted.model.network, &data)
            .unwrap()
            .accuracy()
            .unwrap();
        assert!(accuracy > 0.8, "{accuracy}");
        let more = fit_estimator(&spec, data, Some(&fitted), true, &mut never()).unwrap();
        assert_eq!(more.epochs, fitted.epochs + 1);
        assert_eq!(more.end.state.global_step, fitted.end.state.global_step + 2);
    }

    #[test]
    fn early_stopping_keeps_the_best_weights_and_scores() {
        let data = generate(Synthetic::Spirals, 300, 0.2, 0).unwrap();
        let spec = EstimatorSpec {
            hidden: vec![32],
            threads: Some(1),
            early_stopping: true,
            n_iter_no_change: 3,
            max_iter: 300,
            ..EstimatorSpec::default()
        };
        let fitted = fit_estimator(&spec, data, None, false, &mut never()).unwrap();
        assert_eq!(fitted.validation_scores.len(), fitted.epochs);
        assert!(fitted.best_validation_score.unwrap() >= *fitted.validation_scores.last().unwrap());
    }

    #[test]
    fn an_unsound_pairing_and_an_interrupt_are_errors() {
        let data = generate(Synthetic::Xor, 100, 0.1, 0).unwrap();
        let relu = EstimatorSpec {
            output_activation: Some(Activation::Relu),
            ..EstimatorSpec::default()
        };
        let error = fit_estimator(&relu, data.clone(), None, false, &mut never()).unwrap_err();
        assert!(error.to_string().contains("refused"), "{error}");
        let mut calls = 0;
        let mut stop = || {
            calls += 1;
            calls > 3
        };
        let spec = EstimatorSpec {
            threads: Some(1),
            ..EstimatorSpec::default()
        };
        let error = fit_estimator(&spec, data.clone(), None, false, &mut stop).unwrap_err();
        assert!(matches!(error, Error::Interrupted));
        // A NaN tol stopped training as if converged; a negative one would never stop it.
        for tol in [f64::NAN, -1e-4, f64::INFINITY] {
            let spec = EstimatorSpec {
                tol,
                ..EstimatorSpec::default()
            };
            let error = fit_estimator(&spec, data.clone(), None, false, &mut never()).unwrap_err();
            assert!(error.to_string().contains("tol"), "{error}");
        }
    }
}
