//! `nabla compare-heads`: the same hidden network trained with a ReLU, identity, sigmoid and
//! softmax output under categorical cross-entropy — the learner's question, measured.

use std::io::Write;
use std::process::ExitCode;

use nabla::head::HeadPath;
use nabla::metrics::evaluate;
use nabla::train::{EpochReport, Observer, TrainConfig, train};
use nabla::{Activation, Network, Schedule};

use super::data_args::DataArgs;
use super::network_args::NetworkArgs;
use super::split_args::{SplitArgs, prepare};
use super::train::OptimizerArgs;

/// Flags of `nabla compare-heads`.
#[derive(Debug, clap::Args)]
pub struct CompareHeadsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub split: SplitArgs,
    /// Hidden layer sizes, comma-separated.
    #[arg(long, default_value = "64")]
    pub hidden: String,
    /// Activation of the hidden layers.
    #[arg(long, default_value = "relu")]
    pub activation: String,
    #[command(flatten)]
    pub optimizer: OptimizerArgs,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Seed of the weights, splits and shuffles (the same for every head).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also train the pairings nabla refuses, computing the raw formula clipped like Keras.
    #[arg(long)]
    pub allow_unsafe: bool,
}

/// Counts batches whose loss is NaN or ±∞.
#[derive(Default)]
struct Counter {
    steps: usize,
    non_finite: usize,
    last: Option<EpochReport>,
}

impl Observer for Counter {
    fn batch_finished(&mut self, loss: f64, _rows: usize) {
        self.steps += 1;
        self.non_finite += usize::from(!loss.is_finite());
    }

    fn epoch_finished(&mut self, report: &EpochReport) {
        self.last = Some(report.clone());
    }
}

pub fn run(args: CompareHeadsArgs) -> anyhow::Result<ExitCode> {
    let prepared = prepare(&args.data, &args.split, args.seed)?;
    let classes = prepared.train.classes();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "data: {}: {} train, {} test rows, {classes} classes; hidden {} {}; {} epochs; loss: categorical cross-entropy on the outputs",
        prepared.description,
        prepared.train.len(),
        prepared.test.len(),
        args.hidden,
        args.activation,
        args.epochs
    )?;
    writeln!(
        out,
        "\n{:<9} {:<27} {:>11} {:>9} {:>15} {:>15}",
        "output", "pairing", "final loss", "test acc", "NaN/inf steps", "outside (0, 1)"
    )?;
    for output in [
        Activation::Softmax,
        Activation::Sigmoid,
        Activation::Relu,
        Activation::Identity,
    ] {
        let network_args = NetworkArgs {
            hidden: args.hidden.clone(),
            activation: args.activation.clone(),
            output: output.to_string(),
            loss: Some("cross-entropy".into()),
            from: Some("probabilities".into()),
            class_weights: None,
            pos_weight: None,
            label_smoothing: 0.0,
            reduction: "mean".into(),
            init: "auto".into(),
            allow_unsafe: args.allow_unsafe,
        };
        let config = match network_args.config(prepared.train.feature_count(), classes) {
            Ok(config) => config,
            Err(_) => {
                writeln!(
                    out,
                    "{:<9} {:<27} (run with --allow-unsafe to train it anyway)",
                    output.name(),
                    "refused: not a probability model"
                )?;
                continue;
            }
        };
        let mut network = Network::<f32>::new(config, args.seed)?;
        let pairing = match network.head().path() {
            HeadPath::Fused => "fused: δ = a − y",
            HeadPath::Clipped => "unsafe: clipped like Keras",
            HeadPath::Direct | HeadPath::Composite => "composite",
        };
        let train_config = TrainConfig {
            optimizer: args.optimizer.config(prepared.train.len())?,
            schedule: args.optimizer.schedule.parse::<Schedule>()?,
            batch_size: args.batch,
            epochs: args.epochs,
            seed: args.seed,
            threads: 1,
            patience: None,
            clip_grad_norm: None,
            check_every: nabla::train::DEFAULT_CHECK_EVERY,
            checkpoint_every: None,
            stop_on_faults: false,
        };
        let mut counter = Counter::default();
        train(
            &mut network,
            &prepared.train,
            None,
            &train_config,
            &mut counter,
        )?;
        let result = evaluate(&network, &prepared.test, 1024)?;
        // The activation's own outputs, in f64 so that rounding (softmax underflowing to 0 in
        // f32) is not mistaken for leaving the range.
        let exact = network.cast::<f64>();
        let z_outputs = exact.predict(prepared.test.features.mapv(f64::from).view());
        let outside = z_outputs.iter().filter(|&&a| !(a > 0.0 && a < 1.0)).count() as f64
            / z_outputs.len() as f64;
        let final_loss = counter.last.as_ref().map_or(f64::NAN, |r| r.train_loss);
        writeln!(
            out,
            "{:<9} {:<27} {:>11.4} {:>9.4} {:>15} {:>14.1}%",
            output.name(),
            pairing,
            final_loss,
            result.accuracy,
            format!("{} of {}", counter.non_finite, counter.steps),
            100.0 * outside
        )?;
    }
    let note = if args.allow_unsafe {
        "\nsoftmax is the probability model: its rows lie on the simplex, the fused gradient is a − y, and nothing \
         is ever NaN. The other outputs only run because the raw formula is patched the way Keras patches it: each \
         row is divided by its sum, then clipped to [1e-7, 1 − 1e-7]. For sigmoid that division turns the row into a \
         distribution after the fact (without it, nothing would push the wrong classes down). A ReLU row of zeros \
         divides 0 by 0, the loss is NaN and the weights become NaN for good; identity outputs go negative, are \
         clipped, and get no gradient wherever they are clipped. ReLU belongs in the hidden layers."
    } else {
        "\nThe refused outputs are not probability models (see `nabla explain --activation relu --loss \
         cross-entropy`); --allow-unsafe trains them anyway, patched the way Keras patches them, to show what happens."
    };
    writeln!(out, "{note}")?;
    Ok(ExitCode::SUCCESS)
}
