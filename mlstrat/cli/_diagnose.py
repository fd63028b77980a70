"""``mlstrat diagnose``: the error ladder from rates or from a predictions CSV."""

from __future__ import annotations

import argparse
import json

from mlstrat.cli._common import input_file, open_project, reading
from mlstrat.diagnosis import diagnose


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diagnose", help="avoidable bias, variance, data mismatch or dev overfitting?",
        description="Give error rates (--train, --dev, ...) or a predictions CSV with "
                    "columns split, y_true, y_pred.")
    parser.add_argument("predictions", nargs="?", help="a predictions CSV (split, y_true, y_pred)")
    parser.add_argument("--human", action="append", default=[], metavar="[NAME=]RATE",
                        help="human-level error; repeat for several references "
                             "(\"typical doctor=0.01\"): the lowest is the Bayes proxy")
    for split in ("train", "train-dev", "dev", "test"):
        parser.add_argument(f"--{split}", type=float, default=None, metavar="RATE",
                            help=f"{split} error rate in [0, 1]")
    parser.add_argument("--sizes", default=None, metavar="SPLIT=N,...",
                        help="examples per split, e.g. train=50000,train_dev=5000,dev=5000")
    parser.add_argument("--project", default=None,
                        help="also record the result as a run in this project folder")
    parser.add_argument("--name", default="diagnosis", help="the run's name with --project")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a report")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    human = _human(args.human)
    if args.predictions:
        from mlstrat.predictions import diagnose_frames, read_predictions

        path = input_file(args.predictions, "predictions CSV")
        with reading(path, "predictions CSV"):
            preds = read_predictions(path)
            result = diagnose_frames(preds, human)
        if result is None:
            raise ValueError(f"{args.predictions} has no 'train' rows; the error ladder "
                             f"starts at the training error. Splits found: {sorted(preds)}.")
        record = {"predictions": preds}
    else:
        sizes = _sizes(args.sizes)
        result = diagnose(human, args.train, train_dev=args.train_dev, dev=args.dev,
                          test=args.test, sizes=sizes)
        record = {"errors": {k: v for k, v in result.rates.items() if v is not None},
                  "sizes": {k: v for k, v in sizes.items() if k != "human"}}
    if args.project:
        project = open_project(args.project, create=True)
        run_id = project.log_run(
            args.name, human_error=min(result.human_levels.values(), default=None),
            diagnosis=result, **record)
        print(f"Recorded as run {run_id} in {project.folder}.")
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)
    return 0


def _human(values: list[str]) -> float | dict[str, float] | None:
    if not values:
        return None
    refs = {}
    for i, value in enumerate(values):
        name, _, rate = value.rpartition("=")
        refs[name.strip() or f"reference {i + 1}"] = _float(rate, "--human")
    if len(refs) == 1 and "=" not in values[0]:
        return next(iter(refs.values()))
    return refs


def _sizes(text: str | None) -> dict[str, int]:
    if not text:
        return {}
    sizes = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"--sizes takes SPLIT=N pairs separated by commas; got {part!r}.")
        try:
            sizes[key.strip().replace("-", "_")] = int(value)
        except ValueError:
            raise ValueError(f"--sizes: the size of {key.strip()!r} must be a whole number; "
                             f"got {value!r}.") from None
    return sizes


def _float(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option} takes a number such as 0.01; got {text!r}.") from None
