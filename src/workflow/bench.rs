//! The speed workload of DESIGN.md §6, the same as `../shared/bench/torch_mlp.py` so the two
//! can be compared in one run.
//!
//! ```text
//! data      60000 × 784 f32 U[0, 1) (splitmix64, seed 1), labels argmax((x − ½)·T),
//!           T 784 × 10 U(−1, 1) (seed 42), f32 sequential accumulation; test 10000 (seed 2)
//! protocol  per (model, batch): fresh model (PyTorch's default init), 5 warm-up steps, 3 timed
//!           epochs over chained splitmix64 Fisher–Yates shuffles (seeds 999, 1000, 1001, 1002),
//!           SGD lr 0.01 momentum 0.9, cross-entropy from logits; median epoch
//! inference 10000 test rows in batches of 1000, forward to the logits + arg-max (as PyTorch's
//!           model(x).argmax(1)), 1 warm-up + 5 reps, median
//! FLOPs     gflops_6W = 6·W·60000 / median epoch; executed = (6W − 2·784·h₁)·60000 / median
//! ```

use std::time::Instant;

use ndarray::{Array2, s};
use serde::Serialize;

use crate::data::{Dataset, numeric_label_names};
use crate::init::Init;
use crate::kernels::matmul;
use crate::train::Stepper;
use crate::{
    Activation, Error, LossConfig, LossInput, LossKind, Network, NetworkConfig, OptimizerConfig,
    OptimizerKind, Result,
};

/// Input features.
pub const INPUTS: usize = 784;
/// Classes.
pub const CLASSES: usize = 10;
/// Training rows of the full workload.
pub const TRAIN_ROWS: usize = 60_000;
/// Test rows.
pub const TEST_ROWS: usize = 10_000;
const WARMUP_STEPS: usize = 5;
const INFERENCE_BATCH: usize = 1000;
const INFERENCE_REPS: usize = 5;

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Output `i` (1-based) of the splitmix64 stream seeded with `seed`, as the peers compute it.
pub fn splitmix64(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The first `count` U[0, 1) floats of stream `seed`: the top 24 bits of each output, / 2²⁴.
/// Large outputs are backed by huge pages (see [`crate::data::huge_pages`]).
pub fn uniform_f32(seed: u64, count: usize) -> Vec<f32> {
    let mut values = crate::data::huge_pages::vec_with_capacity(count);
    values.extend(
        (1..=count as u64)
            .map(|i| (splitmix64(seed, i) >> 40) as f32 * (1.0 / (1u32 << 24) as f32)),
    );
    values
}

/// The synthetic data and the shuffles of the workload.
pub struct Workload {
    /// Training rows.
    pub train: Dataset,
    /// Test rows.
    pub test: Dataset,
    /// The row orders: [warm-up, epoch 1, epoch 2, …], each reshuffled from the previous.
    pub orders: Vec<Vec<usize>>,
}

fn make_data(rows: usize, seed: u64, teacher: &[f32]) -> Dataset {
    let x = uniform_f32(seed, rows * INPUTS);
    let mut labels = Vec::with_capacity(rows);
    for row in x.chunks_exact(INPUTS) {
        let mut scores = [0.0f32; CLASSES];
        // Sequential f32 accumulation over the features, without fused multiply-add, as the
        // peers do it: the labels come out bit-identical.
        for (k, &value) in row.iter().enumerate() {
            let centred = value - 0.5;
            for (c, score) in scores.iter_mut().enumerate() {
                *score += centred * teacher[k * CLASSES + c];
            }
        }
        let best = (0..CLASSES).fold(0, |best, c| if scores[c] > scores[best] { c } else { best });
        labels.push(best);
    }
    Dataset::classes(
        Array2::from_shape_vec((rows, INPUTS), x).expect("rows × 784 values"),
        labels,
        numeric_label_names(CLASSES),
    )
    .expect("every label is a class")
}

/// Each seed reshuffles the previous order in place (Fisher–Yates from the end, j = r mod (i+1)).
fn chained_shuffles(rows: usize, seeds: &[u64]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..rows).collect();
    seeds
        .iter()
        .map(|&seed| {
            for (t, i) in (1..rows).rev().enumerate() {
                let j = (splitmix64(seed, t as u64 + 1) % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            order.clone()
        })
        .collect()
}

/// Builds the workload with `train_rows` training rows (60000 for the real thing) and `epochs`
/// timed epochs.
pub fn workload(train_rows: usize, epochs: usize) -> Workload {
    let teacher: Vec<f32> = uniform_f32(42, INPUTS * CLASSES)
        .iter()
        .map(|u| 2.0 * u - 1.0)
        .collect();
    let seeds: Vec<u64> = std::iter::once(999)
        .chain((0..epochs as u64).map(|e| 1000 + e))
        .collect();
    Workload {
        train: make_data(train_rows, 1, &teacher),
        test: make_data(TEST_ROWS, 2, &teacher),
        orders: chained_shuffles(train_rows, &seeds),
    }
}

/// The two benchmark models.
pub fn model(name: &str) -> Result<(&'static str, Vec<usize>)> {
    match name {
        "A" | "a" => Ok(("A_784-128-10", vec![128])),
        "B" | "b" => Ok(("B_784-512-512-10", vec![512, 512])),
        _ => Err(Error::invalid(
            "model",
            format!("'{name}' is not A (784-128-10) or B (784-512-512-10)"),
        )),
    }
}

/// One (model, batch) result, with the PyTorch script's field names.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// "A_784-128-10" or "B_784-512-512-10".
    pub model: String,
    /// Layer widths.
    pub dims: Vec<usize>,
    /// Rows per mini-batch.
    pub batch: usize,
    /// Weight-matrix entries W.
    pub weights: usize,
    /// Biases.
    pub biases: usize,
    /// Seconds of each timed epoch.
    pub epoch_s: Vec<f64>,
    /// Median epoch seconds.
    pub median_epoch_s: f64,
    /// Fastest epoch seconds.
    pub min_epoch_s: f64,
    /// Training rows per second at the median epoch.
    pub samples_per_s: f64,
    /// 6·W·rows / median epoch / 1e9 (named as in the PyTorch script's JSON).
    #[serde(rename = "gflops_6W")]
    pub gflops_6w: f64,
    /// (6W − 2·784·h₁)·rows / median epoch / 1e9: the matrix-product FLOPs actually executed.
    pub gflops_executed_mm: f64,
    /// The loss of each epoch's last batch.
    pub last_batch_loss: Vec<f64>,
    /// Seconds of each inference repetition over the test rows.
    pub infer_10k_s: Vec<f64>,
    /// Median inference seconds.
    pub median_infer_10k_s: f64,
    /// Test rows per second at the median.
    pub infer_samples_per_s: f64,
    /// Test accuracy after training.
    pub test_acc: f64,
    /// Heap allocations per training step during the timed epochs (when counted).
    pub allocations_per_step: Option<f64>,
}

/// Trains and times one (model, batch) configuration. `allocations` reads a process-wide
/// allocation counter (the binary's counting allocator), when there is one.
pub fn run(
    workload: &Workload,
    model_name: &str,
    batch: usize,
    threads: usize,
    precision: crate::Precision,
    allocations: Option<&(dyn Fn() -> u64 + Sync)>,
) -> Result<BenchResult> {
    let (name, hidden) = model(model_name)?;
    if batch == 0 {
        return Err(Error::invalid("batch", "must be at least 1"));
    }
    let config = NetworkConfig {
        inputs: INPUTS,
        hidden: hidden.clone(),
        hidden_activation: Activation::Relu,
        outputs: CLASSES,
        output_activation: Activation::Identity,
        loss: LossConfig::new(LossKind::CrossEntropy, LossInput::Logits),
        init: Init::Pytorch,
        allow_unsafe: false,
    };
    let mut network = Network::<f32>::new(config.clone(), 0)?;
    network.set_threads(threads);
    network.set_precision(precision);
    let optimizer = OptimizerConfig {
        momentum: 0.9,
        ..OptimizerConfig::new(OptimizerKind::Sgd, 0.01)
    };
    let mut stepper = Stepper::new(&network, &workload.train, optimizer, batch)?;
    let rows = workload.train.len();
    let warmup = &workload.orders[0];
    for s in 0..WARMUP_STEPS {
        let start = (s * batch).min(rows);
        let end = ((s + 1) * batch).min(rows);
        if start < end {
            stepper.step(&mut network, &warmup[start..end])?;
        }
    }
    let mut epoch_s = Vec::with_capacity(workload.orders.len());
    let mut last_batch_loss = Vec::with_capacity(workload.orders.len());
    let mut steps = 0u64;
    let allocations_before = allocations.map(|count| count());
    for order in &workload.orders[1..] {
        let started = Instant::now();
        let mut loss = f64::NAN;
        let mut chunks = order.chunks(batch).peekable();
        while let Some(chunk) = chunks.next() {
            loss = stepper.step_then(&mut network, chunk, chunks.peek().copied())?;
            steps += 1;
        }
        epoch_s.push(started.elapsed().as_secs_f64());
        last_batch_loss.push(loss);
    }
    let allocations_per_step = allocations
        .zip(allocations_before)
        .map(|(count, before)| (count() - before) as f64 / steps as f64);

    // Inference: forward + arg-max over the test rows in batches of 1000.
    let mut workspace = network.workspace(INFERENCE_BATCH);
    let mut predictions = vec![0usize; workload.test.len()];
    let mut infer_10k_s = Vec::new();
    // Each repetition runs inside one `with_frozen_weights`, timed, as the peer runs each
    // inside one autocast block: bf16 weights are packed (cast, for the peer) once per
    // repetition of 10 batches, not once per batch.
    for rep in 0..=INFERENCE_REPS {
        let started = Instant::now();
        network.with_frozen_weights(|| {
            let mut start = 0;
            while start < workload.test.len() {
                let end = (start + INFERENCE_BATCH).min(workload.test.len());
                let outputs = network.forward_logits(
                    workload.test.features.slice(s![start..end, ..]),
                    &mut workspace,
                );
                for (row, prediction) in
                    outputs.rows().into_iter().zip(&mut predictions[start..end])
                {
                    *prediction = row
                        .iter()
                        .enumerate()
                        .fold(0, |best, (c, &v)| if v > row[best] { c } else { best });
                }
                start = end;
            }
        });
        if rep > 0 {
            infer_10k_s.push(started.elapsed().as_secs_f64());
        }
    }
    let correct = predictions
        .iter()
        .zip(workload.test.class_indices().expect("class targets"))
        .filter(|(p, l)| p == l)
        .count();

    let dims: Vec<usize> = config.widths();
    let weights: usize = dims.windows(2).map(|w| w[0] * w[1]).sum();
    let biases: usize = dims[1..].iter().sum();
    let median_epoch_s = median(&epoch_s);
    let median_infer_10k_s = median(&infer_10k_s);
    let executed = 6 * weights - 2 * dims[0] * dims[1];
    Ok(BenchResult {
        model: name.to_string(),
        dims,
        batch,
        weights,
        biases,
        min_epoch_s: epoch_s.iter().copied().fold(f64::INFINITY, f64::min),
        samples_per_s: rows as f64 / median_epoch_s,
        gflops_6w: (6 * weights * rows) as f64 / median_epoch_s / 1e9,
        gflops_executed_mm: (executed * rows) as f64 / median_epoch_s / 1e9,
        epoch_s,
        median_epoch_s,
        last_batch_loss,
        infer_samples_per_s: workload.test.len() as f64 / median_infer_10k_s,
        infer_10k_s,
        median_infer_10k_s,
        test_acc: correct as f64 / workload.test.len() as f64,
        allocations_per_step,
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// nabla's single-precision matrix product at one shape.
#[derive(Clone, Debug, Serialize)]
pub struct SgemmResult {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Fastest time of one product.
    pub best_s: f64,
    /// 2·m·n·k / best_s / 1e9.
    pub gflops: f64,
}

/// Times C = A·B at (m, k, n) with `threads` threads: the best of many repetitions.
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
    precision: crate::Precision,
) -> SgemmResult {
    crate::kernels::with_precision(precision, || sgemm_here(m, k, n, threads))
}

fn sgemm_here(m: usize, k: usize, n: usize, threads: usize) -> SgemmResult {
    let a = Array2::from_shape_vec((m, k), uniform_f32(7, m * k)).expect("m × k");
    let b = Array2::from_shape_vec((k, n), uniform_f32(8, k * n)).expect("k × n");
    let mut c = Array2::<f32>::zeros((m, n));
    matmul(a.view(), b.view(), c.view_mut(), false, threads);
    let started = Instant::now();
    matmul(a.view(), b.view(), c.view_mut(), false, threads);
    let once = started.elapsed().as_secs_f64().max(1e-7);
    let inner = ((0.02 / once) as usize).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..30 {
        let started = Instant::now();
        for _ in 0..inner {
            matmul(a.view(), b.view(), c.view_mut(), false, threads);
        }
        best = best.min(started.elapsed().as_secs_f64() / inner as f64);
    }
    SgemmResult {
        m,
        k,
        n,
        best_s: best,
        gflops: 2.0 * (m * n * k) as f64 / best / 1e9,
    }
}

/// Peak resident memory of this process so far (VmHWM), in bytes, where /proc tells.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs of the peers' stream, computed by ../shared/bench/torch_mlp.py's
    /// splitmix_u64(1, 3) and splitmix_f32(1, 3) (numpy), pinned here.
    #[test]
    fn splitmix_matches_the_peer_stream() {
        let expected = [
            0x910a_2dec_8902_5cc1u64,
            0xbeeb_8da1_658e_ec67,
            0xf893_a2ee_fb32_555e,
        ];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(splitmix64(1, i as u64 + 1), *e, "output {}", i + 1);
        }
        let floats = uniform_f32(1, 3);
        assert_eq!(
            floats,
            vec![
                0x910a2d as f32 / 16777216.0,
                0xbeeb8d as f32 / 16777216.0,
                0xf893a2 as f32 / 16777216.0
            ]
        );
    }

    #[test]
    fn shuffles_are_permutations_and_chain() {
        let orders = chained_shuffles(100, &[999, 1000]);
        let mut sorted = orders[1].clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(orders[0], orders[1]);
    }
}
