"""`mlstrat tune` as a new user meets it (issue 13, point 14): the shipped
example runs, a CSV's text columns are encoded as `mlstrat baseline` encodes
them, Hyperband says why it runs another number of trials, the progress line
shows done/total and time left, and a resumed study whose previous driver
was killed says what it waits for and how to shorten the wait."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import mlstrat.tuning._study as study_module
from mlstrat.cli import main
from mlstrat.store import Project
from mlstrat.tuning import (
    DISTRIBUTIONS,
    KEYS,
    StudyStart,
    TrialBar,
    create_study,
    load_config,
    parse_config,
)
from mlstrat.tuning._progress import waiting_message

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "study.toml"


# -- the shipped example ------------------------------------------------------
def test_the_shipped_example_runs_and_writes_a_study(tmp_path, capsys):
    project = tmp_path / "p"
    assert main(["tune", str(EXAMPLE), "--project", str(project), "--n-trials", "2"]) == 0
    out, err = capsys.readouterr()
    name = tomllib.loads(EXAMPLE.read_text())["study"]["name"]
    trials = Project(project).trials(name)
    assert list(trials["state"]) == ["complete", "complete"]
    assert trials["value"].between(0, 1).all()
    assert len(Project(project).runs()) == 1  # the best trial became a run
    assert "Best: trial" in out and err.splitlines()[-1].startswith("2/2 trials")


def test_the_example_documents_every_key_and_distribution():
    text = EXAMPLE.read_text()
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for section, keys in KEYS.items():
        assert f"[{section}]" in text
        for key in keys:  # each key named at the start of a comment line
            assert re.search(rf"^#\s+{key}\b", comments, re.MULTILINE), (section, key)
    for name in DISTRIBUTIONS:
        assert name in comments, name
    config = load_config(EXAMPLE)  # and it parses as the format says
    assert config.n_trials == 8 and config.data == {"dataset": "digits", "dev_fraction": 0.25,
                                                    "random_state": 0}


def test_help_says_where_the_format_is_documented(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["tune", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples/study.toml" in out and "--stale-after SECONDS" in out
    assert "--n-trials N" in out


def test_an_unknown_key_is_refused_with_the_near_miss(tmp_path, capsys):
    config = tmp_path / "study.toml"
    config.write_text(EXAMPLE.read_text().replace("n_trials = 8", "n_trial = 8"))
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 2
    assert "did you mean 'n_trials'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_seed_of_none_is_refused_and_an_absent_n_trials_is_not():
    """A config built in Python may hold None: the seed must be a whole
    number, while n_trials is optional (the strategy's own count)."""
    raw = {"study": {"seed": None}, "data": {"dataset": "iris"},
           "space": {"C": {"loguniform": [0.01, 10.0]}}}
    with pytest.raises(ValueError, match=r"\[study\] seed must be a whole number >= 0, "
                                         r"such as seed = 10\. Got None\."):
        parse_config(raw)
    config = parse_config({**raw, "study": {"n_trials": None}})
    assert (config.seed, config.n_trials) == (0, None)


# -- a CSV with text columns ----------------------------------------------------
STUDY = """
[study]
name = "{name}"
strategy = "{strategy}"
n_trials = {n_trials}

[strategy]
{strategy_options}

[data]
{data}
dev_fraction = 0.25

[estimator]
name = "{estimator}"
params = {params}

[space]
{space}
"""


def _write(tmp_path, *, name="s", strategy="random", n_trials=3, strategy_options="",
           data='dataset = "iris"', estimator="LogisticRegression",
           params="{max_iter = 300}", space="C = {loguniform = [0.01, 10.0]}"):
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(name=name, strategy=strategy, n_trials=n_trials,
                                 strategy_options=strategy_options, data=data,
                                 estimator=estimator, params=params, space=space))
    return path


def _penguins(n=160, seed=0):
    """A penguins-like table: a number, two text columns of few values, free
    text, and a text target."""
    rng = np.random.default_rng(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], size=n)
    species = np.where(island == "Torgersen", "Adelie",
                       np.where(rng.random(n) < 0.8, np.where(island == "Biscoe", "Gentoo",
                                                              "Chinstrap"), "Adelie"))
    bill = np.where(species == "Gentoo", 47.5, np.where(species == "Adelie", 38.8, 48.8))
    sex = rng.choice(["male", "female", None], size=n, p=[0.48, 0.48, 0.04])
    notes = [f"nest {i} seen at dawn near the colony edge" for i in range(n)]
    return pd.DataFrame({"bill_length_mm": bill + rng.normal(0, 2.0, n), "island": island,
                         "sex": sex, "notes": notes, "species": species})


def test_a_csv_with_text_columns_is_tuned_with_baseline_encoding(tmp_path, capsys):
    frame = _penguins()
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    config = _write(tmp_path, data='csv = "penguins.csv"\ntarget = "species"')
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"island\s+categorical", out) and re.search(r"notes\s+text", out)
    trials = Project(tmp_path / "p").trials("s")
    assert list(trials["state"]) == ["complete"] * 3
    assert trials["value"].min() < 0.35  # island and bill tell the species apart

    # the arrays the study trained on, against pandas on the same train rows
    data = load_config(config).prepare_data()
    train_rows, _ = train_test_split(np.arange(len(frame)), test_size=0.25, random_state=0,
                                     stratify=frame["species"])
    train = frame.iloc[train_rows]
    names = [n.split("__", 1)[1] for n in data.encoder.get_feature_names_out()]
    X = pd.DataFrame(data.X_train, columns=names)
    dummies = pd.get_dummies(train["island"], prefix="island", dtype=float)
    np.testing.assert_array_equal(X[list(dummies.columns)].to_numpy(), dummies.to_numpy())
    sexes = pd.get_dummies(train["sex"].fillna("(missing)"), prefix="sex", dtype=float)
    np.testing.assert_array_equal(X[list(sexes.columns)].to_numpy(), sexes.to_numpy())
    bill = train["bill_length_mm"].to_numpy()
    np.testing.assert_allclose(X["bill_length_mm"], (bill - bill.mean()) / bill.std(),
                               rtol=1e-5, atol=1e-5)
    assert not any(n.startswith("notes") for n in names)  # free text left out
    assert list(data.y_train) == list(train["species"])


def test_a_dev_csv_with_an_unseen_category_and_a_role_override(tmp_path, capsys):
    frame = _penguins(200)
    frame.iloc[:150].to_csv(tmp_path / "train.csv", index=False)
    dev = frame.iloc[150:].copy()
    dev.loc[dev.index[:3], "island"] = "Biscoe Point"  # not in train: all zeros
    dev.to_csv(tmp_path / "dev.csv", index=False)
    config = _write(tmp_path, data='csv = "train.csv"\ntarget = "species"\n'
                                   'dev_csv = "dev.csv"\ndrop = ["sex"]')
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    assert re.search(r"sex\s+drop\s+dropped by you", capsys.readouterr().out)
    data = load_config(config).prepare_data()
    names = [n.split("__", 1)[1] for n in data.encoder.get_feature_names_out()]
    islands = [i for i, n in enumerate(names) if n.startswith("island_")]
    assert len(data.X_dev) == 50 and data.X_dev[:3][:, islands].sum() == 0
    assert data.X_dev[3:][:, islands].sum(axis=1).tolist() == [1.0] * 47


# -- Hyperband and halving say what they do with n_trials -------------------------
def test_hyperband_says_why_it_runs_another_number_of_trials(tmp_path, capsys):
    config = _write(tmp_path, strategy="hyperband", n_trials=10,
                    strategy_options="min_epochs = 1\nmax_epochs = 3\neta = 3",
                    estimator="NeuralNetClassifier",
                    params="{batch_size = 50, hidden_layer_sizes = [8], random_state = 0}",
                    space="learning_rate = {loguniform = [1e-3, 1e-1]}")
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    out, err = capsys.readouterr()
    # brackets: 3 configurations from 1 epoch (best 1 to 3), 2 from 3 epochs
    assert ("Hyperband (min_epochs=1, max_epochs=3, eta=3) runs 2 brackets: 3 configurations "
            "from 1 epoch, 2 from 3 epochs; 5 trials in all (6 trainings).") in out
    assert "[study] n_trials = 10 is not used: the brackets set the number of trials" in out
    assert len(Project(tmp_path / "p").trials("s")) == 5
    assert err.splitlines()[-1].startswith("6/6 trainings")


def test_halving_says_what_its_rungs_do(tmp_path, capsys):
    config = _write(tmp_path, strategy="halving", n_trials=4,
                    strategy_options="min_epochs = 1\nmax_epochs = 2\neta = 2",
                    estimator="NeuralNetClassifier",
                    params="{batch_size = 50, hidden_layer_sizes = [8], random_state = 0}",
                    space="learning_rate = {loguniform = [1e-3, 1e-1]}")
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    out, err = capsys.readouterr()
    assert ("Successive halving (eta=2): 4 configurations train 1 epoch; the best 2 "
            "continue to 2 epochs (6 trainings of 4 trials).") in out
    frame = Project(tmp_path / "p").trials("s")
    assert sorted(frame["state"]) == ["complete", "complete", "pruned", "pruned"]
    assert [line.split(" |")[0] for line in err.splitlines()] == \
        [f"{i}/6 trainings" for i in range(1, 7)]


# -- the progress line ------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_line_is_updated_in_place_on_a_terminal():
    stream, out = _Terminal(), io.StringIO()
    bar = TrialBar(stream=stream, out=out)
    bar.begin(StudyStart("s", total=4, done=1, unit="trials", metric="dev_error",
                         greater_is_better=False, best=(0.3, 0)))
    for number, value in ((1, 0.2), (2, None), (3, 0.25)):
        bar.trial({"number": number, "state": "failed" if value is None else "complete",
                   "value": value, "error": "boom: diverged", "epochs": 2, "seconds": 0.5,
                   "metrics": {}})
    bar.close()
    text = stream.getvalue()
    assert "\n" not in text.rstrip("\n")  # one line, rewritten with carriage returns
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("4/4 trials") and "best dev_error 0.2 (trial 1)" in last
    assert "elapsed" in last and "left" in last
    assert out.getvalue() == "trial   2 failed   boom: diverged  epochs=2  0.5s\n"


def test_time_left_comes_from_the_trials_finished_in_this_run(monkeypatch):
    clock = iter([100.0, 110.0, 120.0])
    monkeypatch.setattr("mlstrat.tuning._progress.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    bar = TrialBar(stream=stream)  # not a terminal: one line per finished trial
    bar.begin(StudyStart("s", total=12, done=2, unit="trials", metric="dev_error",
                         greater_is_better=False))
    bar.trial({"number": 2, "state": "complete", "value": 0.5, "metrics": {}})
    bar.trial({"number": 3, "state": "complete", "value": 0.4, "metrics": {}})
    # 2 trials in 20 s, 8 left: 80 s
    assert stream.getvalue().splitlines() == [
        "3/12 trials | best dev_error 0.5 (trial 2) | elapsed 00:10, left ~01:30",
        "4/12 trials | best dev_error 0.4 (trial 3) | elapsed 00:20, left ~01:20"]


# -- a resumed study whose previous driver was killed ------------------------------------
def _dead_worker() -> str:
    """The worker name of a driver process that has exited (as if killed)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return f"{socket.gethostname()}:{proc.pid}:dead01"


def _leave_a_running_trial(project_path, name="s", number=2):
    """What a killed driver leaves behind: a claimed trial, running, whose
    heartbeat will never be refreshed. Returns (project, trial id, worker)."""
    project = Project(project_path)
    study_id = int(project.get_study(name)["id"])
    worker = _dead_worker()
    trial = project.claim_trial(study_id, worker, propose=lambda n: {"C": 1.0},
                                n_trials=number + 1)
    assert trial is not None and trial["number"] == number
    return project, int(trial["id"]), worker


@contextlib.contextmanager
def _beating_until_waited_for(monkeypatch, project, trial_id, worker):
    """Keep the trial's heartbeat fresh until the new driver starts waiting for
    it (as if its driver were killed at that moment), so that the wait cannot
    be skipped by a slow start, whatever --stale-after."""
    waited = threading.Event()
    real = study_module.waiting_message

    def spy(*args, **kwargs):
        waited.set()
        return real(*args, **kwargs)

    def beat():
        deadline = time.monotonic() + 60
        while not waited.is_set() and time.monotonic() < deadline:
            project.heartbeat([trial_id], worker)
            time.sleep(0.05)

    monkeypatch.setattr(study_module, "waiting_message", spy)
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield waited
    finally:
        waited.set()
        thread.join(timeout=5)


def test_a_resumed_study_says_what_it_waits_for_and_stale_after_shortens_it(
        tmp_path, capsys, monkeypatch):
    config = _write(tmp_path, n_trials=2)
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    project, trial_id, worker = _leave_a_running_trial(tmp_path / "p")
    capsys.readouterr()
    t0 = time.monotonic()
    with _beating_until_waited_for(monkeypatch, project, trial_id, worker) as waited:
        assert main(["tune", str(config), "--project", str(tmp_path / "p"), "--n-trials",
                     "3", "--stale-after", "1"]) == 0
    assert waited.is_set() and time.monotonic() - t0 < 30  # not the default 120 s
    out, err = capsys.readouterr()
    assert "Waiting for trial 2, held by another driver" in out
    assert "on this machine has exited" in out
    assert "older than 1 s is re-queued and run here" in out
    assert "mlstrat tune --stale-after SECONDS" in out
    trials = project.trials("s").set_index("number")
    assert trials.loc[2, "state"] == "complete" and trials.loc[2, "params"] == {"C": 1.0}
    assert err.splitlines()[-1].startswith("3/3 trials")


def test_by_default_the_wait_is_120_s_and_the_message_says_so(tmp_path):
    config = _write(tmp_path, n_trials=2)
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    project, _, _ = _leave_a_running_trial(tmp_path / "p")
    notices = []

    class Notices:
        def begin(self, start):
            notices.append(f"begin {start.done}/{start.total}")

        def trial(self, record):
            pass

        def notice(self, text):
            notices.append(text)

        def close(self):
            pass

    study = create_study("s", load_config(config).space, project=project)
    data = load_config(config).prepare_data()
    from sklearn.linear_model import LogisticRegression

    study.optimize(LogisticRegression(max_iter=300), data.X_train, data.y_train, data.X_dev,
                   data.y_dev, n_trials=3, timeout=1.5, progress=Notices())
    assert notices[0] == "begin 2/3"
    assert len(notices) == 2 and "Waiting for trial 2" in notices[1]
    seconds = int(re.search(r"in about (\d+) s", notices[1]).group(1))
    assert "older than 120 s" in notices[1] and 115 <= seconds <= 120
    assert project.trials("s").set_index("number").loc[2, "state"] == "running"


def test_waiting_message_for_several_trials_of_a_driver_elsewhere():
    rows = [{"number": n, "worker": "node7:311:aa", "heartbeat_at": 50.0 + n} for n in (4, 9)]
    text = waiting_message(rows, stale_after=30, interval=2, now=60.0, host="here")
    assert text.startswith("Waiting for 2 trials (4, 9), held by another driver "
                           "(node7:311:aa); the latest heartbeat was 1 s ago.")
    assert "in about 29 s" in text and "heartbeat interval (2 s)" in text


def test_a_bad_stale_after_is_refused_before_anything_is_written(tmp_path, capsys):
    config = _write(tmp_path)
    assert main(["tune", str(config), "--project", str(tmp_path / "p"),
                 "--stale-after", "-5"]) == 2
    assert "stale_after" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()
