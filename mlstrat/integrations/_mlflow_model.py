"""An ``mlstrat.nn`` model as an MLflow artifact that loads back: ``log_model`` / ``load_model``.

The model is written by :func:`mlstrat.nn.save_model` (one ``.npz``: arrays and
a JSON config, never pickle) and logged as an MLflow *pyfunc* model "from code":
the logged code is a three-line script that imports mlstrat and hands MLflow a
stateless :class:`~mlflow.pyfunc.PythonModel` whose ``load_context`` calls
:func:`mlstrat.nn.load_model`. Nothing is pickled, so loading runs mlstrat's
code on mlstrat's file format, not arbitrary stored state.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlstrat.integrations._mlflow_common import (
    MlflowTrackingError,
    quiet_downloads,
    require_mlflow,
    why,
)

#: the model file's name inside the MLflow model's artifacts
MODEL_FILE = "model.npz"

#: what MLflow stores as the model's code (models from code: nothing pickled)
MODEL_CODE = '''"""An mlstrat.nn model for MLflow's pyfunc flavour (logged as code, no pickle)."""
from mlflow.models import set_model

from mlstrat.integrations.mlflow import pyfunc_model

set_model(pyfunc_model())
'''


@functools.cache
def _pyfunc_class() -> type:
    """The PythonModel subclass, built on first use so that MLflow stays optional."""
    from mlflow.pyfunc import PythonModel

    from mlstrat.nn import load_model

    class MlstratModel(PythonModel):
        """Loads an ``mlstrat.nn`` model file; ``predict`` is the model's ``predict``."""

        # MLflow's switch (its ChatModel uses it) to pass predict's input as given
        # rather than ask for type hints; the model checks its input itself. If a
        # later MLflow drops it, only a warning comes back.
        _skip_type_hint_validation = True

        def load_context(self, context):
            self.model = load_model(context.artifacts["model"])

        def predict(self, context, model_input, params=None):
            return self.model.predict(_features(model_input))

    return MlstratModel



def pyfunc_model() -> Any:
    """A fresh, empty instance of mlstrat's pyfunc model (MLflow fills it by
    calling ``load_context``)."""
    require_mlflow("An mlstrat model in MLflow")
    return _pyfunc_class()()


def _features(model_input: Any) -> np.ndarray:
    values = model_input.to_numpy() if hasattr(model_input, "to_numpy") else model_input
    return np.asarray(values, dtype=float)


@contextlib.contextmanager
def _tracking(mlflow: Any, tracking_uri: str | None) -> Iterator[None]:
    """MLflow's global tracking URI set to ``tracking_uri`` for a block (some of
    MLflow's calls, e.g. resolving ``models:/`` URIs, read only the global one)."""
    if tracking_uri is None:
        yield
        return
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


@contextlib.contextmanager
def _active_run(mlflow: Any, run_id: str | None) -> Iterator[None]:
    """Log into ``run_id``, or the active run."""
    active = mlflow.active_run()
    if run_id is None and active is None:
        raise MlflowTrackingError(
            "log_model needs an MLflow run: call it inside `with mlflow.start_run():` "
            "or pass run_id=...")
    if run_id is None or (active is not None and active.info.run_id == run_id):
        yield
    else:
        with mlflow.start_run(run_id=run_id):
            yield


def log_model(model: Any, artifact_path: str = "model", *, run_id: str | None = None,
              tracking_uri: str | None = None) -> Any:
    """Log a fitted ``mlstrat.nn`` model to MLflow as a pyfunc model.

    Parameters
    ----------
    model : Sequential, NeuralNetClassifier or NeuralNetRegressor
        Anything :func:`mlstrat.nn.save_model` writes.
    artifact_path : str, default='model'
        The model's name in the run.
    run_id : str, optional
        The MLflow run to log into (default: the active run).
    tracking_uri : str, optional
        Used for this call only (default: MLflow's current one).

    Returns
    -------
    mlflow.models.model.ModelInfo
        Its ``model_uri`` is what :func:`load_model` (or ``mlflow.pyfunc.load_model``) takes.
    """
    mlflow = require_mlflow("log_model")
    from mlstrat import __version__
    from mlstrat.nn import save_model

    with tempfile.TemporaryDirectory(prefix="mlstrat-model-") as tmp:
        weights, code = Path(tmp) / MODEL_FILE, Path(tmp) / "mlstrat_model.py"
        save_model(model, weights)
        code.write_text(MODEL_CODE, encoding="utf-8")
        with _tracking(mlflow, tracking_uri), _active_run(mlflow, run_id), \
                quiet_downloads():
            return mlflow.pyfunc.log_model(
                name=artifact_path, python_model=str(code), artifacts={"model": str(weights)},
                pip_requirements=[f"mlstrat=={__version__}"])


def load_model(model_uri: str, *, tracking_uri: str | None = None) -> Any:
    """The ``mlstrat.nn`` model that :func:`log_model` logged at ``model_uri``.

    Only the model file is downloaded and read by :func:`mlstrat.nn.load_model`
    (no logged code runs). ``mlflow.pyfunc.load_model(model_uri)`` gives the
    same model behind MLflow's pyfunc interface.

    Raises
    ------
    MlflowTrackingError
        The URI cannot be read, or holds no mlstrat model.
    """
    mlflow = require_mlflow("load_model")
    from mlstrat.nn import load_model as read_model

    with tempfile.TemporaryDirectory(prefix="mlstrat-model-") as tmp:
        try:
            with _tracking(mlflow, tracking_uri), quiet_downloads():
                local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri,
                                                            dst_path=tmp)
        except Exception as exc:  # MlflowException, OSError
            raise MlflowTrackingError(f"Cannot download the model {model_uri!r} "
                                      f"({why(exc)}).") from exc
        path = Path(local) / "artifacts" / MODEL_FILE
        if not path.is_file():
            found = sorted(os.listdir(local)) if Path(local).is_dir() else [Path(local).name]
            raise MlflowTrackingError(f"{model_uri!r} is not an mlstrat model logged by "
                                      f"mlstrat.integrations.mlflow.log_model (no "
                                      f"artifacts/{MODEL_FILE}; found {found[:20]}).")
        return read_model(path)
