"""Splits: how big train / train-dev / dev / test should be, and whether two
sets come from the same distribution (adversarial validation)."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st
from app_pages import _common as common

from mlstrat import charts
from mlstrat.predictions import read_features_csv, sample_per_split
from mlstrat.splits import compare_distributions, suggest_splits

st.title("Splits")

# ----------------------------------------------------------------- calculator
st.subheader("How big should each split be?")
c1, c2, c3 = st.columns(3)
mismatched = c1.toggle("Training data comes from another distribution", value=False,
                       key="splits_mismatched",
                       help="E.g. 500,000 purchased utterances, 20,000 from the real app.")
n_examples = c1.number_input(
    "Examples from the other (source) distribution" if mismatched else "Examples available",
    min_value=3, value=500_000 if mismatched else 1_000_000, step=1000, key="splits_n")
target = c2.number_input("Examples from the target distribution (the one that matters)",
                         min_value=2, value=20_000, step=1000, key="splits_target",
                         disabled=not mismatched)
resolution_pt = c3.number_input("Resolution wanted on dev/test error (+- points)",
                                min_value=0.0, max_value=50.0, value=None, step=0.1,
                                key="splits_resolution", placeholder="course default")
error_pct = c3.number_input("Expected error (%) for the resolution rule", min_value=0.0,
                            max_value=100.0, value=None, step=0.5, key="splits_error",
                            placeholder="worst case 50%",
                            disabled=resolution_pt is None)
try:
    plan = suggest_splits(
        int(n_examples), target_size=int(target) if mismatched else None,
        resolution=None if not resolution_pt else resolution_pt / 100,
        error_rate=None if error_pct is None or not resolution_pt else error_pct / 100)
except ValueError as exc:
    st.error(str(exc))
else:
    st.markdown(f"**Rule:** {plan.rule}")
    table = plan.to_frame()
    st.altair_chart(charts.split_plan_chart(table), key="split_plan_chart")
    st.dataframe(table, hide_index=True, key="split_plan",
                 column_config={**common.pct_columns(table, ["fraction"]),
                                "size": st.column_config.NumberColumn("size", format="localized")})
    for note in plan.notes:
        st.markdown(f"- {note}")

# ----------------------------------------------------------------- distribution checks
st.subheader("Do two sets come from the same distribution?")
st.markdown("A classifier tries to tell the two sets apart (adversarial validation): an "
            "AUC near 0.5 means it cannot, so they look alike. Dev and test must match; "
            "train against dev shows a data mismatch.")
source = st.radio("Data", ["Demo data (image statistics of the digits)", "Upload a CSV"],
                  key="splits_source", horizontal=True, index=None)
if source is None:
    st.stop()


@st.cache_data(show_spinner=False, max_entries=2)
def _demo_frame() -> pd.DataFrame:
    from mlstrat.demo import demo_frame

    return demo_frame()


if source.startswith("Demo"):
    frame, digest = _demo_frame(), "demo"
    features = ["brightness", "contrast", "sharpness", "ink"]
else:
    upload = st.file_uploader("CSV with a `split` column and feature columns", type=["csv"],
                              key="splits_csv")
    if upload is None:
        st.stop()
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    try:
        frame, features = read_features_csv(data)
    except ValueError as exc:
        st.error(f"`{upload.name}` cannot be used: {exc}")
        st.stop()

present = [s for s in common.RUNG_ORDER[1:] if (frame["split"] == s).any()]
st.caption(f"{len(frame):,} rows; splits {', '.join(present)}; features "
           f"{', '.join(features[:12])}{' ...' if len(features) > 12 else ''}")
pairs = [(a, b) for a, b in (("dev", "test"), ("train", "dev"), ("train", "train_dev"),
                             ("train_dev", "dev")) if a in present and b in present]
if not pairs:
    st.error("The data needs at least two of the splits train, train_dev, dev, test "
             f"(found: {present or 'none'}).")
    st.stop()
chosen = st.multiselect("Compare", pairs, default=pairs[:2], key="splits_pairs",
                        format_func=lambda p: f"{p[0]} vs {p[1]}")


@st.cache_data(show_spinner=False, max_entries=32)
def _compare(digest: str, a: str, b: str, features: tuple, _frame: pd.DataFrame):
    part = sample_per_split(_frame, [a, b])
    return compare_distributions(part.loc[part["split"] == a, list(features)],
                                 part.loc[part["split"] == b, list(features)], n_threads=1)


if st.button("Run the checks", type="primary", key="splits_run") or \
        st.session_state.get("splits_ran") == (digest, tuple(chosen)):
    st.session_state["splits_ran"] = (digest, tuple(chosen))
    for a, b in chosen:
        with st.spinner(f"{a} vs {b} ..."):
            try:
                result = _compare(digest, a, b, tuple(features), frame)
            except ValueError as exc:
                st.error(f"{a} vs {b}: {exc}")
                continue
        st.markdown(f"**{a} vs {b}: {result.verdict}** - out-of-fold AUC {result.auc:.3f}; "
                    f"with no difference it would fall in [{result.null_low:.3f}, "
                    f"{result.null_high:.3f}] (permutation test, "
                    f"{result.n_permutations:,} shuffles)")
        st.altair_chart(result.chart(), key=f"dist_{a}_{b}")
