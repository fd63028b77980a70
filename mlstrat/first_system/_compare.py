"""Did the change help? Two runs compared on the same dev examples.

The gaps of each run's error ladder are set side by side, and a gap *moved*
only when the change is beyond noise: the two runs' gap intervals do not
overlap (two 95% intervals that miss each other differ at well under the 5%
level, so this never calls noise a move; it can miss a small real change).
Rungs and gaps are in the ladders' units: percent and points for error rates,
the target's units for a regression (RMSE). The dev difference is tested
*paired*, on the examples both runs predicted: exact McNemar on the
discordant pairs for an error rate (``stats.mcnemar_test``), a paired
studentised bootstrap of the RMSE difference for a regression
(``stats.paired_rmse_difference``, in the target's units). Runs made from
different data (their fingerprints differ: ``same_dataset``) are refused.
Examples are matched by id; when the two dev sets differ (another split
seed, other rows), the comparison says so instead of testing.

Examples
--------
>>> import tempfile
>>> import numpy as np, pandas as pd
>>> from mlstrat.store import open_project
>>> project = open_project(tempfile.mkdtemp())
>>> y = np.r_[np.zeros(100, int), np.ones(100, int)]
>>> a = y.copy(); a[:40] = 1 - a[:40]          # run A: 40 errors
>>> b = y.copy(); b[25:40] = 1 - b[25:40]      # run B: 15 of them, no new ones
>>> ids = [f"r{i}" for i in range(200)]
>>> def dev(pred):
...     return {"dev": pd.DataFrame({"id": ids, "y_true": y, "y_pred": pred})}
>>> ra = project.log_run("A", predictions=dev(a))
>>> rb = project.log_run("B", predictions=dev(b))
>>> c = compare_runs(project, ra, rb)
>>> c.test["b"], c.test["c"], f"{c.test['pvalue']:.1e}"
(0, 25, '6.0e-08')
>>> c.verdict
'better'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.diagnosis import GAPS, RUNG_LABELS, SPLITS, Diagnosis, diagnose, ladder_decimals
from mlstrat.first_system._dataset import same_dataset
from mlstrat.first_system._metrics import score
from mlstrat.metrics import METRICS, positive_label
from mlstrat.predictions import is_regression
from mlstrat.stats import mcnemar_test, paired_bootstrap, paired_rmse_difference
from mlstrat.store import Project


@dataclass
class RunComparison:
    """Run B against run A: rung and gap changes, and a paired test on ``split``.

    ``change`` is always B - A: a negative error change means B is better
    (``direction`` 'down'). A gap's ``moved`` is 'moved down' or 'moved up'
    when the two gap intervals do not overlap, 'within noise' when they do,
    'untested' without intervals. ``metric`` is 'error rate' (shown in
    percent) or the ladders' regression metric ('RMSE', in the target's
    units). ``verdict`` is 'better', 'worse', 'no real difference' or 'not
    compared'.
    """

    run_a: int
    run_b: int
    name_a: str
    name_b: str
    split: str
    task: str
    rungs: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    matched: bool = False
    n_matched: int = 0
    only_a: int = 0
    only_b: int = 0
    test: dict[str, Any] = field(default_factory=dict)
    metric_test: dict[str, Any] | None = None
    verdict: str = "not compared"
    message: str = ""
    confidence: float = 0.95
    metric: str = "error rate"

    @property
    def comparable(self) -> bool:
        """False when the two dev sets hold other examples: the numbers then stand side
        by side and no change is measured. Runs without stored predictions are compared
        on their ladders' intervals (unpaired), as before."""
        return self.matched or (self.only_a == 0 and self.only_b == 0)

    @property
    def is_rate(self) -> bool:
        """True when rungs are error rates (percent), False for a regression metric."""
        return self.metric == "error rate"

    @property
    def decimals(self) -> int:
        """Decimals in target units: four significant digits on the largest rung of
        either run (``diagnosis.ladder_decimals``, the ladders' own rule)."""
        return ladder_decimals([v for r in self.rungs for v in (r["a"], r["b"])])

    def format_value(self, x: float | None) -> str:
        """A rung as shown: '8.00%' for a rate, :attr:`decimals` in the target's units."""
        if x is None or x != x:
            return "-"
        return _pct(x) if self.is_rate else f"{x:.{self.decimals}f}"

    def format_change(self, x: float | None) -> str:
        """A change or a gap as shown: '-9.00 pt' for rates, signed target units otherwise."""
        if x is None or x != x:
            return "-"
        return _pt(x) if self.is_rate else f"{x:+.{self.decimals}f}"

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per rung and per gap: kind, name, label, a, b, change, moved."""
        rows = [{"kind": "rung", **r, "moved": None} for r in self.rungs]
        rows += [{"kind": "gap", **{k: g[k] for k in ("name", "label", "a", "b", "change",
                                                      "direction", "moved")}}
                 for g in self.gaps]
        return pd.DataFrame(rows, columns=["kind", "name", "label", "a", "b", "change",
                                           "direction", "moved"])

    def chart(self):
        """Each split's error for A and B, grouped bars (``charts.comparison_chart``)."""
        from mlstrat.charts import comparison_chart

        return comparison_chart(self.to_frame(), name_a=f"A: run {self.run_a}",
                                name_b=f"B: run {self.run_b}")

    def __str__(self) -> str:
        lines = [f"Run {self.run_b} ({self.name_b}) against run {self.run_a} ({self.name_a})"]
        width = 30
        paired = self.comparable
        lines.append(f"  {'':<{width}} {'A':>9} {'B':>9}" + (f" {'B - A':>11}" if paired else ""))
        what = " error" if self.is_rate else f" {self.metric}"
        value, change = self.format_value, self.format_change
        for r in self.rungs:
            delta = f" {change(r['change']):>11} {ARROWS[r['direction']]}" if paired else ""
            lines.append(f"  {r['label'] + what:<{width}} {value(r['a']):>9} {value(r['b']):>9}"
                         f"{delta}".rstrip())
        for g in self.gaps:
            moved = f"  {g['moved']}" if g.get("moved") else ""
            delta = f" {change(g['change']):>11} {ARROWS[g['direction']]}{moved}" if paired else ""
            lines.append(f"  {g['label']:<{width}} {change(g['a']):>9} {change(g['b']):>9}"
                         f"{delta}".rstrip())
        if self.gaps and paired:
            lines.append(f"  (a gap 'moved' when the two runs' {self.confidence:.0%} "
                         "intervals of it do not overlap: beyond noise)")
        elif not paired:
            lines.append("  (side by side only: the runs are not paired on the same examples, "
                         "so no change is measured)")
        lines.append(f"Paired test on the {self.split} set: {self.message}")
        m = self.metric_test
        if m:
            lines.append(f"{m['metric']} (paired bootstrap, {m['n_resamples']:,} resamples): "
                         f"{m['a']:.4f} -> {m['b']:.4f} ({m['change']:+.4f}, "
                         f"{self.confidence:.0%} interval [{m['low']:+.4f}, {m['high']:+.4f}]): "
                         f"{m['verdict']}.")
        return "\n".join(lines)


#: direction of a change -> the arrow shown beside it (a falling error is good)
ARROWS = {"down": "↓", "up": "↑", "same": "=", None: ""}


def _direction(change: float | None) -> str | None:
    if change is None:
        return None
    return "down" if change < 0 else "up" if change > 0 else "same"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _pt(x) -> str:
    return "-" if x is None else f"{100 * x:+.2f} pt"


def _diagnosis_of(run) -> Diagnosis | None:
    if run.diagnosis and run.diagnosis.get("kind", "Diagnosis") == "Diagnosis" \
            and "gaps" in run.diagnosis:
        return Diagnosis.from_dict(run.diagnosis)
    if run.errors.get("train") is None:
        return None
    sizes = {k: v for k, v in run.sizes.items() if k in run.errors}
    return diagnose(run.human_error, run.errors.get("train"),
                    train_dev=run.errors.get("train_dev"), dev=run.errors.get("dev"),
                    test=run.errors.get("test"), sizes=sizes)


def _ladder(run, d: Diagnosis | None) -> dict[str, float]:
    """Split -> rung value: the diagnosis' ladder (its units), else the stored errors."""
    if d is None:
        return dict(run.errors)
    return {r.name: r.rate for r in d.rungs if r.name in SPLITS}


def _metric(da: Diagnosis | None, db: Diagnosis | None) -> str:
    for d in (db, da):
        if d is not None:
            return d.metric
    return "error rate"


def _rung_rows(ladder_a: dict[str, float], ladder_b: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for split in SPLITS:
        a, b = ladder_a.get(split), ladder_b.get(split)
        if a is None and b is None:
            continue
        change = None if a is None or b is None else b - a
        rows.append({"name": split, "label": RUNG_LABELS[split], "a": a, "b": b,
                     "change": change, "direction": _direction(change)})
    return rows


def _gap_rows(da: Diagnosis | None, db: Diagnosis | None) -> list[dict[str, Any]]:
    rows = []
    for name in GAPS:
        ga = _find_gap(da, name)
        gb = _find_gap(db, name)
        if ga is None and gb is None:
            continue
        a = None if ga is None else ga.value
        b = None if gb is None else gb.value
        change = None if a is None or b is None else b - a
        rows.append({"name": name, "label": (gb or ga).label, "a": a, "b": b,
                     "change": change, "direction": _direction(change),
                     "verdict_a": None if ga is None else ga.verdict,
                     "verdict_b": None if gb is None else gb.verdict,
                     "moved": _moved(ga, gb)})
    return rows


def _moved(ga, gb) -> str | None:
    """'moved down' / 'moved up' when the two gap intervals do not overlap (beyond
    noise), 'within noise' when they do, 'untested' without intervals.

    Two independent 95% intervals that miss each other differ at well under the
    5% level, so a move is never called on noise alone.
    """
    if ga is None or gb is None:
        return None
    if ga.low is None or gb.low is None:
        return "untested"
    if gb.high < ga.low:
        return "moved down"
    if gb.low > ga.high:
        return "moved up"
    return "within noise"


def _find_gap(d: Diagnosis | None, name: str):
    if d is None:
        return None
    return next((g for g in d.gaps if g.name == name), None)


def _task_of(run, frame: pd.DataFrame) -> str:
    task = (run.config.get("baseline") or {}).get("task") or run.config.get("task")
    if task in ("classification", "regression"):
        return task
    return "regression" if is_regression({"split": frame}) else "classification"


def _match(pa: pd.DataFrame, pb: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    a = pa.assign(id=pa["id"].astype(str)).set_index("id")
    b = pb.assign(id=pb["id"].astype(str)).set_index("id")
    only_a = int((~a.index.isin(b.index)).sum())
    only_b = int((~b.index.isin(a.index)).sum())
    both = a[["y_true", "y_pred"]].merge(b[["y_true", "y_pred"]], how="inner",
                                         left_index=True, right_index=True,
                                         suffixes=("_a", "_b"))
    return both, only_a, only_b


def _mcnemar(both: pd.DataFrame, confidence: float) -> dict[str, Any]:
    correct_a = (both["y_true_a"] == both["y_pred_a"]).to_numpy()
    correct_b = (both["y_true_b"] == both["y_pred_b"]).to_numpy()
    r = mcnemar_test(correct_a, correct_b, confidence=confidence)
    if r.difference is None or r.low is None or r.high is None:
        # paired vectors always give n, hence an interval; only counts alone do not
        raise RuntimeError(f"mcnemar_test gave no interval for {len(both)} paired "
                           f"predictions: {r}. This is a bug in mlstrat; please report it.")
    # mcnemar_test's difference is error(A) - error(B); report B - A
    return {"test": "McNemar (exact)", "b": r.b, "c": r.c, "n": r.n, "pvalue": r.pvalue,
            "error_a": float(1 - correct_a.mean()), "error_b": float(1 - correct_b.mean()),
            "change": 0.0 - r.difference, "low": 0.0 - r.high, "high": 0.0 - r.low}


def _paired_rmse(both: pd.DataFrame, confidence: float,
                 random_state: int | None = 0) -> dict[str, Any]:
    """Studentised paired bootstrap of RMSE(B) - RMSE(A) on the same dev rows, in the
    target's units (``stats.paired_rmse_difference``)."""
    yt = both["y_true_a"].to_numpy(float)
    pa, pb = both["y_pred_a"].to_numpy(float), both["y_pred_b"].to_numpy(float)
    r = paired_rmse_difference(yt, pa, pb, confidence=confidence, random_state=random_state)
    return {"test": "paired studentised bootstrap of the RMSE", "n": r.n, "rmse_a": r.a,
            "rmse_b": r.b, "mse_a": r.a ** 2, "mse_b": r.b ** 2, "change": r.difference,
            "low": r.low, "high": r.high, "n_resamples": r.n_resamples}


#: metrics with no closed-form paired test: compared by a paired bootstrap
BOOTSTRAP_METRICS = ("f1", "precision", "recall", "false_positive_rate")


def _paired_bootstrap(both: pd.DataFrame, metric: str, confidence: float,
                      random_state: int | None, n_resamples: int = 2000) -> dict[str, Any]:
    """``stats.paired_bootstrap`` of metric(B) - metric(A), with a verdict."""
    yt = both["y_true_a"].to_numpy()
    pa, pb = both["y_pred_a"].to_numpy(), both["y_pred_b"].to_numpy()
    classes = np.unique(yt)
    pos = positive_label(classes, yt)

    def value(t, p):
        return score("classification", metric, t, p, classes=classes, pos_label=pos)

    r = paired_bootstrap(value, yt, pa, pb, n_resamples=n_resamples, confidence=confidence,
                         random_state=random_state)
    greater = METRICS[metric][1]
    real = r.low > 0 or r.high < 0
    verdict = "no real difference" if not real else \
        ("better" if (r.difference > 0) == greater else "worse")
    return {"metric": metric, "a": r.a, "b": r.b, "change": r.difference,
            "low": r.low, "high": r.high, "verdict": verdict, "n_resamples": n_resamples,
            "test": r.test}


def _verdict(test: dict[str, Any], confidence: float) -> str:
    if "pvalue" in test:
        real = test["pvalue"] < 1 - confidence
    else:  # a bootstrap interval: real when it excludes 0
        real = test["low"] > 0 or test["high"] < 0
    if not real:
        return "no real difference"
    return "better" if test["change"] < 0 else "worse"


def _describe(c: RunComparison) -> str:
    t = c.test
    conf = f"{c.confidence:.0%}"
    if c.task == "classification":
        head = (f"McNemar exact, {t['n']:,} matched examples: right only by A b={t['b']}, "
                f"right only by B c={t['c']}, p={t['pvalue']:.3g}. Error "
                f"{_pct(t['error_a'])} -> {_pct(t['error_b'])} {ARROWS[_direction(t['change'])]} "
                f"({_pt(t['change'])}, {conf} interval [{_pt(t['low'])}, {_pt(t['high'])}]).")
    else:
        v, d = c.format_value, c.format_change
        head = (f"paired studentised bootstrap, {t['n']:,} matched examples: RMSE "
                f"{v(t['rmse_a'])} -> {v(t['rmse_b'])} {ARROWS[_direction(t['change'])]} "
                f"(target units; change {d(t['change'])}, {conf} interval "
                f"[{d(t['low'])}, {d(t['high'])}], {t['n_resamples']:,} resamples).")
    tail = {"better": " B is better: the difference is real.",
            "worse": " B is worse: the difference is real.",
            "no real difference": " Not distinguishable from noise on this dev set."}
    return head + tail[c.verdict]


def compare_runs(project: Project, run_a: int | str, run_b: int | str, *, split: str = "dev",
                 confidence: float = 0.95, metric: str | None = None,
                 random_state: int | None = 0) -> RunComparison:
    """Compare run ``run_b`` with ``run_a`` (earlier) on the same ``split`` examples.

    Parameters
    ----------
    project : Project
    run_a, run_b : int or str
        Run ids (or names: the newest run of that name).
    split : str, default='dev'
        Split whose stored predictions are paired by example id.
    confidence : float, default=0.95
        Level of the intervals; a difference is real when p < 1 - confidence.
    metric : {'f1', 'precision', 'recall', 'false_positive_rate'}, optional
        A classification metric with no closed-form paired test, compared in
        addition by a paired bootstrap (``metric_test``).
    random_state : int or None, default=0
        Seed of the bootstrap.

    Returns
    -------
    RunComparison
    """
    ra, rb = project.get_run(run_a), project.get_run(run_b)
    out = RunComparison(ra.id, rb.id, ra.name, rb.name, split, "classification",
                        confidence=confidence)
    same, why = same_dataset(ra, rb)
    if same is False:
        out.message = f"not compared: {why}"
        return out
    da, db = _diagnosis_of(ra), _diagnosis_of(rb)
    out.metric = _metric(da, db)
    out.rungs = _rung_rows(_ladder(ra, da), _ladder(rb, db))
    out.gaps = _gap_rows(da, db)
    pa, pb = project.run_predictions(ra.id, split), project.run_predictions(rb.id, split)
    missing = [f"run {r.id}" for r, p in ((ra, pa), (rb, pb)) if p.empty]
    if missing:
        out.message = (f"{' and '.join(missing)} stored no '{split}' predictions: the paired "
                       "test needs them (log_run(..., predictions={'dev': ...})).")
        return out
    out.task = _task_of(rb, pb)
    both, out.only_a, out.only_b = _match(pa, pb)
    out.n_matched = len(both)
    if out.only_a or out.only_b or not len(both):
        out.message = (f"the {split} sets differ (run {ra.id}: {len(pa):,} examples, run "
                       f"{rb.id}: {len(pb):,}; {out.only_a:,} ids only in A, {out.only_b:,} "
                       "only in B), so the runs are not compared example by example. Use "
                       "the same data and split seed for both.")
        return out
    labels_differ = both["y_true_a"].astype(str) != both["y_true_b"].astype(str)
    if labels_differ.any():
        first = both.index[labels_differ.to_numpy()][0]
        out.message = (f"the two runs disagree on the true label of {int(labels_differ.sum())}"
                       f" {split} examples (first id {first!r}): not the same dev set.")
        return out
    out.matched = True
    out.test = (_mcnemar(both, confidence) if out.task == "classification"
                else _paired_rmse(both, confidence, random_state))
    out.verdict = _verdict(out.test, confidence)
    out.message = _describe(out)
    if metric in BOOTSTRAP_METRICS and out.task == "classification":
        out.metric_test = _paired_bootstrap(both, metric, confidence, random_state)
    return out

