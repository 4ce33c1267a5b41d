//! `nabla explain`: the chain-rule derivation of ∂C/∂w for an output activation and a loss,
//! every step machine-checked before it is printed.

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::explain::claim::{Quantity, diagnose, diagnosis_json, parse_claim, render_diagnosis};
use nabla::explain::worked::{At, render_worked, worked_example};
use nabla::explain::{FORMATS, Question, checked, derive_for, render};
use nabla::format::Format;

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
    /// What the loss reads the outputs as: probabilities or logits (the loss applies sigmoid or
    /// softmax itself) [default: as `nabla train` reads them: logits behind an identity output,
    /// probabilities otherwise].
    #[arg(long)]
    pub from: Option<String>,
    /// The targets: hard (y ∈ {0, 1}, one-hot) or soft (y ∈ [0, 1], distributions).
    #[arg(long, default_value = "hard")]
    pub targets: String,
    /// A worked example at these numbers, e.g. "x=1,2 w=0.1,0.2 b=0 y=1" (rows of w separated
    /// by ; for several output units).
    #[arg(long)]
    pub at: Option<String>,
    /// Also draw Cₓ and ∂Cₓ/∂z against z for y = 0 and y = 1, beside sigmoid + binary
    /// cross-entropy, to this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Check your own derivative, e.g. "(y - z)/(z*(1 - z))": compared with the machine-checked
    /// one and diagnosed (sign, a missing factor, part of the domain), step by step.
    #[arg(long, value_name = "EXPR")]
    pub check: Option<String>,
    /// What --check's expression is the derivative by: w (a weight), b, z or a.
    #[arg(long, default_value = "w")]
    pub with_respect_to: String,
    /// text (terminal), latex, markdown or json.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Random points at which each step is checked against the one before it (1 to 1000000).
    #[arg(long, default_value_t = nabla::explain::DEFAULT_CHECK_POINTS, value_parser = points)]
    pub points: usize,
}

fn points(text: &str) -> Result<usize, String> {
    let points: usize = text.parse().map_err(|e| format!("{e}"))?;
    nabla::explain::check_points(points).map_err(|e| e.to_string())
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.parse::<Format>()?.check("explain", &FORMATS)?;
    let question = Question::named(
        &args.activation,
        args.loss.as_deref(),
        args.from.as_deref(),
        &args.targets,
    )?;
    let at = args.at.as_deref().map(str::parse::<At>).transpose()?;
    if let Some(plot) = &args.plot {
        nabla::plot::check_output("--plot", plot, &[])?;
    }
    let derivation = derive_for(&question);
    if let Some(claim) = &args.check {
        // The learner's own expression: the diagnosis is the output.
        let quantity: Quantity = args.with_respect_to.parse()?;
        let expr = parse_claim(claim)
            .map_err(|e| nabla::Error::invalid("--check", e.pointing_into(claim)))?;
        let diagnosis = diagnose(&derivation, &expr, quantity)?;
        out(if format == Format::Json {
            diagnosis_json(&diagnosis).to_string()
        } else {
            render_diagnosis(&derivation, &diagnosis)
        }
        .trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    let report = checked(&derivation, args.points);
    out(render(&derivation, &report, format).trim_end());
    if let Some(at) = &at {
        let worked = worked_example(&derivation, at)?;
        out(&format!(
            "\n{}",
            render_worked(&derivation, at, &worked).trim_end()
        ));
    }
    if let Some(plot) = &args.plot {
        nabla::plot::cost_curves_plot(plot, &nabla::explain::curves::cost_curves(&question))?;
        if format == Format::Text {
            out(&format!("\nwrote {}", plot.display()));
        }
    }
    // A derivation that fails its own check is a bug in nabla, not bad input.
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
