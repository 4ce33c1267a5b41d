//! [`Dataset`]: the table of examples (features) and what they are trained to
//! predict ([`Labels`]).

use ndarray::Array2;

use super::features::Features;

use super::labels::{Labels, Task};
use crate::error::{Error, Result};

/// A table of examples: one row per example, one column per feature, and the rows' targets.
///
/// ```
/// use nabla::data::{Dataset, Labels};
/// use nabla::ndarray::array;
///
/// let data = Dataset::classes(
///     array![[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]],
///     vec![1, 0, 1],
///     vec!["no".into(), "yes".into()],
/// )?;
/// assert_eq!((data.len(), data.feature_count()), (3, 2));
/// assert_eq!(data.class_counts(), vec![1, 2]);
/// # Ok::<(), nabla::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// One row per example, one column per feature (owned, or read in place: [`Features`]).
    pub features: Features,
    /// The rows' targets (classes, multi-label values, distributions, real values, or none).
    pub labels: Labels,
    /// The name of each feature column (from a CSV header), empty when the source has none.
    pub feature_names: Vec<String>,
}

impl Dataset {
    /// Rows to predict on: features without targets.
    pub fn unlabelled(features: impl Into<Features>) -> Dataset {
        Dataset {
            features: features.into(),
            labels: Labels::None,
            feature_names: Vec::new(),
        }
    }

    /// Rows with one class index each, in `0..names.len()`.
    ///
    /// # Errors
    /// A class count that differs from the row count, or an index without a name.
    pub fn classes(
        features: impl Into<Features>,
        indices: Vec<usize>,
        names: Vec<String>,
    ) -> Result<Dataset> {
        if let Some((row, &c)) = indices.iter().enumerate().find(|(_, c)| **c >= names.len()) {
            return Err(Error::invalid(
                format!("label of row {row}"),
                format!("class {c} has no name: {} classes are named", names.len()),
            ));
        }
        Dataset::with_labels(features, Labels::Classes { indices, names })
    }

    /// Rows with dense targets (`values`: rows × outputs) of the given task; `names` name the
    /// outputs ("y0", "y1", … when empty).
    ///
    /// # Errors
    /// A target row count that differs from the feature rows, a class task (use
    /// [`Dataset::classes`]), or a name count that differs from the columns.
    pub fn values(
        features: impl Into<Features>,
        task: Task,
        values: Array2<f32>,
        names: Vec<String>,
    ) -> Result<Dataset> {
        if task == Task::Classes {
            return Err(Error::invalid(
                "task",
                "class targets are indices: build them with Dataset::classes",
            ));
        }
        let names = if names.is_empty() {
            (0..values.ncols()).map(|c| format!("y{c}")).collect()
        } else {
            names
        };
        if names.len() != values.ncols() {
            return Err(Error::invalid(
                "target names",
                format!(
                    "{} names for {} target columns",
                    names.len(),
                    values.ncols()
                ),
            ));
        }
        Dataset::with_labels(
            features,
            Labels::Values {
                task,
                values,
                names,
            },
        )
    }

    /// Features with the given targets.
    ///
    /// # Errors
    /// Targets for a different number of rows.
    pub fn with_labels(features: impl Into<Features>, labels: Labels) -> Result<Dataset> {
        let features = features.into();
        if !matches!(labels, Labels::None) && labels.len() != features.nrows() {
            return Err(Error::invalid(
                "targets",
                format!(
                    "{} targets for {} feature rows",
                    labels.len(),
                    features.nrows()
                ),
            ));
        }
        // The training step gathers rows from contiguous slices (copied only when they are not).
        let features = if features.is_standard_layout() {
            features
        } else {
            Features::from(crate::kernels::row_major(features.into_owned()))
        };
        let labels = match labels {
            Labels::Values {
                task,
                values,
                names,
            } => Labels::Values {
                task,
                values: crate::kernels::row_major(values),
                names,
            },
            other => other,
        };
        Ok(Dataset {
            features,
            labels,
            feature_names: Vec::new(),
        })
    }

    /// The same rows with feature names.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Dataset {
        self.feature_names = names;
        self
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.features.nrows()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of features per example.
    pub fn feature_count(&self) -> usize {
        self.features.ncols()
    }

    /// The kind of target, or `None` for unlabelled rows.
    pub fn task(&self) -> Option<Task> {
        self.labels.task()
    }

    /// The class or target-column names.
    pub fn label_names(&self) -> &[String] {
        self.labels.names()
    }

    /// The class index of each row, for class targets.
    pub fn class_indices(&self) -> Option<&[usize]> {
        match &self.labels {
            Labels::Classes { indices, .. } => Some(indices),
            _ => None,
        }
    }

    /// Number of classes (or target columns) the targets describe.
    pub fn target_width(&self) -> usize {
        self.labels.names().len()
    }

    /// The standardisation of a regression's targets, fitted on these rows: (y − mean) / std
    /// per target column; `None` for every other task.
    ///
    /// # Errors
    /// As [`crate::preprocess::NormalizationKind::fit`].
    pub fn target_standardization(&self) -> Result<Option<crate::preprocess::Normalization>> {
        match &self.labels {
            Labels::Values {
                task: Task::Regression,
                values,
                ..
            } => Ok(Some(
                crate::preprocess::NormalizationKind::Standardize.fit(values)?,
            )),
            _ => Ok(None),
        }
    }

    /// Applies a target normalisation to these rows' dense targets (class targets have none).
    ///
    /// # Errors
    /// As [`crate::preprocess::Normalization::apply`].
    pub fn normalize_targets(&mut self, targets: &crate::preprocess::Normalization) -> Result<()> {
        if let Labels::Values { values, .. } = &mut self.labels {
            targets.apply(values)?;
        }
        Ok(())
    }

    /// Whether every row has a target.
    pub fn is_labelled(&self) -> bool {
        !self.is_empty() && self.labels.len() == self.len()
    }

    /// The rows at `indices`, in that order: a copy, in memory when it fits, else in a
    /// temporary file ([`Features::build`]).
    ///
    /// # Errors
    /// No room for the copy.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset> {
        let features = Features::build(indices.len(), self.feature_count(), |i, row| {
            for (out, value) in row.iter_mut().zip(self.features.row(indices[i])) {
                *out = *value;
            }
            Ok(())
        })?;
        Ok(Dataset {
            features,
            labels: self.labels.select(indices),
            feature_names: self.feature_names.clone(),
        })
    }

    /// How many rows carry each class (class targets), or each arg-max (distributions).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.target_width()];
        match &self.labels {
            Labels::Classes { indices, .. } => {
                for &label in indices {
                    counts[label] += 1;
                }
            }
            Labels::Values {
                task: Task::Distribution,
                ..
            } => {
                for stratum in self.labels.strata() {
                    counts[stratum] += 1;
                }
            }
            _ => counts.clear(),
        }
        counts
    }

    /// Re-expresses the targets in terms of `names` (a model's classes or outputs): class
    /// indices are matched by name; dense targets must have the same columns.
    ///
    /// # Errors
    /// A label whose name is not among `names` (with the row it first occurs in), or target
    /// columns other than the model's.
    pub fn relabel(&mut self, names: &[String]) -> Result<(), String> {
        match &mut self.labels {
            Labels::None => Ok(()),
            Labels::Values { names: own, .. } => {
                if own == names {
                    Ok(())
                } else {
                    Err(format!(
                        "the target columns ({}) are not the model's outputs ({})",
                        own.join(", "),
                        names.join(", ")
                    ))
                }
            }
            Labels::Classes {
                indices,
                names: own,
            } => {
                if own == names {
                    return Ok(());
                }
                let mapping: Vec<Option<usize>> = own
                    .iter()
                    .map(|n| names.iter().position(|m| m == n))
                    .collect();
                if let Some((row, &label)) = indices
                    .iter()
                    .enumerate()
                    .find(|(_, l)| mapping[**l].is_none())
                {
                    return Err(format!(
                        "row {row}: label '{}' is not one of the model's {} classes ({})",
                        own[label],
                        names.len(),
                        names.join(", ")
                    ));
                }
                for label in indices.iter_mut() {
                    *label = mapping[*label].expect("checked above");
                }
                *own = names.to_vec();
                Ok(())
            }
        }
    }
}
