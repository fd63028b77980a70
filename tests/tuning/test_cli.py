
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from mlstrat.cli import main
from mlstrat.store import Project

CONFIG = """
[study]
name = "cli-digits"
strategy = "{strategy}"
n_trials = {n_trials}
seed = 0
satisfice = {{latency_ms = ["<=", 1000.0]}}

[strategy]
{strategy_options}

[data]
{data}
dev_fraction = 0.3

[estimator]
name = "NeuralNetClassifier"
params = {{max_epochs = 3, batch_size = 100, hidden_layer_sizes = [16]}}

[space]
learning_rate = {{loguniform = [1e-3, 1e-1]}}
beta1 = {{beta = [0.8, 0.99]}}
hidden_layer_sizes = {{choice = [[16], [32, 16]]}}
"""


def _write(tmp_path, strategy="random", n_trials=3, strategy_options="",
           data='dataset = "digits"', **extra):
    path = tmp_path / "study.toml"
    text = CONFIG.format(strategy=strategy, n_trials=n_trials, data=data,
                         strategy_options=strategy_options)
    for section, line in extra.items():
        text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n")
    path.write_text(text)
    return path


def test_tune_runs_and_resumes(tmp_path, capsys):
    config = _write(tmp_path)
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    out, err = capsys.readouterr()
    assert "Best: trial" in out and "Chosen:" in out
    # one progress line per finished trial on stderr (not a terminal): done/total
    assert [line.split(" |")[0] for line in err.splitlines()] == \
        ["1/3 trials", "2/3 trials", "3/3 trials"]
    project = Project(tmp_path / "p")
    assert len(project.trials("cli-digits")) == 3
    assert len(project.runs()) == 1  # the best trial became a run
    # same study, larger budget: only the missing trials run
    config = _write(tmp_path, n_trials=5)
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    err = capsys.readouterr().err  # the count goes on from the 3 trials already done
    assert [line.split(" |")[0] for line in err.splitlines()] == ["4/5 trials", "5/5 trials"]
    assert sorted(project.trials("cli-digits")["number"]) == list(range(5))


def test_tune_halving_from_csv(tmp_path, capsys):
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:400], columns=[f"px{i}" for i in range(64)]).assign(label=y[:400])
    frame.to_csv(tmp_path / "digits.csv", index=False)
    config = _write(tmp_path, strategy="halving", n_trials=3,
                    strategy_options="min_epochs = 1\nmax_epochs = 3\neta = 3",
                    data='csv = "digits.csv"\ntarget = "label"')
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    trials = Project(tmp_path / "p").trials("cli-digits")
    assert sorted(trials["state"]) == ["complete", "pruned", "pruned"]


@pytest.mark.parametrize("edit, message", [
    ({"space": 'momentum = {beta = [0.9, 1.5]}'}, "[0, 1)"),
    ({"space": 'learning_rate2 = {loguniform = [0.0, 1.0]}'}, "bounds > 0"),
    ({"space": 'alpha = {uniform = [0.0, 1.0]}'}, "no hyperparameter 'alpha'"),
    ({"study": 'strategy = "bayes"'}, "Unknown strategy"),
])
def test_tune_bad_config_is_a_clear_error(tmp_path, capsys, edit, message):
    config = _write(tmp_path, **edit).read_text()
    if "strategy = \"bayes\"" in config:  # replace, not add, the strategy line
        config = config.replace('strategy = "random"\n', "")
    (tmp_path / "bad.toml").write_text(config)
    assert main(["tune", str(tmp_path / "bad.toml"), "--project", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "mlstrat tune: error:" in err and message in err


def test_tune_same_name_other_space_refused(tmp_path, capsys):
    config = _write(tmp_path, n_trials=1)
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 0
    text = config.read_text().replace("[1e-3, 1e-1]", "[1e-4, 1e-1]")
    config.write_text(text)
    assert main(["tune", str(config), "--project", str(tmp_path / "p")]) == 2
    assert "different search space" in capsys.readouterr().err


def test_tune_missing_file(tmp_path, capsys):
    assert main(["tune", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
