"""Learning-rate schedules: ``schedule(lr0, epoch) -> lr`` with epoch from 0."""

from __future__ import annotations

import math

from mlstrat.nn._validation import check_choice, check_number


class ConstantLR:
    """Keep the base learning rate."""

    def __call__(self, lr0, epoch):
        return lr0


class InverseTimeDecay:
    """``lr0 / (1 + decay * epoch)``.

    Examples
    --------
    >>> InverseTimeDecay(decay=1.0)(0.1, 4)
    0.02
    """

    def __init__(self, decay=1.0):
        self.decay = check_number("InverseTimeDecay", "decay", decay, low=0)

    def __call__(self, lr0, epoch):
        return lr0 / (1.0 + self.decay * epoch)


class ExponentialDecay:
    """``lr0 * rate ** epoch`` (rate 0.95 by default).

    Examples
    --------
    >>> round(ExponentialDecay()(1.0, 2), 4)
    0.9025
    """

    def __init__(self, rate=0.95):
        self.rate = check_number("ExponentialDecay", "rate", rate, low=0, high=1,
                                 low_open=True)

    def __call__(self, lr0, epoch):
        return lr0 * self.rate ** epoch


class StaircaseDecay:
    """``lr0 * rate ** floor(epoch / step)`` (halve every 10 epochs by default).

    Examples
    --------
    >>> StaircaseDecay(rate=0.5, step=10)(1.0, 25)
    0.25
    """

    def __init__(self, rate=0.5, step=10):
        self.rate = check_number("StaircaseDecay", "rate", rate, low=0, high=1,
                                 low_open=True)
        self.step = check_number("StaircaseDecay", "step", step, low=1, integer=True)

    def __call__(self, lr0, epoch):
        return lr0 * self.rate ** math.floor(epoch / self.step)


SCHEDULES = {
    "constant": ConstantLR,
    "inverse_time": InverseTimeDecay,
    "exponential": ExponentialDecay,
    "staircase": StaircaseDecay,
}

_RATE_ARG = {"inverse_time": "decay", "exponential": "rate", "staircase": "rate"}


def get_schedule(schedule, decay_rate=None):
    """Return a schedule from ``None``, a registry name or a callable."""
    if schedule is None:
        return ConstantLR()
    if callable(schedule):
        return schedule
    check_choice("fit", "lr_schedule", schedule, SCHEDULES)
    kwargs = {}
    if decay_rate is not None and schedule in _RATE_ARG:
        kwargs[_RATE_ARG[schedule]] = decay_rate
    return SCHEDULES[schedule](**kwargs)
