"""nabla from Python: feed-forward networks with cross-entropy losses whose gradients are correct
by construction, as scikit-learn estimators; machine-checked derivations; PyTorch-compatible
losses. Everything runs in nabla's Rust library (the same rules and numbers as the ``nabla``
command line); models are the same files.

    >>> import nabla
    >>> model = nabla.MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
    >>> model.predict(X[:5])
    >>> nabla.explain("relu", "binary-cross-entropy")     # why a ReLU output is refused
"""

from ._convert import convert
from ._estimators import MLPClassifier, MLPRegressor, load
from ._explain import Derivation, explain, loss

__all__ = ["MLPClassifier", "MLPRegressor", "load", "explain", "Derivation", "loss", "convert"]
__version__ = "0.1.0"
