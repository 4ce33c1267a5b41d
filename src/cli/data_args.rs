//! Flags that choose and read a data source, shared by every command that reads data.

use std::path::PathBuf;

use nabla::data::{DataSpec, Header, LoadOptions, Task};
use nabla::prepare::DataSource;

/// Which columns of a CSV file are labels, and whether it has a header (`train`, `evaluate`,
/// `predict`, `convert`).
#[derive(Debug, Clone, clap::Args)]
pub struct CsvColumnArgs {
    /// CSV label columns, by name or 0-based index, comma-separated [default: "label", else the
    /// last column]. Several columns are multi-label targets unless --targets says otherwise.
    #[arg(long, value_delimiter = ',')]
    pub label_column: Vec<String>,
    /// The CSV file's first line is a header (default: a line of numbers only is data).
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The CSV file has no header: its first line is data, columns are named by index.
    #[arg(long)]
    pub no_header: bool,
    /// The CSV separator: one character, or tab [default: told from the first line: comma,
    /// semicolon or tab].
    #[arg(long, value_parser = nabla::data::parse_separator)]
    pub delimiter: Option<u8>,
    /// The CSV column holding row numbers, not a feature [default: a first column with no
    /// name, as pandas writes its index].
    #[arg(long, conflicts_with = "no_index")]
    pub index_column: Option<String>,
    /// The CSV file has no index column: a first column with no name is a feature too.
    #[arg(long)]
    pub no_index: bool,
    /// Rows with a missing cell (empty, NA, NaN, null, …): refuse (the default: nabla does not
    /// guess a value), drop them, or fill missing features with the column's mean or median
    /// over the training rows (stored in the model, which fills new rows the same way).
    #[arg(long, default_value = "refuse")]
    pub missing: nabla::data::Missing,
}

impl CsvColumnArgs {
    /// What --index-column and --no-index say.
    pub fn index_column(&self) -> nabla::data::IndexColumn {
        match (&self.index_column, self.no_index) {
            (Some(name), _) => nabla::data::IndexColumn::Named(name.clone()),
            (None, true) => nabla::data::IndexColumn::None,
            (None, false) => nabla::data::IndexColumn::Auto,
        }
    }

    /// What --header and --no-header say.
    pub fn header(&self) -> Header {
        Header::from(
            self.header
                .then_some(true)
                .or(self.no_header.then_some(false)),
        )
    }
}

/// Where the data comes from and how to read it.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// digits (embedded), mnist or fashion-mnist (downloaded and cached), spirals, moons,
    /// circles, xor, blobs (synthetic), a .csv (or .tsv) or .npy file, an IDX file (with --labels), a
    /// directory holding the four MNIST files, or - (CSV on standard input) [train: digits;
    /// evaluate, predict: the model's own data].
    #[arg(long)]
    pub data: Option<String>,
    #[command(flatten)]
    pub columns: CsvColumnArgs,
    /// A separate labels file for .npy or IDX features (shape (rows,) or (rows, k)).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// What the label columns hold: classes, multi-label (values in [0, 1] per column),
    /// distribution (one probability distribution per row), regression (real values)
    /// [default: classes for one column, multi-label for several; regression for a numeric
    /// column of a CSV or .npy file with --loss mse].
    #[arg(long)]
    pub targets: Option<String>,
    /// Numeric class labels are class indices (labels {1, 2, 10} make 11 classes) or names
    /// (3 classes "1", "2", "10"): indices, names.
    #[arg(long, default_value = "indices")]
    pub labels_as: String,
    /// Rows drawn by a synthetic generator.
    #[arg(long, default_value_t = LoadOptions::default().samples)]
    pub samples: usize,
    /// Noise of a synthetic generator [default: the generator's own].
    #[arg(long)]
    pub noise: Option<f64>,
    /// A separate test set (same format as --data) instead of one split off --data.
    #[arg(long)]
    pub test: Option<String>,
    /// The labels file of a separate .npy or IDX test set (--test).
    #[arg(long, requires = "test")]
    pub test_labels: Option<PathBuf>,
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// Where downloaded data sets come from and are kept.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DownloadArgs {
    /// Base URL (http:// or https://) to download mnist / fashion-mnist from instead of their
    /// usual mirror.
    #[arg(long)]
    pub mirror: Option<String>,
    /// Where downloaded data sets are kept [default: $XDG_CACHE_HOME/nabla or ~/.cache/nabla].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Seconds one file's transfer may take before the attempt is abandoned and retried.
    #[arg(long, default_value_t = nabla::data::download::BODY_TIMEOUT.as_secs())]
    pub download_timeout: u64,
}

impl DownloadArgs {
    /// The library's download options.
    pub fn options(&self) -> nabla::data::download::DownloadOptions {
        let defaults = nabla::data::download::DownloadOptions::default();
        nabla::data::download::DownloadOptions {
            mirror: self.mirror.clone(),
            cache_dir: self.cache_dir.clone().unwrap_or(defaults.cache_dir.clone()),
            body_timeout: std::time::Duration::from_secs(self.download_timeout.max(1)),
            ..defaults
        }
    }
}

impl DataArgs {
    /// The library's data source (`default` when --data is not given); `loss`, the loss given,
    /// says what the label columns are (`LoadOptions::loss`).
    pub fn source_or(
        &self,
        default: &str,
        loss: Option<nabla::LossKind>,
    ) -> anyhow::Result<DataSource> {
        match self.source(loss)? {
            Some(source) => Ok(source),
            None => self.with_spec(default, loss),
        }
    }

    fn with_spec(&self, spec: &str, loss: Option<nabla::LossKind>) -> anyhow::Result<DataSource> {
        let copy = DataArgs {
            data: Some(spec.to_string()),
            ..self.clone()
        };
        Ok(copy.source(loss)?.expect("a spec is given"))
    }

    /// The library's data source, or `None` when --data is not given.
    pub fn source(&self, loss: Option<nabla::LossKind>) -> anyhow::Result<Option<DataSource>> {
        let Some(data) = &self.data else {
            return Ok(None);
        };
        let targets = self
            .targets
            .as_deref()
            .map(str::parse::<Task>)
            .transpose()?;
        let options = LoadOptions {
            label_columns: self.columns.label_column.clone(),
            labels: self.labels.clone(),
            targets,
            loss,
            labels_as: self.labels_as.parse()?,
            header: self.columns.header(),
            delimiter: self.columns.delimiter,
            index_column: self.columns.index_column(),
            missing: self.columns.missing,
            samples: self.samples,
            noise: self.noise,
            download: self.download.options(),
            ..LoadOptions::default()
        };
        Ok(Some(DataSource {
            spec: DataSpec::parse(data),
            options,
            test: self.test.as_deref().map(DataSpec::parse),
            test_labels: self.test_labels.clone(),
        }))
    }
}
