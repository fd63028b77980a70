"""First system, quickly: a data file -> baselines -> runs, a diagnosis and an
error-analysis session in the open project (``mlstrat.baseline.baseline``)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import _common as common
from mlstrat.baseline import ROLES, ProgressEvent, baseline, infer_roles, read_table

#: largest upload read (the server's own limit is larger)
MAX_MB = 100  # as .streamlit/config.toml server.maxUploadSize and the Upload page
SUFFIXES = ["csv", "tsv", "parquet", "xlsx"]
RESULT = "first_system_result"
NONE = "(none)"
TASKS = ("auto", "classification", "regression")

st.title("First system")
proj = common.project()
st.markdown(
    "Build your first system quickly: upload a table, check what each column is for, "
    "choose the column to predict and press **Build**. mlstrat splits the rows (train, "
    "train-dev, dev, test), trains a ladder of baselines (trivial, linear, networks), "
    "stores each as a run in this project, diagnoses the best and opens an "
    "error-analysis session on its dev errors. Change one thing and build again: the "
    "new best is compared with the previous one on the same dev examples."
)


# ----------------------------------------------------------------- reading
@st.cache_data(show_spinner=False, max_entries=4)
def _read(digest: str, suffix: str, _data: bytes) -> tuple[pd.DataFrame | None, str | None]:
    """The uploaded bytes parsed by the library's reader (keyed on their digest)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(_data)
        try:
            return read_table(path), None
        except (ValueError, FileNotFoundError) as exc:
            return None, str(exc).replace(repr(str(path)), "the file")


def _default_target(columns: list[str]) -> int:
    lowered = [c.lower() for c in columns]
    for name in ("target", "label", "y", "class", "outcome"):
        if name in lowered:
            return lowered.index(name)
    return len(columns) - 1


def _optional(value):
    return None if value in (None, NONE, "") else value


# ----------------------------------------------------------------- the report
def _show_result(result) -> None:
    best = result.best
    st.divider()
    st.header(f"Iteration {result.iteration}")
    st.success(f"{len(result.runs)} runs stored (#{result.runs[0]}-#{result.runs[-1]}); "
               f"best on dev {result.metric}: **{best.name}** (run #{best.run_id}).")
    st.caption(f"{result.n_rows:,} rows; splits ({result.split_rule}): " + ", ".join(
        f"{k} {v:,}" for k, v in result.split_sizes.items()))
    frame = result.to_frame()
    st.dataframe(frame, hide_index=True, key="fs_runs_table",
                 column_config=common.pct_columns(frame, common.RUNG_ORDER))

    diagnosis = result.diagnosis
    common.show_diagnosis(diagnosis, key="fs_ladder_chart")

    st.subheader("Error slices")
    if result.slices is None:
        st.caption("No error-analysis session (regression, or no dev errors).")
    else:
        st.markdown(result.slices.statement)
        top = result.slices.to_frame().head(5)
        if not top.empty:
            st.dataframe(top, hide_index=True, key="fs_slices",
                         column_config=common.pct_columns(
                             top, ["error_rate", "rate_low", "rate_high", "share_of_errors"]))
    if result.session is not None:
        st.page_link("app_pages/error_analysis.py", icon=":material/fact_check:",
                     label=f"Review the dev errors: session #{result.session.id} on the "
                           "Error analysis page")

    st.subheader("Against the previous iteration")
    comparison = result.comparison
    if comparison is None:
        st.markdown("First iteration in this project: change one thing (network, l2, "
                    "dropout, data) and build again to measure it against this one.")
    else:
        st.markdown(f"Run #{comparison.run_b} against run #{comparison.run_a} (the previous "
                    f"best): {comparison.message}")
        table = comparison.to_frame()
        st.dataframe(table, hide_index=True, key="fs_comparison",
                     column_config=common.pct_columns(table, ["a", "b", "change"]))
    if result.notes:
        with st.expander("Notes"):
            for note in result.notes:
                st.markdown(f"- {note}")
    with st.expander("Report as text"):
        st.code(str(result), language=None)


# ----------------------------------------------------------------- inputs
uploaded = st.file_uploader(f"Data file (CSV, TSV, Parquet or XLSX; up to {MAX_MB} MB)",
                            type=SUFFIXES, key="first_system_file")
previous = st.session_state.get(RESULT)
if previous is not None and previous["project"] != str(proj.folder):
    previous = None  # built in another project
if uploaded is None:
    if previous is not None:
        _show_result(previous["result"])
    st.stop()

if uploaded.size > MAX_MB * 2 ** 20:
    st.error(f"`{uploaded.name}` is {uploaded.size / 2 ** 20:.0f} MB: the limit here is "
             f"{MAX_MB} MB. Use `mlstrat baseline FILE --target COLUMN` from the shell for "
             "bigger files.")
    st.stop()
data = uploaded.getvalue()
digest = hashlib.sha256(data).hexdigest()
frame, problem = _read(digest, Path(uploaded.name).suffix.lower(), data)
if problem is not None:
    st.error(f"`{uploaded.name}` cannot be used: {problem} Nothing was stored.")
    st.stop()
if frame.shape[1] < 2:
    st.error(f"`{uploaded.name}` has a single column ({frame.columns[0]!r}): a target and "
             "at least one feature column are needed. Nothing was stored.")
    st.stop()

st.caption(f"`{uploaded.name}`: {len(frame):,} rows, {frame.shape[1]} columns")
with st.expander("First rows"):
    st.dataframe(frame.head(20), key="fs_head")

columns = [str(c) for c in frame.columns]
c1, c2 = st.columns(2)
target = c1.selectbox("Target (the column to predict)", columns,
                      index=_default_target(columns), key="fs_target")
task = c2.selectbox("Task", TASKS, key="fs_task",
                    help="auto: regression for a numeric target with many distinct values")
others = [c for c in columns if c != target]
d1, d2, d3 = st.columns(3)
domain_col = _optional(d1.selectbox(
    "Domain column (optional)", [NONE] + others, key="fs_domain_col",
    help="The column naming the distribution you care about: dev and test come only "
         "from its rows with the value chosen next; the other rows may go to training."))
domain_value = None
if domain_col is not None:
    values = [str(v) for v in pd.unique(frame[domain_col].dropna())[:200]]
    domain_value = d2.selectbox("Domain value (the rows you care about)", values,
                                key="fs_domain_value", accept_new_options=True)
group_col = _optional(d3.selectbox(
    "Group column (optional)", [NONE] + [c for c in others if c != domain_col],
    key="fs_group", help="Rows of a group (patient, speaker) never span two splits."))

# ----------------------------------------------------------------- column roles
reserved = {}
if domain_col is not None:
    reserved[domain_col] = ("drop", "names the distribution (domain): chooses the dev/test "
                                    "rows, not a feature")
if group_col is not None:
    reserved[group_col] = ("id", "groups for the splits: kept out of the features")
try:
    plan = infer_roles(frame, target=target, reserved=reserved)
except ValueError as exc:
    st.error(f"The columns cannot be used: {exc}")
    st.stop()
st.subheader("Column roles")
st.caption("Inferred from the values, with the reason. Change a role in the **role** "
           "column: " + "; ".join(f"**{r}** {what}" for r, what in ROLES.items()) + ".")
inferred = plan.to_frame()[["name", "role", "reason", "dtype", "n_missing", "n_unique"]]
edited = st.data_editor(
    inferred, hide_index=True, num_rows="fixed", width="stretch",
    key=f"fs_roles_{digest[:12]}_{target}_{domain_col}_{group_col}",
    disabled=["name", "reason", "dtype", "n_missing", "n_unique"],
    column_config={"role": st.column_config.SelectboxColumn(
        "role", options=list(ROLES), required=True)})
overrides = {str(name): str(role) for name, role, before in
             zip(inferred["name"], edited["role"], inferred["role"])
             if role is not None and role != before}
if overrides:
    st.caption("Your changes: " + ", ".join(f"{k} -> {v}" for k, v in overrides.items()))

# ----------------------------------------------------------------- options
h1, h2, h3 = st.columns(3)
human_pct = h1.number_input("Human-level error (%), optional", min_value=0.0, max_value=100.0,
                            value=None, step=0.1, key="fs_human", placeholder="unknown",
                            help="The proxy for Bayes error: avoidable bias is measured "
                                 "against it.")
max_epochs = h2.number_input("Epochs at most (early stopping on dev)", min_value=1,
                             max_value=1000, value=100, key="fs_epochs")
n_review = h3.number_input("Dev errors to sample for review", min_value=1, value=100,
                           key="fs_review")
with st.expander("Network changes for this iteration (optional)"):
    n1, n2, n3 = st.columns(3)
    hidden = n1.text_input("Hidden layer sizes", key="fs_hidden", placeholder="e.g. 256,128",
                           help="One network of this shape instead of the small and "
                                "medium networks.").strip()
    l2 = n2.number_input("L2 (lambda)", min_value=0.0, value=None, step=1e-4, format="%.5f",
                         key="fs_l2", placeholder="none")
    dropout = n3.number_input("Dropout probability", min_value=0.0, max_value=0.95,
                              value=None, step=0.05, key="fs_dropout", placeholder="none")

if not st.button("Build", type="primary", key="fs_build"):
    if previous is not None:
        _show_result(previous["result"])
    st.stop()

# ----------------------------------------------------------------- build
with st.status("Building the baselines...", expanded=True) as status:
    bar = st.progress(0.0, text="starting")

    def _progress(event: ProgressEvent) -> None:
        bar.progress(event.fraction, text=event.message.strip())
        if event.stage not in ("epoch", "done"):
            st.write(f"{event.elapsed:5.1f}s  {event.message.strip()}")

    try:
        result = baseline(
            frame, target, task=None if task == "auto" else task,
            domain=None if domain_col is None else (domain_col, domain_value),
            group=group_col, human_error=None if human_pct is None else human_pct / 100,
            project=proj, hidden=hidden or None, l2=l2, dropout=dropout,
            roles=overrides or None, max_epochs=int(max_epochs), n_review=int(n_review),
            progress=_progress)
    except (ValueError, TypeError, KeyError) as exc:
        status.update(label="Nothing was built", state="error", expanded=False)
        st.error(f"Nothing was built or stored: {str(exc).strip(chr(39))}")
        st.stop()
    status.update(label=f"Built in {sum(result.timings.values()):.1f}s", state="complete",
                  expanded=False)

common.clear_caches()  # new runs and a new session: the other pages read them afresh
st.session_state[RESULT] = {"project": str(proj.folder), "result": result}
st.session_state[common.CHOSEN_RUN] = result.best.run_id
if result.session is not None:
    st.session_state["error_session"] = int(result.session.id)
_show_result(result)
