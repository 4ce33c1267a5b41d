//! `nabla explain`: the chain-rule derivation of ∂C/∂w for an output activation and a loss,
//! every step machine-checked before it is printed.

use std::process::ExitCode;

use nabla::explain::{FORMATS, check, derive, render};
use nabla::format::Format;
use nabla::{Activation, LossKind};

use super::output::out;

/// Flags of `nabla explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The output activation (relu, sigmoid, softmax, identity, tanh, …).
    #[arg(long)]
    pub activation: String,
    /// The loss: binary-cross-entropy, cross-entropy, nll, mse [default: the pairing table's
    /// loss for the activation].
    #[arg(long)]
    pub loss: Option<String>,
    /// text (terminal), latex, markdown or json.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Random points at which each step is checked against the one before it.
    #[arg(long, default_value_t = 1000)]
    pub points: usize,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let activation: Activation = args.activation.parse()?;
    let loss: LossKind = match &args.loss {
        Some(loss) => loss.parse()?,
        None => nabla::head::default_loss(activation),
    };
    let format: Format = args.format.parse::<Format>()?.check("explain", &FORMATS)?;
    let derivation = derive(activation, loss);
    let report = check(&derivation, args.points, 1);
    out(render(&derivation, &report, format).trim_end());
    // A derivation that fails its own check is a bug in nabla, not bad input.
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
