"""Training: loss and error per epoch, the early-stopping point, learning curves.

A run logged with ``mlstrat.start_run`` is *running* until its block ends: the
page then re-reads the store every few seconds and follows it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat import charts
from mlstrat.curves import LearningCurve, early_stopping_epoch
from mlstrat.diagnosis import RUNG_LABELS

#: seconds between two reads of the store while the shown run is running
FOLLOW_EVERY = 2.0
#: newest runs looked at for the default run (one with a history and a learning curve)
SCAN = 50
#: the trainer's ``history_`` columns (``mlstrat.nn``): column -> (is validation, metric)
TRAINER_COLUMNS = {"loss": (False, "loss"), "error": (False, "error"),
                   "val_loss": (True, "loss"), "val_error": (True, "error")}


@st.cache_data(show_spinner=False, max_entries=16)
def _default_run(path: str, rev: int) -> int | None:
    """The newest run with a per-epoch history and a learning curve, else the
    newest with a history, else None (the newest run is then shown)."""
    project = common._open(path)
    with_history = None
    for run_id in project.runs()["id"].astype(int).tolist()[::-1][:SCAN]:
        if project.run_history(run_id).empty:
            continue
        if project.get_run(run_id).config.get("learning_curve"):
            return run_id
        with_history = with_history or run_id
    return with_history


def validation_source(run, history: pd.DataFrame, best: int | None) -> tuple[str, str]:
    """(short label, sentence) for the trainer's ``val_*`` history columns: the
    set early stopping watched, from the run's config when it says so.

    ``config['validation']`` names it ('train_dev', 'dev' or any text); a
    baseline run records its early-stopping carve of train; otherwise a
    validation error equal to the run's stored train-dev (or dev) error at the
    kept epoch identifies that set. Else it is only known to be the
    ``validation_data`` passed to ``fit`` (or the trainer's own carve of train).
    """
    config = run.config or {}
    named = config.get("validation")
    if isinstance(named, str) and named.strip():
        label = RUNG_LABELS.get(named.strip(), named.strip())
        return label, f"**{label}**: the validation set this run's config names."
    carve = (config.get("baseline") or {}).get("early_stopping") or {}
    if carve.get("source") == "train":
        rows = f"{int(carve['rows']):,} " if carve.get("rows") else ""
        share = f" ({float(carve['fraction']):.0%} of train)" if carve.get("fraction") else ""
        return ("early-stopping carve",
                f"**early-stopping carve**: {rows}training rows{share} set aside at random "
                "and never trained on; neither train-dev nor dev.")
    matched = _matching_split(run, history, best)
    if matched == "train_dev":
        return ("train-dev", "**train-dev**: the validation error at the kept epoch equals "
                "this run's stored train-dev error, so `validation_data` was the train-dev set.")
    if matched == "dev":
        return ("dev", "**dev**: the validation error at the kept epoch equals this run's "
                "dev error, so early stopping chose the epoch on dev: the dev error is "
                "then optimistic (use test, or stop on a carve of train).")
    if config.get("early_stopping") and config.get("validation_fraction"):
        return ("validation", "**validation**: the set passed to `fit(validation_data=...)`, "
                f"or without one the trainer's own {float(config['validation_fraction']):.0%} "
                "carve of train; the run does not record which. Log "
                "`config['validation']` to name it.")
    return ("validation", "**validation**: the set passed to `fit(validation_data=...)`; the "
            "run does not record which one. Log `config['validation']` (e.g. 'train_dev') "
            "to name it.")


def _matching_split(run, history: pd.DataFrame, best: int | None) -> str | None:
    if "val_error" not in history or history["val_error"].isna().all():
        return None
    row = history.loc[history["epoch"] == best] if best is not None else history.tail(1)
    if row.empty:
        return None
    value = float(row["val_error"].iloc[0])
    for split in ("train_dev", "dev"):
        stored = run.errors.get(split)
        if stored is not None and abs(float(stored) - value) < 1e-9:
            return split
    return None


def labelled_history(history: pd.DataFrame, validation: str) -> pd.DataFrame:
    """The trainer's history in long form (epoch, split, metric, value) with its
    ``val_*`` columns under ``validation``; a history whose columns already name
    their split (``train_loss``, ``dev_error``...) is returned unchanged."""
    present = [c for c in TRAINER_COLUMNS if c in history.columns]
    if not present:
        return history
    long = history.melt(id_vars=["epoch"], value_vars=present, var_name="column",
                        value_name="value").dropna(subset=["value"])
    long["split"] = [validation if TRAINER_COLUMNS[c][0] else "train" for c in long["column"]]
    long["metric"] = [TRAINER_COLUMNS[c][1] for c in long["column"]]
    return long[["epoch", "split", "metric", "value"]]


def _show_history(path: str, run_id: int) -> None:
    """Metrics and chart of the run's history, read at the store's current revision."""
    rev = common.revision()
    run = common.run_record(path, rev, run_id)
    history = common.run_history(path, rev, run_id)
    if st.session_state.get("training_was_running") and run.status != "running":
        st.session_state["training_was_running"] = False
        st.rerun(scope="app")  # finished or failed: show the whole page once
    if run.status == "running":
        st.info(f"Run #{run.id} '{run.name}' is **running**: this page re-reads the store "
                f"every {FOLLOW_EVERY:g} s ({len(history)} epochs logged so far).",
                icon=":material/sync:")
    elif run.status == "failed":
        st.error(f"Run #{run.id} '{run.name}' failed: {run.notes or 'no message stored'}")
    if history.empty:
        st.info(f"Run #{run.id} '{run.name}' has no per-epoch history"
                + (" yet." if run.status == "running" else ". Log it with "
                   "`project.log_run(..., history=model.history_)`."))
        return
    best = run.config.get("best_epoch") or early_stopping_epoch(history)
    short, sentence = validation_source(run, history, best)
    cols = st.columns(3)
    cols[0].metric("Epochs trained", len(history))
    if best is not None:
        row = history.loc[history["epoch"] == best]
        cols[1].metric("Early-stopping point (best epoch)", f"epoch {best}")
        if "val_error" in history and not row.empty:
            cols[2].metric(f"{short[:1].upper() + short[1:]} error there",
                           common.pct(row["val_error"].iloc[0]))
    st.altair_chart(charts.history_chart(labelled_history(history, short), best_epoch=best),
                    key="history_chart")
    if any(c in history.columns for c in ("val_loss", "val_error")):
        st.caption(f"train = the rows the model was fitted on; {sentence}")


st.title("Training")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)
runs = common.runs_table(path, rev)
if runs.empty:
    common.no_runs_notice()
running = runs.loc[runs["status"] == "running"]
run_id = common.choose_run(runs, page="training", default=_default_run(path, rev))
is_running = run_id in set(running["id"].astype(int))
others = running.loc[running["id"].astype(int) != run_id]
if not others.empty:
    listed = ", ".join(f"#{int(i)} '{n}'" for i, n in zip(others["id"], others["name"],
                                                            strict=True))
    st.info(f"Running now: {listed}. Choose it above to follow it as it trains.")

st.subheader("Loss and error per epoch")
st.session_state["training_was_running"] = is_running
st.fragment(run_every=FOLLOW_EVERY if is_running else None)(_show_history)(path, run_id)
run = common.run_record(path, rev, run_id)


def _default_target(curve: LearningCurve) -> float:
    """A target below the current dev error: halfway down to the floor's lower bound (in %)."""
    current = 100 * curve.dev_error[-1]
    floor = 100 * max(getattr(curve.fit, "c_lower", curve.fit.c), 0.0)
    target = (current + floor) / 2 if current > floor else 0.9 * current
    return float(min(99.0, max(0.1, round(target, 1))))


def _evaluated_on(curve: LearningCurve, run) -> str:
    """Which of the run's sets the curve's 'dev' points are measured on, when the sizes say."""
    same = [RUNG_LABELS.get(s, s) for s in ("dev", "train_dev", "test")
            if run.sizes.get(s) == curve.n_dev]
    where = f"the same size as this run's {' or '.join(same)} set" if same else \
        "not the size of any of this run's sets"
    return (f"'dev' on this curve is the evaluation set given to `learning_curve` "
            f"({curve.n_dev:,} examples, {where}); 'train' is the subset trained on at each size.")


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
st.caption(_evaluated_on(curve, run))
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
