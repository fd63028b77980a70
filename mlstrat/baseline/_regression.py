"""A regression error ladder with intervals.

MINIMAL PRIVATE VERSION: a regression entry point belongs in
:mod:`mlstrat.diagnose`; it is kept here, clearly marked, until it exists there.
It builds the ladder with ``diagnose`` (structure, notes, remedies), then
replaces the proportion intervals, which do not apply to squared errors.

A rung is the split's MSE divided by the variance of the training target
(1 = predicting the training mean), with a t interval on the mean squared
error. A gap between two splits measured on different examples gets a Welch
interval (``stats.welch_interval``); the gap to human level (a fixed number) a
one-sample t interval. The primary problem follows the rule of ``diagnose``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mlstrat.diagnose import REMEDIES, Diagnosis, diagnose
from mlstrat.diagnose import _choose_primary as choose_primary  # the one rule, reused
from mlstrat.stats import paired_mean_difference, welch_interval


def _mean_interval(x: np.ndarray, reference: float, confidence: float):
    """t interval of ``mean(x) - reference`` (a one-sample t-test, as a paired one)."""
    r = paired_mean_difference(np.full(x.size, reference), x, confidence=confidence)
    return r.low, r.high


def regression_diagnosis(squared_errors: Mapping[str, np.ndarray], y_var: float,
                         human_error: float | None = None,
                         confidence: float = 0.95) -> Diagnosis:
    """The ladder of relative MSEs with t intervals on every rung and gap.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> se = {"train": rng.exponential(0.2, 500), "train_dev": rng.exponential(0.5, 500),
    ...       "dev": rng.exponential(0.5, 500)}
    >>> d = regression_diagnosis(se, y_var=1.0)
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
    d.primary = choose_primary(d.gaps, surpassed, d.comparable)
    d.remedies = list(REMEDIES.get(d.primary, ()))
    d.notes = [n for n in d.notes if not n.startswith(("Some sizes are missing", "Also worth"))]
    d.notes.append("Regression: each rung is the split's MSE / variance of the training "
                   "target (1 = predicting the mean); t intervals on the squared errors "
                   "(Welch for gaps between splits).")
    return d
