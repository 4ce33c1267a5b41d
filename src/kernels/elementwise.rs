//! Element-wise loops over slices, split over the spinning [`team`] (as many pieces as the
//! current setting has threads, see [`super::with_threads`]) when they are long: the activations' forward and backward
//! passes, the optimisers' updates and the batch gather run through these.
//! Each piece is a plain loop the compiler vectorises; results never depend on the split.
//! Pieces run inside [`vectorised`], which compiles them for AVX-512 or AVX2 when the CPU has
//! them. The loop closures passed in are marked `#[inline(always)]`: a closure that is not
//! inlined into the trampoline is compiled for the baseline SSE2 instead.

use std::ops::Range;

use super::team;

/// Elements per parallel piece at least; shorter loops run on the calling thread alone.
pub const PIECE: usize = 1 << 14;

/// Runs `f(range)` over `threads` (the current setting's) contiguous ranges covering
/// `0..len`, on the spinning [`team`]; loops no longer than [`PIECE`] run on the caller.
fn for_ranges(len: usize, f: impl Fn(Range<usize>) + Sync) {
    for_ranges_of(len, PIECE, f);
}

/// [`for_ranges`] with pieces of at least `min_piece` items.
fn for_ranges_of(len: usize, min_piece: usize, f: impl Fn(Range<usize>) + Sync) {
    let pieces = super::threads().min(len.div_ceil(min_piece.max(1))).max(1);
    if pieces == 1 {
        return vectorised(
            #[inline(always)]
            || f(0..len),
        );
    }
    let chunk = len.div_ceil(pieces).next_multiple_of(16);
    team::split(len.div_ceil(chunk), &|piece| {
        let start = piece * chunk;
        vectorised(
            #[inline(always)]
            || f(start..len.min(start + chunk)),
        );
    });
}

/// Runs `f` compiled for the widest vector instructions this CPU has: the loops inside it are
/// vectorised for AVX-512 (16 lanes) or AVX2 with FMA (8) when it has them, instead of the
/// 4-lane SSE2 that any x86-64 has (the optimiser's update ran twice as fast).
#[inline(always)]
pub fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: each runs only on a CPU that has its features.
    #[cfg(target_arch = "x86_64")]
    match super::microkernel::simd() {
        super::microkernel::Simd::Avx512 => return unsafe { with_avx512(f) },
        super::microkernel::Simd::Avx2Fma => return unsafe { with_avx2(f) },
        super::microkernel::Simd::Baseline => {}
    }
    f()
}

/// `f` with AVX-512 enabled.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f` with AVX2 and FMA enabled.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// A mutable slice shared with the pieces of [`for_ranges`], each of which takes a disjoint
/// range of it.
struct Disjoint<F>(*mut F, usize);

// SAFETY: the pieces access disjoint ranges only (see `range`).
unsafe impl<F: Send> Sync for Disjoint<F> {}

impl<F> Disjoint<F> {
    fn new(slice: &mut [F]) -> Self {
        Disjoint(slice.as_mut_ptr(), slice.len())
    }

    /// The elements in `range`.
    ///
    /// # Safety
    /// No two live results may overlap.
    #[allow(clippy::mut_from_ref)]
    unsafe fn range(&self, range: Range<usize>) -> &mut [F] {
        assert!(range.start <= range.end && range.end <= self.1);
        // SAFETY: inside the slice; exclusive by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(range.start), range.len()) }
    }
}

/// `f(out piece, a piece)` over matching pieces.
pub fn map2<F: Send + Sync>(out: &mut [F], a: &[F], f: impl Fn(&mut [F], &[F]) + Sync) {
    assert_eq!(out.len(), a.len());
    let out = Disjoint::new(out);
    // SAFETY: the ranges of `for_ranges` are disjoint.
    for_ranges(
        a.len(),
        #[inline(always)]
        |r| f(unsafe { out.range(r.clone()) }, &a[r]),
    );
}

/// `f(out piece, a piece, b piece)` over matching pieces.
pub fn map3<F: Send + Sync>(
    out: &mut [F],
    a: &[F],
    b: &[F],
    f: impl Fn(&mut [F], &[F], &[F]) + Sync,
) {
    assert!(out.len() == a.len() && out.len() == b.len());
    let out = Disjoint::new(out);
    // SAFETY: the ranges of `for_ranges` are disjoint.
    for_ranges(
        a.len(),
        #[inline(always)]
        |r| f(unsafe { out.range(r.clone()) }, &a[r.clone()], &b[r]),
    );
}

/// `f(out piece, state piece, a piece)`: two outputs updated from one input (SGD with momentum).
pub fn update2<F: Send + Sync>(
    out: &mut [F],
    state: &mut [F],
    a: &[F],
    f: impl Fn(&mut [F], &mut [F], &[F]) + Sync,
) {
    assert!(out.len() == state.len() && out.len() == a.len());
    let (out, state) = (Disjoint::new(out), Disjoint::new(state));
    // SAFETY: the ranges of `for_ranges` are disjoint.
    for_ranges(
        a.len(),
        #[inline(always)]
        |r| unsafe { f(out.range(r.clone()), state.range(r.clone()), &a[r]) },
    );
}

/// `f(out, first, second, a)` pieces: three outputs from one input (Adam).
pub fn update3<F: Send + Sync>(
    out: &mut [F],
    first: &mut [F],
    second: &mut [F],
    a: &[F],
    f: impl Fn(&mut [F], &mut [F], &mut [F], &[F]) + Sync,
) {
    assert!(out.len() == first.len() && out.len() == second.len() && out.len() == a.len());
    let (out, first, second) = (
        Disjoint::new(out),
        Disjoint::new(first),
        Disjoint::new(second),
    );
    // SAFETY: the ranges of `for_ranges` are disjoint.
    for_ranges(
        a.len(),
        #[inline(always)]
        |r| unsafe {
            f(
                out.range(r.clone()),
                first.range(r.clone()),
                second.range(r.clone()),
                &a[r],
            )
        },
    );
}

/// Copies rows `rows[i]` of `source` (rows of `width` values) into row i of `out`, split over
/// the team like the loops above (gathering random rows is memory-bound).
pub fn gather_rows<F: Copy + Send + Sync>(
    source: &[F],
    width: usize,
    rows: &[usize],
    out: &mut [F],
) {
    assert!(out.len() >= rows.len() * width);
    let out = Disjoint::new(&mut out[..rows.len() * width]);
    // Pieces of at least PIECE values (and 16 rows).
    for_ranges_of(rows.len(), (PIECE / width.max(1)).max(16), |range| {
        for i in range {
            let row = rows[i];
            // SAFETY: row i of `out` belongs to this piece alone.
            unsafe { out.range(i * width..(i + 1) * width) }
                .copy_from_slice(&source[row * width..(row + 1) * width]);
        }
    });
}

/// A gather of `rows` of `source` (rows of `width`) into `out` that threads share: each call
/// of [`SharedGather::help`] copies rows, claimed four at a time, until none are left, so a
/// thread that arrives late finds less to do and one that never arrives costs nothing.
pub(crate) struct SharedGather<'a, F> {
    source: &'a [F],
    width: usize,
    rows: &'a [usize],
    out: Disjoint<F>,
    claimed: std::sync::atomic::AtomicUsize,
    _out: std::marker::PhantomData<&'a mut [F]>,
}

impl<'a, F: Copy + Send + Sync> SharedGather<'a, F> {
    /// Rows claimed at a time.
    const CLAIM: usize = 4;

    pub(crate) fn new(source: &'a [F], width: usize, rows: &'a [usize], out: &'a mut [F]) -> Self {
        assert!(out.len() >= rows.len() * width);
        SharedGather {
            source,
            width,
            rows,
            out: Disjoint::new(&mut out[..rows.len() * width]),
            claimed: std::sync::atomic::AtomicUsize::new(0),
            _out: std::marker::PhantomData,
        }
    }

    /// Copies rows until every row is claimed.
    pub(crate) fn help(&self) {
        let width = self.width;
        loop {
            let start = self
                .claimed
                .fetch_add(Self::CLAIM, std::sync::atomic::Ordering::Relaxed);
            if start >= self.rows.len() {
                return;
            }
            for i in start..(start + Self::CLAIM).min(self.rows.len()) {
                let row = self.rows[i];
                // SAFETY: row i was claimed by this call alone.
                unsafe { self.out.range(i * width..(i + 1) * width) }
                    .copy_from_slice(&self.source[row * width..(row + 1) * width]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_gather_copies_every_row_once_whoever_helps() {
        let source: Vec<f32> = (0..50 * 3).map(|v| v as f32).collect();
        let rows: Vec<usize> = (0..23).map(|i| (i * 7) % 50).collect();
        let mut out = vec![-1.0f32; rows.len() * 3];
        let gather = SharedGather::new(&source, 3, &rows, &mut out);
        std::thread::scope(|scope| {
            scope.spawn(|| gather.help());
            gather.help();
        });
        for (i, &row) in rows.iter().enumerate() {
            assert_eq!(out[i * 3..i * 3 + 3], source[row * 3..row * 3 + 3]);
        }
    }

    #[test]
    fn long_and_short_loops_give_the_same_result() {
        for len in [10, PIECE * 3 + 7] {
            let a: Vec<f32> = (0..len).map(|i| i as f32).collect();
            let mut out = vec![0.0f32; len];
            map2(&mut out, &a, |o, a| {
                o.iter_mut().zip(a).for_each(|(o, a)| *o = 2.0 * a)
            });
            assert!(out.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f32));
            let mut state = vec![1.0f32; len];
            update2(&mut out, &mut state, &a, |o, s, a| {
                for ((o, s), a) in o.iter_mut().zip(s.iter_mut()).zip(a) {
                    *s += a;
                    *o -= *s;
                }
            });
            assert!(
                out.iter()
                    .enumerate()
                    .all(|(i, &v)| v == 2.0 * i as f32 - (1.0 + i as f32))
            );
        }
    }
}
