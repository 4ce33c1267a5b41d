//! Training checkpoints: the weights, the optimiser's buffers, the best weights so far and the
//! run's position and history, in one safetensors file, written atomically (temporary file,
//! fsync, rename) so a crash leaves the previous checkpoint or the new one, never half of one.
//!
//! ```text
//! tensors   "0.weight", "0.bias", …            current parameters (PyTorch names)
//!           "optimizer.3.first", ".second"      moment buffers, per tensor slot
//!           "best.0.weight", …                  best weights (early stopping)
//! metadata  "nabla-checkpoint": {"version": 1, "state": …, "optimizer": …, "context": …}
//! ```

use std::collections::HashMap;
use std::path::Path;

use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde_json::{Value, json};

use super::write_atomically;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::network::Network;
use crate::optim::OptimizerState;
use crate::train::{Checkpoint, TrainState};

const KEY: &str = "nabla-checkpoint";

fn bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes a checkpoint (with a caller's `context`, e.g. the run's settings) atomically.
pub fn save_checkpoint(path: &Path, checkpoint: &Checkpoint, context: &Value) -> Result<()> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut layers = |prefix: &str, layers: &[Dense<f32>]| {
        for (l, layer) in layers.iter().enumerate() {
            let (w, b) = Network::<f32>::parameter_names(l);
            let weights: Vec<f32> = layer.weights.iter().copied().collect();
            tensors.push((
                format!("{prefix}{w}"),
                vec![layer.outputs(), layer.inputs()],
                bytes(&weights),
            ));
            tensors.push((
                format!("{prefix}{b}"),
                vec![layer.outputs()],
                bytes(&layer.bias.to_vec()),
            ));
        }
    };
    layers("", &checkpoint.layers);
    if let Some(best) = &checkpoint.best_layers {
        layers("best.", best);
    }
    let mut lengths = Vec::new();
    for (slot, (first, second)) in checkpoint.optimizer.buffers.iter().enumerate() {
        for (name, buffer) in [("first", first), ("second", second)] {
            if !buffer.is_empty() {
                tensors.push((
                    format!("optimizer.{slot}.{name}"),
                    vec![buffer.len()],
                    bytes(buffer),
                ));
            }
        }
        lengths.push([first.len(), second.len()]);
    }
    let header = json!({
        "version": 1,
        "state": checkpoint.state,
        "optimizer": {"steps": checkpoint.optimizer.steps, "learning_rate": checkpoint.optimizer.learning_rate, "lengths": lengths},
        "best": checkpoint.best_layers.is_some(),
        "context": context,
    });
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), data).expect("shape and bytes agree"),
            )
        })
        .collect::<Vec<_>>();
    let metadata = HashMap::from([(KEY.to_string(), header.to_string())]);
    let file = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::data(path, None, format!("cannot serialise the checkpoint: {e}")))?;
    write_atomically(path, &file)
}

/// Reads a checkpoint written by [`save_checkpoint`]; returns it with its context.
pub fn load_checkpoint(path: &Path) -> Result<(Checkpoint, Value)> {
    let file = super::bounded::read_file(path, super::bounded::MAX_FILE_BYTES)?;
    let fail = |location: Option<String>, message: String| Error::data(path, location, message);
    let (_, metadata) = SafeTensors::read_metadata(&file)
        .map_err(|e| fail(None, format!("not a checkpoint: {e}")))?;
    let tensors = SafeTensors::deserialize(&file)
        .map_err(|e| fail(None, format!("not a checkpoint: {e}")))?;
    let header: Value = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(KEY))
        .ok_or_else(|| fail(None, format!("no '{KEY}' metadata: not a nabla checkpoint")))
        .and_then(|text| {
            serde_json::from_str(text).map_err(|e| fail(Some("metadata".into()), e.to_string()))
        })?;
    if header["version"] != 1 {
        return Err(fail(
            Some("metadata".into()),
            format!("unsupported checkpoint version {}", header["version"]),
        ));
    }
    let state: TrainState = serde_json::from_value(header["state"].clone())
        .map_err(|e| fail(Some("state".into()), e.to_string()))?;
    let values = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
        let view = tensors
            .tensor(name)
            .map_err(|_| fail(Some(format!("tensor '{name}'")), "missing".into()))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape {
            return Err(fail(
                Some(format!("tensor '{name}'")),
                format!(
                    "expected F32 {shape:?}, got {:?} {:?}",
                    view.dtype(),
                    view.shape()
                ),
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(fail(
                Some(format!("tensor '{name}'")),
                format!("entry {i} is {}, not a finite number", values[i]),
            ));
        }
        Ok(values)
    };
    let read_layers = |prefix: &str| -> Result<Vec<Dense<f32>>> {
        let mut layers = Vec::new();
        for l in 0.. {
            let (w, b) = Network::<f32>::parameter_names(l);
            let Ok(view) = tensors.tensor(&format!("{prefix}{w}")) else {
                break;
            };
            let shape = view.shape().to_vec();
            if shape.len() != 2 {
                return Err(fail(
                    Some(format!("tensor '{prefix}{w}'")),
                    "expected a matrix".into(),
                ));
            }
            let weights = Array2::from_shape_vec(
                (shape[0], shape[1]),
                values(&format!("{prefix}{w}"), &shape)?,
            )
            .expect("shape checked");
            let bias = Array1::from_vec(values(&format!("{prefix}{b}"), &[shape[0]])?);
            layers.push(Dense { weights, bias });
        }
        Ok(layers)
    };
    let layers = read_layers("")?;
    if layers.is_empty() {
        return Err(fail(None, "the checkpoint holds no layers".into()));
    }
    let best_layers = if header["best"] == true {
        Some(read_layers("best.")?)
    } else {
        None
    };
    let lengths: Vec<[usize; 2]> = serde_json::from_value(header["optimizer"]["lengths"].clone())
        .map_err(|e| fail(Some("optimizer".into()), e.to_string()))?;
    let mut buffers = Vec::with_capacity(lengths.len());
    for (slot, [first, second]) in lengths.into_iter().enumerate() {
        let read = |name: &str, len: usize| {
            if len == 0 {
                Ok(Vec::new())
            } else {
                values(&format!("optimizer.{slot}.{name}"), &[len])
            }
        };
        buffers.push((read("first", first)?, read("second", second)?));
    }
    let optimizer = OptimizerState {
        steps: header["optimizer"]["steps"]
            .as_u64()
            .ok_or_else(|| fail(Some("optimizer".into()), "no step count".into()))?,
        learning_rate: header["optimizer"]["learning_rate"]
            .as_f64()
            .ok_or_else(|| fail(Some("optimizer".into()), "no learning rate".into()))?,
        buffers,
    };
    Ok((
        Checkpoint {
            state,
            layers,
            optimizer,
            best_layers,
        },
        header["context"].clone(),
    ))
}
