"""``mlstrat import mlflow RUN_ID``: an MLflow run's logged predictions as a project run."""

from __future__ import annotations

import argparse
import logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import", help="read a run from another tool (MLflow) into a project",
        description="Read a run from another tool into a project.")
    sub = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    mlflow = sub.add_parser(
        "mlflow", help="an MLflow run whose predictions were logged as an artifact",
        description="Read an MLflow run whose predictions were logged as an artifact (a CSV "
                    "or Parquet file with columns split, y_true, y_pred; optional id and "
                    "proba_<class>) into a diagnosed project run. Nothing is written if "
                    "the run or its artifact is missing or invalid. Needs: pip install "
                    "\"mlstrat[mlflow]\".")
    mlflow.add_argument("run_id", metavar="RUN_ID", help="the MLflow run's id")
    mlflow.add_argument("--project", required=True,
                        help="the project folder (created if missing)")
    mlflow.add_argument("--tracking-uri", default=None, metavar="URI",
                        help="default: MLflow's, from MLFLOW_TRACKING_URI")
    mlflow.add_argument("--artifact", default=None, metavar="PATH",
                        help="the predictions file in the run's artifacts (default: the "
                             "one named predictions.csv or predictions.parquet)")
    mlflow.add_argument("--name", default=None, help="the run's name (default: MLflow's)")
    mlflow.add_argument("--human", type=float, default=None, metavar="ERROR",
                        help="human-level error (a rate, or an RMSE for a regression)")
    mlflow.add_argument("--task", choices=("auto", "classification", "regression"),
                        default="auto", help="default: regression when y_true holds "
                                             "fractional numbers")
    mlflow.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlstrat.integrations.mlflow import import_run

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # the folder, not an opened project: it is created only once the run was read
    imported = import_run(args.project, args.run_id,
                          tracking_uri=args.tracking_uri, artifact=args.artifact,
                          name=args.name, human=args.human, task=args.task)
    print(imported)
    return 0
