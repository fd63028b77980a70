"""Studies: a named search written to the project store as it runs.

The driver loop: claim a trial (numbered, params recorded, one
transaction) -> submit it to an executor -> record the outcome (one
transaction). A background thread refreshes the heartbeat of the trials
this process holds; a trial whose heartbeat stops (its process was killed)
is re-queued by the next claim after ``stale_after`` seconds. ``n_trials``
is the study's total over every process and restart.

The same loop runs an estimator (fit on train, score on dev) or any
objective function (``objective(trial) -> metrics``, see ``_objective.py``);
``ask``/``tell`` expose the claim and the record to a loop of the user's own.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np

from mlstrat.metrics import OPERATORS
from mlstrat.store import Project
from mlstrat.tuning._execution import make_executor
from mlstrat.tuning._objective import (
    RESERVED_METRICS,
    ObjectiveError,
    StudyFailedError,
    Trial,
    error_text,
    is_objective,
    not_finite,
    objective_metrics,
    run_objective,
)
from mlstrat.tuning._progress import (
    StudyStart,
    TrialBar,
    WaitingForTrialsWarning,
    waiting_message,
)
from mlstrat.tuning._result import StudyResult
from mlstrat.tuning._space import SearchSpace
from mlstrat.tuning._strategies import Strategy, make_strategy
from mlstrat.tuning._trial import SCORERS, resource_param, run_trial, scorer

__all__ = ["Study", "create_study", "load_study", "study_budget"]

#: directions of ``optimize=(metric, direction)`` -> greater_is_better
DIRECTIONS = {"minimize": False, "maximize": True}

#: no budget: ``ask`` numbers trials for as long as it is called
_UNBOUNDED = 2**62


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

    Create one with :func:`create_study`; ``optimize`` runs (or resumes) it
    on an estimator or on any objective function; ``ask``/``tell`` let a
    loop of your own run the trials.

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

    Any objective, Optuna style (the space is declared with the study):

    >>> from mlstrat.tuning import one_minus_log
    >>> def objective(trial):
    ...     lr, beta = trial.suggest("lr"), trial.suggest("beta")
    ...     return {"loss": (np.log10(lr) + 2) ** 2 + (np.log10(1 - beta) + 2) ** 2}
    >>> study = create_study("quadratic", {"lr": loguniform(1e-4, 1.0),
    ...                                    "beta": one_minus_log(0.9, 0.999)},
    ...                      project=tempfile.mkdtemp(), optimize=("loss", "minimize"))
    >>> result = study.optimize(objective, n_trials=30)
    >>> result.n_complete, round(result.best_value, 2)
    (30, 0.12)
    >>> trial = study.ask()
    >>> study.tell(trial, objective(trial))
    'complete'
    """

    def __init__(self, name: str, space: SearchSpace, strategy: Strategy, *,
                 project: Project, seed: int = 0, scoring: str | Callable = "error",
                 study_id: int, metric: str | None = None,
                 greater_is_better: bool | None = None,
                 satisfice: Mapping[str, tuple[str, float]] | None = None) -> None:
        self.name, self.space, self.strategy = name, space, strategy
        self.project, self.seed, self.scoring, self.study_id = project, seed, scoring, study_id
        _, greater, scored = scorer(scoring)
        self.metric = metric or f"dev_{scored}"
        self.greater_is_better = greater if greater_is_better is None else bool(greater_is_better)
        self.satisfice = dict(satisfice or {})
        self.worker = _worker_id()
        self._run: dict[str, Any] = {}
        self._asked: dict[int, Trial] = {}
        self._ask_beat: _Heartbeat | None = None

    def __repr__(self) -> str:
        return f"Study({self.name!r}, strategy={self.strategy!r}, project={self.project!r})"

    # -- public ----------------------------------------------------------
    def optimize(
        self,
        estimator: Any,
        X_train: Any = None,
        y_train: Any = None,
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
        progress: Any = None,
    ) -> StudyResult:
        """Run the study until it has ``n_trials`` finished trials in all.

        Parameters
        ----------
        estimator : estimator or callable
            Unfitted template with ``get_params``/``set_params`` (e.g.
            ``mlstrat.nn.NeuralNetClassifier``); each trial clones it.
            Or an objective ``objective(trial)``: it reads the trial's params
            with ``trial.suggest(name)`` and returns a number (the study's
            optimizing metric) or a dict of metrics holding it; an exception
            or a non-finite value marks the trial failed with its message.
            With ``n_jobs > 1`` or a ``client`` the objective runs in another
            process: it must pickle (``cloudpickle``: a module-level function,
            or a closure over picklable data) and load its own data there.
            Successive halving and Hyperband give it ``trial.budget`` (the
            epochs of its rung); it trains from scratch to that budget.
        X_train, y_train, X_dev, y_dev : array-like
            Estimators only: each trial fits on train and is scored on the
            fixed dev set. Without a dev set give ``cv`` (folds of train).
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
            A resumed study whose previous driver was killed waits up to
            ``stale_after`` seconds for that driver's trials, and says so
            (through ``progress``, else a :class:`WaitingForTrialsWarning`).
        timeout : float, optional
            Stop claiming new trials after this many seconds.
        callback : callable, optional
            Called with each finished trial's record (for progress displays).
        progress : bool or object, optional
            ``True``: a :class:`~mlstrat.tuning._progress.TrialBar` on stderr
            (done/total, best so far, elapsed, time left). Or any object with
            ``begin(StudyStart)``, ``trial(record)``, ``notice(text)`` and
            ``close()``; ``optimize`` closes it when it returns.

        Raises
        ------
        StudyFailedError
            Objectives only: no trial of the study completed and some failed;
            the message quotes the first failure (the trials stay stored).
        """
        objective = is_objective(estimator)
        if objective:
            base, data = self._objective_base(estimator, X_train, y_train, X_dev, y_dev, cv)
        else:
            base, data = self._estimator_base(estimator, X_train, y_train, X_dev, y_dev, cv,
                                              measure_latency)
        stale_after = _seconds(stale_after, "stale_after", low=0.0)
        heartbeat_interval = _seconds(heartbeat_interval, "heartbeat_interval", low=1e-3)
        total = self._budget(n_trials)
        executor = make_executor(data, n_jobs=n_jobs, client=client)
        self._run = {"stale_after": stale_after, "deadline": None if timeout is None
                     else time.monotonic() + timeout, "callback": callback,
                     "interval": heartbeat_interval, "announced": set(),
                     "progress": TrialBar() if progress is True else (progress or None),
                     "runner": run_objective if objective else run_trial}
        try:
            if self._run["progress"] is not None:
                self._run["progress"].begin(self._start(total))
            with _Heartbeat(self.project, self.worker, heartbeat_interval) as beat:
                if self.strategy.multi_fidelity:
                    self._run_halving(executor, beat, base, total, cv)
                else:
                    self._pool(executor, beat, lambda: self._claim(total), base)
        finally:
            executor.close()
            if self._run["progress"] is not None:
                self._run["progress"].close()
        result = self.result()
        if objective and result.n_complete == 0 and result.n_failed:
            raise StudyFailedError(_all_failed_message(result))
        return result

    def _estimator_base(self, estimator, X_train, y_train, X_dev, y_dev, cv,
                        measure_latency) -> tuple[dict, dict]:
        if X_train is None or y_train is None:
            raise TypeError(f"optimize({type(estimator).__name__}(...), ...) needs X_train and "
                            "y_train (and a dev set or 'cv'). To tune any code, pass an "
                            "objective function objective(trial) instead of an estimator.")
        self.space.check_params(estimator)
        data = _data(X_train, y_train, X_dev, y_dev, cv)
        name = scorer(self.scoring)[2]
        if self.metric != f"dev_{name}":
            raise ValueError(
                f"Study {self.name!r} optimizes {self.metric!r} (set by optimize= when it was "
                f"created); an estimator's trials are scored as 'dev_{name}'. Use an "
                "objective that returns that metric, or a new study for the estimator.")
        base = {"estimator": estimator, "scoring": self.scoring, "cv": cv,
                "measure_latency": measure_latency, "resource": resource_param(estimator)}
        return base, data

    def _objective_base(self, objective, X_train, y_train, X_dev, y_dev, cv) -> tuple[dict, dict]:
        given = [n for n, v in (("X_train", X_train), ("y_train", y_train), ("X_dev", X_dev),
                                ("y_dev", y_dev), ("cv", cv)) if v is not None]
        if given:
            raise TypeError(f"optimize(objective, ...) takes no {', '.join(given)}: an "
                            "objective loads or closes over its own data. Call "
                            "study.optimize(objective, n_trials=...).")
        base = {"objective": objective, "metric": self.metric, "space": self.space.to_dict(),
                "study": self.name}
        return base, {}

    def result(self) -> StudyResult:
        """The study's trials so far, as a :class:`StudyResult`."""
        return StudyResult.from_project(self.project, self.name)

    # -- ask / tell --------------------------------------------------------
    def ask(self, *, stale_after: float = 120.0, heartbeat_interval: float = 5.0) -> Trial:
        """Claim the next trial: a re-queued one first, else a new number.

        The claim is one transaction of the store, so two processes asking
        at once never get the same trial. Until :meth:`tell`, a background
        thread of this process keeps the trial's heartbeat; if the process
        dies, the trial is re-queued (same number and params) by any claim
        ``stale_after`` seconds later. ``ask`` is not bounded by ``n_trials``.

        Raises
        ------
        MlstratError
            For successive halving and Hyperband (their rungs need
            :meth:`optimize`), or when a grid has no configuration left.
        """
        if self.strategy.multi_fidelity:
            raise ObjectiveError(
                f"ask() cannot run a {self.strategy.kind} study: its rungs promote the best "
                "trials between budgets. Use study.optimize(objective, n_trials=...), where "
                "the objective reads trial.budget.")
        rec = self.project.claim_trial(self.study_id, self.worker, propose=self._propose,
                                       n_trials=_UNBOUNDED, stale_after=stale_after)
        if rec is None:
            raise ObjectiveError(f"Study {self.name!r} has no configuration left to try "
                                 f"({self.strategy!r} over {list(self.space)}).")
        trial = Trial(rec["number"], rec["params"], self.space.to_dict(), study=self.name)
        trial._id, trial._attempts = int(rec["id"]), int(rec["attempts"])
        self._asked[trial.number] = trial
        self._beat(heartbeat_interval).ids.add(trial._id)
        return trial

    def tell(self, trial: Trial | int, result: Any) -> str:
        """Record the outcome of an asked trial; returns its state.

        Parameters
        ----------
        trial : Trial or int
            What :meth:`ask` returned, or its number (a trial asked by
            another process may be told here: it must still be running).
        result : float, dict or BaseException
            The objective's return value (a number is the optimizing
            metric; a dict must hold it), or the exception it raised (the
            trial becomes ``failed`` with its message). A non-finite value
            marks the trial failed too.

        Raises
        ------
        MlstratError
            A return value without the optimizing metric (nothing is
            stored, the trial stays running: tell again), or a trial that
            is not running any more (finished, or re-queued as stale).
        """
        trial = self._told(trial)
        outcome = self._tell_outcome(result)
        trial_id = cast(int, trial._id)
        ok = self.project.finish_trial(
            trial_id, attempts=cast(int, trial._attempts), state=outcome["state"],
            value=outcome["value"], metrics=outcome["metrics"], error=outcome["error"],
            history=trial.history)
        self._asked.pop(trial.number, None)
        if self._ask_beat is not None:
            self._ask_beat.ids.discard(trial_id)
        if not ok:
            raise ObjectiveError(
                f"Trial {trial.number} of study {self.name!r} is not running any more (it "
                "was re-queued after its heartbeat stopped, or already told); this result "
                "was not stored.")
        return outcome["state"]

    def _told(self, trial: Trial | int) -> Trial:
        if isinstance(trial, Trial) and trial._id is not None:
            return trial
        number = trial.number if isinstance(trial, Trial) else int(trial)
        if number in self._asked:
            return self._asked[number]
        frame = self.project.trials(self.study_id)
        rows = frame[(frame["number"] == number) & (frame["state"] == "running")]
        if rows.empty:
            raise ObjectiveError(f"Study {self.name!r} has no running trial number {number}; "
                                 "tell() takes a trial returned by ask() and not yet told.")
        row = rows.iloc[0]
        told = Trial(number, row["params"], self.space.to_dict(), study=self.name)
        told._id, told._attempts = int(row["id"]), int(row["attempts"])
        return told

    def _tell_outcome(self, result: Any) -> dict[str, Any]:
        if isinstance(result, BaseException):
            return {"state": "failed", "value": None, "metrics": {},
                    "error": error_text(result)}
        value, metrics = objective_metrics(result, self.metric)
        error = not_finite(value, self.metric)
        return {"state": "failed" if error else "complete", "value": value,
                "metrics": metrics, "error": error}

    def _beat(self, interval: float) -> _Heartbeat:
        """The heartbeat of asked trials, started at the first ask (a daemon
        thread: it ends with the process, which is what makes a dead
        process's trials stale)."""
        if self._ask_beat is None:
            self._ask_beat = _Heartbeat(self.project, self.worker, interval).__enter__()
        return self._ask_beat

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
        frame = frame.sort_values("value", ascending=not self.greater_is_better)
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
                    inflight[executor.submit(self._run["runner"], task)] = trial
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
        running = frame[frame["state"] == "running"]
        self._announce_wait(running[running["worker"] != self.worker])
        return bool(len(running) or waiting.any())

    def _announce_wait(self, running: Any) -> None:
        """Say once per trial what this driver waits for, and how to wait less."""
        new = set(running["id"].astype(int)) - self._run["announced"]
        if not new:
            return
        self._run["announced"] |= new
        self._notify(waiting_message(running.to_dict("records"),
                                     stale_after=self._run["stale_after"],
                                     interval=self._run["interval"]))

    def _notify(self, text: str) -> None:
        if self._run.get("progress") is not None:
            self._run["progress"].notice(text)
        else:
            warnings.warn(text, WaitingForTrialsWarning, stacklevel=4)

    def _start(self, total: int) -> StudyStart:
        """The study's total and what a resumed study had already finished,
        in trials (or trainings, one per rung reached, for halving)."""
        frame = self.project.trials(self.study_id)
        finished = frame["state"].isin(("complete", "pruned", "failed"))
        if self.strategy.multi_fidelity:
            units, total = "trainings", self.strategy.n_evaluations(total)
            done = int((frame["rung"] + finished).sum())
        else:
            units, done = "trials", int(finished.sum())
        complete = frame[frame["state"] == "complete"].dropna(subset=["value"])
        best = None
        if len(complete):
            row = complete.sort_values(["value", "number"],
                                       ascending=[not self.greater_is_better, True]).iloc[0]
            best = (float(row["value"]), int(row["number"]))
        return StudyStart(self.name, total, min(done, total), units, self.metric,
                          self.greater_is_better, best)

    def _task(self, base: dict, trial: dict, models: dict | None, target: int | None) -> dict:
        task = {**base, "params": trial["params"]}
        if "objective" in base:
            return {**task, "number": trial["number"], "budget": target}
        if target is not None:
            model = (models or {}).get(trial["id"])
            task.update(epochs=target, keep_model=True, model=model,
                        epochs_done=trial["epochs"] if model is not None else 0)
        return task

    def _record(self, trial: dict, out: dict, models: dict | None) -> None:
        metrics = dict(out["metrics"])
        if out["epochs_trained"] is not None:  # None: an objective without a budget
            metrics["epochs_trained"] = out["epochs_trained"]
        if models is not None:
            spent = trial["metrics"].get("epochs_spent", 0)
            metrics["epochs_spent"] = spent + out["epochs_trained"]
            if out.get("model") is not None:
                models[trial["id"]] = out["model"]
        ok = self.project.finish_trial(
            trial["id"], attempts=trial["attempts"], state=out["state"], value=out["value"],
            metrics=metrics, epochs=out["epochs"], seconds=out.get("seconds"),
            error=out["error"], history=out["history"])
        record = {**trial, **out, "metrics": metrics, "model": None}
        if ok and self._run["callback"] is not None:
            self._run["callback"](record)
        if ok and self._run.get("progress") is not None:
            self._run["progress"].trial(record)

    # -- successive halving / Hyperband ----------------------------------
    def _run_halving(self, executor, beat, base: dict, total: int, cv: Any) -> None:
        if cv:
            raise ValueError("Successive halving scores each rung on the dev set; "
                             "give X_dev, y_dev instead of 'cv'.")
        if "objective" not in base and not base["resource"]:
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
        best = below.sort_values(["value", "number"],
                                 ascending=[not self.greater_is_better, True])
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


def _seconds(value: Any, name: str, *, low: float) -> float:
    """A number of seconds >= ``low``, or a ``ValueError`` naming the parameter.

    Examples
    --------
    >>> _seconds(-1, "stale_after", low=0.0)
    Traceback (most recent call last):
    ...
    ValueError: The 'stale_after' parameter must be a number of seconds >= 0. Got -1 instead.
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low
    if not ok:
        raise ValueError(f"The {name!r} parameter must be a number of seconds >= {low:g}. "
                         f"Got {value!r} instead.")
    return float(value)


def _all_failed_message(result: StudyResult) -> str:
    """Every trial failed: how many, and the first one's message."""
    failed = result.trials[result.trials["state"] == "failed"].sort_values("number")
    first = failed.iloc[0]
    reason = str(first["error"] or "no message").strip().splitlines()[0]
    return (f"Every trial of study {result.name!r} failed ({len(failed)} of "
            f"{len(result.trials)}); the first, trial {int(first['number'])}: {reason[:500]}")


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
    optimize: str | tuple[str, str] | None = None,
    satisfice: Mapping[str, tuple[str, float]] | None = None,
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
    optimize : str or (str, {'minimize', 'maximize'}), optional
        The optimizing metric of an objective study: the key of the dict
        the objective returns (a plain number is stored under it). A bare
        name of ``SCORERS`` (or ``dev_``/``train_`` + one) takes its
        direction, any other name is minimized. Default ``'dev_' + scoring``
        (``'dev_error'``, minimized). Reopening a study with another
        metric is refused.
    satisfice : dict, optional
        ``{metric: (op, threshold)}`` (``{"latency_ms": ("<=", 50)}``): the
        study's satisficing metrics. The result's best trial is the best on
        the optimizing metric among the trials meeting them. Stored with the
        study; given again on reopening, it replaces the stored one.
    """
    metric, greater = parse_optimize(optimize, scoring)
    satisfice = _check_satisfice(satisfice)
    space = SearchSpace(space)
    clash = sorted(set(space) & ({metric} | set(RESERVED_METRICS)))
    if clash:
        raise ValueError(f"Parameter name(s) {clash} clash with the optimizing metric or "
                         f"the trials table's columns; rename them.")
    strategy = make_strategy(strategy)
    project = project if isinstance(project, Project) else Project(project)
    config = None if satisfice is None else {"satisfice": satisfice}
    study_id = project.create_study(
        name, space=space.to_dict(), strategy=strategy.to_dict(), metric=metric,
        greater_is_better=greater, seed=seed, config=config)
    stored = project.get_study(study_id)["config"].get("satisfice") or {}
    return Study(name, space, strategy, project=project, seed=seed, scoring=scoring,
                 study_id=study_id, metric=metric, greater_is_better=greater,
                 satisfice=_check_satisfice(stored))


def parse_optimize(optimize: str | tuple[str, str] | None,
                   scoring: str | Callable = "error") -> tuple[str, bool]:
    """(metric, greater_is_better) of ``create_study(optimize=..., scoring=...)``.

    Examples
    --------
    >>> parse_optimize(None), parse_optimize("dev_accuracy")
    (('dev_error', False), ('dev_accuracy', True))
    >>> parse_optimize(("reward", "maximize"))
    ('reward', True)
    """
    if optimize is None:
        _, greater, name = scorer(scoring)
        return f"dev_{name}", greater
    metric, direction = (optimize, None) if isinstance(optimize, str) else tuple(optimize)
    if not isinstance(metric, str) or not metric.strip() or metric in RESERVED_METRICS:
        raise ValueError(f"'optimize' must name a metric (not one of {list(RESERVED_METRICS)}), "
                         f"e.g. optimize=('loss', 'minimize'). Got {optimize!r}.")
    if direction is None:
        known = SCORERS.get(metric.removeprefix("dev_").removeprefix("train_"))
        return metric, bool(known and known[1])
    if direction not in DIRECTIONS:
        raise ValueError(f"The direction of 'optimize' must be one of {list(DIRECTIONS)}. "
                         f"Got {direction!r}.")
    return metric, DIRECTIONS[direction]


def _check_satisfice(spec: Mapping[str, Any] | None) -> dict[str, tuple[str, float]] | None:
    """``{metric: (op, threshold)}`` checked (a stored JSON pair becomes a tuple)."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise ValueError(f"'satisfice' must be a dict such as {{'latency_ms': ('<=', 50)}}. "
                         f"Got {spec!r}.")
    out = {}
    for metric, pair in spec.items():
        ok = isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] in OPERATORS \
            and isinstance(pair[1], (int, float)) and not isinstance(pair[1], bool)
        if not ok:
            raise ValueError(f"satisfice[{metric!r}] must be (operator, number) with an "
                             f"operator among {list(OPERATORS)}, e.g. ('<=', 50). Got {pair!r}.")
        out[str(metric)] = (str(pair[0]), float(pair[1]))
    return out


def load_study(name: str, *, project: Project | str | os.PathLike,
               scoring: str | Callable | None = None) -> Study:
    """Open an existing study with the space, strategy, optimizing metric and
    satisficing metrics it was created with."""
    project = project if isinstance(project, Project) else Project(project)
    rec = project.get_study(name)
    metric = rec["metric"]
    direction = "maximize" if rec["greater_is_better"] else "minimize"
    scored = metric.removeprefix("dev_")
    if scoring is None:
        scoring = scored if metric.startswith("dev_") and scored in SCORERS else "error"
    return create_study(name, rec["space"], project=project, strategy=rec["strategy"],
                        seed=rec["seed"], scoring=scoring, optimize=(metric, direction))
