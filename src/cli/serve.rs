//! `nabla serve`: the local playground, explain and runs pages (`nabla::serve`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nabla::serve::{ServeConfig, default_max_connections, serve_until_interrupted};

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
    /// The most connections open at once; the one idle longest is closed to make room
    /// [default: half of `ulimit -n`, 16 to 512].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_connections: Option<u16>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        runs: args.runs,
        max_connections: args
            .max_connections
            .map_or_else(default_max_connections, usize::from),
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
