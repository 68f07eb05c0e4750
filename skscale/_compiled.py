"""Fused loops for the hottest kernels, compiled by numba when it is installed.

numba is optional (the ``fast`` extra).  Where it is present, the per-feature
affine map, unit norm, group normalization and batch moments run as parallel
loops that read each value once (a row or a batch again from cache), compute in float64 and write the
rounded result once -- where numpy needs a separate pass per operation, and
for float32 data two more for the conversions.  The affine loop performs the
same float64 operations in the same order as the numpy kernel, so the two
agree bit for bit; the per-sample loops sum in another order, so they agree
to rounding (``tests/test_compiled.py`` checks all three).  Without numba
everything runs on the numpy kernels.
"""

import numpy as np

try:
    import numba
except ImportError:  # the numpy kernels serve
    numba = None

AVAILABLE = numba is not None

if AVAILABLE:

    # error_model="numpy": x / 0 is inf, as in numpy, not an exception.
    @numba.njit(parallel=True, cache=True, error_model="numpy")
    def _affine_loop(x, out, first, scale, second, inverse, clip, low, high):
        n, d = x.shape
        bad = np.zeros(n, dtype=np.uint8)  # one byte a row: 1/8 of a float64 column
        for i in numba.prange(n):
            count = 0
            for j in range(d):
                raw = np.float64(x[i, j])
                if inverse:
                    v = (raw - first[j]) * scale[j] + second[j]
                else:
                    v = (raw - first[j]) / scale[j] + second[j]
                pre = v  # checked before clipping, which would hide an infinity
                if clip:
                    v = low if v < low else (high if v > high else v)
                out[i, j] = v
                stored = out[i, j]  # rounding into float32 can overflow on its own
                # non-finite results beyond the NaN inputs passed through
                count += ((pre - pre != 0.0) | (stored - stored != 0.0)) - (raw != raw)
            bad[i] = count > 0
        return bad.max() > 0


    # reassoc: the sums may be reordered (vectorized); they agree with the
    # numpy kernel's to rounding, and the corrected two-pass keeps constant
    # groups exact (every deviation is the same small multiple of an ulp).
    @numba.njit(parallel=True, cache=True, error_model="numpy", fastmath={"reassoc"})
    def _group_norm_loop(x, out, n_groups, eps, gamma, beta):
        n, n_features = x.shape
        size = n_features // n_groups
        unusual = np.zeros(n, dtype=np.uint8)
        for i in numba.prange(n):
            row, out_row = x[i], out[i]
            for g in range(n_groups):
                start = g * size
                total = 0.0
                for t in range(start, start + size):
                    total += np.float64(row[t])
                if total - total != 0.0:
                    unusual[i] = 1  # NaN or infinity in the group: numpy handles it
                    continue
                mean0 = total / size
                dsum, squares = 0.0, 0.0
                for t in range(start, start + size):
                    dv = np.float64(row[t]) - mean0
                    dsum += dv
                    squares += dv * dv
                dmean = dsum / size
                std = np.sqrt(max(squares / size - dmean * dmean, 0.0) + eps)
                if not (std > 0.0 and std < np.inf):
                    unusual[i] = 1  # zero (eps = 0, constant) or overflowing spread
                    continue
                mean = mean0 + dmean
                for t in range(start, start + size):
                    out_row[t] = (np.float64(row[t]) - mean) / std * gamma[t] + beta[t]
        return unusual.max() > 0

    @numba.njit(parallel=True, cache=True, error_model="numpy")
    def _unit_norm_loop(x, out, kind):
        # kind: 0 = l1, 1 = l2, 2 = max; NaN is ignored in the norm
        n, d = x.shape
        unusual = np.zeros(n, dtype=np.uint8)
        for i in numba.prange(n):
            norm = 0.0
            for j in range(d):
                v = np.float64(x[i, j])
                if v == v:
                    if kind == 0:
                        norm += abs(v)
                    elif kind == 1:
                        norm += v * v
                    else:
                        norm = max(norm, abs(v))
            if kind == 1:
                norm = np.sqrt(norm)
            if not norm < np.inf:
                unusual[i] = 1  # an infinity, or squares that overflow: numpy handles it
                continue
            if norm == 0.0:
                norm = 1.0  # a zero row stays zero
            for j in range(d):
                out[i, j] = np.float64(x[i, j]) / norm
        return unusual.max() > 0


    @numba.njit(parallel=True, cache=True, error_model="numpy", fastmath={"reassoc"})
    def _batch_moments_loop(x, batch_size, mean, m2):
        n_batches, d = mean.shape
        unusual = np.zeros(n_batches, dtype=np.uint8)
        for b in numba.prange(n_batches):
            first = b * batch_size
            total = np.zeros(d)
            for r in range(first, first + batch_size):
                for j in range(d):
                    total[j] += np.float64(x[r, j])
            for j in range(d):
                if total[j] - total[j] != 0.0:
                    unusual[b] = 1  # NaN, infinity or overflow: numpy handles it
                total[j] /= batch_size  # now the first-pass mean
            dsum, squares = np.zeros(d), np.zeros(d)
            for r in range(first, first + batch_size):
                for j in range(d):
                    dv = np.float64(x[r, j]) - total[j]
                    dsum[j] += dv
                    squares[j] += dv * dv
            for j in range(d):  # the corrected two-pass of ColumnStats
                mean[b, j] = total[j] + dsum[j] / batch_size
                m2[b, j] = squares[j] - dsum[j] * dsum[j] / batch_size
        return unusual.max() > 0


def affine(X, out, center, scale, shift, inverse, bounds, n_threads):
    """The map of :func:`skscale._kernels.affine` in one compiled pass.

    A missing operand takes the value that changes nothing, bit for bit:
    ``x - 0.0``, ``x / 1.0`` and ``x + (-0.0)`` return ``x`` itself (``-0.0``
    included, which ``+ 0.0`` would turn to ``+0.0``).  Returns True when
    some finite input gave a non-finite result or the input holds an
    infinity: the caller then reports it with the numpy kernel's messages.
    """
    d = X.shape[1]

    def operand(values, neutral):
        if values is None:
            return np.full(d, neutral)
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.float64), (d,)))

    first, second = (shift, center) if inverse else (center, shift)
    low, high = bounds if bounds is not None else (0.0, 0.0)
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))
    return _affine_loop(X, out, operand(first, 0.0), operand(scale, 1.0),
                        operand(second, -0.0), bool(inverse), bounds is not None,
                        float(low), float(high))


def group_norm(X, out, n_groups, eps, gamma, beta, n_threads):
    """Layer, instance or group normalization of every row in one compiled pass.

    ``gamma`` and ``beta`` hold one value per feature.  Returns False when
    some group is unusual (a NaN or an infinity, a zero or overflowing
    spread): the caller then runs the numpy kernel, which handles and reports
    those.
    """
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))
    return not _group_norm_loop(X, out, n_groups, float(eps), gamma, beta)


def unit_norm(X, out, norm, n_threads):
    """Unit-norm scaling of every row in one compiled pass; False when some
    row is unusual (an infinity, an overflowing norm) and the numpy kernel
    must take over."""
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))
    return not _unit_norm_loop(X, out, {"l1": 0, "l2": 1, "max": 2}[norm])


def batch_moments(X, batch_size, n_threads):
    """Mean and M2 of each consecutive batch of ``batch_size`` rows, or None
    when some batch holds a NaN or an infinity (the numpy path handles it)."""
    n_batches = X.shape[0] // batch_size
    mean, m2 = np.empty((n_batches, X.shape[1])), np.empty((n_batches, X.shape[1]))
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))
    return None if _batch_moments_loop(X, batch_size, mean, m2) else (mean, m2)
