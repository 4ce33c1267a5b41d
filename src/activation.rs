//! Activation functions a = σ(z): forward, local gradient and declared output range.
//!
//! Each variant states its range, and the head's compatibility rule is derived from those
//! ranges (see `range.rs` and `head.rs`), never from a hand-written list of pairs.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::kernels::elementwise::{map2, map3};
use crate::range::{Bound, Interval, OutputRange};
use crate::scalar::Scalar;

/// The smallest value of GELU(x) = x·Φ(x), −0.1699712074799037 at x ≈ −0.7517915 (found by
/// bisection on GELU′), rounded down by 2e-13 so that rounded outputs stay inside the range.
/// The unit test `gelu_range_lower_bound_is_its_minimum` checks it.
pub const GELU_MINIMUM: f64 = -0.169_971_207_48;

/// The steepest slope a leaky ReLU takes (`leaky-relu:1e20` failed its own derivation's check:
/// 1e20 + (1 − 1e20)·[z > 0] is 0 in f64, not 1).
pub const MAX_LEAKY_SLOPE: f64 = 1e6;

/// Slope of leaky ReLU for z < 0 when none is given (PyTorch's `negative_slope` default).
pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;

/// An activation function, applied element-wise or (softmax, log-softmax) row-wise.
///
/// ```text
/// identity     a = z                         a′ = 1                     range (−∞, ∞)
/// relu         a = max(0, z)                 a′ = [z > 0]  (ReLU′(0) = 0, as PyTorch)
///                                                                       range [0, ∞)
/// leaky-relu   a = z if z > 0 else α·z       a′ = 1 if z > 0 else α     range (−∞, ∞) for α > 0
/// sigmoid      a = 1/(1 + e^(−z))            a′ = a(1 − a)              range (0, 1)
/// tanh         a = tanh z                    a′ = 1 − a²                range (−1, 1)
/// softplus     a = ln(1 + e^z)               a′ = σ(z) = 1 − e^(−a)     range (0, ∞)
/// gelu         a = z·Φ(z)                    a′ = Φ(z) + z·φ(z)         range [−0.16997, ∞)
/// softmax      aₖ = e^(zₖ) / Σⱼ e^(zⱼ)       ∂aₖ/∂zⱼ = aₖ([k = j] − aⱼ) range: the open simplex
/// log-softmax  aₖ = zₖ − ln Σⱼ e^(zⱼ)        ∂aₖ/∂zⱼ = [k = j] − e^(aⱼ) range: log-probabilities
/// ```
///
/// Φ and φ are the standard normal CDF and density (exact GELU, PyTorch's default).
/// The row-wise ones subtract the row maximum before exponentiating, so no logit overflows.
///
/// ```
/// use nabla::Activation;
///
/// let relu: Activation = "relu".parse()?;
/// assert_eq!(relu.range().to_string(), "[0, ∞)");
/// assert_eq!(relu.value(-2.0f64), Some(0.0));
/// assert_eq!(Activation::Sigmoid.value(0.0f64), Some(0.5));
/// # Ok::<(), nabla::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Activation {
    /// a = z.
    Identity,
    /// a = max(0, z), with ReLU′(0) = 0.
    Relu,
    /// a = z for z > 0, α·z otherwise; the derivative at 0 is α (PyTorch's convention).
    LeakyRelu {
        /// α, the slope for z ≤ 0.
        slope: f64,
    },
    /// a = 1/(1 + e^(−z)).
    Sigmoid,
    /// a = tanh z.
    Tanh,
    /// a = ln(1 + e^z), computed as max(z, 0) + ln(1 + e^(−|z|)).
    Softplus,
    /// a = z·Φ(z), the exact (erf) form.
    Gelu,
    /// Row-wise aₖ = e^(zₖ) / Σⱼ e^(zⱼ).
    Softmax,
    /// Row-wise aₖ = zₖ − ln Σⱼ e^(zⱼ).
    LogSoftmax,
}

impl Activation {
    /// The names accepted on the command line and in configs.
    pub const NAMES: &'static str =
        "identity, relu, leaky-relu[:α], sigmoid, tanh, softplus, gelu, softmax, log-softmax";

    /// Every activation, for tests and tables (leaky ReLU with its default slope).
    pub const ALL: [Activation; 9] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu {
            slope: DEFAULT_LEAKY_SLOPE,
        },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softplus,
        Activation::Gelu,
        Activation::Softmax,
        Activation::LogSoftmax,
    ];

    /// The short name ("relu", "leaky-relu", ...), without parameters.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky-relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softplus => "softplus",
            Activation::Gelu => "gelu",
            Activation::Softmax => "softmax",
            Activation::LogSoftmax => "log-softmax",
        }
    }

    /// The name people write in prose ("ReLU", "softmax", ...).
    pub fn display_name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "ReLU",
            Activation::LeakyRelu { .. } => "leaky ReLU",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softplus => "softplus",
            Activation::Gelu => "GELU",
            Activation::Softmax => "softmax",
            Activation::LogSoftmax => "log-softmax",
        }
    }

    /// The function's symbol in formulas, as (Unicode text, LaTeX): σ for sigmoid, relu, lrelu,
    /// tanh, …; the one spelling that derivations, refusals and renderings share.
    pub fn symbol(&self) -> (&'static str, &'static str) {
        match self {
            Activation::Identity => ("identity", "\\operatorname{identity}"),
            Activation::Relu => ("relu", "\\operatorname{relu}"),
            Activation::LeakyRelu { .. } => ("lrelu", "\\operatorname{lrelu}"),
            Activation::Sigmoid => ("σ", "\\sigma"),
            Activation::Tanh => ("tanh", "\\tanh"),
            Activation::Softplus => ("softplus", "\\operatorname{softplus}"),
            Activation::Gelu => ("gelu", "\\operatorname{gelu}"),
            Activation::Softmax => ("softmax", "\\operatorname{softmax}"),
            Activation::LogSoftmax => ("log-softmax", "\\operatorname{log\\,softmax}"),
        }
    }

    /// The set of output rows this activation can produce.
    pub fn range(&self) -> OutputRange {
        let interval = |lower, upper| OutputRange::Interval(Interval { lower, upper });
        match self {
            Activation::Identity => OutputRange::Interval(Interval::REAL),
            Activation::Relu => interval(Bound::Closed(0.0), Bound::Unbounded),
            Activation::LeakyRelu { slope } if *slope == 0.0 => {
                interval(Bound::Closed(0.0), Bound::Unbounded)
            }
            Activation::LeakyRelu { .. } => OutputRange::Interval(Interval::REAL),
            Activation::Sigmoid => OutputRange::Interval(Interval::OPEN_UNIT),
            Activation::Tanh => interval(Bound::Open(-1.0), Bound::Open(1.0)),
            Activation::Softplus => interval(Bound::Open(0.0), Bound::Unbounded),
            Activation::Gelu => interval(Bound::Closed(GELU_MINIMUM), Bound::Unbounded),
            Activation::Softmax => OutputRange::Simplex,
            Activation::LogSoftmax => OutputRange::LogSimplex,
        }
    }

    /// Whether the activation mixes the coordinates of a row (softmax, log-softmax).
    pub fn is_row_wise(&self) -> bool {
        matches!(self, Activation::Softmax | Activation::LogSoftmax)
    }

    /// Whether the unit is in the ReLU family (initialised with He/Kaiming scaling).
    pub fn is_rectifier(&self) -> bool {
        matches!(
            self,
            Activation::Relu
                | Activation::LeakyRelu { .. }
                | Activation::Gelu
                | Activation::Softplus
        )
    }

    /// σ(z) of an element-wise activation; `None` for softmax and log-softmax, which need the
    /// whole row.
    pub fn value<F: Scalar>(&self, z: F) -> Option<F> {
        (!self.is_row_wise()).then(|| self.map(z))
    }

    /// σ′(z) of an element-wise activation, given z and a = σ(z); `None` for the row-wise ones.
    pub fn slope<F: Scalar>(&self, z: F, a: F) -> Option<F> {
        (!self.is_row_wise()).then(|| self.derivative(z, a))
    }

    /// σ(z), element-wise variants only (row-wise ones give NaN; callers check first).
    fn map<F: Scalar>(self, z: F) -> F {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(F::zero()),
            Activation::LeakyRelu { slope } => {
                if z > F::zero() {
                    z
                } else {
                    F::of(slope) * z
                }
            }
            Activation::Sigmoid => sigmoid(z),
            Activation::Tanh => z.tanh(),
            Activation::Softplus => softplus(z),
            Activation::Gelu => z * normal_cdf(z),
            Activation::Softmax | Activation::LogSoftmax => F::nan(),
        }
    }

    /// σ′(z) from z and a = σ(z), element-wise variants only (row-wise ones give NaN).
    fn derivative<F: Scalar>(self, z: F, a: F) -> F {
        let one = F::one();
        match self {
            Activation::Identity => one,
            // ReLU′(0) = 0: the subgradient PyTorch picks, so a unit at exactly 0 is off.
            Activation::Relu => {
                if z > F::zero() {
                    one
                } else {
                    F::zero()
                }
            }
            Activation::LeakyRelu { slope } => {
                if z > F::zero() {
                    one
                } else {
                    F::of(slope)
                }
            }
            Activation::Sigmoid => a * (one - a),
            Activation::Tanh => one - a * a,
            Activation::Softplus => sigmoid(z),
            Activation::Gelu => normal_cdf(z) + z * normal_density(z),
            Activation::Softmax | Activation::LogSoftmax => F::nan(),
        }
    }

    /// Forward pass over a mini-batch (rows = examples): a = σ(z).
    ///
    /// # Shapes
    /// `pre_activations` and `activations` are both batch × units.
    pub fn forward<F: Scalar>(
        &self,
        pre_activations: ArrayView2<F>,
        mut activations: ArrayViewMut2<F>,
    ) {
        match *self {
            Activation::Softmax => {
                for (z, mut a) in pre_activations
                    .rows()
                    .into_iter()
                    .zip(activations.rows_mut())
                {
                    let max = z.fold(F::neg_infinity(), |m, &v| m.max(v));
                    let mut sum = F::zero();
                    Zip::from(&mut a).and(&z).for_each(|a, &z| {
                        *a = (z - max).exp();
                        sum += *a;
                    });
                    a.mapv_inplace(|v| v / sum);
                }
            }
            Activation::LogSoftmax => {
                for (z, a) in pre_activations
                    .rows()
                    .into_iter()
                    .zip(activations.rows_mut())
                {
                    log_softmax_row(z, a);
                }
            }
            element_wise => match (pre_activations.as_slice(), activations.as_slice_mut()) {
                (Some(z), Some(a)) => match element_wise {
                    // The hot path: a branch-free loop the compiler vectorises.
                    Activation::Relu => map2(
                        a,
                        z,
                        #[inline(always)]
                        |a, z| {
                            for (a, &z) in a.iter_mut().zip(z) {
                                *a = if z > F::zero() { z } else { F::zero() };
                            }
                        },
                    ),
                    other => map2(
                        a,
                        z,
                        #[inline(always)]
                        |a, z| {
                            for (a, &z) in a.iter_mut().zip(z) {
                                *a = other.map(z);
                            }
                        },
                    ),
                },
                _ => Zip::from(&mut activations)
                    .and(&pre_activations)
                    .for_each(|a, &z| *a = element_wise.map(z)),
            },
        }
    }

    /// Backward pass, in place: on entry `gradient` holds ∂C/∂a, on exit ∂C/∂z.
    ///
    /// ```text
    /// element-wise:  ∂C/∂z = ∂C/∂a ⊙ σ′(z)
    /// softmax:       ∂C/∂zₖ = aₖ (gₖ − Σⱼ gⱼ aⱼ)          g = ∂C/∂a
    /// log-softmax:   ∂C/∂zₖ = gₖ − e^(aₖ) Σⱼ gⱼ
    /// ```
    ///
    /// # Shapes
    /// All three arrays are batch × units.
    pub fn backward_in_place<F: Scalar>(
        &self,
        pre_activations: ArrayView2<F>,
        activations: ArrayView2<F>,
        mut gradient: ArrayViewMut2<F>,
    ) {
        match *self {
            Activation::Softmax => {
                for (a, mut g) in activations.rows().into_iter().zip(gradient.rows_mut()) {
                    let dot = a.dot(&g);
                    Zip::from(&mut g)
                        .and(&a)
                        .for_each(|g, &a| *g = a * (*g - dot));
                }
            }
            Activation::LogSoftmax => {
                for (a, mut g) in activations.rows().into_iter().zip(gradient.rows_mut()) {
                    let sum = g.sum();
                    Zip::from(&mut g)
                        .and(&a)
                        .for_each(|g, &a| *g -= a.exp() * sum);
                }
            }
            element_wise => match (
                pre_activations.as_slice(),
                activations.as_slice(),
                gradient.as_slice_mut(),
            ) {
                (Some(z), Some(a), Some(g)) => match element_wise {
                    Activation::Relu => map3(
                        g,
                        z,
                        a,
                        #[inline(always)]
                        |g, z, _| {
                            for (g, &z) in g.iter_mut().zip(z) {
                                // ReLU′(0) = 0, as in `derivative`. A select, not a branch: the
                                // signs are random, and a branch mispredicted half the time made
                                // this pass cost a third of a millisecond per step of model B.
                                *g = if z <= F::zero() { F::zero() } else { *g };
                            }
                        },
                    ),
                    other => map3(
                        g,
                        z,
                        a,
                        #[inline(always)]
                        |g, z, a| {
                            for ((g, &z), &a) in g.iter_mut().zip(z).zip(a) {
                                *g *= other.derivative(z, a);
                            }
                        },
                    ),
                },
                _ => Zip::from(&mut gradient)
                    .and(&pre_activations)
                    .and(&activations)
                    .for_each(|g, &z, &a| *g *= element_wise.derivative(z, a)),
            },
        }
    }
}

/// σ(z) = 1/(1 + e^(−z)), evaluated without overflow for either sign of z.
pub fn sigmoid<F: Scalar>(z: F) -> F {
    if z >= F::zero() {
        F::one() / (F::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (F::one() + e)
    }
}

/// softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^(−|z|)), finite for every finite z.
pub fn softplus<F: Scalar>(z: F) -> F {
    z.max(F::zero()) + (-z.abs()).exp().ln_1p()
}

/// ℓₖ = (zₖ − m) − ln Σⱼ e^(zⱼ − m) with m = maxⱼ zⱼ: log-softmax of one row.
///
/// Subtracting m before the logarithm (rather than forming m + ln Σ and subtracting that) keeps
/// the result exact to the float's relative precision even for logits of ±1000.
pub fn log_softmax_row<F: Scalar>(z: ArrayView1<F>, mut out: ArrayViewMut1<F>) {
    let max = z.fold(F::neg_infinity(), |m, &v| m.max(v));
    let log_sum = z.iter().map(|&v| (v - max).exp()).sum::<F>().ln();
    out.zip_mut_with(&z, |l, &v| *l = (v - max) - log_sum);
}

/// Φ(z) = ½(1 + erf(z/√2)), the standard normal CDF.
fn normal_cdf<F: Scalar>(z: F) -> F {
    F::of(0.5) * (F::one() + (z * F::of(std::f64::consts::FRAC_1_SQRT_2)).erf())
}

/// φ(z) = e^(−z²/2)/√(2π), the standard normal density.
fn normal_density<F: Scalar>(z: F) -> F {
    F::of(0.398_942_280_401_432_7) * (F::of(-0.5) * z * z).exp()
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu { slope } if *slope != DEFAULT_LEAKY_SLOPE => {
                write!(f, "leaky-relu:{slope}")
            }
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Activation {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let lowered = text.trim().to_ascii_lowercase().replace('_', "-");
        let (name, parameter) = match lowered.split_once(':') {
            Some((name, parameter)) => (name.to_string(), Some(parameter.to_string())),
            None => (lowered, None),
        };
        let activation = match name.as_str() {
            "identity" | "linear" | "none" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky-relu" | "leakyrelu" => {
                let slope = match &parameter {
                    None => DEFAULT_LEAKY_SLOPE,
                    Some(p) => p
                        .parse::<f64>()
                        .ok()
                        .filter(|s| (0.0..=MAX_LEAKY_SLOPE).contains(s))
                        .ok_or_else(|| {
                            Error::invalid(
                                "leaky-relu slope",
                                format!(
                                    "'{p}' is not a number from 0 to {MAX_LEAKY_SLOPE:e} (a \
                                     steeper slope swamps the positive side: 1 − α rounds to \
                                     −α, and the derivative's checks would fail on rounding)"
                                ),
                            )
                        })?,
                };
                return Ok(Activation::LeakyRelu { slope });
            }
            "sigmoid" | "logistic" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softplus" => Activation::Softplus,
            "gelu" => Activation::Gelu,
            "softmax" => Activation::Softmax,
            "log-softmax" | "logsoftmax" => Activation::LogSoftmax,
            _ => {
                return Err(Error::UnknownName {
                    kind: "activation",
                    name: text.to_string(),
                    expected: Self::NAMES.to_string(),
                });
            }
        };
        match parameter {
            Some(p) => Err(Error::invalid(
                "activation",
                format!("{name} takes no parameter, got ':{p}'"),
            )),
            None => Ok(activation),
        }
    }
}

impl TryFrom<String> for Activation {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Error> {
        text.parse()
    }
}

impl From<Activation> for String {
    fn from(activation: Activation) -> String {
        activation.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{central_difference, relative_error};
    use ndarray::{Array2, array};

    fn random_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        crate::init::uniform_matrix(rows, cols, -3.0, 3.0, seed)
    }

    /// Every activation's backward pass against central differences of Σ gᵢⱼ·aᵢⱼ.
    #[test]
    fn every_activation_backward_matches_finite_differences() {
        let z = random_matrix(4, 5, 7);
        let upstream = random_matrix(4, 5, 8);
        for activation in Activation::ALL
            .into_iter()
            .chain([Activation::LeakyRelu { slope: 0.3 }])
        {
            let objective = |z: &Array2<f64>| {
                let mut a = Array2::zeros(z.raw_dim());
                activation.forward(z.view(), a.view_mut());
                (&a * &upstream).sum()
            };
            let mut a = Array2::zeros(z.raw_dim());
            activation.forward(z.view(), a.view_mut());
            let mut analytic = upstream.clone();
            activation.backward_in_place(z.view(), a.view(), analytic.view_mut());
            let numeric = central_difference(&z, 1e-5, objective);
            let error = relative_error(analytic.view(), numeric.view());
            assert!(error <= 1e-6, "{activation}: relative error {error:e}");
        }
    }

    #[test]
    fn relu_derivative_at_zero_is_zero() {
        let z = array![[0.0f64, 1.0, -1.0]];
        let mut a = Array2::zeros((1, 3));
        Activation::Relu.forward(z.view(), a.view_mut());
        let mut g = Array2::ones((1, 3));
        Activation::Relu.backward_in_place(z.view(), a.view(), g.view_mut());
        assert_eq!(g, array![[0.0, 1.0, 0.0]]);
    }

    /// In exact arithmetic; in floating point σ(40) rounds to 1 and tanh(−30) to −1, which
    /// is why the probability heads are fused and never divide by a(1 − a).
    #[test]
    fn outputs_lie_in_the_declared_range() {
        let z = random_matrix(20, 6, 3);
        for activation in Activation::ALL {
            let mut a = Array2::zeros(z.raw_dim());
            activation.forward(z.view(), a.view_mut());
            let coordinates = activation.range().coordinates();
            for &v in &a {
                assert!(
                    coordinates.contains(v),
                    "{activation}: {v} outside {coordinates}"
                );
            }
            if activation == Activation::Softmax {
                for row in a.rows() {
                    assert!((row.sum() - 1.0).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn softmax_survives_logits_of_a_thousand() {
        let z = array![[1000.0f32, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]];
        let mut a = Array2::zeros(z.raw_dim());
        Activation::Softmax.forward(z.view(), a.view_mut());
        assert_eq!(a.row(0).to_vec(), vec![1.0, 0.0, 0.0]);
        assert!(a.row(1).iter().all(|&p| (p - 1.0 / 3.0).abs() < 1e-6));
        Activation::LogSoftmax.forward(z.view(), a.view_mut());
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(a[[0, 1]], -2000.0);
    }

    #[test]
    fn sigmoid_and_softplus_are_finite_at_extremes() {
        for z in [-1000.0f32, -80.0, 0.0, 80.0, 1000.0] {
            assert!(sigmoid(z).is_finite() && softplus(z).is_finite(), "z = {z}");
        }
        assert_eq!(softplus(1000.0f64), 1000.0);
        assert_eq!(sigmoid(-1000.0f64), 0.0);
    }

    #[test]
    fn gelu_range_lower_bound_is_its_minimum() {
        let gelu = |z: f64| z * normal_cdf(z);
        let grid_min = (0..200_001)
            .map(|i| -3.0 + 3.0 * i as f64 / 200_000.0)
            .map(gelu)
            .fold(f64::INFINITY, f64::min);
        assert!(grid_min >= GELU_MINIMUM - 1e-12);
        assert!(grid_min - GELU_MINIMUM < 1e-9);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for activation in Activation::ALL
            .into_iter()
            .chain([Activation::LeakyRelu { slope: 0.2 }])
        {
            assert_eq!(
                activation.to_string().parse::<Activation>().unwrap(),
                activation
            );
        }
        let error = "swish".parse::<Activation>().unwrap_err().to_string();
        assert!(error.contains("unknown activation 'swish'") && error.contains("relu"));
        assert!("relu:2".parse::<Activation>().is_err());
        assert!("leaky-relu:-1".parse::<Activation>().is_err());
        let steep = "leaky-relu:1e20"
            .parse::<Activation>()
            .unwrap_err()
            .to_string();
        assert!(steep.contains("from 0 to 1e6"), "{steep}");
        assert!("leaky-relu:1e6".parse::<Activation>().is_ok());
    }
}
