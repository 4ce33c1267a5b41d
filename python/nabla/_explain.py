"""``nabla.explain`` and ``nabla.loss``: the library's derivations and losses on Python values."""

import json

import numpy as np

from . import _nabla


class Derivation(dict):
    """A derivation of ∂C/∂w as a dict (the JSON form of ``nabla explain --format json``):
    ``steps``, ``gradient``, ``bias``, ``undefined_where``, ``advice``, ``checked``, …
    It renders itself in Jupyter (Markdown, LaTeX) and as text with ``str()``."""

    def __init__(self, fields, question):
        super().__init__(fields)
        self._question = question

    def _render(self, format):
        return _nabla.explain(**self._question, format=format)

    def __str__(self):
        return self._render("text")

    def _repr_markdown_(self):
        return self._render("markdown")

    def _repr_latex_(self):
        return self._render("latex")


def explain(activation, loss=None, from_=None, targets="hard", points=_nabla.DEFAULT_CHECK_POINTS):
    """The machine-checked derivation of ∂C/∂w for an output ``activation`` ('relu', 'sigmoid',
    'softmax', 'identity', …) feeding ``loss`` ('binary-cross-entropy', 'cross-entropy', 'nll',
    'mse'; default: the pairing table's), the loss reading ``from_`` ('probabilities' or
    'logits'; default: as ``nabla train`` does), for ``targets`` 'hard' or 'soft'."""
    question = dict(activation=activation, loss=loss, from_=from_, targets=targets, points=points)
    fields = json.loads(_nabla.explain(**question, format="json"))
    return Derivation(fields, question)


def loss(kind, output, target, *, from_=None, activation=None, reduction="mean", **options):
    """A loss and its gradient with PyTorch's semantics (the ``nabla loss`` contract):
    ``kind`` is 'cross-entropy', 'binary-cross-entropy', 'nll' or 'mse'; ``output`` rows ×
    outputs; ``target`` class indices (one per row) or values (rows × outputs); options as the
    contract's fields (``weight``, ``pos_weight``, ``ignore_index``, ``label_smoothing``).
    Returns (loss, gradient) with the gradient as a numpy array."""
    case = {"loss": kind, "output": np.asarray(output, dtype=float).tolist(),
            "target": np.asarray(target).tolist(), "reduction": reduction}
    if from_ is not None:
        case["from"] = from_
    if activation is not None:
        case["activation"] = activation
    for key, value in options.items():
        case[key] = np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
    for field in ("output", "target", *options):
        numbers = np.asarray(case[field], dtype=object).ravel()
        bad = [v for v in numbers if isinstance(v, float) and not np.isfinite(v)]
        if bad:
            raise ValueError(
                f"{field} holds {bad[0]}: the loss contract takes finite numbers (a NaN or an "
                "infinity has no loss or gradient to check)"
            )
    answer = json.loads(_nabla.loss_case(json.dumps(case)))
    value = answer["loss"]
    return (np.asarray(value) if isinstance(value, list) else value,
            np.asarray(answer["gradient"]))
