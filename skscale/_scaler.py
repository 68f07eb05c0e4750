"""One estimator over every method, with the method as a parameter."""

import difflib

from sklearn.base import _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _frames
from ._auto import AutoScaler
from ._base import BaseScaler
from ._registry import SCALERS, suggest

#: Every name ``Scaler(method=...)`` takes: the methods, and ``"auto"``,
#: which chooses one per column.
METHODS = {**SCALERS, "auto": AutoScaler}


class Scaler(BaseScaler):
    """Any skscale method, chosen by name, so a grid search can pick it.

    ``Scaler(method, params)`` fits ``SCALERS[method](**params)`` (or, for
    ``method="auto"``, ``AutoScaler(**params)``) and
    delegates every call to it: it is the same estimator with a name that a
    ``GridSearchCV`` parameter grid can vary.

    Parameters
    ----------
    method : str, default="zscore"
        A key of :data:`skscale.SCALERS`, or ``"auto"``.
    params : dict, default=None
        Parameters of that method's estimator, e.g. ``{"feature_range":
        (-1, 1)}`` for ``"minmax"``.  ``set_params(params__<name>=value)``
        sets one of them (in a new dict), so a grid can vary
        ``"scale__params__feature_range"``.  A grid that varies ``method``
        needs one grid per method, each with that method's own parameters.

    Attributes
    ----------
    scaler_ : estimator
        The fitted estimator of the chosen method.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    Examples
    --------
    >>> from skscale import Scaler
    >>> X = [[1.0], [3.0], [5.0]]
    >>> Scaler("minmax").fit_transform(X).ravel()
    array([0. , 0.5, 1. ])
    >>> Scaler("minmax", params={"feature_range": (-1, 1)}).fit_transform(X).ravel()
    array([-1.,  0.,  1.])
    >>> Scaler("zscore").fit(X).scaler_
    ZScoreScaler()
    >>> Scaler("minmax").set_params(params__feature_range=(0, 10)).params
    {'feature_range': (0, 10)}
    """

    _learned = ("_built_with",)

    def __init__(self, method="zscore", params=None):
        self.method = method
        self.params = params

    _parameter_constraints = {"method": [StrOptions(set(METHODS))], "params": [None, dict]}

    def _drift_reference(self):
        check_is_fitted(self)
        return self.scaler_._drift_reference()

    def check_drift(self, X):
        return self._fitted().check_drift(X)

    check_drift.__doc__ = BaseScaler.check_drift.__doc__

    def set_params(self, **params):
        """Set parameters; ``params__<name>`` sets one parameter of the method.

        ``params__<name>`` keys are merged into a new ``params`` dict (over the
        ``params`` passed in the same call, if any), so the dict the user
        gave is never changed.

        Parameters
        ----------
        **params : dict
            Estimator parameters, e.g. ``method="minmax"``,
            ``params__feature_range=(-1, 1)``.

        Returns
        -------
        self : Scaler
            This estimator.
        """
        prefix = "params__"
        nested = {key[len(prefix):]: params.pop(key) for key in list(params)
                  if key.startswith(prefix)}
        if nested:
            base = params.pop("params", self.params)
            params["params"] = {**(base or {}), **nested}
        return super().set_params(**params)

    def _validate_params(self):
        try:
            super()._validate_params()
        except InvalidParameterError as err:
            hint = suggest(self.method, METHODS)
            if not hint:
                raise
            raise InvalidParameterError(f"{err} {hint}") from None

    def _make(self):
        cls = METHODS[self.method]
        params = self.params or {}
        takes = cls._get_param_names()
        unknown = sorted(set(params) - set(takes))
        if unknown:
            raise InvalidParameterError(_foreign_params(self.method, cls, unknown, takes))
        return cls(**params)

    def _accepts_sparse(self):
        if self.method not in METHODS:
            return False
        return self._make()._accepts_sparse()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.method in METHODS:
            inner = self._make().__sklearn_tags__()
            tags.input_tags = inner.input_tags
            tags.requires_fit = inner.requires_fit
            tags.array_api_support = inner.array_api_support
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the chosen method's estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        **fit_params : dict
            Passed to the method's ``fit`` (e.g. ``sample_weight``).

        Returns
        -------
        self : object
            Fitted scaler.
        """
        self.scaler_ = self._make().fit(X, y, **fit_params)
        self._built_with = (self.method, self.params)
        self._copy_input_attributes()
        return self

    def _method_streams(self):
        return hasattr(METHODS.get(self.method), "partial_fit")

    @available_if(_method_streams)
    def partial_fit(self, X, y=None, **fit_params):
        """Update the chosen method's estimator with one more batch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training rows.
        y : None
            Ignored.
        **fit_params : dict
            Passed to the method's ``partial_fit``.

        Returns
        -------
        self : object
            Updated scaler.
        """
        self._validate_params()
        # A method or params changed since the first batch start a new estimator.
        if getattr(self, "_built_with", None) != (self.method, self.params):
            self.scaler_ = self._make()
            self._built_with = (self.method, self.params)
        self.scaler_.partial_fit(X, y, **fit_params)
        self._copy_input_attributes()
        return self

    def _copy_input_attributes(self):
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.scaler_, attr):
                setattr(self, attr, getattr(self.scaler_, attr))
            else:
                self.__dict__.pop(attr, None)

    def _fitted(self):
        """The fitted method's estimator; a new one for a stateless method
        (tag ``requires_fit=False``) that was never fitted."""
        check_is_fitted(self)
        return self.scaler_ if hasattr(self, "scaler_") else self._make()

    def transform(self, X, **kwargs):
        """Transform with the chosen method; see that estimator's ``transform``."""
        out = self._fitted().transform(X, **kwargs)
        # The method's estimator has no set_output of its own: a frame's
        # missing values (pd.NA, polars nulls) are put back as this one asks.
        return out if _frames.is_frame(out) else _frames.like(X, out, self)

    def __getattr__(self, name):
        # The fitted method's own attributes (mean_, report_, ...), as if they
        # were this estimator's: only fitted public ones, never parameters.
        if name.endswith("_") and not name.startswith("_") and "scaler_" in vars(self):
            try:
                return getattr(vars(self)["scaler_"], name)
            except AttributeError:
                pass
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def inverse_transform(self, X, **kwargs):
        """Invert with the chosen method; see its ``inverse_transform``."""
        return self._fitted().inverse_transform(X, **kwargs)

    def _method_is_per_sample(self):
        return hasattr(METHODS.get(self.method), "sample_stats")

    @available_if(_method_is_per_sample)
    def sample_stats(self, X):
        """Per-sample statistics of a per-sample method; see its ``sample_stats``."""
        return self._fitted().sample_stats(X)

    def to_torch(self, module=None):
        """The chosen method's ``to_torch``: a module of its transform, or
        (where the method has a torch layer) its parameters written into
        ``module``."""
        return self._fitted().to_torch(module)

    def get_feature_names_out(self, input_features=None):
        """Output feature names: those of the chosen method's estimator."""
        return self._fitted().get_feature_names_out(input_features)


def _foreign_params(method, cls, unknown, takes):
    """Why ``params`` does not fit ``method``, and what to write instead."""
    names = ", ".join(map(repr, unknown))
    # Python's own words for this error, with what it does not say.
    msg = (f"Scaler(method={method!r}): {cls.__name__} got an unexpected keyword argument"
           f"{'s' if len(unknown) > 1 else ''} {names}; its parameters are"
           f" {', '.join(map(repr, takes))}.")
    owners = [m for m, c in METHODS.items() if set(unknown) <= set(c._get_param_names())]
    if not owners:  # a misspelt name
        close = [p for name in unknown for p in difflib.get_close_matches(name, takes, n=1)]
        return msg + (f" Did you mean {' or '.join(map(repr, close))}?" if close else "")
    keys = ", ".join(f"'params__{name}': [...]" for name in unknown)
    return (f"{msg} {names} {'is a parameter' if len(unknown) == 1 else 'are parameters'} of"
            f" {', '.join(map(repr, owners))}. A parameter grid that varies 'method' must"
            " give each method its own params: pass a list of grids, one per method, e.g."
            f" [{{'method': [{method!r}]}}, {{'method': [{owners[0]!r}], {keys}}}] (in a"
            " Pipeline, prefix every key with the step name, e.g. 'scale__method').")
