//! What the element-wise losses (binary cross-entropy, MSE) share: the target of each output
//! (one-hot for class indices), the check of those indices, the reduction's divisor and the
//! packing of the value.

use ndarray::Array2;

use super::{LossValue, Reduction, Targets};
use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// The target value of example `row`, output `column`, for element-wise losses: the dense
/// value, or the one-hot reading of a class index (the index itself, 0 or 1, for one output).
pub(super) fn elementwise_target<F: Scalar>(
    targets: &Targets<F>,
    row: usize,
    column: usize,
    outputs: usize,
) -> F {
    match targets {
        Targets::Dense(values) => values[[row, column]],
        Targets::Classes(classes) if outputs == 1 => F::of(classes[row] as f64),
        Targets::Classes(classes) => {
            if classes[row] == column as i64 {
                F::one()
            } else {
                F::zero()
            }
        }
    }
}

/// Class-index targets for element-wise losses must be valid one-hot positions (or 0/1 for a
/// single output).
pub(super) fn check_elementwise_classes<F>(targets: &Targets<F>, outputs: usize) -> Result<()> {
    if let Targets::Classes(classes) = targets {
        let limit = outputs.max(2) as i64;
        if let Some((i, c)) = classes
            .iter()
            .enumerate()
            .find(|(_, c)| **c < 0 || **c >= limit)
        {
            let expected = if outputs == 1 {
                "0 or 1 for a single output".to_string()
            } else {
                format!("a class index in 0..{outputs}")
            };
            return Err(Error::invalid(
                format!("target[{i}]"),
                format!("{c} is not {expected}"),
            ));
        }
    }
    Ok(())
}

/// The divisor of the element-wise losses (binary, MSE) for a reduction.
pub(super) fn elementwise_denominator(reduction: Reduction, rows: usize, columns: usize) -> f64 {
    match reduction {
        Reduction::Mean => (rows * columns) as f64,
        Reduction::BatchMean => rows as f64,
        Reduction::Sum | Reduction::None => 1.0,
    }
}

/// Packs per-element losses into the value for `reduction` (already scaled when scalar).
pub(super) fn elementwise_value(
    reduction: Reduction,
    total: f64,
    per_element: Option<Array2<f64>>,
) -> LossValue {
    match (reduction, per_element) {
        (Reduction::None, Some(values)) => LossValue::PerElement(values),
        _ => LossValue::Scalar(total),
    }
}
