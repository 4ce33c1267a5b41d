//! `nabla loss`: the JSON contract of DESIGN.md §5. One case on stdin, `{"loss", "gradient"}`
//! on stdout; a refused pairing or bad input prints `{"error": "..."}` and exits 2.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use nabla::loss::evaluate_case;
use serde_json::json;

/// Flags of `nabla loss` (none: the case arrives on stdin).
#[derive(Debug, clap::Args)]
pub struct LossArgs {}

pub fn run(_args: LossArgs) -> anyhow::Result<ExitCode> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the case from stdin")?;
    let (body, code) = match evaluate_case(&input) {
        Ok(result) => (result, ExitCode::SUCCESS),
        Err(message) => (json!({ "error": message }), ExitCode::from(2)),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{body}").context("writing the result")?;
    Ok(code)
}
