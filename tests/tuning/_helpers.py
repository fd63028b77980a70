"""Small estimators for the tuning tests (importable by subprocess scripts)."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from mlstrat.nn import DivergenceWarning


class SleepyClassifier(ClassifierMixin, BaseEstimator):
    """Sleeps ``sleep`` seconds in fit; predicts the majority class.

    ``alpha`` is a dummy hyperparameter; ``mode`` makes fit raise
    ('raise') or warn of divergence ('diverge')."""

    def __init__(self, alpha=1.0, beta=0.9, sleep=0.0, mode="ok", max_epochs=3):
        self.alpha, self.beta, self.sleep, self.mode = alpha, beta, sleep, mode
        self.max_epochs = max_epochs

    def fit(self, X, y):
        time.sleep(self.sleep)
        if self.mode == "raise" or (self.mode == "raise_big" and self.alpha > 1.0):
            raise RuntimeError("boom: this configuration cannot be trained")
        if self.mode == "diverge":
            warnings.warn("the loss became inf at epoch 2", DivergenceWarning, stacklevel=2)
        values, counts = np.unique(y, return_counts=True)
        self.majority_ = values[np.argmax(counts)]
        self.classes_ = values
        self.history_ = [{"epoch": e + 1, "loss": 1.0 / (e + 1)} for e in range(self.max_epochs)]
        self.n_epochs_ = self.max_epochs
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


def toy_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] > 0).astype(int)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]
