import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlstrat
from mlstrat.diagnosis import Diagnosis


def test_record_run_stores_what_sklearn_measures(tmp_path):
    X, y = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, td, dv = order[:100], order[100:140], order[140:]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X[tr], names[tr])
    data = {"train": (X[tr], names[tr]), "train_dev": (X[td], names[td]),
            "dev": (X[dv], names[dv])}
    run = mlstrat.record_run(tmp_path, model, data, name="logreg",
                             human={"sommelier": 0.02, "panel": 0.01},
                             ids={"dev": [f"w{i}" for i in dv]})
    stored = run.project.get_run(run.run_id)
    for split, (Xs, ys) in data.items():
        expected = 1 - accuracy_score(ys, model.predict(Xs))
        assert stored.errors[split] == pytest.approx(expected)
    assert stored.sizes == {"train": 100, "train_dev": 40, "dev": 38}
    assert stored.human_error == 0.01
    assert stored.config["model"] == "Pipeline"
    assert Diagnosis.from_dict(stored.diagnosis).primary == run.diagnosis.primary
    preds = run.project.run_predictions(run.run_id, "dev")
    assert preds["id"].tolist() == [f"w{i}" for i in dv]
    np.testing.assert_allclose(
        preds[[f"proba_{c}" for c in model.classes_]].to_numpy(),
        model.predict_proba(X[dv]), rtol=1e-5)


def test_record_run_refuses_a_bad_split_and_writes_nothing(tmp_path):
    X, y = load_wine(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="must be a pair"):
        mlstrat.record_run(tmp_path, model, {"train": (X, y), "dev": X})
    with pytest.raises(ValueError, match="Unknown split|not a split|valid"):
        mlstrat.record_run(tmp_path, model, {"train": (X, y), "validation": (X, y)})
    assert mlstrat.open_project(tmp_path).runs().empty


def test_record_run_stores_and_prints_the_outcome(tmp_path):
    """The stored record carries status and headline; the summary line is the headline."""
    X, y = load_wine(return_X_y=True)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(y))
    tr, td, dv = order[:120], order[120:130], order[130:140]   # tiny train-dev and dev
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[tr], y[tr])
    run = mlstrat.record_run(tmp_path, model, {"train": (X[tr], y[tr]),
                                               "train_dev": (X[td], y[td]),
                                               "dev": (X[dv], y[dv])})
    stored = run.project.get_run(run.run_id).diagnosis
    assert stored["status"] == run.status == run.diagnosis.status
    assert stored["headline"] == run.headline and run.headline
    assert run.status in ("not_enough_evidence", "no_clear_problem", "problem")
    first = run.summary.splitlines()[0]
    assert first == f"run {run.run_id} in {run.project.folder}: {run.headline}"
    assert str(run).splitlines()[0] == first
    if run.diagnosis.next_step:
        assert run.summary.splitlines()[1] == f"Next: {run.diagnosis.next_step}"


def test_runs_summary_reads_in_words_and_percent(tmp_path):
    from mlstrat.diagnosis import diagnose
    from mlstrat.tracking import runs_summary

    project = mlstrat.open_project(tmp_path)
    surpassed = diagnose(human={"team": 0.02}, train=0.005, dev=0.012,
                         sizes={"train": 20000, "dev": 5000})
    project.log_run("surpassed", errors={"train": 0.005, "dev": 0.012},
                    sizes={"train": 20000, "dev": 5000}, human_error=0.02,
                    diagnosis=surpassed)
    project.log_run("mismatch", errors={"train": 0.01, "train_dev": 0.015, "dev": 0.10,
                                        "test": 0.1},
                    sizes={"train": 10000, "train_dev": 2000, "dev": 2000, "test": 2000})
    table = runs_summary(project).set_index("name")
    assert table.loc["surpassed", "outcome"] == "human level surpassed"
    assert table.loc["surpassed", "problem"] == "-"
    assert table.loc["surpassed", "human"] == "2.00%"
    assert table.loc["mismatch", "problem"] == "data mismatch"
    assert table.loc["mismatch", ["train", "train-dev", "dev", "test"]].tolist() == [
        "1.00%", "1.50%", "10.00%", "10.00%"]


def test_record_run_diagnoses_a_regressor_in_the_target_units(tmp_path):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error

    from mlstrat.tracking import runs_summary

    X, y = load_diabetes(return_X_y=True)
    data = {"train": (X[:300], y[:300]), "dev": (X[300:], y[300:])}
    model = Ridge(alpha=1.0).fit(*data["train"])
    run = mlstrat.record_run(tmp_path, model, data, human=40.0)
    stored = run.project.get_run(run.run_id)
    assert stored.metric == run.diagnosis.metric == "RMSE"
    for split, (Xs, ys) in data.items():
        rmse = np.sqrt(mean_squared_error(ys, model.predict(Xs)))
        assert stored.errors[split] == pytest.approx(rmse)
        assert run.diagnosis.rates[split] == pytest.approx(rmse)
    assert stored.human_error == 40.0
    row = runs_summary(run.project).iloc[0]
    assert row["metric"] == "RMSE" and row["dev"] == f"{stored.errors['dev']:.4g}"
    assert "%" not in "".join(row[["human", "train", "dev"]])
    with pytest.raises(ValueError, match="'task' parameter"):
        mlstrat.record_run(tmp_path, model, data, task="ranking")
