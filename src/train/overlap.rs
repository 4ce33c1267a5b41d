//! The all-reduce of a data-parallel step overlapped with its backward pass: each layer's
//! gradients are summed over the ranks on a communication thread of their own as soon as the
//! backward pass has finished them, while the caller computes the layers below.
//!
//! ```text
//! caller:  backward L−1 │ backward L−2 │ … │ backward 0 │ hand over 0 + extras │ wait
//! thread:               │ ring(L−1)    │ ring(L−2) …               │ ring(0 + extras)
//! ```
//! Each layer's segment is summed by the same fixed-order ring as the blocking sum
//! ([`super::ranks::ring_sum`]), one segment after the other, so a run does not depend on
//! timing. With two ranks every value is the same sum of the same two values as the blocking
//! sum gives (addition commutes): the same bits. With more, the ring starts each segment's
//! chunks on other ranks than the whole buffer's, so values may differ from the blocking sum's
//! by f32 rounding; runs with the same ranks stay bit-identical. The step's extras (its loss,
//! correct rows and flags) travel with the first layer's segment, the last one sent.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::ranks::{Ranks, ring_sum, sums_into, weighted_into};
use crate::layer::DenseGradients;

/// The segments of one step's all-reduce and the communication thread's progress through them.
/// The caller hands layers over from the last down ([`LayerReducer::hand_over`]); the thread
/// running [`LayerReducer::serve`] sums them in that order.
pub struct LayerReducer {
    /// Segment s holds layer L − 1 − s (weights, then bias); the last also the extras.
    segments: Vec<Mutex<Vec<f32>>>,
    /// Values per layer.
    sizes: Vec<usize>,
    extras: usize,
    progress: Mutex<Progress>,
    changed: Condvar,
}

/// How far a step's all-reduce has come.
#[derive(Debug, Default)]
struct Progress {
    /// Segments handed over by the caller.
    handed: usize,
    /// Segments summed by the thread.
    summed: usize,
    /// The run ends: the thread returns.
    stop: bool,
    /// The thread panicked (a transport that failed): no sum will come.
    failed: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LayerReducer {
    /// Segments for layers of `sizes[l]` values each, and `extras` values beside the first
    /// layer's.
    pub fn new(sizes: &[usize], extras: usize) -> LayerReducer {
        let layers = sizes.len();
        let segments = (0..layers)
            .map(|s| {
                let layer = layers - 1 - s;
                let extra = if layer == 0 { extras } else { 0 };
                Mutex::new(vec![0.0; sizes[layer] + extra])
            })
            .collect();
        LayerReducer {
            segments,
            sizes: sizes.to_vec(),
            extras,
            progress: Mutex::new(Progress::default()),
            changed: Condvar::new(),
        }
    }

    /// The communication thread: sums each segment over `ranks` as it is handed over, until
    /// [`LayerReducer::stop`].
    pub fn serve(&self, ranks: &dyn Ranks) {
        // If the transport panics, the caller waiting for a sum is told instead of waiting on.
        struct Failed<'a>(&'a LayerReducer);
        impl Drop for Failed<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    lock(&self.0.progress).failed = true;
                    self.0.changed.notify_all();
                }
            }
        }
        let _failed = Failed(self);
        let largest = self.segments.iter().map(|s| lock(s).len()).max();
        let mut incoming = vec![0.0; largest.unwrap_or(0) / ranks.size().max(1) + 2];
        loop {
            let next = {
                let mut progress = lock(&self.progress);
                while progress.handed == progress.summed && !progress.stop {
                    progress = self
                        .changed
                        .wait(progress)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if progress.stop {
                    return;
                }
                progress.summed
            };
            ring_sum(ranks, &mut lock(&self.segments[next]), &mut incoming);
            lock(&self.progress).summed += 1;
            self.changed.notify_all();
        }
    }

    /// Ends [`LayerReducer::serve`] (at once if it waits; after the segment it sums if not).
    pub fn stop(&self) {
        lock(&self.progress).stop = true;
        self.changed.notify_all();
    }

    /// How many layers have been handed over this step.
    pub fn handed(&self) -> usize {
        lock(&self.progress).handed
    }

    /// Hands layer `layer`'s gradients over, each multiplied by `weight` (zeros for `None`: a
    /// rank with no rows in the step); layers go from the last down, the first one with the
    /// step's `extras`.
    ///
    /// # Panics
    /// When `layer` is not the next one down, or the sizes differ from the reducer's.
    pub fn hand_over(&self, layer: usize, gradients: Option<&DenseGradients<f32>>, weight: f64) {
        let segment = self.sizes.len() - 1 - layer;
        assert_eq!(
            self.handed(),
            segment,
            "layers are handed over from the last down"
        );
        weighted_into(
            gradients,
            weight,
            &mut lock(&self.segments[segment])[..self.sizes[layer]],
        );
        if layer > 0 {
            self.mark_handed();
        }
    }

    /// Hands the first layer's segment over with the step's extras (after
    /// [`LayerReducer::hand_over`] of layer 0), waits for every segment's sum, and writes the
    /// sums into `gradients` and `extras`; the next step starts afresh.
    pub fn finish(&self, gradients: &mut [DenseGradients<f32>], extras: &mut [f64]) {
        assert_eq!(extras.len(), self.extras, "the step's extras");
        {
            let last = self.segments.len() - 1;
            let mut values = lock(&self.segments[last]);
            let start = values.len() - self.extras;
            for (slot, &extra) in values[start..].iter_mut().zip(extras.iter()) {
                *slot = extra as f32;
            }
        }
        self.mark_handed();
        let mut progress = lock(&self.progress);
        while progress.summed < self.segments.len() {
            assert!(!progress.failed, "the all-reduce thread failed");
            progress = self
                .changed
                .wait(progress)
                .unwrap_or_else(PoisonError::into_inner);
        }
        progress.handed = 0;
        progress.summed = 0;
        drop(progress);
        for (layer, g) in gradients.iter_mut().enumerate() {
            let values = lock(&self.segments[self.sizes.len() - 1 - layer]);
            sums_into(&values, g);
            if layer == 0 {
                let start = values.len() - self.extras;
                for (extra, &sum) in extras.iter_mut().zip(&values[start..]) {
                    *extra = f64::from(sum);
                }
            }
        }
    }

    fn mark_handed(&self) {
        lock(&self.progress).handed += 1;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transport that panics ends the step with a panic on the caller, not a wait forever.
    #[test]
    #[should_panic(expected = "the all-reduce thread failed")]
    fn a_failed_transport_is_not_waited_for() {
        struct Broken;
        impl Ranks for Broken {
            fn rank(&self) -> usize {
                0
            }
            fn size(&self) -> usize {
                2
            }
            fn send_receive(&self, _: &[f32], _: usize, _: &mut [f32], _: usize) {
                panic!("the link is down");
            }
        }
        let reducer = LayerReducer::new(&[3, 2], 1);
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| reducer.serve(&Broken));
            reducer.hand_over(1, None, 1.0);
            reducer.hand_over(0, None, 1.0);
            let mut layers = vec![
                DenseGradients {
                    weights: ndarray::Array2::zeros((1, 2)),
                    bias: ndarray::Array1::zeros(1),
                },
                DenseGradients {
                    weights: ndarray::Array2::zeros((1, 1)),
                    bias: ndarray::Array1::zeros(1),
                },
            ];
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                reducer.finish(&mut layers, &mut [0.0])
            }));
            assert!(thread.join().is_err(), "the transport panicked");
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        });
    }

    #[test]
    #[should_panic(expected = "from the last down")]
    fn layers_must_be_handed_over_from_the_last_down() {
        let reducer = LayerReducer::new(&[3, 2], 1);
        reducer.hand_over(0, None, 1.0);
    }
}
