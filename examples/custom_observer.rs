//! Training step by step with your own observer: log each epoch your way, stop when your rule
//! says so (here: once validation accuracy reaches 95 %), and keep the state to resume from.
//!
//!     cargo run --release --example custom_observer

use nabla::data::{DataSpec, LoadOptions, load};
use nabla::prepare::split_dataset;
use nabla::train::{Checkpoint, EpochReport, Observer};
use nabla::{NetworkConfig, SplitConfig, TrainConfig, Trainer};

/// Prints a compact line per epoch and asks to stop at a target accuracy.
struct Until {
    target: f64,
    reached: bool,
    checkpoint: Option<Checkpoint>,
}

impl Observer for Until {
    fn epoch_finished(&mut self, report: &EpochReport) {
        let accuracy = report.validation_accuracy.unwrap_or(0.0);
        println!(
            "epoch {:>2}: loss {:.3}, validation accuracy {accuracy:.3}",
            report.epoch, report.train_loss
        );
        self.reached = accuracy >= self.target;
    }

    fn stop_requested(&mut self) -> bool {
        self.reached
    }

    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> nabla::Result<()> {
        // Written when the run stops; `Trainer::resume` continues from it.
        self.checkpoint = Some(checkpoint.clone());
        Ok(())
    }
}

fn main() -> nabla::Result<()> {
    let digits = load(&DataSpec::Digits, &LoadOptions::default())?.train;
    let prepared = split_dataset(digits, None, &SplitConfig::default(), 0)?;
    let mut network = NetworkConfig::for_data(&prepared.train)
        .hidden([64])
        .build(0)?;
    let mut observer = Until {
        target: 0.95,
        reached: false,
        checkpoint: None,
    };
    let config = TrainConfig::default().epochs(100);
    let outcome = Trainer::new(&config)
        .validation_if_any(prepared.validation.as_ref())
        .observer(&mut observer)
        .run(&mut network, &prepared.train)?;
    println!(
        "stopped after {} epochs (asked to stop: {}); a checkpoint to resume from: {}",
        outcome.history.len(),
        outcome.interrupted,
        observer.checkpoint.is_some()
    );
    Ok(())
}
