//! The `nabla` command: clap parsing, then one function per subcommand in `cli/`.
//! Every error ends the process with exit code 2 and its full explanation on stderr.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::allocations::CountingAllocator;

/// Counts allocations so `nabla bench` can show that a training step allocates nothing.
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    // A file read in place that another program truncates meanwhile: an error naming it, exit 2.
    nabla::data::report_truncated_files();
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            if cli::is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            cli::output::note(&format!("error: {error:#}"));
            ExitCode::from(2)
        }
    }
}
