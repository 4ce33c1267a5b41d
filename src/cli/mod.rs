//! The command line: one file per subcommand. Each converts its flags into library configs and
//! calls the library; no math lives here. Flag doc comments are the `--help` text.

mod loss;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// nabla: train feed-forward networks with cross-entropy losses whose gradients are correct by
/// construction, verified and explained.
#[derive(Debug, Parser)]
#[command(name = "nabla", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read one loss case as JSON on stdin; print its loss and gradient as JSON.
    Loss(loss::LossArgs),
}

/// Runs the parsed command line.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(Command::Loss(args)) => loss::run(args),
        None => anyhow::bail!("no subcommand given (see `nabla --help`)"),
    }
}

/// Whether the error is a closed stdout (`nabla predict … | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
