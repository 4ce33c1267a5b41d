//! The [`HeadPath::Clipped`](super::HeadPath::Clipped) path: a refused pairing computed anyway, the way Keras computes
//! it, for experiments that show what goes wrong.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use super::{Head, UNSAFE_EPSILON};
use crate::error::Result;
use crate::loss::{LossInput, LossKind, LossValue, Targets};
use crate::scalar::Scalar;

impl Head {
    /// The [`HeadPath::Clipped`](super::HeadPath::Clipped) loss: normalise (categorical), clip, raw formula; and its
    /// gradient back through the clip (0 where clipped), the normalisation and σ.
    pub(super) fn evaluate_clipped<F: Scalar>(
        &self,
        pre_activations: ArrayView2<F>,
        targets: &Targets<F>,
        activations: ArrayViewMut2<F>,
        delta: Option<ArrayViewMut2<F>>,
    ) -> Result<LossValue> {
        let categorical = self.loss.kind == LossKind::CrossEntropy;
        let log_probabilities = self.loss.from == LossInput::LogProbabilities;
        let sums: Vec<F> = activations
            .rows()
            .into_iter()
            .map(|row| if categorical { row.sum() } else { F::one() })
            .collect();
        // This path is an experiment, not the hot path: it allocates its buffers.
        let mut normalised = activations.to_owned();
        for (mut row, &sum) in normalised.rows_mut().into_iter().zip(&sums) {
            row.mapv_inplace(|v| v / sum);
        }
        let (low, high) = if log_probabilities {
            (F::neg_infinity(), F::zero())
        } else {
            (F::of(UNSAFE_EPSILON), F::one() - F::of(UNSAFE_EPSILON))
        };
        // NaN compares false and stays NaN, as it does in Keras.
        let clipped = normalised.mapv(|p| {
            if p < low {
                low
            } else if p > high {
                high
            } else {
                p
            }
        });
        if clipped.iter().any(|p| !p.is_finite()) {
            if let Some(mut delta) = delta {
                delta.fill(F::nan());
            }
            return Ok(LossValue::Scalar(f64::NAN));
        }
        let mut delta = match delta {
            Some(delta) => delta,
            None => return self.evaluated.evaluate(clipped.view(), targets, None),
        };
        let value = self
            .evaluated
            .evaluate(clipped.view(), targets, Some(delta.view_mut()))?;
        Zip::from(&mut delta).and(&normalised).for_each(|g, &p| {
            if !(p > low && p < high) {
                *g = F::zero();
            }
        });
        if categorical {
            // p = a/S: ∂C/∂aₘ = (gₘ − Σₖ gₖ pₖ)/S.
            for ((mut g, p), &sum) in delta
                .rows_mut()
                .into_iter()
                .zip(normalised.rows())
                .zip(&sums)
            {
                let dot = g.dot(&p);
                g.mapv_inplace(|v| (v - dot) / sum);
            }
        }
        self.activation
            .backward_in_place(pre_activations, activations.view(), delta);
        Ok(value)
    }
}
