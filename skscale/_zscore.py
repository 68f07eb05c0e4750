"""Z-score standardization."""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from ._base import partial_fit_context
from ._columns import ColumnScaler
from ._errors import named_column

try:  # scikit-learn's callback API (1.9 and later), which StandardScaler supports
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn
    class CallbackSupportMixin:
        pass


class ZScoreScaler(CallbackSupportMixin, ColumnScaler):
    """Standardize each feature to zero mean and unit standard deviation.

    ``y = (x - mean) / std`` with ``std = sqrt(sum((x - mean)**2) / (n - ddof))``
    over the non-NaN training values of the feature (weighted when
    ``sample_weight`` is given: a weight of k counts like k repeated rows).
    Statistics are accumulated in float64 with exactly mergeable updates.

    A constant feature (training minimum equal to maximum, decided exactly
    rather than by a tolerance on the variance) gets ``scale_ = 1``, so it
    maps to 0 (so does a feature whose variance underflows to 0).  A feature
    with no non-NaN training value maps to NaN.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the mean. Must be False for sparse input.
    with_std : bool, default=True
        Divide by the standard deviation.
    ddof : int, default=0
        Delta degrees of freedom of the standard deviation; 1 gives the
        unbiased variance's square root.
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data.
    var_ : ndarray of shape (n_features,) or None
        Per-feature variance with ``ddof``; None when ``with_std=False``.
    scale_ : ndarray of shape (n_features,) or None
        Per-feature divisor ``sqrt(var_)`` (1 for constant features); None
        when ``with_std=False``.
    stats_ : ColumnStats
        Accumulated column statistics.
    n_samples_seen_ : int, float or ndarray of shape (n_features,)
        Non-NaN values seen per feature (the sum of their weights with
        ``sample_weight``), a single number when every feature has the same,
        as in scikit-learn's ``StandardScaler``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : the scikit-learn counterpart.

    Examples
    --------
    >>> from skscale import ZScoreScaler
    >>> scaler = ZScoreScaler().fit([[1], [3], [5]])
    >>> scaler.mean_, scaler.scale_
    (array([3.]), array([1.63299316]))
    >>> scaler.transform([[1], [3], [5]]).ravel()
    array([-1.22474487,  0.        ,  1.22474487])
    >>> ZScoreScaler(ddof=1).fit([[1], [3], [5]]).scale_
    array([2.])
    """

    _stats_needed = ("moments",)

    _parameter_constraints = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "ddof": [Interval(Integral, 0, None, closed="left")],
        "copy": ["boolean"],
    }

    def __init__(self, *, with_mean=True, with_std=True, ddof=0, copy=True):
        self.with_mean = with_mean
        self.with_std = with_std
        self.ddof = ddof
        self.copy = copy

    _X_doc = "array-like, or sparse matrix with with_mean=False,"
    _sparse_error = ValueError  # as StandardScaler's "Cannot center sparse matrices"

    def _accepts_sparse(self):
        return not self.with_mean

    def _samples_seen(self):
        """``n_samples_seen_`` as StandardScaler defines it: per feature, the
        number of non-NaN values (the sum of their weights with
        ``sample_weight``), one number when all features agree."""
        count = self.stats_.count
        return count[0] if count.size and (count == count[0]).all() else count

    def _sparse_hint(self):
        return "Pass with_mean=False to scale sparse data without centering it."

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Learn the per-feature mean and standard deviation.

        Parameters
        ----------
        X : array-like, or sparse matrix with with_mean=False, of shape (n_samples, n_features)
            Training data. NaN values are ignored.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        return self._fit_rows(X, sample_weight, fit=True)

    @partial_fit_context
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the mean and standard deviation with one more batch of rows.

        Parameters
        ----------
        X : array-like, or sparse matrix with with_mean=False, of shape (n_samples, n_features)
            A batch of training rows. NaN values are ignored.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row.

        Returns
        -------
        self : object
            Updated scaler.
        """
        return self._fit_rows(X, sample_weight, fit=False)

    def _learn(self, stats):
        self.mean_ = stats.mean
        if not self.with_std:
            self.var_ = self.scale_ = None
        else:
            # M2 is exactly 0 on a constant column (see ColumnStats): exact,
            # unlike a tolerance on the variance.
            constant = (stats.m2 == 0) & (stats.count > 0)
            var = stats.var(self.ddof)
            few = ~constant & (stats.count > 0) & (stats.count <= self.ddof)
            if few.any():
                j = int(np.flatnonzero(few)[0])
                raise ValueError(
                    f"ddof={self.ddof} needs more than {self.ddof} non-NaN values in"
                    f" {named_column(self, j)}, which has {stats.count[j]:g}.")
            var[constant] = 0.0
            self.var_ = var
            scale = np.sqrt(var)
            # A spread so small its square underflows (values ~1e-160) has no
            # usable scale: treat it like a constant feature.
            self.scale_ = np.where(constant | (scale == 0), 1.0, scale)
        return (self.mean_ if self.with_mean else None), self.scale_, None
