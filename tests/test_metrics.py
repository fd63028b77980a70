"""Tests for mlstrat.metrics against scikit-learn on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlstrat.metrics import (
    METRICS,
    REGRESSION_METRICS,
    accuracy,
    error_rate,
    f1,
    false_positive_rate,
    group_average,
    mae,
    measure_latency,
    mse,
    positive_label,
    precision,
    r2,
    recall,
    rmse,
    select_model,
    weighted_error,
)


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.where(rng.random(500) < 0.8, y, 1 - y)
    return y, p


@pytest.fixture
def multi():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 500)
    p = np.where(rng.random(500) < 0.6, y, rng.integers(0, 4, 500))
    return y, p


def test_binary_metrics_match_sklearn(binary):
    y, p = binary
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert error_rate(y, p) == pytest.approx(1 - skm.accuracy_score(y, p))
    assert precision(y, p) == pytest.approx(skm.precision_score(y, p))
    assert recall(y, p) == pytest.approx(skm.recall_score(y, p))
    assert f1(y, p) == pytest.approx(skm.f1_score(y, p))
    tn, fp, fn, tp = skm.confusion_matrix(y, p).ravel()
    assert false_positive_rate(y, p) == pytest.approx(fp / (fp + tn))


def test_macro_metrics_match_sklearn(multi):
    y, p = multi
    for ours, theirs in [(precision, skm.precision_score), (recall, skm.recall_score),
                         (f1, skm.f1_score)]:
        assert ours(y, p, average="macro") == pytest.approx(theirs(y, p, average="macro"))


def test_weighted_error_cat_app():
    # a pornographic image shown as a cat costs 10x
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([1, 0, 0, 1, 1])
    w = np.array([1, 1, 1, 10, 1])
    assert weighted_error(y, p, w) == pytest.approx((1 + 10 + 1) / 14)
    assert weighted_error(y, p, w) == pytest.approx(
        1 - skm.accuracy_score(y, p, sample_weight=w))
    with pytest.raises(ValueError, match="'weights'"):
        weighted_error(y, p, [1, 2])
    with pytest.raises(ValueError, match="'weights'"):
        weighted_error(y, p, [-1, 1, 1, 1, 1])


def test_group_average_against_pandas():
    rng = np.random.default_rng(2)
    n = 20000
    g = rng.integers(0, 1000, n)
    y = rng.integers(0, 2, n)
    p = np.where(rng.random(n) < 0.9, y, 1 - y)
    ref = pd.DataFrame({"g": g, "w": y != p}).groupby("g")["w"].mean().mean()
    assert group_average("error", y, p, g) == pytest.approx(ref)
    assert group_average("accuracy", y, p, g) == pytest.approx(1 - ref)
    assert group_average(error_rate, y, p, g) == pytest.approx(ref)
    with pytest.raises(ValueError, match="'metric'"):
        group_average("auc", y, p, g)
    with pytest.raises(ValueError, match="'groups'"):
        group_average("error", y, p, g[:-1])


def test_registry():
    assert METRICS["accuracy"] == (accuracy, True)
    assert METRICS["error"][1] is False


def test_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        error_rate([0, 1], [0])


CANDS = [
    {"name": "A", "accuracy": 0.90, "latency_ms": 80, "false_positive_rate": 0.005},
    {"name": "B", "accuracy": 0.92, "latency_ms": 95, "false_positive_rate": 0.02},
    {"name": "C", "accuracy": 0.95, "latency_ms": 1500, "false_positive_rate": 0.001},
    {"name": "D", "accuracy": 0.91, "latency_ms": 99, "false_positive_rate": 0.008},
]
SAT = {"latency_ms": ("<=", 100), "false_positive_rate": ("<=", 0.01)}


def test_select_model_list_and_frame():
    s = select_model(CANDS, optimize="accuracy", satisfice=SAT)
    assert s.chosen == "D"
    rows = {r["name"]: r for r in s.table}
    assert rows["C"]["failures"]["latency_ms"]["by"] == pytest.approx(1400)
    assert rows["B"]["failures"]["false_positive_rate"]["by"] == pytest.approx(0.01)
    assert rows["A"]["feasible"] and not rows["B"]["feasible"]
    s2 = select_model(pd.DataFrame(CANDS), optimize="accuracy", satisfice=SAT)
    assert s2.to_dict() == s.to_dict()
    frame = s.to_frame()
    assert frame.loc[frame["chosen"], "name"].item() == "D"
    assert "D" in str(s) and "latency_ms = 1500 fails <= 100 by 1400" in str(s)


def test_select_model_none_and_direction():
    s = select_model(CANDS, optimize="accuracy", satisfice={"latency_ms": ("<", 50)})
    assert s.chosen is None
    assert "No candidate satisfies" in s.message
    s = select_model(CANDS, optimize="latency_ms")
    assert s.chosen == "A"  # lower latency is better
    s = select_model(CANDS, optimize="accuracy", satisfice={"accuracy": (">", 0.94)})
    assert s.chosen == "C"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(satisfice={"memory_mb": ("<=", 10)}), "'memory_mb' is missing"),
        (dict(satisfice={"latency_ms": ("==", 10)}), "operator"),
        (dict(satisfice={"latency_ms": 10}), "pair"),
        (dict(optimize="auc"), "'auc' is missing"),
    ],
)
def test_select_model_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        select_model(CANDS, **kwargs)


def test_select_model_needs_name():
    with pytest.raises(ValueError, match="'name'"):
        select_model([{"accuracy": 0.9}])


def test_measure_latency():
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(200, 4))
    m = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    ms = measure_latency(m, X, n_repeats=3)
    assert ms > 0 and np.isfinite(ms)
    with pytest.raises(ValueError, match="n_repeats"):
        measure_latency(m, X, n_repeats=0)


def test_group_average_label_types():
    y = np.array([1, 1, 1, 1, 0, 0])
    p = np.array([1, 0, 1, 1, 0, 1])
    # groups: US (1 of 2 wrong), CN (0 of 2), IN (1 of 2) -> mean(0.5, 0, 0.5)
    for g in (["US", "US", "CN", "CN", "IN", "IN"], [7, 7, 100, 100, 3, 3]):
        assert group_average("error", y, p, g) == pytest.approx(1 / 3)


def test_group_average_gives_the_same_answer_by_name_callable_and_per_group_loop():
    import numpy as np

    from mlstrat.metrics import accuracy, error_rate, group_average

    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 5000)
    p = np.where(rng.random(5000) < 0.2, (y + 1) % 3, y)
    g = rng.choice(["fr", "us", "in", "br"], 5000)
    loop = np.mean([np.mean(y[g == k] != p[g == k]) for k in np.unique(g)])
    assert group_average("error", y, p, g) == pytest.approx(loop)
    assert group_average(error_rate, y, p, g) == pytest.approx(loop)
    assert group_average(accuracy, y, p, g) == pytest.approx(1 - loop)
    assert group_average(lambda a, b: float(np.mean(a != b)), y, p, g) == pytest.approx(loop)


@pytest.fixture
def regression():
    rng = np.random.default_rng(2)
    y = rng.normal(3.0, 2.0, 300)
    return y, y + rng.normal(0.0, 0.7, 300)


def test_regression_metrics_match_sklearn(regression):
    y, p = regression
    assert mse(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert rmse(y, p) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert r2(y, p) == pytest.approx(skm.r2_score(y, p))
    flat = np.full_like(y, y.mean())
    assert r2(y, flat) == pytest.approx(skm.r2_score(y, flat))
    assert r2(y, -p) == pytest.approx(skm.r2_score(y, -p))  # negative: worse than the mean


def test_r2_of_a_constant_target_follows_sklearn():
    y = np.full(5, 2.0)
    assert r2(y, y) == skm.r2_score(y, y) == 1.0
    assert r2(y, y + 1) == skm.r2_score(y, y + 1) == 0.0


def test_regression_metrics_accept_lists_and_series(regression):
    y, p = regression
    assert mse(list(y), pd.Series(p)) == pytest.approx(skm.mean_squared_error(y, p))
    with pytest.raises(ValueError, match="same length"):
        mae([1.0, 2.0], [1.0])


def test_regression_registry():
    assert REGRESSION_METRICS == ("mse", "rmse", "mae", "r2")
    assert METRICS["mse"] == (mse, False)
    assert METRICS["rmse"] == (rmse, False)
    assert METRICS["mae"] == (mae, False)
    assert METRICS["r2"] == (r2, True)
    # select_model reads the direction from the registry
    sel = select_model([{"name": "a", "r2": 0.3}, {"name": "b", "r2": 0.6}], optimize="r2")
    assert sel.chosen == "b"
    sel = select_model([{"name": "a", "mae": 0.3}, {"name": "b", "mae": 0.6}], optimize="mae")
    assert sel.chosen == "a"


@pytest.mark.parametrize("classes,y,expected", [
    ([0, 1], [0, 0, 1], 1),
    ([False, True], [True, False, False], True),
    (["no", "yes"], ["no", "no", "yes"], "yes"),
    (["a", "b"], ["a", "b", "b"], "a"),       # no conventional name: the minority class
    (["ham", "spam"], ["spam", "ham", "ham"], "spam"),
])
def test_positive_label(classes, y, expected):
    got = positive_label(np.asarray(classes, dtype=object), np.asarray(y, dtype=object))
    assert got == expected and not isinstance(got, np.generic)
