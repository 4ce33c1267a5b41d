//! What to do about a pairing: use it, fix it, or know its cost.

use super::derivation::Step;
use super::question::Question;
use crate::activation::Activation;
use crate::head::IncompatibleHead;
use crate::loss::{LossConfig, LossKind};

pub(super) fn advice(
    question: &Question,
    compatible: bool,
    config: &LossConfig,
    steps: &[Step],
) -> String {
    let (activation, loss) = (question.activation, question.loss);
    let name = activation.display_name();
    let fused = crate::head::fused_loss(activation, loss, config.from).is_some();
    if fused {
        let leaves = if activation == Activation::LogSoftmax {
            "softmax(z) − y (written e^aᵢ − yᵢ, since aᵢ = ln softmax(z)ᵢ)".to_string()
        } else {
            let result = steps.last().map(|s| s.expr.text()).unwrap_or_default();
            format!("a − y (the result {result})")
        };
        return format!(
            "This pairing is a probability model: {name} outputs lie in {}, which is what {} \
             needs. The activation's derivative cancels the loss's denominators and leaves \
             {leaves}: nothing to divide by, nothing undefined. nabla fuses the two and \
             computes them from the logits (softplus / log-sum-exp), so even logits of ±1000 \
             give exact gradients. Use it.",
            activation.range(),
            loss.display_name()
        );
    }
    if question.reads_logits() && compatible {
        let squash = if loss == LossKind::BinaryCrossEntropy {
            "sigmoid"
        } else {
            "softmax"
        };
        if activation == Activation::Identity {
            return format!(
                "This pairing is a probability model: the loss applies {squash} to the raw \
                 scores itself, in log space, so any real logits give probabilities, and the \
                 gradient is p − y with p the loss's own {squash} of z: nothing to divide by, \
                 nothing undefined. It is PyTorch's nn.Linear + {}, and the same model as a \
                 {squash} output with {} on probabilities. Use it.",
                if loss == LossKind::BinaryCrossEntropy {
                    "nn.BCEWithLogitsLoss"
                } else {
                    "nn.CrossEntropyLoss"
                },
                loss.display_name()
            );
        }
        return format!(
            "Allowed: the loss applies {squash} to the logits itself, so any real logits make \
             probabilities; but a {name} output restricts the logits to {} and its slope \
             multiplies the gradient p − y. The usual head is an identity output (raw scores), \
             as PyTorch's nn.Linear + nn.CrossEntropyLoss.",
            activation.range()
        );
    }
    if !compatible {
        let why = IncompatibleHead::new(activation, config);
        return format!(
            "Not a probability model: {name} outputs range over {}. Fix: {}",
            why.range, why.fix
        );
    }
    match (activation, loss) {
        (Activation::Sigmoid | Activation::Tanh, LossKind::Mse) => format!(
            "Allowed, but slow to learn: the result keeps the factor {}′(z) ({}), which is \
             near 0 when the unit saturates. A confidently wrong output (a near 1 while y = 0) \
             gets almost no gradient. Cross-entropy cancels that factor: sigmoid + binary \
             cross-entropy gives (a − y)·xⱼ, largest exactly when the output is most wrong.",
            activation.symbol().0,
            if activation == Activation::Sigmoid {
                "a(1 − a) ≤ ¼"
            } else {
                "1 − a² ≤ 1"
            }
        ),
        (_, LossKind::Mse) => format!(
            "Allowed: mean squared error is defined for any output value, so {name} may feed \
             it. It compares numbers, not probability distributions; for classification use \
             softmax + cross-entropy (exclusive classes) or sigmoid + binary cross-entropy \
             (independent yes/no labels), whose gradient is a − y."
        ),
        (Activation::Softmax, LossKind::BinaryCrossEntropy) => "Allowed (softmax outputs lie in \
             (0, 1)), but unusual: binary cross-entropy treats each output as an independent \
             yes/no probability while softmax makes the outputs compete. For exclusive classes \
             use softmax + cross-entropy (gradient aᵢ − yᵢ); for multi-label use sigmoid + binary \
             cross-entropy."
            .to_string(),
        _ => format!(
            "Allowed: {name} outputs lie in {}, inside what {} needs.",
            activation.range(),
            loss.display_name()
        ),
    }
}
