"""The project's own error type: a bad input, said in one sentence.

Every error mlstrat raises on purpose for something the user can fix is a
:class:`MlstratError` (a ``ValueError``, so code that catches ``ValueError``
keeps working). The command line turns it into one line and exit code 2.
"""

from __future__ import annotations

__all__ = ["MlstratError"]


class MlstratError(ValueError):
    """A bad input or a refused operation; the message says what and how to fix it.

    Examples
    --------
    >>> try:
    ...     raise MlstratError("n_trials must be a whole number >= 1. Got 'two'.")
    ... except ValueError as exc:
    ...     print(exc)
    n_trials must be a whole number >= 1. Got 'two'.
    """
