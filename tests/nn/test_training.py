"""Training-loop semantics: dropout, early stopping, divergence, dtypes, normalisation."""

import warnings

import numpy as np
import pytest

from mlstrat.nn import (
    SGD,
    Adam,
    Callback,
    Dense,
    DivergenceWarning,
    Dropout,
    EarlyStopping,
    Momentum,
    RMSprop,
    Sequential,
)
from mlstrat.nn._losses import LOSSES

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 4))
Y_BIN = (X[:, 0] - X[:, 1] > 0).astype(int)


# ---------------------------------------------------------------- dropout
def test_inverted_dropout_keeps_expected_activation():
    model = Sequential([Dropout(0.4), Dense(3, "linear")], input_dim=4, random_state=0,
                       dtype="float64")
    A = np.ones((20000, 4))
    masked = model._forward(A, training=True)[1][0][0]
    assert set(np.unique(masked)) == {0.0, 1 / 0.6}
    assert masked.mean() == pytest.approx(1.0, abs=0.02)
    assert (masked == 0).mean() == pytest.approx(0.4, abs=0.02)


def test_dropped_units_get_zero_gradient():
    model = Sequential([Dense(50, "relu"), Dropout(0.5), Dense(1, "sigmoid")],
                       input_dim=4, random_state=0, dtype="float64")
    Xb = X[:1]
    out, cache = model._forward(Xb, training=True)
    mask = cache[1][3]
    model._backward(Y_BIN[:1].reshape(-1, 1).astype(float), cache, 1)
    dropped = mask[0] == 0
    assert dropped.any() and (~dropped).any()
    assert np.all(model._gW[0][:, dropped] == 0)
    assert np.all(model._gb[0][dropped] == 0)
    assert np.all(model._gW[1][dropped] == 0)


def test_predict_is_deterministic_with_dropout():
    model = Sequential([Dense(8, "relu"), Dropout(0.5), Dense(1, "sigmoid")], random_state=0)
    model.fit(X, Y_BIN, epochs=2)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))


def test_dropout_cannot_be_last():
    with pytest.raises(ValueError, match="last layer"):
        Sequential([Dense(3), Dropout(0.5)], input_dim=2)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_validated(rate):
    with pytest.raises(ValueError, match="'rate' parameter of Dropout"):
        Dropout(rate)


# --------------------------------------------------------- early stopping
class ScriptedLoss(Callback):
    """Overwrites logs['val_loss'] with a scripted sequence and tags weights."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch - 1]
        self.model.set_weights([np.full_like(w, epoch) for w in self.model.get_weights()])


def _scripted_fit(values, epochs, **es_kwargs):
    model = Sequential([Dense(1, "sigmoid")], input_dim=4, random_state=0)
    es = EarlyStopping(monitor="val_loss", **es_kwargs)
    model.fit(X, Y_BIN, epochs=epochs, callbacks=[ScriptedLoss(values), es],
              validation_data=(X, Y_BIN))
    return model, es


def test_early_stopping_patience_and_restore():
    model, es = _scripted_fit([5, 4, 3, 3.5, 3.2, 3.1, 1.0], 7, patience=3)
    assert len(model.history) == 6          # epoch 6 is the 3rd without improvement
    assert (es.best_epoch, es.stopped_epoch) == (3, 6)
    assert model.get_weights()[0][0, 0] == 3  # weights of epoch 3 restored


def test_early_stopping_restores_best_even_without_stopping():
    model, es = _scripted_fit([5, 1, 3, 4], 4, patience=10)
    assert es.stopped_epoch == 0 and len(model.history) == 4
    assert model.get_weights()[0][0, 0] == 2


def test_early_stopping_min_delta_and_start_from_epoch():
    model, es = _scripted_fit([1, 0.1, 0.09, 0.085, 0.08, 0.07], 6, patience=2,
                              min_delta=0.05, start_from_epoch=1)
    assert es.best_epoch == 2 and es.stopped_epoch == 4
    model, es = _scripted_fit([0.1, 1, 2, 3, 4, 5], 6, patience=2, start_from_epoch=2)
    assert es.best_epoch == 3  # epochs 1-2 are ignored


def test_early_stopping_without_validation_data_is_a_clear_error():
    model = Sequential([Dense(1, "sigmoid")], input_dim=4)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(X, Y_BIN, epochs=2, callbacks=[EarlyStopping(monitor="val_error")])


def test_early_stopping_used_outside_fit_names_set_model():
    es = EarlyStopping(monitor="loss", patience=0, restore_best_weights=False)
    es.on_train_begin()
    es.on_epoch_end(1, {"loss": 1.0})  # improvement: no model needed yet
    with pytest.raises(RuntimeError, match=r"not attached to a model; call set_model"):
        es.on_epoch_end(2, {"loss": 2.0})  # patience spent: must stop a model


# -------------------------------------------------------- divergence etc.
def test_divergence_warns_and_keeps_finite_weights():
    model = Sequential([Dense(16, "relu"), Dense(1, "sigmoid")], random_state=0)
    with pytest.warns(DivergenceWarning, match="Lower the learning rate"):
        model.fit(X * 100, Y_BIN, epochs=20, optimizer=SGD(learning_rate=1e6))
    assert len(model.history) < 20
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_huge_logits_give_finite_losses_in_both_dtypes():
    for dtype in (np.float32, np.float64):
        big = np.finfo(dtype).max / 4
        Z = np.array([[big, -big, 0.0], [-big, big, 1.0]], dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cce = LOSSES["categorical_crossentropy"].value(Z, None, np.array([1, 0]))
            bce = LOSSES["binary_crossentropy"].value(Z, None, np.ones_like(Z))
        assert np.isfinite(cce) and np.isfinite(bce) and cce > 0 and bce > 0


def test_fixed_seed_gives_bit_identical_weights():
    def run():
        model = Sequential([Dense(8, "relu"), Dropout(0.3), Dense(1, "sigmoid")],
                           random_state=7)
        model.fit(X, Y_BIN, epochs=3, batch_size=16)
        return model.get_weights()
    for a, b in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", [SGD(0.1), Momentum(0.1), RMSprop(0.01), Adam(0.01),
                                       "sgd", "momentum", "rmsprop", "adam"])
def test_float32_stays_float32_and_optimisers_learn(optimizer):
    model = Sequential([Dense(8, "tanh"), Dense(1, "sigmoid")], random_state=0)
    before = None
    history = model.fit(X.astype(np.float32), Y_BIN, epochs=15, batch_size=32,
                        optimizer=optimizer)
    before = history.rows[0]["loss"]
    assert history.rows[-1]["loss"] < before
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model._optimizer._state[0].dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32


def test_normalisation_uses_training_statistics_only():
    Xtr = RNG.normal(5.0, 3.0, size=(200, 2))
    Xdev = RNG.normal(-50.0, 10.0, size=(50, 2))
    model = Sequential([Dense(1, "sigmoid")], random_state=0, dtype="float64")
    model.fit(Xtr, (Xtr[:, 0] > 5).astype(int), epochs=1, normalize=True,
              validation_data=(Xdev, np.zeros(50)))
    np.testing.assert_allclose(model.norm_mean_, Xtr.mean(axis=0))
    np.testing.assert_allclose(model.norm_scale_, Xtr.std(axis=0))
    model.fit(Xdev, np.zeros(50), epochs=1, normalize=True)  # stats are kept
    np.testing.assert_allclose(model.norm_mean_, Xtr.mean(axis=0))


def test_history_rows_and_schedules():
    model = Sequential([Dense(1, "sigmoid")], random_state=0)
    history = model.fit(X, Y_BIN, epochs=3, optimizer=SGD(0.1), lr_schedule="exponential",
                        validation_data=(X, Y_BIN))
    row = history.rows[-1]
    assert set(row) == {"epoch", "loss", "error", "val_loss", "val_error",
                        "learning_rate", "seconds"}
    assert [r["learning_rate"] for r in history.rows] == pytest.approx([0.1, 0.095, 0.09025])
    assert [r["epoch"] for r in history.rows] == [1, 2, 3]
    model.fit(X, Y_BIN, epochs=1, optimizer=SGD(0.1), lr_schedule="inverse_time",
              decay_rate=1.0)
    assert history.rows[-1]["learning_rate"] == pytest.approx(0.1 / 4)
    assert np.isfinite(row["val_loss"])


def test_full_batch_and_mini_batch_differ():
    def run(batch_size):
        model = Sequential([Dense(1, "sigmoid")], random_state=0)
        model.fit(X, Y_BIN, epochs=1, batch_size=batch_size, optimizer=SGD(0.5))
        return model.get_weights()[0]
    assert not np.allclose(run(None), run(10))


def test_unknown_optimizer_lists_valid_names():
    model = Sequential([Dense(1, "sigmoid")])
    with pytest.raises(ValueError, match="adam.*momentum.*rmsprop.*sgd"):
        model.fit(X, Y_BIN, optimizer="adagrad")


def test_zero_init_rejected_for_hidden_layer():
    with pytest.raises(ValueError, match="symmetry"):
        Sequential([Dense(3, "relu", kernel_initializer="zeros"), Dense(1, "sigmoid")],
                   input_dim=4)


def test_bad_inputs_are_named():
    model = Sequential([Dense(1, "sigmoid")], input_dim=4)
    Xbad = X.copy()
    Xbad[[5, 9]] = np.nan
    with pytest.raises(ValueError, match=r"2 rows \(first: row 5\)"):
        model.fit(Xbad, Y_BIN)
    with pytest.raises(ValueError, match="different numbers of rows"):
        model.fit(X, Y_BIN[:-1])
    with pytest.raises(ValueError, match="3 features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.fit(X, Y_BIN * 2)


def test_verbose_draws_a_progress_bar_with_the_last_epoch_metrics(capsys):
    model = Sequential([Dense(1, "sigmoid")], random_state=0)
    model.fit(X, Y_BIN, epochs=3, verbose=1, validation_data=(X, Y_BIN))
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert "3/3" in last and "100%" in last
    assert f"val_error={model.history.rows[-1]['val_error']:.4g}" in last


def test_estimator_verbose_bar_counts_max_epochs(capsys):
    from mlstrat.nn import NeuralNetClassifier
    NeuralNetClassifier((4,), max_epochs=4, verbose=True, random_state=0).fit(X, Y_BIN)
    assert "4/4" in capsys.readouterr().err


def test_staircase_schedule_and_estimator_wiring():
    from mlstrat.nn import NeuralNetClassifier
    clf = NeuralNetClassifier((4,), optimizer="momentum", learning_rate=0.1,
                              lr_schedule="staircase", decay_rate=0.5, max_epochs=12,
                              random_state=0).fit(X, Y_BIN)
    rates = [row["learning_rate"] for row in clf.history_]
    assert rates[0] == rates[9] == 0.1 and rates[10] == pytest.approx(0.05)
    assert type(clf.model_._optimizer).__name__ == "Momentum"


def test_input_dropout_layer_is_planned_before_first_dense():
    from mlstrat.nn import NeuralNetClassifier
    clf = NeuralNetClassifier((4,), input_dropout=0.2, dropout=0.3, max_epochs=1,
                              random_state=0).fit(X, Y_BIN)
    assert clf.model_._drop == [0.2, 0.3]
