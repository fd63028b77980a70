"""Candidate mislabelled examples by confident learning, for a person to review.

From out-of-sample predicted probabilities (dev predictions of a model trained on
other data, or out-of-fold probabilities from cross-validation): each class j gets
a threshold ``t_j``, the mean probability of class j over the examples labelled j
(its self-confidence). An example labelled ``y`` is a candidate when
``p_y < t_y`` while some other class ``k`` has ``p_k >= t_k``; the suggested label
is the most probable such class. Candidates are ranked by the margin
``p_y - p_suggested`` (most negative first).

Candidates are never deleted, relabelled or tagged by this code: in cleanlab's
own study only about half of the flagged labels were confirmed by people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from mlstrat.errors._session import Session


@dataclass
class MislabelReport:
    """Ranked candidates: id, given and suggested label, their probabilities."""

    candidates: pd.DataFrame
    thresholds: dict[str, float]
    n_examples: int
    statement: str

    def to_frame(self) -> pd.DataFrame:
        return self.candidates.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"candidates": self.candidates.to_dict("records"),
                "thresholds": dict(self.thresholds), "n_examples": self.n_examples,
                "statement": self.statement}

    def chart(self) -> Any:
        from mlstrat.charts import mislabel_candidates_chart

        return mislabel_candidates_chart(self.candidates)

    def __str__(self) -> str:
        return self.format()

    def format(self, top: int = 20) -> str:
        """The statement and the ``top`` first candidates, one per line."""
        lines = [self.statement]
        for r in self.candidates.head(top).itertuples(index=False):
            lines.append(f"  {r.rank:>3}. {r.id}: labelled {r.given!s} (p={r.p_given:.2f}), "
                         f"looks like {r.suggested!s} (p={r.p_suggested:.2f})"
                         + ("" if getattr(r, "in_sample", True)
                            else "  [not in the review sample]"))
        return "\n".join(lines)


def find_label_issues(labels: Any, proba: np.ndarray, classes: Any, *,
                      ids: Any = None) -> MislabelReport:
    """Confident-learning candidates from out-of-sample probabilities.

    Parameters
    ----------
    labels : array-like of shape (n,)
        The given labels.
    proba : ndarray of shape (n, n_classes)
        Out-of-sample probabilities, columns in the order of ``classes``.
    classes : array-like of shape (n_classes,)
    ids : array-like, optional
        Example ids (default: positions).

    Examples
    --------
    >>> proba = np.array([[.9, .1], [.8, .2], [.2, .8], [.1, .9], [.9, .1]])
    >>> r = find_label_issues([0, 0, 1, 1, 1], proba, [0, 1])
    >>> r.candidates[["id", "given", "suggested"]].values.tolist()
    [['4', '1', '0']]
    """
    proba = np.asarray(proba, dtype=float)
    classes = [str(c) for c in classes]
    given = np.asarray([str(v) for v in np.asarray(labels).tolist()])
    n = len(given)
    if proba.shape != (n, len(classes)):
        raise ValueError(f"proba must have shape ({n}, {len(classes)}) (examples x classes). "
                         f"Got {proba.shape}.")
    unknown = sorted(set(given) - set(classes))
    if unknown:
        raise ValueError(f"Labels {unknown[:5]} have no probability column; classes are "
                         f"{classes}.")
    ids = np.arange(n).astype(str) if ids is None else np.asarray(ids).astype(str)
    col = {c: j for j, c in enumerate(classes)}
    yi = np.array([col[g] for g in given])
    thresholds = np.full(len(classes), np.inf)
    for j in range(len(classes)):
        mine = yi == j
        if mine.any():
            thresholds[j] = proba[mine, j].mean()
    p_given = proba[np.arange(n), yi]
    above = proba >= thresholds
    above[np.arange(n), yi] = False
    other = np.where(above, proba, -np.inf)
    best = other.argmax(axis=1)
    p_best = other[np.arange(n), best]
    flagged = (p_given < thresholds[yi]) & np.isfinite(p_best)
    frame = pd.DataFrame({
        "id": ids[flagged], "given": given[flagged],
        "suggested": np.asarray(classes)[best[flagged]],
        "p_given": p_given[flagged], "p_suggested": p_best[flagged],
        "threshold": thresholds[yi[flagged]],
        "margin": p_given[flagged] - p_best[flagged],
    }).sort_values(["margin", "id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    statement = (f"{len(frame)} of {n} examples are candidate label errors (confident "
                 "learning). Review each one; none was changed or tagged.")
    return MislabelReport(frame, dict(zip(classes, thresholds.tolist(), strict=True)), n, statement)


def session_mislabels(session: Session) -> MislabelReport:
    """Candidates among all examples of a session, from its stored probabilities."""
    ex = session.examples(sampled_only=False)
    cols = [c for c in ex.columns if str(c).startswith("proba_")]
    if not cols:
        raise ValueError("This session has no stored probabilities (proba_<class> columns);"
                         " candidate mislabels need out-of-sample probabilities.")
    classes = [c[len("proba_"):] for c in cols]
    report = find_label_issues(ex["y_true"].to_numpy(), ex[cols].to_numpy(), classes,
                               ids=ex["id"].to_numpy())
    sampled = set(ex.loc[ex["sample_rank"].notna(), "id"])
    report.candidates["in_sample"] = report.candidates["id"].isin(sampled)
    return report
