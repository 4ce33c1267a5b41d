//! `nabla explain --plot`: Cₓ and ∂Cₓ/∂z against z for y = 0 and y = 1, the chosen output beside
//! the sound one, with the stretches where a curve is undefined shaded and labelled.

use std::path::Path;

use plotters::prelude::*;

use super::{colour, render};
use crate::error::Result;
use crate::explain::curves::{CostCurves, CurvePanel, Z_RANGE};

/// The value range drawn (steeper values leave the frame): costs from −2, since a cost can go
/// negative where an output exceeds 1, slopes around 0.
fn value_range(panel: &CurvePanel) -> (f64, f64) {
    if panel.cost { (-2.0, 6.0) } else { (-3.0, 3.0) }
}

/// Draws `curves` (see [`crate::explain::curves::cost_curves`]) as a 2 × 2 PNG.
///
/// # Errors
/// A failed write.
pub fn cost_curves_plot(path: &Path, curves: &CostCurves) -> Result<()> {
    render(path, (1100, 820), |area| {
        let panels = area.split_evenly((2, 2));
        // Row 1: the costs; row 2: the slopes. Column 1: the chosen head; column 2: the sound one.
        let order = [0, 2, 1, 3];
        for (cell, &index) in panels.iter().zip(&order) {
            let Some(panel) = curves.panels.get(index) else {
                continue;
            };
            let (low, high) = value_range(panel);
            let mut chart = ChartBuilder::on(cell)
                .caption(&panel.title, ("sans-serif", 17))
                .margin(12)
                .x_label_area_size(35)
                .y_label_area_size(45)
                .build_cartesian_2d(Z_RANGE.0..Z_RANGE.1, low..high)?;
            chart
                .configure_mesh()
                .x_desc("z")
                .y_desc(if panel.cost { "Cₓ" } else { "∂Cₓ/∂z" })
                .draw()?;
            for (n, (from, to, label)) in panel.undefined.iter().enumerate() {
                let k = usize::from(label != "y = 0");
                let (from, to) = if from == to {
                    (from - 0.01, to + 0.01)
                } else {
                    (*from, *to)
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(from, low), (to, high)],
                    colour(k).mix(0.15).filled(),
                )))?;
                let y = low + (high - low) * (0.06 + 0.07 * n as f64);
                chart.draw_series(std::iter::once(Text::new(
                    format!("undefined for {label}"),
                    ((from + to) / 2.0 - 1.0, y),
                    ("sans-serif", 13).into_font().color(&colour(k)),
                )))?;
            }
            for (k, curve) in panel.curves.iter().enumerate() {
                // Break the line where the value is undefined or leaves the frame.
                let mut segment: Vec<(f64, f64)> = Vec::new();
                let mut segments = Vec::new();
                for &(z, v) in &curve.points {
                    if v.is_finite() && v >= low - 1.0 && v <= high + 1.0 {
                        segment.push((z, v.clamp(low, high)));
                    } else if !segment.is_empty() {
                        segments.push(std::mem::take(&mut segment));
                    }
                }
                segments.push(segment);
                let style = colour(k).stroke_width(2);
                for (s, points) in segments.into_iter().enumerate() {
                    let series = chart.draw_series(LineSeries::new(points, style))?;
                    if s == 0 {
                        series.label(curve.label.as_str()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 16, y)], style)
                        });
                    }
                }
            }
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE.mix(0.9))
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::explain::{Question, curves::cost_curves};
    use crate::loss::LossKind;

    #[test]
    fn the_picture_has_four_panels_and_shades_the_undefined() {
        let curves = cost_curves(&Question::new(
            Activation::Relu,
            LossKind::BinaryCrossEntropy,
        ));
        assert_eq!(curves.panels.len(), 4);
        assert!(
            curves.panels[0].title.contains("ReLU") && curves.panels[2].title.contains("(sound)")
        );
        assert!(!curves.panels[0].undefined.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relu.png");
        cost_curves_plot(&path, &curves).unwrap();
        assert!(super::super::is_png(&path));
    }
}
