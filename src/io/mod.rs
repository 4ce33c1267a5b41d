//! Files the library writes and reads back: models (safetensors weights with a JSON config),
//! training checkpoints, per-epoch metrics, and what every writer goes through: atomic writes
//! through unpredictable temporaries, the output guard, bounded reads.

mod atomic;
pub mod bounded;
mod checkpoint;
mod metrics_log;
mod model_file;
#[cfg(feature = "onnx")]
mod onnx;
mod output_guard;

pub use atomic::{
    OutputTarget, output_target, persist_atomically, persist_pair, remove_stale_temporaries,
    replaceable, temporary_beside, write_atomically,
};
pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use metrics_log::MetricsLog;
pub use model_file::{
    CONFIG_METADATA_KEY, WeightDtype, load_model, model_from_bytes, model_to_bytes,
    model_to_bytes_as, save_model, save_model_as,
};
#[cfg(feature = "onnx")]
pub use onnx::export_onnx;
pub use output_guard::{check_output, check_outputs};
