//! The epochs of a run: seeded shuffles, steps, the NaN/∞ checks, validation, early stopping,
//! checkpoints and stop requests.

use std::time::Instant;

use super::config::Allreduce;
use super::order::{DEFAULT_WINDOW_ROWS, epoch_plan};
use super::overlap::LayerReducer;
use super::ranks::share;
use super::state::{Anomaly, Checkpoint, EpochReport, Observer, TrainOutcome, TrainState};
use super::{Ranks, Stepper, TrainConfig};

/// The most epoch reports a run keeps in memory and in its checkpoints (the latest ones).
pub const MAX_HISTORY: usize = 10_000;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::loss::Reduction;
use crate::metrics::evaluate;
use crate::network::Network;

/// The epochs of a run (see [`super::Trainer::run`]); `config` is validated and the network's
/// threads set.
pub(super) fn run(
    network: &mut Network<f32>,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    observer: &mut dyn Observer,
    resume: Option<Checkpoint>,
    ranks: Option<&dyn Ranks>,
) -> Result<TrainOutcome> {
    let overlapped =
        ranks.filter(|r| config.allreduce.on(*r, config.threads) == Allreduce::Overlapped);
    let Some(ranks) = overlapped else {
        return epochs(
            network, train, validation, config, observer, resume, ranks, None,
        );
    };
    // Each layer's all-reduce on a thread of its own, in the caller's floating-point mode, for
    // the whole run.
    let sizes: Vec<usize> = network
        .layers()
        .iter()
        .map(Dense::parameter_count)
        .collect();
    let reducer = LayerReducer::new(&sizes, EXTRAS);
    let mode = crate::kernels::subnormals::mode();
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("nabla-allreduce".into())
            .spawn_scoped(scope, || {
                crate::kernels::subnormals::in_mode(mode, || reducer.serve(ranks))
            })
            .map_err(|e| {
                Error::invalid(
                    "threads",
                    format!("could not start the all-reduce thread: {e}"),
                )
            })?;
        let outcome = epochs(
            network,
            train,
            validation,
            config,
            observer,
            resume,
            Some(ranks),
            Some(&reducer),
        );
        reducer.stop();
        if thread.join().is_err() {
            return Err(Error::invalid(
                "allreduce",
                "the all-reduce thread panicked",
            ));
        }
        outcome
    })
}

/// The values summed beside the gradients in a data-parallel step: the loss, the correct rows,
/// a fault flag and a stop flag.
const EXTRAS: usize = 4;

/// [`run`]'s epochs; `reducer`: the communication thread that sums each layer's gradients
/// while the backward pass goes on (data-parallel runs whose ranks allow it).
#[allow(clippy::too_many_arguments)]
fn epochs(
    network: &mut Network<f32>,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &TrainConfig,
    observer: &mut dyn Observer,
    resume: Option<Checkpoint>,
    ranks: Option<&dyn Ranks>,
    reducer: Option<&LayerReducer>,
) -> Result<TrainOutcome> {
    let rows = train.len();
    let batch = config.batch_size.min(rows);
    let mut stepper = Stepper::new(network, train, config.optimizer.clone(), batch)?;
    let summed = network.head().loss().reduction == Reduction::Sum;
    let validation = validation.filter(|v| !v.is_empty());

    let mut state = TrainState::default();
    let mut best_layers: Option<Vec<Dense<f32>>> = None;
    if let Some(checkpoint) = resume {
        checkpoint.fits(network)?;
        network.layers_mut().clone_from_slice(&checkpoint.layers);
        stepper.optimizer_mut().restore(&checkpoint.optimizer)?;
        state = checkpoint.state;
        best_layers = checkpoint.best_layers;
    }
    // The last state known to be free of NaN/∞, written out if a fault stops the run.
    let mut good = Checkpoint::of(&state, network, stepper.optimizer(), &best_layers);
    let mut stopped_early = false;
    // Rows not in memory are shuffled within windows unless the config says otherwise; a
    // resumed run keeps the window it started with.
    let window = match (config.shuffle_window, state.shuffle_window) {
        (Some(rows), _) | (None, Some(rows)) => rows,
        (None, None) if !train.features.is_in_memory() => DEFAULT_WINDOW_ROWS,
        (None, None) => 0,
    };
    state.shuffle_window = Some(window);
    good.state.shuffle_window = Some(window);
    while state.epoch < config.epochs {
        let epoch = state.epoch;
        let learning_rate =
            config
                .schedule
                .learning_rate(config.optimizer.learning_rate, epoch, config.epochs);
        stepper.optimizer_mut().set_learning_rate(learning_rate);
        let (order, windows) = epoch_plan(rows, config.shuffle, config.seed, epoch, window);
        // Windows asked for from the disk so far (one ahead of the one being trained on).
        let mut asked = 0;
        observer.epoch_started(epoch + 1, config.epochs, rows.div_ceil(batch));
        let started = Instant::now();
        // Rows trained in this process this epoch: a resumed epoch's throughput counts only
        // the steps it ran.
        let mut rows_run = 0usize;
        let mut chunks = order.chunks(batch).skip(state.step).peekable();
        // This rank's rows of a batch (all of them in one process).
        let own = |chunk: &'_ [usize]| -> std::ops::Range<usize> {
            match ranks {
                Some(r) => share(chunk.len(), r.rank(), r.size()),
                None => 0..chunk.len(),
            }
        };
        let mut position = state.step * batch;
        while let Some(chunk) = chunks.next() {
            let current = windows.partition_point(|w| w.start <= position);
            while asked < windows.len() && asked <= current {
                for block in &windows[asked].blocks {
                    train.features.prefetch(block.clone());
                }
                asked += 1;
            }
            position += chunk.len();
            let mine = &chunk[own(chunk)];
            // The next step's rows, gathered while this step's last layer runs.
            let next = chunks.peek().map(|next| &next[own(next)]);
            // The first step is checked too: a fault there (NaN data, a huge rate) would
            // otherwise train on hidden behind ReLU, which maps NaN to 0.
            let due = config.stop_on_faults
                && (state.global_step == 0
                    || (state.global_step + 1) % config.check_every as u64 == 0);
            // Each rank's gradients count nᵣ/B of a mean (1 of a sum).
            let weight = if summed {
                1.0
            } else {
                mine.len() as f64 / chunk.len() as f64
            };
            let computed = if mine.is_empty() {
                Ok(0.0)
            } else {
                stepper.gradients_sending(network, mine, next, reducer.map(|r| (r, weight)))
            };
            let (mut loss, mut fault) = match computed {
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
            // Data-parallel: the batch's gradients, loss, correct rows and flags, from every
            // rank's share, the same on every rank.
            let mut combined = None;
            if let Some(ranks) = ranks {
                let correct = if mine.is_empty() {
                    0
                } else {
                    stepper.correct(network).unwrap_or(0)
                };
                let mut extras: [f64; EXTRAS] = [
                    if mine.is_empty() { 0.0 } else { loss * weight },
                    correct as f64,
                    f64::from(u8::from(fault.is_some())),
                    f64::from(u8::from(observer.stop_requested())),
                ];
                match reducer {
                    Some(reducer) => {
                        stepper.combine_through(reducer, mine.len(), weight, &mut extras)
                    }
                    None => stepper.combine_across(ranks, mine.len(), weight, &mut extras),
                }
                loss = extras[0];
                if extras[2] > 0.0 && fault.is_none() {
                    fault = Some("NaN or ∞ on another rank".to_string());
                }
                combined = Some((extras[1] as usize, extras[3] > 0.0));
            }
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
            let correct = match combined {
                Some((correct, _)) => Some(correct),
                None => stepper.correct(network),
            };
            stepper.apply(network, config.clip_grad_norm);
            state.epoch_loss_total += if summed {
                loss
            } else {
                loss * chunk.len() as f64
            };
            state.epoch_correct += correct.unwrap_or(0);
            state.step += 1;
            state.global_step += 1;
            rows_run += chunk.len();
            observer.batch_finished(loss, chunk.len());
            // Every rank stops at the same step: when any asked before the combination.
            let stop = match combined {
                Some((_, stop)) => stop,
                None => observer.stop_requested(),
            };
            let mut latest = None;
            if stop
                || config
                    .checkpoint_every
                    .is_some_and(|every| state.global_step % every as u64 == 0)
            {
                let checkpoint = Checkpoint::of(&state, network, stepper.optimizer(), &best_layers);
                observer.checkpoint(&checkpoint)?;
                latest = Some(checkpoint);
            }
            if let (true, Some(end)) = (stop, latest) {
                return Ok(TrainOutcome {
                    history: state.history,
                    best_epoch: state.best.map(|(_, epoch)| epoch),
                    stopped_early: false,
                    interrupted: true,
                    end,
                });
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        // Every epoch ends with finite parameters, or the run stops here.
        if config.stop_on_faults
            && let Some(l) = network
                .layers()
                .iter()
                .position(|l| !l.weights.iter().chain(&l.bias).all(|v| v.is_finite()))
        {
            observer.checkpoint(&good)?;
            return Err(Error::Anomaly(Box::new(Anomaly {
                epoch: epoch + 1,
                step: state.step,
                global_step: state.global_step,
                place: format!(
                    "layer {} parameters (W or b) at the end of the epoch",
                    l + 1
                ),
            })));
        }
        let evaluation = validation.map(|v| evaluate(network, v)).transpose()?;
        let headline = |name: &str| {
            evaluation
                .as_ref()
                .map(|e| e.headline())
                .filter(|(n, _)| *n == name)
                .map(|(_, value)| value)
        };
        let report = EpochReport {
            epoch: epoch + 1,
            train_loss: state.epoch_loss_total / rows as f64,
            train_accuracy: stepper
                .counts_correct()
                .then(|| state.epoch_correct as f64 / rows as f64),
            validation_loss: evaluation.as_ref().map(|e| e.loss),
            validation_accuracy: headline("accuracy"),
            validation_micro_f1: headline("micro-F1"),
            validation_r2: headline("R²"),
            learning_rate,
            seconds,
            samples_per_second: rows_run as f64 / seconds.max(1e-9),
            combine_ms_per_step: stepper.take_combine_ms(),
        };
        observer.epoch_finished(&report);
        observer.epoch_network(network);
        state.history.push(report);
        if state.history.len() > MAX_HISTORY {
            // Memory and checkpoints stay bounded on very long runs (the metrics file keeps
            // every epoch).
            state.history.remove(0);
        }
        state.epoch += 1;
        state.step = 0;
        state.epoch_loss_total = 0.0;
        state.epoch_correct = 0;

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
        if state.epoch < config.epochs && observer.stop_requested() {
            let end = Checkpoint::of(&state, network, stepper.optimizer(), &best_layers);
            observer.checkpoint(&end)?;
            return Ok(TrainOutcome {
                history: state.history,
                best_epoch: state.best.map(|(_, epoch)| epoch),
                stopped_early: false,
                interrupted: true,
                end,
            });
        }
    }
    let best_epoch = state.best.map(|(_, epoch)| epoch);
    if let Some(layers) = &best_layers {
        network.layers_mut().clone_from_slice(layers);
    }
    let end = Checkpoint::of(&state, network, stepper.optimizer(), &best_layers);
    Ok(TrainOutcome {
        history: state.history,
        best_epoch,
        stopped_early,
        interrupted: false,
        end,
    })
}
