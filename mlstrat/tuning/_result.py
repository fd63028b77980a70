"""StudyResult: a study's trials as numbers, the best trial under
satisficing constraints, and charts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlstrat.metrics import Selection, select_model

__all__ = ["StudyResult"]


@dataclass
class StudyResult:
    """A snapshot of a study: one row per trial.

    Attributes
    ----------
    name : str
    trials : DataFrame
        As ``Project.trials`` returns it (params and metrics as dicts).
    space : dict
        The space's ``to_dict`` form.
    strategy : dict
    metric : str
        The optimizing metric's column (``'dev_error'``); ``value`` holds it.
    greater_is_better : bool
    satisfice : dict
        The study's satisficing metrics, ``{metric: (op, threshold)}``: the
        default constraints of :meth:`select` and :meth:`best_trial`.
    """

    name: str
    trials: pd.DataFrame
    space: dict[str, Any]
    strategy: dict[str, Any]
    metric: str
    greater_is_better: bool
    project: Any = None
    satisfice: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def from_project(cls, project: Any, name: str) -> StudyResult:
        rec = project.get_study(name)
        stored = (rec.get("config") or {}).get("satisfice") or {}
        return cls(name=name, trials=project.trials(name), space=rec["space"],
                   strategy=rec["strategy"], metric=rec["metric"],
                   greater_is_better=rec["greater_is_better"], project=project,
                   satisfice={k: (v[0], float(v[1])) for k, v in stored.items()})

    # -- counts ----------------------------------------------------------
    def _count(self, state: str) -> int:
        return int((self.trials["state"] == state).sum())

    @property
    def n_complete(self) -> int:
        return self._count("complete")

    @property
    def n_failed(self) -> int:
        return self._count("failed")

    @property
    def n_pruned(self) -> int:
        return self._count("pruned")

    @property
    def total_epochs(self) -> int:
        """Epochs trained by every trial (successive halving's survivors count
        each epoch once, since they continue rather than restart)."""
        spent = [m.get("epochs_spent", e)
                 for m, e in zip(self.trials["metrics"], self.trials["epochs"], strict=True)]
        return int(sum(spent))

    # -- frames ----------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per trial: number, state, value, one column per
        hyperparameter and per metric, epochs, seconds, error."""
        base = self.trials[["number", "state", "value", "rung", "bracket", "epochs",
                            "seconds", "attempts", "error", "finished_at"]].reset_index(drop=True)
        params = pd.DataFrame([_cells(p) for p in self.trials["params"]], index=base.index)
        metrics = pd.DataFrame(list(self.trials["metrics"]), index=base.index)
        metrics = metrics.drop(columns=[c for c in metrics if c in params], errors="ignore")
        return pd.concat([base, params, metrics], axis=1)

    def candidates(self) -> pd.DataFrame:
        """Finished trials as ``select_model`` candidates (``name`` = trial number)."""
        frame = self.to_frame()
        frame = frame[frame["state"] == "complete"].dropna(subset=["value"]).copy()
        frame.insert(0, "name", frame["number"].astype(str))
        return frame

    # -- the best trial --------------------------------------------------
    def select(self, optimize: str | None = None,
               satisfice: Mapping[str, tuple[str, float]] | None = None) -> Selection:
        """The best complete trial on ``optimize`` (default the study's metric)
        among those meeting ``satisfice`` (e.g. ``{"latency_ms": ("<=", 1)}``;
        default the study's own, ``{}`` for none), by
        :func:`mlstrat.metrics.select_model`."""
        frame = self.candidates()
        if frame.empty:
            raise ValueError(f"Study {self.name!r} has no complete trial yet; run it first.")
        optimize = optimize or self.metric
        gib = self.greater_is_better if optimize in (self.metric, "value") else None
        satisfice = self.satisfice if satisfice is None else satisfice
        return select_model(frame, optimize=optimize, satisfice=dict(satisfice),
                            greater_is_better=gib)

    def best_trial(
        self, optimize: str | None = None,
        satisfice: Mapping[str, tuple[str, float]] | None = None,
    ) -> dict[str, Any] | None:
        """The chosen trial's row (params, metrics, ...) or None if no trial
        meets the constraints."""
        chosen = self.select(optimize, satisfice).chosen
        if chosen is None:
            return None
        row = self.trials[self.trials["number"] == int(chosen)].iloc[0]
        return row.to_dict()

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best_trial()
        return {} if best is None else dict(best["params"])

    @property
    def best_value(self) -> float | None:
        best = self.best_trial()
        return None if best is None else float(best["value"])

    def log_best_run(self, name: str | None = None, *, optimize: str | None = None,
                     satisfice: Mapping[str, tuple[str, float]] | None = None) -> int:
        """Record the best trial as a run of the project (config, train and dev
        error, history); returns the run id."""
        best = self.best_trial(optimize, satisfice)
        if best is None:
            raise ValueError(f"No trial of study {self.name!r} meets the constraints {satisfice}.")
        m = best["metrics"]
        errors = {s: m[f"{s}_error"] for s in ("train", "dev") if f"{s}_error" in m}
        history = self.project.trial_history(int(best["id"]))
        return self.project.log_run(
            name or f"{self.name}#{best['number']}", errors=errors, history=history,
            config={"study": self.name, "trial": int(best["number"]), **best["params"]},
            metrics={"dev": {k: v for k, v in m.items() if k.startswith("dev_")
                             and not k.endswith("_error")}} if any(
                k.startswith("dev_") and not k.endswith("_error") for k in m) else None)

    # -- presentation ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        best = self.best_trial() if self.n_complete else None
        return {
            "name": self.name, "metric": self.metric,
            "greater_is_better": self.greater_is_better, "space": self.space,
            "strategy": self.strategy, "n_trials": len(self.trials),
            "n_complete": self.n_complete, "n_pruned": self.n_pruned,
            "n_failed": self.n_failed, "total_epochs": self.total_epochs,
            "best": None if best is None else {
                "number": int(best["number"]), "value": best["value"],
                "params": best["params"], "epochs": int(best["epochs"])},
            "trials": self.to_frame().drop(columns=["error"]).to_dict("records"),
        }

    def __str__(self) -> str:
        lines = [f"Study {self.name!r} ({self.strategy.get('kind', '?')}): "
                 f"{len(self.trials)} trials - {self.n_complete} complete, "
                 f"{self.n_pruned} pruned, {self.n_failed} failed"
                 + (f"; {self.total_epochs} epochs in all." if self.total_epochs else ".")]
        best = self.best_trial() if self.n_complete else None
        if best is not None:
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in best["params"].items())
            after = f" after {best['epochs']} epochs" if best["epochs"] else ""
            lines.append(f"Best: trial {best['number']}, {self.metric} = "
                         f"{best['value']:.4g}{after} ({params}).")
        elif self.n_complete:
            lines.append(f"No complete trial meets the satisficing metrics {self.satisfice}.")
        failed = self.trials[self.trials["state"] == "failed"]
        for _, row in failed.head(3).iterrows():
            lines.append(f"Failed: trial {row['number']}: {str(row['error']).splitlines()[0]}")
        return "\n".join(lines)

    def chart(self):
        """Score against each hyperparameter (each on its own scale) beside
        the best-so-far progress."""
        from mlstrat.charts import progress_chart, score_by_param_chart

        frame = self.to_frame()
        gib = self.greater_is_better
        label = self.metric.replace("_", " ")
        return (score_by_param_chart(frame, self.space, metric="value", label=label,
                                     greater_is_better=gib)
                & progress_chart(frame, label=label, greater_is_better=gib))


def _cells(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (list, tuple)) else v) for k, v in params.items()}


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
