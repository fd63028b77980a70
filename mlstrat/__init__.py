"""mlstrat: the machine-learning strategy of the deep-learning course notes, as software.

The steps of the notes, callable from the top level:

- :func:`diagnose` (errors -> avoidable bias, variance, data mismatch, dev
  overfitting, with intervals and verdicts), :func:`diagnose_predictions`,
  :func:`diagnose_regression`;
- :func:`baseline` (a data file to a first system) and :func:`compare_runs`
  (the next iteration against the last);
- :func:`select_model` (one optimizing metric under satisficing constraints),
  :func:`suggest_splits`, :func:`new_session` (error analysis);
- the store: :func:`open_project`, :func:`record_run`, :func:`start_run`.

Subpackages: :mod:`mlstrat.nn` (the NumPy trainer), :mod:`mlstrat.diagnosis`,
:mod:`mlstrat.first_system`, :mod:`mlstrat.metrics`, :mod:`mlstrat.splits`,
:mod:`mlstrat.store`, :mod:`mlstrat.errors`, :mod:`mlstrat.tuning`.

Examples
--------
>>> import mlstrat
>>> print(mlstrat.diagnose(human=0.01, train=0.08, dev=0.10).primary)
avoidable_bias
"""

from mlstrat._errors import MlstratError
from mlstrat.diagnosis import diagnose, diagnose_predictions
from mlstrat.errors import new_session
from mlstrat.first_system import baseline, compare_runs
from mlstrat.live import ActiveRun, start_run
from mlstrat.metrics import select_model
from mlstrat.regression import diagnose_regression
from mlstrat.splits import suggest_splits
from mlstrat.store import Project, open_project
from mlstrat.tracking import RecordedRun, record_run

__version__ = "0.1.0"
__all__ = [
    "ActiveRun", "MlstratError", "Project", "RecordedRun", "__version__",
    "baseline", "compare_runs", "diagnose", "diagnose_predictions", "diagnose_regression",
    "new_session", "open_project", "record_run", "select_model", "start_run", "suggest_splits",
]
