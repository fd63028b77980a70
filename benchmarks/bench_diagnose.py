"""Diagnosis and per-group metrics at scale, against one NumPy pass.

Target (issue 3): diagnose from predictions on 10,000,000 examples per split,
and the average error over 1,000 groups, each within 3x the time of one NumPy
pass over the same arrays (the floor: ``np.mean(y_true != y_pred)`` per split,
and ``np.bincount`` of the errors by group).

Run: .venv/bin/python benchmarks/bench_diagnose.py [--n 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mlstrat.diagnosis import diagnose_predictions
from mlstrat.metrics import error_rate, group_average


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    splits = {}
    for split, err in (("train", 0.02), ("train_dev", 0.05), ("dev", 0.08), ("test", 0.09)):
        y_true = rng.integers(0, 10, args.n, dtype=np.int64)
        y_pred = np.where(rng.random(args.n) < err, (y_true + 1) % 10, y_true)
        splits[split] = (y_true, y_pred)
    groups = rng.integers(0, args.groups, args.n)

    floor = best_of(lambda: [np.mean(a != b) for a, b in splits.values()], args.repeats)
    ours = best_of(lambda: diagnose_predictions(splits, human=0.01), args.repeats)
    y_true, y_pred = splits["dev"]
    g_floor = best_of(lambda: np.bincount(groups, weights=(y_true != y_pred), minlength=args.groups)
                      / np.bincount(groups, minlength=args.groups), args.repeats)
    g_ours = best_of(lambda: group_average(error_rate, y_true, y_pred, groups), args.repeats)
    print(f"diagnose_predictions, 4 splits x {args.n:,}: {ours:.3f} s; "
          f"NumPy pass {floor:.3f} s; ratio {ours / floor:.2f}x (target <= 3x)")
    print(f"group_average over {args.groups:,} groups, {args.n:,} rows: {g_ours:.3f} s; "
          f"NumPy bincount {g_floor:.3f} s; ratio {g_ours / g_floor:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
