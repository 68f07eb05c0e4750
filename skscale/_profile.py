"""What AutoScaler measures of each column, in one pass, mergeable.

A :class:`Profile` is the statistics core's :class:`~skscale.ColumnStats`
(count, mean, M2, min, max) plus what a diagnosis needs beyond them: the
KLL sketches of :mod:`skscale._quantiles` (quantiles, exact while they hold
every value), the number of zeros, whether every value is an integer, and
the distinct values while there are at most two.  Every part merges exactly
(the sketches within their rank error), so a profile of a batch folds into
that of earlier batches, and those of Dask blocks merge in a tree, as the
column statistics do.  It knows nothing of the rules that read it.
"""

import numpy as np

from ._quantiles import Sketches, column, for_columns
from ._stats import ColumnStats

#: The percentiles a profile reports.
PERCENTILES = (1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0)


class Profile:
    """Per-column statistics for choosing a method.

    Parameters
    ----------
    stats : ColumnStats
    sketches : Sketches
    zeros : ndarray of shape (n_features,)
        Number of values equal to 0.
    min_positive : ndarray of shape (n_features,)
        Smallest value above 0 (inf where there is none).
    integral : ndarray of bool, shape (n_features,)
        Whether every non-NaN value is an integer.
    distinct : list of tuple or None
        Per column, its distinct values (sorted) while there are at most
        two, else None.
    """

    def __init__(self, stats, sketches, zeros, min_positive, integral, distinct):
        self.stats, self.sketches = stats, sketches
        self.zeros, self.min_positive = zeros, min_positive
        self.integral, self.distinct = integral, distinct

    @classmethod
    def of(cls, X, feature_names=None, k=200):
        """The profile of a dense 2-D float array; an infinity raises a
        ``ValueError`` naming its column."""
        sketches = Sketches(X.shape[1], k)
        sketches.update(X, feature_names)  # (checks for infinities first)
        stats = ColumnStats.from_array(X, feature_names=feature_names)

        def one(j):
            x = column(X, j)
            x = x[~np.isnan(x)]
            if not x.size:
                return 0, np.inf, True, ()
            lo, hi = x.min(), x.max()
            positive = x[x > 0]
            two = ((x == lo) | (x == hi)).all()
            return (np.count_nonzero(x == 0), positive.min() if positive.size else np.inf,
                    bool((x == np.round(x)).all()),
                    tuple(sorted({float(lo), float(hi)})) if two else None)

        zeros, min_positive, integral, distinct = zip(*for_columns(X, one)) if X.shape[1] \
            else ((), (), (), ())
        return cls(stats, sketches, np.array(zeros, float), np.array(min_positive, float),
                   np.array(integral, bool), list(distinct))

    def merge(self, other):
        """The profile of both sets of rows (a new one)."""
        distinct = [None if a is None or b is None or len(set(a) | set(b)) > 2
                    else tuple(sorted(set(a) | set(b)))
                    for a, b in zip(self.distinct, other.distinct)]
        return Profile(self.stats.merge(other.stats), self.sketches.copy().merge(other.sketches),
                       self.zeros + other.zeros, np.minimum(self.min_positive, other.min_positive),
                       self.integral & other.integral, distinct)

    def measures(self):
        """Per column, a dict of what the rules read: ``count``, ``missing``
        (share of rows), ``min``, ``max``, ``mean``, ``std``, the
        :data:`PERCENTILES` as ``p1`` ... ``p99``, ``iqr``, ``zeros`` (share),
        ``integral``, ``n_values`` (1, 2, or 3 meaning more), ``skew`` (the
        quantile skewness ``(p90 + p10 - 2 p50) / (p90 - p10)``), ``spread``
        (the standard deviation over the one the quartiles imply for normal
        data, ``iqr / 1.349``) and ``far_out`` (the share of values beyond
        three inter-quartile ranges from the quartiles)."""
        s = self.stats
        median, p = self.sketches.quantiles([q for q in PERCENTILES if q != 50.0])
        p = np.insert(p, PERCENTILES.index(50.0), median, axis=0)
        std = np.sqrt(s.var(0))
        far = self._far_out(p)
        out = []
        for j in range(s.count.size):
            m = {"count": int(s.count[j]),
                 "missing": 1 - s.count[j] / s.n_rows if s.n_rows else 0.0,
                 "min": s.min[j], "max": s.max[j], "mean": s.mean[j], "std": std[j]}
            m.update({f"p{q:g}": p[i, j] for i, q in enumerate(PERCENTILES)})
            iqr = m["p75"] - m["p25"]
            d = self.distinct[j]
            m.update(iqr=iqr, zeros=self.zeros[j] / s.count[j] if s.count[j] else 0.0,
                     integral=bool(self.integral[j]) and s.count[j] > 0,
                     min_positive=self.min_positive[j],
                     n_values=3 if d is None else len(d), values=d,
                     skew=_skew(m["p10"], m["p50"], m["p90"]),
                     spread=std[j] / (iqr / 1.349) if iqr > 0 else np.inf,
                     far_out=far[j])
            out.append(m)
        return out

    def _far_out(self, p):
        """Share of values beyond Tukey's far-out fences, from the sketches."""
        q1, q3 = p[PERCENTILES.index(25.0)], p[PERCENTILES.index(75.0)]
        share = []
        for j, s in enumerate(self.sketches._sketches()):
            if s.is_empty():
                share.append(0.0)
                continue
            iqr = q3[j] - q1[j]
            lo, hi = q1[j] - 3 * iqr, q3[j] + 3 * iqr
            share.append(s.get_rank(lo, False) + 1 - s.get_rank(hi, True))
        return np.array(share)


def _skew(p10, p50, p90):
    """Kelly's quantile skewness: 0 for any symmetric distribution, near 0.47
    for the exponential, robust to outliers (unlike the third moment)."""
    width = p90 - p10
    return (p90 + p10 - 2 * p50) / width if width > 0 else 0.0


def skew_after_log(m, offset):
    """Quantile skewness of ``log(x + offset)``: quantiles pass through a
    monotone map, so it is that of the logarithms of the quantiles."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _skew(*(np.log(m[k] + offset) for k in ("p10", "p50", "p90")))
