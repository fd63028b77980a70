"""``apply_error_changes`` (bulk filter, batched writes) against the per-cell loop it
replaced, kept below as ``_reference_apply``: same counts, conflicts, tags, notes and
audit rows on randomized batches of changed, unchanged and conflicting cells."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from mlstrat.errors import BUILTIN_CATEGORY, new_session
from mlstrat.store import open_project
from mlstrat.store._sessions import check_category_name, current_user

CATEGORIES = (BUILTIN_CATEGORY, "blurry", "dark", "occluded")


def _reference_apply(project, session_id, tags, notes=(), *, new_categories=(),
                     base_revision=None, by=None, source="import"):
    """The per-cell implementation of ``apply_error_changes`` before it was batched
    (commit 92455db), verbatim but for ``self`` -> ``project``."""
    from mlstrat.store._sessions import _now

    by = by or current_user()
    now = _now()
    report = {"tagged": 0, "untagged": 0, "notes": 0, "unchanged": 0,
              "kept_newer": 0, "conflicts": [], "created": []}
    with project._db.transaction() as conn:
        project._require_session(conn, session_id)
        for name in new_categories:
            project._insert_category(conn, session_id, check_category_name(name),
                                     builtin=False, by=by, now=now)
            report["created"].append(name)
        cats = {n.casefold(): (cid, n) for cid, n in conn.execute(
            "SELECT id, name FROM error_categories WHERE session_id = ?"
            " AND merged_into IS NULL", (session_id,))}
        current = {(e, c): (bool(v), r) for e, c, v, r in conn.execute(
            "SELECT example_id, category_id, value, revision FROM error_tags"
            " WHERE session_id = ?", (session_id,))}
        for eid, cat, value in tags:
            cid, cname = cats[cat.casefold()]
            old, rev = current.get((eid, cid), (False, 0))
            value = bool(value)
            if old == value:
                report["unchanged"] += 1
                continue
            if base_revision is not None and rev > base_revision:
                was = project._value_at(conn, session_id, eid, cid, base_revision)
                if (value == (was == "1")):
                    report["kept_newer"] += 1
                    continue
            project._write_tag(conn, session_id, eid, cid, cname, value, by, now, source)
            report["tagged" if value else "untagged"] += 1
        old_notes = {e: (n, r) for e, n, r in conn.execute(
            "SELECT example_id, note, revision FROM error_notes WHERE session_id = ?",
            (session_id,))}
        for eid, note in notes:
            old, rev = old_notes.get(eid, ("", 0))
            if old == note:
                report["unchanged"] += 1
                continue
            if base_revision is not None and rev > base_revision:
                was = project._value_at(conn, session_id, eid, None, base_revision) or ""
                if note == was:
                    report["kept_newer"] += 1
                    continue
                report["conflicts"].append(
                    {"id": eid, "column": "note", "sheet": note, "store": old,
                     "kept": "store"})
                continue
            project._write_note(conn, session_id, eid, old if eid in old_notes else None,
                                note, by, now, source)
            report["notes"] += 1
    return report


def _history(project, rng):
    """A session tagged and noted cell by cell, an export's revision, then other
    people's changes after it (some flipped back, some notes rewritten)."""
    y = rng.integers(0, 3, 300)
    preds = pd.DataFrame({"id": [f"ex{i}" for i in range(300)], "y_true": y,
                          "y_pred": (y + 1) % 3})
    s = new_session(project, preds, n=80, categories=CATEGORIES)
    ids = s.sample_ids()
    for eid in ids:
        for cat in CATEGORIES:
            if rng.random() < 0.3:
                project.set_error_tag(s.id, eid, cat, True, by="a")
        if rng.random() < 0.3:
            project.set_error_note(s.id, eid, f"note {eid}", by="a")
    base = project.error_snapshot(s.id)["revision"]
    for eid in ids:
        for cat in CATEGORIES:
            r = rng.random()
            if r < 0.25:  # changed by someone else after the export
                old = project._tag_value(project._db.read(), s.id, eid,
                                         project.error_categories(s.id).set_index("name")
                                         .loc[cat, "id"])
                project.set_error_tag(s.id, eid, cat, not old, by="b")
                if r < 0.08:  # ... and changed back
                    project.set_error_tag(s.id, eid, cat, old, by="b")
        if rng.random() < 0.15:
            project.set_error_note(s.id, eid, f"other {eid}", by="b")
    return s.id, ids, base


def _exported(project, session_id, base):
    """Each cell's value and each note as they were at ``base``."""
    audit = project.error_audit(session_id)
    audit = audit[audit["revision"] <= base]
    tags = {(e, c): n == "1" for e, c, n, a in zip(
        audit["example_id"], audit["category"], audit["new"], audit["action"], strict=True)
        if a in ("tag", "untag")}
    notes = {e: n for e, n, a in zip(audit["example_id"], audit["new"], audit["action"],
                                     strict=True) if a == "note"}
    return tags, notes


def _batch(rng, ids, exported, exported_notes):
    """A sheet: the exported values with about 20% of tags and notes changed, a
    category spelled in another case, a new category and a cell given twice."""
    tags, notes = [], []
    for eid in ids:
        for cat in CATEGORIES:
            value = exported.get((eid, cat), False)
            if rng.random() < 0.2:
                value = not value
            name = cat.upper() if cat == "dark" else cat
            tags.append((eid, name, int(value) if rng.random() < 0.5 else value))
        if rng.random() < 0.3:
            tags.append((eid, "new cat", True))
        note = exported_notes.get(eid, "")
        notes.append((eid, f"sheet {eid}" if rng.random() < 0.2 else note))
    tags.append(tags[3][:2] + (not tags[3][2],))
    tags.append(tags[10])
    order = rng.permutation(len(tags))
    return [tags[i] for i in order], notes


def _state(project, session_id):
    """Every table the import writes, timestamps left out (they are 'now')."""
    conn = project._db.read()
    tags = conn.execute("SELECT example_id, category_id, value, tagged_by, revision"
                        " FROM error_tags WHERE session_id = ? ORDER BY example_id,"
                        " category_id", (session_id,)).fetchall()
    notes = conn.execute("SELECT example_id, note, noted_by, revision FROM error_notes"
                         " WHERE session_id = ? ORDER BY example_id", (session_id,)).fetchall()
    audit = conn.execute("SELECT id, who, action, example_id, category_id, category, old,"
                         " new, source FROM error_audit ORDER BY id").fetchall()
    cats = conn.execute("SELECT id, name, merged_into FROM error_categories"
                        " ORDER BY id").fetchall()
    return {"tags": tags, "notes": notes, "audit": audit, "categories": cats}


@pytest.fixture
def twins(tmp_path, request):
    """Two identical stores holding the same history (one built, one copied)."""
    rng = np.random.default_rng(request.param)
    project = open_project(tmp_path / "a")
    session_id, ids, base = _history(project, rng)
    exported, exported_notes = _exported(project, session_id, base)
    project.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    a, b = open_project(tmp_path / "a"), open_project(tmp_path / "b")
    yield a, b, session_id, ids, base, exported, exported_notes, rng
    a.close()
    b.close()


@pytest.mark.parametrize("twins", [0, 1, 2], indirect=True)
@pytest.mark.parametrize("with_base", [True, False])
def test_batched_apply_matches_the_per_cell_loop(twins, with_base):
    a, b, session_id, ids, base, exported, exported_notes, rng = twins
    tags, notes = _batch(rng, ids, exported, exported_notes)
    kwargs = {"new_categories": ["new cat"], "base_revision": base if with_base else None,
              "by": "sheet", "source": "import:t.xlsx"}
    before = _state(a, session_id)
    assert before == _state(b, session_id)
    got = a.apply_error_changes(session_id, tags, notes, **kwargs)
    want = _reference_apply(b, session_id, tags, notes, **kwargs)
    assert got == want
    after = _state(a, session_id)
    assert after == _state(b, session_id)
    assert after != before
    # the batch exercises every branch of the rules
    assert got["tagged"] > 0 and got["untagged"] > 0 and got["unchanged"] > 0
    if with_base:
        assert got["kept_newer"] > 0 and got["conflicts"]
    assert got["tagged"] + got["untagged"] + got["notes"] == len(after["audit"]) - len(
        before["audit"]) - 1  # one row for the new category


def test_batched_apply_is_all_or_nothing(tmp_path):
    project = open_project(tmp_path / "p")
    rng = np.random.default_rng(5)
    session_id, ids, base = _history(project, rng)
    before = _state(project, session_id)
    tags = [(eid, "blurry", True) for eid in ids] + [(ids[0], "no such", True)]
    with pytest.raises(KeyError, match="Unknown category 'no such'"):
        project.apply_error_changes(session_id, tags, new_categories=["fresh"])
    assert _state(project, session_id) == before
    tags = [(eid, "dark", True) for eid in ids] + [("not sampled", "dark", True)]
    with pytest.raises(Exception, match="FOREIGN KEY"):
        project.apply_error_changes(session_id, tags)
    assert _state(project, session_id) == before
    project.close()


def test_an_unchanged_or_empty_batch_writes_nothing(tmp_path):
    project = open_project(tmp_path / "p")
    session_id, ids, base = _history(project, np.random.default_rng(6))
    tags = project.error_tags(session_id)
    same = list(zip(tags["example_id"], tags["category"], tags["value"], strict=True))
    before = _state(project, session_id)
    report = project.apply_error_changes(session_id, same, base_revision=base)
    assert report["unchanged"] == len(same) > 0
    assert report["tagged"] == report["untagged"] == report["kept_newer"] == 0
    assert project.apply_error_changes(session_id, [])["unchanged"] == 0
    assert _state(project, session_id) == before
    project.close()
