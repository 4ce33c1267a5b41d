//! Structure-aware checkpoints: the input decides the layers' shapes and values (NaN
//! included), an early-stopping copy of maybe other shapes, optimiser buffers and the saved
//! state; the checkpoint is written, one byte maybe flipped, read back, and resumed into a
//! small network. Errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nabla::data::{Synthetic, generate};
use nabla::ndarray::{Array1, Array2};
use nabla::optim::OptimizerState;
use nabla::train::{Checkpoint, TrainState};
use nabla::{Dense, NetworkConfig, TrainConfig, Trainer};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn value(&mut self) -> f32 {
        match self.byte() {
            0 => f32::NAN,
            1 => f32::INFINITY,
            b => (f32::from(b) - 128.0) / 64.0,
        }
    }
    fn layers(&mut self, widths: &[usize]) -> Vec<Dense<f32>> {
        widths
            .windows(2)
            .map(|w| Dense {
                weights: Array2::from_shape_simple_fn((w[1], w[0]), || self.value()),
                bias: Array1::from_shape_simple_fn(w[1], || self.value()),
            })
            .collect()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    // The network the checkpoint is resumed into: 2 → h → 2.
    let hidden = 1 + usize::from(input.byte() % 4);
    let own = [2, hidden, 2];
    let saved: Vec<usize> = if input.byte() % 4 == 0 {
        vec![2, 1 + usize::from(input.byte() % 4), 2]
    } else {
        own.to_vec()
    };
    let layers = input.layers(&saved);
    let best_layers = match input.byte() % 3 {
        0 => None,
        1 => Some(input.layers(&own)),
        _ => {
            let width = 1 + usize::from(input.byte() % 5);
            Some(input.layers(&[2, width, 2]))
        }
    };
    let tensors = 2 * (saved.len() - 1);
    let buffers = (0..tensors)
        .map(|_| {
            let len = usize::from(input.byte() % 8);
            (
                (0..len).map(|_| input.value()).collect(),
                (0..len).map(|_| input.value()).collect(),
            )
        })
        .collect();
    let checkpoint = Checkpoint {
        state: TrainState {
            epoch: usize::from(input.byte() % 4),
            step: usize::from(input.byte()),
            global_step: u64::from(input.byte()),
            epoch_loss_total: f64::from(input.value()),
            epoch_correct: usize::from(input.byte()),
            history: Vec::new(),
            best: None,
            shuffle_window: (input.byte() % 2 == 1).then(|| usize::from(input.byte()) * 512),
        },
        layers,
        optimizer: OptimizerState {
            steps: u64::from(input.byte()),
            learning_rate: f64::from(input.value()),
            buffers,
        },
        best_layers,
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("fuzz.ckpt");
    if nabla::io::save_checkpoint(&path, &checkpoint, &serde_json::json!({})).is_err() {
        return;
    }
    let flip = usize::from(input.byte()) * 7 + usize::from(input.byte());
    let mut bytes = std::fs::read(&path).expect("written");
    if flip < bytes.len() && input.byte() % 2 == 0 {
        bytes[flip] ^= input.byte() | 1;
        std::fs::write(&path, &bytes).expect("writable");
    }
    let Ok((loaded, _)) = nabla::io::load_checkpoint(&path) else {
        return;
    };
    let data = generate(Synthetic::Xor, 16, 0.1, 0).expect("a small set");
    let Ok(mut network) = NetworkConfig::for_data(&data).hidden([hidden]).build(0) else {
        return;
    };
    let config = TrainConfig::default().epochs(4).batch_size(4).threads(1);
    let _ = Trainer::new(&config)
        .resume(Some(loaded))
        .run(&mut network, &data);
});
