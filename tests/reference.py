"""Machine-independent references for the tests.

numpy's log1p, expm1, log10, ... dispatch to different SIMD code on different
CPUs, and so can differ in the last bit from one machine to another: a test
never takes them as exact.  These references evaluate at 80 bits with mpmath
and round once, so they are the correctly rounded values on every machine.
"""

import mpmath
import numpy as np



def correctly_rounded(fn, x):
    """``fn`` (an mpmath function) of every value of ``x``, correctly rounded to float64."""
    x = np.asarray(x, dtype=np.float64)
    with mpmath.workprec(80):
        return np.array([float(fn(mpmath.mpf(float(v)))) if np.isfinite(v) else np.nan
                         for v in x.ravel()]).reshape(x.shape)


def ulps(actual, expected):
    """``|actual - expected|`` in units in the last place of ``expected``
    (0 where both are NaN)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    both_nan = np.isnan(actual) & np.isnan(expected)
    diff = np.abs(actual - expected) / np.spacing(np.abs(expected))
    return np.where(both_nan, 0.0, diff)


#: The accuracy LogScaler documents for ``log1p``: its compiled loop is within
#: 0.85 ulp; numpy's log1p, which the numpy kernel calls, within 1 ulp on the
#: C library and on the SIMD code of AVX-512 machines (measured up to 1 ulp).
LOG1P_ULPS = 1.0


def assert_close(actual, expected, rtol=1e-12):
    """Equal to rtol relative to the largest magnitude in each column."""
    scale = np.nanmax(np.abs(expected), axis=0, keepdims=True)
    scale[~(scale > 0)] = 1.0
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=0, atol=rtol)
