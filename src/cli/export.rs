//! `nabla export`: a saved model as an ONNX graph (opset 13) for any ONNX runtime.

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::io::{check_output, export_onnx, load_model};

use super::model_args::ModelArgs;
use super::output::out;

/// Flags of `nabla export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Write the ONNX graph here: input "features" (raw, batch × inputs), output
    /// "probabilities" (batch × outputs, as `nabla predict`).
    #[arg(long)]
    pub onnx: PathBuf,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let mut inputs = vec![args.model.path()];
    inputs.extend(args.model.config.as_deref());
    check_output("--onnx", &args.onnx, &inputs)?;
    let model = load_model(args.model.path(), args.model.config.as_deref())?;
    export_onnx(&model, &args.onnx)?;
    out(&format!("wrote {}", args.onnx.display()));
    Ok(ExitCode::SUCCESS)
}
