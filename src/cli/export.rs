//! `nabla export`: a saved model as an ONNX graph (opset 13) for any ONNX runtime.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use nabla::io::{export_onnx, load_model};

/// Flags of `nabla export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// The model's config JSON, for weights saved without nabla's metadata.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Write the ONNX graph here: input "features" (raw, batch × inputs), output
    /// "probabilities" (batch × outputs, as `nabla predict`).
    #[arg(long)]
    pub onnx: PathBuf,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let model = load_model(&args.model, args.config.as_deref())?;
    export_onnx(&model, &args.onnx)?;
    writeln!(std::io::stdout(), "wrote {}", args.onnx.display())?;
    Ok(ExitCode::SUCCESS)
}
