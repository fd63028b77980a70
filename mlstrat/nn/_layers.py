"""Layer specifications: :class:`Dense` and :class:`Dropout`.

Layers only describe the architecture; the :class:`~mlstrat.nn.Sequential`
model owns the parameters in one flat buffer and exposes per-layer views.
"""

from __future__ import annotations

import numbers

from mlstrat.nn._activations import ACTIVATIONS
from mlstrat.nn._init import INITIALIZERS
from mlstrat.nn._validation import check_choice, check_number, fail


class Dense:
    """Fully connected layer ``A = g(A_prev @ W + b)``.

    Parameters
    ----------
    units : int
        Number of output units (> 0).
    activation : {'relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear', 'softmax'}, default='linear'
    l2 : float, default=0.0
        lambda of the penalty ``(lambda / 2m) ||W||_F^2`` (notes' convention,
        equal to scikit-learn's ``alpha``; Keras ``l2(c)`` is ``c = lambda / 2m``).
    l1 : float, default=0.0
        lambda of the penalty ``(lambda / 2m) sum |W|``.
    kernel_initializer : {'auto', 'he', 'xavier', 'zeros'}, default='auto'
        'auto' is He for relu/leaky_relu and Xavier otherwise; 'zeros' is
        only allowed for the output layer.

    Examples
    --------
    >>> Dense(3, activation="relu", l2=0.1)
    Dense(3, activation='relu', l2=0.1, l1=0.0)
    """

    def __init__(self, units, activation="linear", *, l2=0.0, l1=0.0,
                 kernel_initializer="auto"):
        check_number("Dense", "units", units, low=1, integer=True)
        check_choice("Dense", "activation", activation, ACTIVATIONS)
        check_number("Dense", "l2", l2, low=0)
        check_number("Dense", "l1", l1, low=0)
        if kernel_initializer != "auto":
            check_choice("Dense", "kernel_initializer", kernel_initializer, INITIALIZERS)
        self.units = int(units)
        self.activation = activation
        self.l2 = float(l2)
        self.l1 = float(l1)
        self.kernel_initializer = kernel_initializer

    def get_config(self):
        """JSON-serialisable description of the layer."""
        return {"type": "Dense", "units": self.units, "activation": self.activation,
                "l2": self.l2, "l1": self.l1,
                "kernel_initializer": self.kernel_initializer}

    def __repr__(self):
        return (f"Dense({self.units}, activation={self.activation!r}, "
                f"l2={self.l2}, l1={self.l1})")


class Dropout:
    """Inverted dropout on the output of the previous layer (or on the inputs).

    Each unit is dropped with probability ``rate`` (``keep_prob = 1 - rate``)
    and the kept ones are scaled by ``1 / keep_prob`` so the expected
    activation is unchanged.  Active only during training; the same mask
    multiplies the backward gradient.

    Examples
    --------
    >>> Dropout(0.25).keep_prob
    0.75
    """

    def __init__(self, rate):
        if not isinstance(rate, numbers.Real) or not 0 <= float(rate) < 1:
            fail("Dropout", "rate", "a float in [0, 1)", rate)
        self.rate = float(rate)

    @property
    def keep_prob(self):
        """Probability of keeping a unit."""
        return 1.0 - self.rate

    def get_config(self):
        """JSON-serialisable description of the layer."""
        return {"type": "Dropout", "rate": self.rate}

    def __repr__(self):
        return f"Dropout({self.rate})"


LAYERS = {"Dense": Dense, "Dropout": Dropout}


def layer_from_config(config):
    """Rebuild a layer from :meth:`get_config` output (no code is executed)."""
    config = dict(config)
    kind = config.pop("type", None)
    check_choice("layer config", "type", kind, LAYERS)
    return LAYERS[kind](**config)
