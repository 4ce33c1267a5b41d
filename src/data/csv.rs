//! CSV tables: numeric feature columns and one or more label columns, with or without a
//! header row.
//!
//! The label columns are chosen by name or 0-based index; by default it is the column named
//! `label` (or `target`, `class`, `y`), else the last one. What the label columns mean (class
//! indices or names, multi-label values, distributions, real values) is decided in
//! `label_columns.rs`. A first line of numbers only is data, not a header (say so with
//! [`Header`]); the columns are then named by their index.

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::csv_columns::{LABEL_NAMES, column_roles};
use super::csv_layout;
use super::label_columns::{LabelColumn, labels_from_columns};
use super::{Dataset, Header, LoadOptions, TargetsChoice};
use crate::error::{Error, Result};

/// Reads a CSV table from `reader`; `path` names it in errors. Returns the rows and notes for
/// the user (a first line read as data, classes that never occur).
pub fn read_csv<R: Read>(
    reader: R,
    path: &Path,
    options: &LoadOptions,
) -> Result<(Dataset, Vec<String>)> {
    let mut features: Vec<f32> = Vec::new();
    let mut cells: Vec<Vec<String>> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let table = read_rows(reader, path, options, &mut |line, values, labels| {
        features.extend_from_slice(values);
        if features.len() > super::MAX_DATA_VALUES {
            return Err(Error::data(
                path,
                Some(format!("line {line}")),
                format!(
                    "more than {} feature values: larger than nabla reads from one data file",
                    super::MAX_DATA_VALUES
                ),
            ));
        }
        cells.resize_with(labels.len(), Vec::new);
        for (column, &cell) in cells.iter_mut().zip(labels) {
            column.push(cell.to_string());
        }
        lines.push(line);
        Ok(())
    })?;
    let mut notes = table.notes;
    let rows = lines.len();
    let features = Array2::from_shape_vec((rows, table.features.len()), features)
        .expect("every row contributed one value per feature column");
    let labels = if table.labels.is_empty() {
        super::Labels::None
    } else {
        let mut choice = options.targets_for(true);
        if choice == TargetsChoice::Auto
            && let [column] = cells.as_slice()
            && let Some(why) = real_valued(column)
        {
            notes.push(format!(
                "{}: the label column '{}' {why}, so it is trained as a regression (mean \
                 squared error); --targets classes reads its values as class names",
                path.display(),
                table.labels[0]
            ));
            choice = TargetsChoice::Task(super::Task::Regression);
        }
        let columns = cells.into_iter().map(LabelColumn::from_cells).collect();
        let (labels, label_notes) =
            labels_from_columns(columns, table.labels, choice, options.labels_as)
                .map_err(|(row, m)| Error::data(path, Some(format!("line {}", lines[row])), m))?;
        notes.extend(label_notes);
        // A guessed label column with as many classes as a feature has values.
        let classes = match &labels {
            super::Labels::Classes { indices, .. } => {
                let mut seen: Vec<usize> = indices.clone();
                seen.sort_unstable();
                seen.dedup();
                seen.len()
            }
            _ => 0,
        };
        if table.label_is_last_by_default && classes > 10.max(rows / 10) {
            notes.push(format!(
                "{}: the label column, guessed as the last one, takes {classes} values in {rows} \
                 rows: it looks like a feature; if another column is the label, name it with \
                 --label-column",
                path.display()
            ));
        }
        labels
    };
    let dataset = Dataset::with_labels(features, labels)?.with_feature_names(table.features);
    Ok((dataset, notes))
}

/// Why a label column's cells are real values rather than classes, if they are: numbers, some
/// not whole (`2.5`), or numbers written as decimals (`151.0`, as pandas writes a float column)
/// taking more distinct values than 20 and a tenth of the rows (a class column written as
/// `0.0`/`1.0` stays classes).
fn real_valued(cells: &[String]) -> Option<String> {
    let values: Vec<f64> = cells
        .iter()
        .map(|c| c.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()?;
    if let Some(v) = values.iter().find(|v| v.fract() != 0.0) {
        return Some(format!("holds numbers that are not whole (such as {v})"));
    }
    let decimal = cells.iter().any(|c| c.contains(['.', 'e', 'E']));
    let mut distinct: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    (decimal && distinct.len() > 20.max(values.len() / 10)).then(|| {
        format!(
            "holds decimal numbers with {} distinct values in {} rows",
            distinct.len(),
            values.len()
        )
    })
}

/// Where [`read_rows`] hands each row: (its line, its feature values, its label cells).
pub(crate) type RowSink<'a> = dyn FnMut(u64, &[f32], &[&str]) -> Result<()> + 'a;

/// What [`read_rows`] found besides the rows: the names of the feature and label columns (in
/// the order their values are handed over), and notes for the user.
pub(crate) struct CsvColumns {
    pub features: Vec<String>,
    pub labels: Vec<String>,
    pub notes: Vec<String>,
    /// The label column was taken as the last one, for want of a name.
    pub label_is_last_by_default: bool,
}

/// Reads a CSV table row by row, in bounded memory: finds the header (or names the columns
/// by index) and which columns are features and labels, then hands each data row to `row` as
/// (its line, its feature values, its label cells), checked: as many fields as the header,
/// finite numbers for the features, no empty label cell. At least one data row.
pub(crate) fn read_rows<R: Read>(
    reader: R,
    path: &Path,
    options: &LoadOptions,
    row: &mut RowSink<'_>,
) -> Result<CsvColumns> {
    let fail = |line: Option<u64>, message: String| {
        Error::data(path, line.map(|l| format!("line {l}")), message)
    };
    let mut notes = Vec::new();
    // The separator, told from the first line unless given.
    let mut buffered = std::io::BufReader::with_capacity(1 << 16, LineLimit::new(reader));
    let start = std::io::BufRead::fill_buf(&mut buffered).map_err(|e| Error::io(path, e))?;
    let first_line = start.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let separator = csv_layout::separator(first_line, options.delimiter);
    if options.delimiter.is_none() && separator != b',' {
        notes.push(format!(
            "{}: columns separated by {}s (told from the first line; --delimiter to choose)",
            path.display(),
            csv_layout::separator_name(separator)
        ));
    }
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .trim(::csv::Trim::All)
        .from_reader(buffered);
    let mut record = ::csv::StringRecord::new();
    let first = loop {
        match csv.read_record(&mut record) {
            Ok(false) => {
                return Err(fail(
                    Some(1),
                    "the file is empty; expected rows of comma-separated values".into(),
                ));
            }
            Ok(true) if record.len() == 1 && record.get(0) == Some("") => continue,
            Ok(true) => break record.clone(),
            Err(e) => {
                let line = e.position().map(|p| p.line());
                return Err(fail(line, format!("not valid CSV: {e}")));
            }
        }
    };
    let numeric_first = first.iter().all(|c| c.parse::<f64>().is_ok());
    let has_header = match options.header {
        Header::Present => true,
        Header::Absent => false,
        Header::Auto => {
            if numeric_first {
                notes.push(format!(
                    "{}: the first line holds only numbers, so it is read as data, not as a \
                     header; the columns are named by their index (--header if it is a header)",
                    path.display()
                ));
            }
            !numeric_first
        }
    };
    let header: Vec<String> = if has_header {
        first.iter().map(str::to_string).collect()
    } else {
        (0..first.len()).map(|c| c.to_string()).collect()
    };
    if header.iter().all(String::is_empty) {
        return Err(fail(
            Some(1),
            "the first line is empty; expected a header row of column names".into(),
        ));
    }
    if has_header {
        // One pass with a map: a search of the columns before each one took quadratic time
        // (10⁶ columns did not finish in 120 s).
        let mut seen: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(header.len());
        for (j, name) in header.iter().enumerate() {
            if let Some(&first) = seen.get(name.as_str()) {
                return Err(fail(
                    Some(1),
                    format!(
                        "column '{name}' appears twice in the header (columns {first} and {j}): \
                         name each column once"
                    ),
                ));
            }
            seen.insert(name.as_str(), j);
        }
    }
    if let (Some(names), false) = (&options.feature_names, has_header) {
        notes.push(format!(
            "{}: no header, so the columns are taken as the model's features by position ({}): \
             give the file a header to have them matched by name",
            path.display(),
            names.join(", ")
        ));
    }
    let (index, index_note) = options
        .index_column
        .find(&header, has_header)
        .map_err(|m| fail(Some(1), m))?;
    if let Some(note) = index_note {
        notes.push(format!("{}: {note}", path.display()));
    }
    let roles = column_roles(&header, has_header, index, options).map_err(|m| fail(Some(1), m))?;
    let width = header.len();
    let names =
        |columns: &[usize]| -> Vec<String> { columns.iter().map(|&c| header[c].clone()).collect() };
    let guessed = options.label_columns.is_empty();
    let by_name = |c: usize| {
        LABEL_NAMES
            .iter()
            .any(|n| header[c].eq_ignore_ascii_case(n))
    };
    // The label column taken as the last one, for want of a name: the guess most worth doubting.
    let last_by_default = guessed
        && options.feature_names.is_none()
        && options.expected_features.is_none()
        && roles.labels.first().is_some_and(|&c| !by_name(c));
    if !roles.labels.is_empty() {
        let label_names = names(&roles.labels);
        notes.push(format!(
            "{}: {} {} ({}); {} {}: {}",
            path.display(),
            if label_names.len() == 1 {
                "label column"
            } else {
                "label columns"
            },
            label_names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if !guessed {
                "as given"
            } else if options.feature_names.is_some() || options.expected_features.is_some() {
                "the column the model's features leave; --label-column to choose"
            } else if by_name(roles.labels[0]) {
                "by its name; --label-column to choose another"
            } else {
                "the last column, as no column is named label, target, class or y; \
                 --label-column to choose another"
            },
            roles.features.len(),
            if roles.features.len() == 1 {
                "feature"
            } else {
                "features"
            },
            csv_layout::name_list(&names(&roles.features))
        ));
    }

    let mut values: Vec<f32> = Vec::with_capacity(roles.features.len());
    let mut rows = 0u64;
    let mut dropped = 0u64;
    let mut booleans = vec![false; width];
    let missing_hint = "nabla does not guess a value: --missing drop leaves out the rows with \
                        a missing cell";
    let mut take = |record: &::csv::StringRecord, line: u64| -> Result<()> {
        if record.len() != width {
            return Err(fail(
                Some(line),
                format!(
                    "expected {width} fields like the {}, got {}",
                    if has_header { "header" } else { "first line" },
                    record.len()
                ),
            ));
        }
        values.clear();
        let has_missing = roles
            .features
            .iter()
            .chain(&roles.labels)
            .find(|&&c| csv_layout::is_missing(&record[c]));
        let label_missing = roles
            .labels
            .iter()
            .find(|&&c| csv_layout::is_missing(&record[c]));
        let has_missing = if options.missing.fills() {
            label_missing
        } else {
            has_missing
        };
        if let Some(&column) = has_missing {
            if options.missing == csv_layout::Missing::Drop {
                dropped += 1;
                return Ok(());
            }
            let cell = &record[column];
            let shown = if cell.is_empty() {
                "an empty cell".to_string()
            } else {
                format!("'{cell}'")
            };
            return Err(fail(
                Some(line),
                format!(
                    "column '{}': a missing value ({shown}); {missing_hint}",
                    header[column]
                ),
            ));
        }
        for &column in &roles.features {
            let cell = &record[column];
            if csv_layout::is_missing(cell) {
                // Filled after the split, from the training rows (--missing mean|median).
                values.push(f32::NAN);
                continue;
            }
            if let Some(value) = csv_layout::boolean(cell) {
                booleans[column] = true;
                values.push(value);
                continue;
            }
            let value: f32 = cell.parse().map_err(|_| {
                let hint = if last_by_default {
                    format!(
                        " (the label column was guessed as '{}': if '{}' is the label, say \
                         --label-column {}; text features are not read)",
                        header[roles.labels[0]], header[column], header[column]
                    )
                } else {
                    String::new()
                };
                fail(
                    Some(line),
                    format!(
                        "column '{}': '{cell}' is not a number{hint}",
                        header[column]
                    ),
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
            values.push(value);
        }
        let mut labels = Vec::with_capacity(roles.labels.len());
        for &column in &roles.labels {
            let cell = &record[column];
            if cell.is_empty() {
                return Err(fail(
                    Some(line),
                    format!("the label cell of column '{}' is empty", header[column]),
                ));
            }
            labels.push(cell);
        }
        rows += 1;
        row(line, &values, &labels)
    };
    if !has_header {
        take(&first, first.position().map_or(1, |p| p.line()))?;
    }
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
        take(&record, line)?;
    }
    if dropped > 0 {
        notes.push(format!(
            "{}: left out {dropped} {} with a missing cell (--missing drop); {rows} remain",
            path.display(),
            if dropped == 1 { "row" } else { "rows" }
        ));
    }
    let true_false: Vec<String> = (0..width)
        .filter(|&c| booleans[c])
        .map(|c| header[c].clone())
        .collect();
    if !true_false.is_empty() {
        notes.push(format!(
            "{}: True/False read as 1/0 in {}",
            path.display(),
            csv_layout::name_list(&true_false)
        ));
    }
    if rows == 0 {
        let why = if dropped > 0 {
            format!("no data rows left: all {dropped} have a missing cell")
        } else {
            "no data rows after the header".into()
        };
        return Err(fail(None, why));
    }
    Ok(CsvColumns {
        features: roles.features.iter().map(|&c| header[c].clone()).collect(),
        labels: roles.labels.iter().map(|&c| header[c].clone()).collect(),
        notes,
        label_is_last_by_default: last_by_default,
    })
}

/// The longest line a CSV file may have (16 MiB): a row of a million features fits, and a
/// file that is one endless line is refused instead of read into memory whole.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// A reader that fails once a line runs longer than [`MAX_LINE_BYTES`].
struct LineLimit<R> {
    inner: R,
    since_newline: usize,
}

impl<R: Read> LineLimit<R> {
    fn new(inner: R) -> Self {
        LineLimit {
            inner,
            since_newline: 0,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        for &byte in &buffer[..n] {
            if byte == b'\n' {
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("a line is longer than {MAX_LINE_BYTES} bytes"),
                    ));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Labels, Task};

    fn read(text: &str, options: &LoadOptions) -> Result<Dataset> {
        read_csv(text.as_bytes(), Path::new("t.csv"), options).map(|(d, _)| d)
    }

    fn classes(d: &Dataset) -> Vec<usize> {
        d.class_indices().expect("class targets").to_vec()
    }

    fn columns(names: &str) -> LoadOptions {
        LoadOptions {
            label_columns: names.split(',').map(str::to_string).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn reads_features_and_numeric_labels() {
        let d = read("a,b,label\n1,2,0\n3,4,2\n", &LoadOptions::default()).unwrap();
        assert_eq!(d.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(classes(&d), vec![0, 2]);
        assert_eq!(d.target_width(), 3);
        assert_eq!(d.feature_names, ["a", "b"]);
    }

    #[test]
    fn label_column_by_name_index_or_default_last() {
        let text = "species,x,y2\nb,1,2\na,3,4\n";
        let d = read(text, &columns("species")).unwrap();
        assert_eq!(d.label_names(), ["a", "b"]);
        assert_eq!(classes(&d), vec![1, 0]);
        assert_eq!(classes(&read(text, &columns("0")).unwrap()), vec![1, 0]);
        let last = read("x,y2,z\n1,2,0\n3,4,1\n", &LoadOptions::default()).unwrap();
        assert_eq!(classes(&last), vec![0, 1]);
        assert_eq!(last.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        // Without a choice, a text column that is not the label is a bad feature.
        let error = read(text, &LoadOptions::default()).unwrap_err().to_string();
        assert!(
            error.contains("column 'species': 'b' is not a number"),
            "{error}"
        );
    }

    #[test]
    fn several_label_columns_are_multi_label_distribution_or_regression() {
        let text = "x,a,b\n0.5,1,0\n1.5,0,1\n2.5,1,1\n";
        let d = read(text, &columns("a,b")).unwrap();
        assert_eq!(d.task(), Some(Task::MultiLabel));
        assert_eq!(d.label_names(), ["a", "b"]);
        assert_eq!(d.features, ndarray::array![[0.5], [1.5], [2.5]]);
        let distribution = LoadOptions {
            targets: Some(Task::Distribution),
            ..columns("a,b")
        };
        let error = read(text, &distribution).unwrap_err().to_string();
        assert!(
            error.contains("t.csv, line 4") && error.contains("sum to 2"),
            "{error}"
        );
        let regression = LoadOptions {
            targets: Some(Task::Regression),
            ..columns("b")
        };
        let d = read("x,b\n1,2.5\n2,-1\n", &regression).unwrap();
        let Labels::Values { values, task, .. } = &d.labels else {
            panic!()
        };
        assert_eq!(
            (*task, values.column(0).to_vec()),
            (Task::Regression, vec![2.5, -1.0])
        );
        let twice = read(text, &columns("a,a")).unwrap_err().to_string();
        assert!(twice.contains("'a' is named twice"), "{twice}");
    }

    #[test]
    fn a_first_line_of_numbers_is_data_unless_told_otherwise() {
        let text = "1,2,0\n3,4,1\n5,6,0\n";
        let (d, notes) =
            read_csv(text.as_bytes(), Path::new("t.csv"), &LoadOptions::default()).unwrap();
        assert_eq!(d.len(), 3);
        assert!(notes[0].contains("read as data"), "{notes:?}");
        let header = LoadOptions {
            header: Header::Present,
            ..Default::default()
        };
        assert_eq!(read(text, &header).unwrap().len(), 2);
        let absent = LoadOptions {
            header: Header::Absent,
            ..Default::default()
        };
        let error = read("a,b,label\n1,2,0\n", &absent).unwrap_err().to_string();
        assert!(
            error.contains("line 1") && error.contains("'a' is not a number"),
            "{error}"
        );
    }

    #[test]
    fn a_models_features_are_matched_by_name() {
        let options = LoadOptions {
            feature_names: Some(vec!["a".into(), "b".into()]),
            require_labels: false,
            ..Default::default()
        };
        let d = read("b,a\n2,1\n4,3\n", &options).unwrap();
        assert_eq!(d.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        let error = read("b,c\n2,1\n", &options).unwrap_err().to_string();
        assert!(error.contains("no column 'a'"), "{error}");
        let error = read("a,b,c,d\n1,2,3,4\n", &options)
            .unwrap_err()
            .to_string();
        assert!(error.contains("neither"), "{error}");
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
                "line 2: column 'a': a missing value ('NaN'); nabla does not guess a value: \
                 --missing drop",
            ),
            ("a,label\ninf,0\n", "'inf' is not a finite number"),
            ("a,label\n1,-1\n", "label '-1' is not a class index"),
            ("a,label\n1,99999999\n", "too large"),
            ("a,label\n", "no data rows"),
            ("", "the file is empty"),
            (
                "a,label\n1,\n",
                "line 2: column 'label': a missing value (an empty cell)",
            ),
        ];
        for (text, expected) in cases {
            let error = read(text, &LoadOptions::default()).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        // Told to read classes, a number that is not whole is refused; by default it makes
        // the column a regression target, with a note.
        let classes = LoadOptions {
            targets: Some(crate::data::Task::Classes),
            ..LoadOptions::default()
        };
        let error = read("a,label\n1,1.5\n", &classes).unwrap_err().to_string();
        assert!(
            error.contains("line 2: label '1.5' is not a class index"),
            "{error}"
        );
        let (values, notes) = read_csv(
            "a,label\n1,1.5\n2,3\n".as_bytes(),
            Path::new("t.csv"),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(values.task(), Some(crate::data::Task::Regression));
        assert!(
            notes.iter().any(|n| n.contains("not whole (such as 1.5)")),
            "{notes:?}"
        );
        let error = read("a,b\n1,2\n", &columns("kind"))
            .unwrap_err()
            .to_string();
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
        assert!(!d.is_labelled() && d.features.ncols() == 2);
        let d = read("a,b,label\n1,2,1\n", &two).unwrap();
        assert_eq!(classes(&d), vec![1]);
        assert!(read("a,b,c,d\n1,2,3,4\n", &two).is_err());
    }
}
