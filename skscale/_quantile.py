"""Quantile transform: each feature through its own empirical distribution."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _device, _maps, _quantiles, _ranks
from ._columns import RankScaler
from ._errors import named_column


class QuantileTransformer(RankScaler):
    r"""Map each feature to a uniform or normal distribution through its quantiles.

    ``fit`` learns ``n`` quantiles per feature, ``q_k`` = the percentile
    ``100 k / (n - 1)`` of its non-NaN training values (``k = 0 .. n - 1``,
    linearly interpolated as ``numpy.percentile``; ``n = min(n_quantiles,
    n_samples)``), and the references ``r_k = k / (n - 1)``.  The transform
    is scikit-learn's::

        u = r_j + (x - q_j) (r_{j+1} - r_j) / (q_{j+1} - q_j)   for q_j < x < q_{j+1}
        u = (r_first + r_last) / 2                              where x equals the
                                                                quantiles first..last
        u = 0 at or below q_0,  u = 1 at or above q_{n-1}
        y = u (uniform)  or  y = Phi^-1(u) clipped to +-5.199 (normal)

    so ties take the middle of their references (scikit-learn interpolates
    from both sides and averages) and values beyond the training range take
    the bound.  ``inverse_transform`` interpolates the quantiles between the
    references around ``u = Phi(y)`` (or ``y``): exact on the training
    range up to the flat stretches of tied quantiles, which map back to
    their value.

    **Exact or streamed.** :meth:`fit` computes the exact quantiles of all
    rows, one column at a time, where scikit-learn's default looks at a
    sample of 10,000 rows (``subsample=None`` makes it exact, and here
    agrees with this to rounding).  :meth:`partial_fit` and a fit on a Dask
    collection fold the rows into one KLL sketch per column, as
    :class:`RobustScaler` does: exact while a sketch holds all its values
    (fewer than about ``sketch_size``), then each quantile is a training
    value whose rank is within ``rank_error_`` of the one asked for, with
    99% confidence (0.28% for the default ``sketch_size=1000``).  The
    uniform output of a value then differs from the exact fit's by at most
    ``rank_error_ + 2 / (n - 1)`` (the rank error, and the spacing of the
    references on either side).

    A constant feature maps its value (and anything below it) to 0 (normal:
    -5.199) and anything above to 1, as in scikit-learn; a feature with no
    non-NaN training value maps to NaN.  Unlike scikit-learn, whose normal
    output sends every value within ``1e-7`` *in the data's units* of the
    training extremes to the bounds (on data of scale ``1e-8``, all of
    them), this sends only the values at or beyond the extremes.

    Parameters
    ----------
    n_quantiles : int, default=1000
        Number of quantiles (landmarks of the empirical distribution); at
        most the number of training rows is used.
    output_distribution : {"uniform", "normal"}, default="uniform"
        Distribution of the transformed data.
    sketch_size : int, default=1000
        KLL's ``k`` for :meth:`partial_fit` and Dask fits.
    keep_sketch : bool or "auto", default=False
        Have :meth:`fit` also fill the sketches, so that :meth:`partial_fit`
        can add rows later; ``"auto"`` does where DataSketches is installed.
        Off by default, unlike :class:`RobustScaler`'s: they would take
        longer than the exact quantiles themselves.
    copy : bool, default=True
        False transforms in place where the input is a writeable float array.

    Attributes
    ----------
    n_quantiles_ : int
        Number of quantiles used.
    quantiles_ : ndarray of shape (`n_quantiles_`, n_features)
        The quantiles of each feature.
    references_ : ndarray of shape (`n_quantiles_`,)
        Their levels, ``linspace(0, 1, n_quantiles_)``.
    rank_error_ : float
        0.0 when the quantiles are exact, else the sketches' bound.
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
    sklearn.preprocessing.QuantileTransformer : the scikit-learn counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import QuantileTransformer
    >>> X = np.array([[1.0], [2.0], [2.0], [4.0], [100.0]])
    >>> qt = QuantileTransformer(n_quantiles=5).fit(X)
    >>> qt.quantiles_.ravel()
    array([  1.,   2.,   2.,   4., 100.])
    >>> qt.transform([[0.0], [1.5], [2.0], [52.0], [1000.0]]).ravel()
    array([0.   , 0.125, 0.375, 0.875, 1.   ])
    >>> qt.inverse_transform(qt.transform(X)).ravel()
    array([  1.,   2.,   2.,   4., 100.])
    """

    _stats_needed = ("quantiles",)
    _affine = False  # interpolation: frames go through their 2-D array
    _resumable_params = {"keep_sketch": "auto"}

    _parameter_constraints = {
        "n_quantiles": [Interval(Integral, 1, None, closed="left")],
        "output_distribution": [StrOptions({"uniform", "normal"})],
        "sketch_size": [Interval(Integral, 8, 65535, closed="both")],
        "keep_sketch": ["boolean", StrOptions({"auto"})],
        "copy": ["boolean"],
    }

    def __init__(self, *, n_quantiles=1000, output_distribution="uniform",
                 sketch_size=_quantiles.SKETCH_SIZE, keep_sketch=False, copy=True):
        self.n_quantiles = n_quantiles
        self.output_distribution = output_distribution
        self.sketch_size = sketch_size
        self.keep_sketch = keep_sketch
        self.copy = copy

    _X_doc = "array-like"

    def _clip_range(self):
        """The input range outside which the transform clips (see
        :meth:`check_drift`)."""
        # (0 and 1 beyond the extreme quantiles)
        return {"clip_low": self.quantiles_[0], "clip_high": self.quantiles_[-1]}

    def _drift_reference(self):
        from . import _drift

        return _drift.ranked(self)

    def fit(self, X, y=None):
        """Learn the exact quantiles of each feature at ``n_quantiles`` levels.

        A Dask collection is sketched instead (see the class notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        return super().fit(X, y)

    def partial_fit(self, X, y=None):
        """Fold one more batch of rows into the per-column sketches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training rows. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Updated transformer.
        """
        return super().partial_fit(X, y)

    @classmethod
    def from_quantiles(cls, quantiles, *, feature_names=None, n_samples=None, **params):
        """A fitted transformer from the known quantiles of each feature.

        ``quantiles[k]`` is each feature's percentile ``100 k / (n - 1)``
        (``n = len(quantiles)``: the references are ``linspace(0, 1, n)``,
        as :meth:`fit` learns them with ``n_quantiles=n``).  The transformer
        holds no sketch, so it neither continues with :meth:`partial_fit`
        nor merges.

        Parameters
        ----------
        quantiles : array-like of shape (n_quantiles, n_features)
            Each column non-decreasing and finite.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind them, if known (else ``n_quantiles``).
        **params : dict
            Other parameters (``output_distribution``).

        Returns
        -------
        transformer : QuantileTransformer
            Fitted.

        Examples
        --------
        >>> from skscale import QuantileTransformer
        >>> qt = QuantileTransformer.from_quantiles([[0.0], [1.0], [10.0]])
        >>> qt.transform([[0.5], [5.5]])
        array([[0.25],
               [0.75]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows

        owner = f"{cls.__name__}.from_quantiles"
        try:
            q = np.asarray(quantiles, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{owner}: quantiles must be numbers.") from None
        if q.ndim != 2 or q.shape[0] < 1 or q.shape[1] < 1:
            raise ValueError(f"{owner}: quantiles must have shape (n_quantiles, n_features);"
                             f" got {q.shape}.")
        if not np.isfinite(q).all():
            raise ValueError(f"{owner}: quantiles must be finite.")
        if (np.diff(q, axis=0) < 0).any():
            j = int(np.flatnonzero((np.diff(q, axis=0) < 0).any(axis=0))[0])
            raise ValueError(f"{owner}: the quantiles of feature {j} must not decrease.")
        if "n_quantiles" in params and params["n_quantiles"] != q.shape[0]:
            raise ValueError(f"{owner}: n_quantiles={params['n_quantiles']}, but quantiles"
                             f" holds {q.shape[0]}.")
        _, names = known_arrays(owner, feature_names, first=q[0])
        n_rows = max(_rows(owner, n_samples), q.shape[0])
        stats = _ranks.Ranks(np.full(q.shape[1], float(n_rows)), q[0].copy(), q[-1].copy(),
                             np.full(q.shape[1], np.nan), q, 0.0, None, n_rows)
        return cls._from_known(stats, names, {**params, "n_quantiles": q.shape[0]})

    def _percentiles(self):
        return lambda n_rows: 100 * _references(n_rows, self.n_quantiles)

    def _learn(self, stats):
        r = _ranks.Ranks(**self._ranks)
        self.references_ = _references(self._n_rows, self.n_quantiles)
        if self.references_.size != r.values.shape[0]:  # n_quantiles changed since
            r = _ranks.from_sketches(self.sketches_, 100 * self.references_)
            self._ranks = r.plain()
        self.n_quantiles_ = self.references_.size
        self.quantiles_ = r.values
        self.rank_error_ = float(r.rank_error)
        wide = (r.count > 0) & ~np.isfinite(r.values).all(axis=0)
        if wide.any():
            j = int(np.flatnonzero(wide)[0])
            raise ValueError(
                f"The quantiles of {named_column(self, j)} span more than float64 holds; divide"
                " its values by a power of ten (e.g. with DecimalScaler) first.")
        return _maps.quantile_tables(self.quantiles_, self.references_)

    def _select_params(self, full, idx):
        # (the tables lay all columns end to end: built again for these)
        self._map = _maps.quantile_tables(self.quantiles_, self.references_)

    #: The interpolation tables follow from ``quantiles_`` and ``references_``
    #: (ten times their size): a JSON model holds those, and the tables are
    #: built again on loading.
    _rebuilt = ("_map",)

    def _restored(self):
        from ._persist import DamagedState

        if not hasattr(self, "quantiles_"):
            return
        q, r = getattr(self, "quantiles_", None), getattr(self, "references_", None)
        if not (isinstance(q, np.ndarray) and isinstance(r, np.ndarray) and q.ndim == 2
                and r.ndim == 1 and q.shape[0] == r.size and r.size >= 1):
            raise DamagedState(
                f"damaged {type(self).__name__}: quantiles_ of shape {np.shape(q)} do not"
                f" go with references_ of shape {np.shape(r)}")
        self._map = _maps.quantile_tables(q, r)

    def _device_map(self, inverse):
        return _device.quantile_on_device, {"tables": self._map,
                                            "normal": self.output_distribution == "normal"}

    def _apply(self, X, out, inverse):
        normal = self.output_distribution == "normal"
        if inverse:
            return _maps.quantile_inverse(X, out, self._map, normal, self._feature_names())
        return _maps.quantile_forward(X, out, self._map, normal, self._feature_names())


def _references(n_rows, n_quantiles):
    """scikit-learn's ``references_``: ``n_quantiles`` levels, at most one
    per row, evenly from 0 to 1."""
    return np.linspace(0, 1, max(1, min(int(n_quantiles), int(n_rows))), endpoint=True)
