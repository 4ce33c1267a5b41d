//! Mean squared error, the quadratic cost that cross-entropy is contrasted with.
//!
//! ```text
//! l = (a − y)²        ∂l/∂a = 2(a − y)
//! ```
//!
//! Behind a sigmoid output the chain rule multiplies this by σ′(z) = a(1 − a), which is near 0
//! when the unit saturates: the slow learning that cross-entropy's a − y does not have.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::elementwise::{
    check_elementwise_classes, elementwise_denominator, elementwise_target, elementwise_value,
};
use super::{LossConfig, LossValue, Reduction, Targets};
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
    let scale = 1.0 / elementwise_denominator(config.reduction, rows, outputs);
    let mut per_element =
        (config.reduction == Reduction::None).then(|| Array2::zeros((rows, outputs)));
    let mut total = 0.0;
    for ((i, k), &a) in output.indexed_iter() {
        let difference = a.f64() - elementwise_target(targets, i, k, outputs).f64();
        let loss = difference * difference;
        total += loss;
        if let Some(values) = per_element.as_mut() {
            values[[i, k]] = loss;
        }
        if let Some(gradient) = gradient.as_mut() {
            gradient[[i, k]] = F::of(2.0 * difference * scale);
        }
    }
    Ok(elementwise_value(
        config.reduction,
        total * scale,
        per_element,
    ))
}
