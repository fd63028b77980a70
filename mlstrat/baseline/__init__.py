"""Your first system, quickly: from a data file to baselines, a diagnosis and an
error-analysis session; then measure each change against the previous iteration.

- :func:`baseline`: data file or DataFrame -> column roles -> splits (train,
  train-dev, dev, test) -> preprocessing fitted on train -> trivial, linear and
  network baselines (early stopping on dev) -> runs in the project store ->
  diagnosis of the best -> error-analysis session on its dev errors ->
  comparison with the previous iteration. Returns a :class:`BaselineResult`.
- :func:`compare_runs`: two runs paired on the same dev examples (McNemar for
  error rates, a paired t-test on squared errors for regression), with the
  gaps of both ladders side by side. Returns a :class:`RunComparison`.
- :func:`infer_roles`, :func:`build_preprocessor`, :func:`read_table`: the parts.

The same from the shell: ``mlstrat baseline DATA --target COLUMN``.
"""

from mlstrat.baseline._columns import ROLES, ColumnPlan, ColumnRole, infer_role, infer_roles
from mlstrat.baseline._compare import RunComparison, compare_runs
from mlstrat.baseline._models import ModelSpec, ladder
from mlstrat.baseline._preprocess import DateFeatures, FrequentCategories, build_preprocessor
from mlstrat.baseline._progress import ProgressEvent, StageLines
from mlstrat.baseline._read import read_table
from mlstrat.baseline._result import BaselineResult, ModelResult
from mlstrat.baseline._workflow import baseline, infer_task

__all__ = [
    "ROLES",
    "BaselineResult",
    "ColumnPlan",
    "ColumnRole",
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
    "infer_role",
    "infer_roles",
    "infer_task",
    "ladder",
    "read_table",
]
