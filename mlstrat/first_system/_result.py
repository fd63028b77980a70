"""What a baseline returns: the runs, the diagnosis of the best, the error
session, the comparison with the previous iteration, and a text report."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlstrat.diagnosis import Diagnosis
from mlstrat.first_system._columns import ColumnPlan
from mlstrat.first_system._compare import RunComparison

_SPLIT_LABELS = {"train": "train", "train_dev": "train-dev", "dev": "dev", "test": "test"}


@dataclass
class ModelResult:
    """One baseline model, as logged in the project store."""

    name: str
    kind: str
    run_id: int
    errors: dict[str, float]
    sizes: dict[str, int]
    metrics: dict[str, dict[str, float]]
    score: float
    epochs: int
    best_epoch: int | None
    seconds: float
    diagnosis: Diagnosis
    chosen: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["diagnosis"] = self.diagnosis.to_dict()
        return d


@dataclass
class BaselineResult:
    """The outcome of :func:`mlstrat.first_system.baseline`.

    Attributes
    ----------
    models : list of ModelResult
        The ladder, from the trivial predictor up; ``best`` is the chosen one.
    diagnosis : Diagnosis
        The error ladder of the best model.
    session : mlstrat.errors.Session or None
        Error-analysis session on the best model's dev errors (classification).
    slices : object or None
        The session's top error slices (when the errors module provides them).
    comparison : RunComparison or None
        The best model against the previous iteration's best, paired on dev.
    timings : dict
        Seconds per stage.
    resampling : dict
        How the rungs were measured: ``method`` 'split' (one train / train-dev /
        dev / test split) or 'kfold' (repeated stratified K-fold out-of-fold
        predictions, test held out), the ``reason`` and ``rule``, the dev
        half-width of the single split, and ``rung_sizes``.
    early_stopping : dict
        Where the networks stopped early: a ``fraction`` of the training rows
        (``rows`` of them in the single split), never trained on; never dev.
    selection : dict
        ``n_models`` compared on dev (``chosen_on``), the chosen model's dev and
        test errors, and ``unbiased``: the rung that is its unbiased figure.
    checks : list of Check
        What the checks of the data found, each ``(kind, message, severity)``
        (``_checks.SEVERITIES``): repeated rows across splits, the classes of
        dev and test, single-feature leaks, ties between models on dev.
    train_dev : dict
        ``carved`` (whether a train-dev set was carved) and the ``reason``.
    dataset : dict
        The fingerprint of the data, stored with every run (``Run.dataset``).
    """

    project_folder: str
    data: str
    target: str
    task: str
    metric: str
    greater_is_better: bool
    iteration: int
    n_rows: int
    n_without_target: int
    classes: list[Any] | None
    columns: ColumnPlan
    split_sizes: dict[str, int]
    split_rule: str
    domain: str | None
    group: str | None
    models: list[ModelResult]
    diagnosis: Diagnosis
    session: Any = None
    slices: Any = None
    comparison: RunComparison | None = None
    previous_run: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    resampling: dict[str, Any] = field(default_factory=lambda: {"method": "split"})
    early_stopping: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] = field(default_factory=dict)
    checks: list[Any] = field(default_factory=list)
    train_dev: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ access
    @property
    def best(self) -> ModelResult:
        return next(m for m in self.models if m.chosen)

    @property
    def runs(self) -> list[int]:
        """Run ids in the project store, one per model."""
        return [m.run_id for m in self.models]

    @property
    def dashboard_command(self) -> str:
        """The command that opens the dashboard on this project."""
        folder = shlex.quote(str(Path(self.project_folder)))
        return f"mlstrat dashboard --project {folder}"

    # ------------------------------------------------------------------ output
    def chart(self):
        """The error ladder chart of the best model (``charts.ladder_chart``)."""
        return self.diagnosis.chart()

    def to_frame(self) -> pd.DataFrame:
        """One row per model: run id, errors per split, the dev metric, epochs, seconds."""
        rows = []
        for m in self.models:
            row = {"model": m.name, "run_id": m.run_id, "chosen": m.chosen}
            row.update({s: m.errors.get(s) for s in _SPLIT_LABELS})
            row.update({f"dev_{self.metric}": m.score, "epochs": m.epochs,
                        "seconds": m.seconds, "problem": m.diagnosis.primary})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project_folder, "data": self.data, "target": self.target,
            "task": self.task, "metric": self.metric, "iteration": self.iteration,
            "n_rows": self.n_rows, "n_without_target": self.n_without_target,
            "classes": self.classes, "columns": self.columns.to_dict(),
            "split_sizes": dict(self.split_sizes), "split_rule": self.split_rule,
            "domain": self.domain, "group": self.group,
            "models": [m.to_dict() for m in self.models], "best_run": self.best.run_id,
            "diagnosis": self.diagnosis.to_dict(),
            "session": None if self.session is None else int(self.session.id),
            "slices": _as_dict(self.slices),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "previous_run": self.previous_run, "timings": dict(self.timings),
            "notes": list(self.notes), "dashboard": self.dashboard_command,
            "resampling": dict(self.resampling), "early_stopping": dict(self.early_stopping),
            "selection": {**self.selection, **self._test_interval()},
            "checks": [{"kind": c[0], "message": c[1], "severity": c[2]} for c in self.checks],
            "train_dev": dict(self.train_dev), "dataset": dict(self.dataset),
            "verdict": {"status": getattr(self.diagnosis, "status", None),
                        "headline": getattr(self.diagnosis, "headline", None)},
        }

    def __str__(self) -> str:
        parts = [self._header(), str(self.columns), self._splits(), self._checks(),
                 self._measured(), self._ladder(), self._chosen(),
                 f"Diagnosis of the best model ({self.best.name}, run {self.best.run_id})",
                 _indent(str(self.diagnosis)), self._errors()]
        if self.comparison is not None:
            parts.append("Against the previous iteration\n" + _indent(str(self.comparison)))
        elif self.previous_run is None:
            parts.append("First iteration in this project: change one thing and run again "
                         "to measure it against this one.")
        if self.notes:
            parts.append("Notes\n" + "\n".join(f"  - {n}" for n in self.notes))
        folder = shlex.quote(self.project_folder)
        parts.append(f"Dashboard on this project: {self.dashboard_command}\n"
                     f"  (or, from the repository: MLSTRAT_PROJECT={folder} make dashboard)")
        return "\n\n".join(p for p in parts if p)

    def _header(self) -> str:
        kind = self.task if self.classes is None else \
            f"{self.task}, {len(self.classes)} classes"
        lost = f" ({self.n_without_target:,} rows without a target left out)" \
            if self.n_without_target else ""
        return (f"mlstrat baseline, iteration {self.iteration}: {self.data} -> "
                f"{self.target!r} ({kind}); {self.n_rows:,} rows{lost}; "
                f"project {self.project_folder}")

    def _splits(self) -> str:
        sizes = ", ".join(f"{_SPLIT_LABELS[k]} {v:,}" for k, v in self.split_sizes.items())
        where = ""
        if self.domain:
            where = "; dev and test come only from them, the rest of them go to training"
        if self.group:
            where += f"; no {self.group!r} group in two splits"
        text = f"Splits ({self.split_rule}{where}): {sizes}"
        if self.train_dev and not self.train_dev.get("carved"):
            text += f"\nNo train-dev set: {self.train_dev.get('reason', '')}."
        elif self.train_dev:
            text += f"\nTrain-dev set: {self.train_dev.get('reason', '')}."
        es = self.early_stopping
        if es:
            how = "stratified, " if es.get("stratified") else ""
            how += "whole groups, " if es.get("grouped") else ""
            rows = (f"{es.get('fraction', 0.1):.0%} of each fit's training rows"
                    if es.get("per_fit") else f"{es.get('rows', 0):,} training rows "
                    f"({es.get('fraction', 0.1):.0%} of train)")
            text += (f"\nEarly stopping: the networks stop on {rows} carved at random ({how}"
                     "never trained on); dev is never used while fitting.")
        return text

    def _checks(self) -> str:
        """What the checks found, problems first."""
        if not self.checks:
            return ""
        order = {"warning": 0, "info": 1, "ok": 2}
        marks = {"warning": "!", "info": "-", "ok": "ok"}
        lines = ["Checks of the data"]
        for _kind, message, severity in sorted(self.checks, key=lambda c: order.get(c[2], 3)):
            lines.append(f"  {marks.get(severity, '-'):>2} {message}")
        return "\n".join(lines)

    def _measured(self) -> str:
        """How the rungs were measured: one split, or repeated K-fold (small data)."""
        r = self.resampling
        half = r.get("split_dev_half_width")
        if r.get("method") != "kfold":
            if half is None:
                return ""
            return (f"Rungs from this one split (dev resolves +-{100 * half:.1f} pt at 95%): "
                    f"{r.get('reason', '')}.")
        sizes = ", ".join(f"{_SPLIT_LABELS.get(k, k)} {v:,}"
                          for k, v in r.get("rung_sizes", {}).items())
        lines = [f"Rungs from {r.get('n_splits')}-fold x {r.get('n_repeats')} repeated "
                 f"out-of-fold predictions, not one split ({r.get('reason', '')}).",
                 f"  Distinct examples per rung: {sizes}. Each example's error is averaged "
                 "over the repeats; train is each example's error when trained on; test "
                 "stays held out, predicted by each model refitted on all non-test rows."]
        dev = self._rung("dev")
        if dev is not None and dev.low is not None:
            scale, unit = (1, "") if self.task == "regression" else (100, " pt")
            width = scale * (dev.high - dev.low) / 2
            was = "" if half is None else f", against +-{100 * half:.1f} pt from one split"
            lines.append(f"  Dev (out-of-fold): {self._fmt(dev.rate)} [{self._fmt(dev.low)}, "
                         f"{self._fmt(dev.high)}] on {dev.n:,} examples: "
                         f"+-{width:.3g}{unit}{was}.")
        return "\n".join(lines)

    def _fmt(self, x: float | None) -> str:
        """A rung as shown: a percentage, or the RMSE in the target's units."""
        if x is None:
            return "-"
        return _pct(x) if self.task != "regression" else f"{x:.4g}"

    def _rung(self, name: str):
        return next((r for r in getattr(self.diagnosis, "rungs", []) or []
                     if getattr(r, "name", None) == name), None)

    def _test_interval(self) -> dict[str, Any]:
        test = self._rung("test")
        if test is None or getattr(test, "low", None) is None:
            return {}
        return {"test_low": test.low, "test_high": test.high, "test_n": test.n}

    def _chosen(self) -> str:
        """Dev chose the model; test, used for nothing, is its unbiased figure."""
        n, best = self.selection.get("n_models", len(self.models)), self.best
        dev = "out-of-fold dev" if self.resampling.get("method") == "kfold" else "dev"
        score = "" if self.metric == "error" else f" (dev {self.metric} {best.score:.4g})"
        text = (f"Chosen on {dev} among {n} models: {best.name}{score}. Its dev error "
                f"{self._fmt(best.errors.get('dev'))} is biased low by that choice.")
        if best.errors.get("test") is None:
            return text
        ci = self._test_interval()
        interval = f" [{self._fmt(ci['test_low'])}, {self._fmt(ci['test_high'])}]" if ci else ""
        size = best.sizes.get("test")
        return (text + f"\nTest {self._fmt(best.errors['test'])}{interval}"
                + (f" on {size:,} examples" if size else "")
                + ", used for no choice and no fitting, is the unbiased figure of the "
                  "chosen model.")

    def _ladder(self) -> str:
        direction = "higher" if self.greater_is_better else "lower"
        # the dev error rate is already the dev column: its own column only for another metric
        extra = self.metric != "error"
        metric_head = f" {'dev ' + self.metric:>12}" if extra else ""
        head = (f"  {'model':<38} {'train':>8} {'train-dev':>9} {'dev':>8} {'test':>8}"
                f"{metric_head} {'epochs':>6} {'sec':>6}  run")
        unit = "RMSE in the target's units" if self.task == "regression" else "error rates"
        lines = [f"Error ladder per model ({unit}; best on dev {self.metric}, "
                 f"{direction} is better, marked *; dev chose among {len(self.models)} "
                 "models, test is the unbiased figure)", head]
        for m in self.models:
            cells = " ".join(f"{self._fmt(m.errors.get(s)):>{w}}" for s, w in
                             (("train", 8), ("train_dev", 9), ("dev", 8), ("test", 8)))
            mark = "*" if m.chosen else " "
            score = f" {m.score:>12.4g}" if extra else ""
            lines.append(f"{mark} {m.name:<38} {cells}{score} {m.epochs or '-':>6}"
                         f" {m.seconds:>6.1f}  {m.run_id}")
        return "\n".join(lines)

    def _errors(self) -> str:
        if self.session is None:
            return ""
        lines = [f"Error analysis: session {self.session.id} on the dev errors of run "
                 f"{self.best.run_id} ({len(self.session.sample_ids()):,} sampled for review)"]
        if self.slices is not None:
            lines.append(_indent(_top_slices(self.slices)))
        folder = shlex.quote(self.project_folder)
        lines.append(f"  Tag them on the dashboard's error-analysis page, or in a sheet: "
                     f"mlstrat errors export {self.session.id} errors.xlsx --project {folder}")
        return "\n".join(lines)


def _top_slices(slices: Any, k: int = 5) -> str:
    lines = str(slices).splitlines()
    more = len(lines) - 1 - k
    return "\n".join(["Error slices: " + lines[0]] + lines[1:1 + k]
                     + ([f"   ... {more} more"] if more > 0 else []))


def _as_dict(obj: Any) -> Any:
    if obj is None:
        return None
    return obj.to_dict() if hasattr(obj, "to_dict") else str(obj)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


__all__ = ["BaselineResult", "ModelResult"]
