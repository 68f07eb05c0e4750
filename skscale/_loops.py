"""The numba loops behind :mod:`skscale._compiled`, imported only when a
compiled loop is first wanted (so ``import skscale`` never loads numba).

:func:`skscale._compiled._load` imports this module with numba's cache
directory pointed at skscale's own (never the package folder, which
``pip uninstall`` must be able to remove whole); without a writable one the
loops are compiled in each process instead of cached.
"""

import math

import llvmlite.ir
import numba
import numba.extending
import numpy as np

_CACHE = bool(numba.config.CACHE_DIR)


# error_model="numpy": x / 0 is inf, as in numpy, not an exception.
@numba.njit(inline="always", error_model="numpy")
def _affine_row(x, out, i, first, scale, second, inverse, clip, low, high, limit, bad):
    # limit: the magnitude from which a result stores as infinity (the
    # float32 rounding threshold, or inf for float64)
    count = 0
    for j in range(x.shape[1]):
        raw = np.float64(x[i, j])
        if inverse:
            v = (raw - first[j]) * scale[j] + second[j]
        else:
            v = (raw - first[j]) / scale[j] + second[j]
        # Non-finite results beyond the NaN inputs passed through, counted
        # before clipping (which would hide an infinity); one comparison
        # catches NaN, infinity and float32 overflow.
        count += (not abs(v) < limit) - (raw != raw)
        if clip:
            v = low if v < low else (high if v > high else v)
        out[i, j] = v
    bad[i] = count > 0


@numba.njit(parallel=True, cache=_CACHE, error_model="numpy")
def _affine_loop(x, out, first, scale, second, inverse, clip, low, high, limit, bad):
    for i in numba.prange(x.shape[0]):
        _affine_row(x, out, i, first, scale, second, inverse, clip, low, high, limit, bad)


@numba.njit(parallel=True, cache=_CACHE, error_model="numpy")
def _affine_in_place(x, first, scale, second, inverse, clip, low, high, limit, bad):
    # The same loop with one array: the compiler then knows each value is
    # read before it is written and vectorizes, which it will not do for
    # two arrays that may overlap.
    for i in numba.prange(x.shape[0]):
        _affine_row(x, x, i, first, scale, second, inverse, clip, low, high, limit, bad)


# Indices below are unsigned where it matters: numba wraps a negative
# index, and that check on a signed one keeps short loops from
# vectorizing (groups of 5 features ran 1.6x slower with it).

# Groups with a divisor below this go to the numpy kernel, which computes
# them rescaled: skscale._kernels.TINY_SCALE (a literal here, because
# numba's cache of these loops notices changes to this file only).
_TINY_STD = 2.0 ** -450

# reassoc: the sums along a group may be reordered (vectorized); they
# agree with the numpy kernel's to rounding, and the corrected two-pass
# keeps constant groups exact (every deviation is the same small multiple
# of an ulp).
@numba.njit(parallel=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
def _group_norm_rows(x, out, bounds, n_groups, eps, gamma, beta, unusual):
    # Long groups: row after row, each group's sums vectorized along it,
    # the second pass and the output reading the row again from cache.
    n_blocks, d = len(bounds) - 1, np.uint64(x.shape[1])
    n_groups = np.uint64(n_groups)
    size = d // n_groups
    for b in numba.prange(n_blocks):
        # The row's mean and 1 / std per feature: the output loop then runs
        # over the whole row, not over one short group at a time, and
        # multiplies (a division per value cost 8% in float32).
        mean, inv = np.empty(d), np.empty(d)
        for i in range(bounds[b], bounds[b + 1]):
            row, bad = x[i], False
            for g in range(n_groups):
                first = g * size
                total = 0.0
                for k in range(size):
                    total += np.float64(row[first + k])
                mean0 = total / size
                dsum, squares = 0.0, 0.0
                for k in range(size):
                    dv = np.float64(row[first + k]) - mean0
                    dsum += dv
                    squares += dv * dv
                dmean = dsum / size
                mu = mean0 + dmean
                sd = np.sqrt(max(squares / size - dmean * dmean, 0.0) + eps)
                # NaN or infinity in the group, a tiny (eps = 0, constant;
                # squares that underflow) or overflowing spread: the numpy
                # kernel handles those.
                bad |= not (sd >= _TINY_STD and sd < np.inf and mu - mu == 0.0)
                for k in range(size):
                    mean[first + k], inv[first + k] = mu, 1.0 / sd
            if bad:  # left unwritten (X itself, in place) for the numpy kernel
                unusual[i] = 1
                continue
            out_row = out[i]
            for t in range(d):
                out_row[t] = (np.float64(row[t]) - mean[t]) * inv[t] * gamma[t] + beta[t]

@numba.njit(parallel=True, cache=_CACHE, error_model="numpy")
def _group_norm_tiles(x, out, bounds, tile, n_groups, eps, gamma, beta, unusual):
    # Short groups: a sum along a group of 5 is a chain of dependent
    # adds and cannot vectorize.  Each tile of rows is transposed into a
    # float64 buffer, so every sum runs across the tile's rows instead,
    # lane by lane in the group's order, and the result is transposed back.
    n_blocks, d = len(bounds) - 1, np.uint64(x.shape[1])
    n_groups = np.uint64(n_groups)
    size = d // n_groups
    tile = np.uint64(tile)
    for b in numba.prange(n_blocks):
        # One spare column: rows of a power-of-two length would map every
        # feature of a row to a few cache sets (float32 ran 2x slower).
        xt = np.empty((d, tile + 1))
        mean, inv = np.empty((n_groups, tile)), np.empty((n_groups, tile))
        bad = np.empty(tile, dtype=np.bool_)
        for start in range(bounds[b], bounds[b + 1], tile):
            m = np.uint64(min(tile, bounds[b + 1] - start))
            bad[:m] = False
            for r in range(m):
                for t in range(d):
                    xt[t, r] = x[start + r, t]
            for g in range(n_groups):
                # One pass over the group: the sums of its deviations
                # from its first value, and of their squares.  That shift
                # lies within sqrt(size - 1) standard deviations of the
                # mean, so the variance keeps all but log2(size) bits;
                # a constant group gives deviations of exactly 0.  (Two
                # passes, as along rows, took 15-20% longer on groups of
                # 5 and 10.)
                mu, rs, x0 = mean[g], inv[g], xt[g * size]
                mu[:m] = 0.0
                rs[:m] = 0.0
                for k in range(1, size):
                    col = xt[g * size + k]
                    for r in range(m):
                        dv = col[r] - x0[r]
                        mu[r] += dv
                        rs[r] += dv * dv
                for r in range(m):
                    dmean = mu[r] / size
                    sd = np.sqrt(max(rs[r] / size - dmean * dmean, 0.0) + eps)
                    mu[r], rs[r] = x0[r] + dmean, 1.0 / sd
                    # NaN or infinity in the group, a tiny (eps = 0,
                    # constant; squares that underflow) or overflowing
                    # spread: the numpy kernel handles those.
                    bad[r] |= not (sd >= _TINY_STD and sd < np.inf and mu[r] - mu[r] == 0.0)
                for k in range(size):
                    t = g * size + k
                    col, scale, shift = xt[t], gamma[t], beta[t]
                    for r in range(m):
                        col[r] = (col[r] - mu[r]) * rs[r] * scale + shift
            for r in range(m):
                if bad[r]:  # left unwritten (X itself, in place) for the numpy kernel
                    unusual[start + r] = 1
                    continue
                for t in range(d):
                    out[start + r, t] = xt[t, r]

@numba.njit(parallel=True, cache=_CACHE, error_model="numpy")
def _unit_norm_loop(x, out, kind, unusual):
    # kind: 0 = l1, 1 = l2, 2 = max; NaN is ignored in the norm
    n, d = x.shape
    for i in numba.prange(n):
        norm, peak = 0.0, 0.0  # peak: max|x|, for l2 (squares of tiny values vanish)
        for j in range(d):
            v = np.float64(x[i, j])
            if v == v:
                if kind == 0:
                    norm += abs(v)
                elif kind == 1:
                    norm += v * v
                    peak = max(peak, abs(v))
                else:
                    norm = max(norm, abs(v))
        if kind == 1:
            norm = np.sqrt(norm)
        else:
            peak = norm  # 0 only for a row of zeros
        # An infinity, a sum that overflows, or a norm below the threshold
        # of tiny spreads (squares that lose bits or vanish) from a row not
        # all zeros: the numpy kernel handles those, rescaled.  (A scan of
        # the row for nonzero values here made the in-place loop 1.5x slower.)
        if not (norm < np.inf and (norm >= _TINY_STD or peak == 0.0)):
            unusual[i] = 1
            continue
        if norm == 0.0:
            norm = 1.0  # a zero row stays zero
        for j in range(d):
            out[i, j] = np.float64(x[i, j]) / norm


@numba.njit(parallel=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
def _moments_loop(x, bounds, count, mean, m2, unusual):
    # rows bounds[b]:bounds[b + 1] form block b; one corrected two-pass
    # per block, its second pass reading the block again from cache
    n_blocks, d = mean.shape
    for b in numba.prange(n_blocks):
        first, stop = bounds[b], bounds[b + 1]
        size = stop - first
        total = np.zeros(d)
        for r in range(first, stop):
            for j in range(d):
                total[j] += np.float64(x[r, j])
        for j in range(d):
            total[j] /= size  # now the first-pass mean
        dsum, squares = np.zeros(d), np.zeros(d)
        for r in range(first, stop):
            for j in range(d):
                dv = np.float64(x[r, j]) - total[j]
                dsum[j] += dv
                squares[j] += dv * dv
        for j in range(d):  # the corrected two-pass of ColumnStats
            count[b, j] = size
            mean[b, j] = total[j] + dsum[j] / size
            m2[b, j] = squares[j] - dsum[j] * dsum[j] / size
            if m2[b, j] <= 1e-8 * squares[j]:
                # All but rounding cancelled: is the column constant?  Then
                # make it exact.  The correction alone is exact only while
                # the first-pass mean is a few ulps off, which reordered
                # sums over many rows need not be.
                same = True
                for r in range(first + 1, stop):
                    if x[r, j] != x[first, j]:
                        same = False
                        break
                if same:
                    mean[b, j], m2[b, j] = np.float64(x[first, j]), 0.0
            if not (abs(total[j]) < np.inf and m2[b, j] < np.inf):
                unusual[b] = 1  # NaN, infinity or overflow: numpy handles it


@numba.njit(parallel=True, cache=_CACHE)
def _extremes_loop(x, bounds, low, high, unusual):
    # fmin and fmax skip NaN, so a column of NaN only keeps the starting
    # +inf / -inf.  (They also vectorize without masked stores, which a
    # compare-and-select becomes: 1.9x faster on 2,000,000 x 50.)
    n_blocks, d = low.shape
    for b in numba.prange(n_blocks):
        lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
        for r in range(bounds[b], bounds[b + 1]):
            for j in range(d):
                v = np.float64(x[r, j])
                lo[j] = np.fmin(lo[j], v)
                hi[j] = np.fmax(hi[j], v)
        for j in range(d):
            if lo[j] == -np.inf or hi[j] == np.inf:
                unusual[b] = 1  # an infinity: numpy reports it
            if lo[j] > hi[j]:  # no value but NaN
                lo[j] = hi[j] = np.nan
            low[b, j], high[b, j] = lo[j], hi[j]


@numba.njit(cache=_CACHE, error_model="numpy")
def _combine_loop(count, mean, m2, low, high, out):
    # ColumnStats.combine's numpy operations, in the same order (numpy
    # reduces axis 0 of a C-contiguous array row after row), so the two
    # agree bit for bit: one compiled call instead of dozens of small ones.
    n_parts, d = count.shape
    for j in range(d):
        total, lo, hi = count[0, j], low[0, j], high[0, j]
        first = 0 if count[0, j] > 0 else -1
        for i in range(1, n_parts):
            total += count[i, j]
            lo = low[i, j] if lo != lo or low[i, j] < lo else lo  # fmin: NaN loses
            hi = high[i, j] if hi != hi or high[i, j] > hi else hi
            if first < 0 and count[i, j] > 0:
                first = i
        out[0, j], out[3, j], out[4, j] = total, lo, hi
        if total != total:  # no moments asked for
            out[1, j] = out[2, j] = total
            continue
        ref = mean[max(first, 0), j]
        acc = count[0, j] * (mean[0, j] - ref if count[0, j] > 0 else 0.0)
        for i in range(1, n_parts):
            acc += count[i, j] * (mean[i, j] - ref if count[i, j] > 0 else 0.0)
        centre = ref + acc / total
        if lo == hi:
            centre = lo
        dev = mean[0, j] - centre if count[0, j] > 0 else 0.0
        spread, squares = count[0, j] * dev * dev, m2[0, j]
        for i in range(1, n_parts):
            dev = mean[i, j] - centre if count[i, j] > 0 else 0.0
            spread += count[i, j] * dev * dev
            squares += m2[i, j]
        out[1, j], out[2, j] = centre, squares + spread


# log1p by the classic fdlibm reduction, in the form that vectorizes:
# u = 1 + a rounded is split as 2**k * m with m in [sqrt(2)/2, sqrt(2)),
# f = m - 1, and log1p(a) = k ln 2 + log(1 + f) + c, where c = (a - (u - 1)) / u
# corrects the rounding of 1 + a.  log(1 + f) = 2 atanh(s), s = f / (2 + f),
# is f - f**2/2 + s (f**2/2 + R(s**2)) with the minimax polynomial R of
# fdlibm's log; ln 2 is split in two so that k ln 2 is exact.  Without
# AVX-512, numpy's log1p calls the C library's scalar one; this is within
# 0.85 ulp of the exact value, as that one is (tests/test_compiled.py
# measures it against extended precision), and 3-4x faster on AVX2.
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)

@numba.njit(inline="always", error_model="numpy")
def _log1p_reduced(a, u, m, k):
    # a > -1, u = 1 + a rounded, u = 2**k * m (k as a float)
    lg1, lg2, lg3, lg4, lg5, lg6, lg7 = _LG
    f = m - 1.0
    c = (1.0 - (u - a) if k >= 2.0 else a - (u - 1.0)) / u
    c = c if k < 54.0 else 0.0  # beyond 2**54, 1 + a drops nothing that counts
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = w * (lg2 + w * (lg4 + w * lg6)) + z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)))
    return s * (hfsq + r) + (k * _LN2_LO + c) - hfsq + f + k * _LN2_HI

@numba.njit(parallel=True, cache=_CACHE, error_model="numpy")
def _log_loop(x, out, shift, log_base, bounds, bad):
    # out = log1p(x - shift) / log_base row by row; a row holding a value
    # out of the domain (x - shift <= -1) or an infinity is left as it
    # is (X itself, in place) and flagged, for the numpy kernel to report.
    n_blocks, d = len(bounds) - 1, np.uint64(x.shape[1])
    for b in numba.prange(n_blocks):
        # a = x - shift, u = 1 + a, and its bits; then m's bits and k.  The
        # last loop reads only these, so writing out (X itself, in place)
        # cannot alias what it reads, and it vectorizes.
        a_row, u, m, k = np.empty(d), np.empty(d), np.empty(d), np.empty(d)
        u_bits, m_bits = u.view(np.uint64), m.view(np.uint64)
        for i in range(bounds[b], bounds[b + 1]):
            row, flag = x[i], False
            for j in range(d):
                a = np.float64(row[j]) - shift[j]
                flag |= (a <= -1.0) | (a == np.inf)
                a_row[j], u[j] = a, 1.0 + a
            if flag:
                bad[i] = 1
                continue
            for j in range(d):
                # Move u's exponent so that its mantissa falls in
                # [sqrt(2)/2, sqrt(2)): 0x3fe6a09e is the top of sqrt(2)/2.
                high = (u_bits[j] >> np.uint64(32)) + np.uint64(0x3ff00000 - 0x3fe6a09e)
                k[j] = np.float64(np.int32(high >> np.uint64(20)) - np.int32(0x3ff))
                m_bits[j] = ((((high & np.uint64(0xfffff)) + np.uint64(0x3fe6a09e))
                              << np.uint64(32)) | (u_bits[j] & np.uint64(0xffffffff)))
            out_row = out[i]
            for j in range(d):
                a = a_row[j]
                y = _log1p_reduced(a, u[j], m[j], k[j]) / log_base
                # NaN passes through; log1p(-0.0) is -0.0, not +0.0
                out_row[j] = y if a == a and a != 0.0 else a / log_base


_INV_LN2 = 1.44269504088896338700e+00


# Bit casts of one float64: a loop then takes floats apart value by value,
# not through arrays viewed as integers, and vectorizes whole.
@numba.extending.intrinsic
def _bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvmlite.ir.IntType(64))
    return numba.types.uint64(numba.types.float64), codegen


@numba.extending.intrinsic
def _float(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvmlite.ir.DoubleType())
    return numba.types.float64(numba.types.uint64), codegen


@numba.njit(inline="always", error_model="numpy")
def _power_log(v, c, pc, sign, positive):
    # (t, flag) for one value, without branches (see _power_loop)
    a = (v - c) * pc
    u = 1.0 + a
    ub = _bits(u)
    # u = 2**k * m, m in [sqrt(2)/2, sqrt(2)) (as _log_loop)
    high = (ub >> np.uint64(32)) + np.uint64(0x3ff00000 - 0x3fe6a09e)
    k = np.float64(np.int32(high >> np.uint64(20)) - np.int32(0x3ff))
    m = _float((((high & np.uint64(0xfffff)) + np.uint64(0x3fe6a09e)) << np.uint64(32))
               | (ub & np.uint64(0xffffffff)))
    t = _log1p_reduced(a, u, m, k)
    t = t if a == a and a != 0.0 else a  # NaN passes through (its bits give a number)
    # (a is NaN for a number where a parameter is not finite)
    flag = (v * sign < 0.0) | (positive & (v <= 0.0)) | (a <= -1.0) | (abs(a) == np.inf) \
        | ((a != a) & (v == v))
    return t, flag


@numba.njit(inline="always", error_model="numpy")
def _power_exp(t, l1, a1, b1, limit):
    # (y, flag) for one t, without branches.  expm1, not exp(w) - 1: a1
    # grows as the spread shrinks beside the mean, and would magnify exp's
    # rounding near 1.
    w = l1 * t
    hi, rest, scale_bits = _expm1_parts(w)
    s = _float(np.uint64(scale_bits))
    e = ((s - 1.0) + s * hi) + s * rest
    y = a1 * (t if l1 == 0.0 else e) + b1
    y = y if t == t else t
    return y, (abs(w) > 700.0) | (not abs(y) < limit) & (t == t)


@numba.njit(inline="always", error_model="numpy")
def _power_tile(x, dst, t, c, pc, l1, a1, b1, sign, positive, limit):
    # dst = y of x, the parameters tiled to x's length (t: scratch);
    # whether any value is flagged.  Two loops, each vectorized whole (one
    # took 25% longer).  Slices indexed from 0: numba's wrap of a negative
    # index would turn the loads into gathers.
    bad = False
    for i in range(x.shape[0]):
        t[i], flag = _power_log(np.float64(x[i]), c[i], pc[i], sign[i], positive)
        bad |= flag
    for i in range(x.shape[0]):
        dst[i], flag = _power_exp(t[i], l1[i], a1[i], b1[i], limit)
        bad |= flag
    return bad


@numba.njit(parallel=True, cache=_CACHE, error_model="numpy")
def _power_loop(x, out, d, c, pc, l1, a1, b1, sign, positive, limit, tile_rows, in_place,
                bounds, unusual):
    # The near side of skscale._maps.power's forward map on the flat
    # (C-order) x of rows of d values: t = log1p((x - c) * pc), y = a1 *
    # expm1(l1 * t) + b1, or a1 t + b1 where l1 is 0.  A row holding a value
    # on the other side (sign * x < 0), one the map refuses (positive only:
    # x <= 0), an infinity, an exponent beyond +-700, a result beyond
    # ``limit`` or NaN from a number is flagged for the numpy kernel and, in
    # place, left as it is; NaN passes through.  Tiles of whole rows run as
    # flat loops, the parameters repeated to the tile's length: along rows
    # of 20 values the vector loop left a scalar remainder on every row.
    size = tile_rows * d
    for blk in numba.prange(len(bounds) - 1):
        tc, tpc, tl1, ta1 = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
        tb1, tsign, buf = np.empty(size), np.empty(size), np.empty(size, out.dtype)
        tt = np.empty(size)
        for r in range(tile_rows):
            for j in range(d):
                i = r * d + j
                tc[i], tpc[i], tl1[i], ta1[i] = c[j], pc[j], l1[j], a1[j]
                tb1[i], tsign[i] = b1[j], sign[j]
        for r0 in range(bounds[blk], bounds[blk + 1], tile_rows):
            rows = min(tile_rows, bounds[blk + 1] - r0)
            s, n = r0 * d, rows * d
            # in place, the tile is written only once no row of it is flagged
            # (two calls: one slice chosen at run time would not vectorize)
            if in_place:
                bad = _power_tile(x[s:s + n], buf[:n], tt, tc, tpc, tl1, ta1, tb1, tsign,
                                  positive, limit)
            else:
                bad = _power_tile(x[s:s + n], out[s:s + n], tt, tc, tpc, tl1, ta1, tb1,
                                  tsign, positive, limit)
            if not bad:
                if in_place:
                    out[s:s + n] = buf[:n]
                continue
            for r in range(rows):
                row_bad = False
                for j in range(d):
                    t, flag = _power_log(np.float64(x[s + r * d + j]), c[j], pc[j], sign[j],
                                         positive)
                    _, flag2 = _power_exp(t, l1[j], a1[j], b1[j], limit)
                    row_bad |= flag | flag2
                if row_bad:
                    unusual[r0 + r] = 1
                elif in_place:
                    out[s + r * d:s + (r + 1) * d] = buf[r * d:(r + 1) * d]

# The loops below take one column of a DataFrame (a 1-D array); the caller
# runs them on several columns at once from a thread pool (nogil), so they
# are serial themselves and need no launch lock.  Each inner loop runs over
# a slice of the column from index 0, which it knows is not negative: over
# range(start, stop) numba's check for a negative index keeps the loop
# from vectorizing (3x slower).  The chunk loops are functions of their
# own, not inlined, because numba gives inlined code the caller's fastmath
# flags: each reduction here may reassociate, the merge of chunks may not.
# ``valid`` is None, or an Arrow validity bitmap (bit ``bit0 + i`` is 0
# where value i is a null): a polars column's values are read in place,
# nulls and all.  Each chunk of such a column is first copied into a buffer
# with NaN for its nulls (it stays in L1), so the loops over it are those of
# a column without nulls (choosing per value in each of them took 3x as long).
_CHUNK = 2048  # values a chunk: 16 KiB of float64, read again from L1


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _with_nan(x, valid, bit0, buf):
    # buf[:len(x)] = x, NaN where bit bit0 + i of valid is 0
    n = x.shape[0]
    whole = n // 8 if bit0 % 8 == 0 else 0
    byte0 = bit0 // 8
    for k in range(whole):  # a byte of the bitmap at a time: 2.7x faster
        byte = np.uint32(valid[byte0 + k])
        for b in range(8):
            v = np.float64(x[8 * k + b])
            buf[8 * k + b] = v if (byte >> np.uint32(b)) & np.uint32(1) else np.nan
    for i in range(8 * whole, n):
        v = np.float64(x[i])
        at = np.uint64(bit0 + i)
        present = (valid[at >> np.uint64(3)] >> (at & np.uint64(7))) & np.uint8(1)
        buf[i] = v if present != 0 else np.nan
    return buf[:n]


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc", "nsz"})
def _chunk_extremes(x, lo, hi):
    for i in range(x.shape[0]):  # a NaN compares false: skipped (3.7x faster than fmin)
        v = np.float64(x[i])
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    return lo, hi


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
def _chunk_sum(x):
    total, count = 0.0, 0.0
    for i in range(x.shape[0]):
        v = np.float64(x[i])
        total += v if v == v else 0.0
        count += 1.0 if v == v else 0.0
    return total, count


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
def _chunk_deviations(x, centre):
    dsum, squares = 0.0, 0.0
    for i in range(x.shape[0]):
        v = np.float64(x[i])
        dv = v - centre if v == v else 0.0
        dsum += dv
        squares += dv * dv
    return dsum, squares


@numba.njit(inline="always", error_model="numpy")
def _constant(x):
    # the non-NaN values of x, if they are all equal, else NaN
    value = np.nan
    for i in range(x.shape[0]):
        v = np.float64(x[i])
        if v == v:
            if value != value:
                value = v
            elif v != value:
                return np.nan
    return value


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _chunk_moments(x):
    # count, mean and M2 of the chunk: the corrected two-pass of ColumnStats
    total, c = _chunk_sum(x)
    if c == 0.0:
        return 0.0, 0.0, 0.0
    first_mean = total / c
    dsum, squares = _chunk_deviations(x, first_mean)
    m = first_mean + dsum / c
    s = squares - dsum * dsum / c
    if s <= 1e-8 * squares:  # a constant chunk is made exact (see _moments_loop)
        value = _constant(x)
        if value == value:
            m, s = value, 0.0
    return c, m, s


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _column_stats(x, valid, bit0, moments, extremes, out):
    # out = count, mean, M2, min, max of the non-NaN values (NaN where not
    # asked for); chunks merged as Chan, Golub & LeVeque.  Returns True for
    # an infinity or an overflow: the numpy path reports those.
    n = x.shape[0]
    count, mean, m2 = 0.0, 0.0, 0.0
    lo, hi = np.inf, -np.inf
    buf = np.empty(_CHUNK)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        if valid is None:
            if extremes:
                lo, hi = _chunk_extremes(x[start:stop], lo, hi)
            if not moments:
                continue
            c, m, s = _chunk_moments(x[start:stop])
        else:
            chunk = _with_nan(x[start:stop], valid, bit0 + start, buf)
            if extremes:
                lo, hi = _chunk_extremes(chunk, lo, hi)
            if not moments:
                continue
            c, m, s = _chunk_moments(chunk)
        if c == 0.0:
            continue
        if count == 0.0:
            count, mean, m2 = c, m, s
        else:
            merged = count + c
            delta = m - mean
            mean += delta * (c / merged)
            m2 += s + delta * delta * (count * c / merged)
            count = merged
    out[:] = np.nan
    unusual = False
    if extremes:
        unusual |= lo == -np.inf or hi == np.inf
        if lo <= hi:
            out[3], out[4] = lo, hi
    if moments:
        unusual |= not (abs(mean) < np.inf and m2 < np.inf)
        out[0], out[2] = count, m2
        if count > 0.0:
            out[1] = mean
    return unusual


@numba.njit(inline="always", error_model="numpy")
def _chunk_affine(x, out, first, scale, second, inverse, clip, low, high, limit):
    count = 0
    for i in range(x.shape[0]):
        raw = np.float64(x[i])
        if inverse:
            v = (raw - first) * scale + second
        else:
            v = (raw - first) / scale + second
        count += (not abs(v) < limit) - (raw != raw)
        if clip:
            v = low if v < low else (high if v > high else v)
        out[i] = v
    return count


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _nulls_to_nan(out, valid, bit0):
    # out[i] = NaN where bit bit0 + i of valid is 0, a bitmap byte at a time
    n = out.shape[0]
    whole = n // 8 if bit0 % 8 == 0 else 0
    for k in range(whole):
        byte = valid[bit0 // 8 + k]
        if byte != 255:
            for b in range(8):
                if not (byte >> b) & 1:
                    out[8 * k + b] = np.nan
    for i in range(8 * whole, n):
        at = bit0 + i
        if not (valid[at // 8] >> (at % 8)) & 1:
            out[i] = np.nan


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _column_affine(x, valid, bit0, out, first, scale, second, inverse, clip, low, high,
                   limit, nan_nulls):
    # _affine_row's map for one column, a null to NaN (unless not nan_nulls:
    # the output keeps the input's validity bitmap); returns the start of
    # the first chunk holding an infinity or a finite value that maps to a
    # non-finite one, or -1 (the caller reports it).  A chunk with nulls is
    # mapped as it is, whatever the buffer holds under them, and the nulls
    # are made NaN after; only if that finds a non-finite result is the
    # chunk mapped again from a copy with NaN for its nulls, to tell a bad
    # value from a null's.
    n = x.shape[0]
    buf = np.empty(_CHUNK)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        bad = _chunk_affine(x[start:stop], out[start:stop], first, scale, second,
                            inverse, clip, low, high, limit)
        if valid is not None:
            if bad > 0:
                bad = _chunk_affine(_with_nan(x[start:stop], valid, bit0 + start, buf),
                                    out[start:stop], first, scale, second, inverse, clip,
                                    low, high, limit)
            elif nan_nulls:
                _nulls_to_nan(out[start:stop], valid, bit0 + start)
        if bad > 0:
            return start
    return -1


# expm1 in the form that vectorizes (numba's calls the C library's, scalar:
# 3x slower than numpy's here), by fdlibm's exp: w = k ln 2 + r with k =
# rint(w / ln 2) and r = hi - lo (ln 2 split in two, so k ln 2 is exact),
# expm1(r) = r + r c / (2 - c) with c = r - r**2 P(r**2), P the minimax
# polynomial of fdlibm's exp, and expm1(w) = 2**k expm1(r) + (2**k - 1),
# where k = 0 for |w| < 0.34 keeps the relative accuracy near 0 (within 1 ulp
# of the exact value; tests/test_compiled.py measures it).  Beyond w = 709
# the result is inf (the moments that use it overflow there anyway: out of
# reach).  (A Taylor polynomial to r**13 instead of the quotient was 25%
# slower.)
_EXP_P = (1.66666666666666019037e-01, -2.77777777770155933842e-03,
          6.61375632143793436117e-05, -1.65339022054652515390e-06,
          4.13813679705723846039e-08)


@numba.njit(inline="always", error_model="numpy")
def _expm1_parts(w):
    # (hi, expm1(r) - hi, the bits of 2**k) for w clamped to [-60, 709]
    p1, p2, p3, p4, p5 = _EXP_P
    wc = min(max(w, -60.0), 709.0)
    k = np.floor(wc * _INV_LN2 + 0.5)
    hi = wc - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))))
    return hi, (r * c) / (2.0 - c) - lo, (np.int64(k) + np.int64(1023)) << np.int64(52)


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _expm1_chunk(x, lam, r, rest, scale_bits, scale, e):
    # e = expm1(lam x) over the chunk x (r, rest, scale: scratch), as
    # (2**k - 1) + 2**k hi, both exact, then + 2**k (expm1(r) - hi): within
    # an ulp where 2**k expm1(r) + (2**k - 1) is not (just above ln 2 / 2).
    m = x.shape[0]
    for i in range(m):
        r[i], rest[i], scale_bits[i] = _expm1_parts(lam * x[i])
    for i in range(m):
        s = scale[i]
        ei = ((s - 1.0) + s * r[i]) + s * rest[i]
        e[i] = np.inf if lam * x[i] > 709.0 else ei


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _g_chunk(x, lam, inv, series, e, g, gl):
    # g = expm1(lam t) / lam and g_l = d g / d lam from e = expm1(lam t)
    m = x.shape[0]
    if lam == 0.0:
        for i in range(m):
            g[i], gl[i] = x[i], 0.5 * x[i] * x[i]
    elif series:
        for i in range(m):
            t = x[i]
            w = lam * t
            g[i] = e[i] * inv
            gl[i] = t * t * (0.5 + w * (1 / 3 + w * (1 / 8 + w * (1 / 30 + w / 144))))
    else:
        for i in range(m):
            t = x[i]
            gi = e[i] * inv
            g[i] = gi
            gl[i] = (t * (1.0 + e[i]) - gi) * inv


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
def _chunk_sums(g, gl):
    sum_g, sum_l = 0.0, 0.0
    for i in range(g.shape[0]):
        sum_g += g[i]
        sum_l += gl[i]
    return sum_g, sum_l


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
def _chunk_co_deviations(g, gl, centre):
    resid, sq, co = 0.0, 0.0, 0.0
    for i in range(g.shape[0]):
        dev = g[i] - centre
        resid += dev
        sq += dev * dev
        co += dev * gl[i]
    return resid, sq, co


_MOMENT_CHUNK = 2048


@numba.njit(nogil=True, cache=_CACHE, error_model="numpy")
def _power_moments(v, lam, series, out):
    # out = (n, mean, M2) of g = expm1(lam t) / lam (t at lam = 0) over the
    # values t of v, the mean of g_l = d g / d lam, and the co-moment of g
    # and g_l: skscale._lambdas._branch_moments for one lambda, in one read
    # of v.  Two passes over each chunk (in L1), chunks merged by Chan's
    # update; g_l by its series in w = lam t where ``series`` (every |w| <
    # 1e-3), else (t (1 + e) - g) / lam.
    n = v.shape[0]
    inv = 1.0 / lam if lam != 0.0 else 0.0
    size = min(_MOMENT_CHUNK, n)
    r, rest, e = np.empty(size), np.empty(size), np.empty(size)
    g, gl = np.empty(size), np.empty(size)
    scale = np.empty(size)
    scale_bits = scale.view(np.int64)
    count, mean, m2, mean_l, cm = 0.0, 0.0, 0.0, 0.0, 0.0
    for a in range(0, n, _MOMENT_CHUNK):
        m = min(_MOMENT_CHUNK, n - a)
        x = v[a:a + m]
        if lam != 0.0:
            _expm1_chunk(x, lam, r[:m], rest[:m], scale_bits[:m], scale[:m], e[:m])
        _g_chunk(x, lam, inv, series, e[:m], g[:m], gl[:m])
        sum_g, sum_l = _chunk_sums(g[:m], gl[:m])
        centre = sum_g / m
        resid, sq, co = _chunk_co_deviations(g[:m], gl[:m], centre)
        mb = centre + resid / m
        mlb = sum_l / m
        sq -= resid * resid / m
        co -= mlb * resid
        total = count + m
        d, dl = mb - mean, mlb - mean_l
        w_ab = count * m / total
        m2 += sq + d * d * w_ab
        cm += co + d * dl * w_ab
        mean += d * (m / total)
        mean_l += dl * (m / total)
        count = total
    out[0], out[1], out[2], out[3], out[4] = count, mean, m2, mean_l, cm
