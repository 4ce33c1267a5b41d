//! `nabla download`: fetch MNIST or Fashion-MNIST into the cache (SHA-256 verified).

use std::io::Write;
use std::process::ExitCode;

use nabla::data::download::remote;

use super::data_args::DownloadArgs;

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
    let dir = args.download.fetch(set)?;
    writeln!(std::io::stdout(), "{}", dir.display())?;
    Ok(ExitCode::SUCCESS)
}
