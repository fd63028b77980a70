"""Simulated ladders with known true rates, run through the real decision layer.

Each simulated ladder draws the errors of every rung from a binomial with a
true rate the simulation knows, then calls ``diagnose`` exactly as a user
would. Against the truth it measures:

* false alarms on *null* ladders (every rung shares one true rate, human
  level equal to it): per gap, and for the whole ladder (any gap real);
* coverage of every interval the report prints (rungs and gaps), averaged
  over the ladders of a size band and at the worst (rate, size) cell;
* power on a 5 pt gap with 5,000 examples per set;
* how often the primary problem is right when one problem clearly
  dominates (a gap of at least 5 pt, the others 0, at least 5,000 per set);
* the coverage of weighted rates (Kish) and of the paired difference of two
  models (Tango), which share the same promise.

Examples
--------
>>> frame = ladder_calibration(n_sims=40, random_state=0)
>>> set(frame["scenario"]) >= {"null", "power", "dominant"}
True
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from mlstrat.diagnosis import GAPS, diagnose, diagnose_predictions
from mlstrat.stats import mcnemar_test

__all__ = ["SIZE_BANDS", "ladder_calibration", "paired_calibration", "regression_calibration",
           "weighted_calibration"]

#: size bands (examples per set, log-uniform inside a band)
SIZE_BANDS: dict[str, tuple[int, int]] = {
    "20-100": (20, 100),
    "100-1k": (100, 1_000),
    "1k-10k": (1_000, 10_000),
    "10k-100k": (10_000, 100_000),
    "100k-1M": (100_000, 1_000_000),
}
_RATES = (0.0, 0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3)
_SPLITS = ("train", "train_dev", "dev", "test")


def _covers(low: float | None, high: float | None, value: float, tol: float = 0.0) -> bool:
    """Whether ``[low - tol, high + tol]`` holds ``value`` (simulated sets always have one)."""
    if low is None or high is None:
        raise RuntimeError("A simulated interval is missing; this is a bug in mlstrat.")
    return low - tol <= value <= high + tol


def _sizes(rng: np.random.Generator, band: tuple[int, int]) -> dict[str, int]:
    lo, hi = np.log(band[0]), np.log(band[1])
    return {s: int(np.exp(rng.uniform(lo, hi))) for s in _SPLITS}  # unequal sizes


def _draw(rng, true: dict[str, float], sizes: dict[str, int]) -> dict[str, float]:
    return {s: rng.binomial(sizes[s], true[s]) / sizes[s] for s in _SPLITS}


def _run(true: dict[str, float], human: float, sizes: dict[str, int], rng) -> tuple:
    rates = _draw(rng, true, sizes)
    d = diagnose(human=human, train=rates["train"], train_dev=rates["train_dev"],
                 dev=rates["dev"], test=rates["test"], sizes=sizes)
    return d, rates


def _true_gaps(true: dict[str, float], human: float) -> dict[str, float]:
    levels = {"human": human, **true}
    return {g: levels[up] - levels[lo] for g, (up, lo, _) in GAPS.items()}


def _covered(d, true: dict[str, float], human: float) -> list[bool]:
    """One entry per printed interval: does it contain the true value?"""
    hits = [r.low <= true[r.name] <= r.high for r in d.rungs if r.low is not None]
    tg = _true_gaps(true, human)
    hits += [g.low - 1e-12 <= tg[g.name] <= g.high + 1e-12 for g in d.gaps if g.low is not None]
    return hits


def _null_row(rng, band, n_sims) -> dict:
    false_gap = false_ladder = gaps_tested = 0
    cover: list[bool] = []
    worst: dict[float, list[bool]] = {}
    for _ in range(n_sims):
        p = float(rng.choice(_RATES))
        true = {s: p for s in _SPLITS}
        d, _ = _run(true, p, _sizes(rng, band), rng)
        real = [g for g in d.gaps if g.verdict == "real"]
        false_gap += len(real)
        gaps_tested += len(d.gaps)
        false_ladder += bool(real)
        hits = _covered(d, true, p)
        cover += hits
        worst.setdefault(p, []).extend(hits)
    cells = [np.mean(v) for v in worst.values() if len(v) >= 20]
    return {"false_real_per_gap": false_gap / gaps_tested,
            "false_real_ladder": false_ladder / n_sims,
            "coverage_mean": float(np.mean(cover)),
            "coverage_worst_rate": float(min(cells)) if cells else float("nan")}


def _power_row(rng, n_sims) -> dict:
    """A 5 pt variance gap, 5,000 examples per set."""
    hits = 0
    cover: list[bool] = []
    for _ in range(n_sims):
        p = float(rng.uniform(0.0, 0.25))
        true = {"train": p, "train_dev": p + 0.05, "dev": p + 0.05, "test": p + 0.05}
        sizes = {s: 5000 for s in _SPLITS}
        d, _ = _run(true, p, sizes, rng)
        hits += d.gap("variance").verdict == "real"
        cover += _covered(d, true, p)
    return {"power": hits / n_sims, "coverage_mean": float(np.mean(cover))}


def _dominant_row(rng, n_sims) -> dict:
    """One gap of 5-15 pt, the others 0, at least 5,000 per set: is the primary right?"""
    right = 0
    cover: list[bool] = []
    names = list(GAPS)
    for _ in range(n_sims):
        problem = names[rng.integers(len(names))]
        p, size = float(rng.uniform(0.0, 0.15)), float(rng.uniform(0.05, 0.15))
        bump = {"avoidable_bias": "train", "variance": "train_dev",
                "data_mismatch": "dev", "dev_overfitting": "test"}[problem]
        start = _SPLITS.index(bump)
        true = {s: p + (size if i >= start else 0.0) for i, s in enumerate(_SPLITS)}
        sizes = _sizes(rng, (5_000, 100_000))
        d, _ = _run(true, p, sizes, rng)
        right += d.primary == problem
        cover += _covered(d, true, p)
    return {"primary_right": right / n_sims, "coverage_mean": float(np.mean(cover))}


def ladder_calibration(n_sims: int = 2000, random_state: int | None = 0) -> pd.DataFrame:
    """Run simulated ladders through ``diagnose`` and measure its promises.

    Parameters
    ----------
    n_sims : int, default=2000
        Null ladders per size band (the power and dominance scenarios get
        ``n_sims // 2`` each).
    random_state : int or None, default=0

    Returns
    -------
    DataFrame
        One row per scenario and size band: ``n_ladders``,
        ``false_real_per_gap``, ``false_real_ladder``, ``coverage_mean``,
        ``coverage_worst_rate`` (the worst true rate's coverage in the band),
        ``power`` and ``primary_right`` where they apply.
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for name, band in SIZE_BANDS.items():
        rows.append({"scenario": "null", "sizes": name, "n_ladders": n_sims,
                     **_null_row(rng, band, n_sims)})
    half = max(1, n_sims // 2)
    rows.append({"scenario": "power", "sizes": "5k each", "n_ladders": half,
                 **_power_row(rng, half)})
    rows.append({"scenario": "dominant", "sizes": "5k-100k", "n_ladders": half,
                 **_dominant_row(rng, half)})
    return pd.DataFrame(rows)


def weighted_calibration(n_sims: int = 1000, n: int = 2000, random_state: int | None = 0
                         ) -> pd.DataFrame:
    """Coverage of a weighted dev rate (5% of rows weighted x10) with Kish's size.

    Examples
    --------
    >>> bool(weighted_calibration(n_sims=20, random_state=0)["coverage"].between(0, 1).all())
    True
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for p in (0.02, 0.1, 0.3):
        hits = 0
        for _ in range(n_sims):
            w = np.where(rng.random(n) < 0.05, 10.0, 1.0)
            wrong = rng.random(n) < p
            y = np.zeros(n, int)
            d = diagnose_predictions({"train": (y, wrong.astype(int), w),
                                      "dev": (y, wrong.astype(int), w)}, human=0.0)
            r = next(r for r in d.rungs if r.name == "dev")
            hits += _covers(r.low, r.high, p)
        rows.append({"scenario": "weighted (5% of rows x10)", "rate": p, "n": n,
                     "n_sims": n_sims, "coverage": hits / n_sims})
    return pd.DataFrame(rows)


def paired_calibration(n_sims: int = 1000, random_state: int | None = 0) -> pd.DataFrame:
    """Coverage of the paired difference of two models' error rates (Tango).

    Examples
    --------
    >>> bool(paired_calibration(n_sims=20, random_state=0)["coverage"].between(0, 1).all())
    True
    """
    rng = np.random.default_rng(random_state)
    rows = []
    # (n, P(right by A only), P(right by B only)): models that disagree often or rarely
    for n, pb, pc in ((50, 0.1, 0.1), (200, 0.2, 0.25), (200, 0.02, 0.0), (2000, 0.3, 0.28)):
        hits = 0
        for _ in range(n_sims):
            b, c, _ = rng.multinomial(n, [pb, pc, 1 - pb - pc])
            r = mcnemar_test(b=int(b), c=int(c), n=n)
            hits += _covers(r.low, r.high, pc - pb, tol=1e-12)
        rows.append({"scenario": "paired difference", "n": n, "disagree": pb + pc,
                     "n_sims": n_sims, "coverage": hits / n_sims})
    return pd.DataFrame(rows)


def _holds(low: float | None, value: float, high: float | None) -> bool:
    return low is not None and high is not None and low <= value <= high


#: error shape -> (draw n errors of unit variance, true MAE); the true RMSE is 1
_ERROR_SHAPES = {
    "normal": (lambda rng, n: rng.normal(size=n), math.sqrt(2 / math.pi)),
    "laplace": (lambda rng, n: rng.laplace(scale=1 / math.sqrt(2), size=n), 1 / math.sqrt(2)),
}


def regression_calibration(n_sims: int = 200, random_state: int | None = 0,
                           sizes=(20, 50, 200, 1000), n_resamples: int = 500, *,
                           shapes=("normal",), metrics=("rmse",)) -> pd.DataFrame:
    """Coverage of the regression ladder's intervals (RMSE or MAE in target units).

    Errors of a known shape and spread (true RMSE 1 on train and dev, so the
    true MAE is known too): the dev rung's interval should hold the true value
    and the variance gap's interval 0. ``shapes`` among 'normal' and 'laplace'
    (heavier tails: the harder case for an interval of a mean of squares).

    Examples
    --------
    >>> f = regression_calibration(n_sims=5, sizes=(30,), n_resamples=100)
    >>> list(f.columns)
    ['scenario', 'n', 'n_sims', 'rung_coverage', 'gap_coverage']
    """
    from mlstrat.regression import diagnose_regression

    for shape in shapes:
        if shape not in _ERROR_SHAPES:
            raise ValueError(f"Unknown error shape {shape!r}; expected one of "
                             f"{sorted(_ERROR_SHAPES)}.")
    rng = np.random.default_rng(random_state)
    rows = []
    for shape, metric, n in itertools.product(shapes, metrics, sizes):
        draw, true_mae = _ERROR_SHAPES[shape]
        truth = 1.0 if metric == "rmse" else true_mae
        rung = gap = 0
        for _ in range(n_sims):
            preds = {}
            for split in ("train", "dev"):
                y = rng.normal(size=n)
                preds[split] = (y, y + draw(rng, n))
            d = diagnose_regression(preds, metric=metric, n_resamples=n_resamples,
                                    random_state=int(rng.integers(2**31)))
            r = next(r for r in d.rungs if r.name == "dev")
            g = d.gap("variance")
            rung += _holds(r.low, truth, r.high)
            gap += _holds(g.low, 0.0, g.high)
        rows.append({"scenario": f"{d.metric}, {shape} errors", "n": n, "n_sims": n_sims,
                     "rung_coverage": rung / n_sims, "gap_coverage": gap / n_sims})
    return pd.DataFrame(rows)


def paired_rmse_calibration(n_sims: int = 1000, random_state: int | None = 0, *,
                            sizes=(20, 50, 200), correlations=(0.0, 0.8, 0.95),
                            n_resamples: int = 1000) -> pd.DataFrame:
    """Coverage of the paired RMSE difference of two regression runs (``compare_runs``).

    Normal errors of sd 1 for both models on the same rows, correlated ``rho``:
    the true RMSE difference is 0.

    Examples
    --------
    >>> f = paired_rmse_calibration(n_sims=5, sizes=(30,), correlations=(0.5,),
    ...                             n_resamples=100)
    >>> list(f.columns)
    ['scenario', 'n', 'correlation', 'n_sims', 'coverage']
    """
    from mlstrat.stats import paired_rmse_difference

    rng = np.random.default_rng(random_state)
    rows = []
    for n, rho in itertools.product(sizes, correlations):
        hits = 0
        for _ in range(n_sims):
            ea = rng.normal(size=n)
            eb = rho * ea + math.sqrt(1 - rho**2) * rng.normal(size=n)
            y = rng.normal(size=n)
            r = paired_rmse_difference(y, y + ea, y + eb, n_resamples=n_resamples,
                                       random_state=int(rng.integers(2**31)))
            hits += _holds(r.low, 0.0, r.high)
        rows.append({"scenario": "paired RMSE difference", "n": n, "correlation": rho,
                     "n_sims": n_sims, "coverage": hits / n_sims})
    return pd.DataFrame(rows)


def size_calibration(n_sims: int = 100, random_state: int | None = 0, *,
                     n_follow: int = 40, n0: int = 400,
                     rates=(0.02, 0.10, 0.25), gaps=(0.01, 0.03)) -> pd.DataFrame:
    """Does "enlarge these sets to N to tell" give the power it promises (80%)?

    A ladder of ``n0`` examples per set with a true variance gap; when the
    report calls the gap too small to tell, the sets it names are enlarged to
    its ``size_to_tell`` and ``n_follow`` new ladders are drawn there with the
    gap it says it would detect; the share called real is the power delivered.

    Examples
    --------
    >>> f = size_calibration(n_sims=3, n_follow=5, rates=(0.1,), gaps=(0.03,))
    >>> list(f.columns)
    ['rate', 'gap', 'n0', 'n_sims', 'too_small', 'median_size', 'power']
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for p, delta in itertools.product(rates, gaps):
        true = {"train": p, "train_dev": p + delta, "dev": p + delta, "test": p + delta}
        hits = follows = too_small = 0
        sizes_told = []
        for _ in range(n_sims):
            d, _ = _run(true, p, {s: n0 for s in _SPLITS}, rng)
            g = d.gap("variance")
            if g.verdict != "too_small_to_tell" or not g.size_to_tell:
                continue
            too_small += 1
            sizes_told.append(g.size_to_tell)
            told = max(abs(g.value), g.negligible or 0.0)  # the gap the advice names
            after = {s: (max(n0, g.size_to_tell) if s in g.enlarge else n0) for s in _SPLITS}
            again = {"train": p, "train_dev": p + told, "dev": p + told, "test": p + told}
            for _ in range(n_follow):
                d2, _ = _run(again, p, after, rng)
                hits += d2.gap("variance").verdict == "real"
                follows += 1
        rows.append({"rate": p, "gap": delta, "n0": n0, "n_sims": n_sims,
                     "too_small": too_small / n_sims,
                     "median_size": float(np.median(sizes_told)) if sizes_told else float("nan"),
                     "power": hits / follows if follows else float("nan")})
    return pd.DataFrame(rows)
