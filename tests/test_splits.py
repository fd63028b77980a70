"""Tests for mlstrat.splits: size rules, carve-outs and adversarial validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlstrat.splits import compare_distributions, make_splits, suggest_splits


# --------------------------------------------------------------------- suggest_splits
def test_small_data_60_20_20():
    plan = suggest_splits(5000)
    assert plan.sizes == {"train": 3000, "train_dev": 0, "dev": 1000, "test": 1000}
    assert "70/30" in str(plan)


def test_big_data_98_1_1():
    plan = suggest_splits(1_000_000)
    assert plan.fractions == pytest.approx({"train": 0.98, "train_dev": 0.0, "dev": 0.01,
                                            "test": 0.01})


def test_resolution_sets_dev_size():
    plan = suggest_splits(1_000_000, resolution=0.005, error_rate=0.05)
    assert abs(plan.sizes["dev"] - 7300) <= 5
    assert plan.sizes["test"] == plan.sizes["dev"]
    with pytest.raises(ValueError, match="too small"):
        suggest_splits(5000, resolution=0.001, error_rate=0.05)


def test_mismatched_speech_example():
    plan = suggest_splits(500_000, target_size=20_000)
    assert plan.sizes["dev"] == 5000 and plan.sizes["test"] == 5000
    assert plan.sizes["train"] + plan.sizes["train_dev"] == 510_000
    assert plan.sizes["train_dev"] == 5000
    assert plan.composition["dev"] == {"source": 0, "target": 5000}
    assert sum(c["target"] for c in plan.composition.values()) == 20_000
    assert sum(c["source"] for c in plan.composition.values()) == 500_000
    text = str(plan)
    assert "Train-dev: 5,000" in text and "510,000" in text
    json.dumps(plan.to_dict())
    assert list(plan.to_frame()["split"]) == ["train", "train_dev", "dev", "test"]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n_examples=0), "n_examples"),
        (dict(n_examples=100, target_size=1), "target_size"),
        (dict(n_examples=100, error_rate=2.0), "error_rate"),
        (dict(n_examples=100_000, resolution=1.5), "resolution"),
    ],
)
def test_suggest_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        suggest_splits(**kwargs)


# --------------------------------------------------------------------- make_splits
def _disjoint_cover(s, n):
    allidx = np.concatenate(list(s.values()))
    assert len(allidx) == len(np.unique(allidx))
    return len(allidx) == n


def test_make_splits_sizes_seeded_disjoint():
    s1 = make_splits(1000, sizes={"dev": 100, "test": 100, "train_dev": 50})
    s2 = make_splits(1000, sizes={"dev": 100, "test": 100, "train_dev": 50})
    s3 = make_splits(1000, sizes={"dev": 100, "test": 100, "train_dev": 50}, random_state=1)
    assert {k: len(v) for k, v in s1.items()} == {"train": 750, "train_dev": 50,
                                                  "dev": 100, "test": 100}
    assert _disjoint_cover(s1, 1000)
    assert all(np.array_equal(s1[k], s2[k]) for k in s1)
    assert not np.array_equal(s1["dev"], s3["dev"])


def test_make_splits_default_uses_plan_and_dataframe():
    df = pd.DataFrame({"x": np.arange(5000)})
    s = make_splits(df)
    assert {k: len(v) for k, v in s.items()} == {"train": 2700, "train_dev": 300,
                                                 "dev": 1000, "test": 1000}
    s = make_splits(df, train_dev=False)
    assert "train_dev" not in s and len(s["train"]) == 3000


def test_make_splits_stratified():
    y = np.r_[np.zeros(900, int), np.ones(100, int)]
    s = make_splits(1000, fractions={"dev": 0.2, "test": 0.2}, stratify=y, train_dev=False)
    for k in ("dev", "test"):
        assert abs(y[s[k]].mean() - 0.1) <= 0.011
    assert _disjoint_cover(s, 1000)


def test_make_splits_groups_never_shared():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 200, 3000)
    y = rng.integers(0, 2, 3000)
    s = make_splits(3000, sizes={"dev": 400, "test": 400, "train_dev": 300}, groups=groups,
                    stratify=y)
    seen = {k: set(groups[v]) for k, v in s.items()}
    names = list(seen)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not (seen[a] & seen[b]), (a, b)
    assert _disjoint_cover(s, 3000)
    assert abs(len(s["dev"]) - 400) < 60  # whole groups of ~15 rows


def test_make_splits_domain():
    dom = np.zeros(10_000, bool)
    dom[-1000:] = True
    s = make_splits(10_000, sizes={"dev": 250, "test": 250}, domain=dom)
    assert dom[s["dev"]].all() and dom[s["test"]].all()
    assert dom[s["train"]].sum() + dom[s["train_dev"]].sum() == 500  # rest of target in train
    assert len(s["train_dev"]) == 250
    assert _disjoint_cover(s, 10_000)
    # default sizes in the mismatched case come from suggest_splits
    s = make_splits(10_000, domain=dom)
    assert len(s["dev"]) == 250 and dom[s["dev"]].all()


def test_make_splits_errors():
    with pytest.raises(ValueError, match="domain rows"):
        make_splits(1000, sizes={"dev": 60, "test": 60}, domain=np.arange(1000) < 100)
    with pytest.raises(ValueError, match="Too few rows"):
        make_splits(100, sizes={"dev": 40, "test": 40, "train_dev": 30})
    with pytest.raises(ValueError, match="Unknown split 'val'"):
        make_splits(100, sizes={"val": 10})
    with pytest.raises(ValueError, match="'stratify'"):
        make_splits(100, stratify=[0, 1])
    with pytest.raises(ValueError, match="not both"):
        make_splits(100, sizes={"dev": 1}, fractions={"dev": 0.1})


def test_make_splits_large_is_fast_enough():
    s = make_splits(1_000_000, stratify=np.arange(1_000_000) % 3)
    assert len(s["dev"]) == 10_000 and len(s["train_dev"]) == 10_000


# --------------------------------------------------------------------- adversarial
@pytest.mark.parametrize("n", [30, 200, 3000])
def test_no_difference_is_worded_as_no_evidence(n):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, 3))
    b = rng.normal(size=(n, 3))
    r = compare_distributions(a, b, n_threads=1)
    assert abs(r.auc - 0.5) < 0.1
    assert r.verdict.startswith("no evidence of a difference at this size (p = ")
    assert not r.different and r.same_distribution and r.pvalue > 0.05
    assert "same distribution" not in str(r)
    assert r.null_low < 0.5 < r.null_high and r.n_permutations == 200
    assert r.model == "linear discriminant on quadratic features"


def test_permutation_pvalue_matches_a_direct_count():
    """p = (1 + #{permuted AUC >= observed}) / (B + 1), permuted AUCs recomputed here."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from mlstrat.splits import _folds, permutation_auc_test

    rng = np.random.default_rng(5)
    Z = np.r_[rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + [0.4, 0]]
    y = np.r_[np.zeros(40, int), np.ones(40, int)]
    auc, p, perm = permutation_auc_test(LogisticRegression(), Z, y, n_permutations=29,
                                        random_state=3)
    # independent reference: the same folds and labellings through scikit-learn
    gen = np.random.default_rng(3)
    fold = _folds(80, 5, int(gen.integers(2**31 - 1)))
    labellings = [y] + [gen.permutation(y.astype(float)) for _ in range(29)]
    ref = []
    for lab in labellings:
        s = np.empty(80)
        for k in range(5):
            m = LogisticRegression().fit(Z[fold != k], lab[fold != k])
            s[fold == k] = m.predict_proba(Z[fold == k])[:, 1]
        ref.append(roc_auc_score(lab, s))
    assert auc == pytest.approx(ref[0]) and perm == pytest.approx(ref[1:])
    assert p == (1 + sum(v >= ref[0] - 1e-12 for v in ref[1:])) / 30


def test_linear_discriminant_batch_equals_one_fit_per_labelling():
    from mlstrat.splits import _LinearDiscriminant, _oof_scores

    rng = np.random.default_rng(2)
    Z = rng.normal(size=(50, 3))
    Y = np.column_stack([rng.permutation(np.r_[np.zeros(25), np.ones(25)]) for _ in range(4)])
    fold = np.arange(50) % 5
    S = _oof_scores(_LinearDiscriminant(), Z, Y, fold)
    for j in range(4):
        for k in range(5):
            test = fold == k
            m = _LinearDiscriminant().fit(Z[~test], Y[~test, j])
            assert S[test, j] == pytest.approx(m.decision_function(Z[test]))


def test_boosting_model_and_sampling_cap():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + [0, 1.0]
    r = compare_distributions(a, b, n_threads=1, model="boosting", n_permutations=19,
                              max_rows=200)
    assert r.model == "HistGradientBoosting" and r.n_tested == 200
    assert r.verdict == "different distributions (p = 0.050)" and r.different
    assert "stratified sample of 200" in str(r)


def test_adversarial_parameter_errors():
    a = np.zeros((20, 1))
    with pytest.raises(ValueError, match="'model'"):
        compare_distributions(a, a, model="forest")
    with pytest.raises(ValueError, match=r"'n_permutations'.*>= 19"):
        compare_distributions(a, a, n_permutations=10)
    with pytest.raises(ValueError, match=r"'n_permutations'.*>= 99"):
        compare_distributions(a, a, n_permutations=50, confidence=0.99)


def test_shifted_feature_ranked_first_with_dataframe():
    rng = np.random.default_rng(1)
    n = 400
    a = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(0, 1, n),
                      "city": rng.choice(["a", "b", "c"], n)})
    b = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(1.5, 1, n),
                      "city": rng.choice(["a", "b", "c"], n)})
    r = compare_distributions(a, b, n_threads=1)
    assert r.auc > 0.8 and r.verdict == "different distributions (p = 0.005)"
    assert r.pvalue == 1 / 201 and r.different
    assert next(iter(r.importances)) == "income"
    assert "income" in str(r)
    d = r.to_dict()
    assert json.loads(json.dumps(d))["different"] is True
    assert list(r.to_frame()["feature"])[0] == "income"


def test_compare_errors():
    with pytest.raises(ValueError, match="same columns"):
        compare_distributions(pd.DataFrame({"x": range(10)}), pd.DataFrame({"y": range(10)}))
    with pytest.raises(ValueError, match="at least n_splits"):
        compare_distributions(np.zeros((3, 1)), np.zeros((10, 1)))


def test_stratified_order_many_classes():
    y = np.arange(50_000) % 500
    s = make_splits(50_000, fractions={"dev": 0.1, "test": 0.1}, stratify=y, train_dev=False)
    per_class = np.bincount(y[s["dev"]], minlength=500)
    assert per_class.min() >= 9 and per_class.max() <= 11


def test_high_cardinality_categorical():
    rng = np.random.default_rng(3)
    a = pd.DataFrame({"id": [f"u{i}" for i in rng.integers(0, 1000, 600)],
                      "x": rng.normal(size=600)})
    b = pd.DataFrame({"id": [f"u{i}" for i in rng.integers(0, 1000, 600)],
                      "x": rng.normal(size=600)})
    r = compare_distributions(a, b, n_threads=1)
    assert r.verdict.startswith("no evidence of a difference")
