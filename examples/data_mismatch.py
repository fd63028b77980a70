"""The in-car speech story of the course notes, on real data (issue: diagnosis).

Training data: scikit-learn's bundled digits, clean scans plus a small share of
low-quality camera shots (blur, shift, washed out, noise). Dev and test: camera
shots only, the distribution the application will meet. A train-dev set is
carved from the training distribution so the error ladder can tell variance
from data mismatch.

1. Train a network: the diagnosis finds data mismatch (train-dev is fine,
   dev is not).
2. Artificial data synthesis: degrade copies of the clean training images the
   way the camera does, retrain: most of the mismatch closes.

Every step is recorded in the project store and printed.

Run: .venv/bin/python examples/data_mismatch.py [--project DIR]
"""

from __future__ import annotations

import argparse
import tempfile

import mlstrat
from mlstrat.demo import HUMAN_ERROR, load_demo_data, synthesised
from mlstrat.nn import NeuralNetClassifier


def network() -> NeuralNetClassifier:
    return NeuralNetClassifier((64,), learning_rate=0.005, max_epochs=150, l2=0.5,
                               early_stopping=True, patience=8, random_state=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=None, help="project folder (default: a temp folder)")
    args = parser.parse_args()
    project = mlstrat.open_project(args.project or tempfile.mkdtemp(prefix="mismatch-"))
    data = load_demo_data(random_state=0)
    target = {s: (data.X(s), data.y[s]) for s in ("dev", "test")}

    print("Step 1: train on the training distribution as it is")
    train = (data.X("train"), data.y["train"])
    train_dev = (data.X("train_dev"), data.y["train_dev"])
    model = network().fit(*train, validation_data=train_dev)
    first = mlstrat.record_run(project, model, {"train": train, "train_dev": train_dev, **target},
                               name="NN (64)", human=HUMAN_ERROR, ids={"dev": data.ids["dev"]})
    print(first.diagnosis, end="\n\n")

    print("Step 2: artificial data synthesis (camera-like copies of the clean training images)")
    train, train_dev = synthesised(data, "train", 1), synthesised(data, "train_dev", 2)
    model = network().fit(*train, validation_data=train_dev)
    second = mlstrat.record_run(project, model, {"train": train, "train_dev": train_dev, **target},
                                name="NN (64) + synthesised camera data", human=HUMAN_ERROR,
                                ids={"dev": data.ids["dev"]})
    print(second.diagnosis, end="\n\n")

    before = first.diagnosis.gap("data_mismatch").value
    after = second.diagnosis.gap("data_mismatch").value
    print(f"Data mismatch: {before:+.1%} -> {after:+.1%} "
          f"({1 - after / before:.0%} of it closed by synthesis)" if before > 0 else
          f"Data mismatch: {before:+.1%} -> {after:+.1%}")
    print(project.runs()[["id", "name", "problem", "train", "train_dev", "dev", "test"]]
          .to_string(index=False))
    print(f"\nProject: {project.folder}  (dashboard: .venv/bin/mlstrat dashboard --project"
          f" {project.folder})")


if __name__ == "__main__":
    main()
