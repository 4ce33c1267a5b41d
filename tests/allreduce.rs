//! Data-parallel training with each layer's all-reduce overlapped with the backward pass, on
//! ranks that are threads of this process: it trains as the blocking all-reduce does (bit for
//! bit on two ranks, where every sum is of the same two values; to f32 rounding on three), and
//! two runs are bit-identical. The last batch of 401 rows has one row: ranks with none add zeros.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::ThreadId;

use nabla::data::{Synthetic, generate};
use nabla::train::{Allreduce, Ranks};
use nabla::train::{epoch_order, ranks::share};
use nabla::{Dataset, Dense, NetworkConfig, TrainConfig, Trainer};

/// A rank whose peers are threads, each receiving from the one before it over a channel;
/// `concurrent`: whether it lets a communication thread call it.
struct ThreadRank {
    rank: usize,
    outboxes: Vec<Sender<Vec<f32>>>,
    inbox: Mutex<Receiver<Vec<f32>>>,
    concurrent: bool,
    /// Calls from a thread other than the rank's own (a communication thread).
    elsewhere: AtomicUsize,
    own: ThreadId,
}

impl Ranks for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.outboxes.len()
    }
    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], _from: usize) {
        if std::thread::current().id() != self.own {
            self.elsewhere.fetch_add(1, Ordering::Relaxed);
        }
        self.outboxes[to].send(send.to_vec()).unwrap();
        receive.copy_from_slice(&self.inbox.lock().unwrap().recv().unwrap());
    }
    fn concurrent(&self) -> bool {
        self.concurrent
    }
}

/// Trains a 2-16-12-8-2 network on the moons over `size` thread ranks; rank 0's layers and
/// its epoch losses. Checks that the sums ran on a communication thread exactly when
/// `expect_overlap`.
fn train(
    size: usize,
    allreduce: Allreduce,
    concurrent: bool,
    expect_overlap: bool,
) -> (Vec<Dense<f32>>, Vec<f64>) {
    train_on(size, allreduce, concurrent, expect_overlap, &|_, _| {})
}

/// [`train`], each rank's copy of the data first changed by `alter(rank, data)`.
fn train_on(
    size: usize,
    allreduce: Allreduce,
    concurrent: bool,
    expect_overlap: bool,
    alter: &(dyn Fn(usize, &mut Dataset) + Sync),
) -> (Vec<Dense<f32>>, Vec<f64>) {
    let data = generate(Synthetic::Moons, 401, 0.1, 0).unwrap();
    let config = TrainConfig::default()
        .epochs(3)
        .batch_size(50)
        .threads(1)
        .allreduce(allreduce);
    let (outboxes, inboxes): (Vec<_>, Vec<_>) = (0..size).map(|_| channel()).unzip();
    let results: Vec<_> = std::thread::scope(|scope| {
        let runs: Vec<_> = inboxes
            .into_iter()
            .enumerate()
            .map(|(rank, inbox)| {
                let outboxes = outboxes.clone();
                let mut data = data.clone();
                alter(rank, &mut data);
                let config = &config;
                scope.spawn(move || {
                    let data = &data;
                    let ranks = ThreadRank {
                        rank,
                        outboxes,
                        inbox: Mutex::new(inbox),
                        concurrent,
                        elsewhere: AtomicUsize::new(0),
                        own: std::thread::current().id(),
                    };
                    let mut network = NetworkConfig::for_data(data)
                        .hidden([16, 12, 8])
                        .build(0)
                        .unwrap();
                    let outcome = Trainer::new(config)
                        .ranks(Some(&ranks))
                        .run(&mut network, data)
                        .unwrap();
                    let losses = outcome.history.iter().map(|e| e.train_loss).collect();
                    let elsewhere = ranks.elsewhere.load(Ordering::Relaxed);
                    assert_eq!(
                        elsewhere > 0,
                        expect_overlap,
                        "rank {rank}: {elsewhere} sums off the training thread"
                    );
                    (network.layers().to_vec(), losses)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    // Every rank applies the same updates.
    for (rank, (layers, _)) in results.iter().enumerate() {
        assert_eq!(layers, &results[0].0, "rank {rank} differs from rank 0");
    }
    results.into_iter().next().unwrap()
}

#[test]
fn two_ranks_overlapped_train_bit_for_bit_as_blocking() {
    let blocking = train(2, Allreduce::Blocking, true, false);
    let overlapped = train(2, Allreduce::Overlapped, true, true);
    assert_eq!(overlapped, blocking);
    // Ranks that allow no second thread run blocking, whatever is asked.
    assert_eq!(train(2, Allreduce::Overlapped, false, false), blocking);
}

#[test]
fn three_ranks_overlapped_repeat_bit_for_bit_and_agree_with_blocking() {
    let overlapped = train(3, Allreduce::Overlapped, true, true);
    assert_eq!(
        train(3, Allreduce::Overlapped, true, true),
        overlapped,
        "not repeatable"
    );
    let blocking = train(3, Allreduce::Blocking, true, false);
    let mut largest = 0.0f32;
    for (o, b) in overlapped.0.iter().zip(&blocking.0) {
        for (x, y) in o
            .weights
            .iter()
            .chain(&o.bias)
            .zip(b.weights.iter().chain(&b.bias))
        {
            largest = largest.max((x - y).abs() / (1.0 + y.abs()));
        }
    }
    eprintln!("three ranks, overlapped against blocking: {largest:e}");
    assert!(largest < 1e-4, "the runs part by {largest}");
    for (o, b) in overlapped.1.iter().zip(&blocking.1) {
        assert!(
            (o - b).abs() < 1e-4 * (1.0 + b.abs()),
            "loss {o} against {b}"
        );
    }
}

/// Each rank reads only the rows of its shares of the batches: with every other row of its
/// copy of the data made NaN (which would stop the run as a numerical fault if it were read),
/// the ranks train as on clean data.
#[test]
fn each_rank_reads_only_its_shares_of_the_batches() {
    let clean = train(2, Allreduce::Overlapped, true, true);
    for allreduce in [Allreduce::Overlapped, Allreduce::Blocking] {
        let poisoned = train_on(
            2,
            allreduce,
            true,
            allreduce == Allreduce::Overlapped,
            &|rank, data| {
                let rows = data.len();
                let mut needed = vec![false; rows];
                for epoch in 0..3 {
                    for batch in epoch_order(rows, 0, epoch).chunks(50) {
                        for &row in &batch[share(batch.len(), rank, 2)] {
                            needed[row] = true;
                        }
                    }
                }
                let features = data.features.to_mut().unwrap();
                let mut poisoned = 0;
                for (row, needed) in needed.iter().enumerate() {
                    if !needed {
                        features.row_mut(row).fill(f32::NAN);
                        poisoned += 1;
                    }
                }
                assert!(
                    poisoned > 0,
                    "rank {rank} needs every row: the test shows nothing"
                );
            },
        );
        assert_eq!(poisoned, clean, "{allreduce:?}");
    }
}
