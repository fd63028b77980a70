"""Activation functions and their derivatives, as registries.

``ACTIVATIONS[name](Z, out=None)`` returns ``g(Z)`` (written into ``out`` if given).
``DERIVATIVES[name](Z, A, delta)`` multiplies ``delta`` (dJ/dA) in place by
``g'(Z)`` and returns it (dJ/dZ), with the formulas of the course notes:

* sigmoid: ``g(1 - g)``
* tanh: ``1 - g**2``
* relu: ``1`` for ``z >= 0`` else ``0``
* leaky_relu: ``1`` for ``z >= 0`` else ``0.01``
* linear: ``1``
* softmax: the Jacobian-vector product ``A * (delta - sum(delta * A))``
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

LEAKY_SLOPE = 0.01


def sigmoid(Z, out=None):
    """Logistic function, stable for any finite input (``scipy.special.expit``)."""
    return expit(Z, out=out)


def tanh(Z, out=None):
    """Hyperbolic tangent."""
    return np.tanh(Z, out=out)


def relu(Z, out=None):
    """Rectified linear unit ``max(0, z)``."""
    return np.maximum(Z, 0, out=out)


def leaky_relu(Z, out=None):
    """Leaky ReLU ``max(0.01 z, z)``."""
    out = np.multiply(Z, Z.dtype.type(LEAKY_SLOPE), out=out)
    return np.maximum(Z, out, out=out)


def linear(Z, out=None):
    """Identity (a copy, or written into ``out``)."""
    if out is None:
        return Z.copy()
    np.copyto(out, Z)
    return out


def softmax(Z, out=None):
    """Row-wise softmax, shifted by the row maximum for stability.

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    out = np.subtract(Z, Z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _d_sigmoid(Z, A, delta):
    delta *= A * (1 - A)
    return delta


def _d_tanh(Z, A, delta):
    delta *= 1 - A * A
    return delta


def _d_relu(Z, A, delta):
    np.multiply(delta, Z >= 0, out=delta)
    return delta


def _d_leaky_relu(Z, A, delta):
    t = delta.dtype.type
    delta *= np.where(Z >= 0, t(1.0), t(LEAKY_SLOPE))
    return delta


def _d_linear(Z, A, delta):
    return delta


def _d_softmax(Z, A, delta):
    inner = np.sum(delta * A, axis=1, keepdims=True)
    delta -= inner
    delta *= A
    return delta


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "softmax": softmax,
}

DERIVATIVES = {
    "sigmoid": _d_sigmoid,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "leaky_relu": _d_leaky_relu,
    "linear": _d_linear,
    "softmax": _d_softmax,
}
