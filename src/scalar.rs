//! The floating-point types the math runs in: `f32` for training, `f64` for gradient checks.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A real scalar the network can compute in (`f32` or `f64`).
///
/// Every layer, activation, loss and head is generic over `Scalar`, so the same code runs in
/// `f32` (fast training) and in `f64` (finite-difference gradient checks, the `nabla loss`
/// contract).
pub trait Scalar:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
{
    /// The Rust name of the type ("f32" or "f64"), used in saved models and messages.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to the nearest representable value.
    fn of(value: f64) -> Self;

    /// Widens (or keeps) the value as `f64`.
    fn f64(self) -> f64;

    /// The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt, used by the exact GELU.
    fn erf(self) -> Self;

    /// C ← A·B, or C + A·B (shapes already checked, k ≥ 1): nabla's own blocked kernel for
    /// f32, the `gemm` crate for f64 (which only gradient checks use).
    fn matmul_into(
        a: ndarray::ArrayView2<Self>,
        b: ndarray::ArrayView2<Self>,
        c: ndarray::ArrayViewMut2<Self>,
        accumulate: bool,
        threads: usize,
    );

    /// Z ← X·Wᵀ + b and A ← max(Z, 0) when `relu` is given (shapes already checked, batch and
    /// width ≥ 1). By default the three steps one after the other; f32 fuses them.
    fn affine_into(
        x: ndarray::ArrayView2<Self>,
        weights_t: ndarray::ArrayView2<Self>,
        bias: ndarray::ArrayView1<Self>,
        z: ndarray::ArrayViewMut2<Self>,
        relu: Option<ndarray::ArrayViewMut2<Self>>,
        threads: usize,
    ) {
        crate::kernels::affine_in_steps(x, weights_t, bias, z, relu, threads);
    }

    /// A ← max(X·Wᵀ + b, 0) without keeping Z (shapes already checked, batch and width ≥ 1).
    /// By default the three steps one after the other; f32 fuses them.
    fn affine_relu_into(
        x: ndarray::ArrayView2<Self>,
        weights_t: ndarray::ArrayView2<Self>,
        bias: ndarray::ArrayView1<Self>,
        activations: ndarray::ArrayViewMut2<Self>,
        threads: usize,
    ) {
        crate::kernels::affine_relu_in_steps(x, weights_t, bias, activations, threads);
    }

    /// Runs `f` with the products on this thread whose B operand is one of `operands` reading
    /// it packed once, up front (f32 on the bf16-pair kernel; see `kernels::frozen`). By
    /// default just `f`.
    fn with_frozen<R>(operands: &[ndarray::ArrayView2<Self>], f: impl FnOnce() -> R) -> R {
        let _ = operands;
        f()
    }
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";

    fn of(value: f64) -> Self {
        value as f32
    }

    fn f64(self) -> f64 {
        f64::from(self)
    }

    fn erf(self) -> Self {
        libm::erff(self)
    }

    fn matmul_into(
        a: ndarray::ArrayView2<Self>,
        b: ndarray::ArrayView2<Self>,
        c: ndarray::ArrayViewMut2<Self>,
        accumulate: bool,
        threads: usize,
    ) {
        crate::kernels::sgemm_views(
            a,
            b,
            c,
            accumulate,
            threads,
            crate::kernels::product_kernel(),
        );
    }

    fn affine_into(
        x: ndarray::ArrayView2<Self>,
        weights_t: ndarray::ArrayView2<Self>,
        bias: ndarray::ArrayView1<Self>,
        z: ndarray::ArrayViewMut2<Self>,
        relu: Option<ndarray::ArrayViewMut2<Self>>,
        threads: usize,
    ) {
        match bias.as_slice() {
            Some(bias) if x.ncols() > 0 => crate::kernels::affine_views(
                x,
                weights_t,
                z,
                false,
                Some(bias),
                relu,
                threads,
                crate::kernels::product_kernel(),
            ),
            _ => crate::kernels::affine_in_steps(x, weights_t, bias, z, relu, threads),
        }
    }

    fn affine_relu_into(
        x: ndarray::ArrayView2<Self>,
        weights_t: ndarray::ArrayView2<Self>,
        bias: ndarray::ArrayView1<Self>,
        activations: ndarray::ArrayViewMut2<Self>,
        threads: usize,
    ) {
        match bias.as_slice() {
            Some(bias) if x.ncols() > 0 => crate::kernels::affine_relu_views(
                x,
                weights_t,
                activations,
                bias,
                threads,
                crate::kernels::product_kernel(),
            ),
            _ => crate::kernels::affine_relu_in_steps(x, weights_t, bias, activations, threads),
        }
    }

    fn with_frozen<R>(operands: &[ndarray::ArrayView2<Self>], f: impl FnOnce() -> R) -> R {
        crate::kernels::with_frozen(operands, f)
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";

    fn of(value: f64) -> Self {
        value
    }

    fn f64(self) -> f64 {
        self
    }

    fn erf(self) -> Self {
        libm::erf(self)
    }

    fn matmul_into(
        a: ndarray::ArrayView2<Self>,
        b: ndarray::ArrayView2<Self>,
        c: ndarray::ArrayViewMut2<Self>,
        accumulate: bool,
        threads: usize,
    ) {
        crate::kernels::dgemm_views(a, b, c, accumulate, threads);
    }
}
