"""Overview: the project's runs and, for one run, the error ladder and what to do."""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from mlstrat.tracking import diagnosis_of_run

st.title("Overview")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)
runs = common.runs_table(path, rev)
st.caption(f"Project `{proj.folder}` - {len(runs)} run(s)")
if runs.empty:
    common.no_runs_notice()

run_id = common.choose_run(runs, page="overview")
run = common.run_record(path, rev, run_id)
try:
    diagnosis, source = diagnosis_of_run(run)
except ValueError as exc:
    st.error(str(exc))
    st.stop()

common.show_diagnosis(diagnosis, key="ladder_chart")
st.caption("Diagnosis stored with the run." if source == "stored"
           else "No stored diagnosis: computed from the run's errors and sizes.")

frame = diagnosis.to_frame()
gaps = frame[frame["kind"] == "gap"][["label", "value", "low", "high", "verdict"]]
st.markdown(f"**Gaps** ({diagnosis.confidence:.0%} intervals)")
st.dataframe(gaps, hide_index=True, key="gaps_table",
             column_config=common.pct_columns(gaps, ["value", "low", "high"]))
with st.expander("Diagnosis as text"):
    st.code(str(diagnosis), language=None)

st.subheader("Runs")
table = runs.drop(columns=[c for c in ("problem",) if runs[c].isna().all()]
                  if "problem" in runs else [])
st.dataframe(table, hide_index=True, key="runs_table",
             column_config=common.pct_columns(table, ("human_error",) + common.RUNG_ORDER))
