"""One trial: set the params, fit on train (or continue a fit), score on dev.

``run_trial`` is a plain top-level function of picklable arguments, so the
same code runs inline, in a joblib (loky) worker process or on a Dask worker.
It never touches the store: it returns an outcome dict and the driver
records it. It never raises for a failing model either: an exception or a
divergence (non-finite score or loss, or a warning of class
``DivergenceWarning``) comes back as ``state='failed'`` with the error text.
"""

from __future__ import annotations

import math
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import check_cv

from mlstrat.metrics import METRICS, measure_latency

#: scoring name -> (function(y_true, y_pred) -> float, greater_is_better)
SCORERS: dict[str, tuple[Callable[..., float], bool]] = {
    **METRICS,
    "mse": (mean_squared_error, False),
    "mae": (mean_absolute_error, False),
    "r2": (r2_score, True),
}

#: names an estimator may give its epoch budget, tried in this order
RESOURCE_PARAMS = ("max_epochs", "max_iter", "n_estimators")


def resource_param(estimator: Any) -> str | None:
    """The estimator's epoch-budget parameter (``max_epochs`` for mlstrat.nn)."""
    params = estimator.get_params()
    return next((p for p in RESOURCE_PARAMS if p in params), None)


def scorer(scoring: str | Callable) -> tuple[Callable[..., float], bool, str]:
    """(function, greater_is_better, name) for a scoring name or callable."""
    if callable(scoring):
        return scoring, False, getattr(scoring, "__name__", "score")
    if scoring not in SCORERS:
        raise ValueError(
            f"Unknown scoring {scoring!r}. Valid names: {sorted(SCORERS)}, or a callable "
            "(y_true, y_pred) -> float (lower is better)."
        )
    fn, gib = SCORERS[scoring]
    return fn, gib, scoring


def run_trial(task: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Train and score one configuration; return the outcome (never raises).

    Parameters
    ----------
    task : dict
        ``estimator`` (unfitted template), ``params``, ``scoring``; optional
        ``model`` (a fitted model to continue with ``warm_start``),
        ``epochs`` (target total epochs) and ``epochs_done``, ``cv``,
        ``measure_latency``, ``keep_model``.
    data : dict
        ``X_train``, ``y_train`` and ``X_dev``, ``y_dev`` (or None with ``cv``).

    Returns
    -------
    dict with ``state`` ('complete' or 'failed'), ``value``, ``metrics``,
    ``history`` (rows with ``epoch``), ``epochs`` (the model's total),
    ``epochs_trained`` (spent in this call), ``seconds``, ``error`` and
    ``model`` (when ``keep_model``).
    """
    t0 = time.perf_counter()
    out: dict[str, Any] = {"state": "failed", "value": None, "metrics": {}, "history": [],
                           "epochs": 0, "epochs_trained": 0, "error": None, "model": None}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if task.get("cv") and data.get("X_dev") is None:
                _cross_validate(task, data, out)
            else:
                _fit_and_score(task, data, out)
        _check_divergence(out, caught)
    except Exception as exc:  # a failing trial is recorded, the search goes on
        out["state"], out["model"] = "failed", None
        out["error"] = f"{type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=3)
    out["seconds"] = time.perf_counter() - t0
    if not task.get("keep_model"):
        out["model"] = None
    return out


def _fit_and_score(task: Mapping[str, Any], data: Mapping[str, Any], out: dict) -> None:
    model, before = _prepare(task)
    model.fit(data["X_train"], data["y_train"])
    fn, _, name = scorer(task.get("scoring", "error"))
    value = float(fn(data["y_dev"], model.predict(data["X_dev"])))
    out["metrics"][f"train_{name}"] = float(fn(data["y_train"], model.predict(data["X_train"])))
    out["metrics"][f"dev_{name}"] = value
    if task.get("measure_latency", True):
        out["metrics"]["latency_ms"] = measure_latency(model, data["X_dev"], n_repeats=3)
    _record(out, model, before, value)


def _cross_validate(task: Mapping[str, Any], data: Mapping[str, Any], out: dict) -> None:
    fn, _, name = scorer(task.get("scoring", "error"))
    X, y = data["X_train"], data["y_train"]
    splitter = check_cv(task["cv"], y, classifier=is_classifier(task["estimator"]))
    scores, trains = [], []
    for train_idx, dev_idx in splitter.split(X, y):
        model, before = _prepare({**task, "model": None})
        model.fit(X[train_idx], y[train_idx])
        scores.append(float(fn(y[dev_idx], model.predict(X[dev_idx]))))
        trains.append(float(fn(y[train_idx], model.predict(X[train_idx]))))
    value = float(np.mean(scores))
    out["metrics"].update({f"train_{name}": float(np.mean(trains)), f"dev_{name}": value,
                           f"dev_{name}_std": float(np.std(scores)), "cv_folds": len(scores)})
    _record(out, model, before, value)


def _prepare(task: Mapping[str, Any]) -> tuple[Any, int]:
    """The model to fit and its epochs so far: a fresh clone with the
    params, or the given fitted model set to continue (``warm_start``) for
    the extra epochs only."""
    resource = task.get("resource")
    params = {k: _as_param(v) for k, v in task["params"].items()}
    model = task.get("model")
    if model is None:
        model = clone(task["estimator"]).set_params(**params)
        if resource and task.get("epochs"):
            model.set_params(**{resource: int(task["epochs"])})
        return model, 0
    if resource is None:
        raise ValueError(
            f"Continuing a fitted {type(model).__name__} for more epochs needs an epoch "
            f"budget parameter (one of {list(RESOURCE_PARAMS)}); the trial has none.")
    done = int(task.get("epochs_done", 0))
    extra = int(task["epochs"]) - done
    model.set_params(warm_start=True, **{resource: max(extra, 1)})
    return model, _epochs_of(model, done)


def _as_param(value: Any) -> Any:
    return tuple(_as_param(v) for v in value) if isinstance(value, list) else value


def _epochs_of(model: Any, default: int = 0) -> int:
    """Epochs the model has trained so far, from what the estimator reports."""
    for attr in ("n_epochs_", "n_iter_"):
        value = getattr(model, attr, None)
        if value is not None:
            return int(np.max(value))
    history = getattr(model, "history_", None)
    return len(history) if history is not None else default


def _record(out: dict, model: Any, before: int, value: float) -> None:
    total = _epochs_of(model, before)
    out["history"] = _history_rows(model, start=before)
    out["epochs"] = total
    out["epochs_trained"] = max(total - before, 0)
    out["value"], out["state"], out["model"] = value, "complete", model


def _history_rows(model: Any, start: int) -> list[dict[str, Any]]:
    """Per-epoch rows after epoch ``start``: the estimator's ``history_``
    (mlstrat.nn), else scikit-learn's ``loss_curve_``/``validation_scores_``."""
    history = getattr(model, "history_", None)
    if history is not None:
        records = history.to_dict("records") if hasattr(history, "to_dict") else list(history)
        rows = [{**dict(r), "epoch": int(dict(r).get("epoch", i + 1))}
                for i, r in enumerate(records)]
    else:
        losses = list(getattr(model, "loss_curve_", None) or [])
        rows = [{"epoch": i + 1, "loss": float(v)} for i, v in enumerate(losses)]
        # validation_scores_ exists only with early_stopping=True: rows may outnumber it
        scores = getattr(model, "validation_scores_", None) or []
        for row, score in zip(rows, scores, strict=False):
            row["val_score"] = float(score)
    return [_plain_row(r) for r in rows if r["epoch"] > start]


def _plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def _check_divergence(out: dict, caught: list) -> None:
    if out["state"] != "complete":
        return
    diverged = [w for w in caught if type(w.message).__name__ == "DivergenceWarning"
                or getattr(w.category, "__name__", "") == "DivergenceWarning"]
    losses = [r.get("loss") for r in out["history"] if r.get("loss") is not None]
    if diverged:
        reason = f"diverged: {diverged[0].message}"
    elif not math.isfinite(out["value"]):
        reason = f"diverged: the dev score is {out['value']}"
    elif any(not math.isfinite(float(v)) for v in losses):
        reason = "diverged: the training loss became non-finite"
    else:
        return
    out["state"], out["error"], out["model"] = "failed", reason, None
