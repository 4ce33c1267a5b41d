//! `nabla loss`: the JSON contract of DESIGN.md §5. One case on stdin, `{"loss", "gradient"}`
//! on stdout; a refused pairing or bad input prints `{"error": "..."}` and exits 2.

use std::process::ExitCode;

use nabla::loss::read_and_evaluate_case;

use super::output::out;

/// Reads one loss case as JSON on standard input and prints its loss and gradient as JSON.
///
/// The case: {"loss": "cross-entropy" | "binary-cross-entropy" | "nll" | "mse",
/// "from": "logits" | "probabilities" | "log-probabilities" (optional), "activation": an output
/// activation whose outputs the loss reads (optional), "output": [[…], …] (rows × outputs),
/// "target": class indices [c, …] or rows [[…], …], and PyTorch's options "class_weights",
/// "pos_weight", "ignore_index", "label_smoothing", "reduction" ("mean", "batch-mean", "sum",
/// "none")}.
///
/// Example: echo '{"loss": "cross-entropy", "from": "logits", "output": [[2.0, 0.5]],
/// "target": [0]}' | nabla loss   prints   {"loss":0.2014…,"gradient":[[-0.1824…,0.1824…]]}.
/// A refused pairing or a bad case prints {"error": "…"} and exits 2.
#[derive(Debug, clap::Args)]
pub struct LossArgs {}

pub fn run(_args: LossArgs) -> anyhow::Result<ExitCode> {
    let (body, code) = read_and_evaluate_case(std::io::stdin().lock());
    out(&body.to_string());
    Ok(if code {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
