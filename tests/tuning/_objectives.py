"""Objective functions for the objective-study tests (module level, so that
subprocess scripts and Dask workers can import them)."""

from __future__ import annotations

import math
import os
import time

#: the quadratic's optimum: learning rate 3e-3, beta 0.99 (1 - beta = 1e-2)
OPT_LR, OPT_BETA = 3e-3, 0.99

SPACE_DICT = {"lr": {"loguniform": [1e-5, 1.0]}, "beta": {"beta": [0.9, 0.9999]}}


def quadratic_loss(lr: float, beta: float) -> float:
    """Squared distance to the optimum on the log and 1 - beta scales."""
    return ((math.log10(lr) - math.log10(OPT_LR)) ** 2
            + (math.log10(1 - beta) - math.log10(1 - OPT_BETA)) ** 2)


def quadratic(trial) -> float:
    return quadratic_loss(trial.suggest("lr"), trial.suggest("beta"))


def logged(trial, *, sleep: float, log: str) -> dict:
    """Sleeps, then appends the trial's number to ``log`` (one line a call
    that finished) and returns the quadratic as 'loss'."""
    time.sleep(sleep)
    loss = quadratic(trial)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{trial.number}\n")
        fh.flush()
        os.fsync(fh.fileno())
    return {"loss": loss}
