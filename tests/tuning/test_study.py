import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlstrat.store import Project, StoreError
from mlstrat.tuning import (
    CoarseToFine,
    GridSearch,
    WaitingForTrialsWarning,
    choice,
    create_study,
    load_study,
    loguniform,
    one_minus_log,
)
from tests.tuning._helpers import SleepyClassifier, toy_data

HERE = Path(__file__).resolve().parent
SPACE = {"alpha": loguniform(1e-3, 1e3), "beta": one_minus_log(0.9, 0.999)}
FAST = dict(measure_latency=False, heartbeat_interval=0.2)


def _run(study, n_trials, **kw):
    return study.optimize(SleepyClassifier(), *toy_data(), n_trials=n_trials, **FAST, **kw)


def _assert_exact(frame, n):
    assert len(frame) == n
    assert sorted(frame["number"]) == list(range(n))
    assert (frame["state"] == "complete").all()
    keys = [tuple(sorted(p.items())) for p in frame["params"]]
    assert len(set(keys)) == n, "a configuration was tried twice"


def test_grid_and_random_counts(tmp_path):
    grid = create_study("g", SPACE, project=tmp_path, strategy=GridSearch(n_per_dim=3))
    result = _run(grid, n_trials=None)
    assert len(result.to_frame()) == 9
    alphas = {p["alpha"] for p in result.trials["params"]}
    assert len(alphas) == 3  # a grid tries each value of a dimension 3 times
    rand = create_study("r", SPACE, project=tmp_path, strategy="random")
    result = _run(rand, n_trials=9)
    assert len({p["alpha"] for p in result.trials["params"]}) == 9
    # a grid larger than asked is cut at n_trials
    result = _run(create_study("g2", SPACE, project=tmp_path, strategy="grid"), n_trials=4)
    assert len(result.trials) == 4


def test_resume_after_crash_new_project_object(tmp_path):
    study = create_study("s", SPACE, project=tmp_path, seed=3)
    _run(study, n_trials=4)
    first = Project(tmp_path).trials("s")
    # a "crash": a trial claimed but never finished, by a process that is gone
    study.project.claim_trial(study.study_id, "dead-host:1:x", propose=study._propose)
    study.project.close()
    again = create_study("s", SPACE, project=Project(tmp_path), seed=3)
    result = _run(again, n_trials=10, stale_after=0.0)
    _assert_exact(result.trials, 10)
    assert result.trials["params"][:4].tolist() == first["params"].tolist()
    requeued = result.trials[result.trials["number"] == 4].iloc[0]
    assert requeued["attempts"] == 2 and "stale" in requeued["error"] or requeued["error"] is None
    # running the finished study again adds nothing
    assert len(_run(again, n_trials=10).trials) == 10


def test_params_derive_from_seed_and_number(tmp_path):
    a = _run(create_study("a", SPACE, project=tmp_path / "a", seed=1), n_trials=5)
    b = create_study("b", SPACE, project=tmp_path / "b", seed=1)
    _run(b, n_trials=2)
    b = _run(load_study("b", project=tmp_path / "b"), n_trials=5)
    assert a.trials["params"].tolist() == b.trials["params"].tolist()


def test_same_name_different_space_is_refused(tmp_path):
    create_study("s", SPACE, project=tmp_path)
    with pytest.raises(StoreError, match="different search space"):
        create_study("s", {"alpha": loguniform(1e-3, 1e2)}, project=tmp_path)
    with pytest.raises(StoreError, match="strategy"):
        create_study("s", SPACE, project=tmp_path, strategy="grid")


def test_unknown_hyperparameter_is_refused_before_any_trial(tmp_path):
    study = create_study("s", {"learning_rate": loguniform(1e-4, 1.0)}, project=tmp_path)
    with pytest.raises(ValueError, match=r"'learning_rate'.*Valid names: \['alpha', 'beta'"):
        _run(study, n_trials=2)
    assert study.project.trials("s").empty


def test_failed_and_diverged_trials_are_recorded_and_search_goes_on(tmp_path):
    space = {"alpha": loguniform(1e-2, 1e2)}
    study = create_study("f", space, project=tmp_path, seed=0)
    result = study.optimize(SleepyClassifier(mode="raise_big"), *toy_data(), n_trials=8, **FAST)
    frame = result.trials
    assert len(frame) == 8
    failed = frame[frame["state"] == "failed"]
    assert len(failed) and (failed["error"].str.contains("boom")).all()
    assert (frame.loc[frame["state"] == "complete", "params"].map(lambda p: p["alpha"]) <= 1).all()
    assert "Failed: trial" in str(result)
    div = create_study("d", space, project=tmp_path)
    result = div.optimize(SleepyClassifier(mode="diverge"), *toy_data(), n_trials=2, **FAST)
    assert (result.trials["state"] == "failed").all()
    assert result.trials["error"].str.startswith("diverged").all()


def test_coarse_to_fine_samples_near_the_best(tmp_path):
    # score = |log10(alpha) - 1| through a scoring callable on a fake estimator
    from sklearn.dummy import DummyRegressor

    class Bowl(DummyRegressor):
        def __init__(self, strategy="mean", constant=None, quantile=None, alpha=1.0):
            super().__init__(strategy=strategy, constant=constant, quantile=quantile)
            self.alpha = alpha

        def predict(self, X):
            return np.full(len(X), abs(np.log10(self.alpha) - 1.0))

    def loss(y_true, y_pred):
        return float(np.mean(y_pred))

    study = create_study("c", {"alpha": loguniform(1e-4, 1e4)}, project=tmp_path,
                         strategy=CoarseToFine(n_coarse=8, top_k=2, margin=0.05), scoring=loss)
    result = study.optimize(Bowl(), *toy_data(), n_trials=20, **FAST)
    frame = result.to_frame()
    coarse, fine = frame[frame["number"] < 8], frame[frame["number"] >= 8]
    assert fine["value"].median() < coarse["value"].median()
    assert result.best_value < coarse["value"].min() + 1e-12


def test_result_frame_best_under_constraints_and_log_run(tmp_path):
    from sklearn.linear_model import LogisticRegression

    study = create_study("lr", {"C": loguniform(1e-3, 1e2), "penalty": choice(["l2"])},
                         project=tmp_path, seed=0)
    X, y = toy_data(200)[:2]
    result = study.optimize(LogisticRegression(max_iter=200), X[:70], y[:70], X[70:], y[70:],
                            n_trials=4)
    frame = result.to_frame()
    assert {"number", "state", "value", "C", "penalty", "dev_error", "train_error",
            "latency_ms", "epochs"} <= set(frame.columns)
    sel = result.select(satisfice={"latency_ms": ("<=", 1e6)})
    assert sel.chosen is not None
    assert result.select(satisfice={"latency_ms": ("<=", -1)}).chosen is None
    assert result.best_trial(satisfice={"latency_ms": ("<=", -1)}) is None
    d = result.to_dict()
    assert d["n_complete"] == 4 and d["best"]["number"] == int(sel.chosen)
    run_id = result.log_best_run()
    run = study.project.get_run(run_id)
    assert run.config["study"] == "lr" and "dev" in run.errors
    spec = json.dumps(result.chart().to_dict())
    assert '"title": "dev error"' in spec  # axes say what the score is


def test_cross_validation_without_dev_set(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X, y = toy_data(120)[:2]
    study = create_study("cv", {"C": loguniform(1e-2, 1e2)}, project=tmp_path)
    result = study.optimize(LogisticRegression(), X, y, cv=3, n_trials=2,
                            measure_latency=False)
    assert (result.to_frame()["cv_folds"] == 3).all()


def _spawn(project, name, n_trials, sleep):
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    return subprocess.Popen([sys.executable, str(HERE / "_run_study.py"), str(project), name,
                             str(n_trials), str(sleep)], env=env)


def _wait_for(project_dir, name, predicate, timeout=60):
    deadline, project = time.time() + timeout, None
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            project = project or Project(project_dir)
            frame = project.trials(name)
        except Exception:  # the other process has not created the study yet
            continue
        if predicate(frame):
            return project
    raise AssertionError(f"timed out waiting on study {name!r}")


def test_two_processes_share_one_budget(tmp_path):
    # one study, two processes (a subprocess and this one), n_trials=16 in all
    proc = _spawn(tmp_path, "both", 16, 0.15)
    _wait_for(tmp_path, "both", lambda f: len(f) >= 1)
    study = create_study("both", SPACE, project=Project(tmp_path), seed=7)
    study.optimize(SleepyClassifier(sleep=0.15), *toy_data(), n_trials=16, **FAST)
    assert proc.wait(timeout=60) == 0
    frame = Project(tmp_path).trials("both")
    _assert_exact(frame, 16)
    assert frame["worker"].nunique() == 2  # both processes did some of the work


def test_sigkill_mid_study_then_resume(tmp_path):
    proc = _spawn(tmp_path, "killed", 6, 0.3)
    project = _wait_for(tmp_path, "killed", lambda f: (f["state"] == "complete").sum() >= 2
                        and (f["state"] == "running").any())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    before = project.trials("killed")
    assert (before["state"] == "running").sum() == 1
    study = create_study("killed", SPACE, project=Project(tmp_path), seed=7)
    killed = before.loc[before["state"] == "running", "number"].iloc[0]
    t0 = time.time()
    # the resumed driver says at once what it waits for (the killed process's
    # trial), that the process is gone, and how to wait less
    with pytest.warns(WaitingForTrialsWarning) as caught:
        result = study.optimize(SleepyClassifier(), *toy_data(), n_trials=6,
                                measure_latency=False, stale_after=1.0, heartbeat_interval=0.2)
    assert time.time() - t0 < 30
    message = str(caught[0].message)
    assert f"Waiting for trial {killed}," in message
    assert f"its process {proc.pid} on this machine has exited" in message
    assert "older than 1 s is re-queued" in message and "--stale-after" in message
    _assert_exact(result.trials, 6)
    done = before[before["state"] == "complete"]
    after = result.trials.set_index("number")
    for _, row in done.iterrows():  # finished trials kept, not re-run
        assert after.loc[row["number"], "finished_at"] == row["finished_at"]
    assert after.loc[killed, "attempts"] == 2
    assert after.loc[killed, "params"] == before.set_index("number").loc[killed, "params"]


def test_late_finish_of_a_requeued_trial_is_dropped(tmp_path):
    project = Project(tmp_path)
    sid = project.create_study("s", space={"a": {"uniform": [0, 1]}}, n_trials=1)
    first = project.claim_trial(sid, "w1", propose=lambda n: {"a": 0.5})
    time.sleep(0.05)
    second = project.claim_trial(sid, "w2", propose=lambda n: {"a": 0.9}, stale_after=0.01)
    assert second["number"] == first["number"] == 0 and second["params"] == {"a": 0.5}
    assert second["attempts"] == 2 and "stale" in second["error"]
    assert not project.finish_trial(first["id"], attempts=first["attempts"], state="complete",
                                    value=0.1)
    assert project.finish_trial(second["id"], attempts=2, state="complete", value=0.2,
                                history=[{"epoch": 1, "loss": 0.5}])
    frame = project.trials("s")
    assert frame["value"].tolist() == [0.2] and frame["worker"].tolist() == ["w2"]
    assert project.trial_history(second["id"])["loss"].tolist() == [0.5]
    assert project.studies()["complete"].tolist() == [1]
