"""scikit-learn estimators built on :class:`~mlstrat.nn.Sequential`."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from mlstrat.nn._activations import ACTIVATIONS
from mlstrat.nn._callbacks import EarlyStopping, ProgressBar
from mlstrat.nn._layers import Dense, Dropout
from mlstrat.nn._network import DTYPES, Sequential, make_rng
from mlstrat.nn._optimizers import OPTIMIZERS, Optimizer, get_optimizer
from mlstrat.nn._schedules import SCHEDULES
from mlstrat.nn._validation import check_choice, check_finite_rows, check_number, fail

HIDDEN_ACTIVATIONS = {k: v for k, v in ACTIVATIONS.items() if k != "softmax"}
MONITORS = {"val_loss": "min", "val_error": "min", "loss": "min", "error": "min"}


class _BaseNeuralNet(BaseEstimator):
    """Shared hyperparameters, validation and the training loop of the estimators."""

    # learned in fit (declared for type checkers; set on the instance only)
    _rng: np.random.Generator
    _n_outputs: int
    _y_ndim: int
    _target_options: ClassVar[dict[str, bool]] = {}

    def __init__(self, hidden_layer_sizes=(100,), *, activation="relu", optimizer="adam",
                 learning_rate=1e-3, batch_size=200, max_epochs=200, l2=0.0, l1=0.0,
                 dropout=0.0, input_dropout=0.0, momentum=0.9, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, lr_schedule=None, decay_rate=None, early_stopping=False,
                 monitor="val_loss", patience=10, min_delta=1e-4,
                 validation_fraction=0.1, restore_best_weights=True, normalize=True,
                 dtype="float32", warm_start=False, random_state=None, verbose=False,
                 callbacks=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.l2 = l2
        self.l1 = l1
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lr_schedule = lr_schedule
        self.decay_rate = decay_rate
        self.early_stopping = early_stopping
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.validation_fraction = validation_fraction
        self.restore_best_weights = restore_best_weights
        self.normalize = normalize
        self.dtype = dtype
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # ------------------------------------------------------------- validation
    def _check_params(self):
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        if not isinstance(sizes, (tuple, list)) or not all(
                isinstance(h, numbers.Integral) and int(h) > 0 for h in sizes):
            fail(owner, "hidden_layer_sizes", "a tuple of positive ints such as (100,)",
                 self.hidden_layer_sizes)
        check_choice(owner, "activation", self.activation, HIDDEN_ACTIVATIONS)
        if not isinstance(self.optimizer, Optimizer):
            check_choice(owner, "optimizer", self.optimizer, OPTIMIZERS)
        for name, low_open in (("learning_rate", True), ("epsilon", True),
                               ("l2", False), ("l1", False), ("min_delta", False)):
            check_number(owner, name, getattr(self, name), low=0, low_open=low_open)
        for name in ("dropout", "input_dropout", "momentum", "beta1", "beta2"):
            check_number(owner, name, getattr(self, name), low=0, high=1, high_open=True)
        check_number(owner, "max_epochs", self.max_epochs, low=1, integer=True)
        check_number(owner, "patience", self.patience, low=0, integer=True)
        check_number(owner, "validation_fraction", self.validation_fraction, low=0,
                     high=1, low_open=True, high_open=True)
        if self.batch_size is not None:
            check_number(owner, "batch_size", self.batch_size, low=1, integer=True)
        if self.lr_schedule is not None and not callable(self.lr_schedule):
            check_choice(owner, "lr_schedule", self.lr_schedule, SCHEDULES)
        if self.decay_rate is not None:
            check_number(owner, "decay_rate", self.decay_rate, low=0, low_open=True)
        check_choice(owner, "monitor", self.monitor, MONITORS)
        check_choice(owner, "dtype", self.dtype, DTYPES)
        return tuple(int(h) for h in sizes)

    def _validate(self, X, y, reset):
        y_array = np.asarray(y) if y is not None else None
        if y_array is not None and y_array.ndim >= 1 and y_array.dtype.kind == "f":
            check_finite_rows(y_array.reshape(y_array.shape[0], -1), "y")
        X, y = validate_data(self, X, y, reset=reset, dtype=DTYPES[self.dtype],
                             ensure_all_finite=False, **self._target_options)
        check_finite_rows(X, "X")
        return X, y

    def _check_predict_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=DTYPES[self.dtype],
                          ensure_all_finite=False)
        check_finite_rows(X, "X", when="predict")
        return X

    # --------------------------------------------------------------- building
    def _build_model(self, sizes, n_features, n_outputs, rng):
        layers: list[Dense | Dropout] = []
        if self.input_dropout:
            layers.append(Dropout(self.input_dropout))
        for units in sizes:
            layers.append(Dense(units, self.activation, l2=self.l2, l1=self.l1))
            if self.dropout:
                layers.append(Dropout(self.dropout))
        init = "zeros" if not sizes else "auto"
        layers.append(Dense(n_outputs, self._output_activation(n_outputs), l2=self.l2,
                            l1=self.l1, kernel_initializer=init))
        return Sequential(layers, input_dim=n_features, random_state=rng,
                          dtype=self.dtype)

    def _make_optimizer(self):
        if isinstance(self.optimizer, Optimizer):
            return self.optimizer
        return get_optimizer(self.optimizer, learning_rate=self.learning_rate,
                             momentum=self.momentum, beta1=self.beta1, beta2=self.beta2,
                             epsilon=self.epsilon)

    def _split_validation(self, X, Y, validation_data, rng):
        if validation_data is not None:
            Xv, yv = validation_data
            Xv = self._check_predict_X_unfitted(Xv)
            return X, Y, (Xv, self._encode_y(yv))
        if not self.early_stopping:
            return X, Y, None
        if X.shape[0] < 2:
            raise ValueError("early_stopping=True needs at least 2 samples to hold out "
                             f"a validation set; got {X.shape[0]}.")
        seed = int(rng.integers(2**31 - 1))
        stratify = Y if self._stratify_ok(Y) else None
        try:
            X, Xv, Y, Yv = train_test_split(X, Y, test_size=self.validation_fraction,
                                            random_state=seed, stratify=stratify)
        except ValueError:
            X, Xv, Y, Yv = train_test_split(X, Y, test_size=self.validation_fraction,
                                            random_state=seed)
        return X, Y, (Xv, Yv)

    def _check_predict_X_unfitted(self, Xv):
        Xv = validate_data(self, Xv, reset=False, dtype=DTYPES[self.dtype],
                           ensure_all_finite=False)
        check_finite_rows(Xv, "validation X")
        return Xv

    def _stratify_ok(self, Y):
        return False

    def _callbacks(self):
        cbs = list(self.callbacks or [])
        if self.early_stopping:
            cbs.append(EarlyStopping(monitor=self.monitor, patience=self.patience,
                                     min_delta=self.min_delta,
                                     restore_best_weights=self.restore_best_weights))
        if self.verbose:
            cbs.append(ProgressBar(total=self.max_epochs))
        return cbs

    # --------------------------------------------------------------- training
    def fit(self, X, y, validation_data=None):
        """Train for ``max_epochs`` epochs (more epochs on top if ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        validation_data : tuple (X_dev, y_dev), optional
            Used for ``val_loss``/``val_error`` and early stopping.  Without it
            and with ``early_stopping=True`` a (stratified) ``validation_fraction``
            of the training data is held out.

        Returns
        -------
        self
        """
        continuing = self.warm_start and hasattr(self, "model_")
        return self._fit(X, y, validation_data, self.max_epochs, continuing,
                         classes=None)

    def partial_fit(self, X, y, classes=None):
        """Train one more epoch (building the model on the first call)."""
        return self._fit(X, y, None, 1, hasattr(self, "model_"), classes=classes)

    def _fit(self, X, y, validation_data, epochs, continuing, classes):
        sizes = self._check_params()
        X, y = self._validate(X, y, reset=not continuing)
        Y = self._prepare_targets(y, continuing, classes)
        rng = make_rng(self.random_state) if not continuing else self._rng
        X, Y, val = self._split_validation(X, Y, validation_data, rng)
        if not continuing:
            self._rng = rng
            self.model_ = self._build_model(sizes, X.shape[1], self._n_outputs, rng)
            self._optimizer = self._make_optimizer()
            if self.normalize:
                self.model_._fit_normalization(X)
        callbacks = self._callbacks()
        self.model_.fit(X, Y, epochs=epochs, batch_size=self.batch_size,
                        optimizer=self._optimizer, validation_data=val,
                        callbacks=callbacks, lr_schedule=self.lr_schedule,
                        decay_rate=self.decay_rate)
        self._set_fitted_attributes(callbacks)
        return self

    def _set_fitted_attributes(self, callbacks):
        weights = self.model_.get_weights()
        self.coefs_, self.intercepts_ = weights[0::2], weights[1::2]
        self.history_ = [dict(row) for row in self.model_.history.rows]
        self.n_epochs_ = len(self.history_)
        best = None
        for cb in callbacks:
            if isinstance(cb, EarlyStopping) and cb.restore_best_weights:
                best = cb.best_epoch
        self.best_epoch_ = best if best is not None else self.n_epochs_

    def _predict_output(self, X):
        X = self._check_predict_X(X)
        return self.model_.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """Feed-forward neural-network classifier (sigmoid output for 2 classes, softmax otherwise).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden layer; ``()`` is logistic/softmax regression.
    activation : {'relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear'}, default='relu'
    optimizer : {'adam', 'sgd', 'momentum', 'rmsprop'} or Optimizer, default='adam'
    learning_rate : float, default=1e-3
    batch_size : int or None, default=200
        ``None`` is full-batch gradient descent; capped at n_samples.
    max_epochs : int, default=200
        Epochs per ``fit`` (additional epochs when ``warm_start``).
    l2, l1 : float, default=0.0
        lambda of ``(lambda / 2m) sum ||W||^2`` and ``(lambda / 2m) sum |W|`` on
        every layer's weights (l2 equals scikit-learn's MLP ``alpha``).
    dropout : float, default=0.0
        Drop probability after each hidden layer (keep_prob = 1 - dropout).
    input_dropout : float, default=0.0
        Drop probability on the inputs.
    momentum, beta1, beta2, epsilon : float
        Optimiser settings (momentum for 'momentum', the rest for 'adam';
        epsilon also for 'rmsprop').
    lr_schedule : {None, 'constant', 'inverse_time', 'exponential', 'staircase'} or callable
    decay_rate : float, optional
        inverse_time: ``decay`` (default 1.0); exponential/staircase: ``rate``
        (defaults 0.95 and 0.5).
    early_stopping : bool, default=False
    monitor : {'val_loss', 'val_error', 'loss', 'error'}, default='val_loss'
    patience : int, default=10
    min_delta : float, default=1e-4
    validation_fraction : float, default=0.1
        Held out (stratified) when early_stopping and no validation_data.
    restore_best_weights : bool, default=True
    normalize : bool, default=True
        Standardise inputs with training-set statistics.
    dtype : {'float32', 'float64'}, default='float32'
    warm_start : bool, default=False
        A later ``fit`` continues weights and optimiser state for
        ``max_epochs`` more epochs and appends to ``history_``.
    random_state : int, Generator or None
    verbose : bool, default=False
    callbacks : list of Callback, optional

    Attributes
    ----------
    classes_, coefs_, intercepts_, history_, n_epochs_, best_epoch_,
    n_features_in_, model_

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlstrat.nn import NeuralNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NeuralNetClassifier((16,), learning_rate=0.01, max_epochs=50,
    ...                           random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    classes_: np.ndarray

    def _prepare_targets(self, y, continuing, classes):
        check_classification_targets(y)
        if continuing:
            if np.setdiff1d(np.unique(y), self.classes_).size:
                raise ValueError(f"y holds labels {np.setdiff1d(np.unique(y), self.classes_)} "
                                 f"not in classes_ {self.classes_}; refit without warm_start.")
        else:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if labels.size < 2:
                raise ValueError(f"y has only 1 class ({labels[0]!r}); a classifier needs "
                                 "at least 2 classes in the training data.")
            self.classes_ = labels
            self._n_outputs = 1 if labels.size == 2 else labels.size
        return self._encode_y(y)

    def _encode_y(self, y):
        y = np.asarray(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.classes_.size - 1)
        if np.any(self.classes_[idx] != y):
            raise ValueError(f"y holds labels not in classes_ {self.classes_}.")
        return idx

    def _stratify_ok(self, Y):
        return np.bincount(Y).min() >= 2

    def _output_activation(self, n_outputs):
        return "sigmoid" if n_outputs == 1 else "softmax"

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        P = self._predict_output(X)
        if P.shape[1] == 1:
            P = np.hstack([1 - P, P])
        return P

    def predict(self, X):
        """Predicted class labels."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class NeuralNetRegressor(RegressorMixin, _BaseNeuralNet):
    """Feed-forward neural-network regressor (linear output, half-MSE loss).

    Same parameters as :class:`NeuralNetClassifier`; ``history_`` error is the
    MSE and ``score`` is R^2.  Multi-output targets are supported.

    Examples
    --------
    >>> import numpy as np
    >>> from mlstrat.nn import NeuralNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = X @ [1.0, -2.0, 0.5] + 3
    >>> reg = NeuralNetRegressor((), learning_rate=0.05, max_epochs=100,
    ...                          random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    _target_options: ClassVar[dict[str, bool]] = {"multi_output": True, "y_numeric": True}

    def _prepare_targets(self, y, continuing, classes):
        y = np.asarray(y, dtype=DTYPES[self.dtype])
        check_finite_rows(y.reshape(y.shape[0], -1), "y")
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if continuing and n_outputs != self._n_outputs:
            raise ValueError(f"y has {n_outputs} outputs but the fitted model has "
                             f"{self._n_outputs}; refit without warm_start.")
        self._n_outputs, self._y_ndim = n_outputs, y.ndim
        return self._encode_y(y)

    def _encode_y(self, y):
        y = np.asarray(y, dtype=DTYPES[self.dtype])
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _output_activation(self, n_outputs):
        return "linear"

    def predict(self, X):
        """Predicted values, shape (n_samples,) or (n_samples, n_outputs)."""
        out = self._predict_output(X).astype(np.float64)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LogisticRegressionNN(NeuralNetClassifier):
    """Logistic (or softmax) regression: a :class:`NeuralNetClassifier` with no hidden layer.

    ``hidden_layer_sizes=()`` by default, weights start at zero (allowed
    because there is no hidden layer whose symmetry needs breaking), and the
    other parameters are those of :class:`NeuralNetClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from mlstrat.nn import LogisticRegressionNN
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = LogisticRegressionNN(learning_rate=0.01, max_epochs=30).fit(X, y)
    >>> clf.coefs_[0].shape, clf.score(X, y) > 0.95
    ((30, 1), True)
    """

    def __init__(self, hidden_layer_sizes=(), *, activation="relu", optimizer="adam",
                 learning_rate=1e-3, batch_size=200, max_epochs=200, l2=0.0, l1=0.0,
                 dropout=0.0, input_dropout=0.0, momentum=0.9, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, lr_schedule=None, decay_rate=None, early_stopping=False,
                 monitor="val_loss", patience=10, min_delta=1e-4,
                 validation_fraction=0.1, restore_best_weights=True, normalize=True,
                 dtype="float32", warm_start=False, random_state=None, verbose=False,
                 callbacks=None):
        super().__init__(
            hidden_layer_sizes, activation=activation, optimizer=optimizer,
            learning_rate=learning_rate, batch_size=batch_size, max_epochs=max_epochs,
            l2=l2, l1=l1, dropout=dropout, input_dropout=input_dropout,
            momentum=momentum, beta1=beta1, beta2=beta2, epsilon=epsilon,
            lr_schedule=lr_schedule, decay_rate=decay_rate,
            early_stopping=early_stopping, monitor=monitor, patience=patience,
            min_delta=min_delta, validation_fraction=validation_fraction,
            restore_best_weights=restore_best_weights, normalize=normalize,
            dtype=dtype, warm_start=warm_start, random_state=random_state,
            verbose=verbose, callbacks=callbacks)
