"""Checks of the data before (and of the ladder after) training, said in words.

Each check returns :class:`Check` tuples ``(kind, message, severity)`` with a
severity of ``'ok'`` (checked, nothing found), ``'info'`` or ``'warning'``;
a problem no ladder can survive is a :class:`DataCheckError` raised before
anything is written.

- ``duplicates``: rows whose feature columns and target are exactly those of a
  training row (or a dev row, for test). A dev example that is a copy of a
  training example is a question the model has seen answered: the dev rung
  then lies low. Counted; dropped from dev and test with ``drop_duplicates``.
- ``dev_classes`` / ``test_classes``: a dev set with a single class cannot
  choose between models (every model predicting that class scores 0%):
  refused. A single-class test set is a warning.
- ``leak``: one feature that alone predicts the target on dev almost perfectly
  (error <= 1% and <= a tenth of the majority class's error; R^2 >= 0.99 for a
  regression), from a shallow single-feature tree or per-category majority
  fitted on train. Often a copy of the target or a value known only after it.
- ``ties``: models within noise of the best on dev (paired test: exact
  McNemar on 0/1 errors, paired t-test otherwise; p >= 0.05): the simplest
  non-trivial one of them is chosen, and the check says why.

Examples
--------
>>> import numpy as np
>>> keys = row_keys(pd.DataFrame({"x": [1, 2, 1, 3], "y": [0, 1, 0, 1]}), ["x", "y"])
>>> idx = {"train": np.array([0, 1]), "dev": np.array([2]), "test": np.array([3])}
>>> check, drop = check_duplicates(keys, idx)
>>> check.kind, check.severity, {k: v.tolist() for k, v in drop.items()}
('duplicates', 'warning', {'dev': [2], 'test': []})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlstrat._errors import MlstratError
from mlstrat.stats import mcnemar_test, paired_mean_difference

#: single-feature dev error at or below which a feature is a suspected leak ...
LEAK_ERROR = 0.01
#: ... when it is also at most this share of the majority class's dev error
LEAK_SHARE = 0.1
#: single-feature dev R^2 at or above which a feature is a suspected leak (regression)
LEAK_R2 = 0.99
#: training rows the leak check fits on (a sample beyond that)
LEAK_MAX_ROWS = 20_000
#: fewest dev rows for a leak verdict
LEAK_MIN_DEV = 20
#: p-value at or above which two models' dev errors are within noise
TIE_ALPHA = 0.05
#: metrics whose ties are judged on the per-example dev loss
TIE_METRICS = ("error", "accuracy", "mse", "rmse")
SEVERITIES = ("ok", "info", "warning")


class Check(NamedTuple):
    """One finding: ``kind``, ``message`` (a sentence), ``severity`` in ``SEVERITIES``."""

    kind: str
    message: str
    severity: str = "ok"


class DataCheckError(MlstratError):
    """The data cannot give a meaningful ladder (e.g. a dev set of one class)."""


# --------------------------------------------------------------------- duplicates
def row_keys(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """A 64-bit hash per row of ``columns`` (equal rows, equal keys)."""
    part = frame[list(columns)].reset_index(drop=True)
    return pd.util.hash_pandas_object(part, index=False).to_numpy()


def check_duplicates(keys: np.ndarray, idx: Mapping[str, np.ndarray]
                     ) -> tuple[Check, dict[str, np.ndarray]]:
    """Dev/test rows that copy a training-side row (test: also a dev row).

    Returns the check and, per evaluation split, the rows that copy an earlier
    split (what ``drop_duplicates`` removes).
    """
    seen = np.concatenate([idx[s] for s in ("train", "train_dev") if s in idx])
    train_keys = set(keys[seen].tolist())
    dev_keys = set(keys[idx["dev"]].tolist())
    drop = {"dev": idx["dev"][np.isin(keys[idx["dev"]], list(train_keys))],
            "test": idx["test"][np.isin(keys[idx["test"]], list(train_keys | dev_keys))]}
    if not any(v.size for v in drop.values()):
        return Check("duplicates", "No dev or test row repeats a training row "
                     "(features and target compared exactly).", "ok"), drop
    parts = [f"{v.size:,} of {idx[s].size:,} {s} rows" for s, v in drop.items() if v.size]
    return Check("duplicates", " and ".join(parts) + " repeat a training row exactly "
                 "(features and target; test also against dev): the model has seen their "
                 "answers, so those rungs read low. Pass drop_duplicates=True "
                 "(--drop-duplicates) to leave them out of dev and test.", "warning"), drop


def first_occurrences(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` without the repeats of an earlier row's key (order kept)."""
    _, first = np.unique(keys[rows], return_index=True)
    return rows[np.sort(first)]


# --------------------------------------------------------------------- classes
def check_classes(y: np.ndarray, idx: Mapping[str, np.ndarray],
                  domain: str | None) -> list[Check]:
    """Refuse a dev set of one class; warn about a test set of one class."""
    dev = pd.unique(y[idx["dev"]])
    where = f"the rows with {domain}" if domain else "a stratified share of the rows"
    if len(dev) < 2:
        fix = ("choose a --domain whose rows hold two classes or more, or leave "
               "--domain out" if domain else "give more rows of the rarer classes, or "
               "split by another --seed or --group")
        raise DataCheckError(
            f"The dev set ({where}) holds a single class ({_plain(dev[0])!r} in all "
            f"{idx['dev'].size:,} rows): every model that predicts it scores 0% error, so "
            "dev cannot choose between models and its error says nothing of the other "
            f"classes. Nothing was written: {fix}.")
    checks = [Check("dev_classes", f"The dev set holds {len(dev)} classes.", "ok")]
    test = pd.unique(y[idx["test"]])
    if len(test) < 2:
        checks.append(Check("test_classes", f"The test set holds a single class "
                            f"({_plain(test[0])!r}): its error measures that class only.",
                            "warning"))
    return checks


# --------------------------------------------------------------------- leaks
def check_leaks(feats: pd.DataFrame, roles: Mapping[str, str], y: np.ndarray,
                idx: Mapping[str, np.ndarray], task: str,
                random_state: int = 0) -> list[Check]:
    """Features that alone predict the target on dev almost perfectly."""
    train, dev = _sample(idx["train"], random_state), idx["dev"]
    if dev.size < LEAK_MIN_DEV:
        return [Check("leak", f"No leak check: {dev.size} dev rows are too few.", "info")]
    base = _baseline_error(y[train], y[dev], task)
    found = []
    for col in feats.columns:
        role = roles.get(col)
        if role not in ("numeric", "categorical", "date"):
            continue
        value = _single_feature(feats[col], role, y, train, dev, task)
        if value is not None and _is_leak(value, base, task):
            found.append(Check("leak", _leak_message(col, value, base, task), "warning"))
    if not found:
        found.append(Check("leak", "No single feature predicts the target on dev almost "
                           "perfectly (no sign of a target leak).", "ok"))
    return found


def _sample(rows: np.ndarray, seed: int) -> np.ndarray:
    if rows.size <= LEAK_MAX_ROWS:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, LEAK_MAX_ROWS, replace=False))


def _baseline_error(y_train: np.ndarray, y_dev: np.ndarray, task: str) -> float:
    """Majority-class dev error, or the dev variance (regression)."""
    if task == "regression":
        return float(np.var(y_dev.astype(float)))
    values, counts = np.unique(y_train, return_counts=True)
    return float(np.mean(y_dev != values[np.argmax(counts)]))


def _single_feature(s: pd.Series, role: str, y: np.ndarray, train: np.ndarray,
                    dev: np.ndarray, task: str) -> float | None:
    """Dev error (classification) or R^2 (regression) of this feature alone."""
    if role == "categorical":
        pred = _by_category(s.astype(object).fillna("(missing)").to_numpy(), y, train, dev,
                            task)
    else:
        x = _as_float(s)
        med = np.nanmedian(x[train]) if np.isfinite(x[train]).any() else np.nan
        if not np.isfinite(med):
            return None
        x = np.where(np.isfinite(x), x, med).reshape(-1, 1)
        pred = _tree(task, len(np.unique(y[train]))).fit(x[train], y[train]).predict(x[dev])
    if task == "regression":
        resid = np.mean((y[dev].astype(float) - pred.astype(float)) ** 2)
        var = float(np.var(y[dev].astype(float)))
        return None if var == 0 else 1.0 - resid / var
    return float(np.mean(pred != y[dev]))


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.astype("int64").to_numpy(dtype=float)
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _tree(task: str, n_classes: int):
    if task == "regression":
        return DecisionTreeRegressor(max_leaf_nodes=64, random_state=0)
    return DecisionTreeClassifier(max_leaf_nodes=max(2, n_classes), random_state=0)


def _by_category(x: np.ndarray, y: np.ndarray, train: np.ndarray, dev: np.ndarray,
                 task: str) -> np.ndarray:
    """Per category: the majority class (or the mean) on train; unseen: overall."""
    frame = pd.DataFrame({"x": x[train], "y": y[train]})
    if task == "regression":
        table, default = frame.groupby("x")["y"].mean(), float(np.mean(y[train]))
    else:
        table = frame.groupby("x")["y"].agg(lambda v: v.value_counts().index[0])
        default = frame["y"].value_counts().index[0]
    return pd.Series(x[dev]).map(table).fillna(default).to_numpy()


def _is_leak(value: float, base: float, task: str) -> bool:
    if task == "regression":
        return value >= LEAK_R2
    return base > 0 and value <= LEAK_ERROR and value <= LEAK_SHARE * base


def _leak_message(col: str, value: float, base: float, task: str) -> str:
    how = (f"R^2 {value:.4f} on dev" if task == "regression" else
           f"{100 * (1 - value):.2f}% dev accuracy (the majority class alone: "
           f"{100 * (1 - base):.2f}%)")
    return (f"Column {col!r} alone predicts the target: {how}. A target leak? A copy of "
            "the target, or a value known only after it, makes every rung lie. Drop it "
            f"(--drop {col}) unless it is truly known when you predict.")


# --------------------------------------------------------------------- ties
def prefer_simpler(losses: Sequence[np.ndarray], kinds: Sequence[str],
                   labels: Sequence[str], chosen: int, metric: str,
                   fmt=lambda x: f"{x:.4g}") -> tuple[int, Check]:
    """Among the models within noise of ``chosen`` on dev, the first non-trivial one.

    Models are ordered from the simplest (the ladder: trivial, linear, networks
    of growing size). ``losses`` are per-example dev losses on the same rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = (rng.random(300) < 0.1).astype(float)
    >>> better = base.copy(); better[np.flatnonzero(base)[:2]] = 0   # 2 fewer errors
    >>> i, check = prefer_simpler([np.full(300, 0.5), base, better],
    ...                           ["trivial", "linear", "network"],
    ...                           ["trivial", "linear", "net"], 2, "error")
    >>> i, check.kind, check.severity
    (1, 'ties', 'info')
    """
    if metric not in TIE_METRICS:
        return chosen, Check("ties", f"Ties on dev are not tested for {metric}: the best "
                             f"{metric} chose.", "ok")
    best = np.asarray(losses[chosen], dtype=float)
    trivial_best = kinds[chosen] == "trivial"
    for j, loss in enumerate(losses):
        if kinds[j] == "trivial" or j == chosen or (j > chosen and not trivial_best):
            continue
        p = _tie_pvalue(best, np.asarray(loss, dtype=float))
        if p >= TIE_ALPHA:
            return j, Check("ties", _tie_message(labels, j, chosen, losses, p, fmt), "info")
    if kinds[chosen] == "trivial":
        return chosen, Check("ties", "The trivial predictor is better on dev than every "
                             "other model beyond noise.", "warning")
    return chosen, Check("ties", f"No simpler non-trivial model is within noise of "
                         f"{labels[chosen]} on dev.", "ok")


def _tie_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Paired test of two dev losses: exact McNemar on 0/1 errors, else a t-test."""
    if np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all():
        return float(mcnemar_test(a == 0, b == 0).pvalue)
    return float(paired_mean_difference(a, b).pvalue)


def _tie_message(labels, j, chosen, losses, p, fmt) -> str:
    mean = [float(np.mean(v)) for v in losses]
    return (f"Tie on dev: {labels[j]} ({fmt(mean[j])}) is within noise of the best, "
            f"{labels[chosen]} ({fmt(mean[chosen])}; paired test p = {p:.2g} on "
            f"{len(losses[j]):,} dev examples): the simpler non-trivial model is chosen "
            "(cheaper, and the difference is not real evidence).")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


__all__ = ["Check", "DataCheckError", "SEVERITIES", "check_classes", "check_duplicates",
           "check_leaks", "first_occurrences", "prefer_simpler", "row_keys"]
