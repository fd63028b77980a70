"""Warnings and errors raised by :mod:`mlstrat.nn`."""

from __future__ import annotations


class DivergenceWarning(UserWarning):
    """Training stopped because the loss or the weights became non-finite.

    The model keeps the last finite weights (those at the start of the epoch
    in which the divergence happened).  Lower the learning rate to fix it.
    """


class ModelFileError(ValueError):
    """A model file is truncated, corrupted or was not written by ``save_model``."""
