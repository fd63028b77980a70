"""Write a project's runs to MLflow, once each: ``export_project``.

Every mlstrat run becomes one MLflow run tagged ``mlstrat.project`` (the project
folder) and ``mlstrat.run_id``; a second export finds it by those tags and
updates it only if the run changed since (a fingerprint tag says), so re-running
never duplicates a run.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.util
import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlstrat.diagnosis import Diagnosis
from mlstrat.integrations._mlflow_common import (
    PROJECT_TAG,
    RUN_ID_TAG,
    MlflowTrackingError,
    connect,
    mlflow_key,
    why,
)
from mlstrat.store import Project, Run, open_project

#: bumped when what an export writes changes, so older exports are brought up to date
EXPORT_FORMAT = 1
FINGERPRINT_TAG = "mlstrat.fingerprint"
#: where a run's files go inside its MLflow artifacts
ARTIFACT_DIR = "mlstrat"
_STATUS = {"running": "RUNNING", "failed": "FAILED"}  # anything else: FINISHED


@dataclass
class ExportReport:
    """What :func:`export_project` did: MLflow run ids by mlstrat run id, per outcome."""

    tracking_uri: str
    experiment: str
    experiment_id: str
    created: dict[int, str] = field(default_factory=dict)
    updated: dict[int, str] = field(default_factory=dict)
    unchanged: dict[int, str] = field(default_factory=dict)
    sheets: int = 0
    sessions_without_run: list[int] = field(default_factory=list)

    @property
    def mlflow_run_ids(self) -> dict[int, str]:
        """Every exported run: mlstrat run id -> MLflow run id."""
        return dict(sorted({**self.created, **self.updated, **self.unchanged}.items()))

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "mlflow_run_ids": self.mlflow_run_ids}

    def __str__(self) -> str:
        n = len(self.mlflow_run_ids)
        text = (f"{n} run{'s' * (n != 1)} in MLflow at {self.tracking_uri}, experiment "
                f"{self.experiment!r}: {len(self.created)} new, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged; {self.sheets} error-analysis "
                f"sheet{'s' * (self.sheets != 1)} logged.")
        if self.sessions_without_run:
            text += (f" Sessions {self.sessions_without_run} have no source run, so no "
                     "MLflow run to attach their sheet to.")
        return text


def export_project(project: Project | str | Path, tracking_uri: str | None = None, *,
                   experiment: str | None = None,
                   artifact_location: str | None = None) -> ExportReport:
    """Log every run of ``project`` to MLflow; re-running it does not duplicate runs.

    Each run is logged with its configuration as parameters; per split its error
    (``dev_error_rate``, or ``dev_rmse`` for a regression), size (``dev_n``) and
    extra metrics; its training history as metrics with ``step`` = epoch; the
    diagnosis as ``mlstrat/diagnosis.json`` with its gaps as metrics and its status
    and primary problem as tags (``mlstrat.diagnosis_status``, ``mlstrat.primary``,
    ``mlstrat.problem``); the ladder chart as ``mlstrat/ladder.html``; its
    predictions as ``mlstrat/predictions.csv`` (what ``import_run`` reads back);
    and the review sheet of each error-analysis session started from it as
    ``mlstrat/error_analysis/session_<id>.xlsx``.

    Parameters
    ----------
    project : Project, str or Path
        The project (a folder with an mlstrat store); it is only read.
    tracking_uri : str, optional
        Where MLflow keeps runs: ``sqlite:///mlflow.db``, ``http://host:5000``...
        Default: MLflow's own (``MLFLOW_TRACKING_URI``).
    experiment : str, optional
        The MLflow experiment, created when missing. Default: ``mlstrat <folder name>``.
    artifact_location : str, optional
        Where a NEW experiment keeps its files (default: the tracking server's
        choice, ``./mlruns`` for a local database).

    Returns
    -------
    ExportReport
        Which runs were created, updated or left unchanged, with their MLflow ids.

    Raises
    ------
    MlflowMissingError
        MLflow is not installed (``pip install "mlstrat[mlflow]"``).
    MlflowTrackingError
        The tracking store cannot be reached or refuses a write.
    """
    proj = project if isinstance(project, Project) else open_project(
        project, create=False, readonly=True)
    client, uri = connect(tracking_uri, "export to MLflow")
    name = experiment or f"mlstrat {proj.folder.resolve().name}"
    exp_id = _experiment(client, name, artifact_location)
    report = ExportReport(uri, name, exp_id)
    key = str(proj.folder.resolve())
    existing = _existing(client, exp_id, key)
    sessions = proj.error_sessions()
    report.sessions_without_run = [int(i) for i in sessions.loc[sessions["run_id"].isna(), "id"]]
    for run_id in proj.runs()["id"].astype(int):
        _export_one(client, exp_id, proj, proj.get_run(int(run_id)), key, existing, sessions,
                    report)
    return report


def _export_one(client: Any, exp_id: str, proj: Project, run: Run, key: str,
                existing: dict[int, Any], sessions: pd.DataFrame, report: ExportReport) -> None:
    history = proj.run_history(run.id)
    session_ids = [int(i) for i in sessions.loc[sessions["run_id"] == run.id, "id"]]
    fingerprint = _fingerprint(proj, run, history, session_ids)
    old = existing.get(run.id)
    if old is not None and old.data.tags.get(FINGERPRINT_TAG) == fingerprint:
        report.unchanged[run.id] = old.info.run_id
        return
    try:
        mlflow_id = old.info.run_id if old is not None else _create(client, exp_id, run, key)
        _log_params(client, mlflow_id, run, {} if old is None else old.data.params)
        _log_metrics(client, mlflow_id, run, history, old)
        _log_tags(client, mlflow_id, run)
        _log_files(client, mlflow_id, proj, run, session_ids)
        _finish(client, mlflow_id, run, fingerprint)
    except MlflowTrackingError:
        raise
    except Exception as exc:  # MLflow's own errors; the message names the run
        if type(exc).__module__.split(".")[0] not in ("mlflow", "requests", "sqlalchemy"):
            raise
        raise MlflowTrackingError(f"MLflow refused run {run.id} ({run.name!r}): {why(exc)}. "
                                  "Runs before it were exported; run the export again to "
                                  "finish (nothing is duplicated).") from exc
    (report.created if old is None else report.updated)[run.id] = mlflow_id
    report.sheets += len(session_ids)


# -- finding and creating -------------------------------------------------------
def _experiment(client: Any, name: str, artifact_location: str | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name, artifact_location=artifact_location))
    if found.lifecycle_stage == "deleted":
        raise MlflowTrackingError(f"The MLflow experiment {name!r} is deleted; restore it "
                                  "(mlflow experiments restore) or choose another name.")
    return str(found.experiment_id)


def _existing(client: Any, exp_id: str, key: str) -> dict[int, Any]:
    """The experiment's runs exported from this project, by mlstrat run id."""
    safe = "'" not in key and "\\" not in key
    query = f"tags.`{PROJECT_TAG}` = '{key}'" if safe else ""
    found: dict[int, Any] = {}
    token = None
    while True:
        page = client.search_runs([exp_id], filter_string=query, max_results=1000,
                                  page_token=token)
        for run in page:
            tags = run.data.tags
            if tags.get(PROJECT_TAG) == key and str(tags.get(RUN_ID_TAG, "")).isdigit():
                found.setdefault(int(tags[RUN_ID_TAG]), run)
        token = page.token
        if not token:
            return found


def _create(client: Any, exp_id: str, run: Run, key: str) -> str:
    created = client.create_run(exp_id, start_time=_ms(run.created_at), run_name=run.name,
                                tags={PROJECT_TAG: key, RUN_ID_TAG: str(run.id)})
    return str(created.info.run_id)


def _ms(created_at: str) -> int:
    try:
        stamp = _dt.datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        return int(time.time() * 1000)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.UTC)
    return int(stamp.timestamp() * 1000)


def _fingerprint(proj: Project, run: Run, history: pd.DataFrame, session_ids: list[int]) -> str:
    """Changes when anything an export writes for this run changes."""
    revisions = [proj.error_snapshot(sid)["revision"] for sid in session_ids]
    text = json.dumps([EXPORT_FORMAT, run.to_dict(), history.to_json(orient="records"),
                       session_ids, revisions], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- what is logged ----------------------------------------------------------------
def flat_params(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A run's configuration as MLflow params: nested keys joined by dots, values
    as text (JSON for lists), at most 6000 characters each.

    Examples
    --------
    >>> flat_params({"lr": 0.01, "net": {"layers": [64, 32]}, "note": None})
    {'lr': '0.01', 'net.layers': '[64, 32]', 'note': 'None'}
    """
    out: dict[str, str] = {}
    for name, value in config.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, f"{key}."))
            continue
        text = value if isinstance(value, str) else (
            json.dumps(value, default=str) if isinstance(value, (list, tuple, dict))
            else str(value))
        out[mlflow_key(key)] = text[:6000]
    return out


def _log_params(client: Any, mlflow_id: str, run: Run, logged: dict[str, str]) -> None:
    """New params only: MLflow params cannot change once logged."""
    from mlflow.entities import Param

    params = [Param(k, v) for k, v in flat_params(run.config).items() if k not in logged]
    if params:
        client.log_batch(mlflow_id, params=params)


def metric_name(metric: str) -> str:
    """The suffix of a split's error metric: 'error rate' -> 'error_rate', 'RMSE' -> 'rmse'.

    Examples
    --------
    >>> metric_name("error rate"), metric_name("RMSE")
    ('error_rate', 'rmse')
    """
    return mlflow_key(metric.strip().lower().replace(" ", "_"))


def summary_metrics(run: Run, diagnosis: Diagnosis | None) -> dict[str, float]:
    """The run's numbers as flat MLflow metrics (finite numbers only)."""
    values: dict[str, Any] = {}
    suffix = metric_name(run.metric)
    for split, error in run.errors.items():
        values[f"{split}_{suffix}"] = error
    for split, n in run.sizes.items():
        values[f"{split}_n"] = n
    for split, extra in run.metrics.items():
        for name, value in extra.items():
            values.setdefault(f"{split}_{mlflow_key(name)}", value)
    values["human_error"] = run.human_error
    for gap in diagnosis.gaps if diagnosis is not None else []:
        values[f"gap_{gap.name}"] = gap.value
    return {mlflow_key(k): float(v) for k, v in values.items() if _finite(v)}


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def _log_metrics(client: Any, mlflow_id: str, run: Run, history: pd.DataFrame,
                 old: Any) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    latest = {} if old is None else dict(old.data.metrics)
    metrics = [Metric(k, v, now, 0) for k, v in summary_metrics(run, _diagnosis(run)).items()
               if latest.get(k) != v]
    metrics += _history_metrics(client, mlflow_id, run, history, old)
    if metrics:
        client.log_batch(mlflow_id, metrics=metrics)


def _history_metrics(client: Any, mlflow_id: str, run: Run, history: pd.DataFrame,
                     old: Any) -> list[Any]:
    """One metric per history column and epoch (``step`` = epoch); on an update,
    only the epochs MLflow does not have yet."""
    from mlflow.entities import Metric

    if history.empty or "epoch" not in history.columns:
        return []
    stamp = _ms(run.created_at)
    out = []
    for column in history.columns.drop("epoch"):
        key = mlflow_key(column)
        done = -1
        if old is not None and key in old.data.metrics:
            done = max((m.step for m in client.get_metric_history(mlflow_id, key)), default=-1)
        for epoch, value in zip(history["epoch"], history[column], strict=True):
            if int(epoch) > done and _finite(value):
                out.append(Metric(key, float(value), stamp + int(epoch), int(epoch)))
    return out


def _diagnosis(run: Run) -> Diagnosis | None:
    from mlstrat.tracking import diagnosis_of_run

    try:
        return diagnosis_of_run(run)[0]
    except ValueError:  # no training error: nothing to diagnose
        return None


def run_tags(run: Run) -> dict[str, str]:
    """The tags of an exported run: its status, metric and diagnosis in words."""
    diagnosis = _diagnosis(run)
    tags = {"mlstrat.status": run.status, "mlstrat.metric": run.metric,
            "mlstrat.run_name": run.name}
    if diagnosis is not None:
        tags.update({
            "mlstrat.diagnosis_status": diagnosis.status,
            "mlstrat.primary": diagnosis.primary or "none",
            "mlstrat.problem": diagnosis.problem,
            "mlstrat.headline": diagnosis.headline,
        })
    note = "\n\n".join(t for t in (diagnosis.headline if diagnosis else "",
                                   f"Next: {diagnosis.next_step}" if diagnosis and
                                   diagnosis.next_step else "", run.notes) if t)
    if note:
        tags["mlflow.note.content"] = note
    return {k: v[:5000] for k, v in tags.items()}


def _log_tags(client: Any, mlflow_id: str, run: Run) -> None:
    from mlflow.entities import RunTag

    client.log_batch(mlflow_id, tags=[RunTag(k, v) for k, v in run_tags(run).items()])


def _log_files(client: Any, mlflow_id: str, proj: Project, run: Run,
               session_ids: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="mlstrat-mlflow-") as tmp:
        folder = Path(tmp) / ARTIFACT_DIR
        folder.mkdir()
        _write_diagnosis(folder, _diagnosis(run))
        predictions = proj.run_predictions(run.id)
        if not predictions.empty:
            predictions.to_csv(folder / "predictions.csv", index=False)
        if session_ids:
            _write_sheets(folder / "error_analysis", proj, session_ids)
        client.log_artifacts(mlflow_id, str(folder), ARTIFACT_DIR)


def _write_diagnosis(folder: Path, diagnosis: Diagnosis | None) -> None:
    """``diagnosis.json``, ``ladder.html`` and, if vl-convert is installed, ``ladder.png``."""
    if diagnosis is None:
        return
    (folder / "diagnosis.json").write_text(diagnosis.to_json(indent=2), encoding="utf-8")
    chart = diagnosis.chart()
    chart.save(str(folder / "ladder.html"))
    if importlib.util.find_spec("vl_convert") is not None:  # Altair's PNG engine
        chart.save(str(folder / "ladder.png"))


def _write_sheets(folder: Path, proj: Project, session_ids: list[int]) -> None:
    from mlstrat.errors import export_session, open_session

    folder.mkdir()
    for sid in session_ids:
        export_session(open_session(proj, sid), folder / f"session_{sid}.xlsx")


def _finish(client: Any, mlflow_id: str, run: Run, fingerprint: str) -> None:
    """Status last, then the fingerprint: a run cut short is redone next time."""
    status = _STATUS.get(run.status, "FINISHED")
    if status == "RUNNING":
        client.update_run(mlflow_id, status="RUNNING")
    else:
        client.set_terminated(mlflow_id, status=status)
    client.set_tag(mlflow_id, FINGERPRINT_TAG, fingerprint)
