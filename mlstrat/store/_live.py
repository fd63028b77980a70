"""Runs written while they train: open as 'running', then finished or failed in one step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlstrat.store._codec import label_kind, to_json
from mlstrat.store._db import Database
from mlstrat.store._runs import (
    RATE,
    _check_predictions,
    _check_rates,
    _classes,
    _insert_predictions,
)

#: the states of a run
RUN_STATUSES = ("running", "finished", "failed")


class LiveRunsMixin:
    """Closing a run that was logged with ``status='running'`` (see ``mlstrat.start_run``)."""

    _db: Database

    def finish_run(self, run_id: int, *, errors: Mapping[str, float],
                   sizes: Mapping[str, int], predictions: Mapping[str, Any] | None = None,
                   diagnosis: Any = None, metric: str = RATE,
                   metrics: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Write a running run's results and mark it finished, in one transaction.

        Nothing is written if any argument is invalid; the run stays 'running'.
        """
        preds = _check_predictions(predictions or {})
        errors, sizes = dict(errors), dict(sizes)
        _check_rates(errors, sizes, None, metric)
        kinds = {label_kind(f["y_true"].to_numpy()) for f in preds.values()}
        kind = kinds.pop() if len(kinds) == 1 else ("str" if kinds else None)
        classes = _classes(preds)
        diag = diagnosis.to_dict() if hasattr(diagnosis, "to_dict") else diagnosis
        self._require_status(run_id, "running")
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = 'finished', diagnosis = ?, metric = ?,"
                " label_kind = ?, classes = ? WHERE id = ?",
                (None if diag is None else to_json(diag), metric, kind,
                 None if classes is None else to_json(classes), int(run_id)))
            conn.execute("DELETE FROM run_splits WHERE run_id = ?", (int(run_id),))
            conn.execute("DELETE FROM run_predictions WHERE run_id = ?", (int(run_id),))
            for split in sorted(set(errors) | set(sizes) | set(metrics or {})):
                conn.execute(
                    "INSERT INTO run_splits (run_id, split, error, n, metrics)"
                    " VALUES (?,?,?,?,?)",
                    (int(run_id), split, errors.get(split), sizes.get(split),
                     to_json(dict((metrics or {}).get(split, {})))))
            for split, frame in preds.items():
                _insert_predictions(conn, int(run_id), split, frame)

    def fail_run(self, run_id: int, message: str) -> None:
        """Mark a run failed, keeping the exception's message in its notes."""
        with self._db.transaction() as conn:
            conn.execute("UPDATE runs SET status = 'failed', notes = ? WHERE id = ?",
                         (str(message)[:2000], int(run_id)))

    def _require_status(self, run_id: int, status: str) -> None:
        row = self._db.read().execute("SELECT status FROM runs WHERE id = ?",
                                      (int(run_id),)).fetchone()
        if row is None:
            raise KeyError(f"No run {run_id!r} in {self._db.path}.")
        if row[0] != status:
            raise ValueError(f"Run {run_id} is {row[0]!r}, not {status!r}: it cannot be "
                             "finished again. Start a new run.")
