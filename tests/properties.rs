//! Property tests: the readers of untrusted input never panic, whatever the bytes, and the
//! losses keep their mathematical invariants at random points.

use std::path::Path;

use nabla::data::{LoadOptions, read_csv, read_idx, read_npy};
use nabla::io::load_model;
use nabla::loss::evaluate_case;
use nabla::model::ModelConfig;
use nabla::{LossConfig, LossInput, LossKind, Targets};
use ndarray::Array2;
use proptest::prelude::*;

fn with_file<T>(bytes: &[u8], read: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, bytes).unwrap();
    read(&path)
}

/// A valid small IDX file: 3 images of 2 × 2 pixels.
fn idx() -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2];
    bytes.extend(0u8..12);
    bytes
}

/// A valid small .npy file: 2 × 3 f32.
fn npy() -> Vec<u8> {
    let mut bytes = nabla::data::npy_header("<f4", false, "(2, 3)");
    bytes.extend(
        [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes()),
    );
    bytes
}

/// A valid model file (trained for 0 steps).
fn model_bytes() -> Vec<u8> {
    use nabla::model::Model;
    use nabla::preprocess::Normalization;
    let config: nabla::NetworkConfig = serde_json::from_str(
        r#"{"inputs": 3, "hidden": [4], "hidden_activation": "relu", "outputs": 2, "output_activation": "softmax", "loss": {"kind": "cross-entropy", "from": "probabilities"}}"#,
    )
    .unwrap();
    let mut model: Model = Model::new(
        nabla::Network::new(config, 1).unwrap(),
        Normalization::None,
        &nabla::Dataset::unlabelled(ndarray::Array2::zeros((1, 3))),
    );
    model.label_names = vec!["a".into(), "b".into()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    nabla::io::save_model(&model, &path).unwrap();
    std::fs::read(path).unwrap()
}

/// Mutations of a valid file: a flipped byte, a truncation, or both.
fn mutate(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    (0..len, any::<u8>(), 0..=len).prop_map(move |(at, value, keep)| {
        let mut bytes = valid.clone();
        bytes[at] ^= value;
        bytes.truncate(keep.max(1));
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn csv_reader_never_panics(text in "[a-z0-9,.\\-\\n\" ]{0,200}") {
        let _ = read_csv(text.as_bytes(), Path::new("t.csv"), &LoadOptions::default());
    }

    #[test]
    fn idx_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), mutated in mutate(idx())) {
        with_file(&bytes, |p| { let _ = read_idx(p); });
        with_file(&mutated, |p| { let _ = read_idx(p); });
    }

    #[test]
    fn npy_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..128), mutated in mutate(npy())) {
        with_file(&bytes, |p| { let _ = read_npy(p); });
        with_file(&mutated, |p| { let _ = read_npy(p); });
    }

    #[test]
    fn model_reader_never_panics(mutated in mutate(model_bytes())) {
        with_file(&mutated, |p| { let _ = load_model::<f32>(p, None); });
    }

    #[test]
    fn config_reader_never_panics(text in "\\{[a-z_\": ,0-9\\[\\]{}.\\-]{0,160}") {
        if let Ok(config) = serde_json::from_str::<ModelConfig>(&text) {
            let _ = config.validate();
        }
    }

    #[test]
    fn loss_contract_never_panics(
        loss in prop::sample::select(vec!["cross-entropy", "binary-cross-entropy", "nll", "mse", "hinge"]),
        from in prop::sample::select(vec!["logits", "probabilities", "log-probabilities", "odds"]),
        activation in prop::sample::select(vec!["", "relu", "softmax", "sigmoid", "log-softmax"]),
        rows in 0usize..4, cols in 0usize..4,
        values in prop::collection::vec(-1e3f64..1e3, 16),
        targets in prop::collection::vec(-2i64..5, 4),
        smoothing in -0.5f64..1.5,
    ) {
        let output: Vec<Vec<f64>> = (0..rows).map(|r| (0..cols).map(|c| values[r * 4 + c]).collect()).collect();
        let activation = if activation.is_empty() { String::new() } else { format!(r#""activation": "{activation}","#) };
        let case = format!(
            r#"{{"loss": "{loss}", "from": "{from}", {activation} "output": {}, "target": {}, "label_smoothing": {smoothing}}}"#,
            serde_json::to_string(&output).unwrap(),
            serde_json::to_string(&targets[..rows.min(4)]).unwrap()
        );
        let _ = evaluate_case(&case);
        let _ = evaluate_case(&case[..case.len() / 2]);
    }

    /// Softmax cross-entropy depends only on differences of the logits.
    #[test]
    fn softmax_cross_entropy_is_shift_invariant(
        logits in prop::collection::vec(-20.0f64..20.0, 12), shift in -50.0f64..50.0, targets in prop::collection::vec(0i64..4, 3),
    ) {
        let z = Array2::from_shape_vec((3, 4), logits).unwrap();
        let shifted = &z + shift;
        let config = LossConfig::new(LossKind::CrossEntropy, LossInput::Logits);
        let (mut g1, mut g2) = (Array2::zeros((3, 4)), Array2::zeros((3, 4)));
        let a = config.evaluate(z.view(), &Targets::Classes(&targets), Some(g1.view_mut())).unwrap().total();
        let b = config.evaluate(shifted.view(), &Targets::Classes(&targets), Some(g2.view_mut())).unwrap().total();
        prop_assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs()));
        prop_assert!(g1.iter().zip(&g2).all(|(x, y)| (x - y).abs() < 1e-12));
    }

    /// ∂C/∂z = (a − y)/n: every row sums to 0 when the targets are one-hot.
    #[test]
    fn softmax_cross_entropy_gradient_rows_sum_to_zero(
        logits in prop::collection::vec(-30.0f64..30.0, 15), targets in prop::collection::vec(0i64..5, 3),
    ) {
        let z = Array2::from_shape_vec((3, 5), logits).unwrap();
        let mut g = Array2::zeros((3, 5));
        LossConfig::new(LossKind::CrossEntropy, LossInput::Logits)
            .evaluate(z.view(), &Targets::Classes(&targets), Some(g.view_mut()))
            .unwrap();
        for row in g.rows() {
            prop_assert!(row.sum().abs() < 1e-12);
        }
    }

    /// Binary cross-entropy from logits: l(x, y) = l(−x, 1 − y), and the gradient flips sign.
    #[test]
    fn binary_cross_entropy_from_logits_is_symmetric(
        logits in prop::collection::vec(-40.0f64..40.0, 6), labels in prop::collection::vec(0.0f64..=1.0, 6),
    ) {
        let x = Array2::from_shape_vec((2, 3), logits).unwrap();
        let y = Array2::from_shape_vec((2, 3), labels).unwrap();
        let config = LossConfig::new(LossKind::BinaryCrossEntropy, LossInput::Logits);
        let (mut g1, mut g2) = (Array2::zeros((2, 3)), Array2::zeros((2, 3)));
        let a = config.evaluate(x.view(), &Targets::Dense(y.view()), Some(g1.view_mut())).unwrap().total();
        let flipped_y = y.mapv(|v| 1.0 - v);
        let b = config.evaluate((-&x).view(), &Targets::Dense(flipped_y.view()), Some(g2.view_mut())).unwrap().total();
        prop_assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs()));
        prop_assert!(g1.iter().zip(&g2).all(|(p, q)| (p + q).abs() < 1e-12));
    }
}
