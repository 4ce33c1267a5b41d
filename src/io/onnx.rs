//! ONNX export: a model as a standard ONNX graph (IR 8, opset 13) that any ONNX runtime runs on
//! raw features and that gives nabla's own outputs.
//!
//! ```text
//! features ─► [Sub mean, Div std | Div K | Sub min, Mul 1/(max − min)]   the normalisation
//!          ─► Gemm(W₁, b₁, transB = 1) ─► Relu | Sigmoid | Tanh | …       each hidden layer
//!          ─► Gemm(W_L, b_L, transB = 1) ─► Softmax | Sigmoid | …         the head's outputs
//!          ─► probabilities
//! ```
//!
//! The messages are the subset of `onnx.proto` nabla writes, declared for `prost` with the
//! schema's field numbers; the encoding is the protobuf crate's, not hand-assembled bytes.

use std::path::Path;

use prost::Message;

use super::write_atomically;
use crate::activation::Activation;
use crate::error::Result;
use crate::model::Model;
use crate::network::Network;
use crate::preprocess::Normalization;

/// The opset the graph targets.
pub const OPSET: i64 = 13;
/// The IR version written (opset 13 needs IR ≥ 7).
pub const IR_VERSION: i64 = 8;

const FLOAT: i32 = 1;
const ATTRIBUTE_FLOAT: i32 = 1;
const ATTRIBUTE_INT: i32 = 2;

/// `onnx.ModelProto`.
#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    /// IR version.
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// Producer.
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// Producer version.
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// The graph.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Operator sets.
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

/// `onnx.OperatorSetIdProto`.
#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    /// "" for the default domain.
    #[prost(string, tag = "1")]
    pub domain: String,
    /// Opset version.
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// `onnx.GraphProto`.
#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    /// Nodes, in topological order.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// Graph name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Constant tensors (weights).
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Graph inputs.
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// Graph outputs.
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

/// `onnx.NodeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    /// Input value names.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Output value names.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// Node name.
    #[prost(string, tag = "3")]
    pub name: String,
    /// Operator.
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// Attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// `onnx.AttributeProto` (float and int attributes).
#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// A float value.
    #[prost(float, tag = "2")]
    pub f: f32,
    /// An int value.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// Which of the values is set (1 FLOAT, 2 INT).
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// `onnx.TensorProto` (float data).
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    /// Shape.
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// Element type (1 = FLOAT).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// Values, row-major.
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// Name.
    #[prost(string, tag = "8")]
    pub name: String,
}

/// `onnx.ValueInfoProto`.
#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

/// `onnx.TypeProto` (tensor types only).
#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    /// The tensor type.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

/// `onnx.TypeProto.Tensor`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
    /// Element type.
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// Shape.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// `onnx.TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    /// Dimensions.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// `onnx.TensorShapeProto.Dimension`: a size or a symbolic name.
#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    /// A fixed size.
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    /// A symbolic size ("batch").
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

fn value_info(name: &str, width: usize) -> ValueInfoProto {
    let dims = vec![
        Dimension {
            dim_value: None,
            dim_param: Some("batch".into()),
        },
        Dimension {
            dim_value: Some(width as i64),
            dim_param: None,
        },
    ];
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto { dim: dims }),
            }),
        }),
    }
}

fn tensor(name: &str, dims: &[usize], values: Vec<f32>) -> TensorProto {
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: FLOAT,
        float_data: values,
        name: name.into(),
    }
}

/// Builds the graph in order, naming intermediate values uniquely.
struct Builder {
    graph: GraphProto,
    counter: usize,
}

impl Builder {
    fn constant(&mut self, name: &str, dims: &[usize], values: Vec<f32>) -> String {
        self.graph.initializer.push(tensor(name, dims, values));
        name.to_string()
    }

    fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
        output: Option<&str>,
    ) -> String {
        self.counter += 1;
        let output = output.map_or_else(
            || format!("{}_{}", op.to_lowercase(), self.counter),
            str::to_string,
        );
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.clone()],
            name: format!("{op}_{}", self.counter),
            op_type: op.into(),
            attribute: attributes,
        });
        output
    }

    /// σ applied to `input`; returns the output value's name.
    fn activation(&mut self, activation: Activation, input: &str, output: Option<&str>) -> String {
        let int = |name: &str, i: i64| AttributeProto {
            name: name.into(),
            f: 0.0,
            i,
            r#type: ATTRIBUTE_INT,
        };
        match activation {
            Activation::Identity => self.node("Identity", &[input], vec![], output),
            Activation::Relu => self.node("Relu", &[input], vec![], output),
            Activation::LeakyRelu { slope } => self.node(
                "LeakyRelu",
                &[input],
                vec![AttributeProto {
                    name: "alpha".into(),
                    f: slope as f32,
                    i: 0,
                    r#type: ATTRIBUTE_FLOAT,
                }],
                output,
            ),
            Activation::Sigmoid => self.node("Sigmoid", &[input], vec![], output),
            Activation::Tanh => self.node("Tanh", &[input], vec![], output),
            Activation::Softplus => self.node("Softplus", &[input], vec![], output),
            Activation::Softmax => self.node("Softmax", &[input], vec![int("axis", -1)], output),
            Activation::LogSoftmax => {
                self.node("LogSoftmax", &[input], vec![int("axis", -1)], output)
            }
            Activation::Gelu => {
                // gelu(x) = x · ½ · (1 + erf(x/√2)); the Gelu operator only exists from opset 20.
                let root = self.constant(
                    &format!("sqrt2_{}", self.counter),
                    &[],
                    vec![std::f32::consts::SQRT_2],
                );
                let one = self.constant(&format!("one_{}", self.counter), &[], vec![1.0]);
                let half = self.constant(&format!("half_{}", self.counter), &[], vec![0.5]);
                let scaled = self.node("Div", &[input, &root], vec![], None);
                let erf = self.node("Erf", &[&scaled], vec![], None);
                let shifted = self.node("Add", &[&erf, &one], vec![], None);
                let product = self.node("Mul", &[input, &shifted], vec![], None);
                self.node("Mul", &[&product, &half], vec![], output)
            }
        }
    }
}

/// The name of the graph's output: "probabilities" (classes, multi-label, distributions), or
/// "values" for a regression.
pub fn output_name(model: &Model) -> &'static str {
    if model.task == crate::data::Task::Regression {
        "values"
    } else {
        "probabilities"
    }
}

/// The ONNX model of `model`: input "features" (batch × inputs, raw), output "probabilities"
/// (batch × outputs, what `nabla predict` prints; "values" for a regression).
pub fn onnx_model(model: &Model) -> ModelProto {
    let mut b = Builder {
        graph: GraphProto {
            name: "nabla".into(),
            ..Default::default()
        },
        counter: 0,
    };
    let config = model.network.config();
    b.graph.input.push(value_info("features", config.inputs));
    let width = config.inputs;
    let mut current = "features".to_string();
    match &model.normalization {
        Normalization::None => {}
        Normalization::Scale { factor } => {
            let k = b.constant("scale", &[], vec![*factor]);
            current = b.node("Div", &[&current, &k], vec![], None);
        }
        Normalization::Standardize { mean, std } => {
            let m = b.constant("mean", &[width], mean.clone());
            let s = b.constant("std", &[width], std.clone());
            let centred = b.node("Sub", &[&current, &m], vec![], None);
            current = b.node("Div", &[&centred, &s], vec![], None);
        }
        Normalization::MinMax { min, max } => {
            let low = b.constant("min", &[width], min.clone());
            let inverse: Vec<f32> = min
                .iter()
                .zip(max)
                .map(|(lo, hi)| if hi > lo { 1.0 / (hi - lo) } else { 0.0 })
                .collect();
            let inv = b.constant("inverse_span", &[width], inverse);
            let shifted = b.node("Sub", &[&current, &low], vec![], None);
            current = b.node("Mul", &[&shifted, &inv], vec![], None);
        }
    }
    let last = model.network.layers().len() - 1;
    for (l, layer) in model.network.layers().iter().enumerate() {
        let (weight_name, bias_name) = Network::<f32>::parameter_names(l);
        let w = b.constant(
            &weight_name,
            &[layer.outputs(), layer.inputs()],
            layer.weights.iter().copied().collect(),
        );
        let bias = b.constant(&bias_name, &[layer.outputs()], layer.bias.to_vec());
        let trans_b = AttributeProto {
            name: "transB".into(),
            f: 0.0,
            i: 1,
            r#type: ATTRIBUTE_INT,
        };
        let z = b.node("Gemm", &[&current, &w, &bias], vec![trans_b], None);
        current = if l == last {
            match &model.target_normalization {
                // A regression trained on standardised targets: outputs · σ + μ.
                Some(Normalization::Standardize { mean, std }) => {
                    let width = layer.outputs();
                    let out = b.activation(model.network.head().output_activation(), &z, None);
                    let s = b.constant("target_std", &[width], std.clone());
                    let m = b.constant("target_mean", &[width], mean.clone());
                    let scaled = b.node("Mul", &[&out, &s], vec![], None);
                    b.node("Add", &[&scaled, &m], vec![], Some(output_name(model)))
                }
                _ => b.activation(
                    model.network.head().output_activation(),
                    &z,
                    Some(output_name(model)),
                ),
            }
        } else {
            b.activation(config.hidden_activation, &z, None)
        };
    }
    b.graph
        .output
        .push(value_info(output_name(model), config.outputs));
    ModelProto {
        ir_version: IR_VERSION,
        producer_name: "nabla".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(b.graph),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
    }
}

/// Writes `model` as ONNX to `path`, atomically.
pub fn export_onnx(model: &Model, path: &Path) -> Result<()> {
    write_atomically(path, &onnx_model(model).encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::{LossConfig, LossInput, LossKind};
    use crate::network::NetworkConfig;

    #[test]
    fn the_graph_chains_normalisation_layers_and_the_head() {
        let config = NetworkConfig {
            inputs: 3,
            hidden: vec![4],
            hidden_activation: Activation::Gelu,
            outputs: 2,
            output_activation: Activation::Identity,
            loss: LossConfig::new(LossKind::CrossEntropy, LossInput::Logits),
            init: crate::init::Init::Auto,
            allow_unsafe: false,
        };
        let model = Model {
            network: Network::new(config, 1).unwrap(),
            normalization: Normalization::Scale { factor: 255.0 },
            target_normalization: None,
            task: crate::data::Task::Classes,
            label_names: vec!["a".into(), "b".into()],
            feature_names: Vec::new(),
            training: None,
            fill: None,
        };
        let proto = onnx_model(&model);
        let graph = proto.graph.as_ref().unwrap();
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            [
                "Div", "Gemm", "Div", "Erf", "Add", "Mul", "Mul", "Gemm", "Softmax"
            ]
        );
        assert_eq!(
            graph.node.last().unwrap().output,
            vec!["probabilities".to_string()]
        );
        let bytes = proto.encode_to_vec();
        assert_eq!(ModelProto::decode(bytes.as_slice()).unwrap(), proto);
    }
}
