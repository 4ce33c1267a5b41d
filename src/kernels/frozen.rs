//! Weights packed once for many products: while a network is borrowed immutably its weights
//! cannot change, so the bf16 pairs a product would pack from them (rounding every weight,
//! once per thread, on every batch) can be packed once, up front, and read by every product
//! of the scope on every thread. PyTorch's autocast keeps its bf16 copies of the weights the
//! same way, for the length of its `with` block.
//!
//! ```text
//! packed[j][p][c] = pair(B[2p][j·nr + c], B[2p + 1][j·nr + c])     j < ⌈n/nr⌉, p < ⌈k/2⌉
//! ```
//! The whole depth in one panel: the depth block starting at `pc` (even) of panel j is
//! `packed[j][pc/2 ..]`, the layout the product's own packing gives that block. The products
//! are the same, bit for bit, as without the scope (rounding is deterministic).
//!
//! Only products on the bf16-pair microkernel use it; elsewhere the scope costs nothing.

use std::cell::RefCell;

use ndarray::ArrayView2;

use super::microkernel::Strided as Operand;

/// B already packed as bf16 pairs over its whole depth (see the module's layout).
#[derive(Clone, Copy, Debug)]
pub(super) struct PackedB {
    ptr: *const u32,
    /// Pairs per panel: ⌈k/2⌉, padded to whole chunks for AMX.
    pairs: usize,
    /// Columns per panel.
    nr: usize,
}

// SAFETY: the packed values are only read, and live as long as the scope that made them,
// which outlasts every product (and every thread's part of it) run inside it.
unsafe impl Send for PackedB {}
unsafe impl Sync for PackedB {}

impl PackedB {
    /// The same packed matrix from column `column` (a multiple of nr) on.
    pub(super) fn starting_at_column(self, column: usize) -> PackedB {
        debug_assert_eq!(column % self.nr, 0, "a packed B is cut at whole panels");
        PackedB {
            // SAFETY: column < n, so the panel lies inside the packed values.
            ptr: unsafe { self.ptr.add(column / self.nr * self.pairs * self.nr) },
            ..self
        }
    }

    /// Panel `jr / nr` (jr a multiple of nr) at depth `pc` (even): where the microkernel reads
    /// the block's pairs.
    pub(super) fn panel(self, jr: usize, pc: usize) -> *const f32 {
        debug_assert!(jr.is_multiple_of(self.nr) && pc.is_multiple_of(2));
        // SAFETY: inside the packed values for a panel and depth inside B.
        unsafe {
            self.ptr
                .add(jr / self.nr * self.pairs * self.nr + pc / 2 * self.nr)
                .cast()
        }
    }
}

/// What identifies a B operand: where it lies and how it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    ptr: *const f32,
    rows: usize,
    cols: usize,
    row_stride: isize,
    column_stride: isize,
    nr: usize,
}

thread_local! {
    /// The operands frozen on this thread (the caller of the products; their threads get the
    /// pointer with the product).
    static FROZEN: RefCell<Vec<(Key, Vec<u32>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with every product on this thread whose B operand is one of `operands` (same
/// memory, shape and strides) reading it packed once, up front, when the current product
/// kernel multiplies bf16 pairs; otherwise just runs `f`. The views borrow the operands for the
/// whole call, so they cannot change while `f` runs.
pub(crate) fn with_frozen<R>(operands: &[ArrayView2<f32>], f: impl FnOnce() -> R) -> R {
    let kern = super::product_kernel();
    if !kern.packing.pairs() {
        return f();
    }
    let mut added = 0;
    for operand in operands {
        let key = key(operand, kern.nr);
        if operand.is_empty() || FROZEN.with(|frozen| frozen.borrow().iter().any(|e| e.0 == key)) {
            continue;
        }
        let (k, n) = operand.dim();
        let mut packed = vec![0u32; kern.packing.steps(k) * n.div_ceil(kern.nr) * kern.nr];
        let b = Operand {
            ptr: operand.as_ptr(),
            row_stride: operand.strides()[0],
            column_stride: operand.strides()[1],
        };
        // SAFETY: the view is live, k × n with these strides; `packed` holds
        // steps(k)·⌈n/nr⌉·nr values.
        unsafe { super::pack::pack_b_block(kern, k, n, b, packed.as_mut_ptr().cast()) };
        FROZEN.with(|frozen| frozen.borrow_mut().push((key, packed)));
        added += 1;
    }
    // Forget this scope's operands however `f` ends.
    struct Forget(usize);
    impl Drop for Forget {
        fn drop(&mut self) {
            FROZEN.with(|frozen| {
                let mut frozen = frozen.borrow_mut();
                let keep = frozen.len() - self.0;
                frozen.truncate(keep);
            });
        }
    }
    let _forget = Forget(added);
    f()
}

/// The packed copy of `b` (k × n) for a kernel with panels of `nr` columns, if a scope of
/// [`with_frozen`] on this thread holds one.
pub(super) fn lookup(b: &ArrayView2<f32>, kern: super::Kernel) -> Option<PackedB> {
    let (key, nr) = (key(b, kern.nr), kern.nr);
    FROZEN.with(|frozen| {
        frozen
            .borrow()
            .iter()
            .find(|e| e.0 == key)
            .map(|(_, packed)| PackedB {
                ptr: packed.as_ptr(),
                pairs: kern.packing.steps(b.nrows()),
                nr,
            })
    })
}

fn key(view: &ArrayView2<f32>, nr: usize) -> Key {
    Key {
        ptr: view.as_ptr(),
        rows: view.nrows(),
        cols: view.ncols(),
        row_stride: view.strides()[0],
        column_stride: view.strides()[1],
        nr,
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::init::uniform_matrix;
    use crate::kernels::{Precision, affine, with_precision};

    /// Inside the scope every product reading a frozen B gives the same bits as outside it:
    /// both orientations of B, an odd depth, partial panels, one and two threads (tall C split
    /// by rows, wide C by columns, with tail pieces), depths over one block, bias and ReLU.
    #[test]
    fn frozen_products_equal_packing_each_time() {
        with_precision(Precision::Bf16, || {
            let pairs = crate::kernels::product_kernel().packing.pairs();
            for &(m, k, n) in &[
                (1, 1, 1),
                (13, 7, 33),
                (250, 301, 65),
                (37, 600, 131),
                (9, 2100, 40),
                (1000, 99, 40),
            ] {
                let x = uniform_matrix(m, k, -1.0, 1.0, 3).mapv(|v| v as f32);
                let w = uniform_matrix(n, k, -1.0, 1.0, 4).mapv(|v| v as f32);
                let w_t = w.t().as_standard_layout().into_owned();
                let bias = ndarray::Array1::from_iter((0..n).map(|j| j as f32 * 0.01 - 0.3));
                for b in [w.t(), w_t.view()] {
                    for threads in [1, 2] {
                        let run = || {
                            let mut z = Array2::<f32>::zeros((m, n));
                            let mut a = Array2::<f32>::zeros((m, n));
                            affine(
                                x.view(),
                                b,
                                bias.view(),
                                z.view_mut(),
                                Some(a.view_mut()),
                                threads,
                            );
                            (z, a)
                        };
                        let each_time = run();
                        let frozen = with_frozen(&[b], || {
                            assert_eq!(
                                lookup(&b, crate::kernels::product_kernel()).is_some(),
                                pairs
                            );
                            run()
                        });
                        assert!(lookup(&b, crate::kernels::product_kernel()).is_none());
                        let bits = |m: &Array2<f32>| m.mapv(f32::to_bits);
                        assert_eq!(
                            bits(&each_time.0),
                            bits(&frozen.0),
                            "Z, {m}×{k}×{n}, {threads} threads"
                        );
                        assert_eq!(
                            bits(&each_time.1),
                            bits(&frozen.1),
                            "A, {m}×{k}×{n}, {threads} threads"
                        );
                    }
                }
            }
        });
    }

    /// A scope's packed copy is forgotten when it ends, and a nested scope of the same
    /// operand reuses the outer copy instead of packing again.
    #[test]
    fn scopes_nest_and_forget() {
        with_precision(Precision::Bf16, || {
            let kern = crate::kernels::product_kernel();
            let w = uniform_matrix(40, 20, -1.0, 1.0, 5).mapv(|v| v as f32);
            let count = || FROZEN.with(|frozen| frozen.borrow().len());
            let before = count();
            with_frozen(&[w.view()], || {
                let inside = count();
                with_frozen(&[w.view(), w.view()], || assert_eq!(count(), inside));
                assert_eq!(count(), inside);
                assert_eq!(lookup(&w.view(), kern).is_some(), kern.packing.pairs());
            });
            assert_eq!(count(), before);
        });
    }
}
