"""Mergeable statistics of the power transforms' likelihood in lambda.

The profile log-likelihood of a power transform ``psi_lambda`` (Yeo-Johnson
or Box-Cox) of a column, as scipy and scikit-learn define it, is

    llf(lambda) = -n/2 log var(psi_lambda(x)) + (lambda - 1) S

with ``S = sum(sign(x) log1p|x|)`` (Yeo-Johnson) or ``sum(log x)`` (Box-Cox).
Everything it needs merges: ``n`` and ``S`` add up, and the variance is the
M2 of Chan, Golub & LeVeque -- per value of lambda.  This module holds

* :class:`Frame` -- a column's reference point ``c``, which keeps the
  transformed values accurate: each is held as ``delta = (psi(x) - psi(c)) /
  psi'(c)``, close to ``x - c`` near ``c`` and computed without the
  cancellation of ``psi(x) - psi(c)`` (``log1p`` of ``(x - c) / (1 + c)``,
  then ``expm1``), so that data at 1e8 with unit spread keep all their
  digits; ``log psi'(c)`` enters the likelihood exactly, in logarithms,
  so nothing overflows that the transformed data would not;
* :func:`moments` -- count, mean and M2 of ``delta`` and the co-moment with
  its derivative in lambda, for any lambdas, over a set of values: what a
  likelihood and its slope need;
* :class:`LambdaStats` -- those moments on a fixed grid of lambda for every
  column, mergeable across batches and Dask blocks, and the lambda they give
  (interpolated between grid points with the slopes);
* :func:`maximize` -- the exact maximum of one column's likelihood, by a few
  passes over it: bracket, then the root of the slope.

It knows nothing of estimators; ``_power`` turns its lambdas into a map.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

def _grid():
    """Steps of 1/4 from -3 to 5, then steps growing by a fifth each, out to
    about -100 and 102: symmetric about 1 (Yeo-Johnson's lambda and ``2 -
    lambda`` swap with the sign of the data)."""
    offsets = list(0.25 * np.arange(17))
    step = 0.25
    while offsets[-1] < 100:
        step *= 1.2
        offsets.append(offsets[-1] + step)
    offsets = np.array(offsets)
    return np.concatenate([1.0 - offsets[:0:-1], 1.0 + offsets])


#: The grid of lambda of the streamed statistics (79 values).
GRID = _grid()

#: Beyond this change of log M2 between neighbouring grid points, no
#: polynomial interpolates it: the values span too many orders of magnitude.
_STEEP = 50.0
#: Values per piece of :func:`moments`: its temporaries stay in cache.
_PIECE = 1 << 12
#: Points of :func:`solve` closer than this (relative) interpolate the
#: slope by its secant, not the cubic through the log-variances.
_CLOSE = 1e-3
#: Below this |lambda t|, d/dlambda of expm1(lambda t) / lambda by its series.
_SERIES = 1e-3


def bounds(method, lo, hi, dtype=np.float64):
    """The lambdas a column of values in ``[lo, hi]`` is searched over.

    Yeo-Johnson: scipy's (``yeojohnson_normmax``): where the transform of
    values up to 20 times the largest magnitude stays within half the
    exponent range of ``dtype``, so its variance is finite (and at most 1000
    in magnitude, for values so close to 0 that no lambda overflows).  Box-Cox (which
    scipy searches without bounds and then pulls back to keep the
    transformed extremes below ``max / 1e4``): the same half range for the
    extremes themselves, and at most 1000 in magnitude.
    """
    info = np.finfo(dtype)
    log_eps = math.log(info.eps)
    log_tiny = (math.log(info.tiny) - log_eps) / 2
    log_max = (math.log(info.max) + log_eps) / 2
    if method == "box-cox":
        up = [log_max / math.log(hi)] if hi > 1 else []
        down = [log_max / math.log(lo)] if lo < 1 else []
        return max([-1e3] + down), min([1e3] + up)
    with np.errstate(over="ignore"):
        log1p_max = math.log1p(min(20 * max(abs(lo), abs(hi)), info.max))
    # (values so close to 0 that no lambda overflows: at most 1000 as for Box-Cox)
    lb, ub = (max(-1e3, log_tiny / log1p_max), min(1e3, log_max / log1p_max)) \
        if log1p_max > 0 else (-1e3, 1e3)
    if hi < 0:
        lb, ub = 2 - ub, 2 - lb
    elif lo < 0:
        lb, ub = max(2 - ub, lb), min(2 - lb, ub)
    return lb, ub


@dataclass
class Frame:
    """Where a column's transformed values are measured from.

    ``delta(x) = (psi(x) - psi(c)) / (K A)`` with ``K = psi'(c)`` the slope
    of the transform at ``c``: about ``(x - c) / A``, of order 1 whatever
    the magnitude of the data, so its square never overflows.  Yeo-Johnson
    with ``c < 0`` is worked in the mirror image (``psi_lambda(x) =
    -psi_{2-lambda}(-x)``): ``sign`` is -1, ``lambda' = 2 - lambda`` and
    ``c' = -c``.  ``A = 1 + c'`` (Box-Cox: ``c``) and ``L = log A``; then
    for ``sign * x >= 0`` (the side of ``c``)::

        delta = sign * g(lambda', t),  t = log1p((x - c) * sign / A)

    and on the other side (``sign * x < 0``, Yeo-Johnson only), with
    ``u = log1p|x|``::

        delta = -sign * (exp(-lambda' L) g(2 - lambda', u) + g(-lambda', L))

    where ``g(l, t) = expm1(l t) / l`` (``t`` at ``l = 0``).  ``log(K A) =
    lambda' L``.
    """

    method: str
    c: float
    sign: float = 1.0
    A: float = 1.0
    L: float = 0.0

    @classmethod
    def at(cls, method, c):
        """The frame of reference point ``c`` (Box-Cox: ``c > 0``)."""
        c = float(c)
        if method == "box-cox":
            return cls(method, c, 1.0, c, math.log(c))
        sign = 1.0 if c >= 0 else -1.0
        return cls(method, c, sign, 1.0 + abs(c), math.log1p(abs(c)))

    def oriented(self, lam):
        """``lambda'``: ``lambda`` or, mirrored, ``2 - lambda``."""
        return np.asarray(lam, np.float64) if self.sign > 0 else 2.0 - np.asarray(lam, np.float64)

    def log_k(self, lam):
        """``log(K A)`` (``delta`` is held in units of ``A``) and its
        derivative in ``lambda``."""
        return self.oriented(lam) * self.L, self.sign * self.L * np.ones_like(
            np.asarray(lam, np.float64))

    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def split(self, x):
        """``(t, u)``: the values of ``x`` (finite, float64) as the two
        branches take them (beyond float64: inf or NaN, which the
        likelihood treats as out of reach)."""
        if self.method == "box-cox":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log1p((x - self.c) / self.A), x[:0]
        near = x * self.sign >= 0
        if near.all():
            return np.log1p((x - self.c) * (self.sign / self.A)), x[:0]
        return (np.log1p((x[near] - self.c) * (self.sign / self.A)),
                np.log1p(np.abs(x[~near])))

    def branches(self, lam):
        """Per branch, ``(l, alpha, alpha_l, l_l, beta, beta_l)`` of
        ``delta = alpha g(l, v) + beta`` and ``d delta / d lambda = alpha_l
        g + alpha l_l g_l(l, v) + beta_l`` for the lambdas ``lam``."""
        lp = self.oriented(lam)
        s, L = self.sign, self.L
        zero = np.zeros_like(lp)
        near = (lp, s + zero, zero, s + zero, zero, zero)
        if self.method == "box-cox":
            return near, None
        with np.errstate(over="ignore", invalid="ignore"):  # (far out: inf, out of reach)
            k1 = np.exp(-lp * L)
            far = (2.0 - lp, -s * k1, L * k1, -s + zero, -s * g(-lp, L), g_l(-lp, L))
        return near, far


def g(lam, t):
    """``expm1(lam t) / lam`` (``t`` where ``lam`` is 0), broadcast."""
    lam, t = np.broadcast_arrays(np.asarray(lam, np.float64), np.asarray(t, np.float64))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = np.expm1(lam * t) / lam
    return np.where(lam == 0, t, out)


def g_l(lam, t, e=None):
    """``d/dlam expm1(lam t) / lam`` (``e = expm1(lam t)`` if known): ``(t
    (1 + e) - e / lam) / lam``, or its series ``t**2 (1/2 + w/3 + w**2/8 +
    w**3/30 + w**4/144)`` in ``w = lam t`` where ``|w|`` is below 1e-3 (the
    difference would cancel)."""
    lam, t = np.broadcast_arrays(np.asarray(lam, np.float64), np.asarray(t, np.float64))
    w = lam * t
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        e = np.expm1(w) if e is None else e
        out = (t * (1 + e) - e / lam) / lam
        small = np.abs(w) < _SERIES
        if small.any():
            ws = w[small]
            out[small] = t[small] ** 2 * (0.5 + ws * (1 / 3 + ws * (1 / 8 + ws * (
                1 / 30 + ws / 144))))
    return out


def _branch_moments(v, branch, raw=False, compiled=False):
    """``(n, mean, M2, mean_l, C)`` per lambda of ``delta`` over the values
    ``v`` of one branch (shape ``(len(lam),)`` each).

    The moments of ``g(l, v)`` and of ``g_l(l, v)`` are taken first
    (two-pass within each piece, merged by Chan's update); ``delta`` is
    affine in ``g`` and its slope affine in ``(g, g_l)``, so its moments
    follow exactly.  Where ``|l v| < 1e-3`` for a whole row, ``g_l`` comes
    from its series (the difference would cancel there); elsewhere the
    difference loses about ``eps / |l v|`` of the small terms only, which
    weigh nothing in the sums.  With ``compiled`` (and one lambda), the
    compiled loop of :func:`skscale._compiled.power_moments_loop` does it
    in one read of ``v``.
    """
    l, alpha, alpha_l, l_l, beta, beta_l = (np.asarray(a, np.float64) for a in branch)
    G = l.size
    if v.size == 0:
        return [np.zeros(G) for _ in range(5)]
    if compiled and G == 1:
        from . import _compiled

        series = abs(float(l[0])) * float(np.abs(v).max()) < _SERIES
        got = [np.array([a]) for a in _compiled.power_moments_loop(v, l[0], series)]
        return got if raw else _affine(got, branch)
    lc = l[:, None]
    zero = l == 0
    with np.errstate(divide="ignore"):
        inv = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, l))[:, None]  # (a product is cheaper)
    series = np.abs(l) * float(np.abs(v).max()) < _SERIES
    # g_l = (t (1 + e) - g) / l: the division applied to its sums, not to
    # every value (rows of l = 0 or of the series hold g_l itself)
    scale_l = np.where(zero | series, 1.0, inv[:, 0])
    piece = max(_PIECE, (1 << 16) // G)
    parts = []
    e, gl = np.empty((G, min(piece, v.size))), np.empty((G, min(piece, v.size)))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for a in range(0, v.size, piece):
            t = v[None, a:a + piece]
            m = t.shape[1]
            ee, gg = e[:, :m], gl[:, :m]
            np.multiply(lc, t, out=ee)
            w = ee.copy() if series.any() else None
            np.expm1(ee, out=ee)
            np.multiply(ee, t, out=gg)
            np.add(gg, t, out=gg)                      # t (1 + e)
            np.multiply(ee, inv, out=ee)               # g
            np.subtract(gg, ee, out=gg)                # g_l / scale_l
            if zero.any():
                ee[zero] = t
                gg[zero] = t * t / 2
            if w is not None:
                ws = w[series]
                gg[series] = t * t * (0.5 + ws * (1 / 3 + ws * (1 / 8 + ws * (1 / 30 + ws / 144))))
            mean = ee.sum(axis=1) / m
            np.subtract(ee, mean[:, None], out=ee)    # deviations of g
            resid = ee.sum(axis=1)
            mean_l = gg.sum(axis=1) * scale_l / m
            # (a product in place, then numpy's pairwise sum: einsum took
            # twice as long; BLAS's threads would fight the kernels' own)
            cm = np.multiply(gg, ee, out=gg).sum(axis=1) * scale_l
            m2 = np.multiply(ee, ee, out=ee).sum(axis=1)
            m2 -= resid * resid / m
            cm -= mean_l * resid
            parts.append((np.full(G, float(m)), mean + resid / m, m2, mean_l, cm))
    got = _combine(parts)
    return got if raw else _affine(got, branch)


def _affine(raw, branch):
    """The moments of ``delta = alpha g + beta`` (and of its slope, ``alpha_l
    g + alpha l_l g_l + beta_l``) from those of ``g`` and ``g_l``."""
    n, mg, m2g, mgl, cg = raw
    l, alpha, alpha_l, l_l, beta, beta_l = (np.asarray(a, np.float64) for a in branch)
    # (beyond float64 for lambdas far out: those moments are inf or NaN, and
    # the likelihood there -inf)
    with np.errstate(over="ignore", invalid="ignore"):
        return [n, alpha * mg + beta, alpha * alpha * m2g,
                alpha_l * mg + alpha * l_l * mgl + beta_l,
                alpha * (alpha_l * m2g + alpha * l_l * cg)]


def _combine(parts):
    """Chan's update of ``(n, mean, M2, mean_l, C)`` tuples (arrays per lambda)."""
    n, mean, m2, mean_l, cm = (np.array(p, np.float64) for p in parts[0])
    for nb, mb, m2b, mlb, cmb in parts[1:]:
        total = n + nb
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            w = np.where(total > 0, n * nb / np.where(total > 0, total, 1), 0.0)
            d, dl = mb - mean, mlb - mean_l
            f = np.where(total > 0, nb / np.where(total > 0, total, 1), 0.0)
            m2 = m2 + m2b + d * d * w
            cm = cm + cmb + d * dl * w
            mean = np.where(nb > 0, np.where(n > 0, mean + d * f, mb), mean)
            mean_l = np.where(nb > 0, np.where(n > 0, mean_l + dl * f, mlb), mean_l)
        n = total
    return [n, mean, m2, mean_l, cm]


def moments(frame, split, lam, by_branch=False, compiled=False):
    """``(n, mean, M2, mean_l, C)`` of ``delta`` over the values that
    ``split = frame.split(x)`` holds, for each of the lambdas ``lam``:
    their count, the mean and sum of squared deviations of ``delta``, the
    mean of ``d delta / d lambda`` and the co-moment of the two.  Two-pass
    within pieces of the values, merged by Chan's update: exact to
    rounding whatever the offset of the data.  With ``by_branch``, the
    moments of ``g`` and ``g_l`` (before the affine map of each side, see
    :class:`Frame`) of the values on the side of the reference point and of
    the others, apart (shape ``(2, 5, len(lam))``).  ``compiled``: by the
    compiled loop, for one lambda (see :func:`_branch_moments`)."""
    lam = np.atleast_1d(np.asarray(lam, np.float64))
    if lam.size == 0:
        return np.zeros((2, 5, 0)) if by_branch else [np.zeros(0) for _ in range(5)]
    # (beyond float64 at some lambdas: inf or NaN there, which the likelihood
    # treats as out of reach)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        near, far = frame.branches(lam)
        parts = [_branch_moments(split[0], near, by_branch, compiled)]
        if far is not None and split[1].size:
            parts.append(_branch_moments(split[1], far, by_branch, compiled))
        if by_branch:
            empty = [np.zeros(lam.size) for _ in range(5)]
            return np.array([parts[0], parts[1] if len(parts) > 1 else empty])
        return _combine(parts)


def log_likelihood(frame, n, S, m2, cm, lam):
    """``(llf, dllf/dlambda)`` from the moments (arrays per lambda)."""
    log_k, dlog_k = frame.log_k(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        llf = -n / 2 * (2 * log_k + np.log(m2 / n)) + (lam - 1.0) * S
        slope = -n * (dlog_k + cm / m2) + S
    bad = ~(np.isfinite(llf) & np.isfinite(slope) & (m2 > 0))
    return np.where(bad, -np.inf, llf), np.where(bad, np.nan, slope)


def log_sum(method, x, frame=None, split=None):
    """``S``: ``sum(sign(x) log1p|x|)`` (Yeo-Johnson) or ``sum(log x)``;
    given the values' ``split`` in ``frame``, from its logarithms (``t =
    log1p|x| - L`` on the side of the reference point, and ``u = log1p|x|``
    on the other), without computing them again."""
    if split is not None:
        t, u = split
        near = frame.sign * (float(t.sum()) + t.size * frame.L)
        return near - frame.sign * float(u.sum()) if method != "box-cox" else near
    if method == "box-cox":
        return float(np.log(x).sum())
    return float((np.sign(x) * np.log1p(np.abs(x))).sum())


def solve(evaluate, frames, S, lo, hi, active, tol=1e-10, max_passes=100, start=None,
          curvature=None):
    """The lambda of each active column that maximizes its likelihood
    within ``[lo, hi]``, and the moments of ``delta`` there.

    ``evaluate(lam, active)`` returns the moments ``(n, mean, M2, mean_l,
    C)`` (arrays over the columns) of the columns marked ``active`` at their
    own lambdas ``lam``: one pass over the data, wherever it lives (in
    memory or on Dask workers), so both find the same lambdas.  From
    ``lambda = 1`` (clipped into the bounds) the slope says which way to
    go; steps find where it changes sign (or reach a bound, which is then
    the answer, as for scipy's bounded search): each one twice the last, or,
    where the slope falls towards 0 and the secant of the two latest slopes
    says its root is farther, half as far again as that, up to four times
    the last (a pass fewer where a start was off).  Then
    each pass takes the maximum of the likelihood interpolated on the
    bracket (the log-variance by the cubic through its values and slopes
    at both ends), bisecting instead when that did not halve the bracket,
    until the step is below ``tol`` relative (the points close together
    take the secant of the slopes instead, which rounding spares): about
    six passes in all.
    The root of the slope is found to far more digits than the maximum of
    the likelihood itself could be (which is flat there to rounding).

    Given a ``start`` near the root (see :func:`warm_start`) and the
    ``curvature`` of the slope there (its derivative in lambda per value),
    the search starts there and its first step goes half as far again as
    the Newton step: it brackets the root with the second pass, closely
    enough for two or three more.  The result is the same root: only the
    path to it changes.
    """
    d = len(frames)
    first = 1.0 if start is None else np.where(np.isfinite(start), start, 1.0)
    lam = np.where(active, np.clip(first, lo, hi), np.nan)
    out = np.full((5, d), np.nan)
    sigma_l = np.array([f.sign * f.L for f in frames])  # d log K / d lambda

    def point(where, at):
        """Evaluate at ``at`` (where ``where``): slope, h, h' and moments."""
        got = np.full((5, d), np.nan)
        if where.any():
            got[:, where] = np.asarray(evaluate(np.where(where, at, np.nan), where))[:, where]
        n, mean, m2, mean_l, cm = got
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.log(m2 / n)
            dh = 2 * cm / m2
            slope = -n * (sigma_l + cm / m2) + S
        slope = np.where(np.isfinite(slope) & (m2 > 0), slope, np.nan)
        return slope, h, dh, got

    slope, h, dh, got = point(active, lam)
    out[:, active] = got[:, active]
    done = ~active | (slope == 0)
    # A column whose slope cannot be evaluated even at lambda = 1 (its
    # values too far apart for float64) keeps lambda = 1's moments.
    done |= np.isnan(slope)
    direction = np.where(slope > 0, 1.0, -1.0)
    a, sa, ha, dha = lam.copy(), slope.copy(), h.copy(), dh.copy()
    b, sb, hb, dhb = (np.full(d, np.nan) for _ in range(4))
    step = np.ones(d)
    if curvature is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = 1.5 * np.abs(slope / (curvature * _n(out)))
        floor = 1e-3 * np.maximum(1.0, np.abs(lam))
        # (a slope that does not fall, as a maximum's should: the plain steps)
        usable = np.isfinite(newton) & (curvature < 0)
        step = np.where(usable, np.clip(newton, floor, 1.0), 1.0)
    searching = ~done
    passes = 1
    while searching.any() and passes < max_passes:
        nxt = np.clip(a + direction * step, lo, hi)
        s2, h2, dh2, got = point(searching, nxt)
        passes += 1
        turned = searching & ((np.isnan(s2)) | (s2 * direction < 0) | (s2 == 0))
        at_bound = searching & ~turned & ((nxt == lo) | (nxt == hi))
        # the maximum at a bound: rising all the way
        lam[at_bound] = nxt[at_bound]
        out[:, at_bound] = got[:, at_bound]
        done |= at_bound
        b[turned], sb[turned], hb[turned], dhb[turned] = nxt[turned], s2[turned], \
            h2[turned], dh2[turned]
        exact = turned & (s2 == 0)
        lam[exact], done[exact] = nxt[exact], True
        out[:, exact] = got[:, exact]
        going = searching & ~turned & ~at_bound
        # The next step: twice the last, or up to four times where half as
        # far again as the secant of the two latest slopes reaches (a slope
        # that falls nearly linearly, as where a subsample's start was off,
        # is bracketed by the next pass); never less than twice, so a slope
        # that decays slowly is bracketed as fast as by doubling.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            secant = 1.5 * np.abs(s2 * (nxt - a) / (s2 - sa))
        falling = np.isfinite(secant) & (np.abs(s2) < np.abs(sa))
        step[going] = np.where(falling, np.clip(secant, 2 * step, 4 * step), 2 * step)[going]
        a[going], sa[going], ha[going], dha[going] = nxt[going], s2[going], h2[going], \
            dh2[going]
        searching = going
    # Order each bracket: lo side rising (slope > 0), hi side falling.
    flip = direction < 0
    for x, y in ((a, b), (sa, sb), (ha, hb), (dha, dhb)):
        x[flip], y[flip] = y[flip].copy(), x[flip].copy()
    refining = ~done
    previous = np.full(d, np.nan)
    best = np.full(d, np.nan)
    best_got = np.full((5, d), np.nan)
    # The two latest points (at first: the bracket's ends).
    p1, h1, d1 = a.copy(), ha.copy(), dha.copy()
    p2, h2_, d2 = b.copy(), hb.copy(), dhb.copy()
    rounds = 0
    while refining.any() and passes < max_passes:
        # The root of the cubic through the two latest points (values and
        # slopes), where it falls inside the bracket: superlinear, like a
        # secant method with slopes; else the cubic on the bracket; else (or
        # after 20 rounds) its middle.
        width = b - a
        target = 2 * (S / _n(out) - sigma_l)
        s_new = _hermite_root(a, b, ha, hb, dha, dhb, target)
        mid = np.where(np.isfinite(s_new), a + np.clip(s_new, 1e-9, 1 - 1e-9) * width, 0.5 * (a + b))
        latest = _hermite_roots(p1, p2, h1, h2_, d1, d2, target)
        inside = np.isfinite(latest) & (latest > a) & (latest < b) & (rounds > 0)
        mid = np.where(inside, latest, mid)
        if rounds >= 20:
            mid = 0.5 * (a + b)
        # Where the next point would be within ``tol`` of the latest one,
        # the latest is the root to that tolerance (and its moments known):
        # no pass needed to confirm it.
        settled = refining & (rounds > 0) & (np.abs(mid - p2) <= tol * np.maximum(
            1.0, np.abs(mid)))
        lam[settled] = best[settled]
        out[:, settled] = best_got[:, settled]
        refining &= ~settled
        if not refining.any():
            break
        s2, h2, dh2, got = point(refining, mid)
        p1, h1, d1 = np.where(refining, p2, p1), np.where(refining, h2_, h1), \
            np.where(refining, d2, d1)
        p2, h2_, d2 = np.where(refining, mid, p2), np.where(refining, h2, h2_), \
            np.where(refining, dh2, d2)
        passes += 1
        rounds += 1
        best[refining], best_got[:, refining] = mid[refining], got[:, refining]
        up = refining & ~np.isnan(s2) & (s2 > 0)
        down = refining & ~up
        a[up], sa[up], ha[up], dha[up] = mid[up], s2[up], h2[up], dh2[up]
        b[down], sb[down], hb[down], dhb[down] = mid[down], s2[down], h2[down], dh2[down]
        scale = tol * np.maximum(1.0, np.abs(mid))
        small = ((b - a) <= scale) | (np.abs(mid - previous) <= scale)
        previous = np.where(refining, mid, previous)
        stop = refining & (small | (s2 == 0))
        lam[stop] = mid[stop]
        out[:, stop] = got[:, stop]
        refining &= ~stop
    lam[refining] = best[refining]  # (out of passes: the last point)
    out[:, refining] = best_got[:, refining]
    return lam, out


#: Values of each column's subsample in :func:`warm_start`.
SAMPLE = 1 << 12


def warm_start(frames, splits, lo, hi, active, compiled=False):
    """``(start, curvature)`` for :func:`solve` over columns in memory (their
    :meth:`Frame.split`), or ``(None, None)`` where they are too short to
    gain: the root of the likelihood's slope on every ``k``-th value of each
    branch (about :data:`SAMPLE` values), found to ``1e-6``, and the
    derivative of that slope per value there (by central differences).  A
    few passes over 1/k of the data, which leave the exact search about
    four passes instead of eight."""
    sizes = [t.size + u.size for t, u in splits]
    every = max(sizes, default=0) // SAMPLE
    if every < 4:
        return None, None
    sub = [(t[::every], u[::every]) for t, u in splits]
    n = np.array([t.size + u.size for t, u in sub], dtype=np.float64)
    active = active & (n > 0)
    S = np.array([log_sum(f.method, None, f, sp) for f, sp in zip(frames, sub)])
    evaluate = in_memory(frames, sub, compiled)
    lam, _ = solve(evaluate, frames, S, lo, hi, active, tol=1e-6)
    h = 1e-3 * np.maximum(1.0, np.abs(lam))
    lam_lo, lam_hi = np.maximum(lam - h, lo), np.minimum(lam + h, hi)
    sigma_l = np.array([f.sign * f.L for f in frames])

    def slope(at):
        n_, _, m2, _, cm = np.asarray(evaluate(np.where(active, at, np.nan), active))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (-n_ * (sigma_l + cm / m2) + S) / n_

    with np.errstate(divide="ignore", invalid="ignore"):
        curvature = (slope(lam_hi) - slope(lam_lo)) / (lam_hi - lam_lo)
    return np.where(active, lam, np.nan), np.where(active, curvature, np.nan)


def _n(moments):
    return moments[0]


def _hermite_root(a, b, ha, hb, dha, dhb, target):
    """Where, in ``[0, 1]`` of ``[a, b]``, the slope of the cubic through
    ``(a, ha)``, ``(b, hb)`` with slopes ``dha``, ``dhb`` equals
    ``target`` (NaN where it cannot be found)."""
    w = b - a
    A = 6 * (ha - hb) + 3 * w * (dha + dhb)
    B = 6 * (hb - ha) - w * (4 * dha + 2 * dhb)
    C = w * (dha - target)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = np.sqrt(np.maximum(B * B - 4 * A * C, 0.0))
        q = -0.5 * (B + np.copysign(disc, B))
        r1, r2 = q / A, C / q
        lin = -C / B
        secant = (target - dha) / (dhb - dha)
    inside = lambda r: np.isfinite(r) & (r >= 0) & (r <= 1)
    got = np.where(np.abs(A) < 1e-12 * (np.abs(B) + np.abs(C)),
                   np.where(inside(lin), lin, np.nan),
                   np.where(inside(r1), r1, np.where(inside(r2), r2, np.nan)))
    # (close together: the secant of the slopes, as in _hermite_roots)
    close = np.abs(w) < _CLOSE * np.maximum(1.0, np.abs(b))
    return np.where(close, np.where(inside(secant), secant, np.nan), got)


def _hermite_roots(x1, x2, h1, h2, d1, d2, target):
    """The root nearest ``x2`` of ``H'(x) = target`` for the cubic ``H``
    through ``(x1, h1)``, ``(x2, h2)`` with slopes ``d1``, ``d2``, anywhere
    on the line (NaN where there is none)."""
    w = x2 - x1
    A = 6 * (h1 - h2) + 3 * w * (d1 + d2)
    B = 6 * (h2 - h1) - w * (4 * d1 + 2 * d2)
    C = w * (d1 - target)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = B * B - 4 * A * C
        root = np.sqrt(np.maximum(disc, 0.0))
        q = -0.5 * (B + np.copysign(root, B))
        r1, r2 = q / A, C / q
        lin = -C / B
        s = np.where(np.abs(r1 - 1) < np.abs(r2 - 1), r1, r2)
        s = np.where(np.abs(A) < 1e-12 * (np.abs(B) + np.abs(C)), lin, s)
        s = np.where(disc < 0, np.nan, s)
        # Close together, h2 - h1 is mostly the rounding of h: the secant of
        # the slopes (exact to rounding) is the better guess there.
        close = np.abs(w) < _CLOSE * np.maximum(1.0, np.abs(x2))
        s = np.where(close, (target - d1) / (d2 - d1), s)
        return x1 + s * w


def in_memory(frames, splits, compiled=False):
    """``evaluate`` of :func:`solve` over columns held in memory (their
    :meth:`Frame.split`), columns on threads (each by the compiled loop
    with ``compiled``)."""
    def evaluate(lam, active):
        out = np.full((5, len(frames)), np.nan)
        cols = np.flatnonzero(active)

        def one(k):
            j = cols[k]
            return j, moments(frames[j], splits[j], [lam[j]], compiled=compiled)

        for j, got in _on_threads(len(cols), one):
            out[:, j] = [v[0] for v in got]
        return out
    return evaluate


def _on_threads(n, fn):
    from ._blocks import for_each_block

    parts = for_each_block(n, 1, lambda ks: [fn(k) for k in range(ks.start, ks.stop)],
                           rows_per_block=1)
    return [r for part in parts for r in part]


@dataclass
class LambdaStats:
    """The moments of :func:`moments` on the lambdas of :data:`GRID`, per
    column and per branch, and what the likelihood needs besides: mergeable.

    The values on either side of 0 (Yeo-Johnson's two branches) are kept
    apart: each side's log-variance is a smooth function of lambda, which
    a few grid points interpolate; their sum is not where both sides weigh
    alike (mixed-sign data with large magnitudes, around lambda = 1), and
    is formed, exactly, from the interpolated sides.

    Attributes
    ----------
    method : str
        ``"yeo-johnson"`` or ``"box-cox"``.
    c : ndarray of shape (n_features,)
        Each column's reference point (its :class:`Frame`); two statistics
        merge only with the same ones.
    n, S, min, max : ndarray of shape (n_features,)
        Count of finite values, ``S``, their extremes (NaN without values).
    moments : ndarray of shape (2, 5, n_features, len(GRID))
        ``(n, mean, M2, mean_l, C)`` per side (that of the reference point,
        the other), column and grid lambda; NaN for a lambda beyond the
        bounds of a batch (it stays NaN in any merge: the bounds of all
        rows are narrower).
    n_rows : int
        Rows seen, NaN or not.
    """

    method: str
    c: np.ndarray
    n: np.ndarray
    S: np.ndarray
    min: np.ndarray
    max: np.ndarray
    moments: np.ndarray
    n_rows: int = 0
    grid: np.ndarray = field(default_factory=lambda: GRID.copy())

    @classmethod
    def empty(cls, method, c):
        d = len(c)
        nan = np.full(d, np.nan)
        return cls(method, np.asarray(c, np.float64), np.zeros(d), np.zeros(d), nan.copy(),
                   nan.copy(), np.zeros((2, 5, d, GRID.size)))

    @classmethod
    def of_columns(cls, method, c, columns, n_rows, dtype=np.float64):
        """The statistics of the finite values ``columns[j]`` of each column
        (1-D float64 arrays), measured from the reference points ``c``."""
        out = cls.empty(method, c)
        out.n_rows = int(n_rows)
        for j, x in enumerate(columns):
            out.n[j] = x.size
            if x.size == 0:
                continue
            out.min[j], out.max[j] = x.min(), x.max()
            out.S[j] = log_sum(method, x)
            lo, hi = bounds(method, out.min[j], out.max[j], dtype)
            inside = (GRID >= lo) & (GRID <= hi)
            frame = Frame.at(method, out.c[j])
            out.moments[:, :, j, inside] = moments(frame, frame.split(x), GRID[inside],
                                                   by_branch=True)
            out.moments[:, :, j, ~inside] = np.nan
        return out

    @classmethod
    def side_by_side(cls, parts):
        """The statistics of groups of columns (of the same rows), as one."""
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        cat = np.concatenate
        return cls(first.method, cat([p.c for p in parts]), cat([p.n for p in parts]),
                   cat([p.S for p in parts]), cat([p.min for p in parts]),
                   cat([p.max for p in parts]), cat([p.moments for p in parts], axis=2),
                   first.n_rows)

    def merge(self, other):
        """The statistics of the rows of both (a new object)."""
        if not np.array_equal(self.c, other.c):
            raise ValueError("Statistics measured from different reference points do not"
                             " merge; give every batch the same reference points.")
        mom = np.empty_like(self.moments)
        for b in range(2):
            for j in range(self.c.size):
                mom[b, :, j] = _combine([list(self.moments[b, :, j]),
                                         list(other.moments[b, :, j])])
        return LambdaStats(self.method, self.c, self.n + other.n, self.S + other.S,
                           np.fmin(self.min, other.min), np.fmax(self.max, other.max), mom,
                           self.n_rows + other.n_rows)

    def combined(self, j, lam=None, raw=None):
        """Column ``j``'s moments of ``delta``, both sides together, per grid
        lambda (or at ``lam`` from the sides' ``raw`` moments there)."""
        frame = Frame.at(self.method, self.c[j])
        lam = self.grid if lam is None else lam
        raw = self.moments[:, :, j] if raw is None else raw
        near, far = frame.branches(lam)
        parts = [_affine(list(raw[0]), near)]
        if far is not None:
            parts.append(_affine(list(raw[1]), far))
        with np.errstate(over="ignore", invalid="ignore"):
            return _combine(parts)

    def best(self, j, lo, hi):
        """``(lambda, (n, mean, M2), at_edge)`` of column ``j``: the maximum
        of its likelihood within ``[lo, hi]``, interpolated between the grid
        points around it, and whether it lies on an edge of the usable grid,
        beyond which the maximum may be.

        Each side's moments of ``g`` and ``g_l`` are interpolated through
        four grid points: the log of M2 and the mean of ``g`` (on the far
        side, whose ``g`` is positive, its log) by Hermite polynomials with
        their slopes, the mean of ``g_l`` (its log on the far side) by the
        cubic through them; the
        coefficients that map them to ``delta``, and the sides' combination,
        are exact.  Raises ``OverflowError`` where a side's variance changes
        too fast between grid points for any interpolation.
        """
        frame = Frame.at(self.method, self.c[j])
        n, mean, m2, mean_l, cm = self.combined(j)
        lam = self.grid
        ok = (lam >= lo) & (lam <= hi) & np.isfinite(m2) & (m2 > 0) & np.isfinite(cm)
        llf, slope = log_likelihood(frame, n, self.S[j], m2, cm, lam)
        ok &= np.isfinite(llf)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return np.nan, (np.nan, np.nan, np.nan), True
        rises = [i for i in idx[:-1] if ok[i + 1] and slope[i] > 0 and slope[i + 1] <= 0]
        if not rises:
            i = idx[np.argmax(llf[idx])]
            return lam[i], (n[i], mean[i], m2[i]), True
        i = max(rises, key=lambda k: max(llf[k], llf[k + 1]))
        pts = [k for k in (i - 1, i, i + 1, i + 2) if 0 <= k < lam.size and ok[k]]
        if not (i in pts and i + 1 in pts):
            pts = [i, i + 1]
        x0, xs = lam[i], lam[pts] - lam[i]
        near, far = frame.branches(lam[pts])
        sides = [_Side(self.moments[b][:, j][:, pts], branch[3], xs, far=b == 1)
                 for b, branch in enumerate((near, far)) if branch is not None
                 and self.moments[b, 0, j, i] > 0]
        S, dlog_k = self.S[j], frame.sign * frame.L

        def at(v):
            raw = np.zeros((2, 5, 1))
            for b, side in enumerate(sides):
                raw[b] = np.array(side(v - x0))[:, None]
            return [float(a[0]) for a in self.combined(j, np.array([v]), raw)]

        def dllf(v):
            nn, _, m2v, _, cmv = at(v)
            return -nn * (dlog_k + cmv / m2v) + S

        best = brentq(dllf, lam[i], lam[i + 1], xtol=1e-14, maxiter=200)
        nn, mv, m2v, _, _ = at(best)
        return best, (nn, mv, m2v), False


class _Side:
    """One side's moments of ``g`` and ``g_l`` between grid points, as
    functions of ``lambda - lambda_i`` (see :meth:`LambdaStats.best`)."""

    def __init__(self, raw, l_l, xs, far=False):
        n, mg, m2g, mgl, cg = raw
        self.n = n[0]
        sign = float(l_l[0])  # d l / d lambda: +1 or -1 on either side
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.log(m2g / n)
            dh = 2 * cg / m2g * sign
        self.spread = bool((m2g > 0).all())
        if self.spread:
            steps = np.abs(np.diff(h)) if len(h) > 1 else np.zeros(1)
            slopes = np.abs(dh) * (np.diff(xs).max() if len(xs) > 1 else 0.0)
            steep = max(steps.max(initial=0.0), slopes.max())
            if not np.isfinite(steep) or steep > _STEEP:
                raise OverflowError(
                    f"the variance changes by a factor of e**{steep:.0f} between neighbouring"
                    " lambdas of the grid")
            self.h = _hermite(xs, h, dh)
        # (the far side's g and g_l are positive and grow like exponentials:
        # their logarithms interpolate; the near side's mean is near 0)
        self.log_mean = far and bool((mg > 0).all())
        with np.errstate(divide="ignore", invalid="ignore"):
            self.mean = (_hermite(xs, np.log(mg), mgl * sign / mg) if self.log_mean
                         else _hermite(xs, mg, mgl * sign))
        self.log_l = far and bool((mgl > 0).all())
        with np.errstate(divide="ignore"):
            self.mean_l = np.polyfit(xs, np.log(mgl) if self.log_l else mgl, len(xs) - 1)
        self.sign = sign

    def __call__(self, x):
        """``(n, mean_g, M2_g, mean_gl, C_g)`` at ``lambda_i + x``."""
        mg = np.polyval(self.mean, x)
        mg = np.exp(mg) if self.log_mean else mg
        ml = np.polyval(self.mean_l, x)
        ml = np.exp(ml) if self.log_l else ml
        if not self.spread:
            return self.n, mg, 0.0, ml, 0.0
        m2 = self.n * np.exp(np.polyval(self.h, x))
        cg = m2 * np.polyval(np.polyder(self.h), x) / 2 * self.sign
        return self.n, mg, m2, ml, cg


def _hermite(x, y, dy):
    """Coefficients (highest first) of the polynomial of degree ``2 k - 1``
    through ``(x, y)`` with slopes ``dy`` at ``k`` points."""
    k = len(x)
    deg = 2 * k - 1
    A = np.zeros((2 * k, deg + 1))
    b = np.zeros(2 * k)
    for r, (xi, yi, di) in enumerate(zip(x, y, dy)):
        A[2 * r] = [xi ** p for p in range(deg + 1)]
        A[2 * r + 1] = [p * xi ** (p - 1) if p else 0.0 for p in range(deg + 1)]
        b[2 * r], b[2 * r + 1] = yi, di
    return np.linalg.solve(A, b)[::-1]
