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


def _v1_record(diagnosis) -> dict:
    """A diagnosis as version 1 stored it: no status, headline or next step."""
    record = diagnosis.to_dict()
    record["version"] = 1
    for key in ("status", "headline", "next_step", "power", "metric", "split_metrics"):
        record.pop(key)
    return record


def test_runs_n_prints_the_primary_problem_the_list_shows(tmp_path, capsys):
    """Issue 13, point 13: the list said variance while `runs N` said None."""
    from mlstrat.diagnosis import diagnose

    d = diagnose(human=0.0, train=0.01, train_dev=0.09, dev=0.10,
                 sizes={"train": 50000, "train_dev": 5000, "dev": 5000})
    project = open_project(tmp_path)
    for name, record in (("current", d.to_dict()), ("old record", _v1_record(d))):
        project.log_run(name, errors={k: v for k, v in d.rates.items() if v is not None},
                        sizes=d.sizes, human_error=0.0, diagnosis=record,
                        config={"model": "nn", "optimizer": {"name": "adam", "lr": 0.001},
                                "hidden_layer_sizes": [64, 32]})
    assert main(["runs", "--project", str(tmp_path)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert all("variance" in line and "primary problem found" in line
               for line in listing[1:]), listing
    for run_id in (1, 2):
        assert main(["runs", str(run_id), "--project", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "primary problem: variance" in out and "None" not in out
        assert "Primary problem: variance (+8.00 pt, real)." in out
        assert "train-dev  error 9.00%  (n = 5,000)" in out
        # the configuration as a table: one aligned key per line, nested keys dotted
        config = out.split("configuration\n")[1].splitlines()
        assert sorted(line.split()[0] for line in config) == [
            "hidden_layer_sizes", "model", "optimizer.lr", "optimizer.name"]
        assert len({line.index(line.split()[1]) for line in config}) == 1
        assert any(line.split()[0] == "hidden_layer_sizes" and line.endswith("[64, 32]")
                   for line in config)


def test_runs_list_says_not_enough_evidence_and_percent(tmp_path, capsys):
    project = open_project(tmp_path)
    project.log_run("tiny", errors={"train": 0.0, "train_dev": 1 / 21, "dev": 0.0},
                    sizes={"train": 185, "train_dev": 21, "dev": 69})
    project.log_run("no train", errors={"dev": 0.2}, sizes={"dev": 400})
    assert main(["runs", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    tiny = next(line for line in out.splitlines() if " tiny " in line)
    assert "not enough evidence yet" in tiny and "4.76%" in tiny and "0.00%" in tiny
    assert "0.0476" not in out
    assert "not diagnosed (no training error)" in out
    assert main(["runs", "1", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "outcome: not enough evidence yet" in out and "primary problem: none" in out
    assert "Next: Enlarge the train-dev" in out
    from mlstrat.diagnosis import diagnose

    gap = diagnose(train=0.0, train_dev=1 / 21, dev=0.0,
                   sizes={"train": 185, "train_dev": 21, "dev": 69}).gap("variance")
    line = next(x for x in out.splitlines() if x.strip().startswith("variance "))
    assert "+4.76 pt [" in line and "too small to tell" in line
    assert f"about {gap.size_to_tell:,} examples in train-dev" in line
