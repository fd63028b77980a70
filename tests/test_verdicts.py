"""The decision layer of the diagnosis: verdicts, family-wise control, statuses, sizes.

References are independent of the code under test: scipy's exact tests,
the worked numbers of shared/notes/statistics.md, brute-force inversion of a
test, and simulation against known true rates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.optimize import minimize_scalar

from mlstrat.diagnosis import STATUSES, VERDICTS, Diagnosis, diagnose, diagnose_predictions
from mlstrat.stats import (
    holm,
    kish_effective_size,
    mcnemar_test,
    one_rate_pvalue,
    size_for_resolution,
    size_to_detect,
    tango_interval,
    two_rate_pvalue,
)


# ------------------------------------------------------------------ stats pieces
def test_holm_against_the_step_down_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    rej, adj = holm(p, 0.05)
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    assert adj.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert rej.tolist() == [True, False, False, True]


def test_two_rate_pvalue_is_fisher_for_small_counts_and_close_for_large():
    assert two_rate_pvalue(1, 21, 0, 185) == pytest.approx(
        sps.fisher_exact([[1, 20], [0, 185]]).pvalue)
    # the notes: 0 of 185 and 1 of 21 -> Fisher's p = 0.10, not a verdict
    assert 0.09 < two_rate_pvalue(0, 185, 1, 21) < 0.12
    big = two_rate_pvalue(5200, 100_000, 5000, 100_000)
    assert big == pytest.approx(sps.fisher_exact([[5200, 94800], [5000, 95000]]).pvalue,
                                rel=0.1)


def test_one_rate_pvalue_is_the_exact_binomial_test():
    assert one_rate_pvalue(8, 100, 0.05) == pytest.approx(sps.binomtest(8, 100, 0.05).pvalue)
    assert one_rate_pvalue(0, 100, 0.0) == 1.0


def test_sizes_notes_numbers_and_rule_of_three():
    assert size_to_detect(0.05, 0.01) == 7456  # notes: 80% power, two-sided 5%
    assert size_for_resolution(0.05, 0.01) == 1825  # half-width only: about half of that
    assert size_for_resolution(0.0, 0.01) == 300  # rule of three, never 1
    assert size_to_detect(0.0, 0.01) > 150


def test_size_to_detect_really_gives_80_percent_power():
    rng = np.random.default_rng(0)
    p, delta = 0.10, 0.03
    n = size_to_detect(p, delta)
    k1 = rng.binomial(n, p - delta / 2, 400)
    k2 = rng.binomial(n, p + delta / 2, 400)
    power = np.mean([two_rate_pvalue(a, n, b, n) < 0.05 for a, b in zip(k1, k2, strict=True)])
    assert 0.72 < power < 0.90


def test_kish_notes_number():
    assert round(kish_effective_size([1.0] * 1900 + [10.0] * 100)) == 707


def _tango_by_brute_force(b, c, n, z=1.959964):
    """Invert the score test on a grid, with the restricted MLE found numerically."""
    def stat(delta):
        def nll(p21):
            p12 = p21 + delta
            q = 1 - p12 - p21
            if p21 <= 0 or p12 <= 0 or q <= 0:
                return np.inf
            return -(c * math.log(p12) + b * math.log(p21) + (n - b - c) * math.log(q))
        lo_p, hi_p = max(1e-12, -delta + 1e-12), (1 - delta) / 2 - 1e-12
        p21 = minimize_scalar(nll, bounds=(lo_p, hi_p), method="bounded",
                              options={"xatol": 1e-12}).x
        return (c - b - n * delta) / math.sqrt(n * (2 * p21 + delta * (1 - delta)))
    grid = np.linspace(-0.99, 0.99, 3961)
    inside = [d for d in grid if abs(stat(d)) <= z]
    return min(inside), max(inside)


@pytest.mark.parametrize("b,c,n", [(15, 30, 200), (40, 20, 160), (3, 0, 50)])
def test_tango_interval_matches_brute_force_inversion(b, c, n):
    _, lo, hi = tango_interval(b, c, n, correction=0)
    ref_lo, ref_hi = _tango_by_brute_force(b, c, n)
    assert lo == pytest.approx(ref_lo, abs=0.002) and hi == pytest.approx(ref_hi, abs=0.002)


def test_tango_with_correction_keeps_coverage_with_an_empty_discordant_cell():
    from scipy.stats import multinomial

    n, pb, pc = 200, 0.02, 0.0  # the models rarely disagree, always the same way
    cover = {0.0: 0.0, 0.5: 0.0}
    for b in range(0, 30):
        pr = multinomial.pmf([b, 0, n - b], n, [pb, pc, 1 - pb - pc])
        for corr in cover:
            _, lo, hi = tango_interval(b, 0, n, correction=corr)
            cover[corr] += pr * (lo <= pc - pb <= hi)
    assert cover[0.0] < 0.94 <= 0.95 <= cover[0.5]


def test_mcnemar_interval_keeps_coverage_when_models_disagree_often():
    rng = np.random.default_rng(1)
    pb, pc, n = 0.25, 0.25, 200  # half the examples are discordant
    hits = 0
    for _ in range(600):
        b, c, _ = rng.multinomial(n, [pb, pc, 1 - pb - pc])
        r = mcnemar_test(b=int(b), c=int(c), n=n)
        hits += r.low <= 0.0 <= r.high
    assert hits / 600 > 0.92


# ------------------------------------------------------------------ verdicts
def test_one_error_never_decides():
    # the penguins case: 21-row train-dev with 1 error, 0 errors elsewhere
    d = diagnose(train=0.0, train_dev=1 / 21, dev=0.0, test=0.0,
                 sizes={"train": 185, "train_dev": 21, "dev": 69, "test": 69})
    assert d.primary is None and d.status == "not_enough_evidence"
    assert d.gap("variance").verdict == "too_small_to_tell"
    assert "train-dev" in d.next_step and "examples" in d.next_step
    assert "Not enough evidence yet" in str(d)


def test_no_human_level_high_training_error_is_bias_or_bayes():
    d = diagnose(train=0.30, dev=0.31)
    assert d.primary == "avoidable_bias"
    assert d.gap("avoidable_bias").label == "avoidable bias or Bayes error"
    assert "give a human level" in d.gap("avoidable_bias").note
    with_sizes = diagnose(train=0.30, dev=0.31, sizes={"train": 2000, "dev": 2000})
    assert with_sizes.primary == "avoidable_bias"
    assert "at least" in with_sizes.gap("avoidable_bias").note
    # low training error, high dev error: variance dominates the bound
    assert diagnose(train=0.01, dev=0.11).primary == "variance"


def test_human_level_surpassed_beyond_noise_withholds_the_primary_problem():
    d = diagnose(human=0.05, train=0.03, train_dev=0.04, dev=0.045,
                 sizes={"train": 20000, "train_dev": 5000, "dev": 5000})
    assert d.status == "human_level_surpassed" and d.primary is None
    assert "variance" in d.next_step and "error analysis" in d.next_step
    # within noise of human level: not surpassed, the ladder still points the way
    d = diagnose(human=0.05, train=0.0495, train_dev=0.10, dev=0.10,
                 sizes={"train": 20000, "train_dev": 5000, "dev": 5000})
    assert d.status == "problem" and d.primary == "variance"
    # a network that memorises its training set while dev stays far above human level
    d = diagnose(human=0.01, train=0.0, train_dev=0.04, dev=0.157,
                 sizes={"train": 1000, "train_dev": 200, "dev": 300})
    assert d.status == "problem" and d.primary == "data_mismatch"
    assert "not surpassed where it matters" in d.gap("avoidable_bias").note


def test_verdict_and_status_words_cover_every_outcome():
    seen = set()
    cases = [
        dict(human=0.0, train=0.01, train_dev=0.09, dev=0.10,
             sizes={"train": 50000, "train_dev": 5000, "dev": 5000}),
        dict(train=0.0, train_dev=1 / 21, dev=0.0, sizes={"train": 185, "train_dev": 21,
                                                           "dev": 69}),
        dict(human=0.05, train=0.03, dev=0.031, sizes={"train": 50000, "dev": 50000}),
        dict(human=0.02, train=0.02, dev=0.02, sizes={"train": 50000, "dev": 50000}),
    ]
    for kw in cases:
        d = diagnose(**kw)
        seen.add(d.status)
        assert d.headline and d.headline in str(d)
        assert Diagnosis.from_dict(d.to_dict()).to_dict() == d.to_dict()
    assert seen == set(STATUSES)
    assert set(VERDICTS) >= {"real", "noise", "too_small_to_tell", "untested"}


def test_reading_a_version_1_record():
    old = {"kind": "Diagnosis", "version": 1, "rates": {"train": 0.1, "dev": 0.2},
           "sizes": {}, "human_levels": {}, "human_source": None, "confidence": 0.95,
           "comparable": 0.5, "rungs": [], "primary": "variance", "remedies": [], "notes": [],
           "gaps": [{"name": "variance", "label": "variance", "upper": "dev", "lower": "train",
                     "value": 0.1, "low": None, "high": None, "verdict": "real", "note": "",
                     "size_to_resolve": 120}]}
    d = Diagnosis.from_dict(old)
    assert d.status == "problem" and d.primary == "variance" and "variance" in d.headline


def test_weighted_errors_use_kish_size():
    rng = np.random.default_rng(0)
    n = 2000
    w = np.where(np.arange(n) < 100, 10.0, 1.0)
    y = np.zeros(n, int)
    pred = (rng.random(n) < 0.1).astype(int)
    d = diagnose_predictions({"train": (y, pred, w), "dev": (y, pred, w)}, human=0.0)
    rung = next(r for r in d.rungs if r.name == "dev")
    assert rung.n == n and rung.n_eff == pytest.approx(kish_effective_size(w))
    lo, hi = sps.binomtest(round(rung.rate * rung.n_eff), round(rung.n_eff)).proportion_ci()
    assert rung.high - rung.low == pytest.approx(hi - lo, rel=0.05)
    assert "Kish" in str(d)


def test_null_ladders_rarely_raise_false_alarms():
    from mlstrat.calibration import ladder_calibration

    frame = ladder_calibration(n_sims=60, random_state=3)
    null = frame[frame["scenario"] == "null"]
    # 300 null ladders: a 5% family-wise rate would give at most about 8% by chance
    assert null["false_real_ladder"].mean() <= 0.08
    assert (null["coverage_mean"] >= 0.93).all()
    power = frame[frame["scenario"] == "power"]["power"].item()
    right = frame[frame["scenario"] == "dominant"]["primary_right"].item()
    assert power >= 0.95 and right >= 0.9


def test_continuity_corrected_size_gives_80_percent_power_to_the_exact_test():
    # The ladder tests with Fisher / Yates: the corrected size (Fleiss) is the one
    # that delivers 80% at Holm's first step of a four-gap ladder.
    rng = np.random.default_rng(1)
    p, delta, alpha = 0.10, 0.03, 0.05 / 4
    n = size_to_detect(p + delta / 2, delta, confidence=1 - alpha, continuity=True)
    assert n > size_to_detect(p + delta / 2, delta, confidence=1 - alpha)
    k1, k2 = rng.binomial(n, p, 1500), rng.binomial(n, p + delta, 1500)
    power = np.mean([two_rate_pvalue(a, n, b, n) < alpha for a, b in zip(k1, k2, strict=True)])
    assert 0.765 < power < 0.85
