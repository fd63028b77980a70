"""A study described in a TOML file, for ``mlstrat tune CONFIG.toml``.

``examples/study.toml`` is a study that runs as shipped, with every key
explained; :data:`KEYS` lists the keys each section accepts (any other is
refused, so a typo is not silently ignored).

Example (every key but ``[space]`` and ``[data]`` has a default)::

    [study]
    name = "digits-adam"
    strategy = "random"      # grid | random | coarse_to_fine | halving | hyperband
    n_trials = 12
    seed = 0
    scoring = "error"
    satisfice = {latency_ms = ["<=", 1.0]}

    [strategy]               # the strategy's options
    # n_per_dim = 3 (grid); n_coarse, top_k, margin (coarse_to_fine);
    # min_epochs, max_epochs, eta (halving, hyperband)

    [data]
    dataset = "digits"       # bundled scikit-learn data, or csv = "train.csv"
    # target = "label"       # the label column of the CSV
    # dev_csv = "dev.csv"    # a fixed dev set; else dev_fraction of the data
    # roles = {zip = "categorical"}   # override an inferred column role
    # drop = ["notes"]       # columns to leave out
    dev_fraction = 0.25
    random_state = 0

A CSV's columns are encoded as ``mlstrat baseline`` encodes them (the same
code, :mod:`mlstrat.first_system`): numbers imputed and scaled, text columns
with few values one-hot encoded (rare ones grouped), dates as year, month
and day of week, free text and identifiers left out; the encoding is fitted
on the train rows only.

    [estimator]
    name = "NeuralNetClassifier"
    params = {max_epochs = 20, batch_size = 64}

    [space]
    learning_rate = {loguniform = [1e-4, 1e-1]}
    beta1 = {beta = [0.8, 0.99]}
    hidden_layer_sizes = {choice = [[64], [128, 64]]}

Relative paths are read from the config file's folder.
"""

from __future__ import annotations

import difflib
import importlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlstrat.metrics import OPERATORS
from mlstrat.tuning._progress import TrialBar
from mlstrat.tuning._result import StudyResult
from mlstrat.tuning._space import SearchSpace
from mlstrat.tuning._strategies import make_strategy
from mlstrat.tuning._study import _seconds, create_study, study_budget
from mlstrat.tuning._trial import scorer

__all__ = ["ESTIMATORS", "DATASETS", "KEYS", "TuneConfig", "TuneData", "load_config",
           "run_config"]

#: estimator name in a config -> "module:class" (imported when used)
ESTIMATORS = {
    "NeuralNetClassifier": "mlstrat.nn:NeuralNetClassifier",
    "NeuralNetRegressor": "mlstrat.nn:NeuralNetRegressor",
    "LogisticRegressionNN": "mlstrat.nn:LogisticRegressionNN",
    "MLPClassifier": "sklearn.neural_network:MLPClassifier",
    "MLPRegressor": "sklearn.neural_network:MLPRegressor",
    "LogisticRegression": "sklearn.linear_model:LogisticRegression",
    "Ridge": "sklearn.linear_model:Ridge",
}

#: bundled dataset name -> scikit-learn loader
DATASETS = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}

#: section -> key -> what it means. ``[strategy]`` keys depend on the strategy
#: (checked by its class); ``[space]`` holds hyperparameter names.
KEYS: dict[str, dict[str, str]] = {
    "study": {
        "name": "the study's name in the project (the same name resumes it)",
        "strategy": "grid | random | coarse_to_fine | halving | hyperband",
        "n_trials": "the study's total number of trials (every run, every process)",
        "seed": "trial n's params come from (seed, n)",
        "scoring": "the optimizing metric on dev (error, accuracy, f1, mse, ...)",
        "satisfice": "satisficing metrics: {metric = [operator, threshold]}",
    },
    "strategy": {
        "n_per_dim": "grid: values per hyperparameter",
        "n_coarse": "coarse_to_fine: trials over the whole space first",
        "top_k": "coarse_to_fine: best trials that define the fine region",
        "margin": "coarse_to_fine: widening of the fine region",
        "min_epochs": "halving, hyperband: epochs of the first rung",
        "max_epochs": "halving, hyperband: epochs of the last rung",
        "eta": "halving, hyperband: 1/eta of the configurations go on to eta times the epochs",
    },
    "data": {
        "dataset": "a bundled scikit-learn dataset (instead of csv)",
        "csv": "a data file (CSV, TSV, Parquet or XLSX), read from the config's folder",
        "target": "the CSV column to predict",
        "dev_csv": "a fixed dev set with the same columns",
        "dev_fraction": "share of the rows held out as dev (without dev_csv)",
        "random_state": "seed of that split",
        "roles": "override inferred column roles: {column = role}",
        "drop": "columns to leave out",
    },
    "estimator": {
        "name": "the model to tune",
        "params": "fixed parameters of the model (not tuned)",
    },
}
_SECTIONS = {*KEYS, "space"}


@dataclass
class TuneConfig:
    """A parsed, validated study configuration."""

    name: str
    space: SearchSpace
    strategy: dict[str, Any]
    estimator: str
    params: dict[str, Any]
    data: dict[str, Any]
    n_trials: int | None = None
    seed: int = 0
    scoring: str = "error"
    satisfice: dict[str, tuple[str, float]] = field(default_factory=dict)
    folder: Path = Path(".")

    def make_estimator(self) -> Any:
        module, cls = ESTIMATORS[self.estimator].split(":")
        estimator = getattr(importlib.import_module(module), cls)()
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in self.params.items()}
        valid = sorted(estimator.get_params())
        unknown = [k for k in fixed if k not in valid]
        if unknown:
            raise ValueError(f"[estimator.params]: {self.estimator} has no parameter "
                             f"{', '.join(map(repr, unknown))}. Valid names: {valid}.")
        return estimator.set_params(**fixed)

    def load_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """X_train, y_train, X_dev, y_dev as the ``[data]`` section says."""
        data = self.prepare_data()
        return data.X_train, data.y_train, data.X_dev, data.y_dev

    def prepare_data(self) -> TuneData:
        """The train and dev sets, with how a CSV's columns were encoded."""
        d = self.data
        if "dataset" in d:
            X, y = _bundled(d["dataset"])
            X_tr, X_dev, y_tr, y_dev = self._split(X, y)
            return TuneData(X_tr, y_tr, X_dev, y_dev)
        frame, y, dropped = _csv_frame(self.folder / d["csv"], d.get("target"))
        plan = _column_plan(frame, y, d)
        if "dev_csv" in d:
            dev, y_dev, dropped_dev = _csv_frame(self.folder / d["dev_csv"], d.get("target"))
            return _encode(plan, frame, y, dev, y_dev, dropped + dropped_dev)
        rows = np.arange(len(frame))
        tr, dv, y_tr, y_dev = self._split(rows, y)
        return _encode(plan, frame.iloc[tr], y_tr, frame.iloc[dv], y_dev, dropped)

    def _split(self, X: Any, y: np.ndarray) -> list[Any]:
        """Train and dev rows by ``dev_fraction`` (stratified for classifiers)."""
        frac = float(self.data.get("dev_fraction", 0.25))
        seed = int(self.data.get("random_state", 0))
        strat = y if self.estimator.endswith("Classifier") or "Logistic" in self.estimator else None
        return train_test_split(X, y, test_size=frac, random_state=seed, stratify=strat)


@dataclass
class TuneData:
    """Train and dev arrays; for a CSV, the column plan and encoder that made them.

    ``plan`` (a :class:`mlstrat.first_system.ColumnPlan`) and ``encoder`` (the
    fitted ``ColumnTransformer``) are those of ``mlstrat baseline``;
    ``n_dropped`` counts rows left out for a missing target.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    plan: Any = None
    encoder: Any = None
    n_dropped: int = 0

    def describe(self) -> str:
        """The column report and the number of model inputs (CSV data only)."""
        if self.plan is None:
            return ""
        lines = [str(self.plan),
                 f"{self.X_train.shape[1]} model inputs after encoding (fitted on the "
                 f"{len(self.X_train)} train rows; {len(self.X_dev)} dev rows)."]
        if self.n_dropped:
            lines.append(f"{self.n_dropped} rows without a target value were left out.")
        return "\n".join(lines)


def _column_plan(features: pd.DataFrame, y: np.ndarray, d: Mapping[str, Any]) -> Any:
    """Each column's role, inferred as ``mlstrat baseline`` infers it (the
    ``roles`` and ``drop`` keys override it)."""
    from mlstrat.first_system import infer_roles

    target = str(d["target"])
    plan = infer_roles(features.assign(**{target: y}), target=target,
                       roles=d.get("roles"), drop=d.get("drop", ()))
    if not plan.features:
        raise ValueError("[data] no column can be used as a feature:\n" + str(plan)
                         + "\nGive a column a role with roles = {column = \"numeric\"}.")
    return plan


def _encode(plan: Any, train: pd.DataFrame, y_train: np.ndarray, dev: pd.DataFrame,
            y_dev: np.ndarray, dropped: int) -> TuneData:
    """Encode the feature columns as ``mlstrat baseline`` does: the encoder
    fitted on the train rows, applied to dev."""
    from mlstrat.first_system import build_preprocessor
    from mlstrat.first_system._columns import coerce_features
    from mlstrat.first_system._preprocess import transform_float32

    missing = [c for c in plan.features if c not in dev.columns]
    if missing:
        raise ValueError(f"[data] dev_csv lacks the feature column(s) {missing} of csv.")
    encoder = build_preprocessor(plan)
    X_train = np.ascontiguousarray(encoder.fit_transform(coerce_features(train, plan)),
                                   dtype=np.float32)
    X_dev = transform_float32(encoder, coerce_features(dev, plan))
    return TuneData(X_train, y_train, X_dev, y_dev, plan, encoder, dropped)


def _bundled(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in DATASETS:
        raise ValueError(f"[data] dataset {name!r} is not bundled. Valid names: "
                         f"{sorted(DATASETS)}; or give csv = \"file.csv\" and target.")
    import sklearn.datasets

    return getattr(sklearn.datasets, DATASETS[name])(return_X_y=True)


def _csv_frame(path: Path, target: str | None) -> tuple[pd.DataFrame, np.ndarray, int]:
    """A data file's feature columns, its target values, and how many rows
    were left out for a missing target (read by ``mlstrat baseline``'s reader)."""
    from mlstrat.first_system import read_table

    if not path.exists():
        raise FileNotFoundError(f"[data] CSV file {str(path)!r} does not exist.")
    if not path.is_file():
        raise ValueError(f"[data] CSV file {str(path)!r} is a folder; give a CSV file.")
    try:
        frame = read_table(path)
    except ValueError as exc:  # empty, binary, not CSV
        raise ValueError(f"[data] {' '.join(str(exc).split())[:300]}") from None
    if not target or target not in frame.columns:
        raise ValueError(f"[data] target must name a column of {path.name}. Got {target!r}; "
                         f"columns: {list(frame.columns)}.")
    known = frame[target].notna()
    if not known.any():
        raise ValueError(f"[data] the target column {target!r} of {path.name} is empty.")
    frame = frame[known].reset_index(drop=True)
    return frame.drop(columns=[target]), frame[target].to_numpy(), int((~known).sum())


def load_config(path: str | Path) -> TuneConfig:
    """Read and validate a study configuration (TOML). See the module docstring."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Config file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name} is not valid TOML: {exc}") from None
    return parse_config(raw, folder=path.resolve().parent)


def parse_config(raw: Mapping[str, Any], folder: Path = Path(".")) -> TuneConfig:
    """A :class:`TuneConfig` from the TOML tables as a dict."""
    unknown = sorted(set(raw) - _SECTIONS)
    if unknown:
        raise ValueError(f"Unknown section(s) {unknown}. Valid sections: {sorted(_SECTIONS)}.")
    for section in ("space", "data"):
        if not raw.get(section):
            raise ValueError(f"The config needs a [{section}] section.")
    for section in _SECTIONS:
        if section in raw and not isinstance(raw[section], Mapping):
            raise ValueError(f"[{section}] must be a table (a [{section}] section). "
                             f"Got {_quote(raw[section])}.")
    for section in ("study", "data", "estimator"):
        _check_keys(raw.get(section, {}), section)
    study, est = dict(raw.get("study", {})), dict(raw.get("estimator", {}))
    name = est.get("name", "NeuralNetClassifier")
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise ValueError(f"[estimator] name {name!r} is not known. Valid names: "
                         f"{sorted(ESTIMATORS)}.")
    data = _check_data(dict(raw["data"]))
    strategy = {"kind": study.get("strategy", "random"), **raw.get("strategy", {})}
    make_strategy(strategy)  # validates names and options
    scoring = study.get("scoring", "error")
    if not isinstance(scoring, str):
        raise ValueError(f"[study] scoring must be a metric name such as \"error\". "
                         f"Got {_quote(scoring)}.")
    scorer(scoring)  # validates the name
    params = est.get("params", {})
    if not isinstance(params, Mapping):
        raise ValueError(f"[estimator] params must be a table such as {{max_epochs = 20}}. "
                         f"Got {_quote(params)}.")
    return TuneConfig(
        name=_text(study, "name", "study"), space=SearchSpace(raw["space"]),
        strategy=strategy, estimator=name, params=dict(params), data=data,
        n_trials=_whole(study, "n_trials", None, low=1), seed=_whole(study, "seed", 0, low=0),
        scoring=scoring, satisfice=_satisfice(study.get("satisfice", {})), folder=folder)


def _check_keys(table: Mapping[str, Any], section: str) -> None:
    """Refuse a key :data:`KEYS` does not list (a typo would be ignored).

    Examples
    --------
    >>> _check_keys({"n_trial": 5}, "study")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown key(s) ['n_trial'] in [study] (did you mean 'n_trials'?). Valid keys: ...
    """
    unknown = sorted(set(table) - set(KEYS[section]))
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], KEYS[section], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"Unknown key(s) {unknown} in [{section}]{hint}. "
                     f"Valid keys: {sorted(KEYS[section])}.")


def _quote(value: Any) -> str:
    """A value as the config wrote it, cut to a few dozen characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@overload
def _whole(table: Mapping[str, Any], key: str, default: int, *, low: int,
           section: str = ...) -> int: ...
@overload
def _whole(table: Mapping[str, Any], key: str, default: None, *, low: int,
           section: str = ...) -> int | None: ...
def _whole(table: Mapping[str, Any], key: str, default: int | None, *, low: int,
           section: str = "study") -> int | None:
    """``table[key]`` as a whole number >= ``low`` (TOML integers only);
    ``None`` only where the default is ``None`` (an optional number).

    Examples
    --------
    >>> _whole({"n_trials": "two"}, "n_trials", None, low=1)
    Traceback (most recent call last):
    ...
    ValueError: [study] n_trials must be a whole number >= 1, such as n_trials = 10. Got 'two'.
    >>> _whole({"seed": None}, "seed", 0, low=0)
    Traceback (most recent call last):
    ...
    ValueError: [study] seed must be a whole number >= 0, such as seed = 10. Got None.
    """
    value = table.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"[{section}] {key} must be a whole number >= {low}, such as "
                         f"{key} = {max(low, 10)}. Got {_quote(value)}.")
    return value


def _text(table: Mapping[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"[study] {key} must be a non-empty string. Got {_quote(value)}.")
    return value


def _satisfice(spec: Any) -> dict[str, tuple[str, float]]:
    """``{metric: [op, threshold]}`` from ``satisfice = {latency_ms = ["<=", 1.0]}``."""
    example = 'satisfice = {latency_ms = ["<=", 1.0]}'
    if not isinstance(spec, Mapping):
        raise ValueError(f"[study] satisfice must be a table such as {example}. "
                         f"Got {_quote(spec)}.")
    out = {}
    for metric, pair in spec.items():
        ok = isinstance(pair, list) and len(pair) == 2 and pair[0] in OPERATORS \
            and isinstance(pair[1], (int, float)) and not isinstance(pair[1], bool)
        if not ok:
            raise ValueError(f"[study] satisfice.{metric} must be [operator, number] with an "
                             f"operator among {list(OPERATORS)}, as in {example}. "
                             f"Got {_quote(pair)}.")
        out[str(metric)] = (pair[0], float(pair[1]))
    return out


def _check_data(data: dict[str, Any]) -> dict[str, Any]:
    """The ``[data]`` table with its keys' types checked."""
    if ("dataset" in data) == ("csv" in data):
        raise ValueError("[data] needs exactly one of dataset = \"digits\" (bundled) or "
                         "csv = \"file.csv\" (with target = \"column\").")
    for key in ("dataset", "csv", "dev_csv", "target"):
        if key in data and (not isinstance(data[key], str) or not data[key]):
            raise ValueError(f"[data] {key} must be a non-empty string. "
                             f"Got {_quote(data[key])}.")
    if "csv" in data and "target" not in data:
        raise ValueError("[data] csv needs target = \"column\": the column to predict.")
    if "roles" in data and not (isinstance(data["roles"], Mapping) and all(
            isinstance(v, str) for v in data["roles"].values())):
        raise ValueError(f"[data] roles must be a table such as {{zip = \"categorical\"}}. "
                         f"Got {_quote(data['roles'])}.")
    drop = data.get("drop", [])
    if not (isinstance(drop, list) and all(isinstance(c, str) for c in drop)):
        raise ValueError(f"[data] drop must be a list of column names such as [\"notes\"]. "
                         f"Got {_quote(drop)}.")
    if "dataset" in data and ("roles" in data or "drop" in data):
        raise ValueError("[data] roles and drop apply to a csv file, not to a bundled dataset.")
    frac = data.get("dev_fraction", 0.25)
    if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0.0 < frac < 1.0:
        raise ValueError(f"[data] dev_fraction must be a number in (0, 1), such as 0.25. "
                         f"Got {_quote(frac)}.")
    _whole(data, "random_state", 0, low=0, section="data")
    return data


def run_config(config: TuneConfig, *, project: Any, n_jobs: int = 1, client: Any = None,
               callback: Callable[[dict[str, Any]], None] | None = None,
               log_best_run: bool = True, progress: Any = None,
               stale_after: float = 120.0) -> StudyResult:
    """Run (or resume) the study a config describes; log the best trial as a run.

    ``project`` may be a path: the project is then opened (or created) only
    once the estimator and the data have been checked, so a bad config
    leaves it untouched. ``progress`` (see :meth:`Study.optimize`) also gets
    notices: how a CSV's columns were encoded, and what successive halving
    or Hyperband do with ``n_trials``. ``stale_after``: seconds without a
    heartbeat after which another driver's running trial is re-queued (a
    driver beats every ``min(5, stale_after / 4)`` seconds).
    """
    stale_after = _seconds(stale_after, "stale_after", low=0.0)
    progress = TrialBar() if progress is True else progress
    estimator = config.make_estimator()
    config.space.check_params(estimator)
    strategy = make_strategy(config.strategy)
    study_budget(strategy, config.space, config.n_trials)
    data = config.prepare_data()
    _tell(progress, data.describe())
    _tell(progress, strategy.budget_note(config.n_trials))
    study = create_study(config.name, config.space, project=project,
                         strategy=config.strategy, seed=config.seed, scoring=config.scoring)
    result = study.optimize(estimator, data.X_train, data.y_train, data.X_dev, data.y_dev,
                            n_trials=config.n_trials, n_jobs=n_jobs, client=client,
                            callback=callback, progress=progress, stale_after=stale_after,
                            heartbeat_interval=min(5.0, max(stale_after / 4, 0.05)))
    if log_best_run and result.n_complete and \
            result.best_trial(satisfice=config.satisfice) is not None:
        result.log_best_run(satisfice=config.satisfice)
    return result


def _tell(progress: Any, text: str | None) -> None:
    if progress is not None and text:
        progress.notice(text)
