//! Models through the library: saved and reloaded models predict bit-identically.

use nabla::data::{Synthetic, generate};
use nabla::io::{load_model, save_model};
use nabla::preprocess::NormalizationKind;
use nabla::{Activation, Model, NetworkConfig, TrainConfig, train};

#[test]
fn a_reloaded_model_predicts_bit_identically() {
    let mut data = generate(Synthetic::Spirals, 300, 0.2, 1).unwrap();
    let normalization = NormalizationKind::Standardize.fit(&data.features).unwrap();
    let raw = data.features.clone().into_owned();
    normalization
        .apply(data.features.to_mut().unwrap())
        .unwrap();
    let mut network = NetworkConfig::for_data(&data)
        .hidden([32, 16])
        .hidden_activation(Activation::Tanh)
        .build(4)
        .unwrap();
    let config = TrainConfig::default()
        .learning_rate(0.01)
        .batch_size(16)
        .epochs(3)
        .seed(2)
        .threads(1);
    train(&mut network, &data, &config).unwrap();
    let model = Model::new(network, normalization, &data);
    let before = model.predict(&raw).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spirals.safetensors");
    save_model(&model, &path).unwrap();
    let loaded: Model = load_model(&path, None).unwrap();
    let after = loaded.predict(&raw).unwrap();
    assert!(
        before
            .iter()
            .zip(&after)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    assert_eq!(loaded.config(), model.config());
}

/// A bf16 model file: every weight the nearest bf16 of the f32 one (ties to even), loaded back
/// as exactly that f32; a weight bf16 cannot hold is refused before anything is written.
#[test]
fn a_bf16_file_holds_each_weight_rounded_to_nearest_even() {
    use nabla::io::{WeightDtype, save_model_as};
    let data = generate(Synthetic::Moons, 200, 0.1, 1).unwrap();
    let network = NetworkConfig::for_data(&data)
        .hidden([64])
        .build(3)
        .unwrap();
    let mut model = Model::new(network, nabla::preprocess::Normalization::None, &data);
    // A tie between two bf16 values: 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷ and rounds to
    // the even one, 1; 1 + 3·2⁻⁸ rounds up to 1 + 2⁻⁶.
    model.network.layers_mut()[0].weights[[0, 0]] = 1.0 + 2f32.powi(-8);
    model.network.layers_mut()[0].weights[[0, 1]] = 1.0 + 3.0 * 2f32.powi(-8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bf16.safetensors");
    save_model_as(&model, &path, WeightDtype::Bf16).unwrap();
    let loaded: Model = load_model(&path, None).unwrap();
    let w = &loaded.network.layers()[0].weights;
    assert_eq!((w[[0, 0]], w[[0, 1]]), (1.0, 1.0 + 2f32.powi(-6)));
    for (a, b) in loaded.network.layers().iter().zip(model.network.layers()) {
        for (x, y) in a
            .weights
            .iter()
            .chain(&a.bias)
            .zip(b.weights.iter().chain(&b.bias))
        {
            assert_eq!(x.to_bits() & 0xFFFF, 0, "a bf16 has no low bits");
            assert!((x - y).abs() <= y.abs() * 2f32.powi(-8));
        }
    }
    // 3.4·10³⁸ is a finite f32 that rounds to ∞ in bf16: refused, the old file kept.
    model.network.layers_mut()[1].bias[0] = 3.4e38;
    let refused = save_model_as(&model, &path, WeightDtype::Bf16).unwrap_err();
    assert!(
        refused.to_string().contains("beyond bf16's range"),
        "{refused}"
    );
    let kept: Model = load_model(&path, None).unwrap();
    assert_eq!(kept.network.layers(), loaded.network.layers());
}
