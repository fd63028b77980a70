"""The error ladder: avoidable bias, variance, data mismatch, dev overfitting.

The course's rungs are human level (a proxy for Bayes error), training error,
training-dev error (same distribution as training, not trained on), dev error
and test error. The gaps between neighbouring rungs say what to work on::

    avoidable bias   = train     - human
    variance         = train_dev - train
    data mismatch    = dev       - train_dev
    dev overfitting  = test      - dev

Each gap gets a 95% interval (``stats.gap_interval``) when the set sizes are
known, and a verdict: *real* (the interval excludes 0), *noise*, or
*untested* (no sizes given, so only the point estimate is known).

Rule for the primary problem
----------------------------
Candidates are the gaps that are positive and not noise. Avoidable bias is
fixed first when it is *comparable* to the largest candidate, i.e. at least
``comparable`` (default 0.5) times it: the course works down the ladder, and
a bigger network or longer training changes every rung below. Otherwise the
largest candidate is the primary problem; ties go to the earlier rung.

Three entry points return the same ``Diagnosis``: ``diagnose`` (rates and
sizes), ``diagnose_predictions`` (labels and predictions per split) and
``diagnose_estimator`` (a fitted estimator and data per split).

Examples
--------
>>> d = diagnose(human=0.01, train=0.08, dev=0.10)
>>> d.primary
'avoidable_bias'
>>> d = diagnose(human=0.0, train=0.01, train_dev=0.09, dev=0.10,
...              sizes={"train": 50000, "train_dev": 5000, "dev": 5000})
>>> d.primary, d.gap("variance").verdict
('variance', 'real')
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mlstrat.metrics import error_rate
from mlstrat.store import SPLITS
from mlstrat.stats import (
    gap_interval,
    paired_mean_difference,
    size_for_resolution,
    welch_interval,
    wilson_interval,
)

__all__ = [
    "Rung",
    "Gap",
    "Remedy",
    "Diagnosis",
    "REMEDIES",
    "SPLITS",
    "diagnose",
    "diagnose_predictions",
    "diagnose_estimator",
    "diagnose_regression",
]

RUNGS: tuple[str, ...] = ("human",) + SPLITS
RUNG_LABELS = {"human": "human level", "train": "train", "train_dev": "train-dev",
               "dev": "dev", "test": "test"}

#: gap name -> (upper rung, lower rung, label)
GAPS: dict[str, tuple[str, str, str]] = {
    "avoidable_bias": ("train", "human", "avoidable bias"),
    "variance": ("train_dev", "train", "variance"),
    "data_mismatch": ("dev", "train_dev", "data mismatch"),
    "dev_overfitting": ("test", "dev", "overfitting to the dev set"),
}


@dataclass(frozen=True)
class Remedy:
    """One thing to try, and the knob it turns (orthogonalisation)."""

    action: str
    knob: str
    caveat: str = ""


#: problem -> remedies, in the order the course lists them
REMEDIES: dict[str, tuple[Remedy, ...]] = {
    "avoidable_bias": (
        Remedy("Train a bigger network (more layers or hidden units)", "model capacity"),
        Remedy("Train longer, or use a better optimiser (momentum, RMSprop, Adam)",
               "optimisation"),
        Remedy("Search NN architectures / hyperparameters", "architecture and hyperparameters"),
    ),
    "variance": (
        Remedy("Get more training data", "training set size"),
        Remedy("Regularise: L2, dropout, data augmentation", "regularisation"),
        Remedy("Search NN architectures / hyperparameters", "architecture and hyperparameters"),
    ),
    "data_mismatch": (
        Remedy("Carry out manual error analysis to understand how training and dev/test "
               "data differ", "understanding of the mismatch (no model change)"),
        Remedy("Make training data more similar to dev/test (artificial data synthesis)",
               "training distribution",
               caveat="synthesising from a small subset (e.g. 1 hour of car noise for "
                      "10,000 hours of speech) may overfit to that subset"),
        Remedy("Collect more training data like the dev/test data", "training distribution"),
    ),
    "dev_overfitting": (
        Remedy("Get a bigger dev set", "dev set size"),
    ),
}


@dataclass
class Rung:
    """One rung of the ladder: an error rate, its size and interval."""

    name: str
    rate: float
    n: int | None = None
    low: float | None = None
    high: float | None = None
    source: str = ""


@dataclass
class Gap:
    """The difference between two neighbouring rungs (``upper - lower``)."""

    name: str
    label: str
    upper: str
    lower: str
    value: float
    low: float | None = None
    high: float | None = None
    verdict: str = "untested"  # 'real', 'noise', 'untested'
    note: str = ""
    size_to_resolve: int | None = None


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.2f}%"


def _pt(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:+.2f} pt"


@dataclass
class Diagnosis:
    """The error ladder, its gaps, the primary problem and what to try.

    Built by ``diagnose``, ``diagnose_predictions`` or ``diagnose_estimator``.
    ``to_dict()`` is JSON-serialisable and ``Diagnosis.from_dict`` rebuilds
    the same diagnosis from it.
    """

    rates: dict[str, float | None]
    sizes: dict[str, int]
    human_levels: dict[str, float]
    human_source: str | None
    confidence: float
    comparable: float
    rungs: list[Rung] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    primary: str | None = None
    remedies: list[Remedy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ----------------------------------------------------------------- access
    def gap(self, name: str) -> Gap:
        """The gap called ``name`` (see ``GAPS``)."""
        for g in self.gaps:
            if g.name == name:
                return g
        raise KeyError(f"No gap {name!r} in this diagnosis; it has {[g.name for g in self.gaps]}.")

    # ----------------------------------------------------------------- output
    def __str__(self) -> str:
        conf = f"{self.confidence:.0%}"
        lines = ["Error ladder"]
        for r in self.rungs:
            size = f"n={r.n:,}" if r.n else "size unknown"
            ci = f"[{_pct(r.low)}, {_pct(r.high)}]" if r.low is not None else ""
            label = RUNG_LABELS[r.name]
            label += f" ({r.source})" if r.source and r.source != label else ""
            lines.append(f"  {label:<40} {_pct(r.rate):>8}  {ci:<20} {size}")
        lines.append(f"Gaps ({conf} intervals)")
        for g in self.gaps:
            ci = f"[{_pt(g.low)}, {_pt(g.high)}]" if g.low is not None else "(no interval)"
            lines.append(f"  {g.label:<38} {_pt(g.value):>10}  {ci:<26} {g.verdict}")
            if g.note:
                lines.append(f"      note: {g.note}")
        if self.primary is None:
            lines.append("Primary problem: none found among the measured gaps.")
        else:
            lines.append(f"Primary problem: {GAPS[self.primary][2]}")
            lines.append("Try (one knob at a time):")
            for rem in self.remedies:
                extra = f" (caveat: {rem.caveat})" if rem.caveat else ""
                lines.append(f"  - {rem.action} [knob: {rem.knob}]{extra}")
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: the inputs plus every derived number."""
        return {
            "kind": "Diagnosis",
            "version": 1,
            "rates": dict(self.rates),
            "sizes": dict(self.sizes),
            "human_levels": dict(self.human_levels),
            "human_source": self.human_source,
            "confidence": self.confidence,
            "comparable": self.comparable,
            "rungs": [asdict(r) for r in self.rungs],
            "gaps": [asdict(g) for g in self.gaps],
            "primary": self.primary,
            "remedies": [asdict(r) for r in self.remedies],
            "notes": list(self.notes),
        }

    def to_json(self, **kwargs) -> str:
        """``to_dict()`` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        """Rebuild a diagnosis saved with ``to_dict()``.

        Derived fields are taken as saved, so an old record reads back as it
        was written even if the rules change later.
        """
        if data.get("kind", "Diagnosis") != "Diagnosis":
            raise ValueError(f"Not a Diagnosis record: kind={data.get('kind')!r}.")
        try:
            return cls._from_record(data)
        except KeyError as exc:
            raise ValueError(f"The Diagnosis record misses the key {exc.args[0]!r}; pass a "
                             "dict written by Diagnosis.to_dict().") from None

    @classmethod
    def _from_record(cls, data: Mapping[str, Any]) -> Diagnosis:
        return cls(
            rates=dict(data["rates"]),
            sizes={k: int(v) for k, v in data["sizes"].items()},
            human_levels=dict(data["human_levels"]),
            human_source=data.get("human_source"),
            confidence=float(data["confidence"]),
            comparable=float(data["comparable"]),
            rungs=[Rung(**r) for r in data["rungs"]],
            gaps=[Gap(**g) for g in data["gaps"]],
            primary=data.get("primary"),
            remedies=[Remedy(**r) for r in data["remedies"]],
            notes=list(data["notes"]),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per rung and per gap: kind, name, label, value, low, high, n, verdict."""
        rows = []
        for i, r in enumerate(self.rungs):
            rows.append({"kind": "rung", "order": i, "name": r.name, "label": RUNG_LABELS[r.name],
                         "value": r.rate, "low": r.low, "high": r.high, "n": r.n,
                         "verdict": "", "upper": None, "lower": None})
        for i, g in enumerate(self.gaps):
            rows.append({"kind": "gap", "order": i, "name": g.name, "label": g.label,
                         "value": g.value, "low": g.low, "high": g.high, "n": None,
                         "verdict": g.verdict, "upper": g.upper, "lower": g.lower})
        frame = pd.DataFrame(rows)
        for col in ("value", "low", "high"):
            frame[col] = frame[col].astype(float)
        return frame

    def chart(self):
        """The ladder chart (``charts.ladder_chart``)."""
        from mlstrat.charts import ladder_chart

        return ladder_chart(self.to_frame())


# --------------------------------------------------------------------- validation
def _canonical_split(name: str, argument: str) -> str:
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = {"traindev": "train_dev", "training": "train", "training_dev": "train_dev"}.get(key, key)
    if key not in SPLITS and not (argument == "sizes" and key == "human"):
        valid = list(SPLITS) + (["human"] if argument == "sizes" else [])
        raise ValueError(
            f"Unknown split {name!r} in the '{argument}' argument. Valid names: {valid}."
        )
    return key


def _check_rate(value, name: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"The '{name}' error rate must be a float in [0, 1]. Got {value!r}.") from None
    if not (0.0 <= v <= 1.0):
        hint = f" (did you mean {v / 100:g}?)" if 1 < v <= 100 else ""
        raise ValueError(f"The '{name}' error rate must be in [0, 1]. Got {value!r}{hint}.")
    return v


def _check_sizes(sizes: Mapping[str, Any] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, n in (sizes or {}).items():
        key = _canonical_split(name, "sizes")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer, float)) or n <= 0 \
                or not math.isfinite(n):
            raise ValueError(f"sizes[{name!r}] must be a number of examples > 0. Got {n!r}.")
        out[key] = int(n)
    return out


def _check_human(human) -> tuple[dict[str, float], str | None, float | None]:
    if human is None:
        return {}, None, None
    levels = dict(human) if isinstance(human, Mapping) else {"human level": human}
    if not levels:
        raise ValueError("The 'human' dict is empty; give at least one reference error rate.")
    checked = {str(k): _check_rate(v, f"human[{k!r}]") for k, v in levels.items()}
    source = min(checked, key=checked.get)
    return checked, source, checked[source]


# --------------------------------------------------------------------- building
def _rung(name: str, rate: float, n: int | None, confidence: float, source: str = "") -> Rung:
    if n is None:
        return Rung(name, rate, None, None, None, source)
    lo, hi = wilson_interval(rate * n, n, confidence)
    return Rung(name, rate, n, lo, hi, source)


def _gap_bounds(up: Rung, lo: Rung, confidence: float):
    if up.n is not None and lo.n is not None:
        return gap_interval(up.rate * up.n, up.n, lo.rate * lo.n, lo.n, confidence=confidence)[1:]
    if up.n is not None and lo.name == "human":  # human level taken as a fixed number
        return up.low - lo.rate, up.high - lo.rate
    return None, None


def _resolve_size(up: Rung, lo: Rung, value: float, confidence: float) -> int | None:
    """Examples per set that would give the gap a half-width below |value|."""
    if value == 0:
        return None
    if lo.name == "human" and lo.n is None:  # only the training rate is noisy
        return int(size_for_resolution(min(max(up.rate, 1e-4), 1 - 1e-4), abs(value), confidence))
    p = min(max((up.rate + lo.rate) / 2, 1e-4), 1 - 1e-4)
    return int(size_for_resolution(p, abs(value) / math.sqrt(2), confidence))


def _make_gap(name: str, by_name: dict[str, Rung], confidence: float) -> Gap | None:
    upper, lower, label = GAPS[name]
    if name == "variance" and "train_dev" not in by_name and "dev" in by_name:
        upper, label = "dev", "variance + data mismatch"
    if name == "data_mismatch" and "train_dev" not in by_name:
        return None
    if upper not in by_name or lower not in by_name:
        return None
    up, lo = by_name[upper], by_name[lower]
    value = up.rate - lo.rate
    low, high = _gap_bounds(up, lo, confidence)
    gap = Gap(name, label, upper, lower, value, low, high)
    if low is not None:
        gap.verdict = "real" if (low > 0 or high < 0) else "noise"
        if gap.verdict == "noise" and abs(value) > 0:
            gap.size_to_resolve = _resolve_size(up, lo, value, confidence)
    return gap


def _annotate(gap: Gap, by_name: dict[str, Rung], confidence: float) -> None:
    notes = []
    if gap.name == "avoidable_bias" and by_name["human"].n is None and gap.low is not None:
        notes.append("human level has no size: taken as a fixed number, its own "
                     "uncertainty is not in this interval")
    if gap.upper == "dev" and gap.name == "variance":
        notes.append("no train-dev set: variance and data mismatch cannot be told apart")
    if gap.verdict == "noise" and gap.size_to_resolve:
        notes.append(f"too small to resolve a {abs(gap.value) * 100:.2f} pt gap; about "
                     f"{gap.size_to_resolve:,} examples per set would resolve it")
    if gap.name == "data_mismatch" and gap.value < 0 and gap.verdict != "noise":
        notes.append("negative: the dev/test data is easier than the training data")
    if gap.name == "avoidable_bias" and gap.value < 0:
        notes.append("training error is below human level")
    gap.note = "; ".join(notes)


def _candidates(gaps: list[Gap], surpassed: bool) -> list[Gap]:
    out = []
    for g in gaps:
        if g.value <= 0 or g.verdict == "noise":
            continue
        if g.name == "avoidable_bias" and surpassed:
            continue
        out.append(g)
    return out


def _choose_primary(gaps: list[Gap], surpassed: bool, comparable: float) -> str | None:
    cands = _candidates(gaps, surpassed)
    if not cands:
        return None
    largest = max(cands, key=lambda g: g.value)  # max keeps the first of ties
    bias = next((g for g in cands if g.name == "avoidable_bias"), None)
    if bias is not None and bias.value >= comparable * largest.value:
        return "avoidable_bias"
    return largest.name


def _general_notes(d: Diagnosis, surpassed: bool) -> list[str]:
    notes = []
    rates = d.rates
    if d.human_source is not None and len(d.human_levels) > 1:
        notes.append(f"Bayes error proxy: '{d.human_source}' "
                     f"({_pct(d.human_levels[d.human_source])}), the best of "
                     f"{len(d.human_levels)} human references.")
    if d.human_source is None:
        notes.append("No human level given: avoidable bias cannot be estimated; "
                     "training error is compared to 0.")
    if surpassed:
        notes.append("Human level surpassed (training error below the best human "
                     "reference): avoidable bias can no longer be estimated and "
                     "progress usually slows; look for other signals (error analysis).")
    if rates.get("train_dev") is None and rates.get("dev") is not None:
        notes.append("No train-dev set: variance and data mismatch cannot be told apart. "
                     "Carve one: hold out part of the training distribution (e.g. a "
                     "random 5-10% of the training rows, not trained on) and report its "
                     "error.")
    if any(g.verdict == "untested" for g in d.gaps):
        notes.append("Some sizes are missing: those gaps are point estimates, not "
                     "tested against sampling noise.")
    if rates.get("train") is not None and d.sizes.get("train"):
        notes.append("Training error is measured on the data the model was fit to: its "
                     "interval covers sampling noise only.")
    return notes


def _build(rates: dict[str, float | None], sizes: dict[str, int], human_levels: dict[str, float],
           human_source: str | None, confidence: float, comparable: float) -> Diagnosis:
    by_name: dict[str, Rung] = {}
    if human_source is not None:
        by_name["human"] = _rung("human", human_levels[human_source], sizes.get("human"),
                                 confidence, source=human_source)
    for s in SPLITS:
        if rates.get(s) is not None:
            by_name[s] = _rung(s, rates[s], sizes.get(s), confidence)
    gaps = [g for g in (_make_gap(n, by_name, confidence) for n in GAPS) if g is not None]
    for g in gaps:
        _annotate(g, by_name, confidence)
    surpassed = human_source is not None and rates.get("train") is not None \
        and rates["train"] < human_levels[human_source]
    primary = _choose_primary(gaps, surpassed, comparable)
    d = Diagnosis(rates, sizes, human_levels, human_source, confidence, comparable,
                  rungs=[by_name[r] for r in RUNGS if r in by_name], gaps=gaps,
                  primary=primary, remedies=list(REMEDIES.get(primary, ())))
    d.notes = _general_notes(d, surpassed)
    others = [g for g in _candidates(gaps, surpassed) if g.name != primary]
    if primary is not None and others:
        d.notes.append("Also worth working on after the primary problem: " + ", ".join(
            f"{g.label} ({_pt(g.value)})" for g in sorted(others, key=lambda g: -g.value)) + ".")
    return d


# --------------------------------------------------------------------- entry points
def diagnose(human: float | Mapping[str, float] | None = None, train: float | None = None, *,
             train_dev: float | None = None, dev: float | None = None,
             test: float | None = None, sizes: Mapping[str, int] | None = None,
             confidence: float = 0.95, comparable: float = 0.5) -> Diagnosis:
    """Diagnose from error rates (and, for intervals, set sizes).

    Parameters
    ----------
    human : float or dict of str to float, optional
        Human-level error, or several references
        (``{"typical doctor": 0.01, "team of experienced doctors": 0.005}``);
        the lowest is used as the proxy for Bayes error and named.
    train, train_dev, dev, test : float, optional
        Error rates in [0, 1]. ``train`` is required.
    sizes : dict, optional
        Examples per split (keys among ``train``, ``train_dev``, ``dev``,
        ``test`` and ``human``); without them gaps are not tested.
    confidence : float, default=0.95
    comparable : float, default=0.5
        Avoidable bias is fixed first when at least this fraction of the
        largest real gap (see the module docstring).

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> d = diagnose(human=0.075, train=0.08, dev=0.10)
    >>> d.primary
    'variance'
    >>> d.gap("variance").label
    'variance + data mismatch'
    """
    if train is None:
        raise ValueError("The 'train' error rate is required (a float in [0, 1]).")
    if not (0 < comparable <= 1):
        raise ValueError(f"The 'comparable' parameter must be in (0, 1]. Got {comparable!r}.")
    if not (0 < confidence < 1):
        raise ValueError(f"The 'confidence' parameter must be in (0, 1). Got {confidence!r}.")
    levels, source, _ = _check_human(human)
    rates = {s: _check_rate(v, s) for s, v in
             zip(SPLITS, (train, train_dev, dev, test))}
    return _build(rates, _check_sizes(sizes), levels, source, float(confidence), float(comparable))


def _split_arrays(name: str, value) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise ValueError(f"predictions[{name!r}] must be (y_true, y_pred) or "
                         f"(y_true, y_pred, weight). Got {type(value).__name__}.")
    yt, yp = np.asarray(value[0]).ravel(), np.asarray(value[1]).ravel()
    w = None if len(value) == 2 or value[2] is None else np.asarray(value[2], float).ravel()
    if yt.size != yp.size or (w is not None and w.size != yt.size):
        raise ValueError(f"Split {name!r}: y_true, y_pred (and weight) must have the same "
                         f"length. Got {yt.size}, {yp.size}"
                         + ("" if w is None else f", {w.size}") + ".")
    if yt.size == 0:
        raise ValueError(f"Split {name!r} has no examples.")
    return yt, yp, w


def _frame_to_splits(frame: pd.DataFrame) -> dict[str, tuple]:
    missing = {"split", "y_true", "y_pred"} - set(frame.columns)
    if missing:
        raise ValueError(f"The predictions DataFrame needs columns split, y_true, y_pred "
                         f"(optional weight). Missing: {sorted(missing)}.")
    out = {}
    for name, part in frame.groupby("split", sort=False):
        w = part["weight"].to_numpy() if "weight" in part.columns else None
        out[name] = (part["y_true"].to_numpy(), part["y_pred"].to_numpy(), w)
    return out


def diagnose_predictions(predictions, *, human: float | Mapping[str, float] | None = None,
                         human_size: int | None = None, confidence: float = 0.95,
                         comparable: float = 0.5) -> Diagnosis:
    """Diagnose from labels and predictions per split.

    Parameters
    ----------
    predictions : dict or DataFrame
        ``{"train": (y_true, y_pred), "dev": (y_true, y_pred, weight), ...}``,
        or a DataFrame with columns ``split``, ``y_true``, ``y_pred`` and an
        optional ``weight``. Error rates are (weighted) fractions wrong; the
        size of each split is its number of rows.
    human, human_size :
        Human-level error (float or dict of references) and, if it was
        measured on a sample, that sample's size.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.zeros(1000, int)
    >>> d = diagnose_predictions({"train": (y, np.r_[np.ones(10, int), y[10:]]),
    ...                           "dev": (y, np.r_[np.ones(100, int), y[100:]])},
    ...                          human=0.0)
    >>> d.rates["train"], d.rates["dev"], d.primary
    (0.01, 0.1, 'variance')
    """
    splits = _frame_to_splits(predictions) if isinstance(predictions, pd.DataFrame) \
        else dict(predictions)
    if not splits:
        raise ValueError("The 'predictions' argument is empty; give at least the 'train' split.")
    rates: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for name, value in splits.items():
        key = _canonical_split(name, "predictions")
        yt, yp, w = _split_arrays(str(name), value)
        rates[key] = error_rate(yt, yp, sample_weight=w)
        sizes[key] = int(yt.size)
    if human_size is not None:
        sizes["human"] = human_size
    return diagnose(human, rates.get("train"), train_dev=rates.get("train_dev"),
                    dev=rates.get("dev"), test=rates.get("test"), sizes=sizes,
                    confidence=confidence, comparable=comparable)


def diagnose_estimator(estimator, data: Mapping[str, tuple], *,
                       human: float | Mapping[str, float] | None = None,
                       human_size: int | None = None, confidence: float = 0.95,
                       comparable: float = 0.5) -> Diagnosis:
    """Diagnose a fitted estimator from ``{"train": (X, y), "dev": (X, y), ...}``.

    Calls ``estimator.predict(X)`` on each split, then ``diagnose_predictions``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    >>> est = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])
    >>> d = diagnose_estimator(est, {"train": (X[:200], y[:200]), "dev": (X[200:], y[200:])})
    >>> d.rates["train"], d.primary
    (0.0, 'variance')
    """
    preds = {}
    for name, value in dict(data).items():
        _canonical_split(name, "data")
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValueError(f"data[{name!r}] must be a pair (X, y). Got {type(value).__name__}.")
        X, y = value
        preds[name] = (np.asarray(y), np.asarray(estimator.predict(X)))
    return diagnose_predictions(preds, human=human, human_size=human_size,
                                confidence=confidence, comparable=comparable)


def _mean_interval(x: np.ndarray, reference: float, confidence: float):
    """t interval of ``mean(x) - reference`` (a one-sample t-test, as a paired one)."""
    r = paired_mean_difference(np.full(x.size, reference), x, confidence=confidence)
    return r.low, r.high


def diagnose_regression(squared_errors: Mapping[str, np.ndarray], y_var: float,
                        human_error: float | None = None,
                        confidence: float = 0.95) -> Diagnosis:
    """The error ladder of a regression: relative MSEs with t intervals.

    A rung is the split's MSE divided by the variance of the training target
    (1 = predicting the training mean, capped at 1), with a t interval on the
    mean squared error. A gap between two splits, measured on different
    examples, gets a Welch interval (``stats.welch_interval``); the gap to human
    level (a fixed number) a one-sample t interval. The ladder's structure,
    notes and remedies are those of ``diagnose``; the proportion intervals,
    which do not apply to squared errors, are replaced, and the primary problem
    follows the same rule.

    Parameters
    ----------
    squared_errors : mapping of str to array-like
        Per-example squared errors of each split ('train' required; 'train_dev',
        'dev', 'test' optional).
    y_var : float
        Variance of the training target: the scale of the relative MSE.
    human_error : float, optional
        Human-level relative MSE (same scale as the rungs).
    confidence : float, default=0.95
        Level of the intervals.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> se = {"train": rng.exponential(0.2, 500), "train_dev": rng.exponential(0.5, 500),
    ...       "dev": rng.exponential(0.5, 500)}
    >>> d = diagnose_regression(se, y_var=1.0)
    >>> d.primary, d.gap("variance").verdict, d.gap("data_mismatch").verdict
    ('variance', 'real', 'noise')
    """
    rel = {s: np.asarray(v, dtype=float) / y_var for s, v in squared_errors.items()}
    rates = {s: min(1.0, float(v.mean())) for s, v in rel.items()}
    d = diagnose(human_error, rates["train"], confidence=confidence,
                 **{s: rates[s] for s in ("train_dev", "dev", "test") if s in rates})
    d.sizes = {s: int(v.size) for s, v in rel.items()}
    for rung in d.rungs:
        if rung.name in rel:
            low, high = _mean_interval(rel[rung.name], 0.0, confidence)
            rung.n, rung.low, rung.high = d.sizes[rung.name], max(0.0, low), high
    for gap in d.gaps:
        if gap.lower == "human":
            gap.low, gap.high = _mean_interval(rel[gap.upper], human_error, confidence)
            gap.note = "human level taken as a fixed number"
        else:
            r = welch_interval(rel[gap.lower], rel[gap.upper], confidence=confidence)
            gap.low, gap.high, gap.note = r.low, r.high, ""
        gap.verdict = "real" if (gap.low > 0 or gap.high < 0) else "noise"
    surpassed = human_error is not None and rates["train"] < human_error
    d.primary = _choose_primary(d.gaps, surpassed, d.comparable)
    d.remedies = list(REMEDIES.get(d.primary, ()))
    d.notes = [n for n in d.notes if not n.startswith(("Some sizes are missing", "Also worth"))]
    d.notes.append("Regression: each rung is the split's MSE / variance of the training "
                   "target (1 = predicting the mean); t intervals on the squared errors "
                   "(Welch for gaps between splits).")
    return d


# the spelling of the brief: diagnose.from_predictions / diagnose.from_estimator
diagnose.from_predictions = diagnose_predictions  # type: ignore[attr-defined]
diagnose.from_estimator = diagnose_estimator  # type: ignore[attr-defined]
