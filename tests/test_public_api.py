"""The steps of the notes callable from the top level: ``mlstrat.diagnose(...)`` etc."""

from __future__ import annotations

import types

import pytest

import mlstrat
from mlstrat.diagnosis import diagnose as diagnose_in_module
from mlstrat.metrics import select_model as select_in_module

STEPS = ["diagnose", "diagnose_predictions", "diagnose_regression", "baseline",
         "compare_runs", "select_model", "suggest_splits", "new_session",
         "open_project", "record_run", "start_run"]


@pytest.mark.parametrize("name", STEPS)
def test_each_step_is_a_function_not_a_module(name):
    obj = getattr(mlstrat, name)
    assert not isinstance(obj, types.ModuleType)
    assert callable(obj)
    assert name in mlstrat.__all__


def test_from_import_gives_the_functions():
    from mlstrat import baseline, diagnose  # the line that gave modules before

    assert diagnose is diagnose_in_module
    assert baseline.__module__ == "mlstrat.first_system._workflow"


def test_top_level_diagnose_matches_the_notes_example():
    # The notes: human 1%, train 8%, dev 10% -> avoidable bias (7 pt) dominates.
    report = mlstrat.diagnose(human=0.01, train=0.08, dev=0.10)
    assert report.primary == "avoidable_bias"
    assert report.gap("avoidable_bias").value == pytest.approx(0.07)


def test_diagnose_accepts_a_list_of_human_references():
    # Several people's errors: the best one is the Bayes proxy (the notes' 0.5% team).
    report = mlstrat.diagnose(human=[0.03, 0.01, 0.005], train=0.007, dev=0.008)
    assert report.human_levels[report.human_source] == pytest.approx(0.005)
    assert report.gap("avoidable_bias").value == pytest.approx(0.002)


def test_select_model_takes_a_mapping_of_name_to_metrics():
    as_mapping = {"A": {"accuracy": 0.90, "latency_ms": 80},
                  "B": {"accuracy": 0.92, "latency_ms": 95},
                  "C": {"accuracy": 0.95, "latency_ms": 1500}}
    as_rows = [{"name": k, **v} for k, v in as_mapping.items()]
    got = mlstrat.select_model(as_mapping, satisfice={"latency_ms": ("<=", 100)})
    assert got.chosen == "B"  # C is most accurate but too slow: the notes' example
    assert got.table == select_in_module(as_rows, satisfice={"latency_ms": ("<=", 100)}).table


def test_select_model_mapping_of_non_mappings_is_a_clear_error():
    with pytest.raises(TypeError, match="Candidate 'A' must map metric names to values"):
        mlstrat.select_model({"A": 0.9})
