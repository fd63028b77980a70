"""Tests for mlstrat.diagnosis: the course's worked examples and the edge cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlstrat.diagnosis import (
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
    # the ladder no longer points the way: no primary problem, and the page says why
    assert d.primary is None and d.status == "human_level_surpassed"
    assert "Human level surpassed" in d.headline and "error analysis" in d.next_step
    assert "below human level" in d.gap("avoidable_bias").note


def test_intervals_come_from_stats():
    d = diagnose(human=0.01, train=0.02, train_dev=0.025, dev=0.025, test=0.02,
                 sizes={"train": 10000, "train_dev": 10000, "dev": 2000, "test": 2000})
    g = d.gap("data_mismatch")
    ref = gap_interval(50, 2000, 250, 10000, method="exact")
    assert (g.value, g.low, g.high) == pytest.approx(ref)
    # the interval [-0.7, +0.8] pt allows gaps beyond the negligible 0.25 pt
    assert g.verdict == "too_small_to_tell" and g.size_to_tell > 2000
    # the notes' example: dev 2.5% of 2000 vs train-dev 2.0% of 10000 (Wilson limits
    # give [-0.17, +1.32] pt; the ladder's exact limits are a little wider)
    wl = gap_interval(50, 2000, 200, 10000)
    assert round(wl[1] * 100, 2) == -0.17 and round(wl[2] * 100, 2) == 1.32
    d = diagnose(human=0.02, train=0.02, train_dev=0.02, dev=0.025,
                 sizes={"train": 10000, "train_dev": 10000, "dev": 2000})
    g = d.gap("data_mismatch")
    assert g.low < wl[1] < 0 < wl[2] < g.high
    assert g.verdict == "too_small_to_tell" and g.size_to_tell > 2000
    assert "dev" in g.enlarge and "would detect" in g.note
    assert d.status == "not_enough_evidence" and "dev set" in d.next_step


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
    d = diagnose(human=0.04, train=0.05, train_dev=0.10, dev=0.04, sizes=BIG)
    assert d.gap("data_mismatch").verdict == "real"
    assert "easier" in d.gap("data_mismatch").note
    assert d.primary == "variance"


def test_dev_overfitting():
    d = diagnose(human=0.01, train=0.011, train_dev=0.012, dev=0.013, test=0.05, sizes=BIG)
    assert d.primary == "dev_overfitting"
    assert d.remedies[0].action == "Get a bigger dev set"


def test_nothing_to_fix():
    d = diagnose(human=0.02, train=0.02, dev=0.02, sizes={"train": 50000, "dev": 50000})
    assert d.primary is None and d.remedies == []
    assert d.status == "no_clear_problem" and "No clear problem" in str(d)
    assert d.gap("variance").verdict == "noise"


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
    y, p = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
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


def _regression(train, train_dev, dev, n=400, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for split, scale in (("train", train), ("train_dev", train_dev), ("dev", dev)):
        y = rng.normal(size=n)
        out[split] = (y, y + rng.normal(scale=scale, size=n))
    return out


def test_diagnose_regression_rungs_in_units_against_scipy_bootstrap():
    from scipy import stats as sps

    preds = _regression(0.3, 0.8, 0.82)
    d = diagnose_regression(preds, confidence=0.9, n_resamples=4000)
    assert d.metric == "RMSE" and not d.is_rate
    for s, (yt, yp) in preds.items():
        rmse = float(np.sqrt(np.mean((yp - yt) ** 2)))
        assert d.rates[s] == pytest.approx(rmse)
        rung = next(r for r in d.rungs if r.name == s)
        ref = sps.bootstrap(((yp - yt),), lambda e: np.sqrt(np.mean(e**2)), n_resamples=4000,
                            confidence_level=0.9, method="percentile", random_state=1)
        assert rung.low == pytest.approx(ref.confidence_interval.low, rel=0.03)
        assert rung.high == pytest.approx(ref.confidence_interval.high, rel=0.03)
        assert d.split_metrics[s]["R2"] == pytest.approx(1 - rmse**2 / np.var(yt))
    g = d.gap("variance")
    assert g.value == pytest.approx(d.rates["train_dev"] - d.rates["train"])
    assert g.verdict == "real" and d.gap("data_mismatch").verdict != "real"
    assert d.primary == "variance" and d.remedies == list(REMEDIES["variance"])
    assert "target's units" in d.notes[-1]
    assert "RMSE" in str(d) and " pt" not in str(d).split("Notes:")[0]


def test_diagnose_regression_no_cap_and_mae():
    rng = np.random.default_rng(3)
    y = rng.normal(size=300)
    preds = {"train": (y, y + rng.normal(scale=0.5, size=300)),
             "dev": (y, y + 5 + rng.normal(scale=0.5, size=300))}  # far worse than the mean
    d = diagnose_regression(preds)
    assert d.rates["dev"] > 4.5 and d.split_metrics["dev"]["R2"] < 0   # not capped
    m = diagnose_regression(preds, metric="mae")
    assert m.metric == "MAE"
    assert m.rates["train"] == pytest.approx(np.mean(np.abs(preds["train"][1] - y)))
    assert d.primary == "variance"   # no human level: the 0.5 train RMSE does not dominate


def test_diagnose_regression_with_human_level():
    preds = _regression(0.6, 0.62, 0.63, n=2000, seed=1)
    d = diagnose_regression(preds, human=0.3)
    g = d.gap("avoidable_bias")
    rung = next(r for r in d.rungs if r.name == "train")
    assert (g.low, g.high) == (pytest.approx(rung.low - 0.3), pytest.approx(rung.high - 0.3))
    assert g.verdict == "real" and d.primary == "avoidable_bias"
    with pytest.raises(ValueError, match="metric"):
        diagnose_regression(preds, metric="mape")


@pytest.mark.parametrize("human", [{"expert": None}, [0.01, None]])
def test_a_missing_human_reference_is_named(human):
    # both ended in a bare TypeError from arithmetic on None before
    with pytest.raises(TypeError, match=r"human\[.*\]' error rate must be a float.*Got None"):
        diagnose(human, 0.05, dev=0.1)


@pytest.mark.parametrize("scale, decimals", [(0.01, 5), (30.0, 2), (1500.0, 0)])
def test_regression_ladder_prints_one_number_of_decimals(scale, decimals):
    # One rule for the whole ladder: four significant digits on its largest rung.
    import re

    from mlstrat.regression import diagnose_regression

    rng = np.random.default_rng(0)
    preds = {s: (np.zeros(200), rng.normal(scale=scale * k, size=200))
             for s, k in (("train", 0.5), ("dev", 1.0))}
    d = diagnose_regression(preds, n_resamples=200)
    assert d.decimals == decimals
    rows = [x for x in str(d).splitlines() if "[" in x and "note:" not in x and "knob" not in x]
    assert len(rows) == 4  # two rungs, two gaps
    for row in rows:  # the value and both interval limits
        numbers = re.findall(r"[+-]?[\d.]+", row.split("  ", 2)[-1])[:3]
        assert len(numbers) == 3
        assert all(len(n.partition(".")[2]) == decimals for n in numbers), row
