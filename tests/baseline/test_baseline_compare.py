import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlstrat import open_project
from mlstrat.baseline import compare_runs


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


def test_missing_predictions_and_unknown_runs(tmp_path):
    project = open_project(tmp_path)
    ra = project.log_run("A", errors={"train": 0.1, "dev": 0.2}, sizes={"train": 100, "dev": 50})
    rb = project.log_run("B", errors={"train": 0.05, "dev": 0.15},
                         sizes={"train": 100, "dev": 50})
    c = compare_runs(project, ra, rb)
    assert "stored no 'dev' predictions" in c.message
    assert [g["name"] for g in c.gaps] == ["variance"]          # from the stored errors
    assert c.gaps[0]["change"] == pytest.approx(0.0)
    with pytest.raises(KeyError, match="No run 99"):
        compare_runs(project, ra, 99)


def test_regression_paired_t_test_against_scipy(tmp_path):
    project = open_project(tmp_path)
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    pa = y + rng.normal(scale=1.0, size=300)
    pb = y + rng.normal(scale=0.8, size=300)
    ids = [str(i) for i in range(300)]
    c = compare_runs(project, _log(project, "A", ids, y, pa), _log(project, "B", ids, y, pb))
    ref = stats.ttest_rel((y - pb) ** 2, (y - pa) ** 2)
    assert c.task == "regression"
    assert c.test["pvalue"] == pytest.approx(ref.pvalue)
    assert c.test["change"] == pytest.approx(np.mean((y - pb) ** 2) - np.mean((y - pa) ** 2))


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
