//! The classes a 2-feature model predicts over the plane, with the training points (filled)
//! and the test points (outlined) on top, and a legend naming the classes.

use std::path::Path;

use plotters::prelude::*;

use super::{colour, render};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::metrics::predicted_classes;
use crate::model::Model;
use crate::plane::{grid_centres, padded_range};

/// Points per side of the grid the model is evaluated on.
const GRID: usize = 200;

/// What the decision-boundary picture shows.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundaryLayout {
    /// The x and y ranges.
    pub x: (f64, f64),
    /// The y range.
    pub y: (f64, f64),
    /// The legend: one entry per class, then how training and test points are marked.
    pub legend: Vec<String>,
}

/// The layout for `train` and `test` rows (raw features) of a model with `names` classes.
pub fn boundary_layout(
    names: &[String],
    train: &Dataset,
    test: Option<&Dataset>,
) -> BoundaryLayout {
    let all = || {
        std::iter::once(train).chain(test).flat_map(|d| {
            d.features
                .rows()
                .into_iter()
                .map(|r| (r[0], r[1]))
                .collect::<Vec<_>>()
        })
    };
    let mut legend: Vec<String> = names.iter().map(|n| format!("class {n}")).collect();
    legend.push("training rows (filled)".into());
    if test.is_some() {
        legend.push("test rows (hollow)".into());
    }
    BoundaryLayout {
        x: padded_range(all().map(|p| p.0)),
        y: padded_range(all().map(|p| p.1)),
        legend,
    }
}

/// Draws the classes `model` predicts over the plane of `train` (and `test`) raw rows.
///
/// # Errors
/// Data without exactly 2 features, or a failed write.
pub fn decision_boundary(
    path: &Path,
    model: &Model,
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<()> {
    if train.feature_count() != 2 {
        return Err(Error::invalid(
            "plot",
            "a decision boundary needs data with exactly 2 features",
        ));
    }
    let names = &model.label_names;
    let layout = boundary_layout(names, train, test);
    let ((x0, x1), (y0, y1)) = (layout.x, layout.y);
    let points = grid_centres(layout.x, layout.y, GRID);
    let classes = predicted_classes(model.predict(&points)?.view());
    render(path, (760, 700), |area| {
        let mut chart = ChartBuilder::on(&area)
            .caption("decision boundary", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(train.feature_names.first().map_or("x₁", String::as_str))
            .y_desc(train.feature_names.get(1).map_or("x₂", String::as_str))
            .draw()?;
        let (dx, dy) = ((x1 - x0) / GRID as f64, (y1 - y0) / GRID as f64);
        chart.draw_series(points.rows().into_iter().zip(&classes).map(|(p, &c)| {
            let (px, py) = (f64::from(p[0]) - dx / 2.0, f64::from(p[1]) - dy / 2.0);
            Rectangle::new([(px, py), (px + dx, py + dy)], colour(c).mix(0.3).filled())
        }))?;
        for (data, filled) in std::iter::once((train, true)).chain(test.map(|t| (t, false))) {
            let truth = data.labels.strata();
            chart.draw_series(data.features.rows().into_iter().zip(truth).map(|(p, c)| {
                let (style, radius) = if filled {
                    (colour(c).filled(), 3)
                } else {
                    (colour(c).stroke_width(2), 5)
                };
                Circle::new((f64::from(p[0]), f64::from(p[1])), radius, style)
            }))?;
        }
        // The legend: a swatch per class, then the markers.
        for (n, entry) in layout.legend.iter().enumerate() {
            let (style, radius) = match n.checked_sub(names.len()) {
                None => (colour(n).filled(), 5),
                Some(0) => (BLACK.filled(), 3),
                Some(_) => (BLACK.stroke_width(2), 5),
            };
            let series = chart.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?;
            series
                .label(entry.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), radius, style));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_names_every_class_and_tells_training_from_test_rows() {
        let train = crate::data::generate(crate::data::Synthetic::Moons, 60, 0.1, 0).unwrap();
        let test = crate::data::generate(crate::data::Synthetic::Moons, 20, 0.1, 1).unwrap();
        let names = vec!["0".to_string(), "1".to_string()];
        let layout = boundary_layout(&names, &train, Some(&test));
        assert_eq!(
            layout.legend,
            [
                "class 0",
                "class 1",
                "training rows (filled)",
                "test rows (hollow)"
            ]
        );
        assert!(layout.x.0 < -1.0 && layout.x.1 > 2.0);
        let huge = Dataset::classes(
            ndarray::array![[3.0e38f32, 1.0], [-3.0e38, 2.0]],
            vec![0, 1],
            names.clone(),
        )
        .unwrap();
        let layout = boundary_layout(&names, &huge, None);
        assert!(layout.x.0.is_finite() && layout.x.1.is_finite());
    }
}
