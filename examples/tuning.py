"""Hyperparameter search on scikit-learn's digits, the course's way.

1. Grid against random search at the same number of trials (9): the grid
   tries only 3 distinct learning rates, random search tries 9, and the
   learning rate is the hyperparameter that matters (beta2 hardly does).
2. Successive halving over 27 configurations: every configuration gets a
   few epochs, the best third continue *from where they stopped* for
   three times as many, and so on; about the same best dev error for a
   fraction of the epochs.

Every trial is written to the project store as it finishes: stop the
script and start it again with the same --project, and it resumes.

    python examples/tuning.py [--project DIR] [--n-jobs N]
"""

from __future__ import annotations

import argparse
import tempfile

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mlstrat.nn import NeuralNetClassifier
from mlstrat.store import Project
from mlstrat.tuning import GridSearch, SuccessiveHalving, create_study, loguniform, one_minus_log

EPOCHS = 27


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=None, help="project folder (default: a temp folder)")
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    project = Project(args.project or tempfile.mkdtemp(prefix="mlstrat-tuning-"))
    print(f"Project store: {project.path}\n")

    X, y = load_digits(return_X_y=True)
    X_train, X_dev, y_train, y_dev = train_test_split(X, y, test_size=0.3, stratify=y,
                                                      random_state=0)
    net = NeuralNetClassifier((32,), max_epochs=EPOCHS, batch_size=64, random_state=0)
    data = (X_train, y_train, X_dev, y_dev)
    space = {"learning_rate": loguniform(1e-4, 1.0),   # matters a lot: log scale
             "beta2": one_minus_log(0.9, 0.9999)}      # matters little: 1 - beta scale

    # 1. grid vs random, 9 trials each
    grid = create_study("grid", space, project=project, strategy=GridSearch(n_per_dim=3))
    grid_result = grid.optimize(net, *data, n_trials=9, n_jobs=args.n_jobs)
    rand = create_study("random", space, project=project, strategy="random", seed=0)
    rand_result = rand.optimize(net, *data, n_trials=9, n_jobs=args.n_jobs)
    for result in (grid_result, rand_result):
        lrs = {round(p["learning_rate"], 12) for p in result.trials["params"]}
        print(result)
        print(f"  distinct learning rates tried: {len(lrs)}\n")

    # 2. successive halving: 27 configurations at 3 epochs, the best 9 to 9, the best 3 to 27
    halving = create_study("halving", space, project=project, seed=0,
                           strategy=SuccessiveHalving(min_epochs=3, max_epochs=EPOCHS, eta=3))
    sh = halving.optimize(net, *data, n_trials=27, n_jobs=args.n_jobs)
    print(sh)
    full = 27 * EPOCHS
    print(f"  {sh.total_epochs} epochs in all, {sh.total_epochs / full:.0%} of the {full} "
          f"that 27 configurations at {EPOCHS} epochs would take.\n")

    # the winner under a satisficing constraint, kept as a run of the project
    selection = sh.select(satisfice={"latency_ms": ("<=", 1.0)})
    print(selection)
    run_id = sh.log_best_run(satisfice={"latency_ms": ("<=", 1.0)})
    print(f"\nBest trial logged as run {run_id}: {project.get_run(run_id).errors}")


if __name__ == "__main__":
    main()
