"""The single-number evaluation metric, and optimizing vs satisficing.

One metric to optimize (accuracy, F1, a weighted error, an average over
groups), the rest as constraints that only need to be met (running time,
false positive rate): ``select_model`` picks the best candidate that
satisfies every constraint.

Examples
--------
>>> error_rate([1, 0, 1, 1], [1, 1, 1, 0])
0.5
>>> sel = select_model(
...     [{"name": "A", "accuracy": 0.90, "latency_ms": 80},
...      {"name": "B", "accuracy": 0.92, "latency_ms": 95},
...      {"name": "C", "accuracy": 0.95, "latency_ms": 1500}],
...     optimize="accuracy", satisfice={"latency_ms": ("<=", 100)})
>>> sel.chosen
'B'
"""

from __future__ import annotations

import numbers
import operator
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlstrat._errors import MlstratError
from mlstrat._text import quote

__all__ = [
    "align_labels",
    "LabelMismatchError",
    "error_rate",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "false_positive_rate",
    "positive_label",
    "mse",
    "rmse",
    "mae",
    "r2",
    "REGRESSION_METRICS",
    "weighted_error",
    "group_average",
    "METRICS",
    "OPERATORS",
    "Selection",
    "select_model",
    "measure_latency",
]


# --------------------------------------------------------------------------- inputs
class LabelMismatchError(MlstratError):
    """``y_true`` and ``y_pred`` encode labels differently (text vs numbers) and share
    no label, so every comparison would count as an error."""


def _label_kind(values: np.ndarray) -> str:
    """'number', 'text', 'mixed' (object array of several kinds) or 'other'."""
    kind = values.dtype.kind
    if kind in "biuf":
        return "number"
    if kind in "US":
        return "text"
    if kind != "O":
        return "other"
    kinds = {"text" if isinstance(v, (str, bytes)) else
             "number" if isinstance(v, (numbers.Real, np.bool_)) else "other"
             for v in values.tolist()}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _as_numbers(values: np.ndarray) -> np.ndarray | None:
    """The values as floats if every one of them reads as a number, else None."""
    if values.dtype.kind in "biuf":
        return values.astype(float)
    parsed = pd.to_numeric(pd.Series(values, dtype=object).map(
        lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    return None if parsed.isna().any() else parsed.to_numpy(dtype=float)


def _label_text(values: np.ndarray) -> np.ndarray:
    """Each label as text, an integral number without its '.0' (``1.0`` -> ``'1'``)."""
    def text(v: Any) -> str:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return v.strip() if isinstance(v, str) else str(v)
    return np.array([text(v) for v in values.tolist()], dtype=object)


def _dtype_name(values: np.ndarray, kind: str) -> str:
    example = quote(values[0].item() if isinstance(values[0], np.generic) else values[0])
    word = {"number": "numbers", "mixed": "mixed labels"}.get(kind, kind)
    return f"{word} (dtype {values.dtype}, e.g. {example})"


def align_labels(y_true, y_pred, *, names: tuple[str, str] = ("y_true", "y_pred"),
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Put labels stored as text on one side and numbers on the other on one footing.

    When both sides are numbers, or both text, they are returned unchanged. When one
    side is text and the other numbers: if every text label reads as a number, both
    are compared as numbers (``"0"`` and ``0`` are the same label); otherwise both
    are compared as text (``1.0`` written ``'1'``), provided they share at least one
    label. Sharing none would make every example an error: that is refused.

    Raises
    ------
    LabelMismatchError
        (a ValueError) naming both kinds of labels, when they share no label.

    Examples
    --------
    >>> yt, yp = align_labels(["0", "1", "1"], [0, 1, 0])
    >>> (yt == yp).tolist()
    [True, True, False]
    >>> yt, yp = align_labels(["cat", "1"], [1, 1])
    >>> (yt == yp).tolist()
    [False, True]
    >>> align_labels(["cat", "dog"], [0, 1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat.metrics.LabelMismatchError: y_true holds text (dtype <U3, e.g. 'cat') and ...
    """
    yt, yp = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if yt.size == 0 or yp.size == 0:
        return yt, yp
    kt, kp = _label_kind(yt), _label_kind(yp)
    if kt == kp and kt != "mixed" or "other" in (kt, kp):
        return yt, yp
    nt, np_ = _as_numbers(yt), _as_numbers(yp)
    if nt is not None and np_ is not None:
        return nt, np_
    tt, tp = _label_text(yt), _label_text(yp)
    if not set(tt.tolist()) & set(tp.tolist()):
        raise LabelMismatchError(
            f"{names[0]} holds {_dtype_name(yt, kt)} and {names[1]} holds "
            f"{_dtype_name(yp, kp)}: they share no label, so every example would count as "
            "an error. Encode both the same way (e.g. map the text labels to the numbers "
            "the model predicts).")
    return tt, tp


def _label_like(label: Any, aligned: np.ndarray) -> Any:
    """``label`` on the footing :func:`align_labels` put the labels on."""
    if aligned.dtype.kind == "f" and isinstance(label, str):
        number = _as_numbers(np.array([label], dtype=object))
        return label if number is None else float(number[0])
    if aligned.dtype.kind == "O" and aligned.size and isinstance(aligned[0], str) \
            and not isinstance(label, str):
        return _label_text(np.array([label], dtype=object))[0]
    return label


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(y_true).ravel()
    yp = np.asarray(y_pred).ravel()
    if yt.shape != yp.shape:
        raise ValueError(
            "'y_true' and 'y_pred' must have the same length. "
            f"Got {yt.size} and {yp.size}."
        )
    if yt.size == 0:
        raise ValueError("'y_true' and 'y_pred' are empty; at least one example is needed.")
    return align_labels(yt, yp)


def _weights(weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != (n,):
        raise ValueError(f"'weights' must have one value per example ({n}). Got {w.size}.")
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise ValueError("'weights' must be finite, >= 0, with a positive sum.")
    return w


# --------------------------------------------------------------------------- metrics
def error_rate(y_true, y_pred, *, sample_weight=None) -> float:
    """Fraction of examples predicted wrongly (optionally weighted).

    Examples
    --------
    >>> error_rate([0, 1, 1, 0], [0, 1, 0, 0])
    0.25
    """
    yt, yp = _pair(y_true, y_pred)
    wrong = (yt != yp).astype(float)
    if sample_weight is None:
        return float(wrong.mean())
    w = _weights(sample_weight, yt.size)
    return float(np.dot(w, wrong) / w.sum())


def accuracy(y_true, y_pred, *, sample_weight=None) -> float:
    """Fraction of examples predicted correctly.

    Examples
    --------
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    return 1.0 - error_rate(y_true, y_pred, sample_weight=sample_weight)


def weighted_error(y_true, y_pred, weights) -> float:
    """Error with a cost per example: ``sum(w * wrong) / sum(w)``.

    The course's cat app: a pornographic image shown as a cat costs 10 times
    more, so give those examples weight 10.

    Examples
    --------
    >>> y = [1, 1, 0, 0]; pred = [1, 0, 0, 1]
    >>> weighted_error(y, pred, [1, 1, 1, 10])
    0.8461538461538461
    """
    return error_rate(y_true, y_pred, sample_weight=weights)


def _confusion(y_true, y_pred, pos_label) -> tuple[float, float, float, float]:
    yt, yp = _pair(y_true, y_pred)
    pos_label = _label_like(pos_label, yt)
    t = yt == pos_label
    p = yp == pos_label
    tp = float(np.sum(t & p))
    fp = float(np.sum(~t & p))
    fn = float(np.sum(t & ~p))
    tn = float(np.sum(~t & ~p))
    return tp, fp, fn, tn


def _safe_div(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def _binary_or_macro(stat: Callable, y_true, y_pred, average, pos_label) -> float:
    if average == "binary":
        return stat(*_confusion(y_true, y_pred, pos_label))
    if average != "macro":
        raise ValueError(f"The 'average' parameter must be 'binary' or 'macro'. Got {average!r}.")
    yt, yp = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([yt, yp]))
    return float(np.mean([stat(*_confusion(yt, yp, lab)) for lab in labels]))


def _precision(tp, fp, fn, tn) -> float:
    return _safe_div(tp, tp + fp)


def _recall(tp, fp, fn, tn) -> float:
    return _safe_div(tp, tp + fn)


def _f1(tp, fp, fn, tn) -> float:
    return _safe_div(2 * tp, 2 * tp + fp + fn)


def _fpr(tp, fp, fn, tn) -> float:
    return _safe_div(fp, fp + tn)


def precision(y_true, y_pred, *, average: Literal["binary", "macro"] = "binary",
              pos_label=1) -> float:
    """Of the examples predicted positive, the fraction that are positive.

    Examples
    --------
    >>> precision([1, 0, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    """
    return _binary_or_macro(_precision, y_true, y_pred, average, pos_label)


def recall(y_true, y_pred, *, average: Literal["binary", "macro"] = "binary",
           pos_label=1) -> float:
    """Of the positive examples, the fraction predicted positive.

    Examples
    --------
    >>> recall([1, 0, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _binary_or_macro(_recall, y_true, y_pred, average, pos_label)


def f1(y_true, y_pred, *, average: Literal["binary", "macro"] = "binary",
       pos_label=1) -> float:
    """Harmonic mean of precision and recall (the course's single number).

    Examples
    --------
    >>> round(f1([1, 0, 1, 0], [1, 1, 0, 0]), 3)
    0.5
    """
    return _binary_or_macro(_f1, y_true, y_pred, average, pos_label)


def false_positive_rate(y_true, y_pred, *, pos_label=1) -> float:
    """Of the negative examples, the fraction predicted positive.

    Examples
    --------
    >>> false_positive_rate([0, 0, 0, 1], [1, 0, 0, 1])
    0.3333333333333333
    """
    return _fpr(*_confusion(y_true, y_pred, pos_label))


# --------------------------------------------------------------------------- regression
def _floats(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    yt, yp = _pair(y_true, y_pred)
    return yt.astype(float), yp.astype(float)


def mse(y_true, y_pred) -> float:
    """Mean squared error, ``mean((y_true - y_pred) ** 2)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.

    Returns
    -------
    float
        Lower is better; 0 for perfect predictions.

    Examples
    --------
    >>> mse([1.0, 2.0], [1.0, 4.0])
    2.0
    """
    yt, yp = _floats(y_true, y_pred)
    d = yt - yp
    return float(np.mean(d * d))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, ``sqrt(mse)``, in the units of the target.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.

    Returns
    -------
    float
        Lower is better.

    Examples
    --------
    >>> rmse([0.0, 0.0], [3.0, 4.0])  # sqrt((9 + 16) / 2)
    3.5355339059327378
    """
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, ``mean(|y_true - y_pred|)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.

    Returns
    -------
    float
        Lower is better.

    Examples
    --------
    >>> mae([1.0, 2.0, 3.0], [2.0, 2.0, 1.0])
    1.0
    """
    yt, yp = _floats(y_true, y_pred)
    return float(np.mean(np.abs(yt - yp)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination, ``1 - SS_res / SS_tot``.

    1 is perfect, 0 is predicting the mean of ``y_true``, negative is worse
    than that. When ``y_true`` is constant (``SS_tot = 0``) the score is 1 for
    perfect predictions and 0 otherwise, as ``sklearn.metrics.r2_score``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.

    Returns
    -------
    float
        Greater is better.

    Examples
    --------
    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    yt, yp = _floats(y_true, y_pred)
    residual = float(np.sum((yt - yp) ** 2))
    total = float(np.sum((yt - yt.mean()) ** 2))
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


def positive_label(classes, y_train):
    """The positive class of a binary task: 1/True when present, else the minority class.

    Parameters
    ----------
    classes : array-like
        The classes of the task.
    y_train : array-like
        Training labels; their rarest value is the positive class when none of
        ``1, True, '1', 'yes', 'true', 'True'`` is among ``classes``.

    Returns
    -------
    object
        The positive label (a Python scalar, not a NumPy one).

    Examples
    --------
    >>> positive_label(np.array(["no", "yes"]), np.array(["no", "no", "yes"]))
    'yes'
    >>> positive_label(["cat", "dog"], ["dog", "cat", "dog"])
    'cat'
    """
    classes = list(classes)
    for candidate in (1, True, "1", "yes", "true", "True"):
        if candidate in classes:
            return candidate
    values, counts = np.unique(np.asarray(y_train), return_counts=True)
    minority = values[np.argmin(counts)]
    return minority.item() if hasattr(minority, "item") else minority


def _group_codes(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer code per row and the distinct groups (hash-based, O(n))."""
    if g.dtype.kind in "iu" and g.size and g.min() >= 0 and g.max() < 4 * g.size + 1024:
        counts = np.bincount(g)
        present = np.flatnonzero(counts)
        if present.size == counts.size:
            return g, present
        remap = np.cumsum(counts > 0) - 1
        return remap[g], present
    idx, codes = pd.factorize(g, sort=True)
    return idx, np.asarray(codes)


def group_average(metric, y_true, y_pred, groups) -> float:
    """Average of a per-example metric over groups (e.g. geographies).

    Each group counts once, whatever its size. Vectorised with
    ``np.bincount``: 10 million rows in 1,000 groups take well under a second.

    Parameters
    ----------
    metric : {'error', 'error_rate', 'accuracy'} or callable
        A name, or a function ``(y_true, y_pred) -> float`` (then applied
        group by group, slower).
    groups : array-like
        Group label of each example.

    Examples
    --------
    >>> group_average("error", [1, 1, 1, 1], [1, 0, 1, 1], ["US", "US", "CN", "CN"])
    0.25
    """
    yt, yp = _pair(y_true, y_pred)
    g = np.asarray(groups).ravel()
    if g.shape != yt.shape:
        raise ValueError(f"'groups' must have one label per example ({yt.size}). Got {g.size}.")
    idx, codes = _group_codes(g)
    metric = _VECTORISED.get(metric, metric) if callable(metric) else metric
    if callable(metric):
        order = np.argsort(idx, kind="stable")
        bounds = np.cumsum(np.bincount(idx, minlength=codes.size))[:-1]
        parts = zip(np.split(yt[order], bounds), np.split(yp[order], bounds), strict=True)
        return float(np.mean([metric(a, b) for a, b in parts]))
    if metric not in ("error", "error_rate", "accuracy"):
        raise ValueError(
            "The 'metric' parameter of group_average must be 'error', 'error_rate', "
            f"'accuracy' or a callable. Got {metric!r}."
        )
    wrong = np.bincount(idx, weights=(yt != yp), minlength=codes.size)
    counts = np.bincount(idx, minlength=codes.size)
    err = float(np.mean(wrong / counts))
    return err if metric != "accuracy" else 1.0 - err


#: per-example metrics group_average computes in one bincount pass
_VECTORISED: dict[Callable[..., float], str] = {error_rate: "error", accuracy: "accuracy"}

#: name -> (function(y_true, y_pred) -> float, greater_is_better)
METRICS: dict[str, tuple[Callable[..., float], bool]] = {
    "error": (error_rate, False),
    "error_rate": (error_rate, False),
    "accuracy": (accuracy, True),
    "precision": (precision, True),
    "recall": (recall, True),
    "f1": (f1, True),
    "false_positive_rate": (false_positive_rate, False),
    "mse": (mse, False),
    "rmse": (rmse, False),
    "mae": (mae, False),
    "r2": (r2, True),
}

#: the names of ``METRICS`` that score a regression (the others score classes)
REGRESSION_METRICS: tuple[str, ...] = ("mse", "rmse", "mae", "r2")

#: constraint operator -> function(value, threshold) -> bool
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}

_LOWER_IS_BETTER_HINTS = ("error", "loss", "latency", "time", "_ms", "rate", "cost", "size")


# --------------------------------------------------------------------------- selection
@dataclass
class Selection:
    """Result of ``select_model``: the chosen candidate and why the others lost.

    Attributes
    ----------
    chosen : str or None
        Name of the best candidate meeting every constraint; None if none does.
    optimize : str
        The optimizing metric.
    greater_is_better : bool
    satisfice : dict
        metric -> (operator, threshold).
    table : list of dict
        One entry per candidate: name, value of the optimizing metric,
        ``feasible``, and ``failures`` (metric -> {value, threshold, op,
        by}), where ``by`` is how far the value misses the threshold.
    message : str
    """

    chosen: str | None
    optimize: str
    greater_is_better: bool
    satisfice: dict[str, tuple[str, float]]
    table: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def __str__(self) -> str:
        lines = [self.message, ""]
        cons = ", ".join(f"{k} {op} {v:g}" for k, (op, v) in self.satisfice.items()) or "none"
        direction = "max" if self.greater_is_better else "min"
        lines.append(f"Optimizing: {self.optimize} ({direction}); satisficing: {cons}")
        for row in self.table:
            mark = "*" if row["name"] == self.chosen else " "
            fails = "; ".join(
                f"{m} = {f['value']:g} fails {f['op']} {f['threshold']:g} by {f['by']:g}"
                for m, f in row["failures"].items()
            ) or "meets all constraints"
            lines.append(f" {mark} {row['name']}: {self.optimize} = {row['value']:g} - {fails}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "optimize": self.optimize,
            "greater_is_better": self.greater_is_better,
            "satisfice": {k: [op, float(v)] for k, (op, v) in self.satisfice.items()},
            "table": self.table,
            "message": self.message,
        }

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for r in self.table:
            rows.append({
                "name": r["name"],
                self.optimize: r["value"],
                "feasible": r["feasible"],
                "chosen": r["name"] == self.chosen,
                "n_failures": len(r["failures"]),
                "failures": "; ".join(r["failures"]),
            })
        return pd.DataFrame(rows)

    def chart(self):
        """Bar chart of the optimizing metric, feasible candidates highlighted."""
        from mlstrat.charts import selection_chart

        return selection_chart(self.to_frame(), metric=self.optimize)


def _candidates_frame(candidates) -> pd.DataFrame:
    if isinstance(candidates, pd.DataFrame):
        frame = candidates.copy()
    elif isinstance(candidates, Mapping):
        frame = _frame_from_mapping(candidates)
    else:
        frame = pd.DataFrame(list(candidates))
    if frame.empty:
        raise ValueError("The 'candidates' parameter is empty; give at least one candidate.")
    if "name" not in frame.columns:
        raise ValueError(
            "Each candidate needs a 'name' (a key of each dict or a DataFrame column). "
            f"Got columns {list(frame.columns)}."
        )
    frame["name"] = frame["name"].astype(str)
    return frame


def _frame_from_mapping(candidates: Mapping) -> pd.DataFrame:
    """``{name: {metric: value}}`` -> one row per name (the name wins over a 'name' key)."""
    rows = []
    for name, metrics in candidates.items():
        if not isinstance(metrics, Mapping):
            raise TypeError(
                f"Candidate {name!r} must map metric names to values, e.g. "
                f"{{'accuracy': 0.9, 'latency_ms': 80}}. Got {type(metrics).__name__}."
            )
        rows.append({**metrics, "name": name})
    return pd.DataFrame(rows)


def _check_constraint(metric: str, spec, columns) -> tuple[str, float]:
    if metric not in columns:
        raise ValueError(
            f"The satisficing metric {metric!r} is missing from the candidates. "
            f"Available: {sorted(c for c in columns if c != 'name')}."
        )
    try:
        op, threshold = spec
    except (TypeError, ValueError):
        raise ValueError(
            f"The constraint on {metric!r} must be a pair (operator, threshold), "
            f"e.g. ('<=', 100). Got {spec!r}."
        ) from None
    if op not in OPERATORS:
        raise ValueError(
            f"The operator for {metric!r} must be one of {list(OPERATORS)}. Got {op!r}."
        )
    return op, float(threshold)


def _failures(row, constraints) -> dict[str, dict[str, Any]]:
    out = {}
    for metric, (op, thr) in constraints.items():
        value = float(row[metric])
        if not (np.isfinite(value) and OPERATORS[op](value, thr)):
            out[metric] = {"value": value, "threshold": thr, "op": op,
                           "by": float(abs(value - thr))}
    return out


def _greater_is_better(optimize: str, greater_is_better: bool | None) -> bool:
    if greater_is_better is not None:
        return bool(greater_is_better)
    if optimize in METRICS:
        return METRICS[optimize][1]
    return not any(h in optimize.lower() for h in _LOWER_IS_BETTER_HINTS)


def select_model(candidates, optimize: str = "accuracy", *,
                 satisfice: dict[str, tuple[str, float]] | None = None,
                 greater_is_better: bool | None = None) -> Selection:
    """Pick the best candidate on one metric among those meeting the others.

    Parameters
    ----------
    candidates : dict, list of dict or DataFrame
        ``{name: {metric: value, ...}}``, or one dict (or row) per model with
        a ``name`` and its metric values.
    optimize : str, default='accuracy'
        The optimizing metric.
    satisfice : dict, optional
        ``{metric: (op, threshold)}`` with op in ``'<=', '<', '>=', '>'``, e.g.
        ``{"latency_ms": ("<=", 100), "false_positive_rate": ("<=", 0.01)}``.
    greater_is_better : bool, optional
        Direction of ``optimize``; by default from ``METRICS`` or, for other
        names, lower is better if the name mentions error, loss, latency, time,
        rate or cost.

    Examples
    --------
    >>> s = select_model([{"name": "A", "accuracy": 0.9, "latency_ms": 300}],
    ...                  satisfice={"latency_ms": ("<=", 100)})
    >>> print(s.chosen, "|", s.message)
    None | No candidate satisfies every constraint: A fails latency_ms <= 100.
    >>> select_model({"A": {"accuracy": 0.90, "latency_ms": 80},
    ...               "B": {"accuracy": 0.95, "latency_ms": 300}},
    ...              satisfice={"latency_ms": ("<=", 100)}).chosen
    'A'
    """
    frame = _candidates_frame(candidates)
    if optimize not in frame.columns:
        raise ValueError(
            f"The optimizing metric {optimize!r} is missing from the candidates. "
            f"Available: {sorted(c for c in frame.columns if c != 'name')}."
        )
    constraints = {m: _check_constraint(m, s, frame.columns) for m, s in (satisfice or {}).items()}
    gib = _greater_is_better(optimize, greater_is_better)
    table = []
    for _, row in frame.iterrows():
        fails = _failures(row, constraints)
        table.append({"name": row["name"], "value": float(row[optimize]),
                      "feasible": not fails, "failures": fails})
    feasible = [r for r in table if r["feasible"] and np.isfinite(r["value"])]
    if not feasible:
        detail = "; ".join(
            f"{r['name']} fails " + ", ".join(f"{m} {f['op']} {f['threshold']:g}"
                                             for m, f in r["failures"].items())
            for r in table
        )
        return Selection(None, optimize, gib, constraints, table,
                         f"No candidate satisfies every constraint: {detail}.")
    best = (max if gib else min)(feasible, key=lambda r: r["value"])
    msg = (f"Chosen: {best['name']} ({optimize} = {best['value']:g}), best of "
           f"{len(feasible)} of {len(table)} candidates meeting every constraint.")
    return Selection(best["name"], optimize, gib, constraints, table, msg)


def measure_latency(model, X, *, n_repeats: int = 5, batch_size: int | None = None) -> float:
    """Milliseconds per example of ``model.predict`` (median over repeats).

    For the running-time satisficing constraint. A measurement, not a test:
    run it on the machine that will serve the model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X = np.zeros((100, 3)); m = DummyClassifier().fit(X, np.zeros(100))
    >>> measure_latency(m, X, n_repeats=3) >= 0
    True
    """
    if n_repeats < 1:
        raise ValueError(f"The 'n_repeats' parameter must be an int >= 1. Got {n_repeats!r}.")
    n = len(X)
    if n == 0:
        raise ValueError("'X' is empty; give at least one example to time.")
    batch = X if batch_size is None else X[:batch_size]
    m = len(batch)
    times = []
    for _ in range(n_repeats):
        t0 = time.perf_counter()
        model.predict(batch)
        times.append((time.perf_counter() - t0) * 1000.0 / m)
    return float(np.median(times))
