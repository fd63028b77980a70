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
with st.expander("Diagnosis as text"):
    st.code(str(diagnosis), language=None)

st.subheader("Runs")
st.caption("Error rates in percent; a regression's rungs in the target's units (the "
           "metric column). Outcome: what each run's diagnosis decides.")
summary = common.runs_summary_table(path, rev)
# the numbers first, the creation time last: on a narrow screen only it may scroll away
order = [c for c in ("id", "name", "outcome", "problem", "human", "train", "train-dev", "dev",
                     "test", "metric", "created") if c in summary.columns]
st.dataframe(summary, hide_index=True, key="runs_table", width="stretch",
             column_order=order + [c for c in summary.columns if c not in order],
             column_config={"id": st.column_config.NumberColumn("id", width=40),
                            "created": st.column_config.TextColumn("created (UTC)")})
