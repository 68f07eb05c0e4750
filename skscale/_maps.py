"""The nonlinear column maps and their inverses, as row-block kernels.

Each kernel reads ``X`` in blocks of rows, computes in float64 and writes the
rounded result into ``out`` (which may be ``X`` itself: every block is read
whole before it is written), so float32 data give the float32 rounding of
the float64 result.  Per-feature parameters are plain float64 arrays; the
kernels know nothing of how they were learned (the method modules do) nor of
where the data came from (the skeleton does).

* :func:`soft_clip` -- robust scaling followed by skrub's soft clipping
  ``z / sqrt(1 + (z / B)**2)``, and its inverse;
* :func:`quantile_forward`, :func:`quantile_inverse` -- the quantile
  transform's piecewise-linear interpolation, as scikit-learn's;
* :func:`power` -- Yeo-Johnson and Box-Cox, standardized or not, and their
  inverses.
"""

import functools

import numpy as np

from . import _compiled
from ._blocks import PerFeature, block_bounds, fold, for_each_block, n_threads, scratch, widen
from ._errors import column_label, raise_non_finite
from ._kernels import redo_rows

#: ``|z / B|`` is clipped to this before it is squared: its square is
#: finite, and the soft clip of anything larger rounds to ``±B`` anyway.
_SOFT_CLIP_MAX = 1e150


def _blocks(X, out, run, values_per_block=None):
    """Call ``run(x, work, rows, wide, y)`` on row blocks: ``x`` the block
    of ``X`` (a widened view where ``X`` allows one, see
    :func:`~skscale._blocks.widen`), ``work`` a float64 scratch array of
    its shape, ``wide(v)`` the per-feature vector ``v`` for that view, and
    ``y`` the block of ``out`` where a float64 result may go straight in
    (None where ``out`` is another type or ``X`` itself).  ``run`` returns
    the array that holds the block's result, which is then rounded into
    ``out`` unless it is ``y``.  ``values_per_block`` makes blocks smaller
    than the shared kernels' (whole widened rows of about that many
    values), for kernels with many temporaries: all of them then stay in
    the core's own cache."""
    k = fold(X.shape[1])
    d = X.shape[1]
    rows = None
    if values_per_block is not None:
        rows = max(k, values_per_block // (k * d) * k)
    direct = out.dtype == np.float64 and not np.may_share_memory(X, out)
    vectors = {}  # (per call: a tiled copy of each per-feature vector, made once)

    def block(rows):
        x, y = X[rows], out[rows]
        xw, yw = widen(x, k), widen(y, k)
        if xw.shape != yw.shape:
            xw, yw = x, y

        def wide(v):
            if not np.ndim(v):
                return v
            if id(v) not in vectors:
                vectors[id(v)] = (v, PerFeature(v, k, d))
            return vectors[id(v)][1].for_(x, xw)

        result = run(xw, scratch(xw.shape), rows, wide, yw if direct else None)
        if result is not yw:
            yw[...] = result

    for_each_block(X.shape[0], d, block, rows_per_block=rows)
    return out


#: Values per block of the quantile kernels: their eight temporaries of
#: this size fit in a core's own (L2) cache.
_SMALL_BLOCK = 1 << 15


def _unwiden(a, d):
    return a.reshape(-1, d)


def soft_clip(X, out, center, scale, bound, *, inverse=False, feature_names=None):
    """``y = z / sqrt(1 + (z / B)**2)`` with ``z = (x - center) / scale``.

    ``±inf`` map to ``±B`` (``B = bound``) and NaN to NaN.  A feature whose
    ``scale`` is infinite (constant at fit) maps every finite value to 0; one
    whose ``center`` is NaN (no value at fit) maps finite values to NaN.
    The result is clipped to ``[-B, B]``, which rounding could otherwise
    leave by an ulp.

    With ``inverse``, ``z = y / sqrt((1 - y/B) (1 + y/B))`` and ``x = z *
    scale + center``: the exact inverse on ``(-B, B)`` (``(1 - r)(1 + r)``
    keeps the digits that ``1 - r**2`` loses near the bound), ``±B`` map to
    ``±inf``, and a ``|y| > B`` raises a ``ValueError`` naming its column
    and row.  A constant feature maps back to its value, a feature without
    values to NaN.
    """
    d = X.shape[1]
    B = float(bound)
    special = ~(np.isfinite(scale) & np.isfinite(center))
    c = np.where(special, 0.0, center)
    s = np.where(special, 1.0, scale)

    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def run(x, work, rows, wide, y):
        if inverse:
            beyond = np.abs(x) > B
            if beyond.any():
                xs = _unwiden(x, d)
                i, j = np.argwhere(np.abs(xs) > B)[0]
                label = column_label(j, feature_names)
                raise ValueError(
                    f"{label[0].upper()}{label[1:]} at row {rows.start + i}: {float(xs[i, j])!r}"
                    f" is outside [-{B:g}, {B:g}], the range of the soft clip with"
                    f" max_absolute_value={B:g}; it has no inverse.")
            np.divide(x, B, out=work)                       # r
            t = np.subtract(1.0, work)
            np.add(work, 1.0, out=work)
            np.multiply(work, t, out=work)                  # (1 - r)(1 + r)
            np.sqrt(work, out=work)
            np.divide(x, work, out=work)                    # z
            np.multiply(work, wide(s), out=work)
            np.add(work, wide(c), out=work)
        else:
            np.subtract(x, wide(c), out=work)
            np.divide(work, wide(s), out=work)              # z
            limit = B * _SOFT_CLIP_MAX
            np.clip(work, -limit, limit, out=work)
            t = np.divide(work, B)
            np.multiply(t, t, out=t)
            np.add(t, 1.0, out=t)
            np.sqrt(t, out=t)
            np.divide(work, t, out=work)
            np.clip(work, -B, B, out=work)
        if special.any():
            xs, ws = _unwiden(x, d), _unwiden(work, d)
            for j in np.flatnonzero(special):
                xj = xs[:, j].astype(np.float64)
                if inverse:
                    base = center[j] if np.isinf(scale[j]) else np.nan
                    ws[:, j] = np.where(np.abs(xj) == B, np.copysign(np.inf, xj),
                                        np.where(np.isnan(xj), np.nan, base))
                else:
                    base = 0.0 if np.isinf(scale[j]) and not np.isnan(center[j]) else np.nan
                    ws[:, j] = np.where(np.isinf(xj), np.copysign(B, xj),
                                        np.where(np.isnan(xj), np.nan, base))
        return work

    return _blocks(X, out, run)


# --------------------------------------------------------------------------
# Quantile transform
# --------------------------------------------------------------------------
#: scikit-learn's margin in its normal output: ``ppf`` is clipped to
#: ``ppf(1e-7 - eps)`` and ``ppf(1 - (1e-7 - eps))``, and its inverse sends
#: ``cdf(y) < 1e-7`` (or ``> 1 - 1e-7``) to the training extremes.
BOUNDS_THRESHOLD = 1e-7
#: Buckets per column of the lookup table (at most; 16 per quantile).
_MAX_BUCKETS = 1 << 14
#: Above this many quantiles in one bucket, a column is searched by bisection.
_MAX_ROUNDS = 6
_SIGN_OFF = np.int64(0x7FFFFFFFFFFFFFFF)


def _ordered_keys(x):
    """int64 keys in the order of the float64 values ``x`` (NaN aside): the
    bits of a negative number flipped but for its sign."""
    i = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    return i ^ ((i >> 63) & _SIGN_OFF)


def quantile_tables(quantiles, references):
    """What :func:`quantile_forward` reads, for the quantiles (shape
    ``(n, n_features)``, sorted per column, ties allowed) and their
    references: per column, a table of buckets of equal width -- in ``x``,
    or in its float bits (about ``log|x|``), whichever crowds fewer
    quantiles in one bucket -- that holds, for each bucket, the last
    quantile at or below its values; a few vectorized rounds of
    comparisons then give, for any ``x``, the last ``j`` with ``q[j] <=
    x``.  The tables of all columns are laid end to end, so that one pass
    serves a block of rows.  A dict of arrays: it pickles and persists as
    plain data."""
    n, d = quantiles.shape
    r = np.asarray(references, np.float64)
    buckets = int(min(_MAX_BUCKETS, 16 * n))
    t = {"n": n, "buckets": buckets, "bits": np.zeros(d, bool), "a": np.zeros(d),
         "b": np.arange(d) * float(buckets), "kind": np.zeros(d, np.int8),  # 0 table,
         # 1 constant, 2 no value, 3 bisected
         "ties": False,
         "start": np.zeros((d, buckets), np.intp), "inv": np.zeros((d, n)),
         "tie": np.zeros((d, n)), "qnext": np.full((d, n), np.inf), "rounds": 0,
         # (the quantiles and references themselves, in float64 whatever a
         # device holds of the estimator's public copies)
         "q": np.ascontiguousarray(np.asarray(quantiles, np.float64).T), "r": r.copy()}
    for c in range(d):
        q = np.asarray(quantiles[:, c], np.float64)
        t["start"][c] = c * n
        if not np.isfinite(q).all():
            t["kind"][c] = 2
            continue
        if n < 2 or not q[0] < q[-1]:
            t["kind"][c] = 1
            continue
        # Within segment j (q[j] < x < q[j + 1]): u = r[j] + (x - q[j]) inv[j];
        # past the last quantile inv is 0 (and r is 1).
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            dq = np.diff(q)
            t["inv"][c, :-1] = np.where(np.isinf(dq), (np.diff(r) / 2) / np.diff(q / 2),
                                        np.diff(r) / np.where(dq == 0, 1.0, dq))
        # At a value shared by several quantiles, scikit-learn averages the
        # interpolations from the left and from the right: the mean of the
        # first and last references of the run; the extremes are 0 and 1.
        first = np.searchsorted(q, q, side="left")
        last = np.searchsorted(q, q, side="right") - 1
        tie = 0.5 * (r[first] + r[last])
        tie[q == q[0]], tie[q == q[-1]] = 0.0, 1.0
        t["tie"][c] = tie
        t["qnext"][c, :-1] = q[1:]
        best = None
        for bits in (False, True):
            a, b = _bucket_scale(bits, q[0], q[-1], buckets)
            if not (np.isfinite(a) and a > 0 and np.isfinite(b)):
                continue
            # Buckets of all columns are numbered on, column after column;
            # the transform computes exactly this.
            b += c * buckets
            bq = _bucket(bits, q, a, b, c * buckets, c * buckets + buckets - 1.0)
            bq = bq.astype(np.intp) - c * buckets
            grid = np.arange(buckets)
            start = np.maximum(np.searchsorted(bq, grid, side="left") - 1, 0)
            end = np.searchsorted(bq, grid, side="right") - 1
            rounds = int(np.max(end - start))
            if best is None or rounds < best[0]:
                best = (rounds, bits, a, b, start)
        if best is None or best[0] > _MAX_ROUNDS or not np.isfinite(dq).all():
            t["kind"][c] = 3  # (crowded, or gaps beyond float64: bisected)
            continue
        rounds, t["bits"][c], t["a"][c], t["b"][c], start = best
        t["start"][c] = start + c * n  # (an index into all columns' quantiles)
        t["rounds"] = max(t["rounds"], rounds)
        t["ties"] = t["ties"] or bool((np.diff(q) == 0).any())
    return t


def _bucket_scale(bits, lo, hi, buckets):
    """``(a, b)``: bucket ``key(x) * a + b`` spans ``[lo, hi]`` evenly."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if bits:
            lo, hi = _ordered_keys(np.array([lo, hi])).astype(np.float64)
        a = buckets / (hi * 0.5 - lo * 0.5) * 0.5
        return a, -lo * a


@np.errstate(invalid="ignore", over="ignore")
def _bucket(bits, x, a, b, low, high, out=None):
    """The bucket of each value of ``x`` (``key(x) * a + b``, kept within
    ``[low, high]``; any bucket for NaN) as float64, in ``out``; every
    argument but ``x`` may be a per-feature vector.  Rounded operations are
    monotone: the bucket never decreases as ``x`` grows, which is all the
    tables rely on."""
    if np.any(bits):  # (a per-feature vector of the kernels is float64: nonzero is True)
        key = np.multiply(x, 1.0, out=out)
        np.copyto(key, _ordered_keys(np.broadcast_to(x, key.shape)),
                  where=np.asarray(bits) != 0)
        np.multiply(key, a, out=key)
    else:
        key = np.multiply(x, a, out=out)
    np.add(key, b, out=key)
    # (fmax and fmin, unlike clip, send NaN to a bucket: any will do)
    np.fmax(key, low, out=key)
    np.fmin(key, high, out=key)
    return key


def quantile_forward(X, out, t, normal=False, feature_names=None):
    """scikit-learn's ``QuantileTransformer.transform`` with the tables
    ``t`` (:func:`quantile_tables`) of its ``quantiles``: ``u`` is the
    linear interpolation of the references between the quantiles around
    ``x``, the mean of the interpolations from both sides where ``x`` equals
    several quantiles, 0 at or below the first quantile and 1 at or above
    the last; with ``normal``, ``y = Phi^-1(u)`` clipped to ``Phi^-1(1e-7 -
    eps)`` and its opposite.  NaN passes through; an infinity raises,
    naming its column and row."""
    from scipy.special import ndtri

    n, d = t["n"], X.shape[1]
    quantiles, references = t["q"].T, t["r"]
    flat = {k: t[k].ravel() for k in ("start", "inv", "tie", "qnext", "q")}
    flat["r"] = np.tile(references, d)
    low_bucket = np.arange(d) * float(t["buckets"])
    high_bucket = low_bucket + (t["buckets"] - 1)
    special = np.flatnonzero(t["kind"])
    low = ndtri(BOUNDS_THRESHOLD - np.spacing(1))
    high = ndtri(1 - (BOUNDS_THRESHOLD - np.spacing(1)))
    take = functools.partial(np.take, mode="clip")  # (numpy's fastest gather, intp indices)

    @np.errstate(invalid="ignore", over="ignore")
    def run(x, work, rows, wide, y):
        if not np.isfinite(np.add.reduce(x, axis=None)):
            xs = _unwiden(x, d)
            raise_non_finite(xs, np.isnan(xs), rows.start, feature_names)
        # The last quantile j with q[j] <= x: from its bucket's table entry,
        # then a round of comparisons per quantile that a bucket can hold.
        j = scratch(x.shape, 4).view(np.intp)
        j[...] = _bucket(wide(t["bits"]), x, wide(t["a"]), wide(t["b"]), wide(low_bucket),
                         wide(high_bucket), out=work)
        take(flat["start"], j, out=j)
        ahead = scratch(x.shape, 5)
        if t["rounds"]:
            step = np.empty(j.shape, bool)
            for _ in range(t["rounds"]):
                take(flat["qnext"], j, out=ahead)
                np.less_equal(ahead, x, out=step)
                np.add(j, step, out=j)
        qj = take(flat["q"], j, out=ahead)
        np.subtract(x, qj, out=work)
        np.multiply(work, take(flat["inv"], j, out=scratch(x.shape, 6)), out=work)
        np.add(work, take(flat["r"], j, out=scratch(x.shape, 6)), out=work)
        if t["ties"]:  # at a tied quantile: the middle of its references
            at = np.equal(x, qj)
            if at.any():
                work[at] = flat["tie"][j[at]]
        if special.size:
            xs, ws = _unwiden(x, d), _unwiden(work, d)
            for c in special:
                ws[:, c] = _special_column(t["kind"][c], quantiles[:, c], xs[:, c],
                                           references)
        if normal:
            np.maximum(work, 0.0, out=work)
            ndtri(work, out=work)
            return np.clip(work, low, high, out=work if y is None else y)
        # (below the first quantile j is 0 and u negative: 0)
        return np.maximum(work, 0.0, out=work if y is None else y)

    return _blocks(X, out, run, _SMALL_BLOCK)


def _special_column(kind, q, x, references):
    """The uniform output of a column without a table."""
    x = np.asarray(x, np.float64)
    if kind == 2:  # no training value: NaN
        return np.full(x.shape, np.nan)
    if kind == 1:
        # As scikit-learn: at or below the value 0, above it 1 (with a
        # single quantile, 0 everywhere).
        u = (x > q[-1]).astype(np.float64) if q.size > 1 else np.zeros(x.shape)
        u[np.isnan(x)] = np.nan
        return u
    # Crowded quantiles: bisection, then the same interpolation.
    r = np.asarray(references, np.float64)
    j = np.clip(np.searchsorted(q, x, side="right") - 1, 0, q.size - 2)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        dq = q[j + 1] - q[j]
        u = r[j] + np.where(dq > 0, (x - q[j]) / np.where(dq > 0, dq, 1.0), 0.0) * \
            (r[j + 1] - r[j])
        u = np.where(np.isinf(dq), r[j] + (x / 2 - q[j] / 2) / (q[j + 1] / 2 - q[j] / 2) *
                     (r[j + 1] - r[j]), u)
    first = np.searchsorted(q, x, side="left")
    last = np.searchsorted(q, x, side="right") - 1
    at = (last >= 0) & (first < q.size) & (q[np.clip(last, 0, q.size - 1)] == x)
    u[at] = 0.5 * (r[first[at]] + r[last[at]])
    u[x <= q[0]] = 0.0
    u[x >= q[-1]] = 1.0
    u[np.isnan(x)] = np.nan
    return np.clip(u, 0.0, 1.0)


def quantile_inverse(X, out, t, normal=False, feature_names=None):
    """scikit-learn's ``QuantileTransformer.inverse_transform``: ``u =
    Phi(y)`` for the normal output (``u`` itself for the uniform one), then
    the linear interpolation of the quantiles between the references around
    ``u``; ``u`` at or below 0 gives the first quantile and at or above 1
    the last (for the normal output: within 1e-7 of them).  NaN passes
    through; an infinity raises, naming its column and row."""
    from scipy.special import ndtr

    quantiles, r = t["q"].T, t["r"]
    n, d = quantiles.shape
    q = t["q"].ravel()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        slope = np.append((q[1:] - q[:-1]) / np.tile(np.append(np.diff(r), 1.0), d)[:-1], 0.0)
    offsets = np.arange(d) * float(n)
    first, last = quantiles[0].astype(np.float64), quantiles[-1].astype(np.float64)

    @np.errstate(invalid="ignore", over="ignore")
    def run(x, work, rows, wide, y):
        if not np.isfinite(np.add.reduce(x, axis=None)):
            xs = _unwiden(x, d)
            raise_non_finite(xs, np.isnan(xs), rows.start, feature_names)
        u = np.array(x, dtype=np.float64)
        if normal:
            ndtr(u, out=u)
            lo, hi = u - BOUNDS_THRESHOLD < 0, u + BOUNDS_THRESHOLD > 1
        else:
            lo, hi = u <= 0, u >= 1
        if n < 2:
            work[...] = wide(first)
        else:
            # (fmax and fmin send NaN to an index: its output is NaN anyway)
            j = np.fmin(np.fmax(np.floor(u * (n - 1)), 0), n - 2).astype(np.intp)
            j -= r[j] > u                    # (a reference rounded above u)
            np.maximum(j, 0, out=j)
            j += (r[j + 1] <= u) & (j < n - 2)
            rj = r[j]
            j += wide(offsets).astype(np.intp)
            np.subtract(u, rj, out=work)
            np.multiply(work, slope[j], out=work)
            np.add(work, q[j], out=work)
        np.copyto(work, wide(last), where=hi)
        np.copyto(work, wide(first), where=lo)
        np.copyto(work, np.nan, where=np.isnan(u))
        return work

    return _blocks(X, out, run)


# --------------------------------------------------------------------------
# Power transforms (Yeo-Johnson, Box-Cox)
# --------------------------------------------------------------------------
def power(X, out, p, *, inverse=False, box_cox=False, feature_names=None):
    """A power transform per feature, or its inverse, with the parameters
    ``p`` (per-feature arrays) of :func:`skscale._power.map_parameters`.

    On the side of the reference point ``c`` (``sign * x >= 0``; Box-Cox:
    everywhere)::

        y = a1 * expm1(l1 * t) + b1,   t = log1p((x - c) * pc)

    (``a1 * t + b1`` where ``l1`` is 0) and on the other side::

        y = a2 * expm1(l2 * u) + b2,   u = log1p(|x|)

    ``log1p`` of the offset from ``c``, then ``expm1``: the difference from
    the value at ``c`` keeps every digit even where ``x`` is far from 0
    beside its spread.  The inverse undoes each step, the side told by
    ``sign * (y - y0) >= 0``.  NaN passes through; an infinite input, a
    result beyond the output's type, a non-positive value for Box-Cox and,
    inverting, a value outside the transform's range raise a
    ``ValueError`` naming the column and row.
    """
    d = X.shape[1]
    names = ("c", "pc", "l1", "a1", "b1", "l2", "a2", "b2", "sign", "y0")
    P = {k: np.asarray(p[k], np.float64) for k in names}
    known = np.isfinite(P["a1"])
    P["fast"] = bool((np.abs(P["a1"][known]) <= _EXP_SAFE).all())
    P["b1_fast"] = P["b1"] - P["a1"]
    with np.errstate(invalid="ignore", divide="ignore"):
        # ((x - c) * pc at x = 0; just above it for the far side's test)
        P["w0"] = np.where(box_cox, -np.inf, np.nextafter(-P["c"] * P["pc"], np.inf))
    zero1, zero2 = P["l1"] == 0, P["l2"] == 0
    l1 = np.where(zero1, 1.0, P["l1"])  # (columns at 0 are redone below)
    unknown = np.isnan(P["l1"])  # (no training value: NaN out)
    if not inverse and not unknown.any() and _compiled.wanted(X) and X.flags.c_contiguous \
            and out.flags.c_contiguous:
        # The compiled loop does the near side in one pass; the rows it
        # leaves (the far side, what it refuses) take the numpy kernel below.
        left = _compiled.power_loop(X, out, P, box_cox, block_bounds(*X.shape), n_threads())
        numpy_map = functools.partial(_power_numpy, P=P, zero1=zero1, zero2=zero2, l1=l1,
                                      unknown=unknown, inverse=inverse, box_cox=box_cox,
                                      feature_names=feature_names)
        if left.size:
            try:
                redo_rows(X, out, left, numpy_map, feature_names)
            except ValueError:  # (its row numbers count among the rows left: name X's)
                numpy_map(X, np.empty_like(out))
                raise
        return out
    return _power_numpy(X, out, P, zero1, zero2, l1, unknown, inverse, box_cox, feature_names)


def _power_numpy(X, out, P, zero1, zero2, l1, unknown, inverse, box_cox, feature_names):
    """:func:`power` by numpy operations on row blocks."""
    d = X.shape[1]

    @np.errstate(invalid="ignore", over="ignore", divide="ignore")
    def run(x, work, rows, wide, y):
        xs = _unwiden(x, d)
        if box_cox and not inverse and (x <= 0).any():
            i, j = np.argwhere(xs <= 0)[0]
            label = column_label(j, feature_names)
            raise ValueError(
                f"{label[0].upper()}{label[1:]} at row {rows.start + i}: {float(xs[i, j])!r} is"
                " not positive; Box-Cox is defined for positive values only. Use"
                " method='yeo-johnson' for data with zeros or negative values.")
        if inverse:
            if np.isinf(x).any():
                raise_non_finite(xs, np.isnan(xs), rows.start, feature_names)
            _power_inverse(x, work, xs, wide, P, zero1, zero2, l1, d)
        else:
            _power_forward(x, work, xs, wide, P, zero1, zero2, l1, d)
        ws = _unwiden(work, d)
        if unknown.any():
            ws[:, unknown] = np.nan
        # (beyond float32's range where the output is float32: an error too)
        if not np.isfinite(np.add.reduce(work, axis=None)) or (
                out.dtype != np.float64
                and np.fmax.reduce(np.abs(work), axis=None) > np.finfo(out.dtype).max):
            with np.errstate(over="ignore"):
                ws = ws.astype(out.dtype)
            bad = ~np.isfinite(ws) & ~np.isnan(xs) & ~unknown
            if bad.any():
                if not inverse:
                    raise_non_finite(xs, np.isnan(xs), rows.start, feature_names, ws,
                                     "its power transform is beyond that range")
                i, j = np.argwhere(bad)[0]
                label = column_label(j, feature_names)
                reason = ("is outside the range of the fitted transform, so it has no"
                          " inverse" if not np.isinf(xs[i, j]) else "is infinite")
                raise ValueError(f"{label[0].upper()}{label[1:]} at row {rows.start + i}:"
                                 f" {float(xs[i, j])!r} {reason}.")
        return work

    return _blocks(X, out, run)


#: Where every ``|a1|`` is at most this, ``a1 * exp(w) + (b1 - a1)`` replaces
#: ``a1 * expm1(w) + b1``: numpy's ``exp`` takes half the time of its
#: ``expm1``, and the rounding of ``exp(w)`` near 1 then costs at most
#: ``1e3 * eps`` (2.2e-13) of the output's unit.
_EXP_SAFE = 1e3


def _power_forward(x, work, xs, wide, P, zero1, zero2, l1, d):
    np.subtract(x, wide(P["c"]), out=work)
    np.multiply(work, wide(P["pc"]), out=work)
    # (x takes the other branch where sign * x < 0, i.e. where this is below
    # w0 = -c' / A: one cheap reduction tells whether the block has any)
    k = work.shape[1] // d if work.ndim == 2 else 1
    far_any = bool((np.fmin.reduce(work.reshape(-1, d), axis=0) < P["w0"]).any()) if k else True
    np.log1p(work, out=work)                                   # t
    t_zero = _unwiden(work, d)[:, zero1].copy() if zero1.any() else None
    np.multiply(work, wide(l1), out=work)
    if P["fast"]:
        np.exp(work, out=work)
        np.multiply(work, wide(P["a1"]), out=work)
        np.add(work, wide(P["b1_fast"]), out=work)
    else:
        np.expm1(work, out=work)
        np.multiply(work, wide(P["a1"]), out=work)
        np.add(work, wide(P["b1"]), out=work)
    ws = _unwiden(work, d)
    if t_zero is not None:  # lambda' = 0: a1 t + b1
        ws[:, zero1] = t_zero * P["a1"][zero1] + P["b1"][zero1]
    far = (xs * P["sign"] < 0) if far_any else None
    if far_any and far.any():
        cols = np.nonzero(far)[1]
        u = np.log1p(np.abs(xs[far].astype(np.float64)))
        l2, a2, b2 = P["l2"][cols], P["a2"][cols], P["b2"][cols]
        ws[far] = np.where(zero2[cols], a2 * u, a2 * np.expm1(l2 * u)) + b2


def _power_inverse(x, work, xs, wide, P, zero1, zero2, l1, d):
    # Near side: expm1(l1 t) = (y - b1) / a1, t = log1p(that) / l1,
    # x = c + expm1(t) / pc.
    np.subtract(x, wide(P["b1"]), out=work)
    np.divide(work, wide(P["a1"]), out=work)
    ws = _unwiden(work, d)
    v_zero = ws[:, zero1].copy() if zero1.any() else None
    np.log1p(work, out=work)
    np.divide(work, wide(l1), out=work)
    if v_zero is not None:
        ws[:, zero1] = v_zero
    np.expm1(work, out=work)
    np.divide(work, wide(P["pc"]), out=work)
    np.add(work, wide(P["c"]), out=work)
    far = (xs - P["y0"]) * P["sign"] < 0
    if far.any():
        cols = np.nonzero(far)[1]
        v = (xs[far].astype(np.float64) - P["b2"][cols]) / P["a2"][cols]
        l2 = P["l2"][cols]
        u = np.where(zero2[cols], v, np.log1p(v) / np.where(zero2[cols], 1.0, l2))
        ws[far] = -P["sign"][cols] * np.expm1(u)
