"""Calibration of adversarial validation (``splits.compare_distributions``).

Two samples are drawn from the same distribution (the level: how often the
permutation test calls them different) and from shifted ones (its power):
a location shift of one feature, a spread shift of one feature, and a change
in the mix of a categorical feature. Each sample has four standard normal
features (one with 10% missing values) and a three-level categorical one,
so the real encoding, featurisation, folds and permutations all run.

For comparison the table also gives how often the interval the test replaced
(Hanley-McNeil on the same pooled out-of-fold AUC, "different" when its lower
end is above 0.5) rejects.

Examples
--------
>>> t = adversarial_calibration(n_sims=3, sizes=(40,), n_permutations=19, random_state=0)
>>> list(t["scenario"])[:2]
['same distribution', 'location shift 0.3 sd']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mlstrat.splits import _adversarial_test
from mlstrat.stats import wilson_interval, z_value

__all__ = ["adversarial_calibration", "SCENARIOS"]

#: scenario -> (location shift of x0 in sd, spread factor of x1, weight moved to level 'c')
SCENARIOS = {
    "same distribution": (0.0, 1.0, 0.0),
    "location shift 0.3 sd": (0.3, 1.0, 0.0),
    "spread x1.5": (0.0, 1.5, 0.0),
    "category mix +15 pt": (0.0, 1.0, 0.15),
}


def _sample(n: int, shift: float, spread: float, mix: float, rng) -> pd.DataFrame:
    X = rng.normal(size=(n, 4))
    X[:, 0] += shift
    X[:, 1] *= spread
    X[rng.random(n) < 0.1, 3] = np.nan
    p = np.array([1 / 3 - mix / 2, 1 / 3 - mix / 2, 1 / 3 + mix])
    cat = rng.choice(["a", "b", "c"], size=n, p=p)
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    frame["kind"] = cat
    return frame


def _hanley_mcneil_rejects(auc: float, n_pos: int, n_neg: int, confidence: float) -> bool:
    """The replaced rule: Hanley-McNeil interval wholly above 0.5."""
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc ** 2) + (n_neg - 1) * (q2 - auc ** 2)) \
        / (n_pos * n_neg)
    return auc - z_value(confidence) * math.sqrt(max(var, 0.0)) > 0.5


def adversarial_calibration(n_sims: int = 1000, random_state: int | None = 0, *,
                            sizes=(50, 200, 1000, 5000), n_permutations: int = 200,
                            model: str = "linear", confidence: float = 0.95,
                            scenarios=None) -> pd.DataFrame:
    """Level and power of the permutation test, per scenario and size.

    Parameters
    ----------
    n_sims : int, default=1000
        Simulated pairs of samples per row.
    random_state : int, optional
    sizes : sequence of int
        Rows in each of the two samples (the size bands of the table).
    n_permutations : int, default=200
    model : {'linear', 'boosting'}, default='linear'
        'boosting' costs ``n_splits`` refits per permutation: keep
        ``n_sims`` small with it.
    scenarios : sequence of str, optional
        Names in ``SCENARIOS``; default all.

    Returns
    -------
    DataFrame
        One row per scenario and size: scenario, n_per_set, null (True for
        the same-distribution rows), n_sims, rejection_rate (the level on
        null rows, the power on the others) with its Wilson interval
        (rate_low, rate_high), hanley_mcneil_rate (the replaced rule on the
        same AUCs), mean_auc.
    """
    if isinstance(n_sims, bool) or not isinstance(n_sims, int) or n_sims < 1:
        raise ValueError(f"The 'n_sims' parameter must be an int >= 1. Got {n_sims!r}.")
    names = list(SCENARIOS) if scenarios is None else list(scenarios)
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown:
        raise ValueError(f"Unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}.")
    rng = np.random.default_rng(random_state)
    rows = []
    for name in names:
        for n in sizes:
            rows.append(_row(name, int(n), n_sims, n_permutations, model, confidence, rng))
    return pd.DataFrame(rows)


def _row(name, n, n_sims, n_permutations, model, confidence, rng) -> dict:
    shift, spread, mix = SCENARIOS[name]
    rejects, hm, aucs = 0, 0, []
    for _ in range(n_sims):
        a = _sample(n, 0.0, 1.0, 0.0, rng)
        b = _sample(n, shift, spread, mix, rng)
        t = _adversarial_test(a, b, random_state=int(rng.integers(2**31 - 1)), n_splits=5,
                              model=model, n_permutations=n_permutations, max_rows=20_000)
        rejects += t["pvalue"] <= 1 - confidence
        hm += _hanley_mcneil_rejects(t["auc"], n, n, confidence)
        aucs.append(t["auc"])
    lo, hi = wilson_interval(rejects, n_sims)
    return {"scenario": name, "n_per_set": n, "null": name == "same distribution",
            "n_sims": n_sims, "rejection_rate": rejects / n_sims, "rate_low": lo,
            "rate_high": hi, "hanley_mcneil_rate": hm / n_sims, "mean_auc": float(np.mean(aucs))}
