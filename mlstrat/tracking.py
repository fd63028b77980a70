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
from sklearn.base import is_regressor

from mlstrat.diagnosis import (
    STATUSES,
    Diagnosis,
    diagnose,
    diagnose_predictions,
    diagnose_regression,
)
from mlstrat.store import SPLITS, Project, Run, open_project

#: column titles of :func:`runs_summary` for each split
SPLIT_COLUMNS = {"train": "train", "train_dev": "train-dev", "dev": "dev", "test": "test"}
RATE = "error rate"


@dataclass
class RecordedRun:
    """What :func:`record_run` wrote: the run's id, its project and its diagnosis.

    ``status`` and ``headline`` are the diagnosis' outcome in plain words;
    ``summary`` is the one line a training script prints.
    """

    run_id: int
    project: Project
    diagnosis: Diagnosis

    @property
    def status(self) -> str:
        """A key of ``mlstrat.diagnosis.STATUSES`` ('problem', 'not_enough_evidence', ...)."""
        return self.diagnosis.status

    @property
    def headline(self) -> str:
        """What the diagnosis decides, in one sentence."""
        return self.diagnosis.headline

    @property
    def summary(self) -> str:
        """``run 3 in FOLDER: <headline>`` (and the next step on a second line)."""
        line = f"run {self.run_id} in {self.project.folder}: {self.headline}"
        return line + (f"\nNext: {self.diagnosis.next_step}" if self.diagnosis.next_step else "")

    def __str__(self) -> str:
        return f"run {self.run_id} in {self.project.folder}: {self.headline}\n{self.diagnosis}"


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
    task: str = "auto",
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
        Human-level error, or several references (the lowest is the Bayes proxy);
        for a regression, an RMSE in the target's units.
    ids : dict, optional
        Example ids per split (default: row positions), kept with the predictions
        so error analysis can point back at your data.
    config : dict, optional
        Extra configuration to keep beside the model's parameters.
    task : {'auto', 'classification', 'regression'}, default='auto'
        A regression is diagnosed in the target's units (RMSE per split,
        bootstrap intervals, ``diagnose_regression``) and stored with
        ``metric='RMSE'``. 'auto': regression for a scikit-learn regressor.

    Returns
    -------
    RecordedRun
        The run's id, project and diagnosis; ``summary`` is the line to print
        (the diagnosis' headline and next step).

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
    >>> run.status in ("problem", "not_enough_evidence", "human_level_surpassed",
    ...                "no_clear_problem"), run.summary.startswith(f"run {run.run_id} in ")
    (True, True)
    """
    if not isinstance(project, Project):
        project = open_project(project)
    predictions = {split: _predict(model, split, pair, (ids or {}).get(split))
                   for split, pair in data.items()}
    pairs = {split: (frame["y_true"].to_numpy(), frame["y_pred"].to_numpy())
             for split, frame in predictions.items()}
    if _is_regression(model, task):
        diagnosis = diagnose_regression(pairs, human=human)
        errors = {r.name: r.rate for r in diagnosis.rungs if r.name in SPLITS}
    else:
        diagnosis = diagnose_predictions(pairs, human=human)
        errors = None
    settings = _params(model)
    settings.update(config or {})
    run_id = project.log_run(
        name or type(model).__name__,
        config=settings,
        errors=errors,
        human_error=min(diagnosis.human_levels.values(), default=None),
        history=getattr(model, "history_", None),
        diagnosis=diagnosis,
        predictions=predictions,
        notes=notes,
        metric=diagnosis.metric,
    )
    return RecordedRun(run_id, project, diagnosis)


def _is_regression(model: Any, task: str) -> bool:
    if task not in ("auto", "classification", "regression"):
        raise ValueError("The 'task' parameter of record_run must be 'auto', "
                         f"'classification' or 'regression'. Got {task!r}.")
    return task == "regression" or (task == "auto" and is_regressor(model))


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
    metric = getattr(run, "metric", None) or RATE
    if metric != RATE:
        raise ValueError(
            f"Run #{run.id} '{run.name}' stores its {metric} per split but no diagnosis; a "
            "regression ladder needs the predictions (mlstrat.diagnose_regression). Log "
            "the run with its diagnosis."
        )
    d = diagnose(human=run.human_error, train=run.errors["train"],
                 train_dev=run.errors.get("train_dev"), dev=run.errors.get("dev"),
                 test=run.errors.get("test"),
                 sizes={k: v for k, v in run.sizes.items() if k in SPLITS})
    return d, "computed"


def _format(value: float | None, metric: str) -> str:
    """A rung as shown: percent with 2 decimals for rates, 4 significant digits otherwise."""
    if value is None or value != value:
        return "-"
    return f"{100 * value:.2f}%" if metric == RATE else f"{value:.4g}"


def run_outcome(run: Run) -> dict[str, Any]:
    """What a run's diagnosis decides, in plain words, and its ladder as shown.

    Returns
    -------
    dict
        ``status`` (a key of ``STATUSES``, or ``None`` when the run cannot be
        diagnosed), ``outcome`` (its words), ``problem`` (the primary problem
        in words, '-' when none), ``headline``, ``next_step``, ``metric``
        ('error rate', 'RMSE', ...), ``values`` (split -> value as shown:
        '8.00%' or an RMSE in the target's units) and ``source`` ('stored',
        'computed' or the reason there is no diagnosis).

    Examples
    --------
    >>> from mlstrat.store import Run
    >>> run = Run(1, "r", "", "finished", {}, {"train": 0.08, "dev": 0.1},
    ...           {"train": 5000, "dev": 1000}, 0.01, None)
    >>> out = run_outcome(run)
    >>> out["outcome"], out["problem"], out["values"]["dev"]
    ('primary problem found', 'avoidable bias', '10.00%')
    """
    metric = getattr(run, "metric", None) or RATE
    values = {s: _format(v, metric) for s, v in run.errors.items()}
    try:
        d, source = diagnosis_of_run(run)
    except ValueError as exc:
        why = "no training error" if run.errors.get("train") is None else "no stored diagnosis"
        return {"status": None, "outcome": f"not diagnosed ({why})", "problem": "-",
                "headline": str(exc), "next_step": "", "metric": metric, "values": values,
                "human": _format(run.human_error, metric), "source": why}
    shown = {r.name: d.format_value(r.rate) for r in d.rungs}
    values.update({s: v for s, v in shown.items() if s in SPLITS})
    human = shown.get("human", _format(run.human_error, d.metric))
    return {"status": d.status, "outcome": STATUSES.get(d.status, d.status),
            "problem": d.problem if d.primary else "-", "headline": d.headline,
            "next_step": d.next_step, "metric": d.metric, "values": values,
            "human": human, "source": source}


def runs_summary(project: Project) -> pd.DataFrame:
    """The project's runs as a person reads them, newest last.

    One row per run: ``id``, ``name``, ``created`` (date and time, UTC),
    ``outcome`` (the diagnosis' status in words), ``problem`` (the primary
    problem in words, '-' when none), ``metric``, then ``human``, ``train``,
    ``train-dev``, ``dev`` and ``test`` as shown (rates in percent with two
    decimals, regression metrics in the target's units; '-' when missing).
    The numbers are those of each run's diagnosis (:func:`diagnosis_of_run`);
    ``Project.runs()`` has the raw values.

    Examples
    --------
    >>> import tempfile
    >>> from mlstrat.store import open_project
    >>> project = open_project(tempfile.mkdtemp())
    >>> _ = project.log_run("tiny", errors={"train": 0.0, "train_dev": 0.0476, "dev": 0.0},
    ...                     sizes={"train": 185, "train_dev": 21, "dev": 69})
    >>> row = runs_summary(project).iloc[0]
    >>> row["outcome"], row["problem"], row["train-dev"]
    ('not enough evidence yet', '-', '4.76%')
    """
    rows = []
    for run_id in project.runs()["id"].tolist():
        run = project.get_run(int(run_id))
        out = run_outcome(run)
        row = {"id": run.id, "name": run.name, "created": _when(run.created_at),
               "outcome": out["outcome"], "problem": out["problem"], "metric": out["metric"],
               "human": out["human"]}
        row.update({title: out["values"].get(s, "-") for s, title in SPLIT_COLUMNS.items()})
        rows.append(row)
    columns = ["id", "name", "created", "outcome", "problem", "metric", "human",
               *SPLIT_COLUMNS.values()]
    return pd.DataFrame(rows, columns=columns)


def _when(created_at: str) -> str:
    """'2026-12-04T14:56:12+00:00' -> '2026-12-04 14:56'."""
    return str(created_at).replace("T", " ")[:16]
