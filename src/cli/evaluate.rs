//! `nabla evaluate`: a saved model's accuracy, loss, per-class metrics and confusion matrix.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use nabla::data::Dataset;
use nabla::io::load_model;
use nabla::metrics::{Evaluation, evaluate};
use nabla::model::Model;
use serde_json::json;

use super::data_args::DataArgs;
use super::network_args::describe;

/// Flags of `nabla evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// The model's config JSON, for weights saved without nabla's metadata.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Also draw the confusion matrix as a heat map to this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
}

/// Loads the model and the rows to score: the source's own test set when it has one (an MNIST
/// directory), else all its rows; normalised and labelled in the model's terms.
pub fn model_and_data(
    model: &std::path::Path,
    config: Option<&std::path::Path>,
    data: &DataArgs,
    require_labels: bool,
) -> anyhow::Result<(Model, Dataset)> {
    let model = load_model(model, config)?;
    let loaded = data.load(0, require_labels, Some(model.network.config().inputs))?;
    let mut rows = loaded.test.unwrap_or(loaded.train);
    model.prepare(&mut rows)?;
    Ok((model, rows))
}

pub fn run(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let (model, data) = model_and_data(&args.model, args.config.as_deref(), &args.data, true)?;
    let result = evaluate(&model.network, &data, 1024)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let per_class: Vec<_> = model
            .label_names
            .iter()
            .zip(&result.per_class)
            .map(|(name, m)| json!({"class": name, "precision": m.precision, "recall": m.recall, "f1": m.f1, "support": m.support}))
            .collect();
        let confusion: Vec<Vec<usize>> = result
            .confusion
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect();
        let body = json!({"rows": data.len(), "accuracy": result.accuracy, "loss": result.loss, "per_class": per_class, "confusion": confusion});
        writeln!(out, "{body}")?;
    } else {
        writeln!(
            out,
            "model: {} ({})",
            args.model.display(),
            describe(model.network.config())
        )?;
        writeln!(out, "data: {} ({} rows)", args.data.data, data.len())?;
        write!(out, "{}", report(&result, &model.label_names))?;
    }
    if let Some(path) = &args.plot {
        nabla::plot::confusion_heatmap(path, &result.confusion, &model.label_names)?;
        if !args.json {
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The text report: headline numbers, per-class table, confusion matrix.
fn report(result: &Evaluation, names: &[String]) -> String {
    let mut text = format!(
        "accuracy: {:.4}\nloss: {:.4}\n\n",
        result.accuracy, result.loss
    );
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(1)
        .max(5);
    text.push_str(&format!(
        "{:<width$}  precision  recall  f1      support\n",
        "class"
    ));
    for (name, m) in names.iter().zip(&result.per_class) {
        text.push_str(&format!(
            "{name:<width$}  {:<9.4}  {:<6.4}  {:<6.4}  {}\n",
            m.precision, m.recall, m.f1, m.support
        ));
    }
    let cell = result
        .confusion
        .iter()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(1)
        .max(width.min(6));
    text.push_str("\nconfusion matrix (rows: true class, columns: predicted class)\n");
    text.push_str(&format!("{:<width$}", ""));
    for name in names {
        text.push_str(&format!(" {:>cell$}", truncate(name, cell)));
    }
    text.push('\n');
    for (name, row) in names.iter().zip(result.confusion.rows()) {
        text.push_str(&format!("{name:<width$}"));
        for count in row {
            text.push_str(&format!(" {count:>cell$}"));
        }
        text.push('\n');
    }
    text
}

fn truncate(name: &str, width: usize) -> String {
    name.chars().take(width).collect()
}
