//! Loading a saved model and predicting: train and save one first (or use a model saved by
//! `nabla train --save`), then read it back and ask for the class of new, raw rows.
//!
//!     cargo run --release --example predict [-- MODEL.safetensors]

use nabla::data::{Synthetic, generate};
use nabla::metrics::predicted_classes;
use nabla::ndarray::array;
use nabla::prepare::split_dataset;
use nabla::{Model, NetworkConfig, SplitConfig, TrainConfig, train};

fn main() -> nabla::Result<()> {
    let path = match std::env::args().nth(1) {
        Some(path) => path.into(),
        None => {
            // Circles: class 0 on the unit circle, class 1 on the circle of radius ½.
            let data = generate(Synthetic::Circles, 800, 0.05, 0)?;
            let prepared = split_dataset(data, None, &SplitConfig::default(), 0)?;
            let mut network = NetworkConfig::for_data(&prepared.train)
                .hidden([16])
                .build(0)?;
            train(
                &mut network,
                &prepared.train,
                &TrainConfig::default().learning_rate(0.01).epochs(40),
            )?;
            let model = Model::new(network, prepared.normalization, &prepared.train);
            let path = std::env::temp_dir().join("nabla-circles.safetensors");
            nabla::io::save_model(&model, &path)?;
            path
        }
    };
    let model: Model = nabla::io::load_model(&path, None)?;
    // Raw features, as the data had them: the model normalises them itself.
    let rows = array![[1.0f32, 0.0], [0.0, 0.5], [-0.7, -0.7]];
    let probabilities = model.predict(&rows)?;
    for (row, class) in rows
        .rows()
        .into_iter()
        .zip(predicted_classes(probabilities.view()))
    {
        println!("{row} → class {}", model.label_names[class]);
    }
    Ok(())
}
