"""The project: one folder holding one SQLite store, with every component's tables."""

from __future__ import annotations

from pathlib import Path

from mlstrat.store._db import Database, StoreError
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


class Project(RunsMixin, SessionsMixin, StudiesMixin):
    """A project store: runs, error-analysis sessions and tuning studies.

    Parameters
    ----------
    path : str or Path
        A project folder (created if missing; the store is ``<folder>/mlstrat.db``)
        or the path of a ``.db``/``.sqlite`` file.

    Examples
    --------
    >>> import tempfile
    >>> project = Project(tempfile.mkdtemp())
    >>> project.runs().empty
    True
    """

    def __init__(self, path: str | Path = "mlstrat_project") -> None:
        path = Path(path)
        if path.suffix in (".db", ".sqlite", ".sqlite3") or (path.exists() and path.is_file()):
            db_path = path
            self.folder = path.parent
        else:
            self.folder = path
            db_path = path / STORE_FILE
        self._db = Database(db_path)
        for component, migrations in COMPONENTS.items():
            self._db.migrate(component, migrations)

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


def open_project(path: str | Path = "mlstrat_project") -> Project:
    """Open (or create) the project store at ``path``. See :class:`Project`."""
    return Project(path)


__all__ = ["Project", "StoreError", "open_project"]
