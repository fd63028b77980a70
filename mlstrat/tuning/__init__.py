"""Hyperparameter search: random over grid, each hyperparameter on its own
scale, coarse to fine, and successive halving that continues survivors.

Studies live in the project store and resume after a crash; trials run
inline, in joblib processes (``n_jobs``) or on a Dask cluster (``client``).
A study tunes a scikit-learn-style estimator or any objective function
(``study.optimize(objective, n_trials=...)``, or ``ask``/``tell``).
"""

from mlstrat.charts import progress_chart, score_by_param_chart
from mlstrat.tuning._config import (
    KEYS,
    TuneConfig,
    TuneData,
    load_config,
    parse_config,
    run_config,
)
from mlstrat.tuning._objective import ObjectiveError, StudyFailedError, Trial
from mlstrat.tuning._progress import StudyStart, TrialBar, WaitingForTrialsWarning
from mlstrat.tuning._result import StudyResult
from mlstrat.tuning._space import (
    DISTRIBUTIONS,
    Choice,
    Distribution,
    IntUniform,
    LogUniform,
    OneMinusLog,
    SearchSpace,
    Uniform,
    beta_scale,
    choice,
    intuniform,
    loguniform,
    one_minus_log,
    randint,
    uniform,
)
from mlstrat.tuning._strategies import (
    STRATEGIES,
    CoarseToFine,
    GridSearch,
    Hyperband,
    RandomSearch,
    Strategy,
    SuccessiveHalving,
    make_strategy,
)
from mlstrat.tuning._study import Study, create_study, load_study
from mlstrat.tuning._trial import SCORERS, run_trial

__all__ = [
    "DISTRIBUTIONS",
    "KEYS",
    "SCORERS",
    "STRATEGIES",
    "Choice",
    "CoarseToFine",
    "Distribution",
    "GridSearch",
    "Hyperband",
    "IntUniform",
    "LogUniform",
    "ObjectiveError",
    "OneMinusLog",
    "RandomSearch",
    "SearchSpace",
    "Strategy",
    "Study",
    "StudyFailedError",
    "StudyResult",
    "StudyStart",
    "Trial",
    "TrialBar",
    "TuneConfig",
    "TuneData",
    "WaitingForTrialsWarning",
    "SuccessiveHalving",
    "Uniform",
    "beta_scale",
    "choice",
    "create_study",
    "intuniform",
    "load_config",
    "load_study",
    "loguniform",
    "make_strategy",
    "one_minus_log",
    "parse_config",
    "progress_chart",
    "randint",
    "run_config",
    "run_trial",
    "score_by_param_chart",
    "uniform",
]
