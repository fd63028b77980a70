import numpy as np
import pytest
from scipy import stats

from mlstrat.tuning import (
    GridSearch,
    SearchSpace,
    choice,
    intuniform,
    loguniform,
    one_minus_log,
    randint,
    uniform,
)


def _draws(dist, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([dist.sample(rng) for _ in range(n)])


def test_loguniform_is_uniform_in_log10():
    x = _draws(loguniform(1e-4, 1e-1))
    assert x.min() >= 1e-4 and x.max() <= 1e-1
    assert stats.kstest(np.log10(x), stats.uniform(-4, 3).cdf).pvalue > 0.01
    # and clearly not uniform on the linear scale
    assert stats.kstest(x, stats.uniform(1e-4, 1e-1 - 1e-4).cdf).pvalue < 1e-6


def test_beta_scale_makes_log10_one_minus_beta_uniform():
    b = _draws(one_minus_log(0.9, 0.999))
    assert b.min() >= 0.9 and b.max() <= 0.999
    r = np.log10(1 - b)
    assert stats.kstest(r, stats.uniform(-3, 2).cdf).pvalue > 0.01
    # half the draws land in [0.99, 0.999], as the course notes say
    assert 0.45 < np.mean(b > 0.99) < 0.55


def test_uniform_int_and_choice():
    u = _draws(uniform(0.0, 0.5))
    assert stats.kstest(u, stats.uniform(0, 0.5).cdf).pvalue > 0.01
    k = _draws(intuniform(1, 4), n=4000)
    assert set(k) == {1, 2, 3, 4}
    assert stats.chisquare(np.bincount(k)[1:]).pvalue > 0.01
    assert randint is intuniform
    c = _draws(choice(["relu", "tanh"]), n=200)
    assert set(c) == {"relu", "tanh"}


def test_grid_values_on_each_scale():
    assert np.allclose(loguniform(1e-4, 1e-1).grid(4), [1e-4, 1e-3, 1e-2, 1e-1])
    assert np.allclose(one_minus_log(0.9, 0.999).grid(3), [0.9, 0.99, 0.999])
    assert intuniform(1, 3).grid(10) == [1, 2, 3]
    space = SearchSpace({"lr": loguniform(1e-4, 1e-1), "act": choice(["relu", "tanh"])})
    assert len(space.grid(4)) == 8
    assert GridSearch(n_per_dim={"lr": 5}).n_trials(space) == 10


def test_space_round_trips_through_dict_and_toml_form():
    space = SearchSpace({"lr": {"loguniform": [1e-4, 1e-1]}, "m": {"beta": [0.9, 0.999]},
                         "h": {"choice": [[64], [128, 64]]}, "d": {"uniform": [0, 0.5]}})
    again = SearchSpace.from_dict(space.to_dict())
    assert again == space
    assert space["h"].values == [(64,), (128, 64)]
    assert space != SearchSpace({"lr": loguniform(1e-4, 1.0)})


def test_shrink_stays_on_each_scale():
    lr = loguniform(1e-6, 1.0)
    fine = lr.shrink([1e-3, 1e-2], margin=0.0)
    assert fine.low == pytest.approx(1e-3) and fine.high == pytest.approx(1e-2)
    beta = one_minus_log(0.9, 0.9999).shrink([0.99, 0.999], margin=0.0)
    assert beta.low == pytest.approx(0.99) and beta.high == pytest.approx(0.999)
    assert choice(["a", "b", "c"]).shrink(["b"]).values == ["b"]


@pytest.mark.parametrize("make, match", [
    (lambda: loguniform(1e-1, 1e-4), "empty or inverted"),
    (lambda: uniform(1.0, 1.0), "empty or inverted"),
    (lambda: loguniform(0.0, 1.0), "bounds > 0"),
    (lambda: loguniform(-1.0, 1.0), "bounds > 0"),
    (lambda: one_minus_log(0.9, 1.0), r"\[0, 1\)"),
    (lambda: one_minus_log(-0.1, 0.9), r"\[0, 1\)"),
    (lambda: intuniform(5, 2), "inverted"),
    (lambda: choice([]), "at least one"),
    (lambda: SearchSpace({"lr": {"lognormal": [1, 2]}}), "Valid names"),
    (lambda: SearchSpace({}), "at least one"),
])
def test_bad_ranges_get_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_hyperparameter_lists_valid_ones():
    from sklearn.linear_model import LogisticRegression

    space = SearchSpace({"learning_rate": loguniform(1e-4, 1e-1)})
    with pytest.raises(ValueError, match=r"no hyperparameter 'learning_rate'.*Valid names: \['C'"):
        space.check_params(LogisticRegression())
