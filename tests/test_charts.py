"""Tests for mlstrat.charts: valid Vega-Lite specs carrying the expected values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlstrat import charts
from mlstrat.curves import LearningCurve, fit_power_law
from mlstrat.diagnosis import diagnose
from mlstrat.metrics import select_model


def _records(spec: dict) -> list[dict]:
    """Every data row embedded in a Vega-Lite spec."""
    rows = []
    for values in spec.get("datasets", {}).values():
        rows.extend(values)
    return rows


def _check_schema(chart):
    spec = chart.to_dict(validate=True)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    return spec


def test_ladder_chart_values():
    d = diagnose(human=0.04, train=0.07, train_dev=0.10, dev=0.12, test=0.12,
                 sizes={"train": 50000, "train_dev": 5000, "dev": 5000, "test": 5000})
    spec = _check_schema(d.chart())
    rows = _records(spec)
    rungs = {r["label"]: r["pct"] for r in rows if r.get("kind") == "rung"}
    assert rungs == pytest.approx({"human level": 4, "train": 7, "train-dev": 10, "dev": 12,
                                   "test": 12})
    gaps = {r["name"]: (r["pct"], r["verdict"]) for r in rows if r.get("kind") == "gap"}
    assert gaps["avoidable_bias"][0] == pytest.approx(3)
    assert gaps["variance"][1] == "real"
    # 12% against 12% on 5,000 each cannot rule out a 1.2 pt (10% relative) gap
    assert gaps["dev_overfitting"][1] == "too small to tell"
    assert any(r.get("low_pct") is not None for r in rows if r.get("kind") == "gap")


def test_ladder_chart_never_paints_a_negative_gap_as_a_problem():
    d = diagnose(human=0.05, train=0.03, dev=0.031, sizes={"train": 50000, "dev": 50000})
    rows = _records(_check_schema(d.chart()))
    bias = next(r for r in rows if r.get("name") == "avoidable_bias")
    assert bias["verdict"] == "real" and bias["shown"] == "negative: not a problem"


def test_ladder_chart_in_target_units():
    from mlstrat.diagnosis import diagnose_regression

    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    d = diagnose_regression({"train": (y, y + 0.5), "dev": (y, y + 1.0)}, n_resamples=200)
    spec = _check_schema(d.chart())
    rows = _records(spec)
    rung = next(r for r in rows if r.get("name") == "dev")
    assert rung["pct"] == pytest.approx(1.0) and rung["text"] == "1"
    assert "RMSE" in json.dumps(spec)


def test_ladder_chart_without_sizes_has_null_intervals():
    d = diagnose(human=0.01, train=0.08, dev=0.10)
    spec = _check_schema(charts.ladder_chart(d.to_frame()))
    assert all(r.get("low_pct") is None for r in _records(spec) if "kind" in r)


def test_learning_curve_chart_from_result():
    sizes = [100, 200, 400, 800, 1600]
    dev = [0.3, 0.22, 0.17, 0.14, 0.12]
    lc = LearningCurve(sizes, [0.0, 0.02, 0.05, 0.07, 0.08], dev, [0] * 5, [0.01] * 5,
                       [3, 3, 1, 1, 1], "error", 1000, fit_power_law(sizes, dev))
    spec = _check_schema(lc.chart())
    rows = _records(spec)
    devs = sorted(r["error"] for r in rows if r.get("series") == "dev")
    assert devs == pytest.approx(sorted(dev))
    assert any("fitted" in r for r in rows)
    assert spec["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"


def test_history_chart_aggregates_and_rule():
    epochs = np.arange(1, 6001)
    h = pd.DataFrame({"epoch": epochs, "train_loss": 1 / epochs, "dev_loss": 1 / epochs + 0.1,
                      "train_error": 0.5 / epochs, "dev_error": 0.5 / epochs + 0.05})
    spec = _check_schema(charts.history_chart(h, best_epoch=300))
    assert len(spec["hconcat"]) == 2
    for panel in spec["hconcat"]:
        assert panel["title"] in ("loss", "error")
    rows = _records(spec)
    assert len([r for r in rows if "split" in r]) <= charts.MAX_ROWS * 2
    assert {"epoch": 300, "label": "best epoch 300"} in rows
    # long format works too
    long = pd.DataFrame({"epoch": [1, 2, 1, 2], "split": ["train", "train", "dev", "dev"],
                         "metric": ["loss"] * 4, "value": [1.0, 0.5, 1.2, 0.9]})
    spec = _check_schema(charts.history_chart(long))
    assert len(spec["hconcat"]) == 1


def test_history_chart_bad_frame():
    with pytest.raises(ValueError, match="train_loss"):
        charts.history_chart(pd.DataFrame({"epoch": [1], "learning_rate": [0.1]}))


def test_distribution_and_selection_charts():
    f = pd.DataFrame({"feature": [f"f{i}" for i in range(50)], "importance": np.linspace(1, 0, 50)})
    spec = _check_schema(charts.distribution_chart(f, auc=0.9, low=0.85, high=0.95, top=10))
    rows = _records(spec)
    assert len(rows) == 10 and rows[0]["feature"] == "f0"
    assert "0.900" in spec["title"]
    s = select_model([{"name": "A", "accuracy": 0.9, "latency_ms": 50},
                      {"name": "B", "accuracy": 0.95, "latency_ms": 500}],
                     satisfice={"latency_ms": ("<=", 100)})
    spec = _check_schema(s.chart())
    status = {r["name"]: r["status"] for r in _records(spec)}
    assert status == {"A": "chosen", "B": "fails a constraint"}


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="missing \\['importance'\\]"):
        charts.distribution_chart(pd.DataFrame({"feature": ["a"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        charts.ladder_chart([1, 2])


def test_split_plan_and_distribution_result_charts():
    from mlstrat.splits import compare_distributions, suggest_splits

    spec = _check_schema(suggest_splits(500_000, target_size=20_000).chart())
    rows = {(r["split"], r["distribution"]): r["examples"] for r in _records(spec)}
    assert rows[("dev", "target")] == 5000 and rows[("dev", "source")] == 0
    spec = _check_schema(suggest_splits(5000).chart())
    assert {r["distribution"] for r in _records(spec)} == {"all"}
    rng = np.random.default_rng(0)
    r = compare_distributions(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + [0, 3],
                              n_threads=1)
    spec = _check_schema(r.chart())
    assert _records(spec)[0]["feature"] == "x1"


def test_history_chart_reads_trainer_history():
    h = pd.DataFrame({"epoch": [1, 2, 3], "loss": [1.0, 0.6, 0.4], "error": [0.3, 0.2, 0.1],
                      "val_loss": [1.1, 0.8, 0.9], "val_error": [0.35, 0.25, 0.27],
                      "learning_rate": [0.1, 0.1, 0.05], "seconds": [0.1, 0.1, 0.1]})
    spec = _check_schema(charts.history_chart(h, best_epoch=2))
    rows = [r for r in _records(spec) if "split" in r]
    assert {(r["split"], r["metric"]) for r in rows} == {
        ("train", "loss"), ("train", "error"), ("dev", "loss"), ("dev", "error")}
    assert {"dev", 0.27} <= {v for r in rows for v in (r["split"], r["value"])}


def test_history_chart_ticks_whole_epochs():
    """Three epochs gave ticks 1, 1.5, 2, 2.5, 3: the epoch axis is integer-ticked."""
    h = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3],
                      "dev_loss": [1.1, 0.7, 0.8], "dev_error": [0.4, 0.3, 0.3]})
    spec = _check_schema(charts.history_chart(h, best_epoch=2))
    assert len(spec["hconcat"]) == 2
    for panel in spec["hconcat"]:
        x = panel["layer"][0]["encoding"]["x"]
        assert (x["field"], x["type"]) == ("epoch", "quantitative")
        assert x["axis"]["tickMinStep"] == 1 and x["axis"]["format"] == "d"


def test_ladder_and_comparison_labels_read_horizontally():
    from mlstrat.charts import WORD_AXIS, comparison_chart

    d = diagnose(train=0.08, train_dev=0.09, dev=0.12, sizes={"train": 5000, "train_dev": 2000,
                                                               "dev": 2000})
    spec = d.chart().to_dict()
    axes = [layer["encoding"]["x"].get("axis") for part in spec["vconcat"]
            for layer in part["layer"] if "x" in layer.get("encoding", {})]
    assert axes and all(a["labelAngle"] == 0 and "split(datum.label" in a["labelExpr"]
                        for a in axes)
    frame = pd.DataFrame({"label": ["train", "dev"], "a": [0.1, 0.2], "b": [0.1, 0.15]})
    x = comparison_chart(frame).to_dict()["encoding"]["x"]
    assert x["axis"] == WORD_AXIS.to_dict()
