"""Fused loops for the hottest kernels, compiled by numba when it is installed.

numba is optional (the ``fast`` extra).  Where it is present, the per-feature
affine map, log scaling, the power transforms (and the moments their
fit evaluates at each lambda), unit norm, group normalization, the column
statistics (moments and extremes per row block, and their merge) and, for
DataFrames, one column's statistics and affine map run as
compiled loops (:mod:`skscale._loops`) that read each value once (a row or a
block again from cache), compute in float64 and write the rounded result once
-- where numpy needs a separate pass per operation, and for float32 data two
more for the conversions.  The affine loop and the merge perform the same
float64 operations in the same order as their numpy counterparts, so they
agree bit for bit; the other loops sum in another order, or (log) evaluate
log1p by their own polynomial, so they agree to rounding
(``tests/test_compiled.py`` checks them all).

The compiled layer may make skscale faster, never make it fail: numba is
imported only when a loop is first wanted (:func:`wanted`, which the kernels
ask), inputs too small to gain take the numpy kernels, the loops are cached
in a user cache directory (never in the package folder) or, where none is
writable, compiled in each process, and a numba that cannot be loaded leaves
the numpy kernels in charge.
"""

import functools
import os
import tempfile
import threading
import warnings
from contextlib import contextmanager

import numpy as np

from . import _config

#: Arrays of fewer values take the numpy kernels under ``compiled="auto"``:
#: below this the compiled loops are no faster (z-score fit_transform on 2
#: cores: 1e6 values, 6-7 ms numpy against 13-16 ms compiled; 4e6, 19-22
#: against 16-25; 1.6e7 with 50 columns, 103 against 67), while loading them
#: costs a process about 0.8 s from the cache and 5 s or more to compile
#: (benchmarks/README.md, first-call latency).
MIN_SIZE = 4_000_000

_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def wanted(X, seen=0):
    """Whether the compiled loops should process the array ``X``: enabled by
    :func:`skscale.set_config`, numba importable, a float32 or float64 array
    and (under ``"auto"``) at least :data:`MIN_SIZE` values, counting with
    its own the ``seen`` values of earlier batches of the same stream (a ``partial_fit``
    over many small batches is worth loading them for; whether it takes them
    depends on the stream alone, not on what else the process ran)."""
    mode = _config._CONFIG["compiled"]
    if mode is False or X.dtype not in _DTYPES or (mode == "auto"
                                                   and X.size + seen < MIN_SIZE):
        return False
    return _load() is not None


def loaded():
    """Whether the compiled loops are enabled and already loaded (for work
    too small to be worth loading them, which they do bit for bit alike)."""
    return _config._CONFIG["compiled"] is not False and _load.cache_info().currsize > 0 \
        and _load() is not None


def cache_dir():
    """Where the compiled loops are cached: the first writable of
    ``$SKSCALE_CACHE_DIR``, ``$NUMBA_CACHE_DIR`` and ``skscale`` in the user
    cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``); None when none is."""
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for path in (os.environ.get("SKSCALE_CACHE_DIR"), os.environ.get("NUMBA_CACHE_DIR"),
                 os.path.join(user, "skscale")):
        if path and _writable(path):
            return path
    return None


def _writable(path):
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


@functools.cache
def _load():
    """The module of numba loops, imported once; None without numba."""
    try:
        import numba
    except ImportError:
        return None
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # GNU OpenMP, numba's usual pick, kills a process forked after it ran
        # ("fork() called from a process already using GNU OpenMP"): that is
        # multiprocessing's and joblib's default start on Linux.  Ask for a
        # layer that survives a fork (TBB where installed, else numba's own
        # workqueue); a layer the user names in the environment is theirs.
        numba.config.THREADING_LAYER = "forksafe"
    try:
        # numba picks a function's cache directory when it is decorated: point
        # it at ours for skscale's loops only, and put the user's back.
        saved, numba.config.CACHE_DIR = numba.config.CACHE_DIR, cache_dir() or ""
        try:
            from . import _loops as loops
        finally:
            numba.config.CACHE_DIR = saved
    except Exception as err:  # a broken numba must not break skscale
        warnings.warn(f"skscale could not load its compiled loops ({err!r}); the numpy"
                      " kernels run instead.", RuntimeWarning, stacklevel=3)
        return None
    return loops


# The float64 magnitude from which rounding to float32 gives infinity: the
# largest float32 plus half its ulp (a tie rounds to even, i.e. to infinity).
_FLOAT32_OVERFLOW = 2.0 ** 128 - 2.0 ** 103


# Groups of at least this many features are summed along each row; shorter
# ones across a transposed tile of rows (on 2,000,000 x 50, groups of 10:
# 1.1-1.4 C across tiles against 1.5-1.9 C along rows; groups of 50: equal
# in float64, and along rows faster in float32, whose tiles convert twice).
LONG_GROUP = 32
# A tile of rows is at most TILE_ROWS rows and TILE_BYTES of float64: it
# stays in the L2 cache while four passes run over it.
TILE_ROWS = 128
TILE_BYTES = 1 << 18


_LAUNCH = threading.Lock()


def _forget_launch_lock():
    """A forked child starts with the lock free (another thread of the
    parent may have held it at the fork)."""
    global _LAUNCH
    _LAUNCH = threading.Lock()


os.register_at_fork(after_in_child=_forget_launch_lock)


@contextmanager
def _parallel(n_threads):
    """Run one parallel loop at a time, on ``n_threads`` threads: numba's
    workqueue threading layer (its fallback where neither TBB nor OpenMP is
    installed) aborts the process on launches from several threads at once,
    and the other layers would only oversubscribe the cores."""
    numba = _load().numba
    with _LAUNCH:
        numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))
        yield


def affine_loop(X, out, center, scale, shift, inverse, bounds, n_threads):
    """The map of :func:`skscale._kernels.affine` in one compiled pass.

    A missing operand takes the value that changes nothing, bit for bit:
    ``x - 0.0``, ``x / 1.0`` and ``x + (-0.0)`` return ``x`` itself (``-0.0``
    included, which ``+ 0.0`` would turn to ``+0.0``).  Returns the first
    row in which the input holds an infinity or a finite input scaled to a
    non-finite result (before clipping), or -1: the caller reports it.
    """
    d = X.shape[1]

    def operand(values, neutral):
        if values is None:
            return np.full(d, neutral)
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.float64), (d,)))

    first, second = (shift, center) if inverse else (center, shift)
    low, high = bounds if bounds is not None else (0.0, 0.0)
    bad = np.zeros(X.shape[0], dtype=np.uint8)  # one byte a row: 1/8 of a float64 column
    # Clipped results are finite; unclipped float32 ones can overflow on rounding.
    limit = _FLOAT32_OVERFLOW if out.dtype == np.float32 and bounds is None else np.inf
    args = (operand(first, 0.0), operand(scale, 1.0), operand(second, -0.0), bool(inverse),
            bounds is not None, float(low), float(high), limit, bad)
    with _parallel(n_threads):
        if out is X:
            _load()._affine_in_place(X, *args)
        else:
            _load()._affine_loop(X, out, *args)
    return int(bad.argmax()) if bad.any() else -1


def group_norm_loop(X, out, bounds, n_groups, eps, gamma, beta, n_threads):
    """Layer, instance or group normalization of every row in one compiled
    pass, over the blocks of rows ``bounds[b]:bounds[b + 1]``.

    ``gamma`` and ``beta`` hold one value per feature.  Returns the rows the
    loop left unwritten for the numpy kernel, which handles and reports them:
    those with an unusual group (a NaN or an infinity, a zero or overflowing
    spread).
    """
    n_features = X.shape[1]
    unusual = np.zeros(X.shape[0], dtype=np.uint8)  # one byte a row
    args = (n_groups, float(eps), gamma, beta, unusual)
    with _parallel(n_threads):
        if n_features // n_groups >= LONG_GROUP:
            _load()._group_norm_rows(X, out, bounds, *args)
        else:
            tile = max(1, min(TILE_ROWS, TILE_BYTES // (8 * n_features)))
            _load()._group_norm_tiles(X, out, bounds, tile, *args)
    return np.flatnonzero(unusual)


def unit_norm_loop(X, out, norm, n_threads):
    """Unit-norm scaling of every row in one compiled pass.  Returns the rows
    left unwritten for the numpy kernel: those with an infinity, an
    overflowing norm, or a norm below 2**-450 from a row not all zeros."""
    unusual = np.zeros(X.shape[0], dtype=np.uint8)
    with _parallel(n_threads):
        _load()._unit_norm_loop(X, out, {"l1": 0, "l2": 1, "max": 2}[norm], unusual)
    return np.flatnonzero(unusual)


def log_loop(X, out, shift, log_base, bounds, n_threads):
    """``out = log1p(X - shift) / log_base`` over the blocks of rows
    ``bounds[b]:bounds[b + 1]`` (``out`` may be ``X``).  Returns the first
    row holding a value with ``X - shift <= -1`` or an infinity, which the
    loop leaves untouched for the caller to report, or -1.
    """
    bad = np.zeros(X.shape[0], dtype=np.uint8)
    shift = np.ascontiguousarray(shift, dtype=np.float64)
    with _parallel(n_threads):
        _load()._log_loop(X, out, shift, float(log_base), bounds, bad)
    return int(bad.argmax()) if bad.any() else -1


#: Rows of a tile of the power loop: about this many values a tile, so its
#: scratch (the parameters repeated along it) stays in L1.
POWER_TILE = 512


def power_loop(X, out, P, box_cox, bounds, n_threads):
    """The near side of :func:`skscale._maps.power`'s forward map in one
    compiled pass over the blocks of rows ``bounds[b]:bounds[b + 1]`` of the
    C-contiguous ``X`` (``out``, also C-contiguous, may be ``X``), with its
    per-feature arrays ``P``.  Returns the rows left for the numpy kernel
    (unwritten where ``out`` is ``X``): those with a value on the far side
    of the reference point, one the map refuses, an infinity, an exponent
    beyond +-700 or a result beyond ``out``'s type."""
    n, d = X.shape
    unusual = np.zeros(n, dtype=np.uint8)
    sign = np.zeros(d) if box_cox else np.ascontiguousarray(P["sign"], dtype=np.float64)
    args = [np.ascontiguousarray(P[k], dtype=np.float64) for k in ("c", "pc", "l1", "a1", "b1")]
    limit = _FLOAT32_OVERFLOW if out.dtype == np.float32 else np.inf
    with _parallel(n_threads):
        _load()._power_loop(X.reshape(-1), out.reshape(-1), d, *args, sign, bool(box_cox),
                            limit, max(1, POWER_TILE // max(d, 1)), np.may_share_memory(X, out),
                            bounds, unusual)
    return np.flatnonzero(unusual)


def power_moments_loop(v, lam, series):
    """``(n, mean, M2, mean_l, C)`` of ``g = expm1(lam t) / lam`` and its
    derivative in ``lam`` over the values ``t`` of the 1-D float64 array
    ``v``, for one ``lam`` (:func:`skscale._lambdas._branch_moments`), in
    one read of ``v``; serial and free of the GIL, so columns can run on
    threads."""
    out = np.empty(5)
    _load()._power_moments(np.ascontiguousarray(v, dtype=np.float64), float(lam), bool(series),
                           out)
    return out


def batch_stats_loop(X, bounds, moments, extremes, n_threads):
    """Statistics of each block of rows ``bounds[b]:bounds[b + 1]`` of a
    C-contiguous ``X``, stacked after a first, empty part: an array of shape
    ``(5, len(bounds), n_features)`` holding count, mean, M2, min and max
    (NaN where not asked for).  None when some block holds an infinity, or a
    NaN or overflow in its moments: the numpy path skips or reports those.
    """
    n_blocks = len(bounds) - 1
    s = np.full((5, n_blocks + 1, X.shape[1]), np.nan)
    unusual = np.zeros(n_blocks, dtype=np.uint8)
    if moments:
        s[0, 0] = s[2, 0] = 0.0  # the empty part: no weight, no spread
    with _parallel(n_threads):
        if moments:
            _load()._moments_loop(X, bounds, s[0, 1:], s[1, 1:], s[2, 1:], unusual)
        if extremes:
            _load()._extremes_loop(X, bounds, s[3, 1:], s[4, 1:], unusual)
    return None if unusual.any() else s


def column_stats_loop(X, bounds, moments, extremes, prior, n_threads):
    """:func:`batch_stats_loop` merged with ``prior`` (a ``(5, n_features)``
    array of count, mean, M2, min and max, or None): the ``(5, n_features)``
    statistics of all rows, or None as :func:`batch_stats_loop` says."""
    s = batch_stats_loop(X, bounds, moments, extremes, n_threads)
    if s is None:
        return None
    if prior is not None:
        s[:, 0] = prior
    out = np.empty((5, X.shape[1]))
    _load()._combine_loop(s[0], s[1], s[2], s[3], s[4], out)
    return out


def combine_loop(count, mean, m2, low, high):
    """:meth:`skscale._stats.ColumnStats.combine` on stacked ``(parts,
    n_features)`` fields: the merged count, mean, M2, min and max."""
    out = np.empty((5, count.shape[1]))
    _load()._combine_loop(count, mean, m2, low, high, out)
    return out


def one_column_stats_loop(x, valid, moments, extremes):
    """Count, mean, M2, min and max of the non-NaN values of the 1-D array
    ``x`` (a DataFrame's column; NaN where not asked for), or None when it
    holds an infinity or its moments overflow: the numpy path reports
    those.  ``valid`` is None or ``(bitmap, offset)``: an Arrow validity
    bitmap whose bit ``offset + i`` is 0 where ``x[i]`` is a null, which
    counts as NaN.  Serial and free of the GIL, so columns can run on
    threads."""
    out = np.empty(5)
    bitmap, bit0 = (None, 0) if valid is None else valid
    return None if _load()._column_stats(x, bitmap, bit0, moments, extremes, out) else out


def one_column_affine_loop(x, valid, out, center, scale, shift, inverse, bounds, nan_nulls=True):
    """The map of :func:`affine_loop` for one 1-D column with scalar parameters
    (None where skipped), serial and free of the GIL; a null (``valid``, as
    in :func:`one_column_stats`) maps to NaN, or, if not ``nan_nulls``, to
    whatever the map gives (for an output that keeps ``valid``).  Returns the slice of
    ``x`` in which it found an infinity or a value that maps to a non-finite
    one, or None: the caller reports it."""
    first, second = (shift, center) if inverse else (center, shift)
    low, high = bounds if bounds is not None else (0.0, 0.0)
    limit = _FLOAT32_OVERFLOW if out.dtype == np.float32 and bounds is None else np.inf
    loops = _load()
    bitmap, bit0 = (None, 0) if valid is None else valid
    at = loops._column_affine(
        x, bitmap, bit0, out, 0.0 if first is None else float(first),
        1.0 if scale is None else float(scale), -0.0 if second is None else float(second),
        bool(inverse), bounds is not None, float(low), float(high), limit, bool(nan_nulls))
    return None if at < 0 else slice(at, at + loops._CHUNK)
