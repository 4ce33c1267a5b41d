//! `nabla loss`: the JSON contract of DESIGN.md §5. One case on stdin, `{"loss", "gradient"}`
//! on stdout; a refused pairing or bad input prints `{"error": "..."}` and exits 2.

use std::process::ExitCode;

use nabla::loss::read_and_evaluate_case;

use super::output::out;

/// Flags of `nabla loss` (none: the case arrives on standard input; see its --help).
#[derive(Debug, clap::Args)]
pub struct LossArgs {}

pub fn run(_args: LossArgs) -> anyhow::Result<ExitCode> {
    let (body, code) = read_and_evaluate_case(std::io::stdin().lock());
    out(&body.to_string());
    Ok(if code {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
