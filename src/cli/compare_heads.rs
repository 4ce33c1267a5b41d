//! `nabla compare-heads`: the same hidden network trained with each output under one
//! cross-entropy, over several seeds — the learner's question, measured.

use std::process::ExitCode;

use nabla::workflow::{
    CompareHeads, compare_heads, conclusion, prepare_comparison, table_header, table_row,
};

use super::data_args::DataArgs;
use super::network_args::hidden_sizes;
use super::optimizer_args::OptimizerArgs;
use super::output::out;
use super::split_args::SplitArgs;

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
    /// The loss every output feeds, on probabilities: cross-entropy, or binary-cross-entropy
    /// (one output unit on two-class data: the learner's case).
    #[arg(long, default_value = "cross-entropy")]
    pub loss: String,
    /// The outputs to compare, comma-separated [default: softmax, sigmoid, relu, identity for
    /// cross-entropy; sigmoid, relu, identity, tanh for binary cross-entropy].
    #[arg(long, value_delimiter = ',')]
    pub outputs: Vec<String>,
    #[command(flatten)]
    pub optimizer: OptimizerArgs,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Seeds of the weights and shuffles, comma-separated: each output runs once per seed
    /// (mean ± spread in the table). The split uses the first.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    pub seeds: Vec<u64>,
    /// Also train the pairings nabla refuses, computing the raw formula clipped like Keras.
    #[arg(long)]
    pub allow_unsafe: bool,
}

pub fn run(args: CompareHeadsArgs) -> anyhow::Result<ExitCode> {
    let mut config = CompareHeads::new(args.data.source_or("digits", None)?);
    let mut split = args.split.config()?;
    // No validation rows unless asked for: nothing would use them.
    if args.split.validation_split == nabla::SplitConfig::default().validation {
        split.validation = 0.0;
    }
    config.split = split;
    config.hidden = hidden_sizes(&args.hidden)?;
    config.hidden_activation = args.activation.parse()?;
    config.loss = args.loss.parse()?;
    config.outputs = args
        .outputs
        .iter()
        .map(|o| o.parse())
        .collect::<Result<_, _>>()?;
    let (optimizer, schedule) = args.optimizer.config()?;
    config.train = config
        .train
        .optimizer(optimizer)
        .schedule(schedule)
        .batch_size(args.batch)
        .epochs(args.epochs);
    config.seeds = args.seeds.clone();
    config.allow_unsafe = args.allow_unsafe;
    let prepared = prepare_comparison(&config)?;
    out(&format!(
        "data: {}: {} train, {} test rows; hidden {} {}; {} epochs; seeds {}; loss: {} on the outputs\n",
        prepared.description,
        prepared.train.len(),
        prepared.test.as_ref().map_or(0, |t| t.len()),
        args.hidden,
        args.activation,
        args.epochs,
        args.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        config.loss.display_name()
    ));
    out(&table_header());
    let rows = compare_heads(&config, &prepared, &mut |row| out(&table_row(row)))?;
    out(&format!("\n{}", conclusion(&config, &rows)));
    Ok(ExitCode::SUCCESS)
}
