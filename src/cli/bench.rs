//! `nabla bench`: the speed workload of DESIGN.md §6, the peer of ../shared/bench/torch_mlp.py.

use std::io::Write;
use std::process::ExitCode;

use nabla::workflow::bench::{
    BenchResult, INPUTS, TEST_ROWS, TRAIN_ROWS, peak_memory_bytes, run, sgemm, workload,
};
use serde_json::json;

/// Flags of `nabla bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Models to run: A (784-128-10), B (784-512-512-10), comma-separated.
    #[arg(long, default_value = "A,B")]
    pub model: String,
    /// Batch sizes, comma-separated.
    #[arg(long, default_value = "32,128,512")]
    pub batch: String,
    /// Threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Print one JSON object (the PyTorch script's field names) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Training rows (60000 is the workload; fewer for a quick look).
    #[arg(long, default_value_t = TRAIN_ROWS)]
    pub samples: usize,
    /// Timed epochs.
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Precision of the matrix products: f32, or bf16 (bf16 operands, f32 sums).
    #[arg(long, default_value = "f32")]
    pub precision: String,
}

fn list(text: &str, flag: &str) -> anyhow::Result<Vec<String>> {
    let items: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    anyhow::ensure!(!items.is_empty(), "{flag} lists nothing");
    Ok(items)
}

pub fn run_bench(
    args: BenchArgs,
    allocations: &(dyn Fn() -> u64 + Sync),
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.threads > 0, "--threads must be at least 1");
    anyhow::ensure!(
        args.samples > 0 && args.epochs > 0,
        "--samples and --epochs must be at least 1"
    );
    let precision: nabla::Precision = args.precision.parse()?;
    let models = list(&args.model, "--model")?;
    let batches: Vec<usize> = list(&args.batch, "--batch")?
        .iter()
        .map(|b| {
            b.parse::<usize>()
                .ok()
                .filter(|b| *b > 0)
                .ok_or_else(|| anyhow::anyhow!("--batch: '{b}' is not a whole number > 0"))
        })
        .collect::<anyhow::Result<_>>()?;
    for m in &models {
        nabla::workflow::bench::model(m)?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()?;
    let started = std::time::Instant::now();
    let work = workload(args.samples, args.epochs);
    let data_seconds = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    if !args.json {
        let choice = nabla::kernels::kernel_choice(precision);
        writeln!(out, "cpu: {}", nabla::kernels::cpu().summary())?;
        writeln!(
            out,
            "data generated in {data_seconds:.2} s; {} threads; {precision} products; kernel {} ({})",
            args.threads, choice.name, choice.reason
        )?;
        writeln!(
            out,
            "{:<18} {:>5} {:>9} {:>11} {:>8} {:>8} {:>12} {:>10} {:>8}",
            "model",
            "batch",
            "epoch s",
            "samples/s",
            "GFLOP/s",
            "exec",
            "infer/s",
            "last loss",
            "alloc/step"
        )?;
    }
    let mut results: Vec<BenchResult> = Vec::new();
    for m in &models {
        for &batch in &batches {
            let result =
                pool.install(|| run(&work, m, batch, args.threads, precision, Some(allocations)))?;
            if !args.json {
                writeln!(
                    out,
                    "{:<18} {:>5} {:>9.3} {:>11.0} {:>8.1} {:>8.1} {:>12.0} {:>10.4} {:>8.2}",
                    result.model,
                    result.batch,
                    result.median_epoch_s,
                    result.samples_per_s,
                    result.gflops_6w,
                    result.gflops_executed_mm,
                    result.infer_samples_per_s,
                    result.last_batch_loss.last().copied().unwrap_or(f64::NAN),
                    result.allocations_per_step.unwrap_or(f64::NAN)
                )?;
            }
            results.push(result);
        }
    }
    let shapes = [(128, 784, 512), (512, 784, 512), (1024, 1024, 1024)];
    let gemm: Vec<_> = shapes
        .iter()
        .map(|&(m, k, n)| pool.install(|| sgemm(m, k, n, args.threads, precision)))
        .collect();
    let peak = gemm[1].gflops;
    let widest = results
        .iter()
        .map(|r| r.weights + r.biases)
        .max()
        .unwrap_or(0);
    // Data (train + test features and labels) + parameters, gradients and momentum of the largest model.
    let data_bytes = (args.samples + TEST_ROWS) * (INPUTS * 4 + 8);
    let budget = data_bytes + 3 * 4 * widest;
    let peak_memory = peak_memory_bytes();
    if args.json {
        let body = json!({
            "library": "nabla",
            "version": env!("CARGO_PKG_VERSION"),
            "threads": args.threads,
            "precision": precision.to_string(),
            "cpu": nabla::kernels::cpu(),
            "kernel": nabla::kernels::kernel_choice(precision),
            "train_rows": args.samples,
            "epochs_timed": args.epochs,
            "results": results,
            "sgemm": gemm,
            "sgemm_peak_gflops": peak,
            "peak_rss_bytes": peak_memory,
            "data_params_state_bytes": budget,
            "peak_rss_ratio": peak_memory.map(|p| p as f64 / budget as f64),
        });
        writeln!(out, "{body:#}")?;
    } else {
        for g in &gemm {
            writeln!(
                out,
                "sgemm {}×{} · {}×{}: {:.1} GFLOP/s",
                g.m, g.k, g.k, g.n, g.gflops
            )?;
        }
        for r in &results {
            writeln!(
                out,
                "{} batch {}: epoch at {:.0}% of the sgemm peak (executed FLOPs)",
                r.model,
                r.batch,
                100.0 * r.gflops_executed_mm / peak
            )?;
        }
        if let Some(p) = peak_memory {
            writeln!(
                out,
                "peak memory {:.1} MB = {:.2} × data + parameters + optimiser state ({:.1} MB)",
                p as f64 / 1e6,
                p as f64 / budget as f64,
                budget as f64 / 1e6
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
