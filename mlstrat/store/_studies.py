"""Tuning studies: search spaces, trials and their per-epoch reports.

A study is a named search with a fixed space and a total budget of
``n_trials``. A trial's parameters are written when it is *claimed*, in the
same transaction that gives it its number, so a restarted or second
process never repeats nor loses one. A claimed trial is ``running`` and its
driver refreshes ``heartbeat_at``; a running trial whose heartbeat is older
than ``stale_after`` seconds (its process died) is put back to ``waiting``
with ``attempts + 1`` and the reason in ``error``, and the next claim takes
it. A trial is finished only by the claim that started it (``attempts``
must match), so a late answer from a process declared dead is dropped.

States: ``waiting``, ``running``, ``complete``, ``pruned`` (stopped by
successive halving at a lower rung), ``failed`` (exception or divergence).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from mlstrat.store._codec import from_json, to_json
from mlstrat.store._db import Database, StoreError, inserted_id

TRIAL_STATES = ("waiting", "running", "complete", "pruned", "failed")
FINISHED_STATES = ("complete", "pruned", "failed")

MIGRATIONS = [
    """
    CREATE TABLE studies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        space TEXT NOT NULL,
        strategy TEXT NOT NULL DEFAULT '{}',
        metric TEXT NOT NULL DEFAULT 'error',
        greater_is_better INTEGER NOT NULL DEFAULT 0,
        n_trials INTEGER NOT NULL,
        seed INTEGER NOT NULL DEFAULT 0,
        config TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE trials (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        params TEXT NOT NULL,
        state TEXT NOT NULL,
        value REAL,
        metrics TEXT NOT NULL DEFAULT '{}',
        rung INTEGER NOT NULL DEFAULT 0,
        bracket INTEGER NOT NULL DEFAULT 0,
        epochs INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 1,
        error TEXT,
        worker TEXT,
        created_at REAL NOT NULL,
        started_at REAL,
        heartbeat_at REAL,
        finished_at REAL,
        UNIQUE (study_id, number)
    );
    CREATE INDEX trials_state ON trials (study_id, state);
    CREATE TABLE trial_epochs (
        trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        PRIMARY KEY (trial_id, epoch)
    )
    """,
]

_TRIAL_COLUMNS = ("id", "number", "params", "state", "value", "metrics", "rung", "bracket",
                  "epochs", "seconds", "attempts", "error", "worker", "created_at",
                  "started_at", "heartbeat_at", "finished_at")


class StudiesMixin:
    """The tuning part of :class:`~mlstrat.store.Project`.

    Examples
    --------
    >>> import tempfile
    >>> from mlstrat.store import Project
    >>> p = Project(tempfile.mkdtemp())
    >>> sid = p.create_study("s", space={"C": {"loguniform": [0.1, 10.0]}}, n_trials=2)
    >>> t = p.claim_trial(sid, "me", propose=lambda number: {"C": 1.0})
    >>> t["number"], t["params"]
    (0, {'C': 1.0})
    >>> p.finish_trial(t["id"], attempts=t["attempts"], state="complete", value=0.1)
    True
    >>> p.trials("s")[["number", "state", "value"]].to_dict("records")
    [{'number': 0, 'state': 'complete', 'value': 0.1}]
    """

    _db: Database

    # -- studies ---------------------------------------------------------
    def create_study(
        self,
        name: str,
        *,
        space: Mapping[str, Any],
        n_trials: int = 0,
        strategy: Mapping[str, Any] | None = None,
        metric: str = "error",
        greater_is_better: bool = False,
        seed: int = 0,
        config: Mapping[str, Any] | None = None,
    ) -> int:
        """Create the study ``name``, or return the id of the existing one.

        An existing study must have the same space (as JSON), strategy and
        optimizing metric (``metric`` and its direction); otherwise a
        :class:`StoreError` names both, so trials of two spaces or two
        metrics never mix. A different ``n_trials`` updates the study's
        total budget; a ``config`` given replaces the stored one.
        """
        if not name or not str(name).strip():
            raise ValueError("A study needs a non-empty name.")
        if int(n_trials) < 0:
            raise ValueError(f"'n_trials' must be an int >= 0. Got {n_trials!r}.")
        space_json = to_json(space)
        with self._db.transaction() as conn:
            row = conn.execute("SELECT id, space, strategy, metric, greater_is_better"
                               " FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO studies (name, created_at, space, strategy, metric,"
                    " greater_is_better, n_trials, seed, config) VALUES (?,?,?,?,?,?,?,?,?)",
                    (name, _now_iso(), space_json, to_json(strategy or {}), metric,
                     int(bool(greater_is_better)), int(n_trials), int(seed),
                     to_json(config or {})),
                )
                return inserted_id(cur)
            study_id, old_space, old_strategy, old_metric, old_greater = row
            if from_json(old_space) != from_json(space_json):
                raise StoreError(
                    f"A study named {name!r} already exists in {self._db.path} with a "
                    f"different search space.\n  stored: {old_space}\n  given:  {space_json}\n"
                    "Use a new study name, or the stored space to resume it."
                )
            if from_json(old_strategy) != from_json(to_json(strategy or {})):
                raise StoreError(
                    f"A study named {name!r} already exists with strategy {old_strategy}; "
                    f"given {to_json(strategy or {})}. Use a new study name to change strategy."
                )
            if (old_metric, bool(old_greater)) != (metric, bool(greater_is_better)):
                raise StoreError(
                    f"A study named {name!r} already exists optimizing {old_metric!r} "
                    f"({_direction(old_greater)}); given {metric!r} "
                    f"({_direction(greater_is_better)}). Reopen it with load_study, or use a "
                    "new study name for another metric.")
            if n_trials:
                conn.execute("UPDATE studies SET n_trials = ? WHERE id = ?",
                             (int(n_trials), study_id))
            if config is not None:
                conn.execute("UPDATE studies SET config = ? WHERE id = ?",
                             (to_json(config), study_id))
            return int(study_id)

    def set_study_budget(self, study_id: int, n_trials: int) -> None:
        """Set the study's total number of trials (all processes together)."""
        if int(n_trials) < 0:
            raise ValueError(f"'n_trials' must be an int >= 0. Got {n_trials!r}.")
        with self._db.transaction() as conn:
            conn.execute("UPDATE studies SET n_trials = ? WHERE id = ?",
                         (int(n_trials), int(study_id)))

    def get_study(self, study: int | str) -> dict[str, Any]:
        """A study's row as a dict (space, strategy and config decoded)."""
        conn = self._db.read()
        key = "id" if isinstance(study, int) else "name"
        cur = conn.execute(f"SELECT * FROM studies WHERE {key} = ?", (study,))
        row = cur.fetchone()
        if row is None:
            known = [r[0] for r in conn.execute("SELECT name FROM studies ORDER BY id")]
            raise KeyError(f"No study {study!r} in {self._db.path}. Known studies: {known}")
        rec = dict(zip([c[0] for c in cur.description], row, strict=True))
        for key in ("space", "strategy", "config"):
            rec[key] = from_json(rec[key])
        rec["greater_is_better"] = bool(rec["greater_is_better"])
        return rec

    def studies(self) -> pd.DataFrame:
        """One row per study with its trial counts per state."""
        conn = self._db.read()
        frame = pd.read_sql_query(
            "SELECT s.id, s.name, s.created_at, s.metric, s.n_trials,"
            " SUM(t.state = 'complete') AS complete, SUM(t.state = 'pruned') AS pruned,"
            " SUM(t.state = 'failed') AS failed, SUM(t.state = 'running') AS running,"
            " COUNT(t.id) AS claimed"
            " FROM studies s LEFT JOIN trials t ON t.study_id = s.id"
            " GROUP BY s.id ORDER BY s.id", conn)
        return frame

    def delete_study(self, study: int | str) -> None:
        study_id = self.get_study(study)["id"]
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM studies WHERE id = ?", (study_id,))

    # -- trials: claim, heartbeat, finish --------------------------------
    def claim_trial(
        self,
        study_id: int,
        worker: str,
        *,
        propose: Callable[[int], Mapping[str, Any] | None] | None = None,
        stale_after: float = 120.0,
        n_trials: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Claim the next trial of a study in one transaction, or None.

        Stale running trials are re-queued first; then the lowest-numbered
        waiting trial is taken; else, while fewer than the study's
        ``n_trials`` (or ``n_trials``) exist, a new one is numbered and
        ``propose(number)`` gives its params (called inside the
        transaction, so it may read the study's trials consistently).
        ``extra`` may hold ``bracket`` and ``rung``: then only waiting
        trials of that rung are taken, and new trials get those values.
        """
        now = time.time()
        with self._db.transaction() as conn:
            self._requeue_stale(conn, study_id, now - stale_after)
            extra = dict(extra or {})
            where, args = "", [study_id]
            for key in ("bracket", "rung"):  # successive halving: this rung only
                if key in extra:
                    where += f" AND {key} = ?"
                    args.append(int(extra[key]))
            row = conn.execute(
                "SELECT id FROM trials WHERE study_id = ? AND state = 'waiting'" + where +
                " ORDER BY number LIMIT 1", args).fetchone()
            if row is not None:
                conn.execute(
                    "UPDATE trials SET state = 'running', worker = ?, started_at = ?,"
                    " heartbeat_at = ? WHERE id = ?", (worker, now, now, row[0]))
                return self._trial_row(conn, row[0])
            total = n_trials if n_trials is not None else conn.execute(
                "SELECT n_trials FROM studies WHERE id = ?", (study_id,)).fetchone()[0]
            count = conn.execute("SELECT COUNT(*) FROM trials WHERE study_id = ?",
                                 (study_id,)).fetchone()[0]
            if count >= total or propose is None:
                return None
            params = propose(count)
            if params is None:
                return None
            cur = conn.execute(
                "INSERT INTO trials (study_id, number, params, state, worker, created_at,"
                " started_at, heartbeat_at, rung, bracket) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (study_id, count, to_json(params), "running", worker, now, now, now,
                 int(extra.get("rung", 0)), int(extra.get("bracket", 0))))
            return self._trial_row(conn, inserted_id(cur))

    def resume_trial(self, trial_id: int, worker: str) -> dict[str, Any]:
        """Mark a finished trial running again (a successive-halving
        survivor continuing to the next rung); returns its row."""
        now = time.time()
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE trials SET state = 'running', worker = ?, heartbeat_at = ?,"
                " attempts = attempts + 1 WHERE id = ?", (worker, now, int(trial_id)))
            return self._trial_row(conn, int(trial_id))

    def heartbeat(self, trial_ids: list[int], worker: str) -> None:
        """Refresh the heartbeat of this worker's running trials."""
        if not trial_ids:
            return
        now = time.time()
        with self._db.transaction() as conn:
            conn.executemany(
                "UPDATE trials SET heartbeat_at = ? WHERE id = ? AND worker = ?"
                " AND state = 'running'", [(now, int(t), worker) for t in trial_ids])

    def requeue_stale(self, study_id: int, stale_after: float = 120.0) -> int:
        """Put back running trials whose heartbeat is older than
        ``stale_after`` seconds; returns how many."""
        with self._db.transaction() as conn:
            return self._requeue_stale(conn, study_id, time.time() - stale_after)

    def _requeue_stale(self, conn, study_id: int, before: float) -> int:
        cur = conn.execute(
            "UPDATE trials SET state = 'waiting', attempts = attempts + 1, worker = NULL,"
            " error = 'stale: the process running it stopped sending heartbeats"
            " (worker ' || COALESCE(worker, '?') || '); re-queued'"
            " WHERE study_id = ? AND state = 'running' AND heartbeat_at < ?",
            (study_id, before))
        return cur.rowcount

    def finish_trial(
        self,
        trial_id: int,
        *,
        attempts: int,
        state: str,
        value: float | None = None,
        metrics: Mapping[str, Any] | None = None,
        epochs: int | None = None,
        seconds: float | None = None,
        rung: int | None = None,
        error: str | None = None,
        history: Sequence[Mapping[str, Any]] | None = None,
    ) -> bool:
        """Record a trial's outcome and its epochs in one transaction.

        Returns False (and writes nothing) if the claim ``attempts`` no
        longer holds: the trial was declared stale and re-queued meanwhile.
        ``history`` rows (with an ``epoch`` key) are appended; ``epochs``
        is the trial's total so far.
        """
        if state not in FINISHED_STATES:
            raise ValueError(f"'state' must be one of {list(FINISHED_STATES)}. Got {state!r}.")
        with self._db.transaction() as conn:
            row = conn.execute("SELECT attempts, state FROM trials WHERE id = ?",
                               (int(trial_id),)).fetchone()
            if row is None or row[0] != attempts or row[1] != "running":
                return False
            conn.execute(
                "UPDATE trials SET state = ?, value = ?, metrics = ?,"
                " epochs = COALESCE(?, epochs), seconds = seconds + COALESCE(?, 0),"
                " rung = COALESCE(?, rung), error = ?, finished_at = ?"
                " WHERE id = ?",
                (state, _finite(value), to_json(metrics or {}), epochs, seconds, rung,
                 error, time.time(), int(trial_id)))
            if history:
                conn.executemany(
                    "INSERT OR REPLACE INTO trial_epochs (trial_id, epoch, metrics)"
                    " VALUES (?,?,?)",
                    [(int(trial_id), int(h["epoch"]),
                      to_json({k: v for k, v in h.items() if k != "epoch"})) for h in history])
            return True

    def release_trials(self, trial_ids: list[int], worker: str) -> None:
        """Give back this worker's running trials (interrupted): waiting again."""
        with self._db.transaction() as conn:
            conn.executemany(
                "UPDATE trials SET state = 'waiting', worker = NULL, attempts = attempts + 1,"
                " error = 'interrupted; re-queued' WHERE id = ? AND worker = ? AND"
                " state = 'running'", [(int(t), worker) for t in trial_ids])

    def promote_trials(self, study_id: int, *, bracket: int, rung: int,
                       keep: list[int]) -> None:
        """Successive halving, in one transaction: the ``keep`` trials of
        ``bracket`` go to ``rung`` (waiting, to be claimed); the other
        complete trials of the rung below become ``pruned``."""
        with self._db.transaction() as conn:
            already = conn.execute(
                "SELECT COUNT(*) FROM trials WHERE study_id = ? AND bracket = ? AND rung >= ?",
                (study_id, bracket, rung)).fetchone()[0]
            if already:
                return
            conn.executemany(
                "UPDATE trials SET state = 'waiting', rung = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'complete'", [(rung, int(t)) for t in keep])
            conn.execute(
                "UPDATE trials SET state = 'pruned' WHERE study_id = ? AND bracket = ?"
                " AND rung = ? AND state = 'complete'", (study_id, bracket, rung - 1))

    def _trial_row(self, conn, trial_id: int) -> dict[str, Any]:
        row = conn.execute(f"SELECT {', '.join(_TRIAL_COLUMNS)} FROM trials WHERE id = ?",
                           (int(trial_id),)).fetchone()
        rec = dict(zip(_TRIAL_COLUMNS, row, strict=True))
        rec["params"] = from_json(rec["params"])
        rec["metrics"] = from_json(rec["metrics"]) or {}
        return rec

    # -- reading ---------------------------------------------------------
    def trials(self, study: int | str) -> pd.DataFrame:
        """One row per trial (ordered by number): id, number, state, value,
        epochs, seconds, params and metrics (as dicts), error, times."""
        study_id = self.get_study(study)["id"]
        rows = self._db.read().execute(
            f"SELECT {', '.join(_TRIAL_COLUMNS)} FROM trials WHERE study_id = ?"
            " ORDER BY number", (study_id,)).fetchall()
        frame = pd.DataFrame(rows, columns=list(_TRIAL_COLUMNS))
        frame["params"] = [from_json(p) for p in frame["params"]]
        frame["metrics"] = [from_json(m) or {} for m in frame["metrics"]]
        return frame

    def trial_history(self, trial_id: int) -> pd.DataFrame:
        """A trial's per-epoch rows (epoch first), across all its rungs."""
        rows = self._db.read().execute(
            "SELECT epoch, metrics FROM trial_epochs WHERE trial_id = ? ORDER BY epoch",
            (int(trial_id),)).fetchall()
        return pd.DataFrame([{"epoch": e, **from_json(m)} for e, m in rows])


def _direction(greater_is_better: Any) -> str:
    return "maximize" if greater_is_better else "minimize"


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
