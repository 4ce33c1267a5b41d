//! The order in which an epoch visits the rows: a seeded shuffle of every row, or, for rows that
//! are not in memory, a shuffle within windows of consecutive blocks.
//!
//! A batch of rows shuffled over the whole set reads each row from a random place. From memory
//! that costs a cache miss; from a file on the disk it costs a disk read (measured here: 374
//! rows/s for MNIST-sized rows spilled to a temporary file under a 200 MB memory limit). A
//! windowed shuffle instead cuts the rows into blocks of [`BLOCK_ROWS`] consecutive rows,
//! shuffles the blocks, groups them into windows of `window` rows and shuffles the rows within
//! each window: each window is read from the disk in one sequential pass (asked for one window
//! ahead), and each batch still mixes rows from many places of the set. This is the shuffle
//! buffer of `tf.data` and WebDataset, with blocks chosen at random rather than in file order.

use std::ops::Range;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Mixed into the seed of the shuffles so they never share a stream with the weights.
const SHUFFLE_SALT: u64 = 0x5348_5546_464c_4521;

/// Consecutive rows a windowed shuffle keeps together (1.5 MB of 784 f32 features).
pub const BLOCK_ROWS: usize = 512;

/// The window of rows a run shuffles within when its training rows are not in memory and the
/// config leaves the choice to nabla ([`super::TrainConfig::shuffle_window`]): 16 blocks, 25 MB
/// of 784 f32 features. Two windows (the one trained on, the next being read) must stay in
/// memory: under a 256 MB limit, windows of 16384 rows trained at 5.5k rows/s, windows of 8192
/// at 83k (MNIST-sized rows, `bench/out_of_core.sh`).
pub const DEFAULT_WINDOW_ROWS: usize = 16 * BLOCK_ROWS;

/// The row order of epoch `epoch`: a seeded shuffle of 0..rows.
pub fn epoch_order(rows: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut rng(seed, epoch));
    order
}

/// The rows of epoch `epoch` in the order it visits them, and its windows: in file order
/// without `shuffle`; else a shuffle of every row when `window` is 0, or within windows of
/// about `window` rows ([`windowed_order`]; the only case with windows).
pub fn epoch_plan(
    rows: usize,
    shuffle: bool,
    seed: u64,
    epoch: usize,
    window: usize,
) -> (Vec<usize>, Vec<Window>) {
    match (shuffle, window) {
        (false, _) => ((0..rows).collect(), Vec::new()),
        (true, 0) => (epoch_order(rows, seed, epoch), Vec::new()),
        (true, window) => windowed_order(rows, seed, epoch, window),
    }
}

/// One window of a windowed order: where it starts in the order, and the row ranges (blocks)
/// whose rows it visits.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Its first position in the order.
    pub start: usize,
    /// Its blocks of consecutive rows.
    pub blocks: Vec<Range<usize>>,
}

/// The row order of epoch `epoch` shuffled within windows of about `window` rows (whole
/// blocks of [`BLOCK_ROWS`], at least one), and the windows, in order.
///
/// ```
/// use nabla::train::windowed_order;
///
/// let (order, windows) = windowed_order(5000, 7, 0, 1024);
/// let mut sorted = order.clone();
/// sorted.sort();
/// assert_eq!(sorted, (0..5000).collect::<Vec<_>>()); // every row once
/// assert_eq!(windows.len(), 5); // 10 blocks of 512 rows (the last of 392), 2 per window
/// ```
pub fn windowed_order(
    rows: usize,
    seed: u64,
    epoch: usize,
    window: usize,
) -> (Vec<usize>, Vec<Window>) {
    let mut rng = rng(seed, epoch);
    let mut blocks: Vec<Range<usize>> = (0..rows)
        .step_by(BLOCK_ROWS)
        .map(|start| start..(start + BLOCK_ROWS).min(rows))
        .collect();
    blocks.shuffle(&mut rng);
    let per_window = (window / BLOCK_ROWS).max(1);
    let mut order = Vec::with_capacity(rows);
    let mut windows = Vec::with_capacity(blocks.len().div_ceil(per_window));
    for group in blocks.chunks(per_window) {
        let start = order.len();
        order.extend(group.iter().flat_map(Clone::clone));
        order[start..].shuffle(&mut rng);
        windows.push(Window {
            start,
            blocks: group.to_vec(),
        });
    }
    (order, windows)
}

/// The shuffle's random stream for `epoch`.
fn rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SHUFFLE_SALT);
    rng.set_stream(epoch as u64);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_windowed_order_visits_every_row_once_each_window_within_its_blocks() {
        let rows = 10 * BLOCK_ROWS + 77;
        let (order, windows) = windowed_order(rows, 3, 1, 4 * BLOCK_ROWS);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..rows).collect::<Vec<_>>());
        assert_eq!(windows.len(), 3);
        for (w, window) in windows.iter().enumerate() {
            let end = windows.get(w + 1).map_or(rows, |next| next.start);
            for &row in &order[window.start..end] {
                assert!(window.blocks.iter().any(|b| b.contains(&row)), "row {row}");
            }
        }
        // Seeded: the same seed and epoch give the same order, another epoch another one.
        assert_eq!(windowed_order(rows, 3, 1, 4 * BLOCK_ROWS).0, order);
        assert_ne!(windowed_order(rows, 3, 2, 4 * BLOCK_ROWS).0, order);
        // The rows of a window are mixed, not left block by block.
        assert!(
            order[..BLOCK_ROWS]
                .iter()
                .any(|&r| !windows[0].blocks[0].contains(&r))
        );
    }
}
