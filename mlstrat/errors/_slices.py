"""Slices where errors concentrate: a shallow tree on "prediction wrong".

A proposal for the reviewer, never applied to the tags. The tree
(``DecisionTreeClassifier``, depth <= 3, a minimum leaf size) is grown on a random
half of ALL examples of the evaluated split (not just the sampled errors); each
leaf's p-value comes from the other half, which the tree did not see, so picking
the worst leaves does not make them look significant by construction. The
p-values (one-sided exact binomial test of the leaf's error rate against the
overall rate) are then corrected for the number of leaves with Benjamini-Hochberg.
Sizes, rates and Wilson intervals describe the leaf on all examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from mlstrat.errors._session import Session

MIN_ERRORS = 20
MAX_DEPTH = 3


@dataclass
class SliceReport:
    """Leaves of the error tree, worst first, and a plain statement."""

    slices: list[dict[str, Any]]
    overall_rate: float
    n_examples: int
    n_errors: int
    statement: str
    alpha: float = 0.05
    confidence: float = 0.95
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def standing_out(self) -> list[dict[str, Any]]:
        """Slices whose error rate is above the overall rate after correction."""
        return [s for s in self.slices if s["stands_out"]]

    def to_frame(self) -> pd.DataFrame:
        cols = ["rule", "n", "errors", "error_rate", "rate_low", "rate_high",
                "share_of_errors", "p_value", "p_adjusted", "stands_out"]
        return pd.DataFrame(self.slices, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        return {"slices": [dict(s) for s in self.slices], "overall_rate": self.overall_rate,
                "n_examples": self.n_examples, "n_errors": self.n_errors,
                "statement": self.statement, "alpha": self.alpha,
                "confidence": self.confidence, "params": dict(self.params)}

    def chart(self) -> Any:
        from mlstrat.charts import error_slices_chart

        return error_slices_chart(self.to_frame(), overall_rate=self.overall_rate)

    def __str__(self) -> str:
        lines = [self.statement]
        for s in self.slices:
            mark = "*" if s["stands_out"] else " "
            lines.append(
                f" {mark} {s['rule']}: {s['errors']}/{s['n']} wrong = {s['error_rate']:.1%} "
                f"[{s['rate_low']:.1%}, {s['rate_high']:.1%}], {s['share_of_errors']:.0%} of "
                f"all errors, adjusted p = {s['p_adjusted']:.3g}")
        return "\n".join(lines)


def find_slices(features: pd.DataFrame, is_error: np.ndarray, *, max_depth: int = MAX_DEPTH,
                min_leaf: int | None = None, min_errors: int = MIN_ERRORS,
                alpha: float = 0.05, confidence: float = 0.95,
                random_state: int | None = 0) -> SliceReport:
    """Find slices of ``features`` where ``is_error`` concentrates.

    Parameters
    ----------
    features : DataFrame
        One row per example: numbers, booleans or categories (one-hot encoded).
    is_error : array of bool
        Whether each example was misclassified.
    max_depth : int, default=3
        At most 3: deeper rules are too specific to act on.
    min_leaf : int, optional
        Minimum examples per leaf; default ``max(20, 2% of the examples)``.
    min_errors : int, default=20
        Below this many errors no tree is grown (the statement says so).
    alpha : float, default=0.05
        False discovery rate for "stands out".
    """
    # scikit-learn and scipy are slow to import: load them on use
    from scipy import stats as sps
    from sklearn.tree import DecisionTreeClassifier

    from mlstrat.stats import benjamini_hochberg, wilson_interval

    if not 1 <= max_depth <= MAX_DEPTH:
        raise ValueError(f"The 'max_depth' parameter must be an int in [1, {MAX_DEPTH}]. "
                         f"Got {max_depth!r}.")
    y = np.asarray(is_error, dtype=bool)
    n, k = len(y), int(y.sum())
    rate = k / n if n else 0.0
    params = {"max_depth": max_depth, "min_leaf": min_leaf, "alpha": alpha}

    def empty(why: str) -> SliceReport:
        return SliceReport([], rate, n, k, f"No slice stands out: {why}", alpha,
                           confidence, params)

    if features is None or features.shape[1] == 0:
        return empty("the session has no features or metadata to slice by.")
    if len(features) != n:
        raise ValueError(f"features has {len(features)} rows but is_error {n}.")
    if k < min_errors:
        return empty(f"only {k} errors (at least {min_errors} are needed to look for slices).")
    if k == n:
        return empty("every example is an error.")
    X, names = _design(features)
    min_leaf = int(min_leaf or max(20, int(0.02 * n)))
    params["min_leaf"] = min_leaf
    rng = np.random.default_rng(random_state)
    fit_half = np.zeros(n, dtype=bool)
    for cls in (False, True):  # stratified halves
        idx = np.flatnonzero(y == cls)
        fit_half[rng.choice(idx, size=len(idx) // 2, replace=False)] = True
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, min_leaf // 2),
                                  class_weight="balanced", random_state=0)
    tree.fit(X[fit_half], y[fit_half])
    if tree.tree_.node_count == 1:
        return empty(f"the tree found no split (one node): with leaves of at least "
                     f"{min_leaf} examples, no feature separates errors from correct "
                     "predictions.")
    leaves = tree.apply(X)
    rules = _rules(tree, names)
    slices = []
    for leaf in np.unique(leaves):
        in_leaf = leaves == leaf
        held = in_leaf & ~fit_half
        nh, kh = int(held.sum()), int(y[held].sum())
        p = 1.0 if nh == 0 else float(sps.binomtest(kh, nh, rate, alternative="greater").pvalue)
        nl, kl = int(in_leaf.sum()), int(y[in_leaf].sum())
        lo, hi = wilson_interval(kl, nl, confidence)
        slices.append({"rule": rules[leaf], "n": nl, "errors": kl, "error_rate": kl / nl,
                       "rate_low": lo, "rate_high": hi, "share_of_errors": kl / k,
                       "p_value": p})
    reject, adjusted = benjamini_hochberg([s["p_value"] for s in slices], alpha)
    for s, r, a in zip(slices, reject, adjusted, strict=True):
        s["p_adjusted"] = float(a)
        s["stands_out"] = bool(r and s["error_rate"] > rate)
    slices.sort(key=lambda s: (-s["stands_out"], -s["error_rate"]))
    return SliceReport(slices, rate, n, k, _statement(slices, rate, alpha), alpha,
                       confidence, params)


def session_slices(session: Session, **kwargs: Any) -> SliceReport:
    """:func:`find_slices` over all examples of a session, with its stored features."""
    ex = session.examples(sampled_only=False)
    feats = session.features(sampled_only=False).reset_index(drop=True)
    return find_slices(feats, ex["is_error"].to_numpy(), **kwargs)


def _statement(slices: list[dict], rate: float, alpha: float) -> str:
    out = [s for s in slices if s["stands_out"]]
    if not out:
        return (f"No slice stands out: no leaf's error rate is above the overall "
                f"{rate:.1%} at a false discovery rate of {alpha:.0%} (p-values on the "
                "half of the examples the tree did not see, Benjamini-Hochberg corrected).")
    worst = out[0]
    return (f"{len(out)} slice(s) stand out against the overall error rate of {rate:.1%}; "
            f"worst: {worst['rule']} ({worst['error_rate']:.1%} of {worst['n']} examples, "
            f"{worst['share_of_errors']:.0%} of all errors).")


def _design(features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """Numbers as they are (NaN -> median plus a 'missing' flag); other columns
    one-hot. ``names`` maps each design column to (feature, category or None)."""
    cols: list[np.ndarray] = []
    names: list[tuple[str, str | None]] = []
    for col in features.columns:
        values = features[col]
        numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        if numeric:
            v = values.astype(float).to_numpy()
            missing = np.isnan(v)
            fill = np.nanmedian(v) if (~missing).any() else 0.0
            cols.append(np.where(missing, fill, v))
            names.append((str(col), None))
            if missing.any():
                cols.append(missing.astype(float))
                names.append((str(col), "<missing>"))
        else:
            text = values.astype("string").fillna("<missing>")
            for level in pd.unique(text)[:50]:
                cols.append((text == level).to_numpy(dtype=float))
                names.append((str(col), str(level)))
    return np.column_stack(cols), names


def _rules(tree: Any, names: list[tuple[str, str | None]]) -> dict[int, str]:
    """Readable rule text of every leaf, tightest bound per feature."""
    t = tree.tree_
    out: dict[int, str] = {}

    def walk(node: int, bounds: dict[str, list], cats: list[str]) -> None:
        if t.children_left[node] == -1:
            out[node] = _rule_text(bounds, cats)
            return
        feat, level = names[t.feature[node]]
        thr = float(t.threshold[node])
        if level is None:
            lo, hi = bounds.get(feat, [None, None])
            walk(t.children_left[node],
                 {**bounds, feat: [lo, thr if hi is None else min(hi, thr)]}, cats)
            walk(t.children_right[node],
                 {**bounds, feat: [thr if lo is None else max(lo, thr), hi]}, cats)
        else:
            shown = "missing" if level == "<missing>" else repr(level)
            walk(t.children_left[node], bounds, [*cats, f"{feat} != {shown}"])
            walk(t.children_right[node], bounds, [*cats, f"{feat} == {shown}"])

    walk(0, {}, [])
    return out


def _rule_text(bounds: dict[str, list], cats: list[str]) -> str:
    parts = []
    for feat, (lo, hi) in bounds.items():
        if lo is not None and hi is not None:
            parts.append(f"{lo:.4g} < {feat} <= {hi:.4g}")
        elif hi is not None:
            parts.append(f"{feat} <= {hi:.4g}")
        else:
            parts.append(f"{feat} > {lo:.4g}")
    return " and ".join(parts + cats) or "all examples"
