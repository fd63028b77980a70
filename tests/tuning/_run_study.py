"""Run a study of SleepyClassifier in its own process (for the kill and
two-process tests): python _run_study.py PROJECT NAME N_TRIALS SLEEP."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mlstrat.tuning import create_study, loguniform, one_minus_log  # noqa: E402
from tests.tuning._helpers import SleepyClassifier, toy_data  # noqa: E402


def main():
    project, name, n_trials, sleep = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    space = {"alpha": loguniform(1e-3, 1e3), "beta": one_minus_log(0.9, 0.999)}
    study = create_study(name, space, project=project, seed=7)
    study.optimize(SleepyClassifier(sleep=sleep), *toy_data(), n_trials=n_trials,
                   measure_latency=False, stale_after=3.0, heartbeat_interval=0.2)


if __name__ == "__main__":
    main()
