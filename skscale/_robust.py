"""Robust scaling: center by the median, scale by an inter-quantile range."""

from numbers import Integral, Real

import numpy as np
import scipy.stats
from sklearn.utils._param_validation import Interval, StrOptions

from . import _quantiles, _ranks
from ._columns import RankScaler
from ._errors import named_column


class RobustScaler(RankScaler):
    """Center each feature by its median and scale it by an inter-quantile range.

    ``y = (x - median) / (q_hi - q_lo)`` with ``(q_lo, q_hi)`` the
    percentiles ``quantile_range`` of the non-NaN training values of the
    feature (linear interpolation, as ``numpy.percentile`` and
    scikit-learn's ``RobustScaler``), divided by ``Phi^-1(hi) - Phi^-1(lo)``
    with ``unit_variance`` so that normal data gets unit variance.  Outliers
    move neither the median nor the quartiles much, where they move the mean
    and the standard deviation of z-scores without bound.

    **Exact or streamed.** :meth:`fit` computes the exact percentiles, one
    column at a time (a copy of one column, never of the whole input), and
    equals scikit-learn's ``RobustScaler`` to rounding.  :meth:`partial_fit`
    and a fit on a Dask collection fold the rows into one KLL sketch per
    column (Apache DataSketches: the ``sketch`` extra), which merge across
    batches and blocks; while a sketch holds fewer than about
    ``sketch_size`` values it keeps them all and its quantiles are exact,
    afterwards each is a training value whose rank is within
    ``rank_error_`` of the one asked for, with 99% confidence:

    ============  =======  ================  ========
    sketch_size   200      1000 (default)    4000
    rank error    1.33%    0.28%             0.072%
    ============  =======  ================  ========

    A feature whose two quantiles coincide (a constant one, or one with
    most values equal) gets a range of 1, as in scikit-learn (which also
    treats a range below ``10 * eps``, 2.2e-15, as 0: here only exactly 0
    is).  A feature with no non-NaN training value maps to NaN.

    Parameters
    ----------
    with_centering : bool, default=True
        Subtract the median. Must be False for sparse input.
    with_scaling : bool, default=True
        Divide by the inter-quantile range.
    quantile_range : tuple (q_min, q_max), default=(25.0, 75.0)
        Percentiles, ``0 <= q_min <= q_max <= 100``, whose difference is the
        scale (the inter-quartile range by default).
    unit_variance : bool, default=False
        Divide the range by that of the standard normal distribution.
    sketch_size : int, default=1000
        KLL's ``k`` for :meth:`partial_fit` and Dask fits: larger is more
        accurate (see the table) and takes about ``3 * k`` values per column.
    keep_sketch : bool or "auto", default=False
        Have :meth:`fit` also fold the rows into sketches, so that a later
        :meth:`partial_fit` can add rows to an exact fit; ``"auto"`` does
        where DataSketches is installed.  A scaler fitted without them
        refuses :meth:`partial_fit` after :meth:`fit` (start with
        :meth:`partial_fit` to stream from the first batch).  The sketches
        cost most of such a fit's time, so a plain fit does without: on
        1,000,000 x 20 float64, fit took 0.27 s, 0.93 s with sketches, and
        scikit-learn's 0.90 s (``benchmarks/run.py --only robust``).
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,) or None
        Per-feature median; None when ``with_centering=False``.
    scale_ : ndarray of shape (n_features,) or None
        Per-feature divisor (the range, 1 where it is 0, divided by the
        normal's with ``unit_variance``); None when ``with_scaling=False``.
    quantiles_ : ndarray of shape (2, n_features)
        The percentiles ``quantile_range`` of each feature.
    rank_error_ : float
        0.0 when the quantiles are exact, else the sketches' rank error bound.
    sketches_ : object or None
        The per-column sketches, when the scaler was fitted by
        :meth:`partial_fit`, on Dask, or with ``keep_sketch``.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.RobustScaler : the scikit-learn counterpart.

    Examples
    --------
    >>> from skscale import RobustScaler
    >>> X = [[1.0], [2.0], [3.0], [4.0], [100.0]]
    >>> scaler = RobustScaler().fit(X)
    >>> scaler.center_, scaler.scale_
    (array([3.]), array([2.]))
    >>> scaler.transform(X).ravel()
    array([-1. , -0.5,  0. ,  0.5, 48.5])
    """

    _stats_needed = ("quantiles",)
    _resumable_params = {"keep_sketch": "auto"}
    _learned = RankScaler._learned + ("_median", "_count")

    _parameter_constraints = {
        "with_centering": ["boolean"],
        "with_scaling": ["boolean"],
        "quantile_range": [tuple],
        "unit_variance": ["boolean"],
        "sketch_size": [Interval(Integral, 8, 65535, closed="both")],
        "keep_sketch": ["boolean", StrOptions({"auto"})],
        "copy": ["boolean"],
    }

    def __init__(self, *, with_centering=True, with_scaling=True,
                 quantile_range=(25.0, 75.0), unit_variance=False,
                 sketch_size=_quantiles.SKETCH_SIZE, keep_sketch=False, copy=True):
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.quantile_range = quantile_range
        self.unit_variance = unit_variance
        self.sketch_size = sketch_size
        self.keep_sketch = keep_sketch
        self.copy = copy

    _X_doc = "array-like, or sparse matrix with with_centering=False,"
    _sparse_error = ValueError  # as RobustScaler's "Cannot center sparse matrices"

    def _drift_reference(self):
        from . import _drift

        return _drift.robust(self)

    def _accepts_sparse(self):
        return not self.with_centering

    def _sparse_hint(self):
        return "Pass with_centering=False to scale sparse data without centering it."

    def fit(self, X, y=None):
        """Learn the exact median and quantiles of each feature.

        A Dask collection is sketched instead (see the class notes).

        Parameters
        ----------
        X : array-like, or sparse matrix with with_centering=False, of shape (n_samples, n_features)
            Training data. NaN values are ignored.
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
        X : array-like, or sparse matrix with with_centering=False, of shape (n_samples, n_features)
            A batch of training rows. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Updated scaler.
        """
        return super().partial_fit(X, y)

    @classmethod
    def from_quantiles(cls, median, q_min, q_max, *, feature_names=None, n_samples=None,
                       **params):
        """A fitted scaler from the known median and quantiles of each feature.

        ``q_min`` and ``q_max`` are the percentiles ``quantile_range`` (the
        quartiles by default) of each feature.  The scaler holds no sketch,
        so it neither continues with :meth:`partial_fit` nor merges.

        Parameters
        ----------
        median : float or array-like of shape (n_features,)
            The median of each feature.
        q_min, q_max : float or array-like of shape (n_features,)
            Its percentiles ``quantile_range``, ``q_min <= median <= q_max``.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind the quantiles, if known (else 0).
        **params : dict
            Other parameters of the scaler (``quantile_range``,
            ``unit_variance``, ...).

        Returns
        -------
        scaler : RobustScaler
            Fitted.

        Examples
        --------
        >>> from skscale import RobustScaler
        >>> scaler = RobustScaler.from_quantiles(median=[3.0], q_min=[2.0], q_max=[4.0])
        >>> scaler.transform([[5.0]])
        array([[1.]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows

        owner = f"{cls.__name__}.from_quantiles"
        given, names = known_arrays(owner, feature_names, median=median, q_min=q_min,
                                    q_max=q_max)
        m, lo, hi = given["median"], given["q_min"], given["q_max"]
        bad = (lo > m) | (m > hi)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{owner}: feature {j} must have q_min <= median <= q_max; got"
                             f" {float(lo[j])!r}, {float(m[j])!r}, {float(hi[j])!r}.")
        n_rows = _rows(owner, n_samples)
        unknown = np.full(m.shape, np.nan)  # (extremes: not known)
        stats = _ranks.Ranks(np.full(m.shape, float(n_rows)), unknown, unknown.copy(), m,
                             np.vstack([lo, hi]), 0.0, None, n_rows)
        return cls._from_known(stats, names, params)

    def _percentiles(self):
        return self._range()

    def _statistics_so_far(self):
        unknown = np.full(self._count.shape, np.nan)  # (extremes: not kept)
        return _ranks.Ranks(self._count, unknown, unknown, self._median, self.quantiles_,
                            self.rank_error_, self.sketches_, self.n_samples_seen_)

    def _keep(self, stats):
        self.sketches_, self.rank_error_ = stats.sketches, stats.rank_error
        self._median, self.quantiles_, self._count = stats.median, stats.values, stats.count
        # (an exact fit counts its own rows; sketches count every row they hold)
        self._n_rows = stats.n_rows

    def _range(self):
        q = self.quantile_range
        if len(q) != 2 or not all(isinstance(v, Real) for v in q) \
                or not 0 <= q[0] <= q[1] <= 100:
            raise ValueError(f"Invalid quantile range: {q!r}; it must be two percentiles"
                             " (q_min, q_max) with 0 <= q_min <= q_max <= 100.")
        if self.unit_variance and not 0 < q[0] < q[1] < 100:
            raise ValueError(
                f"unit_variance=True divides by the normal distribution's range between the"
                f" percentiles {q!r}, which is {'infinite' if q[0] < q[1] else 0} here; it"
                " needs 0 < q_min < q_max < 100.")
        return [float(q[0]), float(q[1])]

    def _learn(self, stats):
        with np.errstate(over="ignore", invalid="ignore"):
            spread = self.quantiles_[1] - self.quantiles_[0]
        wide = (self._count > 0) & ~(np.isfinite(spread) & np.isfinite(self._median))
        if wide.any():
            j = int(np.flatnonzero(wide)[0])
            raise ValueError(
                f"The quantiles of {named_column(self, j)} span more than float64 holds; divide"
                " its values by a power of ten (e.g. with DecimalScaler) first.")
        self.center_ = self._median if self.with_centering else None
        if not self.with_scaling:
            self.scale_ = None
        else:
            scale = spread
            scale[scale == 0] = 1.0  # quantiles that coincide: no spread to divide by
            if self.unit_variance:
                lo, hi = self._range()
                scale = scale / (scipy.stats.norm.ppf(hi / 100) - scipy.stats.norm.ppf(lo / 100))
            self.scale_ = scale
        return self.center_, self.scale_, None
