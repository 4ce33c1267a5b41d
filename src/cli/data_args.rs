//! Flags that choose and read a data source, shared by train, evaluate, predict and gradcheck.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nabla::data::download::{
    DownloadOptions, Progress, RemoteSet, default_cache_dir, ensure_downloaded, remote,
};
use nabla::data::{DataSpec, LoadOptions, Loaded, load};

/// Where the data comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// digits (embedded), mnist or fashion-mnist (downloaded and cached), spirals, moons,
    /// circles, xor, blobs (synthetic), a .csv or .npy file, an IDX file (with --labels), or a
    /// directory holding the four MNIST files.
    #[arg(long, default_value = "digits")]
    pub data: String,
    /// CSV label column, by name or 0-based index [default: "label", else the last column].
    #[arg(long)]
    pub label_column: Option<String>,
    /// A separate labels file for .npy or IDX features.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Rows drawn by a synthetic generator.
    #[arg(long, default_value_t = 1000)]
    pub samples: usize,
    /// Noise of a synthetic generator [default: the generator's own].
    #[arg(long)]
    pub noise: Option<f64>,
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// Where downloaded data sets come from and are kept.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DownloadArgs {
    /// Base URL to download mnist / fashion-mnist from instead of their usual mirror.
    #[arg(long)]
    pub mirror: Option<String>,
    /// Where downloaded data sets are kept [default: $XDG_CACHE_HOME/nabla or ~/.cache/nabla].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

impl DownloadArgs {
    /// Downloads (or finds in the cache) the four files of `set`; shows progress on stderr.
    pub fn fetch(&self, set: RemoteSet) -> anyhow::Result<PathBuf> {
        let options = DownloadOptions {
            mirror: self.mirror.clone(),
            cache_dir: self.cache_dir.clone().unwrap_or_else(default_cache_dir),
            ..DownloadOptions::default()
        };
        let terminal = std::io::stderr().is_terminal();
        let mut bar: Option<ProgressBar> = None;
        let mut report = |event: Progress| match event {
            Progress::Cached(_) => {}
            Progress::Started(name, total) => {
                if terminal {
                    let b = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
                    b.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        )
                        .expect("a valid template")
                        .progress_chars("=> "),
                    );
                    b.set_prefix(name.to_string());
                    bar = Some(b);
                } else {
                    eprintln!(
                        "downloading {name} ({})",
                        total.map_or("size unknown".into(), |t| format!("{t} bytes"))
                    );
                }
            }
            Progress::Received(bytes) => {
                if let Some(b) = &bar {
                    b.set_position(bytes);
                }
            }
            Progress::Finished(name) => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                eprintln!("{name}: downloaded, SHA-256 verified");
            }
            Progress::Retrying(name, why) => {
                if let Some(b) = bar.take() {
                    b.abandon();
                }
                eprintln!("{name}: {why}; retrying");
            }
        };
        Ok(ensure_downloaded(set, &options, &mut report)?)
    }
}

impl DataArgs {
    /// Reads the source. `seed` seeds synthetic generators; `expected_features` tells CSV and
    /// npy readers how wide the feature part is (a model's inputs), so a label column is
    /// optional.
    pub fn load(
        &self,
        seed: u64,
        require_labels: bool,
        expected_features: Option<usize>,
    ) -> anyhow::Result<Loaded> {
        if self.samples == 0 {
            anyhow::bail!("--samples must be at least 1");
        }
        let options = LoadOptions {
            label_column: self.label_column.clone(),
            labels: self.labels.clone(),
            require_labels,
            expected_features,
            samples: self.samples,
            noise: self.noise,
            seed,
        };
        let spec = match remote(&self.data) {
            Some(set) if !std::path::Path::new(&self.data).exists() => {
                DataSpec::Path(self.download.fetch(set)?)
            }
            _ => DataSpec::parse(&self.data),
        };
        let mut loaded = load(&spec, &options)?;
        if remote(&self.data).is_some() {
            loaded.description = format!("{} ({})", self.data, loaded.description);
        }
        Ok(loaded)
    }
}
