"""Error-analysis sessions: sampled examples, categories, tags and notes."""

from __future__ import annotations

from mlstrat.store._db import Database

MIGRATIONS: list[str] = []


class SessionsMixin:
    """The error-analysis part of :class:`~mlstrat.store.Project`."""

    _db: Database
