from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from mlstrat.errors import (
    BUILTIN_CATEGORY,
    new_session,
    summary_from_counts,
    summary_from_matrix,
)


def test_ceilings_match_the_notes():
    # 5 dogs among 100 errors at 10% dev error: at most 0.5 point; 50: at most 5 points.
    s = summary_from_counts({"dog": 5, "great cat": 50}, n_sampled=100, n_errors=100,
                            n_examples=1000)
    assert s.dev_error == pytest.approx(0.10)
    assert s.category("dog")["ceiling"] == pytest.approx(0.005)
    assert s.category("great cat")["ceiling"] == pytest.approx(0.05)
    assert s.next_category == "great cat"


def test_eight_of_hundred_interval_from_the_notes():
    c = summary_from_counts({"blurry": 8}, n_sampled=100, n_errors=500,
                            n_examples=5000).category("blurry")
    assert (round(c["share_low"], 3), round(c["share_high"], 3)) == (0.041, 0.150)
    assert c["ceiling_low"] == pytest.approx(0.1 * c["share_low"])
    assert c["ceiling_high"] == pytest.approx(0.1 * c["share_high"])


@pytest.mark.parametrize("k, n", [(0, 100), (1, 10), (8, 100), (37, 61), (100, 100), (3, 7)])
def test_share_intervals_match_scipy_wilson(k, n):
    c = summary_from_counts({"c": k}, n_sampled=n, n_errors=n, n_examples=10 * n).category("c")
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert c["share_low"] == pytest.approx(ref.low, abs=1e-9)
    assert c["share_high"] == pytest.approx(ref.high, abs=1e-9)


def test_fix_the_labels_decision_both_cases_of_the_notes():
    # 10% overall, 0.6% due to labels (6% of errors), 9.4% other: not worth it first.
    s = summary_from_counts({BUILTIN_CATEGORY: 6}, n_sampled=100, n_errors=1000,
                            n_examples=10000, label_category=BUILTIN_CATEGORY)
    lab = s.labels
    assert lab["overall"] == pytest.approx(0.10)
    assert lab["due_to_labels"] == pytest.approx(0.006)
    assert lab["due_to_other_causes"] == pytest.approx(0.094)
    assert lab["verdict"] == "not worth fixing first"
    # 2% overall, 0.6% labels (30% of errors), 1.4% other: worth it.
    s = summary_from_counts({BUILTIN_CATEGORY: 30}, n_sampled=100, n_errors=200,
                            n_examples=10000, label_category=BUILTIN_CATEGORY)
    lab = s.labels
    assert (lab["overall"], lab["due_to_labels"], lab["due_to_other_causes"]) == \
        pytest.approx((0.02, 0.006, 0.014))
    assert lab["verdict"] == "worth fixing"
    assert "worth fixing" in str(s)


def test_session_summary_counts_ties_and_result_protocol(project, preds):
    s = new_session(project, preds, n=100, categories=(BUILTIN_CATEGORY, "blurry", "dark"))
    ids = s.sample_ids()
    for i in ids[:30]:
        s.tag(i, "blurry")
    for i in ids[25:52]:  # 27 dark, 5 overlap with blurry: not distinguishable
        s.tag(i, "dark")
    for i in ids[:3]:
        s.tag(i, BUILTIN_CATEGORY)
    summ = s.summary()
    assert summ.n_sampled == 100 and summ.n_touched == 52
    assert summ.category("blurry")["count"] == 30
    assert summ.category("blurry")["ceiling"] == pytest.approx(summ.dev_error * 0.30)
    assert summ.next_category == "blurry"
    assert [d["category"] for d in summ.indistinguishable] == ["dark"]
    text = str(summ)
    assert "Not distinguishable" in text and "'dark'" in text
    assert "Only 52 of the 100" in text
    frame = summ.to_frame()
    assert list(frame["category"]) == [BUILTIN_CATEGORY, "blurry", "dark"]
    assert json.dumps(summ.to_dict())
    spec = summ.chart().to_dict()
    assert spec["layer"][0]["mark"]["type"] == "bar"


def test_clear_winner_is_said_alone(project, preds):
    s = new_session(project, preds, n=100, categories=(BUILTIN_CATEGORY, "blurry"))
    for i in s.sample_ids()[:60]:
        s.tag(i, "blurry")
    s.tag(s.sample_ids()[70], BUILTIN_CATEGORY)
    summ = s.summary()
    assert summ.next_category == "blurry" and summ.indistinguishable == []
    assert np.isclose(summ.category("blurry")["share"], 0.6)


def test_summary_with_nothing_tagged(project, preds):
    summ = new_session(project, preds, n=10).summary()
    assert summ.next_category is None
    assert "nothing is tagged yet" in str(summ)


def test_store_aggregates_match_the_tag_matrix(project, preds):
    """The summary counts in SQL; recount from the wide tag table and compare."""
    s = new_session(project, preds, n=100, categories=(BUILTIN_CATEGORY, "a", "b", "c"))
    rng = np.random.default_rng(5)
    for eid in s.sample_ids():
        for cat, p in ((BUILTIN_CATEGORY, 0.1), ("a", 0.35), ("b", 0.3), ("c", 0.2)):
            if rng.random() < p:
                s.tag(eid, cat)
    s.untag(s.sample_ids()[0], "a")
    s.merge_categories("c", "b")
    s.set_note(s.sample_ids()[1], "a note")
    table = s.tag_table()
    names = s.categories()
    ref = summary_from_matrix(table[names].to_numpy(), names, n_errors=s.record["n_errors"],
                              n_examples=1000, label_category=BUILTIN_CATEGORY)
    got = s.summary()
    assert got.to_frame().equals(ref.to_frame())
    assert got.indistinguishable == ref.indistinguishable
    touched = table[names].any(axis=1) | (table["note"] != "")
    assert got.n_touched == int(touched.sum())
