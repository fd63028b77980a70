"""Runs: one trained model's configuration, per-split errors and sizes,
per-epoch history, diagnosis and predictions."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.store._codec import (
    decode_labels,
    encode_floats,
    encode_labels,
    from_json,
    label_kind,
    stack_floats,
    to_json,
)
from mlstrat.store._db import Database

SPLITS = ("train", "train_dev", "dev", "test")

MIGRATIONS = [
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'finished',
        config TEXT NOT NULL DEFAULT '{}',
        human_error REAL,
        diagnosis TEXT,
        notes TEXT NOT NULL DEFAULT '',
        label_kind TEXT,
        classes TEXT
    );
    CREATE TABLE run_splits (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        split TEXT NOT NULL,
        error REAL,
        n INTEGER,
        metrics TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, split)
    );
    CREATE TABLE run_history (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        PRIMARY KEY (run_id, epoch)
    );
    CREATE TABLE run_predictions (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        split TEXT NOT NULL,
        position INTEGER NOT NULL,
        example_id TEXT NOT NULL,
        y_true TEXT NOT NULL,
        y_pred TEXT NOT NULL,
        proba BLOB,
        PRIMARY KEY (run_id, split, position)
    );
    CREATE INDEX run_predictions_id ON run_predictions (run_id, split, example_id)
    """,
    # 2: what a split's "error" measures ('error rate' in [0, 1], or a regression
    # metric such as 'RMSE' in the target's units)
    """
    ALTER TABLE runs ADD COLUMN metric TEXT NOT NULL DEFAULT 'error rate'
    """,
    # 3: the fingerprint of the data a run was trained and measured on (JSON:
    # hash, target, sorted columns, rows); NULL for runs logged without one
    """
    ALTER TABLE runs ADD COLUMN dataset TEXT
    """,
]

#: the value of a run's per-split "error" when nothing else is said
RATE = "error rate"


@dataclass
class Run:
    """A run as stored: everything but the per-epoch history and predictions,
    which :meth:`Project.run_history` and :meth:`Project.run_predictions` load."""

    id: int
    name: str
    created_at: str
    status: str
    config: dict[str, Any]
    errors: dict[str, float]
    sizes: dict[str, int]
    human_error: float | None
    diagnosis: dict[str, Any] | None
    notes: str = ""
    classes: list[Any] | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    metric: str = RATE
    dataset: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RunsMixin:
    """The runs part of :class:`~mlstrat.store.Project`."""

    _db: Database

    # -- writing ---------------------------------------------------------
    def log_run(
        self,
        name: str,
        *,
        config: Mapping[str, Any] | None = None,
        errors: Mapping[str, float] | None = None,
        sizes: Mapping[str, int] | None = None,
        human_error: float | None = None,
        history: Any = None,
        diagnosis: Any = None,
        predictions: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
        notes: str = "",
        status: str = "finished",
        metric: str = RATE,
        dataset: Mapping[str, Any] | None = None,
    ) -> int:
        """Record a run in one transaction and return its id.

        Parameters
        ----------
        name : str
            A label for the run ("baseline", "l2=0.01"). Names may repeat.
        config : dict, optional
            Hyperparameters and anything else worth keeping (JSON-serialisable).
        errors, sizes : dict, optional
            Error rate and number of examples per split; split names are
            ``'train'``, ``'train_dev'``, ``'dev'``, ``'test'``. When
            ``predictions`` are given, missing errors and sizes are computed
            from them (misclassification rate).
        human_error : float, optional
            The human-level error used as the Bayes-error proxy.
        history : list of dict or DataFrame, optional
            One row per epoch (``epoch``, ``loss``, ``val_loss``, ...).
        diagnosis : dict or object with ``to_dict()``, optional
        predictions : dict, optional
            Per split, a DataFrame with columns ``y_true``, ``y_pred`` and
            optional ``id`` and ``proba_<class>`` columns, or a tuple
            ``(y_true, y_pred)`` or ``(y_true, y_pred, proba)``.
        metrics : dict, optional
            Extra per-split metrics, e.g. ``{"dev": {"f1": 0.91}}``.
        metric : str, default='error rate'
            What ``errors`` measure: error rates in [0, 1], or a regression
            metric in the target's units ('RMSE', 'MAE'), any value >= 0;
            ``human_error`` is then in the same units.
        dataset : dict, optional
            The fingerprint of the data (JSON-serialisable), e.g. what
            :func:`mlstrat.first_system.fingerprint` returns; read back as
            ``Run.dataset`` (None when not given).

        Nothing is written if any argument is invalid. To record several runs
        that must appear together (one iteration), use :meth:`log_runs`.

        Examples
        --------
        >>> import tempfile
        >>> from mlstrat.store import open_project
        >>> project = open_project(tempfile.mkdtemp())
        >>> run_id = project.log_run("baseline", errors={"train": 0.08, "dev": 0.10},
        ...                          sizes={"train": 8000, "dev": 1000}, human_error=0.01)
        >>> project.get_run(run_id).errors
        {'train': 0.08, 'dev': 0.1}
        """
        return self.log_runs([dict(
            name=name, config=config, errors=errors, sizes=sizes, human_error=human_error,
            history=history, diagnosis=diagnosis, predictions=predictions, metrics=metrics,
            notes=notes, status=status, metric=metric, dataset=dataset)])[0]

    def log_runs(self, runs: Sequence[Mapping[str, Any]]) -> list[int]:
        """Record several runs in ONE transaction: all of them are stored, or none.

        Each item holds the keyword arguments of :meth:`log_run` (``name``
        required). Every run is checked before anything is written; a process
        killed while writing leaves none of them (readers never see a part).

        Returns
        -------
        list of int
            The new run ids, in the order given.

        Examples
        --------
        >>> import tempfile
        >>> from mlstrat.store import open_project
        >>> project = open_project(tempfile.mkdtemp())
        >>> project.log_runs([{"name": "a", "errors": {"dev": 0.2}},
        ...                   {"name": "b", "errors": {"dev": 0.1}}])
        [1, 2]
        >>> project.log_runs([{"name": "c", "errors": {"dev": 0.1}},
        ...                   {"name": "d", "errors": {"dev": 7.0}}])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Run 2 of 2 ('d'): The error rate of split 'dev' must be in [0, 1]...
        >>> project.runs()["name"].tolist()
        ['a', 'b']
        """
        if isinstance(runs, Mapping) or not isinstance(runs, Sequence):
            raise TypeError("The 'runs' parameter of log_runs must be a list of dicts of "
                            f"log_run arguments. Got {type(runs).__name__}.")
        prepared = [_prepared(i, len(runs), run) for i, run in enumerate(runs)]
        with self._db.transaction() as conn:
            return [_insert_run(conn, rec) for rec in prepared]

    def log_epochs(self, run_id: int, history: Any) -> None:
        """Append per-epoch rows to a run (one transaction for the batch)."""
        rows = _history_rows(history)
        self.get_run(run_id)
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO run_history (run_id, epoch, metrics) VALUES (?,?,?)",
                [(run_id, epoch, to_json(row)) for epoch, row in rows],
            )

    def set_diagnosis(self, run_id: int, diagnosis: Any) -> None:
        """Attach (or replace) a run's diagnosis."""
        diag = diagnosis.to_dict() if hasattr(diagnosis, "to_dict") else diagnosis
        self.get_run(run_id)
        with self._db.transaction() as conn:
            conn.execute("UPDATE runs SET diagnosis = ? WHERE id = ?",
                         (to_json(diag), run_id))

    def delete_run(self, run_id: int) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))

    # -- reading ---------------------------------------------------------
    def runs(self) -> pd.DataFrame:
        """One row per run, newest last: id, name, created_at, status, metric
        (what the split columns measure), human_error, problem, then the error
        of each split present."""
        conn = self._db.read()
        frame = pd.read_sql_query(
            "SELECT id, name, created_at, status, metric, human_error, diagnosis FROM runs"
            " ORDER BY id", conn,
        )
        splits = pd.read_sql_query("SELECT run_id, split, error FROM run_splits", conn)
        frame["problem"] = [
            _primary(from_json(d)) if isinstance(d, str) else None
            for d in frame.pop("diagnosis")
        ]
        if len(splits):
            wide = splits.pivot(index="run_id", columns="split", values="error")
            wide = wide[[s for s in SPLITS if s in wide.columns]]
            frame = frame.merge(wide, left_on="id", right_index=True, how="left")
        return frame

    def get_run(self, run: int | str) -> Run:
        """A run by id, or the newest run with that name."""
        conn = self._db.read()
        if isinstance(run, str) and not run.isdigit():
            row = conn.execute(
                "SELECT * FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", (run,)
            ).fetchone()
        else:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (int(run),)).fetchone()
        if row is None:
            known = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
            raise KeyError(f"No run {run!r} in {self._db.path}. Known run ids: {known[-20:]}")
        cols = [c[0] for c in conn.execute("SELECT * FROM runs LIMIT 0").description]
        rec = dict(zip(cols, row, strict=True))
        errors, sizes, metrics = {}, {}, {}
        for split, error, n, m in conn.execute(
            "SELECT split, error, n, metrics FROM run_splits WHERE run_id = ?", (rec["id"],)
        ):
            if error is not None:
                errors[split] = error
            if n is not None:
                sizes[split] = n
            if m and m != "{}":
                metrics[split] = from_json(m)
        order = {s: i for i, s in enumerate(SPLITS)}
        errors = dict(sorted(errors.items(), key=lambda kv: order.get(kv[0], 9)))
        sizes = dict(sorted(sizes.items(), key=lambda kv: order.get(kv[0], 9)))
        return Run(
            id=rec["id"], name=rec["name"], created_at=rec["created_at"],
            status=rec["status"], config=from_json(rec["config"]) or {},
            errors=errors, sizes=sizes, human_error=rec["human_error"],
            diagnosis=from_json(rec["diagnosis"]), notes=rec["notes"],
            classes=from_json(rec["classes"]), metrics=metrics,
            metric=rec.get("metric") or RATE,
            dataset=from_json(rec["dataset"]) if rec.get("dataset") else None,
        )

    def run_history(self, run_id: int) -> pd.DataFrame:
        """The run's per-epoch rows as a DataFrame (empty if none were logged)."""
        rows = self._db.read().execute(
            "SELECT epoch, metrics FROM run_history WHERE run_id = ? ORDER BY epoch",
            (int(run_id),),
        ).fetchall()
        return pd.DataFrame([{"epoch": e, **from_json(m)} for e, m in rows])

    def run_predictions(self, run_id: int, split: str | None = None) -> pd.DataFrame:
        """Stored predictions: columns split, id, y_true, y_pred and, when
        probabilities were stored, one ``proba_<class>`` column per class."""
        conn = self._db.read()
        kind, classes = conn.execute(
            "SELECT label_kind, classes FROM runs WHERE id = ?", (int(run_id),)
        ).fetchone() or (None, None)
        query = ("SELECT split, example_id, y_true, y_pred, proba FROM run_predictions"
                 " WHERE run_id = ?")
        args: tuple = (int(run_id),)
        if split is not None:
            query += " AND split = ?"
            args += (split,)
        rows = conn.execute(query + " ORDER BY split, position", args).fetchall()
        frame = pd.DataFrame(rows, columns=["split", "id", "y_true", "y_pred", "proba"])
        kind = kind or "str"
        frame["y_true"] = decode_labels(frame["y_true"].tolist(), kind)
        frame["y_pred"] = decode_labels(frame["y_pred"].tolist(), kind)
        blobs = frame.pop("proba")
        if len(frame) and blobs.notna().all():
            proba = stack_floats(blobs)
            names = from_json(classes) or list(range(proba.shape[1]))
            for j, cls in enumerate(names[: proba.shape[1]]):
                frame[f"proba_{cls}"] = proba[:, j]
        return frame


# -- validation and conversion helpers ---------------------------------------
_RUN_ARGS = ("name", "config", "errors", "sizes", "human_error", "history", "diagnosis",
             "predictions", "metrics", "notes", "status", "metric", "dataset")


@dataclass
class _Prepared:
    """A run checked and converted, ready to insert (no I/O left to fail)."""

    row: tuple
    errors: dict[str, float]
    sizes: dict[str, int]
    metrics: dict[str, Any]
    history: list[tuple[int, dict]]
    predictions: dict[str, pd.DataFrame]


def _prepared(i: int, n: int, run: Mapping[str, Any]) -> _Prepared:
    """Check one run of :meth:`RunsMixin.log_runs`; the message says which one."""
    if not isinstance(run, Mapping):
        raise TypeError(f"Run {i + 1} of {n} given to log_runs is a "
                        f"{type(run).__name__}, not a dict of log_run arguments.")
    unknown = sorted(set(run) - set(_RUN_ARGS))
    if unknown:
        raise TypeError(f"Run {i + 1} of {n} given to log_runs has unknown argument(s) "
                        f"{unknown}. Valid: {list(_RUN_ARGS)}.")
    try:
        return _prepare_run(**run)
    except (ValueError, TypeError) as exc:
        if n == 1:
            raise
        raise type(exc)(f"Run {i + 1} of {n} ({run.get('name')!r}): {exc}") from exc


def _prepare_run(name: str, *, config=None, errors=None, sizes=None, human_error=None,
                 history=None, diagnosis=None, predictions=None, metrics=None,
                 notes: str = "", status: str = "finished", metric: str = RATE,
                 dataset=None) -> _Prepared:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("A run needs a non-empty 'name' (a str).")
    if dataset is not None and not isinstance(dataset, Mapping):
        raise TypeError(f"The 'dataset' of a run must be a dict (a fingerprint) or None. "
                        f"Got {type(dataset).__name__}.")
    preds = _check_predictions(predictions or {})
    errors = dict(errors or {})
    sizes = dict(sizes or {})
    for split, frame in preds.items():
        errors.setdefault(split, float(np.mean(frame["y_true"] != frame["y_pred"])))
        sizes.setdefault(split, len(frame))
    _check_rates(errors, sizes, human_error, metric)
    kinds = {label_kind(f["y_true"].to_numpy()) for f in preds.values()}
    kind = kinds.pop() if len(kinds) == 1 else ("str" if kinds else None)
    classes = _classes(preds)
    diag = diagnosis.to_dict() if hasattr(diagnosis, "to_dict") else diagnosis
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    row = (name, created, status, to_json(dict(config or {})), human_error,
           None if diag is None else to_json(diag), notes, kind,
           None if classes is None else to_json(classes), metric,
           None if dataset is None else to_json(dict(dataset)))
    return _Prepared(row, errors, sizes, dict(metrics or {}), _history_rows(history), preds)


def _insert_run(conn, rec: _Prepared) -> int:
    run_id = conn.execute(
        "INSERT INTO runs (name, created_at, status, config, human_error, diagnosis, notes,"
        " label_kind, classes, metric, dataset) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rec.row,
    ).lastrowid
    for split in sorted(set(rec.errors) | set(rec.sizes) | set(rec.metrics)):
        conn.execute(
            "INSERT INTO run_splits (run_id, split, error, n, metrics) VALUES (?,?,?,?,?)",
            (run_id, split, rec.errors.get(split), rec.sizes.get(split),
             to_json(dict(rec.metrics.get(split, {})))),
        )
    conn.executemany(
        "INSERT INTO run_history (run_id, epoch, metrics) VALUES (?,?,?)",
        [(run_id, epoch, to_json(row)) for epoch, row in rec.history],
    )
    for split, frame in rec.predictions.items():
        _insert_predictions(conn, run_id, split, frame)
    return int(run_id)


def _check_rates(errors: dict, sizes: dict, human_error: float | None,
                 metric: str = RATE) -> None:
    for arg, values in (("errors", errors), ("sizes", sizes)):
        unknown = sorted(set(values) - set(SPLITS))
        if unknown:
            raise ValueError(
                f"Unknown split name(s) {unknown} in '{arg}'. Valid names: {list(SPLITS)}."
            )
    if not isinstance(metric, str) or not metric.strip():
        raise ValueError(f"The 'metric' of a run must be a non-empty str. Got {metric!r}.")
    upper = 1.0 if metric == RATE else np.inf
    for split, rate in errors.items():
        if rate is None or not np.isfinite(rate) or not 0.0 <= float(rate) <= upper:
            if metric == RATE:
                raise ValueError(
                    f"The error rate of split '{split}' must be in [0, 1]. Got {rate!r} "
                    "(give a fraction: 5% is 0.05; for a regression metric in the "
                    "target's units pass metric='RMSE')."
                )
            raise ValueError(f"The {metric} of split '{split}' must be a finite number >= 0. "
                             f"Got {rate!r}.")
    for split, n in sizes.items():
        if not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"The size of split '{split}' must be an int > 0. Got {n!r}.")
    if human_error is not None and not 0.0 <= float(human_error) <= upper:
        raise ValueError(f"'human_error' must be in [0, {upper:g}] ({metric}). "
                         f"Got {human_error!r}.")


def _history_rows(history: Any) -> list[tuple[int, dict]]:
    if history is None:
        return []
    if isinstance(history, pd.DataFrame):
        records = history.to_dict("records")
    elif hasattr(history, "history") and isinstance(history.history, (list, pd.DataFrame)):
        return _history_rows(history.history)
    else:
        records = list(history)
    rows = []
    for i, rec in enumerate(records):
        rec = {str(k): v for k, v in dict(rec).items()}
        epoch = int(rec.pop("epoch", i + 1))
        rows.append((epoch, rec))
    return rows


def _check_predictions(predictions: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    out = {}
    for split, value in predictions.items():
        if split not in SPLITS:
            raise ValueError(
                f"Unknown split name {split!r} in 'predictions'. Valid names: {list(SPLITS)}."
            )
        frame = _as_frame(split, value)
        if len(frame) == 0:
            raise ValueError(f"The predictions of split '{split}' are empty.")
        ids = frame["id"].astype(str)
        if ids.duplicated().any():
            first = ids[ids.duplicated()].iloc[0]
            raise ValueError(
                f"Duplicate example id {first!r} in the predictions of split '{split}'."
                " Ids must be unique within a split."
            )
        out[split] = frame
    return out


def _as_frame(split: str, value: Any) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        missing = {"y_true", "y_pred"} - set(value.columns)
        if missing:
            raise ValueError(
                f"The predictions of split '{split}' lack column(s) {sorted(missing)}."
            )
        frame = value.reset_index(drop=True).copy()
    else:
        parts = list(value)
        if len(parts) not in (2, 3):
            raise ValueError(
                f"The predictions of split '{split}' must be (y_true, y_pred) or "
                f"(y_true, y_pred, proba); got {len(parts)} items."
            )
        y_true, y_pred = np.asarray(parts[0]), np.asarray(parts[1])
        if len(y_true) != len(y_pred):
            raise ValueError(
                f"Split '{split}': y_true has {len(y_true)} rows but y_pred has "
                f"{len(y_pred)}. They must match."
            )
        frame = pd.DataFrame({"y_true": y_true, "y_pred": y_pred})
        if len(parts) == 3 and parts[2] is not None:
            proba = np.asarray(parts[2], dtype=float)
            proba = proba.reshape(len(frame), -1)
            for j in range(proba.shape[1]):
                frame[f"proba_{j}"] = proba[:, j]
    if "id" not in frame.columns:
        frame.insert(0, "id", np.arange(len(frame)).astype(str))
    return frame


def _classes(preds: dict[str, pd.DataFrame]) -> list[str] | None:
    for frame in preds.values():
        cols = [c for c in frame.columns if str(c).startswith("proba_")]
        if cols:
            return [str(c)[len("proba_"):] for c in cols]
    return None


def _insert_predictions(conn, run_id: int, split: str, frame: pd.DataFrame) -> None:
    cols = [c for c in frame.columns if str(c).startswith("proba_")]
    proba = frame[cols].to_numpy(dtype=np.float32) if cols else None
    ids = frame["id"].astype(str).tolist()
    y_true = encode_labels(frame["y_true"].to_numpy())
    y_pred = encode_labels(frame["y_pred"].to_numpy())
    conn.executemany(
        "INSERT INTO run_predictions (run_id, split, position, example_id, y_true,"
        " y_pred, proba) VALUES (?,?,?,?,?,?,?)",
        [
            (run_id, split, i, ids[i], y_true[i], y_pred[i],
             None if proba is None else encode_floats(proba[i]))
            for i in range(len(frame))
        ],
    )


def _primary(diagnosis: dict | None) -> str | None:
    """The primary problem recorded in a diagnosis dict, whatever its version."""
    diagnosis = diagnosis or {}
    return diagnosis.get("primary", diagnosis.get("primary_problem"))
