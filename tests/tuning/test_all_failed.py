"""A study in which every trial fails exits non-zero with the first failure's message."""

from __future__ import annotations

from mlstrat.cli import main
from mlstrat.store import open_project

STUDY = """
[study]
name = "lr"
strategy = "random"
n_trials = 3

[data]
dataset = "iris"

[estimator]
name = "LogisticRegression"
params = {params}

[space]
C = {space}
"""


def _tune(tmp_path, capsys, params, space="{loguniform = [0.01, 10.0]}"):
    config = tmp_path / "study.toml"
    config.write_text(STUDY.format(params=params, space=space))
    code = main(["tune", str(config), "--project", str(tmp_path / "p")])
    return code, capsys.readouterr()


def test_every_trial_failing_exits_1_with_the_first_message(tmp_path, capsys):
    code, out = _tune(tmp_path, capsys, '{solver = "no-such-solver"}')
    assert code == 1
    # stderr: the progress lines (3/3 trials done), then ONE error line
    lines = out.err.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    assert errors == lines[-1:] and lines[-2].startswith("3/3 trials")
    assert "every trial of study 'lr' failed (3 of 3)" in lines[-1]
    assert "trial 0" in lines[-1] and "solver" in lines[-1] and "no-such-solver" in lines[-1]
    assert out.out.count("failed ") == 3  # each failed trial said so as it finished
    assert "Traceback" not in out.err
    trials = open_project(tmp_path / "p").trials("lr")
    assert list(trials["state"]) == ["failed"] * 3  # the failures are kept for review


def test_some_trials_failing_is_success(tmp_path, capsys):
    # C <= 0 is invalid for LogisticRegression: the uniform range gives some of each
    code, out = _tune(tmp_path, capsys, "{max_iter = 300}", space="{uniform = [-1.0, 1.0]}")
    trials = open_project(tmp_path / "p").trials("lr")
    states = set(trials["state"])
    assert states == {"complete", "failed"}, trials[["params", "state"]]
    assert code == 0 and "every trial" not in out.err
