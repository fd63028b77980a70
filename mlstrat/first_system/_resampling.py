"""How the rungs of a first system are measured without reusing the dev set.

- The early-stopping carve: a random (stratified, group-respecting) tenth of
  the training rows that the networks validate on and that no model trains on.
  Dev, which feeds the ladder's dev rung, is never used while fitting.
- The small-data rule: one split is kept when it can resolve a gap of a few
  points; otherwise the rungs come from repeated K-fold out-of-fold predictions,
  whose dev rung counts every non-test row of the target distribution.
- The folds: stratified for classification, whole groups when a group column
  is known (no group in two folds).

Examples
--------
>>> y = np.array([0] * 90 + [1] * 10)
>>> fit, carve = carve_early_stopping(y, random_state=0)
>>> len(fit), len(carve), int(y[carve].sum())
(90, 10, 1)
>>> round(dev_half_width("classification", np.r_[np.ones(5), np.zeros(95)]), 3)
0.045
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

from mlstrat.splits import make_splits
from mlstrat.stats import paired_mean_difference, wilson_interval

#: share of the training rows carved out for early stopping (never trained on)
EARLY_STOP_FRACTION = 0.1
#: one split is kept when the 95% half-width of its dev rung is at most this (2 pt)
RESOLVE_HALF_WIDTH = 0.02
#: the K-fold estimate: folds x repeats
N_SPLITS, N_REPEATS = 5, 2
#: values of the workflow's ``resampling`` parameter
RESAMPLING = ("auto", "split", "kfold")
#: wording of the rule, for reports
RULE = (f"one split when the 95% Wilson half-width of its dev error at the observed rate "
        f"is at most {100 * RESOLVE_HALF_WIDTH:g} pt (regression: the t half-width of "
        f"MSE / variance); otherwise {N_SPLITS}-fold x {N_REPEATS} repeated out-of-fold "
        "predictions")

_EMPTY = np.zeros(0, dtype=np.intp)


def check_resampling(resampling: str) -> str:
    """The ``resampling`` parameter, checked.

    Examples
    --------
    >>> check_resampling("kfold")
    'kfold'
    """
    if resampling not in RESAMPLING:
        raise ValueError(f"The 'resampling' parameter must be one of {list(RESAMPLING)} "
                         f"('auto' picks K-fold when one split is too small to resolve a "
                         f"gap of {100 * RESOLVE_HALF_WIDTH:g} pt). Got {resampling!r}.")
    return resampling


def carve_early_stopping(y: np.ndarray, *, groups: np.ndarray | None = None,
                         stratify: bool = True, random_state: int | None = 0,
                         fraction: float = EARLY_STOP_FRACTION
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the rows to fit on and of the rows to stop early on.

    About ``fraction`` of the rows, drawn with :func:`mlstrat.splits.make_splits`
    (stratified on ``y`` when ``stratify``, whole groups when ``groups``). A
    class that would be left with no fitting row stays in the fitting rows
    (with its whole group): a model cannot validate on a class it never saw.

    Returns
    -------
    (fit, carve) : sorted arrays of positions into ``y``; ``carve`` may be
        empty when there are fewer than two rows (or one group).

    Examples
    --------
    >>> fit, carve = carve_early_stopping(np.r_[np.zeros(19), 1], random_state=0)
    >>> len(carve), 19 in fit
    (2, True)
    """
    y = np.asarray(y)
    n = len(y)
    k = max(1, int(round(fraction * n))) if n >= 2 else 0
    if k == 0:
        return np.arange(n, dtype=np.intp), _EMPTY
    parts = make_splits(n, sizes={"dev": k, "test": 0}, stratify=y if stratify else None,
                        groups=groups, train_dev=False, random_state=random_state)
    fit, carve = parts.get("train", _EMPTY), parts.get("dev", _EMPTY)
    if stratify and carve.size:
        fit, carve = _keep_classes_in_fit(y, groups, fit, carve)
    if fit.size == 0:
        return np.arange(n, dtype=np.intp), _EMPTY
    return fit, carve


def _keep_classes_in_fit(y, groups, fit, carve):
    move = ~np.isin(y[carve], y[fit])
    if not move.any():
        return fit, carve
    if groups is not None:
        move = np.isin(groups[carve], groups[carve[move]])
    return np.sort(np.r_[fit, carve[move]]).astype(np.intp), carve[~move]


def dev_half_width(task: str, dev_loss: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the interval on the dev rung at its observed value.

    Classification: Wilson interval of the errors (``stats.wilson_interval``;
    fractional error counts allowed). Regression: t interval of the per-example
    ``squared error / variance`` (``stats.paired_mean_difference`` against 0).

    Parameters
    ----------
    task : {'classification', 'regression'}
    dev_loss : array
        Per dev example: 1/0 error (or its mean over repeats), or the squared
        error divided by the variance of the training target.

    Examples
    --------
    >>> round(dev_half_width("classification", np.r_[np.ones(10), np.zeros(90)]), 4)
    0.0596
    """
    loss = np.asarray(dev_loss, dtype=float)
    if task == "classification":
        lo, hi = wilson_interval(float(loss.sum()), loss.size, confidence)
    else:
        r = paired_mean_difference(np.zeros(loss.size), loss, confidence=confidence)
        lo, hi = r.low, r.high
    return float(hi - lo) / 2


def needs_kfold(half_width: float) -> bool:
    """The rule: K-fold when one split's dev rung is wider than +-2 pt.

    Examples
    --------
    >>> needs_kfold(0.035), needs_kfold(0.01)
    (True, False)
    """
    return half_width > RESOLVE_HALF_WIDTH


def _splitter(stratify: bool, grouped: bool, n_splits: int, seed: int):
    if grouped:
        cls = StratifiedGroupKFold if stratify else GroupKFold
    else:
        cls = StratifiedKFold if stratify else KFold
    return cls(n_splits=n_splits, shuffle=True, random_state=seed)


def n_folds(y: np.ndarray, groups: np.ndarray | None, n_splits: int = N_SPLITS) -> int:
    """Folds that fit the data: at most one per row (or group), at least 2.

    Examples
    --------
    >>> n_folds(np.zeros(3), None)
    3
    """
    units = len(np.unique(groups)) if groups is not None else len(y)
    k = min(int(n_splits), units)
    if k < 2:
        raise ValueError(f"K-fold needs at least 2 rows (or groups) outside test; got {units}. "
                         "Use resampling='split' or give more data.")
    return k


def repeated_folds(y: np.ndarray, *, groups: np.ndarray | None = None, stratify: bool = True,
                   n_splits: int = N_SPLITS, n_repeats: int = N_REPEATS,
                   random_state: int | None = 0) -> list[list[np.ndarray]]:
    """Held-out positions of each fold, per repeat (each repeat a partition).

    Stratified on ``y`` when ``stratify``; with ``groups``, whole groups per
    fold (``StratifiedGroupKFold`` / ``GroupKFold``). Repeat ``r`` shuffles with
    seed ``random_state + r``.

    Examples
    --------
    >>> folds = repeated_folds(np.r_[np.zeros(10), np.ones(10)], n_splits=5, n_repeats=2)
    >>> len(folds), [len(f) for f in folds[0]]
    (2, [4, 4, 4, 4, 4])
    >>> sorted(np.concatenate(folds[1]).tolist()) == list(range(20))
    True
    """
    y = np.asarray(y)
    k = n_folds(y, groups, n_splits)
    base = 0 if random_state is None else int(random_state)
    out = []
    for r in range(int(n_repeats)):
        cv = _splitter(stratify, groups is not None, k, base + r)
        with warnings.catch_warnings():  # a class rarer than k: spread as far as it goes
            warnings.filterwarnings("ignore", message=".*least populated class.*")
            out.append([np.sort(test) for _, test in cv.split(np.zeros(len(y)), y, groups)])
    return out


def mean_by_example(n: int, positions: list[np.ndarray], values: list[np.ndarray]
                    ) -> np.ndarray:
    """Per position in ``range(n)``, the mean of the values given for it (NaN if none).

    Examples
    --------
    >>> mean_by_example(3, [np.array([0, 1]), np.array([1])], [np.array([1., 0.]), np.array([1.])])
    array([1. , 0.5, nan])
    """
    total, count = np.zeros(n), np.zeros(n)
    for pos, val in zip(positions, values, strict=True):
        np.add.at(total, pos, np.asarray(val, dtype=float))
        np.add.at(count, pos, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


__all__ = ["EARLY_STOP_FRACTION", "N_REPEATS", "N_SPLITS", "RESAMPLING", "RESOLVE_HALF_WIDTH",
           "RULE", "carve_early_stopping", "check_resampling", "dev_half_width",
           "mean_by_example", "n_folds", "needs_kfold", "repeated_folds"]
