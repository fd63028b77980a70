"""The SQLite connection, transactions and per-component schema migrations.

Everything that lasts goes through here. A project store is one SQLite file in
WAL mode: readers never block the writer, and each write is one ``BEGIN
IMMEDIATE`` transaction, so two processes writing at once wait for each other
(up to ``busy_timeout``) instead of losing data, and a process killed mid-write
loses at most the transaction in flight.

Each component of the store (runs, error-analysis sessions, studies) owns its
tables and its list of migrations; ``schema_versions`` records how far each
component's schema has been migrated, so a later release can add migrations
to one component without touching the others.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

APPLICATION_ID = 0x6D6C7374  # "mlst": marks a file as an mlstrat project store
BUSY_TIMEOUT_MS = 60_000


class StoreError(ValueError):
    """A project store cannot be opened or a write to it was refused."""


class Database:
    """A thread-safe handle on one SQLite project file.

    Each thread gets its own connection (Streamlit runs every session in a
    thread of its own). Reads use :meth:`read`, writes :meth:`transaction`.

    Examples
    --------
    >>> import tempfile, os
    >>> db = Database(os.path.join(tempfile.mkdtemp(), "p.db"))
    >>> db.migrate("demo", ["CREATE TABLE t (x INTEGER)"])
    >>> with db.transaction() as conn:
    ...     _ = conn.execute("INSERT INTO t VALUES (1)")
    >>> db.read().execute("SELECT x FROM t").fetchall()
    [(1,)]
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._check_file()
        self._init_meta()

    # -- connections -----------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def read(self) -> sqlite3.Connection:
        """The calling thread's connection, for reads (autocommit)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is applied, or none of it."""
        conn = self.read()
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("UPDATE store_revision SET n = n + 1")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- file checks and schema -----------------------------------------
    def _check_file(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a project store file.")
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return
        with open(self.path, "rb") as fh:
            header = fh.read(16)
        if header != b"SQLite format 3\x00":
            raise StoreError(
                f"{self.path} is not an mlstrat project store (not an SQLite file). "
                "Choose the project folder or its mlstrat.db file."
            )
        try:
            app_id = self.read().execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is damaged or not a database: {exc}") from exc
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(
                f"{self.path} is an SQLite file of another program "
                f"(application_id {app_id:#x}), not an mlstrat project store."
            )

    def _init_meta(self) -> None:
        conn = self.read()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:  # pragma: no cover - e.g. read-only media
            pass
        with self.transaction() as c:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
            if tables and "schema_versions" not in tables:
                raise StoreError(
                    f"{self.path} is an SQLite database without mlstrat's tables; "
                    "it is not an mlstrat project store."
                )
            c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions ("
                " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            c.execute(
                "CREATE TABLE IF NOT EXISTS store_revision ("
                " id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
            )
            c.execute("INSERT OR IGNORE INTO store_revision (id, n) VALUES (1, 0)")

    def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Bring ``component``'s tables up to ``len(migrations)``.

        Each entry of ``migrations`` is an SQL script; entry i takes the
        schema from version i to i + 1. Applied in one transaction.
        """
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE component = ?", (component,)
            ).fetchone()
            current = row[0] if row else 0
            if current > len(migrations):
                raise StoreError(
                    f"{self.path}: the '{component}' tables are at schema version "
                    f"{current}, newer than this mlstrat knows ({len(migrations)}). "
                    "Upgrade mlstrat to open this project."
                )
            for script in migrations[current:]:
                for statement in _statements(script):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, len(migrations)),
            )

    def revision(self) -> int:
        """A number that grows with every committed write, from any process:
        a cheap cache key for readers such as the dashboard."""
        return int(self.read().execute("SELECT n FROM store_revision").fetchone()[0])

    def version(self, component: str) -> int:
        row = self.read().execute(
            "SELECT version FROM schema_versions WHERE component = ?", (component,)
        ).fetchone()
        return row[0] if row else 0


def _statements(script: str) -> list[str]:
    """Split an SQL script into statements (our scripts hold no ';' in strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]
