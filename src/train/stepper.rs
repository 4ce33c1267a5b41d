//! [`Stepper`]: one allocation-free optimisation step at a time.

use ndarray::{Array2, s};

use crate::data::{Dataset, Labels};
use crate::error::{Error, Result};
use crate::loss::Targets;
use crate::network::{Gradients, Network, Workspace};
use crate::optim::{Optimizer, OptimizerConfig};

/// One optimisation step at a time over rows of a data set: the rows are gathered into a
/// preallocated batch, then forward, backward and the optimiser's update run in buffers sized
/// once, so a step allocates nothing.
pub struct Stepper<'a> {
    data: &'a Dataset,
    optimizer: Optimizer<f32>,
    workspace: Workspace<f32>,
    gradients: Gradients<f32>,
    batch_features: Array2<f32>,
    /// Class targets of the batch (class data), or empty.
    batch_labels: Vec<i64>,
    /// Dense targets of the batch (multi-label, distribution, regression data), or 0 × 0.
    batch_targets: Array2<f32>,
    rows: usize,
}

impl<'a> Stepper<'a> {
    /// Buffers for batches of up to `batch` rows of `data`, and a fresh optimiser.
    pub fn new(
        network: &Network<f32>,
        data: &'a Dataset,
        optimizer: OptimizerConfig,
        batch: usize,
    ) -> Result<Self> {
        let batch = batch.min(data.len()).max(1);
        network.with_settings(crate::kernels::reserve_packing_buffers);
        let (labels, targets) = match &data.labels {
            Labels::Classes { .. } => (batch, (0, 0)),
            Labels::Values { values, .. } => (0, (batch, values.ncols())),
            Labels::None => {
                return Err(Error::invalid(
                    "training data",
                    "needs targets: every row must be labelled",
                ));
            }
        };
        Ok(Stepper {
            data,
            optimizer: Optimizer::new(optimizer, network)?,
            workspace: network.try_workspace(batch)?,
            gradients: network.zero_gradients(),
            batch_features: Array2::zeros((batch, data.feature_count())),
            batch_labels: vec![0; labels],
            batch_targets: Array2::zeros(targets),
            rows: 0,
        })
    }

    /// The optimiser (for schedules and checkpoints).
    pub fn optimizer_mut(&mut self) -> &mut Optimizer<f32> {
        &mut self.optimizer
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &Optimizer<f32> {
        &self.optimizer
    }

    /// One step on the rows `rows` of the data: returns the batch loss.
    pub fn step(&mut self, network: &mut Network<f32>, rows: &[usize]) -> Result<f64> {
        let loss = self.gradients_for(network, rows)?;
        self.apply(network, None);
        Ok(loss)
    }

    /// Forward and backward on the rows `rows`: the batch loss, with the gradients kept for
    /// [`Stepper::apply`].
    pub fn gradients_for(&mut self, network: &Network<f32>, rows: &[usize]) -> Result<f64> {
        let n = rows.len();
        let width = self.data.feature_count();
        let source = self
            .data
            .features
            .as_slice()
            .expect("data sets are kept in standard layout");
        let batch = self
            .batch_features
            .as_slice_mut()
            .expect("the batch buffer is standard layout");
        let threads = network.threads();
        crate::kernels::with_threads(threads, || {
            crate::kernels::elementwise::gather_rows(source, width, rows, batch)
        });
        self.rows = n;
        let targets = match &self.data.labels {
            Labels::Classes { indices, .. } => {
                for (label, &i) in self.batch_labels.iter_mut().zip(rows) {
                    *label = indices[i] as i64;
                }
                Targets::Classes(&self.batch_labels[..n])
            }
            Labels::Values { values, .. } => {
                let source = values
                    .as_slice()
                    .expect("targets are kept in standard layout");
                let batch = self
                    .batch_targets
                    .as_slice_mut()
                    .expect("the batch buffer is standard layout");
                crate::kernels::with_threads(threads, || {
                    crate::kernels::elementwise::gather_rows(source, values.ncols(), rows, batch)
                });
                Targets::Dense(self.batch_targets.slice(s![..n, ..]))
            }
            Labels::None => unreachable!("refused by Stepper::new"),
        };
        Ok(network
            .loss_and_gradients(
                self.batch_features.slice(s![..n, ..]),
                &targets,
                &mut self.workspace,
                &mut self.gradients,
            )?
            .total())
    }

    /// Whether [`Stepper::correct`] counts anything for these targets.
    pub fn counts_correct(&self) -> bool {
        matches!(
            self.data.labels,
            Labels::Classes { .. }
                | Labels::Values {
                    task: crate::data::Task::Distribution,
                    ..
                }
        )
    }

    /// How many rows of the last batch the network classified right (class targets, and the
    /// arg-max of distribution targets; `None` for the other tasks): the arg-max of the output
    /// layer's pre-activations, which every output activation preserves (or z > 0 for a single
    /// sigmoid unit). What Keras reports as the training accuracy, at no extra pass.
    pub fn correct(&self, network: &Network<f32>) -> Option<usize> {
        let last = network.layers().len() - 1;
        let z = self.workspace.pre_activations(last, self.rows);
        let predicted = |row: ndarray::ArrayView1<f32>| {
            if row.len() == 1 {
                usize::from(row[0] > 0.0)
            } else {
                crate::data::arg_max(row.iter())
            }
        };
        match &self.data.labels {
            Labels::Classes { .. } => Some(
                z.rows()
                    .into_iter()
                    .zip(&self.batch_labels[..self.rows])
                    .filter(|(row, label)| predicted(*row) as i64 == **label)
                    .count(),
            ),
            Labels::Values {
                task: crate::data::Task::Distribution,
                ..
            } => Some(
                z.rows()
                    .into_iter()
                    .zip(self.batch_targets.rows())
                    .filter(|(row, target)| predicted(*row) == crate::data::arg_max(target.iter()))
                    .count(),
            ),
            _ => None,
        }
    }

    /// Clips the gradients to a global L2 norm of `clip` when given, then updates the
    /// parameters. Returns the gradients' norm before clipping when it was computed.
    pub fn apply(&mut self, network: &mut Network<f32>, clip: Option<f64>) -> Option<f64> {
        let norm = clip.map(|max| {
            let norm = self.gradients.norm();
            let coefficient = max / (norm + 1e-6);
            if coefficient < 1.0 {
                self.gradients.scale(coefficient as f32);
            }
            norm
        });
        self.optimizer.step(network, &self.gradients);
        norm
    }

    /// The first place holding NaN or ∞ after [`Stepper::gradients_for`]: pre-activations and
    /// activations of each layer, then each layer's gradients.
    pub fn fault(&self, network: &Network<f32>) -> Option<String> {
        let finite = |values: ndarray::ArrayView2<f32>| values.iter().all(|v| v.is_finite());
        for l in 0..network.layers().len() {
            if !finite(self.workspace.pre_activations(l, self.rows)) {
                return Some(format!("layer {} pre-activations z", l + 1));
            }
            if l + 1 < network.layers().len() && !finite(self.workspace.activations(l, self.rows)) {
                return Some(format!("layer {} activations a", l + 1));
            }
        }
        for (l, g) in self.gradients.layers.iter().enumerate() {
            if !g.weights.iter().chain(&g.bias).all(|v| v.is_finite()) {
                return Some(format!("layer {} gradients (∂C/∂W or ∂C/∂b)", l + 1));
            }
        }
        None
    }
}
