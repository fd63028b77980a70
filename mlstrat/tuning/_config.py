"""A study described in a TOML file, for ``mlstrat tune CONFIG.toml``.

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
    dev_fraction = 0.25
    random_state = 0

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

import importlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlstrat.tuning._result import StudyResult
from mlstrat.tuning._space import SearchSpace
from mlstrat.tuning._strategies import make_strategy
from mlstrat.metrics import OPERATORS
from mlstrat.tuning._study import create_study, study_budget
from mlstrat.tuning._trial import scorer

__all__ = ["ESTIMATORS", "DATASETS", "TuneConfig", "load_config", "run_config"]

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

_SECTIONS = {"study", "strategy", "data", "estimator", "space"}


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
        d = self.data
        seed = int(d.get("random_state", 0))
        if "dataset" in d:
            X, y = _bundled(d["dataset"])
        else:
            X, y = _csv(self.folder / d["csv"], d.get("target"))
        if "dev_csv" in d:
            X_dev, y_dev = _csv(self.folder / d["dev_csv"], d.get("target"))
            return X, y, X_dev, y_dev
        frac = float(d.get("dev_fraction", 0.25))
        if not 0.0 < frac < 1.0:
            raise ValueError(f"[data] dev_fraction must be in (0, 1). Got {frac!r}.")
        strat = y if self.estimator.endswith("Classifier") or "Logistic" in self.estimator else None
        X_tr, X_dev, y_tr, y_dev = train_test_split(X, y, test_size=frac, random_state=seed,
                                                    stratify=strat)
        return X_tr, y_tr, X_dev, y_dev


def _bundled(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in DATASETS:
        raise ValueError(f"[data] dataset {name!r} is not bundled. Valid names: "
                         f"{sorted(DATASETS)}; or give csv = \"file.csv\" and target.")
    import sklearn.datasets

    return getattr(sklearn.datasets, DATASETS[name])(return_X_y=True)


def _csv(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        raise FileNotFoundError(f"[data] CSV file {str(path)!r} does not exist.")
    if not path.is_file():
        raise ValueError(f"[data] CSV file {str(path)!r} is a folder; give a CSV file.")
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError) as exc:  # empty, binary, not CSV
        raise ValueError(f"[data] CSV file {str(path)!r} cannot be read: "
                         f"{' '.join(str(exc).split())[:300]}") from None
    if not target or target not in frame.columns:
        raise ValueError(f"[data] target must name a column of {path.name}. Got {target!r}; "
                         f"columns: {list(frame.columns)}.")
    y = frame.pop(target).to_numpy()
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        raise ValueError(f"[data] {path.name}: non-numeric feature column(s) {text}; "
                         "encode them as numbers first.")
    return frame.to_numpy(dtype=float), y


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


def _quote(value: Any) -> str:
    """A value as the config wrote it, cut to a few dozen characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(table: Mapping[str, Any], key: str, default: int | None, *, low: int,
           section: str = "study") -> int | None:
    """``table[key]`` as a whole number >= ``low`` (TOML integers only).

    Examples
    --------
    >>> _whole({"n_trials": "two"}, "n_trials", None, low=1)
    Traceback (most recent call last):
    ...
    ValueError: [study] n_trials must be a whole number >= 1, such as n_trials = 10. Got 'two'.
    """
    value = table.get(key, default)
    if value is None:
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
    frac = data.get("dev_fraction", 0.25)
    if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0.0 < frac < 1.0:
        raise ValueError(f"[data] dev_fraction must be a number in (0, 1), such as 0.25. "
                         f"Got {_quote(frac)}.")
    _whole(data, "random_state", 0, low=0, section="data")
    return data


def run_config(config: TuneConfig, *, project: Any, n_jobs: int = 1, client: Any = None,
               callback: Callable[[dict[str, Any]], None] | None = None,
               log_best_run: bool = True) -> StudyResult:
    """Run (or resume) the study a config describes; log the best trial as a run.

    ``project`` may be a path: the project is then opened (or created) only
    once the estimator and the data have been checked, so a bad config
    leaves it untouched.
    """
    estimator = config.make_estimator()
    config.space.check_params(estimator)
    study_budget(make_strategy(config.strategy), config.space, config.n_trials)
    X_tr, y_tr, X_dev, y_dev = config.load_data()
    study = create_study(config.name, config.space, project=project,
                         strategy=config.strategy, seed=config.seed, scoring=config.scoring)
    result = study.optimize(estimator, X_tr, y_tr, X_dev, y_dev, n_trials=config.n_trials,
                            n_jobs=n_jobs, client=client, callback=callback)
    if log_best_run and result.n_complete and \
            result.best_trial(satisfice=config.satisfice) is not None:
        result.log_best_run(satisfice=config.satisfice)
    return result
