"""No silent wrong answers from predictions: labels, probabilities, huge cells, targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlstrat._text import quote
from mlstrat.diagnosis import diagnose_predictions
from mlstrat.first_system import baseline
from mlstrat.first_system._columns import TargetError, check_target
from mlstrat.metrics import LabelMismatchError, error_rate, f1, precision
from mlstrat.predictions import read_predictions


# ------------------------------------------------------------------ labels
def test_text_labels_and_integer_predictions_are_one_label():
    y_true = np.array(["0", "1", "1", "0"])
    y_pred = np.array([0, 1, 0, 0])
    assert error_rate(y_true, y_pred) == 0.25                  # was 1.0
    assert precision(y_true, y_pred, pos_label="1") == 1.0
    assert f1([" 1", "0"], [1.0, 0.0]) == 1.0
    d = diagnose_predictions({"train": (np.array(["0", "1"] * 50), np.array([0, 1] * 50)),
                              "dev": (np.array(["0", "1"] * 50), np.array([1, 1] * 50))})
    rates = {r["name"]: r["rate"] for r in d.to_dict()["rungs"]}
    assert rates == {"train": 0.0, "dev": 0.5}


def test_labels_that_share_nothing_are_refused_naming_both_dtypes():
    with pytest.raises(LabelMismatchError, match=r"y_true holds text \(dtype <U3.*'cat'\) "
                                                 r"and y_pred holds numbers \(dtype int64"):
        error_rate(np.array(["cat", "dog"]), np.array([0, 1]))


def test_a_predictions_file_with_text_and_numbers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("split,y_true,y_pred\ntrain,yes,0\ntrain,no,1\ndev,yes,1\n")
    with pytest.raises(ValueError, match=r"share no label.*Fix the file's y_true"):
        read_predictions(path)
    path.write_text("split,y_true,y_pred\ntrain,1,1\ntrain,other,0\ndev,0,1.0\n")
    preds = read_predictions(path)
    assert preds["train"]["y_true"].tolist() == ["1", "other"]
    assert preds["dev"]["y_pred"].tolist() == ["1"]


@pytest.mark.parametrize("value, shown", [("nan", "nan"), ("1.5", "1.5"), ("-0.1", "-0.1"),
                                          ("inf", "inf"), ("high", "'high'")])
def test_bad_probabilities_name_the_column_and_first_row(tmp_path, value, shown):
    path = tmp_path / "p.csv"
    path.write_text(f"split,y_true,y_pred,proba_1\ntrain,1,1,0.9\ndev,0,1,{value}\n")
    with pytest.raises(ValueError, match=r"'proba_1' must hold probabilities in \[0, 1\]; 1 "
                                         r"row\(s\) do not \(first: row 3 of the file"):
        read_predictions(path)


def test_a_50_mb_cell_is_never_echoed_whole(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("split,y_true,y_pred\ntrain,1,1\n" + "x" * 50_000_000 + ",1,1\n")
    with pytest.raises(ValueError) as info:
        read_predictions(path)
    assert len(str(info.value)) < 1_000 and "50,000,000 characters" in str(info.value)
    assert quote("y" * 10**6).endswith("(1,000,000 characters)")


# ------------------------------------------------------------------ targets
def _frame(target):
    rng = np.random.default_rng(0)
    n = len(target)
    return pd.DataFrame({"a": rng.random(n), "b": rng.integers(0, 5, n), "target": target})


N = 60


@pytest.mark.parametrize("target, match", [
    (np.arange(N) + 1j, "holds complex numbers"),
    ([{"k": i % 2} for i in range(N)], "holds dict values"),
    (pd.date_range("2020-01-01", periods=N), "holds dates or times"),
    ([f"user{i}" for i in range(N)], "looks like an identifier: all 60 values are distinct"),
    ([str(d.date()) for d in pd.date_range("2020-01-01", periods=N)],
     "looks like dates stored as text"),
])
def test_unlearnable_targets_are_refused_with_what_they_look_like(tmp_path, target, match):
    with pytest.raises(TargetError, match=match):
        baseline(_frame(target), "target", project=tmp_path, max_epochs=1)


def test_learnable_targets_pass():
    check_target(pd.Series(np.linspace(0, 1, N)), "price")       # distinct numbers: regression
    check_target(pd.Series([str(v) for v in np.linspace(0, 1, N)]), "price_text")
    check_target(pd.Series(["a", "b"] * 30), "label")


# ------------------------------------------------------------------ fuzz
CELLS = st.one_of(st.sampled_from(["train", "dev", "test", "0", "1", "0.5", "nan", "",
                                   "-1", "2", "x", '"', "\x00", "1e309"]),
                  st.text(max_size=8))


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(st.lists(CELLS, min_size=2, max_size=5), max_size=6),
       header=st.lists(st.sampled_from(["split", "y_true", "y_pred", "proba_1", "id", "",
                                        "split"]), min_size=1, max_size=5))
def test_fuzz_predictions_files_parse_or_raise_value_error(rows, header):
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows)
    try:
        preds = read_predictions(text.encode("utf-8", "surrogatepass"))
    except ValueError as exc:
        assert str(exc).strip()
        return
    for frame in preds.values():
        for col in [c for c in frame.columns if c.startswith("proba_")]:
            assert frame[col].between(0, 1).all()
        assert frame["y_true"].notna().all() and frame["y_pred"].notna().all()


def test_a_regression_predictions_file_is_diagnosed_in_target_units(tmp_path):
    from mlstrat.predictions import diagnose_frames, read_predictions

    rng = np.random.default_rng(0)
    rows = []
    for split, noise in (("train", 2.0), ("dev", 6.0)):
        y = rng.normal(50, 20, size=300)
        for t, p in zip(y, y + rng.normal(0, noise, size=300), strict=True):
            rows.append({"split": split, "y_true": round(t, 3), "y_pred": round(p, 3)})
    path = tmp_path / "reg.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    d = diagnose_frames(read_predictions(path), human_error=None)
    frame = pd.DataFrame(rows)
    dev = frame[frame["split"] == "dev"]
    assert d.metric == "RMSE"
    assert d.rates["dev"] == pytest.approx(np.sqrt(np.mean((dev["y_true"] - dev["y_pred"]) ** 2)))
    assert d.primary == "variance"
    forced = diagnose_frames(read_predictions(path), None, task="classification")
    assert forced.metric == "error rate" and forced.rates["dev"] > 0.9  # every float differs
