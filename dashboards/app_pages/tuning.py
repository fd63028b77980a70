"""Tuning: the trials of a study, the score against each hyperparameter on its
own scale, and the choice under an optimizing metric and satisficing constraints."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat.metrics import OPERATORS
from mlstrat.tuning import StudyResult

st.title("Tuning")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)


@st.cache_data(show_spinner=False, max_entries=16)
def _studies(path: str, rev: int) -> pd.DataFrame:
    return common._open(path).studies()


@st.cache_data(show_spinner=False, max_entries=16)
def _study(path: str, rev: int, name: str) -> tuple[dict, pd.DataFrame]:
    project = common._open(path)
    return project.get_study(name), project.trials(name)


studies = _studies(path, rev)
if studies.empty:
    st.info("No tuning study in this project yet. Run one with "
            "`mlstrat.tuning.create_study(name, space, project=...).optimize(...)` "
            "or `mlstrat tune`.")
    st.stop()

names = studies["name"].tolist()[::-1]
name = st.selectbox("Study", names, key="study_select")
record, trials = _study(path, rev, name)
result = StudyResult(name=name, trials=trials, space=record["space"],
                     strategy=record["strategy"], metric=record["metric"],
                     greater_is_better=record["greater_is_better"], project=proj)
st.caption(str(result).splitlines()[0])
if result.n_complete == 0:
    st.info("No trial has finished yet.")
    st.stop()

frame = result.to_frame()
st.subheader("Score against each hyperparameter")
st.altair_chart(result.chart(), key="tuning_chart")
with st.expander(f"Trials ({len(frame):,})", expanded=len(frame) <= 20):
    st.dataframe(frame, hide_index=True, key="trials_table")

# ----------------------------------------------------------------- the choice
st.subheader("The choice: one optimizing metric, the others satisficing")
candidates = result.candidates()
numeric = [c for c in candidates.columns
           if c not in ("name", "number", "rung", "bracket", "attempts")
           and pd.api.types.is_numeric_dtype(candidates[c])]
optimize = st.selectbox("Optimizing metric", numeric,
                        index=numeric.index(result.metric) if result.metric in numeric else 0,
                        key=f"optimize_{name}")
default = pd.DataFrame({"metric": pd.Series([], dtype="string"),
                        "op": pd.Series([], dtype="string"),
                        "threshold": pd.Series([], dtype="float")})
if "latency_ms" in numeric:
    default = pd.DataFrame({"metric": ["latency_ms"], "op": ["<="],
                            "threshold": [round(float(candidates["latency_ms"].median()), 4)]})
edited = st.data_editor(
    default, num_rows="dynamic", hide_index=True, key=f"constraints_{name}",
    column_config={
        "metric": st.column_config.SelectboxColumn("metric", options=numeric, required=True),
        "op": st.column_config.SelectboxColumn("op", options=list(OPERATORS), required=True),
        "threshold": st.column_config.NumberColumn("threshold", required=True, format="%g"),
    })
satisfice = common.constraints_from_table(edited)
try:
    selection = result.select(optimize, satisfice)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
(st.success if selection.chosen is not None else st.warning)(selection.message)
st.altair_chart(selection.chart(), key="selection_chart")
if selection.chosen is not None and st.button("Log the chosen trial as a run",
                                              key="log_best_run"):
    try:
        run_id = result.log_best_run(optimize=optimize, satisfice=satisfice)
    except ValueError as exc:
        st.error(str(exc))
    else:
        st.session_state[common.CHOSEN_RUN] = run_id
        st.success(f"Stored as run #{run_id}; see it on the Overview page.")
