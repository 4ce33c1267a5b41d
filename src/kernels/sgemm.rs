//! nabla's single-precision matrix product: C (+)= A·B with any strides, blocked for the caches
//! (BLIS order: nc columns of B, kc depth, mc rows of A), both operands packed into per-thread
//! buffers that are allocated once and reused, so a product allocates nothing after warm-up.
//! Two or more threads split C into disjoint strips, run by the spinning helpers of `team`.

use std::cell::RefCell;

use super::frozen::PackedB;
use super::microkernel::{Kernel, Packing, Tile};
use super::pack::{pack_a_block, pack_b, pack_b_block};
use super::split::Split;
use super::team;

/// Depth of a packed block of f32 (B panel kc × nr stays in L1).
const KC: usize = 256;
/// The deepest packed f32 block (see [`Plan::blocks`]).
const KC_MAX: usize = 320;
/// The deepest block read whole: A read in place, or packed as bf16 pairs (see
/// [`Plan::blocks`]).
const WHOLE_DEPTH: usize = 4 * KC;
/// Rows of A packed at once (the A block stays in L2).
const MC: usize = 96;
/// Columns of B packed at once.
const NC: usize = 1024;
/// Products below this many multiply-adds run on one thread: splitting costs more than it saves.
const PARALLEL_THRESHOLD: usize = 1 << 18;

thread_local! {
    /// Packed A and B blocks of this thread, grown on first use and kept.
    static PACKED: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    /// The whole of A packed by all the threads of a product this thread splits by columns
    /// (see [`SharedA`]), grown on first use and kept.
    static SHARED_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// A packed once over its whole depth, in panels of mr rows ([panel][steps][mr]), and read by
/// every thread of a product split by columns, each of which would otherwise pack all of A
/// for its strip. The threads pack it first, a share of the panels each, then multiply. A
/// depth block starting at step s of a panel is the panel from s·mr on (the same for AMX
/// tiles, whose blocks start at whole chunks).
#[derive(Clone, Copy)]
struct SharedA {
    ptr: *mut f32,
    /// The kernel's steps over the depth (pairs count two).
    steps: usize,
    mr: usize,
}

// SAFETY: the threads write disjoint panels before any of them reads; the buffer outlives the
// product.
unsafe impl Send for SharedA {}
unsafe impl Sync for SharedA {}

impl SharedA {
    /// Panel of row `row` (a multiple of mr) on.
    fn starting_at_row(self, row: usize) -> SharedA {
        debug_assert!(row.is_multiple_of(self.mr));
        SharedA {
            // SAFETY: row < m, inside the packed panels.
            ptr: unsafe { self.ptr.add(row / self.mr * self.steps * self.mr) },
            ..self
        }
    }

    /// The packed panel of row `row` (a multiple of mr) from the kernel's step `step` of the
    /// depth on: what the microkernel reads for a depth block starting there.
    fn panel(self, row: usize, step: usize) -> *const f32 {
        debug_assert!(row.is_multiple_of(self.mr) && step < self.steps);
        // SAFETY: inside the packed panels.
        unsafe { self.starting_at_row(row).ptr.add(step * self.mr) }
    }
}

/// A matrix operand: pointer and strides (in elements), the same description the in-place
/// microkernel reads.
pub use super::microkernel::Strided as Operand;

/// The output.
#[derive(Clone, Copy)]
pub struct Output {
    pub ptr: *mut f32,
    pub row_stride: isize,
    pub column_stride: isize,
}

// SAFETY: the operands are only read, and the output strips handed to different threads never
// overlap (see `split_threads`).
unsafe impl Send for Operand {}
unsafe impl Sync for Operand {}
unsafe impl Send for Output {}
unsafe impl Sync for Output {}

impl Output {
    /// The transposed output.
    fn t(self) -> Output {
        Output {
            ptr: self.ptr,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
        }
    }

    fn at(self, row: usize, column: usize) -> Output {
        // SAFETY: callers stay inside the matrix.
        let ptr = unsafe {
            self.ptr
                .offset(row as isize * self.row_stride + column as isize * self.column_stride)
        };
        Output { ptr, ..self }
    }
}

/// Where a product goes, and what is done to it on the way (the epilogue, applied as each
/// tile is stored, while it is still in registers):
///
/// ```text
/// C ← [C +] A·B [+ bias]      relu ← max(C, 0)   (when given)
/// ```
#[derive(Clone, Copy)]
pub struct Destination {
    /// C.
    pub c: Output,
    /// Add to C instead of overwriting it.
    pub accumulate: bool,
    /// One value per column of C (per row when `bias_on_rows`); null for none.
    pub bias: *const f32,
    /// Whether the bias runs along C's rows.
    pub bias_on_rows: bool,
    /// Also write max(C, 0) here (same shape as C); a null pointer for nowhere.
    pub relu: Output,
}

// SAFETY: as for `Output`: each thread writes its own strip.
unsafe impl Send for Destination {}
unsafe impl Sync for Destination {}

impl Destination {
    /// Just C.
    pub fn plain(c: Output, accumulate: bool) -> Destination {
        Destination {
            c,
            accumulate,
            bias: std::ptr::null(),
            bias_on_rows: false,
            relu: Output {
                ptr: std::ptr::null_mut(),
                row_stride: 0,
                column_stride: 0,
            },
        }
    }

    /// For Cᵀ.
    fn t(self) -> Destination {
        Destination {
            c: self.c.t(),
            bias_on_rows: !self.bias_on_rows,
            relu: self.relu.t(),
            ..self
        }
    }

    /// The part from (row, column) on.
    fn at(self, row: usize, column: usize) -> Destination {
        let bias = if self.bias.is_null() {
            self.bias
        } else {
            // SAFETY: callers stay inside the matrix, so inside the bias too.
            unsafe { self.bias.add(if self.bias_on_rows { row } else { column }) }
        };
        let relu = if self.relu.ptr.is_null() {
            self.relu
        } else {
            self.relu.at(row, column)
        };
        Destination {
            c: self.c.at(row, column),
            bias,
            relu,
            ..self
        }
    }
}

/// C (m × n) ← A (m × k) · B (k × n), or C + A·B when `accumulate`, with the destination's
/// epilogue; k ≥ 1. `packed_b`: B already packed for `kern` over its whole depth
/// ([`super::frozen`]), read instead of packing it.
///
/// # Safety
/// The pointers and strides must describe valid matrices of those shapes (the bias m or n
/// values, the ReLU output m × n), the outputs must not overlap A, B or each other, and nothing
/// else may access them meanwhile.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    a: Operand,
    b: Operand,
    c: Destination,
    threads: usize,
    kern: Kernel,
    packed_b: Option<PackedB>,
) {
    let kern = if kern.direct.is_some() && (kern.packs_strided(a) || kern.packs_strided(b)) {
        Kernel {
            direct: None,
            ..kern
        }
    } else {
        kern
    };
    if packed_b.is_none() && Plan::transposes(kern, m, n, k, a, b, c.c) {
        // Cᵀ = Bᵀ·Aᵀ: the same memory read with rows and columns swapped.
        // SAFETY: as the caller's.
        unsafe { split_threads(n, m, k, b.t(), a.t(), c.t(), threads, kern, None) }
    } else {
        // SAFETY: as the caller's.
        unsafe { split_threads(m, n, k, a, b, c, threads, kern, packed_b) }
    }
}

/// The product, split over `threads` strips of C run by the [`team`].
///
/// # Safety
/// As [`sgemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn split_threads(
    m: usize,
    n: usize,
    k: usize,
    a: Operand,
    b: Operand,
    c: Destination,
    threads: usize,
    kern: Kernel,
    packed_b: Option<PackedB>,
) {
    if threads > 1 && m * n * k >= PARALLEL_THRESHOLD && (m >= 2 * kern.mr || n >= 2 * kern.nr) {
        // Split C along its longer side into `threads` strips of whole tiles; the tiles left
        // over when they do not divide evenly (a 784-column C has 24.5 panels of 32: 13 + 12
        // would leave one thread idle 4 % of the product) form a tail split the other way.
        let by_columns = n >= m && n >= 2 * kern.nr;
        let split = if by_columns {
            Split::new(n, kern.nr, m, kern.mr, threads)
        } else {
            Split::new(m, kern.mr, n, kern.nr, threads)
        };
        // SAFETY: as the caller's.
        let shared_a = (by_columns && shares_a(kern))
            .then(|| unsafe { pack_a_shared(m, k, a, threads, kern) });
        team::split_over(threads, split.pieces(), &|piece| {
            let (along, across) = split.piece(piece);
            let (rows, columns) = if by_columns {
                (across, along)
            } else {
                (along, across)
            };
            // SAFETY: the pieces of C are disjoint; each lies inside C.
            unsafe {
                single(
                    rows.len(),
                    columns.len(),
                    k,
                    a.at(rows.start, 0),
                    b.at(0, columns.start),
                    c.at(rows.start, columns.start),
                    kern,
                    packed_b.map(|packed| packed.starting_at_column(columns.start)),
                    shared_a.map(|shared| shared.starting_at_row(rows.start)),
                )
            }
        });
        return;
    }
    // SAFETY: as the caller's.
    unsafe { single(m, n, k, a, b, c, kern, packed_b, None) }
}

/// Whether the threads of a product split by columns pack A together ([`SharedA`]): whenever
/// the kernel reads A packed (each thread would otherwise pack all of it).
fn shares_a(kern: Kernel) -> bool {
    kern.direct.is_none()
}

/// Packs all of A (m × k) into this thread's [`SHARED_A`], the panels shared out over
/// `threads` threads.
///
/// # Safety
/// A must be a valid m × k matrix.
unsafe fn pack_a_shared(m: usize, k: usize, a: Operand, threads: usize, kern: Kernel) -> SharedA {
    let (mr, steps) = (kern.mr, kern.packing.steps(k));
    let panels = m.div_ceil(mr);
    let ptr = SHARED_A.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() < panels * mr * steps {
            buffer.resize(panels * mr * steps, 0.0);
        }
        buffer.as_mut_ptr()
    });
    let shared = SharedA { ptr, steps, mr };
    let per = panels.div_ceil(threads);
    team::split_over(threads, threads, &|share| {
        let first = (share * per).min(panels) * mr;
        let end = ((share + 1) * per * mr).min(m);
        if first < end {
            // SAFETY: rows first..end of A, into their own panels of the buffer.
            unsafe {
                pack_a_block(
                    kern,
                    end - first,
                    k,
                    a.at(first, 0),
                    shared.starting_at_row(first).ptr,
                )
            }
        }
    });
    shared
}

/// The product on the calling thread; `shared_a`: A packed already ([`SharedA`]), from its
/// first row.
///
/// # Safety
/// As [`sgemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn single(
    m: usize,
    n: usize,
    k: usize,
    a: Operand,
    b: Operand,
    c: Destination,
    kern: Kernel,
    packed_b: Option<PackedB>,
    shared_a: Option<SharedA>,
) {
    let plan = Plan::new(kern, b);
    debug_assert!(
        packed_b.is_none() || (plan.pack_b && kern.packing.pairs()),
        "a packed B is read only by the bf16-pair kernels, which pack B"
    );
    let tiles = kern.packing == Packing::Bf16Tiles;
    if tiles {
        super::amx::configure();
    }
    PACKED.with(|packed| {
        let mut packed = packed.borrow_mut();
        reserve(&mut packed, kern);
        let (packed_a, packed_buffer) = &mut *packed;
        let (mr, nr) = (kern.mr, kern.nr);
        let (kc, nc) = plan.blocks(k, nr, kern.packing);
        for jc in (0..n).step_by(nc) {
            let nb = nc.min(n - jc);
            for pc in (0..k).step_by(kc) {
                let kb = kc.min(k - pc);
                // Where B read in place ends in a partial panel, that panel alone is packed
                // (zero-padded), so the microkernel always reads nr whole columns.
                let partial = nb / nr * nr;
                // The depth a packed panel spans in the kernel's steps.
                let depth = kern.packing.steps(kb);
                if packed_b.is_some() {
                    // Packed already, over the whole depth.
                } else if plan.pack_b {
                    // SAFETY: the block lies inside B and the buffer holds ⌈nb/nr⌉·nr
                    // columns of the block's packed depth (Plan::blocks, reserve).
                    unsafe { pack_b_block(kern, kb, nb, b.at(pc, jc), packed_buffer.as_mut_ptr()) };
                } else if partial < nb {
                    // SAFETY: as above, for the last nb − partial columns.
                    unsafe {
                        pack_b(
                            kb,
                            nb - partial,
                            b.at(pc, jc + partial),
                            nr,
                            packed_buffer.as_mut_ptr(),
                        )
                    };
                }
                let (first, last) = (pc == 0, pc + kb == k);
                for ic in (0..m).step_by(MC) {
                    let mb = MC.min(m - ic);
                    if plan.pack_a && shared_a.is_none() {
                        // SAFETY: as for B: the block inside A, MC rows at the block's depth
                        // reserved.
                        unsafe { pack_a_block(kern, mb, kb, a.at(ic, pc), packed_a.as_mut_ptr()) };
                    }
                    // Panel `ir / mr` of this block of A, as the microkernel reads it.
                    let a_panel = |ir: usize| match shared_a {
                        Some(shared) => shared.panel(ic + ir, kern.packing.steps(pc)),
                        // SAFETY: the block's packed panels hold mb rounded up to mr rows.
                        None => unsafe { packed_a.as_ptr().add(ir * depth) },
                    };
                    for jr in (0..nb).step_by(nr) {
                        for ir in (0..mb).step_by(mr) {
                            let to = c.at(ic + ir, jc + jr);
                            let tile = Tile {
                                c: to.c.ptr,
                                row_stride: to.c.row_stride,
                                column_stride: to.c.column_stride,
                                accumulate: c.accumulate || !first,
                                rows: mr.min(mb - ir),
                                cols: nr.min(nb - jr),
                                // The bias once, with the first block of the depth; the ReLU
                                // copy once, of the finished sum.
                                bias: if first { to.bias } else { std::ptr::null() },
                                bias_on_rows: to.bias_on_rows,
                                relu: if last {
                                    to.relu.ptr
                                } else {
                                    std::ptr::null_mut()
                                },
                                relu_strides: (to.relu.row_stride, to.relu.column_stride),
                            };
                            // SAFETY: packed panels hold kb·mr and kb·nr values; unpacked
                            // operands are read only inside the tile's rows and columns; the
                            // tile's valid part lies inside C.
                            unsafe {
                                match kern.direct {
                                    Some(direct) if !plan.pack_a => {
                                        let a_rows = a.at(ic + ir, pc);
                                        let b_columns = if plan.pack_b || jr == partial {
                                            // The packed block, or the partial panel alone.
                                            let panel = if plan.pack_b { jr * kb } else { 0 };
                                            Operand {
                                                ptr: packed_buffer.as_ptr().add(panel),
                                                row_stride: nr as isize,
                                                column_stride: 1,
                                            }
                                        } else {
                                            b.at(pc, jc + jr)
                                        };
                                        direct(kb, a_rows, b_columns, tile)
                                    }
                                    _ => (kern.run)(
                                        depth,
                                        a_panel(ir),
                                        match packed_b {
                                            Some(packed) => packed.panel(jc + jr, pc),
                                            None => packed_buffer.as_ptr().add(jr * depth),
                                        },
                                        tile,
                                    ),
                                }
                            };
                        }
                    }
                }
            }
        }
    });
    if tiles {
        super::amx::release();
    }
}

/// How a product reads its operands. With a microkernel that reads unpacked operands, A is
/// read in place (its panels are 12 rows of any stride, broadcast element by element) and B
/// too when its rows are contiguous; only a B with non-unit column stride is packed. Measured
/// on A (784-128-10) and B (784-512-512-10) at batch 32–512, that beat packing both operands
/// (BLIS style) in almost every product of a training step, by up to 25 % at batch 32, where
/// packing a 128 × 784 weight matrix costs as much as multiplying by it. Without such a
/// microkernel both operands are packed.
#[derive(Clone, Copy, Debug)]
struct Plan {
    pack_a: bool,
    pack_b: bool,
    /// Whether a block spans the whole depth, up to [`WHOLE_DEPTH`] (see [`Plan::blocks`]).
    whole_depth: bool,
}

/// The cost of storing one C element alone (C's column stride ≠ 1, so a tile's row is not
/// contiguous), counted in packed elements of B: measured break-even on the layer shapes of
/// the benchmark.
const SCATTERED_STORE_COST: usize = 8;

/// Multiply-adds per vector instruction, the unit of [`Plan::transposes`]'s compute term
/// (16 f32 lanes of AVX-512, the only kernel with an in-place variant).
const LANES: usize = 16;

impl Plan {
    fn new(kern: Kernel, b: Operand) -> Plan {
        let pack_a = kern.direct.is_none();
        Plan {
            pack_a,
            pack_b: pack_a || b.column_stride != 1,
            whole_depth: !pack_a || kern.packing.pairs(),
        }
    }

    /// Depth and width of a block of B: (KC, NC) for packed f32 operands; the whole depth up
    /// to [`WHOLE_DEPTH`] in one block when A is read in place or the operands are bf16 pairs,
    /// with B's block no larger than KC · NC values.
    ///
    /// A whole-depth block stores each tile of C once. With blocks of KC, each block after the
    /// first reloads the tile from C (the thread's whole strip of C, 1 MB at 1000 × 256, has
    /// left L2 by then) and stores it again. On the bf16-pair kernel the loads of C took 10 %
    /// of the microkernel's time in model B's inference (perf), and whole-depth blocks made it
    /// 5–10 % faster (10 000 rows, medians of 30 repetitions alternated 7 times: 242–272k
    /// against 250–285k rows/s) and training at batch 512 0–7 % faster. A bf16 panel of B is
    /// then up to 64 KB, past L1: the microkernel streams it from L2, at 128 bytes per 24
    /// VDPBF16PS.
    fn blocks(self, k: usize, nr: usize, packing: Packing) -> (usize, usize) {
        if self.whole_depth {
            let kc = k.min(WHOLE_DEPTH);
            // B's block holds at most KC · NC values: kc per column (pairs: half of that), or
            // the AMX panels' padded pairs.
            let per_column = if packing == Packing::Bf16Tiles {
                packing.steps(kc)
            } else {
                kc
            };
            (kc, (KC * NC / per_column / nr * nr).max(nr))
        } else {
            // The fewest blocks of at most KC_MAX, all of one depth: 784 = 3 × 262 rather than
            // 256 + 256 + 256 + 16, whose last block reloads and stores all of C for 2 % of
            // the work.
            let kc = k.div_ceil(k.div_ceil(KC_MAX));
            (kc, (KC * NC / kc.max(KC) / nr * nr).max(nr))
        }
    }

    /// Whether to compute Cᵀ = Bᵀ·Aᵀ instead (the same memory, rows and columns swapped):
    /// when that costs at least 10 % less, counting the vector multiply-adds of the padded tiles
    /// (⌈m/mr⌉·mr · ⌈n/nr⌉·nr · k / 16), one per element of B packed, and
    /// [`SCATTERED_STORE_COST`] per element of C stored alone. Z = X·Wᵀ at batch 32 then packs
    /// the 32 rows of X instead of all of W, while at batch 10 and 30 outputs it keeps the
    /// orientation whose tiles are less empty. (Checked against the measured faster
    /// orientation of every forward product of the benchmark and of Nielsen's networks.)
    fn transposes(
        kern: Kernel,
        m: usize,
        n: usize,
        k: usize,
        a: Operand,
        b: Operand,
        c: Output,
    ) -> bool {
        if kern.direct.is_none() {
            return false;
        }
        let (mr, nr) = (kern.mr, kern.nr);
        let cost = |rows: usize, columns: usize, b_column_stride: isize, c_column_stride: isize| {
            let multiplying = rows.div_ceil(mr) * mr * columns.div_ceil(nr) * nr * k / LANES;
            let packing = if b_column_stride == 1 { 0 } else { k * columns };
            let storing = if c_column_stride == 1 {
                0
            } else {
                SCATTERED_STORE_COST * m * n
            };
            multiplying + packing + storing
        };
        // Only when clearly cheaper: the model is rough, and a near tie is not worth a C
        // stored across rows.
        10 * cost(n, m, a.row_stride, c.row_stride)
            < 9 * cost(m, n, b.column_stride, c.column_stride)
    }
}

/// Sizes a thread's packing buffers for the largest blocks, so no later product reallocates:
/// MC rows of A at depth [`KC_MAX`] (f32) or [`WHOLE_DEPTH`] (bf16 pairs, in the kernel's
/// steps), and B blocks of no more than KC · NC values (see [`Plan::blocks`]).
fn reserve(packed: &mut (Vec<f32>, Vec<f32>), kern: Kernel) {
    let a_depth = if kern.packing.pairs() {
        kern.packing.steps(WHOLE_DEPTH)
    } else {
        KC_MAX
    };
    let a_len = a_depth * MC.div_ceil(kern.mr) * kern.mr;
    let b_len = KC * NC.div_ceil(kern.nr) * kern.nr;
    if packed.0.len() < a_len {
        packed.0.resize(a_len, 0.0);
    }
    if packed.1.len() < b_len {
        packed.1.resize(b_len, 0.0);
    }
}

/// Allocates the packing buffers of every thread the current setting uses now (training
/// calls this before its first step), so that no step allocates, whichever thread a product
/// lands on (the rayon workers too, which run the team's work when another caller holds it).
pub fn reserve_on_every_thread(kern: Kernel) {
    rayon::broadcast(|_| PACKED.with(|packed| reserve(&mut packed.borrow_mut(), kern)));
    team::on_every_thread(super::threads(), &|| {
        PACKED.with(|packed| reserve(&mut packed.borrow_mut(), kern))
    });
    PACKED.with(|packed| reserve(&mut packed.borrow_mut(), kern));
}
