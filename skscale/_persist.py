"""The skscale version stamped into every pickled (or skops-saved) estimator.

scikit-learn stamps ``_sklearn_version`` only into its own estimators; this
mixin does the same for skscale's, so that loading a file written by another
skscale version warns, naming both versions.  It touches nothing but the
state dict that pickle, joblib and skops pass through ``__getstate__`` and
``__setstate__``.
"""

import inspect
import warnings

from . import _version


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
