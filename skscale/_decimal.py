"""Decimal scaling: divide by a power of ten."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._columns import ColumnScaler
from ._errors import named_column

_LOWEST = -307  # the smallest j with 10.0**j a normal float64
_HIGHEST = 308  # the largest j with 10.0**j finite


class DecimalScaler(ColumnScaler):
    """Divide each feature by a power of ten: ``y = x / 10**j``.

    With ``digits="auto"``, ``j`` is learned per feature as the smallest
    integer with ``max|x| / 10**j < 1`` over the training data, evaluated in
    the training data's own floating-point type -- so every training value
    lands strictly inside ``(-1, 1)``.  ``j`` is negative for features whose
    values are all below 0.1 in magnitude (they are scaled up).  A feature
    that is all zeros (or has no non-NaN value) gets ``j = 0``, and ``j`` is
    at least -307 (``10**j`` stays a normal float64, for subnormal data).  An integer
    ``digits`` fixes ``j`` for every feature.  Zeros stay zero, so sparse
    input is accepted.

    Parameters
    ----------
    digits : "auto" or int, default="auto"
        The exponent ``j``, learned per feature or fixed.
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    digits_ : ndarray of int of shape (n_features,)
        The exponent ``j`` of each feature.
    scale_ : ndarray of shape (n_features,)
        ``10.0 ** digits_``, the divisor.
    stats_ : ColumnStats
        Accumulated column statistics.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    Examples
    --------
    >>> from skscale import DecimalScaler
    >>> X = [[-991, 0.05, 10], [50, 0.002, 999]]
    >>> scaler = DecimalScaler().fit(X)
    >>> scaler.digits_
    array([ 3, -1,  3])
    >>> scaler.transform(X)
    array([[-0.991,  0.5  ,  0.01 ],
           [ 0.05 ,  0.02 ,  0.999]])
    """

    _stats_needed = ("extremes",)

    _parameter_constraints = {
        "digits": [StrOptions({"auto"}), Integral],
        "copy": ["boolean"],
    }

    def __init__(self, *, digits="auto", copy=True):
        self.digits = digits
        self.copy = copy

    _X_doc = "{array-like, sparse matrix}"

    def _accepts_sparse(self):
        return True

    def _learn(self, stats):
        if self.digits != "auto":
            j = np.full(stats.min.shape, int(self.digits))
        else:
            peak = np.fmax(np.abs(stats.min), np.abs(stats.max))
            empty = ~(peak > 0)  # zeros or all-NaN: j = 0 below
            peak[empty] = 1.0
            # 10**j must be a normal float64: below 1e-307 it loses digits and
            # then underflows to 0, so subnormal data stop at j = -307.
            j = np.maximum(np.floor(np.log10(peak)).astype(np.int64) + 1, _LOWEST)
            # log10 can be off by one near powers of ten: settle j with the very
            # division the transform does, in the training data's dtype.
            dtype = np.dtype(self._fit_dtype)
            peak = peak.astype(dtype)
            with np.errstate(over="ignore"):  # 10.0**309 is inf: refused below
                while (up := dtype.type(peak / 10.0 ** j) >= 1).any():
                    j[up] += 1
                while (down := (dtype.type(peak / 10.0 ** (j - 1)) < 1) & (j > _LOWEST)).any():
                    j[down] -= 1
            j[empty] = 0
        huge = j > _HIGHEST
        if huge.any():
            k = int(np.flatnonzero(huge)[0])
            raise ValueError(
                f"{named_column(self, k)[0].upper()}{named_column(self, k)[1:]} needs 10**{j[k]},"
                " beyond float64: " + ("its values reach 1e308 or more; divide them by a power"
                                       " of ten first." if self.digits == "auto" else
                                       "pass digits=308 or fewer."))
        self.digits_ = j
        self.scale_ = 10.0 ** j
        return None, self.scale_, None
