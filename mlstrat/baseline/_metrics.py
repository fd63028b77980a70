"""Scoring the baselines: the classification metrics of :mod:`mlstrat.metrics`
and, for regression, a small private registry.

The regression registry belongs in :mod:`mlstrat.metrics` (reported to the
lead); it is kept here, minimal, until it exists there.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlstrat.metrics import METRICS, f1, precision, recall


# -- regression (MINIMAL PRIVATE VERSION: belongs in mlstrat.metrics) ---------------
def mse(y_true, y_pred) -> float:
    """Mean squared error.

    Examples
    --------
    >>> mse([1.0, 2.0], [1.0, 4.0])
    2.0
    """
    d = np.asarray(y_true, float) - np.asarray(y_pred, float)
    return float(np.mean(d * d))


def rmse(y_true, y_pred) -> float:
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    return float(np.mean(np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))))


def r2(y_true, y_pred) -> float:
    yt = np.asarray(y_true, float)
    total = float(np.sum((yt - yt.mean()) ** 2))
    return 1.0 - float(np.sum((yt - np.asarray(y_pred, float)) ** 2)) / total if total else 0.0


#: name -> (function(y_true, y_pred) -> float, greater_is_better)
REGRESSION_METRICS: dict[str, tuple[Callable[..., float], bool]] = {
    "mse": (mse, False),
    "rmse": (rmse, False),
    "mae": (mae, False),
    "r2": (r2, True),
}
DEFAULT_METRIC = {"classification": "error", "regression": "mse"}


def metric_registry(task: str) -> dict[str, tuple[Callable[..., float], bool]]:
    return dict(METRICS) if task == "classification" else dict(REGRESSION_METRICS)


def check_metric(task: str, metric: str | None) -> str:
    """The metric name to optimise, checked against the task's registry."""
    metric = DEFAULT_METRIC[task] if metric is None else str(metric).lower()
    registry = metric_registry(task)
    if metric not in registry:
        raise ValueError(f"Unknown metric {metric!r} for {task}. Valid metrics: "
                         f"{sorted(registry)}.")
    return metric


def score(task: str, metric: str, y_true, y_pred, *, classes=None, pos_label=None) -> float:
    """``metric`` of the predictions; binary metrics use ``pos_label``, and are
    macro-averaged when there are more than two classes."""
    fn, _ = metric_registry(task)[metric]
    if fn in (f1, precision, recall):
        if classes is not None and len(classes) > 2:
            return float(fn(y_true, y_pred, average="macro"))
        return float(fn(y_true, y_pred, pos_label=pos_label))
    if task == "classification" and metric == "false_positive_rate":
        return float(fn(y_true, y_pred, pos_label=pos_label))
    return float(fn(y_true, y_pred))


def positive_label(classes, y_train):
    """The positive class of a binary task: 1/True when present, else the minority class.

    Examples
    --------
    >>> positive_label(np.array(["no", "yes"]), np.array(["no", "no", "yes"]))
    'yes'
    """
    classes = list(classes)
    for candidate in (1, True, "1", "yes", "true", "True"):
        if candidate in classes:
            return candidate
    values, counts = np.unique(np.asarray(y_train), return_counts=True)
    minority = values[np.argmin(counts)]
    return minority.item() if hasattr(minority, "item") else minority
