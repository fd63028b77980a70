"""Input and hyperparameter checks that produce actionable messages."""

from __future__ import annotations

import numbers

import numpy as np

_CHUNK = 65536


def check_finite_rows(arr, name="X", when="fit"):
    """Raise ValueError naming how many rows hold NaN/inf and the first one.

    A cheap float64 sum is tried first; the row scan runs only when it is
    not finite.
    """
    arr = np.asarray(arr)
    if arr.dtype.kind != "f" or arr.size == 0:
        return
    if np.isfinite(np.sum(arr, dtype=np.float64)):
        return
    flat = arr.reshape(arr.shape[0], -1)
    bad_rows = [
        start + np.flatnonzero(~np.isfinite(flat[start:start + _CHUNK]).all(axis=1))
        for start in range(0, flat.shape[0], _CHUNK)
    ]
    bad = np.concatenate(bad_rows)
    if bad.size:
        raise ValueError(
            f"{name} contains NaN or infinity in {bad.size} rows (first: row "
            f"{int(bad[0])}). Impute or drop these rows before calling {when}."
        )


def fail(owner, name, expected, value):
    """Raise the house-style ValueError for a bad hyperparameter."""
    raise ValueError(
        f"The '{name}' parameter of {owner} must be {expected}. Got {value!r} instead."
    )


def check_number(owner, name, value, *, low=None, high=None, low_open=False,
                 high_open=False, integer=False):
    """Check a scalar lies in the interval given; raise the house-style error."""
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    ok = ok and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        what = "an int" if integer else "a float"
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '>='} {low}")
        if high is not None:
            bounds.append(f"{'<' if high_open else '<='} {high}")
        fail(owner, name, f"{what} {' and '.join(bounds)}".strip(), value)
    return value


def check_choice(owner, name, value, registry):
    """Check ``value`` is a key of ``registry``; list the valid names if not."""
    if not isinstance(value, str) or value not in registry:
        fail(owner, name, f"one of {sorted(registry)}", value)
    return value
