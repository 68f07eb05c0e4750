"""What AutoScaler measures of each column: evidence of its kind and of its shape.

A :class:`Profile` reads a sample of rows (all of them, or a uniform sample
in stream order, :mod:`skscale._sample`) beside the statistics core's
:class:`~skscale.ColumnStats` of every row (count, mean, M2, min, max), one
column at a time:

* **kind** -- the number of distinct values, the share of integers, the
  share held by the twelve commonest values, the share of zeros, whether the
  values run in order (monotone in the sample's stream order), how evenly
  they spread over their range;
* **shape** -- the column's *mid-quantiles* (Parzen's: the quantile
  function through the midpoints of the steps of the empirical
  distribution, so that one row more or less moves each of them a little,
  even on integers with many ties) at fixed levels, and for each
  shape-changing map that applies (the logarithms, Box-Cox, Yeo-Johnson)
  what it would make of them: its distance from the normal shape, its
  quantile skewness and how many values it leaves far out.

Quantiles pass through monotone maps, so a map's effect on the shape is
read from the quantiles alone; only the far-out count maps the sample.
Each level counts as far as the sample supports it (a weight rising from 0
at 10 values beyond it to 1 at 20), so no statistic jumps when one row is
added.  This module knows nothing of the rules that read it.
"""

import numpy as np
from scipy.special import ndtri

from ._quantiles import finite_values, for_columns
from ._stats import ColumnStats

#: The percentiles the report shows (numpy's, linearly interpolated).
PERCENTILES = (1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0)
#: The levels of the mid-quantiles that shapes are judged on.
LEVELS = np.array([0.5, 1, 2, 2.5, 5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 95, 97.5,
                   98, 99, 99.5]) / 100
_NORMAL = ndtri(LEVELS)
_MID, _Q25, _Q75 = (int(np.flatnonzero(np.isclose(LEVELS, p))[0]) for p in (0.5, 0.25, 0.75))
#: The tail levels whose quantile skewness is averaged (with their weights).
_SKEW_LEVELS = (0.25, 0.1, 0.05, 0.025, 0.01)
_PAIRS = [(int(np.flatnonzero(np.isclose(LEVELS, p))[0]),
           int(np.flatnonzero(np.isclose(LEVELS, 1 - p))[0])) for p in _SKEW_LEVELS]
#: The IQR of the standard normal distribution.
NORMAL_IQR = 2 * ndtri(0.75)
#: The lambdas searched for the power maps.
GRIDS = {"box-cox": np.round(np.arange(-3, 3.0001, 0.05), 2),
         "yeo-johnson": np.round(np.arange(-3, 6.0001, 0.05), 2)}
#: A value is a level of the column where it holds at least this share of rows.
LEVEL_SHARE = 0.005
#: Tukey's far-out fences: this many IQRs beyond the quartiles.
FAR = 3.0


class Profile:
    """Per-column measures for choosing a method.

    Parameters
    ----------
    stats : ColumnStats
        The statistics of every row.
    columns : list of dict
        Per column, what :func:`_column` measures on the sample.
    n_sample : int
        Number of rows of the sample.
    """

    def __init__(self, stats, columns, n_sample):
        self.stats, self.columns, self.n_sample = stats, columns, n_sample

    @classmethod
    def of(cls, sample, feature_names=None, stats=None):
        """The profile of ``sample``, a dense 2-D float array of rows in their
        stream order, with ``stats`` the :class:`ColumnStats` of every row
        (None: the sample is every row).  An infinity raises a
        ``ValueError`` naming its column."""
        if stats is None:
            stats = ColumnStats.from_array(sample, feature_names=feature_names)

        def one(j):
            x = finite_values(sample, j, feature_names)
            return _column(x, stats.min[j], stats.max[j])

        return cls(stats, for_columns(sample, one), sample.shape[0])

    @staticmethod
    def stats_of(X, feature_names=None):
        """The :class:`ColumnStats` of every row of ``X`` (an infinity raises a
        ``ValueError`` naming its column)."""
        return ColumnStats.from_array(X, feature_names=feature_names)

    def measures(self):
        """Per column, a dict of what the rules read: ``rows`` (every row
        seen), ``count``, ``missing``
        (share of rows), ``min``, ``max``, ``mean``, ``std`` (of every
        row), ``sample`` (rows of the sample), and from the sample's values:
        ``distinct``, ``values`` (the distinct values while at most two),
        ``integral`` (share of integers), ``top12`` (share held by the twelve
        commonest values), ``levels`` (values holding at least 0.5% of the
        rows each), ``zeros`` (share), ``monotone`` (share of steps
        in one direction, in stream order), ``uneven`` (how far the
        deciles are from an even spread over the range), the
        :data:`PERCENTILES` as ``p1`` ... ``p99``, ``skew`` (Kelly's
        quantile skewness ``(p90 + p10 - 2 p50) / (p90 - p10)``),
        ``far_out`` (share beyond the far-out fences) and ``shapes``."""
        s = self.stats
        std = np.sqrt(s.var(0))
        out = []
        for j, c in enumerate(self.columns):
            m = {"rows": int(s.n_rows), "count": int(s.count[j]),
                 "missing": 1 - s.count[j] / s.n_rows if s.n_rows else 0.0,
                 "min": s.min[j], "max": s.max[j], "mean": s.mean[j], "std": std[j],
                 "sample": self.n_sample, **c}
            m["skew"] = _kelly(m["p10"], m["p50"], m["p90"])
            out.append(m)
        return out


def _column(x, lo, hi):
    """The measures of one column's non-NaN sample values ``x`` (in stream
    order), whose extremes over every row are ``lo`` and ``hi``."""
    n = x.size
    if not n:
        return {"n": 0, "distinct": 0, "values": (), "integral": 1.0, "top12": 1.0, "levels": 0,
                "zeros": 0.0, "monotone": 0.0, "uneven": np.nan, "far_out": 0.0,
                "shapes": {}, "q": np.full(LEVELS.size, np.nan),
                **{f"p{q:g}": np.nan for q in PERCENTILES}}
    values, counts = np.unique(x, return_counts=True)
    steps = np.diff(x)
    with np.errstate(over="ignore", invalid="ignore"):  # (near the float64 limit)
        p = np.percentile(x, PERCENTILES)
        q = mid_quantiles(values, counts, LEVELS)
        span = q[-2] - q[1]  # (the 1% and 99% levels)
        deciles = q[np.isin(LEVELS, np.arange(1, 10) / 10)]
        uneven = float(np.max(np.abs((deciles - q[1]) / span - (np.arange(1, 10) / 10 - 0.01)
                                     / 0.98))) if span > 0 else np.nan
    out = {"n": n, "distinct": int(values.size),
           "values": tuple(float(v) for v in values) if values.size <= 2 else None,
           "integral": float(np.count_nonzero(x == np.round(x)) / n),
           "top12": float(np.sort(counts)[-12:].sum() / n),
           "levels": int(np.count_nonzero(counts >= LEVEL_SHARE * n)),
           "zeros": float(np.count_nonzero(x == 0) / n),
           "monotone": float(max(np.count_nonzero(steps >= 0), np.count_nonzero(steps <= 0))
                             / steps.size) if steps.size else 0.0,
           "uneven": uneven, "q": q,
           **{f"p{k:g}": float(v) for k, v in zip(PERCENTILES, p)}}
    out["shapes"] = shapes(x, q, lo, hi)
    out["far_out"] = out["shapes"]["none"]["far"] / n
    return out


def mid_quantiles(values, counts, levels):
    """The mid-quantiles at ``levels`` of a sample holding ``values``
    (sorted, distinct) ``counts`` times each: the linear interpolation of
    the values at their mid-ranks ``(rows below + count / 2) / n``, the
    extremes beyond."""
    n = counts.sum()
    mid = (np.cumsum(counts) - counts / 2) / n
    return np.interp(levels, mid, values)


def weights(n):
    """How far a sample of ``n`` values supports each of :data:`LEVELS`:
    0 with 10 values or fewer beyond the level, 1 with 20 or more, linear
    between."""
    return np.clip((n * np.minimum(LEVELS, 1 - LEVELS) - 10) / 10, 0, 1)


def fit_to_normal(z, w):
    """``(distance, skew)`` of quantiles ``z`` at :data:`LEVELS` (rows: one
    set per row of a 2-D ``z``) weighted by ``w``.

    ``distance`` is the weighted root mean square of the gaps between the
    quantiles, centred on the median and divided by ``IQR / 1.349`` (the
    standard deviation a normal distribution of that IQR has), and the
    standard normal quantiles: 0 for a normal shape, about 0.5 for a
    uniform one, 1.1 for an exponential one, 2 for a log-normal of sigma 1.
    ``skew`` is the weighted mean of the quantile skewness ``(z[1 - p] +
    z[p] - 2 median) / (z[1 - p] - z[p])`` at p = 25%, 10%, 5%, 2.5% and 1%.
    A shape whose IQR is 0 (or not finite) has distance inf and skew NaN.
    """
    z = np.atleast_2d(z)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        iqr = z[:, _Q75] - z[:, _Q25]
        good = np.isfinite(iqr) & (iqr > 0) & np.isfinite(z).all(axis=1)
        u = (z - z[:, [_MID]]) / (iqr[:, None] / NORMAL_IQR)
        tail = np.ones(LEVELS.size, bool)
        tail[_MID] = False
        distance = np.sqrt(((u - _NORMAL) ** 2 * w)[:, tail].sum(axis=1) / w[tail].sum())
        pw = np.array([w[a] for a, _ in _PAIRS])
        s = np.stack([(z[:, b] + z[:, a] - 2 * z[:, _MID]) / (z[:, b] - z[:, a])
                      for a, b in _PAIRS], axis=1)
        skew = (np.nan_to_num(s) * pw).sum(axis=1) / pw.sum()
    return np.where(good, distance, np.inf), np.where(good, skew, np.nan)


def power(x, family, lam):
    """``x`` through ``family`` ("log", "log1p", "box-cox", "yeo-johnson")
    at ``lam``: broadcast, ``x`` (..., 1) against ``lam`` (k,) gives (..., k).
    The formulas of :class:`skscale.PowerTransformer` without its
    standardization (a monotone map, up to an affine one)."""
    with np.errstate(all="ignore"):
        if family == "log":
            return np.log(x)
        if family == "log1p":
            return np.log1p(x)
        lam = np.asarray(lam, dtype=np.float64)
        if family == "box-cox":
            return np.where(lam == 0, np.log(x), np.expm1(lam * np.log(x)) / np.where(
                lam == 0, 1, lam))
        pos = x >= 0
        a = np.log1p(np.abs(x))
        up = np.where(lam == 0, a, np.expm1(lam * a) / np.where(lam == 0, 1, lam))
        mu = 2 - lam
        down = np.where(mu == 0, -a, -np.expm1(mu * a) / np.where(mu == 0, 1, mu))
        return np.where(pos, up, down)


def shapes(x, q, lo, hi):
    """What each shape-changing map makes of the column: ``{family: {"lam",
    "distance", "skew", "far"}}`` for ``"none"``, and where the values
    allow it (``lo`` and ``hi`` are the extremes of every row) ``"log"``,
    ``"log1p"``, ``"box-cox"`` and ``"yeo-johnson"``, each at the lambda of
    its grid whose quantile skewness is closest to 0 (nearest 1 among
    ties). ``far`` counts the sample's values beyond the far-out fences
    after the map."""
    w = weights(x.size)
    out = {"none": _measure(x, q, None, 1.0, w)}
    families = ["yeo-johnson"]
    if lo > 0:
        families = ["log", "box-cox", *families]
    elif lo >= 0:
        families = ["log1p", *families]
    for family in families:
        if family in GRIDS:
            grid = GRIDS[family]
            _, skew = fit_to_normal(power(q[:, None], family, grid).T, w)
            score = np.where(np.isfinite(skew), np.abs(skew), np.inf)
            if not np.isfinite(score).any():
                continue
            best = np.flatnonzero(score <= score.min() + 1e-12)
            lam = float(grid[best[np.argmin(np.abs(grid[best] - 1))]])
        else:
            lam = 0.0
        out[family] = _measure(x, q, family, lam, w)
    return out


def _measure(x, q, family, lam, w):
    z = q if family is None else power(q, family, lam)
    distance, skew = fit_to_normal(z, w)
    far = 0
    if np.isfinite(distance[0]):
        y = x if family is None else power(x, family, lam)
        iqr = z[_Q75] - z[_Q25]
        with np.errstate(over="ignore", invalid="ignore"):
            far = int(np.count_nonzero((y < z[_Q25] - FAR * iqr) | (y > z[_Q75] + FAR * iqr)))
    return {"lam": lam, "distance": float(distance[0]), "skew": float(skew[0]), "far": far}


def _kelly(p10, p50, p90):
    """Kelly's quantile skewness: 0 for any symmetric distribution, near 0.47
    for the exponential, robust to outliers (unlike the third moment)."""
    width = p90 - p10
    return (p90 + p10 - 2 * p50) / width if width > 0 else 0.0
