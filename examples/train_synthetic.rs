//! The shortest useful program: train a small network on a synthetic 2-D set and score it.
//!
//!     cargo run --release --example train_synthetic

use nabla::data::{Synthetic, generate};
use nabla::{NetworkConfig, TrainConfig, evaluate, train};

fn main() -> nabla::Result<()> {
    let data = generate(Synthetic::Moons, 1000, 0.1, 0)?;
    let test = generate(Synthetic::Moons, 300, 0.1, 1)?;
    // Inputs, outputs and a sound head (softmax + cross-entropy, fused) come from the data.
    let mut network = NetworkConfig::for_data(&data).hidden([16, 16]).build(0)?;
    let config = TrainConfig::default().learning_rate(0.01).epochs(30);
    train(&mut network, &data, &config)?;
    let scores = evaluate(&network, &test)?;
    println!("{}", scores.summary("test"));
    Ok(())
}
