"""Benchmark: a generated 100,000 x 50 mixed-type CSV -> printed diagnosis.

Prints figures (not a test). Target: under 60 seconds on 2 cores, read to
diagnosis and session included. Run:

    .venv/bin/python benchmarks/bench_baseline.py [--rows 100000] [--max-epochs 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mlstrat.first_system import baseline


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """50 columns: 1 id, 30 numeric (3 with missing values), 10 categorical
    (5 to 200 levels), 3 dates, 2 free-text, 1 constant, 1 empty, 1 source, and
    the target (binary, depending on numbers, categories and a date)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {"row_id": np.arange(n)}
    num = rng.normal(size=(n, 30)).astype(np.float32)
    for j in range(30):
        cols[f"num{j}"] = num[:, j]
    levels = [5, 8, 12, 20, 30, 50, 80, 120, 160, 200]
    cats = [rng.integers(0, k, size=n) for k in levels]
    for j, c in enumerate(cats):
        cols[f"cat{j}"] = np.char.add(f"c{j}_", c.astype(str))
    start = np.datetime64("2018-01-01")
    days = [rng.integers(0, 2000, size=n) for _ in range(3)]
    for j, d in enumerate(days):
        cols[f"date{j}"] = (start + d).astype("datetime64[D]").astype(str)
    words = np.array("alpha beta gamma delta noise quiet car road radio music call stop".split())
    for j in range(2):
        idx = rng.integers(0, words.size, size=(n, 6))
        cols[f"text{j}"] = [" ".join(w) for w in words[idx]]
    cols["constant"] = "same"
    cols["empty"] = np.nan
    cols["source"] = np.where(rng.random(n) < 0.2, "car", "web")
    score = (num[:, :5].sum(axis=1) + 0.5 * np.sin(3 * num[:, 5]) + (cats[0] - 2) * 0.3
             + (days[0] % 7 < 2) * 0.5 + rng.normal(scale=1.0, size=n))
    cols["label"] = np.where(score > 0, "yes", "no")
    frame = pd.DataFrame(cols)
    for j in range(3):
        frame.loc[rng.random(n) < 0.1, f"num{j}"] = np.nan
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--max-epochs", type=int, default=100,
                        help="epoch cap of each network (default: the library default, 100)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_baseline_"))
    t0 = time.perf_counter()
    frame = generate(args.rows)
    path = folder / "data.csv"
    frame.to_csv(path, index=False)
    print(f"generated {frame.shape[0]:,} x {frame.shape[1]} in "
          f"{time.perf_counter() - t0:.1f}s -> {path} ({path.stat().st_size / 1e6:.0f} MB)")

    start = time.perf_counter()
    result = baseline(path, "label", project=folder / "project", max_epochs=args.max_epochs)
    print(result.diagnosis)
    total = time.perf_counter() - start
    print(f"\nfrom CSV to printed diagnosis: {total:.1f}s "
          f"({frame.shape[0]:,} rows, {len(result.columns.features)} feature columns, "
          f"max_epochs={args.max_epochs})")
    print("per stage:")
    for stage, seconds in result.timings.items():
        print(f"  {stage:<40} {seconds:7.2f}s")
    print("models:")
    for m in result.models:
        print(f"  {m.name:<32} epochs {m.epochs:>3}  {m.seconds:6.2f}s  dev error "
              f"{m.errors['dev']:.2%}{'  (best)' if m.chosen else ''}")


if __name__ == "__main__":
    main()
