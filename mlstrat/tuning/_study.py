"""Studies: a named search written to the project store as it runs.

The driver loop: claim a trial (numbered, params recorded, one
transaction) -> submit it to an executor -> record the outcome (one
transaction). A background thread refreshes the heartbeat of the trials
this process holds; a trial whose heartbeat stops (its process was killed)
is re-queued by the next claim after ``stale_after`` seconds. ``n_trials``
is the study's total over every process and restart.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlstrat.store import Project
from mlstrat.tuning._execution import make_executor
from mlstrat.tuning._result import StudyResult
from mlstrat.tuning._space import SearchSpace
from mlstrat.tuning._strategies import Strategy, make_strategy
from mlstrat.tuning._trial import resource_param, run_trial, scorer

__all__ = ["Study", "create_study", "load_study", "study_budget"]


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Heartbeat:
    """Refreshes the heartbeat of the trials this driver holds."""

    def __init__(self, project: Project, worker: str, interval: float) -> None:
        self.project, self.worker, self.interval = project, worker, interval
        self.ids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.project.heartbeat(sorted(self.ids), self.worker)
            except Exception:  # pragma: no cover - a busy store: try again next beat
                pass


class Study:
    """A named hyperparameter search kept in a project store.

    Create one with :func:`create_study`; ``optimize`` runs (or resumes) it.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlstrat.tuning import create_study, loguniform
    >>> X, y = load_iris(return_X_y=True)
    >>> study = create_study("iris-C", {"C": loguniform(1e-3, 1e2)},
    ...                      project=tempfile.mkdtemp(), seed=0)
    >>> result = study.optimize(LogisticRegression(max_iter=500), X[::2], y[::2],
    ...                         X[1::2], y[1::2], n_trials=4)
    >>> len(result.to_frame()), result.n_complete
    (4, 4)
    """

    def __init__(self, name: str, space: SearchSpace, strategy: Strategy, *,
                 project: Project, seed: int = 0, scoring: str | Callable = "error",
                 study_id: int) -> None:
        self.name, self.space, self.strategy = name, space, strategy
        self.project, self.seed, self.scoring, self.study_id = project, seed, scoring, study_id
        self.worker = _worker_id()

    def __repr__(self) -> str:
        return f"Study({self.name!r}, strategy={self.strategy!r}, project={self.project!r})"

    # -- public ----------------------------------------------------------
    def optimize(
        self,
        estimator: Any,
        X_train: Any,
        y_train: Any,
        X_dev: Any = None,
        y_dev: Any = None,
        *,
        n_trials: int | None = None,
        cv: int | Any = None,
        n_jobs: int = 1,
        client: Any = None,
        measure_latency: bool = True,
        stale_after: float = 120.0,
        heartbeat_interval: float = 5.0,
        timeout: float | None = None,
        callback: Callable[[dict[str, Any]], None] | None = None,
    ) -> StudyResult:
        """Run the study until it has ``n_trials`` finished trials in all.

        Parameters
        ----------
        estimator : estimator
            Unfitted template with ``get_params``/``set_params`` (e.g.
            ``mlstrat.nn.NeuralNetClassifier``); each trial clones it.
        X_train, y_train, X_dev, y_dev : array-like
            Each trial fits on train and is scored on the fixed dev set.
            Without a dev set give ``cv`` (folds of train).
        n_trials : int, optional
            The study's total (every process, every restart). A grid's
            default is its size; successive halving's is the number of
            configurations of the first rung; Hyperband's is set by its brackets.
        n_jobs : int, default=1
            Parallel trials on this machine (joblib processes); -1 for all cores.
        client : distributed.Client, optional
            Run the trials on this Dask cluster instead.
        stale_after, heartbeat_interval : float
            A running trial whose heartbeat is older than ``stale_after``
            seconds is re-queued; this process beats every ``heartbeat_interval``.
        timeout : float, optional
            Stop claiming new trials after this many seconds.
        callback : callable, optional
            Called with each finished trial's record (for progress displays).
        """
        self.space.check_params(estimator)
        data = _data(X_train, y_train, X_dev, y_dev, cv)
        scorer(self.scoring)
        base = {"estimator": estimator, "scoring": self.scoring, "cv": cv,
                "measure_latency": measure_latency, "resource": resource_param(estimator)}
        total = self._budget(n_trials)
        executor = make_executor(data, n_jobs=n_jobs, client=client)
        self._run = {"stale_after": stale_after, "deadline": None if timeout is None
                     else time.monotonic() + timeout, "callback": callback,
                     "interval": heartbeat_interval}
        try:
            with _Heartbeat(self.project, self.worker, heartbeat_interval) as beat:
                if self.strategy.multi_fidelity:
                    self._run_halving(executor, beat, base, total, cv)
                else:
                    self._pool(executor, beat, lambda: self._claim(total), base)
        finally:
            executor.close()
        return self.result()

    def result(self) -> StudyResult:
        """The study's trials so far, as a :class:`StudyResult`."""
        return StudyResult.from_project(self.project, self.name)

    # -- budget and claims -----------------------------------------------
    def _budget(self, n_trials: int | None) -> int:
        n = study_budget(self.strategy, self.space, n_trials)
        self.project.set_study_budget(self.study_id, n)
        return n

    def _claim(self, total: int | None = None, extra: Mapping[str, Any] | None = None):
        if self._run["deadline"] is not None and time.monotonic() > self._run["deadline"]:
            return None
        return self.project.claim_trial(
            self.study_id, self.worker, propose=self._propose, n_trials=total,
            stale_after=self._run["stale_after"], extra=extra)

    def _propose(self, number: int) -> dict[str, Any] | None:
        finished = []
        if getattr(self.strategy, "kind", "") == "coarse_to_fine":
            finished = self._ranked_complete()
        return self.strategy.propose(self.space, number, self.seed, finished)

    def _ranked_complete(self) -> list[dict[str, Any]]:
        frame = self.project.trials(self.study_id)
        frame = frame[frame["state"] == "complete"].dropna(subset=["value"])
        greater = scorer(self.scoring)[1]
        frame = frame.sort_values("value", ascending=not greater)
        return frame[["number", "params", "value"]].to_dict("records")

    # -- the driver loop -------------------------------------------------
    def _pool(self, executor, beat: _Heartbeat, claim: Callable, base: dict,
              models: dict[int, Any] | None = None, target: int | None = None,
              rung: Mapping[str, int] | None = None) -> None:
        """Keep every executor slot busy with claimed trials until none is left;
        then wait for other processes' running trials (or re-queue them when stale)."""
        inflight: dict[Any, dict[str, Any]] = {}
        held: dict[int, dict[str, Any]] = {}  # claimed and not yet recorded
        try:
            while True:
                while len(inflight) < executor.slots:
                    trial = claim()
                    if trial is None:
                        break
                    held[trial["id"]] = trial
                    beat.ids.add(trial["id"])
                    task = self._task(base, trial, models, target)
                    inflight[executor.submit(run_trial, task)] = trial
                if not inflight:
                    if not self._others_running(rung):
                        return
                    time.sleep(min(self._run["interval"], 1.0))
                    continue
                for future in executor.wait_first(inflight, timeout=self._run["interval"]):
                    trial = inflight.pop(future)
                    self._record(trial, _outcome(future), models)
                    held.pop(trial["id"], None)
                    beat.ids.discard(trial["id"])
        except BaseException:  # Ctrl-C, a crash of the driver: give the trials back
            self.project.release_trials(list(held), self.worker)
            raise

    def _others_running(self, rung: Mapping[str, int] | None) -> bool:
        """Whether trials this pool could still take are held by another
        process (running) or waiting; within ``rung`` only (halving)."""
        if self._run["deadline"] is not None and time.monotonic() > self._run["deadline"]:
            return False
        frame = self.project.trials(self.study_id)
        waiting = frame["state"] == "waiting"
        for key, value in (rung or {}).items():
            waiting &= frame[key] == value
        return bool((frame["state"] == "running").any() or waiting.any())

    def _task(self, base: dict, trial: dict, models: dict | None, target: int | None) -> dict:
        task = {**base, "params": trial["params"]}
        if target is not None:
            model = (models or {}).get(trial["id"])
            task.update(epochs=target, keep_model=True, model=model,
                        epochs_done=trial["epochs"] if model is not None else 0)
        return task

    def _record(self, trial: dict, out: dict, models: dict | None) -> None:
        metrics = {**out["metrics"], "epochs_trained": out["epochs_trained"]}
        if models is not None:
            metrics["epochs_spent"] = trial["metrics"].get("epochs_spent", 0) + out["epochs_trained"]
            if out.get("model") is not None:
                models[trial["id"]] = out["model"]
        ok = self.project.finish_trial(
            trial["id"], attempts=trial["attempts"], state=out["state"], value=out["value"],
            metrics=metrics, epochs=out["epochs"], seconds=out.get("seconds"),
            error=out["error"], history=out["history"])
        if ok and self._run["callback"] is not None:
            self._run["callback"]({**trial, **out, "metrics": metrics, "model": None})

    # -- successive halving / Hyperband ----------------------------------
    def _run_halving(self, executor, beat, base: dict, total: int, cv: Any) -> None:
        if cv:
            raise ValueError("Successive halving scores each rung on the dev set; "
                             "give X_dev, y_dev instead of 'cv'.")
        if not base["resource"]:
            raise ValueError(
                f"Successive halving needs an epoch budget parameter (one of "
                f"'max_epochs', 'max_iter') and warm_start; "
                f"{type(base['estimator']).__name__} has neither.")
        models: dict[int, Any] = {}
        offset = 0
        for bracket, rungs in self.strategy.brackets(total):
            n0 = rungs[0][0]
            extra = {"bracket": bracket, "rung": 0}
            claim0 = lambda off=offset + n0, ex=extra: self._claim(off, ex)  # noqa: E731
            self._pool(executor, beat, claim0, base, models, target=rungs[0][1], rung=extra)
            for rung, (n_keep, epochs) in enumerate(rungs[1:], start=1):
                self._promote(bracket, rung, n_keep)
                where = {"bracket": bracket, "rung": rung}
                claim = lambda ex=where: self._claim_waiting(ex)  # noqa: E731
                self._pool(executor, beat, claim, base, models, target=epochs, rung=where)
            offset += n0
            models.clear()

    def _promote(self, bracket: int, rung: int, n_keep: int) -> None:
        frame = self.project.trials(self.study_id)
        below = frame[(frame["bracket"] == bracket) & (frame["rung"] == rung - 1)
                      & (frame["state"] == "complete")].dropna(subset=["value"])
        greater = scorer(self.scoring)[1]
        best = below.sort_values(["value", "number"], ascending=[not greater, True])
        self.project.promote_trials(self.study_id, bracket=bracket, rung=rung,
                                    keep=best["id"].head(n_keep).tolist())

    def _claim_waiting(self, extra: Mapping[str, Any]):
        if self._run["deadline"] is not None and time.monotonic() > self._run["deadline"]:
            return None
        return self.project.claim_trial(self.study_id, self.worker, propose=None,
                                        stale_after=self._run["stale_after"], extra=extra)


def study_budget(strategy: Strategy, space: SearchSpace, n_trials: int | None) -> int:
    """The study's total number of trials, or a ``ValueError`` saying what to give.

    Checked before anything is written, so that a study that cannot run is
    refused with the store untouched.

    Examples
    --------
    >>> from mlstrat.tuning import loguniform
    >>> space = SearchSpace({"C": loguniform(0.01, 10.0)})
    >>> study_budget(make_strategy("random"), space, 5)
    5
    >>> study_budget(make_strategy("random"), space, None)
    Traceback (most recent call last):
    ...
    ValueError: Give 'n_trials' (the study's total) for RandomSearch().
    """
    if strategy.multi_fidelity:
        if strategy.kind == "halving" and not n_trials:
            raise ValueError("Successive halving needs 'n_trials': the number of "
                             "configurations of its first rung (e.g. 27 for eta=3).")
        return int(sum(r[0][0] for _, r in strategy.brackets(n_trials or 0)))
    own = strategy.n_trials(space)
    n = n_trials if n_trials is not None else own
    if n is None:
        raise ValueError(f"Give 'n_trials' (the study's total) for {strategy!r}.")
    return int(min(n, own) if own is not None else n)


def _outcome(future: Any) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as exc:  # the worker itself died (e.g. killed Dask worker)
        return {"state": "failed", "value": None, "metrics": {}, "history": [],
                "epochs": 0, "epochs_trained": 0, "seconds": 0.0,
                "error": f"worker lost: {type(exc).__name__}: {exc}", "model": None}


def _data(X_train, y_train, X_dev, y_dev, cv) -> dict[str, Any]:
    if (X_dev is None) != (y_dev is None):
        raise ValueError("Give both X_dev and y_dev, or neither (then give 'cv').")
    if X_dev is None and not cv:
        raise ValueError("Give a dev set (X_dev, y_dev) or 'cv' (number of folds).")
    as_array = lambda a: None if a is None else np.asarray(a)  # noqa: E731
    return {"X_train": as_array(X_train), "y_train": as_array(y_train),
            "X_dev": as_array(X_dev), "y_dev": as_array(y_dev)}


def create_study(
    name: str,
    space: SearchSpace | Mapping[str, Any],
    *,
    project: Project | str | os.PathLike,
    strategy: str | Strategy | Mapping[str, Any] = "random",
    seed: int = 0,
    scoring: str | Callable = "error",
) -> Study:
    """Create the study ``name`` in ``project``, or open it to resume.

    Parameters
    ----------
    name : str
        The study's name; opening an existing name resumes it. An existing
        study with a different space or strategy raises a ``StoreError``.
    space : SearchSpace or dict
        Name -> distribution (``loguniform(1e-4, 1e-1)``, ``one_minus_log(0.9,
        0.999)``, ``choice([...])``) or its dict form.
    project : Project or path
    strategy : {'random', 'grid', 'coarse_to_fine', 'halving', 'hyperband'} or Strategy
    seed : int, default=0
        Trial ``n``'s params come from ``(seed, n)``.
    scoring : str or callable, default='error'
        The optimizing metric on dev: a name of ``SCORERS`` ('error',
        'accuracy', 'f1', 'mse', ...) or ``(y_true, y_pred) -> float``
        (lower is better).
    """
    project = project if isinstance(project, Project) else Project(project)
    space = SearchSpace(space)
    strategy = make_strategy(strategy)
    _, greater, metric = scorer(scoring)
    study_id = project.create_study(
        name, space=space.to_dict(), strategy=strategy.to_dict(), metric=f"dev_{metric}",
        greater_is_better=greater, seed=seed)
    return Study(name, space, strategy, project=project, seed=seed, scoring=scoring,
                 study_id=study_id)


def load_study(name: str, *, project: Project | str | os.PathLike,
               scoring: str | Callable | None = None) -> Study:
    """Open an existing study with the space and strategy it was created with."""
    project = project if isinstance(project, Project) else Project(project)
    rec = project.get_study(name)
    metric = rec["metric"].removeprefix("dev_")
    return create_study(name, rec["space"], project=project, strategy=rec["strategy"],
                        seed=rec["seed"], scoring=scoring or metric)
