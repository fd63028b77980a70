"""Baselines of growing capacity, and how each is built and trained.

trivial   majority class / mean (scikit-learn DummyClassifier / DummyRegressor)
linear    logistic (softmax) regression: :class:`mlstrat.nn.LogisticRegressionNN`;
          for regression, scikit-learn ``Ridge``
network   an :class:`mlstrat.nn.NeuralNetClassifier` / ``NeuralNetRegressor``

Every trained model except the trivial one and Ridge stops early on a carve of
the training rows that it does not train on (``fit(..., validation_data=(X_stop,
y_stop))``, best weights restored); the workflow never passes dev rows here, so
the dev rung stays a measurement and not a fitting target.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import Ridge

from mlstrat.nn import Callback, LogisticRegressionNN, NeuralNetClassifier, NeuralNetRegressor

TASKS = ("classification", "regression")
#: default hidden layers of the two networks of the ladder
SMALL_HIDDEN: tuple[int, ...] = (32,)
MEDIUM_HIDDEN: tuple[int, ...] = (128, 64)


@dataclass(frozen=True)
class ModelSpec:
    """One rung of the capacity ladder.

    Examples
    --------
    >>> ModelSpec("network", (256, 128), l2=0.01, dropout=0.2).label
    'network (256, 128) l2=0.01 dropout=0.2'
    """

    kind: str
    hidden: tuple[int, ...] = ()
    l2: float = 0.0
    dropout: float = 0.0
    name: str = ""

    @property
    def label(self) -> str:
        if self.kind != "network":
            return self.name or self.kind
        text = f"{self.name or 'network'} ({', '.join(map(str, self.hidden))})"
        if self.l2:
            text += f" l2={self.l2:g}"
        if self.dropout:
            text += f" dropout={self.dropout:g}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hidden": list(self.hidden), "label": self.label}


@dataclass
class TrainSettings:
    """How the trained baselines are fitted (shared by every rung)."""

    max_epochs: int = 100
    patience: int = 8
    learning_rate: float = 3e-3
    batch_size: int = 128
    random_state: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FittedModel:
    """A trained rung: its predictions per split and how training went."""

    spec: ModelSpec
    estimator: Any
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None

    @property
    def n_epochs(self) -> int:
        return len(self.history)


def ladder(hidden: Sequence[int] | None = None, l2: float | None = None,
           dropout: float | None = None) -> list[ModelSpec]:
    """The default rungs: trivial, linear, then networks.

    Without ``hidden``: a small and a medium network (``l2``/``dropout``
    applied to both). With ``hidden``: one network of that shape instead.

    Examples
    --------
    >>> [s.label for s in ladder()]
    ['trivial', 'linear', 'small network (32)', 'medium network (128, 64)']
    >>> [s.label for s in ladder(hidden=(256, 128), l2=0.01)][2:]
    ['network (256, 128) l2=0.01']
    """
    l2, dropout = float(l2 or 0.0), float(dropout or 0.0)
    specs = [ModelSpec("trivial", name="trivial"), ModelSpec("linear", name="linear")]
    if hidden is not None:
        specs.append(ModelSpec("network", tuple(int(h) for h in hidden), l2, dropout))
    else:
        specs.append(ModelSpec("network", SMALL_HIDDEN, l2, dropout, name="small network"))
        specs.append(ModelSpec("network", MEDIUM_HIDDEN, l2, dropout, name="medium network"))
    return specs


# --------------------------------------------------------------------------- builders
def _nn_options(spec: ModelSpec, settings: TrainSettings, callbacks: list) -> dict[str, Any]:
    return dict(learning_rate=settings.learning_rate, batch_size=settings.batch_size,
                max_epochs=settings.max_epochs, l2=spec.l2, dropout=spec.dropout,
                early_stopping=True, monitor="val_loss", patience=settings.patience,
                restore_best_weights=True, random_state=settings.random_state,
                callbacks=callbacks or None)


def _trivial_classifier(spec, settings, callbacks):
    return DummyClassifier(strategy="most_frequent")


def _trivial_regressor(spec, settings, callbacks):
    return DummyRegressor(strategy="mean")


def _logistic(spec, settings, callbacks):
    return LogisticRegressionNN(**_nn_options(spec, settings, callbacks))


def _ridge(spec, settings, callbacks):
    return Ridge(alpha=1.0)


def _network_classifier(spec, settings, callbacks):
    return NeuralNetClassifier(spec.hidden, **_nn_options(spec, settings, callbacks))


def _network_regressor(spec, settings, callbacks):
    return ScaledTargetRegressor(
        NeuralNetRegressor(spec.hidden, **_nn_options(spec, settings, callbacks)))


#: (kind, task) -> builder(spec, settings, callbacks) -> unfitted estimator
BUILDERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("trivial", "classification"): _trivial_classifier,
    ("trivial", "regression"): _trivial_regressor,
    ("linear", "classification"): _logistic,
    ("linear", "regression"): _ridge,
    ("network", "classification"): _network_classifier,
    ("network", "regression"): _network_regressor,
}


class ScaledTargetRegressor:
    """Fits a network on the standardised target and predicts in the original units.

    scikit-learn's ``TransformedTargetRegressor`` would pass an unscaled
    ``validation_data`` to the network; this wrapper scales both.
    """

    def __init__(self, regressor: NeuralNetRegressor):
        self.regressor = regressor

    def fit(self, X, y, validation_data=None):
        y = np.asarray(y, dtype=float)
        self.mean_, self.scale_ = float(y.mean()), float(y.std()) or 1.0
        val = None
        if validation_data is not None:
            Xv, yv = validation_data
            val = (Xv, (np.asarray(yv, dtype=float) - self.mean_) / self.scale_)
        self.regressor.fit(X, (y - self.mean_) / self.scale_, validation_data=val)
        return self

    def predict(self, X):
        return self.regressor.predict(X) * self.scale_ + self.mean_

    @property
    def history_(self):
        return self.regressor.history_

    @property
    def best_epoch_(self):
        return self.regressor.best_epoch_


class EpochReporter(Callback):
    """Calls ``report(epoch, logs)`` after every epoch (for progress displays)."""

    def __init__(self, report: Callable[[int, dict], None]):
        self.report = report

    def on_epoch_end(self, epoch, logs=None):
        self.report(epoch, dict(logs or {}))


def fit_model(spec: ModelSpec, task: str, settings: TrainSettings, X_train, y_train,
              X_stop=None, y_stop=None, *, on_epoch: Callable[[int, dict], None] | None = None
              ) -> FittedModel:
    """Build and train one rung; networks stop early on ``(X_stop, y_stop)``.

    ``X_stop``/``y_stop`` must be rows the model is not trained on and that no
    rung of the ladder reports (the workflow passes a carve of the training
    rows). Without them a network holds out its own ``validation_fraction`` of
    ``X_train``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> m = fit_model(ModelSpec("linear"), "classification", TrainSettings(max_epochs=3),
    ...               X[:50], y[:50], X[50:], y[50:])
    >>> m.n_epochs, "val_loss" in m.history[0]
    (3, True)
    """
    callbacks = [EpochReporter(on_epoch)] if on_epoch is not None else []
    estimator = BUILDERS[(spec.kind, task)](spec, settings, callbacks)
    start = time.perf_counter()
    if isinstance(estimator, (NeuralNetClassifier, NeuralNetRegressor, ScaledTargetRegressor)):
        val = None if X_stop is None else (X_stop, y_stop)
        estimator.fit(X_train, y_train, validation_data=val)
    else:
        estimator.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    history = [_clean_row(r) for r in getattr(estimator, "history_", None) or []]
    best = getattr(estimator, "best_epoch_", None) if history else None
    return FittedModel(spec, estimator, seconds, history, best)


def _clean_row(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
            continue
        out[str(key)] = value.item() if hasattr(value, "item") else value
    return out
