//! Output ranges: the set of values an activation can produce, and the set a loss needs.
//!
//! The head's compatibility rule is one subset test on these sets:
//!
//! ```text
//! pairing allowed  ⇔  range(activation) ⊆ domain(loss input)
//! ```

use std::fmt;

/// One end of an interval on the extended real line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// −∞ as a lower end, +∞ as an upper end.
    Unbounded,
    /// The end value itself is not in the set.
    Open(f64),
    /// The end value itself is in the set.
    Closed(f64),
}

/// An interval of ℝ, such as `[0, ∞)` or `(0, 1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// The lower end.
    pub lower: Bound,
    /// The upper end.
    pub upper: Bound,
}

impl Interval {
    /// ℝ = (−∞, ∞).
    pub const REAL: Interval = Interval {
        lower: Bound::Unbounded,
        upper: Bound::Unbounded,
    };

    /// The open unit interval (0, 1): the values a probability may take with ln p and
    /// ln(1 − p) both finite.
    pub const OPEN_UNIT: Interval = Interval {
        lower: Bound::Open(0.0),
        upper: Bound::Open(1.0),
    };

    /// (−∞, 0): the values of a log-probability of a non-certain event.
    pub const NEGATIVE: Interval = Interval {
        lower: Bound::Unbounded,
        upper: Bound::Open(0.0),
    };

    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        let above = match self.lower {
            Bound::Unbounded => true,
            Bound::Open(l) => x > l,
            Bound::Closed(l) => x >= l,
        };
        let below = match self.upper {
            Bound::Unbounded => true,
            Bound::Open(u) => x < u,
            Bound::Closed(u) => x <= u,
        };
        above && below
    }

    /// Whether every value of `self` lies in `other` (self ⊆ other).
    pub fn is_subset_of(&self, other: &Interval) -> bool {
        let lower_ok = match (self.lower, other.lower) {
            (_, Bound::Unbounded) => true,
            (Bound::Unbounded, _) => false,
            (Bound::Open(a), Bound::Open(b)) | (Bound::Open(a), Bound::Closed(b)) => a >= b,
            (Bound::Closed(a), Bound::Closed(b)) => a >= b,
            (Bound::Closed(a), Bound::Open(b)) => a > b,
        };
        let upper_ok = match (self.upper, other.upper) {
            (_, Bound::Unbounded) => true,
            (Bound::Unbounded, _) => false,
            (Bound::Open(a), Bound::Open(b)) | (Bound::Open(a), Bound::Closed(b)) => a <= b,
            (Bound::Closed(a), Bound::Closed(b)) => a <= b,
            (Bound::Closed(a), Bound::Open(b)) => a < b,
        };
        lower_ok && upper_ok
    }

    /// Whether some value x ≤ `t` lies in the interval.
    pub fn reaches_down_to(&self, t: f64) -> bool {
        match self.lower {
            Bound::Unbounded => true,
            Bound::Open(l) => l < t,
            Bound::Closed(l) => l <= t,
        }
    }

    /// Whether some value x ≥ `t` lies in the interval.
    pub fn reaches_up_to(&self, t: f64) -> bool {
        match self.upper {
            Bound::Unbounded => true,
            Bound::Open(u) => u > t,
            Bound::Closed(u) => u >= t,
        }
    }
}

/// Formats a bound value: integers without a decimal point, others with up to 4 digits.
fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64).replace('-', "−")
    } else {
        format!("{x:.4}")
            .trim_end_matches('0')
            .to_string()
            .replace('-', "−")
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lower {
            Bound::Unbounded => write!(f, "(−∞, ")?,
            Bound::Open(l) => write!(f, "({}, ", number(l))?,
            Bound::Closed(l) => write!(f, "[{}, ", number(l))?,
        }
        match self.upper {
            Bound::Unbounded => write!(f, "∞)"),
            Bound::Open(u) => write!(f, "{})", number(u)),
            Bound::Closed(u) => write!(f, "{}]", number(u)),
        }
    }
}

/// The set of output rows an activation produces, or a loss input needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutputRange {
    /// Each output coordinate independently in the interval (element-wise activations).
    Interval(Interval),
    /// The open probability simplex: every aₖ ∈ (0, 1) and Σₖ aₖ = 1 (softmax).
    Simplex,
    /// Log-probabilities of the open simplex: every aₖ < 0 and Σₖ e^aₖ = 1 (log-softmax).
    LogSimplex,
}

impl OutputRange {
    /// The interval each single coordinate of a row lies in.
    pub fn coordinates(&self) -> Interval {
        match self {
            OutputRange::Interval(interval) => *interval,
            OutputRange::Simplex => Interval::OPEN_UNIT,
            OutputRange::LogSimplex => Interval::NEGATIVE,
        }
    }

    /// Whether every row of `self` is a row `needed` accepts (self ⊆ needed).
    ///
    /// ```text
    /// Interval I ⊆ Interval J  ⇔  I ⊆ J
    /// Simplex    ⊆ Interval J  ⇔  (0, 1) ⊆ J
    /// anything   ⊆ Simplex     ⇔  it is the simplex (an interval's rows need not sum to 1)
    /// ```
    pub fn is_subset_of(&self, needed: &OutputRange) -> bool {
        match needed {
            OutputRange::Interval(interval) => self.coordinates().is_subset_of(interval),
            OutputRange::Simplex => *self == OutputRange::Simplex,
            OutputRange::LogSimplex => *self == OutputRange::LogSimplex,
        }
    }
}

impl fmt::Display for OutputRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputRange::Interval(interval) => write!(f, "{interval}"),
            OutputRange::Simplex => write!(
                f,
                "the open probability simplex (every aₖ in (0, 1), Σₖ aₖ = 1)"
            ),
            OutputRange::LogSimplex => {
                write!(f, "log-probabilities (every aₖ < 0, Σₖ e^aₖ = 1)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELU: Interval = Interval {
        lower: Bound::Closed(0.0),
        upper: Bound::Unbounded,
    };

    #[test]
    fn relu_range_is_not_inside_the_open_unit_interval() {
        assert!(!RELU.is_subset_of(&Interval::OPEN_UNIT));
        assert!(RELU.is_subset_of(&Interval::REAL));
        assert!(Interval::OPEN_UNIT.is_subset_of(&RELU));
    }

    #[test]
    fn closed_end_is_not_inside_open_end_at_same_value() {
        let closed_unit = Interval {
            lower: Bound::Closed(0.0),
            upper: Bound::Closed(1.0),
        };
        assert!(!closed_unit.is_subset_of(&Interval::OPEN_UNIT));
        assert!(Interval::OPEN_UNIT.is_subset_of(&closed_unit));
    }

    #[test]
    fn simplex_fits_intervals_but_intervals_do_not_fit_the_simplex() {
        let simplex = OutputRange::Simplex;
        let unit = OutputRange::Interval(Interval::OPEN_UNIT);
        assert!(simplex.is_subset_of(&unit));
        assert!(!unit.is_subset_of(&simplex));
        assert!(simplex.is_subset_of(&OutputRange::Simplex));
        assert!(!OutputRange::LogSimplex.is_subset_of(&simplex));
    }

    #[test]
    fn reach_tests_respect_open_and_closed_ends() {
        assert!(RELU.reaches_down_to(0.0));
        assert!(!Interval::OPEN_UNIT.reaches_down_to(0.0));
        assert!(!Interval::OPEN_UNIT.reaches_up_to(1.0));
        assert!(RELU.reaches_up_to(1.0));
        assert!(RELU.contains(0.0) && !Interval::OPEN_UNIT.contains(0.0));
    }

    #[test]
    fn intervals_print_in_math_notation() {
        assert_eq!(RELU.to_string(), "[0, ∞)");
        assert_eq!(Interval::OPEN_UNIT.to_string(), "(0, 1)");
        assert_eq!(Interval::REAL.to_string(), "(−∞, ∞)");
    }
}
