"""Optimisers working on the model's flat parameter buffer.

Each ``step(params, grads, lr)`` updates ``params`` in place with a few
whole-array operations; state buffers are allocated once, in the
parameters' dtype.
"""

from __future__ import annotations

import inspect

import numpy as np

from mlstrat.nn._validation import check_choice, check_number


class Optimizer:
    """Base class: holds the base learning rate and lazily allocated state."""

    def __init__(self, learning_rate=0.01):
        check_number(type(self).__name__, "learning_rate", learning_rate, low=0,
                     low_open=True)
        self.learning_rate = float(learning_rate)
        self._state = None

    def _ensure_state(self, params, n_buffers):
        if self._state is None or self._state[0].shape != params.shape \
                or self._state[0].dtype != params.dtype:
            self._state = [np.zeros_like(params) for _ in range(n_buffers)]
            self.iterations = 0
        return self._state

    def reset(self):
        """Forget the accumulated state (moments, velocity, step count)."""
        self._state = None

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


class SGD(Optimizer):
    """Plain (mini-batch) gradient descent ``p -= lr * g``."""

    def step(self, params, grads, lr):
        (scratch,) = self._ensure_state(params, 1)
        np.multiply(grads, params.dtype.type(lr), out=scratch)
        params -= scratch


class Momentum(Optimizer):
    """Gradient descent with momentum: ``v = mu v - lr g; p += v``."""

    def __init__(self, learning_rate=0.01, momentum=0.9):
        super().__init__(learning_rate)
        check_number("Momentum", "momentum", momentum, low=0, high=1, high_open=True)
        self.momentum = float(momentum)

    def step(self, params, grads, lr):
        velocity, scratch = self._ensure_state(params, 2)
        velocity *= params.dtype.type(self.momentum)
        np.multiply(grads, params.dtype.type(lr), out=scratch)
        velocity -= scratch
        params += velocity


class RMSprop(Optimizer):
    """RMSprop: ``s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps)``."""

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-8):
        super().__init__(learning_rate)
        check_number("RMSprop", "rho", rho, low=0, high=1, high_open=True)
        check_number("RMSprop", "epsilon", epsilon, low=0, low_open=True)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def step(self, params, grads, lr):
        s, scratch = self._ensure_state(params, 2)
        t = params.dtype.type
        s *= t(self.rho)
        np.multiply(grads, grads, out=scratch)
        scratch *= t(1 - self.rho)
        s += scratch
        np.sqrt(s, out=scratch)
        scratch += t(self.epsilon)
        np.divide(grads, scratch, out=scratch)
        scratch *= t(lr)
        params -= scratch


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba), as in scikit-learn.

    ``p -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)``.

    Examples
    --------
    >>> import numpy as np
    >>> p, g = np.ones(3), np.full(3, 2.0)
    >>> Adam(learning_rate=0.1).step(p, g, 0.1)
    >>> p.round(4).tolist()
    [0.9, 0.9, 0.9]
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        check_number("Adam", "beta1", beta1, low=0, high=1, high_open=True)
        check_number("Adam", "beta2", beta2, low=0, high=1, high_open=True)
        check_number("Adam", "epsilon", epsilon, low=0, low_open=True)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def step(self, params, grads, lr):
        # The moments are kept rescaled, M = m / (1 - beta1) and V = v / (1 - beta2),
        # so that each update is M = beta1 M + g and V = beta2 V + g^2; the two
        # factors are folded into the scalar step size and epsilon.  Same update
        # as the formula above up to float rounding, in 10 array passes, not 12.
        M, V, scratch = self._ensure_state(params, 3)
        t = params.dtype.type
        self.iterations += 1
        k = self.iterations
        b1, b2 = self.beta1, self.beta2
        root = np.sqrt(1 - b2)
        step = lr * np.sqrt(1 - b2 ** k) / (1 - b1 ** k) * (1 - b1) / root
        M *= t(b1)
        M += grads
        V *= t(b2)
        np.multiply(grads, grads, out=scratch)
        V += scratch
        np.sqrt(V, out=scratch)
        scratch += t(self.epsilon / root)
        np.divide(M, scratch, out=scratch)
        scratch *= t(step)
        params -= scratch


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum,
                                           "rmsprop": RMSprop, "adam": Adam}


def get_optimizer(optimizer, **kwargs):
    """Return an optimiser instance from a registry name or an instance.

    ``kwargs`` (learning_rate, momentum, beta1, ...) are passed on only if the
    optimiser's constructor takes them.
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    check_choice("fit", "optimizer", optimizer, OPTIMIZERS)
    cls = OPTIMIZERS[optimizer]
    names = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in kwargs.items() if k in names})
