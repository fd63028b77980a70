"""Build your first system quickly, then iterate: a data file to a diagnosis,
then one change and its measured effect.

The course's speech-activated rear-view mirror, as a table: most examples come
from the web (purchased data), the ones that matter come from cars. The same
features mean something different in a car, so a model trained mostly on web
rows does well on held-out training-distribution rows (train-dev) and badly on
car rows (dev): data mismatch. Manual error analysis on the dev errors is the
first remedy; here it points at what the model cannot see, which rows come
from a car, and the second iteration gives it that column.

Run:  .venv/bin/python examples/first_system.py [--project DIR]
(the same as `mlstrat baseline data.csv --target label --domain source=car`, twice)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import mlstrat


def make_data(path: Path, n_web: int = 3000, n_car: int = 2000, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    n = n_web + n_car
    source = np.r_[np.full(n_web, "web"), np.full(n_car, "car")]
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    city = rng.choice(list("ABCDEFGH"), size=n)
    shift = dict(zip("ABCDEFGH", np.linspace(-1, 1, 8), strict=True))
    effect = pd.Series(city).map(shift).to_numpy()
    score = np.where(source == "web", x1 + x2, x1 - x2) + effect + 0.3 * rng.normal(size=n)
    frame = pd.DataFrame({
        "utterance_id": [f"u{i:05d}" for i in range(n)],
        "pitch": x1, "energy": x2,
        "speaker_age": np.where(rng.random(n) < 0.1, np.nan, np.round(rng.normal(40, 12, n))),
        "city": city,
        "recorded": (np.datetime64("2023-01-01") + rng.integers(0, 700, n)).astype(str),
        "source": source,
        "label": np.where(score > 0, "command", "chatter"),
    })
    frame.sample(frac=1.0, random_state=seed).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="First system, then one measured change.")
    parser.add_argument("--project", default=None,
                        help="project folder (default: a new temporary folder)")
    args = parser.parse_args()
    project = Path(args.project or tempfile.mkdtemp(prefix="first_system_"))
    project.mkdir(parents=True, exist_ok=True)
    data = make_data(project / "utterances.csv")

    print("== Iteration 1: baselines on the data file, dev/test only from car rows ==")
    first = mlstrat.baseline(data, "label", domain="source=car", project=project, progress=True)
    print(first)

    print("\n== Iteration 2: one change: let the model see where a row comes from ==")
    second = mlstrat.baseline(data, "label", domain="source=car", project=project,
                      roles={"source": "categorical"}, progress=True)
    print(second.comparison)
    print(f"\nPrimary problem now: {second.diagnosis.problem}")
    print(f"Dashboard: {second.dashboard_command}")


if __name__ == "__main__":
    main()
