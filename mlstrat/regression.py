"""The error ladder of a regression, in the target's units.

Each rung is the split's RMSE (or MAE, ``metric="mae"``) with a bootstrap
percentile interval; R^2, RMSE and MAE of every split sit beside it
(``Diagnosis.split_metrics``). A gap between two splits, measured on
different examples, gets the interval and two-sided p-value of the
difference of independent bootstrap replicates; the gap to a human level
(a fixed number in the same units) those of the upper rung minus that
number. The verdicts, Holm's correction, the status and the primary problem
are those of ``diagnose`` (the same decision layer); nothing is capped.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> y = {s: rng.normal(size=400) for s in ("train", "train_dev", "dev")}
>>> noise = {"train": 0.3, "train_dev": 0.8, "dev": 0.8}
>>> preds = {s: (y[s], y[s] + rng.normal(scale=noise[s], size=400)) for s in y}
>>> d = diagnose_regression(preds)
>>> d.metric, d.primary, d.gap("data_mismatch").verdict in ("noise", "too_small_to_tell")
('RMSE', 'variance', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from mlstrat.diagnose import (
    GAPS,
    RUNGS,
    Diagnosis,
    Gap,
    Rung,
    _annotate,
    _canonical_split,
    _conclude,
    _decide_verdicts,
    _frame_to_splits,
    _surpassed,
    _tested_bounds,
)
from mlstrat.stats import z_value

__all__ = ["diagnose_regression", "REGRESSION_METRICS"]

#: metric name -> (label, function of the per-example absolute errors)
REGRESSION_METRICS = {
    "rmse": ("RMSE", lambda a: float(np.sqrt(np.mean(a**2)))),
    "mae": ("MAE", lambda a: float(np.mean(a))),
}

_MAX_CELLS = 4_000_000  # resample matrix entries held at once


def _replicates(abs_err: np.ndarray, metric: str, n_resamples: int,
                rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of the metric (rows resampled within the split)."""
    n = abs_err.size
    power = 2 if metric == "rmse" else 1
    values = abs_err**power
    out = np.empty(n_resamples)
    step = max(1, _MAX_CELLS // n)
    for start in range(0, n_resamples, step):
        stop = min(n_resamples, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].mean(axis=1)
    return np.sqrt(out) if metric == "rmse" else out


def _interval(reps: np.ndarray, confidence: float) -> tuple[float, float]:
    a = (1 - confidence) / 2
    lo, hi = np.quantile(reps, [a, 1 - a])
    return float(lo), float(hi)


def _pvalue(diff_reps: np.ndarray) -> float:
    """Two-sided bootstrap p-value that the difference is 0."""
    b = diff_reps.size
    below = (np.sum(diff_reps <= 0) + 1) / (b + 1)
    above = (np.sum(diff_reps >= 0) + 1) / (b + 1)
    return float(min(1.0, 2 * min(below, above)))


def _split_metrics(yt: np.ndarray | None, abs_err: np.ndarray,
                   y_var: float | None) -> dict[str, float]:
    out = {"RMSE": float(np.sqrt(np.mean(abs_err**2))), "MAE": float(np.mean(abs_err))}
    var = float(np.var(yt)) if yt is not None and yt.size > 1 else y_var
    if var:
        out["R2"] = 1 - out["RMSE"] ** 2 / var
    return out


def _abs_errors(predictions, y_var) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    if y_var is not None:  # per-example squared errors, as the first workflow passed them
        errs = {_canonical_split(k, "squared_errors"): np.sqrt(np.asarray(v, float).ravel())
                for k, v in predictions.items()}
        return errs, {k: None for k in errs}
    splits = _frame_to_splits(predictions) if isinstance(predictions, pd.DataFrame) \
        else dict(predictions)
    errs, truths = {}, {}
    for name, value in splits.items():
        key = _canonical_split(name, "predictions")
        if not isinstance(value, (tuple, list)) or len(value) < 2:
            raise ValueError(f"predictions[{name!r}] must be a pair (y_true, y_pred). "
                             f"Got {type(value).__name__}.")
        yt = np.asarray(value[0], dtype=float).ravel()
        yp = np.asarray(value[1], dtype=float).ravel()
        if yt.size != yp.size or yt.size < 2:
            raise ValueError(f"Split {name!r}: y_true and y_pred must have the same length "
                             f">= 2. Got {yt.size} and {yp.size}.")
        if not (np.all(np.isfinite(yt)) and np.all(np.isfinite(yp))):
            raise ValueError(f"Split {name!r}: y_true and y_pred must be finite numbers "
                             "(found NaN or infinity).")
        errs[key], truths[key] = np.abs(yp - yt), yt
    return errs, truths


def _gap(name: str, rungs: dict[str, Rung], reps: dict[str, np.ndarray],
         human: float | None, confidence: float) -> Gap | None:
    upper, lower, label = GAPS[name]
    if name == "variance" and "train_dev" not in rungs and "dev" in rungs:
        upper, label = "dev", "variance + data mismatch"
    if name == "data_mismatch" and "train_dev" not in rungs:
        return None
    if upper not in rungs or (lower not in rungs and lower != "human"):
        return None
    if name == "avoidable_bias":
        fixed = 0.0 if human is None else human
        label = label if human is not None else "avoidable bias or Bayes error"
        diff = reps[upper] - fixed
        value = rungs[upper].rate - fixed
    else:
        diff = reps[upper] - reps[lower]
        value = rungs[upper].rate - rungs[lower].rate
    low, high = _interval(diff, confidence)
    gap = Gap(name, label, upper, lower, value, low, high, pvalue=_pvalue(diff),
              test="bootstrap test of the difference")
    gap.negligible = 0.1 * max(abs(rungs[upper].rate), abs(rungs.get(lower, Rung("", 0.0)).rate))
    gap.negligible = gap.negligible or 1e-12
    gap._se = float(np.std(diff))  # type: ignore[attr-defined]
    return gap


def _decide(gaps: list[Gap], rungs: dict[str, Rung], confidence: float, power: float,
            negligible: float | None) -> None:
    """The decision layer of ``diagnose``, with sizes scaled from the bootstrap's spread."""

    def tell(g: Gap, alpha: float) -> None:
        zsum = z_value(1 - alpha) + float(_sps.norm.ppf(power))
        sets = [s for s in (g.upper, g.lower) if s in rungs]
        n_now = min(rungs[s].n or 1 for s in sets)
        delta = max(abs(g.value), _tested_bounds(g)[2])
        factor = (zsum * g._se / delta) ** 2  # type: ignore[attr-defined]
        g.size_to_tell = int(math.ceil(max(factor, 1.0) * n_now))
        g.enlarge = [s for s in sets if (rungs[s].n or 0) < g.size_to_tell]

    _decide_verdicts(gaps, confidence, negligible, tell)


def diagnose_regression(predictions, y_var: float | None = None,
                        human_error: float | None = None, *, metric: str = "rmse",
                        human: float | Mapping[str, float] | None = None,
                        confidence: float = 0.95, comparable: float = 0.5,
                        power: float = 0.8, negligible: float | None = None,
                        n_resamples: int = 2000, random_state: int | None = 0) -> Diagnosis:
    """The error ladder of a regression, in the target's units.

    Parameters
    ----------
    predictions : dict or DataFrame
        ``{"train": (y_true, y_pred), "dev": (y_true, y_pred), ...}`` or a
        DataFrame with columns ``split``, ``y_true``, ``y_pred``.
        (Older form: per-example squared errors per split, with ``y_var``.)
    y_var : float, optional
        Only with squared errors: the training target's variance, for R^2.
    human_error : float, optional
        Only with squared errors: human level as a relative MSE.
    metric : {'rmse', 'mae'}, default='rmse'
        The value of each rung.
    human : float or dict, optional
        Human-level error in the same metric and units (e.g. an RMSE).
    confidence, comparable, power, negligible :
        As in ``diagnose``; ``negligible`` is in the target's units (default:
        10% of the larger of the two rungs).
    n_resamples : int, default=2000
        Bootstrap resamples per split.
    random_state : int or None, default=0
        Seed of the bootstrap.

    Returns
    -------
    Diagnosis
        With ``metric`` 'RMSE' or 'MAE' and ``split_metrics`` holding RMSE, MAE
        and R^2 per split.
    """
    if metric not in REGRESSION_METRICS:
        raise ValueError(f"The 'metric' parameter must be one of {sorted(REGRESSION_METRICS)}. "
                         f"Got {metric!r}.")
    if not (0 < confidence < 1):
        raise ValueError(f"The 'confidence' parameter must be in (0, 1). Got {confidence!r}.")
    errs, truths = _abs_errors(predictions, y_var)
    if "train" not in errs:
        raise ValueError("The 'train' split is required to diagnose a regression.")
    if human is None and human_error is not None:
        human = math.sqrt(human_error * y_var) if y_var is not None else human_error
    levels, source, human_value = _check_human_units(human)
    label, fn = REGRESSION_METRICS[metric]
    rng = np.random.default_rng(random_state)
    rungs: dict[str, Rung] = {}
    reps: dict[str, np.ndarray] = {}
    if source is not None:
        rungs["human"] = Rung("human", float(human_value), None, None, None, source)
    for s in RUNGS[1:]:
        if s in errs:
            reps[s] = _replicates(errs[s], metric, int(n_resamples), rng)
            lo, hi = _interval(reps[s], confidence)
            rungs[s] = Rung(s, fn(errs[s]), int(errs[s].size), lo, hi)
    gaps = [g for g in (_gap(n, rungs, reps, human_value, confidence) for n in GAPS)
            if g is not None]
    _decide(gaps, rungs, confidence, power, negligible)
    for g in gaps:
        g.__dict__.pop("_se", None)
    rates = {s: (rungs[s].rate if s in rungs else None) for s in RUNGS[1:]}
    d = Diagnosis(rates, {s: int(e.size) for s, e in errs.items()}, levels, source,
                  float(confidence), float(comparable), rungs=list(rungs.values()), gaps=gaps,
                  power=float(power), metric=label,
                  split_metrics={s: _split_metrics(truths.get(s), errs[s], y_var) for s in errs})
    for g in gaps:
        _annotate(g, d)
    d = _conclude(d, _surpassed(d))
    d.notes.append(f"Regression: each rung is the split's {label} in the target's units, "
                   f"with {n_resamples:,}-resample bootstrap intervals (gaps between splits: "
                   "independent resamples); R2 beside it.")
    return d


def _check_human_units(human):
    if human is None:
        return {}, None, None
    levels = dict(human) if isinstance(human, Mapping) else {"human level": human}
    for k, v in levels.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) \
                or not math.isfinite(v) or v < 0:
            raise ValueError(f"human[{k!r}] must be a number >= 0 in the target's units "
                             f"(same metric as the rungs). Got {v!r}.")
    source = min(levels, key=levels.__getitem__)
    return {str(k): float(v) for k, v in levels.items()}, str(source), float(levels[source])

