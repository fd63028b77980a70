"""The ``mlstrat`` command: parse, call the library, print. No logic here.

Each subcommand lives in its own module with ``register(subparsers)``, which
adds a parser whose ``func`` default takes the parsed arguments and returns
an exit code.

One error path: whatever a command raises ends as ONE line on stderr and an
exit code, 2 for bad input (nothing was written), 1 for anything unexpected
(see :mod:`mlstrat.cli._common`). ``mlstrat --debug COMMAND ...`` (or
``MLSTRAT_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from mlstrat.cli._common import EXIT_FAILURE, exit_code, one_line

# Subcommand modules, in the order `mlstrat --help` lists them.
COMMANDS = ("_diagnose", "_splits", "_runs", "_errors", "_tune", "_baseline", "_dashboard",
            "_export", "_import")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlstrat",
        description="What to work on next, from numbers: diagnosis, error analysis, tuning.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"mlstrat.cli.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (0 ok, 1 failure, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("MLSTRAT_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"mlstrat {args.command}: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        return _report(args.command, exc)


def _report(command: str, exc: Exception) -> int:
    code = exit_code(exc)
    kind = "error" if code != EXIT_FAILURE else "unexpected error"
    hint = " (run with --debug for the traceback)" if code == EXIT_FAILURE else ""
    print(f"mlstrat {command}: {kind}: {one_line(exc)}{hint}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
