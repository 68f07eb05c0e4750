"""skscale: every normalization method as a scikit-learn estimator.

Each estimator learns its parameters on the training data and applies exactly
the same transform to any later data.  ``SCALERS`` maps each method's name to
its class, and :class:`Scaler` picks one by name (so a grid search can).
"""

from . import io, weights
from ._auto import AutoScaler
from ._config import config_context, get_config, set_config
from ._registry import SCALERS
from ._scaler import Scaler
from ._stats import ColumnStats
from ._version import __version__  # noqa: F401 (the version, as every package shows it)
# (each method's class from the module that defines it, where pickles find it)
from ._batch_norm import BatchNormScaler
from ._decimal import DecimalScaler
from ._group_norm import GroupNormScaler, InstanceNormScaler, LayerNormScaler
from ._log import LogScaler
from ._minmax import MinMaxScaler
from ._robust import RobustScaler
from ._unit_norm import UnitNormScaler
from ._zscore import ZScoreScaler

__all__ = [
    "SCALERS",
    "AutoScaler",
    "BatchNormScaler",
    "ColumnStats",
    "DecimalScaler",
    "GroupNormScaler",
    "InstanceNormScaler",
    "LayerNormScaler",
    "LogScaler",
    "MinMaxScaler",
    "RobustScaler",
    "Scaler",
    "UnitNormScaler",
    "ZScoreScaler",
    "config_context",
    "get_config",
    "io",
    "set_config",
    "weights",
]
