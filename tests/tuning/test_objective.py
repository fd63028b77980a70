"""Studies of any objective: optimize(objective), ask/tell, resumability,
satisficing, failures, Dask, successive halving budgets, the Tuning page."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlstrat.store import Project, StoreError
from mlstrat.tuning import (
    ObjectiveError,
    StudyFailedError,
    SuccessiveHalving,
    Trial,
    choice,
    create_study,
    load_study,
    loguniform,
    one_minus_log,
)
from tests.tuning._objectives import OPT_BETA, OPT_LR, SPACE_DICT, quadratic, quadratic_loss

HERE = Path(__file__).resolve().parent
LOSS = ("loss", "minimize")


def _study(tmp_path, name="q", **kw):
    kw.setdefault("optimize", LOSS)
    return create_study(name, SPACE_DICT, project=tmp_path, seed=kw.pop("seed", 5), **kw)


# ------------------------------------------------------------------ the search
def test_random_search_on_the_log_scales_finds_the_known_optimum(tmp_path):
    result = _study(tmp_path).optimize(quadratic, n_trials=40)
    frame = result.to_frame()
    assert result.n_complete == 40 and (frame["loss"] == frame["value"]).all()
    lr, beta = frame["lr"].to_numpy(), frame["beta"].to_numpy()
    # sampled on the log and 1 - beta scales: a uniform draw would almost never
    # give lr < 1e-3 (0.1% of [1e-5, 1]) or beta > 0.999 (0.1% of [0.9, 0.9999])
    assert 0.2 < np.mean(lr < 1e-3) < 0.6       # expected 2/5 on the log scale
    assert 0.15 < np.mean(beta > 0.999) < 0.55  # expected 1/3 on the 1 - beta scale
    best = result.best_params
    assert abs(math.log10(best["lr"] / OPT_LR)) < 0.5
    assert abs(math.log10((1 - best["beta"]) / (1 - OPT_BETA))) < 0.5
    # the value stored is the objective's, recomputed independently
    assert result.best_value == pytest.approx(quadratic_loss(best["lr"], best["beta"]))
    assert result.best_value == pytest.approx(min(map(quadratic_loss, lr, beta)))


def test_a_number_returned_is_the_default_metric_and_params_follow_the_seed(tmp_path):
    study = create_study("plain", SPACE_DICT, project=tmp_path / "a", seed=5)
    result = study.optimize(quadratic, n_trials=3)
    assert result.metric == "dev_error" and result.n_complete == 3
    # the same (seed, number) gives the same params as the estimator path and ask()
    other = _study(tmp_path / "b")
    asked = [other.ask() for _ in range(3)]
    assert [t.params for t in asked] == result.trials["params"].tolist()


def test_suggest_reads_the_space_and_optuna_style_helpers_check_it(tmp_path):
    space = {"lr": loguniform(1e-4, 1.0), "beta": one_minus_log(0.9, 0.999),
             "units": choice([32, 64]), "layers": {"intuniform": [1, 3]},
             "drop": {"uniform": [0.0, 0.5]}}
    study = create_study("s", space, project=tmp_path, optimize=LOSS)
    trial = study.ask()
    assert trial.suggest_float("lr", 1e-4, 1.0, log=True) == trial.params["lr"]
    assert trial.suggest_float("beta", 0.9, 0.999) == trial.params["beta"]
    assert trial.suggest_float("drop", 0.0, 0.5) == trial.params["drop"]
    assert trial.suggest_int("layers", 1, 3) == trial.params["layers"]
    assert trial.suggest_categorical("units", [32, 64]) == trial.params["units"]
    with pytest.raises(ValueError, match=r"loguniform\(1e-05, 1.0\).*declares 'lr' as "
                                         r"loguniform\(0.0001, 1.0\)"):
        trial.suggest_float("lr", 1e-5, 1.0, log=True)
    with pytest.raises(KeyError, match=r"'momentum' is not a parameter.*\['beta', 'drop'"):
        trial.suggest("momentum")


# ------------------------------------------------------------------ ask / tell
def test_ask_tell_round_trip(tmp_path):
    study = _study(tmp_path)
    trial = study.ask()
    assert isinstance(trial, Trial) and trial.number == 0 and set(trial.params) == {"lr", "beta"}
    trial.report(step=1, train_loss=0.9, dev_loss=1.0)
    trial.report(0.5, step=2)
    loss = quadratic(trial)
    assert study.tell(trial, {"loss": loss, "latency_ms": np.float32(3.5)}) == "complete"
    row = study.project.trials("q").iloc[0]
    assert row["state"] == "complete" and row["value"] == pytest.approx(loss)
    assert row["metrics"] == {"loss": pytest.approx(loss), "latency_ms": 3.5}
    history = study.project.trial_history(int(row["id"]))
    assert history["epoch"].tolist() == [1, 2] and history["dev_loss"].iloc[0] == 1.0
    with pytest.raises(ObjectiveError, match="not running any more"):
        study.tell(trial, 0.1)  # told twice
    # a failure, by exception
    second = study.ask()
    try:
        raise ZeroDivisionError("lr underflow")
    except ZeroDivisionError as exc:
        assert study.tell(second, exc) == "failed"
    # no optimizing metric: refused, nothing stored, the trial stays running
    third = study.ask()
    with pytest.raises(ObjectiveError, match=r"no 'loss' metric.*\['acc'\]"):
        study.tell(third, {"acc": 0.9})
    assert study.project.trials("q").iloc[2]["state"] == "running"
    assert study.tell(third.number, 0.25) == "complete"  # by number
    frame = study.project.trials("q")
    assert frame["state"].tolist() == ["complete", "failed", "complete"]
    assert frame["error"].iloc[1].startswith("ZeroDivisionError: lr underflow")
    assert study.result().best_trial()["number"] == (0 if loss < 0.25 else 2)


def test_an_asked_trial_whose_process_stops_beating_is_requeued_once(tmp_path):
    first = _study(tmp_path)
    lost = first.ask()
    first._ask_beat.ids.clear()  # as if its process had died: no more heartbeats
    time.sleep(0.2)
    second = _study(tmp_path)  # another process (worker) on the same study
    again = second.ask(stale_after=0.1)
    assert (again.number, again.params) == (lost.number, lost.params)
    assert second.tell(again, 0.5) == "complete"
    with pytest.raises(ObjectiveError, match="re-queued after its heartbeat stopped"):
        first.tell(lost, 0.1)  # the late answer is dropped
    row = Project(tmp_path).trials("q").iloc[0]
    assert (row["value"], row["attempts"], len(Project(tmp_path).trials("q"))) == (0.5, 2, 1)


def _spawn(*args):
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    return subprocess.Popen([sys.executable, str(HERE / "_run_objective.py"), *map(str, args)],
                            env=env, stdout=subprocess.PIPE, text=True)


def test_two_processes_asking_at_once_never_get_the_same_trial(tmp_path):
    _study(tmp_path, "both")  # created first, so both processes open the same study
    go = tmp_path / "go"
    procs = [_spawn("ask", tmp_path, "both", 40, go) for _ in range(2)]
    deadline = time.time() + 60
    while len(list(tmp_path.glob("go.ready.*"))) < 2 and time.time() < deadline:
        time.sleep(0.01)
    go.touch()  # both processes start asking at the same moment
    outs = [p.communicate(timeout=90)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    got = [json.loads(o.strip().splitlines()[-1]) for o in outs]
    assert not set(got[0]) & set(got[1])
    assert sorted(got[0] + got[1]) == list(range(80))
    frame = Project(tmp_path).trials("both")
    assert len(frame) == 80 and (frame["state"] == "complete").all()
    assert frame["worker"].nunique() == 2 and (frame["attempts"] == 1).all()


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


def test_kill_9_during_optimize_then_resume_runs_exactly_n_trials(tmp_path):
    log = tmp_path / "calls.log"
    proc = _spawn("optimize", tmp_path, "killed", 6, 0.3, log)
    project = _wait_for(tmp_path, "killed", lambda f: (f["state"] == "complete").sum() >= 2
                        and (f["state"] == "running").any())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    before = project.trials("killed")
    assert (before["state"] == "running").sum() == 1
    from functools import partial

    from tests.tuning._objectives import logged

    study = load_study("killed", project=Project(tmp_path))
    result = study.optimize(partial(logged, sleep=0.0, log=str(log)), n_trials=6,
                            stale_after=1.0, heartbeat_interval=0.2)
    frame = result.trials
    assert sorted(frame["number"]) == list(range(6)) and (frame["state"] == "complete").all()
    assert len({tuple(sorted(p.items())) for p in frame["params"]}) == 6
    calls = pd.Series([int(n) for n in log.read_text().split()]).value_counts()
    done = before.loc[before["state"] == "complete", "number"]
    assert (calls[done] == 1).all(), "a completed trial ran again"
    assert set(calls.index) == set(range(6))
    after = frame.set_index("number")
    killed = int(before.loc[before["state"] == "running", "number"].iloc[0])
    assert after.loc[killed, "attempts"] == 2
    assert after.loc[killed, "params"] == before.set_index("number").loc[killed, "params"]
    for _, row in before[before["state"] == "complete"].iterrows():
        assert after.loc[row["number"], "finished_at"] == row["finished_at"]


# ------------------------------------------------------------------ the choice
def _with_latency(trial):
    loss = quadratic(trial)
    # the closer to the optimum, the slower: the best loss is not the fastest
    return {"loss": loss, "latency_ms": 100.0 / (1.0 + loss)}


def test_satisficing_choice_on_returned_metrics(tmp_path):
    study = _study(tmp_path, "sat", satisfice={"latency_ms": ("<=", 50)})
    result = study.optimize(_with_latency, n_trials=25)
    frame = result.to_frame()
    feasible = frame[frame["latency_ms"] <= 50]
    assert 0 < len(feasible) < len(frame)
    expected = int(feasible.loc[feasible["loss"].idxmin(), "number"])
    unconstrained = int(frame.loc[frame["loss"].idxmin(), "number"])
    assert expected != unconstrained
    assert result.best_trial()["number"] == expected           # the study's satisfice
    assert result.select(satisfice={}).chosen == str(unconstrained)
    # kept with the study: reopened elsewhere, the same choice
    again = load_study("sat", project=Project(tmp_path)).result()
    assert again.satisfice == {"latency_ms": ("<=", 50.0)}
    assert again.best_trial()["number"] == expected
    assert f"Best: trial {expected}," in str(again)
    none = result.select(satisfice={"latency_ms": ("<=", -1)})
    assert none.chosen is None and "No candidate satisfies" in none.message


# ------------------------------------------------------------------ failures
def _fragile(trial):
    lr = trial.suggest("lr")
    if lr > 1e-2:
        raise ValueError(f"lr too large: {lr:.3g}")
    if lr < 1e-4:
        return {"accuracy": 0.5}  # no 'loss'
    if lr < 3e-4:
        return float("nan")
    return {"loss": quadratic(trial)}


def test_a_raising_objective_marks_its_trial_failed_with_the_message(tmp_path):
    result = _study(tmp_path, "fragile").optimize(_fragile, n_trials=20)
    frame = result.to_frame()
    lr = frame["lr"]
    failed = frame[frame["state"] == "failed"]
    assert set(failed["number"]) == set(frame.loc[(lr > 1e-2) | (lr < 3e-4), "number"])
    raised = failed[lr[failed.index] > 1e-2]
    assert len(raised) and raised["error"].str.startswith("ValueError: lr too large").all()
    assert failed.loc[lr[failed.index] < 1e-4, "error"].str.contains("no 'loss' metric").all()
    assert failed.loc[(lr[failed.index] >= 1e-4) & (lr[failed.index] < 3e-4),
                      "error"].str.startswith("diverged").all()
    assert result.n_complete == len(frame) - len(failed) > 0


def test_every_trial_failing_raises_with_the_first_message_and_keeps_them(tmp_path):
    def broken(trial):
        return {"loss": 1.0 / 0}

    with pytest.raises(StudyFailedError, match=r"Every trial of study 'broken' failed \(3 of 3\)"
                                               r"; the first, trial 0: ZeroDivisionError"):
        _study(tmp_path, "broken").optimize(broken, n_trials=3)
    assert Project(tmp_path).trials("broken")["state"].tolist() == ["failed"] * 3


def test_bad_calls_are_refused_before_anything_is_written(tmp_path):
    study = _study(tmp_path)
    with pytest.raises(TypeError, match="takes no X_train"):
        study.optimize(quadratic, np.zeros((2, 2)), n_trials=2)
    with pytest.raises(StoreError, match="optimizing 'loss'"):
        create_study("q", SPACE_DICT, project=tmp_path, seed=5)  # another metric
    with pytest.raises(ValueError, match="direction"):
        _study(tmp_path, "d", optimize=("loss", "lowest"))
    with pytest.raises(ValueError, match="satisfice"):
        _study(tmp_path, "e", satisfice={"latency_ms": "fast"})
    halving = _study(tmp_path, "h", strategy=SuccessiveHalving(1, 9, 3))
    with pytest.raises(ObjectiveError, match="ask\\(\\) cannot run a halving study"):
        halving.ask()
    assert Project(tmp_path).trials("q").empty


# ------------------------------------------------------------------ budgets, Dask
def _budgeted(trial):
    # more budget, lower loss: the best configurations survive to the top rung
    return {"loss": quadratic(trial) + 1.0 / trial.budget, "budget_seen": trial.budget}


def test_successive_halving_passes_each_rung_its_budget(tmp_path):
    study = _study(tmp_path, "sh", strategy=SuccessiveHalving(1, 9, 3))
    result = study.optimize(_budgeted, n_trials=9)
    frame = result.to_frame()
    assert len(frame) == 9 and result.n_complete == 1 and result.n_pruned == 8
    best = frame[frame["state"] == "complete"].iloc[0]
    assert best["budget_seen"] == 9 and best["epochs"] == 9 and best["rung"] == 2
    # the survivor is the configuration best at the first rung
    first = {n: quadratic_loss(p["lr"], p["beta"]) for n, p in
             zip(frame["number"], result.trials["params"], strict=True)}
    assert best["number"] == min(first, key=first.get)
    assert sorted(frame["epochs"]) == [1] * 6 + [3] * 2 + [9]
    assert result.total_epochs == 6 * 1 + 2 * (1 + 3) + (1 + 3 + 9)


def _on_worker(trial):
    from distributed import get_worker

    return {"loss": quadratic(trial), "worker": get_worker().address}


def test_dask_local_cluster_runs_the_objectives(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        result = _study(tmp_path, "dask").optimize(_on_worker, n_trials=4, client=client)
        address = next(iter(client.scheduler_info()["workers"]))
    frame = result.to_frame()
    assert sorted(frame["number"]) == list(range(4)) and (frame["state"] == "complete").all()
    assert (frame["worker"] == address).all()  # each objective ran on the Dask worker


# ------------------------------------------------------------------ the dashboard
def test_the_tuning_page_shows_an_objective_study(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    _study(tmp_path, "objective-study", satisfice={"latency_ms": ("<=", 50)}).optimize(
        _with_latency, n_trials=8)
    monkeypatch.setenv("MLSTRAT_PROJECT", str(tmp_path))
    at = AppTest.from_file(str(HERE.parents[1] / "dashboards" / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/tuning.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "objective-study" in at.selectbox(key="study_select").options
    assert len(at.get("vega_lite_chart")) == 2  # scores by lr and beta, and the choice
    assert any("Chosen:" in s.value or "satisfies" in s.value
               for s in list(at.success) + list(at.warning))
