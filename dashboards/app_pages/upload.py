"""Upload: a predictions CSV becomes a run (with its diagnosis), no code needed."""

from __future__ import annotations

import hashlib

import streamlit as st
from app_pages import _common as common

from mlstrat._files import check_upload
from mlstrat.predictions import diagnose_frames, is_regression, read_predictions_csv

st.title("Upload predictions")
proj = common.project()
st.markdown(
    "A CSV with one row per example: `split` (train, train_dev, dev, test), `y_true`, "
    "`y_pred`, optional `id` and `proba_<class>` columns. Other columns (features) "
    "are ignored: the store keeps labels, predictions and probabilities. A `train` "
    "split is needed for the diagnosis; `train_dev` separates variance from data "
    "mismatch."
)

uploaded = st.file_uploader("Predictions CSV", type=["csv"], key="predictions_csv")
name = st.text_input("Run name", value="uploaded predictions", key="upload_run_name")
human_pct = st.number_input("Human-level error (%), the Bayes-error proxy", min_value=0.0,
                            max_value=100.0, value=None, step=0.1, key="upload_human",
                            placeholder="unknown")
created = st.session_state.setdefault("uploaded_runs", {})

if uploaded is None:
    st.stop()

data = uploaded.getvalue()
digest = hashlib.sha256(data).hexdigest()
try:
    check_upload(data, uploaded.name)  # the caps, before anything is parsed
    preds = read_predictions_csv(data)
except ValueError as exc:
    st.error(f"`{uploaded.name}` cannot be used: {exc} Nothing was stored.")
    st.stop()

counts = {split: len(frame) for split, frame in preds.items()}
st.write("Rows per split: " + ", ".join(f"{s} {n:,}" for s, n in counts.items()))
human = None if human_pct is None else human_pct / 100
if human is not None and is_regression(preds):
    st.info("These labels are numbers with fractions: a regression, diagnosed in the "
            "target's units. A human level in percent does not apply; it is ignored.")
    human = None
if "train" not in preds:
    st.warning("No `train` rows: the run will be stored without a diagnosis.")

if digest in created:
    st.info(f"This file is already stored as run #{created[digest]}.")
if st.button("Create the run", type="primary", key="upload_create"):
    if not name.strip():
        st.error("Give the run a name.")
        st.stop()
    try:
        with st.spinner(f"Storing {sum(counts.values()):,} predictions..."):
            diagnosis = diagnose_frames(preds, human)
            units = {} if diagnosis is None or diagnosis.is_rate else {
                "metric": diagnosis.metric,
                "errors": {s: diagnosis.rates[s] for s in preds if diagnosis.rates.get(s)
                           is not None}}
            run_id = proj.log_run(name.strip(), config={"source": uploaded.name},
                                  human_error=human, diagnosis=diagnosis, predictions=preds,
                                  **units)
    except ValueError as exc:
        st.error(f"The run was not stored: {exc}")
        st.stop()
    created[digest] = run_id
    st.session_state[common.CHOSEN_RUN] = run_id
    st.success(f"Stored as run #{run_id} '{name.strip()}'.")
    if diagnosis is not None:
        common.show_diagnosis(diagnosis, key="upload_ladder")
