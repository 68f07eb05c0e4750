"""Mergeable per-column statistics: the single statistics core of skscale.

Every column scaler learns from the same five numbers per feature -- weighted
count, mean, M2 (sum of squared deviations from the mean), min and max -- all
NaN-aware and held in float64 whatever the input dtype.  Two partial results
merge exactly with the parallel update of Chan, Golub & LeVeque (1979), so

* ``fit`` is "reset, then update over row blocks",
* ``partial_fit`` is "update",
* a threaded or distributed fit is "statistics per block, merged in order",

and all of them agree to rounding.  Within a block the mean and M2 are
computed two-pass in float64: one-pass ``E[x**2] - E[x]**2`` loses every digit
on data at mean 1e8 with unit spread.
"""

from dataclasses import dataclass

import numpy as np

from . import _blocks, _compiled, _device
from ._blocks import (WIDE, PerFeature, block_bounds, block_rows, column_reduce, fold,
                      for_each_block, scratch, widen)
from ._errors import check_overflow, raise_non_finite

#: Both kinds of statistics: ``"moments"`` (count, mean, M2), ``"extremes"`` (min, max).
BOTH = ("moments", "extremes")


@dataclass
class ColumnStats:
    """Running statistics of each column, mergeable across row blocks.

    Attributes
    ----------
    count : ndarray of shape (n_features,)
        Total weight of the non-NaN values seen (their number when unweighted).
    mean : ndarray of shape (n_features,)
        Weighted mean of the non-NaN values; NaN where ``count == 0``.
    m2 : ndarray of shape (n_features,)
        Weighted sum of squared deviations from ``mean``.
    min, max : ndarray of shape (n_features,)
        Extremes of the non-NaN values; NaN where ``count == 0``.
    n_rows : int
        Number of rows seen, NaN or not.

    A method may ask for only the moments or only the extremes (see
    :meth:`from_array`); the fields it did not ask for hold NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale._stats import ColumnStats
    >>> a = ColumnStats.from_array(np.array([[1.0], [3.0]]))
    >>> b = ColumnStats.from_array(np.array([[5.0]]))
    >>> ab = a.merge(b)
    >>> ab.mean, ab.var(ddof=0)
    (array([3.]), array([2.66666667]))
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    min: np.ndarray
    max: np.ndarray
    n_rows: int = 0

    @classmethod
    def from_array(cls, X, sample_weight=None, feature_names=None, what=BOTH, prior=None):
        """Statistics of a dense 2-D float array, computed over row blocks.

        ``what`` names the statistics wanted: ``"moments"`` (count, mean, M2)
        and/or ``"extremes"`` (min, max); those not asked for are NaN, and a
        method that needs only one kind reads its data half as many times.
        Infinite values raise a ``ValueError`` naming their column; NaN
        values are skipped.  Given the statistics of earlier rows as
        ``prior``, returns those of all rows, merged in the same step.
        """
        seen = 0 if prior is None else int(prior.n_rows) * X.shape[1]
        if sample_weight is None and X.flags.c_contiguous and _compiled.wanted(X, seen):
            stats = _compiled_stats(X, what, prior)
            if stats is not None:
                return stats
        parts = for_each_block(
            X.shape[0], X.shape[1],
            lambda rows: _block_stats(
                X[rows], None if sample_weight is None else sample_weight[rows],
                rows.start, feature_names, what),
        )
        return cls.combine(([] if prior is None else [prior]) + parts)

    @classmethod
    def from_device(cls, X, ns, sample_weight=None, feature_names=None, prior=None, row0=0):
        """Statistics of a 2-D array of another namespace (under array API
        dispatch, :class:`~skscale._array_api.Namespace` ``ns``): each block
        of rows reduced on its device (:func:`skscale._device.column_stats_on_device`),
        the blocks merged here, with ``prior`` if given.  Both kinds of
        statistics are computed."""
        blocks = _device.column_stats_on_device(X, ns, sample_weight, feature_names, row0)
        parts = [] if prior is None else [prior]
        return cls.combine(parts + [cls(*blocks, X.shape[0])])

    @classmethod
    def from_columns(cls, columns, feature_names=None, what=BOTH, prior=None):
        """Statistics of a DataFrame's columns (:class:`skscale._frames.Columns`),
        each read in its own buffer, as :meth:`from_array` of the frame's
        values gives them (to rounding)."""
        arrays = columns.arrays
        s = np.full((5, len(arrays)), np.nan)
        moments, extremes = "moments" in what, "extremes" in what
        left = list(range(len(arrays)))
        if _compiled.wanted(columns):
            def run(js):
                return [j for j in range(js.start, js.stop)
                        if not _store(s, j, _compiled.one_column_stats_loop(
                            arrays[j], columns.valid[j], moments, extremes))]

            # columns on threads (the loops run free of the GIL)
            left = [j for part in for_each_block(len(arrays), 1, run, rows_per_block=1)
                    for j in part]
        # Infinities and overflows (every column, without the compiled loops)
        # by the numpy path, which reports them.
        for j in left:
            one = cls.from_array(columns.column(j)[:, None], what=what,
                                 feature_names=[j if feature_names is None else feature_names[j]])
            _store(s, j, [getattr(one, f)[0] for f in ("count", "mean", "m2", "min", "max")])
        stats = cls(*s, columns.shape[0])
        return stats if prior is None else prior.merge(stats)

    @classmethod
    def per_batch(cls, X, batch_size, feature_names=None, row0=0):
        """Statistics of each consecutive batch of ``batch_size`` rows of ``X``
        (whose length is a multiple of it), stacked: every field has shape
        ``(n_batches, n_features)``.

        Many small batches are reduced at once through a ``(batches,
        batch_size, n_features)`` view of each row block, so the cost per
        batch is a fraction of a ``from_array`` call.
        """
        n, d = X.shape
        if X.flags.c_contiguous and _compiled.wanted(X):
            s = _compiled.batch_stats_loop(X, np.arange(0, n + 1, batch_size), True, False,
                                      _blocks.n_threads())
            if s is not None:
                return cls(*s[:, 1:], batch_size)
        per_block = max(1, block_rows(d) // batch_size)
        k = max(f for f in range(1, batch_size + 1)
                if batch_size % f == 0 and (f == 1 or f * d <= WIDE))

        def run(batches):
            x = X[batches.start * batch_size:batches.stop * batch_size]
            if x.dtype != np.float64 or not x.flags.c_contiguous:
                x = _copy_into(scratch(x.shape, slot=1), x)
            g = batches.stop - batches.start
            v = x.reshape(g, batch_size // k, k * d)
            total = _fold_back(np.add.reduce(v, axis=1), np.add, k, d)
            if not np.isfinite(total).all():  # NaN or infinity: batch by batch
                first = row0 + batches.start * batch_size
                return _stack([_block_stats(b, None, first + i * batch_size, feature_names)
                               for i, b in enumerate(np.split(x, g))])
            # The corrected two-pass of _block_stats, for g batches at once
            # (moments only: batch normalization needs no extremes).
            mean = total / batch_size
            dev = np.subtract(v, np.tile(mean, k)[:, None, :], out=scratch(v.shape))
            resid = _fold_back(np.add.reduce(dev, axis=1), np.add, k, d)
            m2 = _fold_back(np.einsum("gij,gij->gj", dev, dev), np.add, k, d)
            mean += resid / batch_size
            m2 -= resid * resid / batch_size
            count = np.full((g, d), float(batch_size))
            check_overflow(mean, m2, count, feature_names)
            unknown = np.full((g, d), np.nan)
            return cls(count, mean, m2, unknown, unknown, batch_size)

        return _stack(for_each_block(n // batch_size, d, run, rows_per_block=per_block))

    @classmethod
    def per_batch_on_device(cls, X, ns, batch_size, feature_names=None, row0=0):
        """:meth:`per_batch` of a 2-D array of another namespace: each batch
        reduced on its device by :meth:`from_device`."""
        n = X.shape[0]
        return _stack([cls.from_device(X[i:min(i + batch_size, n), ...], ns,
                                       feature_names=feature_names, row0=row0 + i)
                       for i in range(0, n, batch_size)])

    @classmethod
    def from_sparse(cls, X, sample_weight=None):
        """Statistics of a scipy sparse matrix, implicit zeros included.

        As for dense input, a column is constant exactly when its minimum
        equals its maximum (its mean is then that value and M2 is 0), and a
        column with no value but NaN has count 0, mean NaN and M2 0.
        """
        from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

        mn, mx = min_max_axis(X, axis=0, ignore_nan=True)
        if X.dtype != np.float64:
            # scikit-learn sums in float64 but rounds its results (and wants the
            # weights) in X's dtype: hand it float64 values, sharing the indices.
            X = type(X)((X.data.astype(np.float64), X.indices, X.indptr), shape=X.shape)
        mean, var, count = mean_variance_axis(
            X, axis=0, weights=sample_weight, return_sum_weights=True)
        count = np.asarray(count, dtype=np.float64)
        empty, constant = count == 0, mn == mx
        mn = np.where(empty, np.nan, mn).astype(np.float64)
        mx = np.where(empty, np.nan, mx).astype(np.float64)
        mean = np.where(empty, np.nan, np.where(constant, mn, mean))
        m2 = np.where(empty | constant, 0.0, var * count)
        return cls(count, mean, m2, mn, mx, X.shape[0])

    def merge(self, other):
        """Combine the statistics of two disjoint sets of rows."""
        return ColumnStats.combine([self, other])

    @classmethod
    def combine(cls, parts):
        """Combine the statistics of disjoint sets of rows, all at once.

        The parallel update of Chan, Golub & LeVeque for any number of parts:
        ``n = sum n_i``, ``mean = ref + sum n_i (mean_i - ref) / n`` with
        ``ref`` one part's mean, and ``M2 = sum M2_i + sum n_i (mean_i -
        mean)**2``.  Only differences of means are summed, so the result
        keeps the digits of the spread even far from zero.
        """
        s = _stack(parts)
        n_rows = sum(p.n_rows for p in parts)
        if _compiled.loaded():
            return cls(*_compiled.combine_loop(s.count, s.mean, s.m2, s.min, s.max), n_rows)
        lo, hi = np.fmin.reduce(s.min, axis=0), np.fmax.reduce(s.max, axis=0)
        count = np.add.reduce(s.count, axis=0)
        if np.isnan(count).all():  # no moments asked for
            return cls(count, count.copy(), count.copy(), lo, hi, n_rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            seen = s.count > 0  # an empty part's NaN mean must not leak
            ref = s.mean[seen.argmax(axis=0), np.arange(s.mean.shape[1])]
            dev = np.where(seen, s.mean - ref, 0.0)
            mean = _exact_if_constant(ref + np.add.reduce(s.count * dev, axis=0) / count, lo, hi)
            dev = np.where(seen, s.mean - mean, 0.0)
            spread = np.add.reduce(s.count * dev * dev, axis=0)
        return cls(count, mean, np.add.reduce(s.m2, axis=0) + spread, lo, hi, n_rows)

    def var(self, ddof=0):
        """Variance per column with ``ddof`` delta degrees of freedom.

        NaN where fewer than ``ddof`` (weighted) values were seen.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = self.count - ddof
            return np.where(denom > 0, self.m2 / np.where(denom > 0, denom, 1.0),
                            np.nan)


@np.errstate(over="ignore", invalid="ignore")  # overflow is reported by check_overflow
def _block_stats(X, w, row0, feature_names, what=BOTH):
    """Float64 statistics of one block of rows: the corrected two-pass
    moments and/or the extremes, as ``what`` asks (the others are NaN)."""
    n, d = X.shape
    k = fold(d)
    unknown = np.full(d, np.nan)
    if "moments" not in what:
        lo, hi = _extremes(X)
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            return ColumnStats(unknown, unknown, unknown, lo, hi, n)
        return _block_stats_rare(X, w, row0, feature_names, what)
    if w is None:
        total = column_reduce(np.add, X, k, dtype=np.float64)
        count = np.full(d, float(n))
    else:
        total = w @ X
        count = np.full(d, w.sum())
    if not np.isfinite(total).all():
        return _block_stats_rare(X, w, row0, feature_names, what)
    # Weights break the exactness argument below: pin constants by extremes.
    lo, hi = _extremes(X) if "extremes" in what or w is not None else (unknown, unknown)
    mean = total / count
    if w is None:
        dev = scratch(X.shape)
        xw, wide = widen(X, k), widen(dev, k)
        if xw.shape != wide.shape:  # X not C-contiguous: no widened view
            xw, wide = X, dev
        np.subtract(xw, PerFeature(mean, k, d).for_(dev, wide), out=wide)
        # Sum of squares without a squared temporary; a widened row holds
        # k rows of d features, folded back by the reshape.
        m2 = np.einsum("ij,ij->j", wide, wide).reshape(-1, d).sum(axis=0)
        resid = column_reduce(np.add, dev, k)
    else:
        dev = np.subtract(X, _exact_if_constant(mean, lo, hi), dtype=np.float64)
        resid = w @ dev
        np.multiply(dev, dev, out=dev)
        m2 = w @ dev
    # Corrected two-pass: the deviations' own sum measures the rounding error
    # of the first-pass mean (ulps of |mean|, which at mean 1e8 is far more
    # than ulps of the spread); add it back to both.  On a constant column
    # every deviation is the same small multiple of an ulp, so these sums are
    # exact: the mean comes out as the constant and M2 as 0, exactly.
    with np.errstate(divide="ignore"):
        mean = _exact_if_constant(mean + resid / count, lo, hi)
        m2 = m2 - resid * resid / count
    check_overflow(mean, m2, count, feature_names)
    if "extremes" not in what:  # (computed for the weights alone: a merge must not
        lo = hi = unknown       # take one block's extremes for all the rows')
    return ColumnStats(count, mean, m2, lo, hi, n)


def _compiled_stats(X, what, prior):
    """:meth:`ColumnStats.from_array` by the compiled loops, or None when a
    block holds what the numpy path must skip or report."""
    n, d = X.shape
    n_threads = _blocks.n_threads()
    before = None if prior is None else (prior.count, prior.mean, prior.m2, prior.min, prior.max)
    s = _compiled.column_stats_loop(X, block_bounds(n, d), "moments" in what,
                               "extremes" in what, before, n_threads)
    if s is None:
        return None
    return ColumnStats(*s, n + (0 if prior is None else prior.n_rows))


def _block_stats_rare(X, w, row0, feature_names, what):
    """Statistics of a block holding NaN (skipped) or infinity (an error);
    like the fast path, those not in ``what`` are NaN."""
    n = X.shape[0]
    nan = np.isnan(X)
    raise_non_finite(X, nan, row0, feature_names)
    present = ~nan
    count = present.sum(axis=0, dtype=np.float64) if w is None else w @ present
    total = np.where(present, X, 0.0)
    total = total.sum(axis=0, dtype=np.float64) if w is None else w @ total
    lo, hi = _extremes(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = _exact_if_constant(total / count, lo, hi)
    dev = np.where(present, X - mean, 0.0)
    # The corrected two-pass of the fast path: the deviations' own sum
    # measures the first mean's rounding (ulps of |mean|, which at mean 1e8
    # is far more than ulps of the spread).
    resid = dev.sum(axis=0) if w is None else w @ dev
    np.multiply(dev, dev, out=dev)
    m2 = dev.sum(axis=0) if w is None else w @ dev
    seen = count > 0  # (a column of NaN alone keeps M2 = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = _exact_if_constant(np.where(seen, mean + resid / count, mean), lo, hi)
        m2 = np.where(seen, m2 - resid * resid / count, m2)
    if "moments" in what:  # (extremes alone never overflow)
        check_overflow(mean, m2, count, feature_names)
    unknown = np.full(X.shape[1], np.nan)
    if "moments" not in what:
        count = mean = m2 = unknown
    if "extremes" not in what:
        lo = hi = unknown
    return ColumnStats(count, mean, m2, lo, hi, n)


def _store(s, j, values):
    """Column ``j`` of the stacked fields ``s`` from ``values`` (None: not computed)."""
    if values is None:
        return False
    s[:, j] = values
    return True


def _copy_into(buffer, x):
    buffer[...] = x
    return buffer


def _stack(parts):
    """Stack statistics of parts: ``(n_parts, d)`` fields (parts may be stacks)."""
    d = parts[0].count.shape[-1]
    return ColumnStats(*(np.concatenate([getattr(p, f).reshape(-1, d) for p in parts])
                         for f in ("count", "mean", "m2", "min", "max")),
                       parts[0].n_rows)


def _fold_back(partial, ufunc, k, d):
    """Finish a reduction over a widened axis: ``(g, k * d)`` -> ``(g, d)``."""
    return ufunc.reduce(partial.reshape(partial.shape[0], k, d), axis=1)


def _extremes(X):
    """NaN-ignoring column minimum and maximum, in float64."""
    k = fold(X.shape[1])
    return (column_reduce(np.fmin, X, k).astype(np.float64),
            column_reduce(np.fmax, X, k).astype(np.float64))


def _exact_if_constant(mean, lo, hi):
    """The mean of a constant column is its value, exactly: ``sum / n`` can be
    an ulp off (0.1 seven times), and a constant feature must scale to exactly
    0, not to rounding noise."""
    return np.where(lo == hi, lo, mean)
