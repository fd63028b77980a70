"""Log a run from any training loop, as it trains: ``start_run``.

For PyTorch, Keras, XGBoost or a hand-written loop::

    with mlstrat.start_run("my_project", "resnet, lr=1e-3", config={"lr": 1e-3}) as run:
        for epoch in range(epochs):
            ...                                    # train one epoch
            run.log_epoch(epoch, train_loss=tl, dev_loss=dl, train_error=te, dev_error=de)
        run.log_predictions("train", y_train, model_predict(X_train))
        run.log_predictions("dev", y_dev, model_predict(X_dev), ids=dev_ids)

The run is in the project as *running* from the first line (the dashboard's
Training page follows it), is diagnosed when the block ends, and is marked
*failed*, with the exception's message, if the block raises. Predictions are
kept in memory and written with the errors, sizes and diagnosis in one
transaction, so a killed script leaves a run marked 'running' with its
epochs and never a half-written result.

Examples
--------
>>> import tempfile, numpy as np
>>> from sklearn.linear_model import SGDClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(600, 3)); y = (X[:, 0] > 0).astype(int)
>>> clf = SGDClassifier(random_state=0)
>>> with start_run(tempfile.mkdtemp(), "sgd", config={"alpha": 1e-4}) as run:
...     for epoch in range(3):
...         _ = clf.partial_fit(X[:400], y[:400], classes=[0, 1])
...         run.log_epoch(epoch, train_error=float(np.mean(clf.predict(X[:400]) != y[:400])))
...     run.log_predictions("train", y[:400], clf.predict(X[:400]))
...     run.log_predictions("dev", y[400:], clf.predict(X[400:]))
>>> run.status, run.diagnosis.status in ("problem", "no_clear_problem", "not_enough_evidence")
('finished', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlstrat.diagnosis import Diagnosis, _canonical_split, diagnose_predictions
from mlstrat.nn import Callback
from mlstrat.predictions import is_regression
from mlstrat.regression import diagnose_regression
from mlstrat.store import Project, open_project

__all__ = ["ActiveRun", "start_run"]


class _EpochLogger(Callback):
    """The bundled trainer's callback: every epoch's history row goes to ``run.log_epoch``."""

    def __init__(self, run: ActiveRun):
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        row = {k: v for k, v in dict(logs or {}).items() if k != "epoch"}
        self.run.log_epoch(int(epoch), **row)


def _rates(d: Diagnosis, splits) -> dict[str, float]:
    """The diagnosis' value of each split (every logged split has one)."""
    return {s: float(v) for s in splits if (v := d.rates.get(s)) is not None}


class ActiveRun:
    """A run being trained; made by :func:`start_run`."""

    def __init__(self, project: Project, name: str, *, config: Mapping[str, Any] | None,
                 human: float | None, task: str | None) -> None:
        if task not in (None, "classification", "regression"):
            raise ValueError(f"The 'task' parameter must be 'classification', 'regression' "
                             f"or None (inferred from y_true). Got {task!r}.")
        self.project, self.name, self.human, self.task = project, name, human, task
        self._predictions: dict[str, pd.DataFrame] = {}
        self.diagnosis: Diagnosis | None = None
        self.status = "running"
        self.run_id = project.log_run(name, config=dict(config or {}), status="running")

    # ------------------------------------------------------------------ logging
    def log_epoch(self, epoch: int, **metrics: float) -> None:
        """One row of the training history (written at once: the dashboard follows it).

        Any numeric keyword is kept (``train_loss``, ``dev_loss``, ``train_error``,
        ``dev_error``, ``learning_rate``...); ``None`` values are dropped, and NaN
        or infinite ones (a diverging loss) are stored as missing rather than
        stopping the training loop.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"log_epoch: 'epoch' must be an int >= 0. Got {epoch!r}.")
        row: dict[str, Any] = {"epoch": int(epoch)}
        for key, value in metrics.items():
            if value is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise TypeError(f"log_epoch: {key!r} must be a number. Got "
                                f"{type(value).__name__}.") from None
            row[key] = number if math.isfinite(number) else None
        self.project.log_epochs(self.run_id, [row])

    def log_predictions(self, split: str, y_true, y_pred, *, ids=None, proba=None) -> None:
        """A split's labels and predictions (kept until the run finishes).

        ``split`` is one of 'train', 'train_dev', 'dev', 'test'; ``ids`` name
        the examples (error analysis and paired comparisons use them);
        ``proba`` is an (n, n_classes) array.
        """
        key = _canonical_split(split, "log_predictions")
        yt, yp = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
        if yt.size != yp.size or yt.size == 0:
            raise ValueError(f"log_predictions({split!r}): y_true and y_pred must have the "
                             f"same length > 0. Got {yt.size} and {yp.size}.")
        frame = pd.DataFrame({"y_true": yt, "y_pred": yp})
        if ids is not None:
            ids = np.asarray(ids).ravel()
            if ids.size != yt.size:
                raise ValueError(f"log_predictions({split!r}): {ids.size} ids for "
                                 f"{yt.size} examples.")
            frame.insert(0, "id", ids.astype(str))
        if proba is not None:
            p = np.asarray(proba, dtype=float).reshape(yt.size, -1)
            if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
                raise ValueError(f"log_predictions({split!r}): probabilities must lie in "
                                 "[0, 1] (no NaN).")
            for j in range(p.shape[1]):
                frame[f"proba_{j}"] = p[:, j]
        self._predictions[key] = frame

    def callback(self) -> Callback:
        """A callback for ``mlstrat.nn`` models.

        ``NeuralNetClassifier(callbacks=[run.callback()])`` logs every epoch's
        history row through :meth:`log_epoch`.
        """
        return _EpochLogger(self)

    # ------------------------------------------------------------------ closing
    def _task(self) -> str:
        if self.task is not None:
            return self.task
        return "regression" if is_regression(self._predictions) else "classification"

    def _diagnose(self, task: str) -> tuple[Diagnosis, dict[str, float], str]:
        pairs = {s: (f["y_true"].to_numpy(), f["y_pred"].to_numpy())
                 for s, f in self._predictions.items()}
        if task == "regression":
            d = diagnose_regression({s: (np.asarray(a, float), np.asarray(b, float))
                                     for s, (a, b) in pairs.items()}, human=self.human)
            return d, _rates(d, pairs), d.metric
        d = diagnose_predictions(pairs, human=self.human)
        return d, _rates(d, pairs), "error rate"

    def finish(self) -> Diagnosis | None:
        """Diagnose and store the results; the run becomes 'finished'."""
        if self.status != "running":
            return self.diagnosis
        if "train" not in self._predictions:
            self.project.finish_run(self.run_id, errors={}, sizes={})
            self.status = "finished"
            return None
        diagnosis, errors, metric = self._diagnose(self._task())
        sizes = {s: len(f) for s, f in self._predictions.items()}
        self.project.finish_run(self.run_id, errors=errors, sizes=sizes,
                                predictions=self._predictions, diagnosis=diagnosis,
                                metric=metric)
        self.diagnosis, self.status = diagnosis, "finished"
        return diagnosis

    def fail(self, exc: BaseException) -> None:
        """Mark the run failed with the exception's message."""
        self.project.fail_run(self.run_id, f"{type(exc).__name__}: {exc}")
        self.status = "failed"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        if exc is not None:
            self.fail(exc)
            return False
        self.finish()
        return False

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id}, name={self.name!r}, status={self.status!r})"


def start_run(project: str | Path | Project, name: str, *,
              config: Mapping[str, Any] | None = None, human: float | None = None,
              task: str | None = None) -> ActiveRun:
    """Open a run in ``project`` (created if missing) and return it, running.

    Use it as a context manager (``with mlstrat.start_run(...) as run:``): on
    exit the run is diagnosed and finished, or marked failed if the block
    raised. Without ``with``, call ``run.finish()`` (or ``run.fail(exc)``).

    Parameters
    ----------
    project : str, Path or Project
    name : str
        A label for the run.
    config : dict, optional
        Hyperparameters (JSON-serialisable).
    human : float, optional
        Human-level error: a rate, or for regression an RMSE in the target's units.
    task : {'classification', 'regression'}, optional
        Inferred from ``y_true`` when omitted (fractional floats: regression).
    """
    proj = project if isinstance(project, Project) else open_project(project)
    return ActiveRun(proj, name, config=config, human=human, task=task)
