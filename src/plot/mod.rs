//! Pictures as PNG: learning curves, decision boundaries of 2-D data, confusion heat maps, and
//! the scores of multi-label and regression models.
//!
//! | file | holds |
//! |---|---|
//! | `curves.rs` | learning curves: the loss, and the task's score per epoch |
//! | `boundary.rs` | a 2-feature model's classes over the plane, training and test points |
//! | `confusion.rs` | the confusion matrix as a heat map, with a colour bar |
//! | `scores.rs` | per-label bars (multi-label), predicted against true values (regression) |
//! | `cost_curves.rs` | `explain --plot`: Cₓ and ∂Cₓ/∂z against z, undefined stretches shaded |
//!
//! Each picture is first laid out as data (panels, series, ticks, legends: what the tests
//! check), then drawn. Drawing happens in memory (plotters' bitmap backend, the DejaVu Sans
//! font compiled in so no system fonts are needed); the PNG is then written atomically.

mod boundary;
mod confusion;
mod cost_curves;
mod curves;
mod scores;

use std::path::Path;
use std::sync::Once;

use image::ImageEncoder;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub use boundary::{BoundaryLayout, boundary_layout, decision_boundary};
pub use confusion::{ConfusionLayout, confusion_heatmap, confusion_layout};
pub use cost_curves::cost_curves_plot;
pub use curves::{CurvesLayout, Panel, curves_layout, learning_curves};
pub use scores::{evaluation_plot, predicted_against_true};

use crate::error::{Error, Result};
use crate::io::write_atomically;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
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

/// Checks a picture's output path before any work: a PNG path ([`check_path`]) that is
/// writable and none of `inputs` ([`crate::io::check_output`]).
///
/// # Errors
/// As those two, naming `flag`.
pub fn check_output(flag: &str, path: &Path, inputs: &[&Path]) -> Result<()> {
    crate::io::check_output(flag, path, inputs)?;
    check_path(flag, path)
}

/// Refuses a picture path that does not end in `.png` (nabla writes PNG only, and a `.jpg`
/// holding PNG bytes would mislead every viewer).
///
/// # Errors
/// Another extension, naming `flag`.
pub fn check_path(flag: &str, path: &Path) -> Result<()> {
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if png {
        Ok(())
    } else {
        Err(Error::invalid(
            flag,
            format!(
                "{}: nabla draws PNG pictures; give a path ending in .png",
                path.display()
            ),
        ))
    }
}

/// Renders `draw` into a width × height RGB picture and writes it to `path` as PNG.
fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(
        DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>>,
) -> Result<()> {
    check_path("plot", path)?;
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

/// At most `most` whole numbers from 1 to `last`, evenly spaced, `last` included: ticks for an
/// axis of epochs (never 2.5).
pub fn integer_ticks(last: usize, most: usize) -> Vec<usize> {
    let last = last.max(1);
    let step = last.div_ceil(most.max(1)).max(1);
    let mut ticks: Vec<usize> = (1..=last).step_by(step).collect();
    if ticks.last() != Some(&last) {
        ticks.push(last);
    }
    ticks
}

#[cfg(test)]
fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_ticks_are_whole_numbers_ending_at_the_last_epoch() {
        assert_eq!(integer_ticks(5, 10), vec![1, 2, 3, 4, 5]);
        assert_eq!(integer_ticks(3, 10), vec![1, 2, 3]);
        let many = integer_ticks(97, 10);
        assert!(many.len() <= 11 && many[0] == 1 && *many.last().unwrap() == 97);
        assert_eq!(integer_ticks(1, 10), vec![1]);
    }

    #[test]
    fn only_png_paths_are_drawn() {
        assert!(check_path("--plot", Path::new("curves.png")).is_ok());
        let error = check_path("--plot", Path::new("curves.jpg"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("curves.jpg") && error.contains(".png"),
            "{error}"
        );
    }
}
