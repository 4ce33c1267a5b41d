//! bfloat16 operands for the product: f32 values rounded to bf16 (round to nearest, ties to
//! even: the top 16 bits of the f32) as the product packs them, multiplied in pairs and summed
//! in f32.
//!
//! ```text
//! bf16(x) = (bits(x) + 0x7FFF + ((bits(x) >> 16) & 1)) >> 16      NaN stays NaN (quiet)
//! a pair  = bf16(v[2p]) | bf16(v[2p + 1]) << 16                    one u32 per 2 depth steps
//! ```
//! On a CPU with AVX512_BF16 the packed panels hold these pairs ([panel][⌈depth/2⌉][width]),
//! read by the VDPBF16PS microkernel: c += a[2p]·b[2p] + a[2p+1]·b[2p+1] in f32. Elsewhere the
//! panels hold f32 values rounded to bf16 and the f32 microkernel runs on them: the same
//! products, summed one step at a time.

use super::microkernel::Strided as Operand;

/// The bf16 bits of `x`, rounded to nearest even.
pub fn bf16_bits(x: f32) -> u16 {
    let bits = x.to_bits();
    if x.is_nan() {
        // Keep it a NaN: set the top mantissa bit so truncation cannot make it ∞.
        return ((bits >> 16) | 0x0040) as u16;
    }
    let rounding = 0x7FFF + ((bits >> 16) & 1);
    (bits.wrapping_add(rounding) >> 16) as u16
}

/// `x` rounded to the nearest bf16, as an f32.
pub fn round_to_bf16(x: f32) -> f32 {
    f32::from_bits(u32::from(bf16_bits(x)) << 16)
}

/// out[p][i] = pair(src[2p][i], src[2p + 1][i]) for p < ⌈depth/2⌉, i < width (`width` valid
/// columns of rows `stride` apart), zero beyond `width` up to `panel` columns: two rows of the
/// source make one row of pairs.
///
/// # Safety
/// `src` must hold depth rows of `width` values `stride` apart; `out` ⌈depth/2⌉·panel values.
unsafe fn pairs_across_rows(
    src: *const f32,
    stride: isize,
    depth: usize,
    width: usize,
    panel: usize,
    out: *mut u32,
) {
    #[cfg(target_arch = "x86_64")]
    if super::microkernel::has_bf16() && panel <= 32 {
        // SAFETY: as the caller's; the CPU has AVX512_BF16 and AVX512BW.
        unsafe { x86::pairs_across_rows(src, stride, depth, width, panel, out) };
        return;
    }
    // SAFETY: value(q, i) reads row q < depth, column i < width of the source.
    unsafe {
        generic(depth, width, panel, out, |q, i| {
            *src.offset(q as isize * stride + i as isize)
        })
    }
}

/// out[p][r] = pair(src[r][2p], src[r][2p + 1]) for r < rows (rows `stride` apart, each `depth`
/// long), zero beyond `rows` up to `panel`: each source row becomes a column of pairs.
///
/// # Safety
/// `src` must hold the rows; `out` ⌈depth/2⌉·panel values.
unsafe fn pairs_along_rows(
    src: *const f32,
    stride: isize,
    rows: usize,
    depth: usize,
    panel: usize,
    out: *mut u32,
) {
    #[cfg(target_arch = "x86_64")]
    if super::microkernel::has_bf16() {
        // SAFETY: as the caller's; the CPU has AVX512_BF16.
        unsafe { x86::pairs_along_rows(src, stride, rows, depth, panel, out) };
        for p in 0..depth.div_ceil(2) {
            for r in rows..panel {
                // SAFETY: inside the panel.
                unsafe { *out.add(p * panel + r) = 0 };
            }
        }
        return;
    }
    // SAFETY: value(q, r) reads row r < rows at depth q < depth of the source.
    unsafe {
        generic(depth, rows, panel, out, |q, r| {
            *src.offset(r as isize * stride + q as isize)
        })
    }
}

/// Packs rows × depth of A into panels of `mr` rows of bf16 pairs: [panel][⌈depth/2⌉][mr].
///
/// # Safety
/// As `pack_a`, with `out` holding ⌈rows/mr⌉·mr·⌈depth/2⌉ values.
pub(super) unsafe fn pack_a_pairs(rows: usize, depth: usize, a: Operand, mr: usize, out: *mut f32) {
    let half = depth.div_ceil(2);
    for (panel, start) in (0..rows).step_by(mr).enumerate() {
        let height = mr.min(rows - start);
        let first = a.at(start, 0);
        // SAFETY: the panel's rows of A, and its place in `out`.
        unsafe {
            let to = out.cast::<u32>().add(panel * half * mr);
            if a.column_stride == 1 {
                // Rows contiguous along the depth: each row's pairs are adjacent.
                pairs_along_rows(first.ptr, a.row_stride, height, depth, mr, to);
            } else if a.row_stride == 1 {
                // Columns contiguous: two depth steps are two source rows.
                pairs_across_rows(first.ptr, a.column_stride, depth, height, mr, to);
            } else {
                generic(depth, height, mr, to, |p, r| {
                    *first
                        .ptr
                        .offset(r as isize * a.row_stride + p as isize * a.column_stride)
                });
            }
        }
    }
}

/// Packs depth × cols of B into panels of `nr` columns of bf16 pairs: [panel][⌈depth/2⌉][nr],
/// which are the A panels of Bᵀ (cols × depth).
///
/// # Safety
/// As `pack_b`, with `out` holding ⌈depth/2⌉·⌈cols/nr⌉·nr values.
pub(super) unsafe fn pack_b_pairs(depth: usize, cols: usize, b: Operand, nr: usize, out: *mut f32) {
    // SAFETY: Bᵀ is the same memory, cols × depth.
    unsafe { pack_a_pairs(cols, depth, b.t(), nr, out) }
}

/// Any strides: out[p][i] = pair(value(2p, i), value(2p + 1, i)), zero-padded.
///
/// # Safety
/// `value(p, i)` must be readable for p < depth, i < width; `out` holds ⌈depth/2⌉·panel values.
unsafe fn generic(
    depth: usize,
    width: usize,
    panel: usize,
    out: *mut u32,
    value: impl Fn(usize, usize) -> f32,
) {
    for p in 0..depth.div_ceil(2) {
        for i in 0..panel {
            let bits = |q: usize| {
                if q < depth && i < width {
                    bf16_bits(value(q, i))
                } else {
                    0
                }
            };
            // SAFETY: inside the panel.
            unsafe {
                *out.add(p * panel + i) =
                    u32::from(bits(2 * p)) | (u32::from(bits(2 * p + 1)) << 16)
            };
        }
    }
}

/// Rounds `len` packed f32 values to bf16 in place (the CPUs without AVX512_BF16).
///
/// # Safety
/// `values` must hold `len` values.
pub(super) unsafe fn round_in_place(values: *mut f32, len: usize) {
    for i in 0..len {
        // SAFETY: i < len.
        unsafe { *values.add(i) = round_to_bf16(*values.add(i)) };
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    use std::arch::x86_64::*;

    /// 16-bit lane order that interleaves the low 16 bf16 (row 2p) with the high 16 (row 2p+1).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(in crate::kernels) fn interleave() -> __m512i {
        _mm512_set_epi16(
            31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20,
            4, 19, 3, 18, 2, 17, 1, 16, 0,
        )
    }

    /// The first `lanes` (at most 16) of 16.
    pub(in crate::kernels) fn mask(lanes: usize) -> __mmask16 {
        if lanes >= 16 {
            0xFFFF
        } else {
            ((1u32 << lanes) - 1) as __mmask16
        }
    }

    /// As `super::pairs_across_rows`: rows 2p and 2p + 1 converted with VCVTNE2PS2BF16 and
    /// interleaved, 16 columns at a time; masked past `width` (zeros) and `panel`.
    ///
    /// # Safety
    /// As the scalar version; the CPU must support AVX512_BF16 and AVX512BW; panel ≤ 32.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub unsafe fn pairs_across_rows(
        src: *const f32,
        stride: isize,
        depth: usize,
        width: usize,
        panel: usize,
        out: *mut u32,
    ) {
        let order = interleave();
        for p in 0..depth.div_ceil(2) {
            for g in 0..panel.div_ceil(16) {
                let read = mask(width.saturating_sub(16 * g));
                let write = mask(panel - 16 * g);
                // SAFETY: rows 2p (and 2p + 1 when inside the depth), columns masked to the width.
                unsafe {
                    let low = _mm512_maskz_loadu_ps(
                        read,
                        src.offset(2 * p as isize * stride + 16 * g as isize),
                    );
                    let high = if 2 * p + 1 < depth {
                        _mm512_maskz_loadu_ps(
                            read,
                            src.offset((2 * p + 1) as isize * stride + 16 * g as isize),
                        )
                    } else {
                        _mm512_setzero_ps()
                    };
                    let both: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(high, low));
                    let paired = _mm512_permutexvar_epi16(order, both);
                    _mm512_mask_storeu_epi32(out.add(p * panel + 16 * g).cast(), write, paired);
                }
            }
        }
    }

    /// As `super::pairs_along_rows`, for the rows given (the caller zeroes the padding rows):
    /// 32 values of a row become 16 pairs (VCVTNE2PS2BF16 keeps adjacent values adjacent), and
    /// 16 rows' pairs are written as columns with a 16 × 16 transpose in registers (rows past
    /// the end read as zero and are not stored).
    ///
    /// # Safety
    /// As the scalar version; the CPU must support AVX512_BF16.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub unsafe fn pairs_along_rows(
        src: *const f32,
        stride: isize,
        rows: usize,
        depth: usize,
        panel: usize,
        out: *mut u32,
    ) {
        let half = depth.div_ceil(2);
        for r0 in (0..rows).step_by(16) {
            let block = 16.min(rows - r0);
            for p0 in (0..half).step_by(16) {
                let pairs = 16.min(half - p0);
                // Values 2·p0 .. 2·p0 + 32 of each row, masked to the depth.
                let values = depth - 2 * p0;
                let (low_mask, high_mask) = (mask(values), mask(values.saturating_sub(16)));
                let mut block_rows = [_mm512_setzero_si512(); 16];
                for (r, slot) in block_rows.iter_mut().enumerate().take(block) {
                    // SAFETY: row r0 + r, depth 2·p0 .. masked to the row's end.
                    unsafe {
                        let row = src.offset((r0 + r) as isize * stride).add(2 * p0);
                        let low = _mm512_maskz_loadu_ps(low_mask, row);
                        let high = _mm512_maskz_loadu_ps(high_mask, row.add(16));
                        *slot = std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(
                            high, low,
                        ));
                    }
                }
                // 16 × 16 transpose of 32-bit lanes: row r lane c → row c lane r.
                let t = transpose16(block_rows);
                let write = mask(block);
                for (c, column) in t.iter().enumerate().take(pairs) {
                    // SAFETY: row p0 + c of the pairs, columns r0 .. r0 + block of the panel.
                    unsafe {
                        _mm512_mask_storeu_epi32(
                            out.add((p0 + c) * panel + r0).cast(),
                            write,
                            *column,
                        )
                    };
                }
            }
        }
    }

    /// Transposes 16 vectors of 16 32-bit lanes: 32-bit and 64-bit interleaves within 128-bit
    /// lanes, then 128-bit lanes gathered across registers.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(in crate::kernels) fn transpose16(r: [__m512i; 16]) -> [__m512i; 16] {
        // Stage 1: 32-bit interleave of row pairs.
        let mut a = [_mm512_setzero_si512(); 16];
        for i in 0..8 {
            a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
            a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        // Stage 2: 64-bit interleave.
        let mut b = [_mm512_setzero_si512(); 16];
        for i in 0..4 {
            b[4 * i] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
            b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
            b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
            b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
        }
        // b[4i + k], lane L: column 4L + k of rows 4i .. 4i + 4. Output row 4L + k gathers
        // lane L of b[k], b[4 + k], b[8 + k], b[12 + k].
        let d = b;
        // Gather lane L of d[4i + k] for i = 0..4 into output row 4L + k.
        let mut out = [_mm512_setzero_si512(); 16];
        for k in 0..4 {
            // x0 = [d0.L0, d0.L1, d1.L0, d1.L1]-style shuffles via shuffle_i32x4.
            let (r0, r1, r2, r3) = (d[k], d[4 + k], d[8 + k], d[12 + k]);
            let u0 = _mm512_shuffle_i32x4::<0b01_00_01_00>(r0, r1); // r0.L0 r0.L1 r1.L0 r1.L1
            let u1 = _mm512_shuffle_i32x4::<0b11_10_11_10>(r0, r1); // r0.L2 r0.L3 r1.L2 r1.L3
            let u2 = _mm512_shuffle_i32x4::<0b01_00_01_00>(r2, r3);
            let u3 = _mm512_shuffle_i32x4::<0b11_10_11_10>(r2, r3);
            out[k] = _mm512_shuffle_i32x4::<0b10_00_10_00>(u0, u2); // L0 of r0 r1 r2 r3
            out[4 + k] = _mm512_shuffle_i32x4::<0b11_01_11_01>(u0, u2); // L1
            out[8 + k] = _mm512_shuffle_i32x4::<0b10_00_10_00>(u1, u3); // L2
            out[12 + k] = _mm512_shuffle_i32x4::<0b11_01_11_01>(u1, u3); // L3
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_to_nearest_even() {
        assert_eq!(round_to_bf16(1.0), 1.0);
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even one, 1.
        assert_eq!(round_to_bf16(1.0 + 1.0 / 256.0), 1.0);
        // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: to 1 + 2⁻⁶ (even).
        assert_eq!(round_to_bf16(1.0 + 3.0 / 256.0), 1.0 + 4.0 / 256.0);
        assert_eq!(round_to_bf16(-2.5e-3), -0.002_502_441_4);
        assert!(round_to_bf16(f32::NAN).is_nan());
        assert_eq!(round_to_bf16(f32::INFINITY), f32::INFINITY);
        assert_eq!(
            round_to_bf16(f32::MAX),
            f32::INFINITY,
            "rounds past the largest bf16"
        );
    }

    /// Both pair layouts (VDPBF16PS's SIMD packing where the CPU has it) against the scalar
    /// definition, on odd depths, partial widths, padded panels and strided sources.
    #[test]
    fn pairs_match_the_scalar_definition() {
        let stride = 70usize;
        let source: Vec<f32> = (0..64 * stride)
            .map(|i| (i as f32 * 0.37).sin() * 3.0)
            .collect();
        let value = |row: usize, column: usize| source[row * stride + column];
        for (depth, width, panel) in [
            (7usize, 32usize, 32usize),
            (8, 12, 12),
            (5, 9, 12),
            (1, 32, 32),
            (33, 20, 32),
            (40, 16, 16),
        ] {
            let half = depth.div_ceil(2);
            let mut expected = vec![0u32; half * panel];
            unsafe {
                generic(depth, width, panel, expected.as_mut_ptr(), |p, i| {
                    value(p, i)
                })
            };
            let mut across = vec![7u32; half * panel];
            unsafe {
                pairs_across_rows(
                    source.as_ptr(),
                    stride as isize,
                    depth,
                    width,
                    panel,
                    across.as_mut_ptr(),
                )
            };
            assert_eq!(
                across, expected,
                "across rows: {depth} × {width} in {panel}"
            );
            // The same values read as rows: row i holds value(·, i) along the depth.
            let transposed: Vec<f32> = (0..width)
                .flat_map(|i| (0..depth).map(move |p| (p, i)))
                .map(|(p, i)| value(p, i))
                .collect();
            let mut along = vec![7u32; half * panel];
            unsafe {
                pairs_along_rows(
                    transposed.as_ptr(),
                    depth as isize,
                    width,
                    depth,
                    panel,
                    along.as_mut_ptr(),
                )
            };
            assert_eq!(along, expected, "along rows: {depth} × {width} in {panel}");
        }
    }
}
