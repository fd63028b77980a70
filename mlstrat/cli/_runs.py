"""``mlstrat runs``: list the runs of a project, or show one."""

from __future__ import annotations

import argparse

from mlstrat.cli._common import open_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="list the runs of a project, or show one")
    parser.add_argument("run", nargs="?", help="a run id or name to show in full")
    parser.add_argument("--project", default="mlstrat_project", help="project folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args.project)  # read-only: never created, never locked
    if args.run is None:
        table = project.runs()
        if table.empty:
            print(f"No runs in {project.folder} yet.")
        else:
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        return 0
    record = project.get_run(args.run)
    print(f"run {record.id}: {record.name}  ({record.created_at}, {record.status})")
    if record.human_error is not None:
        print(f"  human-level error: {record.human_error:.2%}")
    for split, error in record.errors.items():
        size = record.sizes.get(split)
        print(f"  {split:<10} error {error:.2%}" + (f"  (n = {size:,})" if size else ""))
    if record.config:
        print("  config: " + ", ".join(f"{k}={v}" for k, v in record.config.items()))
    if record.diagnosis:
        print(f"  primary problem: {record.diagnosis.get('primary_problem')}")
    return 0
