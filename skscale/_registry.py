"""The methods: their names, their classes, the names people give them
elsewhere, and "did you mean" for a name that is none of them.

Everything that takes a method by name (``Scaler``, ``AutoScaler``'s rules,
the command line, the persistence helpers) asks here.  This module imports
the method modules and nothing that imports it back.
"""

import difflib

from ._batch_norm import BatchNormScaler
from ._columns import ColumnScaler
from ._decimal import DecimalScaler
from ._group_norm import GroupNormScaler, InstanceNormScaler, LayerNormScaler
from ._log import LogScaler
from ._maxabs import MaxAbsScaler
from ._minmax import MinMaxScaler
from ._power import PowerTransformer
from ._quantile import QuantileTransformer
from ._rms_norm import RMSNormScaler
from ._robust import RobustScaler
from ._squashing import SquashingScaler
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
    "rms_norm": RMSNormScaler,
    "batch_norm": BatchNormScaler,
}

# Names people give these methods elsewhere (scikit-learn, torch, textbooks),
# written as _key writes them: method name, or the names to suggest.
ALIASES = {
    "standard": "zscore", "standardize": "zscore", "standardise": "zscore",
    "standardization": "zscore", "standardisation": "zscore", "standardscaler": "zscore",
    "std": "zscore", "zscoring": "zscore",
    "minmaxscaling": "minmax", "rescale": "minmax", "rescaling": "minmax",
    "normalize": ("minmax", "unit_norm"), "normalise": ("minmax", "unit_norm"),
    "normalization": ("minmax", "unit_norm"), "normalisation": ("minmax", "unit_norm"),
    "normalizer": "unit_norm", "l1": "unit_norm", "l2": "unit_norm",
    "log1p": "log", "logarithm": "log", "logscaling": "log",
    "decimalscaling": "decimal",
    "batchnorm1d": "batch_norm", "batchnormalization": "batch_norm", "bn": "batch_norm",
    "layernormalization": "layer_norm", "ln": "layer_norm",
    "instancenorm1d": "instance_norm", "instancenorm2d": "instance_norm",
    "instancenormalization": "instance_norm",
    "groupnormalization": "group_norm", "gn": "group_norm",
    "maxabsolute": "maxabs", "maxabsscaling": "maxabs",
    "yeojohnson": "power", "boxcox": "power", "powertransform": "power",
    "quantiletransform": "quantile", "rankgauss": "quantile", "gaussrank": "quantile",
    "squash": "squashing", "softclip": "squashing",
    "rmsnormalization": "rms_norm", "rootmeansquare": "rms_norm",
    "rootmeansquarenorm": "rms_norm", "rmsnorm": "rms_norm",
}


def column_methods():
    """The names of the methods that learn per-column parameters (the ones a
    per-column choice can apply to a subset of the columns)."""
    return [name for name, cls in SCALERS.items() if issubclass(cls, ColumnScaler)]


def name_of(estimator, methods=None):
    """The method name of ``estimator``'s class in ``methods`` (default
    :data:`SCALERS`), or None."""
    methods = SCALERS if methods is None else methods
    return next((name for name, cls in methods.items() if type(estimator) is cls), None)


def _key(name):
    """``name`` lowercased, letters and digits only: "Batch-Norm" -> "batchnorm"."""
    return "".join(c for c in name.lower() if c.isalnum())


def suggest(method, methods=None):
    """"Did you mean ...?" for a ``method`` that is not a key of ``methods``
    (default :data:`SCALERS`), or ''."""
    methods = SCALERS if methods is None else methods
    if not isinstance(method, str) or method in methods:
        return ""
    aliases = dict(ALIASES)
    for name, cls in methods.items():  # "batchnorm", "batchnormscaler", ...
        aliases[_key(name)] = aliases[_key(cls.__name__)] = name
    found = aliases.get(_key(method), ())
    found = [found] if isinstance(found, str) else list(found)
    found += [m for m in difflib.get_close_matches(method.lower(), methods) if m not in found]
    if not found:
        return ""
    return "Did you mean " + " or ".join(repr(m) for m in found) + "?"
