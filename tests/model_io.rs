//! Models through the library: saved and reloaded models predict bit-identically.

use nabla::data::{Synthetic, generate};
use nabla::io::{load_model, save_model};
use nabla::model::Model;
use nabla::preprocess::NormalizationKind;
use nabla::train::{Silent, TrainConfig, train};
use nabla::{
    Activation, Init, LossConfig, LossInput, LossKind, Network, NetworkConfig, OptimizerConfig,
    OptimizerKind, Schedule,
};

#[test]
fn a_reloaded_model_predicts_bit_identically() {
    let mut data = generate(Synthetic::Spirals, 300, 0.2, 1);
    let normalization = NormalizationKind::Standardize.fit(&data.features);
    let raw = data.features.clone();
    normalization.apply(&mut data.features).unwrap();
    let mut network = Network::<f32>::new(
        NetworkConfig {
            inputs: 2,
            hidden: vec![32, 16],
            hidden_activation: Activation::Tanh,
            outputs: 3,
            output_activation: Activation::Softmax,
            loss: LossConfig::new(LossKind::CrossEntropy, LossInput::Probabilities),
            init: Init::Auto,
            allow_unsafe: false,
        },
        4,
    )
    .unwrap();
    let config = TrainConfig {
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
        schedule: Schedule::Constant,
        batch_size: 16,
        epochs: 3,
        seed: 2,
        threads: 1,
        patience: None,
        clip_grad_norm: None,
        check_every: nabla::train::DEFAULT_CHECK_EVERY,
        checkpoint_every: None,
        stop_on_faults: true,
    };
    train(&mut network, &data, None, &config, &mut Silent).unwrap();
    let model = Model {
        network,
        normalization,
        label_names: data.label_names.clone(),
    };
    let before = model.predict(&raw).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spirals.safetensors");
    save_model(&model, &path).unwrap();
    let loaded = load_model(&path, None).unwrap();
    let after = loaded.predict(&raw).unwrap();
    assert!(
        before
            .iter()
            .zip(&after)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    assert_eq!(loaded.config(), model.config());
}
