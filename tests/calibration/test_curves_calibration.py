"""Fast calibration of the data-needed interval on simulated power-law curves.

The thresholds come from the binomial: with ``n`` simulations, a coverage whose
true value is at least 90% shows fewer than ``binom.ppf(0.005, n, 0.90)`` hits
only 0.5% of the time, and a wrong "more data alone will not get there" rate
of at most 2.5% (the floor's lower bound is a one-sided 97.5% bound) exceeds
``binom.ppf(0.995, n, 0.025)`` only 0.5% of the time.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import binom

from mlstrat.calibration._curves import curve_calibration

N_SIMS = 60


@pytest.fixture(scope="module")
def table():
    return curve_calibration(n_sims=N_SIMS, random_state=11, n_boot=120, n_devs=(2000,),
                             curves=["steep (b=0.5)"])


def test_data_needed_interval_covers(table):
    floor = binom.ppf(0.005, N_SIMS, 0.90) / N_SIMS
    assert set(table["place"]) == {"inside", "extrapolate 2x", "extrapolate 8x", "below floor"}
    for _, row in table.iterrows():
        assert row["coverage"] >= floor, row.to_dict()


def test_wrong_not_reachable_is_rare(table):
    ceiling = binom.ppf(0.995, N_SIMS, 0.025) / N_SIMS
    reachable = table[table["true_m"].map(math.isfinite)]
    assert (reachable["wrong_not_reachable"] <= ceiling).all()
    inside = table[table["place"] == "inside"]
    assert (inside["measured"] == 1.0).all() and (inside["bounded"] == 1.0).all()


def test_table_columns_and_errors():
    t = curve_calibration(n_sims=2, random_state=0, n_boot=20, n_devs=(500,),
                          resamplings=("binomial",), curves=["shallow (b=0.3)"])
    assert len(t) == 4 and {"coverage", "coverage_low", "coverage_high"} <= set(t.columns)
    with pytest.raises(ValueError, match="n_sims"):
        curve_calibration(n_sims=0)
    with pytest.raises(ValueError, match="Unknown curve"):
        curve_calibration(n_sims=1, curves=["flat"])
