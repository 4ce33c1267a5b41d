//! A feed-forward network: dense layers with a hidden activation, and a head (output
//! activation + loss) on the last layer.
//!
//! ```text
//! a⁰ = X
//! zˡ = aˡ⁻¹·Wˡᵀ + bˡ,   aˡ = σ(zˡ)              l = 1 … L−1 (hidden)
//! z^L = a^(L−1)·W^Lᵀ + b^L,   C = head(z^L, y)
//! δ^L = ∂C/∂z^L                                 (from the head: a − y when fused)
//! δˡ = (δˡ⁺¹·Wˡ⁺¹) ⊙ σ′(zˡ)
//! ∂C/∂Wˡ = δˡᵀ·aˡ⁻¹,   ∂C/∂bˡ = Σ_rows δˡ
//! ```
//!
//! The forward pass caches zˡ and aˡ in a [`Workspace`] sized once for a batch capacity, so a
//! training step allocates nothing.

mod builder;
mod config;
mod workspace;

/// The most values each of a workspace's three buffers (z, a, δ of every layer) may hold:
/// 2²⁶, 256 MiB in f32.
pub const MAX_WORKSPACE_VALUES: usize = 1 << 26;

use ndarray::{Array2, ArrayView2, s};

pub use builder::NetworkBuilder;
pub use config::NetworkConfig;
pub use workspace::{Gradients, Workspace};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::head::Head;
use crate::layer::Dense;
use crate::loss::{LossValue, Targets};
use crate::scalar::Scalar;

/// A network's parameters, head and threading.
#[derive(Clone, Debug)]
pub struct Network<F> {
    config: NetworkConfig,
    head: Head,
    layers: Vec<Dense<F>>,
    threads: usize,
    precision: crate::kernels::Precision,
}

/// Told as each layer's gradients are final in a backward pass: (layer, its gradients).
pub(crate) type LayerDone<'a, F> = &'a dyn Fn(usize, &crate::layer::DenseGradients<F>);

impl<F: Scalar> Network<F> {
    /// Builds the network and draws its weights from `seed`.
    pub fn new(config: NetworkConfig, seed: u64) -> Result<Self> {
        config.head()?;
        let widths = config.widths();
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let activation = if l + 2 == widths.len() {
                    config.output_activation
                } else {
                    config.hidden_activation
                };
                let (weights, bias) = config.init.draw(w[0], w[1], activation, seed, l as u64);
                Dense { weights, bias }
            })
            .collect();
        Self::from_layers(config, layers)
    }

    /// Assembles a network from given parameters, checking their shapes against the config.
    pub fn from_layers(config: NetworkConfig, layers: Vec<Dense<F>>) -> Result<Self> {
        let head = config.head()?;
        let widths = config.widths();
        if layers.len() + 1 != widths.len() {
            return Err(Error::invalid(
                "layers",
                format!(
                    "the config has {} dense layers, got {}",
                    widths.len() - 1,
                    layers.len()
                ),
            ));
        }
        for (l, (layer, w)) in layers.iter().zip(widths.windows(2)).enumerate() {
            if layer.weights.dim() != (w[1], w[0]) {
                return Err(Error::shape(
                    format!("layer {l} weight"),
                    (w[1], w[0]),
                    layer.weights.dim(),
                ));
            }
            if layer.bias.len() != w[1] {
                return Err(Error::shape(
                    format!("layer {l} bias"),
                    (w[1], 1),
                    (layer.bias.len(), 1),
                ));
            }
        }
        let layers = layers
            .into_iter()
            .map(|l| Dense {
                weights: crate::kernels::row_major(l.weights),
                bias: crate::kernels::row_major(l.bias),
            })
            .collect();
        Ok(Network {
            config,
            head,
            layers,
            threads: 1,
            precision: crate::kernels::Precision::F32,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The output activation + loss.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// The dense layers, input to output.
    pub fn layers(&self) -> &[Dense<F>] {
        &self.layers
    }

    /// The dense layers, mutably (optimisers, loaders, gradient checks).
    pub fn layers_mut(&mut self) -> &mut [Dense<F>] {
        &mut self.layers
    }

    /// The activation that follows layer `l`.
    pub fn activation(&self, l: usize) -> Activation {
        if l + 1 == self.layers.len() {
            self.config.output_activation
        } else {
            self.config.hidden_activation
        }
    }

    /// Threads the network's work may use: the matrix products, the element-wise loops, the
    /// optimiser's update and the batch gather (the one parallelism setting; training sets it
    /// from [`crate::TrainConfig::threads`]).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Sets the threads the network's work may use (1 = this thread only).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// The precision of the network's f32 matrix products (see [`crate::kernels::Precision`]).
    pub fn precision(&self) -> crate::kernels::Precision {
        self.precision
    }

    /// Sets the precision of the network's f32 matrix products: bf16 operands with f32 sums,
    /// everything else f32 (f64 networks ignore it).
    pub fn set_precision(&mut self, precision: crate::kernels::Precision) {
        self.precision = precision;
    }

    /// Runs `f` with the network's threads and precision.
    pub(crate) fn with_settings<R>(&self, f: impl FnOnce() -> R) -> R {
        crate::kernels::with_threads(self.threads, || {
            crate::kernels::with_precision(self.precision, f)
        })
    }

    /// Runs `f` with this network's weights packed once for its forward products, instead of
    /// once per batch and thread: with bf16 products (see [`Network::set_precision`]) on a CPU
    /// with AVX512_BF16, each Wᵀ is rounded to bf16 pairs up front and every forward pass in
    /// `f` reads that copy (the same values, bit for bit). The network is borrowed for the
    /// whole call, so its weights cannot change meanwhile. Otherwise just runs `f`.
    /// [`Network::predict`] and [`crate::evaluate`] use it; for a loop of your own over
    /// batches, wrap the loop.
    pub fn with_frozen_weights<R>(&self, f: impl FnOnce() -> R) -> R {
        self.with_settings(|| {
            let weights: Vec<_> = self.layers.iter().map(|layer| layer.weights.t()).collect();
            F::with_frozen(&weights, f)
        })
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.config.parameter_count()
    }

    /// PyTorch `nn.Sequential` state-dict names of layer `l`'s weight and bias ("0.weight",
    /// "0.bias", "2.weight", …: each hidden Linear is followed by its activation module).
    pub fn parameter_names(l: usize) -> (String, String) {
        (format!("{}.weight", 2 * l), format!("{}.bias", 2 * l))
    }

    /// The most rows a workspace of this network may hold: each of its three buffers stays
    /// within [`MAX_WORKSPACE_VALUES`] values (at least 1 row).
    pub fn max_batch(&self) -> usize {
        let width: usize = self.layers.iter().map(Dense::outputs).sum();
        (MAX_WORKSPACE_VALUES / width.max(1)).max(1)
    }

    /// [`Network::workspace`], refusing a capacity beyond [`Network::max_batch`].
    ///
    /// # Errors
    /// A batch whose buffers would exceed the bound.
    pub fn try_workspace(&self, capacity: usize) -> Result<Workspace<F>> {
        if capacity > self.max_batch() {
            return Err(Error::invalid(
                "batch size",
                format!(
                    "{capacity} rows × {} units would take more than {MAX_WORKSPACE_VALUES} \
                     values per buffer: at most {} rows fit; lower the batch size",
                    self.layers.iter().map(Dense::outputs).sum::<usize>(),
                    self.max_batch()
                ),
            ));
        }
        Ok(self.workspace(capacity))
    }

    /// Buffers for batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> Workspace<F> {
        let make = || {
            self.layers
                .iter()
                .map(|l| Array2::zeros((capacity, l.outputs())))
                .collect::<Vec<_>>()
        };
        Workspace {
            capacity,
            pre_activations: make(),
            activations: make(),
            deltas: make(),
        }
    }

    /// Zeroed gradients shaped like the parameters.
    pub fn zero_gradients(&self) -> Gradients<F> {
        Gradients {
            layers: self.layers.iter().map(Dense::zero_gradients).collect(),
        }
    }

    #[track_caller]
    fn check_batch(&self, inputs: &ArrayView2<F>, workspace: &Workspace<F>) {
        assert!(
            inputs.nrows() <= workspace.capacity,
            "batch of {} rows exceeds the workspace capacity {}",
            inputs.nrows(),
            workspace.capacity
        );
        assert_eq!(inputs.ncols(), self.config.inputs, "input width");
    }

    /// Forward pass through the hidden layers and the output layer's z, for inference: hidden
    /// ReLU layers keep only their activations (see [`Workspace::pre_activations`]). Returns
    /// nothing, the values stay in `workspace`.
    fn forward_pre_head(&self, inputs: ArrayView2<F>, workspace: &mut Workspace<F>) {
        self.check_batch(&inputs, workspace);
        for l in 0..self.layers.len() {
            self.forward_layer(l, inputs, workspace, self.threads, Keep::Activations);
        }
    }

    /// Layer `l`'s forward pass on `threads` threads: its z, and its activation below the output;
    /// a hidden ReLU layer's z not stored when `keep` says so.
    fn forward_layer(
        &self,
        l: usize,
        inputs: ArrayView2<F>,
        workspace: &mut Workspace<F>,
        threads: usize,
        keep: Keep,
    ) {
        let rows = inputs.nrows();
        let last = self.layers.len() - 1;
        let layer = &self.layers[l];
        let (before, current) = workspace.activations.split_at_mut(l);
        let input = if l == 0 {
            inputs.view()
        } else {
            before[l - 1].slice(s![..rows, ..])
        };
        let mut z = workspace.pre_activations[l].slice_mut(s![..rows, ..]);
        let mut a = (l < last).then(|| current[0].slice_mut(s![..rows, ..]));
        let relu = self.config.hidden_activation == Activation::Relu;
        if let (true, Some(a), Keep::Activations) = (relu, a.as_mut(), keep) {
            // A = ReLU(X·Wᵀ + b), Z never stored: half of a hidden layer's stores. Model B's
            // bf16 inference ran 5–10 % faster without them.
            layer.forward_relu(input, a.view_mut(), threads);
        } else if relu {
            // A = ReLU(Z) written as each tile of Z is stored.
            layer.forward(input, z.view_mut(), a, threads);
        } else {
            layer.forward(input, z.view_mut(), None, threads);
            if let Some(a) = a.as_mut() {
                self.config
                    .hidden_activation
                    .forward(z.view(), a.view_mut());
            }
        }
    }

    /// Layer `l`'s backward pass on `threads` threads: its gradients, and (below the first
    /// layer) the δ of the layer under it.
    fn backward_layer(
        &self,
        l: usize,
        inputs: ArrayView2<F>,
        workspace: &mut Workspace<F>,
        gradients: &mut Gradients<F>,
        threads: usize,
    ) {
        let rows = inputs.nrows();
        let input = if l == 0 {
            inputs.view()
        } else {
            workspace.activations[l - 1].slice(s![..rows, ..])
        };
        let (below, current) = workspace.deltas.split_at_mut(l);
        let delta = current[0].slice(s![..rows, ..]);
        self.layers[l].backward_parameters(input, delta, &mut gradients.layers[l], threads);
        if l > 0 {
            let mut propagated = below[l - 1].slice_mut(s![..rows, ..]);
            self.layers[l].backward_input(delta, propagated.view_mut(), threads);
            self.config.hidden_activation.backward_in_place(
                workspace.pre_activations[l - 1].slice(s![..rows, ..]),
                workspace.activations[l - 1].slice(s![..rows, ..]),
                propagated,
            );
        }
    }

    /// Forward pass; returns the network's outputs (probabilities where the head defines
    /// them), a view into `workspace`.
    ///
    /// # Shapes
    /// `inputs` is batch × inputs with batch ≤ the workspace capacity; the result is batch ×
    /// outputs.
    pub fn forward<'w>(
        &self,
        inputs: ArrayView2<F>,
        workspace: &'w mut Workspace<F>,
    ) -> ArrayView2<'w, F> {
        let rows = inputs.nrows();
        let last = self.layers.len() - 1;
        self.with_settings(|| {
            self.forward_pre_head(inputs.view(), workspace);
            self.head.predict(
                workspace.pre_activations[last].slice(s![..rows, ..]),
                workspace.activations[last].slice_mut(s![..rows, ..]),
            );
        });
        workspace.activations[last].slice(s![..rows, ..])
    }

    /// Forward pass to the output layer's pre-activations z (the logits, for a probability
    /// head): what arg-max needs, without the head's softmax or sigmoid.
    pub fn forward_logits<'w>(
        &self,
        inputs: ArrayView2<F>,
        workspace: &'w mut Workspace<F>,
    ) -> ArrayView2<'w, F> {
        self.with_settings(|| self.forward_pre_head(inputs.view(), workspace));
        let last = self.layers.len() - 1;
        workspace.pre_activations[last].slice(s![..inputs.nrows(), ..])
    }

    /// One training evaluation: forward, loss, and backward into `gradients` (overwritten).
    /// Returns the loss (for reduction `none`, the unreduced losses whose sum was
    /// differentiated).
    pub fn loss_and_gradients(
        &self,
        inputs: ArrayView2<F>,
        targets: &Targets<F>,
        workspace: &mut Workspace<F>,
        gradients: &mut Gradients<F>,
    ) -> Result<LossValue> {
        self.with_settings(|| {
            self.loss_and_gradients_alongside(inputs, targets, workspace, gradients, None, None)
        })
    }

    /// The most multiply-adds (rows × weights) of a last layer's forward pass for `side` to run
    /// beside it on one thread: a 10-class layer over 128 units at batch 32 to 128 (41k–164k),
    /// or over 512 units at batch 32 (164k). Larger ones take every thread: measured with
    /// `nabla bench`, model B at batch 512 (2.6M) lost 3–4 % on one thread.
    const SMALL_LAST_LAYER: usize = 1 << 18;

    /// Whether [`Network::loss_and_gradients_alongside`] runs side work on a helper at a batch
    /// of `rows` (else it runs it first, on the caller alone).
    pub(crate) fn runs_beside_last_layer(&self, rows: usize) -> bool {
        let last = self.layers.len() - 1;
        last > 0
            && self.threads > 1
            && rows * self.layers[last].weights.len() <= Self::SMALL_LAST_LAYER
    }

    /// [`Network::loss_and_gradients`], with `side` run on a helper thread while the caller runs
    /// the small last layer and the head on one thread (the other layers take every thread):
    /// the time a helper would otherwise spend waiting. Without a helper (one thread), a large
    /// last layer or a single layer, `side` runs first. The results are the same either way.
    /// `layer_done(l, g)` runs on the caller as soon as layer l's gradients g are final, from
    /// the last layer down (data-parallel training sends them on while the layers below run).
    pub(crate) fn loss_and_gradients_alongside(
        &self,
        inputs: ArrayView2<F>,
        targets: &Targets<F>,
        workspace: &mut Workspace<F>,
        gradients: &mut Gradients<F>,
        side: Option<&(dyn Fn() + Sync)>,
        layer_done: Option<LayerDone<'_, F>>,
    ) -> Result<LossValue> {
        let done = |l: usize, gradients: &Gradients<F>| {
            if let Some(layer_done) = layer_done {
                layer_done(l, &gradients.layers[l]);
            }
        };
        self.check_batch(&inputs, workspace);
        let rows = inputs.nrows();
        let last = self.layers.len() - 1;
        for l in 0..last {
            self.forward_layer(l, inputs, workspace, self.threads, Keep::Everything);
        }
        let mut last_layer_and_head = |threads: usize| -> Result<LossValue> {
            self.forward_layer(last, inputs, workspace, threads, Keep::Everything);
            let loss = self.head.evaluate(
                workspace.pre_activations[last].slice(s![..rows, ..]),
                targets,
                workspace.activations[last].slice_mut(s![..rows, ..]),
                Some(workspace.deltas[last].slice_mut(s![..rows, ..])),
            )?;
            self.backward_layer(last, inputs, workspace, gradients, threads);
            Ok(loss)
        };
        let loss = match side {
            Some(side) if self.runs_beside_last_layer(rows) => {
                crate::kernels::team::alongside(side, || last_layer_and_head(1))?
            }
            Some(side) => {
                side();
                last_layer_and_head(self.threads)?
            }
            None => last_layer_and_head(self.threads)?,
        };
        done(last, gradients);
        for l in (0..last).rev() {
            self.backward_layer(l, inputs, workspace, gradients, self.threads);
            done(l, gradients);
        }
        Ok(loss)
    }

    /// Forward pass with the loss but no gradients: returns the loss; the outputs (as
    /// [`Network::forward`] gives them) stay in the workspace, see [`Workspace::outputs`].
    pub fn forward_with_loss(
        &self,
        inputs: ArrayView2<F>,
        targets: &Targets<F>,
        workspace: &mut Workspace<F>,
    ) -> Result<LossValue> {
        self.with_settings(|| {
            self.forward_pre_head(inputs.view(), workspace);
            let rows = inputs.nrows();
            let last = self.layers.len() - 1;
            let z = workspace.pre_activations[last].slice(s![..rows, ..]);
            let mut outputs = workspace.activations[last].slice_mut(s![..rows, ..]);
            let loss = self.head.evaluate(z, targets, outputs.view_mut(), None)?;
            self.head.predict(z, outputs);
            Ok(loss)
        })
    }

    /// The loss over all rows of `inputs` in one forward pass, without gradients (allocates a
    /// workspace of that many rows).
    pub fn loss(&self, inputs: ArrayView2<F>, targets: &Targets<F>) -> Result<LossValue> {
        let mut workspace = self.workspace(inputs.nrows());
        self.forward_with_loss(inputs, targets, &mut workspace)
    }

    /// The outputs for every row of `inputs` (allocates; computed in batches of 1024 rows).
    pub fn predict(&self, inputs: ArrayView2<F>) -> Array2<F> {
        let batch = 1024.min(self.max_batch()).min(inputs.nrows()).max(1);
        let mut workspace = self.workspace(batch);
        let mut outputs = Array2::zeros((inputs.nrows(), self.config.outputs));
        self.with_frozen_weights(|| {
            let mut start = 0;
            while start < inputs.nrows() {
                let end = (start + batch).min(inputs.nrows());
                let result = self.forward(inputs.slice(s![start..end, ..]), &mut workspace);
                outputs.slice_mut(s![start..end, ..]).assign(&result);
                start = end;
            }
        });
        outputs
    }

    /// The same network in another float type (f32 → f64 for gradient checks).
    pub fn cast<G: Scalar>(&self) -> Network<G> {
        Network {
            config: self.config.clone(),
            head: self.head.clone(),
            layers: self
                .layers
                .iter()
                .map(|l| Dense {
                    weights: l.weights.mapv(|v| G::of(v.f64())),
                    bias: l.bias.mapv(|v| G::of(v.f64())),
                })
                .collect(),
            threads: self.threads,
            precision: self.precision,
        }
    }
}

/// What a forward pass keeps of a hidden ReLU layer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Z and A: training (its backward pass and its checks read Z).
    Everything,
    /// A alone: inference.
    Activations,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::gradcheck_network;
    use crate::init::Init;
    use crate::init::uniform_matrix;
    use crate::loss::{LossConfig, LossInput, LossKind, Reduction};

    fn config(
        hidden: Vec<usize>,
        hidden_activation: Activation,
        output: Activation,
        loss: LossConfig,
    ) -> NetworkConfig {
        NetworkConfig {
            inputs: 4,
            hidden,
            hidden_activation,
            outputs: 3,
            output_activation: output,
            loss,
            init: Init::Auto,
            allow_unsafe: false,
        }
    }

    /// Three-layer networks with every hidden activation and the common heads, checked
    /// against central differences in f64 over every parameter.
    #[test]
    fn three_layer_networks_match_finite_differences() {
        let x = uniform_matrix(6, 4, -1.0, 1.0, 1);
        let classes = [0i64, 2, 1, 1, 0, 2];
        let binary = uniform_matrix(6, 3, 0.0, 1.0, 2).mapv(f64::round);
        let heads = [
            (
                Activation::Softmax,
                LossConfig::new(LossKind::CrossEntropy, LossInput::Probabilities),
            ),
            (
                Activation::Identity,
                LossConfig::new(LossKind::CrossEntropy, LossInput::Logits),
            ),
            (
                Activation::Sigmoid,
                LossConfig::new(LossKind::BinaryCrossEntropy, LossInput::Probabilities),
            ),
            (
                Activation::Sigmoid,
                LossConfig::new(LossKind::Mse, LossInput::Probabilities),
            ),
            (
                Activation::LogSoftmax,
                LossConfig::new(LossKind::Nll, LossInput::LogProbabilities),
            ),
        ];
        for hidden_activation in Activation::ALL {
            for (output, loss) in &heads {
                let mut loss = loss.clone();
                loss.reduction = Reduction::Sum;
                let network = Network::<f64>::new(
                    config(vec![5, 4], hidden_activation, *output, loss.clone()),
                    3,
                )
                .unwrap();
                let targets = match loss.kind {
                    LossKind::BinaryCrossEntropy | LossKind::Mse => Targets::Dense(binary.view()),
                    _ => Targets::Classes(&classes),
                };
                let report = gradcheck_network(&network, x.view(), &targets, 1e-5).unwrap();
                assert!(
                    report.max_relative_error <= 1e-6,
                    "{hidden_activation} hidden, {output} + {}: {report:?}",
                    loss.kind
                );
                assert_eq!(report.checked, network.parameter_count());
            }
        }
    }

    #[test]
    fn forward_outputs_are_probabilities_for_fused_heads() {
        let network = Network::<f32>::new(
            config(
                vec![8],
                Activation::Relu,
                Activation::Identity,
                LossConfig::new(LossKind::CrossEntropy, LossInput::Logits),
            ),
            1,
        )
        .unwrap();
        let x = uniform_matrix(5, 4, -1.0, 1.0, 9).mapv(|v| v as f32);
        let probabilities = network.predict(x.view());
        for row in probabilities.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-6);
        }
    }

    /// Inference stores no hidden ReLU pre-activations, yet gives the logits and activations
    /// of a training pass bit for bit: f32 and bf16 products, 1 and 2 threads, depths over
    /// one block, and tanh hidden layers (which keep Z).
    #[test]
    fn inference_without_hidden_z_gives_the_training_pass_values() {
        let loss = LossConfig::new(LossKind::CrossEntropy, LossInput::Logits);
        for hidden_activation in [Activation::Relu, Activation::Tanh] {
            for precision in [crate::Precision::F32, crate::Precision::Bf16] {
                for threads in [1, 2] {
                    let mut cfg = config(
                        vec![300, 40],
                        hidden_activation,
                        Activation::Identity,
                        loss.clone(),
                    );
                    cfg.inputs = 1100;
                    let mut network = Network::<f32>::new(cfg, 5).unwrap();
                    network.set_threads(threads);
                    network.set_precision(precision);
                    let rows = 70;
                    let x = uniform_matrix(rows, 1100, -1.0, 1.0, 6).mapv(|v| v as f32);
                    let classes: Vec<i64> = (0..rows as i64).map(|r| r % 3).collect();
                    let mut trained = network.workspace(rows);
                    let mut gradients = network.zero_gradients();
                    network
                        .loss_and_gradients(
                            x.view(),
                            &Targets::Classes(&classes),
                            &mut trained,
                            &mut gradients,
                        )
                        .unwrap();
                    let mut inferred = network.workspace(rows);
                    let logits = network.forward_logits(x.view(), &mut inferred).to_owned();
                    let what = format!("{hidden_activation} {precision} threads {threads}");
                    assert_eq!(logits, trained.pre_activations(2, rows), "{what}");
                    for l in 0..2 {
                        assert_eq!(
                            inferred.activations(l, rows),
                            trained.activations(l, rows),
                            "{what} layer {l}"
                        );
                    }
                    let z_kept =
                        inferred.pre_activations(0, rows) == trained.pre_activations(0, rows);
                    assert_eq!(z_kept, hidden_activation != Activation::Relu, "{what}");
                }
            }
        }
    }

    #[test]
    fn zero_sized_layers_are_refused() {
        let loss = LossConfig::new(LossKind::CrossEntropy, LossInput::Logits);
        let error = Network::<f32>::new(
            config(vec![5, 0], Activation::Relu, Activation::Identity, loss),
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("hidden[1]"), "{error}");
    }

    #[test]
    fn from_layers_checks_shapes() {
        let loss = LossConfig::new(LossKind::CrossEntropy, LossInput::Logits);
        let cfg = config(vec![5], Activation::Relu, Activation::Identity, loss);
        let network = Network::<f32>::new(cfg.clone(), 1).unwrap();
        let mut layers = network.layers().to_vec();
        assert!(Network::from_layers(cfg.clone(), layers.clone()).is_ok());
        layers[1].weights = Array2::zeros((3, 6));
        let error = Network::from_layers(cfg, layers).unwrap_err().to_string();
        assert!(
            error.contains("layer 1 weight") && error.contains("3 × 5"),
            "{error}"
        );
    }
}
