"""Extra content for the Training, Tuning and Error-analysis page tests, added
to a copy of the small project (tests/dashboard/dashboard_project.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

import mlstrat

#: a study stored with a satisficing constraint: latency_ms equals C, the
#: dev error is lowest at C = 30, above the latency budget
CONSTRAINED = "constrained C"
LATENCY_BUDGET = 5.0


def _objective(trial) -> dict[str, float]:
    c = trial.suggest("C")
    return {"dev_error": round(abs(math.log10(c / 30)) / 10, 6), "latency_ms": c}


def constrained_study(folder) -> None:
    """Eight trials of an objective in a second (no estimator is trained)."""
    from mlstrat.tuning import create_study, loguniform

    proj = mlstrat.open_project(folder)
    create_study(CONSTRAINED, {"C": loguniform(1e-2, 1e2)}, project=proj, seed=0,
                 optimize="dev_error", satisfice={"latency_ms": ("<=", LATENCY_BUDGET)}
                 ).optimize(_objective, n_trials=8)
    proj.close()


def history(epochs: int = 10, val_at: dict[int, float] | None = None) -> pd.DataFrame:
    """A trainer's history_ (loss, error, val_loss, val_error) with chosen val_error values."""
    e = np.arange(1, epochs + 1)
    frame = pd.DataFrame({"epoch": e, "loss": 1.0 / e, "error": 0.3 / e,
                          "val_loss": 1.0 / e + 0.02 * e, "val_error": 0.3 / e + 0.01 * e})
    for epoch, value in (val_at or {}).items():
        frame.loc[frame["epoch"] == epoch, "val_error"] = value
    return frame
