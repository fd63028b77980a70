"""XLSX engines of the review sheet: a streaming OOXML writer and a Rust-backed reader.

The sheet is first described without any library (:class:`SheetSpec`, :class:`Cell`,
:class:`Validation`); an engine then writes that description. Two engines exist:

``"mlstrat"`` (the default)
    :func:`write_workbook` streams the XML of each sheet straight into the zip
    archive, column by column, with inline strings: 13x faster than openpyxl's
    write-only mode and 6x faster than xlsxwriter for a 100,000-row sheet
    (``benchmarks/bench_sheets.py``).
    Reading uses python-calamine (:func:`read_workbook`).
``"openpyxl"``
    The reference engine of :mod:`mlstrat.errors._xlsx_openpyxl`, which wrote every
    sheet before; kept to measure against and as an independent implementation.

Text never becomes a formula: every text cell is an inline string, and one that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return also carries
Excel's quote prefix. Only a :class:`Cell` of kind ``"formula"`` writes a formula.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 4096

_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
# cellXfs of styles.xml, in order: the index is the cell's s attribute
STYLES = ("plain", "bold", "quote", "bold quote", "pct2", "pct1")
_STYLE_INDEX = {name: i for i, name in enumerate(STYLES)}
_OOXML_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_OOXML_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")
_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_")
_EDGE = frozenset(FORMULA_STARTS) | {" ", "\n"}


# -- the description --------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of a small sheet.

    ``kind`` ``"formula"`` writes ``value`` (starting with ``=``) as a formula;
    ``"value"`` writes a str as text (guarded) and a number or bool as itself.
    ``style`` is one of :data:`STYLES` or None.
    """

    value: Any
    kind: Literal["value", "formula"] = "value"
    style: str | None = None


@dataclass(frozen=True)
class Validation:
    """A list validation: cells in ``sqref`` accept only ``choices`` (or blank)."""

    sqref: str
    choices: tuple[str, ...]
    error_title: str
    error: str
    prompt_title: str
    prompt: str

    @property
    def formula(self) -> str:
        return '"' + ",".join(self.choices) + '"'


@dataclass
class SheetSpec:
    """A sheet: ``rows`` written cell by cell, then a bulk ``body`` written by column.

    ``body`` holds one list per column (all the same length): str or None in a
    column whose ``text_columns`` flag is set, int/float/bool or None elsewhere.
    ``widths`` maps a 1-based column number to its width in characters; ``freeze``
    is the top-left cell of the scrolling pane (``"B2"`` freezes row 1 and column A).
    """

    name: str
    rows: list[list[Any]] = field(default_factory=list)
    body: list[list[Any]] = field(default_factory=list)
    text_columns: list[bool] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    hidden: bool = False
    freeze: str | None = None
    autofilter: str | None = None
    validation: Validation | None = None

    @property
    def n_rows(self) -> int:
        return len(self.rows) + (len(self.body[0]) if self.body else 0)

    @property
    def n_columns(self) -> int:
        return max([len(self.body)] + [len(r) for r in self.rows] + [1])


def column_letter(number: int) -> str:
    """Excel's letters of a 1-based column number.

    Examples
    --------
    >>> [column_letter(n) for n in (1, 26, 27, 702, 703)]
    ['A', 'Z', 'AA', 'ZZ', 'AAA']
    """
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def ooxml_escape(text: str) -> str:
    r"""Text for an XLSX cell: control characters (a CR included, which XML would
    turn into LF) and characters XML cannot hold as OOXML ``_xHHHH_`` codes, a
    literal ``_xHHHH_`` protected.

    Examples
    --------
    >>> ooxml_escape("a\rb")
    'a_x000D_b'
    >>> ooxml_unescape(ooxml_escape("_x0041_ and \r")) == "_x0041_ and \r"
    True
    """
    text = _OOXML_ESCAPED.sub(r"_x005F_\1", text)
    return _OOXML_CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


_OOXML_CODE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_unescape(text: str) -> str:
    """Undo :func:`ooxml_escape` (as Excel does when it reads a cell)."""
    return _OOXML_CODE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


# -- the streaming writer ---------------------------------------------------------------
def write_workbook(sheets: list[SheetSpec], handle: IO[bytes]) -> None:
    """Write ``sheets`` as an XLSX workbook to the binary ``handle``.

    Examples
    --------
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> write_workbook([SheetSpec("s", rows=[["a", Cell("=1+1", "formula")]])], buf)
    >>> xml = zipfile.ZipFile(buf).read("xl/worksheets/sheet1.xml").decode()
    >>> '<c r="B1"><f>1+1</f></c>' in xml
    True
    """
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
                    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" '
                    'Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", _workbook_xml(sheets))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("xl/styles.xml", _STYLES_XML)
        for i, sheet in enumerate(sheets, 1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w") as fh:
                for chunk in _sheet_xml(sheet, selected=i == 1):
                    fh.write(chunk.encode("utf-8", "surrogatepass"))


_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _content_types(n: int) -> str:
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                     f'ContentType="{_CT}.worksheet+xml"/>' for i in range(1, n + 1))
    return (_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="{_CT}.sheet.main+xml"/>{sheets}<Override '
            f'PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>')


def _workbook_xml(sheets: list[SheetSpec]) -> str:
    entries, names = [], []
    for i, s in enumerate(sheets, 1):
        state = ' state="hidden"' if s.hidden else ""
        entries.append(f'<sheet name="{_attr(s.name)}" sheetId="{i}"{state} r:id="rId{i}"/>')
        if s.autofilter:
            ref = "$" + s.autofilter.replace(":", ":$")
            ref = re.sub(r"([A-Z]+)(\d+)", r"\1$\2", ref)
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i - 1}"'
                         f' hidden="1">{_text(_sheet_ref(s.name))}!{ref}</definedName>')
    defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
    return (_HEAD + f"<workbook {_NS}><bookViews><workbookView activeTab=\"0\"/>"
            f"</bookViews><sheets>{''.join(entries)}</sheets>{defined}"
            '<calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>')


def _sheet_ref(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else \
        "'" + name.replace("'", "''") + "'"


def _workbook_rels(n: int) -> str:
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                   f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
    return (_HEAD + f'<Relationships xmlns="{_PKG_REL}">{rels}<Relationship '
            f'Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>')


_STYLES_XML = (
    _HEAD + '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'quotePrefix="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")


def _sheet_xml(sheet: SheetSpec, selected: bool):
    """The worksheet XML in chunks (elements in the order the schema requires)."""
    last = f"{column_letter(sheet.n_columns)}{max(sheet.n_rows, 1)}"
    yield (_HEAD + f'<worksheet {_NS}><dimension ref="A1:{last}"/>'
           + _sheet_views(sheet, selected) + '<sheetFormatPr defaultRowHeight="15"/>'
           + _cols(sheet.widths) + "<sheetData>")
    for r, row in enumerate(sheet.rows, 1):
        cells = "".join(_cell_xml(f"{column_letter(j)}{r}", v)
                        for j, v in enumerate(row, 1) if v is not None)
        yield f'<row r="{r}">{cells}</row>'
    yield from _body_xml(sheet.body, sheet.text_columns, len(sheet.rows) + 1)
    tail = "</sheetData>"
    if sheet.autofilter:
        tail += f'<autoFilter ref="{sheet.autofilter}"/>'
    if sheet.validation is not None:
        tail += _validation_xml(sheet.validation)
    yield tail + ('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                  'header="0.3" footer="0.3"/></worksheet>')


def _sheet_views(sheet: SheetSpec, selected: bool) -> str:
    tab = ' tabSelected="1"' if selected else ""
    if not sheet.freeze:
        return f'<sheetViews><sheetView{tab} workbookViewId="0"/></sheetViews>'
    corner = re.fullmatch(r"([A-Z]+)(\d+)", sheet.freeze)
    if corner is None:
        raise ValueError(f"A frozen pane's corner is a cell such as 'B2'. Got "
                         f"{sheet.freeze!r}.")
    col, row = corner.groups()
    x_split = sum((ord(ch) - 64) * 26 ** k for k, ch in enumerate(reversed(col))) - 1
    y_split = int(row) - 1
    pane = ("bottomRight" if x_split and y_split else "bottomLeft" if y_split
            else "topRight")
    splits = (f' xSplit="{x_split}"' if x_split else "") + \
        (f' ySplit="{y_split}"' if y_split else "")
    return (f'<sheetViews><sheetView{tab} workbookViewId="0"><pane{splits} '
            f'topLeftCell="{sheet.freeze}" activePane="{pane}" state="frozen"/>'
            f'<selection pane="{pane}" activeCell="{sheet.freeze}" '
            f'sqref="{sheet.freeze}"/></sheetView></sheetViews>')


def _cols(widths: dict[int, float]) -> str:
    if not widths:
        return ""
    cols = "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                   for j, w in sorted(widths.items()))
    return f"<cols>{cols}</cols>"


def _validation_xml(v: Validation) -> str:
    return ('<dataValidations count="1"><dataValidation type="list" allowBlank="1" '
            'showInputMessage="1" showErrorMessage="1" '
            f'errorTitle="{_attr(v.error_title)}" error="{_attr(v.error)}" '
            f'promptTitle="{_attr(v.prompt_title)}" prompt="{_attr(v.prompt)}" '
            f'sqref="{v.sqref}"><formula1>{_text(v.formula)}</formula1>'
            "</dataValidation></dataValidations>")


def _cell_xml(ref: str, value: Any) -> str:
    cell = value if isinstance(value, Cell) else Cell(value)
    if cell.kind == "formula":
        style = _style_attr(cell.style)
        return f'<c r="{ref}"{style}><f>{_text(str(cell.value).lstrip("="))}</f></c>'
    v = cell.value
    if isinstance(v, str):
        return _text_cell(ref, v, cell.style)
    return _number_cell(ref, v, _style_attr(cell.style))


def _style_attr(style: str | None) -> str:
    return f' s="{_STYLE_INDEX[style]}"' if style and style != "plain" else ""


def _text_cell(ref: str, text: str, style: str | None = None) -> str:
    """An inline-string cell; the quote prefix when the text starts like a formula."""
    if text.startswith(FORMULA_STARTS):
        style = "bold quote" if style == "bold" else "quote"
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return (f'<c r="{ref}"{_style_attr(style)} t="inlineStr"><is><t{space}>'
            f"{_text(ooxml_escape(text))}</t></is></c>")


def _number_cell(ref: str, value: Any, style: str = "") -> str:
    if hasattr(value, "item"):  # a NumPy scalar
        value = value.item()
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    return f'<c r="{ref}"{style}><v>{value!r}</v></c>'


def _body_xml(body: list[list[Any]], text_columns: list[bool], first_row: int):
    """The bulk rows, rendered one column at a time (the fast path of the writer)."""
    if not body:
        return
    n = len(body[0])
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        rows = range(first_row + start, first_row + stop)
        columns = [(_text_column if is_text else _number_column)(
                        column_letter(j), values[start:stop], rows)
                   for j, (values, is_text) in enumerate(zip(body, text_columns, strict=True), 1)]
        yield "".join(f'<row r="{r}">{"".join(cells)}</row>'
                      for r, cells in zip(rows, zip(*columns, strict=True), strict=True))


def _text_column(letter: str, values: list[Any], rows: range) -> list[str]:
    special, edge = _SPECIAL.search, _EDGE
    return ["" if v is None else
            f'<c r="{letter}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
            if v and v[0] not in edge and not v[-1].isspace() and special(v) is None
            else _text_cell(f"{letter}{r}", v)
            for v, r in zip(values, rows, strict=True)]


def _number_column(letter: str, values: list[Any], rows: range) -> list[str]:
    return ["" if v is None else _text_cell(f"{letter}{r}", v) if isinstance(v, str)
            else _number_cell(f"{letter}{r}", v) for v, r in zip(values, rows, strict=True)]


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return _text(ooxml_escape(value)).replace('"', "&quot;").replace("\n", "&#10;") \
        .replace("\t", "&#9;")


# -- the reader -------------------------------------------------------------------------
def read_workbook(path: Path, wanted: tuple[str, ...]) -> tuple[list[str],
                                                               dict[str, list[list[Any]]]]:
    """Sheet names and the cell grids (from A1, empty cells ``""``) of the ``wanted``
    sheets that exist, read with python-calamine.

    Numbers come back as float, text with its ``_xHHHH_`` codes decoded, and a cell
    holding a formula as its last computed value (what a spreadsheet program shows).
    """
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as wb:
        names = list(wb.sheet_names)
        grids = {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                 for name in wanted if name in names}
    return names, grids
