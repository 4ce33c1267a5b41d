//! The per-epoch metrics file (`--metrics run.jsonl`): one JSON object per epoch, flushed as
//! each epoch ends, so a crash leaves every finished epoch on disk. A write that fails is
//! remembered and reported at the end, never allowed to stop training or lose the model.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::train::EpochReport;

/// An open metrics file.
pub struct MetricsLog {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    error: Option<std::io::Error>,
}

impl MetricsLog {
    /// Creates (truncates) the file.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(path: &Path) -> Result<MetricsLog> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            writer: Some(BufWriter::new(file)),
            error: None,
        })
    }

    /// Appends one epoch's object (after the first failure, nothing more is written).
    pub fn record(&mut self, report: &EpochReport) {
        if self.error.is_some() {
            return;
        }
        if let Some(writer) = &mut self.writer {
            let line = serde_json::to_string(report).expect("a report always serialises");
            if let Err(e) = writeln!(writer, "{line}").and_then(|()| writer.flush()) {
                self.error = Some(e);
            }
        }
    }

    /// Closes the file: the first error of any write, if one failed.
    ///
    /// # Errors
    /// The first failed write, naming the file.
    pub fn finish(mut self) -> Result<()> {
        if let Some(mut writer) = self.writer.take()
            && let Err(e) = writer.flush()
            && self.error.is_none()
        {
            self.error = Some(e);
        }
        match self.error.take() {
            Some(e) => Err(Error::io(&self.path, e)),
            None => Ok(()),
        }
    }
}
