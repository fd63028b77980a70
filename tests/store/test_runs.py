"""The runs part of the project store: written, read back, refused, concurrent."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from mlstrat.store import Project, StoreError, open_project


@pytest.fixture
def project(tmp_path):
    return open_project(tmp_path / "proj")


def test_round_trip_of_everything_a_run_holds(project):
    rng = np.random.default_rng(0)
    y_true = rng.choice(["cat", "dog", "bird"], size=50)
    y_pred = y_true.copy()
    y_pred[:7] = "bird"
    proba = rng.dirichlet(np.ones(3), size=50)
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [1.0, 0.5, 0.25],
                            "val_loss": [1.1, 0.7, np.nan]})
    run_id = project.log_run(
        "net", config={"hidden": (64, 32), "l2": np.float32(0.5)},
        errors={"train": 0.02}, sizes={"train": 1000}, human_error=0.01,
        history=history, diagnosis={"primary_problem": "variance"},
        predictions={"dev": (y_true, y_pred, proba)}, metrics={"dev": {"f1": 0.9}},
    )
    run = project.get_run(run_id)
    assert run.config == {"hidden": [64, 32], "l2": 0.5}
    expected_dev = float(np.mean(y_true != y_pred))
    assert run.errors == {"train": 0.02, "dev": expected_dev}
    assert run.sizes == {"train": 1000, "dev": 50}
    assert run.human_error == 0.01
    assert run.diagnosis == {"primary_problem": "variance"}
    assert run.metrics == {"dev": {"f1": 0.9}}
    back = project.run_history(run_id)
    assert back["loss"].tolist() == [1.0, 0.5, 0.25]
    assert back["val_loss"].isna().tolist() == [False, False, True]
    preds = project.run_predictions(run_id, "dev")
    assert preds["y_true"].tolist() == y_true.tolist()
    assert preds["y_pred"].tolist() == y_pred.tolist()
    np.testing.assert_allclose(preds[["proba_0", "proba_1", "proba_2"]], proba, rtol=1e-6)
    table = project.runs()
    assert table.loc[0, "problem"] == "variance"
    assert table.loc[0, "dev"] == pytest.approx(expected_dev)


@pytest.mark.parametrize("labels", [np.array([0, 1, 2, 1]), np.array([0.5, 1.25, -3.0, 2.0]),
                                    np.array([True, False, True, True])])
def test_label_types_come_back_as_they_went_in(project, labels):
    run_id = project.log_run("r", predictions={"dev": (labels, labels[::-1])})
    preds = project.run_predictions(run_id)
    assert preds["y_true"].tolist() == labels.tolist()
    assert preds["y_true"].dtype.kind == labels.dtype.kind


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"errors": {"train": 1.5}}, "must be in \\[0, 1\\]"),
        ({"errors": {"devv": 0.1}}, "Unknown split name"),
        ({"sizes": {"dev": 0}}, "must be an int > 0"),
        ({"human_error": -0.1}, "human_error"),
        ({"predictions": {"dev": ([1, 2, 3], [1, 2])}}, "y_true has 3 rows but y_pred has 2"),
        ({"predictions": {"dev": pd.DataFrame({"y_true": [1]})}}, "lack column"),
        ({"predictions": {"dev": pd.DataFrame({"id": ["a", "a"], "y_true": [1, 2],
                                               "y_pred": [1, 1]})}}, "Duplicate example id"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(project, kwargs, message):
    with pytest.raises(ValueError, match=message):
        project.log_run("bad", **kwargs)
    assert project.runs().empty


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("hello, I am not a database")
    with pytest.raises(StoreError, match="not an mlstrat project store"):
        Project(text)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="without mlstrat's tables"):
        Project(other)


def test_a_store_from_a_newer_release_is_refused(project):
    with project._db.transaction() as conn:
        conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'runs'")
    with pytest.raises(StoreError, match="newer than this mlstrat knows"):
        Project(project.path)


def test_reopening_keeps_runs_and_does_not_migrate_twice(tmp_path):
    first = open_project(tmp_path / "p")
    first.log_run("a", errors={"dev": 0.1}, sizes={"dev": 10})
    again = open_project(tmp_path / "p")
    assert again.runs()["name"].tolist() == ["a"]
    from mlstrat.store._runs import MIGRATIONS

    assert again._db.version("runs") == len(MIGRATIONS)


def test_a_version_1_store_migrates_and_keeps_its_runs(tmp_path):
    import sqlite3

    from mlstrat.store._runs import MIGRATIONS

    first = open_project(tmp_path / "p")
    run_id = first.log_run("old", errors={"dev": 0.1}, sizes={"dev": 10})
    first.close()
    conn = sqlite3.connect(tmp_path / "p" / "mlstrat.db")  # back to the v1 schema
    conn.execute("ALTER TABLE runs DROP COLUMN dataset")
    conn.execute("ALTER TABLE runs DROP COLUMN metric")
    conn.execute("UPDATE schema_versions SET version = 1 WHERE component = 'runs'")
    conn.commit()
    conn.close()
    again = open_project(tmp_path / "p")
    assert again._db.version("runs") == len(MIGRATIONS)
    assert again.get_run(run_id).metric == "error rate"
    assert again.get_run(run_id).errors == {"dev": 0.1}
    assert again.get_run(run_id).dataset is None


def test_a_version_2_store_migrates_and_old_runs_read_back_without_a_dataset(tmp_path):
    first = open_project(tmp_path / "p")
    old = first.log_run("old", errors={"dev": 12.0}, sizes={"dev": 10}, metric="RMSE")
    first.close()
    conn = sqlite3.connect(tmp_path / "p" / "mlstrat.db")  # back to the v2 schema
    conn.execute("ALTER TABLE runs DROP COLUMN dataset")
    conn.execute("UPDATE schema_versions SET version = 2 WHERE component = 'runs'")
    conn.commit()
    conn.close()
    again = open_project(tmp_path / "p")
    assert again._db.version("runs") == 3
    run = again.get_run(old)
    assert run.dataset is None and run.metric == "RMSE" and run.errors == {"dev": 12.0}
    fp = {"hash": "ab" * 32, "target": "y", "columns": ["a", "y"], "n_rows": 10}
    new = again.log_run("new", errors={"dev": 0.1}, dataset=fp)
    assert again.get_run(new).dataset == fp and again.get_run(old).dataset is None


def test_log_runs_writes_all_or_nothing(project):
    ids = project.log_runs([
        {"name": "a", "errors": {"dev": 0.2}, "dataset": {"hash": "x"}},
        {"name": "b", "predictions": {"dev": ([0, 1, 1], [0, 1, 0])}},
    ])
    assert ids == project.runs()["id"].tolist() == [ids[0], ids[0] + 1]
    assert project.get_run(ids[1]).errors == {"dev": pytest.approx(1 / 3)}
    assert project.get_run(ids[0]).dataset == {"hash": "x"}
    before = project.revision()
    with pytest.raises(ValueError, match=r"Run 3 of 3 \('bad'\): .*'dev' must be in"):
        project.log_runs([{"name": "c", "errors": {"dev": 0.1}},
                          {"name": "d", "errors": {"dev": 0.1}},
                          {"name": "bad", "errors": {"dev": 3.0}}])
    with pytest.raises(TypeError, match="unknown argument"):
        project.log_runs([{"name": "c", "eror": {"dev": 0.1}}])
    with pytest.raises(TypeError, match="'dataset' of a run must be a dict"):
        project.log_run("c", dataset="penguins.csv")
    assert project.revision() == before and len(project.runs()) == 2


def test_log_runs_fails_at_the_insert_and_rolls_every_run_back(project, monkeypatch):
    from mlstrat.store import _runs

    real = _runs._insert_predictions
    calls = []

    def fail_on_the_second_run(conn, run_id, split, frame):
        calls.append(run_id)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        real(conn, run_id, split, frame)

    monkeypatch.setattr(_runs, "_insert_predictions", fail_on_the_second_run)
    with pytest.raises(sqlite3.OperationalError):
        project.log_runs([{"name": n, "predictions": {"dev": ([0, 1], [0, 1])}}
                          for n in ("a", "b", "c")])
    assert project.runs().empty
    assert project._db.read().execute("SELECT COUNT(*) FROM run_predictions").fetchone() == (0,)


def test_regression_runs_keep_their_units(tmp_path):
    project = open_project(tmp_path / "p")
    run_id = project.log_run("reg", errors={"train": 12.5, "dev": 40.2},
                             sizes={"train": 300, "dev": 100}, human_error=8.0, metric="RMSE")
    run = project.get_run(run_id)
    assert run.metric == "RMSE" and run.errors == {"train": 12.5, "dev": 40.2}
    assert project.runs().loc[0, "metric"] == "RMSE"
    with pytest.raises(ValueError, match=r"error rate of split 'dev' must be in \[0, 1\]"):
        project.log_run("rate", errors={"dev": 40.2}, sizes={"dev": 100})
    with pytest.raises(ValueError, match="RMSE of split 'dev' must be a finite number"):
        project.log_run("bad", errors={"dev": -1.0}, sizes={"dev": 100}, metric="RMSE")
    assert len(project.runs()) == 1


def _writer(path: str, tag: str, n: int) -> None:
    project = Project(path)
    for i in range(n):
        project.log_run(f"{tag}-{i}", errors={"dev": 0.1}, sizes={"dev": 100},
                        predictions={"train": (np.arange(200), np.arange(200))})


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "p")
    Project(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, tag, 25)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    names = Project(path).runs()["name"].tolist()
    assert sorted(names) == sorted([f"{t}-{i}" for t in "ab" for i in range(25)])


def test_a_process_killed_mid_write_loses_only_the_run_in_flight(tmp_path):
    path = tmp_path / "p"
    Project(path)
    script = textwrap.dedent(f"""
        import numpy as np, sys
        from mlstrat.store import Project
        p = Project({str(path)!r})
        i = 0
        while True:
            p.log_run(f"r{{i}}", predictions={{"dev": (np.arange(5000), np.arange(5000))}})
            print(i, flush=True)
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    done = []
    deadline = time.time() + 60
    while len(done) < 5 and time.time() < deadline:
        done.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    project = Project(path)
    runs = project.runs()
    assert len(runs) >= len(done)  # every acknowledged run survived
    for run_id in runs["id"]:  # and every run present is whole
        assert len(project.run_predictions(run_id, "dev")) == 5000
    assert project._db.read().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_runs_with_and_without_a_diagnosis_list_together(project):
    project.log_run("diagnosed", errors={"train": 0.1}, diagnosis={"primary": "variance"})
    project.log_run("bare", errors={"train": 0.2})
    problems = project.runs()["problem"]
    assert problems[0] == "variance" and pd.isna(problems[1])


def test_revision_grows_with_every_write_from_any_handle(tmp_path):
    first, second = open_project(tmp_path), open_project(tmp_path)
    before = first.revision()
    second.log_run("a", errors={"dev": 0.1})
    assert first.revision() == before + 1
    with pytest.raises(ValueError):
        second.log_run("bad", errors={"dev": 2.0})
    assert first.revision() == before + 1  # a refused write changes nothing
