//! [`Reporter`]: what a run tells its caller (the lines of its report, notes, and as an
//! observer its progress), and [`Collect`], a reporter that keeps them.

use crate::data::LoadProgress;
use crate::prepare::Prepared;
use crate::train::Observer;

/// Receives what a run reports: the lines of its report, notes for the user, and (as an
/// [`Observer`]) the progress of training.
pub trait Reporter: Observer {
    /// One line of the run's report ("data: …", "model: …", "saved …", the test score).
    fn line(&mut self, text: &str);
    /// Something worth knowing that is not part of the report (a warning, a note).
    fn note(&mut self, text: &str);
    /// A download's progress.
    fn download(&mut self, _progress: LoadProgress) {}
    /// The rows as prepared (split and normalised), before the network is built: what the
    /// network will see, for a caller that draws them.
    fn prepared(&mut self, _prepared: &Prepared) {}
}

/// A reporter that keeps the lines and notes (for tests, and for callers that print later).
#[derive(Debug, Default)]
pub struct Collect {
    /// The report's lines.
    pub lines: Vec<String>,
    /// The notes.
    pub notes: Vec<String>,
}

impl Observer for Collect {}

impl Reporter for Collect {
    fn line(&mut self, text: &str) {
        self.lines.push(text.to_string());
    }
    fn note(&mut self, text: &str) {
        self.notes.push(text.to_string());
    }
}
