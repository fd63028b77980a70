"""The XLSX engines: the streaming writer and python-calamine reader (the defaults)
against openpyxl, which reads every file here as the independent reference."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest

from mlstrat.errors import BUILTIN_CATEGORY, TagImportError, export_session, import_tags
from mlstrat.errors._xlsx import FORMULA_STARTS, ooxml_unescape
from tests.errors._io_helpers import fingerprint, make_session

ENGINES = ["mlstrat", "openpyxl"]
READERS = ["calamine", "openpyxl"]
TRICKY = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "\tTAB", "\rCR",
          "a & b < c > d", "_x0041_ stays", " padded ", "two\nlines", "naïve ☃ 😀",
          "'=quoted", "\"quoted\"", "x", "0"]


@pytest.fixture
def session(project, make_preds):
    preds = make_preds(n=400, error_rate=0.3)
    preds["camera"] = [TRICKY[i % len(TRICKY)] for i in range(len(preds))]
    s = make_session(project, preds, n=len(TRICKY))
    for eid, text in zip(s.sample_ids(), TRICKY, strict=True):
        s.set_note(eid, text)
    s.tag(s.sample_ids()[3], BUILTIN_CATEGORY)
    return s


def _grid(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def _book(path):
    """Everything a reader sees: values, types, styles and layout of every sheet."""
    wb = openpyxl.load_workbook(path)
    out = {"names": wb.sheetnames}
    for ws in wb.worksheets:
        # openpyxl writes 16 significant digits, the streaming writer all 17
        cells = [(c.coordinate, float(f"{c.value:.15g}") if isinstance(c.value, float)
                  else c.value, c.data_type, c.quotePrefix, c.font.b,
                  c.number_format) for row in ws.iter_rows() for c in row
                 if c.value is not None]
        dv = [(d.type, d.formula1, d.allow_blank, d.showErrorMessage, d.showInputMessage,
               d.errorTitle, d.error, d.promptTitle, d.prompt, str(d.sqref))
              for d in ws.data_validations.dataValidation]
        widths = {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth}
        out[ws.title] = {"cells": cells, "freeze": ws.freeze_panes, "state": ws.sheet_state,
                         "filter": ws.auto_filter.ref, "validation": dv, "widths": widths}
    return out


def test_both_engines_write_the_same_workbook(session, tmp_path):
    books = [_book(export_session(session, tmp_path / f"{e}.xlsx", engine=e))
             for e in ENGINES]
    for book in books:  # the export time differs by design
        book["mlstrat"]["cells"] = [c for c in book["mlstrat"]["cells"]
                                    if not str(c[1]).startswith("20")]
    fast, reference = books
    assert fast["names"] == reference["names"] == ["errors", "summary", "mlstrat"]
    for name in fast["names"]:
        for key in fast[name]:
            assert fast[name][key] == reference[name][key], (name, key)


def test_layout_read_by_openpyxl(session, tmp_path):
    book = _book(export_session(session, tmp_path / "s.xlsx"))
    data = book["errors"]
    n = len(TRICKY)
    assert data["freeze"] == "B2" and data["filter"] == f"A1:H{n + 1}"
    ((kind, formula, blank, show_error, show_input, *_, sqref),) = data["validation"]
    assert (kind, formula, blank, show_error, show_input) == ("list", '"x"', True, True, True)
    assert sqref == f"F2:G{n + 1}"
    assert data["widths"]["H"] == 30 and data["widths"]["A"] == 8
    header = [c for c in data["cells"] if re.fullmatch(r"[A-Z]+1", c[0])]
    assert [c[1] for c in header] == ["id", "y_true", "y_pred", "brightness", "camera",
                                      BUILTIN_CATEGORY, "blurry", "note"]
    assert all(c[4] for c in header)                               # bold header
    cells = {c[0]: c for c in data["cells"]}
    assert cells["D2"][2] == "n" and isinstance(cells["D2"][1], float)  # brightness
    assert cells["A2"][2] == "s"                                   # ids are text
    summary = {c[0]: c for c in book["summary"]["cells"]}
    assert summary["B5"][1] == "=B4/B3" and summary["B5"][5] == "0.00%"
    assert summary["C10"][1].startswith("=IF(") and summary["C10"][5] == "0.0%"
    assert summary["B3"][2] == "n" and summary["A1"][4]
    assert book["mlstrat"]["state"] == "hidden" and book["summary"]["state"] == "visible"


@pytest.mark.parametrize("engine", ENGINES)
def test_no_text_becomes_a_formula(session, tmp_path, engine):
    path = export_session(session, tmp_path / "s.xlsx", engine=engine)
    wb = openpyxl.load_workbook(path)
    for ws in (wb["errors"], wb["mlstrat"]):
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS):
                    assert c.quotePrefix, (c.coordinate, c.value)
    with zipfile.ZipFile(path) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")
    ws = wb["errors"]
    notes = [ooxml_unescape(r[-1]) for r in _grid(ws)[1:]]
    cameras = [ooxml_unescape(r[4]) for r in _grid(ws)[1:]]
    assert notes == [None if t == "" else t for t in TRICKY]       # every character kept
    assert set(cameras) <= set(TRICKY)


@pytest.mark.parametrize("writer", ENGINES)
@pytest.mark.parametrize("reader", READERS)
def test_round_trip_changes_nothing(session, tmp_path, writer, reader):
    path = export_session(session, tmp_path / "s.xlsx", engine=writer)
    before = session.tag_table()
    report = import_tags(session, path, engine=reader)
    assert report.applied and (report.tagged, report.untagged, report.notes) == (0, 0, 0)
    pd.testing.assert_frame_equal(session.tag_table(), before)


@pytest.mark.parametrize("writer", ENGINES)
def test_edits_saved_by_a_spreadsheet_program_import(session, tmp_path, writer):
    """An export (either engine) opened, edited and saved again (openpyxl stands in for
    Excel: shared strings instead of inline ones) imports with the default reader."""
    path = export_session(session, tmp_path / "s.xlsx", engine=writer)
    wb = openpyxl.load_workbook(path)
    ws = wb["errors"]
    ws["G3"] = "X"                      # tag blurry
    ws["F5"] = None                     # untag the label category
    ws["H3"] = "=looks like a formula"  # typed as text by the user
    ws["H3"].data_type = "s"
    wb.save(path)
    report = import_tags(session, path)
    assert report.applied and (report.tagged, report.untagged, report.notes) == (1, 1, 1)
    t = session.tag_table().set_index("id")
    ids = session.sample_ids()
    assert t.loc[ids[1], "blurry"] and not t.loc[ids[3], BUILTIN_CATEGORY]
    assert t.loc[ids[1], "note"] == "=looks like a formula"


def test_an_old_openpyxl_export_still_imports(session, tmp_path):
    """Sheets exported before the streaming writer (openpyxl's write-only workbook,
    control characters escaped by mlstrat) import with the calamine reader, stamp and
    all, after openpyxl (standing in for a spreadsheet program) saved them again."""
    path = export_session(session, tmp_path / "old.xlsx", engine="openpyxl")
    with zipfile.ZipFile(path) as zf:
        assert "docProps/app.xml" in zf.namelist()        # openpyxl's archive indeed
        assert b"_x000D_CR" in zf.read("xl/worksheets/sheet1.xml")
    session.tag(session.sample_ids()[5], "blurry", by="dashboard")  # after the export
    wb = openpyxl.load_workbook(path)
    wb["errors"]["G7"] = None            # the sheet still says untagged: keep the newer
    wb["errors"]["G8"] = "x"
    wb.save(path)
    report = import_tags(session, path)
    assert report.applied and report.tagged == 1 and report.kept_newer == 1
    t = session.tag_table().set_index("id")
    assert t.loc[session.sample_ids()[5], "blurry"] and t.loc[session.sample_ids()[6], "blurry"]
    assert t["note"].tolist() == TRICKY  # CR, tabs and _x0041_ decoded exactly once


@pytest.mark.parametrize("reader", READERS)
def test_one_bad_cell_in_an_xlsx_changes_nothing(session, tmp_path, reader):
    path = export_session(session, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["errors"]
    ws["G3"] = "x"            # a valid change...
    ws["H4"] = "a new note"   # ...another...
    ws["G9"] = "maybe"        # ...and one bad cell
    wb.save(path)
    before = fingerprint(session)
    with pytest.raises(TagImportError) as info:
        import_tags(session, path, engine=reader)
    assert [(r["row"], r["column"], r["value"]) for r in info.value.report.rejected] == \
        [(9, "blurry", "maybe")]
    assert fingerprint(session) == before


def test_numbers_typed_into_tag_cells(session, tmp_path):
    path = export_session(session, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["errors"]
    ws["G3"], ws["G4"], ws["G5"], ws["F4"] = 1, True, 0, 2
    wb.save(path)
    with pytest.raises(TagImportError) as info:
        import_tags(session, path)
    assert [(r["row"], r["column"]) for r in info.value.report.rejected] == \
        [(4, BUILTIN_CATEGORY)]
    ws["F4"] = None
    wb.save(path)
    report = import_tags(session, path)
    assert (report.tagged, report.untagged) == (2, 0)


def test_unknown_engines_are_clear_errors(session, tmp_path):
    with pytest.raises(ValueError, match=r"'engine' parameter of export_session must be one "
                                         r"of \['mlstrat', 'openpyxl'\]"):
        export_session(session, tmp_path / "s.xlsx", engine="xlsxwriter")
    path = export_session(session, tmp_path / "s.xlsx")
    with pytest.raises(ValueError, match=r"must be one of \['calamine', 'openpyxl'\]"):
        import_tags(session, path, engine="pandas")


def test_a_workbook_with_shared_strings_imports(session, tmp_path):
    """Excel saves text as shared strings; a workbook written that way (by xlsxwriter)
    with the hidden stamp sheet imports with the default reader."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "excel.xlsx"
    ids = session.sample_ids()
    stamp = session.project.error_snapshot(session.id)["revision"]
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    ws = wb.add_worksheet("errors")
    ws.write_row(0, 0, ["id", BUILTIN_CATEGORY, "blurry", "note"])
    for r, eid in enumerate(ids, 1):
        ws.write_row(r, 0, [eid, "", "x" if r in (1, 2) else "", TRICKY[r - 1]])
    meta = wb.add_worksheet("mlstrat")
    meta.write_column(0, 0, ["session_id", "revision"])
    meta.write_column(0, 1, [session.id, stamp])
    meta.hide()
    wb.close()
    with zipfile.ZipFile(path) as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()
    report = import_tags(session, path)
    assert report.applied and (report.tagged, report.untagged, report.notes) == (1, 1, 0)
    t = session.tag_table().set_index("id")
    assert t.loc[ids[1], "blurry"] and not t.loc[ids[3], BUILTIN_CATEGORY]


def test_a_reader_panic_is_a_refusal_and_an_interrupt_is_not(session, tmp_path, monkeypatch):
    """A Rust panic surfaces as pyo3's PanicException, a BaseException: the import
    refuses the file by name; Ctrl-C still stops the program."""
    from mlstrat.errors import _sheets

    class PanicException(BaseException):
        pass

    def raising(exc):
        def read(path, wanted):
            raise exc
        return read

    path = export_session(session, tmp_path / "s.xlsx")
    before = fingerprint(session)
    monkeypatch.setitem(_sheets.XLSX_READERS, "calamine",
                        raising(PanicException("index out of bounds")))
    with pytest.raises(TagImportError, match=r"s\.xlsx is not a readable XLSX workbook: it "
                                             r"is damaged \(PanicException: index out of"):
        import_tags(session, path)
    monkeypatch.setitem(_sheets.XLSX_READERS, "calamine", raising(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        import_tags(session, path)
    assert fingerprint(session) == before


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_export_and_computes_the_library_numbers(session, tmp_path):
    """A real spreadsheet program: LibreOffice loads the streamed workbook, computes the
    live summary (the library's counts and Wilson bounds) and saves a file that
    imports back with nothing to change."""
    for eid in session.sample_ids()[:4]:
        session.tag(eid, "blurry")
    path = export_session(session, tmp_path / "review.xlsx")
    out = tmp_path / "saved"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=300)
    saved = out / "review.xlsx"
    wb = openpyxl.load_workbook(saved, data_only=True)  # the values LibreOffice computed
    assert wb.sheetnames == ["errors", "summary", "mlstrat"]
    assert wb["mlstrat"].sheet_state == "hidden"
    rows = {r[0]: r for r in wb["summary"].iter_rows(values_only=True) if r and r[0]}
    summary = session.summary()
    for cat in (BUILTIN_CATEGORY, "blurry"):
        expected = summary.category(cat)
        got = dict(zip(("count", "share", "share_low", "share_high", "ceiling",
                        "ceiling_low", "ceiling_high"), rows[cat][1:], strict=True))
        for key, value in got.items():
            assert value == pytest.approx(expected[key], abs=1e-6), (cat, key)
    assert [r[-1] for r in wb["errors"].iter_rows(min_row=2, values_only=True)] == TRICKY
    report = import_tags(session, saved)
    assert report.applied and (report.tagged, report.untagged, report.notes) == (0, 0, 0)
