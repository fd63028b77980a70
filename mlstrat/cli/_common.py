"""What every subcommand shares: one error path, file checks, opening a project.

An error becomes ONE line on stderr, ``mlstrat COMMAND: error: ...``, and an
exit code: 2 for bad input (a file, a key or a value the user can fix; nothing
was written), 1 for anything unexpected. ``mlstrat --debug COMMAND ...`` shows
the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlstrat._errors import MlstratError

#: Exceptions that mean "the input is bad": exit code 2 and one line.
#: (SyntaxError covers the XML parsers' ParseError; UnicodeError is a ValueError.)
BAD_INPUT: tuple[type[BaseException], ...] = (
    ValueError, TypeError, LookupError, OSError, EOFError, sqlite3.Error,
    zipfile.BadZipFile, zlib.error, SyntaxError,
)
EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
MAX_MESSAGE = 1000  # characters of one error line

_OS_HINTS = {
    errno.EISDIR: "is a folder; give a file",
    errno.ENOTDIR: "is not a folder",
    errno.ENOENT: "does not exist",
    errno.EACCES: "cannot be opened: permission denied",
}


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line, at most ``MAX_MESSAGE`` characters.

    Examples
    --------
    >>> one_line(ValueError("two\\nlines"))
    'two lines'
    >>> one_line(IsADirectoryError(21, "Is a directory", "out.xlsx"))
    "'out.xlsx' is a folder; give a file"
    >>> one_line(KeyError("No run 'x'."))
    "No run 'x'."
    >>> one_line(zipfile.BadZipFile("File is not a zip file"))
    'BadZipFile: File is not a zip file'
    """
    text = " ".join(_message(exc).split()) or type(exc).__name__
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.filename is not None:
        hint = _OS_HINTS.get(exc.errno or 0, exc.strerror or str(exc))
        return f"{str(exc.filename)!r} {hint}"
    if type(exc) in (ValueError, TypeError) or isinstance(exc, MlstratError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def exit_code(exc: BaseException) -> int:
    """2 for bad input (see ``BAD_INPUT``), 1 for anything else."""
    return EXIT_BAD_INPUT if isinstance(exc, BAD_INPUT) else EXIT_FAILURE


def input_file(path: str | Path, what: str = "file") -> Path:
    """``path`` as a readable, non-empty file, or an error naming it.

    Examples
    --------
    >>> import tempfile
    >>> input_file(tempfile.mkdtemp(), "predictions CSV")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat._errors.MlstratError: The predictions CSV ... is a folder; give a file.
    """
    path = Path(path)
    if path.is_dir():
        raise MlstratError(f"The {what} {str(path)!r} is a folder; give a file.")
    if not path.exists():
        raise MlstratError(f"The {what} {str(path)!r} does not exist.")
    if path.stat().st_size == 0:
        raise MlstratError(f"The {what} {str(path)!r} is empty.")
    return path


def output_file(path: str | Path, what: str = "output file") -> Path:
    """``path`` as a file that can be written: not a folder, in a folder that exists."""
    path = Path(path)
    if path.is_dir():
        raise MlstratError(f"The {what} {str(path)!r} is a folder; give a file name "
                           "such as review.xlsx.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise MlstratError(f"Cannot write the {what} {str(path)!r}: the folder "
                           f"{str(parent)!r} does not exist.")
    return path


@contextlib.contextmanager
def reading(path: str | Path, what: str = "file") -> Iterator[None]:
    """Name ``path`` in any bad-input error raised while reading it.

    Store errors pass through unchanged (they name the store).

    Examples
    --------
    >>> with reading("preds.csv", "predictions CSV"):  # doctest: +ELLIPSIS
    ...     raise UnicodeDecodeError("utf-8", b"\\xff", 0, 1, "invalid start byte")
    Traceback (most recent call last):
    ...
    mlstrat._errors.MlstratError: The predictions CSV 'preds.csv' cannot be read (...).
    """
    from mlstrat.store import StoreError

    try:
        yield
    except StoreError:
        raise
    except BAD_INPUT as exc:
        message = one_line(exc)
        if Path(path).name in message:
            raise MlstratError(message) from exc
        if type(exc) in (ValueError, TypeError) or isinstance(exc, MlstratError):
            raise MlstratError(f"{str(path)!r}: {message}") from exc  # says what is wrong
        raise MlstratError(f"The {what} {str(path)!r} cannot be read ({message}).") from exc


def open_project(folder: str | Path, *, write: bool = False, create: bool = False) -> Any:
    """The project at ``folder``: read commands never create one nor take a write lock.

    ``create=True`` (commands that start something: ``errors new``, ``tune``,
    ``baseline``, ``diagnose --project``) creates a missing project.
    """
    from mlstrat.store import open_project as _open

    return _open(folder, create=create, readonly=not (write or create))
