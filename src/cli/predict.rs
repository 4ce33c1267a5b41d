//! `nabla predict`: the predicted class and the class probabilities of each row.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use nabla::metrics::predicted_classes;
use serde_json::json;

use super::data_args::DataArgs;
use super::evaluate::model_and_data;

/// Flags of `nabla predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// The model's config JSON, for weights saved without nabla's metadata.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// csv (row, class, one probability column per class) or jsonl (one object per row).
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: PredictArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        matches!(args.format.as_str(), "csv" | "jsonl"),
        "--format must be csv or jsonl, got '{}'",
        args.format
    );
    let (model, data) = model_and_data(&args.model, args.config.as_deref(), &args.data, false)?;
    let outputs = model.network.predict(data.features.view());
    let classes = predicted_classes(outputs.view());
    let names = &model.label_names;
    let mut text = String::new();
    if args.format == "csv" {
        text.push_str("row,class");
        for name in names {
            text.push_str(&format!(",p_{}", csv_field(name)));
        }
        text.push('\n');
    }
    for (row, (output, &class)) in outputs.rows().into_iter().zip(&classes).enumerate() {
        // A single sigmoid output is the probability of class 1 of two.
        let probabilities: Vec<f32> = if output.len() == 1 {
            vec![1.0 - output[0], output[0]]
        } else {
            output.to_vec()
        };
        if args.format == "csv" {
            text.push_str(&format!("{row},{}", csv_field(&names[class])));
            for p in &probabilities {
                text.push_str(&format!(",{p}"));
            }
            text.push('\n');
        } else {
            text.push_str(
                &json!({"row": row, "class": names[class], "probabilities": probabilities})
                    .to_string(),
            );
            text.push('\n');
        }
    }
    match &args.output {
        Some(path) => nabla::io::write_atomically(path, text.as_bytes())
            .with_context(|| format!("writing predictions to {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
