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
    normalization.apply(data.features.to_mut()).unwrap();
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
