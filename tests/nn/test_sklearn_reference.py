"""mlstrat.nn against scikit-learn's MLP: same weights, same step, same accuracy."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlstrat.nn import SGD, Dense, NeuralNetClassifier, Sequential

RNG = np.random.default_rng(3)
X = RNG.normal(size=(30, 5))


def _mlp(y, n_out_activation_hidden="relu", **kwargs):
    mlp = MLPClassifier((6,), activation=n_out_activation_hidden, solver="sgd",
                        momentum=0, learning_rate_init=0.1, batch_size=len(y),
                        random_state=0, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.partial_fit(X, y, classes=np.unique(y))
    return mlp


@pytest.mark.parametrize("n_classes, output", [(2, "sigmoid"), (3, "softmax")])
def test_predict_proba_matches_mlpclassifier_with_same_weights(n_classes, output):
    y = RNG.integers(0, n_classes, 30)
    mlp = _mlp(y, "tanh")
    units = 1 if n_classes == 2 else n_classes
    model = Sequential([Dense(6, "tanh"), Dense(units, output)], input_dim=5,
                       dtype="float64", random_state=0)
    model.set_weights([mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1], mlp.intercepts_[1]])
    ours = model.predict_proba(X)
    theirs = mlp.predict_proba(X)
    if n_classes == 2:
        ours = np.hstack([1 - ours, ours])
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_one_sgd_step_matches_mlpclassifier_partial_fit(n_classes):
    y = RNG.integers(0, n_classes, 30)
    alpha = 0.5
    mlp = _mlp(y, alpha=alpha)
    units = 1 if n_classes == 2 else n_classes
    output = "sigmoid" if n_classes == 2 else "softmax"
    model = Sequential([Dense(6, "relu", l2=alpha), Dense(units, output, l2=alpha)],
                       input_dim=5, dtype="float64", random_state=0)
    start = model.get_weights()
    mlp.coefs_ = [start[0].copy(), start[2].copy()]
    mlp.intercepts_ = [start[1].copy(), start[3].copy()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.partial_fit(X, y)
    model.fit(X, y, epochs=1, batch_size=None, optimizer=SGD(learning_rate=0.1))
    expected = [mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1], mlp.intercepts_[1]]
    for ours, theirs in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(model.get_weights()[0], start[0])


@pytest.mark.parametrize("load", [load_digits, load_breast_cancer])
def test_accuracy_parity_with_mlpclassifier(load):
    """Mean dev accuracy over 3 seeds within 1 point of MLPClassifier."""
    Xd, yd = load(return_X_y=True)
    ours, theirs = [], []
    for seed in range(3):
        Xtr, Xte, ytr, yte = train_test_split(Xd, yd, test_size=0.25, random_state=seed,
                                              stratify=yd)
        settings = dict(batch_size=200, random_state=seed)
        clf = NeuralNetClassifier((64,), learning_rate=1e-3, max_epochs=60, l2=1e-4,
                                  **settings)
        ours.append(clf.fit(Xtr, ytr).score(Xte, yte))
        mlp = make_pipeline(StandardScaler(), MLPClassifier(
            (64,), learning_rate_init=1e-3, max_iter=60, alpha=1e-4, tol=0,
            n_iter_no_change=10**6, **settings))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs.append(mlp.fit(Xtr, ytr).score(Xte, yte))
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.01, (ours, theirs)
