//! What a model says about each row, per task, and how it is printed (`nabla predict`).
//!
//! ```text
//! classes        the class (arg-max; p > ½ for one sigmoid unit) and every class probability
//! multi-label    each label's probability and its 0/1 decision at the threshold
//! distribution   the predicted distribution and its arg-max class
//! regression     the predicted values
//! ```

use ndarray::{Array2, ArrayView2};
use serde_json::{Value, json};

use crate::data::{Dataset, Task};
use crate::error::{Error, Result};
use crate::format::{Format, csv_field};
use crate::head::HeadPath;
use crate::metrics::predicted_classes;
use crate::model::Model;

/// A model's outputs for rows, with the task's reading of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// What the outputs predict.
    pub task: Task,
    /// Class or target names.
    pub names: Vec<String>,
    /// One row per example: class probabilities (a single sigmoid output expanded to
    /// [1 − p, p]), label probabilities, a distribution, or values.
    pub outputs: Array2<f32>,
    /// The multi-label threshold.
    pub threshold: f64,
    /// Whether the outputs are not probabilities (a pairing trained with allow_unsafe).
    pub unsound: bool,
}

impl Predictions {
    /// Runs `model` on `rows` (already normalised, see [`Model::prepare`]).
    ///
    /// # Errors
    /// A row whose outputs are not finite ([`Predictions::of_features`]).
    pub fn new(model: &Model, rows: &Dataset, threshold: f64) -> Result<Self> {
        Predictions::of_features(model, rows.features.view(), threshold)
    }

    /// Runs `model` on raw features (in the data's own units): read in place when the model
    /// has no input normalisation (an estimator fitted from Python), normalised in a copy
    /// otherwise.
    ///
    /// # Errors
    /// Features the normalisation turns non-finite, or a feature count the model does not take.
    pub fn of_raw(model: &Model, raw: ArrayView2<f32>, threshold: f64) -> Result<Self> {
        if matches!(model.normalization, crate::preprocess::Normalization::None) {
            return Predictions::of_features(model, raw, threshold);
        }
        let mut features = raw.to_owned();
        model.normalization.apply(&mut features)?;
        Predictions::of_features(model, features.view(), threshold)
    }

    /// Runs `model` on normalised features, read in place.
    ///
    /// # Errors
    /// A row whose outputs are not finite numbers: finite features so large that they overflow
    /// f32 through the weights (3e38 in every column gave outputs 0, 0, NaN, NaN with exit 0),
    /// or weights that do. Named by its row, 0-based, as the predictions number them.
    pub fn of_features(model: &Model, features: ArrayView2<f32>, threshold: f64) -> Result<Self> {
        let raw = model.outputs(features);
        if let Some((row, values)) = raw
            .rows()
            .into_iter()
            .enumerate()
            .find(|(_, values)| values.iter().any(|v| !v.is_finite()))
        {
            let largest = features.row(row).iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let value = values
                .iter()
                .find(|v| !v.is_finite())
                .copied()
                .unwrap_or(f32::NAN);
            return Err(Error::invalid(
                format!("row {row}"),
                format!(
                    "the model's outputs there are not numbers ({value}): its features (up to \
                     {largest:e} in size, as the model sees them) overflow f32 through its \
                     weights; give features on the scale of its training data"
                ),
            ));
        }
        let outputs = if model.task == Task::Classes && raw.ncols() == 1 {
            // A single sigmoid output is the probability of class 1 of two.
            Array2::from_shape_fn((raw.nrows(), 2), |(r, c)| {
                if c == 1 {
                    raw[[r, 0]]
                } else {
                    1.0 - raw[[r, 0]]
                }
            })
        } else {
            raw
        };
        Ok(Predictions {
            task: model.task,
            names: model.label_names.clone(),
            outputs,
            threshold,
            unsound: model.network.head().path() == HeadPath::Clipped,
        })
    }

    /// The predicted class of each row (classes and distributions).
    pub fn classes(&self) -> Vec<usize> {
        predicted_classes(self.outputs.view())
    }

    /// Rows with an output outside [0, 1] (possible only for unsound pairings).
    pub fn rows_outside_unit_interval(&self) -> usize {
        self.outputs
            .rows()
            .into_iter()
            .filter(|r| r.iter().any(|v| !(0.0..=1.0).contains(v)))
            .count()
    }

    /// A warning for predictions of an unsound model, if any.
    pub fn warning(&self) -> Option<String> {
        self.unsound.then(|| {
            format!(
                "warning: this model was trained with allow_unsafe: its outputs are not \
                 probabilities ({} of {} rows have an output outside [0, 1])",
                self.rows_outside_unit_interval(),
                self.outputs.nrows()
            )
        })
    }

    /// The warning [`Predictions::warning`] gives for `model` on `rows` (normalised), without
    /// keeping the predictions: what `evaluate` says before the scores of an unsound model.
    pub fn warning_for(model: &Model, rows: &Dataset) -> Option<String> {
        (model.network.head().path() == HeadPath::Clipped)
            .then(|| Predictions::new(model, rows, 0.5).ok()?.warning())
            .flatten()
    }

    /// The predictions as text in `format` (csv, jsonl or json).
    ///
    /// # Errors
    /// A format predictions are not printed in.
    pub fn render(&self, format: Format) -> Result<String> {
        let format = format.check("predict", &[Format::Csv, Format::Jsonl, Format::Json])?;
        let rows: Vec<Value> = (0..self.outputs.nrows())
            .map(|r| self.row_json(r))
            .collect();
        Ok(match format {
            Format::Json => format!("{}\n", json!({ "task": self.task.name(), "rows": rows })),
            Format::Jsonl => rows.iter().map(|r| format!("{r}\n")).collect(),
            _ => self.csv(),
        })
    }

    fn row_json(&self, r: usize) -> Value {
        let values: Vec<f32> = self.outputs.row(r).to_vec();
        match self.task {
            Task::Classes | Task::Distribution => {
                let class =
                    &self.names[predicted_classes(self.outputs.slice(ndarray::s![r..=r, ..]))[0]];
                json!({"row": r, "class": class, "probabilities": values})
            }
            Task::MultiLabel => {
                let labels: Vec<&String> = self
                    .names
                    .iter()
                    .zip(&values)
                    .filter(|(_, p)| f64::from(**p) > self.threshold)
                    .map(|(n, _)| n)
                    .collect();
                json!({"row": r, "labels": labels, "probabilities": values})
            }
            Task::Regression => json!({"row": r, "values": values}),
        }
    }

    fn csv(&self) -> String {
        let mut text = String::from("row");
        let names: Vec<String> = self.names.iter().map(|n| csv_field(n)).collect();
        // The prefix goes inside the quotes of a name that needs them ("p_a,b", not p_"a,b").
        let probabilities: Vec<String> = self
            .names
            .iter()
            .map(|n| csv_field(&format!("p_{n}")))
            .collect();
        match self.task {
            Task::Classes | Task::Distribution => {
                text.push_str(",class");
                for p in &probabilities {
                    text.push_str(&format!(",{p}"));
                }
            }
            Task::MultiLabel => {
                for n in &names {
                    text.push_str(&format!(",{n}"));
                }
                for p in &probabilities {
                    text.push_str(&format!(",{p}"));
                }
            }
            Task::Regression => {
                for n in &names {
                    text.push_str(&format!(",{n}"));
                }
            }
        }
        text.push('\n');
        let classes = self.classes();
        for (r, row) in self.outputs.rows().into_iter().enumerate() {
            text.push_str(&r.to_string());
            match self.task {
                Task::Classes | Task::Distribution => {
                    text.push_str(&format!(",{}", csv_field(&self.names[classes[r]])));
                }
                Task::MultiLabel => {
                    for p in &row {
                        text.push_str(&format!(",{}", u8::from(f64::from(*p) > self.threshold)));
                    }
                }
                Task::Regression => {}
            }
            for p in &row {
                text.push_str(&format!(",{p}"));
            }
            text.push('\n');
        }
        text
    }
}
