//! `nabla explain`: the chain-rule derivation of ∂C/∂w for an output activation and a loss,
//! every step machine-checked before it is printed.

use std::io::Write;
use std::process::ExitCode;

use nabla::explain::{Format, check, derive, render};
use nabla::{Activation, LossKind};

/// Flags of `nabla explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The output activation (relu, sigmoid, softmax, identity, tanh, …).
    #[arg(long)]
    pub activation: String,
    /// The loss: binary-cross-entropy, cross-entropy, nll, mse.
    #[arg(long)]
    pub loss: String,
    /// text (terminal), latex, markdown or json.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Random points at which each step is checked against the one before it.
    #[arg(long, default_value_t = 1000)]
    pub points: usize,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let activation: Activation = args.activation.parse()?;
    let loss: LossKind = args.loss.parse()?;
    let format: Format = args.format.parse()?;
    let derivation = derive(activation, loss);
    let report = check(&derivation, args.points, 1);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", render(&derivation, &report, format).trim_end())?;
    // A derivation that fails its own check is a bug in nabla, not bad input.
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
