"""Error-analysis sessions: sampled examples, categories, tags, notes and their audit log.

Tags are stored one row per cell, ``(session, example, category) -> value``, so two
people tagging at once never overwrite each other's cells: every change is its own
``BEGIN IMMEDIATE`` transaction that touches one row (plus its audit row), and no
code path writes a whole table back. Tags point at a category *id*, so renaming a
category changes one name and keeps every tag; merging copies the source's tags
onto the target and retires the source (its own rows stay, nothing is deleted).

Every change appends to ``error_audit``; its autoincrement id is the store's
*revision*. A spreadsheet export records the revision it was taken at, so an import
can tell a cell the spreadsheet user changed from a cell someone else changed in the
store since the export (see :meth:`SessionsMixin.apply_error_changes`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.store._codec import decode_labels, from_json, stack_floats, to_json
from mlstrat.store._db import Database, inserted_id

MIGRATIONS: list[str] = [
    """
    CREATE TABLE error_sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        run_id INTEGER,
        split TEXT,
        label_kind TEXT NOT NULL,
        classes TEXT,
        n_examples INTEGER NOT NULL,
        n_errors INTEGER NOT NULL,
        n_sampled INTEGER NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        payload_kind TEXT
    );
    CREATE TABLE error_examples (
        session_id INTEGER NOT NULL REFERENCES error_sessions(id) ON DELETE CASCADE,
        example_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        y_true TEXT NOT NULL,
        y_pred TEXT NOT NULL,
        is_error INTEGER NOT NULL,
        sample_rank INTEGER,
        proba BLOB,
        features TEXT,
        PRIMARY KEY (session_id, example_id)
    );
    CREATE INDEX error_examples_sample ON error_examples (session_id, sample_rank);
    CREATE TABLE error_payloads (
        session_id INTEGER NOT NULL,
        example_id TEXT NOT NULL,
        text TEXT,
        data BLOB,
        meta TEXT,
        PRIMARY KEY (session_id, example_id),
        FOREIGN KEY (session_id, example_id)
            REFERENCES error_examples (session_id, example_id) ON DELETE CASCADE
    );
    CREATE TABLE error_categories (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES error_sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        merged_into INTEGER REFERENCES error_categories(id)
    );
    CREATE UNIQUE INDEX error_categories_active_name
        ON error_categories (session_id, name COLLATE NOCASE) WHERE merged_into IS NULL;
    CREATE TABLE error_tags (
        session_id INTEGER NOT NULL,
        example_id TEXT NOT NULL,
        category_id INTEGER NOT NULL REFERENCES error_categories(id),
        value INTEGER NOT NULL,
        tagged_by TEXT NOT NULL,
        tagged_at TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (session_id, example_id, category_id),
        FOREIGN KEY (session_id, example_id)
            REFERENCES error_examples (session_id, example_id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE error_notes (
        session_id INTEGER NOT NULL,
        example_id TEXT NOT NULL,
        note TEXT NOT NULL,
        noted_by TEXT NOT NULL,
        noted_at TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (session_id, example_id),
        FOREIGN KEY (session_id, example_id)
            REFERENCES error_examples (session_id, example_id) ON DELETE CASCADE
    );
    CREATE TABLE error_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES error_sessions(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        example_id TEXT,
        category_id INTEGER,
        category TEXT,
        old TEXT,
        new TEXT,
        source TEXT NOT NULL DEFAULT 'api'
    );
    CREATE INDEX error_audit_cell ON error_audit (session_id, example_id, category_id, id)
    """,
]

#: Column names a category may not take: the spreadsheet's fixed columns.
RESERVED_COLUMNS = ("id", "y_true", "y_pred", "note", "payload", "mlstrat_revision")
MAX_CATEGORY_LENGTH = 80
_ACTIVE = "SELECT id FROM error_categories WHERE session_id = ? AND merged_into IS NULL"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def current_user() -> str:
    """The login name used as 'who tagged' when none is given."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 - no login name on some containers
        return "unknown"


class SessionsMixin:
    """The error-analysis part of :class:`~mlstrat.store.Project`.

    Low-level storage only; :mod:`mlstrat.errors` holds the sampling, the
    statistics and the spreadsheets, and is what users call.
    """

    _db: Database

    # -- sessions ----------------------------------------------------------
    def create_error_session(
        self,
        name: str,
        examples: pd.DataFrame,
        *,
        label_kind: str,
        classes: Sequence[str] | None,
        categories: Sequence[str],
        settings: Mapping[str, Any],
        run_id: int | None = None,
        split: str | None = None,
        payloads: Sequence[tuple[str, str | None, bytes | None, dict | None]] = (),
        payload_kind: str | None = None,
        by: str | None = None,
    ) -> int:
        """Store a session in one transaction and return its id.

        ``examples`` holds one row per example of the evaluated split with columns
        ``id``, ``position``, ``y_true``, ``y_pred`` (text), ``is_error`` (bool),
        ``sample_rank`` (int or NA: the review order of sampled errors),
        ``proba`` (bytes or None) and ``features`` (JSON text or None).
        ``payloads`` holds ``(example_id, text, data, meta)`` tuples.
        """
        by = by or current_user()
        now = _now()
        names = [check_category_name(c) for c in categories]
        _check_unique_names(names)
        sample_rank = examples["sample_rank"]
        ranks = [None if pd.isna(r) else int(r) for r in sample_rank.tolist()]
        rows = list(zip(
            examples["id"].tolist(), examples["position"].astype(int).tolist(),
            examples["y_true"].tolist(), examples["y_pred"].tolist(),
            examples["is_error"].astype(int).tolist(), ranks,
            examples["proba"].tolist(), examples["features"].tolist(), strict=True,
        ))
        n_errors = int(np.sum(examples["is_error"].to_numpy(dtype=bool)))
        n_sampled = int(sample_rank.notna().sum())
        with self._db.transaction() as conn:
            sid = inserted_id(conn.execute(
                "INSERT INTO error_sessions (name, created_at, created_by, run_id, split,"
                " label_kind, classes, n_examples, n_errors, n_sampled, settings,"
                " payload_kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (name, now, by, run_id, split, label_kind,
                 None if classes is None else to_json(list(classes)), len(examples),
                 n_errors, n_sampled, to_json(dict(settings)), payload_kind),
            ))
            conn.executemany(
                "INSERT INTO error_examples (session_id, example_id, position, y_true,"
                " y_pred, is_error, sample_rank, proba, features)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                ((sid, *row) for row in rows),
            )
            conn.executemany(
                "INSERT INTO error_payloads (session_id, example_id, text, data, meta)"
                " VALUES (?,?,?,?,?)",
                ((sid, eid, text, data, None if meta is None else to_json(meta))
                 for eid, text, data, meta in payloads),
            )
            for i, cat in enumerate(names):
                self._insert_category(conn, sid, cat, builtin=i == 0, by=by, now=now)
            self._audit(conn, sid, by, "create_session", new=name, now=now)
        return int(sid)

    def error_sessions(self) -> pd.DataFrame:
        """One row per error-analysis session, oldest first."""
        return pd.read_sql_query(
            "SELECT id, name, created_at, created_by, run_id, split, n_examples,"
            " n_errors, n_sampled FROM error_sessions ORDER BY id",
            self._db.read(),
        )

    def get_error_session(self, session: int | str) -> dict[str, Any]:
        """A session's record, by id or by name (the newest with that name)."""
        conn = self._db.read()
        cols = [c[0] for c in conn.execute("SELECT * FROM error_sessions LIMIT 0").description]
        row = None
        if isinstance(session, (int, np.integer)) or str(session).isdigit():
            row = conn.execute(
                "SELECT * FROM error_sessions WHERE id = ?", (int(session),)
            ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT * FROM error_sessions WHERE name = ? ORDER BY id DESC LIMIT 1",
                (str(session),),
            ).fetchone()
        if row is None:
            known = [f"{i} ({n})" for i, n in
                     conn.execute("SELECT id, name FROM error_sessions ORDER BY id")]
            raise KeyError(
                f"No error-analysis session {session!r} in {self._db.path}. "
                f"Known sessions: {known[-20:] or 'none'}. Create one with "
                "mlstrat.errors.new_session (or `mlstrat errors new`)."
            )
        rec = dict(zip(cols, row, strict=True))
        rec["classes"] = from_json(rec["classes"])
        rec["settings"] = from_json(rec["settings"]) or {}
        return rec

    def delete_error_session(self, session_id: int) -> None:
        """Delete a session and everything in it (its tags included)."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM error_tags WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM error_notes WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM error_payloads WHERE session_id = ?", (session_id,))
            conn.execute("UPDATE error_categories SET merged_into = NULL"
                         " WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM error_categories WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM error_sessions WHERE id = ?", (session_id,))

    # -- examples ------------------------------------------------------------
    def error_examples(self, session_id: int, *, sampled_only: bool = True) -> pd.DataFrame:
        """Examples of a session: id, position, y_true, y_pred, is_error,
        sample_rank, features (dict or None) and ``proba_<class>`` columns when
        probabilities were stored. Sampled errors come in review order."""
        rec = self.get_error_session(session_id)
        query = ("SELECT example_id, position, y_true, y_pred, is_error, sample_rank,"
                 " proba, features FROM error_examples WHERE session_id = ?")
        if sampled_only:
            query += " AND sample_rank IS NOT NULL ORDER BY sample_rank"
        else:
            query += " ORDER BY position"
        rows = self._db.read().execute(query, (rec["id"],)).fetchall()
        frame = pd.DataFrame(rows, columns=["id", "position", "y_true", "y_pred", "is_error",
                                            "sample_rank", "proba", "features"])
        frame["y_true"] = decode_labels(frame["y_true"].tolist(), rec["label_kind"])
        frame["y_pred"] = decode_labels(frame["y_pred"].tolist(), rec["label_kind"])
        frame["is_error"] = frame["is_error"].astype(bool)
        frame["sample_rank"] = frame["sample_rank"].astype("Int64")
        frame["features"] = [from_json(f) for f in frame["features"]]
        blobs = frame.pop("proba")
        if len(frame) and blobs.notna().all():
            proba = stack_floats(blobs)
            names = rec["classes"] or [str(j) for j in range(proba.shape[1])]
            for j, cls in enumerate(names[: proba.shape[1]]):
                frame[f"proba_{cls}"] = proba[:, j]
        return frame

    def error_sample_ids(self, session_id: int) -> list[str]:
        """Ids of the sampled errors, in review order."""
        return [r[0] for r in self._db.read().execute(
            "SELECT example_id FROM error_examples WHERE session_id = ?"
            " AND sample_rank IS NOT NULL ORDER BY sample_rank", (session_id,))]

    def error_payload(self, session_id: int, example_id: str) -> tuple[str | None, bytes | None,
                                                                     dict | None] | None:
        """``(text, data, meta)`` of an example's payload, or None."""
        row = self._db.read().execute(
            "SELECT text, data, meta FROM error_payloads WHERE session_id = ?"
            " AND example_id = ?", (session_id, str(example_id))).fetchone()
        if row is None:
            return None
        return row[0], row[1], from_json(row[2])

    # -- categories ------------------------------------------------------------
    def error_categories(self, session_id: int, *, include_merged: bool = False) -> pd.DataFrame:
        """Categories in creation order: id, name, builtin, created_at,
        created_by, merged_into (retired categories only with ``include_merged``)."""
        query = ("SELECT id, name, builtin, created_at, created_by, merged_into"
                 " FROM error_categories WHERE session_id = ?")
        if not include_merged:
            query += " AND merged_into IS NULL"
        frame = pd.read_sql_query(query + " ORDER BY id", self._db.read(),
                                  params=(session_id,))
        frame["builtin"] = frame["builtin"].astype(bool)
        return frame

    def add_error_category(self, session_id: int, name: str, *, by: str | None = None) -> int:
        """Add a category (one transaction); returns its id."""
        by = by or current_user()
        name = check_category_name(name)
        with self._db.transaction() as conn:
            self._require_session(conn, session_id)
            if self._category_id(conn, session_id, name, missing_ok=True) is not None:
                raise ValueError(f"Category {name!r} already exists in session {session_id}.")
            return self._insert_category(conn, session_id, name, builtin=False, by=by,
                                         now=_now())

    def rename_error_category(self, session_id: int, old: str, new: str, *,
                              by: str | None = None) -> None:
        """Rename a category; its tags follow (they point at the category id)."""
        by = by or current_user()
        new = check_category_name(new)
        with self._db.transaction() as conn:
            cid = self._category_id(conn, session_id, old)
            other = self._category_id(conn, session_id, new, missing_ok=True)
            if other is not None and other != cid:
                raise ValueError(
                    f"Cannot rename {old!r} to {new!r}: a category {new!r} already exists. "
                    "Use merge_categories to fold one into the other."
                )
            current = conn.execute("SELECT name FROM error_categories WHERE id = ?",
                                   (cid,)).fetchone()[0]
            conn.execute("UPDATE error_categories SET name = ? WHERE id = ?", (new, cid))
            self._audit(conn, session_id, by, "rename_category", category_id=cid,
                        category=new, old=current, new=new)

    def merge_error_categories(self, session_id: int, source: str, into: str, *,
                               by: str | None = None) -> int:
        """Fold ``source`` into ``into``: every example tagged ``source`` becomes
        tagged ``into``; ``source`` is retired (its rows are kept). Returns the
        number of tags added to ``into``."""
        by = by or current_user()
        now = _now()
        with self._db.transaction() as conn:
            src = self._category_id(conn, session_id, source)
            dst = self._category_id(conn, session_id, into)
            if src == dst:
                raise ValueError(f"Cannot merge category {source!r} into itself.")
            builtin = conn.execute("SELECT builtin FROM error_categories WHERE id = ?",
                                   (src,)).fetchone()[0]
            if builtin:
                raise ValueError(
                    f"{source!r} is the built-in 'incorrectly labelled' category and cannot "
                    f"be merged away. Merge {into!r} into it instead."
                )
            moved = conn.execute(
                "SELECT s.example_id FROM error_tags s LEFT JOIN error_tags d"
                " ON d.session_id = s.session_id AND d.example_id = s.example_id"
                " AND d.category_id = ? WHERE s.session_id = ? AND s.category_id = ?"
                " AND s.value = 1 AND COALESCE(d.value, 0) = 0",
                (dst, session_id, src),
            ).fetchall()
            dst_name = conn.execute("SELECT name FROM error_categories WHERE id = ?",
                                    (dst,)).fetchone()[0]
            for (eid,) in moved:
                self._write_tag(conn, session_id, eid, dst, dst_name, True, by, now,
                                f"merge:{source}")
            conn.execute("UPDATE error_categories SET merged_into = ? WHERE id = ?", (dst, src))
            self._audit(conn, session_id, by, "merge_category", category_id=src,
                        category=source, old=source, new=dst_name, now=now)
        return len(moved)

    # -- tags and notes ----------------------------------------------------------
    def set_error_tag(self, session_id: int, example_id: str, category: str,
                      value: bool = True, *, by: str | None = None) -> bool:
        """Set one cell in its own transaction. Returns True if it changed."""
        by = by or current_user()
        with self._db.transaction() as conn:
            self._require_example(conn, session_id, example_id)
            cid = self._category_id(conn, session_id, category)
            old = self._tag_value(conn, session_id, example_id, cid)
            if old == bool(value):
                return False
            name = conn.execute("SELECT name FROM error_categories WHERE id = ?",
                                (cid,)).fetchone()[0]
            self._write_tag(conn, session_id, str(example_id), cid, name, bool(value), by,
                            _now(), "api")
        return True

    def set_error_note(self, session_id: int, example_id: str, note: str, *,
                       by: str | None = None) -> bool:
        """Set an example's note in its own transaction. Returns True if it changed."""
        by = by or current_user()
        if not isinstance(note, str):
            raise TypeError(f"A note must be a str. Got {type(note).__name__}.")
        with self._db.transaction() as conn:
            self._require_example(conn, session_id, example_id)
            old = self._note_value(conn, session_id, example_id)
            if old == note:
                return False
            self._write_note(conn, session_id, str(example_id), old, note, by, _now(), "api")
        return True

    def error_tags(self, session_id: int) -> pd.DataFrame:
        """Long table of tag cells: example_id, category_id, category, value,
        tagged_by, tagged_at, revision (cells explicitly cleared have value False)."""
        frame = pd.read_sql_query(
            "SELECT t.example_id, t.category_id, c.name AS category, t.value,"
            " t.tagged_by, t.tagged_at, t.revision FROM error_tags t"
            " JOIN error_categories c ON c.id = t.category_id"
            " WHERE t.session_id = ? AND c.merged_into IS NULL ORDER BY t.revision",
            self._db.read(), params=(session_id,))
        frame["value"] = frame["value"].astype(bool)
        return frame

    def error_tag_counts(self, session_id: int) -> dict[int, int]:
        """Set tags per active category id (tags exist only on sampled errors)."""
        return dict(self._db.read().execute(
            "SELECT category_id, COUNT(*) FROM error_tags WHERE session_id = ? AND value = 1"
            f" AND category_id IN ({_ACTIVE}) GROUP BY category_id",
            (session_id, session_id)).fetchall())

    def error_tag_overlap(self, session_id: int, category_id: int) -> dict[int, int]:
        """For each other active category, how many examples carry both it and
        ``category_id`` (the paired counts a McNemar test needs)."""
        return dict(self._db.read().execute(
            "SELECT b.category_id, COUNT(*) FROM error_tags a JOIN error_tags b"
            " ON b.session_id = a.session_id AND b.example_id = a.example_id"
            " WHERE a.session_id = ? AND a.category_id = ? AND a.value = 1 AND b.value = 1"
            f" AND b.category_id != a.category_id AND b.category_id IN ({_ACTIVE})"
            " GROUP BY b.category_id", (session_id, int(category_id), session_id)).fetchall())

    def error_touched_count(self, session_id: int) -> int:
        """Sampled errors with at least one set tag or a non-empty note."""
        conn = self._db.read()
        tagged = conn.execute(
            "SELECT COUNT(DISTINCT example_id) FROM error_tags WHERE session_id = ?"
            f" AND value = 1 AND category_id IN ({_ACTIVE})",
            (session_id, session_id)).fetchone()[0]
        noted = conn.execute(
            "SELECT COUNT(*) FROM error_notes n WHERE n.session_id = ? AND n.note != ''"
            " AND NOT EXISTS (SELECT 1 FROM error_tags t WHERE t.session_id = n.session_id"
            f" AND t.example_id = n.example_id AND t.value = 1 AND t.category_id IN ({_ACTIVE}))",
            (session_id, session_id)).fetchone()[0]
        return int(tagged + noted)

    def error_notes(self, session_id: int) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT example_id, note, noted_by, noted_at, revision FROM error_notes"
            " WHERE session_id = ? ORDER BY revision", self._db.read(),
            params=(session_id,))

    def error_audit(self, session_id: int) -> pd.DataFrame:
        """Every change of a session, oldest first (the revision is ``id``)."""
        return pd.read_sql_query(
            "SELECT id AS revision, at, who, action, example_id, category, old, new, source"
            " FROM error_audit WHERE session_id = ? ORDER BY id", self._db.read(),
            params=(session_id,))

    def error_snapshot(self, session_id: int) -> dict[str, Any]:
        """A consistent read of what an export needs: sampled examples, active
        categories, tag cells, notes and the revision they were read at."""
        with self._read_snapshot() as conn:
            revision = conn.execute(
                "SELECT COALESCE(MAX(id), 0) FROM error_audit WHERE session_id = ?",
                (session_id,)).fetchone()[0]
            examples = self.error_examples(session_id)
            categories = self.error_categories(session_id)
            tags = self.error_tags(session_id)
            notes = self.error_notes(session_id)
        return {"revision": int(revision), "examples": examples, "categories": categories,
                "tags": tags, "notes": notes}

    # -- a whole import in one transaction -----------------------------------------
    def apply_error_changes(
        self,
        session_id: int,
        tags: Iterable[tuple[str, str, bool]],
        notes: Iterable[tuple[str, str]] = (),
        *,
        new_categories: Sequence[str] = (),
        base_revision: int | None = None,
        by: str | None = None,
        source: str = "import",
    ) -> dict[str, Any]:
        """Apply a batch of cell values in ONE transaction: all of it or none.

        ``tags`` holds ``(example_id, category_name, value)`` and ``notes``
        ``(example_id, note)``, as read from a spreadsheet. Only cells whose value
        differs from the store are written. With ``base_revision`` (the revision the
        spreadsheet was exported at), a cell someone changed in the store after the
        export keeps the store's newer value unless the spreadsheet changed it too
        (a conflict, reported; for tags the spreadsheet's deliberate change wins,
        for notes the store's newer note is kept). Without it, the spreadsheet's
        value wins for every differing cell.

        Each tag cell is compared with the store as it was before the batch (a
        cell given twice is compared twice). Unchanged cells are filtered in bulk
        (one join of the batch against the stored tags); only cells changed in the
        store after ``base_revision`` are looked up one by one in the audit log,
        and the changes are written with one ``executemany`` of audit rows (their
        ids, in batch order, are the tags' revisions) and one upsert of the tags.

        Returns counts: ``tagged``, ``untagged``, ``notes``, ``unchanged``,
        ``kept_newer`` and ``conflicts`` (a list of dicts), ``created`` (category names).
        """
        by = by or current_user()
        now = _now()
        report: dict[str, Any] = {"tagged": 0, "untagged": 0, "notes": 0, "unchanged": 0,
                                  "kept_newer": 0, "conflicts": [], "created": []}
        eids, names, values = _tag_columns(tags)
        with self._db.transaction() as conn:
            self._require_session(conn, session_id)
            for name in new_categories:
                self._insert_category(conn, session_id, check_category_name(name),
                                      builtin=False, by=by, now=now)
                report["created"].append(name)
            cids, cat_names = _category_ids(conn, session_id, names)
            old, rev = _stored_tags(conn, session_id, eids, cids)
            changed = old != values
            kept = self._kept_newer(conn, session_id, eids, cids, values,
                                    changed, rev, base_revision)
            write = changed & ~kept
            report["unchanged"] += int(np.count_nonzero(~changed))
            report["kept_newer"] += int(np.count_nonzero(kept))
            report["tagged"] = int(np.count_nonzero(write & values))
            report["untagged"] = int(np.count_nonzero(write & ~values))
            self._write_tags(conn, session_id, [(eids[i], cids[i], values[i]) for i in
                                                np.flatnonzero(write).tolist()],
                             cat_names, by, now, source)
            self._apply_notes(conn, session_id, notes, base_revision, by, now, source, report)
        return report

    def _kept_newer(self, conn, session_id: int, eids: Sequence[Any], cids: Sequence[int],
                    values: np.ndarray, changed: np.ndarray, rev: np.ndarray,
                    base_revision: int | None) -> np.ndarray:
        """True where a changed cell, changed in the store after ``base_revision``
        (its revision ``rev`` is newer), holds in the sheet the value it had at the
        export: the store's newer value is kept. Only those cells are looked up."""
        kept = np.zeros(len(values), dtype=bool)
        if base_revision is None:
            return kept
        for i in np.flatnonzero(changed & (rev > base_revision)).tolist():
            was = self._value_at(conn, session_id, eids[i], cids[i], base_revision)
            kept[i] = bool(values[i]) == (was == "1")  # the sheet kept the exported value
        return kept

    def _write_tags(self, conn, session_id: int, cells: Sequence[tuple[Any, int, Any]],
                    cat_names: Mapping[int, str], by: str, now: str, source: str) -> None:
        """Write ``(example_id, category_id, value)`` cells: one audit row each, in
        order, then every tag upserted with its audit row's id as revision."""
        if not cells:
            return
        before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM error_audit").fetchone()[0]
        conn.executemany(
            "INSERT INTO error_audit (session_id, at, who, action, example_id, category_id,"
            " category, old, new, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(session_id, now, by, "tag" if v else "untag", eid, cid, cat_names[cid],
              "0" if v else "1", "1" if v else "0", source) for eid, cid, v in cells])
        conn.execute(
            "INSERT INTO error_tags (session_id, example_id, category_id, value, tagged_by,"
            " tagged_at, revision) SELECT session_id, example_id, category_id, new = '1',"
            " who, at, id FROM error_audit WHERE id > ? AND session_id = ?"
            " AND action IN ('tag', 'untag') ORDER BY example_id, category_id, id"
            " ON CONFLICT(session_id, example_id, category_id) DO UPDATE SET"
            " value = excluded.value, tagged_by = excluded.tagged_by,"
            " tagged_at = excluded.tagged_at, revision = excluded.revision",
            (before, session_id))

    def _apply_notes(self, conn, session_id: int, notes: Iterable[tuple[str, str]],
                     base_revision: int | None, by: str, now: str, source: str,
                     report: dict[str, Any]) -> None:
        """The notes of :meth:`apply_error_changes`, one by one (a sheet holds one
        per row); a note changed in the store after ``base_revision`` is kept."""
        old_notes = {e: (n, r) for e, n, r in conn.execute(
            "SELECT example_id, note, revision FROM error_notes WHERE session_id = ?",
            (session_id,))}
        for eid, note in notes:
            old, rev = old_notes.get(eid, ("", 0))
            if old == note:
                report["unchanged"] += 1
                continue
            if base_revision is not None and rev > base_revision:
                was = self._value_at(conn, session_id, eid, None, base_revision) or ""
                if note == was:
                    report["kept_newer"] += 1
                    continue
                report["conflicts"].append(
                    {"id": eid, "column": "note", "sheet": note, "store": old,
                     "kept": "store"})
                continue
            self._write_note(conn, session_id, eid, old if eid in old_notes else None,
                             note, by, now, source)
            report["notes"] += 1

    # -- internals -------------------------------------------------------------------
    @contextlib.contextmanager
    def _read_snapshot(self) -> Iterator[Any]:
        """A read transaction: every SELECT inside sees the same committed state."""
        conn = self._db.read()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN DEFERRED")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @staticmethod
    def _require_session(conn, session_id: int) -> None:
        if conn.execute("SELECT 1 FROM error_sessions WHERE id = ?",
                        (int(session_id),)).fetchone() is None:
            raise KeyError(f"No error-analysis session with id {session_id}.")

    @staticmethod
    def _require_example(conn, session_id: int, example_id: str) -> None:
        row = conn.execute(
            "SELECT sample_rank FROM error_examples WHERE session_id = ? AND example_id = ?",
            (session_id, str(example_id))).fetchone()
        if row is None or row[0] is None:
            raise KeyError(
                f"Example {str(example_id)!r} is not among the sampled errors of session "
                f"{session_id}; only sampled errors are tagged."
            )

    @staticmethod
    def _category_id(conn, session_id: int, name: str, *, missing_ok: bool = False):
        row = conn.execute(
            "SELECT id FROM error_categories WHERE session_id = ? AND merged_into IS NULL"
            " AND name = ? COLLATE NOCASE", (session_id, str(name))).fetchone()
        if row is not None:
            return row[0]
        if missing_ok:
            return None
        known = [r[0] for r in conn.execute(
            "SELECT name FROM error_categories WHERE session_id = ? AND merged_into IS NULL"
            " ORDER BY id", (session_id,))]
        raise KeyError(f"Unknown category {name!r} in session {session_id}. "
                       f"Known categories: {known}. Add it first with add_category.")

    def _insert_category(self, conn, session_id: int, name: str, *, builtin: bool,
                         by: str, now: str) -> int:
        if self._category_id(conn, session_id, name, missing_ok=True) is not None:
            raise ValueError(f"Category {name!r} already exists in session {session_id}.")
        cid = conn.execute(
            "INSERT INTO error_categories (session_id, name, builtin, created_at, created_by)"
            " VALUES (?,?,?,?,?)", (session_id, name, int(builtin), now, by)).lastrowid
        self._audit(conn, session_id, by, "add_category", category_id=cid, category=name,
                    new=name, now=now)
        return int(cid)

    @staticmethod
    def _tag_value(conn, session_id: int, example_id: str, cid: int) -> bool:
        row = conn.execute(
            "SELECT value FROM error_tags WHERE session_id = ? AND example_id = ?"
            " AND category_id = ?", (session_id, str(example_id), cid)).fetchone()
        return bool(row and row[0])

    @staticmethod
    def _note_value(conn, session_id: int, example_id: str) -> str | None:
        row = conn.execute("SELECT note FROM error_notes WHERE session_id = ? AND"
                           " example_id = ?", (session_id, str(example_id))).fetchone()
        return None if row is None else row[0]

    @staticmethod
    def _value_at(conn, session_id: int, example_id: str, cid: int | None,
                  revision: int) -> str | None:
        """A tag ('1'/'0') or note as it was at ``revision`` (None: never set)."""
        if cid is None:
            row = conn.execute(
                "SELECT new FROM error_audit WHERE session_id = ? AND example_id = ?"
                " AND action = 'note' AND id <= ? ORDER BY id DESC LIMIT 1",
                (session_id, example_id, revision)).fetchone()
        else:
            row = conn.execute(
                "SELECT new FROM error_audit WHERE session_id = ? AND example_id = ?"
                " AND category_id = ? AND action IN ('tag', 'untag') AND id <= ?"
                " ORDER BY id DESC LIMIT 1",
                (session_id, example_id, cid, revision)).fetchone()
        return None if row is None else row[0]

    def _write_tag(self, conn, session_id: int, example_id: str, cid: int, name: str,
                   value: bool, by: str, now: str, source: str) -> None:
        rev = self._audit(conn, session_id, by, "tag" if value else "untag",
                          example_id=example_id, category_id=cid, category=name,
                          old="0" if value else "1", new="1" if value else "0",
                          now=now, source=source)
        conn.execute(
            "INSERT INTO error_tags (session_id, example_id, category_id, value, tagged_by,"
            " tagged_at, revision) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT(session_id, example_id, category_id) DO UPDATE SET"
            " value = excluded.value, tagged_by = excluded.tagged_by,"
            " tagged_at = excluded.tagged_at, revision = excluded.revision",
            (session_id, example_id, cid, int(value), by, now, rev))

    def _write_note(self, conn, session_id: int, example_id: str, old: str | None,
                    note: str, by: str, now: str, source: str) -> None:
        rev = self._audit(conn, session_id, by, "note", example_id=example_id,
                          old=old, new=note, now=now, source=source)
        conn.execute(
            "INSERT INTO error_notes (session_id, example_id, note, noted_by, noted_at,"
            " revision) VALUES (?,?,?,?,?,?) ON CONFLICT(session_id, example_id) DO UPDATE"
            " SET note = excluded.note, noted_by = excluded.noted_by,"
            " noted_at = excluded.noted_at, revision = excluded.revision",
            (session_id, example_id, note, by, now, rev))

    @staticmethod
    def _audit(conn, session_id: int, who: str, action: str, *, example_id: str | None = None,
               category_id: int | None = None, category: str | None = None,
               old: str | None = None, new: str | None = None, now: str | None = None,
               source: str = "api") -> int:
        return int(conn.execute(
            "INSERT INTO error_audit (session_id, at, who, action, example_id, category_id,"
            " category, old, new, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (session_id, now or _now(), who, action, example_id, category_id, category,
             old, new, source)).lastrowid)


def check_category_name(name: Any) -> str:
    """A category name, stripped; raises ValueError when unusable.

    Examples
    --------
    >>> check_category_name("  blurry ")
    'blurry'
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"A category name must be a non-empty str. Got {name!r}.")
    name = name.strip()
    if len(name) > MAX_CATEGORY_LENGTH:
        raise ValueError(f"A category name must be at most {MAX_CATEGORY_LENGTH} characters."
                         f" Got {len(name)}: {name[:30]!r}...")
    if name.casefold() in RESERVED_COLUMNS:
        raise ValueError(f"{name!r} names a fixed spreadsheet column and cannot be a "
                         f"category. Reserved names: {list(RESERVED_COLUMNS)}.")
    if any(ch in name for ch in "\t\r\n") or name[0] in "=+-@'":
        raise ValueError(f"A category name may not start with = + - @ ' or hold tabs or "
                         f"line breaks (it becomes a spreadsheet header). Got {name!r}.")
    return name


def _check_unique_names(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for n in names:
        if n.casefold() in seen:
            raise ValueError(f"Category {n!r} is given twice (names ignore case).")
        seen.add(n.casefold())


def _tag_columns(tags: Iterable[tuple[Any, str, Any]]) -> tuple[list[Any], list[str],
                                                                 np.ndarray]:
    """``(example_id, category, value)`` rows as three columns (values as bools).

    Examples
    --------
    >>> _tag_columns([("a", "blurry", 1), ("b", "dark", False)])
    (['a', 'b'], ['blurry', 'dark'], array([ True, False]))
    """
    rows = list(tags)
    if rows and set(map(len, rows)) != {3}:
        bad = next(i for i, row in enumerate(rows) if len(row) != 3)
        raise ValueError(f"Each tag must be an (example_id, category, value) tuple; tag "
                         f"{bad} is {rows[bad]!r}.")
    eids, names, values = (list(map(itemgetter(j), rows)) for j in range(3))
    return eids, names, np.fromiter(map(bool, values), dtype=bool, count=len(values))


def _category_ids(conn, session_id: int, names: Sequence[str]) -> tuple[list[int],
                                                                       dict[int, str]]:
    """The active category id of each name (any case), and each id's stored name."""
    active = {n.casefold(): (cid, n) for cid, n in conn.execute(
        "SELECT id, name FROM error_categories WHERE session_id = ?"
        " AND merged_into IS NULL", (session_id,))}
    codes, uniques = pd.factorize(pd.Series(names, dtype=object), use_na_sentinel=False)
    ids = []
    for name in uniques.tolist():
        if name.casefold() not in active:
            raise KeyError(f"Unknown category {name!r} in session {session_id}. Known "
                           f"categories: {[n for _, n in active.values()]}. Add it first "
                           "with add_category (or new_categories).")
        ids.append(active[name.casefold()][0])
    cids = np.asarray(ids, dtype=np.int64)[codes].tolist() if ids else []
    return cids, {cid: n for cid, n in active.values()}


def _stored_tags(conn, session_id: int, eids: Sequence[Any],
                 cids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Stored value (False when absent) and revision (0) of each ``(eid, cid)`` cell,
    found with one join of the batch against the session's tags."""
    n = len(eids)
    rows = conn.execute("SELECT example_id, category_id, value, revision FROM error_tags"
                        " WHERE session_id = ?", (session_id,)).fetchall()
    if not n or not rows:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    s_eids, s_cids, s_values, s_revs = (list(map(itemgetter(j), rows)) for j in range(4))
    codes, _ = pd.factorize(pd.Series([*eids, *s_eids], dtype=object), use_na_sentinel=False)
    span = max(max(cids), max(s_cids)) + 1
    keys = codes.astype(np.int64) * span + np.asarray([*cids, *s_cids], dtype=np.int64)
    pos = pd.Index(keys[n:]).get_indexer(keys[:n])
    found = pos >= 0
    old = np.zeros(n, dtype=bool)
    rev = np.zeros(n, dtype=np.int64)
    old[found] = np.asarray(s_values, dtype=bool)[pos[found]]
    rev[found] = np.asarray(s_revs, dtype=np.int64)[pos[found]]
    return old, rev
