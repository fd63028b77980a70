"""Training callbacks: :class:`History`, :class:`EarlyStopping`, :class:`ProgressBar`.

A callback receives ``on_train_begin(logs)``, ``on_epoch_end(epoch, logs)``
and ``on_train_end(logs)``; ``epoch`` counts from 1 across successive
``fit`` calls, ``logs`` is that epoch's history row (keys ``epoch``,
``loss``, ``error``, ``val_loss``, ``val_error``, ``learning_rate``,
``seconds``; the ``val_`` entries are NaN without validation data).
A callback stops training by setting ``model.stop_training = True``.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from mlstrat.nn._validation import check_choice, check_number, fail

HISTORY_KEYS = ("epoch", "loss", "error", "val_loss", "val_error",
                "learning_rate", "seconds")


class Callback:
    """Base class; override the hooks you need."""

    model: Any = None  # duck-typed: get_weights, set_weights, stop_training

    def set_model(self, model):
        """Attach the model being trained."""
        self.model = model

    def _attached_model(self) -> Any:
        if self.model is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a model; call "
                               "set_model(model) first (Sequential.fit does).")
        return self.model

    def on_train_begin(self, logs=None):
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called after every epoch with that epoch's history row."""

    def on_train_end(self, logs=None):
        """Called once after the last epoch (logs = last row or {})."""


class History(Callback):
    """Records one row per epoch; ``rows`` feeds ``pandas.DataFrame`` directly.

    ``loss`` is the mean data loss over the epoch's mini-batches (without the
    penalty, dropout active, as Keras reports it); ``val_loss`` and
    ``val_error`` are computed on the validation data at the end of the epoch
    with dropout off.
    """

    def __init__(self):
        self.rows = []

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append(dict(logs))

    @property
    def history(self):
        """Keras-style dict of lists."""
        return {key: [row[key] for row in self.rows] for key in HISTORY_KEYS}

    def __len__(self):
        return len(self.rows)


_MODES = {"min": 1.0, "max": -1.0, "auto": None}


class EarlyStopping(Callback):
    """Stop when the monitored quantity stopped improving (Keras 3 semantics).

    Parameters
    ----------
    monitor : {'val_loss', 'val_error', 'loss', 'error'}, default='val_loss'
    patience : int, default=5
        Training stops once ``wait >= patience`` epochs passed without an
        improvement larger than ``min_delta``.
    min_delta : float, default=0.0
    restore_best_weights : bool, default=True
        Restore the best epoch's weights at the end of training, also when
        training was not stopped early.
    start_from_epoch : int, default=0
        Number of epochs (of this fit) to ignore before monitoring starts.
    mode : {'auto', 'min', 'max'}, default='auto'
        'auto' means 'max' for names containing 'acc' and 'min' otherwise.

    Attributes
    ----------
    best_epoch : int or None
    stopped_epoch : int  (0 if training was not stopped)

    Examples
    --------
    >>> es = EarlyStopping(monitor="loss", patience=2)
    >>> class Model: stop_training = False
    ...
    >>> es.set_model(Model()); es.restore_best_weights = False
    >>> es.on_train_begin()
    >>> for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.4, 1.0], start=1):
    ...     es.on_epoch_end(epoch, {"loss": loss})
    ...     if es.model.stop_training: break
    >>> es.best_epoch, es.stopped_epoch
    (2, 4)
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0,
                 restore_best_weights=True, start_from_epoch=0, mode="auto"):
        check_number("EarlyStopping", "patience", patience, low=0, integer=True)
        check_number("EarlyStopping", "min_delta", min_delta, low=0)
        check_number("EarlyStopping", "start_from_epoch", start_from_epoch, low=0,
                     integer=True)
        check_choice("EarlyStopping", "mode", mode, _MODES)
        if not isinstance(monitor, str):
            fail("EarlyStopping", "monitor", "a history key such as 'val_loss'", monitor)
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch, self.mode = start_from_epoch, mode

    def _sign(self):
        sign = _MODES[self.mode]
        if sign is None:
            sign = -1.0 if "acc" in self.monitor else 1.0
        return sign

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_epoch, self.best_weights = math.inf, None, None
        self._first_epoch = None

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r} but the epoch logs have no "
                f"value for it (keys: {sorted(logs or {})}). Pass "
                "validation_data=(X_dev, y_dev) to fit, or monitor 'loss'/'error'.")
        return self._sign() * float(value)

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if self._first_epoch is None:
            self._first_epoch = epoch
        if epoch - self._first_epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._attached_model().get_weights()
        self.wait += 1
        if current + self.min_delta < self.best:
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self._attached_model().get_weights()
            return
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self._attached_model().stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self._attached_model().set_weights(self.best_weights)

    @property
    def best_value(self):
        """Best monitored value in its natural sign."""
        return self._sign() * self.best


class ProgressBar(Callback):
    """A progress bar over the epochs (tqdm), with the last epoch's metrics.

    Parameters
    ----------
    total : int, optional
        Epochs expected (early stopping may end sooner).
    stream : file-like, optional
        Where the bar is drawn; stderr by default.

    Examples
    --------
    >>> import io, numpy as np
    >>> from mlstrat.nn import Dense, Sequential
    >>> out = io.StringIO()
    >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> _ = Sequential([Dense(1, activation="sigmoid")], random_state=0).fit(
    ...     X, y, epochs=3, callbacks=[ProgressBar(total=3, stream=out)])
    >>> "3/3" in out.getvalue() and "loss=" in out.getvalue()
    True
    """

    def __init__(self, total=None, stream=None):
        self.total = total
        self.stream = stream
        self._bar = None

    def on_train_begin(self, logs=None):
        self._bar = self._new_bar()

    def _new_bar(self):
        from tqdm.auto import tqdm

        return tqdm(total=self.total, unit="epoch", file=self.stream or sys.stderr,
                    dynamic_ncols=True, leave=True)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is None:  # used without on_train_begin
            self._bar = self._new_bar()
        metrics = {}
        for key in HISTORY_KEYS[1:-1]:
            value = (logs or {}).get(key)
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                metrics[key] = f"{value:.4g}"
        self._bar.set_postfix(metrics, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
