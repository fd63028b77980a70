"""The error ladder of a regression, in the target's units.

Each rung is the split's RMSE (or MAE, ``metric="mae"``) with a studentised
(bootstrap-t) interval widened for small sets; R^2, RMSE and MAE of every
split sit beside it (``Diagnosis.split_metrics``). A gap between two splits,
measured on different examples, gets the expanded percentile interval and
two-sided p-value of the difference of independent bootstrap replicates; the
gap to a human level (a fixed number in the same units) those of the upper
rung's studentised interval minus that number. Coverage by simulation:
``mlstrat.calibration.regression_calibration``. The verdicts, Holm's
correction, the status and the primary problem are those of ``diagnose``
(the same decision layer); nothing is capped.

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

from mlstrat.diagnosis import (
    GAPS,
    RUNG_LABELS,
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
from mlstrat.stats import studentised_interval, widening, z_value

__all__ = ["diagnose_regression", "REGRESSION_METRICS"]

#: metric name -> (label, function of the per-example absolute errors)
REGRESSION_METRICS = {
    "rmse": ("RMSE", lambda a: float(np.sqrt(np.mean(a**2)))),
    "mae": ("MAE", lambda a: float(np.mean(a))),
}

_MAX_CELLS = 4_000_000  # resample matrix entries held at once
#: fewest examples in a set for a bootstrap interval: below it a set has too few
#: distinct resamples (2 examples: 3), and its gaps are too small to tell
MIN_BOOTSTRAP_N = 10


class _Boot:
    """Bootstrap replicates of one split's metric, its standard error, and the
    studentised replicates of the resamples that have a spread (``t``)."""

    def __init__(self, abs_err: np.ndarray, metric: str, n_resamples: int,
                 rng: np.random.Generator) -> None:
        n = abs_err.size
        power = 2 if metric == "rmse" else 1
        values = abs_err**power
        means, sqmeans = np.empty(n_resamples), np.empty(n_resamples)
        step = max(1, _MAX_CELLS // n)
        for start in range(0, n_resamples, step):
            stop = min(n_resamples, start + step)
            v = values[rng.integers(0, n, size=(stop - start, n))]
            means[start:stop] = v.mean(axis=1)
            sqmeans[start:stop] = (v**2).mean(axis=1)
        self.n = n
        self.value, self.se = _metric_and_se(values.mean(), np.mean(values**2), n, metric)
        self.reps, rep_se = _metric_and_se(means, sqmeans, n, metric)
        spread = rep_se > 0
        self.t = (self.reps[spread] - self.value) / rep_se[spread]


def _metric_and_se(mean, sqmean, n: int, metric: str):
    """The metric from the mean of |e| (MAE) or of e^2 (RMSE), and its delta-method SE."""
    sd = np.sqrt(np.maximum(sqmean - mean**2, 0.0) * n / max(n - 1, 1))
    if metric == "rmse":
        value = np.sqrt(mean)
        return value, sd / np.sqrt(n) / np.maximum(2 * value, 1e-300)
    return mean, sd / np.sqrt(n)


def _rung_interval(b: _Boot, confidence: float, shift: float = 0.0, *, with_p: bool = True
                   ) -> tuple[float, float, float]:
    """``stats.studentised_interval`` of the metric minus ``shift`` (bootstrap-t widened
    for small sets, joined with the expanded percentile interval), and the two-sided
    p-value of the test the joined interval inverts (the larger of the two).
    Coverage in ``regression_calibration``."""
    est = b.value - shift
    if b.se <= 0:
        return float(est), float(est), 1.0 if est == 0 else 0.0
    low, high = studentised_interval(est, b.se, b.reps - shift, b.t, b.n, confidence)
    if not with_p:
        return low, high, float("nan")
    t_obs = est / (widening(confidence, b.n) * b.se)
    return low, high, max(_percentile_p(b.reps - shift, b.n), _t_p(b.t, t_obs))


def _t_p(t: np.ndarray, t_obs: float) -> float:
    """Two-sided p-value of the studentised test: t_obs outside T's quantiles."""
    if t.size < 20:
        return 0.0
    tail = float(min(np.mean(t >= t_obs), np.mean(t <= t_obs)))
    return min(1.0, 2 * (tail * t.size + 1) / (t.size + 1))


def _percentile_p(reps: np.ndarray, n: int) -> float:
    """Two-sided p-value of the expanded percentile test that the value is 0: the
    level at which the interval's tail reaches 0, mapped back through ``expanded_level``."""
    b = reps.size
    tail = min((np.sum(reps <= 0) + 1) / (b + 1), (np.sum(reps >= 0) + 1) / (b + 1))
    if n < 2 or tail >= 0.5:
        return 1.0
    c = math.sqrt(n / (n - 1))
    return float(min(1.0, 2 * _sps.t.sf(_sps.norm.isf(tail) / c, n - 1)))


def _gap_interval(a: _Boot, b: _Boot, confidence: float) -> tuple[float, float, float]:
    """Interval of ``b - a`` (independent sets) by MOVER (Zou and Donner's recovery
    of variance estimates, the hybrid Newcombe method of the classification ladder)
    from the two rungs' studentised intervals, and the p-value of the test it
    inverts (the confidence at which the interval touches 0)."""
    low, high = _mover(a, b, confidence)
    if low <= 0 <= high:
        lo_c, hi_c = 0.0, confidence
    else:
        lo_c, hi_c = confidence, 1 - 1e-9
        lo_max, hi_max = _mover(a, b, hi_c)
        if not lo_max <= 0 <= hi_max:
            return low, high, 1e-9
    for _ in range(40):  # the largest confidence whose interval excludes 0
        mid = (lo_c + hi_c) / 2
        lo_m, hi_m = _mover(a, b, mid)
        lo_c, hi_c = (mid, hi_c) if not lo_m <= 0 <= hi_m else (lo_c, mid)
    return low, high, float(min(1.0, 1 - lo_c))


def _mover(a: _Boot, b: _Boot, confidence: float) -> tuple[float, float]:
    la, ua, _ = _rung_interval(a, confidence, with_p=False)
    lb, ub, _ = _rung_interval(b, confidence, with_p=False)
    d = b.value - a.value
    return (float(d - math.hypot(b.value - lb, ua - a.value)),
            float(d + math.hypot(ub - b.value, a.value - la)))


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


def _gap(name: str, rungs: dict[str, Rung], boots: dict[str, _Boot],
         human: float | None, confidence: float) -> Gap | None:
    upper, lower, label = GAPS[name]
    if name == "variance" and "train_dev" not in rungs and "dev" in rungs:
        upper, label = "dev", "variance + data mismatch"
    if name == "data_mismatch" and "train_dev" not in rungs:
        return None
    if upper not in rungs or (lower not in rungs and lower != "human"):
        return None
    small = [s for s in (upper, lower) if s in boots and boots[s].n < MIN_BOOTSTRAP_N]
    if name == "avoidable_bias":
        fixed = 0.0 if human is None else human
        label = label if human is not None else "avoidable bias or Bayes error"
        value = rungs[upper].rate - fixed
        low, high, pvalue = _rung_interval(boots[upper], confidence, shift=fixed)
        se = boots[upper].se
        test = "studentised bootstrap test"
    else:
        value = rungs[upper].rate - rungs[lower].rate
        low, high, pvalue = _gap_interval(boots[lower], boots[upper], confidence)
        se = float(np.hypot(boots[upper].se, boots[lower].se))
        test = "MOVER test on the two rungs' bootstrap intervals"
    if small:
        low = high = pvalue = None  # type: ignore[assignment]
    gap = Gap(name, label, upper, lower, value, low, high, pvalue=pvalue, test=test)
    gap._small = small  # type: ignore[attr-defined]
    gap.negligible = 0.1 * max(abs(rungs[upper].rate), abs(rungs.get(lower, Rung("", 0.0)).rate))
    gap.negligible = gap.negligible or 1e-12
    gap._se = se  # type: ignore[attr-defined]
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
    boots: dict[str, _Boot] = {}
    if source is not None:
        rungs["human"] = Rung("human", float(human_value), None, None, None, source)
    for s in RUNGS[1:]:
        if s in errs:
            boots[s] = _Boot(errs[s], metric, int(n_resamples), rng)
            lo, hi, _ = _rung_interval(boots[s], confidence, with_p=False)
            if errs[s].size < MIN_BOOTSTRAP_N:
                rungs[s] = Rung(s, fn(errs[s]), int(errs[s].size), None, None)
            else:
                rungs[s] = Rung(s, fn(errs[s]), int(errs[s].size), max(lo, 0.0), hi)
    gaps = [g for g in (_gap(n, rungs, boots, human_value, confidence) for n in GAPS)
            if g is not None]
    _decide(gaps, rungs, confidence, power, negligible)
    small = {g.name: g.__dict__.pop("_small") for g in gaps}
    for g in gaps:
        g.__dict__.pop("_se", None)
        if small[g.name]:
            g.verdict, g.size_to_tell, g.enlarge = ("too_small_to_tell", MIN_BOOTSTRAP_N,
                                                    small[g.name])
    rates = {s: (rungs[s].rate if s in rungs else None) for s in RUNGS[1:]}
    d = Diagnosis(rates, {s: int(e.size) for s, e in errs.items()}, levels, source,
                  float(confidence), float(comparable), rungs=list(rungs.values()), gaps=gaps,
                  power=float(power), metric=label,
                  split_metrics={s: _split_metrics(truths.get(s), errs[s], y_var) for s in errs})
    for g in gaps:
        if not small[g.name]:
            _annotate(g, d)
        else:
            sets = " and ".join(RUNG_LABELS[s] for s in small[g.name])
            g.note = (f"fewer than {MIN_BOOTSTRAP_N} examples in {sets}: too few for a "
                      f"bootstrap interval; measure at least {MIN_BOOTSTRAP_N}")
    d = _conclude(d, _surpassed(d))
    d.notes.append(f"Regression: each rung is the split's {label} in the target's units, "
                   f"with {n_resamples:,}-resample studentised bootstrap intervals widened "
                   "for small sets (gaps between splits: MOVER on the two rungs' "
                   "intervals); R2 beside it.")
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

