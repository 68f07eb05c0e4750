"""skscale: every normalization method as a scikit-learn estimator.

Each estimator learns its parameters on the training data and applies exactly
the same transform to any later data.  ``SCALERS`` maps each method's name to
its class, and :class:`Scaler` picks one by name (so a grid search can).

This face only hands names on, each from the module that defines it (where
pickles find the classes), imported when first asked for: ``import skscale``
costs nothing until a name is used, and the command line starts without the
estimators it does not run.
"""

import importlib

from . import _config  # noqa: F401 (reads SKSCALE_COMPILED now: a bad value is refused)
from ._version import __version__  # noqa: F401 (the version, as every package shows it)

#: Each public name, and the module that defines it (None: the module itself).
_HOMES = {
    "SCALERS": "_registry",
    "AutoScaler": "_auto",
    "BatchNormScaler": "_batch_norm",
    "ColumnStats": "_stats",
    "DecimalScaler": "_decimal",
    "GroupNormScaler": "_group_norm",
    "InstanceNormScaler": "_group_norm",
    "LayerNormScaler": "_group_norm",
    "LogScaler": "_log",
    "MaxAbsScaler": "_maxabs",
    "MinMaxScaler": "_minmax",
    "PowerTransformer": "_power",
    "QuantileTransformer": "_quantile",
    "RMSNormScaler": "_rms_norm",
    "RobustScaler": "_robust",
    "Scaler": "_scaler",
    "SquashingScaler": "_squashing",
    "UnitNormScaler": "_unit_norm",
    "ZScoreScaler": "_zscore",
    "config_context": "_config",
    "merge": "_merge",
    "get_config": "_config",
    "io": None,
    "set_config": "_config",
    "weights": None,
}

__all__ = list(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = _HOMES[name]
    value = importlib.import_module(f".{home or name}", __name__)
    if home is not None:
        value = getattr(value, name)
    globals()[name] = value  # (asked for once)
    return value


def __dir__():
    return sorted({*globals(), *__all__})
