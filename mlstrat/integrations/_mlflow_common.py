"""What the MLflow bridge shares: importing MLflow, reaching a tracking store, errors.

MLflow is imported inside functions only, so ``import mlstrat`` never needs it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from mlstrat._errors import MlstratError

#: how to get MLflow, said by every error that needs it
INSTALL_HINT = 'pip install "mlstrat[mlflow]"'

#: tag keys that tie an MLflow run to the mlstrat run it was exported from
PROJECT_TAG = "mlstrat.project"
RUN_ID_TAG = "mlstrat.run_id"

_SQLITE = "sqlite:///"


class MlflowMissingError(MlstratError, ModuleNotFoundError):
    """MLflow is not installed; the message says how to install it.

    Both a :class:`~mlstrat._errors.MlstratError` (bad input: one line, exit code 2
    on the command line) and a ``ModuleNotFoundError``.
    """


class MlflowTrackingError(MlstratError):
    """The tracking store cannot be reached, or refused what was asked of it."""


def require_mlflow(what: str) -> ModuleType:
    """The ``mlflow`` module, or :class:`MlflowMissingError` naming ``what`` needs it.

    Examples
    --------
    >>> import importlib.util
    >>> if importlib.util.find_spec("mlflow") is None:
    ...     print("skipped")
    ... else:
    ...     print(require_mlflow("export").__name__)  # doctest: +ELLIPSIS
    ml...
    """
    try:
        import mlflow
    except ModuleNotFoundError as exc:
        missing = exc.name or "mlflow"
        raise MlflowMissingError(
            f"{what} needs MLflow, which is not installed (missing module {missing!r}): "
            f"{INSTALL_HINT}.") from None
    return mlflow


def why(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, short enough for one error line.

    Examples
    --------
    >>> why(ValueError("first\\nsecond"))
    'ValueError: first'
    """
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_tracking_uri(uri: str) -> str:
    """Refuse a ``sqlite:///`` URI whose folder does not exist (MLflow would say
    only "unable to open database file").

    Examples
    --------
    >>> check_tracking_uri("http://localhost:5000")
    'http://localhost:5000'
    >>> check_tracking_uri("sqlite:////no/such/folder/mlflow.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat.integrations._mlflow_common.MlflowTrackingError: The tracking URI ...
    """
    if not isinstance(uri, str) or not uri.strip():
        raise MlflowTrackingError(f"The tracking URI must be a non-empty string such as "
                                  f"sqlite:///mlflow.db or http://host:5000. Got {uri!r}.")
    if uri.startswith(_SQLITE):
        path = Path(uri[len(_SQLITE):].split("?", 1)[0])
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise MlflowTrackingError(
                f"The tracking URI {uri!r} names a database in the folder {str(folder)!r}, "
                "which does not exist. Create the folder or fix the URI (sqlite:///NAME.db "
                "is relative to the current folder, sqlite:////abs/path.db absolute).")
    return uri


@contextlib.contextmanager
def _environ(preset: dict[str, str]) -> Iterator[None]:
    """MLflow settings for the duration of a block, where the user set none."""
    added = [k for k in preset if k not in os.environ]
    os.environ.update({k: preset[k] for k in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _fail_fast() -> contextlib.AbstractContextManager[None]:
    """No retries and a short timeout while probing an HTTP tracking server
    (MLflow's defaults retry for minutes)."""
    return _environ({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"})


def quiet_downloads() -> contextlib.AbstractContextManager[None]:
    """No progress bar on stderr while downloading artifacts."""
    return _environ({"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"})


def connect(tracking_uri: str | None, what: str) -> tuple[Any, str]:
    """An ``MlflowClient`` on ``tracking_uri`` (MLflow's default when None) that
    answered one request, and the URI; else one clear error.

    Raises
    ------
    MlflowMissingError
        MLflow is not installed.
    MlflowTrackingError
        The URI is malformed or the store cannot be reached.
    """
    mlflow = require_mlflow(what)
    from mlflow.tracking import MlflowClient

    uri = check_tracking_uri(tracking_uri or mlflow.get_tracking_uri())
    try:
        with _fail_fast():
            client = MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)
    except Exception as exc:  # MlflowException, requests and SQLAlchemy errors alike
        raise MlflowTrackingError(
            f"Cannot reach the MLflow tracking store at {uri!r} ({why(exc)}). Check the URI "
            "(for example sqlite:///mlflow.db or http://host:5000) and that its server is "
            "running; nothing was written.") from exc
    return client, uri


_BAD_KEY_CHARS = re.compile(r"[^\w./ :-]")


def mlflow_key(name: object) -> str:
    """``name`` as a valid MLflow param or metric key (at most 250 characters).

    Examples
    --------
    >>> mlflow_key("layers[0].units")
    'layers_0_.units'
    >>> mlflow_key("../x//y")
    '_/x/y'
    """
    key = _BAD_KEY_CHARS.sub("_", str(name)).strip() or "_"
    key = re.sub(r"/+", "/", key).strip("/") or "_"
    key = "/".join("_" if part in (".", "..") else part for part in key.split("/"))
    return key[:250]


def mlflow_error_code(exc: BaseException) -> str:
    """MLflow's error code of ``exc`` ('' for other exceptions)."""
    return str(getattr(exc, "error_code", "") or "")
