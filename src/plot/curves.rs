//! Learning curves: the training (and validation) loss per epoch, and beside it the task's
//! score — accuracy (training and validation), micro-F1 or R² — when there is one.

use std::path::Path;

use plotters::prelude::*;

use super::{colour, integer_ticks, render};
use crate::error::Result;
use crate::train::EpochReport;

/// One panel: its title, y label, and named series of (epoch, value).
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// The caption.
    pub title: String,
    /// The y axis's name.
    pub y_label: String,
    /// (name, points) of each line.
    pub series: Vec<(String, Vec<(usize, f64)>)>,
    /// The y range drawn.
    pub y_range: (f64, f64),
}

/// What the learning-curves picture shows.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvesLayout {
    /// The loss panel, then the score panel when the run has a score.
    pub panels: Vec<Panel>,
    /// The epochs marked on the x axes (whole numbers).
    pub x_ticks: Vec<usize>,
}

/// The panels for `history`: no empty panel (a run without validation rows or a score gets
/// the loss alone), whole-number epoch ticks.
pub fn curves_layout(history: &[EpochReport]) -> CurvesLayout {
    let series = |name: &str, pick: &dyn Fn(&EpochReport) -> Option<f64>| {
        let points: Vec<(usize, f64)> = history
            .iter()
            .filter_map(|r| pick(r).filter(|v| v.is_finite()).map(|v| (r.epoch, v)))
            .collect();
        (!points.is_empty()).then(|| (name.to_string(), points))
    };
    let range = |series: &[(String, Vec<(usize, f64)>)], floor: Option<f64>| {
        let values = series.iter().flat_map(|(_, p)| p.iter().map(|(_, v)| *v));
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        match floor {
            Some(floor) => (
                (lo - 0.02).max(floor.min(lo)),
                (hi + 0.02).min(1.0).max(lo + 1e-3),
            ),
            None => (0.0, (hi * 1.05).max(1e-6)),
        }
    };
    let loss: Vec<_> = [
        series("train", &|r| Some(r.train_loss)),
        series("validation", &|r| r.validation_loss),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut panels = vec![Panel {
        title: "loss".into(),
        y_label: "loss".into(),
        y_range: range(&loss, None),
        series: loss,
    }];
    for (title, train, validation) in [
        (
            "accuracy",
            series("train", &|r| r.train_accuracy),
            series("validation", &|r| r.validation_accuracy),
        ),
        (
            "micro-F1",
            None,
            series("validation", &|r| r.validation_micro_f1),
        ),
        ("R²", None, series("validation", &|r| r.validation_r2)),
    ] {
        let lines: Vec<_> = [train, validation].into_iter().flatten().collect();
        if !lines.is_empty() {
            panels.push(Panel {
                title: title.into(),
                y_label: title.into(),
                y_range: range(
                    &lines,
                    Some(if title == "R²" {
                        f64::NEG_INFINITY
                    } else {
                        0.0
                    }),
                ),
                series: lines,
            });
            break;
        }
    }
    CurvesLayout {
        panels,
        x_ticks: integer_ticks(history.iter().map(|r| r.epoch).max().unwrap_or(1), 10),
    }
}

/// Draws [`curves_layout`] of `history` to `path`.
pub fn learning_curves(path: &Path, history: &[EpochReport]) -> Result<()> {
    let layout = curves_layout(history);
    let width = 600 * layout.panels.len() as u32;
    let last = *layout.x_ticks.last().unwrap_or(&1);
    render(path, (width, 500), |area| {
        let areas = area.split_evenly((1, layout.panels.len()));
        for (panel, area) in layout.panels.iter().zip(&areas) {
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 24))
                .margin(15)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(0.5..(last as f64 + 0.5), panel.y_range.0..panel.y_range.1)?;
            let ticks = &layout.x_ticks;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(panel.y_label.as_str())
                .x_labels(ticks.len() * 4)
                .x_label_formatter(&|x| {
                    let epoch = x.round() as usize;
                    if (x - x.round()).abs() < 1e-9 && ticks.contains(&epoch) {
                        epoch.to_string()
                    } else {
                        String::new()
                    }
                })
                .draw()?;
            for (n, (name, points)) in panel.series.iter().enumerate() {
                let style = colour(n).stroke_width(2);
                chart
                    .draw_series(LineSeries::new(
                        points.iter().map(|(e, v)| (*e as f64, *v)),
                        style,
                    ))?
                    .label(name.as_str())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            }
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE)
                .draw()?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(epoch: usize, validation: bool) -> EpochReport {
        EpochReport {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_accuracy: Some(0.7 + 0.02 * epoch as f64),
            validation_loss: validation.then_some(1.2 / epoch as f64),
            validation_accuracy: validation.then_some(0.6 + 0.03 * epoch as f64),
            validation_micro_f1: None,
            validation_r2: None,
            learning_rate: 0.01,
            seconds: 0.1,
            samples_per_second: 1000.0,
            combine_ms_per_step: None,
        }
    }

    #[test]
    fn curves_show_training_and_validation_accuracy_with_whole_epochs() {
        let history: Vec<_> = (1..=5).map(|e| report(e, true)).collect();
        let layout = curves_layout(&history);
        assert_eq!(layout.x_ticks, vec![1, 2, 3, 4, 5]);
        assert_eq!(layout.panels.len(), 2);
        let names = |p: &Panel| p.series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&layout.panels[0]), ["train", "validation"]);
        assert_eq!(layout.panels[1].title, "accuracy");
        assert_eq!(names(&layout.panels[1]), ["train", "validation"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.png");
        learning_curves(&path, &history).unwrap();
        assert!(super::super::is_png(&path));
    }

    #[test]
    fn no_empty_panel_without_validation_or_a_score() {
        let mut history: Vec<_> = (1..=3).map(|e| report(e, false)).collect();
        let layout = curves_layout(&history);
        assert_eq!(
            layout.panels.len(),
            2,
            "the training accuracy still has a panel"
        );
        assert_eq!(layout.panels[1].series.len(), 1);
        for r in &mut history {
            r.train_accuracy = None;
        }
        let layout = curves_layout(&history);
        assert_eq!(
            layout.panels.len(),
            1,
            "the loss alone: no empty second panel"
        );
        // A regression's validation R² may be negative: its axis follows it.
        for r in &mut history {
            r.validation_r2 = Some(-0.5 + 0.3 * r.epoch as f64);
        }
        let layout = curves_layout(&history);
        assert_eq!(layout.panels[1].title, "R²");
        assert!(layout.panels[1].y_range.0 < -0.1);
    }
}
