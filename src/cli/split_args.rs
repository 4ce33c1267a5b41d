//! Flags that split a data source into train, validation and test rows and normalise them,
//! shared by train and compare-heads.

use std::path::PathBuf;

use nabla::data::{Dataset, stratified_split};
use nabla::preprocess::{Normalization, NormalizationKind};

use super::data_args::DataArgs;

/// How to split and normalise.
#[derive(Debug, Clone, clap::Args)]
pub struct SplitArgs {
    /// A separate test set (same format as --data) instead of one split off --data.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Validation rows split off the training rows: a fraction (< 1) or a count.
    #[arg(long, default_value_t = 0.1)]
    pub validation_split: f64,
    /// Test rows split off --data when it brings no test set and --test is not given.
    #[arg(long, default_value_t = 0.2)]
    pub test_split: f64,
    /// Input normalisation fitted on the training rows: auto, standardize, min-max, scale:K,
    /// none. auto divides 8-bit images (IDX, u1 .npy) by 255 and standardises other data.
    #[arg(long, default_value = "auto")]
    pub normalize: String,
}

/// Normalised train / validation / test rows.
pub struct Prepared {
    pub train: Dataset,
    pub validation: Option<Dataset>,
    pub test: Dataset,
    pub description: String,
    /// Fitted on the training rows, applied to all three.
    pub normalization: Normalization,
}

/// Loads `data`, splits it (stratified, seeded) and normalises every part with statistics of
/// the training rows.
pub fn prepare(data: &DataArgs, split: &SplitArgs, seed: u64) -> anyhow::Result<Prepared> {
    let loaded = data.load(seed, true, None)?;
    let (pool, test) = match (&split.test, loaded.test) {
        (Some(path), _) => {
            let test_args = DataArgs {
                data: path.display().to_string(),
                ..data.clone()
            };
            let test = test_args
                .load(seed, true, Some(loaded.train.feature_count()))?
                .train;
            (loaded.train, test)
        }
        (None, Some(test)) => (loaded.train, test),
        (None, None) => {
            anyhow::ensure!(
                split.test_split > 0.0 && split.test_split < 1.0,
                "--test-split must be a fraction in (0, 1), got {}",
                split.test_split
            );
            let parts = stratified_split(&loaded.train.labels, &[split.test_split], seed);
            (
                loaded.train.select(&parts[1]),
                loaded.train.select(&parts[0]),
            )
        }
    };
    let fraction = if split.validation_split >= 1.0 {
        anyhow::ensure!(
            split.validation_split.fract() == 0.0 && (split.validation_split as usize) < pool.len(),
            "--validation-split {} must be a fraction below 1 or a whole count below the {} training rows",
            split.validation_split,
            pool.len()
        );
        split.validation_split / pool.len() as f64
    } else {
        anyhow::ensure!(
            split.validation_split >= 0.0,
            "--validation-split must be ≥ 0, got {}",
            split.validation_split
        );
        split.validation_split
    };
    let (mut train, mut validation) = if fraction > 0.0 {
        let parts = stratified_split(&pool.labels, &[fraction], seed.wrapping_add(1));
        (pool.select(&parts[1]), Some(pool.select(&parts[0])))
    } else {
        (pool, None)
    };
    let mut test = test;
    anyhow::ensure!(
        test.feature_count() == train.feature_count(),
        "the test set has {} features per row, the training set {}",
        test.feature_count(),
        train.feature_count()
    );
    test.relabel(&train.label_names)
        .map_err(|m| anyhow::anyhow!("test set: {m}"))?;
    let kind = match split.normalize.as_str() {
        "auto" => loaded.suggested_normalization,
        other => other.parse::<NormalizationKind>()?,
    };
    let normalization = kind.fit(&train.features);
    normalization.apply(&mut train.features)?;
    if let Some(v) = validation.as_mut() {
        normalization.apply(&mut v.features)?;
    }
    normalization.apply(&mut test.features)?;
    Ok(Prepared {
        train,
        validation,
        test,
        description: loaded.description,
        normalization,
    })
}
