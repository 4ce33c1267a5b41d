"""scikit-learn estimators over nabla's library: MLPClassifier and MLPRegressor.

The parameters are scikit-learn's where it has the concept, plus nabla's own (output_activation,
loss, label_smoothing, class_weight, threads). Everything that decides how a network trains —
the pairing table, the optimiser defaults, alpha as L2, tol and n_iter_no_change, early stopping
— is nabla's library (``nabla::workflow::fit_estimator``); this module checks the arrays the
way scikit-learn does and keeps scikit-learn's fitted attributes.

Copies: ``fit`` copies X once into nabla's training set (float32, C order; other inputs are
converted first). ``predict`` and ``predict_proba`` read float32 C-contiguous X in place.
"""

import os
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _nabla

# scikit-learn's activation names that nabla spells differently.
_ACTIVATION = {"logistic": "sigmoid"}


def _threads(threads):
    """The threads a fit uses: ``threads`` when given; else the limit joblib sets in each worker
    of a parallel search (``OMP_NUM_THREADS``: the cores divided among ``n_jobs``, as it does for
    scikit-learn's own estimators), so parallel fits do not oversubscribe the machine; else
    every core."""
    if threads is not None:
        return int(threads)
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return int(limit) if limit.isdigit() and int(limit) >= 1 else None


class _NablaMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, fitting, pickling."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        output_activation=None,
        loss=None,
        label_smoothing=0.0,
        threads=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.output_activation = output_activation
        self.loss = loss
        self.label_smoothing = label_smoothing
        self.threads = threads

    # -- the spec nabla's library reads -------------------------------------------------------

    def _spec(self, class_weight=None):
        if self.solver not in ("adam", "sgd", "adamw"):
            raise ValueError(
                f"solver={self.solver!r}: nabla trains with 'adam', 'sgd' or 'adamw' (no lbfgs)"
            )
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if np.isscalar(hidden) else list(hidden)
        if any(int(h) != h or h < 1 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {hidden}")
        if self.batch_size == "auto":
            batch = None
        elif isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1:
            batch = int(self.batch_size)
        else:
            raise ValueError(f"batch_size must be 'auto' or an integer ≥ 1, got {self.batch_size!r}")
        if isinstance(self.random_state, (int, np.integer)):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return {
            "hidden": [int(h) for h in hidden],
            "activation": _ACTIVATION.get(self.activation, self.activation),
            "output_activation": _ACTIVATION.get(self.output_activation, self.output_activation),
            "loss": self.loss,
            "solver": self.solver,
            "learning_rate": float(self.learning_rate_init),
            "momentum": float(self.momentum),
            "nesterov": bool(self.nesterovs_momentum),
            "beta1": float(self.beta_1),
            "beta2": float(self.beta_2),
            "eps": float(self.epsilon),
            "alpha": float(self.alpha),
            "batch_size": batch,
            "max_iter": int(self.max_iter),
            "shuffle": bool(self.shuffle),
            "seed": seed,
            "tol": float(self.tol),
            "early_stopping": bool(self.early_stopping),
            "validation_fraction": float(self.validation_fraction),
            "n_iter_no_change": int(self.n_iter_no_change),
            "label_smoothing": float(self.label_smoothing),
            "class_weight": class_weight,
            "threads": _threads(self.threads),
        }

    def _train(self, X, task, *, classes=None, values=None, names=None, partial=False):
        """Runs nabla's fit (or one more epoch) and keeps scikit-learn's fitted attributes."""
        previous = getattr(self, "_fitted", None)
        if not partial and not self.warm_start:
            previous = None
        feature_names = getattr(self, "feature_names_in_", None)
        self._fitted = _nabla.fit(
            self._spec(self._class_weight_list() if task == "classes" else None),
            X,
            task,
            y_classes=classes,
            class_names=names,
            y_values=values,
            feature_names=None if feature_names is None else [str(f) for f in feature_names],
            previous=previous,
            partial=partial,
        )
        self._publish(n_samples=X.shape[0])
        if self.verbose:
            for epoch, loss in enumerate(self.loss_curve_, 1):
                print(f"Iteration {epoch}, loss = {loss:.8f}")
        if not partial and not self._fitted.converged and self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return self

    def _class_weight_list(self):
        return None

    def _publish(self, n_samples=0):
        """scikit-learn's fitted attributes, read from nabla's fitted estimator."""
        fitted = self._fitted
        self.coefs_ = fitted.coefs()
        self.intercepts_ = fitted.intercepts()
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = self.coefs_[-1].shape[1]
        self.loss_curve_ = list(fitted.loss_curve)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        self.n_iter_ = fitted.n_iter
        self.t_ = getattr(self, "t_", 0) + n_samples * max(1, self.n_iter_ - getattr(self, "_seen_iter", 0))
        self._seen_iter = self.n_iter_
        if self.early_stopping:
            self.validation_scores_ = list(fitted.validation_scores)
            self.best_validation_score_ = fitted.best_validation_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = fitted.best_loss

    # -- a model file, pickling ---------------------------------------------------------------

    def save(self, path, dtype="float32"):
        """Writes the model file ``nabla evaluate`` and ``nabla predict`` read (what
        ``nabla train --save`` writes). ``dtype="bfloat16"`` stores each weight rounded to the
        nearest bfloat16: half the file, loaded back as float32 (``--save-dtype bf16``)."""
        check_is_fitted(self)
        self._fitted.save(str(path), str(dtype))

    def __getstate__(self):
        state = self.__dict__.copy()
        if "_fitted" in state:
            state["_fitted"] = bytes(self._fitted.to_bytes())
        return state

    def __setstate__(self, state):
        fitted = state.get("_fitted")
        self.__dict__.update(state)
        if isinstance(fitted, bytes):
            self._fitted = _nabla.from_bytes(self._spec(), fitted)

    def _outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C")
        return self._fitted.outputs(X)

    def describe(self):
        """The network in one line: '4 → 100 relu → 3 softmax + categorical cross-entropy …'."""
        check_is_fitted(self)
        return self._fitted.describe()


class MLPClassifier(ClassifierMixin, _NablaMLP):
    """A multi-layer perceptron classifier trained by nabla: softmax + cross-entropy fused in
    logit space (gradient a − y) for exclusive classes, sigmoid + binary cross-entropy for
    multi-label indicator targets; an unsound pairing (``output_activation="relu"`` with
    cross-entropy) raises ValueError with the reason and the fix.

    Parameters are scikit-learn's MLPClassifier's (``solver`` is 'adam', 'sgd' or 'adamw'),
    plus ``output_activation``, ``loss`` (e.g. 'cross-entropy', 'binary-cross-entropy'),
    ``label_smoothing``, ``class_weight`` (None, 'balanced' or {class: weight}) and ``threads``.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        output_activation=None,
        loss=None,
        label_smoothing=0.0,
        class_weight=None,
        threads=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            output_activation=output_activation,
            loss=loss,
            label_smoothing=label_smoothing,
            threads=threads,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _targets(self, y, *, reset, classes=None):
        """(task, class indices or indicator values) of y; sets classes_ when `reset`."""
        if np.ndim(y) == 2 and np.shape(y)[1] > 1:
            check_classification_targets(y)
            if type_of_target(y) != "multilabel-indicator":
                raise ValueError(
                    "nabla.MLPClassifier takes one label per row or a multi-label indicator "
                    f"matrix, got {type_of_target(y)} targets"
                )
            y = np.asarray(y)
            if reset:
                self.classes_ = np.arange(y.shape[1])
                self._multilabel = True
                self._label_dtype = y.dtype
            return "multi-label", y.astype(np.float32)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y) if classes is None else np.asarray(classes)
            self._multilabel = False
        known = np.isin(y, self.classes_)
        if not known.all():
            raise ValueError(
                f"y holds labels not in classes_ {list(self.classes_)}: {list(np.unique(y[~known]))}"
            )
        return "classes", np.searchsorted(self.classes_, y).astype(np.int64)

    def _class_weight_list(self):
        if self.class_weight is None or getattr(self, "_multilabel", False):
            return None
        if isinstance(self.class_weight, str):
            y = getattr(self, "_y_indices", None)
            weights = compute_class_weight(
                self.class_weight, classes=np.arange(len(self.classes_)), y=y
            )
            return [float(w) for w in weights]
        return [float(self.class_weight.get(c, 1.0)) for c in self.classes_]

    def fit(self, X, y):
        """Trains on X (rows × features) and y (labels, or a multi-label indicator matrix)."""
        X, y = validate_data(
            self, X, y, dtype=np.float32, order="C", multi_output=True, reset=True
        )
        task, targets = self._targets(y, reset=True)
        if task == "classes":
            self._y_indices = targets
            return self._train(X, task, classes=targets, names=[str(c) for c in self.classes_])
        return self._train(X, task, values=targets, names=[str(c) for c in self.classes_])

    def partial_fit(self, X, y, classes=None):
        """One more epoch on X, y; the first call needs ``classes`` (every label there is)."""
        first = not hasattr(self, "_fitted")
        if first and classes is None and np.ndim(y) == 1:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y = validate_data(
            self, X, y, dtype=np.float32, order="C", multi_output=True, reset=first
        )
        task, targets = self._targets(y, reset=first, classes=classes)
        names = [str(c) for c in self.classes_]
        if task == "classes":
            self._y_indices = targets
            if first:
                # Every class must have a name before any row of it arrives.
                return self._train(X, task, classes=targets, names=names, partial=True)
            return self._train(X, task, classes=targets, names=names, partial=True)
        return self._train(X, task, values=targets, names=names, partial=True)

    def predict_proba(self, X):
        """Class probabilities (rows × classes), or per-label probabilities (multi-label)."""
        return self._outputs(X)

    def predict_log_proba(self, X):
        """The logarithm of ``predict_proba``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row (multi-label: each label with probability > 0.5)."""
        probabilities = self.predict_proba(X)
        if getattr(self, "_multilabel", False):
            return (probabilities > 0.5).astype(self._label_dtype)
        return self.classes_[np.argmax(probabilities, axis=1)]


class MLPRegressor(RegressorMixin, _NablaMLP):
    """A multi-layer perceptron regressor trained by nabla: an identity output with mean squared
    error; the targets are standardised with the training rows and predictions come back in
    their own units. Parameters as scikit-learn's MLPRegressor (plus nabla's)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Trains on X (rows × features) and y (values, or rows × targets)."""
        X, y = validate_data(
            self, X, y, dtype=np.float32, order="C", multi_output=True, y_numeric=True, reset=True
        )
        return self._fit_values(X, y, partial=False)

    def partial_fit(self, X, y):
        """One more epoch on X, y."""
        first = not hasattr(self, "_fitted")
        X, y = validate_data(
            self, X, y, dtype=np.float32, order="C", multi_output=True, y_numeric=True, reset=first
        )
        return self._fit_values(X, y, partial=True)

    def _fit_values(self, X, y, partial):
        y = np.asarray(y)
        if not partial or not hasattr(self, "_fitted"):
            self._one_dimensional = y.ndim == 1
        wide = y.reshape(len(y), -1).astype(np.float64)
        beyond = np.argwhere(np.abs(wide) > np.finfo(np.float32).max)
        if len(beyond):
            row, column = beyond[0]
            raise ValueError(
                f"y[{row}, {column}] = {wide[row, column]:g} is beyond float32's range (±3.4e38), "
                "in which nabla trains: rescale the targets"
            )
        values = np.ascontiguousarray(wide, dtype=np.float32)
        names = [f"y{k}" for k in range(values.shape[1])]
        return self._train(X, "regression", values=values, names=names, partial=partial)

    def predict(self, X):
        """The predicted values (in the targets' own units)."""
        values = self._outputs(X).astype(np.float64)
        return values[:, 0] if self._one_dimensional else values


def load(path, **params):
    """An estimator around a model file written by ``nabla train --save`` or ``save``:
    ``MLPClassifier`` for class and multi-label models, ``MLPRegressor`` for regression."""
    estimator_class = None
    probe = MLPClassifier(**params)
    fitted = _nabla.load(probe._spec(), str(path))
    # The architecture the file holds, so that get_params (and sklearn.clone) describe this
    # network, not the defaults (a 128-wide model reported hidden_layer_sizes=(100,)).
    activation = {"sigmoid": "logistic"}.get(fitted.hidden_activation, fitted.hidden_activation)
    params.setdefault("hidden_layer_sizes", tuple(fitted.hidden_sizes))
    params.setdefault("activation", activation)
    params.setdefault("output_activation", fitted.output_activation)
    params.setdefault("loss", fitted.loss_name)
    if fitted.task == "regression":
        estimator_class = MLPRegressor
        params.pop("class_weight", None)
    else:
        estimator_class = MLPClassifier
    estimator = estimator_class(**params)
    estimator._fitted = fitted
    names = fitted.label_names
    if fitted.task == "regression":
        estimator._one_dimensional = len(names) == 1
    else:
        numeric = all(n.lstrip("-").isdigit() for n in names)
        estimator.classes_ = np.array([int(n) for n in names]) if numeric else np.array(names)
        estimator._multilabel = fitted.task == "multi-label"
        estimator._label_dtype = np.int64
    estimator.n_features_in_ = fitted.n_features
    if fitted.feature_names:
        estimator.feature_names_in_ = np.array(fitted.feature_names, dtype=object)
    estimator._publish()
    return estimator
