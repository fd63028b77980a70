"""Tuning: the trials of a study, the score against each hyperparameter on its
own scale, and the choice under an optimizing metric and satisficing constraints."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat.metrics import OPERATORS
from mlstrat.tuning import StudyResult

#: metrics that get a default satisficing constraint when the study stores none
COST_METRICS = ("latency_ms",)

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


def words(metric: str) -> str:
    """'dev_error' -> 'dev error': a column name as an axis title."""
    return metric.replace("_", " ")


def titled(chart, metric: str):
    """The selection chart with the metric's name in words on its axis, tooltip and title."""
    chart.encoding.x.title = words(metric)
    for tip in chart.encoding.tooltip:
        if not isinstance(tip, str) and tip.to_dict().get("title") == metric:
            tip.title = words(metric)
    return chart.properties(title=f"Candidates by {words(metric)}")


def metric_value(metric: str, value: float) -> str:
    """An error rate in percent (a name with 'error', a value in [0, 1]), else '%g'.

    >>> metric_value("dev_error", 0.173333), metric_value("latency_ms", 12.5)
    ('17.33%', '12.5')
    """
    if "error" in metric.lower() and 0 <= value <= 1:
        return f"{100 * value:.2f}%"
    return f"{value:g}"


def choice_message(selection) -> str:
    """The choice in words, from a ``Selection``'s fields: 'Chosen: trial 1 (dev
    error 17.33%), best of 8 of 12 trials meeting every constraint'. Without a
    choice, the library's own message (which trial fails which constraint)."""
    if selection.chosen is None:
        return selection.message
    row = next(r for r in selection.table if r["name"] == selection.chosen)
    meeting = sum(1 for r in selection.table if r["feasible"] and math.isfinite(r["value"]))
    return (f"Chosen: trial {selection.chosen} ({words(selection.optimize)} "
            f"{metric_value(selection.optimize, row['value'])}), best of {meeting} of "
            f"{len(selection.table)} trials meeting every constraint.")


def metric_columns(result: StudyResult, candidates: pd.DataFrame) -> list[str]:
    """The numeric metrics the trials reported (not params, ids or times), the
    study's optimizing metric first."""
    reported = {k for m in result.trials["metrics"] if isinstance(m, dict) for k in m}
    found = [c for c in candidates.columns if c in reported and c not in result.space
             and pd.api.types.is_numeric_dtype(candidates[c])]
    return sorted(found, key=lambda c: (c != result.metric, found.index(c)))


def trials_shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The trials table with its Unix times as local dates."""
    shown = frame.copy()
    if "finished_at" in shown:
        local = datetime.now().astimezone().tzinfo
        shown["finished_at"] = pd.to_datetime(shown["finished_at"], unit="s",
                                              utc=True).dt.tz_convert(local)
        shown = shown.rename(columns={"finished_at": "finished"})
    return shown


def default_constraints(result: StudyResult, candidates: pd.DataFrame,
                        metrics: list[str]) -> tuple[pd.DataFrame, str]:
    """The constraints the editor starts with, and why: the study's stored ones;
    else a cost metric at its largest value among the trials (the median would
    exclude half of them by construction); else none."""
    if result.satisfice:
        rows = [{"metric": m, "op": op, "threshold": float(t)}
                for m, (op, t) in result.satisfice.items()]
        return (pd.DataFrame(rows), "The constraints start as the study's own (stored "
                "with it by `create_study(..., satisfice=...)` or `mlstrat tune`).")
    cost = next((m for m in COST_METRICS if m in metrics), None)
    if cost is None:
        return (pd.DataFrame({"metric": pd.Series([], dtype="string"),
                              "op": pd.Series([], dtype="string"),
                              "threshold": pd.Series([], dtype="float")}),
                "The study stores no satisficing constraint; add one (metric, op, "
                "threshold) to choose among the trials that meet it.")
    worst = float(candidates[cost].max())
    return (pd.DataFrame({"metric": [cost], "op": ["<="], "threshold": [worst]}),
            f"The study stores no constraint: **{words(cost)}** starts at its largest value "
            f"among the trials ({worst:g}), so no trial is excluded until you type your "
            "real budget (a median would exclude half the trials by construction).")


studies = _studies(path, rev)
if studies.empty:
    st.info("No tuning study in this project yet. Run one with "
            "`mlstrat.tuning.create_study(name, space, project=...).optimize(...)` "
            "or `mlstrat tune`.")
    st.stop()

names = studies["name"].tolist()[::-1]
name = st.selectbox("Study", names, key="study_select")
record, trials = _study(path, rev, name)
stored = (record.get("config") or {}).get("satisfice") or {}
result = StudyResult(name=name, trials=trials, space=record["space"],
                     strategy=record["strategy"], metric=record["metric"],
                     greater_is_better=record["greater_is_better"], project=proj,
                     satisfice={k: (v[0], float(v[1])) for k, v in stored.items()})
st.caption(str(result).splitlines()[0])
if result.n_complete == 0:
    st.info("No trial has finished yet.")
    st.stop()

frame = result.to_frame()
st.subheader("Score against each hyperparameter")
st.altair_chart(result.chart(), key="tuning_chart")
with st.expander(f"Trials ({len(frame):,})", expanded=len(frame) <= 20):
    st.dataframe(trials_shown(frame), hide_index=True, key="trials_table", column_config={
        "finished": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss"),
        "seconds": st.column_config.NumberColumn("seconds", format="%.2f",
                                                 help="the trial's duration")})

# ----------------------------------------------------------------- the choice
st.subheader("The choice: one optimizing metric, the others satisficing")
candidates = result.candidates()
metrics = metric_columns(result, candidates)
if not metrics:
    st.info("The trials reported no numeric metric to choose on.")
    st.stop()
optimize = st.selectbox("Optimizing metric", metrics, index=0, key=f"optimize_{name}",
                        format_func=words)
default, why = default_constraints(result, candidates, metrics)
st.caption(why)
edited = st.data_editor(
    default, num_rows="dynamic", hide_index=True, key=f"constraints_{name}",
    column_config={
        "metric": st.column_config.SelectboxColumn("metric", options=metrics, required=True,
                                                   format_func=words),
        "op": st.column_config.SelectboxColumn("op", options=list(OPERATORS), required=True),
        # '%g' alone prints every digit in the grid ('0.0015675066606490873')
        "threshold": st.column_config.NumberColumn("threshold", required=True,
                                                   format="%.6g"),
    })
satisfice = common.constraints_from_table(edited)
try:
    selection = result.select(optimize, satisfice)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
(st.success if selection.chosen is not None else st.warning)(choice_message(selection))
st.altair_chart(titled(selection.chart(), optimize), key="selection_chart")
if selection.chosen is not None and st.button("Log the chosen trial as a run",
                                              key="log_best_run"):
    try:
        run_id = result.log_best_run(optimize=optimize, satisfice=satisfice)
    except ValueError as exc:
        st.error(str(exc))
    else:
        st.session_state[common.CHOSEN_RUN] = run_id
        st.success(f"Stored as run #{run_id}; see it on the Overview page.")
