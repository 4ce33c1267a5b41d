//! Why a pairing is refused, derived from the activation's range and the loss's domain (or
//! from the double squashing), with what goes wrong and the fix.

use std::fmt;

use super::pairing::{Pairing, Refusal};
use crate::activation::Activation;
use crate::loss::{LossConfig, LossInput, LossKind};
use crate::range::OutputRange;

/// Why an output activation cannot feed a loss: the explanation carried by
/// [`crate::Error::IncompatibleHead`].
#[derive(Clone, Debug, PartialEq)]
pub struct IncompatibleHead {
    /// The refused output activation.
    pub activation: Activation,
    /// The loss it was paired with.
    pub loss: LossKind,
    /// What the loss receives.
    pub from: LossInput,
    /// Why it is refused.
    pub reason: Refusal,
    /// The activation's range.
    pub range: OutputRange,
    /// The loss's domain.
    pub needed: OutputRange,
    /// What goes undefined or wrong, one item each.
    pub undefined: Vec<String>,
    /// What to use instead.
    pub fix: String,
}

impl IncompatibleHead {
    /// Builds the explanation of the refused pair `activation` → `loss` (an accepted pair gets
    /// the range explanation, which then lists nothing undefined).
    pub fn new(activation: Activation, loss: &LossConfig) -> Self {
        let reason = match Pairing::of(activation, loss.kind, loss.from) {
            Pairing::Refused(reason) => reason,
            Pairing::Accepted(_) => Refusal::OutOfRange,
        };
        let (undefined, fix) = match reason {
            Refusal::OutOfRange => out_of_range(activation, loss),
            Refusal::DoubleSquashing => double_squashing(activation, loss.kind),
        };
        IncompatibleHead {
            activation,
            loss: loss.kind,
            from: loss.from,
            reason,
            range: activation.range(),
            needed: loss.domain(),
            undefined,
            fix,
        }
    }

    /// The short headline: "not a probability model" or "the output is squashed twice".
    pub fn summary(&self) -> String {
        match self.reason {
            Refusal::DoubleSquashing => format!(
                "double {}: the {} output is squashed again by the loss",
                self.activation.name(),
                self.activation.display_name()
            ),
            Refusal::OutOfRange => format!(
                "not a probability model: {}",
                self.what_the_outputs_are_not()
            ),
        }
    }

    /// "ReLU outputs are not probabilities", "sigmoid output rows are not probability
    /// distributions", … (a sigmoid output *is* a probability; its row is not a distribution).
    fn what_the_outputs_are_not(&self) -> String {
        let name = self.activation.display_name();
        match self.needed {
            OutputRange::Interval(_) => format!("{name} outputs are not probabilities"),
            OutputRange::Simplex => {
                format!("{name} output rows are not probability distributions")
            }
            OutputRange::LogSimplex => {
                format!("{name} output rows are not the log-probabilities of a distribution")
            }
        }
    }
}

/// What goes undefined when `activation`'s range leaves the loss's domain, and the fix.
fn out_of_range(activation: Activation, loss: &LossConfig) -> (Vec<String>, String) {
    let range = activation.range();
    let coordinates = range.coordinates();
    let mut undefined = Vec::new();
    match loss.domain() {
        OutputRange::Interval(_) => {
            // Binary cross-entropy on probabilities: needs ln a and ln(1 − a).
            if coordinates.contains(0.0) {
                undefined.push(
                    "at a = 0, ln a = −∞: the loss is infinite whenever y > 0, and ∂C/∂a = −y/a \
                     divides by zero"
                        .to_string(),
                );
            }
            if coordinates.reaches_down_to(-f64::MIN_POSITIVE) {
                undefined.push(
                    "for a < 0, ln a is undefined (the logarithm of a negative number)".to_string(),
                );
            }
            if coordinates.contains(1.0) {
                undefined.push(
                    "at a = 1, ln(1 − a) = −∞: the loss is infinite whenever y < 1, and \
                     (1 − y)/(1 − a) divides by zero"
                        .to_string(),
                );
            }
            if coordinates.reaches_up_to(1.0 + f64::EPSILON) {
                undefined.push("for a > 1, ln(1 − a) is undefined".to_string());
            }
            if coordinates.contains(0.0) || coordinates.contains(1.0) {
                undefined.push(format!(
                    "the chain rule gives ∂C/∂z = (a − y)/(a(1 − a))·{}′(z), which divides by \
                     zero at a = {}",
                    activation.symbol().0,
                    match (coordinates.contains(0.0), coordinates.contains(1.0)) {
                        (true, true) => "0 and at a = 1",
                        (true, false) => "0",
                        _ => "1",
                    }
                ));
            }
        }
        OutputRange::Simplex => {
            if range != OutputRange::LogSimplex {
                undefined.push(
                    "the outputs of a row need not sum to 1, so they are not a distribution over \
                     the classes: nothing pushes the wrong classes down"
                        .to_string(),
                );
            }
            if coordinates.reaches_down_to(0.0) {
                undefined.push(
                    "ln aₖ is undefined for aₖ ≤ 0 (−∞ at aₖ = 0, where ∂C/∂aₖ = −yₖ/aₖ divides \
                     by zero)"
                        .to_string(),
                );
            }
            if coordinates.reaches_up_to(1.0 + f64::EPSILON) {
                undefined.push(
                    "for aₖ > 1 the loss −ln aₖ of the target class is negative, and as aₖ → ∞ \
                     it falls without bound: minimising it inflates the output instead of \
                     fitting the target"
                        .to_string(),
                );
            }
        }
        OutputRange::LogSimplex => {
            if coordinates.reaches_up_to(f64::MIN_POSITIVE) {
                undefined.push(
                    "a log-probability is ≤ 0; outputs above 0 would be logarithms of \
                     probabilities greater than 1"
                        .to_string(),
                );
            }
            undefined.push(
                "the rows need not satisfy Σₖ e^aₖ = 1, so they are not log-probabilities of a \
                 distribution, and −aₖ can fall without bound"
                    .to_string(),
            );
        }
    }
    let hidden = if activation.is_rectifier() || activation == Activation::Tanh {
        format!(" Keep {} in the hidden layers.", activation.display_name())
    } else {
        String::new()
    };
    let fix = match loss.kind {
        LossKind::BinaryCrossEntropy => format!(
            "use a sigmoid output (range (0, 1)): fused with binary cross-entropy its gradient is \
             ∂C/∂z = a − y, with no division. Or keep the raw scores (identity output) and use \
             binary cross-entropy from logits.{hidden}"
        ),
        LossKind::CrossEntropy => format!(
            "use a softmax output (range: the probability simplex): fused with cross-entropy its \
             gradient is ∂C/∂z = a − y, with no division. For independent yes/no outputs \
             (multi-label) use sigmoid with binary cross-entropy instead. Or keep the raw scores \
             (identity output) and use cross-entropy from logits.{hidden}"
        ),
        LossKind::Nll | LossKind::Mse => format!(
            "use a log-softmax output, or keep the raw scores (identity output) and use \
             cross-entropy from logits.{hidden}"
        ),
    };
    (undefined, fix)
}

/// What goes wrong when a squashing output feeds a loss that squashes the logits it reads
/// again, and the fix.
fn double_squashing(activation: Activation, loss: LossKind) -> (Vec<String>, String) {
    let link = match loss {
        LossKind::BinaryCrossEntropy => "σ",
        _ => "softmax",
    };
    let inner = activation.symbol().0;
    let mut undefined = vec![format!(
        "{} from logits applies {link} to what it reads, so the model computes {link}({inner}(z)): \
         the output is squashed twice",
        loss.display_name()
    )];
    undefined.push(match (activation, loss) {
        (Activation::LogSoftmax, _) => "log-softmax only shifts a row, so softmax(log-softmax(z)) \
             = softmax(z): the numbers come out right, but the config says something it does not \
             mean, and the next change to it (another loss, an export) will be wrong"
            .to_string(),
        (_, LossKind::BinaryCrossEntropy) => format!(
            "{inner}(z) lies in (0, 1), so σ({inner}(z)) lies in (0.5, 0.731): the model can never \
             predict 'no', and its gradient is damped by the second σ′"
        ),
        _ => format!(
            "{inner}(z) lies in (0, 1), so the second softmax sees logits less than 1 apart: even a \
             perfect output gives its class a probability of at most e/(e + K − 1) for K classes \
             (0.73 for 2, 0.23 for 10), and the gradient is weak"
        ),
    });
    let same = match activation {
        Activation::LogSoftmax => "a log-softmax output with nll on log-probabilities".to_string(),
        other => format!(
            "a {} output with {} on probabilities",
            other.display_name(),
            loss.display_name()
        ),
    };
    let fix = format!(
        "use an identity output with {} from logits (the loss applies {link} itself, in log \
         space), or {same}; nabla fuses that pair and computes it from the logits.",
        loss.display_name()
    );
    (undefined, fix)
}

impl fmt::Display for IncompatibleHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loss = format!("{} on {}", self.loss.display_name(), self.from);
        writeln!(
            f,
            "refused: a {} output cannot feed {loss}.",
            self.activation.display_name()
        )?;
        if self.reason == Refusal::OutOfRange {
            let needs = match self.needed {
                OutputRange::Interval(interval) => format!("every output a in {interval}"),
                other => format!("each output row in {other}"),
            };
            writeln!(
                f,
                "  {} outputs range over {}; {loss} needs {needs}.",
                self.activation.display_name(),
                self.range
            )?;
        }
        writeln!(f, "  What goes wrong:")?;
        for item in &self.undefined {
            writeln!(f, "    - {item};")?;
        }
        match self.reason {
            Refusal::OutOfRange => writeln!(
                f,
                "  So this pairing is not a probability model: {}.",
                self.what_the_outputs_are_not()
            )?,
            Refusal::DoubleSquashing => writeln!(
                f,
                "  So this pairing squashes the output twice (a double {}).",
                self.activation.name()
            )?,
        }
        write!(f, "  Fix: {}", self.fix)
    }
}
