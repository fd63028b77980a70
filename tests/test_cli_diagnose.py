import json

import pytest

from mlstrat.cli import main
from mlstrat.store import open_project


def test_diagnose_from_rates_names_the_course_problem(capsys):
    # The course: human 1%, train 8%, dev 10% -> avoidable bias (7 pt) first.
    assert main(["diagnose", "--human", "0.01", "--train", "0.08", "--dev", "0.10"]) == 0
    assert "Primary problem: avoidable bias" in capsys.readouterr().out


def test_diagnose_several_human_references_uses_the_best(capsys):
    args = ["diagnose", "--human", "typical doctor=0.01", "--human",
            "team of experienced doctors=0.005", "--train", "0.007", "--dev", "0.008",
            "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["human_source"] == "team of experienced doctors"
    assert out["human_levels"]["typical doctor"] == 0.01


def test_diagnose_records_a_run_and_bad_rates_write_nothing(tmp_path, capsys):
    args = ["diagnose", "--train", "0.01", "--train-dev", "0.015", "--dev", "0.10",
            "--sizes", "train=10000,train_dev=2000,dev=2000", "--project", str(tmp_path)]
    assert main(args) == 0
    assert "data mismatch" in capsys.readouterr().out.split("Primary problem:")[1].splitlines()[0]
    run = open_project(tmp_path).get_run(1)
    assert run.sizes == {"train": 10000, "train_dev": 2000, "dev": 2000}
    assert run.diagnosis["primary"] == "data_mismatch"
    assert main(["diagnose", "--train", "8", "--project", str(tmp_path)]) == 2
    assert "must be in [0, 1]" in capsys.readouterr().err
    assert main(["diagnose", "--train", "0.1", "--sizes", "train:100"]) == 2
    assert "SPLIT=N" in capsys.readouterr().err
    assert len(open_project(tmp_path).runs()) == 1


@pytest.mark.parametrize(("n", "target", "train"), [(1_000_000, None, 980_000)])
def test_splits_command_prints_the_98_1_1_rule(capsys, n, target, train):
    assert main(["splits", "--n", str(n), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sizes"]["train"] == train


def test_splits_command_mismatched_case(capsys):
    assert main(["splits", "--n", "500000", "--target", "20000", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["sizes"]["dev"] == plan["sizes"]["test"] == 5000
    assert plan["sizes"]["train"] + plan["sizes"]["train_dev"] == 510_000
    dev = plan["composition"]["dev"]
    assert dev == {"target": 5000} or dev.get("source", 0) == 0


def test_diagnose_from_a_predictions_csv(tmp_path, capsys):
    rows = ["split,y_true,y_pred"]
    rows += ["train,cat,cat"] * 95 + ["train,cat,dog"] * 5      # 5% train error
    rows += ["dev,dog,dog"] * 80 + ["dev,dog,cat"] * 20         # 20% dev error
    path = tmp_path / "preds.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["diagnose", str(path), "--human", "0.01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rates"]["train"] == 0.05 and out["rates"]["dev"] == 0.2
    assert out["sizes"] == {"train": 100, "dev": 100}


@pytest.mark.parametrize(("text", "message"), [
    ("split,y_true\ntrain,1\n", "Missing column"),
    ("split,y_true,y_pred\ntrain,1,1\nvalidaton,1,0\n", "row 3 of the file"),
    ("split,y_true,y_pred\ntrain,1,\n", "Column 'y_pred' is empty"),
])
def test_a_bad_predictions_csv_says_where_and_writes_nothing(tmp_path, capsys, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert main(["diagnose", str(path), "--project", str(tmp_path / "p")]) == 2
    assert message in capsys.readouterr().err
    assert open_project(tmp_path / "p").runs().empty


def test_diagnose_prints_not_enough_evidence_and_what_to_enlarge(capsys):
    # one error in 21 train-dev examples decides nothing (issue 11)
    args = ["diagnose", "--train", "0", "--train-dev", "0.047619", "--dev", "0",
            "--sizes", "train=185,train_dev=21,dev=69"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Not enough evidence yet" in out
    assert "too small to tell" in out
    next_step = next(line for line in out.splitlines() if line.startswith("Next: "))
    assert "Enlarge the train-dev" in next_step and "examples" in next_step
    assert "Primary problem" not in out


def test_diagnose_prints_human_level_surpassed_without_a_primary_problem(capsys):
    args = ["diagnose", "--human", "team=0.02", "--train", "0.005", "--dev", "0.012",
            "--sizes", "train=20000,dev=5000"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Human level surpassed" in out
    assert "Primary problem" not in out and "Try (one knob at a time)" not in out
    assert any(line.startswith("Next: ") and "error analysis" in line
               for line in out.splitlines())


def test_diagnose_json_carries_status_headline_and_next_step(capsys):
    assert main(["diagnose", "--human", "0.01", "--train", "0.08", "--dev", "0.10",
                 "--sizes", "train=5000,dev=1000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "problem" and out["primary"] == "avoidable_bias"
    assert out["headline"].startswith("Primary problem: avoidable bias")
    assert out["next_step"] == "Train a bigger network (more layers or hidden units)"
