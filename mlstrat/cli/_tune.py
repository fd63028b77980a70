"""``mlstrat tune CONFIG.toml``: run or resume a hyperparameter study.

Parse, call :func:`mlstrat.tuning.run_config`, print one line per finished
trial and the summary. The config format is described in
:mod:`mlstrat.tuning._config`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


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
    from mlstrat.store import Project
    from mlstrat.tuning._config import load_config, run_config

    config = load_config(args.config)
    project = Project(args.project)
    client = None
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
    print(f"Study {config.name!r} in {project.path}: {config.strategy['kind']} search over "
          f"{', '.join(config.space)}", flush=True)
    try:
        result = run_config(config, project=project, n_jobs=args.n_jobs, client=client,
                            callback=_progress(config.n_trials, config.strategy["kind"] in
                                              ("halving", "successive_halving", "hyperband")))
    finally:
        if client is not None:
            client.close()
    print(result)
    if config.satisfice and result.n_complete:
        print(result.select(satisfice=config.satisfice))
    sys.stdout.flush()
    return 0
