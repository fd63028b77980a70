"""Calibration of ``curves.data_needed`` on simulated power-law learning curves.

Each simulated curve has a known ``err(m) = a * m**(-b) + c``; the dev set of
``n_dev`` examples is drawn once and shared by every size, as in
``learning_curve``: example ``j`` is an error at size ``m`` when its
difficulty ``u_j`` is below ``err(m)`` (hard examples stay hard as the
training set grows). The real code then runs on it: the dev-example bootstrap
of ``learning_curve`` (``resampling='examples'``) or, for the parametric path,
one independent binomial draw per point (``resampling='binomial'``).

Scenarios place the target where the true curve reaches it inside the
measured sizes, beyond them (extrapolation by 2x and 8x) and below the floor
(unreachable). Figures per scenario: coverage of the data-needed interval,
the rate of wrong "more data alone will not get there" answers (targets
that are reachable), the rate of that answer when it is right, the share of
bounded intervals and their median width (high / low).

Read a row with its Wilson interval: with 200 simulations a row whose true
coverage is exactly 95% shows less than 94% one time in five
(``binom.cdf(187, 200, 0.95) = 0.20``), so a single low row is a cue to rerun
it with more simulations, not proof of a miss.

Examples
--------
>>> t = curve_calibration(n_sims=4, n_boot=50, random_state=0, n_devs=(1000,),
...                       resamplings=("binomial",), curves=["steep (b=0.5)"])
>>> list(t["place"])
['inside', 'extrapolate 2x', 'extrapolate 8x', 'below floor']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mlstrat.curves import _dev_replicates, fit_power_law
from mlstrat.metrics import error_rate
from mlstrat.stats import wilson_interval

__all__ = ["curve_calibration", "CURVES", "SIZES"]

#: measured training-set sizes of every simulated curve
SIZES = np.array([100, 200, 400, 800, 1600, 3200, 6400])
#: true curves (a, b, c): a steep one and a shallow one in the published range of b
CURVES = {"steep (b=0.5)": (2.0, 0.5, 0.05), "shallow (b=0.3)": (1.0, 0.3, 0.08)}
#: where the true m* lies, as a multiple of the largest measured size (None: below the floor)
PLACES = {"inside": 0.125 * math.sqrt(2), "extrapolate 2x": 2.0, "extrapolate 8x": 8.0,
          "below floor": None}


def _target(a: float, b: float, c: float, place: float | None) -> tuple[float, float]:
    """Target error and its true m* (inf below the floor)."""
    if place is None:
        return c * 0.8, math.inf
    m_star = place * SIZES[-1]
    return a * m_star ** -b + c, m_star


def _simulate(a, b, c, n_dev, resampling, n_boot, rng):
    """One fit on one simulated curve, through the real bootstrap path."""
    truth = a * SIZES.astype(float) ** -b + c
    if resampling == "binomial":
        errors = rng.binomial(n_dev, truth) / n_dev
        return fit_power_law(SIZES, errors, counts=[n_dev] * SIZES.size, n_boot=n_boot,
                             random_state=rng)
    u = rng.random(n_dev)
    y = np.zeros(n_dev, dtype=int)
    preds = [[(u < e).astype(int)] for e in truth]
    errors = [float(p[0].mean()) for p in preds]
    E = _dev_replicates(error_rate, y, preds, n_boot, rng)
    sigma = np.sqrt(np.clip(np.asarray(errors) * (1 - np.asarray(errors)), 1e-4, None) / n_dev)
    return fit_power_law(SIZES, errors, sigma=sigma, replicates=E, random_state=rng)


def _score(ans, m_star: float) -> dict[str, float]:
    high = math.inf if (ans.unbounded or ans.method == "floor") else \
        (ans.high if ans.high is not None else math.inf)
    low = 0 if ans.low is None else ans.low
    if ans.method == "floor":
        low = math.inf
    return {"covered": float(low <= m_star <= high), "not_reachable": float(not ans.reachable),
            "bounded": float(math.isfinite(high) and ans.low is not None),
            "ratio": high / low if math.isfinite(high) and ans.low else math.nan,
            "measured": float(ans.method == "measured")}


def curve_calibration(n_sims: int = 400, random_state: int | None = 0, *,
                      n_boot: int = 200, n_devs=(1_000, 10_000),
                      resamplings=("examples", "binomial"), curves=None,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Coverage and wrong-"unreachable" rates of ``data_needed`` on simulated curves.

    Parameters
    ----------
    n_sims : int, default=400
        Simulated curves per row (curve x dev size x resampling x target place).
    random_state : int, optional
    n_boot : int, default=200
        Bootstrap replicates per fit.
    n_devs : sequence of int
        Dev-set sizes (the size bands of the table).
    resamplings : sequence of {'examples', 'binomial'}
    curves : sequence of str, optional
        Names in ``CURVES``; default all.
    confidence : float, default=0.95
        Level of the data-needed intervals.

    Returns
    -------
    DataFrame
        One row per scenario: curve, n_dev, resampling, place, target,
        true_m, n_sims, coverage (with its Wilson interval coverage_low /
        coverage_high), not_reachable (share answering "more data alone will
        not get there"), wrong_not_reachable (the same, counted only where
        the target is reachable), bounded, median_ratio (high / low of the
        bounded intervals), measured (share read off the measured points).
    """
    if isinstance(n_sims, bool) or not isinstance(n_sims, int) or n_sims < 1:
        raise ValueError(f"The 'n_sims' parameter must be an int >= 1. Got {n_sims!r}.")
    chosen = list(CURVES) if curves is None else list(curves)
    unknown = [k for k in chosen if k not in CURVES]
    if unknown:
        raise ValueError(f"Unknown curve(s) {unknown}; choose from {list(CURVES)}.")
    rng = np.random.default_rng(random_state)
    rows = []
    for curve in chosen:
        a, b, c = CURVES[curve]
        for n_dev in n_devs:
            for how in resamplings:
                fits = [_simulate(a, b, c, n_dev, how, n_boot, rng) for _ in range(n_sims)]
                # the interval's level is read at query time: set it on each fit
                for fit in fits:
                    fit.confidence = confidence
                for place, where in PLACES.items():
                    rows.append(_row(fits, curve, a, b, c, n_dev, how, place, where))
    return pd.DataFrame(rows)


def _row(fits, curve, a, b, c, n_dev, how, place, where) -> dict:
    t, m_star = _target(a, b, c, where)
    s = pd.DataFrame([_score(f.data_needed(t), m_star) for f in fits])
    k, n = int(s["covered"].sum()), len(s)
    lo, hi = wilson_interval(k, n)
    reachable = math.isfinite(m_star)
    return {"curve": curve, "n_dev": n_dev, "resampling": how, "place": place,
            "target": t, "true_m": m_star, "n_sims": n, "coverage": k / n,
            "coverage_low": lo, "coverage_high": hi,
            "not_reachable": s["not_reachable"].mean(),
            "wrong_not_reachable": s["not_reachable"].mean() if reachable else 0.0,
            "bounded": s["bounded"].mean(), "median_ratio": s["ratio"].median(),
            "measured": s["measured"].mean()}
