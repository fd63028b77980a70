import pytest
from sklearn.datasets import load_digits

from mlstrat.nn import NeuralNetClassifier
from mlstrat.tuning import Hyperband, SuccessiveHalving, create_study, loguniform

SPACE = {"learning_rate": loguniform(1e-4, 1e-1)}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600], X[600:900], y[600:900]


def _net():
    return NeuralNetClassifier((16,), batch_size=100, random_state=0)


def test_survivors_continue_training_instead_of_restarting(tmp_path, digits):
    study = create_study("sh", SPACE, project=tmp_path, seed=0,
                         strategy=SuccessiveHalving(min_epochs=1, max_epochs=9, eta=3))
    result = study.optimize(_net(), *digits, n_trials=9, measure_latency=False)
    frame = result.to_frame().set_index("number")
    assert (frame["state"] == "pruned").sum() == 8 and (frame["state"] == "complete").sum() == 1
    best = frame[frame["state"] == "complete"].iloc[0]
    # the survivor trained 1 + 2 + 6 epochs: each rung only the extra ones
    assert best["epochs"] == 9 and best["epochs_trained"] == 6 and best["epochs_spent"] == 9
    assert best["rung"] == 2
    history = study.project.trial_history(int(result.trials.set_index("number")
                                              .loc[best.name, "id"]))
    assert history["epoch"].tolist() == list(range(1, 10))  # grows, never restarts
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    # rung 1 survivors reached 3 epochs, rung 0 stopped at 1
    assert sorted(frame["epochs"]) == [1] * 6 + [3] * 2 + [9]
    # 9 + 3*2 + 6 = 21 epochs, against 9 * 9 = 81 for full random search
    assert result.total_epochs == 21
    assert result.total_epochs <= 81 / 3


def test_halving_promotes_the_best(tmp_path, digits):
    seen = {}

    def remember(trial):  # each trial's score at the rung it just finished
        seen.setdefault(trial["rung"], {})[trial["number"]] = trial["value"]

    study = create_study("sh", SPACE, project=tmp_path, seed=1,
                         strategy=SuccessiveHalving(min_epochs=1, max_epochs=3, eta=3))
    result = study.optimize(_net(), *digits, n_trials=6, measure_latency=False,
                            callback=remember)
    frame = result.to_frame()
    promoted = set(frame.loc[frame["rung"] == 1, "number"])
    best_two = set(sorted(seen[0], key=lambda n: (seen[0][n], n))[:2])
    assert promoted == best_two == set(seen[1])
    assert (frame["state"] == "pruned").sum() == 4


def test_hyperband_brackets(tmp_path, digits):
    hb = Hyperband(min_epochs=1, max_epochs=9, eta=3)
    assert [len(r) for _, r in hb.brackets()] == [3, 2, 1]
    assert [r[0] for _, r in hb.brackets()] == [(9, 1), (5, 3), (3, 9)]
    study = create_study("hb", SPACE, project=tmp_path, strategy=hb)
    result = study.optimize(_net(), *digits, measure_latency=False)
    frame = result.to_frame()
    assert len(frame) == 9 + 5 + 3
    assert sorted(frame["bracket"].unique()) == [0, 1, 2]
    assert (frame.loc[frame["state"] == "complete", "epochs"] == 9).all()


def test_halving_needs_an_epoch_budget(tmp_path, digits):
    from sklearn.neighbors import KNeighborsClassifier

    study = create_study("knn", {"n_neighbors": {"intuniform": [1, 5]}}, project=tmp_path,
                         strategy="halving")
    with pytest.raises(ValueError, match="epoch budget"):
        study.optimize(KNeighborsClassifier(), *digits, n_trials=3)


def test_bad_halving_options():
    with pytest.raises(ValueError, match="min_epochs <= max_epochs"):
        SuccessiveHalving(min_epochs=10, max_epochs=3)
    with pytest.raises(ValueError, match="eta"):
        SuccessiveHalving(eta=1)


class _Crash(Exception):
    pass


def _crash_after(n):
    seen = []

    def callback(trial):
        seen.append(trial["number"])
        if len(seen) == n:
            raise _Crash(f"simulated crash after {n} trials")

    return callback


def test_halving_resumes_after_a_crash_mid_rung(tmp_path, digits):
    from mlstrat.store import Project

    strategy = SuccessiveHalving(min_epochs=1, max_epochs=3, eta=3)
    study = create_study("sh", SPACE, project=tmp_path, seed=2, strategy=strategy)
    # rung 0 has 6 trials; crash after the first survivor finished rung 1
    with pytest.raises(_Crash):
        study.optimize(_net(), *digits, n_trials=6, measure_latency=False,
                       callback=_crash_after(7))
    before = Project(tmp_path).trials("sh")
    assert (before["rung"] == 1).sum() == 2 and (before["state"] == "waiting").sum() == 1
    again = create_study("sh", SPACE, project=Project(tmp_path), seed=2, strategy=strategy)
    result = again.optimize(_net(), *digits, n_trials=6, measure_latency=False)
    frame = result.to_frame().set_index("number")
    assert sorted(frame.index) == list(range(6))
    assert sorted(frame["state"]) == ["complete"] * 2 + ["pruned"] * 4
    top = frame[frame["state"] == "complete"]
    assert (top["epochs"] == 3).all() and (top["rung"] == 1).all()
    # the one that finished before the crash continued (2 extra epochs); the
    # one whose model was lost with the process was retrained from scratch
    assert sorted(top["epochs_trained"]) == [2, 3]
    for number, row in before[before["state"] == "complete"].set_index("number").iterrows():
        assert frame.loc[number, "finished_at"] == row["finished_at"]


def test_score_chart_uses_each_scale(tmp_path, digits):
    study = create_study("c", {"learning_rate": loguniform(1e-3, 1e-1),
                               "beta1": {"beta": [0.8, 0.99]}}, project=tmp_path)
    result = study.optimize(_net().set_params(max_epochs=1), *digits, n_trials=3,
                            measure_latency=False)
    spec = result.chart().to_dict()
    panels = {p["title"]: p["encoding"]["x"] for p in spec["vconcat"][0]["hconcat"]}
    assert panels["learning_rate"]["scale"]["type"] == "log"
    assert panels["beta1"]["field"] == "1 - beta1"
    assert panels["beta1"]["scale"]["type"] == "log"


def test_continuing_a_fitted_model_without_an_epoch_budget_is_refused(digits):
    """A warm-started rung needs the parameter that sets the epochs; without
    it the trial fails with a message naming the parameters, not a TypeError
    from ``set_params(**{None: ...})``."""
    from sklearn.neighbors import KNeighborsClassifier

    from mlstrat.tuning._trial import run_trial

    X_train, y_train, X_dev, y_dev = digits
    model = KNeighborsClassifier().fit(X_train, y_train)
    out = run_trial({"params": {}, "model": model, "resource": None, "epochs": 3,
                     "epochs_done": 1, "scoring": "error"},
                    {"X_train": X_train, "y_train": y_train, "X_dev": X_dev, "y_dev": y_dev})
    assert out["state"] == "failed"
    assert out["error"].startswith("ValueError: Continuing a fitted KNeighborsClassifier "
                                   "for more epochs needs an epoch budget parameter "
                                   "(one of ['max_epochs', 'max_iter', 'n_estimators'])")


def test_only_multi_fidelity_strategies_have_brackets():
    from mlstrat.tuning import GridSearch

    assert SuccessiveHalving(min_epochs=1, max_epochs=9, eta=3).brackets(9) == [
        (0, [(9, 1), (3, 3), (1, 9)])]
    with pytest.raises(NotImplementedError, match="GridSearch trains every trial once"):
        GridSearch().brackets(9)
