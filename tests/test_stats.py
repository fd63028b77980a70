"""Tests for mlstrat.stats against the notes' worked numbers and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from mlstrat.stats import (
    benjamini_hochberg,
    clopper_pearson_interval,
    expanded_level,
    gap_interval,
    mcnemar_test,
    paired_bootstrap,
    paired_mean_difference,
    paired_rmse_difference,
    size_for_resolution,
    welch_interval,
    wilson_interval,
)


def test_wilson_notes_examples():
    lo, hi = wilson_interval(50, 1000)
    assert round(lo * 100, 2) == 3.81 and round(hi * 100, 2) == 6.53
    lo, hi = wilson_interval(8, 100)
    assert round(lo * 100, 1) == 4.1 and round(hi * 100, 1) == 15.0


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 10), (10, 10), (50, 1000), (3, 7),
                                 (999, 1000)])
@pytest.mark.parametrize("conf", [0.9, 0.95, 0.99])
def test_wilson_matches_scipy(k, n, conf):
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    lo, hi = wilson_interval(k, n, conf)
    assert lo == pytest.approx(ref.low, abs=1e-10)
    assert hi == pytest.approx(ref.high, abs=1e-10)


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (10, 10), (50, 1000)])
def test_clopper_pearson_matches_scipy(k, n):
    ref = sps.binomtest(k, n).proportion_ci(method="exact")
    lo, hi = clopper_pearson_interval(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-10)
    assert hi == pytest.approx(ref.high, abs=1e-10)


def test_wilson_vectorised():
    k = np.array([0, 5, 50])
    n = np.array([10, 100, 1000])
    lo, hi = wilson_interval(k, n)
    for i in range(3):
        assert (lo[i], hi[i]) == pytest.approx(wilson_interval(int(k[i]), int(n[i])))


def test_gap_interval_notes_example():
    d, lo, hi = gap_interval(50, 2000, 200, 10000)
    assert d == pytest.approx(0.005)
    assert round(lo * 100, 2) == -0.17 and round(hi * 100, 2) == 1.32


def test_gap_interval_symmetry_and_wilson_reference():
    d1, lo1, hi1 = gap_interval(30, 400, 10, 500)
    d2, lo2, hi2 = gap_interval(10, 500, 30, 400)
    assert d1 == pytest.approx(-d2)
    assert lo1 == pytest.approx(-hi2) and hi1 == pytest.approx(-lo2)
    # formula against scipy's Wilson limits (independent implementation)
    r1 = sps.binomtest(30, 400).proportion_ci(method="wilson")
    r2 = sps.binomtest(10, 500).proportion_ci(method="wilson")
    p1, p2 = 30 / 400, 10 / 500
    assert lo1 == pytest.approx(p1 - p2 - np.hypot(p1 - r1.low, r2.high - p2))
    assert hi1 == pytest.approx(p1 - p2 + np.hypot(r1.high - p1, p2 - r2.low))


def test_mcnemar_notes_example_and_scipy():
    r = mcnemar_test(b=30, c=15)
    assert round(r.pvalue, 3) == 0.036
    assert r.pvalue == pytest.approx(sps.binomtest(15, 45, 0.5).pvalue)
    assert r.difference is None
    assert "p=0.036" in str(r)


def test_mcnemar_from_arrays():
    rng = np.random.default_rng(0)
    a = rng.random(500) < 0.9
    b = rng.random(500) < 0.8
    r = mcnemar_test(a, b)
    assert r.b == int(np.sum(a & ~b)) and r.c == int(np.sum(~a & b))
    err_a, err_b = 1 - a.mean(), 1 - b.mean()
    assert r.difference == pytest.approx(err_a - err_b)
    assert r.low < r.difference < r.high
    assert r.to_dict()["n"] == 500


def test_mcnemar_errors():
    with pytest.raises(ValueError, match="same length"):
        mcnemar_test([1, 0], [1])
    with pytest.raises(ValueError, match="'b' and 'c'"):
        mcnemar_test()
    assert mcnemar_test(b=0, c=0).pvalue == 1.0


def test_size_for_resolution_notes():
    assert abs(size_for_resolution(0.05, 0.005) - 7300) <= 5
    assert abs(size_for_resolution(0.01, 0.001) - 38000) <= 100
    assert abs(size_for_resolution(0.10, 0.01) - 3460) <= 5
    arr = size_for_resolution(np.array([0.05, 0.10]), 0.01)
    assert arr.shape == (2,)
    # the promised resolution holds: Wilson half-width at that n is about h
    n = size_for_resolution(0.05, 0.005)
    lo, hi = wilson_interval(0.05 * n, n)
    assert (hi - lo) / 2 == pytest.approx(0.005, rel=0.02)


def test_benjamini_hochberg_against_scipy():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 45)])
    rej, adj = benjamini_hochberg(p, alpha=0.05)
    assert adj == pytest.approx(sps.false_discovery_control(p, method="bh"))
    assert np.array_equal(rej, adj <= 0.05)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: wilson_interval(5, 0), "'n'"),
        (lambda: wilson_interval(11, 10), "'k'"),
        (lambda: wilson_interval(1, 10, confidence=95), "confidence"),
        (lambda: size_for_resolution(1.5, 0.01), "'p'"),
        (lambda: size_for_resolution(0.1, 0), "half_width"),
        (lambda: benjamini_hochberg([0.1], alpha=2), "alpha"),
    ],
)
def test_errors_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_paired_mean_difference_by_hand():
    rng = np.random.default_rng(3)
    a = rng.normal(1.0, 1.0, 200)
    b = a + rng.normal(0.2, 0.5, 200)
    r = paired_mean_difference(a, b)
    d = b - a
    half = sps.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert (r.low, r.high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert r.pvalue < 0.01 and "paired t-test" in str(r)
    assert paired_mean_difference([1, 2], [1, 2]).pvalue == 1.0
    with pytest.raises(ValueError, match="paired"):
        paired_mean_difference([1, 2, 3], [1, 2])


def test_welch_interval_by_hand():
    rng = np.random.default_rng(4)
    x, y = rng.normal(0, 1, 50), rng.normal(0.5, 2, 80)
    r = welch_interval(x, y)
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = sps.t.ppf(0.975, df) * np.sqrt(vx + vy)
    diff = y.mean() - x.mean()
    assert (r.low, r.high) == pytest.approx((diff - half, diff + half))
    with pytest.raises(ValueError, match="'a'"):
        welch_interval([1.0], [1.0, 2.0])


def _accuracy(t, p):
    return float(np.mean(np.asarray(t) == np.asarray(p)))


@pytest.fixture
def two_classifiers():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    a = np.where(rng.random(400) < 0.75, y, 1 - y)
    b = np.where(rng.random(400) < 0.85, y, 1 - y)
    return y, a, b


def test_paired_bootstrap_matches_scipy_bootstrap(two_classifiers):
    y, a, b = two_classifiers
    r = paired_bootstrap(_accuracy, y, a, b, n_resamples=999, confidence=0.9, random_state=7)
    ref = sps.bootstrap((y, a, b), lambda t, x, z: _accuracy(t, z) - _accuracy(t, x),
                        paired=True, vectorized=False, n_resamples=999,
                        confidence_level=expanded_level(0.9, 400), method="percentile",
                        random_state=7)
    assert r.low == pytest.approx(ref.confidence_interval.low)
    assert r.high == pytest.approx(ref.confidence_interval.high)
    assert r.a == _accuracy(y, a) and r.b == _accuracy(y, b)
    assert r.difference == pytest.approx(r.b - r.a)
    assert (r.n, r.n_resamples, r.confidence) == (400, 999, 0.9)


def test_paired_bootstrap_agrees_with_a_hand_rolled_loop(two_classifiers):
    """An independent resampling loop: the percentile intervals agree to within
    Monte Carlo noise, and a paired resampling (same rows for A and B)."""
    y, a, b = two_classifiers
    r = paired_bootstrap(_accuracy, y, a, b, n_resamples=4000, random_state=0)
    rng = np.random.default_rng(123)
    diffs = []
    for _ in range(4000):
        i = rng.integers(0, y.size, y.size)
        diffs.append(_accuracy(y[i], b[i]) - _accuracy(y[i], a[i]))
    low, high = np.percentile(diffs, [2.5, 97.5])
    assert r.low == pytest.approx(low, abs=0.01)
    assert r.high == pytest.approx(high, abs=0.01)
    assert r.low < r.difference < r.high


def test_paired_bootstrap_is_seeded_and_checks_its_input(two_classifiers):
    y, a, b = two_classifiers
    r1 = paired_bootstrap(_accuracy, y, a, b, n_resamples=200, random_state=1)
    r2 = paired_bootstrap(_accuracy, y, a, b, n_resamples=200, random_state=1)
    assert r1 == r2 and r1.to_dict()["low"] == r1.low and "paired bootstrap" in str(r1)
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap(_accuracy, y, a[:-1], b)
    with pytest.raises(ValueError, match="confidence"):
        paired_bootstrap(_accuracy, y, a, b, confidence=1.5)


def test_expanded_level_reference_values():
    # sqrt(n/(n-1)) * t_{n-1} as the z of the interval (Hesterberg 2015), by hand.
    n = 20
    z = np.sqrt(n / (n - 1)) * sps.t.ppf(0.975, n - 1)
    assert expanded_level(0.95, n) == pytest.approx(1 - 2 * sps.norm.sf(z))
    assert expanded_level(0.95, 10**6) == pytest.approx(0.95, abs=1e-5)
    assert expanded_level(0.95, 1) == 0.95


@pytest.mark.parametrize("rho, scale", [(0.8, 1.0), (0.0, 1.3)])
def test_paired_rmse_difference_covers_the_truth_on_small_sets(rho, scale):
    # Normal errors of sd 1 (A) and `scale` (B), correlated rho on shared rows: the
    # true RMSE difference is scale - 1. A percentile bootstrap covered 91% here.
    rng = np.random.default_rng(11)
    n, sims, hits = 20, 400, 0
    for i in range(sims):
        ea = rng.normal(size=n)
        eb = scale * (rho * ea + np.sqrt(1 - rho**2) * rng.normal(size=n))
        y = rng.normal(size=n)
        r = paired_rmse_difference(y, y + ea, y + eb, n_resamples=500, random_state=i)
        hits += r.low <= scale - 1.0 <= r.high
    assert hits / sims >= 0.925


def test_paired_rmse_difference_values_and_checks():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    a, b = y + rng.normal(size=200), y + 2 * rng.normal(size=200)
    r = paired_rmse_difference(y, a, b, random_state=3)
    assert r.a == pytest.approx(np.sqrt(np.mean((a - y) ** 2)))
    assert r.b == pytest.approx(np.sqrt(np.mean((b - y) ** 2)))
    assert r.low < r.difference < r.high and r.low > 0
    assert r == paired_rmse_difference(y, a, b, random_state=3)
    with pytest.raises(ValueError, match="same length"):
        paired_rmse_difference(y, a[:-1], b)
    with pytest.raises(ValueError, match="at least 3 examples"):
        paired_rmse_difference(y[:2], a[:2], b[:2])


def test_paired_rmse_difference_stays_finite_when_models_differ_on_one_row():
    # Resamples without that row have no spread: the interval must stay finite,
    # and one row never makes a difference "real".
    y, a = np.zeros(50), np.zeros(50)
    b = a.copy()
    b[0] = 3.0
    r = paired_rmse_difference(y, a, b)
    assert r.difference == pytest.approx(3.0 / np.sqrt(50))
    assert r.low <= 0 and np.isfinite(r.high) and r.high < 3.0
