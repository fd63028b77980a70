"""Checks of the data before training, said in the report: rows repeated across
splits, a dev set of one class, a feature that alone gives the answer, ties
between models; inputs no ladder can survive are refused with nothing stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_diabetes

from mlstrat import open_project
from mlstrat.first_system import DataCheckError, ModelSpec, baseline
from mlstrat.first_system._checks import check_leaks, prefer_simpler
from tests.first_system.penguins import penguins

CHEAP = {"models": [ModelSpec("trivial"), ModelSpec("linear")], "max_epochs": 5,
         "resampling": "split", "n_review": 5}


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(as_frame=True).frame


def _with_copies(frame: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    copies = frame.iloc[rng.choice(len(frame), n, replace=False)]
    return pd.concat([frame, copies], ignore_index=True).sample(
        frac=1.0, random_state=seed).reset_index(drop=True)


def _ids(project, run_id, split) -> np.ndarray:
    return project.run_predictions(run_id, split)["id"].astype(int).to_numpy()


def _repeats(frame: pd.DataFrame, rows: np.ndarray, seen: np.ndarray) -> int:
    """Independent count: rows whose every value equals some row of ``seen``."""
    known = frame.iloc[seen].drop_duplicates()
    hit = frame.iloc[rows].merge(known, how="left", indicator=True)["_merge"] == "both"
    return int(hit.sum())


def _check(result, kind, severity=None, start=""):
    found = [c for c in result.checks if c.kind == kind and c.message.startswith(start)
             and (severity is None or c.severity == severity)]
    assert found, f"no {kind} check ({severity}) in {result.checks}"
    return found[0]


# ------------------------------------------------------------------ repeated rows
def test_rows_repeated_across_splits_are_counted(tmp_path, cancer):
    frame = _with_copies(cancer, 200)
    r = baseline(frame, "target", project=tmp_path, **CHEAP)
    project = open_project(tmp_path)
    dev, test = _ids(project, r.best.run_id, "dev"), _ids(project, r.best.run_id, "test")
    train_side = np.setdiff1d(np.arange(len(frame)), np.r_[dev, test])
    n_dev = _repeats(frame, dev, train_side)
    n_test = _repeats(frame, test, np.r_[train_side, dev])
    assert n_dev > 0 and n_test > 0
    check = _check(r, "duplicates", "warning")
    assert check.message.startswith(f"{n_dev:,} of {len(dev):,} dev rows and {n_test:,} of "
                                    f"{len(test):,} test rows repeat a training row exactly")
    assert check.message in str(r) and "--drop-duplicates" in check.message


def _repeating(frame: pd.DataFrame, rows: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """The ``rows`` whose every value equals some row of ``seen`` (pandas merge)."""
    known = frame.iloc[seen].drop_duplicates()
    hit = frame.iloc[rows].merge(known, how="left", indicator=True)["_merge"] == "both"
    return rows[hit.to_numpy()]


def test_drop_duplicates_leaves_them_out_of_dev_and_test(tmp_path, cancer):
    frame = _with_copies(cancer, 200)
    counted = baseline(frame, "target", project=tmp_path / "a", **CHEAP)
    r = baseline(frame, "target", project=tmp_path / "b", drop_duplicates=True, **CHEAP)
    a, b = open_project(tmp_path / "a"), open_project(tmp_path / "b")
    dev0, test0 = _ids(a, counted.best.run_id, "dev"), _ids(a, counted.best.run_id, "test")
    train_side = np.setdiff1d(np.arange(len(frame)), np.r_[dev0, test0])  # same seed, same split
    gone_dev = _repeating(frame, dev0, train_side)
    gone_test = _repeating(frame, test0, np.r_[train_side, dev0])
    assert gone_dev.size and gone_test.size
    dev, test = _ids(b, r.best.run_id, "dev"), _ids(b, r.best.run_id, "test")
    assert set(dev) == set(dev0) - set(gone_dev) and set(test) == set(test0) - set(gone_test)
    assert r.split_sizes["dev"] == len(dev) and r.split_sizes["test"] == len(test)
    assert _check(r, "duplicates", "info").message == (
        f"Left out (drop_duplicates=True): {gone_dev.size:,} dev rows, "
        f"{gone_test.size:,} test rows.")
    assert b.get_run(r.best.run_id).config["baseline"]["drop_duplicates"] is True


def test_kfold_counts_repeats_inside_the_pool(tmp_path, cancer):
    frame = _with_copies(cancer, 100)
    r = baseline(frame, "target", project=tmp_path, models=[ModelSpec("linear")],
                 resampling="kfold", max_epochs=5, n_review=5)
    test = _ids(open_project(tmp_path), r.best.run_id, "test")
    pool = frame.drop(index=test)
    n = int(pool.duplicated().sum())
    assert n > 0
    assert _check(r, "duplicates", "warning", "K-fold").message.startswith(
        f"K-fold: {n:,} rows of the non-test pool repeat")
    kept = baseline(frame, "target", project=tmp_path / "k", models=[ModelSpec("linear")],
                    resampling="kfold", max_epochs=5, n_review=5, drop_duplicates=True)
    kept_test = _ids(open_project(tmp_path / "k"), kept.best.run_id, "test")
    assert kept.best.sizes["dev"] == len(frame.drop(index=kept_test).drop_duplicates())
    assert _check(kept, "duplicates", "info", "K-fold").message.endswith(
        "repeated rows of the non-test pool left out (drop_duplicates=True; the first of "
        "each kept).")


# ------------------------------------------------------------------ one class
def test_a_dev_set_of_one_class_is_refused_without_blaming_the_features(tmp_path):
    frame = penguins()
    assert set(frame.loc[frame["island"] == "Torgersen", "species"]) == {"Adelie"}
    with pytest.raises(DataCheckError) as info:
        baseline(frame, "species", domain="island=Torgersen", project=tmp_path / "p", **CHEAP)
    message = str(info.value)
    assert "The dev set (the rows with island=Torgersen) holds a single class ('Adelie'" in message
    assert "dev cannot choose between models" in message and "Nothing was written" in message
    assert "feature" not in message
    assert not (tmp_path / "p").exists()                      # no store created
    ok = baseline(frame, "species", domain="island=Dream", project=tmp_path / "q", **CHEAP)
    assert _check(ok, "dev_classes", "ok").message == "The dev set holds 2 classes."
    assert ok.best.kind != "trivial"


def test_a_refused_dev_set_leaves_an_existing_project_unchanged(tmp_path):
    frame = penguins()
    baseline(frame, "species", project=tmp_path, **CHEAP)
    project = open_project(tmp_path)
    before = (project.revision(), project.runs()["id"].tolist())
    with pytest.raises(DataCheckError):
        baseline(frame, "species", domain="island=Torgersen", project=tmp_path, **CHEAP)
    assert (open_project(tmp_path).revision(), open_project(tmp_path).runs()["id"].tolist()) \
        == before


def test_a_target_of_one_class_is_refused_and_nothing_is_stored(tmp_path):
    frame = penguins()
    frame = frame[frame["species"] == "Adelie"]
    with pytest.raises(ValueError, match="'species' has a single class .'Adelie' in all 152"):
        baseline(frame, "species", project=tmp_path / "p", **CHEAP)
    assert not (tmp_path / "p").exists()


def test_a_csv_of_only_an_id_column_is_refused_and_nothing_is_stored(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id\n" + "\n".join(f"u{i:04d}" for i in range(200)) + "\n")
    with pytest.raises(ValueError, match="'id' looks like an identifier"):
        baseline(path, "id", project=tmp_path / "p", **CHEAP)
    two = tmp_path / "ids_and_label.csv"
    two.write_text("id,label\n" + "\n".join(f"u{i:04d},{'ab'[i % 2]}" for i in range(200)))
    with pytest.raises(ValueError, match="No column can be used as a feature"):
        baseline(two, "label", project=tmp_path / "p", **CHEAP)
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------ leaks
def test_a_copy_of_the_target_is_reported_as_a_leak(tmp_path, cancer):
    frame = cancer.copy()
    rng = np.random.default_rng(0)
    frame["outcome_code"] = np.where(frame["target"] == 1, "benign", "malignant")
    frame["followup_score"] = 10 * frame["target"] + rng.normal(0, 0.5, len(frame))
    r = baseline(frame, "target", project=tmp_path, **CHEAP)
    leaks = [c.message for c in r.checks if c.kind == "leak" and c.severity == "warning"]
    assert len(leaks) == 2
    assert any(m.startswith("Column 'outcome_code' alone predicts the target: 100.00% dev "
                            "accuracy") for m in leaks)
    assert any("'followup_score'" in m and "--drop followup_score" in m for m in leaks)
    plain = baseline(cancer, "target", project=tmp_path / "plain", **CHEAP)
    assert _check(plain, "leak").severity == "ok"              # 'worst perimeter' is not a leak


def test_a_leak_in_a_regression_is_judged_by_r2(tmp_path):
    frame = load_diabetes(as_frame=True, scaled=False).frame
    rng = np.random.default_rng(1)
    frame["next_visit"] = frame["target"] * 1.5 + rng.normal(0, 2, len(frame))
    r = baseline(frame, "target", project=tmp_path, **CHEAP)
    leaks = [c.message for c in r.checks if c.kind == "leak" and c.severity == "warning"]
    assert len(leaks) == 1 and leaks[0].startswith("Column 'next_visit' alone predicts the "
                                                   "target: R^2 0.99")


def test_a_target_that_is_trivially_predictable_is_no_leak():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(990, int), np.ones(10, int)]
    feats = pd.DataFrame({"x": rng.normal(size=1000)})
    idx = {"train": np.arange(0, 1000, 2), "dev": np.arange(1, 1000, 2)}
    checks = check_leaks(feats, {"x": "numeric"}, y, idx, "classification")
    assert [c.severity for c in checks] == ["ok"]              # 99% by predicting 0: no leak


# ------------------------------------------------------------------ ties
def test_ties_prefer_the_simpler_non_trivial_model_with_mcnemar():
    rng = np.random.default_rng(0)
    linear = (rng.random(400) < 0.12).astype(float)
    net = linear.copy()
    net[np.flatnonzero(linear)[:4]] = 0.0                      # 4 fewer errors, none new
    p = stats.binomtest(0, 4, 0.5).pvalue                      # exact McNemar: b = 0, c = 4
    i, check = prefer_simpler([np.full(400, 0.5), linear, net], ["trivial", "linear",
                              "network"], ["trivial", "linear", "net"], 2, "error")
    assert p >= 0.05 and i == 1 and check.severity == "info"
    assert f"p = {p:.2g} on 400 dev examples" in check.message
    net[np.flatnonzero(linear)[:20]] = 0.0                      # 20 fewer: beyond noise
    i, check = prefer_simpler([np.full(400, 0.5), linear, net], ["trivial", "linear",
                              "network"], ["trivial", "linear", "net"], 2, "error")
    assert i == 2 and check.severity == "ok"
    i, _ = prefer_simpler([linear, net], ["linear", "network"], ["l", "n"], 1, "f1")
    assert i == 1                                              # f1: the metric decides


def test_the_trivial_model_is_not_chosen_on_a_tie(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600),
                          "label": rng.choice(["x", "y"], 600, p=[0.7, 0.3])})  # no signal
    r = baseline(frame, "label", project=tmp_path, **CHEAP)
    tie = _check(r, "ties")
    if tie.severity == "warning":                               # trivial better beyond noise
        assert r.best.kind == "trivial"
    else:
        assert r.best.kind == "linear" and "within noise of the best" in tie.message
    assert tie.message in str(r)
