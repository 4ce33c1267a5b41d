//! Weight initialisation, seeded and reproducible: the same seed gives bit-identical weights.
//!
//! ```text
//! he-normal       W ~ N(0, g²/n_in)                     g = gain(σ): √2 for ReLU, GELU,
//! he-uniform      W ~ U(−g·√(3/n_in), g·√(3/n_in))        softplus; √(2/(1+α²)) leaky ReLU
//! xavier-uniform  W ~ U(−√(6/(n_in+n_out)), +√(6/(n_in+n_out)))      (Glorot, Keras' default)
//! xavier-normal   W ~ N(0, 2/(n_in+n_out))
//! pytorch         W, b ~ U(−1/√n_in, 1/√n_in)           (nn.Linear's default)
//! nielsen         W ~ N(0, 1/n_in), b ~ N(0, 1)          (network2.py's default_weight_initializer)
//! nielsen-large   W ~ N(0, 1), b ~ N(0, 1)               (network2.py's large_weight_initializer)
//! auto            he-normal for the ReLU family, xavier-uniform otherwise
//! ```
//!
//! Biases start at 0 except under `pytorch`. Each layer draws from its own ChaCha8 stream
//! (seed, layer index), so one layer's size never changes another layer's weights.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// An initialisation scheme for a dense layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// He/Kaiming normal for ReLU-family layers, Xavier/Glorot uniform for the rest.
    #[default]
    Auto,
    /// N(0, gain²/n_in).
    HeNormal,
    /// U(±gain·√(3/n_in)).
    HeUniform,
    /// U(±√(6/(n_in + n_out))).
    XavierUniform,
    /// N(0, 2/(n_in + n_out)).
    XavierNormal,
    /// U(±1/√n_in) for weights and biases, as PyTorch's `nn.Linear`.
    Pytorch,
    /// N(0, 1/n_in) weights and N(0, 1) biases, as Michael Nielsen's network2.py.
    Nielsen,
    /// N(0, 1) weights and biases: network2.py's `large_weight_initializer`, used in the
    /// cross-entropy and regularisation sections of Nielsen's chapter 3.
    NielsenLarge,
}

impl Init {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str = "auto, he-normal, he-uniform, xavier-uniform, xavier-normal, pytorch, nielsen, nielsen-large";

    /// The scheme `auto` stands for in front of `activation`.
    pub fn resolve(self, activation: Activation) -> Init {
        match self {
            Init::Auto if activation.is_rectifier() => Init::HeNormal,
            Init::Auto => Init::XavierUniform,
            other => other,
        }
    }

    /// Whether the scheme suits the activation that follows the layer (what `diagnose` checks):
    /// He scaling for the ReLU family, Glorot or PyTorch's default for saturating units.
    pub fn suits(self, activation: Activation) -> bool {
        match self.resolve(activation) {
            Init::HeNormal | Init::HeUniform => activation.is_rectifier(),
            Init::XavierUniform | Init::XavierNormal => !activation.is_rectifier(),
            Init::Pytorch | Init::Nielsen | Init::NielsenLarge | Init::Auto => true,
        }
    }

    /// Draws the weights (outputs × inputs) and bias of a layer followed by `activation`.
    pub fn draw<F: Scalar>(
        self,
        inputs: usize,
        outputs: usize,
        activation: Activation,
        seed: u64,
        layer: u64,
    ) -> (Array2<F>, Array1<F>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(layer);
        let fan_in = inputs.max(1) as f64;
        let fan_sum = (inputs + outputs).max(1) as f64;
        let gain = match activation {
            Activation::LeakyRelu { slope } => (2.0 / (1.0 + slope * slope)).sqrt(),
            a if a.is_rectifier() => 2f64.sqrt(),
            _ => 1.0,
        };
        let mut normal = |std: f64, rows: usize, cols: usize| {
            let normal = Normal::new(0.0, std).expect("a finite, positive standard deviation");
            Array2::from_shape_simple_fn((rows, cols), || F::of(normal.sample(&mut rng)))
        };
        let zeros = Array1::zeros(outputs);
        match self.resolve(activation) {
            Init::HeNormal => (normal(gain / fan_in.sqrt(), outputs, inputs), zeros),
            Init::XavierNormal => (normal((2.0 / fan_sum).sqrt(), outputs, inputs), zeros),
            Init::Nielsen | Init::NielsenLarge => {
                let scale = if self == Init::Nielsen {
                    1.0 / fan_in.sqrt()
                } else {
                    1.0
                };
                let weights = normal(scale, outputs, inputs);
                let bias = normal(1.0, 1, outputs).remove_axis(ndarray::Axis(0));
                (weights, bias)
            }
            Init::HeUniform => (
                uniform(&mut rng, (outputs, inputs), gain * (3.0 / fan_in).sqrt()),
                zeros,
            ),
            Init::XavierUniform => (
                uniform(&mut rng, (outputs, inputs), (6.0 / fan_sum).sqrt()),
                zeros,
            ),
            Init::Pytorch | Init::Auto => {
                let bound = 1.0 / fan_in.sqrt();
                let weights = uniform(&mut rng, (outputs, inputs), bound);
                let bias =
                    uniform::<F>(&mut rng, (1, outputs), bound).remove_axis(ndarray::Axis(0));
                (weights, bias)
            }
        }
    }
}

fn uniform<F: Scalar>(rng: &mut ChaCha8Rng, shape: (usize, usize), bound: f64) -> Array2<F> {
    Array2::from_shape_simple_fn(shape, || F::of(rng.random_range(-bound..bound)))
}

/// A rows × cols matrix of U(low, high) values from `seed` (tests, synthetic data).
pub fn uniform_matrix(rows: usize, cols: usize, low: f64, high: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(low..high))
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Init::Auto => "auto",
            Init::HeNormal => "he-normal",
            Init::HeUniform => "he-uniform",
            Init::XavierUniform => "xavier-uniform",
            Init::XavierNormal => "xavier-normal",
            Init::Pytorch => "pytorch",
            Init::Nielsen => "nielsen",
            Init::NielsenLarge => "nielsen-large",
        })
    }
}

impl FromStr for Init {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Ok(Init::Auto),
            "he-normal" | "kaiming-normal" | "he" | "kaiming" => Ok(Init::HeNormal),
            "he-uniform" | "kaiming-uniform" => Ok(Init::HeUniform),
            "xavier-uniform" | "glorot-uniform" | "xavier" | "glorot" => Ok(Init::XavierUniform),
            "xavier-normal" | "glorot-normal" => Ok(Init::XavierNormal),
            "pytorch" | "torch" | "lecun-uniform" => Ok(Init::Pytorch),
            "nielsen" | "network2" => Ok(Init::Nielsen),
            "nielsen-large" => Ok(Init::NielsenLarge),
            _ => Err(Error::UnknownName {
                kind: "initialisation",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_bit_identical_weights() {
        let (a, _) = Init::Auto.draw::<f32>(30, 20, Activation::Relu, 5, 0);
        let (b, _) = Init::Auto.draw::<f32>(30, 20, Activation::Relu, 5, 0);
        let (c, _) = Init::Auto.draw::<f32>(30, 20, Activation::Relu, 6, 0);
        let (d, _) = Init::Auto.draw::<f32>(30, 20, Activation::Relu, 5, 1);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn he_and_xavier_have_their_variances() {
        let (he, bias) = Init::Auto.draw::<f64>(500, 400, Activation::Relu, 1, 0);
        let variance = he.mapv(|w| w * w).mean().unwrap();
        assert!((variance / (2.0 / 500.0) - 1.0).abs() < 0.02, "{variance}");
        assert!(bias.iter().all(|&b| b == 0.0));
        let (xavier, _) = Init::Auto.draw::<f64>(500, 400, Activation::Tanh, 1, 0);
        let bound = (6.0f64 / 900.0).sqrt();
        assert!(xavier.iter().all(|w| w.abs() < bound));
        let variance = xavier.mapv(|w| w * w).mean().unwrap();
        assert!(
            (variance / (bound * bound / 3.0) - 1.0).abs() < 0.02,
            "{variance}"
        );
    }

    #[test]
    fn suitability_matches_the_activation_family() {
        assert!(Init::HeNormal.suits(Activation::Relu));
        assert!(!Init::HeNormal.suits(Activation::Sigmoid));
        assert!(!Init::XavierUniform.suits(Activation::Relu));
        assert!(Init::Auto.suits(Activation::Tanh));
    }
}
