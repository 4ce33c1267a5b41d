//! `nabla evaluate`: a saved model's scores on rows (by default its held-out test rows).

use std::path::PathBuf;
use std::process::ExitCode;

use nabla::format::Format;
use nabla::metrics::EvaluateOptions;
use nabla::workflow::load_model_and_rows;

use super::model_args::ModelDataArgs;
use super::output::{DownloadBar, note, out};

/// Flags of `nabla evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub model: ModelDataArgs,
    /// Also draw the scores as a PNG: the confusion matrix (classes, distributions), per-label
    /// precision/recall/F1 (multi-label), or predicted against true values (regression).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// text or json.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Print one JSON object instead of the text report (as --format json).
    #[arg(long)]
    pub json: bool,
    /// Multi-label decision threshold: label k is predicted where its probability > t.
    #[arg(long, default_value_t = nabla::metrics::DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

pub fn run(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let format = if args.json {
        Format::Json
    } else {
        args.format.parse::<Format>()?
    }
    .check("evaluate", &[Format::Text, Format::Json])?;
    let request = args.model.request(true)?;
    if let Some(plot) = &args.plot {
        nabla::plot::check_output("--plot", plot, &request.inputs())?;
    }
    let mut bar = DownloadBar::default();
    let loaded = load_model_and_rows(&request, &mut |p| bar.show(p))?;
    for n in &loaded.notes {
        note(n);
    }
    let options = EvaluateOptions {
        threshold: args.threshold,
        ..EvaluateOptions::default()
    };
    let result = loaded.model.evaluate(&loaded.rows, &options)?;
    let names = &loaded.model.label_names;
    let warning = nabla::workflow::Predictions::warning_for(&loaded.model, &loaded.rows);
    if let Some(warning) = &warning {
        note(warning);
    }
    if format == Format::Json {
        let mut body = result.to_json(names);
        body["scored"] = loaded.scored.clone().into();
        if let Some(warning) = warning {
            body["warning"] = warning.into();
        }
        out(&body.to_string());
    } else {
        out(&format!(
            "model: {} ({})",
            request.model.display(),
            loaded.model.network.config().describe()
        ));
        out(&format!("rows: {}", loaded.scored));
        out(result.report(names).trim_end());
    }
    if let Some(path) = &args.plot {
        nabla::plot::evaluation_plot(path, &loaded.model, &loaded.rows, &result)?;
        if format != Format::Json {
            out(&format!("wrote {}", path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}
