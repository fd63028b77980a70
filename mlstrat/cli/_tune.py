"""``mlstrat tune CONFIG.toml``: run or resume a hyperparameter study.

Parse, call :func:`mlstrat.tuning.run_config` with a
:class:`mlstrat.tuning._progress.TrialBar` (done/total, best so far,
elapsed and time left, on stderr), print the summary. The config format is
``examples/study.toml`` (every key explained) and :mod:`mlstrat.tuning._config`.

Exit codes: 0 when at least one trial completed; 1 when every trial failed
(the first failure's message is printed); 2 for a bad config, data file or
scheduler address (then nothing was written to the project).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from mlstrat._errors import MlstratError
from mlstrat.cli._common import EXIT_FAILURE, input_file, reading

#: seconds to wait for a Dask scheduler before saying it cannot be reached
CONNECT_TIMEOUT = 10.0
#: seconds without a heartbeat after which another driver's trial is re-queued
STALE_AFTER = 120.0

EPILOG = """The study file (TOML) has the sections [study], [strategy], [data], [estimator]
and [space]. examples/study.toml in the mlstrat repository runs as shipped and
explains every key; the same format is described in `python -m pydoc
mlstrat.tuning._config`. A CSV's text columns are encoded as `mlstrat baseline`
encodes them (few distinct values: one-hot).

Resuming: run the same command again. If the previous run was killed, its
running trials are re-queued once their heartbeat is --stale-after seconds old
(default 120); a shorter value shortens that wait.

  mlstrat tune examples/study.toml --project proj
  mlstrat tune examples/study.toml --project proj --n-trials 4 --verbose
"""


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tune", help="run or resume a hyperparameter study from a TOML config",
        description="Run (or resume, by its name) the study CONFIG.toml describes; "
                    "trials are written to the project store as they finish.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="the study's TOML file (see examples/study.toml)")
    parser.add_argument("--project", default="mlstrat_project",
                        help="project folder (default: ./mlstrat_project)")
    parser.add_argument("--n-trials", type=int, default=None, metavar="N",
                        help="the study's total number of trials, instead of "
                             "[study] n_trials")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="parallel trials on this machine (-1: all cores)")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler address (tcp://host:8786) to run trials on")
    parser.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT,
                        metavar="SECONDS",
                        help="how long to wait for the scheduler (default: %(default)s)")
    parser.add_argument("--stale-after", type=float, default=STALE_AFTER, metavar="SECONDS",
                        help="re-queue another driver's running trial after this many "
                             "seconds without a heartbeat, e.g. one left by a killed run "
                             "(default: %(default)g)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print one line per finished trial (failed ones always are)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from mlstrat.tuning._config import load_config, run_config
    from mlstrat.tuning._progress import TrialBar

    path = input_file(args.config, "study file")
    with reading(path, "study file"):
        config = load_config(path)
    if args.n_trials is not None:
        if args.n_trials < 1:
            raise ValueError(f"--n-trials must be a whole number >= 1. Got {args.n_trials}.")
        config = dataclasses.replace(config, n_trials=args.n_trials)
    client = _connect(args.scheduler, args.connect_timeout) if args.scheduler else None
    print(f"Study {config.name!r} in {args.project}: {config.strategy['kind']} search over "
          f"{', '.join(config.space)}", flush=True)
    try:  # the project is opened (or created) only once config and data are good
        result = run_config(config, project=args.project, n_jobs=args.n_jobs, client=client,
                            progress=TrialBar(verbose=args.verbose),
                            stale_after=args.stale_after)
    finally:
        if client is not None:
            client.close()
    print(result)
    if result.n_complete == 0 and result.n_failed:
        return _all_failed(result)
    if config.satisfice and result.n_complete:
        print(result.select(satisfice=config.satisfice))
    sys.stdout.flush()
    return 0


def _connect(address: str, timeout: float) -> Any:
    """A ``distributed.Client`` on ``address``, or one line saying why not."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise MlstratError("--scheduler needs the 'distributed' package: "
                           "pip install distributed.") from None
    try:
        return Client(address, timeout=timeout)
    except (OSError, ValueError, TypeError) as exc:
        raise MlstratError(f"Cannot reach the Dask scheduler at {address!r} "
                           f"({' '.join(str(exc).split())}). Check the address and that "
                           "`dask scheduler` is running there; nothing was run.") from None


def _all_failed(result: Any) -> int:
    """Exit code 1 and the first failure's message when no trial completed."""
    failed = result.trials[result.trials["state"] == "failed"].sort_values("number")
    first = failed.iloc[0]
    reason = str(first["error"] or "no message").strip().splitlines()[0]
    print(f"mlstrat tune: error: every trial of study {result.name!r} failed "
          f"({len(failed)} of {len(result.trials)}); the first, trial {int(first['number'])}: "
          f"{reason[:500]}", file=sys.stderr)
    return EXIT_FAILURE
