"""Coverage of the regression ladder's intervals, by simulation with a known truth."""

from __future__ import annotations

import numpy as np
import pytest

from mlstrat.calibration import regression_calibration
from mlstrat.regression import diagnose_regression


def test_small_sets_cover_at_least_the_promise():
    # 20 examples per set, normal errors of true RMSE 1: the percentile bootstrap
    # used before covered 87-89% here; studentised rungs and MOVER gaps about 95%.
    # 400 simulations: a true 95% reads below 92.5% with probability < 1%.
    f = regression_calibration(n_sims=400, sizes=(20,), n_resamples=400, random_state=1)
    assert f["rung_coverage"].iloc[0] >= 0.925
    assert f["gap_coverage"].iloc[0] >= 0.925


def test_mae_ladder_covers_its_true_value():
    f = regression_calibration(n_sims=200, sizes=(50,), n_resamples=400, random_state=2,
                               metrics=("mae",), shapes=("laplace",))
    assert f["scenario"].iloc[0] == "MAE, laplace errors"
    assert f["rung_coverage"].iloc[0] >= 0.91
    assert f["gap_coverage"].iloc[0] >= 0.91


def test_unknown_error_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown error shape 'cauchy'"):
        regression_calibration(n_sims=1, shapes=("cauchy",))


@pytest.mark.parametrize("seed", range(6))
def test_gap_pvalue_agrees_with_its_interval(seed):
    # The p-value inverts the printed interval: p < 1 - confidence exactly when the
    # interval excludes 0.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    scale = 1 + 0.4 * rng.random()
    preds = {"train": (np.zeros(n), rng.normal(size=n)),
             "dev": (np.zeros(n), rng.normal(scale=scale, size=n))}
    d = diagnose_regression(preds, n_resamples=500, random_state=seed)
    g = d.gap("variance")
    excludes = not (g.low <= 0 <= g.high)
    assert (g.pvalue < 0.05) == excludes
    assert g.low <= g.value <= g.high


def test_rung_interval_holds_the_chi_square_truth_for_normal_errors():
    # Reference someone else wrote: for normal errors of sd s, n * MSE / s^2 is
    # chi-square(n); the exact 95% interval of the RMSE from it and ours agree
    # to within 15% of their widths at n = 500.
    from scipy import stats

    rng = np.random.default_rng(0)
    n = 500
    e = rng.normal(scale=2.0, size=n)
    d = diagnose_regression({"train": (np.zeros(n), e)}, n_resamples=2000)
    r = d.rungs[0]
    mse = float(np.mean(e**2))
    lo = np.sqrt(n * mse / stats.chi2.ppf(0.975, n))
    hi = np.sqrt(n * mse / stats.chi2.ppf(0.025, n))
    width = hi - lo
    assert abs(r.low - lo) < 0.15 * width
    assert abs(r.high - hi) < 0.15 * width


def test_tiny_sets_get_no_verdict_from_a_bootstrap():
    # Two examples per set have three distinct resamples: no interval, no "real".
    d = diagnose_regression({"train": (np.zeros(2), np.array([0.0, 1.0])),
                             "dev": (np.zeros(2), np.array([1.0, 2.0]))}, n_resamples=300)
    assert all(r.low is None and r.high is None for r in d.rungs)
    assert all(g.verdict == "too_small_to_tell" and g.size_to_tell == 10 for g in d.gaps)
    assert d.status == "not_enough_evidence" and "fewer than 10 examples" in str(d)


def test_one_outlier_among_zeros_gets_a_finite_interval():
    # Resamples without the outlier have no spread (no t): the percentile interval
    # bounds the studentised one instead of an infinite limit.
    e = np.r_[np.zeros(29), 100.0]
    d = diagnose_regression({"train": (np.zeros(30), e),
                             "dev": (np.zeros(30), np.full(30, 0.1))}, n_resamples=500)
    train = d.rungs[0]
    assert 0 <= train.low <= train.rate <= train.high < 100
    assert d.gap("avoidable_bias").verdict != "real"  # one error never decides a verdict
