//! `nabla convert`: a CSV table of any size streamed into `.npy` features and labels, in
//! bounded memory (`nabla::data::csv_to_npy`).

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::data::{Header, LoadOptions, csv_to_npy};

use super::output::{note, out};

/// Flags of `nabla convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The CSV table to read (- for standard input).
    pub input: PathBuf,
    /// The features file to write: .npy, f32, rows × features.
    pub output: PathBuf,
    /// The labels file to write: .npy, f64, (rows,) or (rows, label columns) [default: OUTPUT
    /// with the extension .labels.npy]. Train on both with --data OUTPUT --labels LABELS.
    #[arg(long)]
    pub labels_out: Option<PathBuf>,
    /// CSV label columns, by name or 0-based index, comma-separated [default: "label", else the
    /// last column]. Their cells must be numbers.
    #[arg(long, value_delimiter = ',')]
    pub label_column: Vec<String>,
    /// The CSV file's first line is a header (default: a line of numbers only is data).
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The CSV file has no header: its first line is data, columns are named by index.
    #[arg(long)]
    pub no_header: bool,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let labels_out = args
        .labels_out
        .clone()
        .unwrap_or_else(|| args.output.with_extension("labels.npy"));
    let options = LoadOptions {
        label_columns: args.label_column.clone(),
        header: match (args.header, args.no_header) {
            (true, _) => Header::Present,
            (_, true) => Header::Absent,
            _ => Header::Auto,
        },
        ..LoadOptions::default()
    };
    let converted = if args.input.as_os_str() == "-" {
        csv_to_npy(
            std::io::stdin().lock(),
            "<stdin>".as_ref(),
            &args.output,
            &labels_out,
            &options,
        )?
    } else {
        let file =
            std::fs::File::open(&args.input).map_err(|e| nabla::Error::io(&args.input, e))?;
        csv_to_npy(file, &args.input, &args.output, &labels_out, &options)?
    };
    for line in &converted.notes {
        note(&format!("note: {line}"));
    }
    out(&format!(
        "wrote {} ({} rows × {} features) and {} (labels: {})",
        args.output.display(),
        converted.rows,
        converted.features.len(),
        labels_out.display(),
        converted.labels.join(", ")
    ));
    Ok(ExitCode::SUCCESS)
}
