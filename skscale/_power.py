"""Power transforms (Yeo-Johnson, Box-Cox) with lambda by maximum likelihood."""

import math
import warnings

import numpy as np
from sklearn.utils._param_validation import StrOptions

from . import _array_api, _compiled, _dask, _device, _lambdas, _maps, _quantiles, _ranks, \
    _spark
from ._columns import ColumnScaler
from ._errors import named_column


class PowerTransformer(ColumnScaler):
    r"""Make each feature more Gaussian-like by a power transform, then standardize.

    Yeo-Johnson (any real ``x``) or Box-Cox (``x > 0``), as scikit-learn's
    ``PowerTransformer``::

        Yeo-Johnson   psi(x) = ((1 + x)**l - 1) / l              x >= 0, l != 0
                             = log1p(x)                          x >= 0, l == 0
                             = -((1 - x)**(2 - l) - 1) / (2 - l)  x < 0, l != 2
                             = -log1p(-x)                        x < 0, l == 2
        Box-Cox       psi(x) = (x**l - 1) / l  (log x at l == 0)

    with ``l = lambdas_[j]`` the maximum of the profile log-likelihood
    ``-n/2 log var(psi(x)) + (l - 1) sum(sign(x) log1p|x|)`` (Box-Cox:
    ``sum(log x)``) of the feature's non-NaN training values; then, with
    ``standardize``, ``y = (psi(x) - mean) / std`` over the training data.

    **Accurate where scikit-learn is not.** Transformed values are held as
    their offset from the transform of a reference point ``c`` (the
    training mean), ``(psi(x) - psi(c)) / psi'(c)``, computed as ``log1p``
    of ``(x - c) / (1 + c)`` then ``expm1``: no digit is lost to the
    cancellation of ``psi(x) - psi(c)`` (scikit-learn's standardization of
    data at 1e8 with unit spread keeps 8 of 16), the likelihood is
    accurate to rounding where scipy's loses all its digits (data at 1e8
    again, with ``|l|`` above 2), and the transform of the training
    extremes is finite whenever the standardized output is: nothing
    overflows for large ``|x|`` with large ``|l|`` (scikit-learn's
    overflow reports), since ``psi'(c)`` enters in logarithms.  Unstandardized
    output (``standardize=False``) beyond float64 is an error naming the
    value.

    **The search.** :meth:`fit` finds each lambda as the root of the
    likelihood's slope, from moments of one pass over the column per step
    (about four steps from the root on a subsample of a long column, about
    eight from ``l = 1``; scikit-learn's Brent search reads every column
    about 350 times): within ``1e-10`` relative, where scipy's search stops at
    ``1.5e-8``; within the bounds scipy uses for Yeo-Johnson (where the
    transform of 20 times the largest value keeps its square finite) and
    their Box-Cox equivalent.  Where the likelihood is flat to rounding
    (data far from 0 beside their spread) its maximum may be far from
    scikit-learn's lambda, and higher.

    **Streaming.** :meth:`partial_fit` merges, per batch, the count, mean
    and M2 of the transformed values (and their slopes in lambda) on a
    fixed grid of 79 lambdas (steps of 1/4 between -3 and 5, growing
    beyond, out to about -100 and 102), each side of 0 apart; lambda is the
    maximum of the likelihood interpolated between the grid points around
    it (each side's log-variance by a Hermite polynomial through four of
    them with their slopes; the sides combined exactly).  Against the
    in-memory fit, on 20,000 values of 18 distributions (skewed, heavy- and
    two-tailed, Cauchy, mixed-sign, at 1e3 and 1e6) in 5 batches: within
    ``3e-5`` relative, most within ``1e-7``.  A maximum beyond the grid's
    last usable point gives that point, with a warning; data spread so far
    that a side's variance changes by more than ``e**50`` between grid
    points are refused, naming the column.  It costs a pass per grid
    point: several times :meth:`fit`.

    A constant feature gets ``l = 1`` and maps to 0 (scikit-learn: the same
    for Yeo-Johnson, an error for Box-Cox); a feature with no non-NaN
    training value gets ``l = NaN`` and maps to NaN (scikit-learn: an
    error).  Box-Cox refuses values that are not positive, naming the
    column.

    Parameters
    ----------
    method : {"yeo-johnson", "box-cox"}, default="yeo-johnson"
        The power transform.
    standardize : bool, default=True
        Scale the transformed data to zero mean and unit variance.
    keep_stats : bool, default=False
        Have :meth:`fit` also gather the grid statistics, so that
        :meth:`partial_fit` can add rows later (it then costs about ten
        times as much).
    copy : bool, default=True
        False transforms in place where the input is a writeable float array.

    Attributes
    ----------
    lambdas_ : ndarray of shape (n_features,)
        The lambda of each feature.
    stats_ : LambdaStats or None
        The grid statistics, when fitted by :meth:`partial_fit` or with
        ``keep_stats``.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.PowerTransformer : the scikit-learn counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import PowerTransformer
    >>> X = np.array([[1.0], [2.0], [3.0], [10.0], [30.0]])
    >>> pt = PowerTransformer(method="box-cox").fit(X)
    >>> pt.lambdas_.round(4)
    array([-0.227])
    >>> Y = pt.transform(X)
    >>> bool(np.allclose([Y.mean(), Y.std()], [0, 1]))
    True
    >>> bool(np.allclose(pt.inverse_transform(Y), X))
    True
    """

    _stats_needed = ("lambdas",)
    _affine = False  # a power transform: frames go through their 2-D array
    _resumable_params = {"keep_stats": True}
    _learned = ColumnScaler._learned + ("_state", "_n_rows", "_c", "_method", "_search_dtype",
                                        "_edge_warned")

    _parameter_constraints = {
        "method": [StrOptions({"yeo-johnson", "box-cox"})],
        "standardize": ["boolean"],
        "keep_stats": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, method="yeo-johnson", *, standardize=True, keep_stats=False, copy=True):
        self.method = method
        self.standardize = standardize
        self.keep_stats = keep_stats
        self.copy = copy

    _X_doc = "array-like"

    def _drift_reference(self):
        from . import _drift

        return _drift.power(self)

    @classmethod
    def from_lambdas(cls, lambdas, mean=None, std=None, *, feature_names=None, n_samples=None,
                     **params):
        """A fitted transformer from known lambdas (and, to standardize, the
        mean and standard deviation of the transformed training data).

        ``y = (psi_l(x) - mean) / std`` (or ``psi_l(x)`` with
        ``standardize=False``), as scikit-learn's ``PowerTransformer`` with
        ``lambdas_ = lambdas`` and its standardizer's ``mean_`` and
        ``scale_``.  The transformer holds no grid statistics, so it
        neither continues with :meth:`partial_fit` nor merges.

        Parameters
        ----------
        lambdas : float or array-like of shape (n_features,)
            The lambda of each feature.
        mean, std : float or array-like of shape (n_features,), default=None
            The mean and standard deviation of ``psi_l(x)`` over the
            training data; needed with ``standardize=True`` (a ``std`` of 0
            is taken as 1).
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind them, if known (else 0).
        **params : dict
            Other parameters (``method``, ``standardize``).

        Returns
        -------
        transformer : PowerTransformer
            Fitted.

        Examples
        --------
        >>> from skscale import PowerTransformer
        >>> pt = PowerTransformer.from_lambdas([0.0], standardize=False)
        >>> pt.transform([[1.718281828459045]]).round(12)
        array([[1.]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows

        owner = f"{cls.__name__}.from_lambdas"
        est = cls(**params)
        est._validate_params()
        known = {"lambdas": lambdas}
        if est.standardize:
            if mean is None or std is None:
                raise ValueError(f"{owner}: standardize=True needs the mean and std of the"
                                 " transformed training data (or pass standardize=False).")
            known.update(mean=mean, std=std)
        given, names = known_arrays(owner, feature_names, **known)
        if est.standardize and (given["std"] < 0).any():
            raise ValueError(f"{owner}: std must be at least 0.")
        lam = given["lambdas"]
        d = lam.size
        n_rows = _rows(owner, n_samples)
        # Measured from c = 0 (Box-Cox: 1), where psi is 0 and its slope 1:
        # the transformed values themselves.
        c = np.full(d, 1.0 if est.method == "box-cox" else 0.0)
        n = np.full(d, float(max(n_rows, 1)))
        mean_ = given.get("mean", np.zeros(d))
        m2 = given["std"] ** 2 * n if est.standardize else n.copy()
        est.n_features_in_ = d
        if names is not None:
            est.feature_names_in_ = names
        est._method, est._search_dtype, est._c, est.stats_ = est.method, "float64", c, None
        est._state = {"lambdas": lam, "n": n, "mean": mean_, "m2": m2, "c": c.copy()}
        est._n_rows = n_rows
        est._store(None, np.dtype(np.float64), None)
        return est

    @classmethod
    def _merged(cls, parts):
        raise ValueError(
            f"{cls.__name__}s do not merge: each measures its statistics from the mean of its"
            " own first rows, and statistics measured from other points do not combine. Fit"
            " one on the first part and partial_fit it on the others.")

    def fit(self, X, y=None):
        """Find the lambda of each feature by maximum likelihood, exactly.

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
        """Merge one more batch of rows into the grid statistics.

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

    def _statistics(self, data, sample_weight, prior, fit):
        """Learn in place (the exact search, or the grid statistics), through
        :data:`LAMBDAS`; what the skeleton keeps is already kept."""
        first = prior is None
        if prior is _NO_STATISTICS:
            raise ValueError(
                f"This {type(self).__name__} was fitted by fit, which finds the exact"
                " lambdas from all rows at once, or built by from_lambdas, and keeps no"
                " statistics to add rows to. Fit with keep_stats=True, or call partial_fit"
                " for every batch.")
        if first:
            self._method = self.method
        elif self.method != self._method:
            raise ValueError(f"method changed from {self._method!r} to {self.method!r}"
                             " between batches; refit.")
        self._absorb_dtype(data.dtype)
        LAMBDAS[data.kind](self, data, fit, first)
        return None

    def _statistics_so_far(self):
        return _NO_STATISTICS if self.stats_ is None else self.stats_

    def _keep(self, stats):
        pass  # (kept as they were learned)

    def _absorb_dtype(self, dtype):
        # (the narrowest float type of all batches bounds the search, as
        # scipy's bounds for the input's type)
        dtype = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
        old = getattr(self, "_fit_dtype", None)
        if old is not None and np.dtype(old).itemsize < dtype.itemsize:
            dtype = np.dtype(old)
        self._search_dtype = dtype.name

    def _columns(self, X, which=None, copies=None):
        """The finite values of the columns ``which`` (default: all) as
        float64 arrays, checked; ``copies`` holds them already copied."""
        names = self._feature_names()
        which = range(X.shape[1]) if which is None else which

        def one(k):
            j = which[k]
            x = None if copies is None else copies[k]
            if x is not None:
                with np.errstate(over="ignore", invalid="ignore"):
                    clean = np.isfinite(np.add.reduce(x))
                x = x if clean else None  # (NaN to drop, or an infinity to name)
            if x is None:
                x = _quantiles.finite_values(X, j, names)
            if self.method == "box-cox" and x.size and x.min() <= 0:
                raise ValueError(
                    f"Box-Cox is defined for positive values only, but"
                    f" {named_column(self, j)} holds {x.min():.17g}. Use"
                    " method='yeo-johnson' for data with zeros or negative values.")
            return x

        return _lambdas._on_threads(len(which), one)

    def _column_groups(self, X):
        """``(columns, their values)`` for groups of the columns of ``X``,
        copied a group at a time (never the whole input)."""
        X = _quantiles.by_column(X)
        for cols, block in _ranks._column_groups(X):
            if block is None:  # (frames, sparse: one group, column by column)
                yield list(range(X.shape[1])), self._columns(X)
                return
            yield list(cols), self._columns(X, list(cols), block)

    def _references(self, cols):
        """Each column's reference point: the mean of its first values."""
        fallback = 1.0 if self.method == "box-cox" else 0.0
        return np.array([_reference(x, fallback) for x in cols])

    def _update_memory(self, X, exact, first):
        d, n_rows = X.shape[1], X.shape[0]
        if first:
            self._c = np.zeros(d)
        parts, lam, moments = [], np.full(d, np.nan), np.full((5, d), np.nan)
        keep = not exact or self.keep_stats
        # (the compiled moments where the whole input is worth them)
        compiled = exact and isinstance(X, np.ndarray) and _compiled.wanted(X)
        for cols, values in self._column_groups(X):
            if first:
                self._c[cols] = self._references(values)
            if keep:
                parts.append(_lambdas.LambdaStats.of_columns(
                    self.method, self._c[cols], values, n_rows, self._search_dtype))
            if exact:
                frames = [_lambdas.Frame.at(self.method, c) for c in self._c[cols]]
                splits = [f.split(x) for f, x in zip(frames, values)]
                n = np.array([x.size for x in values], dtype=np.float64)
                S = np.array([_lambdas.log_sum(self.method, x, f, sp) if x.size else 0.0
                              for x, f, sp in zip(values, frames, splits)])
                lo = np.array([x.min() if x.size else np.nan for x in values])
                hi = np.array([x.max() if x.size else np.nan for x in values])
                lam[cols], moments[:, cols] = self._solve(
                    _lambdas.in_memory(frames, splits, compiled), frames, n, S, lo, hi,
                    first=cols[0], splits=splits, compiled=compiled)
        stats = _lambdas.LambdaStats.side_by_side(parts) if keep else None
        self.stats_ = stats if first or stats is None else self.stats_.merge(stats)
        if exact:
            self._state = {"lambdas": lam, "n": moments[0], "mean": moments[1],
                           "m2": moments[2], "c": self._c.copy()}
            self._n_rows = n_rows
        else:
            self._n_rows = self.stats_.n_rows
            self._learn_from_stats()

    def _update_distributed(self, X, exact, first, engine):
        """The learning from a distributed input ``X``: statistics from its
        ``engine`` (:mod:`skscale._dask` or :mod:`skscale._spark`), which
        both offer ``merged_stats`` and ``reduce``."""
        if first:
            # One pass for the extremes (the references, and the bounds)...
            ext = engine.merged_stats(self, X, what=("moments", "extremes"))
            self._c = np.where(ext.count > 0, ext.mean,
                               1.0 if self.method == "box-cox" else 0.0)
            if self.method == "box-cox" and (ext.min <= 0).any():
                j = int(np.flatnonzero(ext.min <= 0)[0])
                raise ValueError(
                    f"Box-Cox is defined for positive values only, but {named_column(self, j)}"
                    f" holds {ext.min[j]:.17g}. Use method='yeo-johnson' for data with zeros"
                    " or negative values.")
        if not exact or self.keep_stats:
            stats = engine.reduce(self, X, _grid_block, _merge_stats, self._c,
                                 self._search_dtype)
            self.stats_ = stats if first else self.stats_.merge(stats)
        else:
            self.stats_ = None
        if exact:
            # ...then the same search as in memory, each step one pass on the workers.
            frames = [_lambdas.Frame.at(self.method, c) for c in self._c]
            S = engine.reduce(self, X, _log_sum_block, np.add)
            lam, moments = self._solve(_evaluate(self, X, frames, engine), frames, ext.count, S,
                                       ext.min, ext.max)
            self._state = {"lambdas": lam, "n": moments[0], "mean": moments[1],
                           "m2": moments[2], "c": self._c.copy()}
            self._n_rows = ext.n_rows
        else:
            self._n_rows = self.stats_.n_rows
            self._learn_from_stats()

    def _solve(self, evaluate, frames, n, S, lo, hi, first=0, splits=None, compiled=False):
        """``(lambdas, moments)`` of the columns of ``frames`` (the first
        being column ``first``), from their ``evaluate`` passes (started
        from a subsample of their ``splits``, when in memory)."""
        constant = (n > 0) & (lo == hi)
        active = (n > 0) & ~constant
        bounds = np.array([_lambdas.bounds(self.method, a, b, self._search_dtype)
                           if m else (np.nan, np.nan) for a, b, m in zip(lo, hi, active)])
        bounds = bounds.reshape(-1, 2)
        self._check_bounds(bounds, lo, hi, first)
        start, curvature = (None, None) if splits is None else _lambdas.warm_start(
            frames, splits, bounds[:, 0], bounds[:, 1], active, compiled)
        lam, moments = _lambdas.solve(evaluate, frames, S, bounds[:, 0], bounds[:, 1],
                                      active, start=start, curvature=curvature)
        lam = np.where(n > 0, lam, np.nan)
        if constant.any():  # lambda = 1 (the identity, as scikit-learn's Yeo-Johnson)
            lam[constant] = 1.0
            at_one = evaluate(np.where(constant, 1.0, np.nan), constant)
            moments[:, constant] = np.asarray(at_one)[:, constant]
        return lam, moments

    def _check_bounds(self, bounds, lo, hi, first=0):
        """Refuse a column whose values leave no lambda within float64."""
        with np.errstate(invalid="ignore"):
            empty = bounds[:, 0] > bounds[:, 1]
        if empty.any():
            k = int(np.flatnonzero(empty)[0])
            raise ValueError(
                f"The values of {named_column(self, first + k)} span {lo[k]:.3g} to {hi[k]:.3g}:"
                " no Yeo-Johnson lambda keeps the transform of both signs within the range"
                " of float64. Divide them by a power of ten (e.g. with DecimalScaler) first.")

    def _learn_from_stats(self):
        stats = self.stats_
        if not hasattr(self, "_edge_warned"):
            self._edge_warned = ()  # (a tuple of ints: plain data, which skops trusts)
        d = stats.c.size
        lam, n, mean, m2 = (np.full(d, np.nan) for _ in range(4))
        edges = []
        for j in range(d):
            if stats.n[j] == 0:
                continue
            if stats.min[j] == stats.max[j]:
                k = int(np.flatnonzero(_lambdas.GRID == 1.0)[0])
                lam[j] = 1.0
                both = stats.combined(j)
                n[j], mean[j], m2[j] = both[0][k], both[1][k], 0.0
                continue
            lo, hi = _lambdas.bounds(self.method, stats.min[j], stats.max[j],
                                     self._search_dtype)
            self._check_bounds(np.array([[lo, hi]]), stats.min[j:j + 1], stats.max[j:j + 1],
                               first=j)
            try:
                lam[j], (n[j], mean[j], m2[j]), edge = stats.best(j, lo, hi)
            except OverflowError as err:
                raise ValueError(
                    f"The values of {named_column(self, j)} span too many orders of magnitude"
                    f" for the streamed statistics: {err}. Fit in memory (fit), or divide"
                    " them by a power of ten first.") from None
            if edge:
                edges.append(j)
        edges = [j for j in edges if j not in self._edge_warned]  # (once per column)
        self._edge_warned = tuple(sorted({*self._edge_warned, *edges}))
        if edges:
            j = edges[0]
            warnings.warn(
                f"The likelihood of {named_column(self, j)} rises up to the edge of the"
                f" lambdas that the streamed statistics hold (lambda = {lam[j]:.6g}); its"
                " maximum may lie beyond. Fit in memory for the exact lambda.", UserWarning,
                stacklevel=4)
        self._state = {"lambdas": lam, "n": n, "mean": mean, "m2": m2, "c": stats.c.copy()}

    def _samples_seen(self):
        return int(self._n_rows)

    def _relearn(self, previous):
        self._map = self._learn(None)

    def _learn(self, stats):
        self.lambdas_ = self._state["lambdas"]
        return map_parameters(self.method, self._state, self.standardize)

    def _device_map(self, inverse):
        return _device.power_on_device, {"params": self._map,
                                         "box_cox": self.method == "box-cox"}

    def _apply(self, X, out, inverse):
        return _maps.power(X, out, self._map, inverse=inverse,
                           box_cox=self.method == "box-cox",
                           feature_names=self._feature_names())

    def _in_place(self, X, apply):
        # The map is monotone, but a value of another sign takes the other
        # branch: check the whole input (into a scratch copy) before writing.
        X[...] = apply(X, np.empty_like(X))
        return X


def _reference(x, fallback):
    """A column's reference point: the mean of its values (``fallback``
    without any); values spanning more than float64 sums use the median."""
    if x.size == 0:
        return fallback
    with np.errstate(over="ignore", invalid="ignore"):
        c = float(np.mean(x))
    return c if math.isfinite(c) else float(np.median(x))


def map_parameters(method, state, standardize):
    """The per-feature arrays of :func:`skscale._maps.power` for the fitted
    ``state`` (``lambdas``, reference points ``c``, and the count, mean and
    M2 of the transformed training values measured from them)."""
    lam, c = state["lambdas"], state["c"]
    d = lam.size
    keys = ("c", "pc", "l1", "a1", "b1", "l2", "a2", "b2", "sign", "y0")
    p = {k: np.full(d, np.nan) for k in keys}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for j in range(d):
            if not np.isfinite(lam[j]):
                continue
            f = _lambdas.Frame.at(method, c[j])
            lp = float(f.oriented(lam[j]))
            s, A, L = f.sign, f.A, f.L
            if standardize:
                n, m, m2 = state["n"][j], state["mean"][j], state["m2"][j]
                scale = math.sqrt(m2 / n) if m2 > 0 else 1.0
                mean = m
            else:  # y = psi(c) + K A delta
                log_ka = lp * L
                scale = math.exp(-log_ka) if log_ka > -700 else np.inf
                mean = -s * float(_lambdas.g(lp, L)) * scale
            p["c"][j], p["pc"][j], p["sign"][j], p["l1"][j] = c[j], s / A, s, lp
            p["a1"][j] = s / scale / (lp if lp != 0 else 1.0)
            p["b1"][j] = -mean / scale
            if method == "box-cox":
                p["l2"][j], p["a2"][j], p["b2"][j], p["y0"][j] = 1.0, np.nan, np.nan, -np.inf
                continue
            mu = 2.0 - lp
            k1 = math.exp(-lp * L) if -lp * L < 700 else np.inf
            p["l2"][j] = mu
            p["a2"][j] = -s * k1 / scale / (mu if mu != 0 else 1.0)
            p["b2"][j] = (-s * float(_lambdas.g(-lp, L)) - mean) / scale
            p["y0"][j] = p["b2"][j]
    return p


def _grid_block(est, x, c, dtype):
    """The grid statistics of one block (a Dask worker's share)."""
    cols = est._columns(x)
    return _lambdas.LambdaStats.of_columns(est.method, c, cols, x.shape[0], dtype)


def _merge_stats(a, b):
    return a.merge(b)


def _log_sum_block(est, x):
    cols = est._columns(x)
    return np.array([_lambdas.log_sum(est.method, v) if v.size else 0.0 for v in cols])


def _moments_block(est, x, frames, lam, active):
    cols = est._columns(x)
    out = np.zeros((5, len(frames)))
    for j in np.flatnonzero(active):
        out[:, j] = [v[0] for v in _lambdas.moments(frames[j], frames[j].split(cols[j]),
                                                    [lam[j]])]
    return out


def _merge_moments(a, b):
    out = np.array(a, copy=True)
    for j in range(a.shape[1]):
        out[:, j] = [v for v in _lambdas._combine([list(a[:, j]), list(b[:, j])])]
    return out


def _evaluate(est, X, frames, engine):
    """``evaluate`` of :func:`skscale._lambdas.solve` on a Dask collection:
    one pass on the workers per step, the moments merged in a tree."""
    def evaluate(lam, active):
        return engine.reduce(est, X, _moments_block, _merge_moments, frames, lam, active)
    return evaluate


#: What a fit without statistics to add rows to has (``keep_stats=False``).
_NO_STATISTICS = object()

#: kind -> the learning of :class:`PowerTransformer` from an input: the exact
#: search over its columns (``fit``), or its grid statistics merged:
#: ``f(est, data, exact, first)``.
LAMBDAS = {
    "dense": lambda est, data, exact, first: est._update_memory(data.X, exact, first),
    "frame": lambda est, data, exact, first: est._update_memory(data.X, exact, first),
    "dask": lambda est, data, exact, first: est._update_distributed(data.X, exact, first, _dask),
    "spark": lambda est, data, exact, first: est._update_distributed(
        data.X, exact, first, _spark),
    "device": lambda est, data, exact, first: est._update_memory(  # (the likelihood: host)
        _array_api.to_numpy(data.X), exact, first),
}
