"""Placeholder until this subcommand is built."""


def register(subparsers):
    return None
