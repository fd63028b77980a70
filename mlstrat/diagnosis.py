"""The error ladder: avoidable bias, variance, data mismatch, dev overfitting.

The course's rungs are human level (a proxy for Bayes error), training error,
training-dev error (same distribution as training, not trained on), dev error
and test error. The gaps between neighbouring rungs say what to work on::

    avoidable bias   = train     - human
    variance         = train_dev - train
    data mismatch    = dev       - train_dev
    dev overfitting  = test      - dev

The decision layer
------------------
Every face (the command line, the dashboard, ``record_run``) shows what this
module decides, in these terms:

* Each rung gets an exact (Clopper-Pearson) interval; each gap between two
  measured rungs the hybrid score interval on those limits
  (``stats.gap_interval(method="exact")``), which keeps its coverage for
  small sets, and an exact test: Fisher's for two rungs, a binomial test
  against a fixed human level (or against 0 when none is given). One error
  never decides a verdict.
* The gaps' p-values are adjusted with Holm's step-down over the ladder, so
  a ladder whose rungs share one true rate calls some gap real at most
  ``1 - confidence`` of the time.
* A gap is **real** (adjusted test rejects), **noise** (not real, and its
  interval lies within +-``negligible``), **too small to tell** (not real,
  but the interval still allows a gap worth acting on; ``size_to_tell`` is
  the examples per set that detect it with ``power``) or **untested** (sizes
  unknown: a point estimate only).
* ``status`` is one of ``STATUSES``: a primary problem, not enough evidence
  yet (what to enlarge, to what size), human level surpassed (the ladder no
  longer points the way), or no clear problem.

Rule for the primary problem
----------------------------
Candidates are the positive gaps that are real (or untested, when no sizes
are given). Avoidable bias is fixed first when it is at least ``comparable``
(default 0.5) times the largest candidate: the course works down the ladder,
and a bigger network or longer training changes every rung below. Without a
human level the training error is measured against 0: it bounds avoidable
bias *plus* Bayes error, so it is the primary problem only when it is the
largest candidate. Otherwise the largest candidate; ties go to the earlier
rung. Once training error is below the best human reference (beyond noise)
and dev error is not above it, human level is surpassed: no primary problem
is taken from the ladder. (Training error below human level while dev stays
above it surpasses nothing: the other gaps still point the way.)

Three entry points return the same ``Diagnosis``: ``diagnose`` (rates and
sizes), ``diagnose_predictions`` (labels and predictions per split) and
``diagnose_estimator`` (a fitted estimator and data per split);
``diagnose_regression`` gives the ladder of a regression in the target's
units.

Examples
--------
>>> d = diagnose(human=0.01, train=0.08, dev=0.10)
>>> d.primary
'avoidable_bias'
>>> d = diagnose(human=0.0, train=0.01, train_dev=0.09, dev=0.10,
...              sizes={"train": 50000, "train_dev": 5000, "dev": 5000})
>>> d.primary, d.gap("variance").verdict
('variance', 'real')
>>> d = diagnose(train=0.0, train_dev=0.0476, dev=0.0, sizes={"train": 185,
...              "train_dev": 21, "dev": 69})   # one error in 21 decides nothing
>>> d.status, d.gap("variance").verdict
('not_enough_evidence', 'too_small_to_tell')
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.metrics import error_rate
from mlstrat.stats import (
    gap_interval,
    holm,
    kish_effective_size,
    one_rate_pvalue,
    rate_interval,
    size_to_detect,
    two_rate_pvalue,
)
from mlstrat.store import SPLITS

__all__ = [
    "Rung",
    "Gap",
    "Remedy",
    "Diagnosis",
    "REMEDIES",
    "SPLITS",
    "STATUSES",
    "VERDICTS",
    "diagnose",
    "diagnose_predictions",
    "diagnose_estimator",
    "diagnose_regression",
    "problem_label",
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

#: verdict of one gap -> plain words
VERDICTS: dict[str, str] = {
    "real": "real",
    "noise": "noise",
    "too_small_to_tell": "too small to tell",
    "untested": "untested (no sizes)",
}

#: outcome of the whole ladder -> plain words
STATUSES: dict[str, str] = {
    "problem": "primary problem found",
    "not_enough_evidence": "not enough evidence yet",
    "human_level_surpassed": "human level surpassed",
    "no_clear_problem": "no clear problem",
}

NO_HUMAN_LABEL = "avoidable bias or Bayes error"


def problem_label(primary: str | None, *, bayes_unknown: bool = False) -> str:
    """Plain words for a primary problem (``None`` -> 'none').

    Examples
    --------
    >>> problem_label("dev_overfitting"), problem_label(None)
    ('overfitting to the dev set', 'none')
    """
    if primary is None:
        return "none"
    if primary == "avoidable_bias" and bayes_unknown:
        return f"high training error ({NO_HUMAN_LABEL})"
    return GAPS[primary][2]


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
    """One rung of the ladder: a value, its size and interval.

    ``n`` is the number of rows; ``n_eff`` Kish's effective size when the
    examples are weighted (intervals use it).
    """

    name: str
    rate: float
    n: int | None = None
    low: float | None = None
    high: float | None = None
    source: str = ""
    n_eff: float | None = None


@dataclass
class Gap:
    """The difference between two neighbouring rungs (``upper - lower``).

    ``verdict`` is a key of ``VERDICTS``; ``pvalue`` the test's two-sided
    p-value and ``adjusted_pvalue`` Holm's over the ladder; ``size_to_tell``
    the examples per set that would detect a gap of ``max(|value|,
    negligible)`` with the diagnosis' power, and ``enlarge`` the sets below it.
    """

    name: str
    label: str
    upper: str
    lower: str
    value: float
    low: float | None = None
    high: float | None = None
    verdict: str = "untested"
    note: str = ""
    pvalue: float | None = None
    adjusted_pvalue: float | None = None
    test: str = ""
    negligible: float | None = None
    size_to_tell: int | None = None
    enlarge: list[str] = field(default_factory=list)


def ladder_decimals(values) -> int:
    """Decimals that give the largest value four significant digits, for a whole ladder
    in target units (RMSE 38.66 -> 2, 1,530 -> 0, 0.01234 -> 5; 2 without values).

    >>> ladder_decimals([19.5, 38.66, None])
    2
    """
    finite = [abs(v) for v in values if v is not None and v == v and v != 0]
    if not finite:
        return 2
    return int(min(8, max(0, 3 - math.floor(math.log10(max(finite))))))


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.2f}%"


def _pt(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:+.2f} pt"


@dataclass
class Diagnosis:
    """The error ladder, its gaps, what the decision layer concluded and what to try.

    Built by ``diagnose``, ``diagnose_predictions``, ``diagnose_estimator`` or
    ``diagnose_regression``. ``status`` (a key of ``STATUSES``), ``headline``
    and ``next_step`` say in plain words what the numbers decide.
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
    status: str = "no_clear_problem"
    headline: str = ""
    next_step: str = ""
    power: float = 0.8
    metric: str = "error rate"
    split_metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    # ----------------------------------------------------------------- access
    def gap(self, name: str) -> Gap:
        """The gap called ``name`` (see ``GAPS``)."""
        for g in self.gaps:
            if g.name == name:
                return g
        raise KeyError(f"No gap {name!r} in this diagnosis; it has {[g.name for g in self.gaps]}.")

    @property
    def is_rate(self) -> bool:
        """True for error rates (percent), False for a regression metric in the target's units."""
        return self.metric == "error rate"

    def format_value(self, x: float | None) -> str:
        """A rung's value as shown: a percentage, or the metric in the target's units
        with one number of decimals for the whole ladder (:attr:`decimals`)."""
        if x is None:
            return "?"
        return _pct(x) if self.is_rate else f"{x:.{self.decimals}f}"

    def format_gap(self, x: float | None) -> str:
        """A gap as shown: signed points of percentage, or signed target units."""
        if x is None:
            return "?"
        return _pt(x) if self.is_rate else f"{x:+.{self.decimals}f}"

    @property
    def decimals(self) -> int:
        """Decimals of a regression ladder (:func:`ladder_decimals` of its rungs); 2 for
        error rates in percent."""
        return 2 if self.is_rate else ladder_decimals(r.rate for r in self.rungs)

    @property
    def problem(self) -> str:
        """The primary problem in plain words ('none' when there is none)."""
        return problem_label(self.primary, bayes_unknown=self.human_source is None)

    # ----------------------------------------------------------------- output
    def __str__(self) -> str:
        conf = f"{self.confidence:.0%}"
        title = "Error ladder" + ("" if self.is_rate else f" ({self.metric}, target units)")
        lines = [title]
        for r in self.rungs:
            size = f"n={r.n:,}" if r.n else "size unknown"
            if r.n_eff is not None and r.n is not None and abs(r.n_eff - r.n) > 0.5:
                size += f" (effective {r.n_eff:,.0f})"
            ci = (f"[{self.format_value(r.low)}, {self.format_value(r.high)}]"
                  if r.low is not None else "")
            label = RUNG_LABELS[r.name]
            label += f" ({r.source})" if r.source and r.source != label else ""
            lines.append(f"  {label:<40} {self.format_value(r.rate):>8}  {ci:<20} {size}")
        lines.append(f"Gaps ({conf} intervals; verdicts after Holm's correction over the ladder)")
        for g in self.gaps:
            ci = (f"[{self.format_gap(g.low)}, {self.format_gap(g.high)}]"
                  if g.low is not None else "(no interval)")
            lines.append(f"  {g.label:<38} {self.format_gap(g.value):>10}  {ci:<26} "
                         f"{VERDICTS.get(g.verdict, g.verdict)}")
            if g.note:
                lines.append(f"      note: {g.note}")
        lines.append(self.headline)
        if self.next_step:
            lines.append(f"Next: {self.next_step}")
        if self.primary is not None:
            lines.append("Try (one knob at a time):")
            for rem in self.remedies:
                extra = f" (caveat: {rem.caveat})" if rem.caveat else ""
                lines.append(f"  - {rem.action} [knob: {rem.knob}]{extra}")
        if self.split_metrics:
            lines.append("Per split: " + "; ".join(
                f"{RUNG_LABELS.get(k, k)} " + ", ".join(
                    f"{m} {v:.3f}" if m == "R2" else f"{m} {v:.{self.decimals}f}"
                    for m, v in ms.items())
                for k, ms in self.split_metrics.items()))
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: the inputs plus every derived number."""
        return {
            "kind": "Diagnosis",
            "version": 2,
            "rates": dict(self.rates),
            "sizes": dict(self.sizes),
            "human_levels": dict(self.human_levels),
            "human_source": self.human_source,
            "confidence": self.confidence,
            "comparable": self.comparable,
            "power": self.power,
            "metric": self.metric,
            "split_metrics": {k: dict(v) for k, v in self.split_metrics.items()},
            "rungs": [asdict(r) for r in self.rungs],
            "gaps": [asdict(g) for g in self.gaps],
            "primary": self.primary,
            "status": self.status,
            "headline": self.headline,
            "next_step": self.next_step,
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
        was written even if the rules change later (a version-1 record gets a
        status from its primary problem).
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
        gap_keys = {f.name for f in fields(Gap)}
        rung_keys = {f.name for f in fields(Rung)}
        primary = data.get("primary")
        d = cls(
            rates=dict(data["rates"]),
            sizes={k: int(v) for k, v in data["sizes"].items()},
            human_levels=dict(data["human_levels"]),
            human_source=data.get("human_source"),
            confidence=float(data["confidence"]),
            comparable=float(data["comparable"]),
            rungs=[Rung(**{k: v for k, v in r.items() if k in rung_keys})
                   for r in data["rungs"]],
            gaps=[Gap(**{k: v for k, v in g.items() if k in gap_keys}) for g in data["gaps"]],
            primary=primary,
            remedies=[Remedy(**r) for r in data["remedies"]],
            notes=list(data["notes"]),
            status=data.get("status") or ("problem" if primary else "no_clear_problem"),
            power=float(data.get("power", 0.8)),
            metric=data.get("metric", "error rate"),
            split_metrics={k: dict(v) for k, v in data.get("split_metrics", {}).items()},
        )
        d.headline = data.get("headline") or _headline(d)
        d.next_step = data.get("next_step", "")
        return d

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
                         "verdict": VERDICTS.get(g.verdict, g.verdict),
                         "upper": g.upper, "lower": g.lower})
        frame = pd.DataFrame(rows)
        for col in ("value", "low", "high"):
            frame[col] = frame[col].astype(float)
        return frame

    def chart(self):
        """The ladder chart (``charts.ladder_chart``)."""
        from mlstrat.charts import ladder_chart

        return ladder_chart(self.to_frame(), percent=self.is_rate, metric=self.metric)


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
        raise TypeError(f"The '{name}' error rate must be a float in [0, 1]. "
                        f"Got {value!r}.") from None
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
    if isinstance(human, Mapping):
        levels = dict(human)
    elif isinstance(human, (list, tuple, np.ndarray)):
        levels = {f"reference {i + 1}": v for i, v in enumerate(human)}
    else:
        levels = {"human level": human}
    if not levels:
        raise ValueError("The 'human' references are empty; "
                         "give at least one reference error rate.")
    checked = {}
    for k, v in levels.items():
        rate = _check_rate(v, f"human[{k!r}]")
        if rate is None:
            raise TypeError(f"The 'human[{k!r}]' error rate must be a float in [0, 1]. "
                            "Got None; leave the reference out instead.")
        checked[str(k)] = rate
    source = min(checked, key=checked.__getitem__)
    return checked, source, checked[source]


# --------------------------------------------------------------------- building
def _rung(name: str, rate: float, n: int | None, confidence: float, source: str = "",
          n_eff: float | None = None) -> Rung:
    if n is None:
        return Rung(name, rate, None, None, None, source)
    m = float(n if n_eff is None else n_eff)
    lo, hi = rate_interval(rate * m, m, confidence, "exact")
    return Rung(name, rate, n, lo, hi, source, n_eff)


def _size(r: Rung) -> float | None:
    return r.n_eff if r.n_eff is not None else (None if r.n is None else float(r.n))


def _default_negligible(up: Rung, lo: Rung) -> float:
    """Gaps within 10% of the larger rate (at least 0.1 pt) are not worth acting on."""
    return max(0.001, 0.1 * max(up.rate, lo.rate))


def _test_gap(gap: Gap, up: Rung, lo: Rung | None, confidence: float) -> None:
    """Interval and exact test for one gap, when the sizes allow it."""
    nu = _size(up)
    if nu is None:
        return
    nl = None if lo is None else _size(lo)
    if lo is not None and nl is not None:
        _, gap.low, gap.high = gap_interval(up.rate * nu, nu, lo.rate * nl, nl,
                                            confidence=confidence, method="exact")
        gap.pvalue = two_rate_pvalue(up.rate * nu, nu, lo.rate * nl, nl)
        gap.test = "Fisher's exact test"
        return
    fixed = 0.0 if lo is None else lo.rate
    if up.low is None or up.high is None:  # _rung gives an interval to every sized rung
        raise RuntimeError(f"The {up.name!r} rung has a size but no interval; this is a bug "
                           "in mlstrat.")
    gap.low, gap.high = up.low - fixed, up.high - fixed
    gap.pvalue = one_rate_pvalue(up.rate * nu, nu, fixed)
    gap.test = "exact binomial test against a fixed " + ("0" if lo is None else "human level")


def _make_gap(name: str, by_name: dict[str, Rung], confidence: float) -> Gap | None:
    upper, lower, label = GAPS[name]
    if name == "variance" and "train_dev" not in by_name and "dev" in by_name:
        upper, label = "dev", "variance + data mismatch"
    if name == "data_mismatch" and "train_dev" not in by_name:
        return None
    if name == "avoidable_bias" and "human" not in by_name:
        label = NO_HUMAN_LABEL  # training error against 0
    elif lower not in by_name:
        return None
    if upper not in by_name:
        return None
    up, lo = by_name[upper], by_name.get(lower)
    gap = Gap(name, label, upper, lower, up.rate - (0.0 if lo is None else lo.rate))
    gap.negligible = _default_negligible(up, lo or Rung("human", 0.0))
    _test_gap(gap, up, lo, confidence)
    return gap


def _tested_bounds(g: Gap) -> tuple[float, float, float]:
    """``low``, ``high`` and ``negligible`` of a tested gap (its test set them)."""
    if g.low is None or g.high is None or g.negligible is None:
        raise RuntimeError(f"The {g.name!r} gap has a p-value but no interval or negligible "
                           "size; this is a bug in mlstrat.")
    return g.low, g.high, g.negligible


def _tell_size(gap: Gap, by_name: dict[str, Rung], alpha: float, power: float) -> None:
    """Examples per set that would detect the gap (80% power after Holm's worst step,
    for the exact tests the ladder runs: continuity-corrected; ``size_calibration``)."""
    up, lo = by_name[gap.upper], by_name.get(gap.lower)
    delta = min(max(abs(gap.value), gap.negligible or 0.001), 1.0)
    if lo is None or _size(lo) is None:
        fixed = 0.0 if lo is None else lo.rate
        gap.size_to_tell = size_to_detect(up.rate, delta, power=power, confidence=1 - alpha,
                                          fixed=fixed, continuity=True)
        sets = [up]
    else:
        small, large = sorted((up, lo), key=lambda r: _size(r) or 0)
        gap.size_to_tell = size_to_detect((up.rate + lo.rate) / 2, delta, power=power,
                                          confidence=1 - alpha, n_other=_size(large),
                                          continuity=True)
        sets = [small] if (_size(large) or 0) >= gap.size_to_tell else [up, lo]
    gap.enlarge = [r.name for r in sets if (_size(r) or 0) < gap.size_to_tell]


def _decide_verdicts(gaps: list[Gap], confidence: float, negligible: float | None,
                     tell: Callable[[Gap, float], None]) -> None:
    """Holm over the tested gaps, then real / noise / too small to tell.

    ``tell(gap, alpha)`` sets a too-small gap's ``size_to_tell`` for a test at
    level ``alpha`` (Holm's first step); rates and regressions size differently.
    """
    tested = [g for g in gaps if g.pvalue is not None]
    alpha = 1 - confidence
    if not tested:
        return
    reject, adjusted = holm([g.pvalue for g in tested], alpha)
    for g, rej, adj in zip(tested, reject, adjusted, strict=True):
        g.adjusted_pvalue = float(adj)
        if negligible is not None:
            g.negligible = negligible
        low, high, band = _tested_bounds(g)
        if rej:
            g.verdict = "real"
        elif max(abs(low), abs(high)) <= band:
            g.verdict = "noise"
        else:
            g.verdict = "too_small_to_tell"
            tell(g, alpha / len(tested))


def _annotate(gap: Gap, d: Diagnosis) -> None:
    notes = []
    fmt = d.format_gap
    if gap.label == "variance + data mismatch":
        notes.append("no train-dev set: variance and data mismatch cannot be told apart")
    if gap.name == "avoidable_bias" and d.human_source is None:
        low = gap.low if gap.low is not None else gap.value
        notes.append(f"training error against 0: at least {fmt(max(low, 0.0))} of "
                     "avoidable bias plus Bayes error; give a human level to tell them apart")
    elif gap.name == "avoidable_bias" and "human" not in d.sizes:
        notes.append("human level taken as a fixed number")
    if gap.verdict == "real" and gap.adjusted_pvalue is not None:
        notes.append(f"{gap.test}, Holm-adjusted p = {gap.adjusted_pvalue:.2g}")
    if gap.verdict == "noise":
        notes.append(f"within +-{fmt(gap.negligible).lstrip('+')}, too small to act on")
    if gap.verdict == "too_small_to_tell" and gap.size_to_tell and gap.value <= 0:
        notes.append(f"not resolved at these sizes: the interval allows a gap of up to "
                     f"{fmt(gap.high)}")
    elif gap.verdict == "too_small_to_tell" and gap.size_to_tell:
        sets = " and ".join(RUNG_LABELS[s] for s in gap.enlarge) or "each set"
        size = max(abs(gap.value), gap.negligible or 0.0)
        notes.append(f"could be noise at these sizes (Holm-adjusted p = "
                     f"{gap.adjusted_pvalue:.2g}); about {gap.size_to_tell:,} examples in "
                     f"{sets} would detect a gap of {fmt(size).lstrip('+')} with "
                     f"{d.power:.0%} power")
    if gap.name == "data_mismatch" and gap.value < 0 and gap.verdict == "real":
        notes.append("negative: the dev/test data is easier than the training data")
    if gap.name == "avoidable_bias" and gap.value < 0 and d.human_source is not None:
        top = d.rates.get("dev")
        human = d.human_levels[d.human_source]
        notes.append("training error is below human level" + (
            "; dev error is not, so human level is not surpassed where it matters"
            if top is not None and top > human else ""))
    gap.note = "; ".join(notes)


def _candidates(gaps: list[Gap]) -> list[Gap]:
    return [g for g in gaps if g.value > 0 and g.verdict in ("real", "untested")]


def _choose_primary(gaps: list[Gap], comparable: float, human_known: bool) -> str | None:
    cands = _candidates(gaps)
    if not cands:
        return None
    largest = max(cands, key=lambda g: g.value)  # max keeps the first of ties
    bias = next((g for g in cands if g.name == "avoidable_bias"), None)
    if bias is None:
        return largest.name
    # without a human level the gap bounds bias + Bayes error: act on it only when it dominates
    threshold = comparable * largest.value if human_known else largest.value
    return "avoidable_bias" if bias.value >= threshold else largest.name


def _headline(d: Diagnosis) -> str:
    if d.status == "problem":
        g = next((g for g in d.gaps if g.name == d.primary), None)
        extra = "" if g is None else f" ({d.format_gap(g.value)}, {VERDICTS[g.verdict]})"
        return f"Primary problem: {d.problem}{extra}."
    if d.status == "human_level_surpassed":
        return ("Human level surpassed: training error is below the best human reference, "
                "so the ladder no longer says how much bias is avoidable.")
    if d.status == "not_enough_evidence":
        return ("Not enough evidence yet: no gap is large enough, at these set sizes, "
                "to tell it from noise.")
    return "No clear problem: every measured gap is within noise or negative."


def _next_step(d: Diagnosis) -> str:
    if d.status == "problem":
        return d.remedies[0].action if d.remedies else ""
    if d.status == "human_level_surpassed":
        real = [g for g in d.gaps if g.verdict == "real" and g.value > 0]
        still = "".join(f"The {g.label} gap ({d.format_gap(g.value)}) is real: reducing it "
                        "still helps. " for g in sorted(real, key=lambda g: -g.value)[:1])
        return (still + "Use error analysis on the dev errors, and look for the slices where "
                "people still beat the model; those say what to work on.")
    if d.status == "not_enough_evidence":
        g = max((g for g in d.gaps if g.verdict == "too_small_to_tell" and g.value > 0),
                key=lambda g: g.value)
        sets = " and the ".join(RUNG_LABELS[s] for s in g.enlarge) or "sets"
        what = f"the {g.label} gap ({d.format_gap(g.value)})"
        if not g.size_to_tell:
            return f"Enlarge the {sets} set to tell whether {what} is real."
        return (f"Enlarge the {sets} set to about {g.size_to_tell:,} examples to tell whether "
                f"{what} is real (80% power, two-sided test after Holm's correction), "
                "then diagnose again.")
    return ("Error analysis on the dev errors says what is left; or set a more ambitious "
            "target (human level, a better metric).")


def _status(gaps: list[Gap], primary: str | None, surpassed: bool) -> str:
    if surpassed:
        return "human_level_surpassed"
    if primary is not None:
        return "problem"
    if any(g.verdict == "too_small_to_tell" and g.value > 0 for g in gaps):
        return "not_enough_evidence"
    return "no_clear_problem"


def _general_notes(d: Diagnosis, surpassed: bool) -> list[str]:
    notes = []
    rates = d.rates
    if d.human_source is not None and len(d.human_levels) > 1:
        notes.append(f"Bayes error proxy: '{d.human_source}' "
                     f"({d.format_value(d.human_levels[d.human_source])}), the best of "
                     f"{len(d.human_levels)} human references.")
    if d.human_source is None:
        notes.append("No human level given: training error is compared to 0, so that gap is "
                     "avoidable bias or Bayes error; give a human level to tell them apart.")
    if surpassed:
        real = [g for g in d.gaps if g.verdict == "real" and g.value > 0
                and g.name != "avoidable_bias"]
        notes.append("Human level surpassed: avoidable bias can no longer be estimated and "
                      "progress usually slows; error analysis and the slices where people "
                      "still beat the model give direction.")
        if real:
            notes.append("Still real beyond noise: " + ", ".join(
                f"{g.label} ({d.format_gap(g.value)})" for g in real) + ".")
    if rates.get("train_dev") is None and rates.get("dev") is not None:
        notes.append("No train-dev set: variance and data mismatch cannot be told apart. "
                     "If training and dev data come from one distribution, that gap is "
                     "variance. If they differ, carve a train-dev set: hold out part of "
                     "the training distribution (e.g. a random 5-10% of the training rows, "
                     "not trained on) and report its error.")
    if any(g.verdict == "untested" for g in d.gaps):
        notes.append("Some sizes are missing: those gaps are point estimates, not "
                     "tested against sampling noise.")
    if rates.get("train") is not None and d.sizes.get("train"):
        notes.append("Training error is measured on the data the model was fit to: its "
                     "interval covers sampling noise only.")
    if any(r.n_eff is not None for r in d.rungs):
        notes.append("Weighted errors: intervals and tests use Kish's effective sample size.")
    return notes


def _surpassed(d: Diagnosis) -> bool:
    """Human level surpassed: training error below the best human reference (beyond noise,
    or untested without sizes) and the error where it matters (dev, else the highest
    measured rung) not above it. A network that memorises its training set while dev
    stays far above human level has surpassed nothing."""
    if d.human_source is None:
        return False
    bias = next((g for g in d.gaps if g.name == "avoidable_bias"), None)
    if bias is None or bias.value >= 0 or bias.verdict not in ("real", "untested"):
        return False
    human = d.human_levels[d.human_source]
    top = next(r for s in ("dev", "train_dev", "train") if (r := d.rates.get(s)) is not None)
    return top <= human


def _conclude(d: Diagnosis, surpassed: bool) -> Diagnosis:
    """Primary problem, status, headline, next step and notes from decided gaps."""
    human_known = d.human_source is not None
    d.primary = None if surpassed else _choose_primary(d.gaps, d.comparable, human_known)
    d.status = _status(d.gaps, d.primary, surpassed)
    d.remedies = list(REMEDIES.get(d.primary, ())) if d.primary else []
    d.headline, d.next_step = _headline(d), _next_step(d)
    d.notes = _general_notes(d, surpassed)
    if d.primary == "avoidable_bias" and not human_known:
        d.notes.append("If Bayes error is high (noisy labels, ambiguous inputs), a bigger "
                       "network will not close this gap: measure human-level error first.")
    others = [g for g in _candidates(d.gaps) if g.name != d.primary]
    if d.primary is not None and others:
        d.notes.append("Also worth working on after the primary problem: " + ", ".join(
            f"{g.label} ({d.format_gap(g.value)})"
            for g in sorted(others, key=lambda g: -g.value)) + ".")
    primary_gap = next((g for g in d.gaps if g.name == d.primary), None)
    unsure = [g for g in d.gaps if g.verdict == "too_small_to_tell" and primary_gap is not None
              and g.value > primary_gap.value]
    for g in unsure:
        d.notes.append(f"The {g.label} gap ({d.format_gap(g.value)}) may be larger than the "
                       "primary problem but is too small to tell at these sizes.")
    return d


def _build(rates: dict[str, float | None], sizes: dict[str, int], human_levels: dict[str, float],
           human_source: str | None, confidence: float, comparable: float, *,
           power: float = 0.8, negligible: float | None = None,
           effective: Mapping[str, float] | None = None) -> Diagnosis:
    effective = effective or {}
    by_name: dict[str, Rung] = {}
    if human_source is not None:
        by_name["human"] = _rung("human", human_levels[human_source], sizes.get("human"),
                                 confidence, source=human_source)
    for s in SPLITS:
        rate = rates.get(s)
        if rate is not None:
            by_name[s] = _rung(s, rate, sizes.get(s), confidence, n_eff=effective.get(s))
    gaps = [g for g in (_make_gap(n, by_name, confidence) for n in GAPS) if g is not None]
    _decide_verdicts(gaps, confidence, negligible,
                     lambda g, a: _tell_size(g, by_name, a, power))
    d = Diagnosis(rates, sizes, human_levels, human_source, confidence, comparable,
                  rungs=[by_name[r] for r in RUNGS if r in by_name], gaps=gaps, power=power)
    for g in gaps:
        _annotate(g, d)
    return _conclude(d, _surpassed(d))


# --------------------------------------------------------------------- entry points
def diagnose(human: float | Mapping[str, float] | list[float] | None = None,
             train: float | None = None, *,
             train_dev: float | None = None, dev: float | None = None,
             test: float | None = None, sizes: Mapping[str, int] | None = None,
             confidence: float = 0.95, comparable: float = 0.5, power: float = 0.8,
             negligible: float | None = None,
             effective_sizes: Mapping[str, float] | None = None) -> Diagnosis:
    """Diagnose from error rates (and, for intervals and verdicts, set sizes).

    Parameters
    ----------
    human : float, list of float or dict of str to float, optional
        Human-level error, or several references
        (``{"typical doctor": 0.01, "team of experienced doctors": 0.005}``
        or ``[0.03, 0.01, 0.005]``); the lowest is used as the proxy for
        Bayes error and named. Without it, training error is measured
        against 0 (avoidable bias *or* Bayes error).
    train, train_dev, dev, test : float, optional
        Error rates in [0, 1]. ``train`` is required.
    sizes : dict, optional
        Examples per split (keys among ``train``, ``train_dev``, ``dev``,
        ``test`` and ``human``); without them gaps are not tested.
    confidence : float, default=0.95
        Level of the intervals; ``1 - confidence`` is the family-wise error
        of the verdicts over the whole ladder (Holm).
    comparable : float, default=0.5
        Avoidable bias is fixed first when at least this fraction of the
        largest real gap (see the module docstring).
    power : float, default=0.8
        Power at which ``size_to_tell`` detects a gap.
    negligible : float, optional
        Gaps smaller than this are not worth acting on (a gap is *noise* when
        its interval lies within +-negligible). Default: 10% of the larger of
        the two rates, at least 0.1 pt.
    effective_sizes : dict, optional
        Kish effective sizes of weighted splits (``diagnose_predictions``
        fills it); intervals and tests use them.

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
    >>> d = diagnose(train=0.30, dev=0.31)   # no human level: 30% training error dominates
    >>> d.primary, d.problem
    ('avoidable_bias', 'high training error (avoidable bias or Bayes error)')
    >>> diagnose(human={"team": 0.005}, train=0.003, dev=0.004).status
    'human_level_surpassed'
    """
    if train is None:
        raise ValueError("The 'train' error rate is required (a float in [0, 1]).")
    if not (0 < comparable <= 1):
        raise ValueError(f"The 'comparable' parameter must be in (0, 1]. Got {comparable!r}.")
    if not (0 < confidence < 1):
        raise ValueError(f"The 'confidence' parameter must be in (0, 1). Got {confidence!r}.")
    if not (0 < power < 1):
        raise ValueError(f"The 'power' parameter must be in (0, 1). Got {power!r}.")
    if negligible is not None and not (0 <= negligible < 1):
        raise ValueError(f"The 'negligible' parameter must be in [0, 1). Got {negligible!r}.")
    levels, source, _ = _check_human(human)
    rates = {s: _check_rate(v, s) for s, v in
             zip(SPLITS, (train, train_dev, dev, test), strict=True)}
    effective = {_canonical_split(k, "effective_sizes"): float(v)
                 for k, v in (effective_sizes or {}).items()}
    return _build(rates, _check_sizes(sizes), levels, source, float(confidence),
                  float(comparable), power=float(power), negligible=negligible,
                  effective=effective)


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
        size of each split is its number of rows, and weighted splits are
        tested with Kish's effective size ``(sum w)**2 / sum w**2``.
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
    effective: dict[str, float] = {}
    for name, value in splits.items():
        key = _canonical_split(name, "predictions")
        yt, yp, w = _split_arrays(str(name), value)
        rates[key] = error_rate(yt, yp, sample_weight=w)
        sizes[key] = int(yt.size)
        if w is not None and not np.allclose(w, w[0]):
            effective[key] = kish_effective_size(w)
    if human_size is not None:
        sizes["human"] = human_size
    return diagnose(human, rates.get("train"), train_dev=rates.get("train_dev"),
                    dev=rates.get("dev"), test=rates.get("test"), sizes=sizes,
                    confidence=confidence, comparable=comparable,
                    effective_sizes=effective)


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


from mlstrat.regression import diagnose_regression  # noqa: E402  (it builds on the above)

# the spelling of the brief: diagnose.from_predictions / diagnose.from_estimator
diagnose.from_predictions = diagnose_predictions  # type: ignore[attr-defined]
diagnose.from_estimator = diagnose_estimator  # type: ignore[attr-defined]
