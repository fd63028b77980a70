"""Dev accuracy against training-set size: "why deep learning is taking off".

Logistic regression and an RBF SVM level off as the training set grows, while
neural networks keep improving, and the larger the network the longer it
keeps improving.  Data: a synthetic 10-feature-cluster classification task
(scikit-learn's make_classification), one fixed dev set of 2,000 examples.
Takes about a minute on 2 cores.

Run::

    python examples/scale.py --out examples/output/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import altair as alt
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from mlstrat.nn import LogisticRegressionNN, NeuralNetClassifier

SIZES = (100, 250, 500, 1000, 2000, 4000)


def make_models():
    """The compared models, from the least to the most flexible."""
    nn = dict(learning_rate=3e-3, batch_size=100, max_epochs=100, early_stopping=True,
              patience=5, random_state=0)
    return {
        "logistic regression": LogisticRegressionNN(learning_rate=0.01, max_epochs=100,
                                                    random_state=0),
        "SVM (RBF)": make_pipeline(StandardScaler(), SVC()),
        "small NN (16)": NeuralNetClassifier((16,), **nn),
        "medium NN (64, 64)": NeuralNetClassifier((64, 64), **nn),
        "large NN (256, 128)": NeuralNetClassifier((256, 128), **nn),
    }


def run(sizes=SIZES):
    X, y = make_classification(n_samples=max(sizes) + 2000, n_features=20,
                               n_informative=16, n_classes=2, n_clusters_per_class=16,
                               class_sep=1.5, flip_y=0.0, random_state=0)
    X_dev, y_dev, X_pool, y_pool = X[-2000:], y[-2000:], X[:-2000], y[:-2000]
    rows = []
    for size in sizes:
        for name, model in make_models().items():
            model.fit(X_pool[:size], y_pool[:size])
            rows.append({"train size": size, "model": name,
                         "dev accuracy": model.score(X_dev, y_dev)})
    return pd.DataFrame(rows)


def chart(frame):
    """Line chart of dev accuracy against training-set size (log scale)."""
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("train size:Q", scale=alt.Scale(type="log")),
        y=alt.Y("dev accuracy:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", sort=list(make_models())),
    ).properties(title="Dev accuracy vs amount of training data", width=520, height=320)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    args = parser.parse_args(argv)
    frame = run()
    table = frame.pivot(index="train size", columns="model", values="dev accuracy")
    print(table[list(make_models())].round(3).to_string())
    args.out.mkdir(parents=True, exist_ok=True)
    chart(frame).save(str(args.out / "scale.html"))
    print(f"chart saved to {args.out / 'scale.html'}")


if __name__ == "__main__":
    main()
