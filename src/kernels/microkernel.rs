//! Register-blocked microkernels: C[MR×NR] (+)= Apanel · Bpanel over a depth of k, the inner
//! loop of the single-precision product. Chosen once at run time from the CPU's features:
//! AVX-512 (12 × 32), AVX2 + FMA (6 × 16), or portable code (4 × 8) anywhere else; for bf16
//! operands, AVX512_BF16 (12 × 32 on bf16 pairs), or the f32 kernel on operands rounded to bf16.

use std::sync::OnceLock;

/// Where a microkernel's tile goes: the top-left `rows × cols` of the MR × NR tile is written
/// (or added, when `accumulate`) into C at `c`, with strides in elements, after the epilogue:
///
/// ```text
/// c ← [c +] Σ_p a·b [+ bias]        and, when `relu` is set,   relu ← max(c, 0)
/// ```
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
    /// The bias at the tile's first row or column (null: none): one value per column of the
    /// tile, or per row when `bias_on_rows`.
    pub bias: *const f32,
    /// Whether the bias runs along the rows (one value per row).
    pub bias_on_rows: bool,
    /// Where max(c, 0) also goes, with strides `relu_strides` (null: nowhere). It may be `c`
    /// itself, with C's strides: then max(c, 0) replaces c.
    pub relu: *mut f32,
    /// Row and column strides of `relu`.
    pub relu_strides: (isize, isize),
}

/// A microkernel: `k` steps over packed panels `a` ([k][mr]) and `b` ([k][nr]) into `tile`.
pub type KernelFn = unsafe fn(k: usize, a: *const f32, b: *const f32, tile: Tile);

/// An operand read in place, unpacked: element (i, p) at `ptr + i·row_stride + p·column_stride`.
#[derive(Clone, Copy, Debug)]
pub struct Strided {
    /// The element (0, 0).
    pub ptr: *const f32,
    /// Elements between rows.
    pub row_stride: isize,
    /// Elements between columns.
    pub column_stride: isize,
}

impl Strided {
    /// The transposed matrix: the same elements with the strides swapped.
    pub(super) fn t(self) -> Strided {
        Strided {
            ptr: self.ptr,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
        }
    }

    pub(super) fn at(self, row: usize, column: usize) -> Strided {
        // SAFETY: callers stay inside the matrix.
        let ptr = unsafe {
            self.ptr
                .offset(row as isize * self.row_stride + column as isize * self.column_stride)
        };
        Strided { ptr, ..self }
    }
}

/// A microkernel on operands read where they lie: C[rows × cols] (+)= A[rows × k]·B[k × cols],
/// A with any strides, B with unit column stride (its `column_stride` is ignored). Only the
/// `tile.rows` rows of A are read (no padding needed), but all NR columns of B (the product
/// packs a partial last panel with zero padding).
pub type DirectKernelFn = unsafe fn(k: usize, a: Strided, b: Strided, tile: Tile);

/// A microkernel and its tile shape.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// Rows of the C tile (the A panel's width).
    pub mr: usize,
    /// Columns of the C tile (the B panel's width).
    pub nr: usize,
    /// The function.
    pub run: KernelFn,
    /// The same tile on operands read in place, where the CPU has a fast one (see
    /// `sgemm::Plan`); `None` packs both operands.
    pub direct: Option<DirectKernelFn>,
    /// Its name, for reports.
    pub name: &'static str,
    /// How the panels it reads are packed.
    pub packing: Packing,
    /// Where `direct` reads operands in place: not those whose rows (or columns) lie a multiple
    /// of this many elements apart, which are packed instead (0: none are). On Intel's L1 (48
    /// KB, 12 ways of 64 sets) the rows of a panel read 2 KB apart fall into a few sets and
    /// evict each other: the in-place product of 1024 × 1024 matrices ran at 108 GFLOP/s there
    /// against 296 packed, while on AMD's Zen 4 reading in place was the faster plan.
    pub pack_stride: usize,
}

impl Kernel {
    /// Whether `operand` is packed rather than read in place (see [`Kernel::pack_stride`]):
    /// its stride across the unit-stride direction is a multiple of `pack_stride`.
    pub fn packs_strided(&self, operand: Strided) -> bool {
        let stride = if operand.column_stride == 1 {
            operand.row_stride
        } else {
            operand.column_stride
        };
        self.pack_stride > 0 && stride.unsigned_abs().is_multiple_of(self.pack_stride)
    }
}

/// What a microkernel's packed panels hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packing {
    /// f32 values as they are.
    F32,
    /// f32 values rounded to bf16 (the f32 kernel on bf16 operands).
    Bf16Rounded,
    /// bf16 pairs, one u32 per two depth steps ([⌈k/2⌉][width]); the kernel's k counts pairs.
    Bf16Pairs,
    /// bf16 pairs in AMX tile order (see `amx.rs`): B as [`Packing::Bf16Pairs`], A as rows of
    /// 16 pairs per chunk; the depth padded to whole chunks of 16 pairs, which k counts.
    Bf16Tiles,
}

impl Packing {
    /// Whether the panels hold bf16 pairs (two depth steps per value).
    pub fn pairs(self) -> bool {
        matches!(self, Packing::Bf16Pairs | Packing::Bf16Tiles)
    }

    /// The kernel's steps over `depth` values of the depth: `depth` for f32 values, ⌈depth/2⌉
    /// pairs, or that rounded up to whole AMX chunks of 16 pairs.
    pub fn steps(self, depth: usize) -> usize {
        match self {
            Packing::F32 | Packing::Bf16Rounded => depth,
            Packing::Bf16Pairs => depth.div_ceil(2),
            Packing::Bf16Tiles => depth.div_ceil(2).div_ceil(super::amx::CHUNK) * super::amx::CHUNK,
        }
    }
}

/// Whether this CPU runs AVX512_BF16 (VDPBF16PS), detected once.
pub fn has_bf16() -> bool {
    static BF16: OnceLock<bool> = OnceLock::new();
    *BF16.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::is_x86_feature_detected!("avx512bf16")
                && std::is_x86_feature_detected!("avx512bw")
                && simd() == Simd::Avx512
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// The microkernel for bf16 operands: AMX tiles where the CPU has them, else VDPBF16PS where
/// it has that, else the f32 kernel on operands rounded to bf16 (always packed: the rounding
/// happens as they are packed).
pub fn bf16_kernel() -> Kernel {
    if super::amx::has_amx() {
        return amx_kernel();
    }
    vector_bf16_kernel()
}

/// The AMX microkernel (32 × 32 on tiles of bf16 pairs); only for a CPU where
/// [`super::amx::has_amx`] holds.
pub fn amx_kernel() -> Kernel {
    Kernel {
        mr: 32,
        nr: 32,
        run: super::amx::amx_bf16,
        direct: None,
        name: "amx-bf16 32×32",
        packing: Packing::Bf16Tiles,
        pack_stride: 0,
    }
}

/// The bf16 microkernel without AMX: VDPBF16PS where the CPU has it, else the f32 kernel on
/// operands rounded to bf16.
pub fn vector_bf16_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    if has_bf16() {
        return Kernel {
            mr: 12,
            nr: 32,
            run: x86::avx512_bf16,
            direct: None,
            name: "avx512-bf16 12×32",
            packing: Packing::Bf16Pairs,
            pack_stride: 0,
        };
    }
    rounded(kernel())
}

/// `kern` on operands rounded to bf16 as they are packed.
pub fn rounded(kern: Kernel) -> Kernel {
    Kernel {
        direct: None,
        packing: Packing::Bf16Rounded,
        name: match kern.mr {
            12 => "avx512 12×32 on bf16-rounded operands",
            6 => "avx2+fma 6×16 on bf16-rounded operands",
            _ => "portable 4×8 on bf16-rounded operands",
        },
        ..kern
    }
}

/// The widest vector instructions this CPU runs that nabla uses.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simd {
    /// AVX-512F (16 f32 lanes).
    Avx512,
    /// AVX2 with FMA (8 lanes).
    Avx2Fma,
    /// What every CPU of the target has (SSE2 on x86-64).
    Baseline,
}

/// This CPU's [`Simd`] level, detected once: it picks the microkernel and the instructions the
/// element-wise loops are compiled for.
pub fn simd() -> Simd {
    static LEVEL: OnceLock<Simd> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Simd::Avx2Fma;
            }
        }
        Simd::Baseline
    })
}

/// The best microkernel this CPU runs.
pub fn kernel() -> Kernel {
    match simd() {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => Kernel {
            mr: 12,
            nr: 32,
            run: x86::avx512,
            direct: Some(x86::avx512_direct),
            name: "avx512 12×32",
            packing: Packing::F32,
            pack_stride: if super::cpu::is_intel() { 512 } else { 0 },
        },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2Fma => Kernel {
            mr: 6,
            nr: 16,
            run: x86::avx2,
            direct: None,
            name: "avx2+fma 6×16",
            packing: Packing::F32,
            pack_stride: 0,
        },
        _ => portable_kernel(),
    }
}

/// The portable microkernel (also used by the tests on every machine).
pub fn portable_kernel() -> Kernel {
    Kernel {
        mr: 4,
        nr: 8,
        run: portable,
        direct: None,
        name: "portable 4×8",
        packing: Packing::F32,
        pack_stride: 0,
    }
}

/// The portable microkernel with a portable in-place variant, so that the tests check the
/// in-place plan (operands read unpacked, the transposed orientation) on every machine.
#[cfg(test)]
pub fn portable_direct_kernel() -> Kernel {
    Kernel {
        direct: Some(direct::<4, 8>),
        name: "portable 4×8, in place",
        ..portable_kernel()
    }
}

/// Writes or adds a finished tile held in `values` ([MR][NR], row-major) into C, with the
/// tile's epilogue (bias, ReLU copy).
///
/// # Safety
/// C (and the bias and ReLU output when set) must be valid for `rows × cols` elements at the
/// given strides.
#[inline(always)]
unsafe fn store_tile<const MR: usize, const NR: usize>(values: &[[f32; NR]; MR], tile: Tile) {
    for (r, row) in values.iter().enumerate().take(tile.rows) {
        for (j, &value) in row.iter().enumerate().take(tile.cols) {
            // SAFETY: r < rows and j < cols, inside C, the bias and the ReLU output by the
            // caller's contract.
            unsafe {
                let target = tile
                    .c
                    .offset(r as isize * tile.row_stride + j as isize * tile.column_stride);
                let mut sum = if tile.accumulate {
                    *target + value
                } else {
                    value
                };
                if !tile.bias.is_null() {
                    sum += *tile.bias.add(if tile.bias_on_rows { r } else { j });
                }
                *target = sum;
                if !tile.relu.is_null() {
                    let (rs, cs) = tile.relu_strides;
                    *tile.relu.offset(r as isize * rs + j as isize * cs) =
                        if sum > 0.0 { sum } else { 0.0 };
                }
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

/// MR × NR on unpacked operands in plain Rust (the compiler vectorises what it can); reads only
/// the tile's valid rows and columns.
///
/// # Safety
/// As [`DirectKernelFn`].
#[cfg(test)]
unsafe fn direct<const MR: usize, const NR: usize>(k: usize, a: Strided, b: Strided, tile: Tile) {
    let mut values = [[0.0f32; NR]; MR];
    for p in 0..k {
        // SAFETY: p < k, r < rows, j < cols: inside A and B by the caller's contract.
        unsafe {
            let b_row = b.ptr.offset(p as isize * b.row_stride);
            for (r, row) in values.iter_mut().enumerate().take(tile.rows) {
                let left = *a
                    .ptr
                    .offset(r as isize * a.row_stride + p as isize * a.column_stride);
                for (j, value) in row.iter_mut().enumerate().take(tile.cols) {
                    *value += left * *b_row.add(j);
                }
            }
        }
    }
    // SAFETY: passed through from the caller.
    unsafe { store_tile(&values, tile) }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    use std::arch::x86_64::*;

    use super::{Strided, Tile, store_tile};

    /// `$kernel::<R>(k, a, b, tile)` for the fewest rows R of 4, 8 and 12 that hold the tile's.
    macro_rules! by_rows {
        ($kernel:ident, $k:expr, $a:expr, $b:expr, $tile:expr) => {
            match $tile.rows {
                0..=4 => $kernel::<4>($k, $a, $b, $tile),
                5..=8 => $kernel::<8>($k, $a, $b, $tile),
                _ => $kernel::<12>($k, $a, $b, $tile),
            }
        };
        // The same, with `$v` vectors of 16 columns of B.
        ($kernel:ident::<_, $v:literal>, $k:expr, $a:expr, $b:expr, $tile:expr) => {
            match $tile.rows {
                0..=4 => $kernel::<4, $v>($k, $a, $b, $tile),
                5..=8 => $kernel::<8, $v>($k, $a, $b, $tile),
                _ => $kernel::<12, $v>($k, $a, $b, $tile),
            }
        };
    }

    /// 12 × 32 with AVX-512: 24 accumulators, two B vectors, A broadcast from memory. A tile
    /// of at most 8 (4) rows runs the 8 (4)-row variant: the rows past the tile are not
    /// multiplied (a batch of 32 rows is 12 + 12 + 8).
    ///
    /// # Safety
    /// As [`super::KernelFn`]; the CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(k: usize, a: *const f32, b: *const f32, tile: Tile) {
        // SAFETY: as the caller's.
        unsafe { by_rows!(avx512_rows, k, a, b, tile) }
    }

    /// [`avx512`] on the first `R` rows of the 12-row panel of A.
    ///
    /// # Safety
    /// As [`avx512`].
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512_rows<const R: usize>(k: usize, a: *const f32, b: *const f32, tile: Tile) {
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
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
        // SAFETY: passed through from the caller.
        unsafe { store_avx512(acc, tile) }
    }

    /// 12 × 32 with AVX512_BF16 on bf16 pairs: `k` counts pairs; each step broadcasts a pair
    /// of A's row and adds a[2p]·b[2p] + a[2p+1]·b[2p+1] to 16 f32 lanes (VDPBF16PS), twice
    /// the multiply-adds of an f32 FMA.
    ///
    /// # Safety
    /// As [`super::KernelFn`] with panels of k·12 and k·32 pairs; the CPU must support
    /// AVX512_BF16.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub unsafe fn avx512_bf16(k: usize, a: *const f32, b: *const f32, tile: Tile) {
        // SAFETY: as the caller's.
        unsafe {
            if tile.cols <= 16 {
                // A tile of at most 16 columns (a 10-class output layer): half the products.
                by_rows!(avx512_bf16_rows::<_, 1>, k, a, b, tile)
            } else {
                by_rows!(avx512_bf16_rows::<_, 2>, k, a, b, tile)
            }
        }
    }

    /// [`avx512_bf16`] on the first `R` rows of the 12-row panel of A and the first `V`
    /// vectors of 16 columns of B's panel (the columns past them are stored as 0 and never
    /// reach C).
    ///
    /// # Safety
    /// As [`avx512_bf16`].
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn avx512_bf16_rows<const R: usize, const V: usize>(
        k: usize,
        a: *const f32,
        b: *const f32,
        tile: Tile,
    ) {
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        let (a, b) = (a.cast::<u32>(), b.cast::<u32>());
        for p in 0..k {
            // SAFETY: the packed panels hold k·12 and k·32 pairs.
            unsafe {
                let columns: [__m512bh; V] = std::array::from_fn(|v| {
                    std::mem::transmute(_mm512_loadu_si512(b.add(p * 32 + 16 * v).cast()))
                });
                let ap = a.add(p * 12);
                for (r, row) in acc.iter_mut().enumerate() {
                    let left: __m512bh = std::mem::transmute(_mm512_set1_epi32(*ap.add(r) as i32));
                    for (sum, &column) in row.iter_mut().zip(&columns) {
                        *sum = _mm512_dpbf16_ps(*sum, left, column);
                    }
                }
            }
        }
        // SAFETY: passed through from the caller.
        unsafe { store_avx512(widened(acc), tile) }
    }

    /// 12 × 32 with AVX-512 on unpacked operands: A's missing rows repeat its last valid row
    /// (their sums are never stored).
    ///
    /// # Safety
    /// As [`super::DirectKernelFn`]; the CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512_direct(k: usize, a: Strided, b: Strided, tile: Tile) {
        // SAFETY: as the caller's.
        unsafe {
            match (tile.rows, tile.cols) {
                (0..=4, _) => avx512_direct_rows::<4, 2>(k, a, b, tile),
                (5..=8, _) => avx512_direct_rows::<8, 2>(k, a, b, tile),
                // A panel of at most 16 columns (a 10-class output layer) runs half the
                // multiply-adds.
                (_, 0..=16) => avx512_direct_rows::<12, 1>(k, a, b, tile),
                _ => avx512_direct_rows::<12, 2>(k, a, b, tile),
            }
        }
    }

    /// [`avx512_direct`] on `R` rows (a tile of at most `R`) and the first `V` vectors of 16
    /// columns of B's panel (a tile of at most 16·`V` columns; the rest are stored as 0 and
    /// never reach C).
    ///
    /// # Safety
    /// As [`avx512_direct`].
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512_direct_rows<const R: usize, const V: usize>(
        k: usize,
        a: Strided,
        b: Strided,
        tile: Tile,
    ) {
        let last = tile.rows.max(1) - 1;
        let offsets: [isize; R] = std::array::from_fn(|r| r.min(last) as isize * a.row_stride);
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        for p in 0..k {
            // SAFETY: p < k and the offsets stay in A's valid rows; B's panel holds 32 columns.
            unsafe {
                let b_row = b.ptr.offset(p as isize * b.row_stride);
                let columns: [__m512; V] =
                    std::array::from_fn(|v| _mm512_loadu_ps(b_row.add(16 * v)));
                let ap = a.ptr.offset(p as isize * a.column_stride);
                for (r, row) in acc.iter_mut().enumerate() {
                    let left = _mm512_set1_ps(*ap.offset(offsets[r]));
                    for (sum, &column) in row.iter_mut().zip(&columns) {
                        *sum = _mm512_fmadd_ps(left, column, *sum);
                    }
                }
            }
        }
        // SAFETY: passed through from the caller.
        unsafe { store_avx512(widened(acc), tile) }
    }

    /// A tile's `V` accumulator vectors per row as the two of a 32-column tile, the second 0
    /// when `V` is 1 (those columns are never stored into C).
    #[inline(always)]
    fn widened<const R: usize, const V: usize>(acc: [[__m512; V]; R]) -> [[__m512; 2]; R] {
        // SAFETY: AVX-512F is enabled in every microkernel this is inlined into.
        std::array::from_fn(|r| {
            std::array::from_fn(|v| {
                if v < V {
                    acc[r][v]
                } else {
                    unsafe { _mm512_setzero_ps() }
                }
            })
        })
    }

    /// Writes or adds a finished 12 × 32 tile into C: vector stores when the tile is whole and
    /// C's rows are contiguous, element by element otherwise.
    ///
    /// # Safety
    /// As [`super::store_tile`]; the CPU must support AVX-512F. Always inlined into the
    /// microkernels (which enable AVX-512F), so the accumulators go from registers to C.
    #[inline(always)]
    unsafe fn store_avx512<const R: usize>(acc: [[__m512; 2]; R], tile: Tile) {
        let whole = tile.rows == R && tile.cols == 32 && tile.column_stride == 1;
        if whole && (tile.relu.is_null() || tile.relu_strides.1 == 1) {
            // SAFETY: a full tile with unit column strides: 32 contiguous values per row of C,
            // of the ReLU output, and of the bias when it runs along the columns.
            unsafe {
                let column_bias = if tile.bias.is_null() || tile.bias_on_rows {
                    [_mm512_setzero_ps(); 2]
                } else {
                    [
                        _mm512_loadu_ps(tile.bias),
                        _mm512_loadu_ps(tile.bias.add(16)),
                    ]
                };
                for (r, pair) in acc.iter().enumerate() {
                    let target = tile.c.offset(r as isize * tile.row_stride);
                    let (mut low, mut high) = (pair[0], pair[1]);
                    if tile.accumulate {
                        low = _mm512_add_ps(low, _mm512_loadu_ps(target));
                        high = _mm512_add_ps(high, _mm512_loadu_ps(target.add(16)));
                    }
                    if !tile.bias.is_null() {
                        let (bias_low, bias_high) = if tile.bias_on_rows {
                            let value = _mm512_set1_ps(*tile.bias.add(r));
                            (value, value)
                        } else {
                            (column_bias[0], column_bias[1])
                        };
                        low = _mm512_add_ps(low, bias_low);
                        high = _mm512_add_ps(high, bias_high);
                    }
                    if tile.relu != tile.c {
                        _mm512_storeu_ps(target, low);
                        _mm512_storeu_ps(target.add(16), high);
                    }
                    if !tile.relu.is_null() {
                        let out = tile.relu.offset(r as isize * tile.relu_strides.0);
                        let zero = _mm512_setzero_ps();
                        _mm512_storeu_ps(out, _mm512_max_ps(low, zero));
                        _mm512_storeu_ps(out.add(16), _mm512_max_ps(high, zero));
                    }
                }
            }
        } else {
            let mut values = [[0.0f32; 32]; R];
            for (row, pair) in values.iter_mut().zip(acc) {
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

    /// Writes or adds a finished block of sums (row-major, 32 values a row, as the AMX kernel
    /// stores its tiles) into C with the tile's epilogue, eight rows at a time through
    /// [`store_avx512`]. Only rows up to the tile's rows rounded up to 8, and columns 16–31
    /// only when the tile has more than 16, are read.
    ///
    /// # Safety
    /// As [`super::store_tile`], with those values of `block` written; the CPU must support
    /// AVX-512F (inlined into a kernel that enables it).
    #[inline(always)]
    pub unsafe fn store_rows(block: *const f32, tile: Tile) {
        for start in (0..tile.rows).step_by(8) {
            // SAFETY: rows start .. start + 8 of the block, written by the caller; the part of
            // C, the bias and the ReLU output from row `start` on lie inside the tile's.
            unsafe {
                let acc: [[__m512; 2]; 8] = std::array::from_fn(|r| {
                    let row = block.add(32 * (start + r));
                    let high = if tile.cols > 16 {
                        _mm512_loadu_ps(row.add(16))
                    } else {
                        _mm512_setzero_ps()
                    };
                    [_mm512_loadu_ps(row), high]
                });
                let part = Tile {
                    c: tile.c.offset(start as isize * tile.row_stride),
                    rows: 8.min(tile.rows - start),
                    bias: if tile.bias.is_null() || !tile.bias_on_rows {
                        tile.bias
                    } else {
                        tile.bias.add(start)
                    },
                    relu: if tile.relu.is_null() {
                        tile.relu
                    } else {
                        tile.relu.offset(start as isize * tile.relu_strides.0)
                    },
                    ..tile
                };
                store_avx512(acc, part);
            }
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
