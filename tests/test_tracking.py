import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlstrat
from mlstrat.diagnose import Diagnosis


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
