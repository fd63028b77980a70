"""Review-sheet engines: XLSX export and import of 100,000 sampled errors, each engine
beside openpyxl in the same run. Prints seconds and ratios, asserts nothing.

1. The whole round trip, as a user runs it: ``session.export("review.xlsx")`` with
   the default engine (mlstrat's streaming writer) and with ``engine="openpyxl"``;
   ``session.import_tags`` of a sheet with 10% of its tag cells changed, with the
   default reader (python-calamine) and with ``engine="openpyxl"``. Each engine has
   its own, identical session, so every import applies the same changes.
2. Where the default engine's time goes: the store's snapshot, writing; the caps
   check and reading, checking every row, and the store's one-transaction write
   of the changes.
3. The engines alone on the same workbook: writers (mlstrat, openpyxl write-only,
   xlsxwriter ``constant_memory``) and readers (python-calamine, fastexcel,
   openpyxl read-only). xlsxwriter and fastexcel are measured when installed (the
   ``dev`` extra has them); the library uses neither.
4. With ``--memory-at-cap`` (instead of 1-3): the peak memory of a fresh process
   importing a review sheet as long as the row cap allows, and of ``read_table``
   reading dense data files of as many rows near the unzipped-size cap.

Each step prints wall and CPU seconds; ratios use CPU time, which a busy shared
machine inflates far less than wall time.

Run: ``.venv/bin/python benchmarks/bench_sheets.py`` (``--rows`` to change the size,
``--skip-openpyxl`` to leave out the slow reference, ``--memory-at-cap``).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_errors import CATEGORIES, all_errors, pre_tag  # noqa: E402

from mlstrat._files import check_xlsx  # noqa: E402
from mlstrat.errors import _sheets, new_session, open_session  # noqa: E402
from mlstrat.errors._xlsx import Cell, SheetSpec  # noqa: E402
from mlstrat.first_system import read_table  # noqa: E402
from mlstrat.store import open_project  # noqa: E402


@contextmanager
def timed(label: str, results: dict):
    """Wall and CPU seconds of the block. Every engine here runs on one thread, so on
    a shared machine the CPU time is the figure a quiet machine's wall clock shows."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    results[label] = (time.perf_counter() - start, time.process_time() - cpu)
    wall, cpu = results[label]
    print(f"  {label:<58} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)


def ratio(results: dict, slow: str, fast: str) -> None:
    if slow in results and fast in results:
        r = results[slow][1] / results[fast][1]
        word = f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"
        print(f"    -> {fast!r} is {word} than {slow!r} (CPU time)")


def make_session(project, n: int):
    """A session of ``n`` sampled errors with about 30% of the tag cells set (seeded)."""
    session = new_session(project, all_errors(n), n=None, features=["camera", "brightness"],
                          categories=CATEGORIES)
    pre_tag(session, np.random.default_rng(1))
    return session


def edited_workbook(session, share: float = 0.1) -> list[SheetSpec]:
    """The session's workbook with ``share`` of its tag cells flipped, as a user's
    edits leave it (same stamp as an export taken now)."""
    snap = session.project.error_snapshot(session.id)
    table = _sheets._export_table(session, snap)
    rng = np.random.default_rng(7)
    for cat in CATEGORIES:
        flip = rng.random(len(table)) < share
        values = table[cat].to_numpy(dtype=object)
        values[flip] = np.where(values[flip] == "x", "", "x")
        table[cat] = values
    return _sheets.workbook_spec(table, session, snap)


def bench_round_trip(folder: Path, n: int, engines: list[tuple[str, str]],
                     results: dict) -> None:
    print(f"Round trip, {n:,} sampled errors x {len(CATEGORIES)} categories")
    for writer, reader in engines:
        project = open_project(folder / f"p-{writer}")
        session = make_session(project, n)
        path = folder / f"review-{writer}.xlsx"
        with timed(f"export XLSX, engine={writer!r}", results):
            _sheets.export_session(session, path, engine=writer)
        print(f"    -> {path.stat().st_size / 2**20:.1f} MB")
        with open(path, "wb") as fh:  # the user's edits (setup, not measured)
            _sheets.XLSX_WRITERS[writer](edited_workbook(session), fh)
        with timed(f"import XLSX (10% of tag cells changed), engine={reader!r}", results):
            report = _sheets.import_tags(session, path, engine=reader)
        print(f"    -> {report.tagged:,} set, {report.untagged:,} cleared")
        project.close()
    ratio(results, "export XLSX, engine='openpyxl'", "export XLSX, engine='mlstrat'")
    ratio(results, "import XLSX (10% of tag cells changed), engine='openpyxl'",
          "import XLSX (10% of tag cells changed), engine='calamine'")


def bench_stages(folder: Path, n: int, results: dict) -> Path:
    print("Stages of the default engine")
    project = open_project(folder / "stages")
    session = make_session(project, n)
    with timed("export: store snapshot and table", results):
        snap = project.error_snapshot(session.id)
        table = _sheets._export_table(session, snap)
    with timed("export: describe the workbook", results):
        spec = _sheets.workbook_spec(table, session, snap)
    path = folder / "stages.xlsx"
    with timed("export: write (mlstrat streaming writer)", results), open(path, "wb") as fh:
        _sheets.XLSX_WRITERS["mlstrat"](spec, fh)
    with open(path, "wb") as fh:
        _sheets.XLSX_WRITERS["mlstrat"](edited_workbook(session), fh)
    with timed("import: caps check alone (check_xlsx, part of the next step)", results):
        check_xlsx(path)
    with timed("import: check caps and read (python-calamine)", results):
        header, rows, stamp = _sheets._read_sheet(path, "calamine")
    report = _sheets.ImportReport(path=str(path))
    with timed("import: check every row (plan)", results):
        plan = _sheets._plan(session, header, rows, False, report)
    with timed("import: store, one transaction", results):
        project.apply_error_changes(session.id, plan["tags"], plan["notes"],
                                    base_revision=stamp[1], by="bench")
    project.close()
    return path


def bench_engines(path: Path, results: dict, with_openpyxl: bool) -> None:
    print("Engines alone, on the same workbook")
    grids = _sheets.XLSX_READERS["calamine"](path, ("errors",))[1]
    spec = _grid_spec(grids["errors"])
    writers = {"mlstrat": _sheets.XLSX_WRITERS["mlstrat"], "xlsxwriter": _xlsxwriter()}
    if with_openpyxl:
        writers["openpyxl"] = _sheets.XLSX_WRITERS["openpyxl"]
    for name, write in writers.items():
        if write is None:
            print(f"  write, {name}: not installed (pip install -e '.[dev]')")
            continue
        with timed(f"write data sheet, {name}", results):
            write([spec], io.BytesIO())
    readers = {"python-calamine": lambda: _sheets.XLSX_READERS["calamine"](path, ("errors",)),
               "fastexcel": _fastexcel(path)}
    if with_openpyxl:
        readers["openpyxl"] = lambda: _sheets.XLSX_READERS["openpyxl"](path, ("errors",))
    for name, read in readers.items():
        if read is None:
            print(f"  read, {name}: not installed (pip install -e '.[dev]')")
            continue
        with timed(f"read data sheet, {name}", results):
            read()
    ratio(results, "write data sheet, openpyxl", "write data sheet, mlstrat")
    ratio(results, "write data sheet, xlsxwriter", "write data sheet, mlstrat")
    ratio(results, "read data sheet, openpyxl", "read data sheet, python-calamine")
    ratio(results, "read data sheet, fastexcel", "read data sheet, python-calamine")


def _grid_spec(grid: list[list]) -> SheetSpec:
    header, body = grid[0], list(zip(*grid[1:], strict=True))
    text = [not any(isinstance(v, float) for v in col) for col in body]
    columns = [[None if v == "" else v for v in col] for col in body]
    return SheetSpec("errors", rows=[[Cell(h, style="bold") for h in header]],
                     body=columns, text_columns=text, freeze="B2",
                     autofilter=f"A1:K{len(grid)}")


def _xlsxwriter():
    """The data sheet written cell by cell with xlsxwriter (strings never formulas)."""
    try:
        import xlsxwriter
    except ImportError:
        return None

    def write(sheets: list[SheetSpec], handle) -> None:
        (spec,) = sheets
        wb = xlsxwriter.Workbook(handle, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False})
        ws = wb.add_worksheet(spec.name)
        bold, quote = wb.add_format({"bold": True}), wb.add_format({"quote_prefix": True})
        ws.freeze_panes(1, 1)
        ws.autofilter(spec.autofilter)
        for j, cell in enumerate(spec.rows[0]):
            ws.write_string(0, j, cell.value, bold)
        put = [ws.write_string if t else ws.write_number for t in spec.text_columns]
        for r, row in enumerate(zip(*spec.body, strict=True), 1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if put[j] is ws.write_string and v.startswith(("=", "+", "-", "@")):
                    ws.write_string(r, j, v, quote)
                else:
                    put[j](r, j, v)
        wb.close()
    return write


def _fastexcel(path: Path):
    try:
        import fastexcel
    except ImportError:
        return None

    def read() -> list:
        sheet = fastexcel.read_excel(str(path)).load_sheet_by_name(
            "errors", header_row=None, dtypes="string")
        return [column.to_pylist() for column in sheet.to_arrow().columns]
    return read


def bench_memory_at_cap(folder: Path) -> None:
    """Peak memory (maximum resident size of a fresh process) of reading at the caps:
    a review sheet import with MAX_SHEET_ROWS - 1 rows (the header makes the cap),
    and ``read_table`` of two dense data files of the same rows near the XML cap."""
    from mlstrat._files import MAX_SHEET_ROWS, MAX_XLSX_UNCOMPRESSED
    n = MAX_SHEET_ROWS - 1
    print(f"Memory at the caps ({n:,} rows, {MAX_XLSX_UNCOMPRESSED / 2**20:.0f} MB of XML)")
    ctx = mp.get_context("spawn")
    _in_child(ctx, _write_review_sheet, folder, n)
    _in_child(ctx, _import_review_sheet, folder)
    for kind, k in (("floats", 10), ("small ints", 18)):
        _in_child(ctx, _write_data_sheet, folder, n, kind, k)
        _in_child(ctx, _read_data_sheet, folder, f"{k} {kind}")


def _in_child(ctx, target, *args) -> None:
    proc = ctx.Process(target=target, args=args)
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"{target.__name__} failed (exit code {proc.exitcode})")


def _max_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _unzipped_mb(path: Path) -> float:
    with zipfile.ZipFile(path) as zf:
        return sum(i.file_size for i in zf.infolist()) / 2**20


def _write_review_sheet(folder: Path, n: int) -> None:
    project = open_project(folder / "cap")
    session = make_session(project, n)
    with open(folder / "cap.xlsx", "wb") as fh:
        _sheets.XLSX_WRITERS["mlstrat"](edited_workbook(session), fh)
    project.close()


def _import_review_sheet(folder: Path) -> None:
    project = open_project(folder / "cap")
    session = open_session(project, int(project.error_sessions()["id"].iloc[-1]))
    path = folder / "cap.xlsx"
    before = _max_rss_mb()
    with timed(f"import_tags, review sheet ({_unzipped_mb(path):.0f} MB of XML)", {}):
        session.import_tags(path)
    print(f"    -> peak {_max_rss_mb():.0f} MB resident (before the import: {before:.0f} MB)")
    project.close()


def _write_data_sheet(folder: Path, n: int, kind: str, k: int) -> None:
    rng = np.random.default_rng(0)
    body = [(rng.normal(size=n) if kind == "floats" else rng.integers(0, 10, n)).tolist()
            for _ in range(k)]
    spec = SheetSpec("data", rows=[[Cell(f"x{j}") for j in range(k)]], body=body,
                     text_columns=[False] * k)
    with open(folder / "data.xlsx", "wb") as fh:
        _sheets.XLSX_WRITERS["mlstrat"]([spec], fh)


def _read_data_sheet(folder: Path, label: str) -> None:
    path = folder / "data.xlsx"
    before = _max_rss_mb()
    with timed(f"read_table, data file of {label} ({_unzipped_mb(path):.0f} MB of XML)", {}):
        read_table(path)
    print(f"    -> peak {_max_rss_mb():.0f} MB resident (before the read: {before:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-openpyxl", action="store_true")
    parser.add_argument("--memory-at-cap", action="store_true",
                        help="only measure the peak memory of reading at the caps")
    args = parser.parse_args()
    if args.memory_at_cap:
        with tempfile.TemporaryDirectory() as tmp:
            bench_memory_at_cap(Path(tmp))
        return
    results: dict[str, tuple[float, float]] = {}
    engines = [("mlstrat", "calamine")]
    if not args.skip_openpyxl:
        engines.append(("openpyxl", "openpyxl"))
    with tempfile.TemporaryDirectory() as tmp:
        bench_round_trip(Path(tmp), args.rows, engines, results)
        path = bench_stages(Path(tmp), args.rows, results)
        bench_engines(path, results, not args.skip_openpyxl)


if __name__ == "__main__":
    main()
