"""Losses computed from the output layer's pre-activation (logits).

Each loss object offers

* ``value(Z, A, Y)`` - mean loss over the ``m`` rows, a Python float computed
  in float64 so that it is finite for every finite input;
* ``delta(Z, A, Y)`` - dJ/dZ of the *sum* over rows when ``fuses_activation``
  (sigmoid + binary cross-entropy, softmax + categorical cross-entropy), or
  dJ/dA otherwise (the network then applies the output activation's
  derivative);
* ``error(A, Y)`` - misclassification rate, or mean squared error.

Targets ``Y`` are a float matrix with one column per output unit, except for
categorical cross-entropy which also accepts a vector of class indices.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Loss(Protocol):
    """What the network needs of a loss (see the module docstring)."""

    activation: str
    fuses_activation: bool

    def value(self, Z: np.ndarray, A: np.ndarray | None, Y: np.ndarray) -> float: ...

    def delta(self, Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray: ...

    def error(self, A: np.ndarray, Y: np.ndarray) -> float: ...


def _class_indices(Y):
    return Y if Y.ndim == 1 else np.argmax(Y, axis=1)


class BinaryCrossEntropy:
    """Binary cross-entropy from logits: ``max(x,0) - x*y + log1p(exp(-|x|))``.

    Examples
    --------
    >>> import numpy as np
    >>> BinaryCrossEntropy().value(np.array([[1e30]], np.float32), None,
    ...                            np.array([[0.0]], np.float32)) > 9e29
    True
    """

    activation = "sigmoid"
    fuses_activation = True

    def value(self, Z, A, Y):
        Z = Z.astype(np.float64)
        per_entry = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
        return float(per_entry.sum() / Z.shape[0])

    def delta(self, Z, A, Y):
        return A - Y

    def error(self, A, Y):
        return float(np.mean((A >= 0.5) != (Y >= 0.5)))


class CategoricalCrossEntropy:
    """Softmax cross-entropy from logits: ``logsumexp(z) - z_y``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[1e38, -1e38]], np.float32)
    >>> CategoricalCrossEntropy().value(z, None, np.array([1])) > 1.9e38
    True
    """

    activation = "softmax"
    fuses_activation = True

    def value(self, Z, A, Y):
        zmax = Z.max(axis=1, keepdims=True)
        shifted = Z - zmax
        log_sum = np.log(np.exp(shifted).sum(axis=1, dtype=np.float64))
        zmax = zmax[:, 0].astype(np.float64)
        if Y.ndim == 1:
            z_true = Z[np.arange(Z.shape[0]), Y].astype(np.float64)
            return float(np.mean(zmax + log_sum - z_true))
        log_p = shifted.astype(np.float64) - log_sum[:, None]
        return float(-np.sum(Y * log_p) / Z.shape[0])

    def delta(self, Z, A, Y):
        D = A.copy()
        if Y.ndim == 1:
            D[np.arange(D.shape[0]), Y] -= 1
        else:
            D -= Y
        return D

    def error(self, A, Y):
        return float(np.mean(np.argmax(A, axis=1) != _class_indices(Y)))


class MeanSquaredError:
    """Half mean squared error ``mean((a - y)**2) / 2`` (scikit-learn's convention).

    The mean runs over rows and output columns; ``error`` reports the plain
    MSE ``mean((a - y)**2)``.
    """

    activation = "linear"
    fuses_activation = False

    def value(self, Z, A, Y):
        D = A.astype(np.float64) - Y
        return float(np.mean(D * D) / 2)

    def delta(self, Z, A, Y):
        return (A - Y) / A.dtype.type(A.shape[1])

    def error(self, A, Y):
        D = A.astype(np.float64) - Y
        return float(np.mean(D * D))


LOSSES: dict[str, Loss] = {
    "binary_crossentropy": BinaryCrossEntropy(),
    "categorical_crossentropy": CategoricalCrossEntropy(),
    "mse": MeanSquaredError(),
}

DEFAULT_LOSS = {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy"}


def default_loss(activation):
    """Name of the loss matched to an output activation (MSE for the rest)."""
    return DEFAULT_LOSS.get(activation, "mse")
