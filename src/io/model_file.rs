//! Models on disk: weights in safetensors under PyTorch `nn.Sequential` names ("0.weight" as
//! outputs × inputs, "0.bias", "2.weight", …, f32 little-endian, or bf16 for a half-size file:
//! [`WeightDtype`]), and the [`ModelConfig`] as JSON in the safetensors metadata under the key
//! `nabla`.
//!
//! A file without that metadata (saved by PyTorch's `safetensors.torch.save_file`) loads when a
//! config JSON is given. Every check names the file and tensor: missing or unexpected tensors,
//! wrong shapes, wrong dtypes, truncated files and headers larger than the file.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::bounded::{MAX_FILE_BYTES, read_file, read_text};
use super::write_atomically;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::model::{Model, ModelConfig};
use crate::network::Network;
use crate::scalar::Scalar;

/// The safetensors metadata key holding the model config JSON.
pub const CONFIG_METADATA_KEY: &str = "nabla";

/// How a model file stores its weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightDtype {
    /// The model's own precision: F32 for `Model<f32>` (what training makes), F64 for
    /// `Model<f64>`.
    #[default]
    Native,
    /// bfloat16, each weight rounded to the nearest bf16 (ties to even: the top 16 bits of its
    /// f32, |relative error| ≤ 2⁻⁸): half the size of an f32 file. It loads back as f32 (each
    /// bf16 is exactly an f32), and PyTorch's `safetensors.torch.load_file` reads it as
    /// `torch.bfloat16`.
    Bf16,
}

impl std::str::FromStr for WeightDtype {
    type Err = Error;

    /// "f32" (the model's precision, which training's is) or "bf16".
    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(WeightDtype::Native),
            "bf16" | "bfloat16" => Ok(WeightDtype::Bf16),
            _ => Err(Error::invalid(
                "save dtype",
                format!("'{text}' is not one of f32, bf16"),
            )),
        }
    }
}

/// Saves the model atomically, its weights in the model's precision (F32 for `Model<f32>`, F64
/// for `Model<f64>`). The file is checked to load back before it replaces anything.
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::io::{load_model, save_model};
/// use nabla::preprocess::Normalization;
/// use nabla::{Model, NetworkConfig};
///
/// let data = generate(Synthetic::Xor, 100, 0.1, 0)?;
/// let network = NetworkConfig::for_data(&data).hidden([4]).build(0)?;
/// let model = Model::new(network.cast::<f64>(), Normalization::None, &data);
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("xor.safetensors");
/// save_model(&model, &path)?;
/// let back = load_model::<f64>(&path, None)?;
/// assert_eq!(back.network.layers(), model.network.layers());
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn save_model<F: Scalar>(model: &Model<F>, path: &Path) -> Result<()> {
    save_model_as(model, path, WeightDtype::Native)
}

/// [`save_model`] with the weights stored as `dtype`.
///
/// ```
/// use nabla::data::{Synthetic, generate};
/// use nabla::io::{WeightDtype, load_model, save_model, save_model_as};
/// use nabla::preprocess::Normalization;
/// use nabla::{Model, NetworkConfig};
///
/// let data = generate(Synthetic::Moons, 100, 0.1, 0)?;
/// let model = Model::new(NetworkConfig::for_data(&data).hidden([256]).build(0)?, Normalization::None, &data);
/// let dir = tempfile::tempdir().unwrap();
/// let (full, half) = (dir.path().join("f32.safetensors"), dir.path().join("bf16.safetensors"));
/// save_model(&model, &full)?;
/// save_model_as(&model, &half, WeightDtype::Bf16)?;
/// let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len() as f64;
/// assert!(size(&half) < 0.75 * size(&full));
/// let back = load_model::<f32>(&half, None)?;
/// let w = back.network.layers()[0].weights[[0, 0]];
/// assert!((w - model.network.layers()[0].weights[[0, 0]]).abs() <= w.abs() / 256.0);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn save_model_as<F: Scalar>(model: &Model<F>, path: &Path, dtype: WeightDtype) -> Result<()> {
    write_atomically(path, &model_to_bytes_as(model, path, dtype)?)
}

/// The bytes [`save_model`] writes (for pickling, or a model kept in memory); `path` only
/// names the model in error messages.
///
/// # Errors
/// A model nabla's loader would refuse (NaN/∞ weights, an invalid config).
pub fn model_to_bytes<F: Scalar>(model: &Model<F>, path: &Path) -> Result<Vec<u8>> {
    model_to_bytes_as(model, path, WeightDtype::Native)
}

/// [`model_to_bytes`] with the weights stored as `dtype`.
///
/// # Errors
/// As [`model_to_bytes`], and a weight whose bf16 rounding is ∞ (|w| above 3.39·10³⁸).
pub fn model_to_bytes_as<F: Scalar>(
    model: &Model<F>,
    path: &Path,
    dtype: WeightDtype,
) -> Result<Vec<u8>> {
    let config = model.config();
    config.validate().map_err(|e| {
        Error::data(
            path,
            None,
            format!("not saved: the model would not load back: {e}"),
        )
    })?;
    if let Some((l, _)) = model
        .network
        .layers()
        .iter()
        .enumerate()
        .find(|(_, layer)| {
            !layer
                .weights
                .iter()
                .chain(&layer.bias)
                .all(|v| v.is_finite())
        })
    {
        return Err(Error::data(
            path,
            None,
            format!("not saved: layer {l} holds NaN or ∞, and nabla refuses to load such a model"),
        ));
    }
    let config = serde_json::to_string(&config).expect("a model config always serialises");
    let stored = match dtype {
        WeightDtype::Native => dtype_of::<F>(),
        WeightDtype::Bf16 => Dtype::BF16,
    };
    // The values' bytes in the stored dtype; `None` when one rounds to ∞ in bf16 (the values
    // are finite, checked above).
    let bytes = |values: &mut dyn Iterator<Item = &F>| -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for v in values {
            match stored {
                Dtype::BF16 => {
                    let bits = crate::kernels::bf16_bits(v.f64() as f32);
                    if bits & 0x7FFF == 0x7F80 {
                        return None;
                    }
                    out.extend(bits.to_le_bytes());
                }
                Dtype::F32 => out.extend((v.f64() as f32).to_le_bytes()),
                _ => out.extend(v.f64().to_le_bytes()),
            }
        }
        Some(out)
    };
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (l, layer) in model.network.layers().iter().enumerate() {
        let (weight_name, bias_name) = Network::<F>::parameter_names(l);
        let (Some(weights), Some(bias)) = (
            bytes(&mut layer.weights.iter()),
            bytes(&mut layer.bias.iter()),
        ) else {
            return Err(Error::data(
                path,
                None,
                format!(
                    "not saved as bf16: layer {l} holds a weight beyond bf16's range \
                     (3.39·10³⁸), which would round to ∞; save it as f32"
                ),
            ));
        };
        buffers.push((weight_name, vec![layer.outputs(), layer.inputs()], weights));
        buffers.push((bias_name, vec![layer.outputs()], bias));
    }
    let views = buffers
        .iter()
        .map(|(name, shape, data)| {
            let view = TensorView::new(stored, shape.clone(), data).expect("shape and bytes agree");
            (name.clone(), view)
        })
        .collect::<Vec<_>>();
    // One key only: safetensors writes metadata from a HashMap, so a second key would make
    // the byte layout (and so the file) depend on hash order.
    let metadata = HashMap::from([(CONFIG_METADATA_KEY.to_string(), config)]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::data(path, None, format!("cannot serialise the weights: {e}")))
}

/// The safetensors dtype of `F`.
fn dtype_of<F: Scalar>() -> Dtype {
    if F::NAME == "f64" {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// Loads a model in precision `F` (F32 and F64 weights are both read); the config comes from
/// the file's metadata, or from `config_path` (which takes precedence when given).
pub fn load_model<F: Scalar>(path: &Path, config_path: Option<&Path>) -> Result<Model<F>> {
    let bytes = read_file(path, MAX_FILE_BYTES)?;
    model_from_bytes(&bytes, path, config_path)
}

/// A model from the bytes of a model file (see [`load_model`]); `path` names it in error
/// messages.
///
/// # Errors
/// As [`load_model`].
pub fn model_from_bytes<F: Scalar>(
    bytes: &[u8],
    path: &Path,
    config_path: Option<&Path>,
) -> Result<Model<F>> {
    let fail = |location: Option<String>, message: String| Error::data(path, location, message);
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| fail(None, format!("not a valid safetensors file: {e}")))?;
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| fail(None, format!("not a valid safetensors file: {e}")))?;
    let config: ModelConfig = match config_path {
        Some(config_path) => {
            let text = read_text(config_path, MAX_FILE_BYTES)?;
            // A full model config, or only the architecture (weights saved by other tools).
            match serde_json::from_str::<ModelConfig>(&text) {
                Ok(config) => config,
                Err(full) => match serde_json::from_str::<crate::network::NetworkConfig>(&text) {
                    Ok(network) => ModelConfig {
                        format: crate::model::MODEL_FORMAT.into(),
                        version: crate::model::MODEL_VERSION,
                        network,
                        normalization: crate::preprocess::Normalization::None,
                        target_normalization: None,
                        label_names: Vec::new(),
                        task: crate::data::Task::Classes,
                        feature_names: Vec::new(),
                        training: None,
                        fill: None,
                    },
                    Err(_) => {
                        return Err(Error::data(
                            config_path,
                            Some(format!("line {}", full.line())),
                            format!("not a valid model or network config: {full}"),
                        ));
                    }
                },
            }
        }
        None => {
            let json = metadata
                .metadata()
                .as_ref()
                .and_then(|m| m.get(CONFIG_METADATA_KEY))
                .ok_or_else(|| {
                    fail(
                        None,
                        format!("no '{CONFIG_METADATA_KEY}' config in the metadata (weights saved by another tool): give the architecture with --config FILE.json"),
                    )
                })?;
            serde_json::from_str(json).map_err(|e| {
                fail(
                    Some("metadata".into()),
                    format!("the model config is not valid: {e}"),
                )
            })?
        }
    };
    config
        .validate()
        .map_err(|e| fail(Some("config".into()), e.to_string()))?;
    let widths = config.network.widths();
    let mut expected_names = Vec::new();
    let mut layers = Vec::new();
    for (l, w) in widths.windows(2).enumerate() {
        let (weight_name, bias_name) = Network::<F>::parameter_names(l);
        let weights = read_tensor::<F>(&tensors, path, &weight_name, &[w[1], w[0]])?;
        let bias = read_tensor::<F>(&tensors, path, &bias_name, &[w[1]])?;
        layers.push(Dense {
            weights: Array2::from_shape_vec((w[1], w[0]), weights).expect("shape checked"),
            bias: Array1::from_vec(bias),
        });
        expected_names.extend([weight_name, bias_name]);
    }
    if let Some(extra) = tensors
        .names()
        .into_iter()
        .find(|n| !expected_names.iter().any(|e| e == n))
    {
        return Err(fail(
            Some(format!("tensor '{extra}'")),
            format!(
                "unexpected tensor for the configured architecture (expected {})",
                expected_names.join(", ")
            ),
        ));
    }
    Model::from_parts(config, layers).map_err(|e| fail(None, e.to_string()))
}

/// A tensor's values in `F`, checked for presence, shape, dtype and finiteness.
fn read_tensor<F: Scalar>(
    tensors: &SafeTensors,
    path: &Path,
    name: &str,
    shape: &[usize],
) -> Result<Vec<F>> {
    let location = Some(format!("tensor '{name}'"));
    let view = tensors.tensor(name).map_err(|_| {
        Error::data(
            path,
            location.clone(),
            format!("missing (expected shape {shape:?})"),
        )
    })?;
    if view.shape() != shape {
        return Err(Error::data(
            path,
            location,
            format!(
                "shape {:?} does not fit the architecture, which needs {shape:?}",
                view.shape()
            ),
        ));
    }
    let values: Vec<f64> = match view.dtype() {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect(),
        Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        // Each bf16 is the top half of an f32.
        Dtype::BF16 => view
            .data()
            .chunks_exact(2)
            .map(|c| {
                let bits = u16::from_le_bytes(c.try_into().expect("2 bytes"));
                f64::from(f32::from_bits(u32::from(bits) << 16))
            })
            .collect(),
        other => {
            return Err(Error::data(
                path,
                location,
                format!("dtype {other:?} is not supported (expected F32, F64 or BF16)"),
            ));
        }
    };
    let values: Vec<F> = values.into_iter().map(F::of).collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::data(
            path,
            location,
            format!("entry {i} is {}, not a finite number", values[i]),
        ));
    }
    Ok(values)
}
