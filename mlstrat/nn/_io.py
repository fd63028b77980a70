"""``save_model`` / ``load_model``: one ``.npz`` of arrays plus a JSON header.

The file holds ``weight_0, weight_1, ...`` (``[W1, b1, ...]``), optional
``norm_mean``/``norm_scale`` and ``classes_`` arrays, and ``config``: a JSON
string with the architecture, hyperparameters, history and fitted scalars.
It is read with ``np.load(..., allow_pickle=False)``; loading never executes
code, and anything inconsistent raises :class:`ModelFileError` (a
``ValueError``) naming the file and the problem.
"""

from __future__ import annotations

import json
import numbers
import os

import numpy as np
from sklearn.utils.validation import check_is_fitted

from mlstrat.nn._estimators import (
    LogisticRegressionNN,
    NeuralNetClassifier,
    NeuralNetRegressor,
)
from mlstrat.nn._exceptions import ModelFileError
from mlstrat.nn._layers import layer_from_config
from mlstrat.nn._network import Sequential, make_rng
from mlstrat.nn._optimizers import OPTIMIZERS, Optimizer

FORMAT, VERSION = "mlstrat.nn", 1
ESTIMATORS = {cls.__name__: cls for cls in
              (NeuralNetClassifier, NeuralNetRegressor, LogisticRegressionNN)}
_OPTIMIZER_NAMES = {cls: name for name, cls in OPTIMIZERS.items()}


def _jsonable_params(estimator):
    params = estimator.get_params(deep=False)
    params["callbacks"] = None
    params["hidden_layer_sizes"] = list(np.atleast_1d(params["hidden_layer_sizes"]).tolist())
    if isinstance(params["optimizer"], Optimizer):
        params["optimizer"] = _OPTIMIZER_NAMES.get(type(params["optimizer"]), "adam")
    if not isinstance(params["random_state"], (numbers.Integral, type(None))):
        params["random_state"] = None
    if callable(params["lr_schedule"]):
        params["lr_schedule"] = None
    return params


def _classes_array(classes):
    classes = np.asarray(classes)
    if classes.dtype.kind == "O":
        if not all(isinstance(c, str) for c in classes):
            raise TypeError("save_model stores classes_ that are all strings or all "
                            f"numbers; got mixed object labels {classes.tolist()[:5]}.")
        classes = classes.astype(str)
    return classes


def _model_arrays(model):
    arrays = {f"weight_{k}": w for k, w in enumerate(model.get_weights())}
    if model.norm_mean_ is not None:
        arrays["norm_mean"], arrays["norm_scale"] = model.norm_mean_, model.norm_scale_
    return arrays


def save_model(model: Sequential | NeuralNetClassifier | NeuralNetRegressor,
               path: str | os.PathLike) -> None:
    """Write a :class:`Sequential` or fitted estimator to ``path`` (one .npz file).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from mlstrat.nn import Sequential, Dense, save_model, load_model
    >>> model = Sequential([Dense(2, activation="softmax")], input_dim=3, random_state=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> save_model(model, path)
    >>> X = np.ones((1, 3))
    >>> np.array_equal(load_model(path).predict_proba(X), model.predict_proba(X))
    True
    """
    if isinstance(model, Sequential):
        net, config = model, {"kind": "Sequential"}
    else:
        check_is_fitted(model)
        net = model.model_
        config = {"kind": type(model).__name__, "params": _jsonable_params(model),
                  "fitted": {"n_features_in_": int(model.n_features_in_),
                             "n_outputs": int(model._n_outputs),
                             "y_ndim": int(getattr(model, "_y_ndim", 1)),
                             "best_epoch_": model.best_epoch_}}
    if not net.built:
        raise ValueError("save_model needs a built model; fit it or pass input_dim.")
    config.update(format=FORMAT, version=VERSION, model=net.get_config(),
                  history=net.history.rows, epoch=net._epoch)
    arrays = _model_arrays(net)
    if hasattr(model, "classes_"):
        arrays["classes_"] = _classes_array(model.classes_)
    arrays["config"] = np.array(json.dumps(config))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _read_arrays(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"Cannot read model file '{path}': {type(exc).__name__}: {exc}. The file "
            "is truncated, corrupted or not written by save_model; save it again.") from exc


def _read_config(arrays, path):
    if "config" not in arrays:
        raise ModelFileError(f"Model file '{path}' has no 'config' entry; it was not "
                             "written by mlstrat.nn.save_model.")
    try:
        config = json.loads(str(arrays["config"]))
    except (json.JSONDecodeError, UnicodeError) as exc:
        raise ModelFileError(f"Model file '{path}' has a corrupted JSON config: {exc}.") from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"Model file '{path}' is not an {FORMAT} model file.")
    if config.get("version") != VERSION:
        raise ModelFileError(f"Model file '{path}' has format version "
                             f"{config.get('version')!r}; this mlstrat reads {VERSION}.")
    return config


def _check_array(arrays, name, shape, path):
    if name not in arrays:
        raise ModelFileError(f"Model file '{path}' lacks the array {name!r}.")
    value = arrays[name]
    if value.dtype.kind != "f" or value.shape != tuple(shape):
        raise ModelFileError(f"Model file '{path}': array {name!r} has shape "
                             f"{value.shape} and dtype {value.dtype}; expected float "
                             f"of shape {tuple(shape)}.")
    if not np.isfinite(value).all():
        raise ModelFileError(f"Model file '{path}': array {name!r} holds NaN or inf.")
    return value


def _build_sequential(config, arrays, path):
    spec = config["model"]
    layers = [layer_from_config(layer) for layer in spec["layers"]]
    model = Sequential(layers, input_dim=spec["input_dim"], loss=spec["loss"],
                       random_state=spec["random_state"], dtype=spec["dtype"])
    shapes = [w.shape for w in model.get_weights()]
    n_stored = sum(name.startswith("weight_") for name in arrays)
    if n_stored != len(shapes):
        raise ModelFileError(f"Model file '{path}' holds {n_stored} weight arrays; the "
                             f"architecture needs {len(shapes)}.")
    model.set_weights([_check_array(arrays, f"weight_{k}", s, path)
                       for k, s in enumerate(shapes)])
    if "norm_mean" in arrays:
        dim = (model.input_dim_,)
        model.set_normalization(_check_array(arrays, "norm_mean", dim, path),
                                _check_array(arrays, "norm_scale", dim, path))
    model.history.rows = [dict(row) for row in config.get("history", [])]
    model._epoch = int(config.get("epoch", len(model.history.rows)))
    return model


def _build_estimator(config, arrays, model, path):
    cls = ESTIMATORS[config["kind"]]
    params = dict(config["params"])
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = cls(**params)
    fitted = config["fitted"]
    estimator.model_ = model
    estimator.n_features_in_ = int(fitted["n_features_in_"])
    estimator._n_outputs, estimator._y_ndim = int(fitted["n_outputs"]), int(fitted["y_ndim"])
    if issubclass(cls, NeuralNetClassifier):
        if "classes_" not in arrays or arrays["classes_"].dtype.kind not in "iufbU":
            raise ModelFileError(f"Model file '{path}' lacks a valid classes_ array.")
        estimator.classes_ = arrays["classes_"]
    weights = model.get_weights()
    estimator.coefs_, estimator.intercepts_ = weights[0::2], weights[1::2]
    estimator.history_ = [dict(row) for row in model.history.rows]
    estimator.n_epochs_ = len(estimator.history_)
    estimator.best_epoch_ = fitted["best_epoch_"]
    estimator._optimizer = estimator._make_optimizer()
    estimator._rng = make_rng(estimator.random_state)
    model._optimizer = estimator._optimizer
    return estimator


def load_model(path: str | os.PathLike) -> Sequential | NeuralNetClassifier | NeuralNetRegressor:
    """Read a model written by :func:`save_model` (Sequential or estimator).

    Raises
    ------
    ModelFileError
        (a ValueError) if the file is truncated, corrupted or inconsistent.
    """
    path = os.fspath(path)
    arrays = _read_arrays(path)
    config = _read_config(arrays, path)
    try:
        kind = config["kind"]
        if kind != "Sequential" and kind not in ESTIMATORS:
            raise ModelFileError(f"Model file '{path}' has unknown kind {kind!r}.")
        model = _build_sequential(config, arrays, path)
        if kind == "Sequential":
            return model
        return _build_estimator(config, arrays, model, path)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"Model file '{path}' has an invalid config "
                             f"({type(exc).__name__}: {exc}); save the model again.") from exc
