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

    @classmethod
    def from_stats(cls, mean, std, n_samples, *, feature_names=None, **params):
        """A fitted scaler from known means and standard deviations.

        The scaler is the one a fit on ``n_samples`` values of each feature
        with these means and standard deviations gives: ``mean_`` is
        ``mean`` and ``scale_`` is ``std`` exactly (1 where ``std`` is 0, a
        constant feature), and the statistics behind them (``stats_``) are
        complete, so :meth:`partial_fit` adds rows to them and
        :func:`skscale.merge` merges the scaler with others.

        Parameters
        ----------
        mean : float or array-like of shape (n_features,)
            The mean of each feature.
        std : float or array-like of shape (n_features,)
            Its standard deviation (with the ``ddof`` of ``params``, 0 by
            default), at least 0.
        n_samples : int or array-like of shape (n_features,)
            The number of values the mean and standard deviation are of;
            more than ``ddof``.  It weighs them against later rows.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``), for data
            frames.
        **params : dict
            Parameters of the scaler (``with_mean``, ``ddof``, ...).

        Returns
        -------
        scaler : ZScoreScaler
            Fitted.

        Examples
        --------
        >>> from skscale import ZScoreScaler
        >>> scaler = ZScoreScaler.from_stats(mean=[10.0, 0.0], std=[2.0, 0.5],
        ...                                  n_samples=100)
        >>> scaler.transform([[12.0, 1.0]])
        array([[1., 2.]])
        """
        from ._columns import counts, known_arrays
        from ._stats import ColumnStats

        owner = f"{cls.__name__}.from_stats"
        given, names = known_arrays(owner, feature_names, mean=mean, std=std)
        if (given["std"] < 0).any():
            raise ValueError(f"{owner}: std must be at least 0; got {given['std'].min()}.")
        ddof = params.get("ddof", 0)
        count, n_rows = counts(owner, n_samples, len(given["mean"]),
                               at_least=ddof if isinstance(ddof, Integral) else 0)
        with np.errstate(over="ignore"):
            var = given["std"] ** 2
            m2 = var * (count - ddof)
        if not np.isfinite(m2).all():
            raise ValueError(f"{owner}: std is beyond what float64 holds squared (1e154).")
        unknown = np.full(count.shape, np.nan)
        stats = ColumnStats(count, given["mean"], m2, unknown, unknown.copy(), n_rows)
        est = cls._from_known(stats, names, params)
        if est.with_std:
            # var_ from M2 is std**2 to an ulp (M2 / (n - ddof) cannot hit every
            # float): keep the numbers given, where their square is positive
            # (elsewhere the constant-feature rule stands).
            given_scale = var > 0
            est.var_ = np.where(given_scale, var, est.var_)
            est.scale_ = np.where(given_scale, given["std"], est.scale_)
            est._map = (est._map[0], est.scale_, None)
        return est

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
