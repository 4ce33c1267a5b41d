//! Element-wise loops over slices, split over the current rayon pool when they are long: the
//! activations' forward and backward passes and the optimisers' updates run through these.
//! Each piece is a plain loop the compiler vectorises; results never depend on the split.

use rayon::prelude::*;

/// Elements per parallel piece; shorter loops run on the calling thread alone.
pub const PIECE: usize = 1 << 14;

/// `f(out piece, a piece)` over matching pieces.
pub fn map2<F: Send + Sync>(out: &mut [F], a: &[F], f: impl Fn(&mut [F], &[F]) + Sync) {
    debug_assert_eq!(out.len(), a.len());
    if out.len() <= PIECE {
        return f(out, a);
    }
    out.par_chunks_mut(PIECE)
        .zip(a.par_chunks(PIECE))
        .for_each(|(o, a)| f(o, a));
}

/// `f(out piece, a piece, b piece)` over matching pieces.
pub fn map3<F: Send + Sync>(
    out: &mut [F],
    a: &[F],
    b: &[F],
    f: impl Fn(&mut [F], &[F], &[F]) + Sync,
) {
    debug_assert!(out.len() == a.len() && out.len() == b.len());
    if out.len() <= PIECE {
        return f(out, a, b);
    }
    out.par_chunks_mut(PIECE)
        .zip(a.par_chunks(PIECE))
        .zip(b.par_chunks(PIECE))
        .for_each(|((o, a), b)| f(o, a, b));
}

/// `f(out piece, state piece, a piece)`: two outputs updated from one input (SGD with momentum).
pub fn update2<F: Send + Sync>(
    out: &mut [F],
    state: &mut [F],
    a: &[F],
    f: impl Fn(&mut [F], &mut [F], &[F]) + Sync,
) {
    debug_assert!(out.len() == state.len() && out.len() == a.len());
    if out.len() <= PIECE {
        return f(out, state, a);
    }
    out.par_chunks_mut(PIECE)
        .zip(state.par_chunks_mut(PIECE))
        .zip(a.par_chunks(PIECE))
        .for_each(|((o, s), a)| f(o, s, a));
}

/// `f(out, first, second, a)` pieces: three outputs from one input (Adam).
pub fn update3<F: Send + Sync>(
    out: &mut [F],
    first: &mut [F],
    second: &mut [F],
    a: &[F],
    f: impl Fn(&mut [F], &mut [F], &mut [F], &[F]) + Sync,
) {
    if out.len() <= PIECE {
        return f(out, first, second, a);
    }
    out.par_chunks_mut(PIECE)
        .zip(first.par_chunks_mut(PIECE))
        .zip(second.par_chunks_mut(PIECE))
        .zip(a.par_chunks(PIECE))
        .for_each(|(((o, m), v), a)| f(o, m, v, a));
}

#[cfg(test)]
mod tests {
    use super::*;

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
