import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlstrat import open_project
from mlstrat.first_system import compare_runs


def _log(project, name, ids, y_true, y_pred, **kwargs):
    return project.log_run(name, predictions={"dev": pd.DataFrame(
        {"id": ids, "y_true": y_true, "y_pred": y_pred})}, **kwargs)


def test_mcnemar_from_the_notes_b30_c15(tmp_path):
    """b = 30 right by A only, c = 15 right by B only: p = 0.036 (statistics notes)."""
    project = open_project(tmp_path)
    n = 1000
    y = np.zeros(n, int)
    a, b = y.copy(), y.copy()
    a[30:45] = 1            # A wrong where B right: c = 15
    b[:30] = 1              # B wrong where A right: b = 30
    a[100:120] = b[100:120] = 1  # both wrong: not discordant
    ids = [f"x{i}" for i in range(n)]
    ra = _log(project, "A", ids, y, a)
    # B's predictions stored in another order: pairing is by id, not by position
    order = np.random.default_rng(0).permutation(n)
    rb = _log(project, "B", [ids[i] for i in order], y[order], b[order])
    c = compare_runs(project, ra, rb)
    assert c.matched and (c.test["b"], c.test["c"], c.test["n"]) == (30, 15, n)
    assert round(c.test["pvalue"], 3) == 0.036
    assert c.test["pvalue"] == pytest.approx(stats.binomtest(15, 45, 0.5).pvalue)
    assert c.test["change"] == pytest.approx((50 - 35) / n)  # error B - error A
    assert c.verdict == "worse"
    frame = c.to_frame()
    assert set(frame["kind"]) == {"rung"} and frame.loc[0, "change"] == pytest.approx(0.015)
    assert c.to_dict()["test"]["b"] == 30
    assert "b=30" in str(c) and "c=15" in str(c)


def test_f1_is_compared_by_a_paired_bootstrap(tmp_path):
    project = open_project(tmp_path)
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.3).astype(int)
    a = np.where(rng.random(400) < 0.25, 1 - y, y)
    b = np.where(rng.random(400) < 0.10, 1 - y, y)
    ids = [str(i) for i in range(400)]
    c = compare_runs(project, _log(project, "A", ids, y, a), _log(project, "B", ids, y, b),
                     metric="f1")
    from mlstrat.metrics import f1
    m = c.metric_test
    assert m["a"] == pytest.approx(f1(y, a)) and m["b"] == pytest.approx(f1(y, b))
    assert m["low"] <= m["change"] <= m["high"]
    assert m["verdict"] == "better" and m["low"] > 0
    assert "f1 (paired bootstrap" in str(c)
    assert compare_runs(project, 1, 2).metric_test is None  # error rate: McNemar only


def test_two_separate_intervals_miss_what_the_paired_test_finds(tmp_path):
    project = open_project(tmp_path)
    n = 500
    y = np.zeros(n, int)
    a, b = y.copy(), y.copy()
    a[:60] = 1
    b[:45] = 1   # B fixes 15 of A's 60 errors and breaks nothing: b=0, c=15
    ids = list(range(n))
    c = compare_runs(project, _log(project, "A", ids, y, a), _log(project, "B", ids, y, b))
    assert c.test["pvalue"] < 0.001 and c.verdict == "better"
    from mlstrat.stats import wilson_interval
    lo_a, hi_a = wilson_interval(60, n)
    lo_b, hi_b = wilson_interval(45, n)
    assert lo_a < hi_b  # the two separate intervals overlap


def test_different_dev_sets_are_reported_not_tested(tmp_path):
    project = open_project(tmp_path)
    y = np.array([0, 1] * 50)
    ra = _log(project, "A", [f"a{i}" for i in range(100)], y, y)
    rb = _log(project, "B", [f"a{i}" for i in range(10, 110)], y, y)
    c = compare_runs(project, ra, rb)
    assert not c.matched and c.verdict == "not compared"
    assert (c.only_a, c.only_b) == (10, 10)
    assert "dev sets differ" in c.message
    text = str(c)  # side by side: no B - A, no arrows, nothing 'moved'
    assert "B - A" not in text and not any(a in text for a in "↑↓") and "moved" not in text
    assert "no change is measured" in text


def test_missing_predictions_and_unknown_runs(tmp_path):
    project = open_project(tmp_path)
    ra = project.log_run("A", errors={"train": 0.1, "dev": 0.2}, sizes={"train": 100, "dev": 50})
    rb = project.log_run("B", errors={"train": 0.05, "dev": 0.15},
                         sizes={"train": 100, "dev": 50})
    c = compare_runs(project, ra, rb)
    assert "stored no 'dev' predictions" in c.message
    # from the stored errors; no human level: training error against 0 is a gap too
    assert [g["name"] for g in c.gaps] == ["avoidable_bias", "variance"]
    assert c.gaps[1]["change"] == pytest.approx(0.0)
    assert c.gaps[0]["change"] == pytest.approx(-0.05) and c.gaps[0]["direction"] == "down"
    with pytest.raises(KeyError, match="No run 99"):
        compare_runs(project, ra, 99)


def _studentised_by_hand(y, pa, pb, n_boot, seed):
    """An independent loop: bootstrap-t of RMSE(B) - RMSE(A) with the delta-method SE
    from np.cov, t quantiles widened by sqrt(n/(n-1)) t_{n-1} / z."""
    def diff_se(i):
        a2, b2 = (pa[i] - y[i]) ** 2, (pb[i] - y[i]) ** 2
        ra, rb = np.sqrt(a2.mean()), np.sqrt(b2.mean())
        grad = np.array([-1 / (2 * ra), 1 / (2 * rb)])
        return rb - ra, float(np.sqrt(grad @ np.cov(a2, b2) @ grad / len(i)))

    n = y.size
    d, se = diff_se(np.arange(n))
    rng = np.random.default_rng(seed)
    t = []
    for _ in range(n_boot):
        db, seb = diff_se(rng.integers(0, n, n))
        t.append((db - d) / seb)
    k = np.sqrt(n / (n - 1)) * stats.t.ppf(0.975, n - 1) / stats.norm.ppf(0.975)
    lo_q, hi_q = np.quantile(t, [0.025, 0.975])
    return d - k * hi_q * se, d - k * lo_q * se


def test_regression_paired_bootstrap_of_the_rmse_by_hand(tmp_path):
    project = open_project(tmp_path)
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    pa = y + rng.normal(scale=1.0, size=300)
    pb = y + rng.normal(scale=0.8, size=300)
    ids = [str(i) for i in range(300)]
    c = compare_runs(project, _log(project, "A", ids, y, pa), _log(project, "B", ids, y, pb))
    rmse = lambda t, p: np.sqrt(np.mean((t - p) ** 2))  # noqa: E731
    low, high = _studentised_by_hand(y, pa, pb, 4000, seed=5)  # Monte Carlo sd ~0.004
    assert c.task == "regression" and c.test["test"] == "paired studentised bootstrap of the RMSE"
    assert c.test["change"] == pytest.approx(rmse(y, pb) - rmse(y, pa))
    assert c.test["low"] == pytest.approx(low, abs=0.012)
    assert c.test["high"] == pytest.approx(high, abs=0.012)
    assert c.verdict == "better" and c.test["high"] < 0


def test_comparison_chart_holds_the_errors_of_both_runs(tmp_path):
    project = open_project(tmp_path)
    y = np.r_[np.zeros(100, int), np.ones(100, int)]
    a, b = y.copy(), y.copy()
    a[:40] = 1 - a[:40]
    b[:15] = 1 - b[:15]
    ids = [f"r{i}" for i in range(200)]
    ra = _log(project, "A", ids, y, a, errors={"train": 0.05, "dev": 0.20})
    rb = _log(project, "B", ids, y, b, errors={"train": 0.04, "dev": 0.075})
    c = compare_runs(project, ra, rb)
    spec = c.chart().to_dict()
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["xOffset"]["field"] == "run"
    rows = [r for values in spec["datasets"].values() for r in values]
    got = {(r["label"], r["run"]): r["error"] for r in rows}
    assert got == pytest.approx({("train", f"A: run {ra}"): 0.05, ("dev", f"A: run {ra}"): 0.20,
                                 ("train", f"B: run {rb}"): 0.04, ("dev", f"B: run {rb}"): 0.075})


def _rates_run(project, name, train, dev, n_train, n_dev):
    return project.log_run(name, errors={"train": train, "dev": dev},
                           sizes={"train": n_train, "dev": n_dev}, human_error=0.01)


def test_a_gap_moves_only_beyond_noise(tmp_path):
    """Variance 10 pt -> 6 pt on 300 dev examples: B's value lies outside A's interval,
    but the two intervals overlap: within noise. 10 pt -> 1 pt: moved down."""
    from mlstrat.diagnosis import diagnose

    project = open_project(tmp_path)
    ra = _rates_run(project, "A", 0.02, 0.12, 5000, 300)
    rb = _rates_run(project, "B", 0.02, 0.08, 5000, 300)
    rc = _rates_run(project, "C", 0.02, 0.03, 5000, 300)
    ga = diagnose(0.01, 0.02, dev=0.12, sizes={"train": 5000, "dev": 300}).gap("variance")
    gb = diagnose(0.01, 0.02, dev=0.08, sizes={"train": 5000, "dev": 300}).gap("variance")
    assert not ga.low <= gb.value <= ga.high      # the old rule called this a move
    assert gb.high >= ga.low                      # but the intervals overlap
    variance = {g["name"]: g for g in compare_runs(project, ra, rb).gaps}["variance"]
    assert variance["moved"] == "within noise" and variance["direction"] == "down"
    variance = {g["name"]: g for g in compare_runs(project, ra, rc).gaps}["variance"]
    assert variance["moved"] == "moved down"
    assert {g["name"]: g for g in compare_runs(project, rc, ra).gaps}["variance"]["moved"] \
        == "moved up"


def test_a_falling_error_reads_down(tmp_path):
    project = open_project(tmp_path)
    ra = _rates_run(project, "A", 0.02, 0.1567, 5000, 300)
    rb = _rates_run(project, "B", 0.02, 0.0667, 5000, 300)
    c = compare_runs(project, ra, rb)
    dev = next(r for r in c.rungs if r["name"] == "dev")
    assert dev["direction"] == "down" and dev["change"] == pytest.approx(-0.09)
    line = next(x for x in str(c).splitlines() if x.strip().startswith("dev error"))
    assert "15.67%" in line and "6.67%" in line and "-9.00 pt ↓" in line
    assert "↑" not in line


def test_regression_runs_are_compared_in_the_target_units(tmp_path):
    from mlstrat.diagnosis import diagnose_regression

    project = open_project(tmp_path)
    rng = np.random.default_rng(0)
    ids = [str(i) for i in range(300)]
    y = {s: rng.normal(scale=10, size=300) for s in ("train", "dev")}
    runs = []
    for name, noise in (("A", 5.0), ("B", 2.0)):
        preds = {s: (y[s], y[s] + rng.normal(scale=noise if s == "dev" else 1.0, size=300))
                 for s in y}
        d = diagnose_regression(preds)
        runs.append(project.log_run(name, diagnosis=d, predictions={
            s: pd.DataFrame({"id": ids, "y_true": t, "y_pred": p}) for s, (t, p) in preds.items()}))
        expected_dev = np.sqrt(np.mean((preds["dev"][1] - y["dev"]) ** 2))
        assert d.rates["dev"] == pytest.approx(expected_dev)
    c = compare_runs(project, *runs)
    assert c.metric == "RMSE" and not c.is_rate
    dev = next(r for r in c.rungs if r["name"] == "dev")
    assert 4 < dev["a"] < 6 and 1.5 < dev["b"] < 2.5 and dev["direction"] == "down"
    assert "%" not in next(x for x in str(c).splitlines() if x.strip().startswith("dev RMSE"))
    assert c.test["rmse_a"] == pytest.approx(dev["a"]) and c.verdict == "better"


def test_runs_of_different_datasets_are_refused(tmp_path):
    project = open_project(tmp_path)
    fp = {"sha256": "a" * 64, "target": "species", "columns": ["bill", "species"],
          "n_rows": 344}
    ids = [str(i) for i in range(50)]
    y = np.zeros(50, int)
    ra = project.log_run("penguins", predictions={"dev": pd.DataFrame(
        {"id": ids, "y_true": y, "y_pred": y})}, dataset=fp,
        config={"baseline": {"split_seed": 0}})
    rb = project.log_run("digits", predictions={"dev": pd.DataFrame(
        {"id": ids, "y_true": y, "y_pred": 1 - y})},
        dataset={**fp, "target": "digit", "columns": ["pixel", "digit"], "sha256": "b" * 64},
        config={"baseline": {"split_seed": 0}})
    c = compare_runs(project, ra, rb)
    assert not c.matched and c.verdict == "not compared"
    assert "different datasets" in c.message and "not compared" in c.message
