"""Finite-difference gradient check of backpropagation (course notes' bands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

FINE, LOOK_CLOSER = 1e-7, 1e-3


@dataclass
class GradientCheckResult:
    """Outcome of :func:`gradient_check`.

    Attributes
    ----------
    difference : float
        ``||g - g_approx|| / (||g|| + ||g_approx||)`` over all parameters.
    verdict : {'fine', 'look closer', 'bug'}
        < 1e-7 fine; up to 1e-3 look closer (around 1e-5 is suspicious); above bug.
    layer_differences : list of float
        The same ratio per Dense layer (its W and b together).
    gradient, approx : ndarray
        Flat analytic and numerical gradients (float64).
    """

    difference: float
    verdict: str
    layer_differences: list = field(default_factory=list)
    gradient: np.ndarray | None = None
    approx: np.ndarray | None = None


def _ratio(g, approx):
    denom = np.linalg.norm(g) + np.linalg.norm(approx)
    return 0.0 if denom == 0 else float(np.linalg.norm(g - approx) / denom)


def _verdict(difference):
    if difference < FINE:
        return "fine"
    return "look closer" if difference <= LOOK_CLOSER else "bug"


def _model_and_targets(model, y):
    inner = getattr(model, "model_", None)
    if inner is None:
        return model, y
    return inner, model._encode_y(y)


def gradient_check(model, X, y, epsilon: float = 1e-7) -> GradientCheckResult:
    """Compare backprop gradients with central differences, in float64.

    Works with a built :class:`~mlstrat.nn.Sequential` or a fitted estimator
    (its ``model_`` and label encoding are used).  Dropout is off.  The cost
    is ``2 * n_params`` forward passes: use small networks and few rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mlstrat.nn import Sequential, Dense, gradient_check
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    >>> model = Sequential([Dense(4, activation="tanh", l2=0.3),
    ...                     Dense(1, activation="sigmoid")], input_dim=3, random_state=0)
    >>> gradient_check(model, X, y).verdict
    'fine'
    """
    model, y = _model_and_targets(model, y)
    twin = model._copy_as("float64")
    X = np.asarray(X, dtype=np.float64)
    _, grads = twin.loss_and_gradients(X, y)
    flat_grad = np.concatenate([g.ravel() for g in grads])
    params = twin._params
    approx = np.empty_like(params)
    for k in range(params.size):
        keep = params[k]
        params[k] = keep + epsilon
        plus = twin.loss_and_gradients(X, y)[0]
        params[k] = keep - epsilon
        minus = twin.loss_and_gradients(X, y)[0]
        params[k] = keep
        approx[k] = (plus - minus) / (2 * epsilon)
    bounds = np.cumsum([0] + [W.size + b.size for W, b in zip(twin._W, twin._b, strict=True)])
    layers = [_ratio(flat_grad[a:b], approx[a:b]) for a, b in pairwise(bounds)]
    difference = _ratio(flat_grad, approx)
    return GradientCheckResult(difference, _verdict(difference), layers, flat_grad, approx)
