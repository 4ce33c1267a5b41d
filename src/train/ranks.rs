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
//! The sum is a ring all-reduce ([`ring_sum`]) in a fixed order: every rank gets the same
//! bits, and a run does not depend on timing (MPI's own `Allreduce` promises neither). Each
//! rank sends and receives 2·(N − 1)/N of the values, whatever N. [`Ranks`] is what training
//! needs of the processes; the cargo feature `mpi` provides it over MPI
//! ([`super::mpi::MpiRanks`]).

use std::fmt;
use std::ops::Range;

use crate::layer::DenseGradients;

/// The ranks of a data-parallel run, as training needs them.
pub trait Ranks: Send + Sync {
    /// This process's rank, 0 ≤ rank < size.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Sends `send` to rank `to` while receiving `receive.len()` values from rank `from`.
    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize);
    /// Whether [`Ranks::send_receive`] may be called from a thread other than the one that
    /// made these ranks (one thread at a time), so that a communication thread can sum each
    /// layer's gradients during the backward pass ([`super::Allreduce::Overlapped`]). By
    /// default not.
    fn concurrent(&self) -> bool {
        false
    }
}

impl fmt::Debug for dyn Ranks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rank {} of {}", self.rank(), self.size())
    }
}

/// A layer's gradients as a rank sends them: out = (f32)(g·weight) over its weights, then its
/// bias; zeros for `None` (a rank with no rows in the step). `out` holds the layer's values.
pub(crate) fn weighted_into(gradients: Option<&DenseGradients<f32>>, weight: f64, out: &mut [f32]) {
    let Some(g) = gradients else {
        out.fill(0.0);
        return;
    };
    let (weights, bias) = (
        g.weights.as_slice().expect("gradients are standard layout"),
        g.bias.as_slice().expect("gradients are standard layout"),
    );
    assert_eq!(out.len(), g.count(), "the layer's values");
    let (to_weights, to_bias) = out.split_at_mut(weights.len());
    for (to, from) in [(to_weights, weights), (to_bias, bias)] {
        crate::kernels::elementwise::vectorised(
            #[inline(always)]
            || {
                for (slot, &g) in to.iter_mut().zip(from) {
                    *slot = (f64::from(g) * weight) as f32;
                }
            },
        );
    }
}

/// A layer's gradients ← the summed values (its weights, then its bias).
pub(crate) fn sums_into(values: &[f32], gradients: &mut DenseGradients<f32>) {
    let weights = gradients
        .weights
        .as_slice_mut()
        .expect("gradients are standard layout");
    let count = weights.len();
    weights.copy_from_slice(&values[..count]);
    let bias = gradients
        .bias
        .as_slice_mut()
        .expect("gradients are standard layout");
    let end = count + bias.len();
    bias.copy_from_slice(&values[count..end]);
}

/// Rank `rank`'s share of a batch of `rows` rows split over `size` ranks.
pub fn share(rows: usize, rank: usize, size: usize) -> Range<usize> {
    rows * rank / size..rows * (rank + 1) / size
}

/// The values of chunk `c` of `n` values cut into `size` chunks.
fn chunk(n: usize, c: usize, size: usize) -> Range<usize> {
    n * c / size..n * (c + 1) / size
}

/// Replaces `values` on every rank by the element-wise sum over the ranks, the same bits on
/// every rank; `incoming` is scratch space of at least ⌈n/size⌉ + 1 values.
///
/// The ring: the values are cut into N chunks. In N − 1 steps each rank passes a chunk to the
/// next rank, which adds it to its own, so that chunk c is summed in the fixed order
/// ((v_c + v_{c+1}) + v_{c+2}) + … over ranks c, c + 1, … (mod N) and ends complete on rank
/// c − 1. In N − 1 more steps the complete chunks travel round the ring, copied, not added.
pub fn ring_sum(ranks: &dyn Ranks, values: &mut [f32], incoming: &mut [f32]) {
    let (size, rank) = (ranks.size(), ranks.rank());
    if size < 2 {
        return;
    }
    let n = values.len();
    let (next, previous) = ((rank + 1) % size, (rank + size - 1) % size);
    // Reduce-scatter: at step s, send chunk (rank − s) and add the received chunk (rank − s − 1).
    for s in 0..size - 1 {
        let out = chunk(n, (rank + size - s) % size, size);
        let into = chunk(n, (rank + 2 * size - s - 1) % size, size);
        let received = &mut incoming[..into.len()];
        ranks.send_receive(&values[out], next, received, previous);
        // The received partial sum of the ranks before this one, plus this rank's values.
        for (value, &other) in values[into].iter_mut().zip(received.iter()) {
            *value += other;
        }
    }
    // All-gather: at step s, send the complete chunk (rank + 1 − s) and keep chunk (rank − s).
    for s in 0..size - 1 {
        let out = chunk(n, (rank + 1 + size - s) % size, size);
        let into = chunk(n, (rank + size - s) % size, size);
        let received = &mut incoming[..into.len()];
        ranks.send_receive(&values[out], next, received, previous);
        values[into].copy_from_slice(received);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex};

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

    /// Ranks as threads, each receiving from the one before it over a channel.
    struct ThreadRanks {
        rank: usize,
        size: usize,
        outboxes: Arc<Vec<Sender<Vec<f32>>>>,
        inbox: Mutex<Receiver<Vec<f32>>>,
    }

    impl Ranks for ThreadRanks {
        fn rank(&self) -> usize {
            self.rank
        }
        fn size(&self) -> usize {
            self.size
        }
        fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize) {
            assert_eq!(
                (to, from),
                (
                    (self.rank + 1) % self.size,
                    (self.rank + self.size - 1) % self.size
                )
            );
            self.outboxes[to].send(send.to_vec()).unwrap();
            let got = self.inbox.lock().unwrap().recv().unwrap();
            receive.copy_from_slice(&got);
        }
    }

    fn ring(size: usize, values: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..size).map(|_| channel()).unzip();
        let outboxes = Arc::new(senders);
        std::thread::scope(|scope| {
            let handles: Vec<_> = receivers
                .into_iter()
                .enumerate()
                .map(|(rank, inbox)| {
                    let ranks = ThreadRanks {
                        rank,
                        size,
                        outboxes: Arc::clone(&outboxes),
                        inbox: Mutex::new(inbox),
                    };
                    let mut mine = values[rank].clone();
                    scope.spawn(move || {
                        let mut incoming = vec![0.0; mine.len() / size + 2];
                        ring_sum(&ranks, &mut mine, &mut incoming);
                        mine
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    #[test]
    fn the_ring_gives_every_rank_the_same_sum_in_a_fixed_order() {
        for size in 1..=5 {
            for n in [0, 1, 3, 7, 64, 101] {
                let values: Vec<Vec<f32>> = (0..size)
                    .map(|r| {
                        (0..n)
                            .map(|i| ((i * 7 + r * 13) % 11) as f32 * 0.1 + 1e-4 * r as f32)
                            .collect()
                    })
                    .collect();
                let summed = ring(size, &values);
                for i in 0..n {
                    let exact: f64 = values.iter().map(|v| f64::from(v[i])).sum();
                    assert!(
                        (f64::from(summed[0][i]) - exact).abs() < 1e-5,
                        "size {size}, n {n}, i {i}"
                    );
                }
                assert!(
                    summed.iter().all(|s| s == &summed[0]),
                    "size {size}, n {n}: ranks differ"
                );
                assert_eq!(
                    ring(size, &values),
                    summed,
                    "size {size}, n {n}: not repeatable"
                );
            }
        }
    }
}
