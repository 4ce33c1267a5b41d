//! Which columns of a CSV table are features and which are labels: the label columns given
//! (by name or 0-based index), else the one named like a label ([`LABEL_NAMES`]), else the
//! last; a model's features matched by name; the index column left out.

use super::LoadOptions;

/// The names that mark a label column when none is given (any case).
pub(super) const LABEL_NAMES: [&str; 4] = ["label", "target", "class", "y"];

/// Which columns are features (in the order the model reads them) and which are labels.
pub(super) struct Roles {
    pub features: Vec<usize>,
    pub labels: Vec<usize>,
}

/// The column of `chosen` (a name, or a 0-based index).
fn find_column(header: &[String], chosen: &str) -> Result<usize, String> {
    if let Some(index) = header.iter().position(|h| h == chosen) {
        return Ok(index);
    }
    if let Ok(index) = chosen.parse::<usize>() {
        return if index < header.len() {
            Ok(index)
        } else {
            Err(format!(
                "label column index {index} is out of range: there are {} columns (0..{})",
                header.len(),
                header.len()
            ))
        };
    }
    header
        .iter()
        .position(|h| h.eq_ignore_ascii_case(chosen))
        .ok_or_else(|| {
            // Every name when there are few; else the closest ones.
            if header.len() <= 40 {
                return format!(
                    "no column named '{chosen}'; the header has: {}",
                    header.join(", ")
                );
            }
            let lower = chosen.to_lowercase();
            let mut nearest: Vec<&String> = header.iter().collect();
            nearest.sort_by_key(|h| super::source::edit_distance(&h.to_lowercase(), &lower));
            format!(
                "no column named '{chosen}'; the closest of the header's {} columns: {}",
                header.len(),
                nearest[..5]
                    .iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// Resolves the label and feature columns from the options and the header.
pub(super) fn column_roles(
    header: &[String],
    has_header: bool,
    index: Option<usize>,
    options: &LoadOptions,
) -> Result<Roles, String> {
    let is_index = |c: usize| index == Some(c);
    let mut labels = Vec::new();
    // Matching a model's features by name, a model's label columns may be absent (rows to
    // predict on); all of them, not some.
    let by_name = options.feature_names.is_some() && has_header;
    let optional = by_name
        && !options.require_labels
        && options
            .label_columns
            .iter()
            .all(|c| !header.iter().any(|h| h == c.trim()));
    for chosen in options.label_columns.iter().filter(|_| !optional) {
        let column = find_column(header, chosen.trim())?;
        if labels.contains(&column) {
            return Err(format!(
                "the label column '{}' is named twice",
                header[column]
            ));
        }
        labels.push(column);
    }
    // A model's feature names, matched by name when the file has a header.
    if let (Some(wanted), true) = (&options.feature_names, has_header) {
        let mut features = Vec::with_capacity(wanted.len());
        for name in wanted {
            let column = header.iter().position(|h| h == name).ok_or_else(|| {
                format!(
                    "no column '{name}': the model was trained on the features {}",
                    wanted.join(", ")
                )
            })?;
            features.push(column);
        }
        let named = LABEL_NAMES;
        let rest: Vec<usize> = (0..header.len())
            .filter(|c| !features.contains(c) && !labels.contains(c) && !is_index(*c))
            .collect();
        for &c in &rest {
            let is_label = labels.is_empty()
                && (named.iter().any(|n| header[c].eq_ignore_ascii_case(n)) || rest.len() == 1);
            if is_label {
                labels.push(c);
            } else {
                return Err(format!(
                    "column '{}' is neither one of the model's features nor a label column",
                    header[c]
                ));
            }
        }
        return Ok(Roles { features, labels });
    }
    let named = LABEL_NAMES
        .iter()
        .find_map(|name| header.iter().position(|h| h.eq_ignore_ascii_case(name)));
    let default_label = named.unwrap_or(header.len() - 1);
    // The columns that are features or labels (all but the index).
    let usable = header.len() - usize::from(index.is_some());
    match options.expected_features {
        Some(n) if labels.is_empty() && usable == n => {}
        Some(n) if labels.is_empty() && usable == n + 1 => labels.push(default_label),
        Some(n) if !labels.is_empty() && usable == n + labels.len() => {}
        Some(n) if labels.is_empty() || usable != n + labels.len() => {
            return Err(format!(
                "expected {n} feature columns (the model's inputs), optionally plus {} label \
                 column{}; there are {}",
                labels.len().max(1),
                if labels.len() > 1 { "s" } else { "" },
                usable
            ));
        }
        _ if labels.is_empty() && usable < 2 && options.require_labels => {
            return Err("expected at least two columns: features and a label".into());
        }
        _ if labels.is_empty() => labels.push(default_label),
        _ => {}
    }
    let features: Vec<usize> = (0..header.len())
        .filter(|&c| !labels.contains(&c) && !is_index(c))
        .collect();
    if features.is_empty() {
        return Err("no feature columns besides the label columns".into());
    }
    Ok(Roles { features, labels })
}
