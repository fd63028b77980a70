"""Calibration of every rule that turns numbers into advice, against a known truth.

Simulated ladders (sizes 20 to 1,000,000 per set, rates 0 to 30%, zero cells,
unequal sizes), weighted rates, paired model comparisons, power-law learning
curves and same-distribution samples run through the real decision code.
Prints one table per family; the figures go to BENCHMARKS.md.

    .venv/bin/python benchmarks/bench_calibration.py [--sims N] [--quick]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from mlstrat.calibration import (
    adversarial_calibration,
    curve_calibration,
    ladder_calibration,
    paired_calibration,
    regression_calibration,
    weighted_calibration,
)


def _show(title: str, frame: pd.DataFrame, seconds: float) -> None:
    print(f"\n== {title} ({seconds:.0f} s)")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000,
                        help="null ladders per size band (default 2000: 12,000 ladders)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the simulations")
    args = parser.parse_args()
    n = max(20, args.sims // 10) if args.quick else args.sims
    runs = [
        ("Ladders: false alarms, coverage, power, primary call",
         lambda: ladder_calibration(n_sims=n, random_state=0)),
        ("Weighted rates (Kish): coverage", lambda: weighted_calibration(n_sims=n // 2)),
        ("Paired difference of two models (Tango): coverage",
         lambda: paired_calibration(n_sims=n // 2)),
        ("Regression ladder (RMSE, bootstrap): coverage",
         lambda: regression_calibration(n_sims=max(50, n // 10), random_state=0)),
        ("Learning curves: data-needed interval",
         lambda: curve_calibration(n_sims=max(20, n // 10), random_state=0)),
        ("Adversarial validation: level and power",
         lambda: adversarial_calibration(n_sims=max(20, n // 10), random_state=0)),
    ]
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    for title, run in runs:
        start = time.perf_counter()
        frame = run()
        _show(title, frame, time.perf_counter() - start)


if __name__ == "__main__":
    main()
