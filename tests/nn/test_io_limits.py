"""Model files are checked before memory is spent, and against their own weights."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlstrat.nn import (
    ModelFileError,
    NeuralNetClassifier,
    NeuralNetRegressor,
    load_model,
    save_model,
)

RNG = np.random.default_rng(1)
X = RNG.normal(size=(40, 4))
Y = RNG.integers(0, 3, 40)
FAST = dict(max_epochs=2, random_state=0)


@pytest.fixture
def clf_path(tmp_path):
    path = tmp_path / "clf.npz"
    save_model(NeuralNetClassifier((5,), **FAST).fit(X, Y), path)
    return path


def _arrays(path):
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _save(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _config(arrays):
    return json.loads(str(arrays["config"]))


def _with_config(path, edit):
    arrays = _arrays(path)
    config = _config(arrays)
    edit(config)
    arrays["config"] = np.array(json.dumps(config))
    _save(path, arrays)


def test_a_huge_declared_layer_is_refused_before_building(clf_path):
    def huge(config):
        config["model"]["input_dim"] = 10**6
        config["model"]["layers"][0]["units"] = 10**6
    _with_config(clf_path, huge)
    assert clf_path.stat().st_size < 20_000
    with pytest.raises(ModelFileError, match=r"declares 1,000,00\d,\d{3},\d{3} parameters.*"
                                             r"the limit is 50,000,000"):
        load_model(clf_path)


def test_declared_shapes_must_match_the_stored_arrays(clf_path):
    _with_config(clf_path, lambda c: c["model"]["layers"][0].update(units=7))
    with pytest.raises(ModelFileError, match=r"'weight_0' has shape \(4, 5\).*expected float "
                                             r"of shape \(4, 7\)"):
        load_model(clf_path)


def test_the_parameter_cap_can_be_raised_by_the_caller(clf_path):
    with pytest.raises(ModelFileError, match="the limit is 10"):
        load_model(clf_path, max_parameters=10)
    assert load_model(clf_path).n_features_in_ == 4


def test_an_npy_header_that_lies_about_its_size_is_refused(clf_path):
    with zipfile.ZipFile(clf_path) as zf:
        content = {i.filename: zf.read(i) for i in zf.infolist()}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (100_000, 100_000)})
    content["weight_0.npy"] = buf.getvalue() + b"\0" * 64  # 80 GB declared, 64 B held
    with zipfile.ZipFile(clf_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in content.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"declares shape \(100000, 100000\).*holds 64 "
                                             "bytes"):
        load_model(clf_path)


def test_n_features_in_must_match_the_first_layer(clf_path):
    _with_config(clf_path, lambda c: c["fitted"].update(n_features_in_=9))
    with pytest.raises(ModelFileError, match="n_features_in_ is 9 but the first layer takes 4"):
        load_model(clf_path)


def test_classes_must_match_the_outputs(clf_path):
    arrays = _arrays(clf_path)
    arrays["classes_"] = np.array([0, 1, 2, 3])
    _save(clf_path, arrays)
    with pytest.raises(ModelFileError, match="classes_ holds 4 labels but the network has 3"):
        load_model(clf_path)


def test_classes_must_be_sorted_and_distinct(clf_path):
    arrays = _arrays(clf_path)
    arrays["classes_"] = np.array([2, 0, 1])
    _save(clf_path, arrays)
    with pytest.raises(ModelFileError, match="sorted distinct labels"):
        load_model(clf_path)


def test_hidden_layer_sizes_must_match_the_layers(clf_path):
    _with_config(clf_path, lambda c: c["params"].update(hidden_layer_sizes=[50]))
    with pytest.raises(ModelFileError, match=r"hidden_layer_sizes is \[50\]"):
        load_model(clf_path)


def test_estimator_parameters_are_checked_on_load(clf_path):
    # found by the fuzz test below: a flipped byte in params.dtype loaded, then
    # predict raised KeyError
    _with_config(clf_path, lambda c: c["params"].update(dtype="float3!"))
    with pytest.raises(ModelFileError, match="invalid config.*dtype"):
        load_model(clf_path)


def test_estimator_dtype_must_match_the_network(clf_path):
    _with_config(clf_path, lambda c: c["params"].update(dtype="float64"))
    with pytest.raises(ModelFileError, match="dtype is 'float64' but its network is float32"):
        load_model(clf_path)


def test_a_regressor_outputs_must_match(tmp_path):
    path = tmp_path / "reg.npz"
    save_model(NeuralNetRegressor((3,), **FAST).fit(X, X[:, 0]), path)
    _with_config(path, lambda c: c["fitted"].update(n_outputs=2))
    with pytest.raises(ModelFileError, match="2 outputs but the last layer has 1 units"):
        load_model(path)


def test_a_folder_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(tmp_path)


def test_a_huge_kind_string_is_quoted_short(clf_path):
    _with_config(clf_path, lambda c: c.update(kind="k" * 1_000_000))
    with pytest.raises(ModelFileError, match="1,000,000 characters") as info:
        load_model(clf_path)
    assert len(str(info.value)) < 500


# ------------------------------------------------------------------ fuzz
@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(["flip", "cut", "json"]),
                              st.integers(0, 10**9), st.integers(1, 255)),
                    min_size=1, max_size=3))
def test_fuzz_corrupted_model_files_load_or_raise_model_file_error(clf_path, ops, tmp_path):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(clf_path.read_bytes())
    for kind, where, value in ops:
        if kind == "json":
            try:
                arrays = _arrays(path)
                text = str(arrays["config"])
            except Exception:
                continue
            i = where % max(len(text), 1)
            arrays["config"] = np.array(text[:i] + chr(32 + value % 90) + text[i + 1:])
            _save(path, arrays)
            continue
        raw = bytearray(path.read_bytes())
        if not raw:
            break
        if kind == "flip":
            raw[where % len(raw)] ^= value
        else:
            raw = raw[: where % len(raw)]
        path.write_bytes(bytes(raw))
    try:
        model = load_model(path)
    except ModelFileError as exc:
        assert str(exc).strip() and "fuzz.npz" in str(exc)
    else:
        model.predict(X)  # whatever loads is consistent enough to predict
