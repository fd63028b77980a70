"""MLflow both ways, against a real local MLflow store (sqlite:/// in a temp folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

mlflow = pytest.importorskip("mlflow")
pytestmark = pytest.mark.filterwarnings("ignore:.*noload.*")  # MLflow on SQLAlchemy 2.1

from mlflow.tracking import MlflowClient  # noqa: E402

from mlstrat.cli import main  # noqa: E402
from mlstrat.diagnosis import diagnose_predictions  # noqa: E402
from mlstrat.errors import new_session  # noqa: E402
from mlstrat.integrations.mlflow import (  # noqa: E402
    MlflowMissingError,
    MlflowRunError,
    MlflowTrackingError,
    export_project,
    import_run,
    load_model,
    log_model,
)
from mlstrat.live import start_run  # noqa: E402
from mlstrat.store import open_project  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """MLflow writes ./mlflow.db or ./mlruns when a default slips through: not in the repo."""
    monkeypatch.chdir(tmp_path)


# -- a store and a project shared by the module (creating MLflow's tables takes seconds) --
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """(tracking URI, artifact root, client) of a fresh local MLflow store."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return uri, str(folder / "artifacts"), MlflowClient(uri)


def _labels(n: int, wrong: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pred = y.copy()
    pred[:wrong] = (y[:wrong] + 1) % 3
    return y, pred


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Two runs with predictions (one with a training history) and one error session."""
    proj = open_project(tmp_path_factory.mktemp("proj") / "p")
    truth = {}
    for i, (name, config) in enumerate([("small", {"lr": 0.01, "net": {"units": 8}}),
                                        ("big", {"lr": 0.001, "layers": [64, 32]})]):
        preds = {"train": _labels(400, 20 + 10 * i, seed=i),
                 "dev": _labels(200, 30 - 5 * i, seed=10 + i)}
        frames = {s: pd.DataFrame({"id": [f"{s}{k}" for k in range(len(yt))],
                                   "y_true": yt, "y_pred": yp})
                  for s, (yt, yp) in preds.items()}
        run_id = proj.log_run(name, config=config, predictions=frames,
                              diagnosis=diagnose_predictions(preds),
                              history=[{"epoch": e, "loss": 1.0 / (e + 1)} for e in range(4)]
                              if i == 0 else None)
        truth[run_id] = {s: float(np.mean(yt != yp)) for s, (yt, yp) in preds.items()}
    session = new_session(proj, 1, n=10)
    session.add_category("blurry")
    session.tag(session.sample_ids()[0], "blurry")
    return proj, truth, session


def _runs(client: MlflowClient, experiment: str) -> list:
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id]) if exp else []


def _download(client: MlflowClient, run_id: str, path: str, dst: Path) -> Path:
    return Path(client.download_artifacts(run_id, path, str(dst)))


# -- export --------------------------------------------------------------------------
def test_export_logs_each_run_with_its_numbers_diagnosis_chart_and_sheet(store, project,
                                                                        tmp_path):
    uri, artifacts, client = store
    proj, truth, session = project
    report = export_project(proj, uri, experiment="export", artifact_location=artifacts)
    assert sorted(report.created) == [1, 2] and not report.updated and report.sheets == 1
    runs = {int(r.data.tags["mlstrat.run_id"]): r for r in _runs(client, "export")}
    assert sorted(runs) == [1, 2]
    for run_id, errors in truth.items():
        got, stored = runs[run_id], proj.get_run(run_id)
        assert got.info.run_name == stored.name and got.info.status == "FINISHED"
        assert got.data.tags["mlstrat.project"] == str(proj.folder.resolve())
        for split, error in errors.items():  # counted here from the labels, not by mlstrat
            assert got.data.metrics[f"{split}_error_rate"] == pytest.approx(error)
            assert got.data.metrics[f"{split}_n"] == {"train": 400, "dev": 200}[split]
        assert got.data.tags["mlstrat.primary"] == (stored.diagnosis["primary"] or "none")
        assert got.data.tags["mlstrat.diagnosis_status"] == stored.diagnosis["status"]
        diagnosis = json.loads(_download(client, got.info.run_id, "mlstrat/diagnosis.json",
                                         tmp_path / str(run_id)).read_text())
        assert diagnosis == json.loads(json.dumps(stored.diagnosis))
        html = _download(client, got.info.run_id, "mlstrat/ladder.html", tmp_path / f"h{run_id}")
        assert "vega" in html.read_text()
    assert runs[1].data.params == {"lr": "0.01", "net.units": "8"}
    assert runs[2].data.params == {"lr": "0.001", "layers": "[64, 32]"}
    history = client.get_metric_history(runs[1].info.run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(e, 1.0 / (e + 1)) for e in range(4)]
    sheet = _download(client, runs[1].info.run_id,
                      f"mlstrat/error_analysis/session_{session.id}.xlsx", tmp_path / "s")
    with zipfile.ZipFile(sheet) as z:  # a real workbook holding the session's category
        assert "blurry" in "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_export_again_adds_no_run_and_updates_only_what_changed(store, project):
    uri, artifacts, client = store
    proj, _, session = project
    first = export_project(proj, uri, experiment="again", artifact_location=artifacts)
    second = export_project(proj, uri, experiment="again")
    assert sorted(second.unchanged) == [1, 2] and not second.created and not second.updated
    assert second.mlflow_run_ids == first.mlflow_run_ids
    session.tag(session.sample_ids()[1], "blurry")  # the sheet of run 1 changed
    third = export_project(proj, uri, experiment="again")
    assert sorted(third.updated) == [1] and sorted(third.unchanged) == [2]
    assert len(_runs(client, "again")) == 2


def test_a_running_run_is_exported_running_then_finished_in_place(store, tmp_path):
    uri, artifacts, client = store
    folder = tmp_path / "live"
    y, pred = _labels(300, 30, seed=3)
    run = start_run(folder, "live")
    run.log_epoch(0, train_loss=0.9)
    first = export_project(folder, uri, experiment="live", artifact_location=artifacts)
    mlflow_id = first.created[run.run_id]
    assert client.get_run(mlflow_id).info.status == "RUNNING"
    run.log_epoch(1, train_loss=0.5)
    run.log_predictions("train", y, pred)
    run.log_predictions("dev", y, pred)
    run.finish()
    second = export_project(folder, uri, experiment="live")
    assert second.updated == {run.run_id: mlflow_id}
    got = client.get_run(mlflow_id)
    assert got.info.status == "FINISHED"
    assert got.data.metrics["dev_error_rate"] == pytest.approx(30 / 300)
    steps = [(m.step, m.value) for m in client.get_metric_history(mlflow_id, "train_loss")]
    assert sorted(steps) == [(0, 0.9), (1, 0.5)]  # no epoch logged twice


def test_export_refuses_an_unreachable_tracking_server(project):
    proj, _, _ = project
    with pytest.raises(MlflowTrackingError, match="Cannot reach the MLflow tracking store"):
        export_project(proj, "http://127.0.0.1:9")
    with pytest.raises(MlflowTrackingError, match="does not exist"):
        export_project(proj, "sqlite:////no/such/folder/mlflow.db")


# -- import --------------------------------------------------------------------------
def _logged_run(client: MlflowClient, artifacts: str, files: dict[str, bytes], tmp: Path,
                params: dict[str, str] | None = None) -> str:
    exp = client.get_experiment_by_name("sources")
    exp_id = exp.experiment_id if exp else client.create_experiment(
        "sources", artifact_location=artifacts)
    run = client.create_run(exp_id, run_name="from mlflow")
    for key, value in (params or {}).items():
        client.log_param(run.info.run_id, key, value)
    for name, data in files.items():
        path = tmp / name
        path.write_bytes(data)
        client.log_artifact(run.info.run_id, str(path))
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def test_import_reads_a_predictions_csv_into_a_diagnosed_run(store, tmp_path):
    uri, artifacts, client = store
    rows = [("train", *_labels(500, 40, 5)), ("dev", *_labels(200, 30, 6))]
    frame = pd.concat([pd.DataFrame({"split": s, "y_true": yt, "y_pred": yp})
                       for s, yt, yp in rows])
    run_id = _logged_run(client, artifacts, {"predictions.csv": frame.to_csv(index=False)
                                             .encode()}, tmp_path, {"lr": "0.01", "opt": "adam"})
    for step, loss in enumerate([0.9, 0.6, 0.4]):
        client.log_metric(run_id, "loss", loss, step=step)
    imported = import_run(tmp_path / "proj", run_id, tracking_uri=uri)
    got = imported.project.get_run(imported.run_id)
    expected = frame.assign(wrong=frame.y_true != frame.y_pred).groupby("split")["wrong"].mean()
    assert got.errors == pytest.approx(expected.to_dict())
    assert got.sizes == {"train": 500, "dev": 200}
    assert got.name == "from mlflow" and got.config["lr"] == 0.01 and got.config["opt"] == "adam"
    assert got.diagnosis["rates"]["dev"] == pytest.approx(30 / 200)
    assert len(imported.project.run_predictions(imported.run_id)) == 700
    history = imported.project.run_history(imported.run_id)
    assert history[["epoch", "loss"]].values.tolist() == [[0, 0.9], [1, 0.6], [2, 0.4]]


def test_import_reads_a_regression_parquet_in_the_targets_units(store, tmp_path):
    uri, artifacts, client = store
    rng = np.random.default_rng(7)
    y = rng.normal(10, 2, 300)
    pred = y + rng.normal(0, 0.5, 300)
    frame = pd.DataFrame({"split": ["train"] * 200 + ["dev"] * 100, "y_true": y, "y_pred": pred})
    frame.to_parquet(tmp_path / "preds.parquet")
    run_id = _logged_run(client, artifacts,
                         {"predictions.parquet": (tmp_path / "preds.parquet").read_bytes()},
                         tmp_path)
    imported = import_run(tmp_path / "proj", run_id, tracking_uri=uri)
    got = imported.project.get_run(imported.run_id)
    assert got.metric == "RMSE"
    for split, part in frame.groupby("split"):
        rmse = float(np.sqrt(np.mean((part.y_true - part.y_pred) ** 2)))
        assert got.errors[split] == pytest.approx(rmse)


def test_an_exported_run_imports_back_with_the_same_errors(store, project, tmp_path):
    uri, artifacts, _ = store
    proj, truth, _ = project
    report = export_project(proj, uri, experiment="export", artifact_location=artifacts)
    imported = import_run(tmp_path / "back", report.mlflow_run_ids[2], tracking_uri=uri)
    assert imported.project.get_run(imported.run_id).errors == pytest.approx(truth[2])


def test_import_refuses_missing_or_malformed_predictions_and_writes_nothing(store, tmp_path):
    uri, artifacts, client = store
    folder = tmp_path / "untouched"
    bare = _logged_run(client, artifacts, {"notes.txt": b"hello"}, tmp_path)
    with pytest.raises(MlflowRunError, match="no predictions artifact.*notes.txt"):
        import_run(folder, bare, tracking_uri=uri)
    broken = _logged_run(client, artifacts,
                         {"predictions.csv": b"split,y_true\ntrain,1\n"}, tmp_path)
    with pytest.raises(MlflowRunError, match="y_pred"):
        import_run(folder, broken, tracking_uri=uri)
    with pytest.raises(MlflowRunError, match="not a CSV or Parquet"):
        import_run(folder, bare, tracking_uri=uri, artifact="notes.txt")
    with pytest.raises(MlflowRunError, match="No MLflow run 'f00"):
        import_run(folder, "f00" * 10, tracking_uri=uri)
    assert not folder.exists()


# -- command line --------------------------------------------------------------------
def test_the_commands_export_and_import(store, project, tmp_path, capsys):
    uri, artifacts, client = store
    proj, truth, _ = project
    assert main(["export", "mlflow", "--project", str(proj.folder), "--tracking-uri", uri,
                 "--experiment", "cli", "--artifact-location", artifacts]) == 0
    assert "2 new" in capsys.readouterr().out
    assert main(["export", "mlflow", "--project", str(proj.folder), "--tracking-uri", uri,
                 "--experiment", "cli"]) == 0
    assert "2 unchanged" in capsys.readouterr().out
    source = next(r for r in _runs(client, "cli") if r.data.tags["mlstrat.run_id"] == "1")
    assert main(["import", "mlflow", source.info.run_id, "--project", str(tmp_path / "p"),
                 "--tracking-uri", uri, "--artifact", "mlstrat/predictions.csv"]) == 0
    assert f"is run 1 in {tmp_path / 'p'}" in capsys.readouterr().out
    assert open_project(tmp_path / "p").get_run(1).errors == pytest.approx(truth[1])
    assert main(["import", "mlflow", "nope", "--project", str(tmp_path / "q"),
                 "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlstrat import: error: No MLflow run 'nope'") and "\n" not in err
    assert not (tmp_path / "q").exists()


def test_without_mlflow_the_commands_say_how_to_install_it(project, monkeypatch, capsys):
    proj, _, _ = project
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` now fails
    with pytest.raises(MlflowMissingError, match=r'pip install "mlstrat\[mlflow\]"'):
        export_project(proj, "sqlite:///x.db")
    assert main(["export", "mlflow", "--project", str(proj.folder)]) == 2
    assert 'pip install "mlstrat[mlflow]"' in capsys.readouterr().err


def test_importing_mlstrat_does_not_import_mlflow():
    code = ("import sys, mlstrat, mlstrat.integrations.mlflow, mlstrat.cli; "
            "mlstrat.cli.build_parser(); print('mlflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False"


# -- models ----------------------------------------------------------------------------
def test_a_saved_model_logs_to_mlflow_and_loads_back(store, tmp_path):
    from mlstrat.nn import NeuralNetClassifier

    uri, artifacts, client = store
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    model = NeuralNetClassifier((8,), max_epochs=15, random_state=0).fit(X, y)
    exp_id = client.create_experiment("models", artifact_location=artifacts)
    run_id = client.create_run(exp_id).info.run_id
    info = log_model(model, "model", run_id=run_id, tracking_uri=uri)
    back = load_model(info.model_uri, tracking_uri=uri)
    assert type(back) is type(model)
    assert np.array_equal(back.predict(X), model.predict(X))
    np.testing.assert_allclose(back.predict_proba(X), model.predict_proba(X), rtol=1e-5)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:  # MLflow's own loader runs the logged code (which imports mlstrat)
        pyfunc = mlflow.pyfunc.load_model(info.model_uri)
        files = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path)))
    finally:
        mlflow.set_tracking_uri(previous)
    assert np.array_equal(pyfunc.predict(pd.DataFrame(X)), model.predict(X))
    names = sorted(p.name for p in files.rglob("*") if p.is_file())
    assert "model.npz" in names and not [n for n in names if n.endswith((".pkl", ".pickle"))]
