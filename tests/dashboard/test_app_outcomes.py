"""The decision layer's outcomes on the pages, in plain words (issue 11), and the
page fixes of issue 13: not enough evidence, human level surpassed, too small
to tell with the size that would tell, regression ladders in the target's units,
falling errors shown down and green, gaps that move only beyond noise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlstrat
from mlstrat.diagnosis import diagnose, diagnose_regression
from tests.dashboard.test_app import chart_frames, errors, texts

COMPARE = "app_pages/compare.py"

TINY = {"train": 185, "train_dev": 21, "dev": 69}


def _log(project, name, d, **kwargs):
    errors_ = {k: v for k, v in d.rates.items() if v is not None}
    return project.log_run(name, errors=errors_ if d.is_rate else None,
                           sizes={k: v for k, v in d.sizes.items() if k != "human"},
                           diagnosis=d, **kwargs)


def _open_run(app, run_id: int):
    at = app.run()
    at.selectbox(key="run_select_overview").select(run_id).run()
    assert not at.exception, at.exception
    return at


def _alerts(at) -> dict[str, list[str]]:
    return {kind: [str(e.value) for e in getattr(at, kind)]
            for kind in ("error", "warning", "info", "success")}


#: a table on the page -> a column only it has (AppTest gives st.dataframe no key)
TABLES = {"ladder_chart_gaps": "to tell", "ladder_chart_rungs": "examples",
          "runs_table": "created", "compare_rungs": "rung", "compare_gaps": "moved?"}


def _frame(at, key: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if TABLES[key] in d.value.columns]
    assert len(frames) == 1, (key, [list(d.value.columns) for d in at.dataframe])
    return frames[0]


def _chart_row(at, label: str) -> dict:
    """The row of ``label`` in the page's first chart holding it."""
    for frame in chart_frames(at):
        if "label" in frame.columns and (frame["label"] == label).any():
            return frame[frame["label"] == label].iloc[0].to_dict()
    raise AssertionError(f"no chart row labelled {label!r}")


# --------------------------------------------------------------------- overview
def test_a_tiny_ladder_says_not_enough_evidence_and_the_size_that_would_tell(app,
                                                                              small_project):
    d = diagnose(train=0.0, train_dev=1 / 21, dev=0.0, sizes=TINY)
    gap = d.gap("variance")
    assert (d.status, gap.verdict) == ("not_enough_evidence", "too_small_to_tell")
    run_id = _log(mlstrat.open_project(small_project), "tiny", d)
    at = _open_run(app, run_id)
    alerts = _alerts(at)
    assert not alerts["error"]
    assert any(a.startswith("Not enough evidence yet") for a in alerts["info"]), alerts
    assert "Not enough evidence yet" in [s.value for s in at.subheader]
    assert any(f"**Next step:** {d.next_step}" in a for a in alerts["info"])
    assert "Primary problem" not in texts(at)
    gaps = _frame(at, "ladder_chart_gaps").set_index("gap")
    assert gaps.loc["variance", "verdict"] == "too small to tell"
    assert gaps.loc["variance", "value"] == "+4.76 pt"
    assert gaps.loc["variance", "95% interval"] == \
        f"[{d.format_gap(gap.low)}, {d.format_gap(gap.high)}]"
    sets = " and ".join({"train_dev": "train-dev", "train": "train", "dev": "dev"}[s]
                        for s in gap.enlarge)
    told = f"about {gap.size_to_tell:,} examples in {sets}"
    assert gaps.loc["variance", "to tell"] == told
    assert any(told in c.value and "too small to tell" in c.value for c in at.caption)


def test_human_level_surpassed_is_good_news_not_an_error(app, small_project):
    d = diagnose(human={"team": 0.02}, train=0.005, dev=0.012,
                 sizes={"train": 20000, "dev": 5000})
    assert d.status == "human_level_surpassed" and d.gap("avoidable_bias").value < 0
    run_id = _log(mlstrat.open_project(small_project), "surpassed", d, human_error=0.02)
    at = _open_run(app, run_id)
    alerts = _alerts(at)
    assert not alerts["error"] and not alerts["warning"], alerts
    assert any(a.startswith("Human level surpassed") for a in alerts["success"]), alerts
    assert "Human level surpassed" in [s.value for s in at.subheader]
    assert "Primary problem" not in texts(at)
    gaps = _frame(at, "ladder_chart_gaps").set_index("gap")
    assert gaps.loc["avoidable bias", "verdict"] == "real (negative: not a problem)"
    # the chart paints the negative gap as not a problem, not as a red "real" bar
    assert _chart_row(at, "avoidable bias")["shown"] == "negative: not a problem"


def test_a_regression_run_reads_in_the_target_units(app, small_project):
    rng = np.random.default_rng(0)
    y = {s: rng.normal(50, 20, 400) for s in ("train", "train_dev", "dev")}
    scale = {"train": 3.0, "train_dev": 9.0, "dev": 9.0}
    preds = {s: (y[s], y[s] + rng.normal(scale=scale[s], size=400)) for s in y}
    d = diagnose_regression(preds)
    assert d.metric == "RMSE" and d.rates["dev"] > 5
    proj = mlstrat.open_project(small_project)
    run_id = proj.log_run("regression", diagnosis=d, predictions={
        s: pd.DataFrame({"y_true": t, "y_pred": p}) for s, (t, p) in preds.items()})
    at = _open_run(app, run_id)
    assert not errors(at)
    assert f"Primary problem: {d.problem}" in texts(at)
    gaps = _frame(at, "ladder_chart_gaps").set_index("gap")
    assert gaps.loc["variance", "value"] == d.format_gap(d.gap("variance").value)
    assert not gaps["value"].str.contains("%|pt").any()
    rungs = _frame(at, "ladder_chart_rungs").set_index("rung")
    assert rungs.loc["dev", "RMSE"] == f"{d.rates['dev']:.4g}"
    # the chart in units: no x100 for a regression
    assert _chart_row(at, "dev")["pct"] == pytest.approx(d.rates["dev"])
    table = _frame(at, "runs_table").set_index("name")
    assert table.loc["regression", "metric"] == "RMSE"
    assert table.loc["regression", "dev"] == f"{d.rates['dev']:.4g}"
    # rates and a regression in one project: the metric column is shown, not on demand
    assert "metric" in _runs_table_proto(at).column_order
    assert "(the metric column)" in texts(at)


def test_the_runs_table_shows_every_column_in_words_and_percent(app):
    at = app.run()
    table = _frame(at, "runs_table").set_index("name")
    assert list(table.columns) == ["id", "created", "outcome", "problem", "metric", "human",
                                   "train", "train-dev", "dev", "test"]
    mismatch = table.loc["mismatch run"]
    assert (mismatch["outcome"], mismatch["problem"]) == ("primary problem found",
                                                          "data mismatch")
    assert mismatch[["train", "train-dev", "dev", "test"]].tolist() == [
        "2.00%", "3.00%", "15.00%", "16.00%"]
    assert table.loc["bias run", "problem"] == "avoidable bias"
    assert table.loc["only dev", "outcome"] == "not diagnosed (no training error)"
    # no primary problem: the diagnosis column says what was decided instead of '-'
    assert table.loc["only dev", "problem"] == "not diagnosed"  # in full when chosen
    assert not table["problem"].str.contains("_").any()


def _runs_table_proto(at):
    frames = [d for d in at.dataframe if "created" in d.value.columns]
    assert len(frames) == 1
    return frames[0].proto


def test_the_runs_table_shows_the_errors_and_the_diagnosis_first(app):
    """On a narrow screen (1024 px) the errors and the diagnosis fit: the human level,
    the outcome, the metric and the creation time are shown only when asked for
    (checked for width in the real browser: test_browser_first_system.py)."""
    at = app.run()
    assert _frame(at, "runs_table")["human"].nunique() > 1
    assert "in every run" not in texts(at)  # the human levels differ: nothing said
    proto = _runs_table_proto(at)
    assert list(proto.column_order) == ["id", "name", "train", "train-dev", "dev", "test",
                                        "problem"]
    at.session_state["runs_more"] = ["human", "created"]
    at.run()
    assert not at.exception
    assert list(_runs_table_proto(at).column_order) == [
        "id", "name", "human", "train", "train-dev", "dev", "test", "problem", "created"]


def test_after_a_baseline_the_overview_opens_on_the_chosen_model(tmp_path, monkeypatch):
    """`mlstrat baseline` logs one run per model: the page opens on the model the
    latest iteration chose (not the newest run, a network), and the runs table and
    the run selector mark each iteration's choice with a star."""
    from sklearn.datasets import load_wine
    from streamlit.testing.v1 import AppTest

    from mlstrat.cli import main
    from tests.dashboard.dashboard_project import APP

    csv, folder = tmp_path / "wine.csv", tmp_path / "wine_project"
    load_wine(as_frame=True).frame.to_csv(csv, index=False)
    for _ in range(2):  # two iterations: the star on both choices, the page on the last
        assert main(["baseline", str(csv), "--target", "target", "--project", str(folder),
                     "--max-epochs", "2", "--resampling", "split", "--quiet"]) == 0
    proj = mlstrat.open_project(folder)
    ids = proj.runs()["id"].tolist()
    chosen = [i for i in ids if proj.get_run(int(i)).config["baseline"]["chosen"]]
    assert len(chosen) == 2 and chosen[-1] != ids[-1], (chosen, ids)
    monkeypatch.setenv("MLSTRAT_PROJECT", str(folder))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception and not errors(at), errors(at)
    select = at.selectbox(key="run_select_overview")
    assert select.value == chosen[-1]
    assert select.options[0] == f"#{ids[-1]} {proj.get_run(int(ids[-1])).name}"
    assert f"#{chosen[-1]} ★ " in select.options[ids[::-1].index(chosen[-1])]
    table = _frame(at, "runs_table").set_index("id")
    starred = [int(i) for i in table.index if table.loc[i, "name"].startswith("★ ")]
    assert starred == chosen
    assert table.loc[chosen[0], "name"] == f"★ {proj.get_run(int(chosen[0])).name}"
    assert "★ the model a baseline iteration chose" in texts(at)
    # a run the user picks stays picked
    select.select(ids[-1]).run()
    assert at.selectbox(key="run_select_overview").value == ids[-1]


def test_a_regression_project_says_its_units_above_the_runs(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.dashboard_project import APP

    rng = np.random.default_rng(0)
    preds = {s: (y := rng.normal(50, 10, 200), y + rng.normal(0, e, 200))
             for s, e in (("train", 3.0), ("dev", 6.0))}
    d = diagnose_regression(preds)
    proj = mlstrat.open_project(tmp_path / "houses")
    proj.log_run("regression", diagnosis=d, predictions={
        s: pd.DataFrame({"y_true": t, "y_pred": p}) for s, (t, p) in preds.items()})
    proj.close()
    monkeypatch.setenv("MLSTRAT_PROJECT", str(tmp_path / "houses"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "Rungs: RMSE in the target's units." in texts(at)
    assert "metric" not in _runs_table_proto(at).column_order  # one unit: said above


def test_one_human_level_for_every_run_is_said_above_the_table(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.dashboard_project import APP

    proj = mlstrat.open_project(tmp_path / "same_human")
    for name, dev in (("a", 0.2), ("b", 0.1)):
        proj.log_run(name, human_error=0.015, errors={"train": 0.05, "dev": dev},
                     sizes={"train": 1000, "dev": 500})
    proj.close()
    monkeypatch.setenv("MLSTRAT_PROJECT", str(tmp_path / "same_human"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "Human level 1.50% in every run." in texts(at)
    assert "Error rates in percent." in texts(at) and "metric column" not in texts(at)
    at.session_state["runs_more"] = ["human"]
    at.run()
    assert "in every run" not in texts(at)  # the column says it
    # no run has a train-dev or a test error: no empty columns, said in words
    frames = [d for d in at.dataframe if "created" in d.value.columns]
    assert list(frames[0].proto.column_order) == ["id", "name", "human", "train", "dev",
                                                  "problem"]
    assert "No run has a train-dev error. No run has a test error." in texts(at)
    config = json.loads(frames[0].proto.columns)
    name = next(v for k, v in config.items() if k.endswith("name"))
    assert name["width"] == 140 + 2 * 60  # their room goes to the names


# --------------------------------------------------------------------- compare
def _rates_run(project, name, dev, ids, y, wrong):
    pred = y.copy()
    pred[wrong] = 1 - pred[wrong]
    return project.log_run(name, errors={"train": 0.02, "dev": dev},
                           sizes={"train": 5000, "dev": len(y)}, human_error=0.01,
                           predictions={"dev": pd.DataFrame({"id": ids, "y_true": y,
                                                             "y_pred": pred})})


def test_compare_shows_a_falling_error_down_and_green(app, small_project):
    proj = mlstrat.open_project(small_project)
    y = np.r_[np.zeros(150, int), np.ones(150, int)]
    ids = [f"x{i}" for i in range(300)]
    ra = _rates_run(proj, "A", 47 / 300, ids, y, np.arange(47))
    rb = _rates_run(proj, "B", 20 / 300, ids, y, np.arange(20))
    at = app.run()
    at.switch_page(COMPARE).run()
    assert not at.exception and not errors(at), errors(at)
    assert (at.selectbox(key="compare_a").value, at.selectbox(key="compare_b").value) == \
        (ra, rb)
    error = next(m for m in at.metric if m.label.startswith("dev error of B"))
    assert error.value == "6.67%" and "15.67%" in error.label
    from streamlit.proto.Metric_pb2 import Metric

    assert error.proto.delta == "-9.00 pt"
    assert error.proto.direction == Metric.MetricDirection.DOWN       # ↓, not ↑
    assert error.proto.color == Metric.MetricColor.GREEN              # a fall is good
    rungs = _frame(at, "compare_rungs").set_index("rung")
    assert rungs.loc["dev error", ["A", "B"]].tolist() == ["15.67%", "6.67%"]
    assert rungs.loc["dev error", "B - A"] == "-9.00 pt ↓"
    gaps = _frame(at, "compare_gaps").set_index("gap")
    # 13.67 pt -> 4.67 pt on 300 dev examples: the two intervals miss each other
    variance = gaps.loc["variance + data mismatch"]
    assert variance["B - A"] == "-9.00 pt ↓" and variance["moved?"] == "moved down"
    # both ladders narrowed to fit half the page, legends below
    ladders = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")][-2:]
    for spec in ladders:
        assert all(panel["width"] <= 320 for panel in spec["vconcat"])
        assert spec["config"]["legend"]["orient"] == "bottom"
    # the stored rates are those of the predictions: nothing to explain
    assert not [c for c in at.caption if "paired test counts" in c.value]


def test_compare_of_runs_on_other_dev_sets_shows_no_change(app, small_project):
    """Dev sets that differ (another split seed): the runs are not paired, so the
    tables show the two numbers side by side, with no arrow, colour or 'moved'."""
    proj = mlstrat.open_project(small_project)
    y = np.r_[np.zeros(150, int), np.ones(150, int)]
    _rates_run(proj, "A", 47 / 300, [f"x{i}" for i in range(300)], y, np.arange(47))
    _rates_run(proj, "B", 20 / 300, [f"z{i}" for i in range(300)], y, np.arange(20))
    at = app.run()
    at.switch_page(COMPARE).run()
    assert not at.exception and not errors(at), errors(at)
    assert any("dev sets differ" in w for w in _alerts(at)["warning"]), _alerts(at)
    rungs = _frame(at, "compare_rungs").set_index("rung")
    assert list(rungs.columns) == ["A", "B"]
    assert rungs.loc["dev error"].tolist() == ["15.67%", "6.67%"]
    gaps = [d.value for d in at.dataframe if "gap" in d.value.columns]
    assert len(gaps) == 1 and list(gaps[0].columns) == ["gap", "A", "B"]
    shown = texts(at) + " ".join(str(d.value.to_numpy().tolist()) for d in at.dataframe)
    for word in ("↓", "↑", "moved down", "moved up", "moved*"):
        assert word not in shown, word
    assert any("not comparable example by example" in c.value for c in at.caption)


def test_compare_says_why_the_paired_error_is_not_the_ladders(app, small_project):
    """A K-fold rung averages each example's error over the repeats; the paired test
    counts the stored predictions: when the two differ, the page says which and why."""
    proj = mlstrat.open_project(small_project)
    y = np.r_[np.zeros(150, int), np.ones(150, int)]
    ids = [f"x{i}" for i in range(300)]
    _rates_run(proj, "A (k-fold mean)", 0.15, ids, y, np.arange(47))   # predictions: 15.67%
    _rates_run(proj, "B", 20 / 300, ids, y, np.arange(20))
    at = app.run()
    at.switch_page(COMPARE).run()
    assert not at.exception and not errors(at), errors(at)
    note = [c.value for c in at.caption if "paired test counts" in c.value]
    assert note == ["The dev error of A 15.67% here, 15.00% in its ladder: the paired test "
                    "counts the stored predictions (one per example), while a ladder's rung "
                    "from repeated K-fold averages each example's error over the repeats."]


# --------------------------------------------------------------------- training
def test_the_learning_curve_target_defaults_below_the_current_error(app, small_project):
    from mlstrat.curves import LearningCurve

    proj = mlstrat.open_project(small_project)
    curve = LearningCurve.from_dict(proj.get_run("mismatch run").config["learning_curve"])
    at = app.run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception and not errors(at)
    target = at.number_input(key="lc_target").value
    assert 100 * curve.fit.c <= target < 100 * curve.dev_error[-1]


def test_compare_two_regressions_in_the_target_units(app, small_project):
    proj = mlstrat.open_project(small_project)
    rng = np.random.default_rng(1)
    ids = [str(i) for i in range(300)]
    y = {s: rng.normal(50, 20, 300) for s in ("train", "dev")}
    rmse = {}
    for name, noise in (("A", 12.0), ("B", 4.0)):
        preds = {s: (y[s], y[s] + rng.normal(scale=noise if s == "dev" else 2.0, size=300))
                 for s in y}
        d = diagnose_regression(preds)
        rmse[name] = d.rates["dev"]
        proj.log_run(name, diagnosis=d, errors={s: d.rates[s] for s in y},
                     sizes={s: 300 for s in y}, metric="RMSE", predictions={
                         s: pd.DataFrame({"id": ids, "y_true": t, "y_pred": p})
                         for s, (t, p) in preds.items()})
    at = app.run()
    at.switch_page(COMPARE).run()
    assert not at.exception and not errors(at), errors(at)
    shown = {m.label: m for m in at.metric}
    assert shown["RMSE of A (target units)"].value == f"{rmse['A']:.2f}"
    b = shown["RMSE of B (target units)"]
    assert b.value == f"{rmse['B']:.2f}" and b.proto.delta.startswith("-")
    rungs = _frame(at, "compare_rungs").set_index("rung")
    dev = rungs.loc["dev RMSE (target units)"]
    # one number of decimals for both runs (four significant digits on the largest rung)
    assert dev[["A", "B"]].tolist() == [f"{rmse['A']:.2f}", f"{rmse['B']:.2f}"]
    assert dev["B - A"].endswith("↓") and "%" not in "".join(rungs.to_numpy().ravel())
