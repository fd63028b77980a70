"""The project store: an embedded SQLite file that keeps runs, error-analysis
tags and tuning trials. Knows tables, not methods."""

from mlstrat.store._db import (
    Database,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StoreReadOnlyError,
)
from mlstrat.store._project import Project, open_project
from mlstrat.store._runs import SPLITS, Run

__all__ = ["SPLITS", "Database", "Project", "Run", "StoreDamagedError", "StoreError",
           "StoreLockedError", "StoreNotFoundError", "StoreReadOnlyError", "open_project"]
