"""The SQLite connection, transactions and per-component schema migrations.

Everything that lasts goes through here. A project store is one SQLite file in
WAL mode: readers never block the writer nor wait for it, and each write is one
``BEGIN IMMEDIATE`` transaction, so two processes writing at once wait for each
other (up to ``BUSY_TIMEOUT_MS``) instead of losing data, and a process killed
mid-write loses at most the transaction in flight.

Opening a store that is already current takes no write lock: the checks
(SQLite header, ``PRAGMA quick_check``, application id, schema versions) are
reads, and a write transaction is begun only to create a store or migrate an
older one. A damaged store is refused before anything is written to it.

The store file is read through SQLite only, never with ``open()``, a copy or
a hash: SQLite's locks are POSIX locks, and closing any descriptor of the file
drops every lock the process holds on it, after which another process may
delete the WAL this process still uses (see ``Database._check_sqlite``).

Each component of the store (runs, error-analysis sessions, studies) owns its
tables and its list of migrations; ``schema_versions`` records how far each
component's schema has been migrated, so a later release can add migrations
to one component without touching the others.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from mlstrat._errors import MlstratError

APPLICATION_ID = 0x6D6C7374  # "mlst": marks a file as an mlstrat project store
BUSY_TIMEOUT_MS = 60_000
_SQLITE_HEADER = b"SQLite format 3\x00"
# Byte locked by the one writer of a WAL database, in its -shm file (SQLite's
# WALINDEX_LOCK_OFFSET), and the RESERVED byte of a rollback-journal database.
_WAL_WRITE_LOCK_BYTE = 120
_RESERVED_BYTE = 0x40000001


class StoreError(MlstratError):
    """A project store cannot be opened or a write to it was refused."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """A read found no project store at the path given (none is created)."""


class StoreDamagedError(StoreError):
    """The store file fails SQLite's integrity check; it was left unchanged."""


class StoreLockedError(StoreError):
    """A write could not get the store's write lock in time; nothing was written."""


class StoreReadOnlyError(StoreError):
    """A write was attempted through a store opened read-only."""


class Database:
    """A thread-safe handle on one SQLite project file.

    Each thread gets its own connection (Streamlit runs every session in a
    thread of its own). Reads use :meth:`read`, writes :meth:`transaction`.

    Parameters
    ----------
    path : str or Path
        The SQLite file.
    create : bool, default=True
        Create the file (and its folder) when missing. With ``False`` a
        missing or empty file raises :class:`StoreNotFoundError`.
    readonly : bool, default=False
        Refuse every write after opening (:class:`StoreReadOnlyError`). A store
        written by an older mlstrat is still migrated once on opening.

    Examples
    --------
    >>> import tempfile, os
    >>> db = Database(os.path.join(tempfile.mkdtemp(), "p.db"))
    >>> db.migrate("demo", ["CREATE TABLE t (x INTEGER)"])
    >>> with db.transaction() as conn:
    ...     _ = conn.execute("INSERT INTO t VALUES (1)")
    >>> db.read().execute("SELECT x FROM t").fetchall()
    [(1,)]
    >>> Database(db.path, readonly=True).read().execute("SELECT x FROM t").fetchall()
    [(1,)]
    """

    def __init__(self, path: str | Path, *, create: bool = True,
                 readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = False  # migrations of an older store may still write
        self._local = threading.local()
        self._check_file(create)
        self._init_meta()
        self.readonly = readonly

    # -- connections -----------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
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
        """One write transaction: all of it is applied, or none of it.

        Raises
        ------
        StoreLockedError
            Another process held the write lock longer than ``BUSY_TIMEOUT_MS``.
        StoreReadOnlyError
            The store was opened with ``readonly=True``.
        """
        if self.readonly:
            raise StoreReadOnlyError(
                f"{self.path} was opened read-only; nothing was written. Open it "
                "with open_project(path) to change it.")
        conn = self.read()
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        self._begin(conn)
        try:
            yield conn
            conn.execute("UPDATE store_revision SET n = n + 1")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise StoreError(f"{self.path} cannot be written ({exc}). Nothing was "
                                 "written.") from None
            holders = lock_holders(self.path)
            who = (f"held by {'; '.join(holders)}" if holders
                   else "held by another process (unknown)")
            raise StoreLockedError(
                f"{self.path} is being written by another program: the write lock is "
                f"{who} and was not released within {BUSY_TIMEOUT_MS / 1000:g} s. "
                "Nothing was written; try again when it has finished.") from None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- file checks and schema -----------------------------------------
    def _check_file(self, create: bool) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a project store file.")
        if not self.path.exists() or self.path.stat().st_size == 0:
            if not create:
                raise StoreNotFoundError(
                    f"No project store at {self.path} (missing or empty). Check the "
                    "path; nothing was created.")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return
        self._check_sqlite()
        self._check_integrity()
        app_id = self.read().execute("PRAGMA application_id").fetchone()[0]
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(
                f"{self.path} is an SQLite file of another program "
                f"(application_id {app_id:#x}), not an mlstrat project store.")

    def _check_sqlite(self) -> None:
        """Refuse a file that SQLite does not read as a database.

        The file is read through SQLite only. SQLite's locks are POSIX
        (fcntl) locks, and closing *any* descriptor of a file drops every
        lock this process holds on it: reading the header with ``open()``
        while another connection of this process had the store open dropped
        that connection's shared lock, so another process closing the store
        took itself for the last user and deleted the WAL and its index under
        this process (stale reads, writes lost in a deleted WAL, and sound
        files reported damaged). The file is opened outside SQLite only once
        SQLite has refused it, to tell another kind of file from a damaged
        store.
        """
        try:
            self.read().execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_NOTADB:
                return  # quick_check names the damage
            self.close()
            if _magic(self.path) == _SQLITE_HEADER:
                return  # an SQLite file whose header is damaged: quick_check says so
            raise StoreError(
                f"{self.path} is not an mlstrat project store (not an SQLite file). "
                "Choose the project folder or its mlstrat.db file.") from None

    def _check_integrity(self) -> None:
        """``PRAGMA quick_check``: a read that walks every page of the file."""
        try:
            problems = [r[0] for r in self.read().execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            self.close()
            raise StoreDamagedError(
                f"{self.path} is damaged ({'; '.join(problems)[:200]}). It was not "
                "changed. Restore it from a backup, or salvage what can be read with "
                f"`sqlite3 {self.path} .recover | sqlite3 recovered.db`.")

    def _tables(self) -> set[str]:
        return {r[0] for r in self.read().execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _is_current(self) -> bool:
        conn = self.read()
        return (conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                and conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
                and {"schema_versions", "store_revision"} <= self._tables())

    def _init_meta(self) -> None:
        if self._is_current():  # the usual case: no write, no lock
            return
        conn = self.read()
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:  # pragma: no cover - e.g. read-only media
                pass
        with self.transaction() as c:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
            if tables and "schema_versions" not in tables:
                raise StoreError(
                    f"{self.path} is an SQLite database without mlstrat's tables; "
                    "it is not an mlstrat project store.")
            c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions ("
                " component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            c.execute(
                "CREATE TABLE IF NOT EXISTS store_revision ("
                " id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
            c.execute("INSERT OR IGNORE INTO store_revision (id, n) VALUES (1, 0)")

    def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Bring ``component``'s tables up to ``len(migrations)``.

        Each entry of ``migrations`` is an SQL script; entry i takes the
        schema from version i to i + 1. Applied in one transaction, taken
        only when the store is behind (a current store is not locked).
        """
        if self._check_version(component, self.version(component), len(migrations)):
            return
        with self.transaction() as conn:
            current = self.version(component)
            if self._check_version(component, current, len(migrations)):
                return  # another process migrated it meanwhile
            for script in migrations[current:]:
                for statement in _statements(script):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, len(migrations)),
            )

    def _check_version(self, component: str, current: int, known: int) -> bool:
        """Whether ``component`` is current; a newer store is an error."""
        if current > known:
            raise StoreError(
                f"{self.path}: the '{component}' tables are at schema version "
                f"{current}, newer than this mlstrat knows ({known}). "
                "Upgrade mlstrat to open this project.")
        return current == known

    def revision(self) -> int:
        """A number that grows with every committed write, from any process:
        a cheap cache key for readers such as the dashboard."""
        return int(self.read().execute("SELECT n FROM store_revision").fetchone()[0])

    def version(self, component: str) -> int:
        row = self.read().execute(
            "SELECT version FROM schema_versions WHERE component = ?", (component,)
        ).fetchone()
        return row[0] if row else 0


def _magic(path: Path) -> bytes:
    """The first 16 bytes of ``path`` (b"" when unreadable).

    Only for a file SQLite refused: see :meth:`Database._check_sqlite`.
    """
    try:
        with open(path, "rb") as fh:
            return fh.read(len(_SQLITE_HEADER))
    except OSError:
        return b""


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid of the row an INSERT on ``cursor`` just made."""
    rowid = cursor.lastrowid
    if rowid is None:  # sqlite3 reports None only when no row was inserted
        raise StoreError("The store did not report the id of the row just inserted; "
                         "the transaction was rolled back.")
    return int(rowid)


def _statements(script: str) -> list[str]:
    """Split an SQL script into statements (our scripts hold no ';' in strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def lock_holders(path: str | Path) -> list[str]:
    """Processes of this machine holding the write lock of the store at ``path``.

    Read from ``/proc/locks`` (Linux); an empty list where that is not
    available or the holder is on another machine. Each entry reads
    ``"process 1234 (python -m mlstrat tune study.toml)"``.

    Examples
    --------
    >>> import tempfile, os
    >>> lock_holders(os.path.join(tempfile.mkdtemp(), "p.db"))
    []
    """
    targets = {}
    for file, byte in ((Path(f"{path}-shm"), _WAL_WRITE_LOCK_BYTE), (Path(path), _RESERVED_BYTE)):
        with contextlib.suppress(OSError):
            st = file.stat()
            targets[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = byte
    if not targets:
        return []
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    pids = []
    for line in lines:
        pid = _holder_pid(line.split(), targets)
        if pid is not None and pid != os.getpid() and pid not in pids:
            pids.append(pid)
    return [_describe(pid) for pid in pids]


def _holder_pid(fields: list[str], targets: dict[tuple[int, int, int], int]) -> int | None:
    """The pid of a ``/proc/locks`` line that write-locks a target byte."""
    if "->" in fields or len(fields) < 8 or fields[3] != "WRITE":
        return None
    try:
        pid = int(fields[4])
        major, minor, inode = (int(x, 16) if i < 2 else int(x)
                               for i, x in enumerate(fields[5].split(":")))
        start, end = int(fields[6]), (None if fields[7] == "EOF" else int(fields[7]))
    except ValueError:
        return None
    byte = targets.get((major, minor, inode))
    if byte is None or start > byte or (end is not None and end < byte):
        return None
    return pid


def _describe(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        cmd = " ".join(raw.decode(errors="replace").split())
    except OSError:
        cmd = ""
    return f"process {pid}" + (f" ({cmd[:80]})" if cmd else "")
