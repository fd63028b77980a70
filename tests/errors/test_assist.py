"""The assistants: slices where errors concentrate, and candidate mislabels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from mlstrat.errors import BUILTIN_CATEGORY, find_label_issues, find_slices, new_session


def _features(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"brightness": rng.random(n), "size": rng.random(n),
                         "camera": rng.choice(["phone", "dslr", "webcam"], n)}), rng


def test_slices_find_a_planted_region():
    feats, rng = _features(3000, 0)
    region = (feats.brightness < 0.3) & (feats.camera == "webcam")
    is_error = rng.random(3000) < np.where(region, 0.5, 0.05)
    report = find_slices(feats, is_error)
    top = report.standing_out[0]
    assert "brightness <= 0.3" in top["rule"] or "brightness <= 0.2" in top["rule"]
    assert "camera == 'webcam'" in top["rule"]
    assert top["error_rate"] > 0.35 and top["p_adjusted"] < 0.05
    assert top["rate_low"] < top["error_rate"] < top["rate_high"]
    assert 0.3 < top["share_of_errors"] <= 1
    assert "stand out" in report.statement
    frame = report.to_frame()
    assert set(frame.columns) >= {"rule", "n", "error_rate", "p_adjusted", "share_of_errors"}
    assert report.chart().to_dict()["layer"]


def test_random_errors_no_slice_stands_out():
    feats, rng = _features(3000, 1)
    report = find_slices(feats, rng.random(3000) < 0.1)
    assert report.standing_out == []
    assert report.statement.startswith("No slice stands out")
    assert "Benjamini-Hochberg" in report.statement


def test_slices_say_why_nothing_was_searched():
    feats, rng = _features(500, 2)
    few = np.zeros(500, bool)
    few[:5] = True
    assert "only 5 errors" in find_slices(feats, few).statement
    r = find_slices(feats, rng.random(500) < 0.2, min_leaf=400)
    assert "one node" in r.statement and r.slices == []
    assert "no features" in find_slices(pd.DataFrame(index=range(500)),
                                        rng.random(500) < 0.2).statement
    with pytest.raises(ValueError, match="max_depth"):
        find_slices(feats, few, max_depth=5)


def test_session_slices_use_all_dev_examples(project, make_preds):
    preds = make_preds(n=2000, error_rate=0.05, seed=3)
    bad = preds.camera == "phone"
    preds.loc[bad & (preds.brightness < 0.4), "y_pred"] = (
        preds.loc[bad & (preds.brightness < 0.4), "y_true"] + 1) % 3
    s = new_session(project, preds, features=["brightness", "camera"])
    report = s.slices()
    assert report.n_examples == 2000
    rule = report.standing_out[0]["rule"]
    assert "camera == 'phone'" in rule or "camera != 'dslr'" in rule
    assert "brightness <= 0.4" in rule


def test_mislabels_rank_planted_flips_first():
    X, y = make_classification(n_samples=1500, n_features=10, n_informative=6,
                               n_classes=3, class_sep=3.0, flip_y=0, random_state=0)
    rng = np.random.default_rng(0)
    flipped = rng.choice(1500, size=60, replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 3, 60)) % 3
    proba = cross_val_predict(LogisticRegression(max_iter=500), X, noisy, cv=5,
                              method="predict_proba")
    report = find_label_issues(noisy, proba, [0, 1, 2], ids=np.arange(1500))
    ranked = report.candidates["id"].astype(int)
    assert len(set(ranked.head(30)) & set(flipped)) >= 27   # the top is mostly planted flips
    assert len(set(ranked.head(60)) & set(flipped)) >= 42   # most flips ranked near the top
    first = report.candidates.iloc[0]
    assert first["p_given"] < first["threshold"] and first["suggested"] != first["given"]
    assert "none was changed" in str(report)


def test_session_mislabels_never_tag(project, make_preds):
    preds = make_preds(n=300)
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], 300)
    p[np.arange(300), preds.y_pred] += 1.0
    p /= p.sum(axis=1, keepdims=True)
    for j in range(3):
        preds[f"proba_{j}"] = p[:, j]
    s = new_session(project, preds, n=30)
    report = s.mislabel_candidates()
    assert len(report.candidates) > 0 and "in_sample" in report.candidates
    assert s.summary().category(BUILTIN_CATEGORY)["count"] == 0
    assert len(s.history()) == 2  # created + its category: nothing tagged
    with pytest.raises(ValueError, match="no stored probabilities"):
        new_session(project, preds.drop(columns=["proba_0", "proba_1", "proba_2"]),
                    n=5).mislabel_candidates()
