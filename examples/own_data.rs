//! Training on your own ndarray data: a train/validation/test split, normalisation fitted on
//! the training rows, validation after every epoch, and the model saved for `nabla evaluate`.
//!
//!     cargo run --release --example own_data

use nabla::ndarray::Array2;
use nabla::prepare::split_dataset;
use nabla::{Dataset, Model, NetworkConfig, SplitConfig, TrainConfig, Trainer, evaluate};

fn main() -> nabla::Result<()> {
    // 600 rows, 4 features; the class is which quadrant the first two features fall in.
    let features = Array2::from_shape_fn((600, 4), |(i, j)| {
        ((i * 7919 + j * 104_729) % 1000) as f32 / 100.0 - 5.0
    });
    let classes: Vec<usize> = features
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] > 0.0) + 2 * usize::from(r[1] > 0.0))
        .collect();
    let names = ["south-west", "south-east", "north-west", "north-east"];
    let data = Dataset::classes(features, classes, names.map(String::from).to_vec())?;

    // 20 % test rows, 10 % of the rest for validation, standardised with the training rows.
    let prepared = split_dataset(data, None, &SplitConfig::default(), 0)?;
    let mut network = NetworkConfig::for_data(&prepared.train)
        .hidden([32])
        .build(0)?;
    let config = TrainConfig::default()
        .learning_rate(0.01)
        .epochs(40)
        .patience(5);
    let outcome = Trainer::new(&config)
        .validation_if_any(prepared.validation.as_ref())
        .run(&mut network, &prepared.train)?;
    println!(
        "{} epochs (kept epoch {:?})",
        outcome.history.len(),
        outcome.best_epoch
    );
    let test = prepared.test.as_ref().expect("a test split");
    println!("{}", evaluate(&network, test)?.summary("test"));

    // The model keeps its normalisation and class names: `nabla evaluate` and `nabla predict`
    // read it, and so does nabla::io::load_model.
    let model = Model::new(network, prepared.normalization, &prepared.train);
    let path = std::env::temp_dir().join("nabla-own-data.safetensors");
    nabla::io::save_model(&model, &path)?;
    println!("saved {}", path.display());
    Ok(())
}
