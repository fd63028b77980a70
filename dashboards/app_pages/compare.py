"""Compare runs: did the change help? Two runs paired on the same dev examples
(``mlstrat.first_system.compare_runs``)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat.first_system import RunComparison, compare_runs
from mlstrat.tracking import diagnosis_of_run

SPLITS = ("dev", "test", "train_dev", "train")
#: direction of a change (B - A) -> arrow; lower errors and gaps are better
ARROWS = {"down": "↓", "up": "↑", "same": "=", None: ""}

st.title("Compare runs")
proj = common.project()
path, rev = str(proj.folder), common.revision(proj)
runs = common.runs_table(path, rev)
st.markdown(
    "Two runs side by side: the error of each split, which gaps moved, and a paired "
    "test on the examples both runs predicted (exact McNemar for error rates, a paired "
    "studentised bootstrap of the RMSE for regression). A difference is **real** when the "
    "test rejects noise at 95%."
)
if runs.empty:
    common.no_runs_notice()
if len(runs) < 2:
    st.info("This project has a single run: build or log another one to compare.")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=32)
def _compare(path: str, rev: int, run_a: int, run_b: int,
             split: str) -> tuple[RunComparison | None, str | None]:
    try:
        return compare_runs(common._open(path), run_a, run_b, split=split), None
    except (KeyError, ValueError) as exc:
        return None, str(exc).strip("'\"")


ids = [int(i) for i in runs["id"].tolist()][::-1]  # newest first
names = dict(zip(runs["id"].astype(int), runs["name"].astype(str), strict=True))


def _label(i: int) -> str:
    return f"#{i} {names[i]}"


c1, c2, c3 = st.columns([2, 2, 1])
run_a = c1.selectbox("Run A (before)", ids, index=1, format_func=_label, key="compare_a")
run_b = c2.selectbox("Run B (after the change)", ids, index=0, format_func=_label,
                     key="compare_b")
split = c3.selectbox("Paired on", SPLITS, key="compare_split")
if run_a == run_b:
    st.warning("Choose two different runs.")
    st.stop()

comparison, problem = _compare(path, rev, int(run_a), int(run_b), split)
if problem is not None:
    st.error(f"The runs cannot be compared: {problem}")
    st.stop()
if not comparison.matched and not comparison.rungs:  # refused: made from different data
    why = comparison.message.removeprefix("not compared: ")
    st.error(f"The runs cannot be compared: {why} Compare runs of one dataset (one project "
             "per dataset: the First system page builds each in its own).")
    st.stop()

# ----------------------------------------------------------------- the paired test
def _rates_differ(comparison, split: str) -> str:
    """Why the paired test's error rates may not be the ladder's (below): the test
    counts each stored prediction once, while a K-fold rung averages the repeats."""
    rung = next((r for r in comparison.rungs if r.get("name") == split), None)
    if comparison.task != "classification" or rung is None:
        return ""
    t = comparison.test
    off = [f"{side} {common.pct(t[f'error_{side.lower()}'])} here, "
           f"{common.pct(rung[side.lower()])} in its ladder"
           for side in ("A", "B") if rung[side.lower()] is not None
           and abs(t[f"error_{side.lower()}"] - rung[side.lower()]) > 5e-5]
    if not off:
        return ""
    return (f"The {split} error of " + "; ".join(off) + ": the paired test counts the "
            "stored predictions (one per example), while a ladder's rung from repeated "
            "K-fold averages each example's error over the repeats.")


st.subheader(f"Paired test on the {split} set")
if comparison.matched:
    t = comparison.test
    verdict = {"better": "B is better: the difference is real",
               "worse": "B is worse: the difference is real",
               "no real difference": "no real difference: noise"}[comparison.verdict]
    if comparison.task == "classification":
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("b: right only by A", f"{t['b']:,}")
        m2.metric("c: right only by B", f"{t['c']:,}")
        m3.metric("p-value (exact McNemar)", f"{t['pvalue']:.3g}")
        # a falling error is good: the arrow points down and is green ("inverse")
        m4.metric(f"{split} error of B (A: {common.pct(t['error_a'])})",
                  common.pct(t["error_b"]), delta=f"{100 * t['change']:+.2f} pt",
                  delta_color="inverse")
    else:
        m1, m2, m3 = st.columns(3)
        value, change = comparison.format_value, comparison.format_change
        m1.metric("RMSE of A (target units)", value(t["rmse_a"]))
        m2.metric("RMSE of B (target units)", value(t["rmse_b"]),
                  delta=change(t["rmse_b"] - t["rmse_a"]), delta_color="inverse")
        m3.metric("RMSE change, 95% paired bootstrap interval",
                  f"[{change(t['low'])}, {change(t['high'])}]")
    (st.success if comparison.verdict == "better" else
     st.error if comparison.verdict == "worse" else st.info)(f"Verdict: {verdict}.")
    st.markdown(comparison.message)
    differs = _rates_differ(comparison, split)
    if differs:
        st.caption(differs)
else:  # a run without stored predictions, or dev sets that differ
    st.warning(f"No paired test: {comparison.message}")

# ----------------------------------------------------------------- ladders and gaps
def _shown(rows: list[dict], value, change, paired: bool) -> list[dict]:
    """Rows with values in the ladders' units and, when the runs are paired on the
    same examples, the change with its arrow (else the two numbers alone)."""
    if not paired:
        return [{"A": value(r["a"]), "B": value(r["b"])} for r in rows]
    return [{"A": value(r["a"]), "B": value(r["b"]),
             "B - A": f"{change(r['change'])} {ARROWS[r['direction']]}".strip()}
            for r in rows]


def _colour(frame):
    """A falling error or gap in green, a rising one in red (lower is better)."""
    if "B - A" not in frame.columns:  # not paired: no change to colour
        return frame

    def colour(text: str) -> str:
        return ("color: #2ca02c" if text.endswith(ARROWS["down"]) else
                "color: #d62728" if text.endswith(ARROWS["up"]) else "")

    return frame.style.map(colour, subset=["B - A"])


paired = comparison.comparable  # the library's word: same dev examples (or unpaired ladders)
what = "error" if comparison.is_rate else f"{comparison.metric} (target units)"
rungs = pd.DataFrame([{"rung": f"{r['label']} {what}", **shown} for r, shown in zip(
    comparison.rungs, _shown(comparison.rungs, comparison.format_value,
                             comparison.format_change, paired), strict=True)])
gaps = pd.DataFrame([{"gap": g["label"], **shown,
                      **({"moved?": g["moved"] or "-"} if paired else {})}
                     for g, shown in zip(comparison.gaps, _shown(
                         comparison.gaps, comparison.format_change,
                         comparison.format_change, paired), strict=True)])
if not paired:
    st.caption(f"Side by side only: the runs are not paired on the same {split} examples, "
               "so these numbers are not comparable example by example and no change or "
               "move is measured.")
left, right = st.columns(2, gap="large")
with left:
    st.subheader("Errors per split")
    st.dataframe(_colour(rungs), hide_index=True, key="compare_rungs")
with right:
    st.subheader("Gaps")
    if gaps.empty:
        st.caption("Neither run has the splits a gap needs (train and another split).")
    else:
        st.dataframe(_colour(gaps), hide_index=True, key="compare_gaps")
        if paired:
            st.caption(f"A gap *moved* only when the two runs' {comparison.confidence:.0%} "
                       "intervals of it do not overlap: a change beyond noise. A smaller "
                       "change may be real but is not shown to be at these sizes.")

st.subheader("Both ladders")
charts = st.columns(2, gap="large")
for column, run_id, side in ((charts[0], run_a, "A"), (charts[1], run_b, "B")):
    with column:
        st.markdown(f"**{side}: {_label(run_id)}**")
        try:
            diagnosis, _ = diagnosis_of_run(common.run_record(path, rev, run_id))
        except ValueError as exc:
            st.caption(f"No ladder: {exc}")
            continue
        st.markdown(diagnosis.headline or common.status_title(diagnosis))
        st.altair_chart(common.fitted_ladder(diagnosis), key=f"compare_ladder_{side}")

if paired:  # the text gives each change with its arrow: only for paired runs
    with st.expander("Comparison as text"):
        st.code(str(comparison), language=None)
