"""``mlstrat tune CONFIG.toml``: run or resume a hyperparameter study.

Parse, call :func:`mlstrat.tuning.run_config`, print one line per finished
trial and the summary. The config format is described in
:mod:`mlstrat.tuning._config`.

Exit codes: 0 when at least one trial completed; 1 when every trial failed
(the first failure's message is printed); 2 for a bad config, data file or
scheduler address (then nothing was written to the project).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mlstrat._errors import MlstratError
from mlstrat.cli._common import EXIT_FAILURE, input_file, reading

#: seconds to wait for a Dask scheduler before saying it cannot be reached
CONNECT_TIMEOUT = 10.0


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tune", help="run or resume a hyperparameter study from a TOML config",
        description="Run (or resume, by its name) the study CONFIG.toml describes; "
                    "trials are written to the project store as they finish.")
    parser.add_argument("config", help="the study's TOML file")
    parser.add_argument("--project", default="mlstrat_project",
                        help="project folder (default: ./mlstrat_project)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="parallel trials on this machine (-1: all cores)")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler address (tcp://host:8786) to run trials on")
    parser.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT,
                        metavar="SECONDS",
                        help="how long to wait for the scheduler (default: %(default)s)")
    parser.set_defaults(func=run)
    return parser


def _progress(total: int | None, halving: bool = False):
    """One line per finished trial (a trial of successive halving reports once
    per rung, so there the count is of evaluations, with no total)."""
    count = {"n": 0}
    total = None if halving else total

    def show(trial: dict[str, Any]) -> None:
        count["n"] += 1
        metric = next((k for k in trial["metrics"] if k.startswith("dev_")), "value")
        value = trial["value"]
        score = f"{metric}={value:.4f}" if value is not None else trial["error"].splitlines()[0]
        of = f"/{total}" if total else ""
        rung = f" rung {trial['rung']}" if halving else ""
        print(f"[{count['n']}{of}] trial {trial['number']:>3}{rung} {trial['state']:<8} {score}"
              f"  epochs={trial['epochs']}  {trial['seconds']:.1f}s", flush=True)

    return show


def run(args: argparse.Namespace) -> int:
    from mlstrat.tuning._config import load_config, run_config

    path = input_file(args.config, "study file")
    with reading(path, "study file"):
        config = load_config(path)
    client = _connect(args.scheduler, args.connect_timeout) if args.scheduler else None
    print(f"Study {config.name!r} in {args.project}: {config.strategy['kind']} search over "
          f"{', '.join(config.space)}", flush=True)
    halving = config.strategy["kind"] in ("halving", "successive_halving", "hyperband")
    try:  # the project is opened (or created) only once config and data are good
        result = run_config(config, project=args.project, n_jobs=args.n_jobs, client=client,
                            callback=_progress(config.n_trials, halving))
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
