//! Pictures as PNG: learning curves, decision boundaries of 2-D data, confusion heat maps.
//!
//! Drawing happens in memory (plotters' bitmap backend, the DejaVu Sans font compiled in so
//! no system fonts are needed); the PNG is then written atomically.

use std::path::Path;
use std::sync::Once;

use image::ImageEncoder;
use ndarray::{Array2, s};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::io::write_atomically;
use crate::metrics::predicted_classes;
use crate::model::Model;
use crate::train::EpochReport;

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static REGISTER_FONT: Once = Once::new();

/// Class colours (a colour-blind-safe palette, repeated past ten classes).
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(90, 90, 90),
    RGBColor(150, 75, 200),
    RGBColor(160, 110, 60),
];

fn colour(class: usize) -> RGBColor {
    PALETTE[class % PALETTE.len()]
}

/// Renders `draw` into a width × height RGB picture and writes it to `path` as PNG.
fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(
        DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>>,
) -> Result<()> {
    REGISTER_FONT.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the compiled-in DejaVu Sans font is valid"));
    });
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| plot_error(path, &e))?;
        draw(area.clone()).map_err(|e| plot_error(path, e.as_ref()))?;
        area.present().map_err(|e| plot_error(path, &e))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, width, height, image::ColorType::Rgb8)
        .map_err(|e| plot_error(path, &e))?;
    write_atomically(path, &png)
}

fn plot_error(path: &Path, error: &dyn std::fmt::Display) -> Error {
    Error::data(path, None, format!("cannot draw the picture: {error}"))
}

/// Training and validation loss (left) and validation accuracy (right) per epoch.
pub fn learning_curves(path: &Path, history: &[EpochReport]) -> Result<()> {
    render(path, (1200, 500), |area| {
        let (left, right) = area.split_horizontally(600);
        let epochs = history.len().max(1) as f64;
        let losses = history
            .iter()
            .flat_map(|r| [Some(r.train_loss), r.validation_loss])
            .flatten()
            .filter(|v| v.is_finite());
        let max_loss = losses.fold(0.0f64, f64::max).max(1e-6) * 1.05;
        let mut chart = ChartBuilder::on(&left)
            .caption("loss", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(1.0..epochs.max(2.0), 0.0..max_loss)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|r| (r.epoch as f64, r.train_loss)),
                colour(0).stroke_width(2),
            ))?
            .label("train")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], colour(0).stroke_width(2)));
        if history.iter().any(|r| r.validation_loss.is_some()) {
            chart
                .draw_series(LineSeries::new(
                    history
                        .iter()
                        .filter_map(|r| Some((r.epoch as f64, r.validation_loss?))),
                    colour(1).stroke_width(2),
                ))?
                .label("validation")
                .legend(|(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour(1).stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;

        let accuracies: Vec<(f64, f64)> = history
            .iter()
            .filter_map(|r| Some((r.epoch as f64, r.validation_accuracy?)))
            .collect();
        let low = accuracies.iter().map(|a| a.1).fold(1.0f64, f64::min);
        let mut chart = ChartBuilder::on(&right)
            .caption("validation accuracy", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(1.0..epochs.max(2.0), (low - 0.02).max(0.0)..1.0)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy")
            .draw()?;
        chart.draw_series(LineSeries::new(accuracies, colour(2).stroke_width(2)))?;
        Ok(())
    })
}

/// The classes a 2-feature model predicts over the plane, with the data points on top.
pub fn decision_boundary(path: &Path, model: &Model, data: &Dataset) -> Result<()> {
    if data.feature_count() != 2 {
        return Err(Error::invalid(
            "plot",
            "a decision boundary needs data with exactly 2 features",
        ));
    }
    let (x, y) = (data.features.column(0), data.features.column(1));
    // In f64, and kept inside f32's range: near ±3.4e38 the span of the data overflows f32,
    // and an infinite axis would never finish drawing.
    let range = |v: ndarray::ArrayView1<f32>| {
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &p| {
                (a.min(f64::from(p)), b.max(f64::from(p)))
            });
        let pad = (hi - lo).max(1e-3) * 0.1;
        let limit = f64::from(f32::MAX);
        ((lo - pad).max(-limit), (hi + pad).min(limit))
    };
    let ((x0, x1), (y0, y1)) = (range(x), range(y));
    let grid = 200usize;
    let mut points = Array2::<f32>::zeros((grid * grid, 2));
    for i in 0..grid {
        for j in 0..grid {
            points[[i * grid + j, 0]] = (x0 + (x1 - x0) * (j as f64 + 0.5) / grid as f64) as f32;
            points[[i * grid + j, 1]] = (y0 + (y1 - y0) * (i as f64 + 0.5) / grid as f64) as f32;
        }
    }
    let classes = predicted_classes(model.predict(&points)?.view());
    render(path, (700, 700), |area| {
        let mut chart = ChartBuilder::on(&area)
            .caption("decision boundary", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x₁")
            .y_desc("x₂")
            .draw()?;
        let (dx, dy) = ((x1 - x0) / grid as f64, (y1 - y0) / grid as f64);
        chart.draw_series(points.rows().into_iter().zip(&classes).map(|(p, &c)| {
            let (px, py) = (f64::from(p[0]) - dx / 2.0, f64::from(p[1]) - dy / 2.0);
            Rectangle::new([(px, py), (px + dx, py + dy)], colour(c).mix(0.3).filled())
        }))?;
        let truth = data.labels.strata();
        chart.draw_series(
            data.features
                .slice(s![.., ..])
                .rows()
                .into_iter()
                .zip(&truth)
                .map(|(p, &c)| {
                    Circle::new((f64::from(p[0]), f64::from(p[1])), 3, colour(c).filled())
                }),
        )?;
        Ok(())
    })
}

/// A heat map of `confusion[true][predicted]`, with the counts written in the cells.
pub fn confusion_heatmap(path: &Path, confusion: &Array2<usize>, names: &[String]) -> Result<()> {
    let classes = confusion.nrows();
    let peak = confusion.iter().copied().max().unwrap_or(1).max(1) as f64;
    let side = (80 + 50 * classes as u32).clamp(400, 1400);
    render(path, (side + 60, side), |area| {
        let mut chart = ChartBuilder::on(&area)
            .caption("confusion matrix", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (0..classes - 1).into_segmented(),
                (0..classes - 1).into_segmented(),
            )?;
        // Rows are drawn top-down: true class t sits at y = classes − 1 − t.
        let name = |value: &SegmentValue<usize>, flip: bool| match value {
            SegmentValue::CenterOf(c) | SegmentValue::Exact(c) => {
                let index = if flip {
                    classes.checked_sub(1 + c)
                } else {
                    Some(*c)
                };
                index
                    .and_then(|i| names.get(i))
                    .cloned()
                    .unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .x_labels(classes)
            .y_labels(classes)
            .x_label_formatter(&|v| name(v, false))
            .y_label_formatter(&|v| name(v, true))
            .draw()?;
        let cell = |c: usize| (SegmentValue::Exact(c), SegmentValue::Exact(c + 1));
        chart.draw_series(
            (0..classes)
                .flat_map(|t| (0..classes).map(move |p| (t, p)))
                .map(|(t, p)| {
                    let share = confusion[[t, p]] as f64 / peak;
                    let shade = (255.0 * (1.0 - share)) as u8;
                    let ((x0, x1), (y0, y1)) = (cell(p), cell(classes - 1 - t));
                    Rectangle::new([(x0, y0), (x1, y1)], RGBColor(shade, shade, 255).filled())
                }),
        )?;
        let cell_font = ("sans-serif", 14).into_font();
        for t in 0..classes {
            for p in 0..classes {
                let count = confusion[[t, p]];
                let style = cell_font.color(if count as f64 / peak > 0.5 {
                    &WHITE
                } else {
                    &BLACK
                });
                let at = (
                    SegmentValue::CenterOf(p),
                    SegmentValue::CenterOf(classes - 1 - t),
                );
                chart
                    .plotting_area()
                    .draw(&Text::new(count.to_string(), at, style))?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn is_png(path: &Path) -> bool {
        std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 1000)
    }

    #[test]
    fn curves_and_heat_maps_are_written_as_png() {
        let dir = tempfile::tempdir().unwrap();
        let history: Vec<EpochReport> = (1..=5)
            .map(|e| EpochReport {
                epoch: e,
                train_loss: 1.0 / e as f64,
                validation_loss: Some(1.2 / e as f64),
                validation_accuracy: Some(0.8 + 0.03 * e as f64),
                validation_micro_f1: None,
                validation_r2: None,
                learning_rate: 0.01,
                seconds: 0.1,
                samples_per_second: 1000.0,
            })
            .collect();
        let curves = dir.path().join("curves.png");
        learning_curves(&curves, &history).unwrap();
        assert!(is_png(&curves));
        let heat = dir.path().join("confusion.png");
        confusion_heatmap(&heat, &array![[5, 1], [0, 7]], &["a".into(), "b".into()]).unwrap();
        assert!(is_png(&heat));
    }
}
