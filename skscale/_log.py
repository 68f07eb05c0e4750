"""Log scaling: the one nonlinear column method."""

import math
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import ColumnScaler, frame_label, sparse_column
from . import _compiled
from ._kernels import _n_threads, block_bounds, for_each_block, raise_non_finite


class LogScaler(ColumnScaler):
    """Compress each feature with a logarithm: ``y = log_base(x + offset)``.

    The map is evaluated as ``log1p(x - (1 - offset)) / ln(base)``, which is
    the same function written so that it stays accurate where ``x + offset``
    is close to 1 (``log1p`` is exact where ``log(1 + x)`` rounds).  With
    ``offset="auto"`` the offset is learned per feature as ``1 - min(x)``, so
    the training minimum maps to ``log(1) = 0`` and nothing in the training
    data is out of the domain.  At transform, a value with
    ``x + offset <= 0`` raises a ``ValueError`` naming its column and value.
    With ``offset=1`` zeros stay zero, so sparse input is accepted.

    Parameters
    ----------
    base : float, default=math.e
        Base of the logarithm; positive and not 1.
    offset : float or "auto", default=1.0
        Added to ``x`` before the logarithm, or learned as ``1 - min``.
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    offset_ : ndarray of shape (n_features,)
        The offset of each feature.
    stats_ : ColumnStats
        Accumulated column statistics.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    numpy.log1p : the reference for the default ``offset=1``, ``base=e``.

    Examples
    --------
    >>> from skscale import LogScaler
    >>> LogScaler(base=10).fit_transform([[0, 9], [99, 999]])
    array([[0., 1.],
           [2., 3.]])
    >>> scaler = LogScaler(offset="auto").fit([[-5.0], [5.0]])
    >>> scaler.offset_
    array([6.])
    >>> scaler.inverse_transform(scaler.transform([[-5.0], [5.0]]))
    array([[-5.],
           [ 5.]])
    """

    _stats_needed = ("extremes",)

    _parameter_constraints = {
        "base": [Interval(Real, 0, None, closed="neither")],
        "offset": [StrOptions({"auto"}), Interval(Real, None, None, closed="neither")],
        "copy": ["boolean"],
    }

    def __init__(self, *, base=math.e, offset=1.0, copy=True):
        self.base = base
        self.offset = offset
        self.copy = copy

    def _accepts_sparse(self):
        return self.offset != "auto" and self.offset == 1

    def _sparse_hint(self):
        return "offset=1 maps 0 to 0 and accepts sparse input."

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A fixed offset bounds the domain from below; "auto" takes any data.
        tags.input_tags.positive_only = self.offset != "auto"
        return tags

    def _learn(self, stats):
        if self.base == 1 or not np.isfinite(self.base):
            raise ValueError(f"base={self.base} has no logarithm; use a finite positive"
                             " base other than 1.")
        if self.offset != "auto" and not np.isfinite(self.offset):
            raise ValueError(f"offset must be finite or 'auto'; got {self.offset}.")
        if self.offset == "auto":
            self.offset_ = np.where(np.isnan(stats.min), 1.0, 1.0 - stats.min)
            self._shift = np.nan_to_num(stats.min)  # exactly the minimum: maps to 0
        else:
            self.offset_ = np.full(stats.min.shape, float(self.offset))
            self._shift = 1.0 - self.offset_
            self._check_domain(stats.min, "training data")
        return None

    def _check_domain(self, low, where, row=None):
        bad = np.flatnonzero(low - self._shift <= -1)
        if bad.size:
            j = bad[0]
            at = "" if row is None else f" at row {row}"
            raise ValueError(
                f"Negative values in data: {frame_label(self, j)} holds {low[j]:.17g}"
                f"{at} in the {where}, so x + offset ="
                f" {low[j] + self.offset_[j]:.17g} <= 0 has no logarithm."
                " Use offset='auto' or a larger offset.")

    def _apply(self, X, out, inverse):
        # Compute in float64 blocks; integers in the exponent would be wrong.
        direct = out.dtype == np.float64
        log_base = None if self.base == math.e else math.log(self.base)
        shift = self._shift

        def run(rows):
            x = X[rows]
            y = out[rows] if direct else np.empty(x.shape)
            if inverse:
                np.multiply(x, log_base or 1.0, out=y)
                np.expm1(y, out=y)
                np.add(y, shift, out=y)
            else:
                # The domain check reads x before y (which may be x) is written.
                if (np.fmin.reduce(x, axis=0) - shift <= -1).any():
                    below = np.asarray(x, np.float64) - shift <= -1
                    i = int(np.flatnonzero(below.any(axis=1))[0])
                    self._check_domain(np.asarray(x[i], np.float64), "data", rows.start + i)
                np.subtract(x, shift, out=y)
                np.log1p(y, out=y)
                if log_base:
                    np.divide(y, log_base, out=y)
            if not np.isfinite(np.add.reduce(y, axis=0)).all():
                raise_non_finite(x, np.isnan(x), rows.start, self._feature_names(), y)
            if not direct:
                out[rows] = y

        if not inverse and _compiled.wanted(X):
            n_threads = _n_threads()
            row = _compiled.log1p_shifted(X, out, shift, log_base or 1.0,
                                          block_bounds(*X.shape, n_threads), n_threads)
            if row >= 0:  # out of the domain, or an infinity: the numpy kernel says which
                run(slice(row, row + 1))
                raise AssertionError("the compiled and numpy kernels disagree")  # pragma: no cover
            return out
        for_each_block(X.shape[0], X.shape[1], run)
        return out

    def _apply_sparse(self, X, inverse):
        if inverse:
            X.data = np.expm1(X.data * math.log(self.base)).astype(X.dtype)
        else:
            if (X.data <= -1).any():
                at = np.flatnonzero(X.data <= -1)[0]
                j = sparse_column(X, at)
                raise ValueError(
                    f"Negative values in data: {frame_label(self, j)} holds"
                    f" {X.data[at]:.17g}, so x + 1 <= 0 has no logarithm.")
            X.data = (np.log1p(X.data) / math.log(self.base)).astype(X.dtype)
