//! How a CSV file is laid out, as tools write it: its separator (a comma, or the semicolon and
//! tab that spreadsheets and European locales write) and an index column (pandas' `to_csv`
//! writes the row numbers first, under an empty name). Each is told from the header line when
//! not given, and every guess is said in a note (no silent guesses).

use serde::{Deserialize, Serialize};

/// Which column of a CSV file is an index (row numbers, not a feature).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndexColumn {
    /// A first column with no name (what pandas writes for its index, also as `Unnamed: 0`)
    /// is the index; otherwise there is none.
    #[default]
    Auto,
    /// There is no index column: every column is a feature or a label (`--no-index`).
    None,
    /// The column of this name (or 0-based number) is the index (`--index-column`).
    Named(String),
}

impl IndexColumn {
    /// Whether this is the default.
    pub fn is_auto(&self) -> bool {
        *self == IndexColumn::Auto
    }

    /// The index column of `header` (`has_header`: its names are the file's), and a note when
    /// it was recognised rather than given.
    ///
    /// # Errors
    /// A named index column that is not in the header.
    pub fn find(
        &self,
        header: &[String],
        has_header: bool,
    ) -> Result<(Option<usize>, Option<String>), String> {
        match self {
            IndexColumn::None => Ok((None, None)),
            IndexColumn::Named(name) => header
                .iter()
                .position(|h| h == name)
                .or_else(|| name.parse::<usize>().ok().filter(|&c| c < header.len()))
                .map(|c| (Some(c), None))
                .ok_or_else(|| {
                    format!(
                        "--index-column: no column '{name}'; the header has: {}",
                        header.join(", ")
                    )
                }),
            IndexColumn::Auto => {
                let unnamed = has_header
                    && header.len() > 1
                    && (header[0].is_empty() || header[0] == "Unnamed: 0");
                Ok(if unnamed {
                    (
                        Some(0),
                        Some(
                            "the first column has no name: it is read as the row index pandas \
                             writes and not used as a feature (--no-index to use it)"
                                .to_string(),
                        ),
                    )
                } else {
                    (None, None)
                })
            }
        }
    }
}

/// What to do with a row that has a missing cell (empty, or a marker such as `NA` or `NaN`,
/// as pandas reads them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    /// Refuse the file, naming the column and line, with the options (nabla does not guess).
    #[default]
    Refuse,
    /// Leave such rows out, and say how many.
    Drop,
    /// Fill a missing feature with its column's mean over the training rows (stored in the
    /// model, which fills new rows the same way).
    Mean,
    /// The same with the median.
    Median,
}

impl Missing {
    /// Whether missing features are filled (a missing label still drops nothing: refused).
    pub fn fills(self) -> bool {
        matches!(self, Missing::Mean | Missing::Median)
    }
}

impl std::str::FromStr for Missing {
    type Err = String;

    fn from_str(text: &str) -> Result<Missing, String> {
        match text {
            "refuse" | "error" => Ok(Missing::Refuse),
            "drop" => Ok(Missing::Drop),
            "mean" => Ok(Missing::Mean),
            "median" => Ok(Missing::Median),
            other => Err(format!(
                "'{other}' is not one of refuse, drop, mean, median"
            )),
        }
    }
}

/// Whether a cell is missing: empty, or one of the markers pandas reads as missing (`NA`,
/// `NaN`, `null`, `None`, `N/A`, `#N/A`, `<NA>`, …).
pub fn is_missing(cell: &str) -> bool {
    const MARKERS: [&str; 18] = [
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan",
    ];
    MARKERS.contains(&cell) || cell == "null"
}

/// A boolean cell as a number: `True`/`False` (as pandas writes them; any case) as 1 and 0.
pub fn boolean(cell: &str) -> Option<f32> {
    if cell.eq_ignore_ascii_case("true") {
        Some(1.0)
    } else if cell.eq_ignore_ascii_case("false") {
        Some(0.0)
    } else {
        None
    }
}

/// The separators told from a header line, most likely first.
const SEPARATORS: [u8; 3] = [b',', b';', b'\t'];

/// The separator of a file whose first line is `line`: `given` when there is one, else the one
/// of comma, semicolon and tab that occurs most often outside quotes (a comma on a tie or when
/// none occurs).
pub fn separator(line: &[u8], given: Option<u8>) -> u8 {
    if let Some(given) = given {
        return given;
    }
    let mut counts = [0usize; SEPARATORS.len()];
    let mut quoted = false;
    for &byte in line {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(k) = SEPARATORS.iter().position(|&s| s == byte) {
            counts[k] += 1;
        }
    }
    let best = (0..SEPARATORS.len())
        .max_by_key(|&k| (counts[k], std::cmp::Reverse(k)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        SEPARATORS[best]
    }
}

/// The separator's name in notes: "comma", "semicolon", "tab", or the character.
pub fn separator_name(separator: u8) -> String {
    match separator {
        b',' => "comma".into(),
        b';' => "semicolon".into(),
        b'\t' => "tab".into(),
        other => format!("'{}'", other as char),
    }
}

/// A separator given as text: one ASCII character, or `tab` / `\t`.
///
/// # Errors
/// Anything else.
pub fn parse_separator(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "comma" => Ok(b','),
        "semicolon" => Ok(b';'),
        _ if text.len() == 1 && text.is_ascii() && text != "\"" && text != "\n" => {
            Ok(text.as_bytes()[0])
        }
        _ => Err(format!(
            "'{text}' is not a separator: give one character (, ; |) or tab"
        )),
    }
}

/// "a, b, c" for up to eight names, else the first six, "…" and the last.
pub fn name_list(names: &[String]) -> String {
    if names.len() <= 8 {
        names.join(", ")
    } else {
        format!("{}, …, {}", names[..6].join(", "), names[names.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_is_told_from_the_header_line() {
        assert_eq!(separator(b"a,b,label", None), b',');
        assert_eq!(separator(b"a;b;label", None), b';');
        assert_eq!(separator(b"a\tb\tlabel", None), b'\t');
        assert_eq!(
            separator(b"\"x;y\",b,label", None),
            b',',
            "quoted ; do not count"
        );
        assert_eq!(separator(b"label", None), b',');
        assert_eq!(
            separator(b"a;b;label", Some(b',')),
            b',',
            "a given one wins"
        );
        assert_eq!(parse_separator("tab"), Ok(b'\t'));
        assert!(parse_separator("ab").is_err());
    }

    #[test]
    fn missing_markers_and_booleans_are_read_as_pandas_reads_them() {
        for cell in ["", "NA", "NaN", "null", "None", "<NA>", "N/A"] {
            assert!(is_missing(cell), "{cell:?}");
        }
        assert!(!is_missing("0") && !is_missing("inf") && !is_missing("Na"));
        assert_eq!(boolean("True"), Some(1.0));
        assert_eq!(boolean("false"), Some(0.0));
        assert_eq!(boolean("yes"), None);
    }

    #[test]
    fn an_unnamed_first_column_is_the_pandas_index() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let pandas = names(&["", "a", "label"]);
        assert_eq!(IndexColumn::Auto.find(&pandas, true).unwrap().0, Some(0));
        assert_eq!(
            IndexColumn::Auto
                .find(&names(&["Unnamed: 0", "a"]), true)
                .unwrap()
                .0,
            Some(0)
        );
        assert_eq!(IndexColumn::None.find(&pandas, true).unwrap().0, None);
        assert_eq!(
            IndexColumn::Auto.find(&names(&["a", "b"]), true).unwrap().0,
            None
        );
        let id = IndexColumn::Named("id".into());
        assert_eq!(id.find(&names(&["id", "a"]), true).unwrap().0, Some(0));
        assert!(id.find(&names(&["a"]), true).is_err());
    }
}
