//! Binary cross-entropy, one independent probability per output (so multi-label too).
//!
//! With per-output weight w, positive weight p_w and target y (smoothed: (1 − ε)y + ε/2):
//!
//! ```text
//! from logits x (PyTorch's BCEWithLogitsLoss), a = σ(x):
//!   l = w·[p_w·y·softplus(−x) + (1 − y)·softplus(x)]       (= −w[p_w y ln a + (1 − y) ln(1 − a)])
//!   ∂l/∂x = w·[a·(p_w y + 1 − y) − p_w y]                  (p_w = 1: w·(a − y))
//!
//! from probabilities a (PyTorch's BCELoss):
//!   l = −w·[p_w·y·max(ln a, −100) + (1 − y)·max(ln(1 − a), −100)]
//!   ∂l/∂a = w·[a·(1 + (p_w − 1)y) − p_w y] / max(a(1 − a), 1e-12)
//! ```
//!
//! softplus(x) = max(x, 0) + ln(1 + e^(−|x|)) is finite for every finite x, so logits of ±1000
//! give exact, finite losses and gradients.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::elementwise::{
    check_elementwise_classes, elementwise_denominator, elementwise_target, elementwise_value,
};
use super::{DENOMINATOR_FLOOR, LOG_CLAMP, LossConfig, LossInput, LossValue, Reduction, Targets};
use crate::activation::{sigmoid, softplus};
use crate::error::Result;
use crate::scalar::Scalar;

pub(super) fn evaluate<F: Scalar>(
    config: &LossConfig,
    output: ArrayView2<F>,
    targets: &Targets<F>,
    mut gradient: Option<ArrayViewMut2<F>>,
) -> Result<LossValue> {
    let (rows, outputs) = output.dim();
    check_elementwise_classes(targets, outputs)?;
    let weight = |k: usize| config.class_weights.as_ref().map_or(1.0, |w| w[k]);
    let positive_weight = |k: usize| {
        config
            .pos_weight
            .as_ref()
            .map_or(1.0, |w| if w.len() == 1 { w[0] } else { w[k] })
    };
    let smoothing = config.label_smoothing;
    let scale = 1.0 / elementwise_denominator(config.reduction, rows, outputs);
    let mut per_element =
        (config.reduction == Reduction::None).then(|| Array2::zeros((rows, outputs)));
    let mut total = 0.0;
    for ((i, k), &x) in output.indexed_iter() {
        let y =
            (1.0 - smoothing) * elementwise_target(targets, i, k, outputs).f64() + smoothing / 2.0;
        let (w, pw) = (weight(k), positive_weight(k));
        let x = x.f64();
        let (loss, slope) = match config.from {
            LossInput::Logits => (
                w * (pw * y * softplus(-x) + (1.0 - y) * softplus(x)),
                w * (sigmoid(x) * (pw * y + 1.0 - y) - pw * y),
            ),
            // `validate` refuses log-probabilities for binary cross-entropy.
            LossInput::Probabilities | LossInput::LogProbabilities => {
                let a = x;
                (
                    -w * (pw * y * a.ln().max(LOG_CLAMP)
                        + (1.0 - y) * (1.0 - a).ln().max(LOG_CLAMP)),
                    w * (a * (1.0 + (pw - 1.0) * y) - pw * y)
                        / (a * (1.0 - a)).max(DENOMINATOR_FLOOR),
                )
            }
        };
        total += loss;
        if let Some(values) = per_element.as_mut() {
            values[[i, k]] = loss;
        }
        if let Some(gradient) = gradient.as_mut() {
            gradient[[i, k]] = F::of(slope * scale);
        }
    }
    Ok(elementwise_value(
        config.reduction,
        total * scale,
        per_element,
    ))
}
