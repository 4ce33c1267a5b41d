//! The buffers a forward and backward pass work in: [`Workspace`] (cached zˡ, aˡ, δˡ) and
//! [`Gradients`] (∂C/∂θ per layer).

use ndarray::{Array2, ArrayView2, s};

use crate::layer::DenseGradients;
use crate::scalar::Scalar;

/// Cached forward values and backward buffers for batches of up to `capacity` rows.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    pub(super) capacity: usize,
    /// zˡ for each layer.
    pub(super) pre_activations: Vec<Array2<F>>,
    /// aˡ for each layer; the last holds the head's outputs.
    pub(super) activations: Vec<Array2<F>>,
    /// δˡ = ∂C/∂zˡ for each layer.
    pub(super) deltas: Vec<Array2<F>>,
}

impl<F: Scalar> Workspace<F> {
    /// The largest batch it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The pre-activations zˡ of layer `layer` from the last forward pass over `rows` rows.
    /// Training passes keep every layer's; inference passes (`Network::forward`,
    /// `forward_logits`, `forward_with_loss`) keep only the output layer's when the hidden
    /// activation is ReLU: a hidden ReLU layer then stores its activations alone.
    pub fn pre_activations(&self, layer: usize, rows: usize) -> ArrayView2<'_, F> {
        self.pre_activations[layer].slice(s![..rows, ..])
    }

    /// The activations aˡ of layer `layer` from the last forward pass over `rows` rows.
    pub fn activations(&self, layer: usize, rows: usize) -> ArrayView2<'_, F> {
        self.activations[layer].slice(s![..rows, ..])
    }

    /// The network outputs of the last forward pass over `rows` rows.
    pub fn outputs(&self, rows: usize) -> ArrayView2<'_, F> {
        let last = self.activations.len() - 1;
        self.activations[last].slice(s![..rows, ..])
    }
}

/// ∂C/∂θ for every layer, shaped like the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<F> {
    /// One entry per dense layer.
    pub layers: Vec<DenseGradients<F>>,
}

impl<F: Scalar> Gradients<F> {
    /// Every gradient, layer by layer: each layer's ∂C/∂W row by row, then its ∂C/∂b.
    pub fn values(&self) -> impl Iterator<Item = &F> {
        self.layers
            .iter()
            .flat_map(|l| l.weights.iter().chain(&l.bias))
    }

    /// How many values there are.
    pub fn count(&self) -> usize {
        self.layers.iter().map(DenseGradients::count).sum()
    }

    /// The global L2 norm ‖g‖ = √(Σ g²) over every weight and bias gradient.
    pub fn norm(&self) -> f64 {
        self.values().map(|g| g.f64() * g.f64()).sum::<f64>().sqrt()
    }

    /// g ← factor · g.
    pub fn scale(&mut self, factor: F) {
        for l in &mut self.layers {
            l.weights.mapv_inplace(|g| g * factor);
            l.bias.mapv_inplace(|g| g * factor);
        }
    }
}
