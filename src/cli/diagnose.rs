//! `nabla diagnose`: known mistakes in a model or a config, each explained.

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::diagnose::{Finding, Severity, diagnose_activity, diagnose_config, read_config};
use nabla::workflow::{ModelData, Rows, load_model_and_rows};

use super::data_args::DataArgs;
use super::output::{DownloadBar, out};

/// Flags of `nabla diagnose`.
#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    /// A saved model (its architecture, and with --data its behaviour on data).
    #[arg(long, required_unless_present = "config")]
    pub model: Option<PathBuf>,
    /// A config JSON instead (a model config, or a bare network config); checked without weights.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let findings: Vec<Finding> = match (&args.model, &args.config) {
        (None, Some(path)) => {
            anyhow::ensure!(
                args.data.data.is_none(),
                "--data needs a trained model (--model)"
            );
            diagnose_config(&read_config(path)?)
        }
        (Some(model), config) => {
            let mut request = ModelData::new(model);
            request.config = config.clone();
            request.data = args.data.source(None)?;
            request.rows = Rows::All;
            request.require_labels = false;
            if request.data.is_some() {
                let mut bar = DownloadBar::default();
                let loaded = load_model_and_rows(&request, &mut |p| bar.show(p))?;
                let mut findings = diagnose_config(loaded.model.network.config());
                findings.extend(diagnose_activity(&loaded.model.network, &loaded.rows));
                findings
            } else {
                let loaded: nabla::Model = nabla::io::load_model(model, config.as_deref())?;
                diagnose_config(loaded.network.config())
            }
        }
        (None, None) => anyhow::bail!("give --model or --config"),
    };
    for f in &findings {
        out(&format!(
            "{:<8} {}: {}",
            f.severity.label(),
            f.check,
            f.message
        ));
    }
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    out(&format!(
        "\n{errors} {}, {warnings} {}",
        nabla::workflow::plural(errors, "error", "errors"),
        nabla::workflow::plural(warnings, "warning", "warnings")
    ));
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
