"""First system, quickly: a data file -> baselines -> runs, a diagnosis and an
error-analysis session (``mlstrat.first_system.baseline``), in a project of that data's
own: a new one named after the file (``project_for``), or one made from the same
data. Never silently in whatever project is open."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat._files import MAX_UPLOAD_BYTES, check_upload
from mlstrat.first_system import (
    ROLES,
    DataCheckError,
    DatasetMismatchError,
    ProgressEvent,
    baseline,
    fingerprint,
    infer_roles,
    new_project_folder,
    project_dataset,
    projects_of_data,
    read_table,
    suggest_target,
)

#: largest upload read (``mlstrat._files.check_upload``; the server's own limit is larger)
MAX_MB = MAX_UPLOAD_BYTES // 2 ** 20
SUFFIXES = ["csv", "tsv", "parquet", "xlsx"]
RESULT = "first_system_result"
NONE = "(none)"
TASKS = ("auto", "classification", "regression")
#: how the rungs are measured -> words on the form (``baseline(resampling=...)``)
RESAMPLING = {"auto": "auto (K-fold when the dev set is too small)",
              "split": "one split", "kfold": "K-fold (repeated, out-of-fold)"}
#: the train-dev choice -> ``baseline(train_dev=...)`` and its words on the form
TRAIN_DEV = {"auto": ("auto", "auto: only with a domain column"),
             "yes": (True, "yes: carve one from the training rows"),
             "no": (False, "no")}
#: where the runs go: the option of a folder typed in
OTHER = "other"

st.title("First system")
proj = common.project()
st.markdown(
    "Build your first system quickly: upload a table, check what each column is for, "
    "choose the column to predict and press **Build**. mlstrat splits the rows (train, "
    "train-dev, dev, test), trains a ladder of baselines (trivial, linear, networks), "
    "stores each as a run in a project of this data's own (a new one named after "
    "the file, or one already made from the same data), diagnoses the best and opens an "
    "error-analysis session on its dev errors. Change one thing and build again: the "
    "new best is compared with the previous one on the same dev examples."
)


# ----------------------------------------------------------------- reading
@st.cache_data(show_spinner=False, max_entries=4)
def _read(digest: str, name: str, _data: bytes) -> tuple[pd.DataFrame | None, str | None]:
    """The uploaded bytes parsed by the library's reader (keyed on their digest).

    The caps of ``check_upload`` come first, before anything is written; the
    temporary file is named after the user's file and its folder never appears
    in a message."""
    try:
        check_upload(_data, name)
    except ValueError as exc:
        return None, str(exc)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{Path(name).suffix.lower()}"
        path.write_bytes(_data)
        try:
            return read_table(path), None
        except (ValueError, FileNotFoundError) as exc:
            return None, _without_temp(str(exc), path, name)


def _without_temp(message: str, path: Path, name: str) -> str:
    """A reader's message naming the user's file instead of the server's temp path."""
    for shown in (repr(str(path)), str(path), repr(str(path.parent)), str(path.parent)):
        message = message.replace(shown, repr(name) if shown.startswith("'") else name)
    return message


def _for_the_page(exc: DatasetMismatchError, file_name: str) -> str:
    """A refusal with the page's ways out instead of the command's."""
    message = str(exc).replace("Pass allow_new_data=True (--allow-new-data)",
                               "Tick 'This file is a new version' below the destination")
    if not exc.advice:
        return message
    return message.replace(exc.advice, f"Store the runs of `{file_name}` in a new project "
                                       "(under **Where the runs go**).")


def _optional(value):
    return None if value in (None, NONE, "") else value


@st.cache_data(show_spinner=False, max_entries=8)
def _data_sha(digest: str, _frame: pd.DataFrame) -> str:
    """The data part of the fingerprint every run stores (``fingerprint``)."""
    return fingerprint(_frame, str(_frame.columns[0]))["sha256"]


def _new_file(digest: str) -> None:
    """A new upload: forget the choices made for the previous file."""
    if st.session_state.get("fs_digest") != digest:
        for key in [k for k in st.session_state if str(k).startswith("fs_")]:
            del st.session_state[key]
        st.session_state["fs_digest"] = digest


# ----------------------------------------------------------------- where the runs go
def _store_state(folder: Path) -> tuple:
    """What changes when a project's store is written (cache key of the scan)."""
    out = []
    for name in (common.STORE_FILE, f"{common.STORE_FILE}-wal"):
        f = folder / name
        out.append(f.stat().st_mtime_ns if f.exists() else 0)
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=256)
def _project_data(folder: str, state: tuple) -> tuple[int, dict | None]:
    """``project_dataset`` of a folder, read again when its store is written."""
    return project_dataset(folder)


def _read_project(folder: Path) -> tuple[int, dict | None]:
    return _project_data(str(folder), _store_state(folder))


def _destinations(open_folder: Path, sha: str, target: str, file_name: str) -> dict[str, str]:
    """Where the runs may go, folder -> words: the projects made from this data (same
    rows, same target: ``projects_of_data``, the one named after the file first), a
    new project named after the file (the default when none is), the open project
    when it is empty, or a folder typed in."""
    data = {"sha256": sha, "target": target, "name": file_name}
    same = {str(folder): f"`{folder.name}`: made from this data ({n_runs} runs; the new "
                         "best is compared with its previous best)"
            for folder, n_runs in projects_of_data(open_folder, data, read=_read_project)}
    new = new_project_folder(open_folder.parent, file_name)
    empty = {} if str(open_folder) in same or _read_project(open_folder)[0] != 0 else {
        str(open_folder): f"`{open_folder.name}`: the open project (empty)"}
    return {**same, str(new): f"a new project named after the file: `{new}`", **empty,
            OTHER: "another project folder..."}


def _choose_destination(open_folder: Path, sha: str, target: str,
                        file_name: str) -> Path | None:
    """The radio of destinations (values are folders, so a project just built stays
    chosen for the next iteration); None until a typed-in folder is given."""
    options = _destinations(open_folder, sha, target, file_name)
    if st.session_state.get("fs_dest") not in options:
        st.session_state.pop("fs_dest", None)  # e.g. the new folder now exists
    choice = st.radio("Store the runs in", list(options), index=0, format_func=options.get,
                      key="fs_dest",
                      help="One project per dataset: runs of other data in the same "
                           "project would be compared with these. A project that holds "
                           "runs of another dataset refuses them, and nothing is stored.")
    if choice == OTHER:
        typed = st.text_input("Project folder", key="fs_dest_other",
                              placeholder=str(next(iter(options)))).strip()
        return Path(typed).expanduser() if typed else None
    return Path(choice)


def _open_project(folder: str, run_id: int, session_id: int | None) -> None:
    """Button callback: open ``folder`` in the dashboard (before the sidebar is drawn)."""
    st.session_state[common.PATH_KEY] = folder
    st.session_state[common.CHOSEN_RUN] = run_id
    if session_id is not None:
        st.session_state["error_session"] = session_id


# ----------------------------------------------------------------- the report
def summary_text(result) -> str:
    """The outcome of a build in a few lines: where the runs went, the best model and
    its dev figure in the ladder's units, and what the diagnosis decides."""
    best, folder = result.best, Path(result.project_folder)
    return (f"**Iteration {result.iteration}: {len(result.runs)} runs stored** "
            f"(#{result.runs[0]}-#{result.runs[-1]}) in project `{folder.name}`."
            f"\n\nBest on dev: **{best.name}** (run #{best.run_id}), "
            f"{_dev_figure(result)}. **{common.status_title(result.diagnosis)}.** "
            "The details follow below.")


def _dev_figure(result) -> str:
    """'dev error 12.50%' or 'dev RMSE 51.86': the best model's dev rung as the ladder
    shows it."""
    d = result.diagnosis
    dev = _rung(d, "dev")
    value = dev.rate if dev is not None else result.best.errors.get("dev")
    return f"dev {'error' if d.is_rate else d.metric} {d.format_value(value)}"


def _show_summary(result, open_folder: Path, summary, beside) -> None:
    """The outcome right under the Build button (no scrolling to see that it worked),
    and beside it the button that opens the project when it is not the open one."""
    folder = Path(result.project_folder)
    summary.success(summary_text(result), icon=":material/check_circle:")
    if folder.resolve() != open_folder.resolve():
        beside.button(f"Open project {folder.name} in the dashboard", type="primary",
                  key="fs_open_built", on_click=_open_project,
                  args=(str(folder), result.best.run_id,
                        None if result.session is None else int(result.session.id)),
                  help="The other pages (Overview, Compare, Error analysis) show the "
                       "open project: open this one to see its runs there.")


def _show_result(result, open_folder: Path, summary=None, beside=None) -> None:
    """The summary in the ``summary`` container (under the Build button) with the
    Open button in ``beside`` (next to Build), then the whole report."""
    folder = Path(result.project_folder)
    is_open = folder.resolve() == open_folder.resolve()
    _show_summary(result, open_folder, summary or st.container(), beside or st.container())
    st.divider()
    st.header(f"Iteration {result.iteration}")
    st.caption(f"Runs #{result.runs[0]}-#{result.runs[-1]} in project `{folder.name}` "
               f"(`{folder}`).")
    st.caption(f"{result.n_rows:,} rows; splits ({result.split_rule}): " + ", ".join(
        f"{k} {v:,}" for k, v in result.split_sizes.items()))
    _show_checks(result)
    _show_measurement(result)
    d = result.diagnosis
    st.caption("One row per model; the rungs are "
               + ("error rates" if d.is_rate else f"the {d.metric} in the target's units")
               + f"; the model is chosen on the dev {_metric_words(result.metric)}.")
    st.dataframe(_models_frame(result), hide_index=True, key="fs_runs_table",
                 width="stretch", column_config={
                     "run": st.column_config.NumberColumn("run", width=40),
                     "chosen on dev": st.column_config.TextColumn("chosen", width=60),
                     "epochs": st.column_config.TextColumn("epochs", width=60),
                     "seconds": st.column_config.NumberColumn("s", width=50, format="%.1f",
                                                              help="seconds to train")})

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
                         column_config=common.headers(top, common.pct_columns(
                             top, ["error_rate", "rate_low", "rate_high", "share_of_errors"])))
    if result.session is not None and is_open:
        st.page_link("app_pages/error_analysis.py", icon=":material/fact_check:",
                     label=f"Review the dev errors: session #{result.session.id} on the "
                           "Error analysis page")
    elif result.session is not None:
        st.caption(f"Session #{result.session.id} is in project `{folder.name}`: open it "
                   "(button above) to review the dev errors on the Error analysis page.")

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
                st.markdown(f"- {_page_words(note)}")
    with st.expander("Report as text"):
        st.code(str(result), language=None)


#: the library's words for the command line and the API -> the form's words on this page
PAGE_WORDS = (
    ("(resampling='split')", "(Rungs measured by: one split)"),
    ("(train_dev=True)", "(Train-dev set: yes)"),
    ("(train_dev=False)", "(Train-dev set: no)"),
    ("give --domain COLUMN=VALUE, or train_dev=True, to carve one",
     "choose a domain column, or Train-dev set: yes, to carve one"),
    ("No --human-error given", "No human-level error given"),
    ("--human-error", "the human-level error"),
    ("no --domain", "no domain column"),
    ("without --domain", "without a domain column"),
    ("--domain ", "domain column "),
)


def _page_words(text: str) -> str:
    """A reason or note of the library with the form's words instead of the command
    line's ('no --domain' -> 'no domain column')."""
    for said, shown in PAGE_WORDS:
        text = text.replace(said, shown)
    return text


#: severity of a check -> how it is shown (problems first)
CHECK_ALERTS = {"error": st.error, "warning": st.warning, "info": st.info}


def _show_checks(result) -> None:
    """What the checks of the data found (``result.checks``), and the train-dev choice."""
    st.subheader("Checks of the data")
    order = {"error": 0, "warning": 1, "info": 2}
    passed = []
    for _kind, message, severity in sorted(result.checks, key=lambda c: order.get(c[2], 3)):
        if severity in CHECK_ALERTS:
            CHECK_ALERTS[severity](message)
        else:
            passed.append(message)
    if passed:
        st.markdown("\n".join(f"- :green[✓] {m}" for m in passed))
    td = result.train_dev
    if td:
        what = "Train-dev set" if td.get("carved") else "No train-dev set"
        st.caption(f"{what}: {_page_words(td.get('reason', ''))}.")


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
        if result.metric != "error":  # the dev error rate is already the dev column
            row[f"dev {_metric_words(result.metric)}"] = f"{m.score:.4g}"
        outcome = d.problem if d.status == "problem" else common.STATUSES[d.status]
        row["outcome"] = outcome.split(" (", 1)[0]  # in full in the diagnosis below
        row["epochs"] = str(m.epochs) if m.epochs else "-"  # no epochs: not a network
        row["seconds"] = round(m.seconds, 1)
        rows.append(row)
    return pd.DataFrame(rows)


#: a metric's name in the library -> its words on the page
METRIC_WORDS = {"mse": "MSE", "rmse": "RMSE", "mae": "MAE", "r2": "R²", "f1": "F1"}


def _metric_words(metric: str) -> str:
    """'mse' -> 'MSE', 'false_positive_rate' -> 'false positive rate'."""
    return METRIC_WORDS.get(metric, metric.replace("_", " "))


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
        reason = _page_words(res.get("reason", ""))
        return f"**Rungs from one split**{': ' + reason if reason else ''}."
    dev = _rung(d, "dev")
    text = (f"**Rungs from {res.get('n_splits')}-fold x {res.get('n_repeats')} repeated "
            f"out-of-fold predictions**, not one split: {_page_words(res.get('reason', ''))}.")
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
open_folder = Path(proj.folder).absolute()
previous = st.session_state.get(RESULT)
if uploaded is None:
    if previous is not None:
        _show_result(previous["result"], open_folder)
    st.stop()

data = uploaded.getvalue()
digest = hashlib.sha256(data).hexdigest()
_new_file(digest)
frame, problem = _read(digest, uploaded.name, data)
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
suggested, why = suggest_target(frame)
c1, c2 = st.columns(2)
target = c1.selectbox("Target (the column to predict)", columns,
                      index=None if suggested is None else columns.index(suggested),
                      placeholder="Choose the column to predict", key="fs_target")
if suggested is not None and target == suggested:
    c1.caption(f"Preselected: {why}.")
elif suggested is None and target is None:
    c1.caption(why[:1].upper() + why[1:] + ("" if why.endswith(".") else "."))
task = c2.selectbox("Task", TASKS, key="fs_task",
                    help="auto: regression for a numeric target with many distinct values")
if target is None:
    st.info("Choose the target: the column the models learn to predict. Nothing is "
            "preselected unless a column is named like one (target, label, class, y, "
            "outcome...).")
    st.button("Build", type="primary", key="fs_build", disabled=True,
              help="Choose the target first.")
    st.stop()

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
t1, t2 = st.columns([1, 3])
train_dev = t1.selectbox("Train-dev set", list(TRAIN_DEV), key="fs_train_dev",
                         format_func=lambda k: TRAIN_DEV[k][1])
t2.caption("A train-dev set (training distribution, not trained on) separates variance "
           "from data mismatch only when dev comes from another distribution than "
           "training, which a **domain column** says. Without one, train and dev share one "
           "distribution: no data mismatch is expected, the dev - train gap is variance, "
           "and a train-dev set only takes rows from training. **auto** carves one only "
           "with a domain column"
           + (" (here: yes)." if domain_col is not None else " (here: no)."))
drop_duplicates = st.checkbox(
    "Leave out of dev and test the rows that repeat a training row", key="fs_drop_dup",
    help="A dev row identical to a training row (features and target) is a question the "
         "model has seen answered: the dev rung reads low. The checks count them either "
         "way.")
with st.expander("Network changes for this iteration (optional)"):
    n1, n2, n3 = st.columns(3)
    hidden = n1.text_input("Hidden layer sizes", key="fs_hidden", placeholder="e.g. 256,128",
                           help="One network of this shape instead of the small and "
                                "medium networks.").strip()
    l2 = n2.number_input("L2 (lambda)", min_value=0.0, value=None, step=1e-4, format="%.5f",
                         key="fs_l2", placeholder="none")
    dropout = n3.number_input("Dropout probability", min_value=0.0, max_value=0.95,
                              value=None, step=0.05, key="fs_dropout", placeholder="none")

# ----------------------------------------------------------------- where the runs go
st.subheader("Where the runs go")
destination = _choose_destination(open_folder, _data_sha(digest, frame), target, uploaded.name)
allow_new_data = destination is not None and (destination / common.STORE_FILE).exists() and \
    st.checkbox("This file is a new version of that project's data (same target and columns, "
                "other rows or values): add its runs anyway", key="fs_allow_new_data",
                help="The two versions are then never compared with each other. Another "
                     "target or other columns are always refused.")
buttons = st.container(horizontal=True)  # Build, then Open project once built
clicked = buttons.button("Build", type="primary", key="fs_build", disabled=destination is None,
                         help=None if destination is not None
                         else "Give the project folder first.")
beside = buttons.container(width="content")
summary = st.container()  # the outcome goes right under the buttons, the report below
if not clicked:
    if previous is not None and previous.get("digest") in (None, digest):  # this file's
        _show_result(previous["result"], open_folder, summary, beside)
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
            project=str(destination), hidden=hidden or None, l2=l2, dropout=dropout,
            roles=overrides or None, max_epochs=int(max_epochs), n_review=int(n_review),
            resampling=resampling, train_dev=TRAIN_DEV[train_dev][0],
            drop_duplicates=drop_duplicates, allow_new_data=allow_new_data,
            name=uploaded.name, progress=_progress)
    except DatasetMismatchError as exc:
        status.update(label="Refused: another dataset", state="error", expanded=False)
        st.error(f"Nothing was built or stored. {_for_the_page(exc, uploaded.name)}")
        st.stop()
    except DataCheckError as exc:
        status.update(label="Refused by the checks of the data", state="error",
                      expanded=False)
        st.error(f"The data cannot give a meaningful ladder; nothing was built or stored. "
                 f"{exc}")
        st.stop()
    except (ValueError, TypeError, KeyError) as exc:
        status.update(label="Nothing was built", state="error", expanded=False)
        st.error(f"Nothing was built or stored: {str(exc).strip(chr(39))}")
        st.stop()
    except OSError as exc:  # e.g. a folder that cannot be created
        status.update(label="Nothing was built", state="error", expanded=False)
        st.error(f"The project `{destination}` cannot be written: {exc}. Choose another "
                 "folder under **Where the runs go**.")
        st.stop()
    status.update(label=f"Built in {sum(result.timings.values()):.1f}s", state="complete",
                  expanded=False)

common.clear_caches()  # new runs and a new session: the other pages read them afresh
st.session_state[RESULT] = {"project": result.project_folder, "result": result,
                            "digest": digest}
if Path(result.project_folder).resolve() == open_folder.resolve():
    st.session_state[common.CHOSEN_RUN] = result.best.run_id
    if result.session is not None:
        st.session_state["error_session"] = int(result.session.id)
st.toast(f"Built: best {result.best.name} (run #{result.best.run_id}), "
         f"{_dev_figure(result)}.", icon=":material/check_circle:")
_show_result(result, open_folder, summary, beside)
