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

use super::pack::{pack_a, pack_b};
use super::sgemm::Operand;

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

/// The most f32 values one panel of a block holds (depth ≤ 4·KC for A read whole, width ≤ 32).
const PANEL: usize = 1024 * 32;

thread_local! {
    /// One panel in f32, packed before it is turned into pairs.
    static STAGING: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reserves this thread's staging panel, so no product allocates after warm-up.
pub(super) fn reserve_staging() {
    STAGING.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < PANEL {
            s.resize(PANEL, 0.0);
        }
    });
}

/// Turns one f32 panel ([depth][width]) into pairs ([⌈depth/2⌉][width], one u32 per slot).
///
/// # Safety
/// `panel` must hold depth·width values and `out` ⌈depth/2⌉·width.
unsafe fn pairs(panel: *const f32, depth: usize, width: usize, out: *mut f32) {
    let out = out.cast::<u32>();
    let half = depth / 2;
    #[cfg(target_arch = "x86_64")]
    if super::microkernel::has_bf16() && (width == 32 || width == 12 || width == 16) {
        // SAFETY: as the caller's; the CPU has AVX512_BF16 (and AVX512BW, which it implies).
        unsafe { x86::pairs(panel, half, width, out) };
        if depth % 2 == 1 {
            for i in 0..width {
                // SAFETY: the last row of the panel and the last row of pairs.
                unsafe {
                    *out.add(half * width + i) =
                        u32::from(bf16_bits(*panel.add((depth - 1) * width + i)))
                };
            }
        }
        return;
    }
    for p in 0..depth.div_ceil(2) {
        for i in 0..width {
            // SAFETY: rows 2p and 2p + 1 (when it exists) of the panel; row p of the pairs.
            unsafe {
                let low = bf16_bits(*panel.add(2 * p * width + i));
                let high = if 2 * p + 1 < depth {
                    bf16_bits(*panel.add((2 * p + 1) * width + i))
                } else {
                    0
                };
                *out.add(p * width + i) = u32::from(low) | (u32::from(high) << 16);
            }
        }
    }
}

/// Packs rows × depth of A into panels of `mr` rows of bf16 pairs: [panel][⌈depth/2⌉][mr].
///
/// # Safety
/// As `pack_a`, with `out` holding ⌈rows/mr⌉·mr·⌈depth/2⌉ values.
pub(super) unsafe fn pack_a_pairs(rows: usize, depth: usize, a: Operand, mr: usize, out: *mut f32) {
    let half = depth.div_ceil(2);
    STAGING.with(|staging| {
        let mut staging = staging.borrow_mut();
        if staging.len() < depth * mr {
            staging.resize(depth * mr, 0.0);
        }
        for (panel, start) in (0..rows).step_by(mr).enumerate() {
            let height = mr.min(rows - start);
            // SAFETY: one panel of A into the staging buffer, then its pairs into the panel's
            // place in `out`.
            unsafe {
                pack_a(height, depth, a.at(start, 0), mr, staging.as_mut_ptr());
                pairs(staging.as_ptr(), depth, mr, out.add(panel * half * mr));
            }
        }
    });
}

/// Packs depth × cols of B into panels of `nr` columns of bf16 pairs: [panel][⌈depth/2⌉][nr].
///
/// # Safety
/// As `pack_b`, with `out` holding ⌈depth/2⌉·⌈cols/nr⌉·nr values.
pub(super) unsafe fn pack_b_pairs(depth: usize, cols: usize, b: Operand, nr: usize, out: *mut f32) {
    let half = depth.div_ceil(2);
    STAGING.with(|staging| {
        let mut staging = staging.borrow_mut();
        if staging.len() < depth * nr {
            staging.resize(depth * nr, 0.0);
        }
        for (panel, start) in (0..cols).step_by(nr).enumerate() {
            let width = nr.min(cols - start);
            // SAFETY: as for A.
            unsafe {
                pack_b(depth, width, b.at(0, start), nr, staging.as_mut_ptr());
                pairs(staging.as_ptr(), depth, nr, out.add(panel * half * nr));
            }
        }
    });
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
mod x86 {
    use std::arch::x86_64::*;

    /// `half` rows of pairs from a panel `width` wide (12, 16 or 32): rows 2p and 2p + 1
    /// converted with VCVTNE2PS2BF16 and interleaved, 16 columns at a time.
    ///
    /// # Safety
    /// As `super::pairs`; the CPU must support AVX512_BF16 and AVX512BW.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub unsafe fn pairs(panel: *const f32, half: usize, width: usize, out: *mut u32) {
        // 16-bit lanes: low half from row 2p (lanes 0–15), high half from row 2p+1 (16–31).
        let interleave = _mm512_set_epi16(
            31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20,
            4, 19, 3, 18, 2, 17, 1, 16, 0,
        );
        let groups = width.div_ceil(16);
        let mask: __mmask16 = if width.is_multiple_of(16) {
            0xFFFF
        } else {
            (1u16 << (width % 16)) - 1
        };
        for p in 0..half {
            for g in 0..groups {
                let lanes = if g + 1 == groups { mask } else { 0xFFFF };
                // SAFETY: rows 2p and 2p+1 of the panel, columns 16g.., masked to the width.
                unsafe {
                    let low = _mm512_maskz_loadu_ps(lanes, panel.add(2 * p * width + 16 * g));
                    let high =
                        _mm512_maskz_loadu_ps(lanes, panel.add((2 * p + 1) * width + 16 * g));
                    let both: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(high, low));
                    let paired = _mm512_permutexvar_epi16(interleave, both);
                    _mm512_mask_storeu_epi32(out.add(p * width + 16 * g).cast(), lanes, paired);
                }
            }
        }
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

    #[test]
    fn pairs_match_the_scalar_definition() {
        for (depth, width) in [(7usize, 32usize), (8, 12), (5, 16), (1, 32)] {
            let panel: Vec<f32> = (0..depth * width)
                .map(|i| (i as f32 * 0.37).sin() * 3.0)
                .collect();
            let mut out = vec![0.0f32; depth.div_ceil(2) * width];
            unsafe { pairs(panel.as_ptr(), depth, width, out.as_mut_ptr()) };
            for p in 0..depth.div_ceil(2) {
                for i in 0..width {
                    let word = out[p * width + i].to_bits();
                    assert_eq!(
                        word as u16,
                        bf16_bits(panel[2 * p * width + i]),
                        "{depth}×{width} {p} {i}"
                    );
                    let high = if 2 * p + 1 < depth {
                        bf16_bits(panel[(2 * p + 1) * width + i])
                    } else {
                        0
                    };
                    assert_eq!((word >> 16) as u16, high);
                }
            }
        }
    }
}
