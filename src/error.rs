//! Typed errors of the library. Each variant names what was wrong (field, file, position) and
//! what was expected; the binary maps every one of them to exit code 2.

use std::path::PathBuf;

use crate::head::IncompatibleHead;

/// Everything the library can refuse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An output activation paired with a loss that needs a range the activation does not have.
    #[error("{0}")]
    IncompatibleHead(Box<IncompatibleHead>),

    /// Training met NaN or ∞.
    #[error(
        "numerical fault at epoch {}, step {} (step {} overall): NaN or ∞ in {}",
        .0.epoch, .0.step, .0.global_step, .0.place
    )]
    Anomaly(Box<crate::train::Anomaly>),

    /// Training stopped (a numerical fault, with where the last good state went and advice).
    #[error("{0}")]
    Training(String),
    /// Training was interrupted (a Python KeyboardInterrupt) before it finished.
    #[error("interrupted")]
    Interrupted,

    /// Two arrays whose shapes must agree do not.
    #[error("{what}: expected shape {expected}, got {got}")]
    Shape {
        /// Which array (e.g. "target").
        what: String,
        /// The shape that was needed.
        expected: String,
        /// The shape that was given.
        got: String,
    },

    /// A value outside what a field accepts.
    #[error("{field}: {message}")]
    InvalidValue {
        /// The field or position (e.g. `target[3]`, `label_smoothing`).
        field: String,
        /// What was wrong and what was expected.
        message: String,
    },

    /// A name that is not one of the known choices.
    #[error("unknown {kind} '{name}': expected one of {expected}")]
    UnknownName {
        /// What kind of name (activation, loss, ...).
        kind: &'static str,
        /// The name that was given.
        name: String,
        /// The accepted names.
        expected: String,
    },

    /// A data or model file that could not be read as what it claims to be.
    #[error("{}{}: {message}", path.display(), location.as_deref().map(|l| format!(", {l}")).unwrap_or_default())]
    Data {
        /// The file.
        path: PathBuf,
        /// Where in it (line, byte offset, tensor name), when known.
        location: Option<String>,
        /// What was wrong and what was expected.
        message: String,
    },

    /// An operating-system error while reading or writing a file. (The cause is part of the
    /// message, not a separate source, so a chain of errors prints it once.)
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidValue`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidValue {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Shape`] from two `rows × cols` pairs.
    pub fn shape(what: impl Into<String>, expected: (usize, usize), got: (usize, usize)) -> Self {
        Error::Shape {
            what: what.into(),
            expected: format!("{} × {}", expected.0, expected.1),
            got: format!("{} × {}", got.0, got.1),
        }
    }

    /// Shorthand for [`Error::Data`].
    pub fn data(
        path: impl Into<PathBuf>,
        location: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Data {
            path: path.into(),
            location,
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }

    /// Whether this is a write to a closed pipe (`nabla … | head`), which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { cause, .. } if cause.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
