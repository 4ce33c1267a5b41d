//! The hot path: matrix products and the row/column helpers of a dense layer.
//!
//! Each public kernel checks shapes, states its equation, writes into a caller-owned buffer and
//! has a slow `*_reference` twin that the tests compare it with on odd and edge shapes.
//! Transposes are never materialised: ndarray views carry strides, and the product reads them.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

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
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let (c_rows, c_cols) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the shapes were checked above, the pointers and strides come from live ndarray
    // views of exactly those shapes, and C is borrowed mutably so it aliases neither A nor B.
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
            F::one(),
            F::one(),
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
    for row in matrix.axis_iter(Axis(0)) {
        out += &row;
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
        let mut out = Array2::zeros((3, 5));
        broadcast_rows(fast.view(), out.view_mut());
        assert!(out.rows().into_iter().all(|r| r == fast));
    }
}
