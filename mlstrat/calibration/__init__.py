"""Calibration: every rule that turns numbers into advice, checked against a known truth.

Simulations with known true rates (ladders), known power-law learning curves
and known distributions run the real decision code and measure its promises:
false alarms, interval coverage, power, the primary call, the data-needed
interval and the adversarial test's level. A fast version runs in the tests;
``benchmarks/bench_calibration.py`` runs the full one and prints the tables
kept in BENCHMARKS.md.
"""

from mlstrat.calibration._adversarial import adversarial_calibration
from mlstrat.calibration._curves import curve_calibration
from mlstrat.calibration._ladder import (
    SIZE_BANDS,
    ladder_calibration,
    paired_calibration,
    paired_rmse_calibration,
    regression_calibration,
    size_calibration,
    weighted_calibration,
)

__all__ = [
    "SIZE_BANDS",
    "adversarial_calibration",
    "curve_calibration",
    "ladder_calibration",
    "paired_calibration",
    "paired_rmse_calibration",
    "regression_calibration",
    "size_calibration",
    "weighted_calibration",
]
