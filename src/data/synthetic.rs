//! Two-dimensional synthetic data sets for experiments and decision-boundary pictures.
//!
//! ```text
//! spirals  K = 3 arms: r = t, θ = 4(k + t) + N(0, noise²),  t ∈ [0, 1)   (CS231n's; noise 0.2)
//! moons    (cos πt, sin πt) and (1 − cos πt, ½ − sin πt), + N(0, noise²)  (scikit-learn's; 0.1)
//! circles  radius 1 (class 0) and 0.5 (class 1), + N(0, noise²)           (0.05)
//! xor      x ~ U(−1, 1)², class = [x₁·x₂ > 0], + N(0, noise²)             (0.05)
//! blobs    3 centres ~ U(−10, 10)², points ~ N(centre, noise²)            (scikit-learn's; 1)
//! ```
//!
//! The noise is a standard deviation: of the angle in radians for spirals, of each coordinate
//! for the others (blobs: the clusters' spread, 0 putting every point on its centre).

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Dataset, Labels, numeric_label_names};
use crate::error::Error;

/// A synthetic data set generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synthetic {
    /// Three interleaved spiral arms.
    Spirals,
    /// Two interleaving half circles.
    Moons,
    /// Two concentric circles.
    Circles,
    /// The four quadrants, opposite ones sharing a class.
    Xor,
    /// Three Gaussian blobs.
    Blobs,
}

impl Synthetic {
    /// The names accepted as data specs.
    pub const NAMES: &'static str = "spirals, moons, circles, xor, blobs";

    /// The default noise level of each generator.
    pub fn default_noise(self) -> f64 {
        match self {
            Synthetic::Spirals => 0.2,
            Synthetic::Moons => 0.1,
            Synthetic::Circles => 0.05,
            Synthetic::Xor => 0.05,
            Synthetic::Blobs => 1.0,
        }
    }
}

impl fmt::Display for Synthetic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Synthetic::Spirals => "spirals",
            Synthetic::Moons => "moons",
            Synthetic::Circles => "circles",
            Synthetic::Xor => "xor",
            Synthetic::Blobs => "blobs",
        })
    }
}

impl FromStr for Synthetic {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "spirals" | "spiral" => Ok(Synthetic::Spirals),
            "moons" => Ok(Synthetic::Moons),
            "circles" => Ok(Synthetic::Circles),
            "xor" => Ok(Synthetic::Xor),
            "blobs" => Ok(Synthetic::Blobs),
            _ => Err(Error::UnknownName {
                kind: "synthetic data set",
                name: text.to_string(),
                expected: Self::NAMES.to_string(),
            }),
        }
    }
}

/// The most points a generator draws (8 bytes of features a point: 128 MiB).
pub const MAX_SAMPLES: usize = 1 << 24;

/// The largest noise a generator takes: a standard deviation a hundred times the size of the
/// generators' shapes (they lie within about ±10), far past where the classes are told apart,
/// and far below where f32 features overflow (1e39 used to pass, then fail as "normalization
/// mean[0]: NaN").
pub const MAX_NOISE: f64 = 1000.0;

/// Refuses a noise that is not a number from 0 to [`MAX_NOISE`].
pub(crate) fn check_noise(noise: f64) -> Result<(), Error> {
    if (0.0..=MAX_NOISE).contains(&noise) {
        Ok(())
    } else {
        let shown = if noise.abs() >= 1e6 {
            format!("{noise:e}")
        } else {
            noise.to_string()
        };
        let what = if noise.is_finite() {
            "a standard deviation from 0 to"
        } else {
            "a finite number: a standard deviation from 0 to"
        };
        Err(Error::invalid(
            "noise",
            format!("{shown} is not {what} {MAX_NOISE}"),
        ))
    }
}

/// Draws `samples` labelled 2-D points (classes as balanced as `samples` allows).
///
/// # Errors
/// No samples, more than [`MAX_SAMPLES`], or a noise that is not a number from 0 to
/// [`MAX_NOISE`].
pub fn generate(kind: Synthetic, samples: usize, noise: f64, seed: u64) -> Result<Dataset, Error> {
    if samples == 0 || samples > MAX_SAMPLES {
        return Err(Error::invalid(
            "samples",
            format!("{samples} is not a number of points from 1 to {MAX_SAMPLES}"),
        ));
    }
    check_noise(noise)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let classes = match kind {
        Synthetic::Spirals | Synthetic::Blobs => 3,
        _ => 2,
    };
    let centres: Vec<(f64, f64)> = (0..classes)
        .map(|_| (rng.random_range(-10.0..10.0), rng.random_range(-10.0..10.0)))
        .collect();
    let mut features = Array2::zeros((samples, 2));
    let mut labels = Vec::with_capacity(samples);
    for i in 0..samples {
        let class = i % classes;
        let t = (i / classes) as f64 / samples.div_ceil(classes).max(1) as f64;
        // Four draws per point whatever the generator, so every generator's stream is simple.
        let (u1, u2): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        let (g1, g2): (f64, f64) = (
            StandardNormal.sample(&mut rng),
            StandardNormal.sample(&mut rng),
        );
        let (x, y, label) = match kind {
            Synthetic::Spirals => {
                let theta = 4.0 * (class as f64 + t) + noise * g1;
                (t * theta.sin(), t * theta.cos(), class)
            }
            Synthetic::Moons => {
                let angle = PI * t;
                let (x, y) = if class == 0 {
                    (angle.cos(), angle.sin())
                } else {
                    (1.0 - angle.cos(), 0.5 - angle.sin())
                };
                (x + noise * g1, y + noise * g2, class)
            }
            Synthetic::Circles => {
                let angle = 2.0 * PI * t;
                let radius = if class == 0 { 1.0 } else { 0.5 };
                (
                    radius * angle.cos() + noise * g1,
                    radius * angle.sin() + noise * g2,
                    class,
                )
            }
            Synthetic::Xor => (u1 + noise * g1, u2 + noise * g2, usize::from(u1 * u2 > 0.0)),
            Synthetic::Blobs => {
                let (cx, cy) = centres[class];
                (cx + noise * g1, cy + noise * g2, class)
            }
        };
        features[[i, 0]] = x as f32;
        features[[i, 1]] = y as f32;
        labels.push(label);
    }
    Ok(Dataset {
        features: features.into(),
        labels: Labels::Classes {
            indices: labels,
            names: numeric_label_names(classes),
        },
        feature_names: vec!["x".into(), "y".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_seeded_and_balanced() {
        for kind in [
            Synthetic::Spirals,
            Synthetic::Moons,
            Synthetic::Circles,
            Synthetic::Xor,
            Synthetic::Blobs,
        ] {
            let a = generate(kind, 300, kind.default_noise(), 4).unwrap();
            let b = generate(kind, 300, kind.default_noise(), 4).unwrap();
            assert_eq!(a, b, "{kind}");
            assert_eq!(a.len(), 300);
            assert!(a.features.iter().all(|v| v.is_finite()));
            let counts = a.class_counts();
            assert!(
                counts.iter().all(|&c| c >= 300 / counts.len() / 2),
                "{kind}: {counts:?}"
            );
            assert_eq!(kind.to_string().parse::<Synthetic>().unwrap(), kind);
        }
    }

    /// CS231n's definition: arm k's point at t has radius t and angle 4(k + t), jittered by
    /// the noise in radians (it used to be jittered by 4 × the noise, and the arms overlapped).
    #[test]
    fn spirals_follow_the_usual_definition_and_blobs_noise_is_their_spread() {
        let d = generate(Synthetic::Spirals, 300, 0.0, 2).unwrap();
        let classes = d.class_indices().unwrap();
        for (i, (row, &k)) in d.features.rows().into_iter().zip(classes).enumerate() {
            let t = (i / 3) as f64 / 100.0;
            let (x, y) = (f64::from(row[0]), f64::from(row[1]));
            assert!(((x * x + y * y).sqrt() - t).abs() < 1e-6);
            let theta = 4.0 * (k as f64 + t);
            assert!((x - t * theta.sin()).abs() < 1e-6 && (y - t * theta.cos()).abs() < 1e-6);
        }
        let tight = generate(Synthetic::Blobs, 30, 0.0, 1).unwrap();
        let classes = tight.class_indices().unwrap();
        for k in 0..3 {
            let points: Vec<_> = (0..30).filter(|&i| classes[i] == k).collect();
            let first = tight.features.row(points[0]);
            assert!(
                points.iter().all(|&i| tight.features.row(i) == first),
                "noise 0: one point"
            );
        }
    }

    #[test]
    fn circles_have_their_radii() {
        let d = generate(Synthetic::Circles, 200, 0.0, 1).unwrap();
        for (row, &label) in d
            .features
            .rows()
            .into_iter()
            .zip(d.class_indices().unwrap())
        {
            let r = (row[0] * row[0] + row[1] * row[1]).sqrt();
            assert!((r - if label == 0 { 1.0 } else { 0.5 }).abs() < 1e-5);
        }
    }
}
