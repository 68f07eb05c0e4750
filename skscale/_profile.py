"""What AutoScaler measures of each column, in one pass over it.

A :class:`Profile` is the statistics core's :class:`~skscale.ColumnStats`
(count, mean, M2, min, max) plus what a diagnosis needs beyond them, read
from a copy of one column at a time: exact percentiles (as
``numpy.percentile``), the number of zeros, a low percentile of the positive values,
whether every value is an integer, the distinct values while there are at
most two, and the share of values beyond Tukey's far-out fences.  It knows
nothing of the rules that read it.
"""

import numpy as np

from ._quantiles import finite_values, for_columns
from ._stats import ColumnStats

#: The percentiles a profile holds.
PERCENTILES = (1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0)


class Profile:
    """Per-column measures for choosing a method.

    Parameters
    ----------
    stats : ColumnStats
    columns : list of dict
        Per column: ``p1`` ... ``p99`` (the :data:`PERCENTILES`), ``zeros``
        (their number), ``offset`` (the 5th percentile of the positive values,
        a log step's offset that no single small value moves much; inf where
        there is none), ``integral``,
        ``values`` (the distinct values, sorted, while at most two; else
        None) and ``far_out`` (the share beyond three inter-quartile ranges
        from the quartiles).
    """

    def __init__(self, stats, columns):
        self.stats, self.columns = stats, columns

    @classmethod
    def of(cls, X, feature_names=None):
        """The profile of a dense 2-D float array; an infinity raises a
        ``ValueError`` naming its column."""
        stats = ColumnStats.from_array(X, feature_names=feature_names)
        return cls(stats, for_columns(X, lambda j: _column(finite_values(X, j, feature_names))))

    def measures(self):
        """Per column, a dict of what the rules read: ``count``, ``missing``
        (share of rows), ``min``, ``max``, ``mean``, ``std``, the percentiles,
        ``iqr``, ``zeros`` (share), ``offset``, ``integral``,
        ``n_values`` (1, 2, or 3 meaning more), ``values``, ``skew`` (the
        quantile skewness ``(p90 + p10 - 2 p50) / (p90 - p10)``), ``spread``
        (the standard deviation over the one the quartiles imply for normal
        data, ``iqr / 1.349``) and ``far_out``."""
        s = self.stats
        std = np.sqrt(s.var(0))
        out = []
        for j, c in enumerate(self.columns):
            m = {"count": int(s.count[j]),
                 "missing": 1 - s.count[j] / s.n_rows if s.n_rows else 0.0,
                 "min": s.min[j], "max": s.max[j], "mean": s.mean[j], "std": std[j], **c}
            iqr = m["p75"] - m["p25"]
            m.update(iqr=iqr, zeros=c["zeros"] / s.count[j] if s.count[j] else 0.0,
                     integral=c["integral"] and s.count[j] > 0,
                     n_values=3 if c["values"] is None else len(c["values"]),
                     skew=_skew(m["p10"], m["p50"], m["p90"]),
                     spread=std[j] / (iqr / 1.349) if iqr > 0 else np.inf)
            out.append(m)
        return out


def _column(x):
    """The measures of one column's non-NaN values ``x`` beyond the core's."""
    if not x.size:
        return {**{f"p{q:g}": np.nan for q in PERCENTILES}, "zeros": 0,
                "offset": np.inf, "integral": True, "values": (), "far_out": 0.0}
    lo, hi = x.min(), x.max()
    positive = x[x > 0]
    out = {"zeros": int(np.count_nonzero(x == 0)),
           "offset": float(np.percentile(positive, 5)) if positive.size else np.inf,
           "integral": bool((x == np.round(x)).all()),
           "values": tuple(sorted({float(lo), float(hi)}))
           if ((x == lo) | (x == hi)).all() else None}
    with np.errstate(over="ignore", invalid="ignore"):  # (near the float64 limit)
        p = np.percentile(x, PERCENTILES)
        out.update({f"p{q:g}": float(v) for q, v in zip(PERCENTILES, p)})
        iqr = out["p75"] - out["p25"]
        far = (x < out["p25"] - 3 * iqr) | (x > out["p75"] + 3 * iqr)
    out["far_out"] = float(np.count_nonzero(far) / x.size)
    return out


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
