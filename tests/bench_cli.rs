//! `nabla bench` runs the workload and reports with the PyTorch script's field names.

mod common;

use common::{nabla, stderr, stdout};

#[test]
fn bench_reports_the_peer_fields_and_allocates_nothing_per_step() {
    let out = nabla()
        .args([
            "bench",
            "--model",
            "A",
            "--batch",
            "64",
            "--samples",
            "3000",
            "--epochs",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let r = &v["results"][0];
    assert!(r["model"].as_str().unwrap().starts_with('A'));
    assert_eq!(r["batch"], 64);
    for key in [
        "samples_per_s",
        "median_epoch_s",
        "gflops_6W",
        "gflops_executed_mm",
        "infer_samples_per_s",
        "test_acc",
    ] {
        assert!(r[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {r}");
    }
    assert_eq!(r["epoch_s"].as_array().unwrap().len(), 2);
    assert_eq!(
        r["allocations_per_step"].as_f64(),
        Some(0.0),
        "a training step allocated"
    );
    assert!(v["sgemm"][1]["gflops"].as_f64().unwrap() > 1.0);
    assert_eq!(
        (
            v["sgemm"][1]["m"].as_u64(),
            v["sgemm"][1]["k"].as_u64(),
            v["sgemm"][1]["n"].as_u64()
        ),
        (Some(512), Some(784), Some(512))
    );
}
