"""Your first system, quickly: from a data file to baselines, a diagnosis and an
error-analysis session; then measure each change against the previous iteration.

- :func:`baseline`: data file or DataFrame -> column roles -> splits (train,
  train-dev, dev, test) -> preprocessing fitted on train -> trivial, linear and
  network baselines (early stopping on a carve of train) -> runs in the project store ->
  diagnosis of the best -> error-analysis session on its dev errors ->
  comparison with the previous iteration. Returns a :class:`BaselineResult`.
- :func:`compare_runs`: two runs paired on the same dev examples (McNemar for
  error rates, a studentised paired bootstrap of the RMSE for regression), with the
  gaps of both ladders side by side. Returns a :class:`RunComparison`.
- :func:`infer_roles`, :func:`build_preprocessor`, :func:`read_table`: the parts.
- One project per dataset: :func:`fingerprint` (stored with every run),
  :func:`project_for` (a folder named after the file), :func:`same_dataset`
  (may two runs be compared?), :func:`projects_of_data` (the projects beside a
  folder made from the same data). :func:`suggest_target` preselects a target only
  when a column is named like one.
- Checks of the data (``BaselineResult.checks``, :class:`Check`): repeated
  rows across splits, a dev set of one class (:class:`DataCheckError`), leaks,
  ties between models.

The same from the shell: ``mlstrat baseline DATA --target COLUMN``.
"""

from mlstrat.first_system._checks import Check, DataCheckError
from mlstrat.first_system._columns import (
    ROLES,
    TARGET_NAMES,
    ColumnPlan,
    ColumnRole,
    infer_role,
    infer_roles,
    suggest_target,
)
from mlstrat.first_system._compare import RunComparison, compare_runs
from mlstrat.first_system._dataset import (
    DatasetMismatchError,
    fingerprint,
    nearby_projects,
    new_project_folder,
    project_dataset,
    project_for,
    projects_of_data,
    same_dataset,
)
from mlstrat.first_system._models import ModelSpec, ladder
from mlstrat.first_system._preprocess import DateFeatures, FrequentCategories, build_preprocessor
from mlstrat.first_system._progress import ProgressEvent, StageLines
from mlstrat.first_system._read import read_table
from mlstrat.first_system._result import BaselineResult, ModelResult
from mlstrat.first_system._workflow import baseline, infer_task

__all__ = [
    "ROLES",
    "TARGET_NAMES",
    "BaselineResult",
    "Check",
    "ColumnPlan",
    "ColumnRole",
    "DataCheckError",
    "DatasetMismatchError",
    "DateFeatures",
    "FrequentCategories",
    "ModelResult",
    "ModelSpec",
    "ProgressEvent",
    "RunComparison",
    "StageLines",
    "baseline",
    "build_preprocessor",
    "compare_runs",
    "fingerprint",
    "infer_role",
    "infer_roles",
    "infer_task",
    "ladder",
    "nearby_projects",
    "new_project_folder",
    "project_dataset",
    "project_for",
    "projects_of_data",
    "read_table",
    "same_dataset",
    "suggest_target",
]
