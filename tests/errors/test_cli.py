from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from mlstrat.cli import main


@pytest.fixture
def csv_path(tmp_path, make_preds):
    path = tmp_path / "dev.csv"
    preds = make_preds(n=600)
    preds["id"] = [f"{i:04d}" for i in range(600)]  # leading zeros must survive
    for j in range(3):
        preds[f"proba_{j}"] = (preds.y_pred == j) * 0.8 + 0.1
    preds.to_csv(path, index=False)
    return path


def _run(capsys, *argv):
    code = main(["errors", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_new_export_import_summary(tmp_path, csv_path, capsys):
    proj = tmp_path / "proj"
    code, out, _ = _run(capsys, "new", "--predictions", csv_path, "--project", proj, "-n", 30,
                        "--category", "blurry", "--name", "first look")
    assert code == 0 and "Session 1 ('first look'): 30 of" in out
    code, out, _ = _run(capsys, "list", "--project", proj)
    assert code == 0 and "first look" in out
    sheet = tmp_path / "review.xlsx"
    assert _run(capsys, "export", "1", sheet, "--project", proj)[0] == 0
    wb = openpyxl.load_workbook(sheet)
    ws = wb["errors"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["id", "y_true", "y_pred"] and "brightness" in header
    assert len(ws["A2"].value) == 4  # '0042' stays a 4-character id
    col = header.index("blurry") + 1
    for r in range(2, 12):
        ws.cell(r, col, "x")
    wb.save(sheet)
    code, out, _ = _run(capsys, "import", "first look", sheet, "--project", proj, "--by", "ana")
    assert code == 0 and "10 tags set" in out
    code, out, _ = _run(capsys, "summary", "1", "--project", proj)
    assert code == 0 and "blurry" in out and "Work next on: 'blurry'" in out
    code, out, _ = _run(capsys, "summary", "1", "--project", proj, "--json")
    data = json.loads(out)
    assert data["categories"][1]["count"] == 10 and data["n_sampled"] == 30
    code, out, _ = _run(capsys, "slices", "1", "--project", proj)
    assert code == 0 and "slice" in out
    code, out, _ = _run(capsys, "mislabels", "1", "--project", proj, "--top", 3)
    assert code == 0 and "candidate label errors" in out


def test_new_from_a_run(tmp_path, make_preds, capsys):
    from mlstrat.store import open_project

    proj = tmp_path / "proj"
    run_id = open_project(proj).log_run(
        "m", predictions={"dev": make_preds(n=300)[["id", "y_true", "y_pred"]]})
    code, out, _ = _run(capsys, "new", "--run", run_id, "--project", proj, "--all")
    assert code == 0 and f"errors of run {run_id}" in out


def test_bad_input_exits_2_and_changes_nothing(tmp_path, csv_path, capsys):
    proj = tmp_path / "proj"
    dup = tmp_path / "dup.csv"
    dup.write_text("id,y_true,y_pred\na,1,0\na,0,1\n")
    code, _, err = _run(capsys, "new", "--predictions", dup, "--project", proj)
    assert code == 2 and "Duplicate example id 'a'" in err
    code, _, err = _run(capsys, "new", "--predictions", tmp_path / "none.csv", "--project", proj)
    assert code == 2 and "none.csv" in err
    code, _, err = _run(capsys, "summary", "1", "--project", tmp_path / "nowhere")
    assert code == 2 and "No project" in err
    assert _run(capsys, "new", "--predictions", csv_path, "--project", proj, "-n", 10)[0] == 0
    code, _, err = _run(capsys, "summary", "9", "--project", proj)
    assert code == 2 and "No error-analysis session '9'" in err
    sheet = tmp_path / "r.csv"
    _run(capsys, "export", "1", sheet, "--project", proj)
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    frame.insert(len(frame.columns) - 1, "reflections", ["x"] + [""] * (len(frame) - 1))
    frame.to_csv(sheet, index=False)
    code, _, err = _run(capsys, "import", "1", sheet, "--project", proj)
    assert code == 2 and "--create-categories" in err and "nothing was changed" in err
    code, out, _ = _run(capsys, "import", "1", sheet, "--project", proj, "--create-categories")
    assert code == 0 and "New categories: ['reflections']" in out
    not_sheet = tmp_path / "r.txt"
    not_sheet.write_text("hello")
    code, _, err = _run(capsys, "import", "1", not_sheet, "--project", proj)
    assert code == 2 and "not a spreadsheet" in err
