"""mlstrat: the machine-learning strategy of the deep-learning course notes, as software.

Subpackages: :mod:`mlstrat.nn` (the NumPy trainer), :mod:`mlstrat.diagnose`,
:mod:`mlstrat.metrics`, :mod:`mlstrat.splits`, :mod:`mlstrat.store`,
:mod:`mlstrat.errors`, :mod:`mlstrat.tuning`.
"""

from mlstrat._errors import MlstratError
from mlstrat.live import ActiveRun, start_run
from mlstrat.store import Project, open_project
from mlstrat.tracking import RecordedRun, record_run

__version__ = "0.1.0"
__all__ = ["ActiveRun", "MlstratError", "Project", "RecordedRun", "__version__",
           "open_project", "record_run", "start_run"]
