"""L2 and L1 penalties with the course-notes convention.

``J = (1/m) sum L + (l2 / 2m) sum ||W||_F^2 + (l1 / 2m) sum |W|`` with ``m``
the number of examples in the batch; biases are not penalised.  The same
``lambda`` is scikit-learn's MLP ``alpha``.  Keras' ``regularizers.l2(c)``
adds ``c * sum w**2`` to the batch mean, so ``c = lambda / (2m)``; use
:func:`lambda_from_keras_l2` to convert.
"""

from __future__ import annotations

import numpy as np


def penalty(W, l2, l1, m):
    """Value of the penalty of one weight matrix for a batch of ``m`` rows."""
    total = 0.0
    if l2:
        flat = W.ravel().astype(np.float64)
        total += l2 / (2.0 * m) * float(flat @ flat)
    if l1:
        total += l1 / (2.0 * m) * float(np.abs(W).sum(dtype=np.float64))
    return total


def add_penalty_gradient(W, gW, l2, l1, m, scratch):
    """Add ``(l2/m) W + (l1/2m) sign(W)`` to ``gW`` in place using ``scratch``."""
    if l2:
        np.multiply(W, W.dtype.type(l2 / m), out=scratch)
        gW += scratch
    if l1:
        np.sign(W, out=scratch)
        scratch *= W.dtype.type(l1 / (2.0 * m))
        gW += scratch


def lambda_from_keras_l2(c, m):
    """Convert Keras ``regularizers.l2(c)`` to the notes' lambda for batch size m.

    Examples
    --------
    >>> lambda_from_keras_l2(0.01, 200)
    4.0
    """
    return 2.0 * m * c
