//! # nabla
//!
//! Feed-forward networks trained with cross-entropy losses whose gradients are correct by
//! construction, verified against finite differences and PyTorch, and explained.
//!
//! ## The math in brief
//!
//! A dense layer maps a mini-batch X (batch × inputs) to Z = X·Wᵀ + b, then A = σ(Z). For one
//! output unit with binary cross-entropy over n examples:
//!
//! ```text
//! C = −(1/n) Σₓ [ y ln a + (1−y) ln(1−a) ],   a = σ(z),   z = Σⱼ wⱼxⱼ + b
//! ∂C/∂wⱼ = −(1/n) Σₓ [ y/a − (1−y)/(1−a) ] σ′(z) xⱼ
//! ```
//!
//! With a sigmoid output σ′ = a(1−a) cancels the denominators: ∂C/∂wⱼ = (1/n) Σₓ (a − y) xⱼ.
//! Softmax with categorical cross-entropy gives the same ∂C/∂zₖ = aₖ − yₖ. A ReLU output
//! ranges over [0, ∞): ln a is undefined at a = 0 and ln(1−a) for a ≥ 1, so it is not a
//! probability model, and nabla refuses the pairing ([`head`]), deriving the refusal from the
//! activation's declared range ([`range`]).
//!
//! ## Map
//!
//! - [`activation`]: σ, σ′ and the range of each activation.
//! - [`loss`]: cross-entropy (logits, probabilities, log-probabilities), binary cross-entropy,
//!   NLL and MSE, with PyTorch's options and semantics.
//! - [`head`]: output activation + loss, checked by range and fused in logit space.
//! - [`layer`], [`network`]: dense layers and the network's forward and backward passes.
//! - [`kernels`]: matrix products and helpers, each with a slow reference twin.
//! - [`init`], [`optim`], [`schedule`]: initialisation, optimisers, learning-rate schedules.
//! - [`gradcheck`]: central finite differences in f64.
//! - [`explain`], [`diagnose`]: machine-checked derivations; known mistakes, explained.
//! - [`data`], [`preprocess`]: data sets, loaders, downloads, splits; normalisation.
//! - [`train`], [`metrics`], [`model`], [`io`], [`plot`]: the training loop with checkpoints,
//!   evaluation, saved models (safetensors, ONNX), pictures.

#![warn(missing_docs)]

pub mod activation;
pub mod data;
pub mod diagnose;
pub mod error;
pub mod explain;
pub mod format;
pub mod gradcheck;
pub mod head;
pub mod init;
pub mod io;
pub mod kernels;
pub mod layer;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod network;
pub mod optim;
pub mod plane;
#[cfg(feature = "plot")]
pub mod plot;
pub mod prepare;
pub mod preprocess;
pub mod range;
pub mod scalar;
pub mod schedule;
#[cfg(feature = "serve")]
pub mod serve;
pub mod train;
pub mod workflow;

pub use activation::Activation;
pub use data::{Dataset, Labels, Task};
pub use error::{Error, Result};
pub use head::{Head, HeadPath, IncompatibleHead, Pairing};
pub use init::Init;
pub use kernels::Precision;
pub use layer::{Dense, DenseGradients};
pub use loss::{LossConfig, LossInput, LossKind, LossValue, Reduction, Targets};
pub use metrics::{Evaluation, evaluate};
pub use model::Model;
pub use ndarray;
pub use network::{Gradients, Network, NetworkBuilder, NetworkConfig, Workspace};
pub use optim::{Optimizer, OptimizerConfig, OptimizerKind};
pub use prepare::{DataSource, Prepared, SplitConfig, prepare};
pub use range::{Bound, Interval, OutputRange};
pub use scalar::Scalar;
pub use schedule::Schedule;
pub use train::{TrainConfig, Trainer, train};
