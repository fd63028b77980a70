"""``save_model`` / ``load_model``: one ``.npz`` of arrays plus a JSON header.

The file holds ``weight_0, weight_1, ...`` (``[W1, b1, ...]``), optional
``norm_mean``/``norm_scale`` and ``classes_`` arrays, and ``config``: a JSON
string with the architecture, hyperparameters, history and fitted scalars.
It is read with ``np.load(..., allow_pickle=False)``; loading never executes
code, and anything inconsistent raises :class:`ModelFileError` (a
``ValueError``) naming the file and the problem.

Checked before memory is spent
    Before any array is read, every ``.npy`` header in the archive is read and
    the size it declares is compared with the bytes the member holds, and the
    archive must unzip to at most :data:`MAX_MODEL_BYTES`. Before the network is
    built, the shapes the config declares (``input_dim``, each ``Dense`` layer's
    ``units``) must match the stored arrays, and the total number of parameters
    must be at most :data:`MAX_PARAMETERS` (``load_model(..., max_parameters=)``
    raises it). A fitted estimator's ``n_features_in_``, output count,
    ``hidden_layer_sizes`` and ``classes_`` must agree with the weights.

Written atomically
    :func:`save_model` writes a temporary file in the same folder, fsyncs it and
    renames it over ``path``: a kill leaves the old model file or the new one.
"""

from __future__ import annotations

import json
import numbers
import os
import zipfile
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from mlstrat._files import atomic_write
from mlstrat._text import quote
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
#: a model file declaring more parameters than this is refused before it is built
MAX_PARAMETERS = 50_000_000
#: a model file whose arrays add up to more than this once unzipped is refused
MAX_MODEL_BYTES = 1024 * 1024 * 1024
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
    config: dict[str, Any]
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
    with atomic_write(path) as handle:
        np.savez(handle, **arrays)


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def _check_archive(path: str) -> None:
    """Every member is a ``.npy`` whose declared size fits the bytes it holds."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_MODEL_BYTES:
            raise ModelFileError(f"Model file '{path}' unzips to {total / 2**20:,.0f} MB; "
                                 f"the limit is {MAX_MODEL_BYTES / 2**20:,.0f} MB.")
        for info in infos:
            _check_member(archive, info, path)


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> None:
    name = info.filename
    if not name.endswith(".npy"):
        raise ModelFileError(f"Model file '{path}' holds {quote(name)}, which is not an "
                             "array; it was not written by save_model.")
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ModelFileError(f"Model file '{path}': array {quote(name)} has .npy "
                                 f"format {version}; save_model writes 1.0 or 2.0.")
        header = handle.tell()
    if dtype.hasobject:
        raise ModelFileError(f"Model file '{path}': array {quote(name)} holds Python "
                             "objects; model files hold numbers and text only (no pickle).")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > info.file_size - header:
        raise ModelFileError(f"Model file '{path}': array {quote(name)} declares shape "
                             f"{shape} ({declared:,} bytes) but holds "
                             f"{max(info.file_size - header, 0):,} bytes; the file is "
                             "truncated or corrupted. Save the model again.")


def _read_arrays(path):
    if os.path.isdir(path):
        raise ModelFileError(f"'{path}' is a folder, not a model file; give the .npz file "
                             "save_model wrote.")
    try:
        _check_archive(path)
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (FileNotFoundError, ModelFileError):
        raise
    except Exception as exc:
        raise ModelFileError(
            f"Cannot read model file '{path}': {_why(exc)}. The file "
            "is truncated, corrupted or not written by save_model; save it again.") from exc


def _read_config(arrays, path):
    if "config" not in arrays:
        raise ModelFileError(f"Model file '{path}' has no 'config' entry; it was not "
                             "written by mlstrat.nn.save_model.")
    if arrays["config"].shape != () or arrays["config"].dtype.kind != "U":
        raise ModelFileError(f"Model file '{path}' has a corrupted JSON config: the 'config' "
                             "entry is not one string.")
    try:
        config = json.loads(str(arrays["config"]))
    except (json.JSONDecodeError, UnicodeError, RecursionError) as exc:
        raise ModelFileError(f"Model file '{path}' has a corrupted JSON config: "
                             f"{_why(exc)}.") from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"Model file '{path}' is not an {FORMAT} model file.")
    if config.get("version") != VERSION:
        raise ModelFileError(f"Model file '{path}' has format version "
                             f"{quote(config.get('version'))}; this mlstrat reads {VERSION}.")
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


def _whole(value: Any, what: str, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFileError(f"Model file '{path}': {what} must be a whole number >= 1; "
                             f"got {quote(value)}.")
    return value


def _declared_sizes(spec: Any, path: str) -> list[int]:
    """``[input_dim, units_1, ...]`` as the config declares them (nothing is built)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list):
        raise ModelFileError(f"Model file '{path}' has an invalid config: 'model' must hold "
                             "a list of 'layers'.")
    sizes = [_whole(spec.get("input_dim"), "input_dim", path)]
    for i, layer in enumerate(spec["layers"]):
        if not isinstance(layer, dict):
            raise ModelFileError(f"Model file '{path}': layer {i} is {quote(layer)}, not a "
                                 "layer config.")
        if layer.get("type") == "Dense":
            sizes.append(_whole(layer.get("units"), f"the units of layer {i}", path))
    if len(sizes) < 2:
        raise ModelFileError(f"Model file '{path}' declares no Dense layer.")
    return sizes


def _check_declared(config, arrays, path, max_parameters):
    """Declared shapes against the parameter cap and the stored arrays."""
    sizes = _declared_sizes(config["model"], path)
    pairs = list(pairwise(sizes))
    total = sum(a * b + b for a, b in pairs)
    if total > max_parameters:
        raise ModelFileError(f"Model file '{path}' declares {total:,} parameters (layer "
                             f"sizes {sizes[:8]}); the limit is {max_parameters:,} "
                             "(load_model's max_parameters).")
    n_stored = sum(name.startswith("weight_") for name in arrays)
    if n_stored != 2 * len(pairs):
        raise ModelFileError(f"Model file '{path}' holds {n_stored} weight arrays; the "
                             f"architecture needs {2 * len(pairs)}.")
    for k, (a, b) in enumerate(pairs):
        _check_array(arrays, f"weight_{2 * k}", (a, b), path)
        _check_array(arrays, f"weight_{2 * k + 1}", (b,), path)
    return sizes


def _build_sequential(config, arrays, path):
    spec = config["model"]
    layers = [layer_from_config(layer) for layer in spec["layers"]]
    model = Sequential(layers, input_dim=spec["input_dim"], loss=spec["loss"],
                       random_state=spec["random_state"], dtype=spec["dtype"])
    shapes = [w.shape for w in model.get_weights()]
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
    estimator._check_params()  # a bad stored value fails here, not at predict
    if estimator.dtype != model.dtype:
        raise ModelFileError(f"Model file '{path}': the estimator's dtype is "
                             f"{quote(estimator.dtype)} but its network is {model.dtype}; "
                             "the file is inconsistent.")
    fitted = config["fitted"]
    estimator.model_ = model
    estimator.n_features_in_ = int(fitted["n_features_in_"])
    estimator._n_outputs, estimator._y_ndim = int(fitted["n_outputs"]), int(fitted["y_ndim"])
    _check_fitted(estimator, model, path)
    if issubclass(cls, NeuralNetClassifier):
        estimator.classes_ = _check_classes(arrays, estimator._n_outputs, path)
    weights = model.get_weights()
    estimator.coefs_, estimator.intercepts_ = weights[0::2], weights[1::2]
    estimator.history_ = [dict(row) for row in model.history.rows]
    estimator.n_epochs_ = len(estimator.history_)
    estimator.best_epoch_ = fitted["best_epoch_"]
    estimator._optimizer = estimator._make_optimizer()
    estimator._rng = make_rng(estimator.random_state)
    model._optimizer = estimator._optimizer
    return estimator


def _check_fitted(estimator, model, path):
    """The fitted scalars of an estimator agree with its network."""
    sizes = [model.input_dim_] + [dense.units for dense in model._dense]
    if estimator.n_features_in_ != sizes[0]:
        raise ModelFileError(f"Model file '{path}': n_features_in_ is "
                             f"{estimator.n_features_in_} but the first layer takes "
                             f"{sizes[0]} features; the file is inconsistent.")
    if estimator._n_outputs != sizes[-1]:
        raise ModelFileError(f"Model file '{path}': the estimator has "
                             f"{estimator._n_outputs} outputs but the last layer has "
                             f"{sizes[-1]} units; the file is inconsistent.")
    if estimator._y_ndim not in (1, 2):
        raise ModelFileError(f"Model file '{path}': y_ndim must be 1 or 2; got "
                             f"{estimator._y_ndim}.")
    hidden = list(np.atleast_1d(estimator.hidden_layer_sizes).tolist())
    if hidden != sizes[1:-1]:
        raise ModelFileError(f"Model file '{path}': hidden_layer_sizes is "
                             f"{quote(hidden)} but the stored layers have {sizes[1:-1]} "
                             "units; the file is inconsistent.")


def _check_classes(arrays, n_outputs, path):
    """``classes_``: sorted distinct labels, as many as the outputs encode."""
    classes = arrays.get("classes_")
    if classes is None or classes.dtype.kind not in "iufbU" or classes.ndim != 1:
        raise ModelFileError(f"Model file '{path}' lacks a valid classes_ array.")
    expected = 2 if n_outputs == 1 else n_outputs
    if classes.size != expected:
        raise ModelFileError(f"Model file '{path}': classes_ holds {classes.size} labels "
                             f"but the network has {n_outputs} output(s), which encode "
                             f"{expected} classes; the file is inconsistent.")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise ModelFileError(f"Model file '{path}': classes_ holds NaN or inf.")
    if classes.size > 1 and not np.all(classes[1:] > classes[:-1]):
        raise ModelFileError(f"Model file '{path}': classes_ must be sorted distinct labels; "
                             f"got {quote(classes.tolist())}.")
    return classes


def load_model(path: str | os.PathLike, *, max_parameters: int = MAX_PARAMETERS,
               ) -> Sequential | NeuralNetClassifier | NeuralNetRegressor:
    """Read a model written by :func:`save_model` (Sequential or estimator).

    Parameters
    ----------
    path : str or path-like
    max_parameters : int, default=MAX_PARAMETERS
        A file declaring more parameters is refused before anything is built.

    Raises
    ------
    ModelFileError
        (a ValueError) if the file is truncated, corrupted, inconsistent or
        declares more than ``max_parameters`` parameters.
    """
    path = os.fspath(path)
    arrays = _read_arrays(path)
    config = _read_config(arrays, path)
    try:
        kind = config["kind"]
        if kind != "Sequential" and kind not in ESTIMATORS:
            raise ModelFileError(f"Model file '{path}' has unknown kind {quote(kind)}.")
        _check_declared(config, arrays, path, max_parameters)
        model = _build_sequential(config, arrays, path)
        if kind == "Sequential":
            return model
        return _build_estimator(config, arrays, model, path)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            OverflowError, RecursionError) as exc:
        raise ModelFileError(f"Model file '{path}' has an invalid config "
                             f"({_why(exc)}); save the model again.") from exc
