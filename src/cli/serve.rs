//! `nabla serve`: the local playground, explain and runs pages (`nabla::serve`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nabla::serve::{ServeConfig, serve_until_interrupted};

use super::output::{note, out};

/// Flags of `nabla serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The port to listen on (0: any free port; the URL printed says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on. Anything but a loopback address lets other machines in.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The folder whose --metrics files the runs page shows, live.
    #[arg(long, default_value = ".")]
    pub runs: PathBuf,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        runs: args.runs,
    };
    if let Some(warning) = config.exposure_warning() {
        note(&warning);
    }
    serve_until_interrupted(&config, |address| {
        let shown = if address.ip().is_loopback() {
            format!("http://localhost:{}", address.port())
        } else {
            format!("http://{address}")
        };
        out(&format!(
            "nabla serve: {shown}  (playground /, explain /explain, runs /runs over {}; Ctrl-C stops)",
            config.runs.display()
        ));
    })?;
    note("stopped");
    Ok(ExitCode::SUCCESS)
}
