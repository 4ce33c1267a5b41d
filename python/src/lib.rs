//! `nabla._nabla`: the Python package's bindings. Each function converts its arguments, calls
//! one library function and converts the answer back; the rules (the pairing table, the
//! optimiser defaults, scikit-learn's stopping rule) are the library's
//! (`nabla::workflow::fit_estimator`, `nabla::explain`, `nabla::loss::evaluate_case`).

use std::path::PathBuf;

use std::sync::Arc;

use nabla::data::{Dataset, Features, Task};
use nabla::explain::{Format, Question, check_points, checked, derive_for, render};
use nabla::io::{WeightDtype, load_model, model_from_bytes, model_to_bytes, save_model_as};
use nabla::workflow::{EstimatorSpec, Fitted, Predictions, fit_estimator};
use nabla::{Activation, LossInput, LossKind, OptimizerConfig, OptimizerKind};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// nabla's error as the Python exception a Python user expects: KeyboardInterrupt for an
/// interrupt, OSError for a file that cannot be read or written, ValueError for the rest.
fn error(e: nabla::Error) -> PyErr {
    match e {
        nabla::Error::Interrupted => PyKeyboardInterrupt::new_err("training interrupted"),
        nabla::Error::Io { .. } => PyOSError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A value of the spec dict, or the default when absent or None.
fn item<T>(spec: &Bound<'_, PyDict>, key: &str, default: T) -> PyResult<T>
where
    T: for<'a, 'py> FromPyObject<'a, 'py>,
{
    match spec.get_item(key)? {
        Some(value) if !value.is_none() => value
            .extract::<T>()
            .map_err(Into::into)
            .map_err(|e: PyErr| PyValueError::new_err(format!("{key}: {e}"))),
        _ => Ok(default),
    }
}

/// Parses a name with nabla's own parser, as a ValueError naming the parameter.
fn parsed<T: std::str::FromStr<Err = nabla::Error>>(
    spec: &Bound<'_, PyDict>,
    key: &str,
) -> PyResult<Option<T>> {
    let text: Option<String> = item(spec, key, None)?;
    text.map(|t| {
        t.parse::<T>()
            .map_err(|e| PyValueError::new_err(format!("{key}: {e}")))
    })
    .transpose()
}

/// The library's spec from the estimator's parameters (already in nabla's names).
fn spec_from(spec: &Bound<'_, PyDict>) -> PyResult<EstimatorSpec> {
    let base = EstimatorSpec::default();
    let kind = parsed::<OptimizerKind>(spec, "solver")?.unwrap_or(OptimizerKind::Adam);
    let mut optimizer = OptimizerConfig::default_for(kind);
    optimizer.learning_rate = item(spec, "learning_rate", optimizer.learning_rate)?;
    optimizer.momentum = item(spec, "momentum", optimizer.momentum)?;
    optimizer.nesterov = item(spec, "nesterov", optimizer.nesterov)?;
    optimizer.beta1 = item(spec, "beta1", optimizer.beta1)?;
    optimizer.beta2 = item(spec, "beta2", optimizer.beta2)?;
    optimizer.eps = item(spec, "eps", optimizer.eps)?;
    Ok(EstimatorSpec {
        hidden: item(spec, "hidden", base.hidden)?,
        activation: parsed::<Activation>(spec, "activation")?.unwrap_or(base.activation),
        output_activation: parsed::<Activation>(spec, "output_activation")?,
        loss: parsed::<LossKind>(spec, "loss")?,
        from: parsed::<LossInput>(spec, "from")?,
        optimizer,
        alpha: item(spec, "alpha", base.alpha)?,
        batch_size: item(spec, "batch_size", None)?,
        max_iter: item(spec, "max_iter", base.max_iter)?,
        shuffle: item(spec, "shuffle", base.shuffle)?,
        seed: item(spec, "seed", base.seed)?,
        tol: item(spec, "tol", base.tol)?,
        early_stopping: item(spec, "early_stopping", base.early_stopping)?,
        validation_fraction: item(spec, "validation_fraction", base.validation_fraction)?,
        n_iter_no_change: item(spec, "n_iter_no_change", base.n_iter_no_change)?,
        label_smoothing: item(spec, "label_smoothing", base.label_smoothing)?,
        class_weight: item(spec, "class_weight", None)?,
        threads: item(spec, "threads", None)?,
    })
}

/// A fitted estimator: the model and where its training stood.
#[pyclass(module = "nabla._nabla", name = "Fitted")]
struct PyFitted {
    inner: Fitted,
}

#[pymethods]
impl PyFitted {
    /// The outputs for float32 C-contiguous rows (read in place unless the model normalises its
    /// inputs): class probabilities (a single sigmoid unit expanded to [1 − p, p]), label
    /// probabilities, a distribution, or values.
    fn outputs<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let view = x.as_array();
        let inputs = self.inner.model.network.config().inputs;
        if view.ncols() != inputs {
            return Err(PyValueError::new_err(format!(
                "X has {} features, but the estimator was fitted with {inputs}",
                view.ncols()
            )));
        }
        let model = &self.inner.model;
        let predictions = py
            .detach(|| Predictions::of_raw(model, view, 0.5))
            .map_err(error)?;
        Ok(predictions.outputs.to_pyarray(py))
    }

    /// The weight matrices, inputs × outputs each (scikit-learn's coefs_).
    fn coefs<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray2<f32>>> {
        self.inner
            .model
            .network
            .layers()
            .iter()
            .map(|l| l.weights.t().to_pyarray(py))
            .collect()
    }

    /// The bias vectors (scikit-learn's intercepts_).
    fn intercepts<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray1<f32>>> {
        self.inner
            .model
            .network
            .layers()
            .iter()
            .map(|l| l.bias.to_pyarray(py))
            .collect()
    }

    #[getter]
    fn loss_curve(&self) -> Vec<f64> {
        self.inner.loss_curve.clone()
    }

    #[getter]
    fn validation_scores(&self) -> Vec<f64> {
        self.inner.validation_scores.clone()
    }

    #[getter]
    fn best_loss(&self) -> Option<f64> {
        self.inner.best_loss
    }

    #[getter]
    fn best_validation_score(&self) -> Option<f64> {
        self.inner.best_validation_score
    }

    #[getter]
    fn n_iter(&self) -> usize {
        self.inner.epochs
    }

    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged
    }

    #[getter]
    fn task(&self) -> &'static str {
        self.inner.model.task.name()
    }

    #[getter]
    fn label_names(&self) -> Vec<String> {
        self.inner.model.label_names.clone()
    }

    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.inner.model.feature_names.clone()
    }

    #[getter]
    fn n_features(&self) -> usize {
        self.inner.model.network.config().inputs
    }

    /// The hidden layers' widths.
    #[getter]
    fn hidden_sizes(&self) -> Vec<usize> {
        self.inner.model.network.config().hidden.clone()
    }

    /// The hidden layers' activation, by nabla's name.
    #[getter]
    fn hidden_activation(&self) -> String {
        self.inner
            .model
            .network
            .config()
            .hidden_activation
            .to_string()
    }

    /// The output activation, by nabla's name.
    #[getter]
    fn output_activation(&self) -> String {
        self.inner
            .model
            .network
            .config()
            .output_activation
            .to_string()
    }

    /// The loss, by nabla's name.
    #[getter]
    fn loss_name(&self) -> &'static str {
        self.inner.model.network.config().loss.kind.name()
    }

    /// One line describing the network ("2 → 100 relu → 2 softmax + …").
    fn describe(&self) -> String {
        self.inner.model.network.config().describe()
    }

    /// The model file's bytes (safetensors with nabla's metadata), for pickling.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = model_to_bytes(&self.inner.model, std::path::Path::new("<estimator>"))
            .map_err(error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the model file `nabla evaluate` and `nabla predict` read, its weights as `dtype`
    /// ("float32" or "bfloat16").
    fn save(&self, path: PathBuf, dtype: &str) -> PyResult<()> {
        let dtype: WeightDtype = dtype.parse().map_err(error)?;
        save_model_as(&self.inner.model, &path, dtype).map_err(error)
    }
}

/// Fits (or, with `previous`, continues) an estimator; the GIL is released while it trains,
/// and Ctrl-C raises KeyboardInterrupt within one batch.
#[pyfunction]
#[pyo3(signature = (spec, x, task, y_classes=None, class_names=None, y_values=None, feature_names=None, previous=None, partial=false))]
#[allow(clippy::too_many_arguments)]
fn fit(
    py: Python<'_>,
    spec: &Bound<'_, PyDict>,
    x: PyReadonlyArray2<'_, f32>,
    task: &str,
    y_classes: Option<PyReadonlyArray1<'_, i64>>,
    class_names: Option<Vec<String>>,
    y_values: Option<PyReadonlyArray2<'_, f32>>,
    feature_names: Option<Vec<String>>,
    previous: Option<PyRef<'_, PyFitted>>,
    partial: bool,
) -> PyResult<PyFitted> {
    let spec = spec_from(spec)?;
    // X is read in place, not copied (validate_data hands over float32 C-contiguous rows; any
    // other layout is copied once by Features::shared). `owner`, a reference to the array and
    // a weak reference to it, outlives the training below, and is dropped here with the GIL
    // held. NumPy refuses to resize an array that has a weak reference, even with
    // refcheck=False: another thread cannot reallocate X's memory under the training.
    let pin = py
        .import("weakref")?
        .getattr("ref")?
        .call1((&*x,))?
        .unbind();
    let owner: Arc<dyn Send + Sync> = Arc::new(((*x).clone().unbind(), pin));
    // SAFETY: the array's memory stays allocated while `owner` references it, and cannot be
    // reallocated while `owner`'s weak reference lives (NumPy's resize refuses); the readonly
    // borrow `x` lasts until this function returns, and Python code is asked (README) not to
    // write X while fit runs.
    let features = unsafe { Features::shared(x.as_array(), owner.clone()) };
    let task: Task = task.parse().map_err(error)?;
    let data = match (task, y_classes, y_values) {
        (Task::Classes, Some(y), _) => {
            let indices = y
                .as_array()
                .iter()
                .map(|&c| {
                    usize::try_from(c)
                        .map_err(|_| PyValueError::new_err(format!("class index {c} is negative")))
                })
                .collect::<PyResult<Vec<usize>>>()?;
            Dataset::classes(features, indices, class_names.unwrap_or_default())
        }
        (task, _, Some(values)) if task != Task::Classes => Dataset::values(
            features,
            task,
            values.as_array().to_owned(),
            class_names.unwrap_or_default(),
        ),
        _ => return Err(PyValueError::new_err("targets do not match the task")),
    }
    .map_err(error)?
    .with_feature_names(feature_names.unwrap_or_default());
    let previous = previous.as_ref().map(|p| &p.inner);
    let fitted = py.detach(|| {
        let mut interrupted = || Python::attach(|py| py.check_signals().is_err());
        fit_estimator(&spec, data, previous, partial, &mut interrupted)
    });
    Ok(PyFitted {
        inner: fitted.map_err(error)?,
    })
}

/// An estimator around the bytes of a model file (unpickling).
#[pyfunction]
fn from_bytes(spec: &Bound<'_, PyDict>, data: &[u8]) -> PyResult<PyFitted> {
    let model = model_from_bytes(data, std::path::Path::new("<pickle>"), None).map_err(error)?;
    Ok(PyFitted {
        inner: Fitted::from_model(model, &spec_from(spec)?).map_err(error)?,
    })
}

/// An estimator around a model file written by `nabla train --save` or `save`.
#[pyfunction]
fn load(spec: &Bound<'_, PyDict>, path: PathBuf) -> PyResult<PyFitted> {
    let model = load_model(&path, None).map_err(error)?;
    Ok(PyFitted {
        inner: Fitted::from_model(model, &spec_from(spec)?).map_err(error)?,
    })
}

/// The derivation of ∂C/∂w for an output activation and a loss, rendered as `format` (text,
/// markdown, latex, json), every step checked.
#[pyfunction]
#[pyo3(signature = (activation, loss=None, from_=None, targets="hard", format="json", points=nabla::explain::DEFAULT_CHECK_POINTS))]
fn explain(
    py: Python<'_>,
    activation: &str,
    loss: Option<&str>,
    from_: Option<&str>,
    targets: &str,
    format: &str,
    points: usize,
) -> PyResult<String> {
    let question = Question::named(activation, loss, from_, targets).map_err(error)?;
    let format: Format = format.parse().map_err(error)?;
    let points = check_points(points).map_err(error)?;
    // At most a few seconds (check_points bounds it), with the GIL released meanwhile.
    let derivation = derive_for(&question);
    let report = py.detach(|| checked(&derivation, points));
    Ok(render(&derivation, &report, format))
}

/// One loss case in the JSON contract of `nabla loss` (PyTorch's semantics): the answer's
/// JSON, `{"loss", "gradient"}`, or a ValueError with the message of `{"error"}`.
#[pyfunction]
fn loss_case(case: &str) -> PyResult<String> {
    nabla::loss::evaluate_case(case)
        .map(|v| v.to_string())
        .map_err(PyValueError::new_err)
}

/// Streams the CSV table at `input` into `.npy` features and labels (`nabla convert`), the GIL
/// released; returns (rows, feature columns, label columns, the labels file).
#[pyfunction]
#[pyo3(signature = (input, output, labels_out, label_columns, header))]
fn csv_to_npy(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    labels_out: Option<PathBuf>,
    label_columns: Vec<String>,
    header: Option<bool>,
) -> PyResult<(u64, Vec<String>, Vec<String>, PathBuf)> {
    let options = nabla::data::LoadOptions {
        label_columns,
        header: header.into(),
        ..nabla::data::LoadOptions::default()
    };
    let converted = py.detach(|| {
        let file = std::fs::File::open(&input).map_err(|e| nabla::Error::io(&input, e))?;
        nabla::data::csv_to_npy(file, &input, &output, labels_out.as_deref(), &options)
    });
    let converted = converted.map_err(error)?;
    Ok((
        converted.rows,
        converted.features,
        converted.labels,
        converted.labels_file,
    ))
}

#[pymodule]
fn _nabla(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFitted>()?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(loss_case, m)?)?;
    m.add_function(wrap_pyfunction!(csv_to_npy, m)?)?;
    m.add("DEFAULT_CHECK_POINTS", nabla::explain::DEFAULT_CHECK_POINTS)?;
    Ok(())
}
