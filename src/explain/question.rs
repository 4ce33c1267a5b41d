//! What a derivation is asked about: the output activation, the loss, what form the loss reads
//! the outputs in, and which targets y may take.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::loss::{LossInput, LossKind};

/// The targets a derivation assumes: the set y ranges over, which decides where the cost is
/// defined (with y ∈ {0, 1}, 0·ln 0 = 0 keeps the cost finite where y ∈ [0, 1] makes it
/// infinite).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetSet {
    /// Hard labels: y ∈ {0, 1} (binary), one-hot y (categorical).
    #[default]
    Hard,
    /// Soft targets: y ∈ [0, 1] (binary), a distribution y (categorical: yₖ ≥ 0, Σₖ yₖ = 1).
    Soft,
}

impl std::str::FromStr for TargetSet {
    type Err = Error;

    fn from_str(text: &str) -> Result<TargetSet> {
        match text {
            "hard" => Ok(TargetSet::Hard),
            "soft" => Ok(TargetSet::Soft),
            other => Err(Error::invalid(
                "--targets",
                format!(
                    "'{other}': expected hard (y ∈ {{0, 1}}, one-hot) or soft (y ∈ [0, 1], distributions)"
                ),
            )),
        }
    }
}

impl TargetSet {
    /// The set y ranges over under `loss`, as (text, LaTeX).
    pub fn describe(self, loss: LossKind) -> (&'static str, &'static str) {
        match (loss, self) {
            (LossKind::Mse, _) => ("y any real number", "y \\in \\mathbb{R}"),
            (LossKind::BinaryCrossEntropy, TargetSet::Hard) => {
                ("y ∈ {0, 1} (hard labels)", "y \\in \\{0, 1\\}")
            }
            (LossKind::BinaryCrossEntropy, TargetSet::Soft) => {
                ("y ∈ [0, 1] (soft targets)", "y \\in [0, 1]")
            }
            (_, TargetSet::Hard) => ("y one-hot (one class per example)", "y \\text{ one-hot}"),
            (_, TargetSet::Soft) => (
                "y a distribution (yₖ ≥ 0, Σₖ yₖ = 1)",
                "y_{k} \\ge 0, \\sum_{k} y_{k} = 1",
            ),
        }
    }
}

/// A derivation's question: ∂C/∂w for this output, this loss read in this form, these targets.
///
/// ```
/// use nabla::explain::{Question, TargetSet, derive_for};
/// use nabla::{Activation, LossKind, loss::LossInput};
///
/// // PyTorch's nn.Linear + nn.CrossEntropyLoss: an identity output, the loss takes logits.
/// let question = Question::new(Activation::Identity, LossKind::CrossEntropy);
/// assert_eq!(question.from, LossInput::Logits);
/// let d = derive_for(&question.targets(TargetSet::Soft));
/// assert!(d.compatible);
/// assert_eq!(d.gradient().expr.text(), "(1/n) Σₓ (e^zᵢ/(Σₘ e^zₘ) − yᵢ)·xⱼ");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Question {
    /// The output activation σ.
    pub activation: Activation,
    /// The loss.
    pub loss: LossKind,
    /// What the loss reads the outputs as (logits, probabilities, log-probabilities).
    pub from: LossInput,
    /// Which targets y may take.
    pub targets: TargetSet,
}

impl Question {
    /// `activation` feeding `loss`, read as `nabla train` reads it by default
    /// ([`crate::head::default_from`]: logits behind an identity output, probabilities behind a
    /// sigmoid or softmax), with hard targets.
    pub fn new(activation: Activation, loss: LossKind) -> Question {
        Question {
            activation,
            loss,
            from: crate::head::default_from(activation, loss),
            targets: TargetSet::Hard,
        }
    }

    /// The question as the command line and the Python package name it: an activation, the
    /// loss (the pairing table's default for the activation when `None`), the form the loss
    /// reads (`nabla train`'s default when `None`) and the targets ("hard" or "soft").
    ///
    /// # Errors
    /// A name nabla does not know, or a form the loss does not read (see [`Question::from`]).
    pub fn named(
        activation: &str,
        loss: Option<&str>,
        from: Option<&str>,
        targets: &str,
    ) -> Result<Question> {
        let activation: Activation = activation.parse()?;
        let loss: LossKind = match loss {
            Some(loss) => loss.parse()?,
            None => crate::head::default_loss(activation),
        };
        let question = Question::new(activation, loss).targets(targets.parse()?);
        match from {
            Some(from) => question.from(from.parse()?),
            None => Ok(question),
        }
    }

    /// The same question with the loss reading the outputs as `from`.
    ///
    /// # Errors
    /// A form the loss does not read: NLL reads log-probabilities; MSE reads values (logits).
    pub fn from(mut self, from: LossInput) -> Result<Question> {
        let fits = match self.loss {
            LossKind::Nll => from == LossInput::LogProbabilities,
            LossKind::Mse => from == LossInput::Logits,
            LossKind::BinaryCrossEntropy | LossKind::CrossEntropy => {
                from != LossInput::LogProbabilities
            }
        };
        if !fits {
            return Err(Error::invalid(
                "--from",
                format!(
                    "{} does not read {from}: explain derives binary and categorical \
                     cross-entropy from probabilities or logits, NLL from log-probabilities and \
                     MSE from values",
                    self.loss.display_name()
                ),
            ));
        }
        self.from = from;
        Ok(self)
    }

    /// The same question with targets `targets`.
    pub fn targets(mut self, targets: TargetSet) -> Question {
        self.targets = targets;
        self
    }

    /// Whether the loss applies softmax or sigmoid itself (it reads logits).
    pub fn reads_logits(&self) -> bool {
        self.from == LossInput::Logits && self.loss != LossKind::Mse
    }
}
