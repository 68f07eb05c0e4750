"""What every pickled (or skops-saved) skscale estimator carries, and what
is checked when one is loaded.

scikit-learn stamps ``_sklearn_version`` only into its own estimators; this
mixin does the same for skscale's, so that loading a file written by another
skscale version warns, naming both versions.  A loaded estimator is also
checked against itself (:func:`check_fitted`): every fitted array that its
class documents with a per-feature shape must have that shape for its
``n_features_in_``, so a damaged or crafted file fails at load with a clear
error instead of scaling with the wrong numbers.  It touches nothing but the
state dict that pickle, joblib and skops pass through ``__getstate__`` and
``__setstate__``.
"""

import dataclasses
import functools
import inspect
import re
import warnings

import numpy as np

from . import _version
from ._stats import ColumnStats


class InconsistentVersionWarning(UserWarning):
    """An estimator was loaded from a file written by another skscale version.

    Its fitted attributes may not mean what the running version expects:
    refit it, or load it with the version that wrote it.

    Attributes
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    current_version : str
        The running skscale version.
    original_version : str
        The skscale version that wrote the file (``"unknown"`` for a file
        written before skscale stamped its version).

    Examples
    --------
    >>> import pickle, warnings
    >>> from skscale import ZScoreScaler
    >>> from skscale.io import InconsistentVersionWarning
    >>> scaler = ZScoreScaler().fit([[1.0], [3.0]])
    >>> state = scaler.__getstate__()
    >>> state["_skscale_version"] = "0.0.1"
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     ZScoreScaler().__setstate__(state)
    >>> caught[0].category is InconsistentVersionWarning
    True
    >>> caught[0].message.original_version
    '0.0.1'
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(
            f"Trying to unpickle estimator {estimator_name} from skscale version"
            f" {original_version} when using version {current_version}. This might lead"
            " to breaking code or invalid results. Use at your own risk: refit it with"
            f" skscale {current_version}, or load it with skscale {original_version}.")


class VersionStampMixin:
    """Stores ``_skscale_version`` at ``__getstate__`` and warns with
    :class:`InconsistentVersionWarning` at ``__setstate__`` where it differs.

    Placed before ``BaseEstimator`` in the bases, it cooperates with
    scikit-learn's own ``__getstate__``/``__setstate__`` through ``super()``.
    """

    def __getstate__(self):
        # A new dict: the state may be the instance's own __dict__.
        return {**super().__getstate__(), "_skscale_version": _version.__version__}

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_skscale_version", "unknown")
        if version != _version.__version__:
            warnings.warn(InconsistentVersionWarning(
                estimator_name=type(self).__name__, current_version=_version.__version__,
                original_version=version), stacklevel=2)
        super().__setstate__(state)
        # A parameter added since the file was written takes its default,
        # which keeps the behaviour the file was written with.
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name != "self" and param.default is not param.empty and name not in vars(self):
                setattr(self, name, param.default)
        check_fitted(self)


class DamagedState(ValueError):
    """A loaded estimator whose fitted attributes do not agree with each other."""


#: An attribute line of a numpydoc ``Attributes`` section: names, then the type.
_ATTRIBUTE_LINE = re.compile(r"^\s*(\w+_(?:\s*,\s*\w+_)*)\s*:\s*(.*)$")


@functools.cache
def documented_shapes(cls):
    """``{attribute: dims}`` of the fitted arrays that ``cls``'s docstring
    gives a shape, each dim ``"n"`` (``n_features``), an int, or None (any)."""
    doc = (cls.__doc__ or "").split("\n")
    shapes, inside = {}, False
    for i, line in enumerate(doc):
        heading = i + 1 < len(doc) and set(doc[i + 1].strip()) == {"-"}
        if heading:
            inside = line.strip() == "Attributes"
            continue
        found = _ATTRIBUTE_LINE.match(line) if inside else None
        shape = re.search(r"ndarray.*?of shape \(([^)]*)\)", found.group(2)) if found else None
        if shape:
            dims = tuple(("n" if "n_features" in d else int(d) if d.strip().isdigit() else None)
                         for d in shape.group(1).split(",") if d.strip())
            for name in found.group(1).split(","):
                shapes[name.strip()] = dims
    return shapes


def check_fitted(est):
    """Raise :class:`DamagedState` where ``est``'s fitted attributes do not
    agree with its ``n_features_in_``: the shape (and numeric type) of each
    array its class documents per feature, the fields of its column
    statistics, the number of its sketches.  An unfitted ``est`` passes.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import ZScoreScaler
    >>> from skscale._persist import check_fitted
    >>> scaler = ZScoreScaler().fit([[1.0, 2.0], [3.0, 5.0]])
    >>> check_fitted(scaler)
    >>> scaler.mean_ = np.array([2.0])
    >>> check_fitted(scaler)
    Traceback (most recent call last):
    ...
    skscale._persist.DamagedState: damaged ZScoreScaler: mean_ has shape (1,), but it was ...
    """
    state = vars(est)
    n = state.get("n_features_in_")
    if n is None:
        return
    name = type(est).__name__
    if isinstance(n, np.integer):
        n = int(n)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise DamagedState(f"damaged {name}: n_features_in_ is {n!r}, not a positive integer")

    def wrong(attr, what):
        return DamagedState(f"damaged {name}: {attr} {what}, but it was fitted on {n} features"
                            " (n_features_in_)")

    for attr, dims in documented_shapes(type(est)).items():
        value = state.get(attr)
        shape = getattr(value, "shape", None)
        if not shape:  # not an array, or one number where the docs allow a scalar
            continue
        want = tuple(n if d == "n" else d for d in dims)
        if len(shape) != len(want) or any(w is not None and s != w for s, w in zip(shape, want)):
            raise wrong(attr, f"has shape {tuple(shape)}")
        kind = getattr(getattr(value, "dtype", None), "kind", None)
        if attr != "feature_names_in_" and kind is not None and kind not in "fiub":
            raise wrong(attr, f"holds {value.dtype} values, not numbers")
    for attr, value in state.items():
        if not attr.endswith("_") or attr.startswith("_"):
            continue
        if isinstance(value, ColumnStats):  # (per-column fields, each of n values)
            for field in dataclasses.fields(value):
                part = getattr(value, field.name)
                if isinstance(part, np.ndarray) and part.shape != (n,):
                    raise wrong(f"{attr}.{field.name}", f"has shape {part.shape}")
        count = getattr(type(value), "n_features", None)
        if isinstance(count, property) and value.n_features != n:
            raise wrong(attr, f"holds {value.n_features} columns")
