"""Your first system, quickly: data file -> columns -> splits -> baselines -> runs
-> diagnosis -> error-analysis session -> comparison with the previous iteration.

Everything the user gives is checked before anything is written to the project:
after a ``ValueError`` the project holds exactly the runs it held before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mlstrat.baseline._columns import (
    ROLES,
    ColumnPlan,
    check_column,
    coerce_features,
    infer_roles,
)
from mlstrat.baseline._compare import compare_runs
from mlstrat.baseline._metrics import check_metric, metric_registry, score
from mlstrat.baseline._models import FittedModel, ModelSpec, TrainSettings, fit_model, ladder
from mlstrat.baseline._preprocess import build_preprocessor, transform_float32
from mlstrat.baseline._progress import ProgressEvent, Reporter, StageLines
from mlstrat.baseline._read import read_table
from mlstrat.baseline._result import BaselineResult, ModelResult
from mlstrat.diagnose import Diagnosis, diagnose, diagnose_regression
from mlstrat.metrics import mse, positive_label, select_model
from mlstrat.splits import make_splits
from mlstrat.store import SPLITS, Project, open_project

#: fewest rows each evaluation split (train-dev, dev, test) must get
MIN_SPLIT_ROWS = 5
#: training predictions are stored only up to this many rows (dev, train-dev, test always)
MAX_STORED_TRAIN = 20_000
#: a numeric target with more distinct values than this (and than 5% of rows) is regression
MAX_CLASSES = 20


# =========================================================================== inputs
@dataclass
class _Inputs:
    frame: pd.DataFrame
    source: str
    target: str
    task: str
    y: np.ndarray
    n_without_target: int
    domain_mask: np.ndarray | None
    domain_label: str | None
    groups: np.ndarray | None
    plan: ColumnPlan
    ids: np.ndarray
    domain_column: str | None = None
    group_column: str | None = None


def parse_domain(domain: str | tuple | Mapping | None) -> tuple[str, str] | None:
    """``"COLUMN=VALUE"``, ``(column, value)`` or ``{column: value}`` -> (column, value).

    Examples
    --------
    >>> parse_domain("source=car")
    ('source', 'car')
    """
    if domain is None:
        return None
    if isinstance(domain, Mapping):
        if len(domain) != 1:
            raise ValueError(f"The 'domain' parameter must name one column. Got {dict(domain)!r}.")
        return tuple(map(str, next(iter(domain.items()))))  # type: ignore[return-value]
    if isinstance(domain, (tuple, list)) and len(domain) == 2:
        return str(domain[0]), str(domain[1])
    if isinstance(domain, str) and "=" in domain:
        col, value = domain.split("=", 1)
        if col.strip():
            return col.strip(), value.strip()
    raise ValueError(f"The 'domain' parameter must be COLUMN=VALUE (the rows of the "
                     f"distribution you care about), e.g. 'source=car'. Got {domain!r}.")


def parse_hidden(hidden: str | int | Sequence[int] | None) -> tuple[int, ...] | None:
    """``"256,128"`` or ``(256, 128)`` -> ``(256, 128)``.

    Examples
    --------
    >>> parse_hidden("256,128")
    (256, 128)
    """
    if hidden is None:
        return None
    parts = re.split(r"[,\s]+", hidden.strip()) if isinstance(hidden, str) else \
        ([hidden] if isinstance(hidden, (int, np.integer)) else list(hidden))
    try:
        sizes = tuple(int(p) for p in parts if str(p) != "")
    except (TypeError, ValueError):
        sizes = ()
    if not sizes or any(h < 1 for h in sizes):
        raise ValueError(f"The 'hidden' parameter must list positive layer sizes such as "
                         f"256,128. Got {hidden!r}.")
    return sizes


def _check_options(task, human_error, l2, dropout, max_categories, models, n_review) -> None:
    if task is not None and task not in ("classification", "regression"):
        raise ValueError(f"The 'task' parameter must be 'classification' or 'regression'. "
                         f"Got {task!r}.")
    if human_error is not None:
        if not isinstance(human_error, (int, float)) or not 0 <= float(human_error) <= 1:
            hint = f" (did you mean {human_error / 100:g}?)" \
                if isinstance(human_error, (int, float)) and 1 < human_error <= 100 else ""
            raise ValueError(f"The 'human_error' parameter must be a rate in [0, 1]{hint}. "
                             f"Got {human_error!r}.")
    if l2 is not None and (not isinstance(l2, (int, float)) or l2 < 0):
        raise ValueError(f"The 'l2' parameter must be a float >= 0. Got {l2!r}.")
    if dropout is not None and (not isinstance(dropout, (int, float)) or not 0 <= dropout < 1):
        raise ValueError(f"The 'dropout' parameter must be in [0, 1). Got {dropout!r}.")
    if not isinstance(max_categories, int) or max_categories < 2:
        raise ValueError(f"The 'max_categories' parameter must be an int >= 2. "
                         f"Got {max_categories!r}.")
    if n_review is not None and (not isinstance(n_review, int) or n_review < 1):
        raise ValueError(f"The 'n_review' parameter must be an int >= 1 or None (every dev "
                         f"error). Got {n_review!r}.")
    for spec in models or ():
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"The 'models' parameter must hold ModelSpec objects. "
                            f"Got {type(spec).__name__}.")


def _load(data: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise ValueError("The DataFrame is empty: no rows to learn from.")
        frame = data.copy()
        frame.columns = [str(c) for c in frame.columns]
        return frame, "DataFrame"
    if isinstance(data, (str, Path)):
        return read_table(data), str(data)
    raise TypeError(f"The 'data' parameter must be a file path or a DataFrame. "
                    f"Got {type(data).__name__}.")


def infer_task(target: pd.Series) -> str:
    """'regression' for a numeric target with many distinct or fractional values.

    Examples
    --------
    >>> infer_task(pd.Series([0, 1, 1, 0]))
    'classification'
    >>> infer_task(pd.Series([0.5, 1.25, 3.0]))
    'regression'
    """
    values = target.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "classification"
    arr = values.to_numpy(dtype=float)
    n_unique = int(values.nunique())
    if not np.all(np.mod(arr, 1) == 0):
        return "regression"
    return "regression" if n_unique > max(MAX_CLASSES, 0.05 * len(values)) else "classification"


def _target(frame: pd.DataFrame, target: str, task: str | None):
    check_column(frame, target, "target")
    s = frame[target]
    if s.isna().all():
        raise ValueError(f"The target column {target!r} is entirely missing ({len(s):,} empty "
                         "values): nothing to learn from. Choose another --target.")
    keep = s.notna().to_numpy()
    s = s[keep]
    task = task or infer_task(s)
    if task == "regression":
        y = pd.to_numeric(s, errors="coerce")
        if y.isna().any():
            bad = s[y.isna()].iloc[0]
            raise ValueError(f"The target column {target!r} holds non-numeric values "
                             f"(e.g. {bad!r}) but the task is regression. Use "
                             "--task classification or clean the column.")
        return frame[keep].copy(), y.to_numpy(dtype=float), task, int((~keep).sum())
    values = s.to_numpy()
    if pd.api.types.is_float_dtype(s) and np.all(np.mod(values.astype(float), 1) == 0):
        values = values.astype(np.int64)
    elif not (pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s)):
        values = s.astype(str).to_numpy(dtype=object)
    classes = pd.unique(values)
    if len(classes) < 2:
        raise ValueError(f"The target column {target!r} has a single class "
                         f"({_plain(classes[0])!r} in all {len(values):,} rows with a "
                         "target): a classifier needs at least two. Check the column or "
                         "the file.")
    return frame[keep].copy(), values, task, int((~keep).sum())


def _domain_mask(frame: pd.DataFrame, domain: tuple[str, str] | None) -> np.ndarray | None:
    if domain is None:
        return None
    col, value = domain
    check_column(frame, col, "--domain")
    s = frame[col]
    mask = (s.astype(str).str.strip() == value).to_numpy()
    if pd.api.types.is_numeric_dtype(s) and not mask.any():
        try:
            mask = (s == float(value)).to_numpy()
        except ValueError:
            pass
    if not mask.any():
        seen = ", ".join(repr(_plain(v)) for v in pd.unique(s.dropna())[:10])
        raise ValueError(f"The domain value {value!r} matches no row of column {col!r}. "
                         f"Values in that column include: {seen}.")
    return mask


def _groups(frame: pd.DataFrame, group: str | None) -> np.ndarray | None:
    if group is None:
        return None
    check_column(frame, group, "--group")
    s = frame[group].astype(object)
    filler = pd.Series([f"(row {i})" for i in range(len(s))], index=s.index, dtype=object)
    return s.where(s.notna(), filler).astype(str).to_numpy()


def _example_ids(frame: pd.DataFrame, plan: ColumnPlan, group: str | None) -> np.ndarray:
    """Ids that survive a re-run: a unique identifier column if there is one, else
    the row label (the row number of a file)."""
    for col in plan.names("id"):
        s = frame[col]
        if col != group and s.notna().all() and s.is_unique:
            return s.astype(str).to_numpy(dtype=object)
    ids = np.asarray([str(i) for i in frame.index], dtype=object)
    if len(set(ids.tolist())) < len(ids):  # a DataFrame with a repeated index
        ids = np.asarray([str(i) for i in range(len(frame))], dtype=object)
    return ids


def _reserved(domain: tuple[str, str] | None, group: str | None) -> dict[str, tuple[str, str]]:
    out = {}
    if domain is not None:
        out[domain[0]] = ("drop", "names the distribution (--domain): used to choose dev/test "
                                  "rows, not as a feature")
    if group is not None:
        out[group] = ("id", "groups for the splits (--group): kept out of the features")
    return out


def _prepare(data, target, task, domain, group, roles, drop, max_categories) -> _Inputs:
    frame, source = _load(data)
    target, group = str(target), None if group is None else str(group)
    frame, y, task, n_without = _target(frame, target, task)
    dom = parse_domain(domain)
    mask = _domain_mask(frame, dom)
    groups = _groups(frame, group)
    plan = infer_roles(frame, target=target, roles=roles, drop=drop,
                       reserved=_reserved(dom, group), max_categories=max_categories)
    if not plan.features:
        raise ValueError("No column can be used as a feature: every column was left out "
                         "(see the reasons with --role overrides in mind):\n" + str(plan))
    ids = _example_ids(frame, plan, group)
    return _Inputs(frame, source, target, task, y, n_without, mask,
                   None if dom is None else f"{dom[0]}={dom[1]}", groups, plan, ids,
                   None if dom is None else dom[0], group)


# =========================================================================== splits
def _make_splits(inp: _Inputs, random_state: int) -> dict[str, np.ndarray]:
    n = len(inp.frame)
    try:
        idx = make_splits(n, stratify=inp.y if inp.task == "classification" else None,
                          groups=inp.groups, domain=inp.domain_mask, train_dev=True,
                          random_state=random_state)
    except ValueError as exc:
        raise ValueError(f"Cannot split {n:,} rows into train, train-dev, dev and test: "
                         f"{exc}") from exc
    sizes = {s: len(idx.get(s, ())) for s in SPLITS}
    small = [s for s in ("train_dev", "dev", "test") if sizes[s] < MIN_SPLIT_ROWS]
    if small or sizes["train"] < MIN_SPLIT_ROWS:
        raise ValueError(f"Too few rows: {n:,} rows give " + ", ".join(
            f"{k} {v}" for k, v in sizes.items()) + f"; each split needs at least "
            f"{MIN_SPLIT_ROWS}. Give more data (about {8 * MIN_SPLIT_ROWS} rows or more).")
    if inp.task == "classification" and len(pd.unique(inp.y[idx["train"]])) < 2:
        raise ValueError("The training split holds a single class: too few examples of the "
                         "other classes. Give more data.")
    return idx


def _split_rule(inp: _Inputs) -> str:
    n = len(inp.frame)
    if inp.domain_mask is not None:
        return (f"mismatched distributions: {int(inp.domain_mask.sum()):,} rows match "
                f"{inp.domain_label}")
    return "60/20/20 with train-dev" if n < 10_000 else "big data: dev/test capped"


# =========================================================================== evaluation
def _predictions(model: FittedModel, X: np.ndarray, y: np.ndarray, ids: np.ndarray,
                 task: str) -> pd.DataFrame:
    est = model.estimator
    frame = pd.DataFrame({"id": ids, "y_true": y, "y_pred": np.asarray(est.predict(X))})
    if task == "classification" and hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X))
        for j, cls in enumerate(est.classes_):
            frame[f"proba_{_plain(cls)}"] = proba[:, j]
    return frame


def _errors(task: str, frame: pd.DataFrame, y_var: float) -> float:
    if task == "classification":
        return float(np.mean(frame["y_true"].to_numpy() != frame["y_pred"].to_numpy()))
    return float(min(1.0, mse(frame["y_true"], frame["y_pred"]) / y_var))


def _split_metrics(task: str, metric: str, frame: pd.DataFrame, classes, pos) -> dict:
    names = [metric] + (["error", "accuracy"] if task == "classification"
                        else ["mse", "rmse", "mae", "r2"])
    return {m: score(task, m, frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(),
                     classes=classes, pos_label=pos) for m in dict.fromkeys(names)}


def _diagnose(task: str, scored: _Scored, human_error, y_var: float) -> Diagnosis:
    errors, preds = scored.errors, scored.preds
    if task == "regression":  # relative MSEs are not counts: Welch intervals instead
        squared = {s: (p["y_true"].to_numpy(float) - p["y_pred"].to_numpy(float)) ** 2
                   for s, p in preds.items()}
        return diagnose_regression(squared, y_var, human_error)
    given = {s: errors[s] for s in ("train_dev", "dev", "test") if s in errors}
    return diagnose(human_error, errors["train"], sizes=scored.sizes, **given)


# =========================================================================== store
def _previous_best(project: Project) -> tuple[int | None, int]:
    """The chosen run of the latest baseline iteration, and that iteration's number."""
    ids = project.runs()["id"].tolist()
    for rid in reversed(ids):
        info = project.get_run(int(rid)).config.get("baseline") or {}
        if info.get("chosen"):
            return int(rid), int(info.get("iteration", 0))
    return None, 0


def _feature_frame(inp: _Inputs, feats: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Metadata for error slices: the model's features as coerced (dates as text),
    plus the domain and group columns."""
    part = feats.iloc[rows].copy()
    for col in part.columns:
        if pd.api.types.is_datetime64_any_dtype(part[col]):
            part[col] = part[col].dt.strftime("%Y-%m-%d")
    extra = [c for c in (inp.domain_column, inp.group_column) if c and c not in part.columns]
    for col in extra:
        part[col] = inp.frame[col].iloc[rows].to_numpy()
    part.insert(0, "id", inp.ids[rows])
    return part.reset_index(drop=True)


def _plain(value):
    return value.item() if hasattr(value, "item") else value


# =========================================================================== entry point
def baseline(
    data: str | Path | pd.DataFrame,
    target: str,
    *,
    task: Literal["classification", "regression"] | None = None,
    domain: str | tuple[str, Any] | Mapping[str, Any] | None = None,
    group: str | None = None,
    human_error: float | None = None,
    metric: str | None = None,
    project: str | Path | Project | None = None,
    hidden: str | Sequence[int] | None = None,
    l2: float | None = None,
    dropout: float | None = None,
    drop: Iterable[str] = (),
    roles: Mapping[str, str] | None = None,
    max_categories: int = 20,
    models: Sequence[ModelSpec] | None = None,
    max_epochs: int = 100,
    patience: int = 8,
    learning_rate: float = 3e-3,
    batch_size: int = 128,
    random_state: int = 0,
    n_review: int | None = 100,
    progress: Callable[[ProgressEvent], None] | bool | None = None,
    blas_threads: int | None = 1,
) -> BaselineResult:
    """From a data file to baselines, a diagnosis and an error-analysis session.

    Reads the data, infers each column's role, splits train / train-dev /
    dev / test (``mlstrat.splits``), fits a preprocessing pipeline on the
    training split, trains baselines of growing capacity (trivial, linear,
    small and medium networks, each network stopping early on dev), records
    each as a run in the project store, diagnoses the best under ``metric``,
    opens an error-analysis session on its dev errors, and compares it with
    the best of the previous iteration in the same project.

    Parameters
    ----------
    data : str, Path or DataFrame
        A CSV, TSV, Parquet or XLSX file, or a DataFrame.
    target : str
        The column to predict.
    task : {'classification', 'regression'}, optional
        Inferred from the target when omitted.
    domain : str, optional
        ``"COLUMN=VALUE"``: the rows of the distribution you care about. Dev and
        test come only from them; the rest of them may go to training.
    group : str, optional
        A column whose groups (patient, speaker) never span two splits.
    human_error : float, optional
        Human-level error, the proxy for Bayes error in the diagnosis (for
        regression, in the ladder's unit: MSE / variance of the target).
    metric : str, optional
        The single number that picks the best model on dev: for classification
        one of ``mlstrat.metrics.METRICS`` (default 'error'); for regression
        'mse' (default), 'rmse', 'mae' or 'r2'.
    project : str, Path or Project, optional
        The project store (default: ``mlstrat_project`` in the working folder).
    hidden : str or sequence of int, optional
        One network of this shape (``"256,128"``) instead of the small and
        medium networks.
    l2, dropout : float, optional
        Regularisation of the networks (the course's lambda; drop probability).
    drop : iterable of str
        Columns to leave out.
    roles : dict of str to str, optional
        Role overrides, column -> one of ``ROLES``.
    max_categories : int, default=20
        One-hot columns per categorical column; rarer categories are grouped.
    models : sequence of ModelSpec, optional
        The rungs to train (default: :func:`ladder` from hidden/l2/dropout).
    max_epochs, patience, learning_rate, batch_size : training settings
    random_state : int, default=0
        Seeds the splits and the training; the same seed on the same data
        gives the same dev examples, which the comparison needs.
    n_review : int or None, default=100
        Dev errors sampled for manual review in the error session.
    progress : callable, bool or None
        Called with a :class:`ProgressEvent` at every stage (and epoch);
        ``True`` prints stage lines to stderr.
    blas_threads : int or None, default=1
        BLAS threads while the workflow runs (``None``: leave as is). Mini-batch
        products are small: on a shared machine one thread was 10x faster
        than two (OpenBLAS threads spin waiting for a busy core).

    Returns
    -------
    BaselineResult

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_breast_cancer
    >>> frame = load_breast_cancer(as_frame=True).frame
    >>> result = baseline(frame, "target", project=tempfile.mkdtemp(), max_epochs=5)
    >>> [m.kind for m in result.models]
    ['trivial', 'linear', 'network', 'network']
    >>> result.best.run_id in result.runs
    True
    >>> result.diagnosis.rates["dev"] == result.best.errors["dev"]
    True
    """
    if blas_threads is None:
        return _baseline(**locals())
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _baseline(**locals())


def _baseline(data, target, *, task, domain, group, human_error, metric, project, hidden, l2,
              dropout, drop, roles, max_categories, models, max_epochs, patience,
              learning_rate, batch_size, random_state, n_review, progress,
              blas_threads) -> BaselineResult:
    _check_options(task, human_error, l2, dropout, max_categories, models, n_review)
    specs = list(models) if models is not None else ladder(parse_hidden(hidden), l2, dropout)
    settings = TrainSettings(max_epochs=max_epochs, patience=patience,
                             learning_rate=learning_rate, batch_size=batch_size,
                             random_state=random_state)
    rep = Reporter(StageLines() if progress is True else (progress or None),
                   total=8 + len(specs))
    notes: list[str] = []
    # nothing is written to the project until every check below has passed
    rep.begin("read", "read", "reading " + ("the DataFrame" if isinstance(data, pd.DataFrame)
                                            else str(data)))
    inp = _prepare(data, target, task, domain, group, roles, drop, max_categories)
    metric = check_metric(inp.task, metric)
    rep.begin("splits", "splits", f"splitting {len(inp.frame):,} rows")
    d = _split_and_preprocess(rep, inp, random_state, notes)
    fitted = _train(rep, specs, settings, d, notes)
    rep.begin("evaluate", "evaluate", "predicting every split")
    scored = [_score(model, d, metric) for model in fitted]
    chosen = _choose(scored, inp.task, metric)
    rep.begin("diagnose", "diagnose", f"diagnosing {len(scored)} models")
    for entry in scored:
        entry.diagnosis = _diagnose(inp.task, entry, human_error, d.y_var)
    rep.begin("store", "store", "recording the runs in the project")
    proj = project if isinstance(project, Project) else \
        open_project("mlstrat_project" if project is None else project)
    previous, last_iteration = _previous_best(proj)
    results = _record(proj, scored, chosen, last_iteration + 1, d, metric, settings,
                      human_error, random_state, group)
    best = results[chosen]
    notes.extend(_notes(inp, best, human_error))
    rep.begin("session", "session", "opening an error-analysis session on the dev errors")
    session, slices = _error_session(proj, d, best, n_review, random_state, notes)
    rep.begin("compare", "compare", "comparing with the previous iteration")
    comparison = None if previous is None else \
        compare_runs(proj, previous, best.run_id, metric=metric, random_state=random_state)
    if comparison is not None and _same_predictions(comparison):
        others = ", ".join(f"{m.name} {m.score:.4g}" for m in results if not m.chosen)
        notes.append(f"The best model gives the same dev predictions as the previous "
                     f"iteration's best: this change did not beat it (dev {metric} of the "
                     f"others: {others}).")
    rep.finish()
    return BaselineResult(
        project_folder=str(Path(proj.folder).resolve()), data=inp.source, target=inp.target,
        task=inp.task, metric=metric, greater_is_better=metric_registry(inp.task)[metric][1],
        iteration=last_iteration + 1, n_rows=len(inp.frame), n_without_target=inp.n_without_target,
        classes=d.classes, columns=inp.plan,
        split_sizes={s: len(d.idx[s]) for s in SPLITS}, split_rule=_split_rule(inp),
        domain=inp.domain_label, group=inp.group_column, models=results,
        diagnosis=best.diagnosis, session=session, slices=slices, comparison=comparison,
        previous_run=previous, timings=dict(rep.timings), notes=notes)


# =========================================================================== steps
@dataclass
class _Data:
    """The split, preprocessed data every step works on."""

    inp: _Inputs
    idx: dict[str, np.ndarray]
    feats: pd.DataFrame
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    ids: dict[str, np.ndarray]
    classes: list[Any] | None
    pos_label: Any
    y_var: float


@dataclass
class _Scored:
    """One trained model with its predictions, errors and metrics per split."""

    model: FittedModel
    preds: dict[str, pd.DataFrame]
    errors: dict[str, float]
    sizes: dict[str, int]
    metrics: dict[str, dict[str, float]]
    metric: str
    diagnosis: Diagnosis | None = None


def _split_and_preprocess(rep: Reporter, inp: _Inputs, random_state: int,
                          notes: list[str]) -> _Data:
    idx = _make_splits(inp, random_state)
    if inp.domain_mask is not None and inp.domain_mask.all():
        notes.append(f"Every row matches --domain {inp.domain_label}: dev and test are drawn "
                     "from all rows, as without --domain.")
    rep.begin("preprocess", "preprocess",
              f"preprocessing {len(inp.plan.features)} feature columns (fit on train)")
    feats = coerce_features(inp.frame, inp.plan)
    pre = build_preprocessor(inp.plan)
    X = {"train": np.ascontiguousarray(pre.fit_transform(feats.iloc[idx["train"]]),
                                       dtype=np.float32)}
    X.update({s: transform_float32(pre, feats.iloc[idx[s]]) for s in SPLITS[1:]})
    y = {s: inp.y[idx[s]] for s in SPLITS}
    classes, pos, y_var = None, None, 1.0
    if inp.task == "classification":
        classes = [_plain(c) for c in np.unique(y["train"])]
        pos = positive_label(np.asarray(classes, dtype=object), y["train"])
    else:
        y_var = float(np.var(y["train"])) or 1.0
    return _Data(inp, idx, feats, X, y, {s: inp.ids[idx[s]] for s in SPLITS}, classes, pos,
                 y_var)


def _train(rep: Reporter, specs: Sequence[ModelSpec], settings: TrainSettings, d: _Data,
           notes: list[str]) -> list[FittedModel]:
    X_val, y_val = _validation_set(d.inp.task, d.X, d.y, notes)
    fitted = []
    for spec in specs:
        rep.begin(f"train {spec.label}", "train", f"training {spec.label}")
        fitted.append(fit_model(
            spec, d.inp.task, settings, d.X["train"], d.y["train"], X_val, y_val,
            on_epoch=lambda e, logs, lab=spec.label: rep.epoch(
                f"  {lab}: epoch {e} val_loss={logs.get('val_loss', float('nan')):.4g}")))
    return fitted


def _score(model: FittedModel, d: _Data, metric: str) -> _Scored:
    task = d.inp.task
    preds = {s: _predictions(model, d.X[s], d.y[s], d.ids[s], task) for s in SPLITS}
    return _Scored(
        model, preds, errors={s: _errors(task, preds[s], d.y_var) for s in SPLITS},
        sizes={s: len(preds[s]) for s in SPLITS},
        metrics={s: _split_metrics(task, metric, preds[s], d.classes, d.pos_label)
                 for s in SPLITS}, metric=metric)


def _choose(scored: list[_Scored], task: str, metric: str) -> int:
    """Index of the best model on the dev metric (ties: the smaller model)."""
    selection = select_model([{"name": str(i), metric: e.metrics["dev"][metric]}
                              for i, e in enumerate(scored)], optimize=metric,
                             greater_is_better=metric_registry(task)[metric][1])
    return int(selection.chosen)


def _record(proj: Project, scored: list[_Scored], chosen: int, iteration: int, d: _Data,
            metric: str, settings: TrainSettings, human_error, random_state: int,
            group: str | None) -> list[ModelResult]:
    """Log one run per model (each its own transaction) and return their results."""
    common = {"iteration": iteration, "task": d.inp.task, "target": d.inp.target,
              "metric": metric, "data": d.inp.source, "split_seed": random_state,
              "domain": d.inp.domain_label, "group": group, "features": d.inp.plan.features,
              "roles": {c.name: c.role for c in d.inp.plan.columns},
              "n_inputs": int(d.X["train"].shape[1])}
    results = []
    for i, e in enumerate(scored):
        m = e.model
        stored = {s: e.preds[s] for s in ("train_dev", "dev", "test")}
        if e.sizes["train"] <= MAX_STORED_TRAIN:
            stored["train"] = e.preds["train"]
        config = {"baseline": {**common, "model": m.spec.label, "kind": m.spec.kind,
                               "chosen": i == chosen},
                  "model": m.spec.to_dict(), "training": settings.to_dict(),
                  "epochs": m.n_epochs, "best_epoch": m.best_epoch,
                  "seconds": round(m.seconds, 3)}
        run_id = proj.log_run(f"baseline {iteration}: {m.spec.label}", config=config,
                              errors=e.errors, sizes=e.sizes, human_error=human_error,
                              history=m.history or None, diagnosis=e.diagnosis,
                              predictions=stored, metrics=e.metrics)
        results.append(ModelResult(m.spec.label, m.spec.kind, run_id, e.errors, e.sizes,
                                   e.metrics, e.metrics["dev"][metric], m.n_epochs,
                                   m.best_epoch, m.seconds, e.diagnosis, chosen=i == chosen))
    return results


def _same_predictions(c) -> bool:
    if not c.matched:
        return False
    if c.task == "classification":
        return c.test["b"] == 0 and c.test["c"] == 0
    return c.test["change"] == 0 and c.test["low"] == c.test["high"]


def _validation_set(task: str, X: dict, y: dict, notes: list[str]):
    """Dev rows for early stopping: those whose class the training split has."""
    if task != "classification":
        return X["dev"], y["dev"]
    known = np.isin(y["dev"], np.unique(y["train"]))
    if known.all():
        return X["dev"], y["dev"]
    unseen = sorted({str(v) for v in y["dev"][~known]})
    notes.append(f"{int((~known).sum())} dev rows have classes the training split lacks "
                 f"({', '.join(unseen[:5])}): early stopping ignores them; they count as "
                 "errors.")
    return X["dev"][known], y["dev"][known]


def _notes(inp: _Inputs, best: ModelResult, human_error) -> list[str]:
    notes = []
    if inp.task == "regression":
        notes.append("Regression: the comparison between iterations is a paired t-test on "
                     "the squared errors of the same dev examples.")
    if human_error is None:
        notes.append("No --human-error given: avoidable bias is measured against 0.")
    if best.kind == "trivial":
        notes.append("The trivial predictor is the best: the features carry little signal "
                     "as preprocessed, or the networks stopped too early.")
    return notes


def _error_session(project: Project, d: _Data, best: ModelResult, n_review, random_state,
                   notes: list[str]):
    inp, dev_rows = d.inp, d.idx["dev"]
    if inp.task != "classification":
        notes.append("No error-analysis session: sessions review misclassified examples.")
        return None, None
    if best.errors["dev"] == 0:
        notes.append("No dev errors: nothing to review.")
        return None, None
    from mlstrat.errors import new_session  # imported here: it loads altair (about 2 s)

    texts = inp.plan.names("text")
    payload = inp.frame[texts[0]].iloc[dev_rows].astype(str).tolist() if texts else None
    session = new_session(project, best.run_id, name=f"dev errors of run {best.run_id} "
                          f"({best.name})", n=n_review, random_state=random_state,
                          features=_feature_frame(inp, d.feats, dev_rows), payload=payload,
                          payload_kind="text" if texts else "auto")
    return session, session.slices()


__all__ = ["ROLES", "baseline", "infer_task", "parse_domain", "parse_hidden"]
