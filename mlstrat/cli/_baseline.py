"""``mlstrat baseline DATA --target COLUMN``: your first system, quickly.

Parse, call :func:`mlstrat.first_system.baseline`, print the report (stage lines
on stderr while it runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Literal

#: --train-dev's words -> baseline's ``train_dev``
TRAIN_DEV: dict[str, Literal["auto"] | bool] = {"auto": "auto", "yes": True, "no": False}

EPILOG = """examples:
  mlstrat baseline data.csv --target label --project proj
  mlstrat baseline data.csv --target label --domain source=car --human-error 0.02
  mlstrat baseline data.csv --target label --project proj --hidden 256,128 --l2 0.01 --dropout 0.2
  mlstrat baseline data.xlsx --target price --task regression --drop notes --role zip=categorical

one project per dataset: runs of another target or other columns are refused in a
project that holds runs of other data; give each file its own --project.
"""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "baseline", help="data file -> baselines -> diagnosis -> error-analysis session",
        description="Build your first system quickly: read DATA (CSV, Parquet or XLSX),\n"
                    "infer column roles, split train/dev/test (train-dev with --domain),\n"
                    "check the data (repeated rows, classes, leaks), train baselines of\n"
                    "growing capacity, record them as runs (all at once), diagnose the best\n"
                    "and open an error-analysis session. Run it again with one change to\n"
                    "measure that change against the previous iteration (paired test on dev).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="CSV, TSV, Parquet or XLSX file")
    p.add_argument("--target", required=True, metavar="COLUMN", help="column to predict")
    p.add_argument("--task", choices=("classification", "regression"),
                   help="default: inferred from the target column")
    p.add_argument("--domain", metavar="COLUMN=VALUE",
                   help="rows of the distribution you care about: dev/test come only from them")
    p.add_argument("--group", metavar="COLUMN", help="no group in two splits")
    p.add_argument("--human-error", type=float, metavar="RATE",
                   help="human-level error (a fraction, 2%% is 0.02; regression: MSE / "
                        "variance of the target)")
    p.add_argument("--metric", metavar="NAME",
                   help="single number that picks the best model on dev (default: error; "
                        "regression: mse)")
    p.add_argument("--project", default="mlstrat_project", metavar="DIR",
                   help="project folder (default: %(default)s)")
    p.add_argument("--hidden", metavar="256,128",
                   help="one network of these layer sizes instead of the small and medium ones")
    p.add_argument("--l2", type=float, metavar="LAMBDA", help="L2 regularisation of the networks")
    p.add_argument("--dropout", type=float, metavar="RATE", help="dropout of the networks")
    p.add_argument("--drop", action="append", metavar="COL,...", help="columns to leave out")
    p.add_argument("--role", action="extend", nargs="+", metavar="COL=ROLE",
                   help="override column roles: numeric, categorical, text, id, date, drop "
                        "(several after one --role, or --role repeated)")
    p.add_argument("--max-categories", type=int, default=20, metavar="N",
                   help="one-hot columns per categorical column (default: %(default)s)")
    p.add_argument("--max-epochs", type=int, default=100, metavar="N",
                   help="epoch cap of each network (default: %(default)s)")
    p.add_argument("--resampling", choices=("auto", "split", "kfold"), default="auto",
                   help="rungs from one split, or from repeated K-fold out-of-fold "
                        "predictions (small data); auto: K-fold when one split's dev cannot "
                        "resolve 2 pt (default: %(default)s)")
    p.add_argument("--train-dev", choices=tuple(TRAIN_DEV), default="auto",
                   help="carve a train-dev set (training distribution, not trained on); "
                        "auto: only with --domain, since without one train and dev come "
                        "from one distribution (default: %(default)s)")
    p.add_argument("--drop-duplicates", action="store_true",
                   help="leave out of dev and test the rows that repeat a training row "
                        "exactly (they are counted either way)")
    p.add_argument("--allow-new-data", action="store_true",
                   help="add runs of a new version of the project's data (same target and "
                        "columns, other rows); another target or columns is always refused")
    p.add_argument("--seed", type=int, default=0,
                   help="split and training seed; keep it to compare iterations")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no stage lines on stderr")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from mlstrat.first_system import StageLines, baseline

    result = baseline(
        args.data, args.target, task=args.task, domain=args.domain, group=args.group,
        human_error=args.human_error, metric=args.metric, project=args.project,
        hidden=args.hidden, l2=args.l2, dropout=args.dropout, drop=args.drop or (),
        roles=args.role, max_categories=args.max_categories, max_epochs=args.max_epochs,
        random_state=args.seed, resampling=args.resampling,
        train_dev=TRAIN_DEV[args.train_dev],
        drop_duplicates=args.drop_duplicates, allow_new_data=args.allow_new_data,
        progress=None if args.quiet else StageLines(sys.stderr))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result)
    return 0
