"""joblib and Dask execution: the same study code, trials run elsewhere,
the driver writes every outcome."""

import pytest
from sklearn.datasets import load_digits

from mlstrat.nn import NeuralNetClassifier
from mlstrat.tuning import SuccessiveHalving, create_study, loguniform, one_minus_log

SPACE = {"learning_rate": loguniform(1e-3, 1e-1), "beta1": one_minus_log(0.8, 0.99)}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500], y[:500], X[500:800], y[500:800]


def _net():
    return NeuralNetClassifier((16,), max_epochs=3, batch_size=100, random_state=0)


def test_joblib_n_jobs(tmp_path, digits):
    study = create_study("jl", SPACE, project=tmp_path, seed=0)
    result = study.optimize(_net(), *digits, n_trials=6, n_jobs=2)
    frame = result.to_frame()
    assert sorted(frame["number"]) == list(range(6))
    assert (frame["state"] == "complete").all()
    # same params as a sequential run of the same seed
    seq = create_study("seq", SPACE, project=tmp_path, seed=0)
    again = seq.optimize(_net(), *digits, n_trials=6, measure_latency=False)
    assert again.trials["params"].tolist() == result.trials["params"].tolist()


def test_dask_local_cluster(tmp_path, digits):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        study = create_study("dask", SPACE, project=tmp_path, seed=0)
        result = study.optimize(_net(), *digits, n_trials=6, client=client)
        frame = result.to_frame()
        assert sorted(frame["number"]) == list(range(6))
        assert (frame["state"] == "complete").all()
        halving = create_study("dask-sh", SPACE, project=tmp_path, seed=0,
                               strategy=SuccessiveHalving(1, 3, 3))
        result = halving.optimize(_net(), *digits, n_trials=6, client=client,
                                  measure_latency=False)
        best = result.to_frame().query("state == 'complete'")
        assert (best["epochs"] == 3).all() and (best["epochs_trained"] == 2).all()
