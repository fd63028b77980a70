"""The spreadsheet caps agree with each other: a review sheet with as many rows as
MAX_SHEET_ROWS allows fits under MAX_XLSX_UNCOMPRESSED, and the fast row count
(substring counts, an upper bound) falls back to the exact count near the cap."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from mlstrat._files import MAX_SHEET_ROWS, MAX_XLSX_UNCOMPRESSED, SpreadsheetError, check_xlsx
from mlstrat.errors import BUILTIN_CATEGORY, new_session
from tests.errors._io_helpers import members

CATEGORIES = (BUILTIN_CATEGORY, "blurry", "dark", "occluded", "rare class")


def test_a_review_sheet_at_the_row_cap_fits_the_unzipped_cap(project, tmp_path):
    """The benchmark's sheet (5 categories, 2 features, 30% of the cells tagged,
    10-character ids), measured at 2,000 rows and scaled to MAX_SHEET_ROWS, leaves
    at least a quarter of MAX_XLSX_UNCOMPRESSED to spare."""
    rng = np.random.default_rng(0)
    n = 2_000
    y = rng.integers(0, 10, n)
    preds = pd.DataFrame({"id": [f"img{i:07d}" for i in range(n)], "y_true": y,
                          "y_pred": (y + 1) % 10, "camera": rng.choice(["a", "b"], n),
                          "brightness": rng.random(n).round(3)})
    s = new_session(project, preds, n=None, features=["camera", "brightness"],
                    categories=CATEGORIES)
    ids = s.sample_ids()
    project.apply_error_changes(s.id, [(i, c, True) for c in CATEGORIES for i in ids
                                       if rng.random() < 0.3], by="t")
    small = members(s.export(tmp_path / "small.xlsx"))
    s2 = new_session(project, preds.iloc[:1000], n=None, features=["camera", "brightness"],
                     categories=CATEGORIES, name="half")
    project.apply_error_changes(s2.id, [(i, c, True) for c in CATEGORIES
                                        for i in s2.sample_ids() if rng.random() < 0.3],
                                by="t")
    half = members(s2.export(tmp_path / "half.xlsx"))
    per_row = (sum(map(len, small.values())) - sum(map(len, half.values()))) / 1_000
    fixed = sum(map(len, small.values())) - per_row * n
    at_cap = fixed + per_row * MAX_SHEET_ROWS
    assert 250 < per_row < 450  # the benchmark's 100,000 rows: 33.8 MB, 340 bytes a row
    assert at_cap < 0.75 * MAX_XLSX_UNCOMPRESSED


def _workbook(sheet_xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


@pytest.mark.parametrize("prefix", [b"", b"x:"])
def test_rows_are_counted_exactly_whatever_the_prefix(prefix):
    """With a namespace prefix the substring bound counts closing tags too (twice the
    rows); the exact count decides, so 3 rows pass a cap of 4 and fail a cap of 2."""
    p = prefix
    rows = b"".join(b"<%srow r='%d'><%sc><%sv>1</%sv></%sc></%srow>" % (p, i, p, p, p, p, p)
                    for i in range(1, 4))
    data = _workbook(b"<%sworksheet><%ssheetData>%s</%ssheetData><%srowBreaks/></%sworksheet>"
                     % (p, p, rows, p, p, p))
    check_xlsx(data, name="w.xlsx", max_rows=4)
    check_xlsx(data, name="w.xlsx", max_rows=3)
    with pytest.raises(SpreadsheetError, match="more than 2 rows; the limit is 2"):
        check_xlsx(data, name="w.xlsx", max_rows=2)


def test_text_that_looks_like_rows_does_not_count():
    """':row' in a cell's text raises the bound, never the count."""
    cells = b"<c t='inlineStr'><is><t>" + b"see:row " * 50 + b"</t></is></c>"
    data = _workbook(b"<worksheet><sheetData><row r='1'>" + cells +
                     b"</row></sheetData></worksheet>")
    check_xlsx(data, name="t.xlsx", max_rows=1)


def test_rows_over_the_cap_in_a_later_chunk_are_refused():
    """Rows are counted across the 1 MB chunks the sheet is read in."""
    data = _workbook(b"<worksheet><sheetData>" + b"<row/>" * 400_000 + b"</sheetData>"
                     b"</worksheet>")
    check_xlsx(data, name="big.xlsx", max_rows=400_000)
    with pytest.raises(SpreadsheetError, match="more than 399,999 rows"):
        check_xlsx(data, name="big.xlsx", max_rows=399_999)
