"""One estimator over every method, with the method as a parameter."""

from sklearn.base import _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseScaler


class Scaler(BaseScaler):
    """Any skscale method, chosen by name, so a grid search can pick it.

    ``Scaler(method, params)`` fits ``SCALERS[method](**params)`` and
    delegates every call to it: it is the same estimator with a name that a
    ``GridSearchCV`` parameter grid can vary.

    Parameters
    ----------
    method : str, default="zscore"
        A key of :data:`skscale.SCALERS`.
    params : dict, default=None
        Parameters of that method's estimator, e.g. ``{"feature_range":
        (-1, 1)}`` for ``"minmax"``.  In a grid search, vary ``method`` and
        ``params`` together in a list of grids.

    Attributes
    ----------
    scaler_ : estimator
        The fitted estimator of the chosen method.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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
    """

    def __init__(self, method="zscore", params=None):
        self.method = method
        self.params = params

    @property
    def _parameter_constraints(self):
        from . import SCALERS

        return {"method": [StrOptions(set(SCALERS))], "params": [None, dict]}

    def _make(self):
        from . import SCALERS

        return SCALERS[self.method](**(self.params or {}))

    def _accepts_sparse(self):
        from . import SCALERS

        if self.method not in SCALERS:
            return False
        return self._make()._accepts_sparse()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        from . import SCALERS

        if self.method in SCALERS:
            inner = self._make().__sklearn_tags__()
            tags.input_tags = inner.input_tags
            tags.requires_fit = inner.requires_fit
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
        from . import SCALERS

        return hasattr(SCALERS.get(self.method), "partial_fit")

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

    def transform(self, X, **kwargs):
        """Transform with the chosen method; see that estimator's ``transform``."""
        check_is_fitted(self)
        return self.scaler_.transform(X, **kwargs)

    def inverse_transform(self, X, **kwargs):
        """Invert with the chosen method; see its ``inverse_transform``."""
        check_is_fitted(self)
        return self.scaler_.inverse_transform(X, **kwargs)

    def _method_is_per_sample(self):
        from . import SCALERS

        return hasattr(SCALERS.get(self.method), "sample_stats")

    @available_if(_method_is_per_sample)
    def sample_stats(self, X):
        """Per-sample statistics of a per-sample method; see its ``sample_stats``."""
        check_is_fitted(self)
        return self.scaler_.sample_stats(X)

    def get_feature_names_out(self, input_features=None):
        """Output feature names: those of the chosen method's estimator."""
        check_is_fitted(self)
        return self.scaler_.get_feature_names_out(input_features)
