"""Drive an objective study in its own process (kill and two-process tests).

python _run_objective.py optimize PROJECT NAME N_TRIALS SLEEP LOG
python _run_objective.py ask PROJECT NAME K GO   (prints the numbers it got)

In ask mode the process writes GO.ready.<pid> once imported, then waits for
the file GO to appear, so that two processes start asking at the same moment.
"""

import functools
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mlstrat.tuning import create_study  # noqa: E402
from tests.tuning._objectives import SPACE_DICT, logged, quadratic  # noqa: E402


def main():
    mode, project, name = sys.argv[1:4]
    study = create_study(name, SPACE_DICT, project=project, seed=5,
                         optimize=("loss", "minimize"))
    if mode == "optimize":
        n_trials, sleep, log = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
        study.optimize(functools.partial(logged, sleep=sleep, log=log), n_trials=n_trials,
                       stale_after=3.0, heartbeat_interval=0.2)
        return
    k, go = int(sys.argv[4]), Path(sys.argv[5])
    Path(f"{go}.ready.{os.getpid()}").touch()
    deadline = time.time() + 60
    while not go.exists() and time.time() < deadline:
        time.sleep(0.002)
    trials = [study.ask() for _ in range(k)]
    for trial in trials:
        study.tell(trial, {"loss": quadratic(trial)})
    print(json.dumps([t.number for t in trials]))


if __name__ == "__main__":
    main()
