import json

from mlstrat import open_project
from mlstrat.cli import main

FAST = ["--max-epochs", "15", "--quiet"]


def test_cli_baseline_then_iterate(tmp_path, breast_cancer_csv, capsys):
    proj = str(tmp_path / "proj")
    assert main(["baseline", str(breast_cancer_csv), "--target", "target", "--project", proj,
                 "--human-error", "0.01", "--drop", "mean radius,mean area",
                 "--role", "worst area=drop", "mean texture=categorical", *FAST]) == 0
    out = capsys.readouterr().out
    assert any(h in out for h in ("Primary problem", "Not enough evidence yet",
                                  "Human level surpassed", "No clear problem"))
    assert "dropped by you" in out
    assert "mean texture" in out and "set by you (inferred: numeric" in out
    assert f"mlstrat dashboard --project {proj}" in out
    assert main(["baseline", str(breast_cancer_csv), "--target", "target", "--project", proj,
                 "--drop", "mean radius,mean area", "--role", "worst area=drop",
                 "--hidden", "64,32", "--l2", "0.01", "--dropout", "0.2", "--json",
                 *FAST]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["iteration"] == 2 and result["comparison"]["matched"]
    assert result["comparison"]["test"]["test"] == "McNemar (exact)"
    assert len(open_project(proj).runs()) == 7


def test_cli_stage_lines_on_stderr(tmp_path, wine_csv, capsys):
    assert main(["baseline", str(wine_csv), "--target", "target", "--project",
                 str(tmp_path), "--max-epochs", "5"]) == 0
    err = capsys.readouterr().err
    assert "reading" in err and "training small network" in err and "done in" in err


def test_cli_errors_name_the_problem_and_write_nothing(tmp_path, breast_cancer_csv, capsys):
    proj = tmp_path / "proj"
    assert main(["baseline", str(breast_cancer_csv), "--target", "diagnosis",
                 "--project", str(proj), *FAST]) == 2
    err = capsys.readouterr().err
    assert "mlstrat baseline: error: The target column 'diagnosis' is not in the data" in err
    assert main(["baseline", str(breast_cancer_csv), "--target", "target",
                 "--role", "mean radius=number", "--project", str(proj), *FAST]) == 2
    assert "Unknown role 'number'" in capsys.readouterr().err
    assert main(["baseline", str(tmp_path / "missing.csv"), "--target", "y",
                 "--project", str(proj), *FAST]) == 2
    assert "No data file" in capsys.readouterr().err
    assert not proj.exists() or open_project(proj).runs().empty
