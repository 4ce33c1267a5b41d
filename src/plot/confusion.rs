//! The confusion matrix as a heat map: counts in the cells, every class named on both axes
//! (turned upright when the names are long), and a colour bar from 0 to the largest count.

use std::path::Path;

use ndarray::Array2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render;
use crate::error::Result;

/// What the heat map shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionLayout {
    /// The class names on the axes, in full.
    pub tick_labels: Vec<String>,
    /// Whether the x labels are turned upright (long names).
    pub upright_x_labels: bool,
    /// The colour bar's range: 0 to the largest count.
    pub colour_bar: (usize, usize),
    /// The colour bar's marks.
    pub colour_bar_ticks: Vec<usize>,
}

/// The layout of `confusion` with class `names`.
pub fn confusion_layout(confusion: &Array2<usize>, names: &[String]) -> ConfusionLayout {
    let peak = confusion.iter().copied().max().unwrap_or(0).max(1);
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(1);
    // Round marks (1, 2 or 5 × 10ᵏ apart, four or five of them), then the largest count itself
    // unless a round mark sits too close beneath it.
    let rough = (peak as f64 / 5.0).max(1.0);
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power) as usize;
    let mut ticks: Vec<usize> = (0..=peak).step_by(step.max(1)).collect();
    if ticks
        .last()
        .is_some_and(|&t| t != peak && (peak - t) * 3 < step)
    {
        ticks.pop();
    }
    if ticks.last() != Some(&peak) {
        ticks.push(peak);
    }
    ConfusionLayout {
        tick_labels: names.to_vec(),
        upright_x_labels: longest > 3 && names.len() > 4,
        colour_bar: (0, peak),
        colour_bar_ticks: ticks,
    }
}

/// The cell colour of a share of the largest count: white to deep blue.
fn shade(share: f64) -> RGBColor {
    let v = (255.0 * (1.0 - share.clamp(0.0, 1.0))) as u8;
    RGBColor(v, v, 255)
}

/// A heat map of `confusion[true][predicted]`, with the counts written in the cells.
pub fn confusion_heatmap(path: &Path, confusion: &Array2<usize>, names: &[String]) -> Result<()> {
    let layout = confusion_layout(confusion, names);
    let classes = confusion.nrows();
    let peak = layout.colour_bar.1 as f64;
    let side = (100 + 50 * classes as u32).clamp(440, 1400);
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(1) as u32;
    let label_space = if layout.upright_x_labels {
        (40 + 8 * longest).min(200)
    } else {
        50
    };
    render(path, (side + 150, side + label_space), |area| {
        let (matrix, bar) = area.split_horizontally(side + 40);
        let mut chart = ChartBuilder::on(&matrix)
            .caption("confusion matrix", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(label_space)
            .y_label_area_size(110)
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
                    .and_then(|i| layout.tick_labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        // Upright names are drawn below by hand: plotters centres a turned label on its tick,
        // which would hide its first half behind the matrix.
        let upright = layout.upright_x_labels;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .axis_desc_style(("sans-serif", 16))
            .x_labels(classes)
            .y_labels(classes)
            .x_label_style(("sans-serif", 14))
            .y_label_style(("sans-serif", 14))
            .x_label_formatter(&|v| {
                if upright {
                    String::new()
                } else {
                    name(v, false)
                }
            })
            .y_label_formatter(&|v| name(v, true))
            .draw()?;
        if upright {
            let style = ("sans-serif", 14)
                .into_font()
                .transform(FontTransform::Rotate90)
                .into_text_style(&matrix)
                .pos(Pos::new(HPos::Left, VPos::Center));
            for (p, label) in layout.tick_labels.iter().enumerate() {
                let (x, y) =
                    chart.backend_coord(&(SegmentValue::CenterOf(p), SegmentValue::Exact(0)));
                matrix.draw_text(label, &style, (x, y + 8))?;
            }
        }
        let cell = |c: usize| (SegmentValue::Exact(c), SegmentValue::Exact(c + 1));
        chart.draw_series(
            (0..classes)
                .flat_map(|t| (0..classes).map(move |p| (t, p)))
                .map(|(t, p)| {
                    let ((x0, x1), (y0, y1)) = (cell(p), cell(classes - 1 - t));
                    let share = confusion[[t, p]] as f64 / peak;
                    Rectangle::new([(x0, y0), (x1, y1)], shade(share).filled())
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
        // The colour bar: 0 at the bottom, the largest count at the top.
        let mut scale = ChartBuilder::on(&bar)
            .margin_top(55)
            .margin_bottom(label_space as i32 + 15)
            .y_label_area_size(0)
            .margin_right(55)
            .build_cartesian_2d(0.0..1.0, 0.0..peak)?;
        scale
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(0)
            .draw()?;
        // The marks of the layout, drawn by hand (plotters would pick its own).
        let base = bar.get_base_pixel();
        let mark = ("sans-serif", 13)
            .into_font()
            .into_text_style(&bar)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for &tick in &layout.colour_bar_ticks {
            let (x, y) = scale.backend_coord(&(1.0, tick as f64));
            bar.draw(&PathElement::new(
                vec![(x - base.0, y - base.1), (x - base.0 + 5, y - base.1)],
                BLACK,
            ))?;
            bar.draw_text(&tick.to_string(), &mark, (x - base.0 + 8, y - base.1))?;
        }
        let steps = 100;
        scale.draw_series((0..steps).map(|i| {
            let (lo, hi) = (
                peak * i as f64 / steps as f64,
                peak * (i + 1) as f64 / steps as f64,
            );
            Rectangle::new([(0.0, lo), (1.0, hi)], shade(lo / peak).filled())
        }))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_heat_map_names_classes_in_full_and_has_a_colour_bar() {
        let names: Vec<String> = crate::data::FASHION_MNIST_CLASSES[..6]
            .iter()
            .map(|name| name.to_string())
            .collect();
        let confusion = Array2::from_shape_fn((6, 6), |(t, p)| if t == p { 90 } else { t + p });
        let layout = confusion_layout(&confusion, &names);
        assert_eq!(layout.tick_labels, names, "full names, not truncated");
        assert!(layout.upright_x_labels);
        assert_eq!(layout.colour_bar, (0, 90));
        assert_eq!(layout.colour_bar_ticks, [0, 20, 40, 60, 80, 90]);
        let counts = Array2::from_shape_fn((3, 3), |(t, p)| if t == p { 962 } else { 0 });
        let marks = confusion_layout(&counts, &names[..3]).colour_bar_ticks;
        assert_eq!(marks, [0, 200, 400, 600, 800, 962]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confusion.png");
        confusion_heatmap(&path, &confusion, &names).unwrap();
        assert!(super::super::is_png(&path));
        let small = confusion_layout(&array![[5usize, 1], [0, 7]], &["a".into(), "b".into()]);
        assert!(!small.upright_x_labels);
    }
}
