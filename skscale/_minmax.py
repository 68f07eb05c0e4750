"""Min-max scaling to a feature range."""

import math
from numbers import Real

import numpy as np

from ._columns import ColumnScaler
from ._errors import named_column


class MinMaxScaler(ColumnScaler):
    """Scale each feature linearly from its training range to ``feature_range``.

    With ``(lo, hi) = feature_range`` and the training minimum and maximum
    ``m, M`` of a feature (or the known ``data_range``)::

        y = (x - m) / ((M - m) / (hi - lo)) + lo

    The divisor is nudged by at most an ulp or two at fit so that, in exact
    floating-point arithmetic, the training data can never leave
    ``[lo, hi]`` -- not even by rounding (for float32 data the bounds are
    ``lo`` and ``hi`` rounded to float32).  A constant feature (``M == m``)
    maps to ``lo``.  A feature with no non-NaN training value has NaN
    parameters and maps to NaN.

    Parameters
    ----------
    feature_range : tuple or list (lo, hi), default=(0, 1)
        Desired range of the transformed training data; ``lo < hi``.
    data_range : tuple or list (low, high), default=None
        A known input range, e.g. ``(0, 255)`` for 8-bit pixels, used instead
        of learning the minimum and maximum from the data.
    clip : bool, default=False
        Clip transformed values of unseen data to ``feature_range``.
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    data_min_, data_max_ : ndarray of shape (n_features,)
        Per-feature minimum and maximum used (learned or ``data_range``).
    data_range_ : ndarray of shape (n_features,)
        ``data_max_ - data_min_``.
    scale_ : ndarray of shape (n_features,)
        Per-feature multiplier ``(hi - lo) / (M - m)`` (``hi - lo`` for a
        constant feature), as in scikit-learn.
    min_ : ndarray of shape (n_features,)
        Per-feature ``lo - m * scale_``, as in scikit-learn: ``x * scale_ +
        min_`` is the same map, though the transform evaluates it in the
        centered form above, which keeps every digit and the range exact.
    stats_ : ColumnStats
        Accumulated column statistics.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.MinMaxScaler : the scikit-learn counterpart.

    Examples
    --------
    >>> from skscale import MinMaxScaler
    >>> X = [[-1, 2], [-0.5, 6], [0, 10], [1, 18]]
    >>> scaler = MinMaxScaler().fit(X)
    >>> scaler.data_min_, scaler.data_max_
    (array([-1.,  2.]), array([ 1., 18.]))
    >>> scaler.transform(X)
    array([[0.  , 0.  ],
           [0.25, 0.25],
           [0.5 , 0.5 ],
           [1.  , 1.  ]])
    >>> MinMaxScaler(data_range=(0, 255)).fit_transform([[0], [51], [255]]).ravel()
    array([0. , 0.2, 1. ])
    """

    _stats_needed = ("extremes",)

    _parameter_constraints = {
        "feature_range": [tuple, list],
        "data_range": [None, tuple, list],
        "clip": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, feature_range=(0, 1), *, data_range=None, clip=False, copy=True):
        self.feature_range = feature_range
        self.data_range = data_range
        self.clip = clip
        self.copy = copy

    def _clip_range(self):
        """The input range outside which the transform clips (see
        :meth:`check_drift`)."""
        return {"clip_low": self.data_min_, "clip_high": self.data_max_} if self.clip else {}

    @classmethod
    def from_range(cls, data_min, data_max, *, feature_names=None, n_samples=None, **params):
        """A fitted scaler from the known minimum and maximum of each feature.

        It is the scaler a fit on data of these extremes gives: the
        statistics behind it are those extremes, so :meth:`partial_fit`
        widens them with later rows and :func:`skscale.merge` merges the
        scaler with others exactly.  (For one range shared by every feature,
        the ``data_range`` parameter fixes it instead.)

        Parameters
        ----------
        data_min, data_max : float or array-like of shape (n_features,)
            The extremes of each feature, ``data_min <= data_max``.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind the extremes, if known (else 0).
        **params : dict
            Other parameters of the scaler (``feature_range``, ``clip``).

        Returns
        -------
        scaler : MinMaxScaler
            Fitted.

        Examples
        --------
        >>> from skscale import MinMaxScaler
        >>> scaler = MinMaxScaler.from_range([0.0, -1.0], [10.0, 1.0])
        >>> scaler.transform([[5.0, 0.5]])
        array([[0.5 , 0.75]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows
        from ._stats import ColumnStats

        owner = f"{cls.__name__}.from_range"
        given, names = known_arrays(owner, feature_names, data_min=data_min, data_max=data_max)
        lo, hi = given["data_min"], given["data_max"]
        if (lo > hi).any():
            j = int(np.flatnonzero(lo > hi)[0])
            raise ValueError(f"{owner}: data_min must be at most data_max; feature {j} has"
                             f" {float(lo[j])!r} > {float(hi[j])!r}.")
        unknown = np.full(lo.shape, np.nan)
        stats = ColumnStats(unknown, unknown.copy(), unknown.copy(), lo, hi,
                            _rows(owner, n_samples))
        return cls._from_known(stats, names, params)

    def _learn(self, stats):
        lo, hi = _pair(self.feature_range, "feature_range")
        if self.data_range is None:
            m, M = stats.min, stats.max
        else:
            low, high = _pair(self.data_range, "data_range")
            m, M = np.full_like(stats.min, low), np.full_like(stats.max, high)
        with np.errstate(over="ignore"):
            self.data_min_, self.data_max_, self.data_range_ = m, M, M - m
        wide = np.isinf(self.data_range_) & np.isfinite(m) & np.isfinite(M)
        if wide.any():
            j = int(np.flatnonzero(wide)[0])
            raise ValueError(
                f"The range of {named_column(self, j)}, {float(M[j])!r} - ({float(m[j])!r}), is beyond"
                " float64; divide its values by a power of ten (e.g. with"
                " DecimalScaler) first.")
        width = self.data_range_.copy()
        width[width == 0] = 1.0  # constant feature: (x - m) is 0, lands on lo
        scale = width / (hi - lo)
        # (invalid: NaN ranges of all-NaN columns; over: subnormal ranges give
        # an infinite scale_, as in scikit-learn)
        with np.errstate(over="ignore", invalid="ignore"):
            # Rounding could lift the image of M above hi by an ulp; the map is
            # monotone in x and in 1/scale, so nudging scale up fixes it for all x.
            while (over := (self.data_range_ / scale + lo) > hi).any():
                scale[over] = np.nextafter(scale[over], np.inf)
            self.scale_ = (hi - lo) / width
            self.min_ = lo - m * self.scale_
        self._clip_bounds = (lo, hi) if self.clip else None
        return m, scale, (lo if lo != 0 else None)


def _pair(value, name):
    """Validate a (low, high) pair of reals with low < high."""
    if len(value) != 2 or not all(isinstance(v, Real) and _finite(v) for v in value) \
            or not value[0] < value[1]:
        raise ValueError(f"{name} must be two finite numbers (low, high) with low < high;"
                         f" got {value!r}.")
    return float(value[0]), float(value[1])


def _finite(v):
    try:
        return math.isfinite(v)
    except OverflowError:  # an int beyond float64
        return False
