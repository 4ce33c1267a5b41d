//! What a training run leaves besides its report: the model with the record of how it was
//! trained (so that `nabla evaluate` and `nabla predict` can rebuild its data), and the
//! pictures of `--plot`.

use std::path::{Path, PathBuf};

use super::reporter::Reporter;
use crate::data::DataSpec;
#[cfg(feature = "plot")]
use crate::data::Task;
use crate::error::Result;
use crate::model::{Model, TrainingData};
use crate::network::Network;
use crate::prepare::{DataSource, Prepared, SplitConfig};
use crate::train::EpochReport;

/// The trained network as a model: the normalisations of `prepared`, and the data `source`,
/// `split` and `seed` of the run, with the data's fingerprint.
pub(super) fn trained_model(
    source: &DataSource,
    split: &SplitConfig,
    seed: u64,
    network: Network<f32>,
    prepared: &Prepared,
) -> Model {
    let mut model = Model::new(network, prepared.normalization.clone(), &prepared.train);
    model.target_normalization = prepared.target_normalization.clone();
    model.fill = prepared.fill.clone();
    model.training = Some(TrainingData {
        data: source.spec.to_string(),
        data_path: match &source.spec {
            DataSpec::Path(path) => path.canonicalize().ok().map(|p| p.display().to_string()),
            _ => None,
        },
        test: source.test.as_ref().map(ToString::to_string),
        test_labels: source.test_labels.as_ref().map(|p| p.display().to_string()),
        label_columns: source.options.label_columns.clone(),
        labels: source
            .options
            .labels
            .as_ref()
            .map(|p| p.display().to_string()),
        labels_as: source.options.labels_as,
        header: source.options.header,
        delimiter: source.options.delimiter.map(char::from),
        index_column: source.options.index_column.clone(),
        missing: source.options.missing,
        samples: matches!(source.spec, DataSpec::Synthetic(_)).then_some(source.options.samples),
        noise: source.options.noise,
        split: split.clone(),
        seed,
        fingerprint: prepared.fingerprint.clone(),
        range: raw_range(prepared),
    });
    model
}

/// Each feature's training range in the data's own units: the range of the normalised
/// training rows, mapped back through the normalisation (increasing in every feature), so the
/// rows are not copied.
fn raw_range(prepared: &Prepared) -> Option<crate::data::TrainingRange> {
    let range = crate::data::TrainingRange::of(&prepared.train.features)?;
    let mut ends = ndarray::Array2::from_shape_vec(
        (2, range.min.len()),
        range.min.iter().chain(&range.max).copied().collect(),
    )
    .ok()?;
    prepared.normalization.invert(&mut ends);
    Some(crate::data::TrainingRange {
        min: ends.row(0).to_vec(),
        max: ends.row(1).to_vec(),
    })
}

/// The file the decision boundary is drawn to, beside the learning curves at `plot`.
pub(super) fn boundary_path(plot: &Path) -> PathBuf {
    plot.with_file_name(format!(
        "{}-boundary.png",
        plot.file_stem()
            .map_or("plot".into(), |s| s.to_string_lossy())
    ))
}

/// The learning curves drawn to `plot`, and the decision boundary of 2-D class data beside them.
#[cfg(feature = "plot")]
pub(super) fn draw(
    plot: Option<&Path>,
    history: &[EpochReport],
    model: &Model,
    prepared: &Prepared,
    reporter: &mut dyn Reporter,
) -> Result<()> {
    let Some(path) = plot else {
        return Ok(());
    };
    crate::plot::learning_curves(path, history)?;
    reporter.line(&format!("wrote {}", path.display()));
    if prepared.train.feature_count() == 2 && model.task != Task::Regression {
        let boundary = boundary_path(path);
        let test = prepared.raw_test()?;
        crate::plot::decision_boundary(&boundary, model, &prepared.raw_train()?, test.as_ref())?;
        reporter.line(&format!("wrote {}", boundary.display()));
    }
    Ok(())
}

#[cfg(not(feature = "plot"))]
pub(super) fn draw(
    _plot: Option<&Path>,
    _history: &[EpochReport],
    _model: &Model,
    _prepared: &Prepared,
    _reporter: &mut dyn Reporter,
) -> Result<()> {
    Ok(())
}
