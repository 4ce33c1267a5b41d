//! `nabla diagnose`: known mistakes in a model or a config, each explained.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use nabla::NetworkConfig;
use nabla::diagnose::{Finding, Severity, diagnose_activity, diagnose_config};
use nabla::io::load_model;
use nabla::model::ModelConfig;

use super::data_args::DataArgs;

/// Flags of `nabla diagnose`.
#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    /// A saved model (its architecture, and with --data its behaviour on data).
    #[arg(long, required_unless_present = "config")]
    pub model: Option<PathBuf>,
    /// A config JSON instead (a model config, or a bare network config); checked without weights.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run the model on this data to find dead ReLU units and saturated outputs (needs --model).
    #[arg(long)]
    pub data: Option<String>,
    #[command(flatten)]
    pub read: DataReadArgs,
}

/// How to read --data (the same flags as elsewhere, without --data itself).
#[derive(Debug, clap::Args)]
pub struct DataReadArgs {
    /// CSV label column, by name or 0-based index.
    #[arg(long)]
    pub label_column: Option<String>,
    /// A separate labels file for .npy or IDX features.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Rows drawn by a synthetic generator.
    #[arg(long, default_value_t = 1000)]
    pub samples: usize,
}

/// A model config or a bare network config, read without validating (finding what is invalid
/// is the point).
fn read_config(path: &std::path::Path) -> anyhow::Result<NetworkConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if let Ok(model) = serde_json::from_str::<ModelConfig>(&text) {
        return Ok(model.network);
    }
    serde_json::from_str::<NetworkConfig>(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}, line {}: not a model or network config: {e}",
            path.display(),
            e.line()
        )
    })
}

pub fn run(args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let (config, model) = match (&args.config, &args.model) {
        (Some(path), None) => (read_config(path)?, None),
        (config, Some(path)) => {
            let model = load_model(path, config.as_deref())?;
            (model.network.config().clone(), Some(model))
        }
        (None, None) => anyhow::bail!("give --model or --config"),
    };
    let mut findings: Vec<Finding> = diagnose_config(&config);
    if let Some(spec) = &args.data {
        let model = model
            .as_ref()
            .context("--data needs a trained model (--model)")?;
        let data_args = DataArgs {
            data: spec.clone(),
            label_column: args.read.label_column.clone(),
            labels: args.read.labels.clone(),
            samples: args.read.samples,
            noise: None,
            download: Default::default(),
        };
        let loaded = data_args.load(0, false, Some(config.inputs))?;
        let mut rows = loaded.test.unwrap_or(loaded.train);
        model.prepare(&mut rows)?;
        findings.extend(diagnose_activity(&model.network, &rows));
    }
    let mut out = std::io::stdout().lock();
    for f in &findings {
        writeln!(out, "{:<8} {}: {}", f.severity.label(), f.check, f.message)?;
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    writeln!(out, "\n{errors} errors, {warnings} warnings")?;
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
