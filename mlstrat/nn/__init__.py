"""A NumPy neural-network trainer with a Keras-like and a scikit-learn API.

``Sequential`` + ``Dense``/``Dropout`` layers for hands-on work;
``NeuralNetClassifier``, ``NeuralNetRegressor`` and ``LogisticRegressionNN``
for pipelines, grid search and cross-validation.  Regularisation follows the
course notes: ``(lambda / 2m) sum ||W||^2`` (L2) and ``(lambda / 2m) sum |W|``
(L1), ``m`` the batch size, biases not penalised.
"""

from mlstrat.nn._activations import ACTIVATIONS, DERIVATIVES
from mlstrat.nn._callbacks import Callback, EarlyStopping, History, ProgressBar
from mlstrat.nn._estimators import (
    LogisticRegressionNN,
    NeuralNetClassifier,
    NeuralNetRegressor,
)
from mlstrat.nn._exceptions import DivergenceWarning, ModelFileError
from mlstrat.nn._gradcheck import GradientCheckResult, gradient_check
from mlstrat.nn._io import load_model, save_model
from mlstrat.nn._layers import Dense, Dropout
from mlstrat.nn._losses import LOSSES
from mlstrat.nn._network import Sequential
from mlstrat.nn._optimizers import OPTIMIZERS, SGD, Adam, Momentum, RMSprop
from mlstrat.nn._regularizers import lambda_from_keras_l2
from mlstrat.nn._schedules import (
    SCHEDULES,
    ConstantLR,
    ExponentialDecay,
    InverseTimeDecay,
    StaircaseDecay,
)

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Adam",
    "Callback",
    "ConstantLR",
    "Dense",
    "DivergenceWarning",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "GradientCheckResult",
    "History",
    "InverseTimeDecay",
    "LogisticRegressionNN",
    "ModelFileError",
    "Momentum",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "ProgressBar",
    "RMSprop",
    "SGD",
    "Sequential",
    "StaircaseDecay",
    "gradient_check",
    "lambda_from_keras_l2",
    "load_model",
    "save_model",
]
