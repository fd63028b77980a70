"""The openpyxl engine of the review sheet: the writer and reader every export used
before the streaming engine of :mod:`mlstrat.errors._xlsx`.

Kept as an independent implementation of the same :class:`~mlstrat.errors._xlsx.SheetSpec`
description: ``benchmarks/bench_sheets.py`` measures the default engine against it,
and the tests import sheets it wrote (what older exports hold). Select it with
``engine="openpyxl"`` in :func:`~mlstrat.errors.export_session` and
:func:`~mlstrat.errors.import_tags`.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from mlstrat.errors._xlsx import (
    FORMULA_STARTS,
    Cell,
    SheetSpec,
    column_letter,
    ooxml_escape,
    ooxml_unescape,
)

_FORMATS = {"pct2": "0.00%", "pct1": "0.0%"}


def write_workbook(sheets: list[SheetSpec], handle: IO[bytes]) -> None:
    """Write ``sheets`` with openpyxl's write-only workbook."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for spec in sheets:
        ws = wb.create_sheet(spec.name)
        _layout(ws, spec)
        for row in spec.rows:
            ws.append([_cell(ws, v) for v in row])
        body = [[_body_value(ws, v, is_text) for v in values]
                for values, is_text in zip(spec.body, spec.text_columns, strict=True)]
        for cells in zip(*body, strict=True):
            ws.append(cells)
    wb.save(handle)


def _layout(ws: Any, spec: SheetSpec) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.filters import AutoFilter

    if spec.hidden:
        ws.sheet_state = "hidden"
    if spec.freeze:
        ws.freeze_panes = spec.freeze
    if spec.autofilter:
        ws.auto_filter = AutoFilter(ref=spec.autofilter)
    for j, width in spec.widths.items():
        ws.column_dimensions[column_letter(j)].width = width
    v = spec.validation
    if v is not None:
        dv = DataValidation(type="list", formula1=v.formula, allow_blank=True,
                            showErrorMessage=True, errorTitle=v.error_title, error=v.error,
                            promptTitle=v.prompt_title, prompt=v.prompt)
        dv.showInputMessage = True
        dv.add(v.sqref)
        ws.data_validations.append(dv)


def _cell(ws: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = value if isinstance(value, Cell) else Cell(value)
    if cell.kind == "formula":
        out = WriteOnlyCell(ws, value=cell.value)
    elif isinstance(cell.value, str):
        out = _text_cell(ws, cell.value)
    else:
        out = WriteOnlyCell(ws, value=cell.value)
    if cell.style == "bold":
        out.font = Font(bold=True)
    elif cell.style in _FORMATS:
        out.number_format = _FORMATS[cell.style]
    return out


def _text_cell(ws: Any, value: str) -> Any:
    """A cell holding ``value`` as text, never as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=ooxml_escape(value))
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def _body_value(ws: Any, value: Any, is_text: bool) -> Any:
    if value is None:
        return None
    if is_text or isinstance(value, str):
        # only a cell needing the guard gets its own (slower) styled cell object
        return _text_cell(ws, value) if value.startswith(FORMULA_STARTS) \
            else ooxml_escape(value)
    return value


def read_workbook(path: Path, wanted: tuple[str, ...]) -> tuple[list[str],
                                                               dict[str, list[list[Any]]]]:
    """Sheet names and the grids of the ``wanted`` sheets, read with openpyxl
    (formulas as their text, empty cells None)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        names = list(wb.sheetnames)
        grids = {name: [[ooxml_unescape(v) if isinstance(v, str) else v for v in row]
                        for row in wb[name].iter_rows(values_only=True)]
                 for name in wanted if name in names}
    finally:
        wb.close()
    return names, grids
