//! Flags that split the rows into train, validation and test parts and normalise them.

use nabla::SplitConfig;

/// How to split and normalise.
#[derive(Debug, Clone, clap::Args)]
pub struct SplitArgs {
    /// Validation rows split off the training rows: a fraction below 1 or a count (0: none).
    #[arg(long, default_value_t = SplitConfig::default().validation)]
    pub validation_split: f64,
    /// Test rows split off --data when it brings no test set and --test is not given: a
    /// fraction below 1 or a count (0: none; the last line then scores the training rows).
    #[arg(long, default_value_t = SplitConfig::default().test)]
    pub test_split: f64,
    /// Input normalisation fitted on the training rows: auto, standardize, min-max, scale:K,
    /// none. auto divides 8-bit images (IDX, u1 .npy) by 255 and standardises other data.
    #[arg(long, default_value = "auto")]
    pub normalize: String,
    /// Train a regression on its raw targets instead of standardised ones.
    #[arg(long)]
    pub no_normalize_targets: bool,
}

impl SplitArgs {
    /// The library's split config.
    pub fn config(&self) -> anyhow::Result<SplitConfig> {
        Ok(SplitConfig {
            validation: self.validation_split,
            test: self.test_split,
            normalize: self.normalize.parse()?,
            normalize_targets: !self.no_normalize_targets,
        })
    }
}
