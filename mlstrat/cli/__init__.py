"""The ``mlstrat`` command: parse, call the library, print. No logic here.

Each subcommand lives in its own module with ``register(subparsers)``, which
adds a parser whose ``func`` default takes the parsed arguments and returns
an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `mlstrat --help` lists them.
COMMANDS = ("_diagnose", "_splits", "_runs", "_errors", "_tune", "_baseline")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlstrat",
        description="What to work on next, from numbers: diagnosis, error analysis, tuning.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"mlstrat.cli.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mlstrat {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
