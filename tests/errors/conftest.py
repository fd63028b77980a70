from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlstrat.store import open_project


@pytest.fixture
def project(tmp_path):
    p = open_project(tmp_path / "proj")
    yield p
    p.close()


def make_predictions(n=1000, error_rate=0.2, n_classes=3, seed=0):
    """Predictions with about ``error_rate`` errors and two features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    pred = y.copy()
    flip = rng.random(n) < error_rate
    pred[flip] = (y[flip] + 1) % n_classes
    return pd.DataFrame({
        "id": [f"ex{i}" for i in range(n)], "y_true": y, "y_pred": pred,
        "brightness": rng.random(n), "camera": rng.choice(["phone", "dslr"], n),
    })


@pytest.fixture
def preds():
    return make_predictions()


@pytest.fixture
def make_preds():
    """The factory :func:`make_predictions`, for tests that need other sizes."""
    return make_predictions
