"""Clean rungs: early stopping never sees dev; dev chooses, test is the unbiased
figure; small data gets repeated K-fold out-of-fold rungs (issue 11, items 4 and 10)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from mlstrat import open_project
from mlstrat.first_system import ModelSpec, _models, _workflow, baseline, build_preprocessor
from mlstrat.first_system._columns import coerce_features
from mlstrat.first_system._resampling import (
    carve_early_stopping,
    dev_half_width,
    needs_kfold,
    repeated_folds,
)
from mlstrat.nn._estimators import _BaseNeuralNet
from mlstrat.stats import rate_interval, wilson_interval


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture
def spy(monkeypatch):
    """Records, for every fit: the rows the preprocessor was fitted on (= the rows
    the model trains on) and the rows behind the validation data it received."""
    rows_of, keep, state, fits = {}, [], {}, []
    real_build, real_transform = _workflow.build_preprocessor, _workflow.transform_float32

    class Spy:
        def __init__(self, pre):
            self.pre = pre

        def fit_transform(self, frame, y=None):
            state["fit_rows"] = frame.index.to_numpy()
            return self.pre.fit_transform(frame)

        def transform(self, frame):
            return self.pre.transform(frame)

    def transform(pre, frame):
        out = real_transform(pre, frame)
        rows_of[id(out)] = frame.index.to_numpy()
        keep.append(out)
        return out

    real_fit = _BaseNeuralNet.fit

    def fit(self, X, y, validation_data=None):
        val = None if validation_data is None else rows_of[id(validation_data[0])]
        fits.append({"fit": state["fit_rows"], "val": val, "n": len(X)})
        return real_fit(self, X, y, validation_data=validation_data)

    monkeypatch.setattr(_workflow, "build_preprocessor", lambda plan: Spy(real_build(plan)))
    monkeypatch.setattr(_workflow, "transform_float32", transform)
    monkeypatch.setattr(_BaseNeuralNet, "fit", fit)
    return fits


def _rows(project, run_id, split):
    return project.run_predictions(run_id, split)["id"].astype(int).to_numpy()


# ------------------------------------------------------------------- item 4
def test_dev_rows_are_never_used_for_early_stopping(tmp_path, cancer, spy, fast):
    r = baseline(cancer, "target", project=tmp_path, resampling="split", **fast)
    project = open_project(tmp_path)
    dev, test = _rows(project, r.best.run_id, "dev"), _rows(project, r.best.run_id, "test")
    train_dev = _rows(project, r.best.run_id, "train_dev")
    train = _rows(project, r.best.run_id, "train")
    assert len(spy) == 3                                  # linear + two networks
    for call in spy:
        val = call["val"]
        assert val is not None and len(val) == r.early_stopping["rows"] > 0
        assert not set(val) & set(dev) and not set(val) & set(test)
        assert not set(val) & set(train_dev)              # train-dev keeps its meaning
        assert not set(val) & set(call["fit"])            # never trained on
        assert call["n"] == len(call["fit"]) and set(call["fit"]) == set(train)
    carve = spy[0]["val"]                                 # about a tenth of train, stratified
    assert len(carve) == round(0.1 * (len(train) + len(carve)))
    y = cancer["target"].to_numpy()
    assert abs(y[carve].mean() - y[train].mean()) < 0.1


def test_kfold_fits_stop_early_on_their_own_training_rows(tmp_path, cancer, spy, fast):
    r = baseline(cancer, "target", project=tmp_path, resampling="kfold",
                 models=[ModelSpec("linear")], **fast)
    test = _rows(open_project(tmp_path), r.best.run_id, "test")
    pool = np.setdiff1d(np.arange(len(cancer)), test)
    assert len(spy) == 11                                 # 5 folds x 2 repeats + the kept model
    for call in spy[:10]:
        fit, val = set(call["fit"]), set(call["val"])
        assert not fit & val and not (fit | val) & set(test)
        held = set(pool) - fit - val                      # the fold this fit predicts
        assert abs(len(held) - len(pool) / 5) <= 2
        assert abs(len(val) - 0.1 * (len(fit) + len(val))) <= 1


def test_report_says_dev_chose_among_n_models_and_test_is_unbiased(tmp_path, cancer, fast):
    r = baseline(cancer, "target", project=tmp_path, resampling="split",
                 models=[ModelSpec("trivial"), ModelSpec("linear")], **fast)
    text = str(r)
    assert "Chosen on dev among 2 models: linear." in text
    assert "biased low by that choice" in text
    assert "used for no choice and no fitting, is the unbiased figure of the chosen model" in text
    assert "dev is never used while fitting" in text
    sel = r.to_dict()["selection"]
    assert sel["n_models"] == 2 and sel["chosen_on"] == "dev" and sel["unbiased"] == "test"
    assert sel["test"] == r.best.errors["test"] and sel["test_n"] == r.split_sizes["test"]
    k = round(sel["test"] * sel["test_n"])
    assert (sel["test_low"], sel["test_high"]) == pytest.approx(
        rate_interval(k, sel["test_n"]))  # the ladder's exact interval
    assert f"Test {100 * sel['test']:.2f}% [{100 * sel['test_low']:.2f}%" in text
    run = open_project(tmp_path).get_run(r.best.run_id)
    assert run.config["baseline"]["n_models"] == 2
    assert run.config["baseline"]["early_stopping"]["source"] == "train"


# ------------------------------------------------------------------- item 10: the rule
def test_the_rule_uses_the_wilson_half_width_at_the_observed_rate():
    loss = np.r_[np.ones(6), np.zeros(114)]
    lo, hi = wilson_interval(6, 120)
    assert dev_half_width("classification", loss) == pytest.approx((hi - lo) / 2)
    assert needs_kfold(dev_half_width("classification", loss))
    assert not needs_kfold(dev_half_width("classification", np.zeros(400)))  # +-0.48 pt


def test_auto_keeps_one_split_when_dev_resolves_two_points(tmp_path, fast):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": (x[:, 0] > 0).astype(int)})
    r = baseline(frame, "y", project=tmp_path, models=[ModelSpec("linear")],
                 max_epochs=30, learning_rate=0.05)
    assert r.resampling["method"] == "split"
    assert r.resampling["split_dev_half_width"] <= 0.02
    assert "resolves" in r.resampling["reason"]


def test_auto_switches_to_kfold_on_small_data_and_says_so(tmp_path, cancer, fast):
    r = baseline(cancer, "target", project=tmp_path, models=[ModelSpec("linear")], **fast)
    assert r.resampling["method"] == "kfold"
    assert r.resampling["split_dev_half_width"] > 0.02
    n_pool = len(cancer) - r.split_sizes["test"]
    assert r.best.sizes == {"train": n_pool, "dev": n_pool,   # one distribution: no train-dev
                            "test": r.split_sizes["test"]}
    assert r.diagnosis.sizes["dev"] == n_pool and r.diagnosis.rates["dev"] == r.best.errors["dev"]
    text = str(r)
    assert "Rungs from 5-fold x 2 repeated out-of-fold predictions, not one split" in text
    assert "Chosen on out-of-fold dev among 1 models" in text
    dev = next(g for g in r.diagnosis.rungs if g.name == "dev")
    assert (dev.high - dev.low) / 2 < r.resampling["split_dev_half_width"]  # narrower
    assert f"against +-{100 * r.resampling['split_dev_half_width']:.1f} pt from one split" in text


def test_split_is_kept_when_asked(tmp_path, cancer, fast):
    r = baseline(cancer, "target", project=tmp_path, models=[ModelSpec("trivial")],
                 resampling="split", **fast)
    assert r.resampling["method"] == "split" and r.best.sizes["dev"] == r.split_sizes["dev"]


# ------------------------------------------------------------------- item 10: K-fold numbers
def test_kfold_out_of_fold_predictions_match_cross_val_predict(tmp_path, cancer, spy,
                                                               monkeypatch, fast):
    """Same folds (sklearn's StratifiedKFold, seed + repeat), same training rows (the
    fold's rows minus the early-stopping carve): cross_val_predict gives the stored
    out-of-fold predictions and, averaged per example over repeats, the dev rung."""
    def sk_logistic(spec, settings, callbacks):
        return LogisticRegression(max_iter=5000)

    monkeypatch.setitem(_models.BUILDERS, ("linear", "classification"), sk_logistic)
    captured = []
    real_fit_on = _workflow._fit_on

    def fit_on(spec, settings, d, fit, rep):
        captured.append(fit)
        return real_fit_on(spec, settings, d, fit, rep)

    monkeypatch.setattr(_workflow, "_fit_on", fit_on)
    seed = 3
    r = baseline(cancer, "target", project=tmp_path, resampling="kfold", random_state=seed,
                 models=[ModelSpec("linear")], **fast)
    project = open_project(tmp_path)
    test = _rows(project, r.best.run_id, "test")
    pool = np.setdiff1d(np.arange(len(cancer)), test)
    y = cancer["target"].to_numpy()
    feats = coerce_features(cancer, r.columns)
    errors = []
    for repeat in range(2):
        folds = [pool[t] for _, t in StratifiedKFold(5, shuffle=True, random_state=seed + repeat)
                 .split(pool, y[pool])]
        fits = captured[5 * repeat:5 * repeat + 5]
        cv = []
        for held, fit in zip(folds, fits, strict=True):
            assert set(held) == set(fit.held)            # the workflow used these folds
            assert not set(fit.fit) & set(held) and not set(fit.carve) & set(fit.fit)
            cv.append((np.searchsorted(pool, fit.fit), np.searchsorted(pool, held)))
        model = make_pipeline(build_preprocessor(r.columns),
                              FunctionTransformer(lambda a: np.asarray(a, np.float32)),
                              LogisticRegression(max_iter=5000))
        pred = cross_val_predict(model, feats.iloc[pool], y[pool], cv=cv)
        if repeat == 0:
            stored = project.run_predictions(r.best.run_id, "dev").set_index("id")
            assert (stored.loc[[str(i) for i in pool], "y_pred"].to_numpy() == pred).all()
        errors.append(pred != y[pool])
    assert r.best.errors["dev"] == pytest.approx(np.mean(np.mean(errors, axis=0)))


def test_groups_never_straddle_folds(tmp_path, make_mixed, spy, fast):
    frame = make_mixed(400, 0).assign(speaker=lambda f: [f"s{i % 61}" for i in range(len(f))])
    r = baseline(frame, "label", group="speaker", project=tmp_path, resampling="kfold",
                 models=[ModelSpec("linear")], **fast)
    speaker = frame["speaker"].to_numpy()
    test = frame.index[frame["customer_id"].isin(
        open_project(tmp_path).run_predictions(r.best.run_id, "test")["id"])].to_numpy()
    pool = np.setdiff1d(np.arange(len(frame)), test)
    assert not set(speaker[test]) & set(speaker[pool])
    for call in spy[:10]:
        fit, val = call["fit"], call["val"]
        held = np.setdiff1d(pool, np.r_[fit, val])
        assert not set(speaker[fit]) & set(speaker[held])    # no group in two folds
        assert not set(speaker[fit]) & set(speaker[val])     # nor in fit and its carve


def test_repeated_folds_keep_groups_whole_and_partition():
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 40, 300).astype(str)
    y = rng.integers(0, 2, 300)
    folds = repeated_folds(y, groups=groups, n_splits=5, n_repeats=2, random_state=7)
    for r, parts in enumerate(folds):
        assert sorted(np.concatenate(parts).tolist()) == list(range(300))
        owner = {}
        for j, part in enumerate(parts):
            for g in set(groups[part]):
                assert owner.setdefault(g, j) == j
        ref = [np.sort(t) for _, t in StratifiedGroupKFold(5, shuffle=True, random_state=7 + r)
               .split(np.zeros(300), y, groups)]
        assert all((a == b).all() for a, b in zip(parts, ref, strict=True))
    assert [set(a) for a in folds[0]] != [set(b) for b in folds[1]]  # repeats differ


def test_carve_keeps_every_class_and_whole_groups():
    y = np.r_[np.zeros(50), np.ones(30), [2]]
    fit, carve = carve_early_stopping(y, random_state=0)
    assert 80 in fit and len(carve) == 8 and not set(fit) & set(carve)
    groups = np.repeat(np.arange(27), 3)[:81]
    fit, carve = carve_early_stopping(y, groups=groups, random_state=0)
    assert not set(groups[fit]) & set(groups[carve]) and 80 in fit


def test_with_a_domain_dev_rows_come_only_from_the_domain(tmp_path, make_mixed, spy, fast):
    frame = make_mixed(500, 250)
    r = baseline(frame, "label", domain="source=car", project=tmp_path, resampling="kfold",
                 models=[ModelSpec("linear")], **fast)
    project = open_project(tmp_path)
    source = frame.set_index("customer_id")["source"]
    dev = project.run_predictions(r.best.run_id, "dev")["id"]
    train_dev = project.run_predictions(r.best.run_id, "train_dev")["id"]
    test = project.run_predictions(r.best.run_id, "test")["id"]
    assert (source.loc[dev] == "car").all() and (source.loc[test] == "car").all()
    assert (source.loc[train_dev] == "web").all()
    n_car_pool = int((source == "car").sum()) - len(test)
    assert r.best.sizes["dev"] == len(dev) == n_car_pool
    assert r.best.sizes["train_dev"] == 500 and r.best.sizes["train"] == len(frame) - len(test)
    kinds = frame["source"].to_numpy()
    assert all({"car", "web"} <= set(kinds[call["fit"]]) for call in spy)  # both train
    assert r.diagnosis.gap("data_mismatch").verdict == "real"


def test_kfold_regression_rungs_are_rmse_in_target_units(tmp_path, diabetes_csv, fast):
    r = baseline(diabetes_csv, "target", project=tmp_path, resampling="kfold",
                 models=[ModelSpec("trivial"), ModelSpec("linear")], **fast)
    assert r.resampling["method"] == "kfold" and r.task == "regression"
    y = pd.read_csv(diabetes_csv)["target"]
    assert r.best.kind == "linear" and r.best.metrics["dev"]["r2"] > 0.3
    # predicting the training mean: an RMSE about the target's standard deviation
    assert r.models[0].errors["dev"] == pytest.approx(y.std(), rel=0.05)
    assert r.best.sizes["dev"] == len(y) - r.split_sizes["test"]
