"""Error analysis: tag a sample of the dev errors, see the ceilings, export/import."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat._files import check_upload
from mlstrat.errors import Session, TagImportError, new_session

PAGE_SIZE = 50
FIXED = ("id", "y_true", "y_pred")

st.title("Error analysis")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)


# ----------------------------------------------------------------- cached reads
@st.cache_data(show_spinner=False, max_entries=16)
def _sessions(path: str, rev: int) -> pd.DataFrame:
    return common._open(path).error_sessions()


@st.cache_data(show_spinner=False, max_entries=16)
def _tag_table(path: str, rev: int, sid: int) -> pd.DataFrame:
    return Session(common._open(path), sid).tag_table()


@st.cache_data(show_spinner=False, max_entries=16)
def _categories(path: str, rev: int, sid: int) -> list[str]:
    return Session(common._open(path), sid).categories()


@st.cache_data(show_spinner=False, max_entries=16)
def _summary(path: str, rev: int, sid: int):
    return Session(common._open(path), sid).summary()


# examples, features and probabilities never change in a session: no revision
# in the key; a refusal (ValueError) is cached too, as its message
@st.cache_data(show_spinner=False, max_entries=8)
def _slices(path: str, sid: int):
    try:
        return Session(common._open(path), sid).slices(), None
    except ValueError as exc:
        return None, str(exc)


@st.cache_data(show_spinner=False, max_entries=8)
def _mislabels(path: str, sid: int):
    try:
        return Session(common._open(path), sid).mislabel_candidates(), None
    except ValueError as exc:
        return None, str(exc)


@st.cache_data(show_spinner=False, max_entries=8)
def _features(path: str, sid: int) -> pd.DataFrame:
    """The stored features of the sampled examples, one row per example id."""
    feats = Session(common._open(path), sid).features(sampled_only=True)
    return feats.set_axis(feats.index.astype(str))


@st.cache_data(show_spinner=False, max_entries=64)
def _thumbnails(path: str, sid: int, ids: tuple[str, ...]) -> list[str | None]:
    session = Session(common._open(path), sid)
    out = []
    for example_id in ids:
        item = session.payload(example_id)
        out.append(common.image_data_uri(item) if hasattr(item, "shape") else None)
    return out


def _exporter(path: str, sid: int, suffix: str):
    """The sheet's bytes, built only when the download button is clicked
    (a 10,000-row workbook takes seconds: never on every rerun)."""
    def build() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Session(common._open(path), sid).export(Path(tmp) / f"tags{suffix}")
            return out.read_bytes()
    return build


def review_notice(summary) -> str | None:
    """What a partial review means for the shares, as ``mlstrat errors summary`` says it:
    None when every sampled error has a tag or a note."""
    touched, sampled = summary.n_touched, summary.n_sampled
    if touched is None or touched >= sampled:
        return None
    if touched == 0:
        return (f"None of the {sampled:,} sampled errors has a tag or a note yet: every "
                "share below is 0% until you review them.")
    return (f"Only **{touched:,} of the {sampled:,}** sampled errors have a tag or a note. "
            f"The shares and ceilings count the other {sampled - touched:,} as 'none of "
            "these categories': each is a lower bound that grows as you review them (if "
            f"the {sampled - touched:,} unreviewed errors are like the reviewed ones, each "
            f"share is {sampled / touched:.1f}x what is shown).")


def sheet_message(text: str, temp: Path, name: str) -> str:
    """A message about an uploaded sheet naming the user's file, not the server's copy."""
    return text.replace(str(temp), name)


def _refresh() -> None:
    """After a write: bump the editor version so the grid reloads from the store."""
    st.session_state["tag_editor_version"] = st.session_state.get("tag_editor_version", 0) + 1


def _who() -> str | None:
    return (st.session_state.get("reviewer") or "").strip() or None


def _save_grid_edits() -> list[str]:
    """Write the cells changed in the grid of the previous run (and only those),
    one transaction each; return what could not be saved."""
    previous = st.session_state.get("tag_editor")
    if not previous or previous["key"] not in st.session_state:
        return []
    delta = st.session_state[previous["key"]] or {}
    changes = common.editor_changes(delta.get("edited_rows", {}), previous["ids"],
                                    previous["columns"])
    if not changes:
        return []
    target = Session(proj, previous["sid"])
    failed = []
    for example_id, column, value in changes:
        try:
            if column == "note":
                target.set_note(example_id, str(value or ""), by=_who())
            else:
                target.tag(example_id, column, bool(value), by=_who())
        except (KeyError, ValueError) as exc:
            failed.append(f"{example_id} / {column}: {str(exc).strip(chr(39))}")
    st.session_state["tag_editor"] = None
    _refresh()
    return failed


def _import_sheet(session: Session, upload, create: bool) -> None:
    """Check the uploaded sheet's size and shape, then import it; every message
    names the user's file."""
    name, data = upload.name, upload.getvalue()
    try:
        check_upload(data, name)
    except ValueError as exc:
        st.error(f"Nothing was imported: {exc}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"upload{Path(name).suffix.lower()}"
        target.write_bytes(data)
        try:
            report = session.import_tags(target, create_categories=create, by=_who())
        except TagImportError as exc:
            exc.report.path = name
            st.error(f"Nothing was imported: {sheet_message(str(exc.report), target, name)}")
            return
        except (ValueError, KeyError, OSError) as exc:
            st.error(f"`{name}` cannot be imported: {sheet_message(str(exc), target, name)}")
            return
    report.path = name
    st.session_state["import_message"] = str(report)
    _refresh()
    st.rerun()


# ----------------------------------------------------------------- choose a session
sessions = _sessions(path, rev)
runs = common.runs_table(path, rev)
with st.expander("Start a new session from a run's dev predictions",
                 expanded=sessions.empty):
    if runs.empty:
        st.info("No runs yet: log a run with dev predictions first (or use Upload).")
    else:
        with st.form("new_session"):
            ids = runs["id"].astype(int).tolist()[::-1]
            names = dict(zip(runs["id"].astype(int), runs["name"], strict=True))
            run_id = st.selectbox("Run", ids, format_func=lambda i: f"#{i} {names[i]}")
            n = st.number_input("Errors to sample for review", min_value=1, value=100)
            if st.form_submit_button("Start the session"):
                try:
                    created = new_session(proj, int(run_id), n=int(n), by=_who())
                except (ValueError, KeyError) as exc:
                    st.error(str(exc).strip("'\""))
                else:
                    st.session_state["error_session"] = created.id
                    common.clear_caches()
                    st.rerun()
if sessions.empty:
    st.info("No error-analysis session in this project yet.")
    st.stop()

sids = sessions["id"].astype(int).tolist()[::-1]
labels = dict(zip(sessions["id"].astype(int), sessions["name"], strict=True))
wanted = st.session_state.get("error_session")
sid = st.selectbox("Session", sids, index=sids.index(wanted) if wanted in sids else 0,
                   format_func=lambda i: f"#{i} {labels[i]}", key="error_session_select")
st.session_state["error_session"] = sid
session = Session(proj, sid)
st.text_input("Reviewer (for the audit log)", key="reviewer",
              placeholder="your login name by default")

for problem in _save_grid_edits():
    st.error(f"Not saved: {problem}")
rev = common.revision(proj)
table = _tag_table(path, rev, sid)
categories = _categories(path, rev, sid)
record = sessions.set_index("id").loc[sid]
c1, c2, c3 = st.columns(3)
c1.metric("Dev errors", f"{int(record['n_errors']):,} of {int(record['n_examples']):,}")
c2.metric("Sampled for review", f"{len(table):,}")
tagged = table[categories].any(axis=1) | (table["note"].astype(str) != "")
c3.metric("Reviewed (a tag or a note)", f"{int(tagged.sum()):,} of {len(table):,}")

def _show_features(path: str, sid: int, example_id: str) -> None:
    """A tabular example: its stored features (the columns the session kept), one per
    row; a caption when the session stored none."""
    feats = _features(path, sid)
    if example_id not in feats.index or feats.loc[example_id].isna().all():
        st.caption("No payload or features stored for this example.")
        return
    row = feats.loc[example_id].dropna()
    st.dataframe(pd.DataFrame({"feature": row.index.astype(str),
                               "value": row.astype(str).to_numpy()}),
                 hide_index=True, key=f"example_features_{sid}", width="stretch")
    st.caption(f"The {len(row)} feature(s) stored with the session for this example.")


tag_tab, summary_tab, assist_tab, sheet_tab = st.tabs(
    ["Tag", "Summary", "Slices and mislabels", "Export / import"])

# ----------------------------------------------------------------- tagging
with tag_tab:
    n_pages = max(1, math.ceil(len(table) / PAGE_SIZE))
    page_no = st.number_input(f"Page (of {n_pages}, {PAGE_SIZE} rows each)", min_value=1,
                              max_value=n_pages, value=1, key=f"tag_page_{sid}")
    start = (int(page_no) - 1) * PAGE_SIZE
    rows = table.iloc[start:start + PAGE_SIZE].reset_index(drop=True)
    ids = rows["id"].astype(str).tolist()
    key = f"tags_{sid}_{page_no}_{st.session_state.get('tag_editor_version', 0)}"

    shown = rows[list(FIXED) + categories + ["note"]].copy()
    config = {c: st.column_config.TextColumn(c, disabled=True) for c in FIXED}
    config.update({c: st.column_config.CheckboxColumn(c) for c in categories})
    config["note"] = st.column_config.TextColumn("note", max_chars=2000)
    if session.payload_kind() == "image":
        shown.insert(0, "example", _thumbnails(path, sid, tuple(ids)))
        config["example"] = st.column_config.ImageColumn("example", width="small")
    for col in ("y_true", "y_pred"):
        shown[col] = shown[col].astype(str)
    st.data_editor(shown, key=key, hide_index=True, column_config=config,
                   disabled=["example", *FIXED], num_rows="fixed", width="stretch")
    st.session_state["tag_editor"] = {"key": key, "sid": sid, "ids": ids,
                                      "columns": categories + ["note"]}
    st.caption("Each change is written to the store at once (only the changed cell).")

    left, right = st.columns([1, 2])
    with left:
        shown_id = st.selectbox("Look at an example", ids, key=f"example_{sid}")
        item = session.payload(shown_id) if shown_id else None
        if hasattr(item, "shape"):
            st.image(common.display_image(item, size=160), caption=shown_id)
        elif item:
            st.text(str(item)[:5000])
        if shown_id:
            row = rows.loc[rows["id"].astype(str) == shown_id].iloc[0]
            st.markdown(f"label **{row['y_true']}**, predicted **{row['y_pred']}**")
        if shown_id and (item is None or (isinstance(item, str) and not item)):
            _show_features(path, sid, shown_id)
    with right:
        with st.form("add_category", clear_on_submit=True):
            new_name = st.text_input("New category (e.g. blurry, dog, great cat)",
                                     key="new_category")
            if st.form_submit_button("Add the category") and new_name.strip():
                try:
                    session.add_category(new_name.strip(), by=_who())
                except (ValueError, KeyError) as exc:
                    st.error(str(exc).strip("'\""))
                else:
                    _refresh()
                    st.rerun()
        with st.form("rename_category", clear_on_submit=True):
            old = st.selectbox("Rename", categories, key="rename_from")
            new = st.text_input("to", key="rename_to")
            if st.form_submit_button("Rename (tags are kept)") and new.strip():
                try:
                    session.rename_category(old, new.strip(), by=_who())
                except (ValueError, KeyError) as exc:
                    st.error(str(exc).strip("'\""))
                else:
                    _refresh()
                    st.rerun()

# ----------------------------------------------------------------- summary
with summary_tab:
    summary = _summary(path, rev, sid)
    partial = review_notice(summary)
    if partial:
        (st.info if not summary.n_touched else st.warning)(partial, icon=":material/rule:")
    st.markdown(f"**Work next on:** {summary.next_category or 'nothing tagged yet'}")
    st.altair_chart(summary.chart(), key="ceilings_chart")
    frame = summary.to_frame()
    st.dataframe(frame, hide_index=True, key="summary_table",
                 column_config=common.headers(frame, common.pct_columns(frame, [
                     "share", "share_low", "share_high", "ceiling", "ceiling_low",
                     "ceiling_high"])))
    labels_verdict = summary.labels
    if labels_verdict:
        st.markdown(f"**Fix the labels?** {labels_verdict['verdict']}: "
                    f"{labels_verdict['reason']}.")
    with st.expander("Summary as text"):
        st.code(str(summary), language=None)

# ----------------------------------------------------------------- assistants
with assist_tab:
    st.markdown("Suggestions for a person to check; nothing is tagged or changed.")
    slices, why = _slices(path, sid)
    if slices is None:
        st.info(f"No slices: {why}")
    else:
        st.markdown("**Where the errors concentrate**")
        st.text(str(slices).splitlines()[0] if str(slices) else "")
        if not slices.to_frame().empty:
            # slice rules in full: Vega cuts axis labels at 180 px by default
            st.altair_chart(slices.chart().configure_axis(labelLimit=0), key="slices_chart")
            top = slices.to_frame()
            st.dataframe(top, hide_index=True, key="slices_table",
                         column_config=common.headers(top, {
                             **common.pct_columns(top, ["error_rate", "rate_low", "rate_high",
                                                        "share_of_errors"]),
                             "rule": st.column_config.TextColumn("rule", width="large")}))
            with st.expander("Slices as text (every rule in full)"):
                st.code(str(slices), language=None, wrap_lines=True)
    mislabels, why = _mislabels(path, sid)
    if mislabels is None:
        st.info(f"No mislabel candidates: {why}")
    else:
        st.markdown("**Candidate label errors** (confident learning)")
        st.caption(str(mislabels).splitlines()[0])
        if not mislabels.to_frame().empty:
            st.altair_chart(mislabels.chart(), key="mislabels_chart")
        candidates = mislabels.to_frame()
        st.dataframe(candidates, hide_index=True, key="mislabels_table",
                     column_config=common.headers(candidates))

# ----------------------------------------------------------------- sheets
with sheet_tab:
    st.markdown("Download the review sheet, tag it in a spreadsheet program, and "
                "upload it back: all of it is applied, or nothing.")
    # on_click="ignore": a click must not rerun the page. A rerun gives every
    # deferred download a new id and, when the run ends (or is cut short by the
    # next click), drops the old ids: a second button clicked meanwhile still
    # holds its old id and fails ("Deferred file ... not found", nothing downloaded).
    d1, d2 = st.columns(2)
    d1.download_button("Download XLSX", _exporter(path, sid, ".xlsx"),
                       file_name=f"error_session_{sid}.xlsx", key="download_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click="ignore")
    d2.download_button("Download CSV", _exporter(path, sid, ".csv"),
                       file_name=f"error_session_{sid}.csv", key="download_csv",
                       mime="text/csv", on_click="ignore")
    message = st.session_state.pop("import_message", None)
    if message:
        st.success(message)
    upload = st.file_uploader("Tagged sheet (.xlsx or .csv)", type=["xlsx", "csv"],
                              key="tags_upload")
    create = st.checkbox("Create categories the sheet adds", key="tags_create")
    if upload is not None and st.button("Import the tags", key="tags_import"):
        _import_sheet(session, upload, create)
