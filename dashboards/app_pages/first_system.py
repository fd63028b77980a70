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
#: how the rungs are measured -> words on the form (``baseline(resampling=...)``)
RESAMPLING = {"auto": "auto (K-fold when the dev set is too small)",
              "split": "one split", "kfold": "K-fold (repeated, out-of-fold)"}

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
    _show_measurement(result)
    st.dataframe(_models_frame(result), hide_index=True, key="fs_runs_table",
                 width="stretch")

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
        st.dataframe(_comparison_frame(comparison), hide_index=True, key="fs_comparison")
    if result.notes:
        with st.expander("Notes"):
            for note in result.notes:
                st.markdown(f"- {note}")
    with st.expander("Report as text"):
        st.code(str(result), language=None)


def _rung(diagnosis, name: str):
    return next((r for r in diagnosis.rungs if r.name == name), None)


def _models_frame(result) -> pd.DataFrame:
    """One row per model: its rungs in the ladder's units, the outcome in words."""
    rows = []
    for m in result.models:
        d = m.diagnosis
        row = {"model": m.name, "run": m.run_id, "chosen on dev": "yes" if m.chosen else ""}
        for split in ("train", "train_dev", "dev", "test"):
            rung = _rung(d, split)
            value = rung.rate if rung is not None else m.errors.get(split)
            row[common.RUNG_LABELS[split]] = "-" if value is None else d.format_value(value)
        row[f"dev {result.metric}"] = f"{m.score:.4g}"
        row["outcome"] = d.problem if d.status == "problem" else common.STATUSES[d.status]
        row["epochs"] = m.epochs or "-"
        row["seconds"] = round(m.seconds, 1)
        rows.append(row)
    return pd.DataFrame(rows)


def _comparison_frame(comparison) -> pd.DataFrame:
    """The comparison's rungs and gaps in the ladders' units, with the direction."""
    arrows = {"down": "↓", "up": "↑", "same": "=", None: ""}
    rows = []
    for kind, items, value in (("rung", comparison.rungs, comparison.format_value),
                               ("gap", comparison.gaps, comparison.format_change)):
        for r in items:
            rows.append({"": kind, "label": r["label"], "A": value(r["a"]),
                         "B": value(r["b"]),
                         "B - A": f"{comparison.format_change(r['change'])} "
                                  f"{arrows[r.get('direction')]}".strip(),
                         "moved?": r.get("moved") or ""})
    return pd.DataFrame(rows)


def _show_measurement(result) -> None:
    """How the numbers were measured: early stopping, the choice on dev, the unbiased
    test figure, one split or K-fold."""
    d = result.diagnosis
    es, sel, res = result.early_stopping, result.selection, result.resampling
    lines = []
    if es:
        rows = (f"{es.get('fraction', 0.1):.0%} of each fit's training rows" if es.get("per_fit")
                else f"{es.get('rows', 0):,} training rows ({es.get('fraction', 0.1):.0%} of "
                     "train)")
        lines.append(f"**Early stopping** on {rows}, carved at random and never trained on; "
                     "dev is never used while fitting.")
    n = sel.get("n_models", len(result.models))
    dev_rung, test_rung = _rung(d, "dev"), _rung(d, "test")
    dev_words = "out-of-fold dev" if res.get("method") == "kfold" else "dev"
    if dev_rung is not None:
        what = "error" if d.is_rate else d.metric
        lines.append(f"**Chosen on {dev_words} among {n} models**: {result.best.name}. Its "
                     f"dev {what} {d.format_value(dev_rung.rate)} is biased low by that "
                     "choice.")
    if test_rung is not None:
        interval = ("" if test_rung.low is None else
                    f" [{d.format_value(test_rung.low)}, {d.format_value(test_rung.high)}]")
        size = f" on {test_rung.n:,} examples" if test_rung.n else ""
        lines.append(f"**Test {d.format_value(test_rung.rate)}**{interval} "
                     f"({d.confidence:.0%} interval){size}: used for no choice and no "
                     "fitting, it is the unbiased figure of the chosen model.")
    lines.append(_resampling_line(result))
    st.info("\n\n".join(line for line in lines if line))


def _resampling_line(result) -> str:
    res, d = result.resampling, result.diagnosis
    half = res.get("split_dev_half_width") if d.is_rate else None  # a rate's half-width
    if res.get("method") != "kfold":
        reason = res.get("reason", "")
        return f"**Rungs from one split**{': ' + reason if reason else ''}."
    dev = _rung(d, "dev")
    text = (f"**Rungs from {res.get('n_splits')}-fold x {res.get('n_repeats')} repeated "
            f"out-of-fold predictions**, not one split: {res.get('reason', '')}.")
    if dev is not None and dev.low is not None:
        width = (dev.high - dev.low) / 2
        shown = f"{100 * width:.2f} pt" if d.is_rate else f"{width:.4g}"
        was = "" if half is None else f", against +-{100 * half:.2f} pt from one split"
        text += (f" Dev {d.format_value(dev.rate)} [{d.format_value(dev.low)}, "
                 f"{d.format_value(dev.high)}] on {dev.n:,} examples: +-{shown}{was}.")
    return text


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
             zip(inferred["name"], edited["role"], inferred["role"], strict=True)
             if role is not None and role != before}
if overrides:
    st.caption("Your changes: " + ", ".join(f"{k} -> {v}" for k, v in overrides.items()))

# ----------------------------------------------------------------- options
h1, h2, h3, h4 = st.columns(4)
human_pct = h1.number_input("Human-level error (%), optional", min_value=0.0, max_value=100.0,
                            value=None, step=0.1, key="fs_human", placeholder="unknown",
                            help="The proxy for Bayes error: avoidable bias is measured "
                                 "against it.")
max_epochs = h2.number_input("Epochs at most (early stopping on a carve of train)",
                             min_value=1, max_value=1000, value=100, key="fs_epochs",
                             help="The networks stop on 10% of the training rows kept out "
                                  "of fitting; dev is never used while fitting.")
n_review = h3.number_input("Dev errors to sample for review", min_value=1, value=100,
                           key="fs_review")
resampling = h4.selectbox(
    "Rungs measured by", list(RESAMPLING), format_func=RESAMPLING.get, key="fs_resampling",
    help="One split (train, train-dev, dev, test), or repeated stratified K-fold "
         "out-of-fold predictions, which give narrower intervals on small data. auto: "
         "K-fold when one dev set cannot resolve a few points.")
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
            resampling=resampling, progress=_progress)
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
