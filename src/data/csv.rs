//! CSV tables with a header row: numeric feature columns and one label column.
//!
//! The label column is chosen by name or 0-based index; by default it is the column named
//! `label` (or `target`, `class`, `y`), else the last one. Labels that are all numbers must be
//! whole numbers ≥ 0 (class indices); otherwise every label is a class name, and the classes are
//! the distinct names in sorted order.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::{Dataset, LoadOptions, MAX_CLASSES, class_labels};
use crate::error::{Error, Result};

/// Reads a CSV table from `reader`; `path` names it in errors.
pub fn read_csv<R: Read>(reader: R, path: &Path, options: &LoadOptions) -> Result<Dataset> {
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let fail = |line: Option<u64>, message: String| {
        Error::data(path, line.map(|l| format!("line {l}")), message)
    };
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| fail(Some(1), format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(fail(
            Some(1),
            "the file is empty; expected a header row of column names".into(),
        ));
    }
    let label_column = label_column(&header, options).map_err(|m| fail(Some(1), m))?;
    let width = header.len();
    let feature_count = width - usize::from(label_column.is_some());
    if feature_count == 0 {
        return Err(fail(
            Some(1),
            "no feature columns besides the label column".into(),
        ));
    }

    let mut features: Vec<f32> = Vec::new();
    let mut raw_labels: Vec<(String, u64)> = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line());
                return Err(fail(line, format!("not valid CSV: {e}")));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0) == Some("") {
            continue; // a blank line
        }
        if record.len() != width {
            return Err(fail(
                Some(line),
                format!(
                    "expected {width} fields like the header, got {}",
                    record.len()
                ),
            ));
        }
        for (column, cell) in record.iter().enumerate() {
            if Some(column) == label_column {
                raw_labels.push((cell.to_string(), line));
                continue;
            }
            let value: f32 = cell.parse().map_err(|_| {
                fail(
                    Some(line),
                    format!("column '{}': '{cell}' is not a number", header[column]),
                )
            })?;
            if !value.is_finite() {
                return Err(fail(
                    Some(line),
                    format!(
                        "column '{}': '{cell}' is not a finite number",
                        header[column]
                    ),
                ));
            }
            features.push(value);
        }
    }
    let rows = features.len() / feature_count;
    if rows == 0 {
        return Err(fail(None, "no data rows after the header".into()));
    }
    let features = Array2::from_shape_vec((rows, feature_count), features)
        .expect("every row contributed feature_count values");
    let (labels, label_names) = match label_column {
        Some(_) => parse_labels(&raw_labels).map_err(|(line, m)| fail(Some(line), m))?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(Dataset {
        features,
        labels,
        label_names,
    })
}

/// Resolves the label column from the options and the header.
fn label_column(header: &[String], options: &LoadOptions) -> Result<Option<usize>, String> {
    if let Some(chosen) = &options.label_column {
        if let Ok(index) = chosen.parse::<usize>() {
            return if index < header.len() {
                Ok(Some(index))
            } else {
                Err(format!(
                    "label column index {index} is out of range: the header has {} columns (0..{})",
                    header.len(),
                    header.len()
                ))
            };
        }
        return header
            .iter()
            .position(|h| h == chosen)
            .or_else(|| header.iter().position(|h| h.eq_ignore_ascii_case(chosen)))
            .map(Some)
            .ok_or_else(|| {
                let shown: Vec<&str> = header.iter().take(12).map(String::as_str).collect();
                let more = if header.len() > 12 {
                    format!(", … ({} columns)", header.len())
                } else {
                    String::new()
                };
                format!(
                    "no column named '{chosen}'; the header has: {}{more}",
                    shown.join(", ")
                )
            });
    }
    let named = ["label", "target", "class", "y"]
        .iter()
        .find_map(|name| header.iter().position(|h| h.eq_ignore_ascii_case(name)));
    match options.expected_features {
        Some(n) if header.len() == n => Ok(None),
        Some(n) if header.len() == n + 1 => Ok(Some(named.unwrap_or(header.len() - 1))),
        Some(n) => Err(format!(
            "expected {n} feature columns (the model's inputs), optionally plus a label column; \
             the header has {}",
            header.len()
        )),
        None if header.len() < 2 && options.require_labels => {
            Err("expected at least two columns: features and a label".into())
        }
        None => Ok(Some(named.unwrap_or(header.len() - 1))),
    }
}

/// Class indices from label cells: numbers → indices, otherwise names in sorted order.
fn parse_labels(cells: &[(String, u64)]) -> Result<(Vec<usize>, Vec<String>), (u64, String)> {
    if let Some((_, line)) = cells.iter().find(|(c, _)| c.is_empty()) {
        return Err((*line, "the label cell is empty".into()));
    }
    let numeric = cells.iter().all(|(c, _)| c.parse::<f64>().is_ok());
    if numeric {
        let values: Vec<f64> = cells
            .iter()
            .map(|(c, _)| c.parse().expect("checked numeric"))
            .collect();
        return class_labels(&values).map_err(|(i, message)| (cells[i].1, message));
    }
    let names: Vec<String> = cells
        .iter()
        .map(|(c, _)| c.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if names.len() > MAX_CLASSES {
        return Err((
            0,
            format!(
                "{} distinct labels: at most {MAX_CLASSES} classes are supported",
                names.len()
            ),
        ));
    }
    let labels = cells
        .iter()
        .map(|(c, _)| names.binary_search(c).expect("every label is in the set"))
        .collect();
    Ok((labels, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, options: &LoadOptions) -> Result<Dataset> {
        read_csv(text.as_bytes(), Path::new("t.csv"), options)
    }

    #[test]
    fn reads_features_and_numeric_labels() {
        let d = read("a,b,label\n1,2,0\n3,4,2\n", &LoadOptions::default()).unwrap();
        assert_eq!(d.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(d.labels, vec![0, 2]);
        assert_eq!(d.classes(), 3);
    }

    #[test]
    fn label_column_by_name_index_or_default_last() {
        let text = "species,x,y2\nb,1,2\na,3,4\n";
        let by_name = LoadOptions {
            label_column: Some("species".into()),
            ..Default::default()
        };
        let d = read(text, &by_name).unwrap();
        assert_eq!(d.label_names, vec!["a", "b"]);
        assert_eq!(d.labels, vec![1, 0]);
        let by_index = LoadOptions {
            label_column: Some("0".into()),
            ..Default::default()
        };
        assert_eq!(read(text, &by_index).unwrap().labels, vec![1, 0]);
        let last = read("x,y2,z\n1,2,0\n3,4,1\n", &LoadOptions::default()).unwrap();
        assert_eq!(last.labels, vec![0, 1]);
        assert_eq!(last.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        // Without a choice, a text column that is not the label is a bad feature.
        let error = read(text, &LoadOptions::default()).unwrap_err().to_string();
        assert!(
            error.contains("column 'species': 'b' is not a number"),
            "{error}"
        );
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let cases = [
            (
                "a,label\n1,0\n2\n",
                "t.csv, line 3: expected 2 fields like the header, got 1",
            ),
            (
                "a,label\n1,0\nx,1\n",
                "t.csv, line 3: column 'a': 'x' is not a number",
            ),
            (
                "a,label\nNaN,0\n",
                "line 2: column 'a': 'NaN' is not a finite number",
            ),
            ("a,label\ninf,0\n", "'inf' is not a finite number"),
            (
                "a,label\n1,1.5\n",
                "line 2: label '1.5' is not a class index",
            ),
            ("a,label\n1,-1\n", "label '-1' is not a class index"),
            ("a,label\n1,99999999\n", "too large"),
            ("a,label\n", "no data rows"),
            ("", "the file is empty"),
            ("a,label\n1,\n", "the label cell is empty"),
        ];
        for (text, expected) in cases {
            let error = read(text, &LoadOptions::default()).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        let missing = LoadOptions {
            label_column: Some("kind".into()),
            ..Default::default()
        };
        let error = read("a,b\n1,2\n", &missing).unwrap_err().to_string();
        assert!(
            error.contains("no column named 'kind'; the header has: a, b"),
            "{error}"
        );
    }

    #[test]
    fn expected_width_decides_whether_a_label_column_is_present() {
        let two = LoadOptions {
            expected_features: Some(2),
            require_labels: false,
            ..Default::default()
        };
        let d = read("a,b\n1,2\n", &two).unwrap();
        assert!(d.labels.is_empty() && d.features.ncols() == 2);
        let d = read("a,b,label\n1,2,1\n", &two).unwrap();
        assert_eq!(d.labels, vec![1]);
        assert!(read("a,b,c,d\n1,2,3,4\n", &two).is_err());
    }
}
