"""start_run: any training loop logs a run as it trains (driven by scikit-learn's partial_fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import SGDClassifier, SGDRegressor

import mlstrat
from mlstrat.diagnosis import diagnose_predictions
from mlstrat.nn import NeuralNetClassifier


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=900) > 0).astype(int)
    return X[:600], y[:600], X[600:], y[600:]


def test_a_partial_fit_loop_is_running_then_finished_and_diagnosed(tmp_path, data):
    X_tr, y_tr, X_dev, y_dev = data
    clf = SGDClassifier(loss="log_loss", random_state=0)
    with mlstrat.start_run(tmp_path, "sgd", config={"alpha": 1e-4}, human=0.05) as run:
        other = mlstrat.open_project(tmp_path, create=False, readonly=True)  # another reader
        assert other.get_run(run.run_id).status == "running"  # visible at once
        for epoch in range(5):
            clf.partial_fit(X_tr, y_tr, classes=[0, 1])
            run.log_epoch(epoch, train_error=float(np.mean(clf.predict(X_tr) != y_tr)),
                          dev_error=float(np.mean(clf.predict(X_dev) != y_dev)))
        assert len(other.run_history(run.run_id)) == 5  # each epoch written at once
        run.log_predictions("train", y_tr, clf.predict(X_tr))
        run.log_predictions("dev", y_dev, clf.predict(X_dev), ids=[f"d{i}" for i in range(300)],
                            proba=clf.predict_proba(X_dev))
        assert other.get_run(run.run_id).errors == {}  # results only when the block ends
    stored = mlstrat.open_project(tmp_path).get_run(run.run_id)
    assert stored.status == "finished" and stored.config == {"alpha": 1e-4}
    ref = diagnose_predictions({"train": (y_tr, clf.predict(X_tr)),
                                "dev": (y_dev, clf.predict(X_dev))}, human=0.05)
    assert stored.errors == pytest.approx({"train": ref.rates["train"], "dev": ref.rates["dev"]})
    assert stored.diagnosis["status"] == ref.status and stored.diagnosis["primary"] == ref.primary
    dev = mlstrat.open_project(tmp_path).run_predictions(run.run_id, "dev")
    assert dev["id"].tolist()[:2] == ["d0", "d1"] and "proba_1" in dev.columns
    assert run.diagnosis is not None and run.diagnosis.headline == ref.headline


def test_an_exception_marks_the_run_failed_with_its_message(tmp_path):
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        with mlstrat.start_run(tmp_path, "big") as run:
            run.log_epoch(0, train_loss=2.3)
            raise RuntimeError("CUDA out of memory")
    stored = mlstrat.open_project(tmp_path).get_run(run.run_id)
    assert stored.status == "failed" and "CUDA out of memory" in stored.notes
    assert len(mlstrat.open_project(tmp_path).run_history(run.run_id)) == 1


def test_a_diverging_loss_is_kept_as_missing(tmp_path):
    with mlstrat.start_run(tmp_path, "nan") as run:
        run.log_epoch(0, train_loss=1.0)
        run.log_epoch(1, train_loss=float("nan"))
    history = mlstrat.open_project(tmp_path).run_history(run.run_id)
    assert history["train_loss"].iloc[0] == 1.0 and pd.isna(history["train_loss"].iloc[1])


def test_regression_runs_are_in_target_units(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3))
    y = 100 * X[:, 0] + rng.normal(scale=10, size=500)
    reg = SGDRegressor(random_state=0)
    with mlstrat.start_run(tmp_path, "sgd reg") as run:
        for epoch in range(3):
            reg.partial_fit(X[:400], y[:400])
            run.log_epoch(epoch, train_loss=float(np.mean((reg.predict(X[:400]) - y[:400]) ** 2)))
        run.log_predictions("train", y[:400], reg.predict(X[:400]))
        run.log_predictions("dev", y[400:], reg.predict(X[400:]))
    stored = mlstrat.open_project(tmp_path).get_run(run.run_id)
    assert stored.metric == "RMSE"
    rmse = float(np.sqrt(np.mean((reg.predict(X[400:]) - y[400:]) ** 2)))
    assert stored.errors["dev"] == pytest.approx(rmse) and rmse > 1  # units, not a rate


def test_the_bundled_trainer_logs_through_the_same_api(tmp_path, data):
    X_tr, y_tr, X_dev, y_dev = data
    with mlstrat.start_run(tmp_path, "nn") as run:
        model = NeuralNetClassifier((8,), max_epochs=6, random_state=0,
                                    callbacks=[run.callback()]).fit(X_tr, y_tr)
        run.log_predictions("train", y_tr, model.predict(X_tr))
        run.log_predictions("dev", y_dev, model.predict(X_dev))
    history = mlstrat.open_project(tmp_path).run_history(run.run_id)
    assert len(history) == len(model.history_)
    assert history["loss"].to_numpy() == pytest.approx(pd.DataFrame(model.history_)["loss"])


@pytest.mark.parametrize("call,match", [
    (lambda r: r.log_epoch(-1), "epoch"),
    (lambda r: r.log_epoch(0, loss="high"), "number"),
    (lambda r: r.log_predictions("holdout", [0], [0]), "Unknown split"),
    (lambda r: r.log_predictions("dev", [0, 1], [0]), "same length"),
    (lambda r: r.log_predictions("dev", [0, 1], [0, 1], proba=[[0.2, 1.3], [0.5, 0.5]]),
     r"\[0, 1\]"),
])
def test_bad_input_is_refused_and_nothing_changes(tmp_path, call, match):
    run = mlstrat.start_run(tmp_path, "r")
    with pytest.raises((ValueError, TypeError), match=match):
        call(run)
    assert mlstrat.open_project(tmp_path).run_history(run.run_id).empty
