"""A small project for the dashboard tests, and where the app lives."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import mlstrat
from mlstrat.diagnosis import diagnose
from mlstrat.errors import new_session

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
# the pages' helper modules (app_pages._common, ...) for unit tests
if str(APP.parent) not in sys.path:
    sys.path.insert(0, str(APP.parent))

#: the numbers of the "mismatch" run, checked in the chart specs
MISMATCH = {"train": 0.02, "train_dev": 0.03, "dev": 0.15, "test": 0.16}
SIZES = {"train": 2000, "train_dev": 400, "dev": 400, "test": 400}
HUMAN = 0.01


def _predictions(n: int, error: float, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    wrong = rng.permutation(n) < round(error * n)  # exactly that error rate
    pred = np.where(wrong, (y + 1) % 3, y)
    proba = np.full((n, 3), 0.1)
    proba[np.arange(n), pred] = 0.8
    return y, pred, proba


def _history(epochs: int = 12) -> pd.DataFrame:
    e = np.arange(1, epochs + 1)
    return pd.DataFrame({"epoch": e, "loss": 1.5 / e, "error": 0.4 / e,
                         "val_loss": 1.5 / e + 0.01 * e, "val_error": 0.4 / e + 0.004 * e})


def build_small_project(folder: Path) -> Path:
    """Three runs: a stored diagnosis (the newest, shown first), one whose stored
    record is not a Diagnosis (so the page computes one), one missing its train split.

    No run has a NULL diagnosis: ``Project.runs()`` fails on a mix of NULL and
    stored diagnoses (see test_runs_without_diagnosis_are_listed).
    """
    proj = mlstrat.open_project(folder)
    y, pred, proba = _predictions(SIZES["dev"], MISMATCH["dev"], 0)
    d = diagnose(human=HUMAN, **MISMATCH, sizes=SIZES)
    proj.log_run("bias run", config={"model": "logreg"}, human_error=HUMAN,
                 errors={"train": 0.09, "train_dev": 0.10, "dev": 0.11, "test": 0.11},
                 sizes=SIZES, diagnosis={"legacy": "not a Diagnosis record"})
    proj.log_run("only dev", errors={"dev": 0.2}, sizes={"dev": 400})
    run_id = proj.log_run("mismatch run", config={"model": "nn", "hidden_layer_sizes": [32],
                                                  "best_epoch": 7,
                                                  "learning_curve": _learning_curve()},
                          errors=MISMATCH, sizes=SIZES, human_error=HUMAN,
                          history=_history(), diagnosis=d,
                          predictions={"dev": (y, pred, proba)})
    rng = np.random.default_rng(3)
    new_session(proj, run_id, name="test session", n=None,
                features=pd.DataFrame({"id": [str(i) for i in range(len(y))],
                                       "brightness": rng.random(len(y))}),
                payload=rng.random((len(y), 8, 8)),
                categories=("incorrectly labelled", "blurry"), by="tester")
    _study(proj)
    proj.close()
    return folder


def _learning_curve() -> dict:
    from mlstrat.curves import LearningCurve, fit_power_law

    sizes = [100, 200, 400, 800, 1600]
    dev = [0.5 * m ** -0.5 + 0.1 for m in sizes]
    return LearningCurve(sizes, [0.01] * 5, dev, [0.0] * 5, [0.0] * 5, [1] * 5, "error", 400,
                         fit_power_law(sizes, dev)).to_dict()


STUDY = "C search"


def _study(proj) -> None:
    """Four trials of a logistic regression: a study in seconds."""
    from sklearn.linear_model import LogisticRegression

    from mlstrat.tuning import create_study, loguniform

    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=240) > 0).astype(int)
    create_study(STUDY, {"C": loguniform(1e-3, 1e2)}, project=proj, seed=0).optimize(
        LogisticRegression(), X[:160], y[:160], X[160:], y[160:], n_trials=4)
