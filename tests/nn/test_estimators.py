"""Estimator behaviour beyond scikit-learn's suite."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlstrat.nn import (
    Callback,
    DivergenceWarning,
    LogisticRegressionNN,
    NeuralNetClassifier,
    NeuralNetRegressor,
    Sequential,
)

X, Y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                           random_state=0)
LABELS = np.array(["cat", "dog", "eel"])[Y]
FAST = dict(learning_rate=0.01, max_epochs=10, random_state=0)


def test_string_labels_proba_and_attributes():
    clf = NeuralNetClassifier((8,), **FAST).fit(X, LABELS)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1, rtol=1e-5)
    assert [c.shape for c in clf.coefs_] == [(6, 8), (8, 3)]
    assert clf.n_epochs_ == 10 == clf.best_epoch_ and clf.n_features_in_ == 6
    assert isinstance(clf.model_, Sequential)
    frame = pd.DataFrame(clf.history_)
    assert list(frame.columns) == ["epoch", "loss", "error", "val_loss", "val_error",
                                   "learning_rate", "seconds"]


def test_binary_uses_sigmoid_output():
    clf = NeuralNetClassifier((4,), **FAST).fit(X, Y == 1)
    assert clf.coefs_[-1].shape == (4, 1)
    assert clf.predict_proba(X).shape == (150, 2)
    assert clf.predict(X).dtype == bool


def test_pipeline_gridsearch_and_cross_val_score():
    pipe = make_pipeline(StandardScaler(),
                         NeuralNetClassifier((8,), **{**FAST, "max_epochs": 50}))
    assert cross_val_score(pipe, X, Y, cv=3).mean() > 0.5
    grid = GridSearchCV(pipe, {"neuralnetclassifier__l2": [0.0, 1.0]}, cv=2).fit(X, Y)
    assert grid.best_params_["neuralnetclassifier__l2"] in (0.0, 1.0)


def test_validation_data_and_early_stopping_history():
    clf = NeuralNetClassifier((8,), early_stopping=True, patience=2, monitor="val_error",
                              **{**FAST, "max_epochs": 60})
    clf.fit(X[:100], Y[:100], validation_data=(X[100:], Y[100:]))
    frame = pd.DataFrame(clf.history_)
    assert frame["val_error"].notna().all()
    assert clf.best_epoch_ == frame["epoch"][frame["val_error"].idxmin()]
    held_out = NeuralNetClassifier((8,), early_stopping=True, **FAST).fit(X, Y)
    assert pd.DataFrame(held_out.history_)["val_loss"].notna().all()


def test_warm_start_continues_and_appends_history():
    clf = NeuralNetClassifier((8,), warm_start=True, **FAST).fit(X, Y)
    first = clf.coefs_[0].copy()
    adam_steps = clf._optimizer.iterations
    clf.fit(X, Y)
    assert clf.n_epochs_ == 20 and [r["epoch"] for r in clf.history_] == list(range(1, 21))
    assert clf._optimizer.iterations == 2 * adam_steps
    assert not np.allclose(first, clf.coefs_[0])
    cold = NeuralNetClassifier((8,), **FAST).fit(X, Y).fit(X, Y)
    assert cold.n_epochs_ == 10


def test_partial_fit_trains_one_epoch_each_call():
    clf = NeuralNetClassifier((8,), **FAST)
    clf.partial_fit(X[:50], Y[:50], classes=[0, 1, 2])
    clf.partial_fit(X[50:], Y[50:])
    assert clf.n_epochs_ == 2 and list(clf.classes_) == [0, 1, 2]


def test_regressor_learns_and_reports_mse_error():
    Xr, yr = make_regression(n_samples=200, n_features=4, noise=1.0, random_state=0)
    reg = NeuralNetRegressor((16,), learning_rate=0.05, max_epochs=100, random_state=0)
    reg.fit(Xr, yr / 100)
    assert reg.score(Xr, yr / 100) > 0.95
    pred = reg.predict(Xr)
    assert reg.history_[-1]["error"] == pytest.approx(np.mean((pred - yr / 100) ** 2),
                                                      rel=0.5)


def test_logistic_regression_nn_has_no_hidden_layer_and_zero_init():
    class FirstWeights(Callback):
        def on_train_begin(self, logs=None):
            self.start = self.model.get_weights()
    spy = FirstWeights()
    clf = LogisticRegressionNN(callbacks=[spy], **FAST).fit(X, Y)
    assert len(clf.coefs_) == 1 and all((w == 0).all() for w in spy.start)
    assert clf.get_params()["hidden_layer_sizes"] == ()


def test_determinism_and_dtype():
    a = NeuralNetClassifier((8,), dropout=0.2, **FAST).fit(X, Y)
    b = NeuralNetClassifier((8,), dropout=0.2, **FAST).fit(X, Y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert a.coefs_[0].dtype == np.float32
    c = NeuralNetClassifier((8,), dtype="float64", **FAST).fit(X, Y)
    assert c.coefs_[0].dtype == np.float64


def test_divergence_warning_from_estimator():
    with pytest.warns(DivergenceWarning):
        clf = NeuralNetClassifier((16,), optimizer="sgd", learning_rate=1e6,
                                  max_epochs=20, random_state=0).fit(X * 1e3, Y)
    assert all(np.isfinite(w).all() for w in clf.coefs_)


@pytest.mark.parametrize("params, match", [
    ({"l2": -1}, "'l2' parameter of NeuralNetClassifier must be a float >= 0. Got -1"),
    ({"dropout": 1.0}, "'dropout' parameter"),
    ({"dropout": -0.1}, "'dropout' parameter"),
    ({"activation": "swish"}, r"one of \['leaky_relu', 'linear', 'relu', 'sigmoid', 'tanh'\]"),
    ({"optimizer": "lbfgs"}, r"one of \['adam', 'momentum', 'rmsprop', 'sgd'\]"),
    ({"hidden_layer_sizes": (10, 0)}, "positive ints"),
    ({"learning_rate": 0}, "'learning_rate'"),
    ({"monitor": "accuracy"}, "'monitor'"),
])
def test_invalid_hyperparameters(params, match):
    with pytest.raises(ValueError, match=match):
        NeuralNetClassifier(**params).fit(X, Y)


def test_bad_data_messages():
    Xn = X.copy()
    Xn[[3, 7, 8]] = np.inf
    with pytest.raises(ValueError, match=r"3 rows \(first: row 3\)"):
        NeuralNetClassifier(**FAST).fit(Xn, Y)
    with pytest.raises(ValueError, match="1 class"):
        NeuralNetClassifier(**FAST).fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        NeuralNetClassifier(**FAST).fit(X, Y[:-1])
    clf = NeuralNetClassifier((4,), **FAST).fit(X, Y)
    with pytest.raises(ValueError, match="X has 5 features"):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match="NaN or infinity in 3 rows"):
        clf.predict(Xn)
    yr = np.arange(150.0)
    yr[10] = np.nan
    with pytest.raises(ValueError, match="first: row 10"):
        NeuralNetRegressor(**FAST).fit(X, yr)
