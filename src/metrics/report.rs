//! An [`Evaluation`] as text (for a terminal) and as JSON, per task.

use std::fmt::Write;

use serde_json::{Value, json};

use super::{ClassMetrics, ClassScores, Evaluation, Scores};

fn table(out: &mut String, heading: &str, names: &[String], rows: &[ClassMetrics]) {
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(1)
        .max(heading.len());
    let _ = writeln!(out, "{heading:<width$}  precision  recall  f1      support");
    for (name, m) in names.iter().zip(rows) {
        let _ = writeln!(
            out,
            "{name:<width$}  {:<9.4}  {:<6.4}  {:<6.4}  {}",
            m.precision, m.recall, m.f1, m.support
        );
    }
}

fn confusion(out: &mut String, scores: &ClassScores, names: &[String]) {
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(1)
        .max(5);
    let cell = scores
        .confusion
        .iter()
        .map(|c| c.to_string().len())
        .chain(names.iter().map(|n| n.chars().count()))
        .max()
        .unwrap_or(1);
    let _ = writeln!(
        out,
        "\nconfusion matrix (rows: true class, columns: predicted class)"
    );
    let _ = write!(out, "{:<width$}", "");
    for name in names {
        let _ = write!(out, " {name:>cell$}");
    }
    out.push('\n');
    for (name, row) in names.iter().zip(scores.confusion.rows()) {
        let _ = write!(out, "{name:<width$}");
        for count in row {
            let _ = write!(out, " {count:>cell$}");
        }
        out.push('\n');
    }
}

impl Evaluation {
    /// The text report: the headline numbers, a table per class or label, the confusion
    /// matrix (with the full class names), or the regression scores per output.
    pub fn report(&self, names: &[String]) -> String {
        let mut out = String::new();
        match &self.scores {
            Scores::Classes(c) | Scores::Distribution(c) => {
                let what = if matches!(self.scores, Scores::Distribution(_)) {
                    "accuracy (against the arg-max of each target distribution)"
                } else {
                    "accuracy"
                };
                let _ = writeln!(out, "{what}: {:.4}\nloss: {:.4}\n", c.accuracy, self.loss);
                table(&mut out, "class", names, &c.per_class);
                confusion(&mut out, c, names);
            }
            Scores::MultiLabel(m) => {
                let _ = writeln!(
                    out,
                    "micro-F1: {:.4}\nmacro-F1: {:.4}\nhamming loss: {:.4}\nsubset accuracy: {:.4}\n\
                     loss: {:.4}\nthreshold: {}\n",
                    m.micro_f1,
                    m.macro_f1,
                    m.hamming_loss,
                    m.subset_accuracy,
                    self.loss,
                    m.threshold
                );
                table(&mut out, "label", names, &m.per_label);
            }
            Scores::Regression(r) => {
                let _ = writeln!(
                    out,
                    "R²: {:.4}\nMSE: {:.4}\nMAE: {:.4}\nloss: {:.4}",
                    r.r2, r.mse, r.mae, self.loss
                );
                if r.r2_per_output.len() > 1 {
                    let _ = writeln!(out);
                    for (name, r2) in names.iter().zip(&r.r2_per_output) {
                        let _ = writeln!(out, "R² of {name}: {r2:.4}");
                    }
                }
            }
        }
        out
    }

    /// The JSON object: `rows`, `task`, `loss` and the task's scores.
    pub fn to_json(&self, names: &[String]) -> Value {
        let per = |rows: &[ClassMetrics], key: &str| -> Vec<Value> {
            names
                .iter()
                .zip(rows)
                .map(|(name, m)| json!({key: name, "precision": m.precision, "recall": m.recall, "f1": m.f1, "support": m.support}))
                .collect()
        };
        let mut body = json!({"rows": self.rows, "task": self.task().name(), "loss": self.loss});
        let extra = match &self.scores {
            Scores::Classes(c) | Scores::Distribution(c) => {
                let confusion: Vec<Vec<usize>> =
                    c.confusion.rows().into_iter().map(|r| r.to_vec()).collect();
                json!({"accuracy": c.accuracy, "per_class": per(&c.per_class, "class"), "confusion": confusion})
            }
            Scores::MultiLabel(m) => json!({
                "micro_f1": m.micro_f1, "macro_f1": m.macro_f1, "micro_precision": m.micro_precision,
                "micro_recall": m.micro_recall, "hamming_loss": m.hamming_loss,
                "subset_accuracy": m.subset_accuracy, "threshold": m.threshold,
                "per_label": per(&m.per_label, "label"),
            }),
            Scores::Regression(r) => json!({
                "r2": r.r2, "mse": r.mse, "mae": r.mae,
                "r2_per_output": names.iter().zip(&r.r2_per_output).map(|(n, v)| json!({"target": n, "r2": v})).collect::<Vec<_>>(),
            }),
        };
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        body
    }
}
