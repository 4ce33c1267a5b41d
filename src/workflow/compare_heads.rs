//! The learner's question, measured: the same hidden network trained with a ReLU, identity,
//! sigmoid and softmax output (or any list) under one cross-entropy, over several seeds, and
//! what happens to each — its loss and accuracy, the steps whose loss was NaN or ∞, outputs
//! that are NaN or leave (0, 1), and for a refused pairing run anyway (clipped like Keras) the
//! share of rows the clip leaves without a gradient, epoch by epoch.

use serde::Serialize;

use crate::activation::Activation;
use crate::diagnose::clipped_rows;
use crate::error::{Error, Result};
use crate::format::wrap;
use crate::head::{HeadPath, Pairing, probability_form};
use crate::loss::LossKind;
use crate::metrics::evaluate;
use crate::network::{Network, NetworkBuilder};
use crate::prepare::{DataSource, Prepared, SplitConfig, prepare};
use crate::train::{EpochReport, Observer, TrainConfig, Trainer};

/// What to compare.
#[derive(Clone, Debug)]
pub struct CompareHeads {
    /// The data.
    pub source: DataSource,
    /// How it is split (no validation rows: nothing would use them).
    pub split: SplitConfig,
    /// The hidden layers every head sits on.
    pub hidden: Vec<usize>,
    /// Their activation.
    pub hidden_activation: Activation,
    /// The loss every output feeds, on probabilities (cross-entropy or binary cross-entropy).
    pub loss: LossKind,
    /// The outputs to compare (empty: the loss's usual candidates).
    pub outputs: Vec<Activation>,
    /// How to train (faults do not stop: measuring them is the point).
    pub train: TrainConfig,
    /// One run per seed for each output.
    pub seeds: Vec<u64>,
    /// Also train the refused pairings, clipped like Keras.
    pub allow_unsafe: bool,
}

impl CompareHeads {
    /// Softmax, sigmoid, ReLU and identity outputs under cross-entropy on `source`, 64 ReLU
    /// hidden units, 10 epochs, seeds 0, 1 and 2.
    pub fn new(source: DataSource) -> Self {
        CompareHeads {
            source,
            split: SplitConfig::default().validation(0.0),
            hidden: vec![64],
            hidden_activation: Activation::Relu,
            loss: LossKind::CrossEntropy,
            outputs: Vec::new(),
            train: TrainConfig::default().epochs(10).threads(1),
            seeds: vec![0, 1, 2],
            allow_unsafe: false,
        }
    }

    /// The outputs compared.
    pub fn outputs(&self) -> Vec<Activation> {
        if !self.outputs.is_empty() {
            return self.outputs.clone();
        }
        match self.loss {
            LossKind::BinaryCrossEntropy => vec![
                Activation::Sigmoid,
                Activation::Relu,
                Activation::Identity,
                Activation::Tanh,
            ],
            _ => vec![
                Activation::Softmax,
                Activation::Sigmoid,
                Activation::Relu,
                Activation::Identity,
            ],
        }
    }
}

/// One training run of one head.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadRun {
    /// Its seed.
    pub seed: u64,
    /// The last epoch's training loss.
    pub final_loss: f64,
    /// Accuracy on the test rows.
    pub test_accuracy: f64,
    /// Steps whose batch loss was NaN or ±∞.
    pub non_finite_steps: usize,
    /// Steps in all.
    pub steps: usize,
    /// The share of the test rows' outputs (the activation's own, in f64) that are NaN.
    pub nan_outputs: f64,
    /// The share that are numbers outside (0, 1).
    pub outside_unit: f64,
    /// For a clipped head: the share of training rows with no gradient after each epoch.
    pub clipped_per_epoch: Vec<f64>,
    /// For a clipped single-output head: the shares of training rows clipped at a ≤ ε and at
    /// a ≥ 1 − ε after the last epoch.
    pub clipped_low_high: Option<(f64, f64)>,
}

/// One output's runs, or why it was not trained.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadRow {
    /// The output activation.
    pub output: String,
    /// "fused: δ = a − y", "unsafe: clipped like Keras", …, or "refused: …".
    pub pairing: String,
    /// Whether the pairing is a probability model.
    pub probability_model: bool,
    /// Its runs (none when refused and not allowed).
    pub runs: Vec<HeadRun>,
}

/// Counts steps whose loss is NaN or ±∞, and the clipped rows after each epoch.
struct Counter<'a> {
    train: &'a crate::data::Dataset,
    steps: usize,
    non_finite: usize,
    last: Option<EpochReport>,
    clipped: Vec<f64>,
}

impl Observer for Counter<'_> {
    fn batch_finished(&mut self, loss: f64, _rows: usize) {
        self.steps += 1;
        self.non_finite += usize::from(!loss.is_finite());
    }

    fn epoch_finished(&mut self, report: &EpochReport) {
        self.last = Some(report.clone());
    }

    fn epoch_network(&mut self, network: &Network<f32>) {
        if let Some(share) = clipped_rows(network, self.train) {
            self.clipped.push(share.share());
        }
    }
}

/// Loads and splits the data of `config` (with its first seed).
///
/// # Errors
/// As [`prepare`].
pub fn prepare_comparison(config: &CompareHeads) -> Result<Prepared> {
    let seed = config.seeds.first().copied().unwrap_or(0);
    prepare(&config.source, &config.split, seed, &mut |_| {})
}

/// Runs the comparison on `prepared` rows; `row` receives each output's row as it is done.
///
/// # Errors
/// A loss other than the two cross-entropies, no seeds, or no test rows.
pub fn compare_heads(
    config: &CompareHeads,
    prepared: &Prepared,
    row: &mut dyn FnMut(&HeadRow),
) -> Result<Vec<HeadRow>> {
    if !matches!(
        config.loss,
        LossKind::CrossEntropy | LossKind::BinaryCrossEntropy
    ) {
        return Err(Error::invalid(
            "loss",
            "compare-heads compares outputs under cross-entropy or binary cross-entropy",
        ));
    }
    if config.seeds.is_empty() {
        return Err(Error::invalid("seeds", "give at least one seed"));
    }
    let test = prepared.test.as_ref().ok_or_else(|| {
        Error::invalid(
            "test split",
            "compare-heads scores test rows: give a test split",
        )
    })?;
    let mut rows = Vec::new();
    for output in config.outputs() {
        let from = probability_form(output, config.loss);
        let pairing = Pairing::of(output, config.loss, from);
        let builder = NetworkBuilder::for_data(&prepared.train)
            .hidden(config.hidden.iter().copied())
            .hidden_activation(config.hidden_activation)
            .output(output)
            .loss(config.loss)
            .loss_input(from)
            .allow_unsafe(config.allow_unsafe);
        let mut head_row = HeadRow {
            output: output.name().to_string(),
            pairing: String::new(),
            probability_model: pairing.is_probability_model(config.loss),
            runs: Vec::new(),
        };
        if !pairing.is_accepted() && !config.allow_unsafe {
            head_row.pairing = "refused: not a probability model".into();
            row(&head_row);
            rows.push(head_row);
            continue;
        }
        for &seed in &config.seeds {
            let mut network = builder.build(seed)?;
            head_row.pairing = network.head().path().description().to_string();
            let train = config.train.clone().seed(seed).stop_on_faults(false);
            let mut counter = Counter {
                train: &prepared.train,
                steps: 0,
                non_finite: 0,
                last: None,
                clipped: Vec::new(),
            };
            Trainer::new(&train)
                .observer(&mut counter)
                .run(&mut network, &prepared.train)?;
            let accuracy = evaluate(&network, test)?.accuracy().unwrap_or(f64::NAN);
            // The activation's own outputs, in f64, so that rounding (softmax underflowing to 0
            // in f32) is not mistaken for leaving the range.
            let exact = network.cast::<f64>();
            let outputs = exact.predict(test.features.mapv(f64::from).view());
            let count = outputs.len().max(1) as f64;
            let nan = outputs.iter().filter(|a| a.is_nan()).count() as f64 / count;
            let outside = outputs
                .iter()
                .filter(|&&a| !a.is_nan() && (a <= 0.0 || a >= 1.0))
                .count() as f64
                / count;
            let low_high = (network.head().path() == HeadPath::Clipped
                && network.config().outputs == 1)
                .then(|| clipped_rows(&network, &prepared.train))
                .flatten()
                .map(|s| {
                    (
                        s.low as f64 / s.rows.max(1) as f64,
                        s.high as f64 / s.rows.max(1) as f64,
                    )
                });
            head_row.runs.push(HeadRun {
                seed,
                final_loss: counter.last.as_ref().map_or(f64::NAN, |r| r.train_loss),
                test_accuracy: accuracy,
                non_finite_steps: counter.non_finite,
                steps: counter.steps,
                nan_outputs: nan,
                outside_unit: outside,
                clipped_per_epoch: counter.clipped,
                clipped_low_high: low_high,
            });
        }
        row(&head_row);
        rows.push(head_row);
    }
    Ok(rows)
}

/// "0.1288 ± 0.0040" over the runs (NaN runs make the mean NaN: that is the finding).
fn mean_spread(values: impl Iterator<Item = f64> + Clone) -> String {
    let n = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / n;
    let spread = (values.map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    if n <= 1.0 || !spread.is_finite() {
        format!("{mean:.4}")
    } else {
        format!("{mean:.4} ± {spread:.4}")
    }
}

/// The header of the table [`table_row`] fills.
pub fn table_header() -> String {
    format!(
        "{:<9} {:<30} {:>17} {:>17} {:>13} {:>9} {:>16} {:>13}",
        "output",
        "pairing",
        "final loss",
        "test acc",
        "NaN/∞ steps",
        "NaN out",
        "outside (0, 1)",
        "no gradient"
    )
}

/// One row of the table: means ± spreads over the seeds.
pub fn table_row(row: &HeadRow) -> String {
    if row.runs.is_empty() {
        return format!(
            "{:<9} {:<30} (run with --allow-unsafe to train it anyway)",
            row.output, row.pairing
        );
    }
    let runs = &row.runs;
    let steps: usize = runs.iter().map(|r| r.steps).sum();
    let bad: usize = runs.iter().map(|r| r.non_finite_steps).sum();
    let percent = |v: f64| format!("{:.1}%", 100.0 * v);
    let mean = |f: fn(&HeadRun) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
    let clipped = runs
        .iter()
        .filter_map(|r| r.clipped_per_epoch.last().copied())
        .collect::<Vec<_>>();
    let no_gradient = if clipped.is_empty() {
        "—".to_string()
    } else {
        percent(clipped.iter().sum::<f64>() / clipped.len() as f64)
    };
    format!(
        "{:<9} {:<30} {:>17} {:>17} {:>13} {:>9} {:>16} {:>13}",
        row.output,
        row.pairing,
        mean_spread(runs.iter().map(|r| r.final_loss)),
        mean_spread(runs.iter().map(|r| r.test_accuracy)),
        format!("{bad} of {steps}"),
        percent(mean(|r| r.nan_outputs)),
        percent(mean(|r| r.outside_unit)),
        no_gradient
    )
}

/// The paragraph under the table: what the numbers show, wrapped to 100 columns.
pub fn conclusion(config: &CompareHeads, rows: &[HeadRow]) -> String {
    let sound = match config.loss {
        LossKind::BinaryCrossEntropy => "sigmoid",
        _ => "softmax",
    };
    let mut text = if config.allow_unsafe {
        format!(
            "{sound} is the probability model: the fused gradient is a − y and nothing is ever \
             NaN. The other outputs only run because the raw formula is patched the way Keras \
             patches it: {}clipped to [1e-7, 1 − 1e-7]. Where an output is clipped its gradient \
             is 0: those rows teach nothing (the last column, after the last epoch). A ReLU \
             output sits at 0 for every row with z ≤ 0 — clipped, dead, and for categorical \
             cross-entropy a row of zeros divides 0 by 0, so the loss is NaN; identity outputs \
             go negative and are clipped too. ReLU belongs in the hidden layers.",
            if config.loss == LossKind::CrossEntropy {
                "each row is divided by its sum, then "
            } else {
                ""
            }
        )
    } else {
        format!(
            "The refused outputs are not probability models (see `nabla explain --activation \
             relu --loss {}`); --allow-unsafe trains them anyway, patched the way Keras patches \
             them, to show what happens.",
            config.loss.name()
        )
    };
    for row in rows {
        let Some(run) = row.runs.first() else {
            continue;
        };
        if let Some((low, high)) = run.clipped_low_high {
            text.push_str(&format!(
                " With a {} output (seed {}), {:.0}% of the training rows sit at a ≤ 1e-7 and \
                 {:.0}% at a ≥ 1 − 1e-7 after the last epoch: only the other {:.0}% learn.",
                row.output,
                run.seed,
                100.0 * low,
                100.0 * high,
                100.0 * (1.0 - low - high)
            ));
        }
    }
    wrap(&text, 100, "")
}
