//! What a training run leaves besides its report: the model with the record of how it was
//! trained (so that `nabla evaluate` and `nabla predict` can rebuild its data), and the
//! pictures of `--plot`.

use super::train_run::TrainRun;
use crate::data::DataSpec;
#[cfg(feature = "plot")]
use crate::data::Task;
use crate::error::Result;
use crate::model::{Model, TrainingData};
use crate::network::Network;
use crate::prepare::Prepared;
use crate::train::EpochReport;
use crate::workflow::Reporter;

/// The trained network as a model: the normalisations of `prepared`, and the data, split and
/// seed of `run`, with the data's fingerprint.
pub(super) fn trained_model(run: &TrainRun, network: Network<f32>, prepared: &Prepared) -> Model {
    let seed = run.train.seed;
    let mut model = Model::new(network, prepared.normalization.clone(), &prepared.train);
    model.target_normalization = prepared.target_normalization.clone();
    model.training = Some(TrainingData {
        data: run.source.spec.to_string(),
        test: run.source.test.as_ref().map(ToString::to_string),
        test_labels: run
            .source
            .test_labels
            .as_ref()
            .map(|p| p.display().to_string()),
        label_columns: run.source.options.label_columns.clone(),
        labels: run
            .source
            .options
            .labels
            .as_ref()
            .map(|p| p.display().to_string()),
        labels_as: run.source.options.labels_as,
        header: run.source.options.header,
        samples: matches!(run.source.spec, DataSpec::Synthetic(_))
            .then_some(run.source.options.samples),
        noise: run.source.options.noise,
        split: run.split.clone(),
        seed,
        fingerprint: prepared.fingerprint.clone(),
    });
    model
}

/// The learning curves, and the decision boundary of 2-D class data.
#[cfg(feature = "plot")]
pub(super) fn draw(
    run: &TrainRun,
    history: &[EpochReport],
    model: &Model,
    prepared: &Prepared,
    reporter: &mut dyn Reporter,
) -> Result<()> {
    let Some(path) = &run.plot else {
        return Ok(());
    };
    crate::plot::learning_curves(path, history)?;
    reporter.line(&format!("wrote {}", path.display()));
    if prepared.train.feature_count() == 2 && model.task != Task::Regression {
        let boundary = TrainRun::boundary_path(path);
        let test = prepared.raw_test()?;
        crate::plot::decision_boundary(&boundary, model, &prepared.raw_train()?, test.as_ref())?;
        reporter.line(&format!("wrote {}", boundary.display()));
    }
    Ok(())
}

#[cfg(not(feature = "plot"))]
pub(super) fn draw(
    _run: &TrainRun,
    _history: &[EpochReport],
    _model: &Model,
    _prepared: &Prepared,
    _reporter: &mut dyn Reporter,
) -> Result<()> {
    Ok(())
}
