"""Tests for mlstrat.diagnose: the course's worked examples and the edge cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlstrat.diagnose import (
    REMEDIES,
    Diagnosis,
    diagnose,
    diagnose_estimator,
    diagnose_predictions,
    diagnose_regression,
)
from mlstrat.stats import gap_interval

BIG = {"train": 50000, "train_dev": 5000, "dev": 5000, "test": 5000}


@pytest.mark.parametrize(
    "kwargs,primary",
    [
        (dict(human=0.01, train=0.08, dev=0.10), "avoidable_bias"),
        (dict(human=0.075, train=0.08, dev=0.10), "variance"),
        (dict(human=0.0, train=0.01, train_dev=0.09, dev=0.10), "variance"),
        (dict(human=0.0, train=0.01, train_dev=0.015, dev=0.10), "data_mismatch"),
        (dict(human=0.0, train=0.10, train_dev=0.11, dev=0.12), "avoidable_bias"),
        (dict(human=0.0, train=0.10, train_dev=0.11, dev=0.20), "avoidable_bias"),  # + mismatch
        (dict(human=0.04, train=0.07, train_dev=0.10, dev=0.12, test=0.12), "avoidable_bias"),
    ],
)
def test_course_examples_primary(kwargs, primary):
    d = diagnose(**kwargs)
    assert d.primary == primary
    assert [r.action for r in d.remedies] == [r.action for r in REMEDIES[primary]]


def test_course_examples_with_sizes_are_real():
    d = diagnose(human=0.0, train=0.01, train_dev=0.015, dev=0.10, sizes=BIG)
    assert d.primary == "data_mismatch"
    assert d.gap("data_mismatch").verdict == "real"
    assert d.gap("variance").verdict == "real"  # 0.5 pt on 50k/5k is resolvable


def test_speech_example_numbers():
    d = diagnose(human=0.04, train=0.07, train_dev=0.10, dev=0.12, test=0.12)
    vals = {g.name: round(g.value, 4) for g in d.gaps}
    assert vals == {"avoidable_bias": 0.03, "variance": 0.03, "data_mismatch": 0.02,
                    "dev_overfitting": 0.0}
    assert "Also worth working on" in str(d)


def test_several_human_references_use_the_best():
    refs = {"typical human": 0.03, "typical doctor": 0.01, "experienced doctor": 0.007,
            "team of experienced doctors": 0.005}
    d = diagnose(human=refs, train=0.007, dev=0.01)
    assert d.human_source == "team of experienced doctors"
    assert d.gap("avoidable_bias").value == pytest.approx(0.002)
    assert "team of experienced doctors" in str(d)


def test_human_level_surpassed():
    d = diagnose(human={"team": 0.005}, train=0.003, dev=0.004)
    assert any("surpassed" in n for n in d.notes)
    assert d.primary == "variance"  # bias is no longer a candidate
    assert "below human level" in d.gap("avoidable_bias").note


def test_intervals_come_from_stats():
    d = diagnose(human=0.01, train=0.02, train_dev=0.025, dev=0.025, test=0.02,
                 sizes={"train": 10000, "train_dev": 10000, "dev": 2000, "test": 2000})
    g = d.gap("data_mismatch")
    ref = gap_interval(50, 2000, 250, 10000)
    assert (g.value, g.low, g.high) == pytest.approx(ref)
    assert g.verdict == "noise"
    assert g.size_to_resolve is None  # value is 0 -> nothing to resolve
    # the notes' example: dev 2.5% of 2000 vs train-dev 2.0% of 10000
    d = diagnose(train=0.02, train_dev=0.02, dev=0.025,
                 sizes={"train": 10000, "train_dev": 10000, "dev": 2000})
    g = d.gap("data_mismatch")
    assert round(g.low * 100, 2) == -0.17 and round(g.high * 100, 2) == 1.32
    assert g.verdict == "noise" and g.size_to_resolve > 2000
    assert "would resolve" in g.note


def test_human_without_size_is_fixed_and_said():
    d = diagnose(human=0.01, train=0.05, dev=0.06, sizes={"train": 1000, "dev": 1000})
    g = d.gap("avoidable_bias")
    r = d.rungs[1]
    assert g.low == pytest.approx(r.low - 0.01) and g.high == pytest.approx(r.high - 0.01)
    assert "fixed number" in g.note


def test_no_train_dev_is_explained():
    d = diagnose(human=0.01, train=0.02, dev=0.08)
    assert d.gap("variance").upper == "dev"
    assert "cannot be told apart" in str(d)
    assert any("hold out part of the training distribution" in n for n in d.notes)
    with pytest.raises(KeyError):
        d.gap("data_mismatch")


def test_negative_mismatch():
    d = diagnose(train=0.05, train_dev=0.10, dev=0.04, sizes=BIG)
    assert d.gap("data_mismatch").verdict == "real"
    assert "easier" in d.gap("data_mismatch").note
    assert d.primary == "variance"


def test_dev_overfitting():
    d = diagnose(human=0.01, train=0.011, train_dev=0.012, dev=0.013, test=0.05, sizes=BIG)
    assert d.primary == "dev_overfitting"
    assert d.remedies[0].action == "Get a bigger dev set"


def test_nothing_to_fix():
    d = diagnose(human=0.02, train=0.02, dev=0.02, sizes={"train": 5000, "dev": 5000})
    assert d.primary is None and d.remedies == []
    assert "none found" in str(d)


def test_remedies_name_their_knob_and_caveat():
    for rems in REMEDIES.values():
        assert all(r.knob for r in rems)
    synth = [r for r in REMEDIES["data_mismatch"] if "synthesis" in r.action]
    assert synth and "overfit" in synth[0].caveat


def test_round_trip_dict_json_frame():
    d = diagnose(human={"a": 0.02, "b": 0.01}, train=0.05, train_dev=0.06, dev=0.09,
                 test=0.1, sizes=BIG)
    data = json.loads(d.to_json())
    back = Diagnosis.from_dict(data)
    assert back == d
    assert str(back) == str(d)
    with pytest.raises(ValueError, match="misses the key 'gaps'"):
        Diagnosis.from_dict({k: v for k, v in data.items() if k != "gaps"})
    frame = d.to_frame()
    assert list(frame["kind"]) == ["rung"] * 5 + ["gap"] * 4
    assert frame.loc[frame["name"] == "dev", "value"].item() == pytest.approx(0.09)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(train=1.5), "'train' error rate must be in \\[0, 1\\]"),
        (dict(train=0.1, dev=-0.1), "'dev'"),
        (dict(train=0.1, human={"x": 2}), "human"),
        (dict(train=0.1, sizes={"train": 0}), "sizes\\['train'\\]"),
        (dict(train=0.1, sizes={"validation": 10}), "Unknown split 'validation' in the 'sizes'"),
        (dict(), "'train' error rate is required"),
    ],
)
def test_input_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        diagnose(**kwargs)


def _preds(n, n_wrong, rng):
    y = rng.integers(0, 2, n)
    p = y.copy()
    p[:n_wrong] = 1 - p[:n_wrong]
    return y, p


def test_from_predictions_dict_and_frame_agree():
    rng = np.random.default_rng(0)
    data = {"train": _preds(10000, 100, rng), "train-dev": _preds(2000, 40, rng),
            "dev": _preds(2000, 200, rng)}
    d1 = diagnose_predictions(data, human=0.005)
    assert d1.rates == {"train": 0.01, "train_dev": 0.02, "dev": 0.1, "test": None}
    assert d1.sizes == {"train": 10000, "train_dev": 2000, "dev": 2000}
    assert d1.primary == "data_mismatch"
    frame = pd.concat([pd.DataFrame({"split": k, "y_true": v[0], "y_pred": v[1]})
                       for k, v in data.items()])
    d2 = diagnose.from_predictions(frame, human=0.005)
    assert d2 == d1


def test_from_predictions_weights_and_errors():
    y = np.array([0, 0, 1, 1]); p = np.array([0, 1, 1, 1])
    d = diagnose_predictions({"train": (y, p, [1, 3, 1, 1])})
    assert d.rates["train"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="Split 'dev'.*same length"):
        diagnose_predictions({"train": (y, p), "dev": (y, p[:3])})
    with pytest.raises(ValueError, match="Unknown split 'valid'.*'predictions'"):
        diagnose_predictions({"train": (y, p), "valid": (y, p)})
    with pytest.raises(ValueError, match="Missing"):
        diagnose_predictions(pd.DataFrame({"split": ["train"], "y": [0]}))


def test_from_estimator_uses_predict():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] > 0).astype(int)
    est = LogisticRegression().fit(X[:400], y[:400])
    d = diagnose.from_estimator(est, {"train": (X[:400], y[:400]), "dev": (X[400:], y[400:])},
                                human=0.0)
    assert d.rates["dev"] == pytest.approx(np.mean(est.predict(X[400:]) != y[400:]))
    assert d.sizes == {"train": 400, "dev": 200}
    with pytest.raises(ValueError, match="'data'"):
        diagnose_estimator(est, {"holdout": (X, y)})


def test_bias_and_mismatch_both_reported():
    d = diagnose(human=0.0, train=0.10, train_dev=0.11, dev=0.20)
    assert d.primary == "avoidable_bias"
    assert any("data mismatch (+9.00 pt)" in n for n in d.notes)


def test_comparable_rule_threshold():
    # bias 2 pt against variance 5 pt: below half -> variance; with comparable=0.35 -> bias first
    d = diagnose(human=0.0, train=0.02, train_dev=0.07, dev=0.07)
    assert d.primary == "variance"
    d = diagnose(human=0.0, train=0.02, train_dev=0.07, dev=0.07, comparable=0.35)
    assert d.primary == "avoidable_bias"


def test_course_surpassed_examples():
    refs = {"typical human": 0.01, "typical doctor": 0.007, "team of experienced doctors": 0.005}
    # team 0.5%, train 0.7%, dev 0.8%: avoidable bias 0.2 pt > variance 0.1 pt
    d = diagnose(human=refs, train=0.007, dev=0.008)
    assert d.primary == "avoidable_bias" and not any("surpassed" in n for n in d.notes)
    # team 0.5%, train 0.3%, dev 0.4%: human level surpassed
    d = diagnose(human=refs, train=0.003, dev=0.004)
    assert any("surpassed" in n and "can no longer be estimated" in n for n in d.notes)


def _squared_errors(train, train_dev, dev, n=400, seed=0):
    rng = np.random.default_rng(seed)
    return {"train": rng.exponential(train, n), "train_dev": rng.exponential(train_dev, n),
            "dev": rng.exponential(dev, n)}


def test_diagnose_regression_rungs_and_intervals_against_scipy():
    from scipy import stats as sps

    se = _squared_errors(0.2, 0.5, 0.52)
    y_var = 2.0
    d = diagnose_regression(se, y_var=y_var, confidence=0.9)
    rel = {s: v / y_var for s, v in se.items()}
    for s in ("train", "train_dev", "dev"):
        assert d.rates[s] == pytest.approx(rel[s].mean())
        rung = next(r for r in d.rungs if r.name == s)
        ci = sps.ttest_1samp(rel[s], 0.0).confidence_interval(0.9)
        assert (rung.n, rung.low, rung.high) == (400, pytest.approx(max(0.0, ci.low)),
                                                 pytest.approx(ci.high))
    for name, lo, up in (("variance", "train", "train_dev"),
                         ("data_mismatch", "train_dev", "dev")):
        ci = sps.ttest_ind(rel[up], rel[lo], equal_var=False).confidence_interval(0.9)
        g = d.gap(name)
        assert g.value == pytest.approx(rel[up].mean() - rel[lo].mean())
        assert (g.low, g.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert d.gap("variance").verdict == "real" and d.gap("data_mismatch").verdict == "noise"
    assert d.primary == "variance" and d.remedies == list(REMEDIES["variance"])
    assert d.notes[-1].startswith("Regression:")
    assert not any(n.startswith("Some sizes are missing") for n in d.notes)


def test_diagnose_regression_with_human_level():
    from scipy import stats as sps

    se = _squared_errors(0.4, 0.45, 0.47, seed=1)
    d = diagnose_regression(se, y_var=1.0, human_error=0.05)
    g = d.gap("avoidable_bias")
    ci = sps.ttest_1samp(se["train"], 0.05).confidence_interval(0.95)  # of the mean
    assert (g.low, g.high) == (pytest.approx(ci.low - 0.05), pytest.approx(ci.high - 0.05))
    assert g.note == "human level taken as a fixed number"
    assert d.primary == "avoidable_bias"  # the same rule as diagnose
    # a rung above 1 (worse than predicting the mean) is capped at 1
    assert diagnose_regression({"train": np.full(10, 3.0) + np.arange(10)}, 1.0).rates["train"] == 1.0
