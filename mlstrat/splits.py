"""Train / train-dev / dev / test: sizes, carve-outs and distribution checks.

- ``suggest_splits``: the course's size rules (60/20/20 for small data,
  98/1/1 for a million examples, dev/test sized from a wanted resolution,
  and the mismatched case where only part of the data comes from the target
  distribution).
- ``make_splits``: seeded, stratified, group-aware row indices, with dev and
  test drawn only from target-distribution rows when a ``domain`` is given.
- ``compare_distributions``: adversarial validation, a permutation test of
  whether a classifier can tell two sets (e.g. train and dev) apart.

Examples
--------
>>> plan = suggest_splits(500_000, target_size=20_000)
>>> plan.sizes
{'train': 505000, 'train_dev': 5000, 'dev': 5000, 'test': 5000}
>>> idx = make_splits(1000, fractions={"dev": 0.2, "test": 0.2}, train_dev=False)
>>> {k: len(v) for k, v in idx.items()}
{'train': 600, 'dev': 200, 'test': 200}
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from mlstrat.stats import size_for_resolution, z_value

__all__ = [
    "SplitPlan",
    "suggest_splits",
    "make_splits",
    "DistributionComparison",
    "compare_distributions",
    "permutation_auc_test",
    "ADVERSARIAL_MODELS",
    "SMALL_DATA",
    "BIG_DEV_SIZE",
]

SPLIT_NAMES = ("train", "train_dev", "dev", "test")
#: below this many examples the classic 60/20/20 rule applies
SMALL_DATA = 10_000
#: dev and test each need at most this many examples to compare models well
#: (the course: 1% of 1,000,000); beyond it, the rest goes to training
BIG_DEV_SIZE = 10_000


# =========================================================================== plan
@dataclass
class SplitPlan:
    """Suggested sizes of train, train-dev, dev and test.

    Attributes
    ----------
    sizes : dict
        Examples per split (``train``, ``train_dev``, ``dev``, ``test``).
    rule : str
        Which rule of the course produced them.
    composition : dict
        Where each split's rows come from (``source`` = the other
        distribution, ``target`` = the distribution that matters).
    notes : list of str
    """

    n_examples: int
    target_size: int | None
    sizes: dict[str, int]
    rule: str
    composition: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def fractions(self) -> dict[str, float]:
        total = sum(self.sizes.values())
        return {k: v / total for k, v in self.sizes.items()}

    def __str__(self) -> str:
        lines = [f"Split plan ({self.rule})"]
        for k, v in self.sizes.items():
            comp = self.composition.get(k)
            src = ""
            if comp:
                src = " (" + ", ".join(f"{n:,} {where}" for where, n in comp.items() if n) + ")"
            lines.append(f"  {k:<10} {v:>12,}  {self.fractions[k]:7.2%}{src}")
        lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fractions"] = self.fractions
        return d

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "split": list(self.sizes),
            "size": list(self.sizes.values()),
            "fraction": [self.fractions[k] for k in self.sizes],
            "source": [self.composition.get(k, {}).get("source", 0) for k in self.sizes],
            "target": [self.composition.get(k, {}).get("target", 0) for k in self.sizes],
        })

    def chart(self):
        """Split sizes, stacked by distribution (``charts.split_plan_chart``)."""
        from mlstrat.charts import split_plan_chart

        return split_plan_chart(self.to_frame())


def _check_count(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"The '{name}' parameter must be an int >= {minimum}. Got {value!r}.")
    return int(value)


def _eval_size(n_available: int, resolution, error_rate, confidence) -> tuple[int, str]:
    if resolution is None:
        size = min(round(0.2 * n_available), BIG_DEV_SIZE)
        return size, ""
    if not (0 < resolution < 1):
        raise ValueError(f"The 'resolution' parameter must be in (0, 1). Got {resolution!r}.")
    p = 0.5 if error_rate is None else error_rate
    size = size_for_resolution(p, resolution, confidence)
    where = "worst case p = 50%; give 'error_rate' for a smaller size" if error_rate is None \
        else f"at {p:.2%} error"
    note = (f"dev and test sized to measure the error within +-{resolution:.2%} "
            f"({confidence:.0%}, {where}): {size:,} examples each.")
    return size, note


def _single_distribution(n, resolution, error_rate, confidence) -> SplitPlan:
    size, note = _eval_size(n, resolution, error_rate, confidence)
    notes = [note] if note else []
    if n < SMALL_DATA and resolution is None:
        rule = "small data: 60/20/20"
        dev = test = round(0.2 * n)
        notes.append("Without a test set, 70/30 train/dev is the classic alternative.")
    else:
        rule = "big data: dev/test just big enough, the rest to training" \
            if resolution is None else "dev/test sized from the resolution"
        dev = test = size
    if dev + test >= n:
        raise ValueError(
            f"n_examples={n:,} is too small for dev and test of {dev:,} each. "
            "Lower the resolution (a larger 'resolution' value) or collect more data."
        )
    if (dev + test) / n > 0.4:
        notes.append(f"dev + test take {(dev + test) / n:.0%} of the data: the training "
                     "set is small; consider a coarser resolution.")
    notes.append("Train and dev/test come from one distribution: a train-dev set is not "
                 "needed (dev plays its role).")
    sizes = {"train": n - dev - test, "train_dev": 0, "dev": dev, "test": test}
    return SplitPlan(n, None, sizes, rule, {}, notes)


def _mismatched(n_source, target, resolution, error_rate, confidence) -> SplitPlan:
    if resolution is None:
        dev = test = min(target // 4, BIG_DEV_SIZE)
        note = ""
    else:
        dev, note = _eval_size(target, resolution, error_rate, confidence)
        test = dev
    if dev < 1 or dev + test > target:
        raise ValueError(
            f"target_size={target:,} is too small for dev and test of {max(dev, 1):,} each "
            "from the target distribution. Collect more target data or lower the resolution."
        )
    to_train = target - dev - test
    pool = n_source + to_train
    train_dev = min(dev, pool // 5)
    notes = [note] if note else []
    notes += [
        "Dev and test come only from the target distribution: aim where you want to hit.",
        f"{to_train:,} target examples go into training so the model sees some of them.",
        f"Train-dev: {train_dev:,} examples carved at random from the {pool:,} training-"
        "distribution examples and not trained on; it separates variance (train -> "
        "train-dev) from data mismatch (train-dev -> dev).",
    ]
    share = to_train / pool
    sizes = {"train": pool - train_dev, "train_dev": train_dev, "dev": dev, "test": test}
    comp = {
        "train": {"source": round(n_source * (1 - train_dev / pool)),
                  "target": round(to_train * (1 - train_dev / pool))},
        "dev": {"source": 0, "target": dev},
        "test": {"source": 0, "target": test},
    }
    comp["train_dev"] = {"source": n_source - comp["train"]["source"],
                         "target": to_train - comp["train"]["target"]}
    notes.append(f"Training pool: {n_source:,} source + {to_train:,} target = {pool:,} "
                 f"({share:.1%} target).")
    return SplitPlan(n_source, target, sizes, "mismatched distributions", comp, notes)


def suggest_splits(n_examples: int, *, target_size: int | None = None,
                   resolution: float | None = None, error_rate: float | None = None,
                   confidence: float = 0.95) -> SplitPlan:
    """Suggest split sizes following the course's rules.

    Parameters
    ----------
    n_examples : int
        Examples available. With ``target_size``: examples from the *other*
        (source) distribution, e.g. 500,000 purchased utterances.
    target_size : int, optional
        Examples from the distribution that matters (e.g. 20,000 in-car
        utterances). Dev and test then come only from these, a quarter each
        (up to 10,000), the rest go into training, and a train-dev set is
        carved from the training distribution.
    resolution : float, optional
        Half-width wanted on the dev/test error (the smallest error
        difference to detect), e.g. 0.005 for +-0.5 pt. Sets dev/test sizes
        with ``stats.size_for_resolution``.
    error_rate : float, optional
        Expected error, for the resolution rule (default: worst case 50%).

    Rules without a resolution: fewer than 10,000 examples, 60/20/20; more,
    dev = test = min(20%, 10,000) (98/1/1 at 1,000,000 examples).

    Examples
    --------
    >>> suggest_splits(5000).sizes
    {'train': 3000, 'train_dev': 0, 'dev': 1000, 'test': 1000}
    >>> suggest_splits(1_000_000).fractions["train"]
    0.98
    >>> suggest_splits(1_000_000, resolution=0.005, error_rate=0.05).sizes["dev"]
    7299
    """
    n = _check_count(n_examples, "n_examples", minimum=3)
    if error_rate is not None and not (0 <= error_rate <= 1):
        raise ValueError(f"The 'error_rate' parameter must be in [0, 1]. Got {error_rate!r}.")
    if target_size is None:
        return _single_distribution(n, resolution, error_rate, confidence)
    target = _check_count(target_size, "target_size", minimum=2)
    return _mismatched(n, target, resolution, error_rate, confidence)


# =========================================================================== make_splits
def _n_rows(data) -> int:
    if isinstance(data, (int, np.integer)) and not isinstance(data, bool):
        return _check_count(data, "df_or_n")
    try:
        return len(data)
    except TypeError:
        raise TypeError(f"'df_or_n' must be a number of rows or a table with len(). "
                        f"Got {type(data).__name__}.") from None


def _column(values, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values).ravel()
    if arr.size != n:
        raise ValueError(f"'{name}' must have one value per row ({n}). Got {arr.size}.")
    return arr


def _check_split_keys(mapping: Mapping, argument: str) -> None:
    bad = [k for k in mapping if k not in SPLIT_NAMES]
    if bad:
        raise ValueError(f"Unknown split {bad[0]!r} in '{argument}'. Valid names: "
                         f"{list(SPLIT_NAMES)}.")


def _target_counts(n: int, n_domain: int, sizes, fractions, train_dev: bool,
                   has_domain: bool) -> tuple[dict[str, int], int | None]:
    """Rows for dev, test and train_dev, and for train (None: all that remain)."""
    counts: dict[str, int]
    if sizes is not None and fractions is not None:
        raise ValueError("Give either 'sizes' or 'fractions', not both.")
    if sizes is not None:
        _check_split_keys(sizes, "sizes")
        counts = {k: _check_count(v, f"sizes[{k!r}]", minimum=0) for k, v in sizes.items()}
    elif fractions is not None:
        _check_split_keys(fractions, "fractions")
        if any(not (0 <= f <= 1) for f in fractions.values()) or sum(fractions.values()) > 1 + 1e-9:
            raise ValueError("'fractions' must be in [0, 1] and sum to <= 1. "
                             f"Got {dict(fractions)}.")
        counts = {k: int(round(f * n)) for k, f in fractions.items()}
    else:
        plan = suggest_splits(n - n_domain, target_size=n_domain) if has_domain \
            and n_domain < n else suggest_splits(n)
        counts = {"dev": plan.sizes["dev"], "test": plan.sizes["test"]}
        if plan.sizes["train_dev"]:
            counts["train_dev"] = plan.sizes["train_dev"]
    counts.setdefault("dev", 0)
    counts.setdefault("test", 0)
    if train_dev:  # default: as big as dev, but at most 10% of the training pool
        pool = n - counts["dev"] - counts["test"]
        counts.setdefault("train_dev", min(counts["dev"], max(1, round(0.1 * pool))))
    else:
        counts["train_dev"] = 0
    train = counts.pop("train", None)
    return counts, train


def _order(units_label: np.ndarray | None, n_units: int, rng) -> np.ndarray:
    """A random order of units whose every prefix is (about) stratified."""
    u = rng.random(n_units)
    if units_label is None:
        return np.argsort(u, kind="stable")
    _, inv = np.unique(units_label, return_inverse=True)
    counts = np.bincount(inv)
    by_stratum = np.lexsort((u, inv))  # units grouped by stratum, random within
    starts = np.cumsum(counts) - counts
    ranks = np.empty(n_units)
    ranks[by_stratum] = np.arange(n_units) - starts[inv[by_stratum]]
    key = (ranks + rng.random(n_units)) / counts[inv]  # spread each stratum over [0, 1)
    return np.argsort(key, kind="stable")


def _take(order_units: np.ndarray, unit_sizes: np.ndarray, count: int,
          used: np.ndarray) -> np.ndarray:
    """Take free units in ``order_units`` until ``count`` rows; mark them used.

    Whole units only: the last group may overshoot ``count`` by part of itself.
    """
    free = order_units[~used[order_units]]
    if count <= 0 or free.size == 0:
        return np.zeros(0, dtype=np.intp)
    before = np.cumsum(unit_sizes[free]) - unit_sizes[free]
    chosen = free[before < count]
    used[chosen] = True
    return chosen


def _units(n: int, groups: np.ndarray | None, stratify: np.ndarray | None):
    """Row -> unit map, unit sizes and unit labels (a unit is a row or a group)."""
    if groups is None:
        return np.arange(n), np.ones(n, np.intp), stratify
    _, inv = np.unique(groups, return_inverse=True)
    sizes = np.bincount(inv)
    labels = None
    if stratify is not None:  # a group's label: that of its first row
        first = np.full(sizes.size, n)
        np.minimum.at(first, inv, np.arange(n))
        labels = stratify[first]
    return inv, sizes, labels


def _rows(inv: np.ndarray, units: np.ndarray, n_units: int, grouped: bool) -> np.ndarray:
    if not grouped:
        return np.sort(units)
    mask = np.zeros(n_units, bool)
    mask[units] = True
    return np.flatnonzero(mask[inv])


def _eval_units(domain: np.ndarray | None, inv: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Units allowed in dev/test: all rows in the target domain."""
    if domain is None:
        return np.ones(sizes.size, bool)
    in_dom = np.bincount(inv, weights=domain, minlength=sizes.size)
    ok = in_dom == sizes
    mixed = (in_dom > 0) & ~ok
    if mixed.any():
        warnings.warn(f"{int(mixed.sum())} groups have rows both in and out of 'domain'; "
                      "they are treated as non-domain (kept out of dev/test).", UserWarning,
                      stacklevel=3)
    return ok


def make_splits(df_or_n, *, sizes: Mapping[str, int] | None = None,
                fractions: Mapping[str, float] | None = None, stratify=None, groups=None,
                domain=None, train_dev: bool = True,
                random_state: int | None = 0) -> dict[str, np.ndarray]:
    """Row indices of train, train-dev, dev and test.

    Parameters
    ----------
    df_or_n : DataFrame, array or int
        The data (only its length is used) or a number of rows.
    sizes, fractions : dict, optional
        Rows (or fractions of all rows) per split among ``train``,
        ``train_dev``, ``dev``, ``test``. ``train`` defaults to the rest;
        ``train_dev`` defaults to the size of dev, capped at 10% of the rows
        left for training. Without either, sizes come
        from ``suggest_splits``.
    stratify : array-like, optional
        Labels whose proportions every split should keep.
    groups : array-like, optional
        Group of each row (patient, speaker, ...): a group never spans two
        splits. Sizes are then met as closely as whole groups allow.
    domain : array-like of bool, optional
        True for rows of the target distribution. Dev and test are drawn only
        from these; the other domain rows go to training.
    train_dev : bool, default=True
        Carve a train-dev set from the training distribution.
    random_state : int, default=0

    Returns
    -------
    dict
        split name -> sorted ``np.ndarray`` of row indices (splits of size 0
        are left out).

    Examples
    --------
    >>> import numpy as np
    >>> dom = np.r_[np.zeros(900, bool), np.ones(100, bool)]
    >>> s = make_splits(1000, sizes={"dev": 30, "test": 30}, domain=dom)
    >>> bool(dom[s["dev"]].all()), len(s["train_dev"]), len(s["train"])
    (True, 30, 910)
    """
    n = _n_rows(df_or_n)
    strat = _column(stratify, n, "stratify")
    grp = _column(groups, n, "groups")
    dom = _column(domain, n, "domain")
    if dom is not None:
        dom = dom.astype(bool)
    n_domain = int(dom.sum()) if dom is not None else n
    counts, train = _target_counts(n, n_domain, sizes, fractions, train_dev, dom is not None)
    rng = np.random.default_rng(random_state)
    inv, unit_sizes, unit_labels = _units(n, grp, strat)
    order = _order(unit_labels, unit_sizes.size, rng)
    used = np.zeros(unit_sizes.size, bool)
    eval_ok = _eval_units(dom, inv, unit_sizes)
    n_eval = int(unit_sizes[eval_ok].sum())
    if counts["dev"] + counts["test"] > n_eval:
        where = "domain rows" if dom is not None else "rows"
        raise ValueError(f"dev ({counts['dev']:,}) + test ({counts['test']:,}) need more "
                         f"{where} than the {n_eval:,} available. Lower the sizes or give "
                         "more data.")
    units: dict[str, np.ndarray] = {}
    eval_order = order[eval_ok[order]]
    for name in ("test", "dev"):
        units[name] = _take(eval_order, unit_sizes, counts[name], used)
    remaining = int(unit_sizes[~used].sum())
    need = counts["train_dev"] + (train or 1)
    if need > remaining:
        raise ValueError(f"Too few rows: {remaining:,} left after dev and test, but train-dev "
                         f"({counts['train_dev']:,}) + train ({train or 1:,}) need "
                         f"{need:,}. Lower the sizes, set train_dev=False, or give more data.")
    units["train_dev"] = _take(order, unit_sizes, counts["train_dev"], used)
    train_count = remaining if train is None else train
    units["train"] = _take(order, unit_sizes, train_count, used)
    out = {k: _rows(inv, units[k], unit_sizes.size, grp is not None) for k in SPLIT_NAMES}
    return {k: v.astype(np.intp) for k, v in out.items() if v.size > 0}


# =========================================================================== adversarial
@dataclass
class DistributionComparison:
    """Adversarial validation: can a classifier tell set ``a`` from set ``b``?

    ``auc`` is the out-of-fold AUC of the classifier (``model``); near 0.5 the
    sets look alike, near 1 they are easy to tell apart, and ``importances``
    says which features give them away. ``pvalue`` comes from a permutation
    test: the domain labels are shuffled ``n_permutations`` times and the whole
    cross-validated fit is redone each time, so the test holds its level at
    any size. ``null_low``/``null_high`` are the central ``confidence`` range of
    the permuted AUCs: where the AUC falls when the sets do *not* differ.
    A non-rejection is "no evidence of a difference at this size", never proof
    that the distributions are the same.
    """

    auc: float
    pvalue: float
    verdict: str
    n_a: int
    n_b: int
    model: str
    importances: dict[str, float]
    confidence: float = 0.95
    n_permutations: int = 0
    null_low: float = math.nan
    null_high: float = math.nan
    n_tested: int = 0

    @property
    def alpha(self) -> float:
        """Level of the test: ``1 - confidence``."""
        return 1.0 - self.confidence

    @property
    def different(self) -> bool:
        """The permutation test rejects "no difference" at level ``alpha``."""
        return bool(self.pvalue <= self.alpha)

    @property
    def same_distribution(self) -> bool:
        """Deprecated: ``not different`` -- no evidence of a difference, not proof of sameness."""
        return not self.different

    @property
    def low(self) -> float:
        """Deprecated alias of ``null_low`` (not a confidence interval of the AUC)."""
        return self.null_low

    @property
    def high(self) -> float:
        """Deprecated alias of ``null_high`` (not a confidence interval of the AUC)."""
        return self.null_high

    def __str__(self) -> str:
        rows = f"{self.n_a:,} vs {self.n_b:,} rows"
        if self.n_tested and self.n_tested < self.n_a + self.n_b:
            rows += f"; tested on a stratified sample of {self.n_tested:,}"
        lines = [f"Adversarial validation ({self.model}, {rows})",
                 f"  Out-of-fold AUC {self.auc:.3f} (0.5: the classifier cannot tell them apart)",
                 f"  Permutation test ({self.n_permutations} relabellings, each refitted): "
                 f"p = {_p(self.pvalue)}; with no difference the AUC falls in "
                 f"[{self.null_low:.3f}, {self.null_high:.3f}] ({self.confidence:.0%})",
                 f"  Verdict: {self.verdict}"]
        top = list(self.importances.items())[:5]
        if top:
            lines.append("  Features that separate them most (permutation importance, AUC drop):")
            lines.extend(f"    {k:<24} {v:+.3f}" for k, v in top)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["different"] = self.different
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"feature": list(self.importances),
                             "importance": list(self.importances.values())})

    def chart(self):
        """Bar chart of the separating features (``charts.distribution_chart``)."""
        from mlstrat.charts import distribution_chart

        return distribution_chart(self.to_frame(), auc=self.auc)


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _verdict(pvalue: float, alpha: float) -> str:
    if pvalue <= alpha:
        return f"different distributions (p = {_p(pvalue)})"
    return f"no evidence of a difference at this size (p = {_p(pvalue)})"


def _as_frame(x, name: str) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        return x.reset_index(drop=True)
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"'{name}' must be a DataFrame or a 2-D array. Got shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _encode(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    if list(a.columns) != list(b.columns):
        diff = sorted(set(a.columns) ^ set(b.columns)) or "order differs"
        raise ValueError(f"'a' and 'b' must have the same columns. Differences: {diff}.")
    both = pd.concat([a, b], ignore_index=True)
    cat = np.array([(not pd.api.types.is_numeric_dtype(both[c])
                     or pd.api.types.is_bool_dtype(both[c])) and both[c].nunique() <= 255
                    for c in both.columns])
    cols = []
    for c in both.columns:
        if not pd.api.types.is_numeric_dtype(both[c]) or pd.api.types.is_bool_dtype(both[c]):
            codes, _ = pd.factorize(both[c].astype("string"), sort=True)
            cols.append(np.where(codes < 0, np.nan, codes).astype(float))
        else:
            cols.append(both[c].to_numpy(dtype=float, na_value=np.nan))
    return np.column_stack(cols), [str(c) for c in both.columns], cat


class _QuadraticFeatures:
    """Label-free features for the linear classifier: each numeric column
    standardised and its square (location and spread shifts), a missing-value
    indicator where values are missing, one-hot codes of categorical columns.

    Fitted once on both sets together; it never sees the domain labels, so
    fitting it before the permutations keeps the test exact.
    """

    def __init__(self, categorical: np.ndarray, max_levels: int = 30):
        self.categorical = categorical
        self.max_levels = max_levels

    def fit(self, X: np.ndarray) -> _QuadraticFeatures:
        num = X[:, ~self.categorical]
        self.median_ = np.nan_to_num(np.nanmedian(num, axis=0)) if num.size else np.zeros(0)
        filled = np.where(np.isnan(num), self.median_, num)
        self.mean_, self.std_ = filled.mean(0), filled.std(0) + 1e-12
        z = (filled - self.mean_) / self.std_
        self.sq_mean_, self.sq_std_ = (z ** 2).mean(0), (z ** 2).std(0) + 1e-12
        self.missing_ = np.isnan(num).any(0)
        self.levels_ = [self._levels(X[:, j]) for j in np.flatnonzero(self.categorical)]
        return self

    def _levels(self, col: np.ndarray) -> np.ndarray:
        values, counts = np.unique(col[~np.isnan(col)], return_counts=True)
        return values[np.argsort(-counts, kind="stable")][: self.max_levels]

    def transform(self, X: np.ndarray) -> np.ndarray:
        num = X[:, ~self.categorical]
        miss = np.isnan(num)
        z = (np.where(miss, self.median_, num) - self.mean_) / self.std_
        parts = [z, (z ** 2 - self.sq_mean_) / self.sq_std_, miss[:, self.missing_]]
        for j, levels in zip(np.flatnonzero(self.categorical), self.levels_, strict=True):
            parts.append(X[:, j][:, None] == levels[None, :])
        return np.column_stack(parts).astype(float)


class _LinearDiscriminant(ClassifierMixin, BaseEstimator):
    """Fisher's linear discriminant as a ridge least-squares fit of the 0/1 label
    (same direction for two classes). The fit is one linear solve, so every
    permuted labelling of a fold is scored by one matrix product."""

    def __init__(self, ridge: float = 1.0):
        self.ridge = ridge

    def fit(self, Z: np.ndarray, y: np.ndarray) -> _LinearDiscriminant:
        self.classes_ = np.unique(y)
        self.coef_ = _solve(np.asarray(Z, float), self.ridge) @ (np.asarray(y, float) - np.mean(y))
        return self

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(Z) > 0).astype(int)]

    def decision_function(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(Z, float) @ self.coef_


def _solve(Z: np.ndarray, ridge: float = 1.0) -> np.ndarray:
    """``(Zc'Zc + ridge I)^-1 Zc'`` for the column-centred ``Zc`` (intercept implied)."""
    Zc = Z - Z.mean(0)
    return np.linalg.solve(Zc.T @ Zc + ridge * np.eye(Z.shape[1]), Zc.T)


def _linear(categorical, random_state):
    return _LinearDiscriminant()


def _boosting(categorical, random_state):
    from sklearn.ensemble import HistGradientBoostingClassifier

    cats = categorical if categorical.any() else None  # codes beyond 255 stay numeric
    return HistGradientBoostingClassifier(
        max_iter=50, max_leaf_nodes=15, early_stopping=False, categorical_features=cats,
        random_state=random_state)


#: classifiers adversarial validation can use: name -> (label, builder(categorical, random_state))
ADVERSARIAL_MODELS = {
    "linear": ("linear discriminant on quadratic features", _linear),
    "boosting": ("HistGradientBoosting", _boosting),
}


def _folds(n: int, n_splits: int, seed: int) -> np.ndarray:
    """Fold of each row, drawn from ``seed`` alone: the same folds for every labelling."""
    return np.random.default_rng(seed).permutation(np.arange(n) % n_splits)


def _aucs(scores: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """AUC of each column of ``scores`` against the 0/1 column of ``Y`` (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=0)
    n1 = Y.sum(0)
    n0 = Y.shape[0] - n1
    return ((ranks * Y).sum(0) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _oof_scores(model, Z: np.ndarray, Y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Out-of-fold scores of every labelling (columns of ``Y``) at once."""
    from sklearn.base import clone

    S = np.empty(Y.shape)
    for k in np.unique(fold):
        test, train = fold == k, fold != k
        if isinstance(model, _LinearDiscriminant):
            Yt = Y[train] - Y[train].mean(0)
            S[test] = Z[test] @ (_solve(Z[train], model.ridge) @ Yt)
            continue
        for j in range(Y.shape[1]):  # any other classifier: one refit per labelling
            fitted = clone(model).fit(Z[train], Y[train, j])
            S[test, j] = fitted.predict_proba(Z[test])[:, 1]
    return S


def permutation_auc_test(model, Z: np.ndarray, y: np.ndarray, *, n_splits: int = 5,
                         n_permutations: int = 100,
                         random_state: int | None = 0) -> tuple[float, float, np.ndarray]:
    """Out-of-fold AUC and its permutation p-value.

    The labels are permuted ``n_permutations`` times and the cross-validated
    fit redone on each (the folds are drawn once, independently of the
    labels); ``p = (1 + #{AUC_perm >= AUC_obs}) / (n_permutations + 1)``.
    Under "no difference" the rows are exchangeable, so the test is exact at
    any size and any number of permutations (more permutations only make p
    finer: it cannot go below ``1 / (n_permutations + 1)``).

    Returns
    -------
    auc, pvalue, permuted_aucs

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> Z = np.r_[rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 1.5]
    >>> y = np.r_[np.zeros(60, int), np.ones(60, int)]
    >>> auc, p, perm = permutation_auc_test(LogisticRegression(), Z, y, n_permutations=19)
    >>> bool(auc > 0.8), p, perm.size
    (True, 0.05, 19)
    """
    rng = np.random.default_rng(random_state)
    fold = _folds(y.size, n_splits, int(rng.integers(2**31 - 1)))
    y = np.asarray(y).astype(float)
    Y = np.column_stack([y] + [rng.permutation(y) for _ in range(n_permutations)])
    aucs = _aucs(_oof_scores(model, np.asarray(Z, float), Y, fold), Y)
    auc, perm = float(aucs[0]), aucs[1:]
    pvalue = (1 + int(np.sum(perm >= auc - 1e-12))) / (n_permutations + 1)
    return auc, pvalue, perm


def _importances(model, X, y, names, random_state, max_rows: int = 20_000) -> dict[str, float]:
    from sklearn.base import clone
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import train_test_split

    if len(y) > max_rows:
        keep, _ = train_test_split(np.arange(len(y)), train_size=max_rows, stratify=y,
                                   random_state=random_state)
        X, y = X[keep], y[keep]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                          random_state=random_state)
    fitted = clone(model).fit(Xtr, ytr)
    r = permutation_importance(fitted, Xte, yte, scoring="roc_auc", n_repeats=5,
                               random_state=random_state)
    order = np.argsort(-r.importances_mean, kind="stable")
    return {names[i]: float(r.importances_mean[i]) for i in order}


def compare_distributions(a, b, *, random_state: int | None = 0, n_splits: int = 5,
                          confidence: float = 0.95, n_threads: int | None = None,
                          model: str = "linear", n_permutations: int = 200,
                          max_rows: int = 20_000) -> DistributionComparison:
    """Adversarial validation: label rows of ``a`` 0 and of ``b`` 1, and try.

    A classifier's out-of-fold AUC says how well the sets can be told apart;
    a permutation test (labels shuffled, the cross-validated fit redone each
    time) says whether that is more than chance, and holds its level at any
    size. Verdict "different distributions (p = ...)" when ``p <= 1 -
    confidence``, else "no evidence of a difference at this size (p = ...)":
    a small sample or a weak classifier can miss a real difference.
    Permutation importance on a held-out 30% says which features separate the
    sets.

    Parameters
    ----------
    a, b : DataFrame or 2-D array
        The two samples, with the same columns. Non-numeric columns are
        encoded (one-hot for the linear model, natively for boosting).
    model : {'linear', 'boosting'}, default='linear'
        'linear': Fisher's linear discriminant on each column standardised,
        its square and one-hot categories -- catches shifts of location,
        spread and category mix, and refits for all permutations at once
        (a few seconds for 200 permutations on 20,000 rows).
        'boosting': HistGradientBoosting -- also catches interactions, but
        each refit costs about 0.1-0.5 s, so 100 permutations x 5 folds take
        minutes: lower ``n_permutations`` or ``max_rows`` with it.
    n_permutations : int, default=200
        Refits under shuffled labels. The test is exact with any number; the
        p-value cannot go below ``1 / (n_permutations + 1)``, so at least
        ``1 / (1 - confidence) - 1`` are needed (19 for a 5% test), and more
        make p finer (200: steps of 0.005) and the test a little more powerful.
        Cheap with 'linear'; with 'boosting' each one is ``n_splits`` refits.
    max_rows : int, default=20,000
        The test runs on a stratified sample of at most this many rows (the
        report says so); importances use up to 20,000 too.
    n_threads : int, optional
        Limit OpenMP and BLAS threads while fitting (``threadpoolctl``). On a busy
        shared machine ``n_threads=1`` can be many times faster.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = compare_distributions(rng.normal(size=(150, 2)), rng.normal(size=(150, 2)) + [2, 0],
    ...                           n_threads=1, n_permutations=19)
    >>> r.verdict, next(iter(r.importances))
    ('different distributions (p = 0.050)', 'x0')
    """
    from threadpoolctl import threadpool_limits

    _check_adversarial(model, n_permutations, confidence, max_rows)
    with threadpool_limits(limits=n_threads):
        return _compare(a, b, random_state, n_splits, confidence, model, n_permutations,
                        max_rows)


def _check_adversarial(model, n_permutations, confidence, max_rows) -> None:
    if model not in ADVERSARIAL_MODELS:
        raise ValueError(f"The 'model' parameter must be one of {sorted(ADVERSARIAL_MODELS)}. "
                         f"Got {model!r}.")
    z_value(confidence)  # validates it
    need = math.ceil(1 / (1 - confidence) - 1 - 1e-9)
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, int) \
            or n_permutations < need:
        raise ValueError(f"The 'n_permutations' parameter must be an int >= {need} (the p-value "
                         f"cannot go below 1/(n_permutations+1)) for a {1 - confidence:.0%} "
                         f"test. Got {n_permutations!r}.")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 20:
        raise ValueError(f"The 'max_rows' parameter must be an int >= 20. Got {max_rows!r}.")


def _sample(y: np.ndarray, max_rows: int, random_state) -> np.ndarray:
    if y.size <= max_rows:
        return np.arange(y.size)
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(y.size), train_size=max_rows, stratify=y,
                               random_state=random_state)
    return np.sort(keep)


def _compare(a, b, random_state, n_splits, confidence, model, n_permutations,
             max_rows) -> DistributionComparison:
    fa, fb = _as_frame(a, "a"), _as_frame(b, "b")
    test = _adversarial_test(fa, fb, random_state=random_state, n_splits=n_splits,
                             model=model, n_permutations=n_permutations, max_rows=max_rows)
    lo, hi = np.quantile(test["permuted"], [(1 - confidence) / 2, (1 + confidence) / 2])
    imps = _importances(test["pipeline"], test["X"], test["y"], test["names"], random_state)
    return DistributionComparison(test["auc"], test["pvalue"],
                                  _verdict(test["pvalue"], 1 - confidence), len(fa), len(fb),
                                  ADVERSARIAL_MODELS[model][0], imps, confidence, n_permutations,
                                  float(lo), float(hi), test["n_tested"])


def _adversarial_test(fa: pd.DataFrame, fb: pd.DataFrame, *, random_state, n_splits: int,
                      model: str, n_permutations: int, max_rows: int) -> dict[str, Any]:
    """Encode, featurise, sample and run the permutation test (no importances)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    if len(fa) < n_splits or len(fb) < n_splits:
        raise ValueError(f"'a' and 'b' need at least n_splits={n_splits} rows each. "
                         f"Got {len(fa)} and {len(fb)}.")
    X, names, cat = _encode(fa, fb)
    y = np.r_[np.zeros(len(fa), int), np.ones(len(fb), int)]
    clf = ADVERSARIAL_MODELS[model][1](cat, random_state)
    if model == "linear":
        features = _QuadraticFeatures(cat).fit(X)
        Z, pipeline = features.transform(X), make_pipeline(
            FunctionTransformer(features.transform), clf)
    else:
        Z, pipeline = X, clf
    keep = _sample(y, max_rows, random_state)
    auc, pvalue, perm = permutation_auc_test(clf, Z[keep], y[keep], n_splits=n_splits,
                                             n_permutations=n_permutations,
                                             random_state=random_state)
    return {"auc": auc, "pvalue": pvalue, "permuted": perm, "n_tested": int(keep.size),
            "X": X, "y": y, "names": names, "pipeline": pipeline}
