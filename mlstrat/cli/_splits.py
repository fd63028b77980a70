"""``mlstrat splits``: how big train, train-dev, dev and test should be."""

from __future__ import annotations

import argparse

from mlstrat.splits import suggest_splits


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "splits", help="suggest split sizes (60/20/20, 98/1/1, mismatched distributions)")
    parser.add_argument("--n", type=int, required=True,
                        help="examples available (with --target: from the other distribution)")
    parser.add_argument("--target", type=int, default=None,
                        help="examples from the distribution you care about (e.g. in-car audio)")
    parser.add_argument("--resolution", type=float, default=None,
                        help="half-width wanted on the dev/test error, e.g. 0.005 for +-0.5 pt")
    parser.add_argument("--error-rate", type=float, default=None,
                        help="expected error, for --resolution (default: worst case 50%%)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plan = suggest_splits(args.n, target_size=args.target, resolution=args.resolution,
                          error_rate=args.error_rate)
    if args.json:
        import json

        print(json.dumps(plan.to_dict(), indent=2))
    else:
        print(plan)
    return 0
