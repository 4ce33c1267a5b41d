//! `nabla gradcheck`: backpropagated gradients against central finite differences, in f64, on
//! a few rows of real data, for a saved model or a freshly initialised network.

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::SplitConfig;
use nabla::gradcheck::{DEFAULT_STEP, gradcheck_rows};
use nabla::prepare::prepare;
use nabla::workflow::{ModelData, Rows, load_model_and_rows};

use super::data_args::DataArgs;
use super::network_args::NetworkArgs;
use super::output::{DownloadBar, out};

/// Flags of `nabla gradcheck`.
#[derive(Debug, clap::Args)]
pub struct GradcheckArgs {
    /// A saved model to check (otherwise a fresh network from the network flags).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The model's config JSON, for weights saved without nabla's metadata.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Rows of the data to check on.
    #[arg(long, default_value_t = 8)]
    pub rows: usize,
    /// Finite-difference step h.
    #[arg(long, default_value_t = DEFAULT_STEP)]
    pub step: f64,
    /// The largest relative error that passes.
    #[arg(long, default_value_t = 1e-6)]
    pub tolerance: f64,
    /// Seed of a fresh network's weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(args: GradcheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.rows > 0, "--rows must be at least 1, got 0");
    anyhow::ensure!(
        args.step > 0.0 && args.step.is_finite(),
        "--step must be a positive number"
    );
    let mut bar = DownloadBar::default();
    let (network, data) = match &args.model {
        Some(model) => {
            let mut request = ModelData::new(model);
            request.config = args.config.clone();
            request.data = args.data.source(None)?;
            request.rows = Rows::Train;
            let loaded = load_model_and_rows(&request, &mut |p| bar.show(p))?;
            (loaded.model.network, loaded.rows)
        }
        None => {
            let source = args.data.source_or("digits", args.network.loss_kind()?)?;
            let split = SplitConfig::default().validation(0.0).test(0.0);
            let prepared = prepare(&source, &split, args.seed, &mut |p| bar.show(p))?;
            let network = args
                .network
                .builder()?
                .shape_of(&prepared.train)
                .build(args.seed)?;
            (network, prepared.train)
        }
    };
    let rows = args.rows.min(data.len());
    let report = gradcheck_rows(&network, &data, rows, args.step)?;
    let pass = report.max_relative_error <= args.tolerance;
    out(&format!(
        "{}\nchecked {} parameters on {rows} rows: max relative error {:.3e} at {} — {}",
        network.config().describe(),
        report.checked,
        report.max_relative_error,
        report.worst,
        if pass {
            format!("pass (≤ {:e})", args.tolerance)
        } else {
            format!("FAIL (> {:e})", args.tolerance)
        }
    ));
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
