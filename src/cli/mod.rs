//! The command line: one file per subcommand. Each turns its flags into the library's configs,
//! calls the library, and prints what it reports; no math, defaults or policy live here. Flag
//! doc comments are the `--help` text.

pub mod allocations;
mod bench;
mod compare_heads;
mod convert;
mod data_args;
mod diagnose;
mod download;
mod evaluate;
mod explain;
mod export;
mod gradcheck;
mod loss;
mod model_args;
mod network_args;
mod optimizer_args;
pub mod output;
mod predict;
mod serve;
mod split_args;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// nabla: train feed-forward networks with cross-entropy losses whose gradients are correct by
/// construction, verified and explained. Without a subcommand it trains (train's flags work
/// without the word `train`); with none at all, on the embedded 8×8 digits set.
#[derive(Debug, Parser)]
#[command(name = "nabla", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: train::TrainArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model and report its test score (the default command).
    Train(Box<train::TrainArgs>),
    /// The scores of a saved model: by default on its own held-out test rows.
    Evaluate(evaluate::EvaluateArgs),
    /// What a saved model says about each row, as CSV or JSON.
    Predict(predict::PredictArgs),
    /// Read one loss case as JSON on stdin; print its loss and gradient as JSON.
    ///
    /// The case: {"loss": "cross-entropy" | "binary-cross-entropy" | "nll" | "mse", "from":
    /// "logits" | "probabilities" | "log-probabilities" (optional), "activation": an output
    /// activation whose outputs the loss reads (optional), "output": [[…], …] (rows × outputs),
    /// "target": class indices [c, …] or rows [[…], …], and PyTorch's options "class_weights",
    /// "pos_weight", "ignore_index", "label_smoothing", "reduction" ("mean", "batch-mean",
    /// "sum", "none")}.
    ///
    /// Example: echo '{"loss": "cross-entropy", "from": "logits", "output": [[2.0, 0.5]],
    /// "target": [0]}' | nabla loss
    /// prints {"gradient":[[-0.18242552380635635,0.18242552380635632]],"loss":0.20141327798275246}.
    /// A refused pairing or a bad case prints {"error": "…"} and exits 2.
    Loss(loss::LossArgs),
    /// The chain-rule derivation of ∂C/∂w for an output activation and a loss, each step
    /// machine-checked, with where it is undefined and what to use instead.
    Explain(explain::ExplainArgs),
    /// Known mistakes in a model or config (incompatible pairing, double softmax, init, dead
    /// ReLU units, saturated outputs, clipped rows), each explained.
    Diagnose(diagnose::DiagnoseArgs),
    /// Train the same network with a ReLU, identity, sigmoid and softmax output under
    /// cross-entropy, over several seeds, and tabulate what happens.
    CompareHeads(Box<compare_heads::CompareHeadsArgs>),
    /// Download MNIST or Fashion-MNIST into the cache (SHA-256 verified); prints the directory.
    Download(download::DownloadCommandArgs),
    /// Stream a CSV table of any size into .npy features and labels, in bounded memory.
    Convert(convert::ConvertArgs),
    /// A local web application: the playground (train on 2-D data, watch the decision
    /// boundary form), derivations as mathematics, and live curves of --metrics runs.
    Serve(serve::ServeArgs),
    /// Export a saved model as an ONNX graph (opset 13).
    Export(export::ExportArgs),
    /// The speed workload (DESIGN.md §6): epochs, inference and sgemm, as the PyTorch peer.
    Bench(bench::BenchArgs),
    /// Compare a network's backpropagated gradients with finite differences (f64).
    Gradcheck(Box<gradcheck::GradcheckArgs>),
}

/// Runs the parsed command line.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Evaluate(args)) => evaluate::run(args),
        Some(Command::Predict(args)) => predict::run(args),
        Some(Command::Loss(args)) => loss::run(args),
        Some(Command::Gradcheck(args)) => gradcheck::run(*args),
        Some(Command::Explain(args)) => explain::run(args),
        Some(Command::Download(args)) => download::run(args),
        Some(Command::Convert(args)) => convert::run(args),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Export(args)) => export::run(args),
        Some(Command::Bench(args)) => bench::run_bench(args, &allocations::allocations),
        Some(Command::Diagnose(args)) => diagnose::run(args),
        Some(Command::CompareHeads(args)) => compare_heads::run(*args),
        None => train::run(&args.train),
    }
}

/// Whether the error is a closed stdout (`nabla predict … | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<nabla::Error>()
                .is_some_and(nabla::Error::is_broken_pipe)
    })
}
