"""``mlstrat errors``: manual error analysis from the command line.

Parse, call :mod:`mlstrat.errors`, print. Bad input (a missing file, duplicate ids,
an import with rejected rows) ends with exit code 2 and a message saying what to fix.
"""

from __future__ import annotations

import argparse
import contextlib
import json

from mlstrat.cli._common import input_file, open_project, output_file, reading

EPILOG = """examples:
  mlstrat errors new --run 3 --project proj                 # 100 of run 3's dev errors
  mlstrat errors new --predictions dev.csv --all --stratify --category blurry
  mlstrat errors export 1 review.xlsx --project proj         # tag in Excel / LibreOffice
  mlstrat errors import 1 review.xlsx --project proj --create-categories
  mlstrat errors summary 1 --project proj

A predictions CSV has columns id, y_true, y_pred, optional proba_<class> columns;
every other column is kept as a feature for `mlstrat errors slices`.
Tag cells take x (or blank); the import also accepts 1/TRUE/yes and 0/FALSE/no.
"""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "errors", help="manual error analysis: sample dev errors, tag, summarize",
        description="Sample misclassified dev examples, tag them (here, in the dashboard "
                    "or in a spreadsheet) and see which category to work on next.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    new = _add(sub, "new", "start a session from a run or a predictions CSV")
    src = new.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", metavar="RUN", help="a stored run's id or name")
    src.add_argument("--predictions", metavar="CSV", help="columns id, y_true, y_pred, ...")
    new.add_argument("--split", default="dev", help="split of the run (default: %(default)s)")
    new.add_argument("--name", help="a label for the session")
    size = new.add_mutually_exclusive_group()
    size.add_argument("-n", type=int, default=100, help="errors to sample (default: 100)")
    size.add_argument("--all", action="store_true", help="review every error")
    new.add_argument("--stratify", action="store_true", help="sample by true class")
    new.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    new.add_argument("--category", action="append", default=[], metavar="NAME",
                     help="a category besides 'incorrectly labelled' (repeatable)")
    new.add_argument("--by", help="who creates it (default: your login name)")
    new.set_defaults(func=_new)

    _add(sub, "list", "list the sessions of a project").set_defaults(func=_list)

    exp = _add(sub, "export", "write the review sheet to .xlsx or .csv", session=True)
    exp.add_argument("file", help="output path ending in .xlsx or .csv")
    exp.set_defaults(func=_export)

    imp = _add(sub, "import", "read a tagged .xlsx/.csv back (all or nothing)", session=True)
    imp.add_argument("file", help="the tagged .xlsx or .csv")
    imp.add_argument("--create-categories", action="store_true",
                     help="add category columns the session does not know yet")
    imp.add_argument("--by", help="who tagged (default: your login name)")
    imp.set_defaults(func=_import)

    summ = _add(sub, "summary", "counts, intervals, ceilings, what to fix next", session=True)
    summ.add_argument("--json", action="store_true", help="print JSON")
    summ.set_defaults(func=_summary)

    sl = _add(sub, "slices", "slices of the features where errors concentrate", session=True)
    sl.add_argument("--json", action="store_true", help="print JSON")
    sl.set_defaults(func=_slices)

    ml = _add(sub, "mislabels", "candidate mislabelled examples to review", session=True)
    ml.add_argument("--top", type=int, default=20, help="how many to print (default: 20)")
    ml.set_defaults(func=_mislabels)
    return parser


def _add(sub, name: str, help_text: str, *, session: bool = False) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text, description=help_text)
    if session:
        p.add_argument("session", help="session id or name")
    p.add_argument("--project", default="mlstrat_project", metavar="DIR",
                   help="project folder (default: %(default)s)")
    return p


def _project(args: argparse.Namespace, *, write: bool = False, create: bool = False):
    """The project: created only by ``errors new``; read-only unless ``write``."""
    from mlstrat.store import StoreNotFoundError

    try:
        return open_project(args.project, write=write, create=create)
    except StoreNotFoundError as exc:
        raise StoreNotFoundError(f"{exc} Give --project DIR, or start one with "
                                 "`mlstrat errors new`.") from None


def _session(args: argparse.Namespace, *, write: bool = False):
    from mlstrat.errors import open_session

    return open_session(_project(args, write=write), args.session)


def _new(args: argparse.Namespace) -> int:
    import pandas as pd

    from mlstrat.errors import BUILTIN_CATEGORY, new_session

    features = None
    if args.n is not None and args.n < 1:
        raise ValueError(f"-n must be an int >= 1 (or use --all). Got {args.n}.")
    if args.predictions:
        path = input_file(args.predictions, "predictions CSV")
        with reading(path, "predictions CSV"):
            source = pd.read_csv(path, dtype={"id": str})
        fixed = {"id", "y_true", "y_pred"}
        features = [c for c in source.columns
                    if c not in fixed and not str(c).startswith("proba_")] or None
    else:
        source = args.run
    checked = reading(args.predictions, "predictions CSV") if args.predictions \
        else contextlib.nullcontext()
    with checked:  # a bad CSV's message names the file
        session = new_session(
            _project(args, create=True), source, name=args.name,
            n=None if args.all else args.n, stratify=args.stratify, random_state=args.seed,
            features=features, categories=(BUILTIN_CATEGORY, *args.category),
            split=args.split, by=args.by)
    rec = session.record
    print(f"Session {session.id} ({rec['name']!r}): {rec['n_sampled']} of {rec['n_errors']} "
          f"errors sampled from {rec['n_examples']} examples.")
    print(f"Next: mlstrat errors export {session.id} review.xlsx --project {args.project}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from mlstrat.errors import list_sessions

    table = list_sessions(_project(args))
    print(f"No error-analysis sessions in {args.project} yet." if table.empty
          else table.to_string(index=False))
    return 0


def _export(args: argparse.Namespace) -> int:
    path = _session(args).export(output_file(args.file, "review sheet"))
    print(f"Wrote {path}. Tag with x, then: mlstrat errors import {args.session} {path} "
          f"--project {args.project}")
    return 0


def _import(args: argparse.Namespace) -> int:
    path = input_file(args.file, "tagged sheet")
    session = _session(args, write=True)
    with reading(path, "tagged sheet"):
        report = session.import_tags(path, create_categories=args.create_categories,
                                     by=args.by)
    print(report)
    return 0


def _summary(args: argparse.Namespace) -> int:
    summary = _session(args).summary()
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary)
    return 0


def _slices(args: argparse.Namespace) -> int:
    report = _session(args).slices()
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0


def _mislabels(args: argparse.Namespace) -> int:
    print(_session(args).mislabel_candidates().format(top=args.top))
    return 0
