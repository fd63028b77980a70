"""save_model / load_model round trips and corrupted files."""

import json
import zipfile

import numpy as np
import pytest

from mlstrat.nn import (
    Dense,
    Dropout,
    LogisticRegressionNN,
    ModelFileError,
    NeuralNetClassifier,
    NeuralNetRegressor,
    Sequential,
    load_model,
    save_model,
)

RNG = np.random.default_rng(0)
X = RNG.normal(3.0, 2.0, size=(60, 5))
Y = RNG.integers(0, 3, 60)
FAST = dict(learning_rate=0.01, max_epochs=3, random_state=0)


@pytest.mark.parametrize("estimator, y", [
    (NeuralNetClassifier((6,), dropout=0.2, **FAST), np.array(["x", "y", "z"])[Y]),
    (NeuralNetClassifier((6,), **FAST), Y * 10 + 1),
    (LogisticRegressionNN(**FAST), Y == 1),
    (NeuralNetRegressor((6,), **FAST), X[:, :2] @ [1.0, 2.0]),
])
def test_estimator_round_trip(tmp_path, estimator, y):
    estimator.fit(X, y)
    path = tmp_path / "model.npz"
    save_model(estimator, path)
    loaded = load_model(path)
    assert type(loaded) is type(estimator)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if hasattr(estimator, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, estimator.classes_)
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    assert json.dumps(loaded.history_) == json.dumps(estimator.history_)
    assert loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.model_.norm_mean_, estimator.model_.norm_mean_)


def test_sequential_round_trip_and_continue_training(tmp_path):
    model = Sequential([Dense(4, "relu", l2=0.1), Dropout(0.5), Dense(3, "softmax")],
                       random_state=0)
    model.fit(X, Y, epochs=2, normalize=True)
    save_model(model, tmp_path / "seq.npz")
    loaded = load_model(tmp_path / "seq.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.fit(X, Y, epochs=1)
    assert [r["epoch"] for r in loaded.history.rows] == [1, 2, 3]


@pytest.fixture
def saved(tmp_path):
    clf = NeuralNetClassifier((4,), **FAST).fit(X, Y)
    path = tmp_path / "clf.npz"
    save_model(clf, path)
    return path


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def test_truncated_file_is_a_clear_error(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"clf\.npz.*truncated"):
        load_model(saved)


def test_corrupt_json_is_a_clear_error(saved):
    _rewrite(saved, config=np.array("{not json"))
    with pytest.raises(ModelFileError, match=r"clf\.npz.*corrupted JSON"):
        load_model(saved)


def test_wrong_shape_is_a_clear_error(saved):
    _rewrite(saved, weight_0=np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"'weight_0' has shape \(2, 2\).*expected"):
        load_model(saved)


def test_missing_weight_and_bad_kind(saved):
    with np.load(saved) as data:
        config = json.loads(str(data["config"]))
    config["kind"] = "os.system"
    _rewrite(saved, config=np.array(json.dumps(config)))
    with pytest.raises(ValueError, match="unknown kind 'os.system'"):
        load_model(saved)


def test_pickled_object_array_is_refused(saved):
    _rewrite(saved, classes_=np.array([0, "a"], dtype=object))
    with pytest.raises(ValueError, match=r"clf\.npz"):
        load_model(saved)


def test_file_is_a_plain_zip_of_npy(saved):
    with zipfile.ZipFile(saved) as archive:
        assert "config.npy" in archive.namelist()
