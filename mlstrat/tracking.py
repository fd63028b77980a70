"""Record a fitted model as a run: predictions per split, errors, sizes,
history, configuration and diagnosis, in one call.

This is the two-line path of a training script::

    import mlstrat
    mlstrat.record_run("my_project", model, {"train": (X_train, y_train),
                                              "dev": (X_dev, y_dev)}, human=0.01)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.diagnose import Diagnosis, diagnose, diagnose_predictions
from mlstrat.store import SPLITS, Project, Run, open_project


@dataclass
class RecordedRun:
    """What :func:`record_run` wrote: the run's id, its project and its diagnosis."""

    run_id: int
    project: Project
    diagnosis: Diagnosis

    def __str__(self) -> str:
        return f"run {self.run_id} in {self.project.folder}\n{self.diagnosis}"


def record_run(
    project: Project | str | Path,
    model: Any,
    data: Mapping[str, tuple],
    *,
    name: str | None = None,
    human: float | Mapping[str, float] | None = None,
    ids: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    notes: str = "",
) -> RecordedRun:
    """Predict each split with a fitted ``model``, diagnose, and store it all as a run.

    Parameters
    ----------
    project : Project or path
        The project store, or its folder (created if missing).
    model : fitted estimator
        Anything with ``predict``; ``predict_proba``, ``history_`` and
        ``get_params`` are used when present.
    data : dict
        ``{"train": (X, y), "train_dev": (X, y), "dev": (X, y), "test": (X, y)}``;
        give the splits you have.
    name : str, optional
        The run's name; by default the model's class name.
    human : float or dict, optional
        Human-level error, or several references (the lowest is the Bayes proxy).
    ids : dict, optional
        Example ids per split (default: row positions), kept with the predictions
        so error analysis can point back at your data.
    config : dict, optional
        Extra configuration to keep beside the model's parameters.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = LogisticRegression(max_iter=5000).fit(X[:400], y[:400])
    >>> run = record_run(tempfile.mkdtemp(), model,
    ...                  {"train": (X[:400], y[:400]), "dev": (X[400:], y[400:])}, human=0.01)
    >>> run.project.get_run(run.run_id).sizes
    {'train': 400, 'dev': 169}
    """
    if not isinstance(project, Project):
        project = open_project(project)
    predictions = {split: _predict(model, split, pair, (ids or {}).get(split))
                   for split, pair in data.items()}
    diagnosis = diagnose_predictions(
        {split: (frame["y_true"].to_numpy(), frame["y_pred"].to_numpy())
         for split, frame in predictions.items()},
        human=human,
    )
    settings = _params(model)
    settings.update(config or {})
    run_id = project.log_run(
        name or type(model).__name__,
        config=settings,
        human_error=min(diagnosis.human_levels.values(), default=None),
        history=getattr(model, "history_", None),
        diagnosis=diagnosis,
        predictions=predictions,
        notes=notes,
    )
    return RecordedRun(run_id, project, diagnosis)


def _predict(model: Any, split: str, pair: tuple, ids: Any) -> pd.DataFrame:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError(f"data[{split!r}] must be a pair (X, y). Got {type(pair).__name__}.")
    X, y = pair
    frame = pd.DataFrame({"y_true": np.asarray(y), "y_pred": np.asarray(model.predict(X))})
    if ids is not None:
        frame.insert(0, "id", np.asarray(ids).astype(str))
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        proba = np.asarray(model.predict_proba(X))
        for j, cls in enumerate(model.classes_):
            frame[f"proba_{cls}"] = proba[:, j]
    return frame


def _params(model: Any) -> dict[str, Any]:
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    return {"model": type(model).__name__, **params}


def diagnosis_of_run(run: Run) -> tuple[Diagnosis, str]:
    """The run's diagnosis: the stored one, else computed from its errors and sizes.

    Returns
    -------
    (Diagnosis, source) with source ``'stored'`` or ``'computed'``.

    Raises
    ------
    ValueError
        When nothing is stored and the run has no training error.
    """
    if run.diagnosis:
        try:
            return Diagnosis.from_dict(run.diagnosis), "stored"
        except (KeyError, TypeError, ValueError):
            pass  # an older or foreign record: recompute from the numbers
    if run.errors.get("train") is None:
        stored = sorted(run.errors) or "none"
        raise ValueError(
            f"Run #{run.id} '{run.name}' has no training error, so it cannot be "
            f"diagnosed (splits with an error: {stored}). Log the 'train' split "
            "(its error or its predictions) with the run."
        )
    d = diagnose(human=run.human_error, train=run.errors["train"],
                 train_dev=run.errors.get("train_dev"), dev=run.errors.get("dev"),
                 test=run.errors.get("test"),
                 sizes={k: v for k, v in run.sizes.items() if k in SPLITS})
    return d, "computed"
