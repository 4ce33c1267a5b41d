//! Intel AMX for bf16 products: TDPBF16PS multiplies a tile of 16 rows × 16 bf16 pairs of A
//! by a tile of 16 pairs × 16 columns of B and adds the 16 × 16 f32 sums to a third tile, 8192
//! multiply-adds in one instruction (VDPBF16PS does 32).
//!
//! ```text
//! C[i][j] += Σ_q a[i][2q]·b[2q][j] + a[i][2q+1]·b[2q+1][j]      q < 16, per tile
//! ```
//! The microkernel keeps a 32 × 32 block of C in four accumulator tiles (tmm0–3), loads two
//! tiles of A (tmm4–5) and two of B (tmm6–7) per 32 depth steps, then stores the block through
//! a buffer on the stack into C with the same epilogue (accumulate, bias, ReLU) as the vector
//! kernels. The panels it reads:
//!
//! ```text
//! A  [panel of 32 rows][chunk of 16 pairs][row][pair]    a tile: 16 rows, 64 bytes apart
//! B  [panel of 32 columns][pair][column]                 a tile: 16 pairs, 128 bytes apart
//! ```
//! B's panels are the bf16-pair panels of VDPBF16PS (VNNI order). Both are zero-padded to
//! whole chunks of 16 pairs (32 depth steps), so the kernel's depth is a multiple of 16 pairs.
//!
//! Linux grants a process the tile registers only on request (`arch_prctl` with
//! `ARCH_REQ_XCOMP_PERM` for `XFEATURE_XTILEDATA`), made once by [`has_amx`]; each thread
//! loads the tile configuration on its first product.

use std::sync::OnceLock;

use super::microkernel::Strided as Operand;

/// bf16 pairs in one row of a tile (64 bytes): the kernel's depth comes in multiples of this.
pub const CHUNK: usize = 16;

/// Whether this CPU and kernel let nabla use AMX-BF16 (CPUID leaf 7: AMX-TILE and AMX-BF16,
/// with AVX512_BF16 for the packing), asking Linux for the tile data permission the first time.
pub fn has_amx() -> bool {
    static AMX: OnceLock<bool> = OnceLock::new();
    *AMX.get_or_init(|| {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            x86::detect()
        }
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        {
            false
        }
    })
}

/// Packs rows × depth of A into panels of `mr` rows (a multiple of 16) of bf16 pairs in tile
/// order: [panel][⌈depth/32⌉ chunks][mr rows][16 pairs], zero past the rows and the depth.
///
/// # Safety
/// `a` must be a valid rows × depth matrix; `out` must hold ⌈rows/mr⌉·mr·(chunks·16) values.
/// The CPU must have AVX512_BF16 ([`has_amx`]).
pub(super) unsafe fn pack_a_tiles(rows: usize, depth: usize, a: Operand, mr: usize, out: *mut f32) {
    debug_assert!(mr.is_multiple_of(CHUNK));
    let steps = depth.div_ceil(2).div_ceil(CHUNK) * CHUNK;
    for (panel, start) in (0..rows).step_by(mr).enumerate() {
        let height = mr.min(rows - start);
        // SAFETY: the panel's rows of A, and its place in `out`.
        unsafe {
            let to = out.cast::<u32>().add(panel * mr * steps);
            x86::tiles_of_rows(a.at(start, 0), height, depth, mr, to);
        }
    }
}

/// Packs depth × cols of B into panels of `nr` columns of bf16 pairs, [panel][pairs][nr], each
/// panel's depth padded with zero pairs to a multiple of 16.
///
/// # Safety
/// `b` must be a valid depth × cols matrix; `out` must hold ⌈cols/nr⌉·nr·(chunks·16) values.
/// The CPU must have AVX512_BF16 ([`has_amx`]).
pub(super) unsafe fn pack_b_tiles(depth: usize, cols: usize, b: Operand, nr: usize, out: *mut f32) {
    let half = depth.div_ceil(2);
    let steps = half.div_ceil(CHUNK) * CHUNK;
    #[cfg(target_arch = "x86_64")]
    if b.column_stride == 1 && nr.is_multiple_of(16) {
        // SAFETY: as the caller's.
        unsafe { x86::pairs_of_contiguous_rows(b, depth, cols, nr, steps, out.cast()) };
        return;
    }
    for (panel, start) in (0..cols).step_by(nr).enumerate() {
        let width = nr.min(cols - start);
        // SAFETY: the panel's columns of B, and its place in `out`: its first ⌈depth/2⌉ rows
        // of pairs from the VDPBF16PS packing, the rest zero.
        unsafe {
            let to = out.add(panel * nr * steps);
            super::bf16::pack_b_pairs(depth, width, b.at(0, start), nr, to);
            std::ptr::write_bytes(to.add(half * nr), 0, (steps - half) * nr);
        }
    }
}

/// Loads the tile configuration (eight tiles of 16 rows × 64 bytes) on this thread: each
/// thread does so as it starts its part of a product, since another library on the same
/// thread (oneDNN under PyTorch, say) may have configured the tiles its own way or released
/// them in between.
pub(super) fn configure() {
    #[cfg(target_arch = "x86_64")]
    x86::configure();
}

/// Returns the tiles to their initial state when a thread's part of a product ends, so that
/// the thread carries no tile data through context switches and no configuration is left for
/// other code to trip over.
pub(super) fn release() {
    #[cfg(target_arch = "x86_64")]
    x86::release();
}

/// The AMX microkernel: a 32 × 32 tile of C from `k` pairs (a multiple of 16) of A's and B's
/// panels, as [`super::microkernel::KernelFn`]. A tile of at most 16 rows or 16 columns
/// multiplies only the halves it needs.
///
/// # Safety
/// As `KernelFn`, with the panels packed by [`pack_a_tiles`] and [`pack_b_tiles`] (mr = nr =
/// 32); [`has_amx`] must have returned true.
pub(super) unsafe fn amx_bf16(
    k: usize,
    a: *const f32,
    b: *const f32,
    tile: super::microkernel::Tile,
) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as the caller's.
    unsafe {
        x86::kernel(k, a, b, tile)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("AMX is x86-64 only ({k} {a:?} {b:?} {tile:?})")
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::asm;
    use std::arch::x86_64::*;

    use super::super::bf16::x86::{interleave, mask, transpose16};
    use super::super::microkernel::Tile;
    use super::super::microkernel::x86::store_rows;
    use super::{CHUNK, Operand};

    /// `arch_prctl` requests (linux/arch/x86/include/uapi/asm/prctl.h) and the tile data's
    /// state component.
    const ARCH_GET_XCOMP_PERM: libc::c_long = 0x1022;
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;

    /// CPUID leaf 7 for AMX-BF16 (EDX bit 22) and AMX-TILE (bit 24), AVX512_BF16 for the
    /// packing, the OS's XSAVE of the tile state (XCR0 bits 17 and 18), then the permission.
    #[cfg(target_os = "linux")]
    pub fn detect() -> bool {
        if !super::super::microkernel::has_bf16() {
            return false;
        }
        // CPUID leaf 7 exists on every x86-64 CPU with AVX-512.
        let leaf = __cpuid_count(7, 0);
        let (bf16, tile) = (leaf.edx >> 22 & 1 == 1, leaf.edx >> 24 & 1 == 1);
        if !(bf16 && tile && std::is_x86_feature_detected!("xsave")) {
            return false;
        }
        // SAFETY: XGETBV with ECX = 0 reads XCR0; OSXSAVE is set (is_x86_feature_detected
        // checks it for the AVX-512 already found).
        let xcr0 = unsafe { _xgetbv(0) };
        if xcr0 >> 17 & 3 != 3 {
            return false;
        }
        // SAFETY: arch_prctl with these requests only reads or sets the process's permission.
        unsafe {
            if libc::syscall(
                libc::SYS_arch_prctl,
                ARCH_REQ_XCOMP_PERM,
                XFEATURE_XTILEDATA,
            ) != 0
            {
                return false;
            }
            let mut granted: u64 = 0;
            libc::syscall(
                libc::SYS_arch_prctl,
                ARCH_GET_XCOMP_PERM,
                &mut granted as *mut u64,
            ) == 0
                && granted >> XFEATURE_XTILEDATA & 1 == 1
        }
    }

    /// The one tile configuration (palette 1): eight tiles of 16 rows × 64 bytes.
    #[repr(C, align(64))]
    struct Config([u8; 64]);

    /// See [`super::configure`].
    pub fn configure() {
        let mut config = Config([0; 64]);
        config.0[0] = 1;
        for t in 0..8 {
            config.0[16 + 2 * t] = 64;
            config.0[48 + t] = 16;
        }
        // SAFETY: a valid palette-1 configuration; the process holds the tile permission
        // (has_amx, which every caller checked by choosing the AMX kernel).
        unsafe { asm!("ldtilecfg [{0}]", in(reg) config.0.as_ptr(), options(nostack)) };
    }

    /// See [`super::release`].
    pub fn release() {
        // SAFETY: TILERELEASE only returns the tile state to its initial state.
        unsafe { asm!("tilerelease", options(nostack, nomem)) };
    }

    /// A 32 × 32 block of f32 sums, 128 bytes a row (the four tiles stored side by side).
    #[repr(C, align(64))]
    #[allow(dead_code)] // Written and read through pointers only.
    struct Block([[f32; 32]; 32]);

    /// See [`super::amx_bf16`].
    ///
    /// # Safety
    /// As there.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn kernel(k: usize, a: *const f32, b: *const f32, tile: Tile) {
        debug_assert!(k.is_multiple_of(CHUNK) && k > 0);
        let chunks = k / CHUNK;
        if tile.rows == 32
            && tile.cols == 32
            && tile.column_stride == 1
            && tile.row_stride > 0
            && tile.bias.is_null()
            && tile.relu.is_null()
        {
            // A whole tile of C with contiguous rows and nothing to add to it on the way: the
            // accumulators start from C (or zero) and are stored into it, with no block.
            // SAFETY: as below; C's 32 rows of 32 values lie `row_stride` apart.
            unsafe { whole(chunks, a, b, tile) };
            return;
        }
        // Only the tiles the kernel multiplies are stored, and only they are read back: no
        // need to clear the block first (4 KB per tile of C).
        let mut block = std::mem::MaybeUninit::<Block>::uninit();
        let out = block.as_mut_ptr().cast::<f32>();
        // Bytes: A's tile rows 64 apart, a chunk of A 32·64; B's rows of pairs 128 apart, a
        // chunk of B 16·128; the block's rows 128 apart.
        // SAFETY: the panels hold `chunks` chunks of 32 rows or columns; the block is 32 × 32.
        unsafe {
            match (tile.rows > 16, tile.cols > 16) {
                (true, true) => {
                    asm!(
                        "tilezero tmm0",
                        "tilezero tmm1",
                        "tilezero tmm2",
                        "tilezero tmm3",
                        options(nostack, nomem),
                    );
                    multiply_2x2(chunks, a, b);
                    asm!(
                        "tilestored [{c} + {sb}*1], tmm0",
                        "tilestored [{c} + {sb}*1 + 64], tmm1",
                        "tilestored [{c} + {sb}*1 + 2048], tmm2",
                        "tilestored [{c} + {sb}*1 + 2112], tmm3",
                        c = in(reg) out, sb = in(reg) 128usize,
                        options(nostack),
                    );
                }
                (false, true) => asm!(
                    "tilezero tmm0", "tilezero tmm1",
                    "2:",
                    "tileloadd tmm4, [{a} + {sa}*1]",
                    "tileloadd tmm6, [{b} + {sb}*1]",
                    "tileloadd tmm7, [{b} + {sb}*1 + 64]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "add {a}, 2048", "add {b}, 2048",
                    "dec {n}", "jnz 2b",
                    "tilestored [{c} + {sb}*1], tmm0",
                    "tilestored [{c} + {sb}*1 + 64], tmm1",
                    a = inout(reg) a => _, b = inout(reg) b => _, n = inout(reg) chunks => _,
                    c = in(reg) out, sa = in(reg) 64usize, sb = in(reg) 128usize,
                    options(nostack),
                ),
                (true, false) => asm!(
                    "tilezero tmm0", "tilezero tmm2",
                    "2:",
                    "tileloadd tmm4, [{a} + {sa}*1]",
                    "tileloadd tmm6, [{b} + {sb}*1]",
                    "tileloadd tmm5, [{a} + {sa}*1 + 1024]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm2, tmm5, tmm6",
                    "add {a}, 2048", "add {b}, 2048",
                    "dec {n}", "jnz 2b",
                    "tilestored [{c} + {sb}*1], tmm0",
                    "tilestored [{c} + {sb}*1 + 2048], tmm2",
                    a = inout(reg) a => _, b = inout(reg) b => _, n = inout(reg) chunks => _,
                    c = in(reg) out, sa = in(reg) 64usize, sb = in(reg) 128usize,
                    options(nostack),
                ),
                (false, false) => asm!(
                    "tilezero tmm0",
                    "2:",
                    "tileloadd tmm4, [{a} + {sa}*1]",
                    "tileloadd tmm6, [{b} + {sb}*1]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "add {a}, 2048", "add {b}, 2048",
                    "dec {n}", "jnz 2b",
                    "tilestored [{c} + {sb}*1], tmm0",
                    a = inout(reg) a => _, b = inout(reg) b => _, n = inout(reg) chunks => _,
                    c = in(reg) out, sa = in(reg) 64usize, sb = in(reg) 128usize,
                    options(nostack),
                ),
            }
            store_rows(out, tile);
        }
    }

    /// [`kernel`] on a whole 32 × 32 tile of C with unit column stride, no bias and no ReLU:
    /// the four accumulators loaded from C (or zeroed), multiplied, stored back.
    ///
    /// # Safety
    /// As [`kernel`], with those conditions.
    #[inline(always)]
    unsafe fn whole(chunks: usize, a: *const f32, b: *const f32, tile: Tile) {
        let stride = tile.row_stride * 4;
        // SAFETY: rows 0–31 of C, 32 values each, `stride` bytes apart.
        unsafe {
            let lower = tile.c.offset(16 * tile.row_stride);
            if tile.accumulate {
                asm!(
                    "tileloadd tmm0, [{c} + {s}*1]",
                    "tileloadd tmm1, [{c} + {s}*1 + 64]",
                    "tileloadd tmm2, [{d} + {s}*1]",
                    "tileloadd tmm3, [{d} + {s}*1 + 64]",
                    c = in(reg) tile.c, d = in(reg) lower, s = in(reg) stride,
                    options(nostack, readonly),
                );
            } else {
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "tilezero tmm2",
                    "tilezero tmm3",
                    options(nostack, nomem),
                );
            }
            multiply_2x2(chunks, a, b);
            asm!(
                "tilestored [{c} + {s}*1], tmm0",
                "tilestored [{c} + {s}*1 + 64], tmm1",
                "tilestored [{d} + {s}*1], tmm2",
                "tilestored [{d} + {s}*1 + 64], tmm3",
                c = in(reg) tile.c, d = in(reg) lower, s = in(reg) stride,
                options(nostack),
            );
        }
    }

    /// tmm0–3 (the 2 × 2 accumulator tiles of a 32 × 32 block) += `chunks` chunks of A's and
    /// B's panels: per chunk two tiles of A (rows 0–15, 16–31) and two of B (columns 0–15,
    /// 16–31), four TDPBF16PS.
    ///
    /// # Safety
    /// The panels hold `chunks` chunks (2 KB each); the tiles are configured.
    #[inline(always)]
    unsafe fn multiply_2x2(chunks: usize, a: *const f32, b: *const f32) {
        // SAFETY: as the caller's.
        unsafe {
            asm!(
                "2:",
                "tileloadd tmm4, [{a} + {sa}*1]",
                "tileloadd tmm6, [{b} + {sb}*1]",
                "tileloadd tmm5, [{a} + {sa}*1 + 1024]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tileloadd tmm7, [{b} + {sb}*1 + 64]",
                "tdpbf16ps tmm2, tmm5, tmm6",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "tdpbf16ps tmm3, tmm5, tmm7",
                "add {a}, 2048", "add {b}, 2048",
                "dec {n}", "jnz 2b",
                a = inout(reg) a => _, b = inout(reg) b => _, n = inout(reg) chunks => _,
                sa = in(reg) 64usize, sb = in(reg) 128usize,
                options(nostack, readonly),
            );
        }
    }

    /// [`super::pack_b_tiles`] for a B whose rows are contiguous: rows 2p and 2p + 1 are read
    /// whole, 16 columns at a time (VCVTNE2PS2BF16 and an interleave make the 16 pairs), and
    /// their pairs go to row p of each panel, so that B is read in order rather than one panel's
    /// width of every row at a time (2 KB apart in model B's products, 15 % of a bf16 product
    /// on an Intel Xeon in perf before). Columns past `cols` and pairs past the depth are zero.
    ///
    /// # Safety
    /// As [`super::pack_b_tiles`]; `nr` a multiple of 16.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub unsafe fn pairs_of_contiguous_rows(
        b: Operand,
        depth: usize,
        cols: usize,
        nr: usize,
        steps: usize,
        out: *mut u32,
    ) {
        let order = interleave();
        let groups = cols.div_ceil(nr) * nr / 16;
        // SAFETY: reads masked to the rows and columns of B; writes inside the panels.
        unsafe {
            for p in 0..steps {
                let (low_row, high_row) = (2 * p, 2 * p + 1);
                for g in 0..groups {
                    let to = out.add((16 * g / nr) * nr * steps + p * nr + 16 * g % nr);
                    let read = mask(cols.saturating_sub(16 * g));
                    if low_row >= depth || read == 0 {
                        _mm512_storeu_si512(to.cast(), _mm512_setzero_si512());
                        continue;
                    }
                    let row = |r: usize| b.ptr.offset(r as isize * b.row_stride).add(16 * g);
                    let low = _mm512_maskz_loadu_ps(read, row(low_row));
                    let high = if high_row < depth {
                        _mm512_maskz_loadu_ps(read, row(high_row))
                    } else {
                        _mm512_setzero_ps()
                    };
                    let both =
                        std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(high, low));
                    _mm512_storeu_si512(to.cast(), _mm512_permutexvar_epi16(order, both));
                }
            }
        }
    }

    /// Rows `height` (≤ panel) of A from `a`, each `depth` long, into [chunk][panel][16 pairs]
    /// at `out`, zero past the height and the depth.
    ///
    /// # Safety
    /// As [`super::pack_a_tiles`] for one panel.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub unsafe fn tiles_of_rows(
        a: Operand,
        height: usize,
        depth: usize,
        panel: usize,
        out: *mut u32,
    ) {
        let chunks = depth.div_ceil(2 * CHUNK);
        // SAFETY: reads stay inside the rows and the depth (masked), writes inside the panel.
        unsafe {
            if a.column_stride == 1 {
                // Each row's 32 depth steps of a chunk: one VCVTNE2PS2BF16 keeps them in order.
                for r in 0..panel {
                    for c in 0..chunks {
                        let to = out.add((c * panel + r) * CHUNK).cast();
                        if r >= height {
                            _mm512_storeu_si512(to, _mm512_setzero_si512());
                            continue;
                        }
                        let values = depth - 2 * CHUNK * c;
                        let row = a.ptr.offset(r as isize * a.row_stride).add(2 * CHUNK * c);
                        let low = _mm512_maskz_loadu_ps(mask(values), row);
                        let high =
                            _mm512_maskz_loadu_ps(mask(values.saturating_sub(16)), row.add(16));
                        _mm512_storeu_si512(
                            to,
                            std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(
                                high, low,
                            )),
                        );
                    }
                }
            } else if a.row_stride == 1 {
                // Rows adjacent in memory: depth steps 2q and 2q + 1 of 16 rows make one
                // vector of 16 pairs (a pair per row), and 16 of them transposed give each
                // row's 16 pairs.
                let order = interleave();
                for g in (0..panel).step_by(16) {
                    let read = mask(height.saturating_sub(g));
                    for c in 0..chunks {
                        let mut pairs = [_mm512_setzero_si512(); 16];
                        for (q, pair) in pairs.iter_mut().enumerate() {
                            let step = 2 * (CHUNK * c + q);
                            if step >= depth || read == 0 {
                                continue;
                            }
                            let column = a.ptr.offset(step as isize * a.column_stride).add(g);
                            let low = _mm512_maskz_loadu_ps(read, column);
                            let high = if step + 1 < depth {
                                _mm512_maskz_loadu_ps(read, column.offset(a.column_stride))
                            } else {
                                _mm512_setzero_ps()
                            };
                            let both: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(high, low));
                            *pair = _mm512_permutexvar_epi16(order, both);
                        }
                        for (r, row) in transpose16(pairs).iter().enumerate() {
                            _mm512_storeu_si512(out.add((c * panel + g + r) * CHUNK).cast(), *row);
                        }
                    }
                }
            } else {
                for r in 0..panel {
                    for c in 0..chunks {
                        for q in 0..CHUNK {
                            let bits = |step: usize| {
                                if r < height && step < depth {
                                    u32::from(super::super::bf16::bf16_bits(*a.ptr.offset(
                                        r as isize * a.row_stride + step as isize * a.column_stride,
                                    )))
                                } else {
                                    0
                                }
                            };
                            let step = 2 * (CHUNK * c + q);
                            *out.add((c * panel + r) * CHUNK + q) =
                                bits(step) | bits(step + 1) << 16;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::bf16::bf16_bits;
    use super::*;

    /// The tile packing of A against its definition, out[panel][c][r][q] = pair(a[r][2(16c+q)],
    /// a[r][2(16c+q)+1]), zero past the rows and the depth: rows contiguous, columns contiguous
    /// (the transposing path) and neither, on odd depths and partial panels.
    #[test]
    fn tile_packing_matches_its_definition() {
        if !has_amx() {
            eprintln!("no AMX on this CPU: the tile packing is not used here");
            return;
        }
        let (rows, depth, mr) = (45usize, 67usize, 32usize);
        let value = |r: usize, p: usize| ((r * 131 + p * 7) as f32 * 0.37).sin() * 3.0;
        let steps = depth.div_ceil(2).div_ceil(CHUNK) * CHUNK;
        let panels = rows.div_ceil(mr);
        let mut expected = vec![0u32; panels * mr * steps];
        for r in 0..rows {
            for p in 0..depth {
                let (panel, row, pair) = (r / mr, r % mr, p / 2);
                let at = panel * mr * steps + (pair / CHUNK * mr + row) * CHUNK + pair % CHUNK;
                expected[at] |= u32::from(bf16_bits(value(r, p))) << (16 * (p % 2));
            }
        }
        // The same matrix stored three ways: row-major, column-major, and every element 3
        // apart along the rows with rows 3·depth + 1 apart.
        let row_major: Vec<f32> = (0..rows * depth)
            .map(|i| value(i / depth, i % depth))
            .collect();
        let column_major: Vec<f32> = (0..rows * depth)
            .map(|i| value(i % rows, i / rows))
            .collect();
        let spread_stride = 3 * depth + 1;
        let mut spread = vec![f32::NAN; rows * spread_stride];
        for r in 0..rows {
            for p in 0..depth {
                spread[r * spread_stride + 3 * p] = value(r, p);
            }
        }
        for (what, ptr, row_stride, column_stride) in [
            ("rows contiguous", row_major.as_ptr(), depth as isize, 1),
            (
                "columns contiguous",
                column_major.as_ptr(),
                1,
                rows as isize,
            ),
            ("strided", spread.as_ptr(), spread_stride as isize, 3),
        ] {
            let mut out = vec![7u32; expected.len()];
            let a = Operand {
                ptr,
                row_stride,
                column_stride,
            };
            // SAFETY: each storage holds the rows × depth matrix; `out` its padded panels.
            unsafe { pack_a_tiles(rows, depth, a, mr, out.as_mut_ptr().cast()) };
            assert_eq!(out, expected, "{what}");
        }
    }

    /// The B panels against their definition, out[panel][p][c] = pair(b[2p][32·panel + c],
    /// b[2p+1][32·panel + c]), zero past the columns and the depth: rows contiguous (read row
    /// pair by row pair across all panels) and columns contiguous.
    #[test]
    fn b_panels_match_their_definition() {
        if !has_amx() {
            eprintln!("no AMX on this CPU: the tile packing is not used here");
            return;
        }
        let nr = 32;
        for (depth, cols) in [(67usize, 45usize), (32, 64), (1, 7), (100, 33)] {
            let value = |p: usize, c: usize| ((p * 17 + c * 5) as f32 * 0.29).cos() * 2.0;
            let steps = depth.div_ceil(2).div_ceil(CHUNK) * CHUNK;
            let panels = cols.div_ceil(nr);
            let mut expected = vec![0u32; panels * nr * steps];
            for p in 0..depth {
                for c in 0..cols {
                    let at = (c / nr) * nr * steps + (p / 2) * nr + c % nr;
                    expected[at] |= u32::from(bf16_bits(value(p, c))) << (16 * (p % 2));
                }
            }
            let rows: Vec<f32> = (0..depth * cols)
                .map(|i| value(i / cols, i % cols))
                .collect();
            let columns: Vec<f32> = (0..depth * cols)
                .map(|i| value(i % depth, i / depth))
                .collect();
            for (what, ptr, row_stride, column_stride) in [
                ("rows contiguous", rows.as_ptr(), cols as isize, 1),
                ("columns contiguous", columns.as_ptr(), 1, depth as isize),
            ] {
                let mut out = vec![7u32; expected.len()];
                let b = Operand {
                    ptr,
                    row_stride,
                    column_stride,
                };
                // SAFETY: the storage holds depth × cols; `out` the padded panels.
                unsafe { pack_b_tiles(depth, cols, b, nr, out.as_mut_ptr().cast()) };
                assert_eq!(out, expected, "{what}, {depth} × {cols}");
            }
        }
    }
}
