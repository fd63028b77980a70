"""Unit tests of the dashboard's glue (no Streamlit script run)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.dashboard.dashboard_project import APP  # noqa: F401 - puts dashboards/ on sys.path


def test_the_project_comes_from_the_command_line_then_the_environment():
    from app_pages._common import DEFAULT_PROJECT, default_project_path

    env = {"MLSTRAT_PROJECT": "/from/env"}
    assert default_project_path(["--project", "/from/argv"], env) == "/from/argv"
    assert default_project_path(["--other", "x"], env) == "/from/env"
    assert default_project_path([], {}) == str(DEFAULT_PROJECT)


def test_editor_changes_map_row_positions_to_example_ids():
    from app_pages._common import editor_changes

    edited = {"1": {"blurry": True, "id": "hacked"}, 0: {"note": "dark"}, 7: {"blurry": True}}
    assert editor_changes(edited, ["a", "b"], ["blurry", "note"]) == [
        ("a", "note", "dark"), ("b", "blurry", True)]


def test_constraints_skip_rows_not_filled_in():
    from app_pages._common import constraints_from_table

    frame = pd.DataFrame({"metric": ["latency_ms", None, "dev_error"],
                          "op": ["<=", "<", None], "threshold": [5, 1, 0.1]})
    assert constraints_from_table(frame) == {"latency_ms": ("<=", 5.0)}


def test_a_stored_diagnosis_is_read_back_and_a_missing_one_computed():
    from mlstrat.diagnosis import diagnose
    from mlstrat.store import Run
    from mlstrat.tracking import diagnosis_of_run

    def run(**kw):
        base = dict(id=1, name="r", created_at="", status="finished", config={},
                    errors={"train": 0.08, "dev": 0.10}, sizes={}, human_error=0.01,
                    diagnosis=None)
        return Run(**{**base, **kw})

    stored = diagnose(human=0.0, train=0.01, dev=0.2).to_dict()
    assert diagnosis_of_run(run(diagnosis=stored))[1] == "stored"
    d, source = diagnosis_of_run(run())
    assert (d.primary, source) == ("avoidable_bias", "computed")
    with pytest.raises(ValueError, match="no training error"):
        diagnosis_of_run(run(errors={"dev": 0.1}))
