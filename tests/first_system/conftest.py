"""Data nobody shaped for mlstrat: scikit-learn's bundled sets written out as
CSV files, and a generated table with the mess real tables have (fixture
``make_mixed``). ``fast`` holds the training settings every workflow test uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

# Fast settings for every workflow test: few epochs, short patience.
FAST = {"max_epochs": 15, "patience": 4, "learning_rate": 0.01}

WORDS = ("engine noise window radio quiet loud street rain music voice call "
         "navigation map left right stop play next song volume").split()


def mixed_table(n_web: int = 1000, n_car: int = 600, seed: int = 0) -> pd.DataFrame:
    """A messy table: ids, missing values, categories (one with 30 levels), dates,
    free text, a constant and an empty column, and a 'source' column.

    Web rows follow y = [x1 + x2 + city effect > 0]; car rows (the distribution
    we care about) follow y = [x1 - x2 + city effect > 0] with the same feature
    distribution, so a model trained mostly on web rows fails on car rows: a
    data mismatch that only dev/test drawn from car rows can reveal.
    """
    rng = np.random.default_rng(seed)
    n = n_web + n_car
    source = np.r_[np.full(n_web, "web"), np.full(n_car, "car")]
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    city = rng.choice(list("ABCDEFGH"), size=n)
    shift = dict(zip("ABCDEFGH", np.linspace(-1, 1, 8), strict=True))
    effect = pd.Series(city).map(shift).to_numpy()
    score = np.where(source == "web", x1 + x2, x1 - x2) + effect + 0.3 * rng.normal(size=n)
    y = np.where(score > 0, "yes", "no")
    frame = pd.DataFrame({
        "customer_id": [f"c{i:05d}" for i in rng.permutation(n)],
        "x1": x1, "x2": x2,
        "age": np.round(rng.normal(40, 12, size=n)),
        "city": city,
        "plan": rng.choice([f"plan{i}" for i in range(30)], size=n),
        "signup": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), "D"),
        "comment": [" ".join(rng.choice(WORDS, size=rng.integers(4, 10))) for _ in range(n)],
        "constant": 1,
        "empty": np.nan,
        "source": source,
        "label": y,
    })
    frame["signup"] = frame["signup"].dt.strftime("%Y-%m-%d")
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    frame.loc[rng.random(n) < 0.05, "city"] = None
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="session")
def make_mixed():
    return mixed_table


@pytest.fixture(scope="session")
def fast():
    return dict(FAST)


def write_sklearn(loader, path) -> pd.DataFrame:
    frame = loader(as_frame=True).frame
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def breast_cancer_csv(data_dir):
    path = data_dir / "breast_cancer.csv"
    write_sklearn(datasets.load_breast_cancer, path)
    return path


@pytest.fixture(scope="session")
def wine_csv(data_dir):
    path = data_dir / "wine.csv"
    write_sklearn(datasets.load_wine, path)
    return path


@pytest.fixture(scope="session")
def digits_csv(data_dir):
    path = data_dir / "digits.csv"
    write_sklearn(datasets.load_digits, path)
    return path


@pytest.fixture(scope="session")
def diabetes_csv(data_dir):
    path = data_dir / "diabetes.csv"
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame.to_csv(path, index=False)
    return path
