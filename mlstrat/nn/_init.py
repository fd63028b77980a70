"""Weight initialisers, seeded by a ``numpy.random.Generator``.

``INITIALIZERS[name](rng, n_in, n_out, dtype)`` returns a ``(n_in, n_out)`` array.
``"auto"`` picks He for the ReLU family and Xavier/Glorot otherwise.
Biases always start at zero.
"""

from __future__ import annotations

import numpy as np


def he_normal(rng, n_in, n_out, dtype):
    """He: normal with standard deviation ``sqrt(2 / n_in)`` (ReLU family)."""
    return (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(dtype)


def xavier_uniform(rng, n_in, n_out, dtype):
    """Xavier/Glorot: uniform on ``+-sqrt(6 / (n_in + n_out))``."""
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype)


def zeros(rng, n_in, n_out, dtype):
    """All zeros; only valid for the output layer (e.g. logistic regression)."""
    return np.zeros((n_in, n_out), dtype=dtype)


INITIALIZERS = {"he": he_normal, "xavier": xavier_uniform, "zeros": zeros}

_AUTO = {"relu": "he", "leaky_relu": "he"}


def resolve_initializer(name, activation):
    """Return the initialiser name ``"auto"`` stands for with this activation."""
    return _AUTO.get(activation, "xavier") if name == "auto" else name
