"""Glue shared by the dashboard pages: which project is open, cached reads
keyed on the store's revision, and formatting. No computation lives here:
anything that computes belongs in ``mlstrat``.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

import mlstrat
from mlstrat.diagnosis import RUNG_LABELS, STATUSES, VERDICTS
from mlstrat.store import StoreError
from mlstrat.tracking import runs_summary

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROJECT = REPO_ROOT / "demo_project"
ENV_VAR = "MLSTRAT_PROJECT"
PATH_KEY = "project_path"
CHOSEN_RUN = "chosen_run"
#: before the name of a run a baseline iteration chose
STAR = "★ "
STORE_FILE = "mlstrat.db"

RUNG_ORDER = ("human", "train", "train_dev", "dev", "test")


# --------------------------------------------------------------------- which project
def default_project_path(argv: list[str] | None = None,
                         environ: dict[str, str] | None = None) -> str:
    """``--project DIR`` after ``streamlit run app.py --``, else $MLSTRAT_PROJECT,
    else the demo project at the repo root."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project")
    known, _ = parser.parse_known_args(argv)
    if known.project:
        return known.project
    return environ.get(ENV_VAR) or str(DEFAULT_PROJECT)


def store_file(path: str | Path) -> Path:
    """The SQLite file a project path points to (a folder or the file itself)."""
    path = Path(path).expanduser()
    return path if path.is_file() or path.suffix in (".db", ".sqlite", ".sqlite3") \
        else path / STORE_FILE


@st.cache_resource(show_spinner=False, max_entries=8)
def _open(path: str) -> mlstrat.Project:
    return mlstrat.open_project(path)


def open_existing(path: str) -> mlstrat.Project:
    """Open a project that exists; never create folders from a typo.

    A store file replaced under the running app (``python -m mlstrat.demo
    --force``) is reopened rather than read through a stale connection.

    Raises
    ------
    FileNotFoundError, StoreError
    """
    path = str(Path(path).expanduser())
    db = store_file(path)
    if not db.exists():
        raise FileNotFoundError(path)
    inode = db.stat().st_ino
    if _OPENED.get(path, inode) != inode:
        _open.clear()
    _OPENED[path] = inode
    return _open(path)


#: path -> inode of the store file when it was opened
_OPENED: dict[str, int] = {}


def current_path() -> str:
    return st.session_state.get(PATH_KEY) or default_project_path()


def project() -> mlstrat.Project:
    """The open project (``app.py`` checked it before running the page)."""
    try:
        return open_existing(current_path())
    except (FileNotFoundError, StoreError) as exc:  # pragma: no cover - app.py stops first
        st.error(f"The project cannot be opened: {exc}")
        st.stop()


def revision(proj: mlstrat.Project | None = None) -> int:
    """The store's revision: grows with every committed write, from any process."""
    return (proj or project()).revision()


# --------------------------------------------------------------------- cached reads
# Keyed on (path, revision) - never on a big frame (hashing a 50k+ row frame
# samples it and can return stale results).
@st.cache_data(show_spinner=False, max_entries=32)
def runs_table(path: str, rev: int) -> pd.DataFrame:
    return _open(path).runs()


@st.cache_data(show_spinner=False, max_entries=16)
def runs_summary_table(path: str, rev: int) -> pd.DataFrame:
    """``mlstrat.tracking.runs_summary``: every run with its outcome in words."""
    return runs_summary(_open(path))


@st.cache_data(show_spinner=False, max_entries=16)
def baseline_choices(path: str, rev: int) -> list[int]:
    """Ids of the runs a baseline iteration chose (``config["baseline"]["chosen"]``),
    oldest first: the last is the latest iteration's choice."""
    project = _open(path)
    chosen = []
    for run_id in project.runs()["id"].tolist():
        info = project.get_run(int(run_id)).config.get("baseline") or {}
        if info.get("chosen"):
            chosen.append(int(run_id))
    return chosen


@st.cache_data(show_spinner=False, max_entries=64)
def run_record(path: str, rev: int, run_id: int):
    return _open(path).get_run(int(run_id))


@st.cache_data(show_spinner=False, max_entries=64)
def run_history(path: str, rev: int, run_id: int) -> pd.DataFrame:
    return _open(path).run_history(int(run_id))


@st.cache_data(show_spinner=False, max_entries=16)
def run_predictions(path: str, rev: int, run_id: int, split: str | None) -> pd.DataFrame:
    return _open(path).run_predictions(int(run_id), split)


def clear_caches() -> None:
    st.cache_data.clear()


# --------------------------------------------------------------------- widgets
def choose_run(runs: pd.DataFrame, *, page: str, label: str = "Run",
               default: int | None = None, starred: Collection[int] = ()) -> int:
    """A run selector, newest first (or the run of a ``?run=<id>`` link). A run
    the user picks is shared by the pages through ``st.session_state["chosen_run"]``
    (a widget's own state is dropped when another page runs); until then each
    page shows its ``default`` (else the newest run). Runs in ``starred`` (the
    baseline's choices) are shown with a ★ before the name."""
    ids = [int(i) for i in runs["id"].tolist()][::-1]
    names = {i: f"{STAR}{n}" if i in starred else n for i, n in
             zip(runs["id"].astype(int), runs["name"].astype(str), strict=True)}
    chosen = st.session_state.get(CHOSEN_RUN)
    if chosen is None and str(st.query_params.get("run", "")).isdigit():
        chosen = int(st.query_params["run"])  # a link to one run: ?run=3
    if chosen not in ids:
        chosen = default
    index = ids.index(chosen) if chosen in ids else 0
    key = f"run_select_{page}"
    value = st.selectbox(label, ids, index=index, key=key,
                         format_func=lambda i: f"#{i} {names[i]}",
                         on_change=_share_choice, args=(key,))
    return int(value)


def _share_choice(key: str) -> None:
    """A run picked in one page's selector becomes every page's choice."""
    st.session_state[CHOSEN_RUN] = st.session_state[key]


def no_runs_notice() -> None:
    st.info("This project has no runs yet. Log one from Python "
            "(`project.log_run(...)`) or add one on the **Upload** page.")
    st.stop()


# --------------------------------------------------------------------- formatting
def pct(x: Any, digits: int = 2) -> str:
    """0.0523 -> '5.23%' (one rule everywhere: two decimals); None/NaN -> '-'."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    if v != v:  # NaN
        return "-"
    return f"{100 * v:.{digits}f}%"


def pct_columns(frame: pd.DataFrame, columns) -> dict:
    """column_config showing rates in ``columns`` as percentages (headers in words)."""
    return {c: st.column_config.NumberColumn(header(c), format="percent")
            for c in columns if c in frame.columns}


#: a library column name -> its header on the page, when replacing '_' is not enough
HEADERS = {"builtin": "built in", "p_given": "P(given)", "p_suggested": "P(suggested)",
           "in_sample": "in review sample", "n": "examples"}


def header(name: str) -> str:
    """A library column as a header: 'share_low' -> 'share low', 'p_given' -> 'P(given)'."""
    return HEADERS.get(str(name), str(name).replace("_", " "))


def headers(frame: pd.DataFrame, config: dict | None = None) -> dict:
    """``config`` plus a header in words for every other column named in snake_case."""
    out = {c: st.column_config.Column(header(c)) for c in frame.columns
           if header(c) != str(c)}
    return {**out, **(config or {})}


#: status of a diagnosis -> the Streamlit call that shows its headline (never a red error:
#: a surpassed human level or no clear problem is good news)
STATUS_ALERTS = {"problem": "warning", "not_enough_evidence": "info",
                 "human_level_surpassed": "success", "no_clear_problem": "success"}


def status_title(diagnosis) -> str:
    """'Primary problem: data mismatch', 'Not enough evidence yet', 'Human level surpassed'..."""
    if diagnosis.status == "problem":
        return f"Primary problem: {diagnosis.problem}"
    words = STATUSES.get(diagnosis.status, str(diagnosis.status))
    return words[:1].upper() + words[1:]


def show_status(diagnosis) -> None:
    """The headline and the next step in a box coloured by the status."""
    text = diagnosis.headline or status_title(diagnosis)
    if diagnosis.next_step:
        text += f"\n\n**Next step:** {diagnosis.next_step}"
    alert = getattr(st, STATUS_ALERTS.get(diagnosis.status, "info"))
    alert(text, icon=":material/lightbulb:" if diagnosis.status == "problem" else None)


def rungs_frame(diagnosis) -> pd.DataFrame:
    """The rungs as shown: value and interval in the ladder's units, size."""
    rows = [{"rung": _rung_label(r),
             diagnosis.metric: diagnosis.format_value(r.rate),
             f"{diagnosis.confidence:.0%} interval": _interval(diagnosis.format_value, r),
             "examples": "-" if r.n is None else f"{r.n:,}"} for r in diagnosis.rungs]
    return pd.DataFrame(rows)


def _rung_label(rung) -> str:
    label = RUNG_LABELS.get(rung.name, rung.name)
    return label + (f" ({rung.source})" if rung.source and rung.source != label else "")


def gaps_frame(diagnosis) -> pd.DataFrame:
    """The gaps as shown: value, interval, verdict in words, and for a gap too
    small to tell the examples per set that would tell and which sets to enlarge."""
    rows = []
    for g in diagnosis.gaps:
        verdict = VERDICTS.get(g.verdict, g.verdict)
        if g.value < 0 and g.verdict == "real":
            verdict += " (negative: not a problem)"
        rows.append({"gap": g.label, "value": diagnosis.format_gap(g.value),
                     f"{diagnosis.confidence:.0%} interval": _interval(diagnosis.format_gap, g),
                     "verdict": verdict, "to tell": size_to_tell(g)})
    return pd.DataFrame(rows, columns=["gap", "value", f"{diagnosis.confidence:.0%} interval",
                                       "verdict", "to tell"])


def size_to_tell(gap) -> str:
    """'about 214 examples in train-dev and train' for a gap too small to tell, else ''."""
    if gap.verdict != "too_small_to_tell" or not gap.size_to_tell:
        return ""
    sets = " and ".join(RUNG_LABELS.get(s, s) for s in gap.enlarge) or "each set"
    return f"about {gap.size_to_tell:,} examples in {sets}"


def _interval(fmt, item) -> str:
    return "-" if item.low is None else f"[{fmt(item.low)}, {fmt(item.high)}]"


def fitted_ladder(diagnosis, *, width: int = 300):
    """The ladder chart narrowed to ``width`` px a panel, legend below: fits half a page."""
    chart = diagnosis.chart()
    chart.vconcat = [panel.properties(width=width) for panel in chart.vconcat]
    return chart.configure_legend(orient="bottom", columns=2)


# --------------------------------------------------------------------- images and editors
def display_image(array: np.ndarray, *, size: int = 96) -> np.ndarray:
    """An image payload as uint8 pixels for st.image / thumbnails: floats in
    [0, 1] scaled to 0-255, small images enlarged without blurring."""
    arr = np.asarray(array)
    if arr.dtype.kind == "f":
        arr = np.clip(arr, 0.0, 1.0) * 255.0 if arr.max(initial=0) <= 1.0 else np.clip(arr, 0, 255)
    arr = arr.astype(np.uint8)
    factor = max(1, size // max(arr.shape[0], arr.shape[1]))
    if factor > 1:
        arr = np.repeat(np.repeat(arr, factor, axis=0), factor, axis=1)
    return arr


def image_data_uri(array: np.ndarray, *, size: int = 32) -> str:
    """A small PNG as a data URI, for st.column_config.ImageColumn."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(display_image(array, size=size)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def editor_changes(edited_rows: dict, ids: list[str], columns: list[str]) -> list[tuple]:
    """A data_editor's ``edited_rows`` (row position -> {column: value}) as
    ``(example_id, column, value)`` for the editable ``columns`` only."""
    out = []
    for position, change in sorted(edited_rows.items(), key=lambda kv: int(kv[0])):
        position = int(position)
        if not 0 <= position < len(ids):
            continue
        for column, value in change.items():
            if column in columns:
                out.append((ids[position], column, value))
    return out


def constraints_from_table(frame: pd.DataFrame) -> dict[str, tuple[str, float]]:
    """The satisficing constraints typed in the editor (metric, op, threshold
    rows) as ``select_model``'s ``{metric: (op, threshold)}``; rows not filled
    in completely are skipped."""
    out: dict[str, tuple[str, float]] = {}
    for row in frame.to_dict("records"):
        metric, op, threshold = row.get("metric"), row.get("op"), row.get("threshold")
        if any(v is None or pd.isna(v) or v == "" for v in (metric, op, threshold)):
            continue
        out[str(metric)] = (str(op), float(threshold))
    return out


def show_diagnosis(diagnosis, *, key: str) -> None:
    """What the diagnosis decides (status, headline, next step), the ladder chart
    (legend below, so every verdict, "negative: not a problem" too, stays in view),
    the remedies, each gap's verdict with its interval (full width: no column cut
    off), and the notes."""
    st.subheader(status_title(diagnosis))
    show_status(diagnosis)
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.altair_chart(fitted_ladder(diagnosis, width=360), key=key)
    with right:
        if diagnosis.remedies:
            st.markdown("**Try, one knob at a time**")
            for remedy in diagnosis.remedies:
                caveat = f"  \n  _Caveat: {remedy.caveat}_" if remedy.caveat else ""
                st.markdown(f"- {remedy.action} (knob: {remedy.knob}){caveat}")
    units = "" if diagnosis.is_rate else f" ({diagnosis.metric}, in the target's units)"
    st.markdown(f"**Gaps**{units}: {diagnosis.confidence:.0%} intervals; verdicts after "
                "Holm's correction over the ladder")
    st.dataframe(gaps_frame(diagnosis), hide_index=True, key=f"{key}_gaps", width="stretch")
    for g in diagnosis.gaps:
        if size_to_tell(g):
            st.caption(f"**{g.label}** is too small to tell: {size_to_tell(g)} would "
                       f"tell it from noise ({diagnosis.power:.0%} power).")
    with st.expander("Rungs, and notes on the diagnosis"):
        st.dataframe(rungs_frame(diagnosis), hide_index=True, key=f"{key}_rungs")
        for note in diagnosis.notes:
            st.markdown(f"- {note}")
