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
    digits : "auto", int or array-like of int of shape (n_features,), default="auto"
        The exponent ``j``, learned per feature, or fixed (for every
        feature, or one per feature).
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
        "digits": [StrOptions({"auto"}), Integral, "array-like"],
        "copy": ["boolean"],
    }

    def __init__(self, *, digits="auto", copy=True):
        self.digits = digits
        self.copy = copy

    _X_doc = "{array-like, sparse matrix}"

    def _accepts_sparse(self):
        return True

    @classmethod
    def from_digits(cls, digits, *, feature_names=None, n_samples=None, **params):
        """A fitted scaler that divides each feature by ``10**digits``.

        The digits are fixed (the ``digits`` parameter, one per feature):
        :meth:`partial_fit` adds rows to the statistics and keeps them, and
        :func:`skscale.merge` merges the scaler with others of the same
        digits.

        Parameters
        ----------
        digits : int or array-like of int of shape (n_features,)
            The exponent ``j`` of each feature, -307 to 308.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind the digits, if known (else 0).
        **params : dict
            Other parameters of the scaler (``copy``).

        Returns
        -------
        scaler : DecimalScaler
            Fitted.

        Examples
        --------
        >>> from skscale import DecimalScaler
        >>> DecimalScaler.from_digits([3, -1]).transform([[-991.0, 0.05]])
        array([[-0.991,  0.5  ]])
        """
        from ._columns import known_arrays
        from ._stats import ColumnStats

        owner = f"{cls.__name__}.from_digits"
        given, names = known_arrays(owner, feature_names, digits=digits)
        j = given["digits"]
        if (j != np.round(j)).any() or (j < _LOWEST).any() or (j > _HIGHEST).any():
            raise ValueError(f"{owner}: digits must be whole numbers from {_LOWEST} to"
                             f" {_HIGHEST}; got {digits!r}.")
        n_rows = _rows(owner, n_samples)
        unknown = np.full(j.shape, np.nan)
        stats = ColumnStats(unknown, unknown.copy(), unknown.copy(), unknown.copy(),
                            unknown.copy(), n_rows)
        return cls._from_known(stats, names, {**params, "digits": j.astype(np.int64)})

    def _learn(self, stats):
        if not isinstance(self.digits, str):
            j = np.asarray(self.digits)
            if j.ndim == 0:
                j = np.full(stats.min.shape, int(j))
            elif j.shape != stats.min.shape or j.dtype.kind not in "iu":
                raise ValueError(f"digits must be one integer, or one per feature"
                                 f" ({stats.min.shape[0]} integers); got {self.digits!r}.")
            else:
                j = j.astype(np.int64)
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
                                       " of ten first." if isinstance(self.digits, str) else
                                       "pass digits=308 or fewer."))
        self.digits_ = j
        self.scale_ = 10.0 ** j
        return None, self.scale_, None


def _rows(owner, n_samples):
    """``n_samples`` of a ``from_*`` constructor: a whole number, or 0 for None."""
    if n_samples is None:
        return 0
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 0:
        raise ValueError(f"{owner}: n_samples must be a whole number at least 0; got"
                         f" {n_samples!r}.")
    return int(n_samples)
