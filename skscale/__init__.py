"""skscale: every normalization method as a scikit-learn estimator.

Each estimator learns its parameters on the training data and applies exactly
the same transform to any later data.  ``SCALERS`` maps each method's name to
its class, and :class:`Scaler` picks one by name (so a grid search can).
"""

from . import io, weights
from ._auto import AutoScaler
from ._batch_norm import BatchNormScaler
from ._config import config_context, get_config, set_config
from ._decimal import DecimalScaler
from ._group_norm import GroupNormScaler, InstanceNormScaler, LayerNormScaler
from ._log import LogScaler
from ._maxabs import MaxAbsScaler
from ._minmax import MinMaxScaler
from ._power import PowerTransformer
from ._quantile import QuantileTransformer
from ._robust import RobustScaler
from ._scaler import Scaler
from ._squashing import SquashingScaler
from ._stats import ColumnStats
from ._unit_norm import UnitNormScaler
from ._zscore import ZScoreScaler

#: Method name -> estimator class, for every method skscale implements.
SCALERS = {
    "minmax": MinMaxScaler,
    "zscore": ZScoreScaler,
    "robust": RobustScaler,
    "decimal": DecimalScaler,
    "log": LogScaler,
    "maxabs": MaxAbsScaler,
    "power": PowerTransformer,
    "quantile": QuantileTransformer,
    "squashing": SquashingScaler,
    "unit_norm": UnitNormScaler,
    "layer_norm": LayerNormScaler,
    "instance_norm": InstanceNormScaler,
    "group_norm": GroupNormScaler,
    "batch_norm": BatchNormScaler,
}

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
    "MaxAbsScaler",
    "MinMaxScaler",
    "PowerTransformer",
    "QuantileTransformer",
    "RobustScaler",
    "Scaler",
    "SquashingScaler",
    "UnitNormScaler",
    "ZScoreScaler",
    "config_context",
    "get_config",
    "io",
    "set_config",
    "weights",
]

__version__ = "0.1.0"
