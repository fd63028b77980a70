"""Any objective: ``objective(trial) -> metrics``, run by a study like an estimator.

The study, not the objective, decides each trial's params: they are drawn
by the strategy on the study's space (log, ``1 - beta`` and the other
scales) and written to the store in the transaction that numbers the trial.
``trial.suggest(name)`` reads them. So a restart never changes a trial's
params, two processes never try the same one, and grid, coarse-to-fine and
successive halving work as they do for estimators.

The space is declared up front (``create_study(name, space, ...)``); a
trial cannot define a parameter on the fly. ``suggest_float``,
``suggest_int`` and ``suggest_categorical`` exist so that Optuna code ports
with few changes: each returns the declared parameter's value and checks
that its arguments describe the declared distribution (a mismatch raises,
naming both), so the code and the study never disagree silently.

``run_objective`` is a plain top-level function of picklable arguments, so
the same code runs inline, in a joblib worker process or on a Dask worker;
it never touches the store and never raises for a failing objective.

Examples
--------
>>> trial = Trial(0, {"lr": 0.01, "units": 64}, {"lr": {"loguniform": [1e-4, 1.0]},
...                                             "units": {"choice": [32, 64]}})
>>> trial.suggest("lr"), trial.suggest_float("lr", 1e-4, 1.0, log=True)
(0.01, 0.01)
>>> trial.suggest_categorical("units", [32, 64])
64
>>> objective_metrics({"loss": 0.25, "latency_ms": 3}, "loss")
(0.25, {'latency_ms': 3.0, 'loss': 0.25})
"""

from __future__ import annotations

import math
import numbers
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from mlstrat._errors import MlstratError
from mlstrat.tuning._space import Choice, IntUniform, LogUniform, SearchSpace, Uniform

__all__ = ["Trial", "ObjectiveError", "StudyFailedError", "RESERVED_METRICS",
           "objective_metrics", "run_objective", "is_objective"]

#: column names of ``StudyResult.to_frame`` that a metric may not take
RESERVED_METRICS = ("number", "state", "value", "rung", "bracket", "epochs", "seconds",
                    "attempts", "error", "finished_at", "name")


class ObjectiveError(MlstratError):
    """An objective's return value cannot be recorded (no optimizing metric,
    a value that is not a number, a reserved name)."""


class StudyFailedError(MlstratError):
    """Every trial of a study failed; the message quotes the first failure."""


class Trial:
    """One trial as the objective sees it.

    Parameters
    ----------
    number : int
        The trial's number in its study (0, 1, ...).
    params : dict
        The values the strategy chose for every parameter of the space.
    space : dict
        The study's space in its ``to_dict`` form.
    budget : int, optional
        Successive halving and Hyperband: the epochs (or any resource) this
        trial may spend at its rung. The objective trains from scratch to
        ``budget`` (it may keep its own checkpoint keyed by ``number`` to
        continue instead). None for the other strategies.
    study : str, optional
        The study's name.

    Attributes
    ----------
    history : list of dict
        Rows added by :meth:`report`, stored as the trial's per-step history.
    """

    def __init__(self, number: int, params: Mapping[str, Any], space: Mapping[str, Any], *,
                 budget: int | None = None, study: str = "") -> None:
        self.number, self.params, self.budget, self.study = int(number), dict(params), budget, study
        self._space = dict(space)
        self.history: list[dict[str, Any]] = []
        self._id: int | None = None
        self._attempts: int | None = None

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self.params!r}, budget={self.budget!r})"

    # -- reading the params ------------------------------------------------
    def suggest(self, name: str) -> Any:
        """The value the study's strategy chose for ``name``."""
        if name not in self.params:
            raise KeyError(
                f"{name!r} is not a parameter of study {self.study!r}; its space declares "
                f"{sorted(self.params)}. Add it to the space given to create_study "
                f"(e.g. {{{name!r}: loguniform(1e-4, 1e-1)}}) under a new study name.")
        value = self.params[name]
        return tuple(value) if isinstance(value, list) else value

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        """``suggest(name)``, checking the space declares ``uniform(low, high)``
        (``loguniform`` when ``log=True``; a ``beta`` of the same bounds also
        matches, the 1 - beta scale having no Optuna spelling)."""
        wanted = LogUniform(low, high) if log else Uniform(low, high)
        declared = self._declared(name)
        same_bounds = declared.get("beta") == [float(low), float(high)]
        if declared != wanted.to_dict() and not same_bounds:
            self._mismatch(name, f"suggest_float({name!r}, {low!r}, {high!r}, log={log})",
                           wanted, declared)
        return float(self.suggest(name))

    def suggest_int(self, name: str, low: int, high: int) -> int:
        """``suggest(name)``, checking the space declares ``intuniform(low, high)``."""
        wanted = IntUniform(low, high)
        declared = self._declared(name)
        if SearchSpace({name: declared})[name] != wanted:
            self._mismatch(name, f"suggest_int({name!r}, {low!r}, {high!r})", wanted, declared)
        return int(self.suggest(name))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """``suggest(name)``, checking the space declares ``choice(choices)``."""
        wanted = Choice(list(choices))
        declared = self._declared(name)
        if SearchSpace({name: declared})[name] != wanted:
            self._mismatch(name, f"suggest_categorical({name!r}, {list(choices)!r})",
                           wanted, declared)
        return self.suggest(name)

    def _declared(self, name: str) -> dict[str, Any]:
        self.suggest(name)  # raises for an unknown name
        return self._space[name]

    def _mismatch(self, name: str, call: str, wanted: Any, declared: Any) -> None:
        declared_text = repr(SearchSpace({name: declared})[name])
        raise ValueError(
            f"trial.{call} asks for {wanted!r} but study {self.study!r} declares "
            f"{name!r} as {declared_text}. The study's space decides (params are drawn "
            f"when a trial is claimed); call trial.suggest({name!r}) or change the "
            "space under a new study name.")

    # -- reporting -----------------------------------------------------------
    def report(self, value: float | None = None, step: int | None = None,
               **metrics: Any) -> None:
        """Record intermediate metrics at ``step`` (an epoch; default the next).

        ``value`` is stored as ``value``; keyword metrics under their names
        (``trial.report(step=3, train_loss=0.4, dev_loss=0.5)``).
        """
        step = len(self.history) + 1 if step is None else int(step)
        row = {"epoch": step, **({} if value is None else {"value": float(value)})}
        row.update({k: _number(k, v) for k, v in metrics.items()})
        self.history.append(row)


def is_objective(obj: Any) -> bool:
    """A callable that is not an estimator (no ``fit``) is an objective."""
    return callable(obj) and not hasattr(obj, "fit") and not isinstance(obj, type)


def objective_metrics(returned: Any, metric: str) -> tuple[float, dict[str, Any]]:
    """(value, metrics) from what an objective returned.

    A number is the study's optimizing ``metric``; a dict must hold it.
    Values must be numbers (``bool`` and text are kept as they are for the
    other metrics). Raises :class:`ObjectiveError` naming what is wrong.
    """
    if isinstance(returned, numbers.Real) and not isinstance(returned, bool):
        returned = {metric: returned}
    if not isinstance(returned, Mapping):
        raise ObjectiveError(
            f"The objective must return a number or a dict of metrics holding {metric!r}. "
            f"Got {type(returned).__name__}: {_short(returned)}.")
    if metric not in returned:
        raise ObjectiveError(
            f"The objective returned no {metric!r} metric (the study's optimizing metric); "
            f"it returned {sorted(map(str, returned))}. Return {{{metric!r}: value, ...}} "
            "or create the study with optimize=(name, 'minimize').")
    reserved = sorted(str(k) for k in returned if str(k) in RESERVED_METRICS)
    if reserved:
        raise ObjectiveError(f"Metric name(s) {reserved} are reserved for the trials table "
                             f"({list(RESERVED_METRICS)}); rename them.")
    metrics = {str(k): _metric(str(k), v) for k, v in returned.items()}
    value = _number(metric, returned[metric])
    return value, dict(sorted(metrics.items()))


def _metric(name: str, value: Any) -> Any:
    if isinstance(value, (str, bool)) or value is None:
        return value
    return _number(name, value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # a 0-d array, a tensor
        return _number(name, value.item())
    raise ObjectiveError(f"Metric {name!r} must be a number. Got {type(value).__name__}: "
                         f"{_short(value)}.")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def run_objective(task: Mapping[str, Any], data: Any = None) -> dict[str, Any]:
    """Call the objective on one trial; return the outcome (never raises an
    ``Exception``; ``KeyboardInterrupt`` goes through).

    Parameters
    ----------
    task : dict
        ``objective``, ``number``, ``params``, ``space`` (``to_dict`` form),
        ``metric``, ``study`` and, for successive halving, ``budget``.
    data : ignored
        The executors' shared data (an objective brings its own).

    Returns
    -------
    dict with the keys :func:`mlstrat.tuning._trial.run_trial` returns.
    """
    t0 = time.perf_counter()
    budget = task.get("budget")
    trial = Trial(task["number"], task["params"], task["space"], budget=budget,
                  study=task.get("study", ""))
    out: dict[str, Any] = {"state": "failed", "value": None, "metrics": {}, "history": [],
                           "epochs": int(budget or 0), "epochs_trained": budget,
                           "error": None, "model": None}
    try:
        value, out["metrics"] = objective_metrics(task["objective"](trial), task["metric"])
        out["state"], out["value"] = "complete", value
        out["error"] = not_finite(value, task["metric"])
        if out["error"]:
            out["state"] = "failed"
    except Exception as exc:  # a failing trial is recorded, the search goes on
        out["error"] = error_text(exc)
    out["history"] = trial.history
    out["seconds"] = time.perf_counter() - t0
    return out


def not_finite(value: float, metric: str) -> str | None:
    """The failure message of a non-finite optimizing metric, else None."""
    if math.isfinite(value):
        return None
    return f"diverged: the objective returned {value} for {metric!r}"


def error_text(exc: BaseException) -> str:
    """``Type: message`` then the innermost frames of the traceback."""
    frames = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3))
    return f"{type(exc).__name__}: {exc}\n{frames}"

