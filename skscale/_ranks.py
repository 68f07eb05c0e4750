"""Per-column rank statistics: what the rank-based methods learn from.

The robust, quantile and squashing scalers learn the extremes, the median
and some percentiles of each column: exact in memory (:func:`exact`, the
values ``numpy.percentile`` and ``numpy.median`` give, to the bit, without
sorting each column), or from the mergeable KLL sketches of
:mod:`skscale._quantiles` for ``partial_fit`` and distributed fits
(:func:`sketch`, :func:`from_sketches`).  Infinities are refused, or
skipped where a method maps them itself (squashing).  This module reads
data and fills sketches; it knows nothing of any method's map.
"""

from dataclasses import dataclass

import numpy as np

from . import _maps, _quantiles
from ._blocks import for_each_block
from ._quantiles import column, for_columns


@dataclass
class Ranks:
    """Per-column rank statistics.

    Attributes
    ----------
    count : ndarray of shape (n_features,)
        Number of values the statistics hold (non-NaN; with
        ``skip_infinite``, finite).
    min, max : ndarray of shape (n_features,)
        Extremes of those values; NaN for a column without any.
    median : ndarray of shape (n_features,)
        Their median (numpy's, the mean of the middle two for an even
        count); NaN without values, or when not asked for.
    values : ndarray of shape (n_percentiles, n_features)
        Their percentiles, linearly interpolated as ``numpy.percentile``;
        NaN without values.
    rank_error : float
        0.0 when exact, else the bound of the sketches they came from.
    sketches : Sketches or None
        The sketches they came from, or that an exact pass filled beside
        them; None where none were kept.
    n_rows : int
        Rows seen.
    """

    count: np.ndarray
    min: np.ndarray
    max: np.ndarray
    median: np.ndarray
    values: np.ndarray
    rank_error: float = 0.0
    sketches: object = None
    n_rows: int = 0

    def plain(self):
        """The statistics without the sketches, as a dict of numbers and
        arrays (what an estimator stores; it keeps the sketches apart)."""
        return {k: v for k, v in vars(self).items() if k not in ("sketches", "n_rows")}


def _values(X, j, feature_names, skip_infinite, copy=None):
    """Column ``j``'s values that the statistics count, as a float64 copy
    (``copy``: one already made, which this may return)."""
    x = column(X, j) if copy is None else copy
    with np.errstate(over="ignore", invalid="ignore"):  # (a sum beyond float64: looked at)
        total = np.add.reduce(x)
    if np.isfinite(total):  # (the common case, in one cheap pass)
        return x
    if not skip_infinite:
        return _quantiles.finite_values(X, j, feature_names)  # (an infinity raises)
    return x[np.isfinite(x)]


#: Columns shorter than this are partitioned by numpy; longer ones bucketed.
_SORT_BELOW = 1 << 17
#: Buckets of the selection (a count per bucket: 2 MiB of int64).
_BUCKETS = 1 << 18
#: Size of the strided sample that picks the bucketing.
_SAMPLE = 1 << 14
#: Values per piece of a pass: the temporaries of a piece stay in cache.
_PIECE = 1 << 14


def _bucket_of(how, lo, hi):
    """``(key, offset, factor)``: bucket ``floor((key(x) - offset) * factor)``
    (clipped to the buckets) is non-decreasing in ``x``, uniform in ``x``
    (``"linear"``) or in its float bits (``"bits"``, about ``log|x|``)."""
    with np.errstate(over="ignore"):
        if how == "linear":
            return (lambda x, out: np.multiply(x, 0.5, out=out)), lo * 0.5, \
                _BUCKETS / (hi * 0.5 - lo * 0.5)
        k0, k1 = _maps._ordered_keys(np.array([lo, hi])).astype(np.float64)

        def key(x, out):
            out[...] = _maps._ordered_keys(x)
            return out
        return key, k0, _BUCKETS / (k1 - k0)


def _buckets(x, how, out):
    """The bucket of each value of ``x`` into the int32 array ``out``."""
    key, offset, factor = how
    work = np.empty(min(x.size, _PIECE))
    for a in range(0, x.size, _PIECE):
        w = work[:x[a:a + _PIECE].size]
        key(x[a:a + _PIECE], w)
        np.subtract(w, offset, out=w)
        np.multiply(w, factor, out=w)
        np.clip(w, 0, _BUCKETS - 1, out=w)
        out[a:a + _PIECE] = w
    return out


def order_statistics(x, ranks, extremes=None):
    """``numpy.sort(x)[ranks]`` (``x`` without NaN, ``ranks`` sorted, in
    ``[0, x.size)``; ``extremes`` its minimum and maximum, if known),
    without sorting ``x``: one pass puts each value in
    one of about a million buckets of equal width -- in ``x``, or in its
    float bits where that spreads a strided sample better -- and counts
    them; only the buckets that hold a wanted rank are gathered and sorted.
    The bucket of a value is a non-decreasing function of it, so the counts
    place every rank exactly: the result is the sort's, at a fraction of
    its cost (1,000,000 normal values, 2,000 ranks: about 10,000 values
    sorted).  Where no bucketing spreads the values (most of them equal, or
    crowded in a few buckets), numpy's partition does it."""
    n = x.size
    ranks = np.asarray(ranks, dtype=np.intp)
    if n < _SORT_BELOW or 64 * ranks.size > n:
        return np.partition(x, ranks)[ranks]
    lo, hi = (float(x.min()), float(x.max())) if extremes is None else extremes
    if not lo < hi:
        return np.full(ranks.size, lo)
    ends = (ranks == 0) | (ranks == n - 1)
    if ends.any():  # the extremes are known: bucket only the ranks between
        out = np.where(ranks == 0, lo, hi)
        if not ends.all():
            out[~ends] = order_statistics(x, ranks[~ends], (lo, hi))
        return out
    # Which bucketing gathers fewer values, as a strided sample sees it.
    sample = np.sort(x[:: max(1, n // _SAMPLE)])
    at = sample[np.minimum(ranks * sample.size // n, sample.size - 1)]
    # Buckets span the wanted ranks (with a margin, as the sample sees
    # them); values beyond fall in the first or last bucket.
    m = sample.size
    first = sample[max(0, ranks[0] * m // n - 8)] if ranks[0] * m // n > 8 else lo
    last = sample[min(m - 1, ranks[-1] * m // n + 8)] if ranks[-1] * m // n + 8 < m - 1 else hi
    if not first < last:
        first, last = lo, hi
    best = None
    for how in ("linear", "bits"):
        buckets = _bucket_of(how, first, last)
        if not (np.isfinite(buckets[2]) and buckets[2] > 0):
            continue
        wanted = np.zeros(_BUCKETS, dtype=bool)
        wanted[_buckets(at, buckets, np.empty(at.size, np.int32))] = True
        share = wanted[_buckets(sample, buckets, np.empty(sample.size, np.int32))].mean()
        if best is None or share < best[0]:
            best = (share, buckets)
    if best is None or best[0] > 0.5:  # (sorting half costs about a partition)
        return np.partition(x, ranks)[ranks]
    b = _buckets(x, best[1], np.empty(n, np.intp))
    counts = np.bincount(b, minlength=_BUCKETS)
    ends = np.cumsum(counts)
    home = np.searchsorted(ends, ranks, side="right")  # the bucket of each rank
    wanted = np.zeros(_BUCKETS, dtype=bool)
    wanted[home] = True
    gathered = x[wanted[b]]
    del b
    kept = np.unique(home)  # (sorted, as the gathered values)
    held = counts[kept]
    before = (np.cumsum(held) - held)[np.searchsorted(kept, home)]
    ranks = ranks - (ends - counts)[home] + before  # their ranks among the gathered
    if 2 * gathered.size > n:  # (the sample was misleading)
        return np.partition(gathered, ranks)[ranks]
    # The gathered values span a narrower range: bucket them again (a
    # column of far outliers on both sides needs that once or twice).
    return order_statistics(gathered, ranks)


def percentiles(x, q, median=False, extremes=None):
    """``numpy.percentile(x, q)`` (linear interpolation, ``q`` in percent)
    of the 1-D float64 array ``x`` without NaN, through
    :func:`order_statistics`: the same indices, weights and interpolation
    as numpy's, so the same values to the last bit.  With ``median``,
    ``(numpy.median(x), percentiles)``."""
    n = x.size
    v = (n - 1) * np.true_divide(np.asarray(q, dtype=np.float64), 100)
    prev = np.floor(v)
    nxt = prev + 1
    prev[v >= n - 1] = nxt[v >= n - 1] = n - 1
    prev[v < 0] = nxt[v < 0] = 0
    prev, nxt = prev.astype(np.intp), nxt.astype(np.intp)
    middle = [(n - 1) // 2, n // 2]
    wanted = np.unique(np.concatenate([prev, nxt, middle if median else []]).astype(np.intp))
    values = order_statistics(x, wanted, extremes)
    a, b = values[np.searchsorted(wanted, prev)], values[np.searchsorted(wanted, nxt)]
    gamma = v - prev
    diff = b - a
    result = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    if not median:
        return result
    lo, hi = values[np.searchsorted(wanted, middle)]
    if n % 2:
        return lo, result
    with np.errstate(over="ignore"):
        mid = (lo + hi) / 2  # (numpy's median; halves first where the sum overflows)
    return (mid if np.isfinite(mid) else lo / 2 + hi / 2), result


def _on_threads(n, fn):
    """``[fn(k) for k in range(n)]``, spread over threads."""
    parts = for_each_block(n, 1, lambda ks: [fn(k) for k in range(ks.start, ks.stop)],
                           rows_per_block=1)
    return [r for part in parts for r in part]


#: Columns are copied in groups of about this share of the input.
_GROUP_SHARE = 4


def _column_groups(X):
    """``(columns, copy)`` for groups of the columns of ``X``: ``copy[k]``
    is column ``columns[k]`` as a contiguous float64 array, made by one
    blocked transposition of the group's rows (a third of the cost of
    copying each column alone); each group holds at most a quarter of the
    columns.  Other inputs than a C-ordered array yield ``(None, None)``."""
    if not (isinstance(X, np.ndarray) and X.flags.c_contiguous and X.shape[1] > 1):
        yield None, None
        return
    n, d = X.shape
    g = max(1, d // _GROUP_SHARE)
    buffer = np.empty((g, n))
    for c0 in range(0, d, g):
        cols = range(c0, min(d, c0 + g))
        block = buffer[:len(cols)]
        step = max(1, (1 << 18) // d)
        for r0 in range(0, n, step):
            block[:, r0:r0 + step] = X[r0:r0 + step, c0:c0 + len(cols)].T
        yield cols, block


def exact(X, q, feature_names=None, sketches=None, *, median=False, skip_infinite=False):
    """:class:`Ranks` of the columns of ``X`` (dense, frame columns or
    sparse), exactly as ``numpy.percentile`` (and ``numpy.median``) give
    them on each column's values, a group of columns at a time (a copy of
    those columns, never of the whole input).  Given ``sketches``, the same copy
    of each column also goes into its sketch."""
    X = _quantiles.by_column(X)
    q = np.asarray(q, dtype=np.float64)
    if sketches is not None:
        sketches.n_rows += X.shape[0]

    def one(j, source=None):
        x = _values(X, j, feature_names, skip_infinite, source)
        if sketches is not None:
            sketches.update_column(j, x)
        if x.size == 0:
            return 0, np.nan, np.nan, np.nan, np.full(q.size, np.nan)
        lo, hi = x.min(), x.max()
        # (near the float64 limit an interpolation can overflow: the caller names it)
        with np.errstate(over="ignore", invalid="ignore"):
            m, p = percentiles(x, q, True, (lo, hi)) if median else \
                (np.nan, percentiles(x, q, extremes=(lo, hi)))
        return x.size, lo, hi, m, p

    results = []
    for cols, block in _column_groups(X):
        if block is None:
            results += for_columns(X, one)
            break
        results += _on_threads(len(cols), lambda k: one(cols[k], block[k]))
    fields = [np.array([r[i] for r in results], dtype=np.float64) for i in range(4)]
    values = np.array([r[4] for r in results], dtype=np.float64).reshape(-1, q.size).T
    return Ranks(*fields, values, sketches=sketches, n_rows=X.shape[0])


def sketch(X, sketches, feature_names=None, *, skip_infinite=False):
    """Fold the rows of ``X`` into ``sketches`` (one per column), the values
    that :func:`exact` counts.  Every column is read (and an infinity
    refused, unless skipped) before any sketch changes."""
    X = _quantiles.by_column(X)
    parts = for_columns(X, lambda j: _values(X, j, feature_names, skip_infinite))
    for j, x in enumerate(parts):
        sketches.update_column(j, x)
    sketches.n_rows += X.shape[0]
    return sketches


def from_sketches(batch, q, *, median=False, prior=None):
    """:class:`Ranks` as the sketches ``batch`` give them, merged into a copy
    of ``prior``'s sketches where given (a call that fails later leaves
    those as they were): exact while a sketch holds all its values, else
    within ``rank_error``.  ``q`` may be a function of the number of rows."""
    sketches = batch if prior is None else prior.sketches.copy().merge(batch)
    q = np.asarray(q(sketches.n_rows) if callable(q) else q, dtype=np.float64)
    kll = sketches._sketches()
    count = np.array([s.n for s in kll], dtype=np.float64)
    lo = np.array([np.nan if s.is_empty() else s.get_min_value() for s in kll])
    hi = np.array([np.nan if s.is_empty() else s.get_max_value() for s in kll])
    med, values = sketches.quantiles(q)
    return Ranks(count, lo, hi, med if median else np.full_like(med, np.nan), values,
                 sketches.rank_error_now(), sketches, sketches.n_rows)


def of_memory(X, q, feature_names=None, *, exactly, prior=None, k=_quantiles.SKETCH_SIZE,
              keep_sketch=False, median=True, skip_infinite=False):
    """:class:`Ranks` of in-memory rows (dense, a frame's columns or sparse):
    ``exactly`` (a fit), :func:`exact` -- and the sketches filled from the
    same copies where ``keep_sketch``; else the rows folded into sketches of
    size ``k``, merged with ``prior``'s.  ``q`` may be a function of the
    number of rows (the quantile transform's levels depend on it)."""
    d = X.shape[1]
    if exactly:
        qs = q(X.shape[0]) if callable(q) else q
        sketches = _quantiles.Sketches(d, k) if keep_sketch else None
        return exact(X, qs, feature_names, sketches, median=median,
                     skip_infinite=skip_infinite)
    batch = sketch(X, _quantiles.Sketches(d, k), feature_names, skip_infinite=skip_infinite)
    return from_sketches(batch, q, median=median, prior=prior)
