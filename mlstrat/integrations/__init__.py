"""Bridges to the tools data scientists already use.

:mod:`mlstrat.integrations.mlflow` writes a project's runs to MLflow and reads an
MLflow run back (``pip install "mlstrat[mlflow]"``). Each bridge imports its tool
inside its functions, so ``import mlstrat`` never needs it.
"""

__all__: list[str] = []
