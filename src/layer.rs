//! The dense (fully connected) layer, forward and backward side by side.
//!
//! ```text
//! forward    Z = X·Wᵀ + b                 X: batch × in, W: out × in (PyTorch's layout), b: out
//! backward   ∂C/∂W = δᵀ·X                 δ = ∂C/∂Z: batch × out
//!            ∂C/∂b = Σ_rows δ
//!            ∂C/∂X = δ·W                  (not computed for the first layer: nothing needs it)
//! ```

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::kernels::{affine, affine_relu, column_sums, matmul};
use crate::scalar::Scalar;

/// A dense layer's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<F> {
    /// W, outputs × inputs.
    pub weights: Array2<F>,
    /// b, one per output.
    pub bias: Array1<F>,
}

/// ∂C/∂W and ∂C/∂b of one dense layer, shaped like its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseGradients<F> {
    /// ∂C/∂W, outputs × inputs.
    pub weights: Array2<F>,
    /// ∂C/∂b.
    pub bias: Array1<F>,
}

impl<F> DenseGradients<F> {
    /// How many values there are: ∂C/∂W's, then ∂C/∂b's.
    pub fn count(&self) -> usize {
        self.weights.len() + self.bias.len()
    }
}

impl<F: Scalar> Dense<F> {
    /// Number of inputs (columns of W).
    pub fn inputs(&self) -> usize {
        self.weights.ncols()
    }

    /// Number of outputs (rows of W).
    pub fn outputs(&self) -> usize {
        self.weights.nrows()
    }

    /// Number of parameters: W's, then b's (as many as its [`DenseGradients::count`]).
    pub fn parameter_count(&self) -> usize {
        self.weights.len() + self.bias.len()
    }

    /// Z = X·Wᵀ + b, the bias added as each tile of the product is stored; with `relu`, also
    /// A = ReLU(Z) = max(Z, 0), written in the same pass (the same values as ReLU applied to Z
    /// afterwards).
    ///
    /// # Shapes
    /// `inputs` is batch × in, `pre_activations` and `relu` batch × out.
    pub fn forward(
        &self,
        inputs: ArrayView2<F>,
        pre_activations: ArrayViewMut2<F>,
        relu: Option<ArrayViewMut2<F>>,
        threads: usize,
    ) {
        affine(
            inputs,
            self.weights.t(),
            self.bias.view(),
            pre_activations,
            relu,
            threads,
        );
    }

    /// A = ReLU(X·Wᵀ + b) alone: the activations of [`Dense::forward`] with `relu`, the
    /// pre-activations never stored (inference needs no more).
    ///
    /// # Shapes
    /// `inputs` is batch × in, `activations` batch × out.
    pub fn forward_relu(
        &self,
        inputs: ArrayView2<F>,
        activations: ArrayViewMut2<F>,
        threads: usize,
    ) {
        affine_relu(
            inputs,
            self.weights.t(),
            self.bias.view(),
            activations,
            threads,
        );
    }

    /// ∂C/∂W = δᵀ·X and ∂C/∂b = Σ_rows δ.
    ///
    /// # Shapes
    /// `inputs` is batch × in, `delta` batch × out.
    pub fn backward_parameters(
        &self,
        inputs: ArrayView2<F>,
        delta: ArrayView2<F>,
        gradients: &mut DenseGradients<F>,
        threads: usize,
    ) {
        matmul(
            delta.t(),
            inputs,
            gradients.weights.view_mut(),
            false,
            threads,
        );
        column_sums(delta, gradients.bias.view_mut());
    }

    /// ∂C/∂X = δ·W.
    ///
    /// # Shapes
    /// `delta` is batch × out, `input_gradient` batch × in.
    pub fn backward_input(
        &self,
        delta: ArrayView2<F>,
        input_gradient: ArrayViewMut2<F>,
        threads: usize,
    ) {
        matmul(delta, self.weights.view(), input_gradient, false, threads);
    }

    /// Zeroed gradients shaped like this layer's parameters.
    pub fn zero_gradients(&self) -> DenseGradients<F> {
        DenseGradients {
            weights: Array2::zeros(self.weights.raw_dim()),
            bias: Array1::zeros(self.bias.raw_dim()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{central_difference, relative_error};
    use crate::init::uniform_matrix;

    /// Each of the three gradients against central differences of C = Σ G ⊙ Z.
    #[test]
    fn dense_gradients_match_finite_differences() {
        let x = uniform_matrix(5, 4, -1.0, 1.0, 1);
        let layer = Dense {
            weights: uniform_matrix(3, 4, -1.0, 1.0, 2),
            bias: uniform_matrix(1, 3, -1.0, 1.0, 3).row(0).to_owned(),
        };
        let upstream = uniform_matrix(5, 3, -1.0, 1.0, 4);
        let objective = |layer: &Dense<f64>, x: &Array2<f64>| {
            let mut z = Array2::zeros((5, 3));
            layer.forward(x.view(), z.view_mut(), None, 1);
            (&z * &upstream).sum()
        };
        let mut gradients = layer.zero_gradients();
        layer.backward_parameters(x.view(), upstream.view(), &mut gradients, 1);
        let mut input_gradient = Array2::zeros((5, 4));
        layer.backward_input(upstream.view(), input_gradient.view_mut(), 1);

        let numeric_w = central_difference(&layer.weights, 1e-5, |w| {
            objective(
                &Dense {
                    weights: w.clone(),
                    bias: layer.bias.clone(),
                },
                &x,
            )
        });
        let bias_matrix = layer.bias.clone().insert_axis(ndarray::Axis(0));
        let numeric_b = central_difference(&bias_matrix, 1e-5, |b| {
            objective(
                &Dense {
                    weights: layer.weights.clone(),
                    bias: b.row(0).to_owned(),
                },
                &x,
            )
        });
        let numeric_x = central_difference(&x, 1e-5, |x| objective(&layer, x));
        assert!(relative_error(gradients.weights.view(), numeric_w.view()) <= 1e-6);
        assert!(
            relative_error(
                gradients.bias.view().insert_axis(ndarray::Axis(0)),
                numeric_b.view()
            ) <= 1e-6
        );
        assert!(relative_error(input_gradient.view(), numeric_x.view()) <= 1e-6);
    }
}
