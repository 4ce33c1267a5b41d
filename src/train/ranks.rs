//! Data-parallel training: the processes ("ranks") of one run, each holding the whole model.
//! Every rank visits the same global batches in the same order; rank r trains on its share of
//! each batch (rows ⌊r·B/N⌋ to ⌊(r+1)·B/N⌋), and the shares' gradients are combined into the
//! whole batch's before every rank applies the same update:
//!
//! ```text
//! g = Σᵣ (nᵣ/B)·gᵣ      (mean reductions: gᵣ is the mean over rank r's nᵣ rows)
//! g = Σᵣ gᵣ             (sum reductions)
//! ```
//!
//! The sum runs in rank order on every rank, so every rank gets the same bits and a run does
//! not depend on timing. [`Ranks`] is what training needs of the processes; the cargo feature
//! `mpi` provides it over MPI ([`super::mpi::MpiRanks`]).

use std::fmt;
use std::ops::Range;

/// The ranks of a data-parallel run, as training needs them.
pub trait Ranks: Send + Sync {
    /// This process's rank, 0 ≤ rank < size.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Every rank's `local` (all the same length), concatenated in rank order into `all`
    /// (`size × local.len()` values), on every rank.
    fn all_gather(&self, local: &[f32], all: &mut [f32]);
}

impl fmt::Debug for dyn Ranks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rank {} of {}", self.rank(), self.size())
    }
}

/// Rank `rank`'s share of a batch of `rows` rows split over `size` ranks.
pub fn share(rows: usize, rank: usize, size: usize) -> Range<usize> {
    rows * rank / size..rows * (rank + 1) / size
}

/// Sums each rank's `values` element by element, in f64 and in rank order, into `sums` on
/// every rank; `gathered` holds `size × values.len()` values.
pub fn sum_in_rank_order(
    ranks: &dyn Ranks,
    values: &[f32],
    gathered: &mut [f32],
    sums: &mut [f64],
) {
    let n = values.len();
    ranks.all_gather(values, &mut gathered[..n * ranks.size()]);
    sums.fill(0.0);
    for r in 0..ranks.size() {
        for (total, &v) in sums.iter_mut().zip(&gathered[r * n..(r + 1) * n]) {
            *total += f64::from(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_a_batch_once() {
        for (rows, size) in [(64, 2), (7, 3), (2, 4), (100, 1)] {
            let mut next = 0;
            for rank in 0..size {
                let range = share(rows, rank, size);
                assert_eq!(range.start, next);
                next = range.end;
            }
            assert_eq!(next, rows);
        }
    }
}
