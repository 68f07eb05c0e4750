"""Fitted scalers in files: which method a name means, its parameters, and
saving and loading models.

It may touch the model files named on the command line.  It knows the
methods only through :mod:`skscale._registry` and ``Scaler``'s ``METHODS``,
and what a method learned only through the estimator's own attributes.
"""

import ast
import difflib
import os

from .errors import CLIError
from .outputs import atomic_output
from .tables import formats

MODEL_FORMATS = {".skops": "skops", ".joblib": "joblib", ".pkl": "joblib", ".pickle": "joblib"}
#: Prefix of the columns that ``transform --keep-stats`` adds for per-sample methods.
STATS_PREFIX = "_skscale_"


def model_format(path, args):
    """The model format of ``path``: ``--format``, else its extension, else skops."""
    return formats(args)[1] or MODEL_FORMATS.get(os.path.splitext(path)[1].lower(), "skops")


def method_class(name):
    from .._registry import suggest
    from .._scaler import METHODS  # the methods, and "auto"

    if name not in METHODS:
        hint = suggest(name, METHODS)
        raise CLIError(f"unknown method {name!r}; the methods are {', '.join(METHODS)}"
                       + (f". {hint}" if hint else ""))
    return METHODS[name]


def method_name(est):
    from .._registry import name_of
    from .._scaler import METHODS

    return name_of(est, METHODS)


def parse_params(items, cls):
    """``--param k=v`` as keyword arguments: each value a Python literal
    (``(-1, 1)``, ``None``, ``0.1``), or else a string (``norm=l1``)."""
    takes = cls._get_param_names()
    params = {}
    for item in items or ():
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise CLIError(f"--param takes name=value, got {item!r}")
        if key not in takes:
            close = difflib.get_close_matches(key, takes, n=1)
            raise CLIError(f"{cls.__name__} has no parameter {key!r}"
                           + (f"; did you mean {close[0]!r}?" if close else "")
                           + f" Its parameters: {', '.join(takes)}")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    est = cls(**params)
    est._validate_params()  # a bad value fails before any data is read
    return est


def save_model(est, path, fmt):
    import joblib

    from .. import io

    with atomic_output(path) as tmp:
        if fmt == "joblib":
            joblib.dump(est, tmp)
        else:
            io.dump(est, tmp)


def load_model(path, args):
    """A fitted skscale scaler with column names; skops files through the
    safe loader, joblib files (pickles: trusted files only) through joblib."""
    from .. import io
    from .._scaler import METHODS

    if not os.path.isfile(path):
        raise CLIError(f"cannot read {path!r}: no such file")
    fmt = model_format(path, args)
    try:
        if fmt == "joblib":
            import joblib

            est = joblib.load(path)
        else:
            est = io.load(path)
    except ImportError:
        raise
    except Exception as err:  # a wrong or damaged file can fail in many ways
        raise CLIError(f"cannot load {path!r} as a {fmt} model: {err}") from None
    if type(est) not in METHODS.values():
        raise CLIError(f"{path!r} holds a {type(est).__name__}, not a scaler that"
                       " 'skscale fit' writes")
    if not hasattr(est, "feature_names_in_"):
        raise CLIError(f"the scaler in {path!r} was fitted without column names; fit it"
                       " with 'skscale fit', or in Python on a DataFrame")
    return est


def is_per_sample(est):
    """Whether ``est`` scales each row by statistics of its own."""
    return hasattr(est, "sample_stats")


def stats_columns(est):
    """Names of the per-sample statistics columns of ``transform --keep-stats``."""
    if not hasattr(est, "n_groups_"):  # unit norm: one norm per row
        return [f"{STATS_PREFIX}norm"]
    groups = range(est.n_groups_)
    return [f"{STATS_PREFIX}mean_{g}" for g in groups] + [f"{STATS_PREFIX}std_{g}" for g in groups]


def sample_stats_arrays(est, F):
    """``est``'s statistics of each row of ``F``, one array per stats column."""
    stats = est.sample_stats(F)
    if isinstance(stats, tuple):  # (mean, std), each (n_samples, n_groups)
        return [s[:, g] for s in stats for g in range(s.shape[1])]
    return [stats]


def sample_stats_from(arrays):
    """The ``sample_stats`` argument of ``inverse_transform`` from the arrays
    of the stats columns, in :func:`stats_columns`' order."""
    import numpy as np

    if len(arrays) == 1:
        return arrays[0]
    half = len(arrays) // 2
    return np.column_stack(arrays[:half]), np.column_stack(arrays[half:])
