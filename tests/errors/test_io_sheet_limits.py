"""Spreadsheet imports are bounded and strict; damaged files are clear errors."""

from __future__ import annotations

import re
import time
import zipfile
import zlib

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlstrat._files import (
    MAX_SHEET_ROWS,
    MAX_XLSX_UNCOMPRESSED,
    SpreadsheetError,
    check_upload,
    check_xlsx,
)
from mlstrat.errors import TagImportError
from mlstrat.first_system import read_table
from tests.errors._io_helpers import data_start, fingerprint, make_session, members, write_members

SHEET = "xl/worksheets/sheet1.xml"  # the 'errors' data sheet of an export


@pytest.fixture
def session(project, preds):
    return make_session(project, preds)


@pytest.fixture
def exported(session, tmp_path):
    return session.export(tmp_path / "review.xlsx")


def _refused(session, path, match):
    before = fingerprint(session)
    with pytest.raises(TagImportError, match=match) as info:
        session.import_tags(path)
    assert fingerprint(session) == before
    assert path.name in str(info.value)
    return info.value


# ------------------------------------------------------------------ caps before parsing
def test_a_small_zip_bomb_is_refused_before_parsing(session, exported):
    content = members(exported)
    xml = content[SHEET].decode()
    filler = "<row/>" * (MAX_XLSX_UNCOMPRESSED // 6 + 10)   # over the cap of XML, zipping to KB
    content[SHEET] = xml.replace("</sheetData>", filler + "</sheetData>").encode()
    write_members(exported, content)
    assert exported.stat().st_size < 2**20
    t0 = time.perf_counter()
    err = _refused(session, exported, r"expands to \d+ MB of XML once unzipped; the limit")
    assert time.perf_counter() - t0 < 5  # the XML was never parsed (today: 35 s, 700 MB)
    assert "CSV" in str(err)


def test_a_declared_dimension_over_the_caps_is_refused(session, exported):
    content = members(exported)
    content[SHEET] = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"',
                            content[SHEET])
    if b"<dimension" not in content[SHEET]:
        content[SHEET] = content[SHEET].replace(
            b"<sheetData", b'<dimension ref="A1:XFD1048576"/><sheetData', 1)
    write_members(exported, content)
    _refused(session, exported, rf"has 1,048,576 rows; the limit is {MAX_SHEET_ROWS:,}")


def test_rows_are_counted_even_without_a_dimension(exported):
    content = members(exported)
    content[SHEET] = re.sub(rb"<dimension[^>]*/>", b"", content[SHEET])
    write_members(exported, content)
    check_xlsx(exported)
    with pytest.raises(SpreadsheetError, match=r"more than 5 rows; the limit is 5"):
        check_xlsx(exported, max_rows=5)


def test_declared_columns_over_the_cap(exported):
    content = members(exported)
    content[SHEET] = re.sub(rb"<dimension[^>]*/>", b"", content[SHEET]).replace(
        b"<sheetData", b'<dimension ref="A1:C9"/><sheetData', 1)
    write_members(exported, content)
    with pytest.raises(SpreadsheetError, match="has 3 columns; the limit is 2"):
        check_xlsx(exported, max_columns=2)


def test_uploads_meet_the_same_caps(exported):
    data = exported.read_bytes()
    check_upload(data, "review.xlsx")
    with pytest.raises(SpreadsheetError, match="review.xlsx: sheet 'sheet1.xml' has"):
        check_xlsx(data, name="review.xlsx", max_rows=3)
    with pytest.raises(SpreadsheetError, match="the limit is 1 MB"):
        check_upload(b"x" * (2 * 2**20), "big.csv", max_bytes=2**20)
    with pytest.raises(SpreadsheetError, match="up.xlsx is not a readable XLSX"):
        check_upload(b"plain text", "up.xlsx")


def test_read_table_checks_xlsx_data_files(tmp_path):
    path = tmp_path / "data.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b"])
    ws.append([1, 2])
    wb.save(path)
    assert read_table(path).shape == (1, 2)
    content = members(path)
    sheet = next(n for n in content if n.startswith("xl/worksheets/"))
    content[sheet] = content[sheet].replace(b"</sheetData>",
                                            b"<row/>" * (MAX_XLSX_UNCOMPRESSED // 6 + 10)
                                            + b"</sheetData>")
    write_members(path, content)
    with pytest.raises(ValueError, match=r"Could not parse .*data\.xlsx.* as XLSX: the file "
                                         r"expands to"):
        read_table(path)


# ------------------------------------------------------------------ damaged workbooks
def _break_sheet_xml(path):
    content = members(path)
    content[SHEET] = content[SHEET][: len(content[SHEET]) // 2] + b"<<<"
    write_members(path, content)


def _break_workbook_xml(path):
    content = members(path)
    content["xl/workbook.xml"] = b"<workbook><sheets><sheet name='errors'"
    write_members(path, content)


def _break_deflate(path):
    start, length = data_start(path, SHEET)
    raw = bytearray(path.read_bytes())
    for i in range(start + 2, start + min(length, 60)):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))


def _not_a_zip(path):
    path.write_bytes(b"id,y_true\n1,2\n")


@pytest.mark.parametrize("damage", [_break_sheet_xml, _break_workbook_xml, _break_deflate,
                                    _not_a_zip])
def test_damaged_workbooks_are_clear_errors_naming_the_file(session, exported, damage):
    damage(exported)
    err = _refused(session, exported, r"review\.xlsx")
    assert "readable XLSX" in str(err) or "damaged" in str(err)
    assert "Traceback" not in str(err)


# ------------------------------------------------------------------ strict columns
def test_xlsx_values_in_a_column_without_header_are_refused(session, exported):
    wb = openpyxl.load_workbook(exported)
    ws = wb["errors"]
    ws.cell(row=3, column=ws.max_column + 2, value="stray")  # no header above it
    wb.save(exported)
    err = _refused(session, exported, "column with no header")
    assert err.report.rejected[0]["row"] == 3


def test_csv_values_under_an_empty_header_are_refused(session, tmp_path):
    path = session.export(tmp_path / "review.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("brightness", "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _refused(session, path, "column with no header")
    assert err.report.rejected[0]["column"].startswith("column ")


def test_a_huge_cell_is_quoted_short(session, tmp_path):
    path = session.export(tmp_path / "review.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("blurry")] = "z" * 100_000
    lines[1] = ",".join(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _refused(session, path, "a tag cell takes")
    assert len(str(err)) < 2_000 and "100,000 characters" in str(err)


# ------------------------------------------------------------------ fuzz
def _mutations():
    flip = st.tuples(st.just("flip"), st.integers(0, 10**9), st.integers(1, 255))
    cut = st.tuples(st.just("cut"), st.integers(0, 10**9), st.just(0))
    swap = st.tuples(st.just("member"), st.integers(0, 10**9), st.integers(0, 3))
    return st.lists(st.one_of(flip, cut, swap), min_size=1, max_size=4)


REPLACEMENTS = [b"", b"<worksheet/>", b"\x00\xff" * 50, b"<a>" * 5000]


def _mutate(path, ops):
    for kind, where, value in ops:
        raw = bytearray(path.read_bytes())
        if not raw:
            return
        if kind == "flip":
            raw[where % len(raw)] ^= value
            path.write_bytes(bytes(raw))
        elif kind == "cut":
            path.write_bytes(bytes(raw[: where % len(raw)]))
        else:
            try:
                content = members(path)
            except (zipfile.BadZipFile, zlib.error, EOFError):  # an earlier op broke it
                continue
            name = sorted(content)[where % len(content)]
            content[name] = REPLACEMENTS[value]
            write_members(path, content)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_mutations())
def test_fuzz_corrupted_xlsx_imports_succeed_or_refuse_and_change_nothing(session, tmp_path,
                                                                          ops):
    path = tmp_path / "fuzz.xlsx"
    session.export(path)
    _mutate(path, ops)
    before = fingerprint(session)
    try:
        session.import_tags(path)
    except ValueError as exc:  # TagImportError and every project error are ValueErrors
        assert str(exc).strip()
        assert fingerprint(session) == before
    else:
        pass  # a corruption that left the data intact may import (nothing new to apply)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_sheet_is_exported_only_if_it_can_be_imported_back(session, tmp_path, monkeypatch,
                                                            suffix):
    # The row cap counts the header, as the import does: at the cap the export
    # writes and the import reads it back; one example more and the export refuses
    # rather than writing a sheet whose tags could never come back.
    import mlstrat.errors._sheets as sheets

    n = len(session.sample_ids())
    monkeypatch.setattr(sheets, "MAX_SHEET_ROWS", n + 1)
    path = session.export(tmp_path / f"review{suffix}")
    session.import_tags(path)  # no refusal at exactly the cap
    monkeypatch.setattr(sheets, "MAX_SHEET_ROWS", n)
    with pytest.raises(ValueError, match=rf"has {n:,} examples; a review sheet holds at most"):
        session.export(tmp_path / f"again{suffix}")
    assert not (tmp_path / f"again{suffix}").exists()
