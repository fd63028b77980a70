"""Fast calibration of adversarial validation's permutation test.

Level: with ``n`` null simulations, a test whose level is at most 5% shows more
than ``binom.ppf(0.995, n, 0.05)`` false positives only 0.5% of the time.
"""

from __future__ import annotations

import pytest
from scipy.stats import binom

from mlstrat.calibration._adversarial import adversarial_calibration

N_SIMS = 150


def test_level_holds_under_the_null():
    t = adversarial_calibration(n_sims=N_SIMS, random_state=7, sizes=(30, 300),
                                n_permutations=39, scenarios=["same distribution"])
    ceiling = binom.ppf(0.995, N_SIMS, 0.05) / N_SIMS
    assert t["null"].all() and len(t) == 2
    assert (t["rejection_rate"] <= ceiling).all(), t.to_dict("records")


def test_power_on_clear_shifts():
    t = adversarial_calibration(n_sims=12, random_state=8, sizes=(1000,), n_permutations=19,
                                scenarios=["location shift 0.3 sd", "spread x1.5",
                                           "category mix +15 pt"])
    # each shift is detected nearly always at 1,000 rows a side
    assert (t["rejection_rate"] >= 0.8).all(), t.to_dict("records")


def test_errors():
    with pytest.raises(ValueError, match="Unknown scenario"):
        adversarial_calibration(n_sims=1, scenarios=["tilt"])
    with pytest.raises(ValueError, match="n_sims"):
        adversarial_calibration(n_sims=0)
