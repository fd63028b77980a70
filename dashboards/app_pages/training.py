"""Training: loss and error per epoch, the early-stopping point, learning curves."""

from __future__ import annotations

import streamlit as st
from app_pages import _common as common

from mlstrat import charts
from mlstrat.curves import LearningCurve, early_stopping_epoch

st.title("Training")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)
runs = common.runs_table(path, rev)
if runs.empty:
    common.no_runs_notice()
run_id = common.choose_run(runs, page="training")
run = common.run_record(path, rev, run_id)
history = common.run_history(path, rev, run_id)

st.subheader("Loss and error per epoch")
if history.empty:
    st.info(f"Run #{run.id} '{run.name}' has no per-epoch history. Log it with "
            "`project.log_run(..., history=model.history_)`.")
else:
    best = run.config.get("best_epoch") or early_stopping_epoch(history)
    cols = st.columns(3)
    cols[0].metric("Epochs trained", len(history))
    if best is not None:
        row = history.loc[history["epoch"] == best]
        cols[1].metric("Early-stopping point (best epoch)", f"epoch {best}")
        if "val_error" in history and not row.empty:
            cols[2].metric("Validation error there", common.pct(row["val_error"].iloc[0]))
    st.altair_chart(charts.history_chart(history, best_epoch=best),
                    key="history_chart")
    st.caption("dev = the validation set passed to fit (`validation_data`); the demo "
               "passes its train-dev set.")

def _default_target(curve: LearningCurve) -> float:
    """A target below the current dev error: halfway down to the floor's lower bound (in %)."""
    current = 100 * curve.dev_error[-1]
    floor = 100 * max(getattr(curve.fit, "c_lower", curve.fit.c), 0.0)
    target = (current + floor) / 2 if current > floor else 0.9 * current
    return float(min(99.0, max(0.1, round(target, 1))))


st.subheader("Learning curve")
stored = run.config.get("learning_curve")
if not stored:
    st.info("No learning curve is stored with this run. Compute one with "
            "`mlstrat.curves.learning_curve(model, (X_train, y_train), (X_dev, y_dev))` "
            "and log its `to_dict()` as `config['learning_curve']`.")
    st.stop()
try:
    curve = LearningCurve.from_dict(stored)
except (TypeError, ValueError, KeyError) as exc:
    st.error(f"The stored learning curve cannot be read: {exc}")
    st.stop()
st.altair_chart(curve.chart(), key="learning_curve_chart")
if curve.fit is not None:
    f = curve.fit
    st.markdown(f"Power-law fit: dev error = {f.a:.3g} x m^-{f.b:.3f} + **{common.pct(f.c)}**. "
                f"{f.describe_floor()}")
    target = st.number_input("Target dev error (%)", min_value=0.1, max_value=99.0,
                             value=_default_target(curve), step=0.5, key="lc_target",
                             help="By default halfway between the current dev error and "
                                  "the floor's lower bound: below where the curve is now.")
    st.markdown(f"**Data needed:** {curve.data_needed(target / 100).message}")
for note in curve.notes:
    st.markdown(f"- {note}")
