"""The :class:`Sequential` model: forward pass, backpropagation, training loop."""

from __future__ import annotations

import math
import numbers
import warnings
from itertools import pairwise
from time import perf_counter
from typing import Literal

import numpy as np

from mlstrat.nn._activations import ACTIVATIONS, DERIVATIVES
from mlstrat.nn._callbacks import History, ProgressBar
from mlstrat.nn._exceptions import DivergenceWarning
from mlstrat.nn._init import INITIALIZERS, resolve_initializer
from mlstrat.nn._layers import Dense, Dropout
from mlstrat.nn._losses import LOSSES, default_loss
from mlstrat.nn._optimizers import Optimizer, get_optimizer
from mlstrat.nn._regularizers import add_penalty_gradient, penalty
from mlstrat.nn._schedules import get_schedule
from mlstrat.nn._validation import check_choice, check_finite_rows, check_number

DTYPES = {"float32": np.float32, "float64": np.float64}
_CHUNK = 8192
_ZEROS_LIMIT = 2**21  # elements of the per-batch-size zeros matrix for fast ReLU


def make_rng(random_state):
    """``numpy.random.Generator`` from None, an int, a Generator or a RandomState."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int or a numpy Generator; "
                    f"got {type(random_state).__name__}.")


class Sequential:
    """A stack of :class:`Dense` and :class:`Dropout` layers trained by backprop.

    Parameters
    ----------
    layers : list of Dense/Dropout, optional
        A ``Dropout`` applies to the output of the layer before it; a leading
        ``Dropout`` drops inputs.  The last layer must be ``Dense``.
    input_dim : int, optional
        Number of input features; inferred from the first ``fit`` otherwise.
    loss : {'binary_crossentropy', 'categorical_crossentropy', 'mse'}, optional
        Defaults to the loss matched with the output activation (sigmoid ->
        binary, softmax -> categorical, anything else -> mse).
    random_state : int, numpy Generator or None
        Seeds initialisation, shuffling and dropout.
    dtype : {'float32', 'float64'}, default='float32'

    Notes
    -----
    All parameters live in one flat buffer; ``get_weights()`` returns copies
    ``[W1, b1, W2, b2, ...]`` with ``W`` of shape ``(n_in, n_out)``.
    Input standardisation is requested with ``fit(..., normalize=True)``: the
    mean and scale are computed on the training ``X`` of the first such fit
    and applied unchanged in every later ``predict``/``evaluate``/validation.

    Examples
    --------
    >>> import numpy as np
    >>> from mlstrat.nn import Sequential, Dense, Dropout, Adam
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = Sequential([Dense(8, activation="relu", l2=0.01), Dropout(0.1),
    ...                     Dense(2, activation="softmax")], random_state=0)
    >>> history = model.fit(X, y, epochs=30, batch_size=32, optimizer=Adam(0.01))
    >>> model.evaluate(X, y)["error"] < 0.1
    True
    >>> [w.shape for w in model.get_weights()]
    [(4, 8), (8,), (8, 2), (2,)]
    """

    def __init__(self, layers: list | None = None, *, input_dim: int | None = None,
                 loss: str | None = None, random_state=None,
                 dtype: Literal["float32", "float64"] = "float32"):
        check_choice("Sequential", "dtype", dtype, DTYPES)
        self.layers = list(layers) if layers is not None else []
        self.input_dim = input_dim
        self.loss = loss
        self.random_state = random_state
        self.dtype = dtype
        self.built = False
        self.stop_training = False
        self.history = History()
        self.norm_mean_: np.ndarray | None = None
        self.norm_scale_: np.ndarray | None = None
        self._epoch = 0
        self._optimizer: Optimizer | None = None
        if input_dim is not None:
            self.build(input_dim)

    # ------------------------------------------------------------------ build
    def add(self, layer):
        """Append a layer (before the model is built)."""
        if self.built:
            raise ValueError("Cannot add a layer to a built model; create a new "
                             "Sequential with all layers instead.")
        self.layers.append(layer)

    def _plan(self):
        plan, rate = [], 0.0
        for position, layer in enumerate(self.layers):
            if isinstance(layer, Dropout):
                rate = layer.rate if not rate else 1.0 - (1.0 - rate) * layer.keep_prob
            elif isinstance(layer, Dense):
                plan.append((layer, rate))
                rate = 0.0
            else:
                raise TypeError(f"Layer {position} of Sequential is a "
                                f"{type(layer).__name__}; expected Dense or Dropout.")
        if not plan or not isinstance(self.layers[-1], Dense):
            raise ValueError("The last layer of a Sequential model must be Dense "
                             f"(got layers {self.layers}); add the output layer.")
        return plan

    def _resolve_loss(self, activation):
        name = self.loss or default_loss(activation)
        check_choice("Sequential", "loss", name, LOSSES)
        loss = LOSSES[name]
        if loss.fuses_activation and activation != loss.activation:
            raise ValueError(f"The loss {name!r} needs a {loss.activation!r} output "
                             f"layer, got {activation!r}; change the last Dense "
                             "activation or the loss.")
        return name, loss

    def build(self, input_dim):
        """Allocate the flat parameter buffer and initialise the weights."""
        check_number("Sequential", "input_dim", input_dim, low=1, integer=True)
        plan = self._plan()
        self._dtype = np.dtype(DTYPES[self.dtype])
        self._dense = [dense for dense, _ in plan]
        self._drop = [rate for _, rate in plan]
        self._loss_name, self._loss = self._resolve_loss(self._dense[-1].activation)
        sizes = [int(input_dim)] + [dense.units for dense in self._dense]
        total = sum(a * b + b for a, b in pairwise(sizes))
        self._params = np.zeros(total, dtype=self._dtype)
        self._grads = np.zeros(total, dtype=self._dtype)
        self._W: list[np.ndarray] = []
        self._b: list[np.ndarray] = []
        self._gW: list[np.ndarray] = []
        self._gb: list[np.ndarray] = []
        self._scratch: list[np.ndarray] = []
        offset = 0
        for n_in, n_out in pairwise(sizes):
            for buf, views in ((self._params, (self._W, self._b)),
                               (self._grads, (self._gW, self._gb))):
                views[0].append(buf[offset:offset + n_in * n_out].reshape(n_in, n_out))
                views[1].append(buf[offset + n_in * n_out:offset + n_in * n_out + n_out])
            self._scratch.append(np.empty((n_in, n_out), dtype=self._dtype))
            offset += n_in * n_out + n_out
        self._rng = make_rng(self.random_state)
        self._init_weights()
        self.input_dim_ = int(input_dim)
        self.built = True
        return self

    def _init_weights(self):
        last = len(self._dense) - 1
        for i, dense in enumerate(self._dense):
            name = resolve_initializer(dense.kernel_initializer, dense.activation)
            if name == "zeros" and i < last:
                raise ValueError(
                    f"kernel_initializer='zeros' on hidden layer {i} makes all its "
                    "units identical (symmetry is never broken); use 'auto'.")
            n_in, n_out = self._W[i].shape
            self._W[i][...] = INITIALIZERS[name](self._rng, n_in, n_out, self._dtype)

    # ----------------------------------------------------------------- inputs
    def _check_X(self, X, *, build=False):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape "
                             f"{X.shape}. Use X.reshape(-1, 1) for a single feature.")
        if X.shape[0] == 0:
            raise ValueError("X has 0 rows; pass at least one sample.")
        if X.dtype.kind not in "fiub":
            raise TypeError(f"X must be numeric; got dtype {X.dtype}.")
        if not self.built:
            if not build:
                raise ValueError("This Sequential model is not built yet; call fit "
                                 "or pass input_dim= first.")
            self.build(X.shape[1])
        if X.shape[1] != self.input_dim_:
            raise ValueError(f"X has {X.shape[1]} features, but this model was "
                             f"built for {self.input_dim_} features.")
        X = X.astype(self._dtype, copy=False)
        check_finite_rows(X, "X")
        return X

    def _encode_targets(self, y, n):
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(f"X and y have different numbers of rows: X has {n}, y "
                             f"has {y.shape[0] if y.ndim else 'a scalar'}. Pass one "
                             "target per row of X.")
        k = self._dense[-1].units
        if self._loss_name == "categorical_crossentropy" and (
                y.ndim == 1 or y.shape[1] == 1):
            return self._encode_indices(y.reshape(-1), k)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.ndim != 2 or Y.shape[1] != k:
            raise ValueError(f"y has shape {y.shape} but the output layer has {k} "
                             f"units; expected ({n}, {k}) or ({n},) when {k} == 1.")
        if Y.dtype.kind not in "fiub":
            raise TypeError(f"y must be numeric; got dtype {Y.dtype}.")
        Y = Y.astype(self._dtype)
        check_finite_rows(Y, "y")
        if self._loss_name == "binary_crossentropy" and ((Y < 0) | (Y > 1)).any():
            raise ValueError("y for a sigmoid output must lie in [0, 1] (0/1 labels); "
                             "encode the classes as 0 and 1.")
        return Y

    @staticmethod
    def _encode_indices(y, k):
        if y.dtype.kind not in "iub" and not (
                y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise ValueError(f"y for a softmax output must hold integer class indices "
                             f"0..{k - 1} or a one-hot matrix; got dtype {y.dtype}. "
                             "Encode labels with sklearn.preprocessing.LabelEncoder.")
        yi = y.astype(np.intp)
        if yi.size and (yi.min() < 0 or yi.max() >= k):
            raise ValueError(f"y holds class indices in [{yi.min()}, {yi.max()}] but the "
                             f"softmax layer has {k} units; expected 0..{k - 1}.")
        return yi

    def _fit_normalization(self, X):
        n = X.shape[0]
        shift = X[:1000].mean(axis=0, dtype=np.float64)
        s1, s2 = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        for start in range(0, n, 65536):
            D = X[start:start + 65536].astype(np.float64) - shift
            s1 += D.sum(axis=0)
            s2 += np.einsum("ij,ij->j", D, D)
        mean_d = s1 / n
        scale = np.sqrt(np.maximum(s2 / n - mean_d**2, 0.0))
        mean = shift + mean_d
        scale[scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
        self.set_normalization(mean, scale)

    def set_normalization(self, mean, scale):
        """Set the standardisation ``(x - mean) / scale`` applied to every input."""
        self.norm_mean_ = np.asarray(mean, dtype=self._dtype)
        self.norm_scale_ = np.asarray(scale, dtype=self._dtype)
        self._inv_scale = (1.0 / np.asarray(scale, np.float64)).astype(self._dtype)

    def _normalize(self, Xb, inplace):
        if self.norm_mean_ is None:
            return Xb
        if not inplace:
            return (Xb - self.norm_mean_) * self._inv_scale
        Xb -= self.norm_mean_
        Xb *= self._inv_scale
        return Xb

    # ---------------------------------------------------------- forward/back
    def _dropout_mask(self, shape, rate):
        t = self._dtype.type
        draw = self._rng.random(shape, dtype=self._dtype)
        return np.where(draw >= rate, t(1.0 / (1.0 - rate)), t(0.0))

    def _buffers(self, m):
        """Per-batch-size work arrays (Z, A, delta per layer), reused across batches."""
        return self._workspace_for(m)[:3]

    def _workspace_for(self, m):
        """``(Zs, As, deltas, extras)`` for batches of ``m`` rows, reused across batches.

        ``extras`` holds a ones vector (bias gradients as ``ones @ delta``), a
        zeros matrix per ReLU layer (``np.maximum`` against a same-shaped array
        takes NumPy's vectorised loop, a broadcast scalar does not; only up to
        ``_ZEROS_LIMIT`` elements, else None), a bool buffer per ReLU layer for
        relu'(Z), the row offsets addressing each row's true class in a flat
        ``(m, k)`` array, and small buffers for the softmax cross-entropy step.
        """
        workspace = self.__dict__.setdefault("_workspace", {})
        if m not in workspace:
            if len(workspace) >= 4:
                workspace.clear()
            Zs, As, Ds = (
                [np.empty((m, dense.units), dtype=self._dtype) for dense in self._dense]
                for _ in range(3))
            widths = [d.units for d in self._dense if d.activation == "relu"]
            size = m * max(widths, default=0)
            zeros = np.zeros(size, dtype=self._dtype) if size <= _ZEROS_LIMIT else None
            k = self._dense[-1].units
            extras = {"ones": np.ones(m, dtype=self._dtype),
                      "zeros": [zeros[:m * d.units].reshape(m, d.units)
                                if d.activation == "relu" and zeros is not None else None
                                for d in self._dense],
                      "relu_mask": [np.empty((m, d.units), dtype=bool)
                                    if d.activation == "relu" else None for d in self._dense],
                      "row_base": np.arange(m, dtype=np.intp) * k,
                      "flat_index": np.empty(m, dtype=np.intp),
                      "row_loss": np.empty(m, dtype=np.float64),
                      "delta_flat": Ds[-1].reshape(-1)}
            workspace[m] = (Zs, As, Ds, extras)
        return workspace[m]

    def _forward(self, A, training, last_activation=True):
        """Forward pass; the returned arrays live in reused buffers (copy to keep).

        With ``last_activation=False`` the output layer's activation is not
        applied (its output buffer is left for the caller to fill).
        """
        Zs, As, _, extras = self._workspace_for(A.shape[0])
        zeros, relu_masks = extras["zeros"], extras["relu_mask"]
        cache = []
        last = len(self._dense) - 1
        for i, dense in enumerate(self._dense):
            mask = None
            if training and self._drop[i] > 0:
                mask = self._dropout_mask(A.shape, self._drop[i])
                A = A * mask
            Z = np.matmul(A, self._W[i], out=Zs[i])
            Z += self._b[i]
            relu_mask = None
            if i == last and not last_activation:
                out = As[i]
            elif relu_masks[i] is not None:
                if training:  # relu'(Z) as a bool mask, taken while Z is in cache
                    relu_mask = np.greater_equal(Z, 0, out=relu_masks[i])
                out = (np.maximum(Z, zeros[i], out=As[i]) if zeros[i] is not None
                       else ACTIVATIONS["relu"](Z, out=As[i]))
            else:
                out = ACTIVATIONS[dense.activation](Z, out=As[i])
            cache.append((A, Z, out, mask, relu_mask))
            A = out
        return A, cache

    def _output_delta(self, Y, cache, m):
        _, Z, out = cache[-1][:3]
        delta = self._loss.delta(Z, out, Y)
        if not self._loss.fuses_activation:
            DERIVATIVES[self._dense[-1].activation](Z, out, delta)
        delta *= self._dtype.type(1.0 / m)
        return delta

    def _backward(self, Y, cache, m):
        self._backward_delta(self._output_delta(Y, cache, m), cache, m)

    def _backward_delta(self, delta, cache, m):
        """Backpropagate the output layer's dJ/dZ ``delta`` into ``self._grads``."""
        _, _, deltas, extras = self._workspace_for(m)
        ones = extras["ones"]
        decay = self._l2_decay(m, extras)
        for i in range(len(self._dense) - 1, -1, -1):
            A_in, mask = cache[i][0], cache[i][3]
            np.matmul(A_in.T, delta, out=self._gW[i])
            np.matmul(ones, delta, out=self._gb[i])
            if decay is None:
                dense = self._dense[i]
                add_penalty_gradient(self._W[i], self._gW[i], dense.l2, dense.l1, m,
                                     self._scratch[i])
            if i > 0:
                delta = np.matmul(delta, self._W[i].T, out=deltas[i - 1])
                if mask is not None:
                    delta *= mask
                _, Z_prev, out_prev, _, relu_mask = cache[i - 1]
                if relu_mask is not None:
                    np.multiply(delta, relu_mask, out=delta)
                else:
                    DERIVATIVES[self._dense[i - 1].activation](Z_prev, out_prev, delta)
        if decay is not None:  # the L2 gradient of all layers in two whole-buffer passes
            scratch = np.multiply(self._params, decay, out=extras["flat_scratch"])
            self._grads += scratch

    def _l2_decay(self, m, extras):
        """Flat ``(l2 / m)`` per weight, 0 per bias, when the penalty is L2 only.

        ``params * decay`` is exactly ``add_penalty_gradient``'s per-layer term
        (same float scalar per layer) and 0 on the biases; None when some
        layer has an L1 term or no layer has a penalty.
        """
        if "decay" not in extras:
            decay = None
            if any(d.l2 for d in self._dense) and not any(d.l1 for d in self._dense):
                decay = np.zeros_like(self._params)
                offset = 0
                for W, b, dense in zip(self._W, self._b, self._dense, strict=True):
                    decay[offset:offset + W.size] = self._dtype.type(dense.l2 / m)
                    offset += W.size + b.size
                extras["flat_scratch"] = np.empty_like(self._params)
            extras["decay"] = decay
        return extras["decay"]

    def _penalty(self, m):
        return sum(penalty(W, d.l2, d.l1, m) for W, d in zip(self._W, self._dense, strict=True))

    def _train_batch(self, Xb, Yb, optimizer, lr):
        m = Xb.shape[0]
        if Yb.ndim == 1 and self._loss_name == "categorical_crossentropy":
            _, cache = self._forward(Xb, training=True, last_activation=False)
            loss, error, delta = self._softmax_xent_step(cache[-1], Yb, m)
            self._backward_delta(delta, cache, m)
        else:
            out, cache = self._forward(Xb, training=True)
            loss = self._loss.value(cache[-1][1], out, Yb)
            error = self._loss.error(out, Yb)
            self._backward(Yb, cache, m)
        optimizer.step(self._params, self._grads, lr)
        return loss, error

    def _softmax_xent_step(self, layer_cache, y, m):
        """Softmax output, mean cross-entropy, error rate and dJ/dZ in one sweep.

        Same formulas as ``softmax`` + ``CategoricalCrossEntropy`` (value,
        error, delta) for class indices ``y``, sharing the row maxima and the
        row sums of exponentials instead of recomputing them.
        """
        _, Z, out = layer_cache[:3]
        _, _, deltas, extras = self._workspace_for(m)
        flat = np.add(extras["row_base"], y, out=extras["flat_index"])
        add, f64 = np.add.reduce, np.float64
        zmax = np.maximum.reduce(Z, axis=1, keepdims=True)
        np.subtract(Z, zmax, out=out)
        np.exp(out, out=out)
        sums = add(out, axis=1, keepdims=True)
        out /= sums
        # loss = mean(zmax + log(sum exp(Z - zmax)) - z_true), summed in float64
        row_loss = np.subtract(zmax[:, 0], Z.take(flat), out=extras["row_loss"], dtype=f64)
        row_loss += np.log(sums[:, 0], dtype=f64)
        loss = float(add(row_loss) / m)
        error = np.count_nonzero(out.argmax(axis=1) != y) / m
        delta = deltas[-1]
        np.copyto(delta, out)
        extras["delta_flat"][flat] -= 1  # a flat view of delta
        delta *= self._dtype.type(1.0 / m)
        return loss, error, delta

    # --------------------------------------------------------------- training
    def fit(self, X, y, *, epochs: int = 10, batch_size: int | None = 32,
            optimizer="adam", validation_data: tuple | None = None,
            callbacks: list | None = None, verbose: int = 0, normalize: bool = False,
            shuffle: bool = True, lr_schedule=None,
            decay_rate: float | None = None) -> History:
        """Train for ``epochs`` more epochs; returns the (cumulative) History.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : targets; class indices or one-hot for softmax, 0/1 for sigmoid,
            values for a linear output.
        epochs : int, default=10
        batch_size : int or None, default=32
            ``None`` means full-batch gradient descent; otherwise mini-batches
            drawn from a fresh permutation every epoch.
        optimizer : {'sgd', 'momentum', 'rmsprop', 'adam'} or Optimizer
            A string builds a new optimiser; pass the same instance again to
            continue with its state.
        validation_data : tuple (X_dev, y_dev), optional
        callbacks : list of Callback, optional
        verbose : int, default=0
            > 0 prints one line per epoch to stderr.
        normalize : bool, default=False
            Standardise inputs with statistics of this ``X`` (train only).
        lr_schedule : {'constant', 'inverse_time', 'exponential', 'staircase'} or callable
        decay_rate : float, optional
            Rate passed to the schedule.
        """
        check_number("fit", "epochs", epochs, low=0, integer=True)
        if batch_size is not None:
            check_number("fit", "batch_size", batch_size, low=1, integer=True)
        X = self._check_X(X, build=True)
        Y = self._encode_targets(y, X.shape[0])
        if normalize and self.norm_mean_ is None:
            self._fit_normalization(X)
        val = self._prepare_validation(validation_data)
        self._optimizer = get_optimizer(optimizer)
        schedule = get_schedule(lr_schedule, decay_rate)
        cbs = [self.history, *(callbacks or [])]
        if verbose:
            cbs.append(ProgressBar(total=epochs))
        return self._train(X, Y, val, schedule, batch_size, shuffle, epochs, cbs)

    def _prepare_validation(self, validation_data):
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (X_dev, y_dev); got "
                             f"{type(validation_data).__name__}.")
        Xv = self._check_X(validation_data[0])
        return Xv, self._encode_targets(validation_data[1], Xv.shape[0])

    def _train(self, X, Y, val, schedule, batch_size, shuffle, epochs, callbacks):
        for cb in callbacks:
            cb.set_model(self)
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin({})
        logs = {}
        for _ in range(epochs):
            row = self._run_epoch(X, Y, val, schedule, batch_size, shuffle)
            if row is None:
                break
            logs = row
            for cb in callbacks:
                cb.on_epoch_end(row["epoch"], row)
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(logs)
        return self.history

    def _run_epoch(self, X, Y, val, schedule, batch_size, shuffle):
        started = perf_counter()
        optimizer = self._require_optimizer()
        lr = float(schedule(optimizer.learning_rate, self._epoch))
        n = X.shape[0]
        size = n if batch_size is None else min(batch_size, n)
        order = self._rng.permutation(n) if shuffle else np.arange(n)
        snapshot = self._params.copy()
        loss_sum = error_sum = 0.0
        batch = np.empty((size, X.shape[1]), dtype=X.dtype)  # rows gathered here
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, size):
                idx = order[start:start + size]
                Xb = np.take(X, idx, axis=0, out=batch[:idx.size])
                Xb = self._normalize(Xb, inplace=True)
                loss, error = self._train_batch(Xb, Y[idx], optimizer, lr)
                if not math.isfinite(loss):
                    return self._diverged(snapshot, lr)
                loss_sum += loss * idx.size
                error_sum += error * idx.size
        if not np.isfinite(self._params).all():
            return self._diverged(snapshot, lr)
        self._epoch += 1
        val_loss, val_error = self._evaluate_arrays(*val) if val else (np.nan, np.nan)
        return {"epoch": self._epoch, "loss": loss_sum / n, "error": error_sum / n,
                "val_loss": val_loss, "val_error": val_error, "learning_rate": lr,
                "seconds": perf_counter() - started}

    def _require_optimizer(self) -> Optimizer:
        if self._optimizer is None:  # fit sets it before the first epoch
            raise RuntimeError("Sequential has no optimizer: train it with fit(), which "
                               "sets one, before running an epoch.")
        return self._optimizer

    def _diverged(self, snapshot, lr):
        self._params[...] = snapshot
        self._require_optimizer().reset()
        self.stop_training = True
        warnings.warn(
            f"Training diverged in epoch {self._epoch + 1} (non-finite loss or weights "
            f"with learning_rate={lr:g}); stopped and kept the last finite weights. "
            "Lower the learning rate.", DivergenceWarning, stacklevel=4)
        return None

    # -------------------------------------------------------------- inference
    def _forward_chunks(self, X):
        for start in range(0, X.shape[0], _CHUNK):
            Xb = self._normalize(X[start:start + _CHUNK], inplace=False)
            out, cache = self._forward(Xb, training=False)
            yield start, out, cache[-1][1]

    def _evaluate_arrays(self, X, Y):
        loss = error = 0.0
        for start, out, Z in self._forward_chunks(X):
            Yb = Y[start:start + out.shape[0]]
            loss += self._loss.value(Z, out, Yb) * out.shape[0]
            error += self._loss.error(out, Yb) * out.shape[0]
        return loss / X.shape[0], error / X.shape[0]

    def predict_proba(self, X):
        """Output-layer activations (probabilities for sigmoid/softmax outputs)."""
        X = self._check_X(X)
        return np.concatenate([out.copy() for _, out, _ in self._forward_chunks(X)])

    def predict(self, X):
        """Class indices (softmax), 0/1 labels (sigmoid) or values (other outputs)."""
        out = self.predict_proba(X)
        activation = self._dense[-1].activation
        if activation == "softmax":
            return np.argmax(out, axis=1)
        if activation == "sigmoid":
            labels = (out >= 0.5).astype(np.intp)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return out

    def evaluate(self, X, y) -> dict:
        """Data loss (without penalty, dropout off) and error on ``(X, y)``.

        Returns ``dict(loss=..., error=...)``; error is the misclassification
        rate for sigmoid/softmax outputs and the MSE otherwise.
        """
        X = self._check_X(X)
        loss, error = self._evaluate_arrays(X, self._encode_targets(y, X.shape[0]))
        return {"loss": loss, "error": error}

    def loss_and_gradients(self, X, y):
        """Regularised cost J and its gradients (order of get_weights), dropout off.

        ``J = mean loss + sum_l (l2_l / 2m) ||W_l||^2 + (l1_l / 2m) sum |W_l|``
        with ``m = len(X)``.
        """
        X = self._check_X(X, build=True)
        Y = self._encode_targets(y, X.shape[0])
        m = X.shape[0]
        out, cache = self._forward(self._normalize(X, inplace=False), training=False)
        cost = self._loss.value(cache[-1][1], out, Y) + self._penalty(m)
        self._backward(Y, cache, m)
        grads = []
        for gW, gb in zip(self._gW, self._gb, strict=True):
            grads += [gW.copy(), gb.copy()]
        return cost, grads

    # ---------------------------------------------------------------- weights
    def get_weights(self) -> list:
        """Copies of ``[W1, b1, W2, b2, ...]``."""
        weights = []
        for W, b in zip(self._W, self._b, strict=True):
            weights += [W.copy(), b.copy()]
        return weights

    def set_weights(self, weights):
        """Copy ``[W1, b1, ...]`` into the model (shapes must match)."""
        targets = [view for pair in zip(self._W, self._b, strict=True) for view in pair]
        if len(weights) != len(targets):
            raise ValueError(f"set_weights expected {len(targets)} arrays "
                             f"[W1, b1, ...]; got {len(weights)}.")
        for k, (target, value) in enumerate(zip(targets, weights, strict=True)):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"Weight {k} must have shape {target.shape}; got "
                                 f"{value.shape}.")
            target[...] = value

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_workspace", None)
        return state

    @property
    def n_params(self):
        """Number of trainable parameters."""
        return self._params.size

    def get_config(self):
        """JSON-serialisable architecture description."""
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else None
        return {"layers": [layer.get_config() for layer in self.layers],
                "input_dim": getattr(self, "input_dim_", self.input_dim),
                "loss": self.loss, "random_state": seed, "dtype": self.dtype}

    def _copy_as(self, dtype):
        """A built copy with the same weights and normalisation in ``dtype``."""
        twin = Sequential(self.layers, input_dim=self.input_dim_, loss=self.loss,
                          random_state=0, dtype=dtype)
        twin.set_weights(self.get_weights())
        if self.norm_mean_ is not None and self.norm_scale_ is not None:
            twin.set_normalization(self.norm_mean_.astype(np.float64),
                                   self.norm_scale_.astype(np.float64))
        return twin

    def __repr__(self):
        return f"Sequential({self.layers}, dtype={self.dtype!r})"
