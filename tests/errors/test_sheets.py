from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from mlstrat.errors import BUILTIN_CATEGORY, TagImportError, guard_text, new_session, unguard_text
from mlstrat.errors._xlsx import ooxml_unescape

NASTY = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "\tTAB", "\rCR",
         "'=quoted", "'tis", "''", "plain"]


@pytest.fixture
def session(project, preds):
    s = new_session(project, preds, n=20, features=["brightness", "camera"],
                    categories=(BUILTIN_CATEGORY, "blurry"))
    ids = s.sample_ids()
    s.tag(ids[0], "blurry", by="ana")
    s.tag(ids[1], BUILTIN_CATEGORY, by="ana")
    s.set_note(ids[2], "=cmd|' /C calc'!A0", by="ana")
    return s


def _columns(ws):
    return {c.value: c.column_letter for c in ws[1]}


def test_xlsx_layout_formulas_validation_frozen(session, tmp_path):
    path = session.export(tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["errors", "summary", "mlstrat"]
    ws = wb["errors"]
    cols = _columns(ws)
    assert list(cols)[:3] == ["id", "y_true", "y_pred"]
    assert list(cols)[-3:] == [BUILTIN_CATEGORY, "blurry", "note"]
    assert {"brightness", "camera"} <= set(cols)
    assert ws.max_row == 21
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{cols['note']}21"
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"x"' and dv.allow_blank
    assert str(dv.sqref) == f"{cols[BUILTIN_CATEGORY]}2:{cols['blurry']}21"
    ids = session.sample_ids()
    assert ws["A2"].value == ids[0] and ws[f"{cols['blurry']}2"].value == "x"
    summary = wb["summary"]
    formulas = [c.value for row in summary.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert f'=COUNTIF(errors!{cols["blurry"]}2:{cols["blurry"]}21,"x")' in formulas
    assert any("SQRT" in f for f in formulas)  # live Wilson bounds
    assert all(c.data_type == "f" for row in summary.iter_rows() for c in row
               if isinstance(c.value, str) and c.value.startswith("=COUNTIF"))
    assert wb["mlstrat"].sheet_state == "hidden"


def test_formula_guard_xlsx_reads_back_as_string(project, make_preds, tmp_path):
    preds = make_preds(n=400)
    preds["camera"] = [NASTY[i % len(NASTY)] for i in range(len(preds))]
    s = new_session(project, preds, n=10, features=["camera"])
    for i, eid in enumerate(s.sample_ids()):
        s.set_note(eid, NASTY[i])
    path = s.export(tmp_path / "g.xlsx")
    ws = openpyxl.load_workbook(path)["errors"]
    note_col = _columns(ws)["note"]
    for r in range(2, 12):
        cell = ws[f"{note_col}{r}"]
        assert cell.data_type == "s", (cell.value, cell.data_type)
        assert ooxml_unescape(cell.value) == NASTY[r - 2]  # CR is stored as _x000D_
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws[f"{note_col}2"].quotePrefix
    before = s.tag_table()
    report = s.import_tags(path)
    assert report.notes == 0 and report.tagged == 0
    pd.testing.assert_frame_equal(s.tag_table(), before)


def test_formula_guard_csv_round_trip_is_lossless(project, make_preds, tmp_path):
    for text in NASTY + ["", "'", "x"]:
        assert unguard_text(guard_text(text)) == text
    preds = make_preds(n=400)
    s = new_session(project, preds, n=10)
    for i, eid in enumerate(s.sample_ids()):
        s.set_note(eid, NASTY[i])
    path = s.export(tmp_path / "g.csv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows[:len(NASTY)]:
        assert not row["note"].startswith(("=", "+", "-", "@", "\t", "\r"))
    before = s.tag_table()
    report = s.import_tags(path)
    assert (report.notes, report.tagged) == (0, 0)
    pd.testing.assert_frame_equal(s.tag_table(), before)
    # a note typed fresh in the CSV is read as typed
    rows[0]["note"] = "'=typed in the sheet"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    s.import_tags(path)
    assert s.tag_table()["note"].iloc[0] == "=typed in the sheet"


def test_xlsx_tagged_in_excel_imports(session, tmp_path):
    path = session.export(tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["errors"]
    cols = _columns(ws)
    ws[f"{cols['blurry']}2"] = None           # untag
    ws[f"{cols['blurry']}3"] = "X"            # tag (capital)
    ws[f"{cols[BUILTIN_CATEGORY]}4"] = 1      # tag via 1
    ws[f"{cols['note']}5"] = "too dark"
    wb.save(path)
    report = session.import_tags(path, by="bo")
    assert report.applied and (report.tagged, report.untagged, report.notes) == (2, 1, 1)
    t = session.tag_table().set_index("id")
    ids = session.sample_ids()
    assert not t.loc[ids[0], "blurry"] and t.loc[ids[1], "blurry"]
    assert t.loc[ids[2], BUILTIN_CATEGORY] and t.loc[ids[3], "note"] == "too dark"
    hist = session.history()
    assert (hist["source"] == "import:s.xlsx").sum() == 4 and "bo" in set(hist["who"])


def _edit_csv(path, edit):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edited = edit(frame)
    (frame if edited is None else edited).to_csv(path, index=False)


def _state(s):
    return s.tag_table(), len(s.history())


def test_one_bad_row_changes_nothing(session, tmp_path):
    path = session.export(tmp_path / "s.csv")

    def edit(f):
        f.loc[0, "blurry"] = ""           # a valid change...
        f.loc[3, "blurry"] = "x"          # ...another...
        f.loc[5, "blurry"] = "maybe"      # ...and one bad cell
    _edit_csv(path, edit)
    before = _state(session)
    with pytest.raises(TagImportError) as exc:
        session.import_tags(path)
    report = exc.value.report
    assert not report.applied
    assert report.rejected == [{"row": 7, "column": "blurry", "value": "maybe",
                                "reason": report.rejected[0]["reason"]}]
    assert "row 7" in str(exc.value) and "nothing was changed" in str(exc.value)
    after = _state(session)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1] == before[1]


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.__setitem__("id", [*f["id"][:-1], f["id"].iloc[0]]), "duplicate id"),
    (lambda f: f.loc.__setitem__((0, "id"), "not-an-id"), "not a sampled error"),
    (lambda f: f.loc.__setitem__((0, "id"), ""), "the id is empty"),
])
def test_bad_ids_are_rejected(session, tmp_path, edit, message):
    path = session.export(tmp_path / "s.csv")
    _edit_csv(path, edit)
    before = _state(session)
    with pytest.raises(TagImportError, match=message):
        session.import_tags(path)
    assert _state(session)[1] == before[1]


def test_unknown_categories_need_the_flag(session, tmp_path):
    path = session.export(tmp_path / "s.csv")
    first = session.sample_ids()[0]
    _edit_csv(path, lambda f: f.insert(5, "reflection", ["x"] + [""] * (len(f) - 1)))
    with pytest.raises(TagImportError, match="create_categories=True"):
        session.import_tags(path)
    assert "reflection" not in session.categories()
    report = session.import_tags(path, create_categories=True)
    assert report.created == ["reflection"] and report.tagged == 1
    assert session.tag_table().set_index("id").loc[first, "reflection"]


def test_header_edited_away_and_not_a_spreadsheet(session, tmp_path):
    path = session.export(tmp_path / "s.csv")
    _edit_csv(path, lambda f: f.rename(columns={"id": "identifier"}))
    with pytest.raises(TagImportError, match="no 'id' column"):
        session.import_tags(path)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"this is not a workbook")
    with pytest.raises(TagImportError, match="not a readable XLSX"):
        session.import_tags(junk)
    other = tmp_path / "notes.txt"
    other.write_text("id,blurry\n")
    with pytest.raises(TagImportError, match="not a spreadsheet"):
        session.import_tags(other)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(TagImportError, match="not a readable UTF-8 CSV"):
        session.import_tags(binary)


def test_import_into_another_session_is_refused(project, session, preds, tmp_path):
    path = session.export(tmp_path / "s.xlsx")
    other = new_session(project, preds, n=20, categories=(BUILTIN_CATEGORY, "blurry"))
    with pytest.raises(TagImportError, match=f"exported from session {session.id}"):
        other.import_tags(path)


def test_import_keeps_tags_made_in_the_store_after_export(session, tmp_path):
    """A dashboard user tags while the sheet is out: the import keeps that tag."""
    ids = session.sample_ids()
    path = session.export(tmp_path / "s.xlsx")
    session.tag(ids[5], "blurry", by="dashboard")          # after the export
    session.set_note(ids[6], "seen in the dashboard", by="dashboard")
    wb = openpyxl.load_workbook(path)
    ws = wb["errors"]
    ws[f"{_columns(ws)['blurry']}10"] = "x"                 # the sheet user's own change
    wb.save(path)
    report = session.import_tags(path, by="sheet")
    assert report.kept_newer == 2 and report.tagged == 1
    t = session.tag_table().set_index("id")
    assert t.loc[ids[5], "blurry"] and t.loc[ids[8], "blurry"]
    assert t.loc[ids[6], "note"] == "seen in the dashboard"


def test_export_rejects_other_suffixes(session, tmp_path):
    with pytest.raises(ValueError, match=".xlsx or .csv"):
        session.export(tmp_path / "s.ods")


def _evaluate(formula, cells):
    """A tiny evaluator for the summary sheet's formulas (no spreadsheet program here)."""
    import math
    import re

    expr = formula.lstrip("=").replace("$", "").replace("^", "**")
    expr = re.sub(r"COUNTIF\([^)]*\)", lambda m: str(cells["count"]), expr)
    expr = re.sub(r"COUNTA\([^)]*\)", lambda m: str(cells["n"]), expr)
    expr = expr.replace("SQRT", "math.sqrt").replace("MAX", "max").replace("MIN", "min")
    expr = re.sub(r"IF\(([^,]+)=0,", r"_if(\1==0,", expr)
    expr = re.sub(r"\b([A-H])(\d+)\b", lambda m: f"cell('{m.group(0)}')", expr)

    def cell(ref):
        return cells[ref]

    return eval(expr, {"math": math, "max": max, "min": min, "cell": cell,  # noqa: S307
                       "_if": lambda c, a, b: a if c else b})


def test_live_formulas_compute_the_library_numbers(session, tmp_path):
    for eid in session.sample_ids()[:7]:
        session.tag(eid, "blurry")
    expected = session.summary().category("blurry")
    ws = openpyxl.load_workbook(session.export(tmp_path / "s.xlsx"))["summary"]
    row = next(r for r in ws.iter_rows(min_row=10) if r[0].value == "blurry")
    cells = {"count": expected["count"], "n": 20, "B3": ws["B3"].value, "B4": ws["B4"].value,
             "B7": ws["B7"].value}
    cells["B5"] = _evaluate(ws["B5"].value, cells)
    cells["B6"] = _evaluate(ws["B6"].value, cells)
    r = row[0].row
    values = {}
    for col in "BCDEFGH":
        values[col] = cells[f"{col}{r}"] = _evaluate(ws[f"{col}{r}"].value, cells)
    assert values["B"] == 7
    for col, key in zip("CDEFGH", ("share", "share_low", "share_high", "ceiling",
                                   "ceiling_low", "ceiling_high"), strict=True):
        assert values[col] == pytest.approx(expected[key], abs=1e-6), key
