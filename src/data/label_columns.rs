//! Label columns → [`Labels`]: the one place that decides what a source's label columns mean
//! (class indices, class names, multi-label values, distributions, real values) for every
//! reader (CSV cells, `.npy` and IDX label arrays).
//!
//! ```text
//! one column, numbers    class indices 0..=max (or class names with labels_as = names)
//! one column, text       class names, in sorted order
//! several columns        multi-label values in [0, 1] (targets = multi-label, the default),
//!                        one distribution per row (targets = distribution), or real values
//!                        (targets = regression; one column is enough)
//! ```

use std::collections::BTreeSet;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::labels::{DISTRIBUTION_TOLERANCE, Labels, Task};
use super::source::TargetsChoice;

/// The most classes a label column may make: a stray large number (label 65535 in a 40-row
/// file) must not make a 65536-class model whose confusion matrix alone takes 32 GiB.
pub const MAX_CLASSES: usize = 4096;

/// How numeric class labels are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelsAs {
    /// Numbers are class indices: labels {0, 2} make classes 0, 1, 2 (PyTorch's convention).
    #[default]
    Indices,
    /// Numbers are class names: labels {1, 2, 10} make three classes "1", "2", "10".
    Names,
}

impl std::str::FromStr for LabelsAs {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "indices" | "index" => Ok(LabelsAs::Indices),
            "names" | "name" => Ok(LabelsAs::Names),
            _ => Err(crate::Error::UnknownName {
                kind: "labels-as",
                name: text.into(),
                expected: "indices, names".into(),
            }),
        }
    }
}

/// One label column as read: numbers, or text when any cell is not a number.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelColumn {
    /// Every cell a number.
    Numbers(Vec<f64>),
    /// At least one cell that is not a number.
    Text(Vec<String>),
}

impl LabelColumn {
    /// A column from CSV cells: numbers when every cell parses as one.
    pub fn from_cells(cells: Vec<String>) -> LabelColumn {
        if cells.iter().all(|c| c.parse::<f64>().is_ok()) {
            LabelColumn::Numbers(cells.iter().map(|c| c.parse().expect("checked")).collect())
        } else {
            LabelColumn::Text(cells)
        }
    }
}

/// A bad label: which row (0-based) and what is wrong.
pub type LabelError = (usize, String);

/// The [`Labels`] of `columns` (named `names`), read as `choice` says. Returns notes worth
/// telling the user (classes that never occur).
///
/// # Errors
/// The first bad row and why: text where numbers are needed, a class index that is not a whole
/// number ≥ 0 or is beyond [`MAX_CLASSES`], a distribution row that does not sum to 1.
pub fn labels_from_columns(
    columns: Vec<LabelColumn>,
    names: Vec<String>,
    choice: TargetsChoice,
    labels_as: LabelsAs,
) -> Result<(Labels, Vec<String>), LabelError> {
    let mut notes = Vec::new();
    let task = match choice {
        TargetsChoice::Task(task) => task,
        TargetsChoice::Auto if columns.len() > 1 => {
            // Several columns of numbers, some outside [0, 1], cannot be yes/no probabilities:
            // they are values to predict.
            let beyond_unit = columns.iter().all(|c| match c {
                LabelColumn::Numbers(values) => values.iter().all(|v| v.is_finite()),
                LabelColumn::Text(_) => false,
            }) && columns.iter().any(|c| {
                matches!(c, LabelColumn::Numbers(values) if values.iter().any(|v| !(0.0..=1.0).contains(v)))
            });
            if beyond_unit {
                notes.push(format!(
                    "the label columns {} hold numbers outside [0, 1], so they are trained as a \
                     regression (mean squared error); --targets chooses otherwise",
                    names.join(", ")
                ));
                Task::Regression
            } else {
                Task::MultiLabel
            }
        }
        TargetsChoice::Auto => Task::Classes,
        TargetsChoice::SeveralAs(task) if columns.len() > 1 => task,
        TargetsChoice::SeveralAs(_) => Task::Classes,
        TargetsChoice::ValuesWhenNumeric
            if columns.iter().all(|c| matches!(c, LabelColumn::Numbers(_))) =>
        {
            Task::Regression
        }
        TargetsChoice::ValuesWhenNumeric => Task::Classes,
    };
    if task == Task::Classes {
        if columns.len() != 1 {
            return Err((
                0,
                format!(
                    "class targets come from one label column, got {} ({}); for several yes/no \
                     columns use multi-label targets",
                    columns.len(),
                    names.join(", ")
                ),
            ));
        }
        let column = columns.into_iter().next().expect("one column");
        return match (column, labels_as) {
            (LabelColumn::Numbers(values), LabelsAs::Indices) => class_indices(&values),
            (LabelColumn::Numbers(values), LabelsAs::Names) => Ok((
                class_names(values.iter().map(|&v| number_name(v)).collect())?,
                vec![],
            )),
            (LabelColumn::Text(cells), _) => {
                let rows = cells.len();
                let labels = class_names(cells)?;
                let classes = labels.names().len();
                if classes > 20 && classes * 2 > rows {
                    notes.push(format!(
                        "the label column '{}' holds {classes} distinct values in {rows} rows: \
                         if they are numbers to predict, not classes, train a regression \
                         (--targets regression)",
                        names[0]
                    ));
                }
                Ok((labels, notes))
            }
        };
    }
    let rows = columns.first().map_or(0, |c| match c {
        LabelColumn::Numbers(v) => v.len(),
        LabelColumn::Text(t) => t.len(),
    });
    let mut values = Array2::<f32>::zeros((rows, columns.len()));
    for (k, column) in columns.iter().enumerate() {
        match column {
            LabelColumn::Numbers(numbers) => {
                for (row, &v) in numbers.iter().enumerate() {
                    if !v.is_finite() {
                        return Err((
                            row,
                            format!("target '{}' is {v}, not a finite number", names[k]),
                        ));
                    }
                    // Targets are f32: 1e39 would become ∞ there (and the targets' mean with
                    // it, reported without the file or the line).
                    if v.abs() > f64::from(f32::MAX) {
                        return Err((
                            row,
                            format!(
                                "target '{}' is {v:e}, beyond the largest f32 ({:e}): rescale \
                                 the column",
                                names[k],
                                f32::MAX
                            ),
                        ));
                    }
                    values[[row, k]] = v as f32;
                }
            }
            LabelColumn::Text(cells) => {
                let (row, cell) = cells
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.parse::<f64>().is_err())
                    .expect("a text column has a cell that is not a number");
                return Err((
                    row,
                    format!(
                        "target '{}': '{cell}' is not a number ({} targets are numbers)",
                        names[k],
                        task.name()
                    ),
                ));
            }
        }
    }
    if task == Task::MultiLabel
        && let Some((row, k, v)) = values
            .indexed_iter()
            .map(|((r, k), v)| (r, k, *v))
            .find(|(_, _, v)| !(0.0..=1.0).contains(v))
    {
        return Err((
            row,
            format!(
                "target '{}' is {v}, outside [0, 1]: a multi-label target is the probability of \
                 a yes (for real values, train a regression: --targets regression)",
                names[k]
            ),
        ));
    }
    if task == Task::Distribution && columns.len() < 2 {
        // A softmax over one output is 1 whatever its input: nothing to learn, and a confusion
        // matrix of one class (this used to end in an index out of bounds).
        return Err((
            0,
            format!(
                "distribution targets need a column per class, at least two, got one ({}): a \
                 single column of probabilities is the probability of a yes, trained with \
                 --targets multi-label (sigmoid + binary cross-entropy)",
                names.join(", ")
            ),
        ));
    }
    if task == Task::Distribution {
        // In f64, from the values as read (f32 rounding alone can move a sum by 1e-7).
        let value = |k: usize, row: usize| match &columns[k] {
            LabelColumn::Numbers(numbers) => numbers[row],
            LabelColumn::Text(_) => unreachable!("refused above"),
        };
        for row in 0..rows {
            if let Some(k) = (0..columns.len()).find(|&k| value(k, row) < 0.0) {
                return Err((
                    row,
                    format!(
                        "target '{}' is {}, below 0: a probability is at least 0",
                        names[k],
                        value(k, row)
                    ),
                ));
            }
            let sum: f64 = (0..columns.len()).map(|k| value(k, row)).sum();
            if (sum - 1.0).abs() > DISTRIBUTION_TOLERANCE {
                let sum = (sum * 1e9).round() / 1e9;
                return Err((
                    row,
                    format!(
                        "the targets ({}) are not a probability distribution: values ≥ 0 that sum \
                         to 1 within {DISTRIBUTION_TOLERANCE:e}; they sum to {sum}",
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    Ok((
        Labels::Values {
            task,
            values,
            names,
        },
        notes,
    ))
}

/// Class indices from numeric label values: each must be a whole number in 0..MAX_CLASSES.
/// Classes in 0..=max that never occur are named in a note.
pub fn class_indices(values: &[f64]) -> Result<(Labels, Vec<String>), LabelError> {
    let mut indices = Vec::with_capacity(values.len());
    for (row, &value) in values.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0 && value.fract() == 0.0) {
            return Err((
                row,
                format!(
                    "label '{value}' is not a class index (a whole number ≥ 0); for real-valued \
                     targets train a regression (mean squared error)"
                ),
            ));
        }
        if value >= MAX_CLASSES as f64 {
            return Err((
                row,
                format!(
                    "label {value} is too large: at most {MAX_CLASSES} classes are supported \
                     (if the numbers are names, not indices, read them as names)"
                ),
            ));
        }
        indices.push(value as usize);
    }
    let classes = indices.iter().max().map_or(0, |m| m + 1);
    let mut seen = vec![false; classes];
    for &i in &indices {
        seen[i] = true;
    }
    let unseen: Vec<String> = (0..classes)
        .filter(|&c| !seen[c])
        .map(|c| c.to_string())
        .collect();
    let mut notes = Vec::new();
    if !unseen.is_empty() {
        let shown: Vec<&str> = unseen.iter().take(8).map(String::as_str).collect();
        notes.push(format!(
            "the labels are read as class indices 0–{}: {} {} never occur ({}{}); if the numbers \
             are names, read them as names (--labels-as names)",
            classes - 1,
            unseen.len(),
            if unseen.len() == 1 {
                "class"
            } else {
                "classes"
            },
            shown.join(", "),
            if unseen.len() > 8 { ", …" } else { "" }
        ));
    }
    Ok((
        Labels::Classes {
            indices,
            names: super::numeric_label_names(classes),
        },
        notes,
    ))
}

/// Class names: the distinct labels in sorted order (numerically when they are all numbers).
fn class_names(cells: Vec<String>) -> Result<Labels, LabelError> {
    if let Some(row) = cells.iter().position(String::is_empty) {
        return Err((row, "the label cell is empty".into()));
    }
    let mut names: Vec<String> = cells
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if names.iter().all(|n| n.parse::<f64>().is_ok()) {
        names.sort_by(|a, b| {
            a.parse::<f64>()
                .expect("numeric")
                .total_cmp(&b.parse::<f64>().expect("numeric"))
        });
    }
    if names.len() > MAX_CLASSES {
        return Err((
            0,
            format!(
                "{} distinct labels: at most {MAX_CLASSES} classes are supported",
                names.len()
            ),
        ));
    }
    let indices = cells
        .iter()
        .map(|c| {
            names
                .iter()
                .position(|n| n == c)
                .expect("every label is a name")
        })
        .collect();
    Ok(Labels::Classes { indices, names })
}

/// "1" for 1.0, "2.5" for 2.5.
fn number_name(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(v: &[f64]) -> LabelColumn {
        LabelColumn::Numbers(v.to_vec())
    }

    #[test]
    fn numeric_labels_with_gaps_are_indices_with_a_note_or_names() {
        let (labels, notes) = labels_from_columns(
            vec![numbers(&[1.0, 2.0, 10.0])],
            vec!["label".into()],
            TargetsChoice::Auto,
            LabelsAs::Indices,
        )
        .unwrap();
        assert_eq!(labels.names().len(), 11);
        assert!(notes[0].contains("8 classes never occur"), "{notes:?}");
        let (labels, notes) = labels_from_columns(
            vec![numbers(&[1.0, 2.0, 10.0, 2.0])],
            vec!["label".into()],
            TargetsChoice::Auto,
            LabelsAs::Names,
        )
        .unwrap();
        assert!(notes.is_empty());
        assert_eq!(labels.names(), ["1", "2", "10"]);
        assert_eq!(
            labels,
            Labels::Classes {
                indices: vec![0, 1, 2, 1],
                names: vec!["1".into(), "2".into(), "10".into()]
            }
        );
    }

    #[test]
    fn several_columns_are_multi_label_and_distributions_must_sum_to_one() {
        let columns = vec![numbers(&[0.0, 1.0]), numbers(&[1.0, 1.0])];
        let (labels, _) = labels_from_columns(
            columns.clone(),
            vec!["a".into(), "b".into()],
            TargetsChoice::Auto,
            LabelsAs::Indices,
        )
        .unwrap();
        assert_eq!(labels.task(), Some(Task::MultiLabel));
        let (labels, notes) = labels_from_columns(
            vec![numbers(&[0.0, 1.0]), numbers(&[98.5, 101.0])],
            vec!["a".into(), "price".into()],
            TargetsChoice::Auto,
            LabelsAs::Indices,
        )
        .unwrap();
        assert_eq!(labels.task(), Some(Task::Regression));
        assert!(
            notes[0].contains("a, price hold numbers outside [0, 1]"),
            "{notes:?}"
        );
        let error = labels_from_columns(
            columns,
            vec!["a".into(), "b".into()],
            TargetsChoice::Task(Task::Distribution),
            LabelsAs::Indices,
        )
        .unwrap_err();
        assert_eq!(error.0, 1);
        assert!(error.1.contains("sum to 2"), "{error:?}");
        let text = labels_from_columns(
            vec![LabelColumn::Text(vec!["1.5".into(), "high".into()])],
            vec!["price".into()],
            TargetsChoice::Task(Task::Regression),
            LabelsAs::Indices,
        )
        .unwrap_err();
        assert_eq!(text.0, 1);
        assert!(text.1.contains("'high' is not a number"), "{text:?}");
    }

    #[test]
    fn with_mse_a_numeric_column_is_a_regression_target() {
        let read = |column: LabelColumn| {
            labels_from_columns(
                vec![column],
                vec!["y".into()],
                TargetsChoice::ValuesWhenNumeric,
                LabelsAs::Indices,
            )
            .unwrap()
            .0
            .task()
        };
        assert_eq!(read(numbers(&[0.5, 2.25])), Some(Task::Regression));
        assert_eq!(read(numbers(&[151.0, 75.0])), Some(Task::Regression));
        let names = LabelColumn::Text(vec!["cat".into(), "dog".into()]);
        assert_eq!(read(names), Some(Task::Classes));
    }

    #[test]
    fn huge_class_indices_are_refused() {
        let error = class_indices(&[0.0, 65535.0]).unwrap_err();
        assert_eq!(error.0, 1);
        assert!(error.1.contains("too large"));
    }
}
