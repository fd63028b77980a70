"""Train and dev error with no regularisation, L2, L1, dropout and early stopping.

A large network (256, 256) on 200 training examples with 100 features (5
informative) overfits: train error 0, dev error high.  The regularisers trade
train error for dev error; how much each helps depends on the data (here the
sparsity-inducing L1 fits best: most features are noise).  lambda
follows the course notes: (lambda / 2m) sum ||W||^2 with m the batch size.

Run::

    python examples/regularization.py --out examples/output/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import altair as alt
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from mlstrat.nn import NeuralNetClassifier

BASE = dict(hidden_layer_sizes=(256, 256), learning_rate=1e-3, batch_size=100,
            max_epochs=100, random_state=0)
SETTINGS = {
    "none": {},
    "L2 (lambda=10)": {"l2": 10.0},
    "L1 (lambda=1)": {"l1": 1.0},
    "dropout 0.5 (inputs 0.2)": {"dropout": 0.5, "input_dropout": 0.2},
    "early stopping": {"early_stopping": True, "patience": 10, "monitor": "val_error",
                       "validation_fraction": 0.2},
}


def run():
    X, y = make_classification(n_samples=2200, n_features=100, n_informative=5,
                               n_redundant=0, flip_y=0.05, random_state=1)
    X_train, X_dev, y_train, y_dev = train_test_split(X, y, train_size=200, random_state=0)
    rows = []
    for name, extra in SETTINGS.items():
        clf = NeuralNetClassifier(**BASE, **extra).fit(X_train, y_train)
        rows.append({"regularisation": name, "train error": 1 - clf.score(X_train, y_train),
                     "dev error": 1 - clf.score(X_dev, y_dev), "epochs": clf.n_epochs_})
    return pd.DataFrame(rows)


def chart(frame):
    """Grouped bars: train vs dev error per regularisation setting."""
    long = frame.melt(id_vars="regularisation", value_vars=["train error", "dev error"],
                      var_name="set", value_name="error")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("set:N", title=None), y="error:Q", color="set:N",
        column=alt.Column("regularisation:N", sort=list(SETTINGS)),
    ).properties(width=90, height=260, title="Train vs dev error")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    args = parser.parse_args(argv)
    frame = run()
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    args.out.mkdir(parents=True, exist_ok=True)
    chart(frame).save(str(args.out / "regularization.html"))
    print(f"chart saved to {args.out / 'regularization.html'}")


if __name__ == "__main__":
    main()
