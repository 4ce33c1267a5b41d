//! [`Format`]: the output formats of the commands that print results (`explain`, `evaluate`,
//! `predict`), one spelling for all; each command accepts the ones that fit what it prints.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text for a terminal.
    Text,
    /// One JSON object.
    Json,
    /// One JSON object per line (per row).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// LaTeX (ASCII only, for pdflatex).
    Latex,
    /// Markdown with `$…$` math.
    Markdown,
}

impl Format {
    /// Every format's name.
    pub const NAMES: &'static str = "text, json, jsonl, csv, latex, markdown";

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Latex => "latex",
            Format::Markdown => "markdown",
        }
    }

    /// Refuses a format `command` does not print, naming the ones it does.
    ///
    /// # Errors
    /// `self` is not among `supported`.
    pub fn check(self, command: &str, supported: &[Format]) -> Result<Format> {
        if supported.contains(&self) {
            Ok(self)
        } else {
            Err(Error::invalid(
                "format",
                format!(
                    "{command} prints {}, not {}",
                    supported
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.name()
                ),
            ))
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" | "json-lines" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "latex" | "tex" => Ok(Format::Latex),
            "markdown" | "md" => Ok(Format::Markdown),
            _ => Err(Error::UnknownName {
                kind: "format",
                name: text.into(),
                expected: Format::NAMES.into(),
            }),
        }
    }
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Word-wraps `text` to `width` columns; continuation lines start with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    // "a = 1" stays on one line: relations are glued to both neighbours.
    let mut words: Vec<String> = Vec::new();
    let mut glue = false;
    for word in text.split(' ') {
        let relation = matches!(word, "=" | "<" | ">" | "≤" | "≥");
        match words.last_mut() {
            Some(last) if relation || glue => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        glue = relation;
    }
    let mut out = String::new();
    let mut column = 0;
    for word in &words {
        let length = word.chars().count();
        if column > 0 && column + 1 + length > width {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            out.push_str(indent);
            column = indent.chars().count();
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += length;
    }
    out
}

/// "a" or "an" before `word`, by its first letter ("an identity", "a ReLU", "a sigmoid").
pub fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}
