//! Learning-rate schedules, evaluated per epoch (PyTorch's `StepLR` and `CosineAnnealingLR`).
//!
//! ```text
//! constant   η(e) = η₀
//! step       η(e) = η₀ · γ^⌊e / s⌋
//! cosine     η(e) = η_min + (η₀ − η_min) · (1 + cos(π e / T)) / 2
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A learning-rate schedule over epochs e = 0, 1, ….
///
/// ```
/// use nabla::Schedule;
///
/// let step: Schedule = "step:10:0.5".parse()?;
/// assert_eq!(step.learning_rate(0.1, 25, 30), 0.025);
/// let cosine: Schedule = "cosine".parse()?;
/// assert!(cosine.learning_rate(0.1, 30, 30).abs() < 1e-12);
/// # Ok::<(), nabla::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    /// η₀ throughout.
    #[default]
    Constant,
    /// Multiply by γ every `step_size` epochs.
    Step {
        /// s, epochs between decays.
        step_size: usize,
        /// γ, the decay factor.
        gamma: f64,
    },
    /// Cosine annealing from η₀ to η_min over T epochs.
    Cosine {
        /// T, the half period in epochs (the number of epochs when not given).
        t_max: Option<usize>,
        /// η_min.
        eta_min: f64,
    },
}

impl Schedule {
    /// The syntax accepted on the command line.
    pub const SYNTAX: &'static str = "constant | step:STEP_SIZE[:GAMMA] | cosine[:T_MAX[:ETA_MIN]]";

    /// η at epoch `epoch` (0-based) for a run of `epochs` epochs starting at `base`.
    pub fn learning_rate(&self, base: f64, epoch: usize, epochs: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Step { step_size, gamma } => {
                base * gamma.powi((epoch / step_size.max(1)) as i32)
            }
            Schedule::Cosine { t_max, eta_min } => {
                let t = t_max.unwrap_or(epochs).max(1) as f64;
                eta_min
                    + (base - eta_min) * (1.0 + (std::f64::consts::PI * epoch as f64 / t).cos())
                        / 2.0
            }
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::Step { step_size, gamma } => write!(f, "step:{step_size}:{gamma}"),
            Schedule::Cosine {
                t_max: None,
                eta_min,
            } => write!(f, "cosine::{eta_min}"),
            Schedule::Cosine {
                t_max: Some(t),
                eta_min,
            } => write!(f, "cosine:{t}:{eta_min}"),
        }
    }
}

impl FromStr for Schedule {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.trim().split(':').collect();
        let bad = |why: &str| {
            Error::invalid(
                "schedule",
                format!("'{text}': {why} (expected {})", Self::SYNTAX),
            )
        };
        let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        match parts.as_slice() {
            ["constant"] => Ok(Schedule::Constant),
            ["step", size, rest @ ..] if rest.len() <= 1 => {
                let step_size = size
                    .parse::<usize>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad("STEP_SIZE must be a whole number > 0"))?;
                let gamma = match rest {
                    [] => 0.1,
                    [g] => number(g).ok_or_else(|| bad("GAMMA must be a number ≥ 0"))?,
                    _ => unreachable!("length checked by the pattern guard"),
                };
                Ok(Schedule::Step { step_size, gamma })
            }
            ["cosine", rest @ ..] if rest.len() <= 2 => {
                let t_max = match rest.first() {
                    None | Some(&"") => None,
                    Some(t) => Some(
                        t.parse::<usize>()
                            .ok()
                            .filter(|t| *t > 0)
                            .ok_or_else(|| bad("T_MAX must be a whole number > 0"))?,
                    ),
                };
                let eta_min = match rest.get(1) {
                    None => 0.0,
                    Some(e) => number(e).ok_or_else(|| bad("ETA_MIN must be a number ≥ 0"))?,
                };
                Ok(Schedule::Cosine { t_max, eta_min })
            }
            _ => Err(bad("not a schedule")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_schedule_decays_every_step_size_epochs() {
        let s: Schedule = "step:2:0.5".parse().unwrap();
        let rates: Vec<f64> = (0..5).map(|e| s.learning_rate(1.0, e, 5)).collect();
        assert_eq!(rates, vec![1.0, 1.0, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn cosine_schedule_runs_from_base_to_minimum() {
        let s: Schedule = "cosine".parse().unwrap();
        assert_eq!(s.learning_rate(0.1, 0, 10), 0.1);
        assert!((s.learning_rate(0.1, 5, 10) - 0.05).abs() < 1e-15);
        assert!(s.learning_rate(0.1, 10, 10).abs() < 1e-15);
        let s: Schedule = "cosine:4:0.01".parse().unwrap();
        assert!((s.learning_rate(0.1, 4, 10) - 0.01).abs() < 1e-15);
        assert_eq!(s.to_string().parse::<Schedule>().unwrap(), s);
    }

    #[test]
    fn malformed_schedules_are_refused() {
        for bad in ["step", "step:0", "step:2:-1", "cosine:x", "linear"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad}");
        }
    }
}
