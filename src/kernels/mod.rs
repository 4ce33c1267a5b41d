//! The hot path: matrix products and the row/column helpers of a dense layer.
//!
//! Each public kernel checks shapes, states its equation, writes into a caller-owned buffer and
//! has a slow `*_reference` twin that the tests compare it with on odd and edge shapes.
//! Transposes are never materialised: ndarray views carry strides, and the product reads them.
//!
//! | file | holds |
//! |---|---|
//! | `sgemm.rs` | the f32 product: cache blocking, packing into reused per-thread buffers (A shared by the threads for bf16 pairs), the thread split |
//! | `split.rs` | how C is cut into whole-tile strips and tail pieces for the threads |
//! | `pack.rs` | packing the operands into panels (with AVX transposes) |
//! | `microkernel.rs` | the register tiles: AVX-512, AVX-512 BF16, AVX2 + FMA, portable; picked at run time |
//! | `bf16.rs` | bf16 operands: rounding, packing into bf16 pairs |
//! | `amx.rs` | Intel AMX: detection and permission, the tile microkernel and its packing |
//! | `cpu.rs` | what this CPU is (vendor, model, AVX-512, AMX) and which kernel runs, and why |
//! | `frozen.rs` | weights packed once for a scope in which they cannot change (bf16 inference) |
//! | `elementwise.rs` | long element-wise loops split over the threads (activations, optimisers, batch gather) |
//! | `team.rs` | the spinning helper threads that run those splits and the product's strips |
//! | `subnormals.rs` | flush-to-zero while training, on the caller and the helpers running its splits |
//!
//! f64 products (gradient checks, derivation checks) go through the `gemm` crate.

mod amx;
mod bf16;
mod cpu;
pub(crate) mod elementwise;
mod frozen;
mod microkernel;
mod pack;
mod sgemm;
mod split;
pub(crate) mod subnormals;
pub(crate) mod team;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

pub use bf16::bf16_bits;
pub use cpu::{Cpu, KernelChoice, cpu, kernel_choice};
pub(crate) use frozen::with_frozen;
pub use microkernel::has_bf16;
pub(crate) use microkernel::{Kernel, kernel as detected_kernel};
#[cfg(test)]
pub(crate) use microkernel::{portable_direct_kernel, portable_kernel};

use crate::scalar::Scalar;

/// C ← A·B, or C ← C + A·B when `accumulate` (BLAS's C ← α·A·B + β·C with α = 1, β ∈ {0, 1}).
///
/// # Shapes
/// A is m × k, B is k × n, C is m × n; any strides (pass `w.t()` for Wᵀ).
/// `threads` > 1 splits the product over that many rayon threads.
#[track_caller]
pub fn matmul<F: Scalar>(
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    mut c: ArrayViewMut2<F>,
    accumulate: bool,
    threads: usize,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!(
        b.nrows(),
        k,
        "matmul: A is {m} × {k} but B has {} rows",
        b.nrows()
    );
    assert_eq!(c.dim(), (m, n), "matmul: C must be {m} × {n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(F::zero());
        }
        return;
    }
    F::matmul_into(a, b, c, accumulate, threads);
}

/// Z ← X·Wᵀ + b, and A ← max(Z, 0) when `relu` is given: a dense layer's forward pass, with
/// the bias and the ReLU applied as each tile of Z leaves the registers (f32; f64 runs the
/// three steps one after the other).
///
/// # Shapes
/// X is batch × in, `weights_t` (Wᵀ) in × out, `bias` out, Z and A batch × out.
#[track_caller]
pub fn affine<F: Scalar>(
    x: ArrayView2<F>,
    weights_t: ArrayView2<F>,
    bias: ArrayView1<F>,
    z: ArrayViewMut2<F>,
    relu: Option<ArrayViewMut2<F>>,
    threads: usize,
) {
    let relu_dim = relu.as_ref().map(|relu| ("A", relu.dim()));
    let outputs = [Some(("Z", z.dim())), relu_dim];
    let (m, n) = check_affine("affine", &x, &weights_t, &bias, outputs.iter().flatten());
    if m == 0 || n == 0 {
        return;
    }
    F::affine_into(x, weights_t, bias, z, relu, threads);
}

/// The shapes of X·Wᵀ + b for `what`: Wᵀ has X's columns as rows, the bias one value per
/// column of Wᵀ, and each named output is batch × out. Returns (batch, out).
#[track_caller]
fn check_affine<'a, F>(
    what: &str,
    x: &ArrayView2<F>,
    weights_t: &ArrayView2<F>,
    bias: &ArrayView1<F>,
    outputs: impl IntoIterator<Item = &'a (&'a str, (usize, usize))>,
) -> (usize, usize) {
    let (m, k) = x.dim();
    let n = weights_t.ncols();
    assert_eq!(
        weights_t.nrows(),
        k,
        "{what}: X is {m} × {k} but Wᵀ has {} rows",
        weights_t.nrows()
    );
    for (name, dim) in outputs {
        assert_eq!(*dim, (m, n), "{what}: {name} must be {m} × {n}");
    }
    assert_eq!(bias.len(), n, "{what}: the bias must have {n} values");
    (m, n)
}

/// A ← max(X·Wᵀ + b, 0): a ReLU layer's forward pass that keeps only its activations, the
/// ReLU applied as each tile of the product leaves the registers and Z = X·Wᵀ + b never
/// stored (the same values as [`affine`]'s ReLU output; inference needs no more).
///
/// # Shapes
/// X is batch × in, `weights_t` (Wᵀ) in × out, `bias` out, A batch × out.
#[track_caller]
pub fn affine_relu<F: Scalar>(
    x: ArrayView2<F>,
    weights_t: ArrayView2<F>,
    bias: ArrayView1<F>,
    activations: ArrayViewMut2<F>,
    threads: usize,
) {
    let outputs = [("A", activations.dim())];
    let (m, n) = check_affine("affine_relu", &x, &weights_t, &bias, &outputs);
    if m == 0 || n == 0 {
        return;
    }
    F::affine_relu_into(x, weights_t, bias, activations, threads);
}

/// [`affine_relu`] as three steps: the bias broadcast into A, the product accumulated onto it,
/// then the ReLU in place.
pub(crate) fn affine_relu_in_steps<F: Scalar>(
    x: ArrayView2<F>,
    weights_t: ArrayView2<F>,
    bias: ArrayView1<F>,
    mut activations: ArrayViewMut2<F>,
    threads: usize,
) {
    broadcast_rows(bias, activations.view_mut());
    if x.ncols() > 0 {
        F::matmul_into(x, weights_t, activations.view_mut(), true, threads);
    }
    activations.mapv_inplace(|v| if v > F::zero() { v } else { F::zero() });
}

/// [`affine`] as three steps: the bias broadcast into Z, the product accumulated onto it, then
/// the ReLU (what f64 runs, and f32 with a bias that is not contiguous).
pub(crate) fn affine_in_steps<F: Scalar>(
    x: ArrayView2<F>,
    weights_t: ArrayView2<F>,
    bias: ArrayView1<F>,
    mut z: ArrayViewMut2<F>,
    relu: Option<ArrayViewMut2<F>>,
    threads: usize,
) {
    broadcast_rows(bias, z.view_mut());
    if x.ncols() > 0 {
        F::matmul_into(x, weights_t, z.view_mut(), true, threads);
    }
    if let Some(relu) = relu {
        relu_into(z.view(), relu);
    }
}

/// A ← ReLU(Z): Z where Z > 0, else 0 (NaN gives 0, as in the fused store).
fn relu_into<F: Scalar>(z: ArrayView2<F>, mut a: ArrayViewMut2<F>) {
    a.zip_mut_with(&z, |a, &v| *a = if v > F::zero() { v } else { F::zero() });
}

/// The slow twin of [`affine`]: broadcast, product, then ReLU, each on its own.
pub fn affine_reference<F: Scalar>(
    x: ArrayView2<F>,
    weights_t: ArrayView2<F>,
    bias: ArrayView1<F>,
    mut z: ArrayViewMut2<F>,
    relu: Option<ArrayViewMut2<F>>,
) {
    broadcast_rows(bias, z.view_mut());
    if x.ncols() > 0 {
        matmul_reference(x, weights_t, z.view_mut(), true);
    }
    if let Some(relu) = relu {
        relu_into(z.view(), relu);
    }
}

/// The register tile products in `precision` run on this CPU ("avx512 12×32",
/// "avx512-bf16 12×32", "portable 4×8", …).
pub fn kernel_name(precision: Precision) -> &'static str {
    with_precision(precision, || product_kernel().name)
}

thread_local! {
    /// The threads the element-wise splits of this thread's current work may use.
    static THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(1) };
    /// The precision of this thread's current matrix products.
    static PRECISION: std::cell::Cell<Precision> = const { std::cell::Cell::new(Precision::F32) };
}

/// The precision of the f32 matrix products' operands. Everything else — the accumulation,
/// master weights, optimiser state, biases, losses, softmax and sigmoid, every reduction —
/// stays f32.
///
/// ```text
/// f32    C = A·B in f32
/// bf16   C = bf16(A)·bf16(B), products summed in f32 (bf16: round to nearest even, 8 bits
///        of mantissa); VDPBF16PS on CPUs with AVX512_BF16, the f32 kernel on rounded
///        operands elsewhere
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 operands.
    #[default]
    F32,
    /// bf16 operands, f32 sums.
    Bf16,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = crate::error::Error;

    fn from_str(text: &str) -> crate::error::Result<Precision> {
        match text.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            other => Err(crate::error::Error::invalid(
                "precision",
                format!("'{other}': expected f32 or bf16"),
            )),
        }
    }
}

/// Runs `f` with its f32 products (on this thread) in `precision` (see [`Precision`]);
/// restores the previous setting afterwards. A network carries its own setting
/// ([`crate::Network::set_precision`]); this is for products called directly.
pub fn with_precision<R>(precision: Precision, f: impl FnOnce() -> R) -> R {
    with_setting(&PRECISION, precision, f)
}

/// Runs `f` with this thread's `setting` at `value`, restored however `f` ends.
fn with_setting<T: Copy + 'static, R>(
    setting: &'static std::thread::LocalKey<std::cell::Cell<T>>,
    value: T,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore<T: Copy + 'static>(&'static std::thread::LocalKey<std::cell::Cell<T>>, T);
    impl<T: Copy + 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            self.0.with(|cell| cell.set(self.1));
        }
    }
    let _restore = Restore(setting, setting.with(|cell| cell.replace(value)));
    f()
}

/// The microkernel the current precision ([`with_precision`]) multiplies with.
pub(crate) fn product_kernel() -> Kernel {
    static BF16: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
    match PRECISION.with(|p| p.get()) {
        Precision::F32 => detected_kernel(),
        Precision::Bf16 => *BF16.get_or_init(microkernel::bf16_kernel),
    }
}

/// Runs `f` with the element-wise loops (and packing-buffer reservations) it starts split over
/// `threads` threads: the one parallelism setting, [`Network::threads`], reaches every split
/// this way. Restores the previous setting afterwards.
///
/// [`Network::threads`]: crate::Network::threads
pub(crate) fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    with_setting(&THREADS, threads.max(1), f)
}

/// The threads element-wise splits use here (see [`with_threads`]).
pub(crate) fn threads() -> usize {
    THREADS.with(|t| t.get())
}

/// Allocates the f32 product's packing buffers on every thread the current setting
/// ([`with_threads`]) uses, so that later products allocate nothing.
pub(crate) fn reserve_packing_buffers() {
    sgemm::reserve_on_every_thread(product_kernel());
}

/// `array` in row-major order, as the products and the batch gather read it: itself when it
/// already is (no copy), else a row-major copy.
pub(crate) fn row_major<A: Clone, D: ndarray::Dimension>(
    array: ndarray::Array<A, D>,
) -> ndarray::Array<A, D> {
    if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    }
}

/// The f32 product on nabla's own kernel `kern` (shapes checked by [`matmul`]; k ≥ 1).
pub(crate) fn sgemm_views(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: ArrayViewMut2<f32>,
    accumulate: bool,
    threads: usize,
    kern: Kernel,
) {
    affine_views(a, b, c, accumulate, None, None, threads, kern);
}

/// The f32 product with its epilogue (shapes checked by the callers; k ≥ 1): C ← [C +] A·B
/// [+ bias per column], and `relu` ← max(C, 0) when given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn affine_views(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    mut c: ArrayViewMut2<f32>,
    accumulate: bool,
    bias: Option<&[f32]>,
    relu: Option<ArrayViewMut2<f32>>,
    threads: usize,
    kern: Kernel,
) {
    let mut relu = relu;
    let relu = relu.as_mut().map(|relu| {
        assert_eq!(relu.dim(), c.dim(), "the ReLU output must be shaped like C");
        output(relu)
    });
    // SAFETY: C and the ReLU output are borrowed mutably, so they overlap neither A, B, the
    // bias nor each other.
    unsafe { affine_outputs(a, b, output(&mut c), accumulate, bias, relu, threads, kern) }
}

/// C ← max(A·B + bias per column, 0), the ReLU applied as each tile leaves the registers and
/// only that stored (shapes checked by the callers; k ≥ 1).
pub(crate) fn affine_relu_views(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    mut c: ArrayViewMut2<f32>,
    bias: &[f32],
    threads: usize,
    kern: Kernel,
) {
    let c = output(&mut c);
    // SAFETY: C is borrowed mutably, so it overlaps neither A, B nor the bias; the ReLU output
    // is C itself, with C's strides, which the microkernels' stores allow.
    unsafe { affine_outputs(a, b, c, false, Some(bias), Some(c), threads, kern) }
}

fn output(v: &mut ArrayViewMut2<f32>) -> sgemm::Output {
    sgemm::Output {
        ptr: v.as_mut_ptr(),
        row_stride: v.strides()[0],
        column_stride: v.strides()[1],
    }
}

/// The product of [`affine_views`] into C and the ReLU output described by pointers.
///
/// # Safety
/// C and the ReLU output must be live m × n matrices of those strides that overlap neither A,
/// B, the bias nor each other (the ReLU output may be C itself) and that nothing else accesses
/// meanwhile.
#[allow(clippy::too_many_arguments)]
unsafe fn affine_outputs(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: sgemm::Output,
    accumulate: bool,
    bias: Option<&[f32]>,
    relu: Option<sgemm::Output>,
    threads: usize,
    kern: Kernel,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let operand = |v: &ArrayView2<f32>| sgemm::Operand {
        ptr: v.as_ptr(),
        row_stride: v.strides()[0],
        column_stride: v.strides()[1],
    };
    let mut destination = sgemm::Destination::plain(c, accumulate);
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "the bias needs one value per column of C");
        destination.bias = bias.as_ptr();
    }
    if let Some(relu) = relu {
        destination.relu = relu;
    }
    // B packed once for the scope of `with_frozen`, where it is one of its operands.
    let packed_b = if kern.packing.pairs() {
        frozen::lookup(&b, kern)
    } else {
        None
    };
    // SAFETY: the views are live and of the checked shapes, the outputs as the caller's; a
    // packed B is B's own values, kept while the scope that packed them runs.
    unsafe {
        sgemm::sgemm(
            m,
            n,
            k,
            operand(&a),
            operand(&b),
            destination,
            threads,
            kern,
            packed_b,
        )
    }
}

/// The f64 product through the `gemm` crate (shapes checked by [`matmul`]; k ≥ 1).
pub(crate) fn dgemm_views(
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    mut c: ArrayViewMut2<f64>,
    accumulate: bool,
    threads: usize,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let (c_rows, c_cols) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the shapes were checked by `matmul`, the pointers and strides come from live
    // ndarray views of exactly those shapes, and C is borrowed mutably so it aliases neither A
    // nor B.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cols,
            c_rows,
            accumulate,
            a.as_ptr(),
            a.strides()[1],
            a.strides()[0],
            b.as_ptr(),
            b.strides()[1],
            b.strides()[0],
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The slow twin of [`matmul`]: the textbook triple loop.
pub fn matmul_reference<F: Scalar>(
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    mut c: ArrayViewMut2<F>,
    accumulate: bool,
) {
    for i in 0..a.nrows() {
        for j in 0..b.ncols() {
            let mut sum = if accumulate { c[[i, j]] } else { F::zero() };
            for p in 0..a.ncols() {
                sum += a[[i, p]] * b[[p, j]];
            }
            c[[i, j]] = sum;
        }
    }
}

/// Every row of `out` ← `row` (bias broadcast before a product accumulates onto it).
///
/// # Shapes
/// `row` has `out.ncols()` entries.
#[track_caller]
pub fn broadcast_rows<F: Scalar>(row: ArrayView1<F>, mut out: ArrayViewMut2<F>) {
    assert_eq!(row.len(), out.ncols(), "broadcast_rows: width mismatch");
    for mut out_row in out.rows_mut() {
        out_row.assign(&row);
    }
}

/// out ← Σᵢ rowᵢ, the column sums (∂C/∂b = Σ over the batch of δ).
///
/// # Shapes
/// `out` has `matrix.ncols()` entries.
#[track_caller]
pub fn column_sums<F: Scalar>(matrix: ArrayView2<F>, mut out: ArrayViewMut1<F>) {
    assert_eq!(matrix.ncols(), out.len(), "column_sums: width mismatch");
    out.fill(F::zero());
    match (out.as_slice_mut(), matrix.as_slice()) {
        // Rows as slices, in the CPU's widest vectors (a bias gradient of 512 columns).
        (Some(out), Some(values)) if !out.is_empty() => elementwise::vectorised(
            #[inline(always)]
            || {
                for row in values.chunks_exact(out.len()) {
                    out.iter_mut().zip(row).for_each(|(o, &v)| *o += v);
                }
            },
        ),
        _ => {
            for row in matrix.axis_iter(Axis(0)) {
                out += &row;
            }
        }
    }
}

/// The slow twin of [`column_sums`].
pub fn column_sums_reference<F: Scalar>(matrix: ArrayView2<F>, mut out: ArrayViewMut1<F>) {
    for j in 0..matrix.ncols() {
        out[j] = (0..matrix.nrows()).map(|i| matrix[[i, j]]).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::uniform_matrix;
    use ndarray::{Array1, Array2, s};

    /// The detected microkernel and the portable one, packed and in place: what every f32
    /// kernel test runs on.
    /// The detected kernel as it runs here, the same packing both operands (what it does with
    /// operands at 2 KB strides on Intel), the portable one, and the portable one read in place.
    fn every_f32_kernel() -> [Kernel; 4] {
        [
            detected_kernel(),
            Kernel {
                direct: None,
                ..detected_kernel()
            },
            portable_kernel(),
            portable_direct_kernel(),
        ]
    }

    fn close(a: &Array2<f64>, b: &Array2<f64>) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + y.abs()))
    }

    #[test]
    fn matmul_agrees_with_reference_on_odd_shapes_and_strides() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 7, 5),
            (17, 33, 9),
            (64, 1, 3),
            (2, 130, 65),
            (0, 3, 2),
            (3, 0, 2),
        ] {
            let a = uniform_matrix(m, k, -1.0, 1.0, 1);
            let b = uniform_matrix(k, n, -1.0, 1.0, 2);
            let bt = b.t().to_owned(); // n × k, so bt.t() is a strided view
            for accumulate in [false, true] {
                for threads in [1, 2] {
                    let start = uniform_matrix(m, n, -1.0, 1.0, 3);
                    let mut fast = start.clone();
                    let mut slow = start.clone();
                    matmul(a.view(), bt.t(), fast.view_mut(), accumulate, threads);
                    matmul_reference(a.view(), b.view(), slow.view_mut(), accumulate);
                    assert!(close(&fast, &slow), "{m}×{k}×{n} accumulate={accumulate}");
                }
            }
        }
    }

    #[test]
    fn matmul_writes_into_a_strided_output_view() {
        let a = uniform_matrix(5, 4, -1.0, 1.0, 4);
        let b = uniform_matrix(4, 3, -1.0, 1.0, 5);
        let mut big = Array2::<f64>::zeros((10, 3));
        matmul(a.view(), b.view(), big.slice_mut(s![..;2, ..]), false, 1);
        let mut expected = Array2::zeros((5, 3));
        matmul_reference(a.view(), b.view(), expected.view_mut(), false);
        assert!(close(&big.slice(s![..;2, ..]).to_owned(), &expected));
        assert!(big.slice(s![1..;2, ..]).iter().all(|&v| v == 0.0));
    }

    /// Every f32 microkernel (the detected one, the portable one packed and in place) against
    /// the triple loop, on shapes that leave partial tiles, with A and B stored either way
    /// (rows or columns contiguous, so both orientations and both plans run), 1 and 2 threads,
    /// and into a transposed C.
    #[test]
    fn every_f32_kernel_agrees_with_reference() {
        for kern in every_f32_kernel() {
            for &(m, k, n) in &[
                (1, 1, 1),
                (13, 7, 33),
                (37, 300, 65),
                (64, 784, 10),
                (32, 784, 128),
                (100, 513, 129),
                (5, 1030, 3),
                (130, 40, 1100),
            ] {
                let a_rows = uniform_matrix(m, k, -1.0, 1.0, 1).mapv(|v| v as f32);
                let a_columns = a_rows.t().as_standard_layout().into_owned();
                let b_columns = uniform_matrix(n, k, -1.0, 1.0, 2).mapv(|v| v as f32);
                let b_rows = b_columns.t().as_standard_layout().into_owned();
                for (a, b) in [
                    (a_rows.view(), b_columns.t()),
                    (a_rows.view(), b_rows.view()),
                    (a_columns.t(), b_columns.t()),
                    (a_columns.t(), b_rows.view()),
                ] {
                    for accumulate in [false, true] {
                        for threads in [1, 2] {
                            let start = uniform_matrix(m, n, -1.0, 1.0, 3).mapv(|v| v as f32);
                            let mut fast = start.clone();
                            let mut slow = start.clone();
                            sgemm_views(a, b, fast.view_mut(), accumulate, threads, kern);
                            matmul_reference(a, b, slow.view_mut(), accumulate);
                            let worst = fast
                                .iter()
                                .zip(&slow)
                                .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
                                .fold(0.0f32, f32::max);
                            assert!(
                                worst < 1e-4,
                                "{} {m}×{k}×{n} A strides {:?} B strides {:?} \
                                 accumulate={accumulate} threads={threads}: {worst}",
                                kern.name,
                                a.strides(),
                                b.strides()
                            );
                        }
                    }
                    // Transposed output view (column stride ≠ 1).
                    let mut fast_t = ndarray::Array2::<f32>::zeros((n, m));
                    let mut slow = ndarray::Array2::<f32>::zeros((m, n));
                    sgemm_views(a, b, fast_t.view_mut().reversed_axes(), false, 1, kern);
                    matmul_reference(a, b, slow.view_mut(), false);
                    assert!(
                        fast_t
                            .t()
                            .iter()
                            .zip(&slow)
                            .all(|(x, y)| (x - y).abs() < 1e-3),
                        "{} transposed C",
                        kern.name
                    );
                }
            }
        }
    }

    /// bf16 products (VDPBF16PS where the CPU has it, and the f32 kernels on rounded operands
    /// on every machine) against the reference twin: the triple loop in f64 on operands rounded
    /// to bf16. The products of bf16 values are exact in f32, so the kernels differ from it only
    /// by f32 summation: |C − C_ref| ≤ 4·k·2⁻²⁴·Σₚ|aₚbₚ|, on odd shapes, both storage orders,
    /// 1, 2 and 3 threads (A packed together by two and by three of them), with the fused
    /// bias and ReLU, and the ReLU stored alone over C.
    #[test]
    fn bf16_kernels_agree_with_the_rounded_reference() {
        let kernels = [
            microkernel::bf16_kernel(),
            microkernel::vector_bf16_kernel(),
            microkernel::rounded(detected_kernel()),
            microkernel::rounded(portable_kernel()),
        ];
        for kern in kernels {
            for &(m, k, n) in &[
                (1, 1, 1),
                (13, 7, 33),
                (37, 301, 65),
                (64, 784, 10),
                (100, 513, 129),
                (20, 2100, 40),
                (64, 300, 96),
            ] {
                let a_rows = uniform_matrix(m, k, -1.0, 1.0, 1).mapv(|v| v as f32);
                let a_columns = a_rows.t().as_standard_layout().into_owned();
                let b_columns = uniform_matrix(n, k, -1.0, 1.0, 2).mapv(|v| v as f32);
                let b_rows = b_columns.t().as_standard_layout().into_owned();
                let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.01 - 0.2).collect();
                let round = |m: ArrayView2<f32>| m.mapv(|v| f64::from(bf16::round_to_bf16(v)));
                for (a, b) in [
                    (a_rows.view(), b_columns.t()),
                    (a_columns.t(), b_rows.view()),
                ] {
                    let (ar, br) = (round(a), round(b));
                    let mut reference = ndarray::Array2::<f64>::zeros((m, n));
                    matmul_reference(ar.view(), br.view(), reference.view_mut(), false);
                    let mut scale = ndarray::Array2::<f64>::zeros((m, n));
                    matmul_reference(
                        ar.mapv(f64::abs).view(),
                        br.mapv(f64::abs).view(),
                        scale.view_mut(),
                        false,
                    );
                    for threads in [1, 2, 3] {
                        let mut c = ndarray::Array2::<f32>::zeros((m, n));
                        let mut relu = ndarray::Array2::<f32>::zeros((m, n));
                        affine_views(
                            a,
                            b,
                            c.view_mut(),
                            false,
                            Some(&bias),
                            Some(relu.view_mut()),
                            threads,
                            kern,
                        );
                        for ((i, j), &value) in c.indexed_iter() {
                            let expected = reference[[i, j]] + f64::from(bias[j]);
                            let bound = 4.0 * k as f64 * 2f64.powi(-24) * scale[[i, j]] + 1e-6;
                            assert!(
                                (f64::from(value) - expected).abs() <= bound,
                                "{} {m}×{k}×{n} threads={threads} at ({i}, {j}): {value} vs {expected}",
                                kern.name
                            );
                            assert_eq!(relu[[i, j]], value.max(0.0));
                        }
                        assert_eq!(relu_alone(a, b, &bias, threads, kern), relu);
                        // The plain product, written and added onto C (AMX stores whole tiles
                        // straight into C, loading them first to add).
                        for accumulate in [false, true] {
                            let start = |i: usize, j: usize| ((i * 7 + j * 3) % 11) as f32 - 5.0;
                            let mut c = ndarray::Array2::from_shape_fn((m, n), |(i, j)| {
                                if accumulate { start(i, j) } else { f32::NAN }
                            });
                            sgemm_views(a, b, c.view_mut(), accumulate, threads, kern);
                            for ((i, j), &value) in c.indexed_iter() {
                                let before = if accumulate {
                                    f64::from(start(i, j))
                                } else {
                                    0.0
                                };
                                let expected = reference[[i, j]] + before;
                                let bound = 4.0
                                    * k as f64
                                    * 2f64.powi(-24)
                                    * (scale[[i, j]] + before.abs())
                                    + 1e-6;
                                assert!(
                                    (f64::from(value) - expected).abs() <= bound,
                                    "{} {m}×{k}×{n} threads={threads} accumulate={accumulate} \
                                     at ({i}, {j}): {value} vs {expected}",
                                    kern.name
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// The fused forward pass (bias and ReLU in the product's store) against broadcast, product
    /// and ReLU one after the other: every kernel, both storage orders of X (so both
    /// orientations), depths that span several blocks (the bias must be added once and the ReLU
    /// taken of the finished sum), 1 and 2 threads.
    #[test]
    fn fused_bias_and_relu_agree_with_the_three_steps() {
        for kern in every_f32_kernel() {
            for &(m, k, n) in &[
                (1, 1, 1),
                (13, 7, 33),
                (32, 784, 128),
                (37, 1300, 65),
                (100, 300, 10),
            ] {
                let x_rows = uniform_matrix(m, k, -1.0, 1.0, 11).mapv(|v| v as f32);
                let x_columns = x_rows.t().as_standard_layout().into_owned();
                let w = uniform_matrix(n, k, -1.0, 1.0, 12).mapv(|v| v as f32);
                let bias = uniform_matrix(1, n, -1.0, 1.0, 13)
                    .mapv(|v| v as f32)
                    .row(0)
                    .to_owned();
                for x in [x_rows.view(), x_columns.t()] {
                    for threads in [1, 2] {
                        let mut z_slow = ndarray::Array2::<f32>::zeros((m, n));
                        let mut a_slow = ndarray::Array2::<f32>::zeros((m, n));
                        affine_reference(
                            x,
                            w.t(),
                            bias.view(),
                            z_slow.view_mut(),
                            Some(a_slow.view_mut()),
                        );
                        let mut z = ndarray::Array2::<f32>::from_elem((m, n), f32::NAN);
                        let mut a = ndarray::Array2::<f32>::from_elem((m, n), f32::NAN);
                        affine_views(
                            x,
                            w.t(),
                            z.view_mut(),
                            false,
                            bias.as_slice(),
                            Some(a.view_mut()),
                            threads,
                            kern,
                        );
                        let close = |p: &ndarray::Array2<f32>, q: &ndarray::Array2<f32>| {
                            p.iter()
                                .zip(q)
                                .all(|(p, q)| (p - q).abs() <= 1e-4 * (1.0 + q.abs()))
                        };
                        assert!(
                            close(&z, &z_slow),
                            "{} Z {m}×{k}×{n} threads {threads}",
                            kern.name
                        );
                        assert!(
                            close(&a, &a_slow),
                            "{} A {m}×{k}×{n} threads {threads}",
                            kern.name
                        );
                        assert!(
                            z.iter()
                                .zip(&a)
                                .all(|(&z, &a)| a == if z > 0.0 { z } else { 0.0 }),
                            "{}: A is exactly ReLU(Z)",
                            kern.name
                        );
                        assert_eq!(
                            relu_alone(x, w.t(), bias.as_slice().unwrap(), threads, kern),
                            a,
                            "{}: A without Z {m}×{k}×{n} threads {threads}",
                            kern.name
                        );
                    }
                }
            }
        }
    }

    /// max(A·B + bias, 0) from [`affine_relu_views`], which stores nothing else (C starts NaN).
    fn relu_alone(
        a: ArrayView2<f32>,
        b: ArrayView2<f32>,
        bias: &[f32],
        threads: usize,
        kern: Kernel,
    ) -> Array2<f32> {
        let mut out = Array2::from_elem((a.nrows(), b.ncols()), f32::NAN);
        affine_relu_views(a, b, out.view_mut(), bias, threads, kern);
        out
    }

    /// The generic [`affine_relu`] (f64: the three steps; f32: the fused store) against
    /// [`affine`]'s ReLU output.
    #[test]
    fn affine_relu_is_affine_without_z() {
        fn check<F: Scalar>(x: &Array2<F>, w: &Array2<F>, bias: &Array1<F>) {
            let (m, n) = (x.nrows(), w.nrows());
            let mut z = Array2::zeros((m, n));
            let mut expected = Array2::zeros((m, n));
            let relu = Some(expected.view_mut());
            affine(x.view(), w.t(), bias.view(), z.view_mut(), relu, 2);
            let mut a = Array2::from_elem((m, n), F::of(f64::NAN));
            affine_relu(x.view(), w.t(), bias.view(), a.view_mut(), 2);
            assert_eq!(a, expected, "{} {m}×{}×{n}", F::NAME, x.ncols());
        }
        for &(m, k, n) in &[(1, 1, 1), (13, 7, 33), (5, 0, 3), (37, 300, 65)] {
            let x = uniform_matrix(m, k, -1.0, 1.0, 21);
            let w = uniform_matrix(n, k, -1.0, 1.0, 22);
            let bias = Array1::from_iter((0..n).map(|j| j as f64 * 0.1 - 1.0));
            check(&x, &w, &bias);
            let single = |v: &f64| *v as f32;
            check(&x.map(single), &w.map(single), &bias.map(single));
        }
    }

    #[test]
    fn matmul_in_f32_matches_f64() {
        let a = uniform_matrix(33, 100, -1.0, 1.0, 6);
        let b = uniform_matrix(100, 17, -1.0, 1.0, 7);
        let mut exact = Array2::zeros((33, 17));
        matmul(a.view(), b.view(), exact.view_mut(), false, 1);
        let mut single = Array2::<f32>::zeros((33, 17));
        matmul(
            a.mapv(|v| v as f32).view(),
            b.mapv(|v| v as f32).view(),
            single.view_mut(),
            false,
            2,
        );
        assert!(
            single
                .iter()
                .zip(&exact)
                .all(|(s, e)| (f64::from(*s) - e).abs() < 1e-4)
        );
    }

    #[test]
    fn column_sums_and_broadcast_agree_with_reference() {
        let m = uniform_matrix(7, 5, -1.0, 1.0, 8);
        let mut fast = Array1::zeros(5);
        let mut slow = Array1::zeros(5);
        column_sums(m.view(), fast.view_mut());
        column_sums_reference(m.view(), slow.view_mut());
        assert!(fast.iter().zip(&slow).all(|(a, b)| (a - b).abs() < 1e-14));
        // Long enough to be split over two threads: contiguous rows, strided rows (a
        // transposed view) and a strided output.
        let big = uniform_matrix(600, 333, -1.0, 1.0, 9);
        for matrix in [big.view(), big.t().slice_move(s![..300, ..])] {
            let mut slow = Array1::zeros(matrix.ncols());
            column_sums_reference(matrix, slow.view_mut());
            let mut fast = Array1::from_elem(matrix.ncols(), 7.0);
            with_threads(2, || column_sums(matrix, fast.view_mut()));
            assert!(fast.iter().zip(&slow).all(|(a, b)| (a - b).abs() < 1e-12));
            let mut strided = Array2::from_elem((matrix.ncols(), 2), 7.0);
            with_threads(2, || column_sums(matrix, strided.column_mut(0)));
            assert_eq!(strided.column(0), fast);
        }
        let mut out = Array2::zeros((3, 5));
        broadcast_rows(fast.view(), out.view_mut());
        assert!(out.rows().into_iter().all(|r| r == fast));
    }
}
