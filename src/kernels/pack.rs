//! Packing the product's operands into the panel layout the register tiles read: A into
//! panels of `mr` rows, B into panels of `nr` columns, zero-padded; B's columns gathered with
//! 8 × 8 transposes in AVX registers when its rows are not contiguous. [`pack_a_block`] and
//! [`pack_b_block`] pack the way a kernel's [`Packing`] says (f32, rounded to bf16, bf16 pairs
//! or AMX tiles).

use super::amx::{pack_a_tiles, pack_b_tiles};
use super::bf16::{pack_a_pairs, pack_b_pairs, round_in_place};
use super::microkernel::Strided as Operand;
use super::microkernel::{Kernel, Packing};

/// Packs rows × depth of A from `from` into panels the way `kern` reads them.
///
/// # Safety
/// The block must lie inside A and `out` hold ⌈rows/mr⌉·mr·steps(depth) values.
pub(super) unsafe fn pack_a_block(
    kern: Kernel,
    rows: usize,
    depth: usize,
    from: Operand,
    out: *mut f32,
) {
    // SAFETY: as the caller's.
    unsafe {
        match kern.packing {
            Packing::F32 => pack_a(rows, depth, from, kern.mr, out),
            Packing::Bf16Rounded => {
                pack_a(rows, depth, from, kern.mr, out);
                round_in_place(out, rows.div_ceil(kern.mr) * kern.mr * depth);
            }
            Packing::Bf16Pairs => pack_a_pairs(rows, depth, from, kern.mr, out),
            Packing::Bf16Tiles => pack_a_tiles(rows, depth, from, kern.mr, out),
        }
    }
}

/// Packs depth × cols of B from `from` into panels the way `kern` reads them.
///
/// # Safety
/// The block must lie inside B and `out` hold ⌈cols/nr⌉·nr·steps(depth) values.
pub(super) unsafe fn pack_b_block(
    kern: Kernel,
    depth: usize,
    cols: usize,
    from: Operand,
    out: *mut f32,
) {
    // SAFETY: as the caller's.
    unsafe {
        match kern.packing {
            Packing::F32 => pack_b(depth, cols, from, kern.nr, out),
            Packing::Bf16Rounded => {
                pack_b(depth, cols, from, kern.nr, out);
                round_in_place(out, depth * cols.div_ceil(kern.nr) * kern.nr);
            }
            Packing::Bf16Pairs => pack_b_pairs(depth, cols, from, kern.nr, out),
            Packing::Bf16Tiles => pack_b_tiles(depth, cols, from, kern.nr, out),
        }
    }
}

/// Packs rows × depth of A into panels of `mr` rows: [panel][p][mr], zero-padded.
///
/// # Safety
/// A must be valid for the block; `out` must hold ⌈rows/mr⌉·mr·depth values.
pub(super) unsafe fn pack_a(rows: usize, depth: usize, a: Operand, mr: usize, out: *mut f32) {
    for (panel, start) in (0..rows).step_by(mr).enumerate() {
        let height = mr.min(rows - start);
        // SAFETY: inside the buffer: panel·depth·mr + p·mr + r < ⌈rows/mr⌉·mr·depth.
        unsafe {
            let base = out.add(panel * depth * mr);
            if a.column_stride == 1 {
                // Rows contiguous along the depth: a transposition into the panel.
                transpose(
                    a.ptr.offset(start as isize * a.row_stride),
                    a.row_stride,
                    height,
                    depth,
                    base,
                    mr,
                );
            } else {
                for p in 0..depth {
                    for r in 0..height {
                        *base.add(p * mr + r) = *a.ptr.offset(
                            (start + r) as isize * a.row_stride + p as isize * a.column_stride,
                        );
                    }
                }
            }
            for p in 0..depth {
                for r in height..mr {
                    *base.add(p * mr + r) = 0.0;
                }
            }
        }
    }
}

/// Packs depth × cols of B into panels of `nr` columns: [panel][p][nr], zero-padded.
///
/// # Safety
/// B must be valid for the block; `out` must hold depth·⌈cols/nr⌉·nr values.
pub(super) unsafe fn pack_b(depth: usize, cols: usize, b: Operand, nr: usize, out: *mut f32) {
    for (panel, start) in (0..cols).step_by(nr).enumerate() {
        let width = nr.min(cols - start);
        // SAFETY: inside the buffer, as for pack_a.
        unsafe {
            let base = out.add(panel * depth * nr);
            if b.column_stride == 1 {
                for p in 0..depth {
                    let source = b.ptr.offset(p as isize * b.row_stride + start as isize);
                    if width == 32 && nr == 32 {
                        // A whole panel row of the AVX-512 kernel: a copy of known size, moved
                        // in registers rather than through a call to memmove per 128 bytes
                        // (5 % of a 2-thread product on an Intel Xeon, perf).
                        std::ptr::copy_nonoverlapping(
                            source.cast::<[f32; 32]>(),
                            base.add(p * nr).cast::<[f32; 32]>(),
                            1,
                        );
                        continue;
                    }
                    std::ptr::copy_nonoverlapping(source, base.add(p * nr), width);
                    for j in width..nr {
                        *base.add(p * nr + j) = 0.0;
                    }
                }
            } else if b.row_stride == 1 {
                // Columns contiguous along the depth (a transposed weight matrix).
                transpose(
                    b.ptr.offset(start as isize * b.column_stride),
                    b.column_stride,
                    width,
                    depth,
                    base,
                    nr,
                );
                for p in 0..depth {
                    for j in width..nr {
                        *base.add(p * nr + j) = 0.0;
                    }
                }
            } else {
                for j in 0..width {
                    let source = b.ptr.offset((start + j) as isize * b.column_stride);
                    for p in 0..depth {
                        *base.add(p * nr + j) = *source.offset(p as isize * b.row_stride);
                    }
                }
                for p in 0..depth {
                    for j in width..nr {
                        *base.add(p * nr + j) = 0.0;
                    }
                }
            }
        }
    }
}

/// out[p·width + r] = source[r·stride + p] for r < rows, p < depth: `rows` contiguous source
/// rows written as the columns of a panel `width` wide. 8 × 8 blocks go through AVX registers
/// when the CPU has them; the rest is scalar.
///
/// # Safety
/// `source` must hold the rows, `out` depth·width values.
unsafe fn transpose(
    source: *const f32,
    stride: isize,
    rows: usize,
    depth: usize,
    out: *mut f32,
    width: usize,
) {
    let mut done_rows = 0;
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        let blocks = rows / 8;
        // SAFETY: the blocks stay inside the rows and depth given.
        unsafe { x86::transpose_blocks(source, stride, blocks, depth / 8 * 8, out, width) };
        // The depth beyond the last full block of 8, for those rows.
        for r in 0..blocks * 8 {
            for p in depth / 8 * 8..depth {
                // SAFETY: r < rows, p < depth.
                unsafe {
                    *out.add(p * width + r) = *source.offset(r as isize * stride + p as isize)
                };
            }
        }
        done_rows = blocks * 8;
    }
    for r in done_rows..rows {
        // SAFETY: r < rows.
        let row = unsafe { source.offset(r as isize * stride) };
        for p in 0..depth {
            // SAFETY: p < depth.
            unsafe { *out.add(p * width + r) = *row.add(p) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// `blocks` groups of 8 rows, depth a multiple of 8: each 8 × 8 block transposed in registers.
    ///
    /// # Safety
    /// As `transpose`; the CPU must support AVX.
    #[target_feature(enable = "avx")]
    pub unsafe fn transpose_blocks(
        source: *const f32,
        stride: isize,
        blocks: usize,
        depth: usize,
        out: *mut f32,
        width: usize,
    ) {
        for block in 0..blocks {
            for p in (0..depth).step_by(8) {
                // SAFETY: rows block·8..block·8+8 and columns p..p+8 are inside the source and
                // the panel.
                unsafe {
                    let row = |i: usize| {
                        _mm256_loadu_ps(
                            source.offset((block * 8 + i) as isize * stride + p as isize),
                        )
                    };
                    let (r0, r1, r2, r3, r4, r5, r6, r7) = (
                        row(0),
                        row(1),
                        row(2),
                        row(3),
                        row(4),
                        row(5),
                        row(6),
                        row(7),
                    );
                    let t0 = _mm256_unpacklo_ps(r0, r1);
                    let t1 = _mm256_unpackhi_ps(r0, r1);
                    let t2 = _mm256_unpacklo_ps(r2, r3);
                    let t3 = _mm256_unpackhi_ps(r2, r3);
                    let t4 = _mm256_unpacklo_ps(r4, r5);
                    let t5 = _mm256_unpackhi_ps(r4, r5);
                    let t6 = _mm256_unpacklo_ps(r6, r7);
                    let t7 = _mm256_unpackhi_ps(r6, r7);
                    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                    let columns = [
                        _mm256_permute2f128_ps::<0x20>(u0, u4),
                        _mm256_permute2f128_ps::<0x20>(u1, u5),
                        _mm256_permute2f128_ps::<0x20>(u2, u6),
                        _mm256_permute2f128_ps::<0x20>(u3, u7),
                        _mm256_permute2f128_ps::<0x31>(u0, u4),
                        _mm256_permute2f128_ps::<0x31>(u1, u5),
                        _mm256_permute2f128_ps::<0x31>(u2, u6),
                        _mm256_permute2f128_ps::<0x31>(u3, u7),
                    ];
                    for (i, column) in columns.into_iter().enumerate() {
                        _mm256_storeu_ps(out.add((p + i) * width + block * 8), column);
                    }
                }
            }
        }
    }
}
