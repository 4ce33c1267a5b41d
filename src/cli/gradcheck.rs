//! `nabla gradcheck`: backpropagated gradients against central finite differences, in f64, on
//! a few rows of real data, for a saved model or a freshly initialised network.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use nabla::Targets;
use nabla::gradcheck::{DEFAULT_STEP, gradcheck_network};
use nabla::preprocess::NormalizationKind;
use nabla::{Network, Scalar};
use ndarray::s;

use super::data_args::DataArgs;
use super::evaluate::model_and_data;
use super::network_args::{NetworkArgs, describe};

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
    let (network, data) = match &args.model {
        Some(model) => {
            let (model, data) = model_and_data(model, args.config.as_deref(), &args.data, true)?;
            (model.network, data)
        }
        None => {
            let mut data = args.data.load(args.seed, true, None)?.train;
            NormalizationKind::Standardize
                .fit(&data.features)
                .apply(&mut data.features)?;
            let config = args.network.config(data.feature_count(), data.classes())?;
            (Network::<f32>::new(config, args.seed)?, data)
        }
    };
    let rows = args.rows.min(data.len());
    let inputs = data
        .features
        .slice(s![..rows, ..])
        .mapv(|v| f64::of(f64::from(v)));
    let labels: Vec<i64> = data.labels[..rows].iter().map(|&l| l as i64).collect();
    let report = gradcheck_network(
        &network.cast::<f64>(),
        inputs.view(),
        &Targets::Classes(&labels),
        args.step,
    )?;
    let pass = report.max_relative_error <= args.tolerance;
    writeln!(
        std::io::stdout(),
        "{}\nchecked {} parameters on {rows} rows: max relative error {:.3e} at {} — {}",
        describe(network.config()),
        report.checked,
        report.max_relative_error,
        report.worst,
        if pass {
            format!("pass (≤ {:e})", args.tolerance)
        } else {
            format!("FAIL (> {:e})", args.tolerance)
        }
    )?;
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
