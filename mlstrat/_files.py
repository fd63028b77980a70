"""Files on disk: writes that a kill cannot half-do, spreadsheets read within bounds.

Atomic writes
    :func:`atomic_write` writes to a temporary file in the target's folder, named
    ``.<name>.<pid>.<random>.mlstrat-tmp``, flushes and fsyncs it, then renames it
    over the target (``os.replace``) and fsyncs the folder. A process killed at any
    moment leaves the target either as it was or as the new file, never truncated.
    A kill can leave that one temporary file behind; the next write to the same
    target removes every such file whose writing process is gone (or that is over
    a day old), so killed writes never pile up.

Bounded spreadsheets
    An XLSX file is a zip archive of XML that can expand a thousandfold. Before any
    XML is parsed, :func:`check_xlsx` refuses an archive whose members add up to
    more than :data:`MAX_XLSX_UNCOMPRESSED` bytes once unzipped, that has more than
    :data:`MAX_XLSX_MEMBERS` members, or a sheet with more than
    :data:`MAX_SHEET_ROWS` rows or :data:`MAX_SHEET_COLUMNS` columns (from the
    sheet's ``<dimension>`` and a streamed count of its ``<row>`` elements). Every
    reader of a user's spreadsheet (error-analysis imports, data files, dashboard
    uploads) calls it; :func:`check_upload` applies the same caps to uploaded bytes.

    The caps fit each other: a review sheet as long as :data:`MAX_SHEET_ROWS`
    (250,000 rows; 82 MB of XML with 5 categories and 2 features) unzips well
    under :data:`MAX_XLSX_UNCOMPRESSED` (120 MB), so such a sheet imports back at any
    length the row cap allows (a sheet with many more columns or long notes can pass
    the size cap first; the message then points to CSV). Reading a sheet at the caps
    peaks at about 0.6 GB of memory (python-calamine's grid; BENCHMARKS.md). Larger
    tables belong in CSV or Parquet.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import stat
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mlstrat._errors import MlstratError

__all__ = [
    "MAX_SHEET_COLUMNS",
    "MAX_SHEET_ROWS",
    "MAX_UPLOAD_BYTES",
    "MAX_XLSX_MEMBERS",
    "MAX_XLSX_UNCOMPRESSED",
    "TEMP_SUFFIX",
    "SpreadsheetError",
    "atomic_write",
    "check_upload",
    "check_xlsx",
    "clean_stale_temps",
    "stale_temps",
]

#: an upload (any file the dashboard receives) larger than this is refused
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
#: a sheet with more rows than this (header included) is refused; CSV review sheets too
MAX_SHEET_ROWS = 250_000
#: an XLSX archive whose members add up to more than this once unzipped is refused:
#: room for a review sheet at MAX_SHEET_ROWS (82 MB of XML at 250,000 rows of 5
#: categories and 2 features, 340 bytes a row) with about 1.5x to spare
MAX_XLSX_UNCOMPRESSED = 120 * 1024 * 1024
#: an XLSX archive with more members than this is refused
MAX_XLSX_MEMBERS = 1_000
#: a sheet with more columns than this is refused
MAX_SHEET_COLUMNS = 2_000
#: the ending of the temporary files :func:`atomic_write` creates
TEMP_SUFFIX = ".mlstrat-tmp"
_STALE_SECONDS = 24 * 3600
_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")


class SpreadsheetError(MlstratError):
    """A spreadsheet is damaged or too large to read; the message names the file."""


# -- atomic writes ------------------------------------------------------------------
@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, text: bool = False, encoding: str = "utf-8",
                 newline: str | None = "") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only once it is complete.

    Parameters
    ----------
    path : str or path-like
        The target. Its folder must exist; a target that is a folder is refused.
    text : bool, default=False
        Yield a text handle (``encoding``, ``newline``) instead of a binary one.

    Yields
    ------
    file object
        Write the whole content to it. If the block raises, the target is left
        as it was and the temporary file is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> with atomic_write(target, text=True) as fh:
    ...     _ = fh.write("a,b\\n")
    >>> target.read_text(), stale_temps(target)
    ('a,b\\n', [])
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write {str(path)!r}: it is a folder. Give a file "
                                "name inside it instead.")
    clean_stale_temps(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _mode_for(path))
    try:
        handle: IO[Any] = (os.fdopen(fd, "w", encoding=encoding, newline=newline) if text
                           else os.fdopen(fd, "wb"))
        with handle as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def _mode_for(path: Path) -> int:
    """The target's permission bits if it exists, else the usual 0o666 (less umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def stale_temps(path: str | os.PathLike) -> list[Path]:
    """Temporary files of :func:`atomic_write` for ``path`` (finished or not)."""
    path = Path(path)
    prefix = f".{path.name}."
    try:
        return sorted(p for p in path.parent.iterdir()
                      if p.name.startswith(prefix) and p.name.endswith(TEMP_SUFFIX))
    except OSError:
        return []


def clean_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files left for ``path`` by killed writers; return them.

    A temporary file is stale when the process that wrote it is gone, or when
    it is more than a day old. Files of live writers are left alone.
    """
    removed = []
    for tmp in stale_temps(path):
        if _writer_alive(tmp) and not _older_than(tmp, _STALE_SECONDS):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _writer_alive(tmp: Path) -> bool:
    parts = tmp.name[: -len(TEMP_SUFFIX)].rsplit(".", 2)
    try:
        pid = int(parts[-2])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no cheap liveness check: rely on the file's age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _older_than(tmp: Path, seconds: float) -> bool:
    try:
        return time.time() - tmp.stat().st_mtime > seconds
    except OSError:
        return False


# -- bounded spreadsheets -------------------------------------------------------------
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?ref=\"([^\"]+)\"")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s/>]")
#: every match of _ROW_TAG holds one of these; their counts (a few times faster than
#: the regex) bound the rows from above, and the regex runs only when they pass the cap
_ROW_BOUND = (b"<row", b":row")
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_CHUNK = 1 << 20


def check_xlsx(source: str | os.PathLike | bytes, *, name: str | None = None,
               max_uncompressed: int = MAX_XLSX_UNCOMPRESSED,
               max_rows: int = MAX_SHEET_ROWS,
               max_columns: int = MAX_SHEET_COLUMNS) -> None:
    """Refuse an XLSX archive that is damaged or too large, before any XML is parsed.

    Parameters
    ----------
    source : path or bytes
        The file, or its bytes (an upload).
    name : str, optional
        The name used in messages (default: the path).
    max_uncompressed, max_rows, max_columns : int
        The caps (defaults: the module's ``MAX_*`` constants).

    Raises
    ------
    SpreadsheetError
        (a ValueError) naming the file, the cap and the fix.

    Examples
    --------
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as zf:
    ...     zf.writestr("xl/worksheets/sheet1.xml", '<worksheet><dimension ref="A1:B3"/>'
    ...                 '<sheetData><row r="1"/></sheetData></worksheet>')
    >>> check_xlsx(buf.getvalue(), name="ok.xlsx")
    >>> check_xlsx(buf.getvalue(), name="ok.xlsx", max_rows=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat._files.SpreadsheetError: ok.xlsx: sheet 'sheet1.xml' has 3 rows; the limit is 2. ...
    """
    label = name or (str(source) if not isinstance(source, bytes) else "the spreadsheet")
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(handle) as zf:
            _check_members(zf, label, max_uncompressed)
            for info in zf.infolist():
                if _is_sheet(info.filename):
                    _check_sheet(zf, info, label, max_rows, max_columns)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError) as exc:
        raise SpreadsheetError(f"{label} is not a readable XLSX workbook: the archive is "
                               f"damaged ({_first_line(exc)}). Save it again from your "
                               "spreadsheet program.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__


def _is_sheet(member: str) -> bool:
    return member.startswith("xl/worksheets/") and member.endswith(".xml")


def _check_members(zf: zipfile.ZipFile, label: str, max_uncompressed: int) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_XLSX_MEMBERS:
        raise SpreadsheetError(f"{label} holds {len(infos):,} archive members; an XLSX "
                               f"workbook mlstrat reads has at most {MAX_XLSX_MEMBERS:,}.")
    total = sum(i.file_size for i in infos)
    if total > max_uncompressed:
        raise SpreadsheetError(
            f"{label} expands to {total / 2**20:,.0f} MB of XML once unzipped; the limit is "
            f"{max_uncompressed / 2**20:,.0f} MB. Save the data as CSV (or Parquet), or "
            "split the workbook.")
    if not any(_is_sheet(i.filename) for i in infos):
        raise SpreadsheetError(f"{label} is not an XLSX workbook: it holds no worksheet "
                               "(xl/worksheets/*.xml). Save it as .xlsx again.")


def _check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str,
                 max_rows: int, max_columns: int) -> None:
    sheet = info.filename.rsplit("/", 1)[-1]
    with zf.open(info) as fh:
        head = fh.read(_CHUNK)
        found = _DIMENSION.search(head[:65536])
        if found:
            _check_dimension(found.group(1).decode("ascii", "replace"), label, sheet,
                             max_rows, max_columns)
        if _count_tags(head, fh, _ROW_BOUND, max_rows) <= max_rows:
            return  # an upper bound of the rows is within the cap: no exact count needed
    with zf.open(info) as fh:
        if _count_tags(fh.read(_CHUNK), fh, _ROW_TAG, max_rows) > max_rows:
            _too_many_rows(label, sheet, f"more than {max_rows:,}", max_rows)


def _count_tags(chunk: bytes, fh: IO[bytes], pattern: re.Pattern[bytes] | tuple[bytes, ...],
                stop: int) -> int:
    """Occurrences of ``pattern`` (a regex, or substrings whose counts add up) in
    ``chunk`` and the rest of ``fh``, read a chunk at a time; stops above ``stop``.

    Examples
    --------
    >>> import io
    >>> xml = b"<sheetData><row r='1'/><x:row>" + b"</x:row></sheetData><rowBreaks/>"
    >>> _count_tags(xml, io.BytesIO(), _ROW_TAG, 10), _count_tags(xml, io.BytesIO(),
    ...                                                           _ROW_BOUND, 10)
    (2, 4)
    """
    count, tail = 0, b""
    while chunk and count <= stop:
        data = tail + chunk
        count += _occurrences(data, pattern) - _occurrences(tail, pattern)
        tail = data[-16:]
        chunk = fh.read(_CHUNK)
    return count


def _occurrences(data: bytes, pattern: re.Pattern[bytes] | tuple[bytes, ...]) -> int:
    if isinstance(pattern, tuple):
        return sum(data.count(part) for part in pattern)
    return len(pattern.findall(data))


def _check_dimension(ref: str, label: str, sheet: str, max_rows: int,
                     max_columns: int) -> None:
    corner = _CELL_REF.match(ref.split(":")[-1].strip())
    if corner is None:
        return
    letters, digits = corner.groups()
    n_cols = 0
    for ch in letters.upper():
        n_cols = n_cols * 26 + ord(ch) - 64
    if int(digits) > max_rows:
        _too_many_rows(label, sheet, f"{int(digits):,}", max_rows)
    if n_cols > max_columns:
        raise SpreadsheetError(f"{label}: sheet {sheet!r} has {n_cols:,} columns; the limit "
                               f"is {max_columns:,}. Delete the unused columns or save the "
                               "data as CSV.")


def _too_many_rows(label: str, sheet: str, count: str, max_rows: int) -> None:
    raise SpreadsheetError(f"{label}: sheet {sheet!r} has {count} rows; the limit is "
                           f"{max_rows:,}. Delete the unused rows, take a sample or save the "
                           "data as CSV.")


def check_upload(data: bytes, filename: str, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """The caps every upload meets before it is written or parsed.

    Refuses more than ``max_bytes`` bytes, and for ``.xlsx``/``.xlsm`` names runs
    :func:`check_xlsx` on the bytes.

    Raises
    ------
    SpreadsheetError
        (a ValueError) naming the file and the cap.

    Examples
    --------
    >>> check_upload(b"split,y_true,y_pred\\n", "p.csv")
    >>> check_upload(b"not a zip", "tags.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat._files.SpreadsheetError: tags.xlsx is not a readable XLSX workbook: ...
    """
    if len(data) > max_bytes:
        raise SpreadsheetError(f"{filename} is {len(data) / 2**20:,.0f} MB; the limit is "
                               f"{max_bytes / 2**20:,.0f} MB. Upload a sample or split the "
                               "file.")
    if Path(filename).suffix.lower() in _SPREADSHEET_SUFFIXES:
        check_xlsx(data, name=filename)
