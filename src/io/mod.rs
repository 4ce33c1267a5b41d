//! Files the library writes and reads back: models (safetensors weights with a JSON config),
//! training checkpoints, and the atomic-write primitive every writer goes through.

mod atomic;
mod checkpoint;
mod model_file;
pub mod onnx;

pub use atomic::{remove_stale_temporaries, write_atomically};
pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use model_file::{CONFIG_METADATA_KEY, load_model, save_model};
pub use onnx::export_onnx;
