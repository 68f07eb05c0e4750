"""Max-abs scaling: divide each feature by its largest magnitude.

This module only turns the column extremes of the statistics core into a
divisor; the skeleton (``_base.ColumnScaler``) and the shared affine kernel
do the rest, on every data path they serve.
"""

import numpy as np

from ._columns import ColumnScaler


class MaxAbsScaler(ColumnScaler):
    """Scale each feature by its maximum absolute value: ``y = x / max|x|``.

    ``max|x| = max(|min x|, |max x|)`` over the non-NaN training values of
    the feature, so every training value lands in ``[-1, 1]`` and the
    largest magnitude on ``±1`` exactly (a division of a number by itself).
    Nothing is subtracted, so zeros stay zero and scipy sparse input is
    accepted (implicit zeros count as values, as in scikit-learn).
    :meth:`partial_fit` over any split of the rows, and a fit on a Dask
    collection, give the divisor of one :meth:`fit`, exactly: a maximum
    does not depend on the order of its arguments.

    A feature whose values are all 0 gets a divisor of 1 and stays 0, as in
    scikit-learn (which also treats a maximum below ``10 * eps``, 2.2e-15,
    as 0: here only exactly 0 is).  A feature with no non-NaN training
    value maps to NaN.

    Parameters
    ----------
    copy : bool, default=True
        False scales in place where the input is a writeable float array.
    clip : bool, default=False
        Clip transformed values of unseen data to ``[-1, 1]``, as
        scikit-learn's ``clip``; ``inverse_transform`` then cannot restore
        values that were clipped.

    Attributes
    ----------
    max_abs_ : ndarray of shape (n_features,)
        Per-feature maximum absolute value.
    scale_ : ndarray of shape (n_features,)
        Per-feature divisor: ``max_abs_``, or 1 where it is 0.
    stats_ : ColumnStats
        Accumulated column statistics (the extremes).
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.MaxAbsScaler : the scikit-learn counterpart.

    Examples
    --------
    >>> from skscale import MaxAbsScaler
    >>> X = [[1.0, -2.0], [2.0, 0.0], [-4.0, 1.0]]
    >>> scaler = MaxAbsScaler().fit(X)
    >>> scaler.max_abs_
    array([4., 2.])
    >>> scaler.transform(X)
    array([[ 0.25, -1.  ],
           [ 0.5 ,  0.  ],
           [-1.  ,  0.5 ]])
    >>> MaxAbsScaler(clip=True).fit(X).transform([[8.0, 1.0]])
    array([[1. , 0.5]])
    """

    _stats_needed = ("extremes",)

    _parameter_constraints = {
        "copy": ["boolean"],
        "clip": ["boolean"],
    }

    def __init__(self, *, copy=True, clip=False):
        self.copy = copy
        self.clip = clip

    _X_doc = "array-like or sparse matrix"

    def _clip_range(self):
        """The input range outside which the transform clips (see
        :meth:`check_drift`)."""
        return {"clip_low": -self.max_abs_, "clip_high": self.max_abs_} if self.clip else {}

    def _accepts_sparse(self):
        return True  # x / s keeps 0 at 0

    @classmethod
    def from_max_abs(cls, max_abs, *, feature_names=None, n_samples=None, **params):
        """A fitted scaler from the known largest magnitude of each feature.

        Its statistics are the extremes ``-max_abs`` and ``max_abs``:
        :meth:`partial_fit` widens them with later rows, and
        :func:`skscale.merge` merges the scaler with others exactly.

        Parameters
        ----------
        max_abs : float or array-like of shape (n_features,)
            The largest magnitude of each feature, at least 0.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind them, if known (else 0).
        **params : dict
            Other parameters of the scaler (``clip``).

        Returns
        -------
        scaler : MaxAbsScaler
            Fitted.

        Examples
        --------
        >>> from skscale import MaxAbsScaler
        >>> MaxAbsScaler.from_max_abs([4.0, 0.5]).transform([[-2.0, 0.25]])
        array([[-0.5,  0.5]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows
        from ._stats import ColumnStats

        owner = f"{cls.__name__}.from_max_abs"
        given, names = known_arrays(owner, feature_names, max_abs=max_abs)
        m = given["max_abs"]
        if (m < 0).any():
            raise ValueError(f"{owner}: max_abs must be at least 0; got {float(m.min())!r}.")
        unknown = np.full(m.shape, np.nan)
        stats = ColumnStats(unknown, unknown.copy(), unknown.copy(), -m, m.copy(),
                            _rows(owner, n_samples))
        return cls._from_known(stats, names, params)

    def _learn(self, stats):
        with np.errstate(invalid="ignore"):  # (NaN extremes of all-NaN features)
            self.max_abs_ = np.fmax(np.abs(stats.min), np.abs(stats.max))
        self.max_abs_[np.isnan(stats.min)] = np.nan
        # Only exactly 0 has no magnitude to divide by; it stays 0.
        self.scale_ = np.where(self.max_abs_ == 0, 1.0, self.max_abs_)
        self._clip_bounds = (-1.0, 1.0) if self.clip else None
        return None, self.scale_, None

    def _apply_sparse(self, X, inverse):
        super()._apply_sparse(X, inverse)
        if self.clip and not inverse:
            np.clip(X.data, -1.0, 1.0, out=X.data)
