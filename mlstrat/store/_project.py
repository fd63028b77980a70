"""The project: one folder holding one SQLite store, with every component's tables."""

from __future__ import annotations

import os
from pathlib import Path

from mlstrat.store._db import Database, StoreError, StoreNotFoundError
from mlstrat.store._live import LiveRunsMixin
from mlstrat.store._runs import MIGRATIONS as RUNS_MIGRATIONS
from mlstrat.store._runs import RunsMixin
from mlstrat.store._sessions import MIGRATIONS as SESSIONS_MIGRATIONS
from mlstrat.store._sessions import SessionsMixin
from mlstrat.store._studies import MIGRATIONS as STUDIES_MIGRATIONS
from mlstrat.store._studies import StudiesMixin

STORE_FILE = "mlstrat.db"

# Each component owns its migrations; a new component adds a line here.
COMPONENTS = {
    "runs": RUNS_MIGRATIONS,
    "sessions": SESSIONS_MIGRATIONS,
    "studies": STUDIES_MIGRATIONS,
}


class Project(RunsMixin, LiveRunsMixin, SessionsMixin, StudiesMixin):
    """A project store: runs, error-analysis sessions and tuning studies.

    Parameters
    ----------
    path : str or Path
        A project folder (the store is ``<folder>/mlstrat.db``) or the path of
        a ``.db``/``.sqlite`` file.
    create : bool, default=True
        Create the folder and the store when missing. Read paths pass
        ``False``: a missing project then raises :class:`StoreNotFoundError`
        (a ``FileNotFoundError``) and nothing is created.
    readonly : bool, default=False
        Refuse every write through this handle. Opening takes no write lock
        either way when the store is current; readers never wait for writers.

    Raises
    ------
    StoreNotFoundError
        ``create=False`` and no store at ``path``.
    StoreDamagedError
        The file fails ``PRAGMA quick_check``; it is left unchanged.
    StoreError
        Not an mlstrat store, or written by a newer mlstrat.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> project = Project(folder)
    >>> project.runs().empty
    True
    >>> Project(folder, create=False, readonly=True).runs().empty
    True
    """

    def __init__(self, path: str | os.PathLike[str] = "mlstrat_project", *, create: bool = True,
                 readonly: bool = False) -> None:
        path = Path(path)
        if path.suffix in (".db", ".sqlite", ".sqlite3") or (path.exists() and path.is_file()):
            db_path = path
            self.folder = path.parent
        else:
            self.folder = path
            db_path = path / STORE_FILE
        if not create and (not db_path.is_file() or db_path.stat().st_size == 0):
            raise StoreNotFoundError(
                f"No project at {str(path)!r}: there is no mlstrat store ({db_path.name}) there. "
                "Check the path (nothing was created).")
        self._db = Database(db_path, create=create, readonly=False)
        for component, migrations in COMPONENTS.items():
            self._db.migrate(component, migrations)
        self._db.readonly = readonly

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._db.path

    def revision(self) -> int:
        """Grows with every committed write (any process): a cache key."""
        return self._db.revision()

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"Project({str(self.folder)!r})"


def open_project(path: str | Path = "mlstrat_project", *, create: bool = True,
                 readonly: bool = False) -> Project:
    """Open (or, with ``create=True``, create) the project store at ``path``.

    Read paths use ``create=False, readonly=True``. See :class:`Project`.
    """
    return Project(path, create=create, readonly=readonly)


__all__ = ["Project", "StoreError", "StoreNotFoundError", "open_project"]
