"""The error-analysis summary: counts, shares with Wilson intervals, ceilings,
the "fix the labels?" decision and the category to work on next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    import altair as alt

    from mlstrat.errors._session import Session

ALPHA = 0.05


@dataclass
class ErrorSummary:
    """What the tags say: per category, its count among the sampled errors, its
    share with a Wilson interval, and its *ceiling*: the most dev error could
    fall if that category were fully fixed, ``dev_error * share``.

    Shares are proportions of the sampled errors, so categories (which are not
    exclusive) may add up to more than 100%. Untagged sampled errors count as
    "none of these categories".

    Examples
    --------
    Five dogs among 100 sampled errors at 10% dev error: fixing dogs lowers dev
    error by at most 0.5 point.

    >>> s = summary_from_counts({"dog": 5, "great cat": 50}, n_sampled=100,
    ...                         n_errors=1000, n_examples=10000)
    >>> print(f"{s.category('dog')['ceiling']:.2%}")
    0.50%
    >>> print(f"{s.category('great cat')['ceiling']:.1%}")
    5.0%
    >>> s.next_category
    'great cat'
    """

    n_examples: int
    n_errors: int
    n_sampled: int
    categories: list[dict[str, Any]]
    label_category: str | None
    n_touched: int | None = None
    confidence: float = 0.95
    label_share_threshold: float = 0.2
    name: str = ""
    session_id: int | None = None
    indistinguishable: list[dict[str, Any]] = field(default_factory=list)

    # -- derived numbers --------------------------------------------------------
    @property
    def dev_error(self) -> float:
        return self.n_errors / self.n_examples

    def category(self, name: str) -> dict[str, Any]:
        for c in self.categories:
            if c["category"].casefold() == name.casefold():
                return c
        raise KeyError(f"No category {name!r}. Known: {[c['category'] for c in self.categories]}")

    @property
    def next_category(self) -> str | None:
        """The category with the highest ceiling (None when nothing is tagged)."""
        ranked = sorted(self.categories, key=lambda c: -c["count"])
        return ranked[0]["category"] if ranked and ranked[0]["count"] > 0 else None

    @property
    def labels(self) -> dict[str, Any] | None:
        """The notes' "fix the labels?" numbers: overall dev error, errors due to
        incorrect labels, errors due to other causes, and the verdict."""
        if self.label_category is None:
            return None
        c = self.category(self.label_category)
        due = c["ceiling"]
        t = self.label_share_threshold
        if c["share_high"] < t:
            verdict = "not worth fixing first"
            why = (f"incorrect labels are {c['share']:.1%} of the errors "
                   f"[{c['share_low']:.1%}, {c['share_high']:.1%}], below {t:.0%}")
        elif c["share_low"] >= t:
            verdict = "worth fixing"
            why = (f"incorrect labels are {c['share']:.1%} of the errors "
                   f"[{c['share_low']:.1%}, {c['share_high']:.1%}], at least {t:.0%}")
        else:
            verdict = "unclear"
            why = (f"the share of incorrect labels, {c['share']:.1%} "
                   f"[{c['share_low']:.1%}, {c['share_high']:.1%}], straddles {t:.0%}: "
                   "review more errors")
        return {"overall": self.dev_error, "due_to_labels": due,
                "due_to_other_causes": self.dev_error - due, "share": c["share"],
                "verdict": verdict, "reason": why}

    # -- result-object protocol ---------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per category: count, share and ceiling with their intervals."""
        cols = ["category", "builtin", "count", "share", "share_low", "share_high",
                "ceiling", "ceiling_low", "ceiling_high"]
        return pd.DataFrame(self.categories, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "name": self.name,
            "n_examples": self.n_examples, "n_errors": self.n_errors,
            "n_sampled": self.n_sampled, "n_touched": self.n_touched,
            "dev_error": self.dev_error, "confidence": self.confidence,
            "categories": [dict(c) for c in self.categories],
            "labels": self.labels, "next_category": self.next_category,
            "indistinguishable": list(self.indistinguishable),
        }

    def chart(self) -> alt.LayerChart:
        """Bars of the ceilings with their intervals."""
        from mlstrat.charts import error_ceilings_chart

        return error_ceilings_chart(self.to_frame(), dev_error=self.dev_error,
                                    confidence=self.confidence)

    def __str__(self) -> str:
        lines = [self._headline()]
        width = max([len("category")] + [len(c["category"]) for c in self.categories])
        ci = f"{self.confidence:.0%}"
        lines.append(f"  {'category':<{width}}  count  share of errors [{ci}]    "
                     f"ceiling: dev error falls at most by [{ci}]")
        for c in sorted(self.categories, key=lambda c: -c["count"]):
            lines.append(
                f"  {c['category']:<{width}}  {c['count']:>5}  {c['share']:>6.1%} "
                f"[{c['share_low']:.1%}, {c['share_high']:.1%}]".ljust(width + 45)
                + f"{100 * c['ceiling']:.2f} pt [{100 * c['ceiling_low']:.2f}, "
                f"{100 * c['ceiling_high']:.2f}]")
        lab = self.labels
        if lab is not None:
            lines.append(
                f"Fix the labels? overall dev error {lab['overall']:.2%}; due to incorrect "
                f"labels {lab['due_to_labels']:.2%}; due to other causes "
                f"{lab['due_to_other_causes']:.2%} -> {lab['verdict']} ({lab['reason']}).")
        lines.append(self._next_text())
        return "\n".join(lines)

    def _headline(self) -> str:
        head = (f"Error analysis{' ' + repr(self.name) if self.name else ''}: "
                f"{self.n_sampled:,} of {self.n_errors:,} dev errors sampled; dev error "
                f"{self.dev_error:.2%} ({self.n_errors:,} of {self.n_examples:,}).")
        if self.n_touched is not None and self.n_touched < self.n_sampled:
            head += (f"\n  Only {self.n_touched:,} of the {self.n_sampled:,} sampled errors "
                     "have a tag or note yet; the others count as 'none of these'.")
        return head

    def _next_text(self) -> str:
        top = self.next_category
        if top is None:
            return "Work next on: nothing is tagged yet."
        c = self.category(top)
        text = (f"Work next on: {top!r} (at most {100 * c['ceiling']:.2f} pt of dev error "
                f"[{100 * c['ceiling_low']:.2f}, {100 * c['ceiling_high']:.2f}]).")
        if self.indistinguishable:
            others = ", ".join(f"{d['category']!r} (McNemar p = {d['pvalue']:.2f})"
                               for d in self.indistinguishable)
            text += f" Not distinguishable from it on this sample: {others}."
        return text


# -- building summaries -------------------------------------------------------------
def summarize(session: Session, *, confidence: float = 0.95,
              label_share_threshold: float = 0.2) -> ErrorSummary:
    """The :class:`ErrorSummary` of a stored session (counts aggregated in the store)."""
    project, sid = session.project, session.id
    rec = project.get_error_session(sid)
    cats = project.error_categories(sid)
    names = dict(zip(cats["id"].tolist(), cats["name"].tolist(), strict=True))
    by_id = project.error_tag_counts(sid)
    counts = {name: int(by_id.get(cid, 0)) for cid, name in names.items()}
    builtin = cats.loc[cats["builtin"], "name"]
    summary = summary_from_counts(
        counts, n_sampled=int(rec["n_sampled"]), n_errors=int(rec["n_errors"]),
        n_examples=int(rec["n_examples"]),
        label_category=None if builtin.empty else str(builtin.iloc[0]),
        n_touched=project.error_touched_count(sid), confidence=confidence,
        label_share_threshold=label_share_threshold, name=rec["name"], session_id=sid)
    top = summary.next_category
    if top is not None:
        top_id = next(cid for cid, name in names.items() if name == top)
        both = {names[c]: k for c, k in project.error_tag_overlap(sid, top_id).items()}
        summary.indistinguishable = _ties(counts, both, top)
    return summary


def summary_from_matrix(matrix: np.ndarray, names: list[str], *, n_errors: int,
                        n_examples: int, label_category: str | None = None,
                        **kwargs: Any) -> ErrorSummary:
    """Summary from a (sampled errors x categories) boolean tag matrix."""
    matrix = np.asarray(matrix, dtype=bool)
    counts = dict(zip(names, matrix.sum(axis=0).astype(int).tolist(), strict=True))
    summary = summary_from_counts(counts, n_sampled=matrix.shape[0], n_errors=n_errors,
                                  n_examples=n_examples, label_category=label_category,
                                  **kwargs)
    top = summary.next_category
    if top is not None:
        j = names.index(top)
        both = {n: int(np.sum(matrix[:, j] & matrix[:, i])) for i, n in enumerate(names)
                if i != j}
        summary.indistinguishable = _ties(counts, both, top)
    return summary


def summary_from_counts(counts: dict[str, int], *, n_sampled: int, n_errors: int,
                        n_examples: int, label_category: str | None = None,
                        confidence: float = 0.95, **kwargs: Any) -> ErrorSummary:
    """Summary from per-category counts among ``n_sampled`` reviewed errors.

    Without the tag matrix, ties between categories cannot be tested (the tags
    are paired on the same examples); :func:`summarize` does test them.
    """
    from mlstrat.stats import wilson_interval  # scipy is slow to import: load it on use

    if n_examples <= 0 or not 0 < n_errors <= n_examples:
        raise ValueError(f"Need 0 < n_errors <= n_examples. Got n_errors={n_errors}, "
                         f"n_examples={n_examples}.")
    if not 0 < n_sampled <= n_errors:
        raise ValueError(f"Need 0 < n_sampled <= n_errors. Got n_sampled={n_sampled}, "
                         f"n_errors={n_errors}.")
    dev_error = n_errors / n_examples
    rows = []
    for name, k in counts.items():
        lo, hi = wilson_interval(int(k), n_sampled, confidence)
        share = k / n_sampled
        rows.append({"category": name, "builtin": name == label_category, "count": int(k),
                     "share": share, "share_low": lo, "share_high": hi,
                     "ceiling": dev_error * share, "ceiling_low": dev_error * lo,
                     "ceiling_high": dev_error * hi})
    return ErrorSummary(n_examples=int(n_examples), n_errors=int(n_errors),
                        n_sampled=int(n_sampled), categories=rows,
                        label_category=label_category, confidence=confidence, **kwargs)


def _ties(counts: dict[str, int], both: dict[str, int], top: str) -> list[dict[str, Any]]:
    """Categories whose count does not differ from the top one's: an exact McNemar
    test on the examples tagged with one but not the other (the tags are paired:
    they are on the same sampled errors). ``both[c]`` counts examples tagged with
    ``top`` and ``c``."""
    from mlstrat.stats import mcnemar_test

    out = []
    for name, k in counts.items():
        if name == top or k == 0:
            continue
        shared = both.get(name, 0)
        r = mcnemar_test(b=counts[top] - shared, c=k - shared)
        if r.pvalue >= ALPHA:
            out.append({"category": name, "pvalue": r.pvalue, "count": int(k)})
    return sorted(out, key=lambda d: -d["count"])
