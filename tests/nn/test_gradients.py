"""Backpropagation against finite differences and hand-written references."""

import numpy as np
import pytest

from mlstrat.nn import (
    ACTIVATIONS,
    Dense,
    Dropout,
    NeuralNetClassifier,
    Sequential,
    gradient_check,
)
from mlstrat.nn._activations import DERIVATIVES

RNG = np.random.default_rng(42)
X = RNG.normal(size=(7, 4))


def _model(layers, **kwargs):
    return Sequential(layers, input_dim=4, random_state=1, dtype="float64", **kwargs)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_hidden_activation_gradients(activation):
    model = _model([Dense(5, activation), Dense(3, "softmax")])
    result = gradient_check(model, X, RNG.integers(0, 3, 7))
    assert result.difference < 1e-7, result
    assert result.verdict == "fine"
    assert len(result.layer_differences) == 2


@pytest.mark.parametrize("output, y", [
    ("sigmoid", RNG.integers(0, 2, 7)),
    ("softmax", RNG.integers(0, 3, 7)),
    ("linear", RNG.normal(size=(7, 3))),
    ("tanh", RNG.normal(size=(7, 3)) * 0.5),
])
def test_output_loss_gradients(output, y):
    units = 1 if output == "sigmoid" else 3
    model = _model([Dense(5, "tanh"), Dense(units, output)])
    assert gradient_check(model, X, y).difference < 1e-7


def test_one_hot_targets_gradient():
    y = np.eye(3)[RNG.integers(0, 3, 7)]
    model = _model([Dense(5, "relu"), Dense(3, "softmax")])
    assert gradient_check(model, X, y).difference < 1e-7


@pytest.mark.parametrize("l2, l1", [(0.7, 0.0), (0.0, 0.9), (0.5, 0.5)])
def test_regularised_gradients(l2, l1):
    model = _model([Dense(5, "relu", l2=l2, l1=l1), Dense(3, "softmax", l2=l2, l1=l1)])
    assert gradient_check(model, X, RNG.integers(0, 3, 7)).difference < 1e-7


def test_per_layer_regularisation_gradient_and_value():
    model = _model([Dense(5, "tanh", l2=2.0), Dense(1, "sigmoid", l1=3.0)])
    y = RNG.integers(0, 2, 7)
    assert gradient_check(model, X, y).difference < 1e-7
    plain = _model([Dense(5, "tanh"), Dense(1, "sigmoid")])
    plain.set_weights(model.get_weights())
    W1, _, W2, _ = model.get_weights()
    expected = plain.loss_and_gradients(X, y)[0] + 2.0 / 14 * np.sum(W1**2) \
        + 3.0 / 14 * np.sum(np.abs(W2))
    assert model.loss_and_gradients(X, y)[0] == pytest.approx(expected, rel=1e-12)


def test_dropout_network_gradient_with_dropout_off():
    model = _model([Dropout(0.2), Dense(6, "relu"), Dropout(0.5), Dense(3, "softmax")])
    assert gradient_check(model, X, RNG.integers(0, 3, 7)).verdict == "fine"


def test_gradient_check_flags_a_wrong_gradient(monkeypatch):
    model = _model([Dense(5, "tanh"), Dense(3, "softmax")])
    monkeypatch.setitem(DERIVATIVES, "tanh", lambda Z, A, d: d)  # forget the derivative
    result = gradient_check(model, X, RNG.integers(0, 3, 7))
    assert result.verdict == "bug"
    assert result.layer_differences[0] > result.layer_differences[1]


def test_gradient_check_on_fitted_estimator_with_string_labels():
    y = np.array(["a", "b", "c", "a", "b", "c", "a"])
    clf = NeuralNetClassifier((4,), max_epochs=2, random_state=0, l2=0.1).fit(X, y)
    assert gradient_check(clf, X, y).verdict == "fine"


def _reference_two_layer(W1, b1, W2, b2, X, y, lam):
    """Hand-written forward/backward pass (course notes), tanh -> sigmoid."""
    m = X.shape[0]
    Z1 = X @ W1 + b1
    A1 = np.tanh(Z1)
    A2 = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
    Y = y.reshape(-1, 1)
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) \
        + lam / (2 * m) * (np.sum(W1**2) + np.sum(W2**2))
    dZ2 = A2 - Y
    dW2 = A1.T @ dZ2 / m + lam / m * W2
    db2 = dZ2.sum(0) / m
    dZ1 = dZ2 @ W2.T * (1 - A1**2)
    dW1 = X.T @ dZ1 / m + lam / m * W1
    db1 = dZ1.sum(0) / m
    return cost, [dW1, db1, dW2, db2]


def test_loss_and_gradients_match_hand_written_reference():
    model = _model([Dense(5, "tanh", l2=0.3), Dense(1, "sigmoid", l2=0.3)])
    y = RNG.integers(0, 2, 7)
    model.set_weights([w + 0.1 for w in model.get_weights()])
    cost, grads = model.loss_and_gradients(X, y)
    ref_cost, ref_grads = _reference_two_layer(*model.get_weights(), X, y, 0.3)
    assert cost == pytest.approx(ref_cost, rel=1e-12)
    for g, r in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-14)
