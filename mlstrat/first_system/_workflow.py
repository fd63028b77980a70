"""Your first system, quickly: data file -> columns -> splits -> baselines -> runs
-> diagnosis -> error-analysis session -> comparison with the previous iteration.

Everything the user gives is checked before anything is written to the project:
after a ``ValueError`` the project holds exactly the runs it held before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mlstrat.diagnosis import Diagnosis, diagnose, diagnose_regression
from mlstrat.first_system._checks import (
    Check,
    check_classes,
    check_duplicates,
    check_leaks,
    first_occurrences,
    prefer_simpler,
    row_keys,
)
from mlstrat.first_system._columns import (
    ROLES,
    ColumnPlan,
    check_column,
    coerce_features,
    infer_roles,
)
from mlstrat.first_system._compare import compare_runs
from mlstrat.first_system._dataset import check_dataset, fingerprint, same_dataset
from mlstrat.first_system._metrics import check_metric, metric_registry, score
from mlstrat.first_system._models import FittedModel, ModelSpec, TrainSettings, fit_model, ladder
from mlstrat.first_system._preprocess import build_preprocessor, transform_float32
from mlstrat.first_system._progress import ProgressEvent, Reporter, StageLines
from mlstrat.first_system._read import read_table
from mlstrat.first_system._resampling import (
    EARLY_STOP_FRACTION,
    N_REPEATS,
    N_SPLITS,
    RESOLVE_HALF_WIDTH,
    RULE,
    carve_early_stopping,
    check_resampling,
    dev_half_width,
    mean_by_example,
    needs_kfold,
    repeated_folds,
)
from mlstrat.first_system._result import BaselineResult, ModelResult
from mlstrat.metrics import positive_label, select_model
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
    dataset: dict[str, Any] = field(default_factory=dict)


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


def _check_human_rate(human_error: float) -> None:
    if not 0 <= float(human_error) <= 1:
        hint = f" (did you mean {human_error / 100:g}?)" if 1 < human_error <= 100 else ""
        raise ValueError(f"The 'human_error' parameter must be a rate in [0, 1] for "
                         f"classification{hint}. Got {human_error!r}.")


def _check_options(task, human_error, l2, dropout, max_categories, models, n_review) -> None:
    if task is not None and task not in ("classification", "regression"):
        raise ValueError(f"The 'task' parameter must be 'classification' or 'regression'. "
                         f"Got {task!r}.")
    if human_error is not None:
        if isinstance(human_error, bool) or not isinstance(human_error, (int, float)) \
                or not np.isfinite(human_error) or human_error < 0:
            raise ValueError("The 'human_error' parameter must be a number >= 0 (a rate in "
                             "[0, 1] for classification, an RMSE in the target's units for "
                             f"regression). Got {human_error!r}.")
        if task == "classification":
            _check_human_rate(human_error)
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


def _prepare(data, target, task, domain, group, roles, drop, max_categories,
             name=None) -> _Inputs:
    frame, source = _load(data)
    if name is not None and isinstance(data, pd.DataFrame):
        source = name
    target, group = str(target), None if group is None else str(group)
    check_column(frame, target, "target")
    dataset = fingerprint(frame, target, path=None if isinstance(data, pd.DataFrame)
                          else data, name=name)
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
                   None if dom is None else dom[0], group, dataset)


def _check_train_dev(train_dev) -> None:
    if not (train_dev == "auto" or isinstance(train_dev, bool)):
        raise ValueError(f"The 'train_dev' parameter must be 'auto', True or False. "
                         f"Got {train_dev!r}.")


def _wants_train_dev(train_dev, inp: _Inputs) -> tuple[bool, str]:
    """Carve a train-dev set? Only when it can mean something, or when asked."""
    if train_dev is True:
        return True, "asked for (train_dev=True)"
    if train_dev is False:
        return False, "not asked for (train_dev=False)"
    mask = inp.domain_mask
    if mask is not None and not mask.all():
        return True, (f"--domain {inp.domain_label}: dev comes from those rows, so a "
                      "train-dev set (the training distribution, not trained on) tells "
                      "variance from data mismatch")
    return False, ("no --domain: train and dev come from one distribution, so no data "
                   "mismatch is expected and the dev - train gap is variance; a train-dev "
                   "set would only take rows from training (give --domain COLUMN=VALUE, "
                   "or train_dev=True, to carve one)")


# =========================================================================== splits
def _make_splits(inp: _Inputs, random_state: int, train_dev: bool) -> dict[str, np.ndarray]:
    n = len(inp.frame)
    names = "train, train-dev, dev and test" if train_dev else "train, dev and test"
    try:
        idx = make_splits(n, stratify=inp.y if inp.task == "classification" else None,
                          groups=inp.groups, domain=inp.domain_mask, train_dev=train_dev,
                          random_state=random_state)
    except ValueError as exc:
        raise ValueError(f"Cannot split {n:,} rows into {names}: {exc}") from exc
    return _check_sizes(inp, idx, train_dev)


def _check_sizes(inp: _Inputs, idx: dict[str, np.ndarray], train_dev: bool
                 ) -> dict[str, np.ndarray]:
    n = len(inp.frame)
    wanted = [s for s in SPLITS if s != "train_dev" or train_dev]
    sizes = {s: len(idx.get(s, ())) for s in wanted}
    small = [s for s in wanted[1:] if sizes[s] < MIN_SPLIT_ROWS]
    if small or sizes["train"] < MIN_SPLIT_ROWS:
        raise ValueError(f"Too few rows: {n:,} rows give " + ", ".join(
            f"{k} {v}" for k, v in sizes.items()) + f"; each split needs at least "
            f"{MIN_SPLIT_ROWS}. Give more data (about {8 * MIN_SPLIT_ROWS} rows or more).")
    if inp.task == "classification" and len(pd.unique(inp.y[idx["train"]])) < 2:
        raise ValueError("The training split holds a single class: too few examples of the "
                         "other classes. Give more data.")
    return idx


def _split_rule(inp: _Inputs, train_dev: bool) -> str:
    n = len(inp.frame)
    if inp.domain_mask is not None:
        return (f"mismatched distributions: {int(inp.domain_mask.sum()):,} rows match "
                f"{inp.domain_label}")
    rule = "60/20/20" if n < 10_000 else "big data: dev/test capped"
    return rule + (" with train-dev" if train_dev else ", no train-dev")


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


def _split_metrics(task: str, metric: str, frame: pd.DataFrame, classes, pos) -> dict:
    names = [metric] + (["error", "accuracy"] if task == "classification"
                        else ["mse", "rmse", "mae", "r2"])
    return {m: score(task, m, frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(),
                     classes=classes, pos_label=pos) for m in dict.fromkeys(names)}


def _diagnose(task: str, scored: _Scored, human_error, y_var: float) -> Diagnosis:
    errors = scored.errors
    if task == "regression":  # the ladder in the target's units, bootstrap intervals
        return diagnose_regression(dict(scored.losses), y_var, human=human_error)
    return diagnose(human_error, errors["train"], sizes=scored.sizes,
                    train_dev=errors.get("train_dev"), dev=errors.get("dev"),
                    test=errors.get("test"))


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
    resampling: Literal["auto", "split", "kfold"] = "auto",
    train_dev: Literal["auto"] | bool = "auto",
    drop_duplicates: bool = False,
    allow_new_data: bool = False,
    name: str | None = None,
) -> BaselineResult:
    """From a data file to baselines, a diagnosis and an error-analysis session.

    Reads the data, infers each column's role, splits train / train-dev /
    dev / test (``mlstrat.splits``), fits a preprocessing pipeline on the
    training rows, trains baselines of growing capacity (trivial, linear,
    small and medium networks), records each as a run in the project store,
    diagnoses the best under ``metric``, opens an error-analysis session on its
    dev errors, and compares it with the best of the previous iteration in the
    same project.

    Clean rungs: every model fits on the training split minus a random tenth
    of it (stratified for classification, whole groups with ``group``) on
    which the networks stop early; that carve is never trained on, and dev is
    never used while fitting. Dev then chooses among the models, so the chosen
    model's dev error is biased low by that choice; test, used for nothing,
    is its unbiased figure. Train-dev keeps its meaning: the training
    distribution, not trained on.

    Small data (``resampling='auto'``): when the 95% Wilson half-width of the
    chosen model's dev error at its observed rate is above 2 pt
    (``_resampling.RULE``), the rungs are re-estimated from 5-fold x 2 repeated
    out-of-fold predictions over every non-test row (stratified; no group in
    two folds; with ``domain``, the dev rung counts only domain rows and
    train-dev the other rows). Each example's error is averaged over the
    repeats, and a rung's size is its number of distinct examples. Test stays
    held out and is predicted by each model refitted on all non-test rows.

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
        regression, an RMSE in the target's units).
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
    resampling : {'auto', 'split', 'kfold'}, default='auto'
        How the rungs are measured: one train/train-dev/dev/test split, or
        repeated stratified K-fold out-of-fold predictions (test held out);
        'auto' uses K-fold only when one split cannot resolve 2 pt on dev; in a
        project with an earlier iteration, that iteration's method, so the two
        are compared on the same dev examples.
    train_dev : {'auto', True, False}, default='auto'
        Carve a train-dev set (training distribution, not trained on). 'auto':
        only with ``domain``, where dev comes from other rows than most of
        training. Without a domain, train and dev come from one distribution:
        no data mismatch is expected, the dev - train gap is variance, and a
        train-dev set would only take rows from training.
    drop_duplicates : bool, default=False
        Leave out of dev and test the rows whose features and target exactly
        repeat a training row (test: or a dev row); with K-fold, keep the first
        of repeated rows. Either way the report counts them.
    allow_new_data : bool, default=False
        Accept data with the target and columns of the project's earlier runs
        but other rows or values (a new version of the file). Another target or
        other columns is always refused: one project per dataset
        (:func:`project_for` names one).
    name : str, optional
        What to call the data (e.g. the name of an uploaded file read into the
        DataFrame): kept in the runs' fingerprint and configuration, and used by
        the report and the messages, which suggest a project named after it.
        Default: the file's name; a DataFrame has none.

    Checks before training (``result.checks``): rows repeated across splits,
    a dev set of one class (refused), a feature that alone predicts the
    target (a leak), and after training ties on dev (the simplest non-trivial
    model within noise of the best is chosen). Every refusal happens before
    anything is written; an iteration's runs are written in one transaction.

    Returns
    -------
    BaselineResult

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_breast_cancer
    >>> frame = load_breast_cancer(as_frame=True).frame
    >>> result = baseline(frame, "target", project=tempfile.mkdtemp(), max_epochs=5,
    ...                   resampling="split")
    >>> [m.kind for m in result.models]
    ['trivial', 'linear', 'network', 'network']
    >>> result.best.run_id in result.runs
    True
    >>> result.diagnosis.rates["dev"] == result.best.errors["dev"]
    True
    >>> result.resampling["method"], result.selection["n_models"]
    ('split', 4)
    """
    if blas_threads is None:
        return _baseline(**locals())
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _baseline(**locals())


def _baseline(data, target, *, task, domain, group, human_error, metric, project, hidden, l2,
              dropout, drop, roles, max_categories, models, max_epochs, patience,
              learning_rate, batch_size, random_state, n_review, progress,
              blas_threads, resampling, train_dev, drop_duplicates,
              allow_new_data, name) -> BaselineResult:
    _check_options(task, human_error, l2, dropout, max_categories, models, n_review)
    _check_train_dev(train_dev)
    resampling = check_resampling(resampling)
    specs = list(models) if models is not None else ladder(parse_hidden(hidden), l2, dropout)
    settings = TrainSettings(max_epochs=max_epochs, patience=patience,
                             learning_rate=learning_rate, batch_size=batch_size,
                             random_state=random_state)
    rep = Reporter(StageLines() if progress is True else (progress or None),
                   total=8 + len(specs) * (1 if resampling == "split" else 2))
    notes: list[str] = []
    # nothing is written to the project until every check below has passed
    rep.begin("read", "read", "reading " + (f"{name or 'the DataFrame'}" if isinstance(
        data, pd.DataFrame) else str(data)))
    inp = _prepare(data, target, task, domain, group, roles, drop, max_categories, name)
    if human_error is not None and inp.task == "classification":
        _check_human_rate(human_error)
    metric = check_metric(inp.task, metric)
    existing = _existing_project(project)
    if existing is not None:
        notes.extend(_check_project_data(existing, inp, allow_new_data))
    rep.begin("splits", "splits", f"splitting {len(inp.frame):,} rows")
    carve_td = _wants_train_dev(train_dev, inp)
    d = _split_and_preprocess(rep, inp, random_state, notes, carve_td, drop_duplicates)
    resampling, why = _as_before(existing, resampling)
    scored, plan = _measure(rep, specs, settings, d, metric, resampling, random_state, why)
    chosen, tie = prefer_simpler([e.losses["dev"] for e in scored],
                                 [e.model.spec.kind for e in scored],
                                 [e.model.spec.label for e in scored],
                                 _choose(scored, inp.task, metric), metric, d.fmt)
    d.checks.append(tie)
    rep.begin("diagnose", "diagnose", f"diagnosing {len(scored)} models")
    for entry in scored:
        entry.diagnosis = _diagnose(inp.task, entry, human_error, d.y_var)
    rep.begin("store", "store", "recording the runs in the project")
    proj = existing or (project if isinstance(project, Project) else
                        open_project("mlstrat_project" if project is None else project))
    _check_project_data(proj, inp, allow_new_data)  # again: another process may have written
    previous, last_iteration = _previous_best(proj)
    results = _record(proj, scored, chosen, last_iteration + 1, d, metric, settings,
                      human_error, random_state, group, plan)
    best = results[chosen]
    notes.extend(_notes(inp, best, human_error, carve_td) + plan.notes)
    rep.begin("session", "session", "opening an error-analysis session on the dev errors")
    session, slices = _error_session(proj, d, plan.idx["dev"], best, n_review, random_state,
                                     notes)
    rep.begin("compare", "compare", "comparing with the previous iteration")
    comparison = _compare_previous(proj, previous, best, metric, random_state, notes)
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
        split_sizes={s: len(d.idx[s]) for s in SPLITS if s in d.idx},
        split_rule=_split_rule(inp, carve_td[0]),
        domain=inp.domain_label, group=inp.group_column, models=results,
        diagnosis=best.diagnosis, session=session, slices=slices, comparison=comparison,
        previous_run=previous, timings=dict(rep.timings), notes=notes,
        resampling=plan.to_dict(), early_stopping=_early_stopping_info(d, plan),
        selection=_selection(results, best, metric, plan), checks=list(d.checks),
        train_dev={"carved": carve_td[0], "reason": carve_td[1]}, dataset=dict(inp.dataset))


def _existing_project(project) -> Project | None:
    """The project store if it already exists (nothing is created here)."""
    if isinstance(project, Project):
        return project
    path = Path("mlstrat_project" if project is None else project)
    db = path if path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file() \
        else path / "mlstrat.db"
    return open_project(path) if db.is_file() and db.stat().st_size > 0 else None


def _check_project_data(project: Project, inp: _Inputs, allow_new_data: bool) -> list[str]:
    """One project per dataset: refuse runs of other data (nothing written)."""
    runs = [project.get_run(int(i)) for i in project.runs()["id"]]
    return check_dataset(inp.dataset, runs, allow_new_data=allow_new_data,
                         project=f"project {str(project.folder)!r}")


def _compare_previous(proj: Project, previous: int | None, best: ModelResult, metric: str,
                      random_state: int, notes: list[str]):
    """The best run against the previous iteration's best, if they share data and dev rows."""
    if previous is None:
        return None
    same, why = same_dataset(proj.get_run(previous), proj.get_run(best.run_id))
    if same is False:
        notes.append(f"Not compared with the previous iteration (run {previous}): {why}")
        return None
    return compare_runs(proj, previous, best.run_id, metric=metric, random_state=random_state)


# =========================================================================== steps
@dataclass
class _Data:
    """The split, preprocessed data every step works on.

    ``idx['train']`` holds the rows the models fit on; ``carve`` the training
    rows kept out of fitting for early stopping (``X_stop``, ``y_stop``).
    """

    inp: _Inputs
    idx: dict[str, np.ndarray]
    feats: pd.DataFrame
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    ids: dict[str, np.ndarray]
    classes: list[Any] | None
    pos_label: Any
    y_var: float
    carve: np.ndarray
    X_stop: np.ndarray | None
    y_stop: np.ndarray | None
    keys: np.ndarray | None = None
    train_dev: bool = True
    drop_duplicates: bool = False
    checks: list[Check] = field(default_factory=list)

    def fmt(self, x: float) -> str:
        """A dev loss as shown: a percentage, or an MSE in squared target units."""
        return f"{100 * x:.2f}%" if self.inp.task == "classification" else f"MSE {x:.4g}"


@dataclass
class _Scored:
    """One trained model with its predictions, errors and metrics per split.

    ``losses`` holds, per rung and per distinct example, the error (0/1, or
    its mean over K-fold repeats) or the squared error (regression).
    """

    model: FittedModel
    preds: dict[str, pd.DataFrame]
    errors: dict[str, float]
    sizes: dict[str, int]
    metrics: dict[str, dict[str, float]]
    metric: str
    losses: dict[str, np.ndarray]
    diagnosis: Diagnosis | None = None


@dataclass
class _Plan:
    """How the rungs were measured, and the rows behind each rung."""

    method: str
    reason: str
    idx: dict[str, np.ndarray]
    split_half_width: float | None = None
    n_splits: int | None = None
    n_repeats: int | None = None
    n_fits: int = 1
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "reason": self.reason, "rule": RULE,
                "threshold": RESOLVE_HALF_WIDTH, "split_dev_half_width": self.split_half_width,
                "n_splits": self.n_splits, "n_repeats": self.n_repeats, "n_fits": self.n_fits,
                "rung_sizes": {s: int(len(v)) for s, v in self.idx.items()}}


def _split_and_preprocess(rep: Reporter, inp: _Inputs, random_state: int,
                          notes: list[str], carve_td: tuple[bool, str],
                          drop_duplicates: bool) -> _Data:
    idx = _make_splits(inp, random_state, carve_td[0])
    if inp.domain_mask is not None and inp.domain_mask.all():
        notes.append(f"Every row matches --domain {inp.domain_label}: dev and test are drawn "
                     "from all rows, as without --domain.")
    keys, checks = _check_data(inp, idx, drop_duplicates, random_state)
    idx["train"], carve = _carve(inp, idx["train"], random_state)
    rep.begin("preprocess", "preprocess",
              f"preprocessing {len(inp.plan.features)} feature columns (fit on train)")
    feats = coerce_features(inp.frame, inp.plan)
    pre = build_preprocessor(inp.plan)
    X = {"train": np.ascontiguousarray(pre.fit_transform(feats.iloc[idx["train"]]),
                                       dtype=np.float32)}
    X.update({s: transform_float32(pre, feats.iloc[idx[s]]) for s in SPLITS[1:] if s in idx})
    y = {s: inp.y[idx[s]] for s in SPLITS if s in idx}
    classes, pos, y_var = None, None, 1.0
    if inp.task == "classification":
        classes = [_plain(c) for c in np.unique(y["train"])]
        pos = positive_label(np.asarray(classes, dtype=object), y["train"])
        _note_unseen_dev_classes(y, notes)
    else:
        y_var = float(np.var(y["train"])) or 1.0
    X_stop = transform_float32(pre, feats.iloc[carve]) if carve.size else None
    return _Data(inp, idx, feats, X, y, {s: inp.ids[idx[s]] for s in y}, classes, pos,
                 y_var, carve, X_stop, inp.y[carve] if carve.size else None, keys,
                 carve_td[0], drop_duplicates, checks)


def _check_data(inp: _Inputs, idx: dict[str, np.ndarray], drop_duplicates: bool,
                random_state: int) -> tuple[np.ndarray, list[Check]]:
    """Repeated rows across splits (dropped from dev/test if asked), the classes of
    dev and test, and single-feature leaks; refusals raise before any write."""
    keys = row_keys(inp.frame, [*inp.plan.features, inp.target])
    dup, repeated = check_duplicates(keys, idx)
    checks = [dup]
    if drop_duplicates and any(v.size for v in repeated.values()):
        for split, rows in repeated.items():
            idx[split] = np.setdiff1d(idx[split], rows)
        _check_sizes(inp, idx, "train_dev" in idx)
        checks.append(Check("duplicates", "Left out (drop_duplicates=True): " + ", ".join(
            f"{v.size:,} {s} rows" for s, v in repeated.items() if v.size) + ".", "info"))
    if inp.task == "classification":
        checks.extend(check_classes(inp.y, idx, inp.domain_label))
    feats = coerce_features(inp.frame, inp.plan)
    roles = {c.name: c.role for c in inp.plan.columns}
    train_side = np.concatenate([idx[s] for s in ("train", "train_dev") if s in idx])
    checks.extend(check_leaks(feats, roles, inp.y, {"train": train_side, "dev": idx["dev"]},
                              inp.task, random_state))
    return keys, checks


def _carve(inp: _Inputs, rows: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` -> (rows to fit on, rows to stop early on), as row indices."""
    fit, carve = carve_early_stopping(
        inp.y[rows], groups=None if inp.groups is None else inp.groups[rows],
        stratify=inp.task == "classification", random_state=seed)
    return rows[fit], rows[carve]


def _note_unseen_dev_classes(y: dict, notes: list[str]) -> None:
    known = np.isin(y["dev"], np.unique(y["train"]))
    if not known.all():
        unseen = sorted({str(v) for v in y["dev"][~known]})
        notes.append(f"{int((~known).sum())} dev rows have classes the training split lacks "
                     f"({', '.join(unseen[:5])}): no model can predict them; they count as "
                     "errors.")


def _train(rep: Reporter, specs: Sequence[ModelSpec], settings: TrainSettings,
           d: _Data) -> list[FittedModel]:
    """Fit every rung on the training rows; networks stop early on the carve."""
    fitted = []
    for spec in specs:
        rep.begin(f"train {spec.label}", "train", f"training {spec.label}")
        fitted.append(fit_model(spec, d.inp.task, settings, d.X["train"], d.y["train"],
                                d.X_stop, d.y_stop, on_epoch=_epoch_printer(rep, spec)))
    return fitted


def _epoch_printer(rep: Reporter, spec: ModelSpec):
    return lambda e, logs: rep.epoch(
        f"  {spec.label}: epoch {e} val_loss={logs.get('val_loss', float('nan')):.4g}")


def _loss(task: str, frame: pd.DataFrame) -> np.ndarray:
    """Per example: 1.0 for an error (classification), else the squared error."""
    if task == "classification":
        return (frame["y_true"].to_numpy() != frame["y_pred"].to_numpy()).astype(float)
    return (frame["y_true"].to_numpy(float) - frame["y_pred"].to_numpy(float)) ** 2


def _rate(task: str, loss: np.ndarray, y_var: float) -> float:
    """The rung: the error rate, or the RMSE in the target's units (never capped)."""
    mean = float(np.mean(loss))
    return mean if task == "classification" else float(np.sqrt(mean))


def _score(model: FittedModel, d: _Data, metric: str) -> _Scored:
    task = d.inp.task
    splits = [s for s in SPLITS if s in d.X]
    preds = {s: _predictions(model, d.X[s], d.y[s], d.ids[s], task) for s in splits}
    losses = {s: _loss(task, preds[s]) for s in splits}
    return _Scored(
        model, preds, errors={s: _rate(task, losses[s], d.y_var) for s in splits},
        sizes={s: len(preds[s]) for s in splits},
        metrics={s: _split_metrics(task, metric, preds[s], d.classes, d.pos_label)
                 for s in splits}, metric=metric, losses=losses)


def _choose(scored: list[_Scored], task: str, metric: str) -> int:
    """Index of the best model on the dev metric (ties: the smaller model)."""
    selection = select_model([{"name": str(i), metric: e.metrics["dev"][metric]}
                              for i, e in enumerate(scored)], optimize=metric,
                             greater_is_better=metric_registry(task)[metric][1])
    if selection.chosen is None:  # no constraints: only when no dev value is finite
        values = {e.model.spec.label: e.metrics["dev"][metric] for e in scored}
        raise ValueError(f"No model has a finite dev {metric}: {values}. Training diverged; "
                         "check the data for extreme values or lower the learning rate.")
    return int(selection.chosen)


# =========================================================================== one split or K-fold
def _as_before(project: Project | None, resampling: str) -> tuple[str, str | None]:
    """'auto' in a project with an earlier iteration: that iteration's method, so the
    two compare on the same dev examples (the small-data rule would otherwise switch
    from K-fold to one split as soon as the error falls, and nothing would pair)."""
    if resampling != "auto" or project is None:
        return resampling, None
    previous, iteration = _previous_best(project)
    if previous is None:
        return resampling, None
    info = project.get_run(previous).config.get("baseline") or {}
    method = (info.get("resampling") or {}).get("method")
    if method not in ("split", "kfold"):
        return resampling, None
    other = "split" if method == "kfold" else "kfold"
    return method, (f"as iteration {iteration}, so the two iterations are compared on the "
                    f"same dev examples (resampling='{other}' to change it)")


def _measure(rep: Reporter, specs: Sequence[ModelSpec], settings: TrainSettings, d: _Data,
             metric: str, resampling: str, random_state: int,
             why: str | None = None) -> tuple[list[_Scored], _Plan]:
    """Train and score every rung on one split, or (small data) by repeated K-fold."""
    if resampling == "kfold":
        return _kfold(rep, specs, settings, d, metric, random_state,
                      why or "asked for (resampling='kfold')", None)
    fitted = _train(rep, specs, settings, d)
    rep.begin("evaluate", "evaluate", "predicting every split")
    scored = [_score(model, d, metric) for model in fitted]
    best = scored[_choose(scored, d.inp.task, metric)]
    half = dev_half_width(d.inp.task, _relative(d, best.losses["dev"]))
    n_dev = len(d.idx["dev"])
    if resampling == "split" or not needs_kfold(half):
        why = why or ("asked for (resampling='split')" if resampling == "split" else
                      f"the dev set of {n_dev:,} rows resolves +-{100 * half:.1f} pt at 95% "
                      f"(<= {100 * RESOLVE_HALF_WIDTH:g} pt)")
        return scored, _Plan("split", why, {s: d.idx[s] for s in SPLITS if s in d.idx}, half)
    why = (f"small data: the dev set of {n_dev:,} rows resolves only +-{100 * half:.1f} pt at "
           f"95% (> {100 * RESOLVE_HALF_WIDTH:g} pt)")
    return _kfold(rep, specs, settings, d, metric, random_state, why, half)


def _relative(d: _Data, loss: np.ndarray) -> np.ndarray:
    return loss if d.inp.task == "classification" else loss / d.y_var


@dataclass
class _Fit:
    """One K-fold fit: rows trained on, rows it stops early on, rows it predicts."""

    repeat: int
    fit: np.ndarray
    carve: np.ndarray
    held: np.ndarray


def _kfold(rep: Reporter, specs: Sequence[ModelSpec], settings: TrainSettings, d: _Data,
           metric: str, random_state: int, reason: str, half: float | None
           ) -> tuple[list[_Scored], _Plan]:
    inp = d.inp
    pool = np.sort(np.concatenate([d.idx["train"], d.carve, d.idx.get("train_dev", d.carve[:0]),
                                   d.idx["dev"]])).astype(np.intp)
    pool = _pool_duplicates(d, pool)
    fits = _fold_fits(inp, pool, random_state)
    fit, carve = _carve(inp, pool, random_state)
    fits.append(_Fit(-1, fit, carve, d.idx["test"]))  # the model kept: all non-test rows
    idx, notes = _kfold_rows(inp, pool, d.idx["test"], d.train_dev)
    scored = []
    for spec in specs:
        rep.begin(f"kfold {spec.label}", "train",
                  f"{len(fits) - 1} out-of-fold fits + 1 on all non-test rows: {spec.label}")
        scored.append(_kfold_one(rep, spec, settings, d, fits, idx, metric))
    n_repeats = 1 + max(f.repeat for f in fits)
    plan = _Plan("kfold", reason, idx, half, (len(fits) - 1) // n_repeats, n_repeats,
                 len(fits), notes)
    return scored, plan


def _pool_duplicates(d: _Data, pool: np.ndarray) -> np.ndarray:
    """K-fold pools every non-test row: repeated rows may land in two folds."""
    if d.keys is None:
        return pool
    kept = first_occurrences(d.keys, pool)
    n = pool.size - kept.size
    if n == 0:
        d.checks.append(Check("duplicates", "K-fold: no row of the non-test pool repeats "
                              "another one.", "ok"))
        return pool
    if d.drop_duplicates:
        d.checks.append(Check("duplicates", f"K-fold: {n:,} repeated rows of the non-test "
                              "pool left out (drop_duplicates=True; the first of each kept).",
                              "info"))
        return kept
    d.checks.append(Check("duplicates", f"K-fold: {n:,} rows of the non-test pool repeat "
                          "another row exactly; a copy in another fold makes the out-of-fold "
                          "rungs read low. Pass drop_duplicates=True (--drop-duplicates) to "
                          "keep one of each.", "warning"))
    return pool


def _fold_fits(inp: _Inputs, pool: np.ndarray, random_state: int) -> list[_Fit]:
    groups = None if inp.groups is None else inp.groups[pool]
    folds = repeated_folds(inp.y[pool], groups=groups, stratify=inp.task == "classification",
                           n_splits=N_SPLITS, n_repeats=N_REPEATS, random_state=random_state)
    fits = []
    for r, parts in enumerate(folds):
        for j, held in enumerate(parts):
            rest = np.setdiff1d(np.arange(len(pool)), held)
            fit, carve = _carve(inp, pool[rest], random_state + 100 * (r + 1) + j)
            fits.append(_Fit(r, fit, carve, pool[held]))
    return fits


def _kfold_rows(inp: _Inputs, pool: np.ndarray, test: np.ndarray, train_dev: bool):
    """Rows behind each K-fold rung; with a domain, dev only from domain rows."""
    mask = inp.domain_mask
    if mask is None or mask.all():
        if not train_dev:
            return {"train": pool, "dev": pool, "test": test}, [
                "K-fold without --domain: every non-test row comes from the training "
                "distribution, so dev is the out-of-fold rung of the training distribution "
                "and no train-dev rung is kept."]
        notes = ["K-fold without --domain: every non-test row comes from the training "
                 "distribution, so train-dev and dev are the same out-of-fold rung (the "
                 "training distribution, not trained on); no data mismatch can be measured."]
        return {"train": pool, "train_dev": pool, "dev": pool, "test": test}, notes
    idx = {"train": pool, "train_dev": pool[~mask[pool]], "dev": pool[mask[pool]],
           "test": test}
    if idx["train_dev"].size == 0 or not train_dev:
        del idx["train_dev"]
    notes = [f"K-fold with --domain {inp.domain_label}: training folds hold both kinds of "
             "rows; the dev rung counts only the out-of-fold predictions of domain rows, "
             "train-dev those of the other rows."]
    return idx, notes


def _fit_on(spec: ModelSpec, settings: TrainSettings, d: _Data, fit: _Fit, rep: Reporter):
    """Preprocess on the fit rows, train, and return the model with X of fit and held rows."""
    task, y = d.inp.task, d.inp.y
    pre = build_preprocessor(d.inp.plan)
    X_fit = np.ascontiguousarray(pre.fit_transform(d.feats.iloc[fit.fit]), dtype=np.float32)
    X_stop = transform_float32(pre, d.feats.iloc[fit.carve]) if fit.carve.size else None
    model = fit_model(spec, task, settings, X_fit, y[fit.fit], X_stop,
                      y[fit.carve] if fit.carve.size else None,
                      on_epoch=_epoch_printer(rep, spec))
    return model, X_fit, transform_float32(pre, d.feats.iloc[fit.held])


def _rows_frame(model: FittedModel, X: np.ndarray, d: _Data, rows: np.ndarray) -> pd.DataFrame:
    frame = _predictions(model, X, d.inp.y[rows], d.inp.ids[rows], d.inp.task)
    frame.insert(0, "row", rows)
    return frame


def _kfold_one(rep: Reporter, spec: ModelSpec, settings: TrainSettings, d: _Data,
               fits: list[_Fit], idx: dict[str, np.ndarray], metric: str) -> _Scored:
    n = len(d.inp.frame)
    held: dict[int, list[pd.DataFrame]] = {}
    own: list[pd.DataFrame] = []
    seconds = 0.0
    for fit in fits:
        model, X_fit, X_held = _fit_on(spec, settings, d, fit, rep)
        seconds += model.seconds
        held.setdefault(fit.repeat, []).append(_rows_frame(model, X_held, d, fit.held))
        if fit.repeat >= 0:
            own.append(_rows_frame(model, X_fit, d, fit.fit))
    test = held.pop(-1)[0]
    oof = {r: _with_all_proba(pd.concat(f).sort_values("row")) for r, f in held.items()}
    return _kfold_scored(replace(model, seconds=seconds), d, oof, own, test, idx, metric, n)


def _with_all_proba(frame: pd.DataFrame) -> pd.DataFrame:
    """Folds whose model never saw a class leave its probability empty: 0."""
    cols = [c for c in frame.columns if str(c).startswith("proba_")]
    frame[cols] = frame[cols].fillna(0.0)
    return frame.reset_index(drop=True)


def _kfold_scored(model: FittedModel, d: _Data, oof: dict[int, pd.DataFrame],
                  own: list[pd.DataFrame], test: pd.DataFrame, idx: dict[str, np.ndarray],
                  metric: str, n: int) -> _Scored:
    """Rungs from per-example losses averaged over repeats (train: over the fits
    that trained on the example); metrics averaged over repeats (train: fits)."""
    task = d.inp.task
    per_row = {"train": mean_by_example(n, [f["row"].to_numpy() for f in own],
                                        [_loss(task, f) for f in own]),
               "held": mean_by_example(n, [f["row"].to_numpy() for f in oof.values()],
                                       [_loss(task, f) for f in oof.values()])}
    losses = {"train": per_row["train"][idx["train"]], "test": _loss(task, test)}
    preds, metrics = {"test": test.drop(columns="row")}, {}
    metrics["train"] = _mean_metrics([_metrics_of(d, metric, f) for f in own])
    for split in ("train_dev", "dev"):
        if split in idx:
            losses[split] = per_row["held"][idx[split]]
            parts = [f[f["row"].isin(idx[split])] for f in oof.values()]
            metrics[split] = _mean_metrics([_metrics_of(d, metric, p) for p in parts])
            preds[split] = parts[0].drop(columns="row").reset_index(drop=True)
    metrics["test"] = _metrics_of(d, metric, test)
    errors = {s: _rate(task, v, d.y_var) for s, v in losses.items()}
    if task == "classification":  # the rung and the metric tell one number
        for s, e in errors.items():
            metrics[s].update({k: v for k, v in (("error", e), ("accuracy", 1 - e))
                               if k in metrics[s]})
    return _Scored(model, preds, errors, {s: int(v.size) for s, v in losses.items()},
                   metrics, metric, losses)


def _metrics_of(d: _Data, metric: str, frame: pd.DataFrame) -> dict[str, float]:
    return _split_metrics(d.inp.task, metric, frame, d.classes, d.pos_label)


def _mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


# =========================================================================== record
def _record(proj: Project, scored: list[_Scored], chosen: int, iteration: int, d: _Data,
            metric: str, settings: TrainSettings, human_error, random_state: int,
            group: str | None, plan: _Plan) -> list[ModelResult]:
    """Log one run per model, all in ONE transaction (an iteration is visible whole or
    not at all), and return their results."""
    common = {"iteration": iteration, "task": d.inp.task, "target": d.inp.target,
              "metric": metric, "data": d.inp.source, "split_seed": random_state,
              "domain": d.inp.domain_label, "group": group, "features": d.inp.plan.features,
              "roles": {c.name: c.role for c in d.inp.plan.columns},
              "n_inputs": int(d.X["train"].shape[1]), "resampling": plan.to_dict(),
              "early_stopping": _early_stopping_info(d, plan),
              "chosen_on": "dev", "n_models": len(scored), "train_dev": d.train_dev,
              "drop_duplicates": d.drop_duplicates}
    records = []
    for i, e in enumerate(scored):
        m = e.model
        stored = {s: p for s, p in e.preds.items()
                  if s != "train" or e.sizes["train"] <= MAX_STORED_TRAIN}
        config = {"baseline": {**common, "model": m.spec.label, "kind": m.spec.kind,
                               "chosen": i == chosen},
                  "model": m.spec.to_dict(), "training": settings.to_dict(),
                  "epochs": m.n_epochs, "best_epoch": m.best_epoch,
                  "seconds": round(m.seconds, 3)}
        records.append(dict(
            name=f"baseline {iteration}: {m.spec.label}", config=config, errors=e.errors,
            sizes=e.sizes, human_error=human_error, history=m.history or None,
            diagnosis=e.diagnosis, predictions=stored, metrics=e.metrics,
            metric="RMSE" if d.inp.task == "regression" else "error rate",
            dataset=d.inp.dataset))
    run_ids = proj.log_runs(records)
    return [ModelResult(e.model.spec.label, e.model.spec.kind, run_id, e.errors, e.sizes,
                        e.metrics, e.metrics["dev"][metric], e.model.n_epochs,
                        e.model.best_epoch, e.model.seconds, _diagnosed(e), chosen=i == chosen)
            for i, (e, run_id) in enumerate(zip(scored, run_ids, strict=True))]


def _diagnosed(entry: _Scored) -> Diagnosis:
    """The entry's diagnosis, set by ``baseline`` before anything is recorded."""
    if entry.diagnosis is None:
        raise RuntimeError(f"The model {entry.model.spec.label!r} reached the store without "
                           "a diagnosis. This is a bug in mlstrat; please report it.")
    return entry.diagnosis


def _early_stopping_info(d: _Data, plan: _Plan) -> dict[str, Any]:
    """Where the networks stopped early: never on dev."""
    return {"source": "train", "fraction": EARLY_STOP_FRACTION, "rows": int(d.carve.size),
            "stratified": d.inp.task == "classification", "grouped": d.inp.groups is not None,
            "per_fit": plan.method == "kfold"}


def _selection(results: list[ModelResult], best: ModelResult, metric: str,
               plan: _Plan) -> dict[str, Any]:
    """Which rung chose the model and which one is its unbiased figure."""
    return {"n_models": len(results), "chosen_on": "dev", "metric": metric,
            "chosen": best.name, "dev": best.errors.get("dev"),
            "test": best.errors.get("test"), "unbiased": "test",
            "dev_is": "out-of-fold" if plan.method == "kfold" else "one split"}


def _same_predictions(c) -> bool:
    if not c.matched:
        return False
    if c.task == "classification":
        return c.test["b"] == 0 and c.test["c"] == 0
    return c.test["change"] == 0 and c.test["low"] == c.test["high"]


def _notes(inp: _Inputs, best: ModelResult, human_error,
           carve_td: tuple[bool, str]) -> list[str]:
    notes = []
    if not carve_td[0] and inp.domain_mask is None:
        notes.append("No train-dev set: train and dev come from one distribution (no "
                     "--domain), so a data mismatch is not expected: the gap the diagnosis "
                     "calls 'variance + data mismatch' is variance.")
    elif not carve_td[0]:
        notes.append(f"No train-dev set ({carve_td[1]}): variance and data mismatch cannot "
                     "be told apart.")
    if inp.task == "regression":
        notes.append("Regression: the comparison between iterations is a paired "
                     "studentised bootstrap of the RMSE on the same dev examples.")
    if human_error is None:
        notes.append("No --human-error given: avoidable bias is measured against 0.")
    if best.kind == "trivial":
        notes.append("The trivial predictor is better on dev than every other model beyond "
                     "noise: as preprocessed, no model beat predicting the majority class "
                     "(the mean). Check the column roles, the target, and whether the "
                     "networks stopped too early.")
    return notes


def _error_session(project: Project, d: _Data, dev_rows: np.ndarray, best: ModelResult,
                   n_review, random_state, notes: list[str]):
    inp = d.inp
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
