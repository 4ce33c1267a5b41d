//! `nabla predict`: what a saved model says about each row, per task.

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::format::Format;
use nabla::workflow::{Predictions, Rows, load_model_and_rows};

use super::model_args::ModelDataArgs;
use super::output::{DownloadBar, note, out_raw};

/// Flags of `nabla predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelDataArgs,
    /// csv (row, class, one probability column per class), jsonl (one object per row) or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Multi-label decision threshold: label k is predicted where its probability > t.
    #[arg(long, default_value_t = nabla::metrics::DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

pub fn run(args: PredictArgs) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.parse()?;
    format.check("predict", &[Format::Csv, Format::Jsonl, Format::Json])?;
    anyhow::ensure!(
        args.model.data.data.is_some(),
        "give the rows to predict on: --data FILE (or --data - for CSV on standard input)"
    );
    let mut request = args.model.request(false)?;
    // Rows given to predict on are predicted whole.
    request.rows = Rows::All;
    if let Some(path) = &args.output {
        nabla::io::check_output("--output", path, &request.inputs())?;
    }
    let mut bar = DownloadBar::default();
    let loaded = load_model_and_rows(&request, &mut |p| bar.show(p))?;
    for n in &loaded.notes {
        note(n);
    }
    let predictions =
        Predictions::new(&loaded.model, &loaded.rows, args.threshold).map_err(|e| {
            match &args.model.data.data {
                // Name the file the row came from.
                Some(data) => nabla::Error::invalid(data.to_string(), e.to_string()),
                None => e,
            }
        })?;
    if let Some(warning) = predictions.warning() {
        note(&warning);
    }
    let text = predictions.render(format)?;
    match &args.output {
        Some(path) => nabla::io::write_atomically(path, text.as_bytes())?,
        None => out_raw(&text),
    }
    Ok(ExitCode::SUCCESS)
}
