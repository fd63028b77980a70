"""MLflow, both ways (``pip install "mlstrat[mlflow]"``).

- :func:`export_project`: every run of a project into MLflow, with its parameters,
  per-split errors, sizes and metrics, training history, diagnosis (JSON, with its
  status and primary problem as tags), ladder chart, predictions and error-analysis
  sheets. Re-running it updates what changed and never duplicates a run.
- :func:`import_run`: an MLflow run whose predictions were logged as an artifact
  (CSV or Parquet with split, y_true, y_pred) into a diagnosed project run.
- :func:`log_model` / :func:`load_model`: an ``mlstrat.nn`` model as an MLflow
  pyfunc model, saved by ``save_model`` (no pickle), that loads back.

MLflow is imported inside these functions only: ``import mlstrat`` never needs it.
Command line: ``mlstrat export mlflow`` and ``mlstrat import mlflow``.

Examples
--------
>>> import tempfile
>>> from mlstrat.integrations.mlflow import export_project
>>> from mlstrat.store import open_project
>>> folder = tempfile.mkdtemp()
>>> _ = open_project(folder).log_run("baseline", errors={"train": 0.1, "dev": 0.2},
...                                  sizes={"train": 800, "dev": 200})
>>> uri = "sqlite:///" + folder + "/mlflow.db"
>>> report = export_project(folder, uri, artifact_location=folder + "/artifacts")  # doctest: +SKIP
>>> print(report)  # doctest: +SKIP
1 run in MLflow at sqlite:///.../mlflow.db, experiment 'mlstrat ...': 1 new, 0 updated, ...
"""

from __future__ import annotations

from mlstrat.integrations._mlflow_common import (
    INSTALL_HINT,
    PROJECT_TAG,
    RUN_ID_TAG,
    MlflowMissingError,
    MlflowTrackingError,
)
from mlstrat.integrations._mlflow_export import (
    FINGERPRINT_TAG,
    ExportReport,
    export_project,
)
from mlstrat.integrations._mlflow_import import ImportedRun, MlflowRunError, import_run
from mlstrat.integrations._mlflow_model import load_model, log_model, pyfunc_model

__all__ = [
    "FINGERPRINT_TAG",
    "INSTALL_HINT",
    "PROJECT_TAG",
    "RUN_ID_TAG",
    "ExportReport",
    "ImportedRun",
    "MlflowMissingError",
    "MlflowRunError",
    "MlflowTrackingError",
    "export_project",
    "import_run",
    "load_model",
    "log_model",
    "pyfunc_model",
]
