//! Optimiser and schedule flags.

use nabla::{OptimizerConfig, OptimizerKind, Schedule};

/// Optimiser flags.
#[derive(Debug, Clone, clap::Args)]
pub struct OptimizerArgs {
    /// sgd, adam or adamw.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Learning rate η [default: 0.1 for sgd, 0.001 for adam/adamw].
    #[arg(long)]
    pub lr: Option<f64>,
    /// SGD momentum μ.
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// SGD dampening.
    #[arg(long, default_value_t = 0.0)]
    pub dampening: f64,
    /// SGD Nesterov momentum.
    #[arg(long)]
    pub nesterov: bool,
    /// Weight decay λ (L2 in the gradient for sgd/adam, decoupled for adamw) [default: 0, adamw 0.01].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Nielsen's L2 regularisation λ: weights (not biases) decay by (1 − ηλ/n) per step, n the
    /// number of training rows. Exclusive with --weight-decay.
    #[arg(long, conflicts_with = "weight_decay")]
    pub l2: Option<f64>,
    /// Adam β₁.
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f64,
    /// Adam β₂.
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f64,
    /// Adam ε.
    #[arg(long, default_value_t = 1e-8)]
    pub eps: f64,
    /// Learning-rate schedule: constant | step:STEP_SIZE[:GAMMA] | cosine[:T_MAX[:ETA_MIN]].
    #[arg(long, default_value = "constant")]
    pub schedule: String,
}

impl OptimizerArgs {
    /// The optimiser (Nielsen's λ is applied once the training rows are known) and schedule.
    pub fn config(&self) -> anyhow::Result<(OptimizerConfig, Schedule)> {
        let kind: OptimizerKind = self.optimizer.parse()?;
        let base = OptimizerConfig::default_for(kind);
        let config = OptimizerConfig {
            learning_rate: self.lr.unwrap_or(base.learning_rate),
            momentum: self.momentum,
            dampening: self.dampening,
            nesterov: self.nesterov,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay.unwrap_or(base.weight_decay),
            ..base
        };
        config.validate()?;
        Ok((config, self.schedule.parse()?))
    }
}
