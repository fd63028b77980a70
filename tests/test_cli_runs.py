from mlstrat.cli import main
from mlstrat.store import open_project


def test_runs_lists_and_shows_a_run(tmp_path, capsys):
    project = open_project(tmp_path)
    project.log_run("baseline", errors={"train": 0.08, "dev": 0.1},
                    sizes={"train": 8000, "dev": 1000}, human_error=0.01,
                    config={"l2": 0.01})
    assert main(["runs", "--project", str(tmp_path)]) == 0
    assert "baseline" in capsys.readouterr().out
    assert main(["runs", "1", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "dev        error 10.00%  (n = 1,000)" in out
    assert "human-level error: 1.00%" in out


def test_an_unknown_run_is_a_clear_error(tmp_path, capsys):
    open_project(tmp_path)
    assert main(["runs", "7", "--project", str(tmp_path)]) == 2
    assert "No run '7'" in capsys.readouterr().err


def test_empty_project(tmp_path, capsys):
    open_project(tmp_path / "new")
    assert main(["runs", "--project", str(tmp_path / "new")]) == 0
    assert "No runs" in capsys.readouterr().out


def test_a_missing_project_is_an_error_and_is_not_created(tmp_path, capsys):
    assert main(["runs", "--project", str(tmp_path / "typo")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No project at" in err and "typo" in err
    assert not (tmp_path / "typo").exists()
