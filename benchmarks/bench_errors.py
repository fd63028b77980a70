"""Error-analysis benchmark: prints seconds, asserts nothing.

1. Spreadsheet round trip of a session with 100,000 tagged sampled errors:
   XLSX export, XLSX re-import (10% of the tag cells changed), CSV export, CSV
   re-import.
2. Summary (counts, Wilson intervals, ceilings, tie tests) of 1,000,000 sampled errors.

Run: ``.venv/bin/python benchmarks/bench_errors.py`` (``--sheet-rows`` and
``--summary-rows`` to change the sizes).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from mlstrat.errors import BUILTIN_CATEGORY, new_session
from mlstrat.store import open_project

CATEGORIES = (BUILTIN_CATEGORY, "blurry", "dark", "occluded", "rare class")


@contextmanager
def timed(label: str, results: dict):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    print(f"  {label:<46} {results[label]:8.2f} s", flush=True)


def all_errors(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` predictions, all wrong, with two short metadata columns."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    return pd.DataFrame({"id": [f"img{i:07d}" for i in range(n)], "y_true": y,
                         "y_pred": (y + 1) % 10, "camera": rng.choice(["a", "b"], n),
                         "brightness": rng.random(n).round(3)})


def pre_tag(session, rng: np.random.Generator, share: float = 0.3) -> None:
    """Tag about ``share`` of the cells (one transaction: setup, not measured)."""
    ids = np.asarray(session.sample_ids())
    tags = [(i, c, True) for c in CATEGORIES for i in ids[rng.random(len(ids)) < share]]
    session.project.apply_error_changes(session.id, tags, by="bench")


def flip_csv_cells(path: Path, rng: np.random.Generator, share: float = 0.1) -> None:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    cols = [rows[0].index(c) for c in CATEGORIES]
    for row in rows[1:]:
        for j in cols:
            if rng.random() < share:
                row[j] = "" if row[j] else "x"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def flip_xlsx_cells(src_csv: Path, xlsx: Path) -> None:
    """Rewrite the XLSX data cells from the edited CSV (what a user's edits do)."""
    from openpyxl import load_workbook

    edited = pd.read_csv(src_csv, dtype=str, keep_default_na=False)
    wb = load_workbook(xlsx)
    ws = wb["errors"]
    header = [c.value for c in ws[1]]
    for cat in CATEGORIES:
        j = header.index(cat) + 1
        for r, value in enumerate(edited[cat], start=2):
            ws.cell(r, j).value = value or None
    wb.save(xlsx)


def bench_sheets(folder: Path, n: int, results: dict) -> None:
    print(f"Spreadsheet round trip, {n:,} sampled errors x {len(CATEGORIES)} categories")
    project = open_project(folder / "sheets")
    rng = np.random.default_rng(1)
    with timed(f"new_session ({n:,} rows)", results):
        session = new_session(project, all_errors(n), n=None, features=["camera", "brightness"],
                              categories=CATEGORIES)
    pre_tag(session, rng)
    xlsx, csv_path = folder / "review.xlsx", folder / "review.csv"
    with timed("export XLSX", results):
        session.export(xlsx)
    with timed("export CSV", results):
        session.export(csv_path)
    flip_csv_cells(csv_path, rng)
    flip_xlsx_cells(csv_path, xlsx)  # same edits in both files (setup, not measured)
    with timed("import XLSX (10% of tag cells changed)", results):
        report = session.import_tags(xlsx)
    print(f"    -> {report.tagged:,} set, {report.untagged:,} cleared")
    flip_csv_cells(csv_path, rng)
    with timed("import CSV (10% of tag cells changed)", results):
        report = session.import_tags(csv_path)
    print(f"    -> {report.tagged:,} set, {report.untagged:,} cleared")
    with timed("summary", results):
        session.summary()
    project.close()


def bench_summary(folder: Path, n: int, results: dict) -> None:
    print(f"Summary of {n:,} sampled errors x {len(CATEGORIES)} categories")
    project = open_project(folder / "summary")
    rng = np.random.default_rng(2)
    with timed(f"new_session ({n:,} rows)", results):
        session = new_session(project, all_errors(n), n=None, categories=CATEGORIES)
    with timed("tag 30% of cells (one transaction, setup)", results):
        pre_tag(session, rng)
    with timed(f"summary ({n:,} rows)", results):
        summary = session.summary()
    print("    -> next:", summary.next_category)
    project.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet-rows", type=int, default=100_000)
    parser.add_argument("--summary-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bench_sheets(Path(tmp), args.sheet_rows, results)
        bench_summary(Path(tmp), args.summary_rows, results)


if __name__ == "__main__":
    main()
