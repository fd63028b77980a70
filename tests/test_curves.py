"""Tests for mlstrat.curves: power-law recovery, bootstrap, data needed, learning curves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlstrat.curves import LearningCurve, PowerLawFit, fit_power_law, learning_curve

SIZES = np.array([100, 200, 400, 800, 1600, 3200, 6400, 12800])


@pytest.mark.parametrize("a,b,c", [(2.0, 0.5, 0.05), (0.8, 0.3, 0.02), (5.0, 0.7, 0.0),
                                   (0.5, 0.1, 0.1)])
def test_recovers_known_parameters_exact(a, b, c):
    fit = fit_power_law(SIZES, a * SIZES ** -b + c)
    assert fit.a == pytest.approx(a, rel=1e-3)
    assert fit.b == pytest.approx(b, rel=1e-3)
    assert fit.c == pytest.approx(c, abs=1e-4)


def test_recovers_parameters_from_noisy_points():
    rng = np.random.default_rng(0)
    a, b, c = 3.0, 0.5, 0.04
    truth = a * SIZES ** -b + c
    sigma = 0.003 * np.ones(SIZES.size)
    fits = [fit_power_law(SIZES, truth + rng.normal(0, 0.003, SIZES.size), sigma=sigma)
            for _ in range(20)]
    bs = np.array([f.b for f in fits])
    cs = np.array([f.c for f in fits])
    assert np.median(bs) == pytest.approx(b, abs=0.1)
    assert np.median(cs) == pytest.approx(c, abs=0.01)
    # the c interval covers the truth most of the time
    covered = np.mean([(f.c - 1.96 * f.c_se) <= c <= f.c_upper for f in fits])
    assert covered >= 0.7


def test_data_needed_formula_and_floor():
    fit = PowerLawFit(a=2.0, b=0.5, c=0.05, a_se=0, b_se=0, c_se=0.0)
    ans = fit.data_needed(0.06)
    assert ans.reachable and ans.examples == pytest.approx((2.0 / 0.01) ** 2, abs=1)
    assert ans.method == "extrapolated" and ans.low is None  # no bootstrap: no interval
    ans = fit.data_needed(0.05)
    assert not ans.reachable and ans.examples is None and ans.method == "floor"
    text = str(ans)
    assert text.startswith("More data alone will not get there")
    assert "Bayes error plus this family's avoidable bias" in text
    assert "That is avoidable bias" not in text and "is avoidable bias" not in text
    with pytest.raises(ValueError, match="target_error"):
        fit.data_needed(1.5)


def _with_floor_replicates(cs):
    """A fit whose bootstrap floors are ``cs`` (a, b fixed): the floor interval is theirs."""
    boot = [[2.0, 0.5, float(c)] for c in cs]
    return PowerLawFit(2.0, 0.5, float(np.median(cs)), 0, 0, float(np.std(cs)), boot=boot)


def test_only_the_floor_lower_bound_says_not_by_data_alone():
    cs = np.linspace(0.03, 0.07, 201)  # 95% interval of c: about [0.031, 0.069]
    fit = _with_floor_replicates(cs)
    lo, hi = fit.floor_interval()
    assert lo == pytest.approx(0.0302, abs=1e-3) and hi == pytest.approx(0.0698, abs=1e-3)
    # target inside the floor's interval (old rule: "not reachable"): now reachable, unbounded
    ans = fit.data_needed(0.06)
    assert ans.reachable and ans.unbounded and ans.high is None
    assert ans.low == pytest.approx((2.0 / (0.06 - lo)) ** 2, rel=1e-3)
    assert "may not get there" in str(ans) and ans.low > 0
    # target below the floor's lower bound: data alone will not get there
    assert not fit.data_needed(0.029).reachable
    # target above the whole floor interval: a bounded interval around the point
    ans = fit.data_needed(0.08)
    assert ans.reachable and not ans.unbounded
    assert ans.low <= ans.examples <= ans.high
    assert ans.low == pytest.approx((2.0 / (0.08 - lo)) ** 2, rel=1e-3)
    assert ans.high == pytest.approx((2.0 / (0.08 - hi)) ** 2, rel=1e-3)


def test_target_inside_the_measured_sizes_is_read_off_the_points():
    sizes = [100, 200, 400, 800, 1600]
    errors = [0.30, 0.24, 0.20, 0.18, 0.165]
    fit = fit_power_law(sizes, errors, counts=[2000] * 5, n_boot=300, random_state=1)
    ans = fit.data_needed(0.19)
    # between (400, 0.20) and (800, 0.18), log(err - c) linear in log(m), by hand
    c = fit.c
    frac = (np.log(0.19 - c) - np.log(0.20 - c)) / (np.log(0.18 - c) - np.log(0.20 - c))
    assert ans.method == "measured" and 0 < c < 0.165
    assert ans.examples == int(np.ceil(np.exp(np.log(400) + frac * np.log(2))))
    assert 200 <= ans.low <= ans.examples <= ans.high <= 1600 * 4
    assert "read off the measured curve" in str(ans)
    already = fit.data_needed(0.35)
    assert already.method == "already reached" and already.examples == 100


def test_resampling_modes_and_replicates():
    sizes = [100, 200, 400, 800, 1600]
    errors = [0.30, 0.24, 0.20, 0.18, 0.165]
    assert fit_power_law(sizes, errors, counts=[500] * 5).resampling == "binomial"
    assert fit_power_law(sizes, errors, sigma=[0.01] * 5).resampling == "normal"
    assert fit_power_law(sizes, errors).resampling == "residuals"
    assert fit_power_law(sizes, errors, n_boot=0).boot == []
    rng = np.random.default_rng(0)
    reps = np.asarray(errors) + rng.normal(0, 0.005, size=(50, 5))
    fit = fit_power_law(sizes, errors, replicates=reps)
    assert fit.resampling == "examples" and len(fit.boot) == 50
    # each replicate is really refitted: its floor tracks its own points
    refit = fit_power_law(sizes, reps[7], n_boot=0)
    assert fit.boot[7][2] == pytest.approx(refit.c, abs=2e-3)
    with pytest.raises(ValueError, match="'replicates'"):
        fit_power_law(sizes, errors, replicates=reps[:, :3])
    with pytest.raises(ValueError, match="'n_boot'"):
        fit_power_law(sizes, errors, n_boot=-1)


def test_bootstrap_floor_interval_covers_on_binomial_curves():
    """A small calibration: the floor's 95% interval covers the true c most of the time."""
    rng = np.random.default_rng(3)
    a, b, c, n = 2.0, 0.5, 0.05, 5000
    truth = a * SIZES ** -b + c
    hits = []
    for _ in range(30):
        errors = rng.binomial(n, truth) / n
        fit = fit_power_law(SIZES, errors, counts=[n] * SIZES.size, n_boot=150,
                            random_state=rng)
        lo, hi = fit.floor_interval()
        hits.append(lo <= c <= hi)
    assert np.mean(hits) >= 0.8


def test_old_records_still_load_and_answer():
    old = {"a": 2.0, "b": 0.5, "c": 0.05, "a_se": 0.1, "b_se": 0.01, "c_se": None,
           "confidence": 0.95, "n_points": 5, "c_upper": 0.06}
    fit = PowerLawFit.from_dict(old)
    assert fit.boot == [] and fit.c_se == float("inf")
    ans = fit.data_needed(0.06)
    assert ans.reachable and ans.unbounded is False and "no bootstrap" in str(ans)


def test_fit_power_law_errors():
    with pytest.raises(ValueError, match="at least 3 distinct"):
        fit_power_law([10, 10, 20], [0.3, 0.3, 0.2])
    with pytest.raises(ValueError, match="same length"):
        fit_power_law([10, 20, 30], [0.3, 0.2])


def _data(n, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X @ np.linspace(1, 0.2, 6) + noise * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_learning_curve_logistic():
    from sklearn.linear_model import LogisticRegression

    X, y = _data(3000)
    lc = learning_curve(LogisticRegression(), (X[:2000], y[:2000]), (X[2000:], y[2000:]),
                        sizes=[20, 40, 80, 160, 320, 640, 1280, 2000], random_state=0)
    assert lc.sizes == [20, 40, 80, 160, 320, 640, 1280, 2000]
    assert lc.repeats[0] == 3 and lc.repeats[-1] == 1
    assert lc.dev_error[0] > lc.dev_error[-1]
    assert lc.train_error[-1] <= lc.dev_error[-1] + 0.03
    assert lc.fit is not None and lc.fit.c < 0.3
    assert lc.forecast is not None and lc.forecast["mean_abs_error"] < 0.05
    # Bayes error of this problem is well above 1%: data alone cannot get there
    assert not lc.data_needed(0.01).reachable
    assert lc.fit.resampling == "examples" and len(lc.fit.boot) == 200
    bands = zip(lc.dev_low, lc.dev_error, lc.dev_high, strict=True)
    assert all(lo <= d <= hi for lo, d, hi in bands)
    assert lc.fit.c_lower <= lc.fit.c <= lc.fit.c_upper
    ans = lc.data_needed(lc.dev_error[3])  # a measured error: read off the points
    assert ans.method == "measured" and ans.low <= lc.sizes[3]
    assert ans.unbounded or lc.sizes[3] <= ans.high  # a flat curve: its floor is near the target
    assert "Bayes error plus this family's avoidable bias" in str(lc)
    frame = lc.to_frame()
    assert list(frame.columns)[:3] == ["size", "train_error", "train_std"]
    assert frame["dev_low"].notna().all()
    back = LearningCurve.from_dict(json.loads(json.dumps(lc.to_dict())))
    assert back == lc
    assert "Forecast check" in str(lc)


def test_learning_curve_fractions_metric_and_errors():
    from sklearn.tree import DecisionTreeClassifier

    X, y = _data(800, seed=1)
    lc = learning_curve(DecisionTreeClassifier(random_state=0), (X[:600], y[:600]),
                        (X[600:], y[600:]), sizes=[0.1, 0.5, 1.0], metric="accuracy",
                        repeats=1)
    assert lc.sizes == [60, 300, 600]
    assert lc.metric == "1 - accuracy"
    assert lc.train_error == [0.0, 0.0, 0.0]  # an unpruned tree memorises
    with pytest.raises(ValueError, match="'sizes'"):
        learning_curve(DecisionTreeClassifier(), (X[:600], y[:600]), (X[600:], y[600:]),
                       sizes=[1000])
    with pytest.raises(ValueError, match="'metric'"):
        learning_curve(DecisionTreeClassifier(), (X[:600], y[:600]), (X[600:], y[600:]),
                       metric="auc")


def test_early_stopping_epoch_is_the_lowest_validation_loss():
    import pandas as pd

    from mlstrat.curves import early_stopping_epoch

    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "val_loss": [0.9, 0.4, 0.5, 0.6],
                            "val_error": [0.3, 0.2, 0.1, 0.2]})
    assert early_stopping_epoch(history) == 2
    assert early_stopping_epoch(history, "val_error") == 3
    assert early_stopping_epoch(history[["epoch"]]) is None


def test_data_needed_when_the_fit_levels_off_above_the_target_but_replicates_reach_it():
    # point fit: floor c = 6% above the 5% target; every bootstrap replicate has
    # c = 1% and reaches it at (1 / (0.05 - 0.01))**2 = 625 examples. Was a
    # TypeError (formatting None) before the case had its own answer.
    fit = PowerLawFit(a=1.0, b=0.5, c=0.06, a_se=0.1, b_se=0.1, c_se=0.001,
                      boot=[[1.0, 0.5, 0.01]] * 200)
    answer = fit.data_needed(0.05)
    assert answer.examples is None and answer.reachable
    assert (answer.low, answer.high) == (625, 625)
    assert "levels off above 5.00%" in answer.message


def test_every_replicate_exponent_is_the_continuous_least_squares_optimum():
    # independent reference: scipy's bounded scalar search on the profiled RSS
    from scipy.optimize import minimize_scalar

    from mlstrat.curves import _fit_many, _ls_given_x

    rng = np.random.default_rng(3)
    m = SIZES[:7].astype(float)
    x = m / m[0]
    E = 2.0 * m ** -0.5 + 0.05 + rng.normal(0, 0.004, size=(40, m.size))
    w = np.ones(m.size)
    got = _fit_many(x, E, w)
    for r in range(E.shape[0]):
        def rss(b, r=r):
            return float(_ls_given_x(x ** -b, E[r], w)[2])

        ref = minimize_scalar(rss, bounds=(got[r, 1] - 0.01, got[r, 1] + 0.01),
                              method="bounded", options={"xatol": 1e-10})
        assert got[r, 1] == pytest.approx(ref.x, abs=1e-6)
        assert rss(got[r, 1]) <= ref.fun * (1 + 1e-9)


def test_percentile_ends_hold_their_level_with_b_replicates():
    from mlstrat.curves import _percentile_ends

    # k = floor((B + 1) * 0.025): the 5th smallest and 5th largest of 200 values,
    # which bracket a new draw with probability (201 - 10) / 201 = 95.0%
    assert _percentile_ends(np.arange(200.0), 0.95) == (4.0, 195.0)
    assert _percentile_ends(np.arange(199.0), 0.95) == (4.0, 194.0)
    assert _percentile_ends(np.array([np.inf, 1.0, 2.0]), 0.95) == (1.0, np.inf)
    # by simulation: B = 200 draws and a 201st from the same distribution
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(20_000, 201))
    ends = np.array([_percentile_ends(row[:200], 0.95) for row in draws])
    inside = (ends[:, 0] <= draws[:, 200]) & (draws[:, 200] <= ends[:, 1])
    assert inside.mean() == pytest.approx(191 / 201, abs=0.005)


def test_parametric_replicates_are_drawn_from_the_fitted_curve():
    # a point off the curve: the replicates that are refitted centre on the fit,
    # those the measured crossings are read from centre on the measured points
    from mlstrat.curves import _draw

    e = np.array([0.30, 0.24, 0.21, 0.18, 0.165])
    fitted = np.array([0.30, 0.245, 0.205, 0.182, 0.166])
    for kw, how in [({"counts": np.full(5, 5000)}, "binomial"),
                    ({"sigma": np.full(5, 0.005)}, "normal"), ({}, "residuals")]:
        refit, read, got = _draw(e, fitted, kw.get("sigma"), kw.get("counts"), 4000,
                                 np.random.default_rng(0))
        assert got == how and refit.shape == read.shape == (4000, 5)
        assert np.allclose(read - e, refit - fitted)  # the same noise on both
        if how != "residuals":  # (resampled residuals need not average 0)
            assert refit.mean(axis=0) == pytest.approx(fitted, abs=3e-4)
            assert read.mean(axis=0) == pytest.approx(e, abs=3e-4)
    # through fit_power_law: the refitted replicates' median curve is the fit's
    errors = 2.0 * SIZES[:7] ** -0.5 + 0.05
    errors[3] += 0.01
    fit = fit_power_law(SIZES[:7], errors, counts=[20_000] * 7, n_boot=400, random_state=0)
    boot = np.asarray(fit.boot)
    curves = boot[:, [0]] * SIZES[:7] ** -boot[:, [1]] + boot[:, [2]]
    assert np.median(curves, axis=0) == pytest.approx(fit.predict(SIZES[:7]), abs=1e-3)
    assert np.asarray(fit.boot_errors).mean(axis=0) == pytest.approx(errors, abs=5e-4)
