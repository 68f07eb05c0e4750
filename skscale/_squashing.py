"""Squashing: robust scaling, then a soft clip into ``(-B, B)``."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _device, _maps, _quantiles, _ranks
from ._columns import RankScaler
from ._errors import named_column

#: skrub adds this to ``max - min`` in its min-max fallback (float32's
#: smallest normal number): kept, so the two agree to the last digit.
_TINY = float(np.finfo(np.float32).tiny)


class SquashingScaler(RankScaler):
    r"""Robust centring and scaling, then a soft clip into ``(-B, B)``.

    skrub's ``SquashingScaler`` (after Holzmüller et al., 2024, "Better by
    Default"), with an exact inverse and :meth:`partial_fit`.  With the
    feature's median ``m``, its percentiles ``(q_lo, q_hi) =
    quantile_range`` and its extremes ``min``, ``max`` (all over the finite
    training values), and ``B = max_absolute_value``::

        z = (x - m) / s,    y = z / sqrt(1 + (z / B)**2)

        s = q_hi - q_lo                  where q_hi != q_lo
        s = (max - min + tiny) / 2       where q_hi == q_lo but max != min
        s = inf  (z = 0)                 where max == min (a constant feature)

    (``tiny`` is float32's smallest normal number, skrub's guard.) ``y``
    lies in ``(-B, B)``, is odd and increasing in ``z``, close to ``z`` for
    ``|z|`` small beside ``B`` and to ``±B`` far out, so outliers keep their
    order but not their leverage.  ``±inf`` map to ``±B``; NaN stays NaN.
    Infinities in the training data are ignored, as NaN is.  A feature with
    no finite training value maps every finite value to NaN.

    **Inverse.** ``z = y / sqrt((1 - y/B)(1 + y/B))``, ``x = z * s + m`` is the
    exact inverse on ``(-B, B)`` (``±B`` map back to ``±inf``; beyond, a
    ``ValueError``).  The soft clip flattens far out, so a round trip of a
    value with ``|z|`` large beside ``B`` loses about ``(z/B)**2`` ulps: the
    slope of the map there, not the inverse's error.

    **Exact or streamed.** :meth:`fit` reads the exact percentiles and
    extremes, one column at a time, and agrees with skrub to rounding.
    :meth:`partial_fit` and a fit on a Dask collection fold the rows into one
    KLL sketch per column, as :class:`RobustScaler` does: exact while a
    sketch holds all its values (fewer than about ``sketch_size``), then
    each percentile is a training value whose rank is within
    ``rank_error_`` of the one asked for, with 99% confidence (0.28% for
    the default ``sketch_size=1000``); the extremes stay exact.

    Parameters
    ----------
    max_absolute_value : float, default=3.0
        ``B``, the bound of the output; positive and finite.
    quantile_range : tuple (q_min, q_max), default=(25.0, 75.0)
        Percentiles, ``0 <= q_min < q_max <= 100``, whose difference scales
        the data (the inter-quartile range by default).
    sketch_size : int, default=1000
        KLL's ``k`` for :meth:`partial_fit` and Dask fits.
    keep_sketch : bool or "auto", default=False
        Have :meth:`fit` also fill the sketches, so that a later
        :meth:`partial_fit` can add rows to the exact fit; ``"auto"`` does
        where DataSketches is installed.  A plain fit keeps none: the
        sketches would cost it more than the exact statistics.
    copy : bool, default=True
        False transforms in place where the input is a writeable float array.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Per-feature median ``m``.
    scale_ : ndarray of shape (n_features,)
        Per-feature divisor ``s`` (``inf`` for a constant feature).
    quantiles_ : ndarray of shape (2, n_features)
        The percentiles ``quantile_range`` of each feature.
    data_min_, data_max_ : ndarray of shape (n_features,)
        Extremes of the finite training values.
    rank_error_ : float
        0.0 when the percentiles are exact, else the sketches' bound.
    sketches_ : object or None
        The per-column sketches, when fitted by :meth:`partial_fit`, on
        Dask, or with ``keep_sketch``.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    skrub.SquashingScaler : the original.
    RobustScaler : the same centring and scaling, without the clip.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import SquashingScaler
    >>> X = np.array([[np.inf], [-np.inf], [3.0], [-1.0], [np.nan], [2.0]])
    >>> scaler = SquashingScaler(max_absolute_value=3).fit(X)
    >>> Y = scaler.transform(X)
    >>> Y.ravel()
    array([ 3.        , -3.        ,  0.49319696, -1.34164079,         nan,
            0.        ])
    >>> scaler.inverse_transform(Y).ravel()
    array([ inf, -inf,   3.,  -1.,  nan,   2.])
    """

    _stats_needed = ("quantiles",)

    _parameter_constraints = {
        "max_absolute_value": [Interval(Real, 0, None, closed="neither")],
        "quantile_range": [tuple, list],
        "sketch_size": [Interval(Integral, 8, 65535, closed="both")],
        "keep_sketch": ["boolean", StrOptions({"auto"})],
        "copy": ["boolean"],
    }

    def __init__(self, max_absolute_value=3.0, quantile_range=(25.0, 75.0), *,
                 sketch_size=_quantiles.SKETCH_SIZE, keep_sketch=False, copy=True):
        self.max_absolute_value = max_absolute_value
        self.quantile_range = quantile_range
        self.sketch_size = sketch_size
        self.keep_sketch = keep_sketch
        self.copy = copy

    _X_doc = "array-like"
    _affine = False  # a soft clip: frames go through their 2-D array
    _skips_infinite = True  # (they map to the bounds)
    _resumable_params = {"keep_sketch": "auto"}

    def _drift_reference(self):
        from . import _drift

        return _drift.ranked(self)

    def fit(self, X, y=None):
        """Learn the exact median, percentiles and extremes of each feature.

        A Dask collection is sketched instead (see the class notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. NaN and infinite values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        return super().fit(X, y)

    def partial_fit(self, X, y=None):
        """Fold one more batch of rows into the per-column sketches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training rows. NaN and infinite values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Updated scaler.
        """
        return super().partial_fit(X, y)

    def _percentiles(self):
        self._check_bound()
        return self._range()

    def _range(self):
        q = self.quantile_range
        if len(q) != 2 or not all(isinstance(v, Real) for v in q) \
                or not 0 <= q[0] < q[1] <= 100:
            raise ValueError(f"Invalid quantile range: {q!r}; it must be two percentiles"
                             " (q_min, q_max) with 0 <= q_min < q_max <= 100.")
        return [float(q[0]), float(q[1])]

    def _check_bound(self):
        if not np.isfinite(self.max_absolute_value):
            raise ValueError(f"max_absolute_value must be a positive finite number; got"
                             f" {self.max_absolute_value!r}.")

    @classmethod
    def from_quantiles(cls, median, q_min, q_max, *, data_min=None, data_max=None,
                       feature_names=None, n_samples=None, **params):
        """A fitted scaler from the known median, percentiles and extremes of
        each feature.

        ``q_min`` and ``q_max`` are the percentiles ``quantile_range`` (the
        quartiles by default); the extremes matter only where they coincide
        (the scale is then half the range) or for a constant feature.  The
        scaler holds no sketch, so it neither continues with
        :meth:`partial_fit` nor merges.

        Parameters
        ----------
        median : float or array-like of shape (n_features,)
            The median of each feature.
        q_min, q_max : float or array-like of shape (n_features,)
            Its percentiles ``quantile_range``, ``q_min <= median <= q_max``.
        data_min, data_max : float or array-like of shape (n_features,), default=None
            Its extremes; needed where ``q_min == q_max``.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind them, if known (else 0).
        **params : dict
            Other parameters of the scaler (``max_absolute_value``, ...).

        Returns
        -------
        scaler : SquashingScaler
            Fitted.

        Examples
        --------
        >>> from skscale import SquashingScaler
        >>> scaler = SquashingScaler.from_quantiles(median=[0.0], q_min=[-1.0], q_max=[1.0])
        >>> scaler.transform([[1.5]]).round(6)
        array([[0.727607]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows

        owner = f"{cls.__name__}.from_quantiles"
        known = {"median": median, "q_min": q_min, "q_max": q_max}
        if data_min is not None or data_max is not None:
            known.update(data_min=data_min, data_max=data_max)
        given, names = known_arrays(owner, feature_names, **known)
        m, lo, hi = given["median"], given["q_min"], given["q_max"]
        bad = (lo > m) | (m > hi)
        if "data_min" in given:
            bad |= (given["data_min"] > lo) | (hi > given["data_max"])
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{owner}: feature {j} must have data_min <= q_min <= median <="
                             " q_max <= data_max.")
        unknown = np.full(m.shape, np.nan)
        low, high = given.get("data_min", unknown), given.get("data_max", unknown.copy())
        flat = (lo == hi) & np.isnan(low)
        if flat.any():
            raise ValueError(f"{owner}: feature {int(np.flatnonzero(flat)[0])} has q_min =="
                             " q_max, where the scale is half the range: give data_min and"
                             " data_max.")
        n_rows = _rows(owner, n_samples)
        stats = _ranks.Ranks(np.full(m.shape, float(n_rows)), low, high, m, np.vstack([lo, hi]),
                             0.0, None, n_rows)
        return cls._from_known(stats, names, params)

    def _learn(self, stats):
        r = _ranks.Ranks(**self._ranks)
        self.quantiles_ = r.values
        self.data_min_, self.data_max_ = r.min, r.max
        self.center_ = r.median
        self.rank_error_ = float(r.rank_error)
        with np.errstate(over="ignore", invalid="ignore"):
            spread = r.values[1] - r.values[0]
            extent = (r.max - r.min + _TINY) / 2
        # The three cases of skrub's definition, decided by exact comparisons.
        constant = r.max == r.min
        self.scale_ = np.where(constant, np.inf, np.where(spread != 0, spread, extent))
        wide = (r.count > 0) & ~constant & ~np.isfinite(self.scale_)
        if wide.any():  # (skrub maps every value to 0 there)
            j = int(np.flatnonzero(wide)[0])
            raise ValueError(
                f"The quantiles of {named_column(self, j)} span more than float64 holds; divide"
                " its values by a power of ten (e.g. with DecimalScaler) first.")
        return None

    def _device_map(self, inverse):
        return _device.soft_clip_on_device, {"center": self.center_, "scale": self.scale_,
                                             "bound": float(self.max_absolute_value)}

    def _apply(self, X, out, inverse):
        return _maps.soft_clip(X, out, self.center_, self.scale_, self.max_absolute_value,
                               inverse=inverse, feature_names=self._feature_names())

    def _in_place(self, X, apply):
        # Infinities are values here (they map to ±B): check the extremes
        # without the base class's refusal of them.
        with np.errstate(invalid="ignore"):
            ends = np.vstack([np.fmin.reduce(X, axis=0), np.fmax.reduce(X, axis=0)])
        try:
            apply(ends, np.empty_like(ends))
        except ValueError:
            X[...] = apply(X, np.empty_like(X))  # raises, naming the value
        else:
            apply(X, X)
        return X
