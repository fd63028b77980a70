"""Overview: the project's runs and, for one run, the error ladder and what to do."""

from __future__ import annotations

import streamlit as st
from app_pages import _common as common

from mlstrat.tracking import diagnosis_of_run

#: columns of the runs table shown only when asked for -> their words
MORE_COLUMNS = {"human": "human level", "outcome": "outcome", "metric": "metric",
                "created": "created (UTC)"}

st.title("Overview")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)
runs = common.runs_table(path, rev)
st.caption(f"Project `{proj.folder}` - {len(runs)} run(s)")
if runs.empty:
    common.no_runs_notice()

# after `mlstrat baseline`, the model its latest iteration chose (not the newest run)
choices = common.baseline_choices(path, rev)
run_id = common.choose_run(runs, page="overview", default=choices[-1] if choices else None,
                           starred=choices)
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
summary = common.runs_summary_table(path, rev)
# the numbers and the diagnosis fit a 1024 px screen; the rest on demand
more = st.pills("Also show", list(MORE_COLUMNS), selection_mode="multi", key="runs_more",
                format_func=MORE_COLUMNS.get,
                help="Columns left out by default so that the errors and the diagnosis "
                     "fit a narrow screen.")
# a rung no run has (e.g. train-dev without a domain column) leaves room for the names
empty = [c for c in ("train-dev", "test") if not summary.empty and c in summary.columns
         and (summary[c] == "-").all()]
humans = summary["human"].unique() if "human" in summary.columns else []
same_human = f" Human level {humans[0]} in every run." if len(humans) == 1 and \
    humans[0] != "-" and "human" not in more else ""
metrics = [m for m in summary["metric"].unique() if m != "-"] if "metric" in summary else []
if len(metrics) > 1 and "metric" not in more:  # rates and target units side by side
    more = [*more, "metric"]
units = ("Error rates in percent." if metrics == ["error rate"] else
         f"Rungs: {metrics[0]} in the target's units." if len(metrics) == 1 else
         "Error rates in percent; a regression's rungs in the target's units (the metric "
         "column).")
chose = f" {common.STAR}the model a baseline iteration chose." if choices else ""
st.caption(f"{units}{chose} Diagnosis: the primary problem, or what the diagnosis decided "
           "when there is none (in full above, for the chosen run)." + same_human
           + "".join(f" No run has a {c} error." for c in empty))
# the diagnosis in short words (the words in brackets are above, for the chosen run)
diagnosis_words = summary["problem"].where(summary["problem"] != "-", summary["outcome"])
shown = summary.assign(problem=diagnosis_words.str.split(" (", n=1, regex=False).str[0],
                       name=[f"{common.STAR}{n}" if int(i) in choices else n
                             for i, n in zip(summary["id"], summary["name"], strict=True)])
order = [c for c in ("id", "name", "human", "train", "train-dev", "dev", "test", "problem",
                     "outcome", "metric", "created") if c in summary.columns
         and (c not in MORE_COLUMNS or c in more) and c not in empty]
rate = {"width": 56}
st.dataframe(shown, hide_index=True, key="runs_table", width="stretch", column_order=order,
             column_config={"id": st.column_config.NumberColumn("run", width=36),
                            # the room of a rung left out goes to the names
                            "name": st.column_config.TextColumn(
                                "name", width=140 + 60 * len(empty)),
                            "human": st.column_config.TextColumn("human", **rate),
                            "train": st.column_config.TextColumn("train", **rate),
                            "train-dev": st.column_config.TextColumn("train-dev", width=66),
                            "dev": st.column_config.TextColumn("dev", **rate),
                            "test": st.column_config.TextColumn("test", **rate),
                            "problem": st.column_config.TextColumn("diagnosis", width=150),
                            "created": st.column_config.TextColumn("created (UTC)")})
