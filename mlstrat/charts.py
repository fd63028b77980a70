"""Chart builders: pure functions from a result's frame to an Altair chart.

Each builder takes the ``to_frame()`` of a result object (or a plain
DataFrame with the documented columns), aggregates it so the chart never
carries more than ``MAX_ROWS`` rows (Altair's default limit), and returns a
chart (``alt.Chart``, or a layered / concatenated chart built from them).
Builders are independent of each other: add new ones alongside.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"name": ["A", "B"], "accuracy": [0.9, 0.92],
...                       "feasible": [True, False], "chosen": [True, False]})
>>> spec = selection_chart(frame, metric="accuracy").to_dict()
>>> spec["mark"]["type"]
'bar'
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "MAX_ROWS",
    "ladder_chart",
    "learning_curve_chart",
    "history_chart",
    "distribution_chart",
    "selection_chart",
    "split_plan_chart",
    "error_ceilings_chart",
    "error_slices_chart",
    "mislabel_candidates_chart",
    "score_by_param_chart",
    "progress_chart",
]

#: most rows a chart carries (Altair refuses more than 5000 by default)
MAX_ROWS = 5000
#: category labels read horizontally, one word a line ("avoidable bias or Bayes error"
#: was drawn vertical, rotated 90 degrees, in a narrow chart)
WORD_AXIS = alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')", labelLimit=120)

#: what a gap bar shows -> colour (a negative gap is never shown as a problem)
_GAP_SHOWN = {"real": "#d62728", "too small to tell": "#ff7f0e", "noise": "#7f7f7f",
              "untested (no sizes)": "#1f77b4", "negative: not a problem": "#2ca02c"}
_VERDICT_COLORS = alt.Scale(domain=list(_GAP_SHOWN), range=list(_GAP_SHOWN.values()))


def _layer(*charts) -> alt.LayerChart:
    """``alt.layer`` without its facet hoisting (no chart here is faceted), so typed."""
    return alt.LayerChart(layer=list(charts))


def _require(frame: pd.DataFrame, columns, builder: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{builder} expects a pandas DataFrame. Got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{builder} needs columns {list(columns)}; missing {missing}.")


def _thin_by(frame: pd.DataFrame, key: str, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Average rows into bins of ``key`` until the frame has at most ``max_rows`` rows."""
    if len(frame) <= max_rows:
        return frame
    n_keys = frame[key].nunique()
    per_key = max(1, len(frame) // max(n_keys, 1))
    n_bins = max(1, max_rows // per_key)
    edges = np.linspace(frame[key].min(), frame[key].max(), n_bins + 1)
    binned = frame.assign(_bin=np.clip(np.searchsorted(edges, frame[key], side="right") - 1,
                                       0, n_bins - 1))
    others = [c for c in frame.columns if c != key and not pd.api.types.is_numeric_dtype(frame[c])]
    agg = binned.groupby(["_bin", *others], as_index=False).mean(numeric_only=True)
    return agg.drop(columns="_bin")


# ----------------------------------------------------------------------------- ladder
def ladder_chart(diagnosis_frame: pd.DataFrame, *, percent: bool = True,
                 metric: str = "error rate") -> alt.VConcatChart:
    """The error ladder (top) and the gaps between rungs (bottom).

    Parameters
    ----------
    diagnosis_frame : DataFrame
        ``Diagnosis.to_frame()``: columns kind ('rung'/'gap'), order, name,
        label, value, low, high, verdict.
    percent : bool, default=True
        Rates shown in percent (gaps in points); False for a regression
        ladder in the target's units.
    metric : str, default='error rate'
        Axis title of the rungs (e.g. 'RMSE').

    A gap below 0 (training error below human level, dev easier than
    train-dev) is coloured as not a problem, whatever its verdict.

    Examples
    --------
    >>> from mlstrat.diagnosis import diagnose
    >>> d = diagnose(human=0.01, train=0.08, dev=0.10, sizes={"train": 5000, "dev": 1000})
    >>> spec = ladder_chart(d.to_frame()).to_dict()
    >>> len(spec["vconcat"])
    2
    """
    _require(diagnosis_frame, ["kind", "order", "label", "value", "low", "high", "verdict"],
             "ladder_chart")
    f = diagnosis_frame.copy()
    scale = 100.0 if percent else 1.0
    f["pct"] = f["value"] * scale
    f["low_pct"] = f["low"] * scale
    f["high_pct"] = f["high"] * scale
    if percent:
        gap_text, rung_text = (lambda v: f"{100 * v:+.2f} pt"), (lambda v: f"{100 * v:.2f}%")
    else:
        gap_text, rung_text = (lambda v: f"{v:+.4g}"), (lambda v: f"{v:.4g}")
    f["text"] = f["value"].map(gap_text).where(f["kind"] == "gap", f["value"].map(rung_text))
    f["shown"] = f["verdict"].where(f["value"] >= 0, "negative: not a problem")
    rung_title = "error (%)" if percent else metric
    gap_title = "gap (pt)" if percent else f"gap ({metric})"
    rungs = f[f["kind"] == "rung"]
    gaps = f[f["kind"] == "gap"]
    rung_order = list(rungs.sort_values("order")["label"])
    gap_order = list(gaps.sort_values("order")["label"])
    x_rung = alt.X("label:N", sort=rung_order, title=None, axis=WORD_AXIS)
    base = alt.Chart(rungs)
    top = _layer(
        base.mark_line(color="#999").encode(x=x_rung, y=alt.Y("pct:Q", title=rung_title)),
        base.mark_point(filled=True, size=90).encode(
            x=x_rung, y="pct:Q",
            tooltip=["label:N", alt.Tooltip("text:N", title="value"), "n:Q"]),
        base.mark_errorbar().encode(x=x_rung, y=alt.Y("low_pct:Q", title=rung_title),
                                    y2="high_pct:Q"),
        base.mark_text(dx=18, align="left").encode(x=x_rung, y="pct:Q", text="text:N"),
    ).properties(title="Error ladder (95% intervals)", width=420, height=220)
    gbase = alt.Chart(gaps)
    x_gap = alt.X("label:N", sort=gap_order, title=None, axis=WORD_AXIS)
    bottom = _layer(
        gbase.mark_bar().encode(
            x=x_gap, y=alt.Y("pct:Q", title=gap_title),
            color=alt.Color("shown:N", scale=_VERDICT_COLORS, title="verdict"),
            tooltip=["label:N", alt.Tooltip("text:N", title="gap"), "verdict:N"]),
        gbase.mark_errorbar(color="black").encode(
            x=x_gap, y=alt.Y("low_pct:Q", title=gap_title), y2="high_pct:Q"),
        alt.Chart(pd.DataFrame({"zero": [0]})).mark_rule(color="black").encode(
            y=alt.Y("zero:Q", title=gap_title)),
    ).properties(title="Gaps: avoidable bias, variance, data mismatch, dev overfitting",
                 width=420, height=220)
    return alt.vconcat(top, bottom)


# ----------------------------------------------------------------------------- curves
def learning_curve_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Train and dev error against training-set size (log scale), with the fit.

    Parameters
    ----------
    frame : DataFrame
        ``LearningCurve.to_frame()``: size, train_error, dev_error, dev_std
        and optionally fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"size": [10, 100], "train_error": [0.0, 0.05],
    ...                   "dev_error": [0.3, 0.1], "dev_std": [0.02, 0.01], "fitted": [0.3, 0.1]})
    >>> len(learning_curve_chart(f).to_dict()["layer"])
    3
    """
    _require(frame, ["size", "train_error", "dev_error"], "learning_curve_chart")
    f = _thin_by(frame, "size", MAX_ROWS // 3)
    long = f.melt(id_vars=["size"], value_vars=["train_error", "dev_error"],
                  var_name="series", value_name="error")
    long["series"] = long["series"].str.replace("_error", "", regex=False)
    std = f["dev_std"] if "dev_std" in f.columns else pd.Series(0.0, index=f.index)
    bars = pd.DataFrame({"size": f["size"], "low": f["dev_error"] - std,
                         "high": f["dev_error"] + std})
    x = alt.X("size:Q", scale=alt.Scale(type="log"), title="training examples")
    layers = [
        alt.Chart(long).mark_line(point=True).encode(
            x=x, y=alt.Y("error:Q", title="error"), color=alt.Color("series:N", title=None),
            tooltip=["series:N", "size:Q", alt.Tooltip("error:Q", format=".4f")]),
        alt.Chart(bars).mark_errorbar().encode(x=x, y="low:Q", y2="high:Q"),
    ]
    if "fitted" in f.columns and f["fitted"].notna().any():
        fit = pd.DataFrame({"size": f["size"], "fitted": f["fitted"]})
        layers.append(alt.Chart(fit).mark_line(strokeDash=[5, 4], color="black").encode(
            x=x, y="fitted:Q"))
    return _layer(*layers).properties(title="Learning curve: a*m^-b + c fit dashed",
                                         width=420, height=260)


#: epochs are whole numbers: ticks 1, 2, 3 (never 1.5), however few epochs there are
EPOCH_AXIS = alt.Axis(tickMinStep=1, format="d")


def history_chart(history_frame: pd.DataFrame, *, best_epoch: int | None = None):
    """Loss and error per epoch for train and dev, with an early-stopping line.

    Parameters
    ----------
    history_frame : DataFrame
        Wide (``epoch`` and ``<split>_<metric>`` columns such as
        ``train_loss``, ``dev_error``; the trainer's ``history_`` columns
        ``loss``, ``error``, ``val_loss``, ``val_error`` are read as train and
        dev; others such as ``learning_rate`` are ignored) or long (``epoch``,
        ``split``, ``metric``, ``value``). More than 5000 rows are averaged
        into epoch bins.
    best_epoch : int, optional
        Draws a vertical rule where early stopping would stop.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3],
    ...                   "dev_loss": [1.1, 0.7, 0.8]})
    >>> spec = history_chart(h, best_epoch=2).to_dict()
    >>> len(spec["hconcat"])
    1
    >>> spec["hconcat"][0]["layer"][0]["encoding"]["x"]["axis"]
    {'format': 'd', 'tickMinStep': 1}
    """
    long = _history_long(history_frame)
    long = _thin_by(long, "epoch", MAX_ROWS)
    panels = []
    for metric in [m for m in ("loss", "error") if m in set(long["metric"])] + \
            sorted(set(long["metric"]) - {"loss", "error"}):
        part = long[long["metric"] == metric]
        layer = [alt.Chart(part).mark_line().encode(
            x=alt.X("epoch:Q", title="epoch", axis=EPOCH_AXIS),
            y=alt.Y("value:Q", title=metric),
            color=alt.Color("split:N", title=None),
            tooltip=["split:N", "epoch:Q", alt.Tooltip("value:Q", format=".4f")])]
        if best_epoch is not None:
            rule = pd.DataFrame({"epoch": [best_epoch], "label": [f"best epoch {best_epoch}"]})
            layer.append(alt.Chart(rule).mark_rule(strokeDash=[4, 4], color="black").encode(
                x="epoch:Q", tooltip=["label:N"]))
        panels.append(_layer(*layer).properties(title=metric, width=300, height=220))
    return alt.hconcat(*panels)


#: the trainer's ``history_`` columns (``mlstrat.nn``) -> (split, metric)
_TRAINER_HISTORY = {"loss": ("train", "loss"), "error": ("train", "error"),
                    "val_loss": ("dev", "loss"), "val_error": ("dev", "error")}
_HISTORY_SPLITS = ("train", "train_dev", "dev", "test", "validation", "val")


def _split_metric(column: str) -> tuple[str, str] | None:
    if column in _TRAINER_HISTORY:
        return _TRAINER_HISTORY[column]
    for split in sorted(_HISTORY_SPLITS, key=len, reverse=True):
        if column.startswith(split + "_") and len(column) > len(split) + 1:
            return ("dev" if split in ("val", "validation") else split), column[len(split) + 1:]
    return None  # e.g. learning_rate, seconds: not a split's curve


def _history_long(frame: pd.DataFrame) -> pd.DataFrame:
    if {"epoch", "split", "metric", "value"} <= set(frame.columns):
        return frame[["epoch", "split", "metric", "value"]]
    _require(frame, ["epoch"], "history_chart")
    found = {c: _split_metric(str(c)) for c in frame.columns if c != "epoch"
             and pd.api.types.is_numeric_dtype(frame[c])}
    named = {c: sm for c, sm in found.items() if sm is not None}
    if not named:
        raise ValueError("history_chart needs columns like 'train_loss', 'dev_error' "
                         "(split_metric) or the trainer's loss/val_loss. "
                         f"Got {list(frame.columns)}.")
    long = frame.melt(id_vars=["epoch"], value_vars=list(named), var_name="series",
                      value_name="value")
    long["split"] = long["series"].map(lambda c: named[c][0])
    long["metric"] = long["series"].map(lambda c: named[c][1])
    return long[["epoch", "split", "metric", "value"]]


# ----------------------------------------------------------------------------- splits, selection
def distribution_chart(frame: pd.DataFrame, *, auc: float | None = None,
                       low: float | None = None, high: float | None = None,
                       top: int = 30) -> alt.Chart:
    """Features that separate two sets most (adversarial validation).

    Parameters
    ----------
    frame : DataFrame
        ``DistributionComparison.to_frame()``: feature, importance.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"feature": ["age", "city"], "importance": [0.3, 0.01]})
    >>> distribution_chart(f, auc=0.8, low=0.75, high=0.85).to_dict()["mark"]["type"]
    'bar'
    """
    _require(frame, ["feature", "importance"], "distribution_chart")
    f = frame.sort_values("importance", ascending=False).head(min(top, MAX_ROWS))
    title = "Features that separate the two sets"
    if auc is not None:
        title += f" - AUC {auc:.3f}"
        if low is not None and high is not None:
            title += f" [{low:.3f}, {high:.3f}]"
    return alt.Chart(f).mark_bar().encode(
        x=alt.X("importance:Q", title="permutation importance (AUC drop)"),
        y=alt.Y("feature:N", sort="-x", title=None),
        tooltip=["feature:N", alt.Tooltip("importance:Q", format=".4f")],
    ).properties(title=title, width=380)


def selection_chart(frame: pd.DataFrame, *, metric: str) -> alt.Chart:
    """Candidates' optimizing metric; colour says chosen / feasible / fails.

    Parameters
    ----------
    frame : DataFrame
        ``Selection.to_frame()``: name, ``metric``, feasible, chosen.
    """
    _require(frame, ["name", metric, "feasible"], "selection_chart")
    f = frame.head(MAX_ROWS).copy()
    chosen = f["chosen"] if "chosen" in f.columns else False
    f["status"] = np.where(chosen, "chosen", np.where(f["feasible"], "meets constraints",
                                                      "fails a constraint"))
    f = f.rename(columns={metric: "metric_value"})
    return alt.Chart(f).mark_bar().encode(
        x=alt.X("metric_value:Q", title=metric),
        y=alt.Y("name:N", sort="-x", title=None),
        color=alt.Color("status:N", scale=alt.Scale(
            domain=["chosen", "meets constraints", "fails a constraint"],
            range=["#2ca02c", "#1f77b4", "#bbbbbb"]), title=None),
        tooltip=["name:N", alt.Tooltip("metric_value:Q", title=metric), "status:N"],
    ).properties(title=f"Candidates by {metric}", width=380)


def split_plan_chart(frame: pd.DataFrame) -> alt.Chart:
    """Examples per split; stacked by source/target distribution when known.

    Parameters
    ----------
    frame : DataFrame
        ``SplitPlan.to_frame()``: split, size, and optionally source, target.

    Examples
    --------
    >>> from mlstrat.splits import suggest_splits
    >>> spec = split_plan_chart(suggest_splits(500_000, target_size=20_000).to_frame()).to_dict()
    >>> spec["mark"]["type"]
    'bar'
    """
    _require(frame, ["split", "size"], "split_plan_chart")
    order = list(frame["split"])
    if {"source", "target"} <= set(frame.columns) and (frame["source"] + frame["target"]).sum():
        long = frame.melt(id_vars=["split"], value_vars=["source", "target"],
                          var_name="distribution", value_name="examples")
    else:
        long = frame.assign(distribution="all", examples=frame["size"])[
            ["split", "distribution", "examples"]]
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("examples:Q", title="examples"),
        y=alt.Y("split:N", sort=order, title=None),
        color=alt.Color("distribution:N", title="distribution"),
        tooltip=["split:N", "distribution:N", alt.Tooltip("examples:Q", format=",")],
    ).properties(title="Split plan", width=380)


# ----------------------------------------------------------------------- error analysis
# (appended by the error-analysis work: builders for mlstrat.errors results)
def error_ceilings_chart(frame: pd.DataFrame, *, dev_error: float | None = None,
                         confidence: float = 0.95) -> alt.LayerChart:
    """Each category's ceiling (the most dev error can fall if it is fully fixed),
    as horizontal bars with their intervals, and the dev error as a dashed line.

    Parameters
    ----------
    frame : DataFrame
        ``ErrorSummary.to_frame()``: category, count, share, ceiling, ceiling_low,
        ceiling_high (fractions of the dev set).
    dev_error : float, optional
        No category can remove more than this.

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["dog"], "count": [5], "share": [0.05],
    ...                   "ceiling": [0.005], "ceiling_low": [0.002], "ceiling_high": [0.011]})
    >>> len(error_ceilings_chart(f, dev_error=0.1).to_dict()["layer"])
    3
    """
    _require(frame, ["category", "count", "share", "ceiling", "ceiling_low", "ceiling_high"],
             "error_ceilings_chart")
    data = frame.assign(ceiling_pt=100 * frame["ceiling"], low_pt=100 * frame["ceiling_low"],
                        high_pt=100 * frame["ceiling_high"])[
        ["category", "count", "share", "ceiling_pt", "low_pt", "high_pt"]].head(MAX_ROWS)
    order = data.sort_values("ceiling_pt", ascending=False)["category"].tolist()
    y = alt.Y("category:N", sort=order, title=None)
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("ceiling_pt:Q",
                     title="dev error removed at most by fixing the category (points)"),
        tooltip=["category", "count", alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("ceiling_pt:Q", format=".2f", title="ceiling (pt)"),
                 alt.Tooltip("low_pt:Q", format=".2f"), alt.Tooltip("high_pt:Q", format=".2f")])
    rules = alt.Chart(data).mark_rule(color="black").encode(y=y, x="low_pt:Q", x2="high_pt:Q")
    layers = [bars, rules]
    if dev_error is not None:
        ref = pd.DataFrame({"dev_error_pt": [100 * dev_error]})
        layers.append(alt.Chart(ref).mark_rule(strokeDash=[4, 4], color="gray")
                      .encode(x="dev_error_pt:Q"))
    return _layer(*layers).properties(
        title=f"Ceilings with {confidence:.0%} Wilson intervals")


def error_slices_chart(frame: pd.DataFrame, *, overall_rate: float) -> alt.LayerChart:
    """Error rate of each slice with its interval, against the overall rate.

    Examples
    --------
    >>> f = pd.DataFrame({"rule": ["x > 1"], "n": [50], "errors": [20], "error_rate": [0.4],
    ...                   "rate_low": [0.28], "rate_high": [0.54], "stands_out": [True]})
    >>> len(error_slices_chart(f, overall_rate=0.1).to_dict()["layer"])
    3
    """
    cols = ["rule", "n", "errors", "error_rate", "rate_low", "rate_high", "stands_out"]
    _require(frame, cols, "error_slices_chart")
    data = frame[cols].head(50)
    y = alt.Y("rule:N", sort=data["rule"].tolist(), title=None)
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("error_rate:Q", axis=alt.Axis(format="%"), title="error rate"),
        color=alt.Color("stands_out:N", title="stands out"),
        tooltip=["rule", "n", "errors", alt.Tooltip("error_rate:Q", format=".1%")])
    rules = alt.Chart(data).mark_rule(color="black").encode(y=y, x="rate_low:Q",
                                                            x2="rate_high:Q")
    ref = alt.Chart(pd.DataFrame({"overall": [overall_rate]})).mark_rule(
        strokeDash=[4, 4], color="gray").encode(x="overall:Q")
    return _layer(bars, rules, ref).properties(title="Error rate by slice")


def mislabel_candidates_chart(frame: pd.DataFrame) -> alt.Chart:
    """Candidate mislabels: probability of the given label against the suggested one.

    Examples
    --------
    >>> f = pd.DataFrame({"rank": [1], "id": ["a"], "given": ["3"], "suggested": ["8"],
    ...                   "p_given": [0.1], "p_suggested": [0.8]})
    >>> mislabel_candidates_chart(f).to_dict()["mark"]["type"]
    'point'
    """
    cols = ["rank", "id", "given", "suggested", "p_given", "p_suggested"]
    _require(frame, cols, "mislabel_candidates_chart")
    return alt.Chart(frame[cols].head(MAX_ROWS)).mark_point().encode(
        x=alt.X("p_given:Q", title="probability of the given label"),
        y=alt.Y("p_suggested:Q", title="probability of the suggested label"),
        tooltip=cols,
    ).properties(title="Candidate mislabels (each one for a person to review)")


# ----------------------------------------------------------------------------- tuning
def _tuning_axis(name: str, spec) -> tuple[str, alt.X, str]:
    """(column, x encoding, type) of one hyperparameter on its own scale: a
    log axis for loguniform, a ``1 - beta`` log axis for the beta scale."""
    kind = next(iter(spec))
    if kind in ("loguniform", "log"):
        return name, alt.X(f"{name}:Q", scale=alt.Scale(type="log"), title=f"{name} (log)"), "Q"
    if kind in ("beta", "one_minus_log"):
        column = f"1 - {name}"
        return column, alt.X(f"{column}:Q", scale=alt.Scale(type="log"),
                             title=f"1 - {name} (log)"), "Q"
    if kind == "choice":
        return name, alt.X(f"{name}:N", title=name), "N"
    return name, alt.X(f"{name}:Q", title=name), "Q"


def score_by_param_chart(frame: pd.DataFrame, space, *, metric: str = "value",
                         label: str | None = None,
                         greater_is_better: bool = False) -> alt.HConcatChart:
    """Each finished trial's score against each hyperparameter, each on its own
    scale. ``frame`` is ``StudyResult.to_frame()`` (columns ``number``,
    ``state``, ``metric`` and one per hyperparameter); ``space`` is the
    space's ``to_dict()``. Past ``MAX_ROWS`` trials only the best are drawn.

    Examples
    --------
    >>> f = pd.DataFrame({"number": [0, 1], "value": [0.1, 0.2], "lr": [1e-3, 1e-2],
    ...                   "m": [0.9, 0.99], "state": ["complete"] * 2})
    >>> spec = score_by_param_chart(f, {"lr": {"loguniform": [1e-4, 1e-1]},
    ...                                 "m": {"beta": [0.9, 0.999]}}).to_dict()
    >>> [p["encoding"]["x"]["field"] for p in spec["hconcat"]]
    ['lr', '1 - m']
    """
    _require(frame, ["number", "state", metric, *space], "score_by_param_chart")
    data = frame[frame["state"].isin(["complete", "pruned"])].dropna(subset=[metric])
    data = data.sort_values(metric, ascending=not greater_is_better).head(MAX_ROWS).copy()
    charts = []
    for name, spec in space.items():
        column, x, kind = _tuning_axis(name, spec)
        if column != name:
            data[column] = 1.0 - data[name].astype(float)
        if kind == "N":
            data[name] = data[name].astype(str)
        charts.append(alt.Chart(data).mark_circle(size=60, opacity=0.7).encode(
            x=x, y=alt.Y(f"{metric}:Q", title=label or metric),
            color=alt.Color("state:N", title="state"),
            tooltip=["number:Q", f"{metric}:Q", f"{name}:{kind}"],
        ).properties(width=220, height=180, title=name))
    return alt.hconcat(*charts)


def progress_chart(frame: pd.DataFrame, *, metric: str = "value", label: str | None = None,
                   greater_is_better: bool = False) -> alt.LayerChart:
    """Each complete trial's score by trial number, and the best so far.

    Examples
    --------
    >>> f = pd.DataFrame({"number": [0, 1, 2], "value": [0.3, 0.2, 0.25],
    ...                   "state": ["complete"] * 3})
    >>> len(progress_chart(f).to_dict()["layer"])
    2
    """
    _require(frame, ["number", "state", metric], "progress_chart")
    data = frame[frame["state"] == "complete"].dropna(subset=[metric]).sort_values("number")
    data = data[["number", metric]].copy()
    data["best so far"] = data[metric].cummax() if greater_is_better else data[metric].cummin()
    if len(data) > MAX_ROWS:
        data = data.iloc[np.linspace(0, len(data) - 1, MAX_ROWS).astype(int)]
    points = alt.Chart(data).mark_circle(opacity=0.5).encode(
        x=alt.X("number:Q", title="trial"), y=alt.Y(f"{metric}:Q", title=label or metric))
    line = alt.Chart(data).mark_line(interpolate="step-after", color="firebrick").encode(
        x="number:Q", y="best so far:Q")
    return (points + line).properties(width=420, height=220, title="Best so far")


# ------------------------------------------------------------------ run comparison
# (appended by the baseline work: the builder of baseline.RunComparison)
def comparison_chart(frame: pd.DataFrame, *, name_a: str = "A",
                     name_b: str = "B") -> alt.Chart:
    """Each split's error for run A and run B, as grouped bars.

    Parameters
    ----------
    frame : DataFrame
        ``RunComparison.to_frame()`` (its ``kind == 'rung'`` rows are drawn), or
        a frame with columns label, a, b: one row a split.
    name_a, name_b : str, default='A', 'B'
        How the two runs are named in the legend.

    Examples
    --------
    >>> f = pd.DataFrame({"kind": ["rung", "rung"], "label": ["train", "dev"],
    ...                   "a": [0.08, 0.12], "b": [0.05, 0.10]})
    >>> spec = comparison_chart(f).to_dict()
    >>> spec["mark"]["type"], len(next(iter(spec["datasets"].values())))
    ('bar', 4)
    """
    _require(frame, ["label", "a", "b"], "comparison_chart")
    rungs = frame[frame["kind"] == "rung"] if "kind" in frame.columns else frame
    order = list(dict.fromkeys(rungs["label"]))
    long = rungs.rename(columns={"a": name_a, "b": name_b}).melt(
        id_vars=["label"], value_vars=[name_a, name_b], var_name="run", value_name="error")
    long = long.dropna(subset=["error"]).astype({"error": float})
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("label:N", sort=order, title=None, axis=WORD_AXIS),
        xOffset=alt.XOffset("run:N", sort=[name_a, name_b]),
        y=alt.Y("error:Q", title="error", axis=alt.Axis(format="%")),
        color=alt.Color("run:N", sort=[name_a, name_b], title="run"),
        tooltip=["label:N", "run:N", alt.Tooltip("error:Q", format=".2%")],
    ).properties(width=380, height=220, title=f"Errors by split: {name_a} vs {name_b}")


__all__.append("comparison_chart")
