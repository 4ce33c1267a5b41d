//! [`Stepper`]: one allocation-free optimisation step at a time.

use ndarray::{Array2, s};

use crate::data::{Dataset, Labels};
use crate::error::{Error, Result};
use crate::loss::Targets;
use crate::network::{Gradients, LayerDone, Network, Workspace};
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
    /// The next batch's features, gathered during this step when the caller said which rows
    /// come next, and the rows they are (empty: none).
    prefetched: Array2<f32>,
    prefetched_rows: Vec<usize>,
    /// Class targets of the batch (class data), or empty.
    batch_labels: Vec<i64>,
    /// Dense targets of the batch (multi-label, distribution, regression data), or 0 × 0.
    batch_targets: Array2<f32>,
    rows: usize,
    /// Data-parallel runs: this rank's weighted gradients and extras, flattened (summed in
    /// place by the ring), and a chunk's worth of scratch (sized on first use).
    outgoing: Vec<f32>,
    incoming: Vec<f32>,
    /// Time spent in [`Stepper::combine_across`] and its calls, since last taken.
    combine_time: std::time::Duration,
    combines: u32,
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
            prefetched: Array2::zeros((batch, data.feature_count())),
            prefetched_rows: Vec::with_capacity(batch),
            batch_labels: vec![0; labels],
            batch_targets: Array2::zeros(targets),
            rows: 0,
            outgoing: Vec::new(),
            incoming: Vec::new(),
            combine_time: std::time::Duration::ZERO,
            combines: 0,
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
        self.step_then(network, rows, None)
    }

    /// [`Stepper::step`], told the next step's rows (see [`Stepper::gradients_for_then`]).
    pub fn step_then(
        &mut self,
        network: &mut Network<f32>,
        rows: &[usize],
        next: Option<&[usize]>,
    ) -> Result<f64> {
        let loss = self.gradients_for_then(network, rows, next)?;
        self.apply(network, None);
        Ok(loss)
    }

    /// Forward and backward on the rows `rows`: the batch loss, with the gradients kept for
    /// [`Stepper::apply`].
    pub fn gradients_for(&mut self, network: &Network<f32>, rows: &[usize]) -> Result<f64> {
        self.gradients_for_then(network, rows, None)
    }

    /// [`Stepper::gradients_for`], told the rows of the next step: a helper thread gathers
    /// them while this step's small last layer runs (when there is a helper), and the next
    /// call with those rows finds them gathered. The results are the same as without.
    pub fn gradients_for_then(
        &mut self,
        network: &Network<f32>,
        rows: &[usize],
        next: Option<&[usize]>,
    ) -> Result<f64> {
        self.gradients_sending(network, rows, next, None)
    }

    /// [`Stepper::gradients_for_then`], handing each layer but the first over to `sending`'s
    /// reducer (weighted by its weight, nᵣ/B or 1) as soon as the backward pass has finished
    /// it, so that the ranks sum it while the layers below run; [`Stepper::combine_through`]
    /// then sends the first layer and waits for the sums.
    pub(crate) fn gradients_sending(
        &mut self,
        network: &Network<f32>,
        rows: &[usize],
        next: Option<&[usize]>,
        sending: Option<(&super::overlap::LayerReducer, f64)>,
    ) -> Result<f64> {
        let n = rows.len();
        let width = self.data.feature_count();
        let source = self
            .data
            .features
            .as_slice()
            .expect("data sets are kept in standard layout");
        let threads = network.threads();
        if self.prefetched_rows == rows {
            std::mem::swap(&mut self.batch_features, &mut self.prefetched);
        } else {
            let batch = self
                .batch_features
                .as_slice_mut()
                .expect("the batch buffer is standard layout");
            crate::kernels::with_threads(threads, || {
                crate::kernels::elementwise::gather_rows(source, width, rows, batch)
            });
        }
        self.prefetched_rows.clear();
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
        // The next rows, gathered beside the last layer (at most a batch of them) when the
        // network runs side work there; else each batch is gathered on every thread.
        let next = next.filter(|next| {
            next.len() <= self.prefetched.nrows() && network.runs_beside_last_layer(n)
        });
        let prefetched = self
            .prefetched
            .as_slice_mut()
            .expect("the batch buffer is standard layout");
        let gather = next.map(|next| {
            crate::kernels::elementwise::SharedGather::new(source, width, next, prefetched)
        });
        let side = gather.as_ref().map(|g| move || g.help());
        // Each layer but the first to the reducer as soon as it is final (the first goes with
        // the step's extras, in `combine_through`).
        let hand_over = |layer: usize, g: &crate::layer::DenseGradients<f32>| {
            if let Some((reducer, weight)) = sending
                && layer > 0
            {
                reducer.hand_over(layer, Some(g), weight);
            }
        };
        let loss = network.with_settings(|| {
            network.loss_and_gradients_alongside(
                self.batch_features.slice(s![..n, ..]),
                &targets,
                &mut self.workspace,
                &mut self.gradients,
                side.as_ref().map(|f| f as &(dyn Fn() + Sync)),
                sending
                    .is_some()
                    .then_some(&hand_over as LayerDone<'_, f32>),
            )
        })?;
        if let Some(next) = next {
            self.prefetched_rows.extend_from_slice(next);
        }
        Ok(loss.total())
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

    /// Data-parallel training: replaces this rank's gradients, computed on `own_rows` rows of
    /// the batch and weighted by `weight` (nᵣ/B for mean reductions, 1 for sums), by the sum of
    /// every rank's, the same bits on every rank (the ring of [`super::ranks::ring_sum`]);
    /// `extras` (the loss, the count of correct rows, flags) are summed with them. A rank with
    /// no rows adds zeros. The sums are of f32 values: they agree with one process's gradients
    /// to f32 rounding.
    pub fn combine_across(
        &mut self,
        ranks: &dyn super::Ranks,
        own_rows: usize,
        weight: f64,
        extras: &mut [f64],
    ) {
        let started = std::time::Instant::now();
        let parameters = self.gradients.count();
        let total = parameters + extras.len();
        self.outgoing.resize(total, 0.0);
        self.incoming.resize(total / ranks.size().max(1) + 2, 0.0);
        let mut start = 0;
        for layer in &self.gradients.layers {
            let end = start + layer.count();
            let gradients = (own_rows > 0).then_some(layer);
            super::ranks::weighted_into(gradients, weight, &mut self.outgoing[start..end]);
            start = end;
        }
        for (slot, &extra) in self.outgoing[parameters..].iter_mut().zip(extras.iter()) {
            *slot = extra as f32;
        }
        super::ranks::ring_sum(ranks, &mut self.outgoing, &mut self.incoming);
        let mut start = 0;
        for layer in &mut self.gradients.layers {
            super::ranks::sums_into(&self.outgoing[start..], layer);
            start += layer.count();
        }
        for (extra, &sum) in extras.iter_mut().zip(&self.outgoing[parameters..]) {
            *extra = f64::from(sum);
        }
        self.combine_time += started.elapsed();
        self.combines += 1;
    }

    /// [`Stepper::combine_across`] through the communication thread of `reducer`: hands over
    /// the layers not yet handed over by [`Stepper::gradients_sending`] (all of them when this
    /// rank computed none, as zeros), the first layer with `extras`, and waits for the sums.
    pub(crate) fn combine_through(
        &mut self,
        reducer: &super::overlap::LayerReducer,
        own_rows: usize,
        weight: f64,
        extras: &mut [f64],
    ) {
        let started = std::time::Instant::now();
        let layers = self.gradients.layers.len();
        for layer in (0..layers - reducer.handed()).rev() {
            let gradients = (own_rows > 0).then(|| &self.gradients.layers[layer]);
            reducer.hand_over(layer, gradients, weight);
        }
        reducer.finish(&mut self.gradients.layers, extras);
        self.combine_time += started.elapsed();
        self.combines += 1;
    }

    /// The mean time of [`Stepper::combine_across`] since the last call, in milliseconds
    /// (`None` when it did not run), and starts counting again.
    pub fn take_combine_ms(&mut self) -> Option<f64> {
        let mean = (self.combines > 0)
            .then(|| self.combine_time.as_secs_f64() * 1e3 / f64::from(self.combines));
        self.combine_time = std::time::Duration::ZERO;
        self.combines = 0;
        mean
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Synthetic, generate};
    use crate::network::NetworkConfig;

    /// Steps told the next rows (gathered beside the last layer on a helper), told wrong next
    /// rows, or told nothing, end with the same weights, bit for bit.
    #[test]
    fn gathering_the_next_batch_beside_the_last_layer_changes_nothing() {
        let data = generate(Synthetic::Spirals, 300, 0.2, 1).unwrap();
        let order = crate::train::epoch_order(data.len(), 3, 0);
        let batches: Vec<&[usize]> = order.chunks(32).collect();
        let run = |told: &dyn Fn(usize) -> Option<&'static [usize]>, own: bool| {
            let mut network = NetworkConfig::for_data(&data)
                .hidden([24])
                .build(0)
                .unwrap();
            network.set_threads(2);
            assert!(network.runs_beside_last_layer(32));
            let optimizer = OptimizerConfig::default_for(crate::optim::OptimizerKind::Adam);
            let mut stepper = Stepper::new(&network, &data, optimizer, 32).unwrap();
            for (k, rows) in batches.iter().enumerate() {
                let next = if own {
                    batches.get(k + 1).copied()
                } else {
                    told(k)
                };
                stepper.step_then(&mut network, rows, next).unwrap();
            }
            network.layers().to_vec()
        };
        let plain = run(&|_| None, false);
        let prefetched = run(&|_| None, true);
        static WRONG: [usize; 5] = [0, 1, 2, 3, 4];
        let wrong = run(&|_| Some(&WRONG), false);
        assert_eq!(plain, prefetched);
        assert_eq!(plain, wrong);
    }
}
