"""The error-analysis spreadsheet: export to XLSX/CSV, tag anywhere, import back.

The data sheet has one row per sampled error: ``id``, ``y_true``, ``y_pred``, up to
:data:`MAX_METADATA_COLUMNS` short metadata columns, one column per category and a
``note`` column.

Tag cells
    ``x`` marks the example as belonging to the category; a blank cell means it
    does not. The XLSX data validation accepts only ``x`` (or blank), and the live
    summary counts ``x``. On import, ``x``/``X``, ``1``, ``TRUE``, ``yes`` also mean
    tagged and ``0``, ``FALSE``, ``no`` untagged (for sheets edited in other
    programs); anything else rejects the row.

Formulas never run
    A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return is written as a string cell with Excel's quote prefix in XLSX, and with a
    leading apostrophe in CSV; the import removes that apostrophe, so the round
    trip is lossless (see :func:`guard_text` / :func:`unguard_text`).

Fast in both directions
    XLSX is written by mlstrat's streaming writer and read by python-calamine
    (:mod:`mlstrat.errors._xlsx`); openpyxl, which did both before, remains as
    ``engine="openpyxl"`` and writes the same workbook. A 100,000-row sheet
    exports and imports about five times faster than with openpyxl, the store's
    own work included; the data sheet alone is written 13x and read 15x faster
    (``benchmarks/bench_sheets.py``, figures in BENCHMARKS.md).

Imports are atomic and merge-safe
    The file is checked whole (header, ids, categories, every value); if any row
    is rejected nothing is applied and :class:`TagImportError` carries the report.
    Otherwise every changed cell is written in one transaction. The export
    records the store revision it was taken at (hidden sheet ``mlstrat`` in XLSX,
    column ``mlstrat_revision`` in CSV), so a cell someone else changed in the
    store after the export is not overwritten by the sheet's older value.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlstrat._errors import MlstratError
from mlstrat._files import (
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_UPLOAD_BYTES,
    SpreadsheetError,
    atomic_write,
    check_xlsx,
)
from mlstrat._text import quote
from mlstrat.errors import _xlsx, _xlsx_openpyxl
from mlstrat.errors._session import _features_frame, tag_table
from mlstrat.errors._xlsx import (
    FORMULA_STARTS,
    Cell,
    SheetSpec,
    Validation,
    column_letter,
)
from mlstrat.store._sessions import RESERVED_COLUMNS, check_category_name

if TYPE_CHECKING:  # pragma: no cover
    from mlstrat.errors._session import Session

DATA_SHEET = "errors"
SUMMARY_SHEET = "summary"
META_SHEET = "mlstrat"
REVISION_COLUMN = "mlstrat_revision"
FORMAT_VERSION = 1
MAX_METADATA_COLUMNS = 10
MAX_TEXT = 300
TAG_MARK = "x"
TRUE_TEXT = frozenset({"x", "1", "true", "yes", "y"})
FALSE_TEXT = frozenset({"", "0", "false", "no", "n"})
MAX_REPORTED = 20
_GUARD_FIRST = frozenset(FORMULA_STARTS) | {"'"}


# -- the formula guard ---------------------------------------------------------------
def guard_text(text: str) -> str:
    """Text for a CSV cell that no spreadsheet program runs as a formula.

    Prefixes an apostrophe when the text starts with = + - @ tab or CR (and when it
    starts with an apostrophe followed by one of those or another apostrophe, so
    :func:`unguard_text` can always undo it).

    Examples
    --------
    >>> guard_text("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> unguard_text(guard_text("'=x")) == "'=x"
    True
    >>> guard_text("'tis")
    "'tis"
    """
    if text.startswith(FORMULA_STARTS) or _is_guarded(text):
        return "'" + text
    return text


def unguard_text(text: str) -> str:
    """Undo :func:`guard_text`."""
    return text[1:] if _is_guarded(text) else text


def _is_guarded(text: str) -> bool:
    return len(text) > 1 and text[0] == "'" and (text[1] in FORMULA_STARTS or text[1] == "'")


# -- export ----------------------------------------------------------------------------
XLSX_WRITERS: dict[str, Callable[[list[SheetSpec], IO[bytes]], None]] = {
    "mlstrat": _xlsx.write_workbook,
    "openpyxl": _xlsx_openpyxl.write_workbook,
}
XLSX_READERS: dict[str, Callable[[Path, tuple[str, ...]],
                                 tuple[list[str], dict[str, list[list[Any]]]]]] = {
    "calamine": _xlsx.read_workbook,
    "openpyxl": _xlsx_openpyxl.read_workbook,
}


def export_session(session: Session, path: str | Path, *, engine: str = "mlstrat") -> Path:
    """Write the session's review sheet to ``path`` (``.xlsx`` or ``.csv``), atomically.

    The sheet is written to a temporary file in the same folder, fsynced, then
    renamed over ``path`` (:func:`mlstrat._files.atomic_write`): a kill at any
    moment leaves the previous sheet or the new one, never a truncated file.

    Parameters
    ----------
    session : Session
        The error-analysis session.
    path : str or Path
        The file to write; its suffix chooses the format.
    engine : {'mlstrat', 'openpyxl'}, default='mlstrat'
        The XLSX writer: mlstrat's streaming writer, or openpyxl's write-only
        workbook (the same sheet, written 13x slower). Ignored for CSV.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"Export to .xlsx or .csv; got {path.name!r}.")
    if engine not in XLSX_WRITERS:
        raise ValueError(f"The 'engine' parameter of export_session must be one of "
                         f"{sorted(XLSX_WRITERS)}. Got {engine!r} instead.")
    if path.is_dir():
        raise ValueError(f"Cannot export to {str(path)!r}: it is a folder. Give a file "
                         "name such as review.xlsx.")
    snap = session.project.error_snapshot(session.id)
    table = _export_table(session, snap)
    if len(table) + 1 > MAX_SHEET_ROWS:  # with its header row, as the import counts
        raise ValueError(
            f"Session {session.id} has {len(table):,} examples; a review sheet holds at most "
            f"{MAX_SHEET_ROWS - 1:,} (the import's limit is {MAX_SHEET_ROWS:,} rows with the "
            "header), so this sheet could not be imported back. Tag these examples on the "
            "dashboard, or start a session on a sample of them "
            "(new_session(..., n=...)).")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        if suffix == ".csv":
            _write_csv(table, handle, session.id, snap["revision"])
        else:
            XLSX_WRITERS[engine](workbook_spec(table, session, snap), handle)
    return path


def _export_table(session: Session, snap: dict[str, Any]) -> pd.DataFrame:
    table = tag_table(snap)
    cats = snap["categories"]["name"].tolist()
    meta = _metadata(snap["examples"])
    kind = session.payload_kind()
    if kind in ("text", "path"):
        ids = snap["examples"]["id"].tolist()
        meta["payload"] = [_short(session.payload(i)) for i in ids]
    base = table[["id", "y_true", "y_pred"]]
    out = pd.concat([base, meta], axis=1)
    for c in cats:
        out[c] = np.where(table[c].to_numpy(), TAG_MARK, "")
    out["note"] = table["note"]
    return out


def _metadata(examples: pd.DataFrame) -> pd.DataFrame:
    feats = _features_frame(examples).reset_index(drop=True)
    keep = []
    for col in feats.columns:
        values = feats[col]
        if values.map(lambda v: isinstance(v, (dict, list))).any():
            continue
        if values.dtype == object and values.dropna().astype(str).str.len().max() > MAX_TEXT:
            continue
        keep.append(col)
    return feats[keep[:MAX_METADATA_COLUMNS]]


def _short(value: Any) -> str:
    return "" if value is None else str(value)[:MAX_TEXT]


def _write_csv(table: pd.DataFrame, handle: IO[bytes], session_id: int, revision: int) -> None:
    fh = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    writer = csv.writer(fh)
    writer.writerow([*table.columns, REVISION_COLUMN])
    columns = [[_csv_cell(v) for v in table[c].tolist()] for c in table.columns]
    columns.append([f"{session_id}:{revision}"] * len(table))
    writer.writerows(zip(*columns, strict=True))
    fh.flush()
    fh.detach()  # the caller fsyncs and closes the binary handle


def _csv_cell(value: Any) -> str:
    if isinstance(value, str):
        return guard_text(value) if value[:1] in _GUARD_FIRST else value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating)):
        return str(value.item() if hasattr(value, "item") else value)
    return guard_text(str(value))


# -- the workbook, described once for every engine ------------------------------------
def workbook_spec(table: pd.DataFrame, session: Session, snap: dict) -> list[SheetSpec]:
    """The three sheets of an XLSX export: data, live summary, hidden metadata."""
    rec = session.record
    cats = snap["categories"]["name"].tolist()
    label = snap["categories"].loc[snap["categories"]["builtin"], "name"]
    meta = SheetSpec(META_SHEET, hidden=True, rows=[
        [key, value] for key, value in (
            ("format", FORMAT_VERSION), ("session_id", session.id),
            ("revision", snap["revision"]), ("session_name", rec["name"]),
            ("exported_at", _dt.datetime.now(_dt.UTC).isoformat()))])
    return [_data_sheet(table, cats),
            _summary_sheet(table, cats, rec, None if label.empty else str(label.iloc[0])),
            meta]


def _data_sheet(table: pd.DataFrame, cats: list[str]) -> SheetSpec:
    ncol, n = len(table.columns), len(table)
    text_cols = [table[c].dtype == object or str(table[c].dtype) in ("string", "str")
                 or c in ("id", "y_true", "y_pred") for c in table.columns]
    spec = SheetSpec(
        DATA_SHEET, rows=[[Cell(str(c), style="bold") for c in table.columns]],
        body=[_body_column(table[c].tolist(), is_text)
              for c, is_text in zip(table.columns, text_cols, strict=True)],
        text_columns=text_cols, freeze="B2",
        autofilter=f"A1:{column_letter(ncol)}{n + 1}",
        widths={j: 30 if c == "note" else max(8, min(24, len(str(c)) + 2))
                for j, c in enumerate(table.columns, 1)})
    if cats and n:
        first = table.columns.get_loc(cats[0]) + 1
        spec.validation = Validation(
            sqref=f"{column_letter(first)}2:{column_letter(first + len(cats) - 1)}{n + 1}",
            choices=(TAG_MARK,), error_title="Tag cell",
            error=f"Type {TAG_MARK} to tag this example with the category, or leave the "
                  "cell blank.",
            prompt_title="Tag", prompt=f"{TAG_MARK} = tagged, blank = not")
    return spec


def _body_column(values: list[Any], is_text: bool) -> list[Any]:
    """Cell values of one column: str or None (text), int/float/bool or None (numbers)."""
    if is_text:
        return [(v or None) if type(v) is str else _text_or_none(v) for v in values]
    return [_number(v) for v in values]


def _text_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or value == "" or (isinstance(value, float)
                                                          and value != value):
        return None
    return str(value.item() if isinstance(value, np.generic) else value)


def _number(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value == "" or (
            isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    return str(value)  # a value of another type is written as text (guarded)


def _summary_sheet(table: pd.DataFrame, cats: list[str], rec: dict,
                   label: str | None) -> SheetSpec:
    from mlstrat.stats import z_value  # scipy is slow to import: load it on use

    n = len(table)

    def title(text: str) -> Cell:
        return Cell(text, style="bold")

    def formula(text: str, style: str | None = None) -> Cell:
        return Cell(text, "formula", style)

    rows: list[list[Any]] = [
        [title(f"Error analysis: {rec['name']}")],                                    # 1
        ["These numbers are formulas over the 'errors' sheet: they update "
         f"as you tag ({TAG_MARK} = tagged)."],                                        # 2
        ["dev examples", rec["n_examples"]],                                           # 3
        ["dev errors", rec["n_errors"]],                                               # 4
        ["dev error", formula("=B4/B3", "pct2")],                                      # 5
        ["sampled errors", formula(f"=COUNTA({DATA_SHEET}!A2:A{n + 1})")],             # 6
        ["z (95% Wilson interval)", round(z_value(0.95), 6)],                          # 7
        [],                                                                            # 8
        [title(h) for h in ("category", "count", "share", "share low", "share high",
                            "ceiling", "ceiling low", "ceiling high")],                # 9
    ]
    first = 10
    wil = ("(C{r}+$B$7^2/(2*$B$6){sign}$B$7*SQRT(C{r}*(1-C{r})/$B$6"
           "+$B$7^2/(4*$B$6^2)))/(1+$B$7^2/$B$6)")
    for r, cat in enumerate(cats, first):
        col = column_letter(table.columns.get_loc(cat) + 1)
        rows.append([
            cat,
            formula(f'=COUNTIF({DATA_SHEET}!{col}2:{col}{n + 1},"{TAG_MARK}")'),
            formula(f"=IF($B$6=0,0,B{r}/$B$6)", "pct1"),
            formula(f"=IF($B$6=0,0,MAX(0,{wil.format(r=r, sign='-')}))", "pct1"),
            formula(f"=IF($B$6=0,1,MIN(1,{wil.format(r=r, sign='+')}))", "pct1"),
            formula(f"=C{r}*$B$5", "pct2"),
            formula(f"=D{r}*$B$5", "pct2"),
            formula(f"=E{r}*$B$5", "pct2"),
        ])
    rows.append([])
    if label in cats:
        r = first + cats.index(label)
        rows += [[title("Fix the labels?")],
                 ["overall dev error", formula("=B5", "pct2")],
                 ["errors due to incorrect labels", formula(f"=F{r}", "pct2")],
                 ["errors due to other causes", formula(f"=B5-F{r}", "pct2")]]
    rows += [[], ["ceiling = dev error x share: the most dev error can fall if the "
                  "category is fully fixed. Categories are not exclusive."]]
    widths: dict[int, float] = {1: 34, **{j: 13 for j in range(2, 9)}}
    return SheetSpec(SUMMARY_SHEET, rows=rows, widths=widths)


# -- import ----------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What an import did, or why it was refused (``rejected`` rows)."""

    path: str
    rows: int = 0
    applied: bool = False
    tagged: int = 0
    untagged: int = 0
    notes: int = 0
    unchanged: int = 0
    kept_newer: int = 0
    created: list[str] = field(default_factory=list)
    untouched_categories: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def to_frame(self) -> pd.DataFrame:
        """The rejected rows: row (as numbered in the file), column, value, reason."""
        return pd.DataFrame(self.rejected, columns=["row", "column", "value", "reason"])

    def __str__(self) -> str:
        if not self.applied:
            head = f"Import of {self.path} refused; nothing was changed."
            if self.problem:
                head += f"\n  {self.problem}"
            lines = [head]
            if self.rejected:
                lines.append(f"  {len(self.rejected)} rejected cell(s); fix them and import "
                             "again:")
                for r in self.rejected[:MAX_REPORTED]:
                    lines.append(f"  row {r['row']}, column {quote(r['column'])}, value "
                                 f"{quote(r['value'])}: {r['reason']}")
                if len(self.rejected) > MAX_REPORTED:
                    lines.append(f"  ... and {len(self.rejected) - MAX_REPORTED} more.")
            return "\n".join(lines)
        text = (f"Imported {self.path}: {self.rows} rows; {self.tagged} tags set, "
                f"{self.untagged} cleared, {self.notes} notes changed, {self.unchanged} "
                "cells unchanged.")
        if self.kept_newer:
            text += (f"\n  {self.kept_newer} cell(s) changed in the store after the export "
                     "kept their newer value.")
        if self.created:
            text += f"\n  New categories: {self.created}."
        if self.untouched_categories:
            text += (f"\n  Categories absent from the file (left unchanged): "
                     f"{self.untouched_categories}.")
        for c in self.conflicts[:MAX_REPORTED]:
            text += (f"\n  Conflict on {quote(c['id'])} {c['column']}: the store's newer "
                     f"value {quote(c['store'])} was kept; the sheet had {quote(c['sheet'])}.")
        return text


class TagImportError(MlstratError):
    """A spreadsheet import was refused; ``report`` lists every rejected cell."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(str(report))
        self.report = report


def import_tags(session: Session, path: str | Path, *, create_categories: bool = False,
                by: str | None = None, engine: str = "calamine") -> ImportReport:
    """Read a tagged ``.xlsx`` or ``.csv`` back into ``session``, atomically.

    Parameters
    ----------
    engine : {'calamine', 'openpyxl'}, default='calamine'
        The XLSX reader: python-calamine (Rust), or openpyxl's read-only workbook
        (15x slower). A cell holding a formula is read as its last
        computed value with calamine and as the formula's text with openpyxl.
        Ignored for CSV.

    Raises
    ------
    TagImportError
        When the file, its header or any row is rejected; nothing is applied.
    """
    if engine not in XLSX_READERS:
        raise ValueError(f"The 'engine' parameter of import_tags must be one of "
                         f"{sorted(XLSX_READERS)}. Got {engine!r} instead.")
    path = Path(path)
    report = ImportReport(path=str(path))
    try:
        header, rows, stamp = _read_sheet(path, engine)
        _check_stamp(stamp, session.id)
        plan = _plan(session, header, rows, create_categories, report)
    except _Refused as exc:
        report.problem = str(exc)
        raise TagImportError(report) from None
    if report.rejected:
        raise TagImportError(report)
    result = session.project.apply_error_changes(
        session.id, plan["tags"], plan["notes"], new_categories=plan["new"],
        base_revision=None if stamp is None else stamp[1], by=by,
        source=f"import:{path.name}")
    report.applied = True
    for key in ("tagged", "untagged", "notes", "unchanged", "kept_newer", "conflicts",
                "created"):
        setattr(report, key, result[key])
    return report


class _Refused(Exception):
    """The file as a whole cannot be imported (message says why)."""


def _read_sheet(path: Path, engine: str = "calamine") -> tuple[
        list[str], list[tuple[int, list[Any]]], tuple[int, int] | None]:
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    if path.is_dir():
        raise _Refused(f"{str(path)!r} is a folder; give the .xlsx or .csv file exported by "
                       "`mlstrat errors export`.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, engine)
    if suffix == ".csv":
        return _read_csv(path)
    raise _Refused(f"{path.name} is not a spreadsheet mlstrat reads: give an .xlsx or .csv "
                   "file exported by `mlstrat errors export`.")


def _read_xlsx(path: Path, engine: str):
    """Header, rows and stamp of the data sheet; every failure is a :class:`_Refused`.

    The archive is checked against the caps of :mod:`mlstrat._files` before any
    XML is parsed; a damaged member (XML, deflate stream) found while reading is
    reported with the file's name, never as a parser's own exception.
    """
    try:
        check_xlsx(path, name=path.name)
    except SpreadsheetError as exc:
        raise _Refused(str(exc)) from None
    try:
        names, grids = XLSX_READERS[engine](path, (DATA_SHEET, META_SHEET))
    except BaseException as exc:  # calamine, openpyxl, lxml, zipfile, zlib: many types
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit; a Rust panic is a damaged file
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        raise _Refused(f"{path.name} is not a readable XLSX workbook: it is damaged "
                       f"({type(exc).__name__}{': ' + detail if detail else ''}). Export "
                       "the sheet again or save it again from your spreadsheet "
                       "program.") from None
    if DATA_SHEET not in grids:
        raise _Refused(f"{path.name} has no '{DATA_SHEET}' sheet (sheets: "
                       f"{[quote(n) for n in names[:10]]}). Import the file "
                       "`mlstrat errors export` wrote.")
    grid = grids[DATA_SHEET]
    header = [_header(v) for v in (grid[0] if grid else [])]
    if len(header) > MAX_SHEET_COLUMNS:
        raise _Refused(f"{path.name}: the '{DATA_SHEET}' sheet has {len(header):,} "
                       f"columns; the limit is {MAX_SHEET_COLUMNS:,}.")
    if len(grid) > MAX_SHEET_ROWS:
        raise _Refused(f"{path.name}: the '{DATA_SHEET}' sheet has more than "
                       f"{MAX_SHEET_ROWS:,} rows; the limit is {MAX_SHEET_ROWS:,}.")
    rows = list(enumerate(grid[1:], start=2))
    return header, rows, _xlsx_stamp(grids.get(META_SHEET), path)


def _xlsx_stamp(grid: list[list[Any]] | None, path: Path) -> tuple[int, int] | None:
    if grid is None:
        return None
    meta = {r[0]: r[1] for r in grid if r and len(r) >= 2}
    if _blank(meta.get("session_id")) or _blank(meta.get("revision")):
        return None
    try:
        return int(meta["session_id"]), int(meta["revision"])
    except (TypeError, ValueError, OverflowError):
        raise _Refused(f"{path.name}: the hidden '{META_SHEET}' sheet was edited (session_id "
                       f"{quote(meta['session_id'])}, revision {quote(meta['revision'])}); "
                       "leave it as exported.") from None


def _read_csv(path: Path):
    try:
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise _Refused(f"{path.name} is {size / 2**20:,.0f} MB; the limit is "
                           f"{MAX_UPLOAD_BYTES / 2**20:,.0f} MB.")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            raw = []
            for row in csv.reader(fh):
                raw.append(row)
                if len(raw) > MAX_SHEET_ROWS:
                    raise _Refused(f"{path.name} has more than {MAX_SHEET_ROWS:,} rows; the "
                                   f"limit is {MAX_SHEET_ROWS:,}.")
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _Refused(f"{path.name} is not a readable UTF-8 CSV file "
                       f"({str(exc)[:120]}).") from None
    if not raw:
        raise _Refused(f"{path.name} is empty.")
    if len(raw[0]) > MAX_SHEET_COLUMNS:
        raise _Refused(f"{path.name} has {len(raw[0]):,} columns; the limit is "
                       f"{MAX_SHEET_COLUMNS:,}.")
    header = [_header(unguard_text(h)) for h in raw[0]]
    stamp = None
    if REVISION_COLUMN in header:
        j = header.index(REVISION_COLUMN)
        stamps = {r[j] for r in raw[1:] if len(r) > j and r[j]}
        if len(stamps) > 1:
            shown = [quote(v) for v in sorted(stamps)[:3]]
            raise _Refused(f"The '{REVISION_COLUMN}' column holds several values {shown}:"
                           " rows from different exports were mixed.")
        if stamps:
            try:
                sid, rev = stamps.pop().split(":")
                stamp = (int(sid), int(rev))
            except ValueError:
                raise _Refused(f"The '{REVISION_COLUMN}' column was edited; leave it as "
                               "exported (or delete the column).") from None
    rows = [(i, [unguard_text(v) if v[:1] == "'" else v for v in r])
            for i, r in enumerate(raw[1:], start=2)]
    return header, rows, stamp


def _header(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _check_stamp(stamp: tuple[int, int] | None, session_id: int) -> None:
    if stamp is not None and stamp[0] != session_id:
        raise _Refused(f"This file was exported from session {stamp[0]}, not session "
                       f"{session_id}. Import it into session {stamp[0]}.")


def _plan(session: Session, header: list[str], rows: list[tuple[int, list[Any]]],
          create: bool, report: ImportReport) -> dict[str, Any]:
    """Check the whole file and return the cells to apply (nothing is written)."""
    roles, new = _columns(session, header, create, report)
    sample = set(session.sample_ids())
    id_col = header.index("id")
    tag_cols = [(j, roles[j][1]) for j in range(len(header)) if roles[j][0] == "tag"]
    note_col = next((j for j in range(len(header)) if roles[j][0] == "note"), None)
    seen: dict[str, int] = {}
    tags, notes = [], []
    width, headerless = len(header), not all(header)
    for rownum, values in rows:
        if len(values) < width:
            values = values + [None] * (width - len(values))
        if _blank(values[id_col]) and all(_blank(v) for v in values):
            continue
        report.rows += 1
        if headerless or len(values) > width:
            _reject_headerless(report, rownum, header, values)
        eid = _id_text(values[id_col])
        if not eid:
            _reject(report, rownum, "id", values[id_col], "the id is empty")
            continue
        if eid in seen:
            _reject(report, rownum, "id", eid, f"duplicate id (also on row {seen[eid]})")
            continue
        seen[eid] = rownum
        if eid not in sample:
            _reject(report, rownum, "id", eid,
                    f"not a sampled error of session {session.id}")
            continue
        for j, cat in tag_cols:
            value = _TAG_COMMON.get(values[j], _UNCOMMON)
            if value is _UNCOMMON:
                value = _tag_value(values[j])
            if value is None:
                _reject(report, rownum, header[j], values[j],
                        f"a tag cell takes '{TAG_MARK}' or blank (also 1/TRUE/yes, "
                        "0/FALSE/no)")
            else:
                tags.append((eid, cat, value))
        if note_col is not None:
            notes.append((eid, _note_text(values[note_col])))
    return {"tags": tags, "notes": notes, "new": new}


def _columns(session: Session, header: list[str], create: bool,
             report: ImportReport) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The role of each column: ('id'|'note'|'ignore'|'tag', category)."""
    if "id" not in [h.casefold() for h in header]:
        found = ", ".join(quote(h) for h in header[:12] if h)
        raise _Refused("The header has no 'id' column (row 1 must keep the exported "
                       f"headers). Found: [{found}].")
    header[:] = ["id" if h.casefold() == "id" else ("note" if h.casefold() == "note" else h)
                 for h in header]
    folded = [h.casefold() for h in header if h]
    dups = sorted({h for h in folded if folded.count(h) > 1})
    if dups:
        raise _Refused(f"The header repeats column(s) {[quote(d) for d in dups[:10]]}; each "
                       "column must appear once.")
    cats = session.project.error_categories(session.id, include_merged=True)
    active = {n.casefold(): n for n in cats.loc[cats["merged_into"].isna(), "name"]}
    merged = {n.casefold(): m for n, m in zip(cats["name"], cats["merged_into"], strict=True)
              if pd.notna(m)}
    feats = {str(f).casefold() for f in (session.record["settings"].get("features") or [])}
    fixed = {c.casefold() for c in RESERVED_COLUMNS}
    roles: list[tuple[str, str | None]] = []
    new, unknown = [], []
    for h in header:
        key = h.casefold()
        if key in ("id", "note"):
            roles.append((key, None))
        elif not h or key in fixed or key in feats:
            roles.append(("ignore", None))
        elif key in active:
            roles.append(("tag", active[key]))
        elif create and key not in merged:
            try:
                check_category_name(h)
            except ValueError as exc:
                raise _Refused(f"Column {quote(h)} cannot become a category: {exc}") from None
            new.append(h)
            roles.append(("tag", h))
        else:
            unknown.append(h)
            roles.append(("ignore", None))
    if unknown:
        was_merged = [h for h in unknown if h.casefold() in merged]
        hint = (f" {was_merged} were merged into other categories." if was_merged else
                " Pass create_categories=True (CLI: --create-categories) to add them.")
        shown = ", ".join(quote(h) for h in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise _Refused(f"Unknown category column(s) [{shown}]{more}. Known categories: "
                       f"{list(active.values())}.{hint}")
    present = {str(r[1]).casefold() for r in roles if r[0] == "tag"}
    report.untouched_categories = [n for k, n in active.items() if k not in present]
    return roles, new


def _reject_headerless(report: ImportReport, rownum: int, header: list[str],
                       values: list[Any]) -> None:
    """Reject the first value of a row that sits in a column with no header (an empty
    header cell, or beyond the header's last column): it would be dropped silently."""
    for j, value in enumerate(values):
        if (j >= len(header) or not header[j]) and not _blank(value):
            where = f"column {j + 1} (no header)"
            _reject(report, rownum, where, value, "a value in a column with no header; give "
                    "the column a header or clear it")
            return


def _reject(report: ImportReport, row: int, column: str, value: Any, reason: str) -> None:
    report.rejected.append({"row": row, "column": column,
                            "value": "" if value is None else value, "reason": reason})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _id_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_UNCOMMON = object()
_TAG_COMMON: dict[Any, bool] = {None: False, "": False, TAG_MARK: True,
                                TAG_MARK.upper(): True}


def _tag_value(value: Any) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else None
    text = str(value).strip().casefold()
    if text in TRUE_TEXT:
        return True
    if text in FALSE_TEXT:
        return False
    return None


def _note_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
