//! The picture of an evaluation, per task: the confusion heat map for classes (and the
//! arg-max of distributions), precision/recall/F1 bars per label for multi-label targets, and
//! predicted against true values for a regression.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::prelude::*;

use super::{colour, confusion_heatmap, render};
use crate::data::{Dataset, Labels};
use crate::error::{Error, Result};
use crate::metrics::{Evaluation, Scores};
use crate::model::Model;

/// Draws the picture of `evaluation` of `model` on `rows` (normalised, as scored).
///
/// # Errors
/// A failed write, or rows without dense targets for a regression.
pub fn evaluation_plot(
    path: &Path,
    model: &Model,
    rows: &Dataset,
    evaluation: &Evaluation,
) -> Result<()> {
    match &evaluation.scores {
        Scores::Classes(c) | Scores::Distribution(c) => {
            confusion_heatmap(path, &c.confusion, &model.label_names)
        }
        Scores::MultiLabel(m) => label_bars(path, &model.label_names, m),
        Scores::Regression(_) => {
            let Labels::Values { values, .. } = &rows.labels else {
                return Err(Error::invalid(
                    "plot",
                    "a regression's rows need their target values",
                ));
            };
            let mut truth = values.clone();
            if let Some(targets) = &model.target_normalization {
                targets.invert(&mut truth);
            }
            let predicted = model.outputs(rows.features.view());
            predicted_against_true(path, &model.label_names, truth.view(), predicted.view())
        }
    }
}

/// Precision, recall and F1 of each label as grouped bars.
fn label_bars(
    path: &Path,
    names: &[String],
    scores: &crate::metrics::MultiLabelScores,
) -> Result<()> {
    let labels = names.len().max(1);
    let width = (200 + 90 * labels as u32).clamp(600, 1600);
    render(path, (width, 500), |area| {
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!("per-label scores (threshold {})", scores.threshold),
                ("sans-serif", 22),
            )
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..labels as f64, 0.0..1.3)?; // headroom for the legend
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels * 2 + 1)
            .x_label_formatter(&|x| {
                let centre = x - 0.5;
                if (centre - centre.round()).abs() < 1e-9 && centre >= 0.0 {
                    names
                        .get(centre.round() as usize)
                        .cloned()
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("score")
            .draw()?;
        for (k, (metric, pick)) in [
            (
                "precision",
                (|m: &crate::metrics::ClassMetrics| m.precision) as fn(&_) -> f64,
            ),
            ("recall", |m| m.recall),
            ("F1", |m| m.f1),
        ]
        .into_iter()
        .enumerate()
        {
            let style = colour(k).filled();
            chart
                .draw_series(scores.per_label.iter().enumerate().map(|(l, m)| {
                    let x = l as f64 + 0.15 + 0.25 * k as f64;
                    Rectangle::new([(x, 0.0), (x + 0.22, pick(m))], style)
                }))?
                .label(metric)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], style));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        Ok(())
    })
}

/// The most targets [`predicted_against_true`] draws a panel for.
pub const MAX_PANELS: usize = 12;

/// Predicted against true values: one panel per target (each on its own scale, the first
/// [`MAX_PANELS`]), points with the line y = x where a perfect model's points would lie.
///
/// # Errors
/// A failed write.
pub fn predicted_against_true(
    path: &Path,
    names: &[String],
    truth: ArrayView2<f32>,
    predicted: ArrayView2<f32>,
) -> Result<()> {
    let targets = truth.ncols().min(MAX_PANELS);
    let columns = targets.clamp(1, 3);
    let rows = targets.div_ceil(columns).max(1);
    let size = (480 * columns as u32, 460 * rows as u32 + 40);
    let caption = if truth.ncols() > MAX_PANELS {
        format!(
            "predicted against true (the first {MAX_PANELS} of {} targets)",
            truth.ncols()
        )
    } else {
        "predicted against true".to_string()
    };
    render(path, size, |area| {
        let area = area.titled(&caption, ("sans-serif", 22))?;
        let panels = area.split_evenly((rows, columns));
        for (k, panel) in panels.iter().enumerate().take(targets) {
            let pairs: Vec<(f64, f64)> = truth
                .column(k)
                .iter()
                .zip(predicted.column(k))
                .map(|(&t, &p)| (f64::from(t), f64::from(p)))
                .collect();
            let (lo, hi) = pairs
                .iter()
                .flat_map(|&(t, p)| [t, p])
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                });
            let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
            let pad = (hi - lo).max(1e-6) * 0.05;
            let limit = f64::from(f32::MAX);
            let (lo, hi) = ((lo - pad).max(-limit), (hi + pad).min(limit));
            let name = names
                .get(k)
                .map_or_else(|| format!("target {k}"), Clone::clone);
            let mut chart = ChartBuilder::on(panel)
                .caption(name, ("sans-serif", 18))
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(lo..hi, lo..hi)?;
            chart
                .configure_mesh()
                .x_desc("true")
                .y_desc("predicted")
                .draw()?;
            chart.draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.mix(0.5)))?;
            let style = colour(k).mix(0.7).filled();
            chart.draw_series(pairs.iter().map(|&at| Circle::new(at, 3, style)))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    /// The width and height in a PNG's header.
    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        assert!(super::super::is_png(path));
        let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        (word(16), word(20))
    }

    #[test]
    fn each_regression_target_gets_its_own_panel() {
        let dir = tempfile::tempdir().unwrap();
        let truth = array![[100.0f32, 0.1], [110.0, 0.5], [120.0, 0.9]];
        let predicted = array![[101.0f32, 0.2], [108.0, 0.4], [121.0, 0.8]];
        let names = ["price".to_string(), "share".to_string()];
        let two = dir.path().join("two.png");
        predicted_against_true(&two, &names, truth.view(), predicted.view()).unwrap();
        assert_eq!(png_size(&two), (960, 500), "two panels side by side");
        let many = Array2::from_shape_fn((3, 20), |(r, c)| (r * c) as f32);
        let capped = dir.path().join("many.png");
        predicted_against_true(&capped, &[], many.view(), many.view()).unwrap();
        assert_eq!(png_size(&capped), (1440, 4 * 460 + 40), "at most 12 panels");
    }

    #[test]
    fn label_bars_widen_with_the_labels() {
        let dir = tempfile::tempdir().unwrap();
        let targets = Array2::from_shape_fn((4, 9), |(r, k)| ((r + k) % 2) as f32);
        let outputs = Array2::from_shape_fn((4, 9), |(r, k)| ((r * k) % 3) as f32 / 2.0);
        let scores = crate::metrics::MultiLabelScores::new(targets.view(), outputs.view(), 0.5);
        let names: Vec<String> = (0..9).map(|k| format!("label {k}")).collect();
        let path = dir.path().join("bars.png");
        label_bars(&path, &names, &scores).unwrap();
        assert_eq!(png_size(&path), (200 + 90 * 9, 500));
    }
}
