//! Where a derivation holds: the set of z whose activations the loss accepts.

use super::derivation::Form;
use crate::activation::Activation;
use crate::loss::{LossInput, LossKind};

/// Where the cost is defined: the set of z (scalar) or of every zₖ (element-wise, indexed)
/// whose activations the loss accepts; found by scanning z and bisecting the boundaries.
pub(super) fn region(
    activation: Activation,
    loss: LossKind,
    from: LossInput,
    form: Form,
) -> Option<String> {
    if from != LossInput::Probabilities {
        // Logits and values are defined everywhere; log-probabilities enter linearly.
        return None;
    }
    let accepts = |a: f64| match loss {
        LossKind::BinaryCrossEntropy => a > 0.0 && a < 1.0,
        LossKind::CrossEntropy => a > 0.0,
        LossKind::Nll | LossKind::Mse => true,
    };
    if activation.is_row_wise() {
        // Softmax outputs lie in (0, 1); log-softmax outputs are < 0, so no logarithm of them
        // exists and 1 − a > 1.
        return match (activation, loss) {
            (Activation::LogSoftmax, LossKind::CrossEntropy | LossKind::BinaryCrossEntropy) => {
                Some(String::new())
            }
            _ => None,
        };
    }
    let ok = |z: f64| activation.value(z).is_some_and(accepts);
    // ±12: far enough to see every boundary, near enough that tanh and σ do not round to ±1.
    let (low, high, step) = (-12.0, 12.0, 1e-3);
    let mut intervals: Vec<(Option<f64>, Option<f64>)> = Vec::new();
    let mut start: Option<Option<f64>> = None;
    let count = ((high - low) / step) as usize;
    let boundary = |inside: f64, outside: f64| {
        let (mut a, mut b) = (inside, outside);
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            if ok(m) { a = m } else { b = m }
        }
        0.5 * (a + b)
    };
    for n in 0..=count {
        let z = low + step * n as f64;
        match (ok(z), start) {
            (true, None) => {
                start = Some(if n == 0 {
                    None
                } else {
                    Some(boundary(z, z - step))
                })
            }
            (false, Some(s)) => {
                intervals.push((s, Some(boundary(z - step, z))));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        intervals.push((s, None));
    }
    let variable = if form == Form::Scalar {
        "z"
    } else {
        "every zₖ"
    };
    let text = |(lo, hi): (Option<f64>, Option<f64>)| match (lo, hi) {
        (None, None) => None,
        (Some(l), None) => Some(format!("{variable} > {}", round(l))),
        (None, Some(h)) => Some(format!("{variable} < {}", round(h))),
        (Some(l), Some(h)) => Some(format!("{} < {variable} < {}", round(l), round(h))),
    };
    match intervals.as_slice() {
        [] => Some(String::new()),
        [only] => text(*only),
        many => Some(
            many.iter()
                .filter_map(|i| text(*i))
                .collect::<Vec<_>>()
                .join(" or "),
        ),
    }
}

/// A boundary as the derivation prints it: rounded ([`clean`]) and with a true minus sign.
pub(super) fn round(v: f64) -> String {
    number(clean(v))
}

/// Rounds a bisected boundary to 4 decimals (0.5413…, not 0.54132485…) and removes −0.
pub(super) fn clean(v: f64) -> f64 {
    let r = (v * 1e4).round() / 1e4;
    if r == 0.0 { 0.0 } else { r }
}

/// `v` as Rust prints it, with a true minus sign (−).
pub(super) fn number(v: f64) -> String {
    format!("{v}").replace('-', "−")
}
