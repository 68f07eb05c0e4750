"""Fused loops for the hottest kernel, compiled by numba when it is installed.

numba is optional (the ``fast`` extra).  Where it is present, the per-feature
affine map runs as one parallel loop that reads each value once, computes in
float64 and writes the rounded result once -- where numpy needs a separate
pass per operation, and for float32 data two more for the conversions.  The
loop performs the same float64 operations in the same order as the numpy
kernel, so the two agree bit for bit (``tests/test_compiled.py`` checks it);
without numba everything runs on the numpy kernels.
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
        bad = np.zeros(n, dtype=np.int64)
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
            bad[i] = count
        return bad.max() > 0


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
