"""Quoting a user's value in an error message without echoing all of it.

Every message that shows a value taken from a user's file (a cell, a label, a
config entry) quotes it with :func:`quote`: at most :data:`MAX_QUOTE` characters
of it, and its length when it was cut, so a 50 MB cell never lands whole in a
message, a log or a terminal.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["MAX_QUOTE", "quote"]

#: the most characters of a value an error message shows
MAX_QUOTE = 40

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 4
_REPR.maxstring = _REPR.maxother = MAX_QUOTE


def quote(value: Any, limit: int = MAX_QUOTE) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long it was.

    Parameters
    ----------
    value : object
        What to show: a string, bytes, a number, a container.
    limit : int, default=MAX_QUOTE
        The most characters of the value kept.

    Returns
    -------
    str

    Examples
    --------
    >>> quote("cat")
    "'cat'"
    >>> quote("x" * 50_000_000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... (50,000,000 characters)"
    >>> quote(3.5)
    '3.5'
    >>> len(quote(list(range(10**6)))) < 60
    True
    """
    if isinstance(value, (str, bytes)):
        if len(value) <= limit:
            return repr(value)
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{value[:limit]!r}... ({len(value):,} {unit})"
    try:
        text = _REPR.repr(value)
    except Exception:  # a broken __repr__ of a user's object
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit + 20 else text[:limit + 20] + "..."
