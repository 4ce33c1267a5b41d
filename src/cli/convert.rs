//! `nabla convert`: a CSV table of any size streamed into `.npy` features and labels, in
//! bounded memory (`nabla::data::csv_to_npy`).

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::data::{LoadOptions, csv_to_npy};

use super::data_args::CsvColumnArgs;
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
    #[command(flatten)]
    pub columns: CsvColumnArgs,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let options = LoadOptions {
        label_columns: args.columns.label_column.clone(),
        header: args.columns.header(),
        delimiter: args.columns.delimiter,
        index_column: args.columns.index_column(),
        missing: args.columns.missing,
        ..LoadOptions::default()
    };
    let labels_out = args.labels_out.as_deref();
    let converted = if args.input.as_os_str() == "-" {
        let stdin = std::io::stdin().lock();
        csv_to_npy(
            stdin,
            "<stdin>".as_ref(),
            &args.output,
            labels_out,
            &options,
        )?
    } else {
        let file =
            std::fs::File::open(&args.input).map_err(|e| nabla::Error::io(&args.input, e))?;
        csv_to_npy(file, &args.input, &args.output, labels_out, &options)?
    };
    for line in &converted.notes {
        note(&format!("note: {line}"));
    }
    out(&format!(
        "wrote {} ({} rows × {} features) and {} (labels: {})",
        args.output.display(),
        converted.rows,
        converted.features.len(),
        converted.labels_file.display(),
        converted.labels.join(", ")
    ));
    Ok(ExitCode::SUCCESS)
}
