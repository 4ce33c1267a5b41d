//! Register-blocked microkernels: C[MR×NR] (+)= Apanel · Bpanel over a depth of k, the inner
//! loop of the single-precision product. Chosen once at run time from the CPU's features:
//! AVX-512 (12 × 32), AVX2 + FMA (6 × 16), or portable code (4 × 8) anywhere else.

use std::sync::OnceLock;

/// Where a microkernel's tile goes: the top-left `rows × cols` of the MR × NR tile is written
/// (or added, when `accumulate`) into C at `c`, with strides in elements.
#[derive(Clone, Copy, Debug)]
pub struct Tile {
    /// C's element at the tile's top-left corner.
    pub c: *mut f32,
    /// Elements between rows of C.
    pub row_stride: isize,
    /// Elements between columns of C.
    pub column_stride: isize,
    /// Add to C instead of overwriting it.
    pub accumulate: bool,
    /// Valid rows (≤ MR).
    pub rows: usize,
    /// Valid columns (≤ NR).
    pub cols: usize,
}

/// A microkernel: `k` steps over packed panels `a` ([k][mr]) and `b` ([k][nr]) into `tile`.
pub type KernelFn = unsafe fn(k: usize, a: *const f32, b: *const f32, tile: Tile);

/// A microkernel and its tile shape.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// Rows of the C tile (the A panel's width).
    pub mr: usize,
    /// Columns of the C tile (the B panel's width).
    pub nr: usize,
    /// The function.
    pub run: KernelFn,
    /// Its name, for reports.
    pub name: &'static str,
}

/// The best microkernel this CPU runs, detected once.
pub fn kernel() -> Kernel {
    static CHOSEN: OnceLock<Kernel> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                return Kernel {
                    mr: 12,
                    nr: 32,
                    run: x86::avx512,
                    name: "avx512 12×32",
                };
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Kernel {
                    mr: 6,
                    nr: 16,
                    run: x86::avx2,
                    name: "avx2+fma 6×16",
                };
            }
        }
        portable_kernel()
    })
}

/// The portable microkernel (also used by the tests on every machine).
pub fn portable_kernel() -> Kernel {
    Kernel {
        mr: 4,
        nr: 8,
        run: portable,
        name: "portable 4×8",
    }
}

/// Writes or adds a finished tile held in `values` ([MR][NR], row-major) into C.
///
/// # Safety
/// C must be valid for `rows × cols` elements at the given strides.
#[inline(always)]
unsafe fn store_tile<const MR: usize, const NR: usize>(values: &[[f32; NR]; MR], tile: Tile) {
    for (r, row) in values.iter().enumerate().take(tile.rows) {
        for (j, &value) in row.iter().enumerate().take(tile.cols) {
            // SAFETY: r < rows and j < cols, inside C by the caller's contract.
            unsafe {
                let target = tile
                    .c
                    .offset(r as isize * tile.row_stride + j as isize * tile.column_stride);
                *target = if tile.accumulate {
                    *target + value
                } else {
                    value
                };
            }
        }
    }
}

/// 4 × 8 in plain Rust (the compiler vectorises what it can).
///
/// # Safety
/// As [`KernelFn`].
unsafe fn portable(k: usize, a: *const f32, b: *const f32, tile: Tile) {
    let mut values = [[0.0f32; 8]; 4];
    for p in 0..k {
        for (r, row) in values.iter_mut().enumerate() {
            // SAFETY: the packed panels hold k·4 and k·8 values.
            let left = unsafe { *a.add(p * 4 + r) };
            for (j, value) in row.iter_mut().enumerate() {
                *value += left * unsafe { *b.add(p * 8 + j) };
            }
        }
    }
    // SAFETY: passed through from the caller.
    unsafe { store_tile(&values, tile) }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Tile, store_tile};

    /// 12 × 32 with AVX-512: 24 accumulators, two B vectors, A broadcast from memory.
    ///
    /// # Safety
    /// As [`super::KernelFn`]; the CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(k: usize, a: *const f32, b: *const f32, tile: Tile) {
        let mut acc = [[_mm512_setzero_ps(); 2]; 12];
        for p in 0..k {
            // SAFETY: the packed panels hold k·12 and k·32 values.
            unsafe {
                let b0 = _mm512_loadu_ps(b.add(p * 32));
                let b1 = _mm512_loadu_ps(b.add(p * 32 + 16));
                let ap = a.add(p * 12);
                for (r, pair) in acc.iter_mut().enumerate() {
                    let left = _mm512_set1_ps(*ap.add(r));
                    pair[0] = _mm512_fmadd_ps(left, b0, pair[0]);
                    pair[1] = _mm512_fmadd_ps(left, b1, pair[1]);
                }
            }
        }
        if tile.rows == 12 && tile.cols == 32 && tile.column_stride == 1 {
            for (r, pair) in acc.iter().enumerate() {
                // SAFETY: a full tile with unit column stride: 32 contiguous values per row.
                unsafe {
                    let target = tile.c.offset(r as isize * tile.row_stride);
                    let (mut low, mut high) = (pair[0], pair[1]);
                    if tile.accumulate {
                        low = _mm512_add_ps(low, _mm512_loadu_ps(target));
                        high = _mm512_add_ps(high, _mm512_loadu_ps(target.add(16)));
                    }
                    _mm512_storeu_ps(target, low);
                    _mm512_storeu_ps(target.add(16), high);
                }
            }
        } else {
            let mut values = [[0.0f32; 32]; 12];
            for (row, pair) in values.iter_mut().zip(&acc) {
                // SAFETY: each row of the tile holds 32 floats.
                unsafe {
                    _mm512_storeu_ps(row.as_mut_ptr(), pair[0]);
                    _mm512_storeu_ps(row.as_mut_ptr().add(16), pair[1]);
                }
            }
            // SAFETY: passed through from the caller.
            unsafe { store_tile(&values, tile) }
        }
    }

    /// 6 × 16 with AVX2 and FMA: 12 accumulators, two B vectors, one broadcast.
    ///
    /// # Safety
    /// As [`super::KernelFn`]; the CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2(k: usize, a: *const f32, b: *const f32, tile: Tile) {
        let mut acc = [[_mm256_setzero_ps(); 2]; 6];
        for p in 0..k {
            // SAFETY: the packed panels hold k·6 and k·16 values.
            unsafe {
                let b0 = _mm256_loadu_ps(b.add(p * 16));
                let b1 = _mm256_loadu_ps(b.add(p * 16 + 8));
                let ap = a.add(p * 6);
                for (r, pair) in acc.iter_mut().enumerate() {
                    let left = _mm256_broadcast_ss(&*ap.add(r));
                    pair[0] = _mm256_fmadd_ps(left, b0, pair[0]);
                    pair[1] = _mm256_fmadd_ps(left, b1, pair[1]);
                }
            }
        }
        let mut values = [[0.0f32; 16]; 6];
        for (row, pair) in values.iter_mut().zip(&acc) {
            // SAFETY: each row of the tile holds 16 floats.
            unsafe {
                _mm256_storeu_ps(row.as_mut_ptr(), pair[0]);
                _mm256_storeu_ps(row.as_mut_ptr().add(8), pair[1]);
            }
        }
        // SAFETY: passed through from the caller.
        unsafe { store_tile(&values, tile) }
    }
}
