"""Scoring the baselines with the metrics of :mod:`mlstrat.metrics`: which
registry names fit a task, the default one, and the call with the right
``pos_label`` / averaging.
"""

from __future__ import annotations

from collections.abc import Callable

from mlstrat.metrics import METRICS, REGRESSION_METRICS, f1, precision, recall

DEFAULT_METRIC = {"classification": "error", "regression": "mse"}


def metric_registry(task: str) -> dict[str, tuple[Callable[..., float], bool]]:
    """name -> (function, greater_is_better) of the ``METRICS`` that fit ``task``."""
    regression = task != "classification"
    return {k: v for k, v in METRICS.items() if (k in REGRESSION_METRICS) == regression}


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
