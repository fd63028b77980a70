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
    paired_rmse_calibration,
    regression_calibration,
    size_calibration,
    weighted_calibration,
)


def _show(title: str, frame: pd.DataFrame, seconds: float) -> None:
    print(f"\n== {title} ({seconds:.0f} s)")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


SECTIONS = ("ladders", "weighted", "paired", "regression", "paired_rmse", "sizes", "curves",
            "adversarial")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000,
                        help="null ladders per size band (default 2000: 12,000 ladders)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the simulations")
    parser.add_argument("--curve-sims", type=int, default=1000,
                        help="simulated curves per learning-curve row (default 1000: at 200, "
                             "a row that truly covers 95%% reads under 94%% one time in five)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections among {', '.join(SECTIONS)}")
    args = parser.parse_args()
    n = max(20, args.sims // 10) if args.quick else args.sims
    curve_sims = max(20, args.curve_sims // 10) if args.quick else args.curve_sims
    runs = {
        "ladders": ("Ladders: false alarms, coverage, power, primary call",
                    lambda: ladder_calibration(n_sims=n, random_state=0)),
        "weighted": ("Weighted rates (Kish): coverage",
                     lambda: weighted_calibration(n_sims=n // 2)),
        "paired": ("Paired difference of two models (Tango): coverage",
                   lambda: paired_calibration(n_sims=n // 2)),
        "regression": ("Regression ladder (RMSE and MAE, studentised bootstrap, MOVER gaps): "
                       "coverage",
                       lambda: regression_calibration(
                           n_sims=max(50, n // 2), random_state=0, shapes=("normal", "laplace"),
                           metrics=("rmse", "mae"))),
        "paired_rmse": ("Paired RMSE difference of two regression runs: coverage",
                        lambda: paired_rmse_calibration(n_sims=max(50, n // 2), random_state=0)),
        "sizes": ("Enlarge to the size the report names: power delivered (promised 80%)",
                  lambda: size_calibration(n_sims=max(20, n // 20), random_state=0)),
        "curves": ("Learning curves: data-needed interval",
                   lambda: curve_calibration(n_sims=curve_sims, random_state=0)),
        "adversarial": ("Adversarial validation: level and power",
                        lambda: adversarial_calibration(n_sims=max(20, n // 10), random_state=0)),
    }
    chosen = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in runs]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose among {', '.join(SECTIONS)}")
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    for title, run in (runs[k] for k in chosen):
        start = time.perf_counter()
        frame = run()
        _show(title, frame, time.perf_counter() - start)


if __name__ == "__main__":
    main()
