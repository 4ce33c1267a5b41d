//! What a data set's rows are trained to predict: one class index per row, one value in
//! [0, 1] per output (multi-label), one probability distribution per row, or real values.
//!
//! ```text
//! task           targets per row               sound head (default)                loss reads
//! classes        a class index c               softmax + cross-entropy (fused)     c
//! multi-label    y ∈ [0, 1]ᴷ, each independent sigmoid + binary cross-entropy (fused) y
//! distribution   y ∈ simplex: yₖ ≥ 0, Σₖ yₖ = 1 softmax + cross-entropy (fused)     y
//! regression     y ∈ ℝᴷ                        identity + mean squared error       y
//! ```
//!
//! Every output the losses accept can be trained: PyTorch's `BCEWithLogitsLoss` takes any
//! y ∈ [0, 1] and its `CrossEntropyLoss` takes probability targets, and so does nabla.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::loss::LossKind;

/// How far a distribution row's sum may be from 1.
pub const DISTRIBUTION_TOLERANCE: f64 = 1e-6;

/// The kind of target a data set carries, and so the kind of model that learns it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// One of K exclusive classes per row.
    #[default]
    Classes,
    /// K independent yes/no labels per row, each a value in [0, 1].
    MultiLabel,
    /// A probability distribution over K classes per row.
    Distribution,
    /// K real values per row.
    Regression,
}

impl Task {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str = "classes, multi-label, distribution, regression";

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classes => "classes",
            Task::MultiLabel => "multi-label",
            Task::Distribution => "distribution",
            Task::Regression => "regression",
        }
    }

    /// The output activation that models this task soundly: softmax for classes and
    /// distributions, sigmoid for multi-label, identity for regression.
    pub fn default_output(self) -> Activation {
        match self {
            Task::Classes | Task::Distribution => Activation::Softmax,
            Task::MultiLabel => Activation::Sigmoid,
            Task::Regression => Activation::Identity,
        }
    }

    /// Refuses an output that cannot hold this task's targets: a regression's real values
    /// cannot come from a softmax (its outputs sum to 1) or a log-softmax (log-probabilities,
    /// their exponentials summing to 1). Used where a network is built and where a model file
    /// is loaded, so nabla never writes a model its loader refuses.
    ///
    /// # Errors
    /// The pairing, with the reason and the fix.
    pub fn check_output(self, output: Activation) -> Result<()> {
        if self == Task::Regression
            && matches!(output, Activation::Softmax | Activation::LogSoftmax)
        {
            return Err(Error::invalid(
                "output activation",
                format!(
                    "a {output} output cannot fit regression targets: its units are tied \
                     together (probabilities summing to 1), while a regression's values are free. \
                     Use identity (the default for a regression), or --targets distribution when \
                     each row's targets are a probability distribution"
                ),
            ));
        }
        Ok(())
    }

    /// The loss of the sound head: cross-entropy, binary cross-entropy, or MSE for regression.
    pub fn default_loss(self) -> LossKind {
        match self {
            Task::Classes | Task::Distribution => LossKind::CrossEntropy,
            Task::MultiLabel => LossKind::BinaryCrossEntropy,
            Task::Regression => LossKind::Mse,
        }
    }

    /// The loss for this task behind `output` when none is named: MSE for regression, binary
    /// cross-entropy for multi-label, cross-entropy for distributions, and for classes the
    /// pairing table's default for the output (binary cross-entropy behind sigmoid, NLL behind
    /// log-softmax, cross-entropy otherwise).
    pub fn loss_for(self, output: Activation) -> LossKind {
        match self {
            Task::Regression => LossKind::Mse,
            Task::MultiLabel => LossKind::BinaryCrossEntropy,
            Task::Distribution => LossKind::CrossEntropy,
            Task::Classes => crate::head::default_loss(output),
        }
    }

    /// The task a loss trains when the targets are dense columns (several label columns, or a
    /// `(rows, k)` label array): multi-label for binary cross-entropy, distributions for
    /// cross-entropy and NLL, regression for MSE.
    pub fn of_dense_targets(loss: LossKind) -> Task {
        match loss {
            LossKind::BinaryCrossEntropy => Task::MultiLabel,
            LossKind::CrossEntropy | LossKind::Nll => Task::Distribution,
            LossKind::Mse => Task::Regression,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "classes" | "class" | "classification" => Ok(Task::Classes),
            "multi-label" | "multilabel" | "labels" => Ok(Task::MultiLabel),
            "distribution" | "distributions" | "soft" | "probabilities" => Ok(Task::Distribution),
            "regression" | "values" | "real" => Ok(Task::Regression),
            _ => Err(Error::UnknownName {
                kind: "task (--targets)",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

/// The targets of a data set's rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// No targets: rows to predict on.
    None,
    /// One class index per row, in `0..names.len()`.
    Classes {
        /// The class index of each row.
        indices: Vec<usize>,
        /// The name of each class (index → name); "0", "1", … for numeric labels.
        names: Vec<String>,
    },
    /// Dense targets: one row of values per example (multi-label, distribution, regression).
    Values {
        /// Which kind of values.
        task: Task,
        /// rows × outputs.
        values: Array2<f32>,
        /// The name of each output (the label columns).
        names: Vec<String>,
    },
}

impl Labels {
    /// The task, or `None` for unlabelled rows.
    pub fn task(&self) -> Option<Task> {
        match self {
            Labels::None => None,
            Labels::Classes { .. } => Some(Task::Classes),
            Labels::Values { task, .. } => Some(*task),
        }
    }

    /// Number of rows with targets (0 when unlabelled).
    pub fn len(&self) -> usize {
        match self {
            Labels::None => 0,
            Labels::Classes { indices, .. } => indices.len(),
            Labels::Values { values, .. } => values.nrows(),
        }
    }

    /// Whether no row has a target.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The class or output names.
    pub fn names(&self) -> &[String] {
        match self {
            Labels::None => &[],
            Labels::Classes { names, .. } | Labels::Values { names, .. } => names,
        }
    }

    /// The targets of the rows at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Labels {
        match self {
            Labels::None => Labels::None,
            Labels::Classes { indices, names } => Labels::Classes {
                indices: rows.iter().map(|&i| indices[i]).collect(),
                names: names.clone(),
            },
            Labels::Values {
                task,
                values,
                names,
            } => Labels::Values {
                task: *task,
                values: values.select(Axis(0), rows),
                names: names.clone(),
            },
        }
    }

    /// The key a stratified split groups rows by: the class; for multi-label the row's set of
    /// labels (rows with the same 0/1 pattern, values rounded at ½, form one stratum); for a
    /// distribution its arg-max; regression is not stratified (one stratum). Keys are dense
    /// indices from 0.
    pub fn strata(&self) -> Vec<usize> {
        match self {
            Labels::None => Vec::new(),
            Labels::Classes { indices, .. } => indices.clone(),
            Labels::Values {
                task: Task::Regression,
                values,
                ..
            } => vec![0; values.nrows()],
            Labels::Values {
                task: Task::Distribution,
                values,
                ..
            } => values
                .rows()
                .into_iter()
                .map(|r| arg_max(r.iter()))
                .collect(),
            Labels::Values {
                task: Task::MultiLabel | Task::Classes,
                values,
                ..
            } => {
                let mut seen: std::collections::HashMap<Vec<bool>, usize> = Default::default();
                values
                    .rows()
                    .into_iter()
                    .map(|row| {
                        let key: Vec<bool> = row.iter().map(|&v| v >= 0.5).collect();
                        let next = seen.len();
                        *seen.entry(key).or_insert(next)
                    })
                    .collect()
            }
        }
    }

    /// Checks that every target is one `loss` can read: values in [0, 1] for binary
    /// cross-entropy, rows on the simplex (within [`DISTRIBUTION_TOLERANCE`]) for cross-entropy
    /// and NLL, finite numbers always. Class indices are checked against the outputs later,
    /// by the loss.
    ///
    /// # Errors
    /// The first bad row, 0-based, and what it holds.
    pub fn check_for(&self, loss: LossKind) -> Result<()> {
        let Labels::Values { values, .. } = self else {
            return Ok(());
        };
        check_values(values.view(), loss)
    }
}

/// See [`Labels::check_for`].
fn check_values(values: ArrayView2<f32>, loss: LossKind) -> Result<()> {
    for (row, targets) in values.rows().into_iter().enumerate() {
        if let Some(v) = targets.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(
                format!("target row {row}"),
                format!("{v} is not a finite number"),
            ));
        }
        match loss {
            LossKind::BinaryCrossEntropy => {
                if let Some((k, v)) = targets
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !(0.0..=1.0).contains(*v))
                {
                    return Err(Error::invalid(
                        format!("target row {row}, output {k}"),
                        format!(
                            "{v} is outside [0, 1]: binary cross-entropy reads each target as \
                             the probability of a yes"
                        ),
                    ));
                }
            }
            LossKind::CrossEntropy | LossKind::Nll => {
                let sum: f64 = targets.iter().map(|&v| f64::from(v)).sum();
                if targets.iter().any(|&v| v < 0.0) || (sum - 1.0).abs() > DISTRIBUTION_TOLERANCE {
                    return Err(Error::invalid(
                        format!("target row {row}"),
                        format!(
                            "not a probability distribution (values ≥ 0 summing to 1 within \
                             {DISTRIBUTION_TOLERANCE:e}): it sums to {sum}"
                        ),
                    ));
                }
            }
            LossKind::Mse => {}
        }
    }
    Ok(())
}

/// The index of the largest value (the first of ties).
pub(crate) fn arg_max<'a>(values: impl Iterator<Item = &'a f32>) -> usize {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn values(task: Task, values: Array2<f32>) -> Labels {
        let names = (0..values.ncols()).map(|c| format!("y{c}")).collect();
        Labels::Values {
            task,
            values,
            names,
        }
    }

    #[test]
    fn targets_outside_what_the_loss_reads_are_refused_with_the_row() {
        let multi = values(Task::MultiLabel, array![[0.0, 1.0], [1.0, 1.5]]);
        let error = multi
            .check_for(LossKind::BinaryCrossEntropy)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("row 1, output 1") && error.contains("1.5"),
            "{error}"
        );
        let soft = values(Task::Distribution, array![[0.25, 0.75], [0.5, 0.4]]);
        let error = soft
            .check_for(LossKind::CrossEntropy)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("row 1") && error.contains("sums to 0.9"),
            "{error}"
        );
        assert!(soft.check_for(LossKind::Mse).is_ok());
        let nan = values(Task::Regression, array![[f32::NAN]]);
        assert!(nan.check_for(LossKind::Mse).is_err());
    }

    #[test]
    fn strata_group_rows_by_label_set_arg_max_or_class() {
        let multi = values(
            Task::MultiLabel,
            array![[0.0, 1.0], [1.0, 1.0], [0.0, 0.9], [1.0, 1.0]],
        );
        assert_eq!(multi.strata(), vec![0, 1, 0, 1]);
        let soft = values(Task::Distribution, array![[0.2, 0.8], [0.9, 0.1]]);
        assert_eq!(soft.strata(), vec![1, 0]);
        let regression = values(Task::Regression, array![[3.0], [-1.0]]);
        assert_eq!(regression.strata(), vec![0, 0]);
    }

    #[test]
    fn task_defaults_are_the_sound_heads() {
        for task in [
            Task::Classes,
            Task::MultiLabel,
            Task::Distribution,
            Task::Regression,
        ] {
            let output = task.default_output();
            let loss = task.default_loss();
            let from = crate::head::default_from(output, loss);
            assert!(
                crate::head::Pairing::of(output, loss, from).is_accepted(),
                "{task}"
            );
            assert_eq!(task.name().parse::<Task>().unwrap(), task);
        }
    }
}
