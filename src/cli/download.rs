//! `nabla download`: fetch MNIST or Fashion-MNIST into the cache (SHA-256 verified).

use std::process::ExitCode;

use nabla::data::download::{ensure_downloaded, remote};

use super::data_args::DownloadArgs;
use super::output::{DownloadBar, out};

/// Flags of `nabla download`.
#[derive(Debug, clap::Args)]
pub struct DownloadCommandArgs {
    /// mnist or fashion-mnist.
    pub set: String,
    #[command(flatten)]
    pub download: DownloadArgs,
}

pub fn run(args: DownloadCommandArgs) -> anyhow::Result<ExitCode> {
    let set = remote(&args.set).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown data set '{}': expected mnist or fashion-mnist",
            args.set
        )
    })?;
    let mut bar = DownloadBar::default();
    let dir = ensure_downloaded(set, &args.download.options(), &mut |p| bar.show(p))?;
    out(&dir.display().to_string());
    Ok(ExitCode::SUCCESS)
}
