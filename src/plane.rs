//! A grid over the plane of two features, where the decision-boundary picture and the
//! playground ask a model for its classes: the range the rows span on each axis, padded by a
//! tenth, and the centres of n × n cells over it.

use ndarray::Array2;

/// The range of `values`, padded by a tenth of its span (at least 1e-3) on each side, in f64
/// and inside f32's range: near ±3.4e38 the span of the data overflows f32, and an infinite
/// axis never finishes drawing. (−1, 1) when there are no values.
pub fn padded_range(values: impl Iterator<Item = f32>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(f64::from(v)), b.max(f64::from(v)))
    });
    if lo > hi {
        return (-1.0, 1.0);
    }
    let pad = (hi - lo).max(1e-3) * 0.1;
    let limit = f64::from(f32::MAX);
    ((lo - pad).max(-limit), (hi + pad).min(limit))
}

/// The centres of an n × n grid over x × y: cell i·n + j is column j (along x) of row i (along
/// y, from the bottom), at (x₀ + (j + ½)·(x₁ − x₀)/n, y₀ + (i + ½)·(y₁ − y₀)/n).
pub fn grid_centres(x: (f64, f64), y: (f64, f64), n: usize) -> Array2<f32> {
    Array2::from_shape_fn((n * n, 2), |(cell, axis)| {
        let (i, j) = (cell / n, cell % n);
        let (range, k) = if axis == 0 { (x, j) } else { (y, i) };
        (range.0 + (range.1 - range.0) * (k as f64 + 0.5) / n as f64) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_stay_inside_f32() {
        assert_eq!(padded_range([0.0f32, 10.0].into_iter()), (-1.0, 11.0));
        assert_eq!(padded_range(std::iter::empty()), (-1.0, 1.0));
        let huge = padded_range([-f32::MAX, f32::MAX].into_iter());
        assert_eq!(huge, (-f64::from(f32::MAX), f64::from(f32::MAX)));
    }

    #[test]
    fn cells_run_along_x_then_up_y() {
        let grid = grid_centres((0.0, 2.0), (10.0, 14.0), 2);
        assert_eq!(
            grid,
            ndarray::array![[0.5, 11.0], [1.5, 11.0], [0.5, 13.0], [1.5, 13.0]]
        );
    }
}
