"""``mlstrat export mlflow``: every run of a project into MLflow, once each."""

from __future__ import annotations

import argparse
import logging

from mlstrat.cli._common import open_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write a project's runs to another tool (MLflow)",
        description="Write a project's runs to another tool.")
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    mlflow = sub.add_parser(
        "mlflow", help="log every run to MLflow (re-running does not duplicate runs)",
        description="Log every run of a project to MLflow: parameters, per-split errors, "
                    "sizes and metrics, training history, the diagnosis (JSON, status and "
                    "primary problem as tags), the ladder chart, predictions and "
                    "error-analysis sheets. Runs already exported are updated only if they "
                    "changed. Needs: pip install \"mlstrat[mlflow]\".")
    mlflow.add_argument("--project", required=True, help="the project folder")
    mlflow.add_argument("--tracking-uri", default=None, metavar="URI",
                        help="sqlite:///mlflow.db, http://host:5000, ... "
                             "(default: MLflow's, from MLFLOW_TRACKING_URI)")
    mlflow.add_argument("--experiment", default=None, metavar="NAME",
                        help="the MLflow experiment (default: 'mlstrat <folder name>')")
    mlflow.add_argument("--artifact-location", default=None, metavar="URI",
                        help="where a new experiment keeps its files "
                             "(default: the tracking server's choice)")
    mlflow.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlstrat.integrations.mlflow import export_project

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no "creating tables" chatter
    project = open_project(args.project)
    report = export_project(project, args.tracking_uri, experiment=args.experiment,
                            artifact_location=args.artifact_location)
    print(report)
    return 0
