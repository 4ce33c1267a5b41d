//! The learner's question through the library: is a ReLU output with binary cross-entropy a
//! probability model? The pairing table says no and why; the derivation shows where ∂C/∂w
//! breaks, every step machine-checked.
//!
//!     cargo run --release --example explain

use nabla::explain::{Format, check, derive, render};
use nabla::{Activation, LossInput, LossKind, NetworkConfig, Pairing};

fn main() {
    let pairing = Pairing::of(
        Activation::Relu,
        LossKind::BinaryCrossEntropy,
        LossInput::Probabilities,
    );
    println!("ReLU + binary cross-entropy: {pairing:?}\n");

    // Building such a network is refused with the reason and the fix.
    let refused = NetworkConfig::for_classes(2, 2)
        .output(Activation::Relu)
        .loss(LossKind::BinaryCrossEntropy)
        .config();
    println!("{}\n", refused.unwrap_err());

    let derivation = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
    let report = check(&derivation, 1000, 1);
    println!("{}", render(&derivation, &report, Format::Text));
}
