"""Tests for mlstrat.curves: power-law recovery, data needed, learning curves."""

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
    ans = fit.data_needed(0.05)
    assert not ans.reachable and ans.examples is None
    assert "not reachable by data alone" in str(ans) and "avoidable bias" in str(ans)
    # the upper bound of c counts: target just above c but inside its uncertainty
    fit = PowerLawFit(a=2.0, b=0.5, c=0.05, a_se=0, b_se=0, c_se=0.01)
    assert not fit.data_needed(0.06).reachable
    with pytest.raises(ValueError, match="target_error"):
        fit.data_needed(1.5)


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
    frame = lc.to_frame()
    assert list(frame.columns)[:3] == ["size", "train_error", "train_std"]
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
