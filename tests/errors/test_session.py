from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlstrat.errors import BUILTIN_CATEGORY, new_session, open_session


def test_samples_100_seeded_errors_only(project, preds):
    s = new_session(project, preds, features=["brightness", "camera"])
    ids = s.sample_ids()
    assert len(ids) == 100 == len(set(ids))
    wrong = set(preds.loc[preds.y_true != preds.y_pred, "id"])
    assert set(ids) <= wrong
    again = new_session(project, preds, random_state=0)
    assert again.sample_ids() == ids
    other = new_session(project, preds, random_state=1)
    assert other.sample_ids() != ids
    rec = s.record
    assert rec["n_examples"] == 1000 and rec["n_errors"] == len(wrong)


def test_all_errors_and_stratified(project, preds):
    wrong = preds[preds.y_true != preds.y_pred]
    s = new_session(project, preds, n=None)
    assert sorted(s.sample_ids()) == sorted(wrong.id)
    strat = new_session(project, preds, n=60, stratify=True)
    got = preds.set_index("id").loc[strat.sample_ids(), "y_true"].value_counts()
    expected = wrong.y_true.value_counts() * 60 / len(wrong)
    assert got.sum() == 60
    assert (abs(got - expected.loc[got.index]) < 1).all()


def test_from_run_id_reads_dev_predictions(project, preds):
    dev = preds[["id", "y_true", "y_pred"]].assign(proba_0=0.2, proba_1=0.5, proba_2=0.3)
    run_id = project.log_run("m", predictions={"dev": dev})
    s = new_session(project, run_id, n=10)
    assert s.record["run_id"] == run_id and s.name == f"errors of run {run_id}"
    ex = s.examples(sampled_only=False)
    assert len(ex) == 1000 and {"proba_0", "proba_1", "proba_2"} <= set(ex.columns)
    assert open_session(project, s.name).id == s.id


def test_payloads_round_trip_without_pickle(project, make_preds):
    preds = make_preds(n=50)
    images = np.random.default_rng(0).integers(0, 255, (50, 8, 8)).astype(np.uint8)
    s = new_session(project, preds, payload=images)
    eid = s.sample_ids()[0]
    pos = int(eid[2:])
    assert s.payload_kind() == "image"
    np.testing.assert_array_equal(s.payload(eid), images[pos])
    floats = np.random.default_rng(1).random((50, 4, 4, 3)).astype(np.float32)
    s2 = new_session(project, preds, payload=floats)
    np.testing.assert_array_equal(s2.payload(eid), floats[pos])
    s3 = new_session(project, preds, payload=[f"img/{i}.png" for i in range(50)],
                     payload_kind="path")
    assert s3.payload(eid) == f"img/{pos}.png" and s3.payload_kind() == "path"
    s4 = new_session(project, preds.assign(text=[f"t{i}" for i in range(50)]), payload="text")
    assert s4.payload(eid) == f"t{pos}"


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"id": ["a", "a"], "y_true": [0, 1], "y_pred": [1, 1]}), "Duplicate"),
    (pd.DataFrame({"id": ["a", "b"], "y_true": [0, 1]}), "y_pred"),
    (pd.DataFrame({"id": ["a", "b"], "y_true": [0, 1], "y_pred": [0, 1]}), "No misclassified"),
])
def test_bad_predictions_are_refused(project, frame, message):
    with pytest.raises(ValueError, match=message):
        new_session(project, frame)
    assert project.error_sessions().empty


def test_tags_rename_merge_keep_every_tag(project, preds):
    s = new_session(project, preds, n=20)
    a, b, c = s.sample_ids()[:3]
    s.add_category("blurry", by="ana")
    s.add_category("dark", by="bo")
    assert s.tag(a, "blurry", by="ana") and not s.tag(a, "blurry", by="ana")
    s.tag(b, "dark", by="bo")
    s.tag(c, "blurry", by="ana")
    s.tag(c, "dark", by="bo")
    s.tag(a, BUILTIN_CATEGORY, by="ana")
    s.set_note(a, "label says 3, looks like 8", by="ana")
    s.rename_category("blurry", "out of focus", by="ana")
    t = s.tag_table().set_index("id")
    assert t.loc[a, "out of focus"] and t.loc[c, "out of focus"]
    assert s.merge_categories("dark", "out of focus", by="bo") == 1  # b only; c had both
    t = s.tag_table().set_index("id")
    assert t.loc[[a, b, c], "out of focus"].all() and "dark" not in t.columns
    assert t.loc[a, "note"] == "label says 3, looks like 8"
    assert s.categories() == [BUILTIN_CATEGORY, "out of focus"]
    tags = project.error_tags(s.id)
    assert set(tags["tagged_by"]) == {"ana", "bo"}
    hist = s.history()
    assert {"add_category", "tag", "note", "rename_category", "merge_category"} <= set(
        hist["action"])
    # the merged category's own rows are kept in the store
    raw = project._db.read().execute(
        "SELECT COUNT(*) FROM error_tags WHERE session_id = ?", (s.id,)).fetchone()[0]
    assert raw == 6


def test_untag_and_errors(project, preds):
    s = new_session(project, preds, n=5)
    eid = s.sample_ids()[0]
    s.tag(eid, BUILTIN_CATEGORY)
    assert s.untag(eid, BUILTIN_CATEGORY)
    assert not s.tag_table().set_index("id").loc[eid, BUILTIN_CATEGORY]
    with pytest.raises(KeyError, match="Unknown category"):
        s.tag(eid, "nope")
    not_sampled = next(i for i in preds.id if i not in s.sample_ids())
    with pytest.raises(KeyError, match="not among the sampled"):
        s.tag(not_sampled, BUILTIN_CATEGORY)
    with pytest.raises(ValueError, match="already exists"):
        s.add_category("Incorrectly Labelled")
    with pytest.raises(ValueError, match="fixed spreadsheet column"):
        s.add_category("note")
    with pytest.raises(ValueError, match="built-in"):
        s.add_category("x1")
        s.merge_categories(BUILTIN_CATEGORY, "x1")


def test_features_by_id_and_reserved_names(project, preds):
    feats = preds[["id", "brightness"]].sample(frac=1, random_state=0)  # shuffled: by id
    s = new_session(project, preds[["id", "y_true", "y_pred"]], n=5, features=feats)
    got = s.features().loc[preds.id[:3], "brightness"].to_numpy()
    assert got.tolist() == preds.brightness[:3].tolist()
    with pytest.raises(ValueError, match="rename them"):
        new_session(project, preds.assign(note="n"), features=["note"])
    with pytest.raises(ValueError, match="lack 1 prediction ids"):
        new_session(project, preds, features=feats.iloc[1:])


def test_delete_a_session_keeps_the_others(project, preds):
    keep = new_session(project, preds, n=5)
    gone = new_session(project, preds, n=5, payload=[str(i) for i in range(len(preds))])
    keep.tag(keep.sample_ids()[0], BUILTIN_CATEGORY)
    gone.tag(gone.sample_ids()[0], BUILTIN_CATEGORY)
    gone.add_category("x1")
    gone.merge_categories("x1", BUILTIN_CATEGORY)
    project.delete_error_session(gone.id)
    assert project.error_sessions()["id"].tolist() == [keep.id]
    assert keep.tag_table()[BUILTIN_CATEGORY].sum() == 1
    with pytest.raises(KeyError):
        open_session(project, gone.id)
