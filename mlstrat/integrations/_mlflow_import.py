"""Read an MLflow run whose predictions were logged as an artifact: ``import_run``.

The artifact is a CSV or Parquet file with the columns ``split``, ``y_true``,
``y_pred`` (optional ``id`` and ``proba_<class>``), checked by the same reader as
``mlstrat diagnose``. The run is read, checked and diagnosed before anything is
written; then it is stored as one project run in one transaction.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlstrat.diagnosis import Diagnosis, diagnose_predictions
from mlstrat.integrations._mlflow_common import (
    MlflowTrackingError,
    connect,
    mlflow_error_code,
    quiet_downloads,
    why,
)
from mlstrat.predictions import read_predictions_csv
from mlstrat.regression import diagnose_regression
from mlstrat.store import Project, open_project

#: file suffixes read as predictions
READERS = (".csv", ".parquet")
_PYTHON_WORDS = {"None": None, "True": True, "False": False}
#: at most this many metric histories are read into the run's per-epoch history
MAX_HISTORY_KEYS = 50


@dataclass
class ImportedRun:
    """What :func:`import_run` stored: the new run's id, where it came from, its diagnosis."""

    run_id: int
    project: Project
    mlflow_run_id: str
    artifact: str
    diagnosis: Diagnosis | None

    def __str__(self) -> str:
        said = self.diagnosis.headline if self.diagnosis is not None else (
            "not diagnosed: the predictions have no 'train' split")
        return (f"MLflow run {self.mlflow_run_id} ({self.artifact}) is run {self.run_id} in "
                f"{self.project.folder}: {said}")


class MlflowRunError(MlflowTrackingError):
    """The MLflow run is unknown or has no readable predictions artifact."""


def import_run(project: Project | str | Path, mlflow_run_id: str, *,
               tracking_uri: str | None = None, artifact: str | None = None,
               name: str | None = None, human: float | None = None,
               task: Literal["auto", "classification", "regression"] = "auto") -> ImportedRun:
    """Store an MLflow run, from its logged predictions, as a diagnosed project run.

    Parameters
    ----------
    project : Project, str or Path
        The project to add the run to (a folder is created if missing).
    mlflow_run_id : str
        The MLflow run's id.
    tracking_uri : str, optional
        MLflow's tracking URI (default: MLflow's own, ``MLFLOW_TRACKING_URI``).
    artifact : str, optional
        The predictions artifact's path in the run (``predictions.csv``,
        ``eval/preds.parquet``...). Default: the one file named
        ``predictions.csv`` or ``predictions.parquet`` (at the top level or under
        ``mlstrat/``, where :func:`export_project` puts it).
    name : str, optional
        The project run's name (default: the MLflow run's name).
    human : float, optional
        Human-level error (a rate, or an RMSE in the target's units).
    task : {'auto', 'classification', 'regression'}, default='auto'
        'auto': a regression when ``y_true`` holds fractional numbers.

    Returns
    -------
    ImportedRun

    Raises
    ------
    MlflowRunError
        Unknown run, no predictions artifact, or one that is not a valid
        predictions file; nothing is written.
    """
    if task not in ("auto", "classification", "regression"):
        raise ValueError("The 'task' parameter of import_run must be 'auto', "
                         f"'classification' or 'regression'. Got {task!r}.")
    client, uri = connect(tracking_uri, "import from MLflow")
    source = _get_run(client, str(mlflow_run_id).strip(), uri)
    mlflow_id = source.info.run_id
    path = artifact or _find_artifact(client, mlflow_id)
    predictions = _read_artifact(client, mlflow_id, path)
    diagnosis, errors, metric = _diagnose(predictions, human, task)
    proj = project if isinstance(project, Project) else open_project(project)
    run_id = proj.log_run(
        name or source.info.run_name or f"mlflow {mlflow_id[:8]}",
        config={**_params(source.data.params), "mlflow_run_id": mlflow_id},
        errors=errors, human_error=human, predictions=predictions, diagnosis=diagnosis,
        metric=metric, history=_history(client, source),
        notes=f"Imported from MLflow run {mlflow_id} ({path}) at {uri}.")
    return ImportedRun(run_id, proj, mlflow_id, path, diagnosis)


def _get_run(client: Any, mlflow_run_id: str, uri: str) -> Any:
    try:
        return client.get_run(mlflow_run_id)
    except Exception as exc:  # MlflowException: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER...
        if mlflow_error_code(exc) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise MlflowRunError(f"No MLflow run {mlflow_run_id!r} at {uri}. Check the id "
                                 "(shown on the run's page in MLflow) and the tracking URI; "
                                 "nothing was written.") from None
        raise MlflowTrackingError(f"Cannot read MLflow run {mlflow_run_id!r} at {uri} "
                                  f"({why(exc)}); nothing was written.") from exc


def _walk(client: Any, run_id: str, path: str | None, depth: int) -> list[str]:
    """Artifact file paths of a run, two folders deep at most."""
    files = []
    for info in client.list_artifacts(run_id, path):
        if not info.is_dir:
            files.append(info.path)
        elif depth > 0:
            files.extend(_walk(client, run_id, info.path, depth - 1))
    return files


def _find_artifact(client: Any, run_id: str) -> str:
    files = _walk(client, run_id, None, 1)
    named = [f for f in files if Path(f).name.lower() in ("predictions.csv",
                                                           "predictions.parquet")]
    if len(named) == 1:
        return named[0]
    readable = [f for f in files if Path(f).suffix.lower() in READERS]
    if len(named) > 1 or (not named and len(readable) > 1):
        raise MlflowRunError(f"MLflow run {run_id} has several files that could hold its "
                             f"predictions {sorted(named or readable)[:20]}; name one with "
                             "--artifact (artifact=...). Nothing was written.")
    if not named and len(readable) == 1:
        return readable[0]
    raise MlflowRunError(
        f"MLflow run {run_id} has no predictions artifact (a CSV or Parquet file with "
        f"columns split, y_true, y_pred). Its artifacts: {sorted(files)[:20] or 'none'}. "
        "Log one with mlflow.log_artifact('predictions.csv'), or name another with "
        "--artifact. Nothing was written.")


def _read_artifact(client: Any, run_id: str, path: str) -> dict[str, pd.DataFrame]:
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise MlflowRunError(f"The artifact {path!r} of MLflow run {run_id} is not a CSV or "
                             "Parquet file; give a predictions file (split, y_true, y_pred). "
                             "Nothing was written.")
    with tempfile.TemporaryDirectory(prefix="mlstrat-mlflow-") as tmp:
        try:
            with quiet_downloads():
                local = Path(client.download_artifacts(run_id, path, tmp))
        except Exception as exc:  # MlflowException or OSError from the artifact store
            raise MlflowRunError(f"Cannot download the artifact {path!r} of MLflow run "
                                 f"{run_id} ({why(exc)}). Check its path in the run's "
                                 "artifacts; nothing was written.") from exc
        if local.is_dir():
            raise MlflowRunError(f"The artifact {path!r} of MLflow run {run_id} is a folder; "
                                 "name the predictions file inside it. Nothing was written.")
        try:
            return read_predictions_csv(_csv_bytes(local))
        except (ValueError, OSError) as exc:
            raise MlflowRunError(f"The predictions artifact {path!r} of MLflow run {run_id} "
                                 f"cannot be used: {exc} Nothing was written.") from None


def _csv_bytes(local: Path) -> bytes:
    """The file as CSV bytes: a Parquet file goes through the CSV reader's checks too."""
    if local.suffix.lower() != ".parquet":
        return local.read_bytes()
    try:
        frame = pd.read_parquet(local)
    except ImportError as exc:
        raise ValueError(f"Reading Parquet needs pyarrow: pip install pyarrow ({exc}).") from None
    except Exception as exc:  # pyarrow's ArrowInvalid and friends on a damaged file
        raise ValueError(f"It is not a readable Parquet file ({why(exc)}).") from None
    return frame.to_csv(index=False).encode("utf-8")


def _numeric(frames: dict[str, pd.DataFrame]) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Float labels and predictions per split, or None when they are not all numbers."""
    try:
        return {s: (pd.to_numeric(f["y_true"]).to_numpy(float),
                    pd.to_numeric(f["y_pred"]).to_numpy(float)) for s, f in frames.items()}
    except (ValueError, TypeError):
        return None


def _diagnose(preds: dict[str, pd.DataFrame], human: float | None,
              task: str) -> tuple[Diagnosis | None, dict[str, float] | None, str]:
    numeric = _numeric(preds)
    fractional = numeric is not None and any(
        np.any(np.mod(yt[np.isfinite(yt)], 1) != 0) for yt, _ in numeric.values())
    if task == "regression" and numeric is None:
        raise MlflowRunError("task='regression' needs numbers in y_true and y_pred; the "
                             "predictions artifact holds text. Nothing was written.")
    if numeric is not None and (task == "regression" or (task == "auto" and fractional)):
        for split, frame in preds.items():
            frame["y_true"], frame["y_pred"] = numeric[split]
        if "train" not in preds:
            return None, {s: float(np.sqrt(np.mean((yt - yp) ** 2)))
                          for s, (yt, yp) in numeric.items()}, "RMSE"
        d = diagnose_regression(numeric, human=human)
        rates = {s: v for s in preds if (v := d.rates.get(s)) is not None}
        return d, rates, d.metric
    if "train" not in preds:
        return None, None, "error rate"
    pairs = {s: (f["y_true"].to_numpy(), f["y_pred"].to_numpy()) for s, f in preds.items()}
    return diagnose_predictions(pairs, human=human), None, "error rate"


def _params(params: dict[str, str]) -> dict[str, Any]:
    """MLflow's text params as values: numbers, JSON and Python's None/True/False
    read back, other text kept.

    Examples
    --------
    >>> _params({"lr": "0.01", "layers": "[64, 32]", "solver": "adam", "seed": "None"})
    {'lr': 0.01, 'layers': [64, 32], 'solver': 'adam', 'seed': None}
    """
    out: dict[str, Any] = {}
    for key, text in params.items():
        if text in _PYTHON_WORDS:
            out[key] = _PYTHON_WORDS[text]
            continue
        try:
            value = json.loads(text)
        except (ValueError, TypeError):
            value = text
        finite = not isinstance(value, float) or np.isfinite(value)
        keep = finite and (value is None or isinstance(value, (int, float, bool, list, dict)))
        out[key] = value if keep else text
    return out


def _history(client: Any, source: Any) -> list[dict[str, Any]] | None:
    """Metrics logged at several steps, as per-epoch rows (step = epoch)."""
    rows: dict[int, dict[str, Any]] = {}
    for key in sorted(source.data.metrics)[:MAX_HISTORY_KEYS]:
        points = client.get_metric_history(source.info.run_id, key)
        if len({m.step for m in points}) < 2:
            continue
        for m in sorted(points, key=lambda p: (p.step, p.timestamp)):
            if np.isfinite(m.value):
                rows.setdefault(int(m.step), {"epoch": int(m.step)})[key] = float(m.value)
    return [rows[e] for e in sorted(rows) if e >= 0] or None
