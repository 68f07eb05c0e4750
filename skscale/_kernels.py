"""Chunked row-block execution shared by every estimator.

Scaling is memory-bound, so every kernel walks the data once in blocks of
rows small enough to stay in cache while a handful of in-place numpy
operations run on them, and never allocates a temporary the size of ``X``.
Blocks run on a small thread pool: numpy releases the GIL inside its loops.

Two kernels live here:

* :func:`affine` -- the per-feature map ``y = (x - center) / scale + shift``
  that min-max, z-score, decimal and batch-norm scaling all reduce to;
* :func:`grouped` -- a per-sample map over groups of contiguous features,
  which serves unit norm and layer, instance and group normalization.
"""

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

from . import _compiled

# About this many bytes of float64 per block: large enough that the Python
# overhead of a block (tens of microseconds over its numpy calls) is small
# beside its work, small enough that a block and its work buffer stay in the
# shared L3 cache while several passes run over them.  Measured on 2 cores
# (2,000,000 x 50): 2 MiB fits in 1.9 R and transforms in 0.9 C; 512 KiB
# blocks took 5 R and 1.7 C.
BLOCK_BYTES = 1 << 21

# Column-wise numpy operations on a (rows, d) block run their inner loop once
# per row, only d elements long: for narrow data the per-row overhead, not the
# memory, would set the speed.  Viewing k consecutive rows of a C-contiguous
# block as one row of k*d elements (a free reshape) and tiling per-feature
# operands k times makes every inner loop about WIDE elements long.
WIDE = 8192

_POOL = None
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()


def _forget_threads():
    """In a forked child: the parent's pool object survives the fork, its
    threads do not (a task handed to it would wait forever), and a lock
    another thread held at the fork stays held.  Start both afresh."""
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_threads)


def scratch(shape, slot=0):
    """A float64 work array of ``shape``, reused by the calling thread.

    Fresh block-sized temporaries would cost more than the work on them:
    allocations this large are new pages from the kernel every time, each
    faulted in on first touch.  ``slot`` tells apart buffers that are live
    at the same time.
    """
    size = int(np.prod(shape))
    buffers = getattr(_LOCAL, "buffers", None)
    if buffers is None:
        buffers = _LOCAL.buffers = {}
    buf = buffers.get(slot)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1))
        if size * 8 <= 4 * BLOCK_BYTES:  # keep only block-sized buffers for reuse
            buffers[slot] = buf
    return buf[:size].reshape(shape)


@functools.cache
def _blas_libraries():
    # Finding the loaded libraries takes milliseconds; asking them is cheap.
    return ThreadpoolController().select(user_api="blas").lib_controllers


def _n_threads():
    """Threads for row blocks: the CPUs we may use, capped by any BLAS limit
    the caller set with threadpoolctl (so a caller's ``threadpool_limits(1)``
    keeps skscale single-threaded too)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return max(1, min([n, *(lib.num_threads for lib in _blas_libraries())]))


def fold(n_features):
    """How many rows :func:`widen` folds into one wide row."""
    return max(1, WIDE // max(n_features, 1))


def block_rows(n_features):
    """Rows per block for arrays with ``n_features`` columns: a multiple of
    :func:`fold`, so every block but the last can be widened."""
    k = fold(n_features)
    return max(k, BLOCK_BYTES // (max(n_features, 1) * 8) // k * k)


@functools.lru_cache(maxsize=64)  # partial_fit asks again for every batch
def block_bounds(n_rows, n_features):
    """Row bounds of nearly equal blocks of about :data:`BLOCK_BYTES`: block
    ``b`` is rows ``bounds[b]:bounds[b + 1]``.  They depend on the shape
    alone, never on the number of threads, so a reduction merged block by
    block gives the same bits on any machine.  The array is shared by
    every caller asking for the same blocks: read it, never write it.  (It
    stays writeable because numba's dispatcher takes a slow path for a
    read-only argument: 15 us a call against 5.)"""
    n_blocks = max(1, -(-n_rows // block_rows(n_features)))
    return np.arange(n_blocks + 1) * n_rows // n_blocks


def widen(a, k):
    """View a C-contiguous ``(rows, d)`` block with ``rows % k == 0`` as
    ``(rows / k, k * d)``; any other block is returned as it is."""
    if k > 1 and a.shape[0] % k == 0 and a.flags.c_contiguous:
        return a.reshape(-1, k * a.shape[1])
    return a


def column_reduce(ufunc, a, k, dtype=None):
    """``ufunc.reduce(a, axis=0, dtype=dtype)`` computed on the widened view of ``a``."""
    wide = widen(a, k)
    result = ufunc.reduce(wide, axis=0, dtype=dtype)
    if wide is not a:
        result = ufunc.reduce(result.reshape(k, a.shape[1]), axis=0)
    return result


class PerFeature:
    """A per-feature operand (or None; a scalar stands for every feature) with
    its tiled copy for wide views of ``d``-feature blocks."""

    def __init__(self, values, k, d):
        if values is not None:
            values = np.broadcast_to(np.asarray(values, dtype=np.float64), (d,))
        self.plain = values
        self.wide = None if values is None else np.tile(values, k)

    def for_(self, a, view):
        return self.wide if view is not a else self.plain


def for_each_block(n_rows, n_features, fn, rows_per_block=None):
    """Call ``fn(slice)`` over consecutive row slices; return results in order.

    Blocks are spread over threads when there is more than one block and more
    than one thread.
    """
    step = rows_per_block or block_rows(n_features)
    n_blocks = -(-n_rows // step)
    k = fold(n_features)
    if rows_per_block is None:
        # Nearly equal blocks, each of whole widened rows.  They depend on
        # the shape alone, never on the number of threads: reductions merged
        # block by block give the same bits however many threads run them.
        step = -(-n_rows // max(n_blocks, 1))
        step = max(-(-step // k) * k, 1)
    slices = [slice(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]
    if rows_per_block is None and n_rows % k and n_rows > k:
        # Cut the ragged end off the last block, so that all but a sliver of
        # fewer than k rows can still be widened.
        last = slices.pop()
        cut = last.stop - n_rows % k
        slices += [s for s in (slice(last.start, cut), slice(cut, last.stop)) if s.stop > s.start]
    # Within one block a thread hand-off costs more than it saves.
    n_threads = _n_threads() if len(slices) > 1 else 1
    n_threads = min(n_threads, len(slices))
    if n_threads == 1:
        return [fn(s) for s in slices]
    global _POOL
    with _POOL_LOCK:  # callers on several threads share one pool
        if _POOL is None or _POOL._max_workers < n_threads:
            # (the old pool finishes what it holds; calls that took it keep it)
            _POOL = ThreadPoolExecutor(n_threads, thread_name_prefix="skscale")
        pool = _POOL
    # One task per thread, each a contiguous run of blocks: a task costs tens
    # of microseconds of hand-offs, a block's loop iteration only its own work.
    runs = np.array_split(np.arange(len(slices)), n_threads)
    futures = [pool.submit(lambda run: [fn(slices[i]) for i in run], run) for run in runs]
    # Wait for every run before raising: a run still writing into the
    # caller's array after the call has raised would be a surprise.
    wait(futures)
    return [result for future in futures for result in future.result()]


def column_label(j, feature_names=None):
    """How an error message names column ``j``."""
    if feature_names is not None:
        return f"column {feature_names[j]!r}"
    return f"column {j}"


def raise_non_finite(X, nan_mask, row0, feature_names, result=None,
                     reason="the fitted scale is far too small for this value"):
    """Raise a ``ValueError`` naming the first infinite value of block ``X``
    or, given the block's ``result``, the first finite value that scaled to a
    non-finite one (an overflow of the output type), and ``reason`` why."""
    inf = ~nan_mask & ~np.isfinite(X)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise ValueError(
            f"Input contains infinity ({float(X[i, j])}) in {column_label(j, feature_names)}"
            f" at row {row0 + i}; scaling needs finite values (NaN is allowed and"
            " passed through).")
    if result is not None:
        bad = ~nan_mask & ~np.isfinite(result)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            label = column_label(j, feature_names)
            raise ValueError(
                f"{label[0].upper()}{label[1:]} at row {row0 + i}: {float(X[i, j])!r}"
                f" scales to {float(result[i, j])}, beyond the range of {result.dtype};"
                f" {reason}.")


def check_finite(X, feature_names=None):
    """Raise if dense ``X`` holds an infinity (NaN is allowed), block by block."""
    @np.errstate(over="ignore", invalid="ignore")  # finite checks below report
    def run(rows):
        x = X[rows]
        if not np.isfinite(np.add.reduce(x, axis=None)):
            raise_non_finite(x, np.isnan(x), rows.start, feature_names)

    for_each_block(X.shape[0], X.shape[1], run)


def affine(X, out, center, scale, shift, *, inverse=False, bounds=None,
           feature_names=None):
    """Apply ``y = (x - center) / scale + shift`` per feature, block by block.

    With ``inverse=True`` apply ``x = (y - shift) * scale + center``.  Any of
    ``center``, ``scale`` and ``shift`` may be None (skipped); ``bounds``
    clips the result to ``(low, high)``.  Subtracting the center first keeps
    the result accurate to the last bit even far from zero (``x * a + b``
    loses ``|x * a| / |y|`` ulps to cancellation).  The arithmetic is float64
    whatever the dtypes, so a float32 result is the float32 rounding of the
    float64 one.  ``out`` may be ``X`` itself (in place).  An infinite input
    raises a ``ValueError`` naming its column; NaN passes through.  A feature
    with a NaN parameter (a training column that was all NaN) maps to NaN.
    """
    params, unknown = _known_parameters(X.shape[1], center, scale, shift)
    if unknown is not None:
        center, scale, shift = params
    if _compiled.wanted(X):
        row = _compiled.affine(X, out, center, scale, shift, inverse, bounds, _n_threads())
        if row >= 0:
            _report_row(X, out, row, center, scale, shift, inverse, feature_names)
    else:
        _affine_numpy(X, out, center, scale, shift, inverse, bounds, feature_names)
    if unknown is not None:
        out[:, unknown] = np.nan
    return out


def affine_columns(columns, out, center, scale, shift, *, inverse=False, bounds=None,
                   feature_names=None, nan_nulls=True):
    """:func:`affine` of a DataFrame's columns (:class:`skscale._frames.Columns`):
    column ``j`` into ``out[j]``, with the same float64 operations, so the
    results are those of the frame's 2-D array bit for bit.  A null of a
    column read with its validity bitmap maps to NaN, or, if not
    ``nan_nulls`` (the output keeps the bitmap), to what the map gives."""
    arrays = columns.arrays
    params, unknown = _known_parameters(len(arrays), center, scale, shift)
    params = [None if p is None else np.broadcast_to(np.asarray(p, np.float64), (len(arrays),))
              for p in params]
    left = [(j, slice(None)) for j in range(len(arrays))]
    if _compiled.wanted(columns):
        def run(js):
            found = []
            for j in range(js.start, js.stop):
                bad = _compiled.one_column_affine(
                    arrays[j], columns.valid[j], out[j],
                    *(None if p is None else p[j] for p in params), inverse, bounds,
                    nan_nulls)
                if bad is not None:  # the numpy kernel below names the value
                    found.append((j, bad))
            return found

        # columns on threads (the loops run free of the GIL)
        left = [f for part in for_each_block(len(arrays), 1, run, rows_per_block=1) for f in part]
    for j, rows in left:
        _affine_numpy(columns.column(j)[rows, None], out[j][rows, None],
                      *(None if p is None else p[j] for p in params), inverse, bounds,
                      [j if feature_names is None else feature_names[j]],
                      row0=rows.start or 0)
        if rows.stop is not None:  # a compiled loop stopped there: this raised
            raise AssertionError("the compiled and numpy kernels disagree")  # pragma: no cover
    if unknown is not None:
        out[unknown] = np.nan
    return out


def _known_parameters(d, *params):
    """The affine parameters with the NaN of unknown features replaced by
    values that change nothing (so no check mistakes their NaN output for
    an overflow), and those features' indices; None when there are none."""
    arrays = [None if p is None else np.broadcast_to(np.asarray(p, np.float64), (d,))
              for p in params]
    nan = np.zeros(d, dtype=bool)
    for a in arrays:
        if a is not None:
            nan |= np.isnan(a)
    if not nan.any():
        return params, None
    neutral = (0.0, 1.0, 0.0)
    return [None if a is None else np.where(nan, v, a) for a, v in zip(arrays, neutral)], \
        np.flatnonzero(nan)


def _report_row(X, out, row, center, scale, shift, inverse, feature_names):
    """Raise the error of the numpy kernel for a row in which the compiled
    loop found an infinite input or an overflowing result."""
    if out is X:
        raise _in_place_error(row, out.dtype)
    x = X[row:row + 1]
    _affine_numpy(x, np.empty(x.shape, out.dtype), center, scale, shift, inverse, None,
                  feature_names, row0=row)
    raise AssertionError("the compiled and numpy kernels disagree")  # pragma: no cover


def _in_place_error(row, dtype):
    # The row's inputs are overwritten by now: name the row only.
    return ValueError(
        f"Row {row} holds an infinity, or a value that scales beyond the range of"
        f" {dtype}; scaling needs finite values (NaN is allowed and passed through)."
        " With copy=False X has been scaled in place all the same.")


def _affine_numpy(X, out, center, scale, shift, inverse, bounds, feature_names, row0=0):
    """:func:`affine` by numpy operations on row blocks; ``row0`` is the
    row number of ``X[0]`` in error messages."""
    k = fold(X.shape[1])
    direct = out.dtype == np.float64
    first, second = (shift, center) if inverse else (center, shift)
    steps = [(PerFeature(v, k, X.shape[1]), op) for v, op in (
        (first, np.subtract), (scale, np.multiply if inverse else np.divide),
        (second, np.add)) if v is not None]

    @np.errstate(over="ignore", invalid="ignore")  # finite checks below report
    def run(rows):
        x, y = X[rows], out[rows]
        xw, yw = widen(x, k), widen(y, k)
        if xw.shape != yw.shape:  # one side could not be widened
            xw, yw = x, y
        # Work in float64; the last operation writes (and so rounds) into out.
        work = yw if direct else scratch(yw.shape)
        src = xw
        for i, (operand, op) in enumerate(steps):
            dst = yw if i == len(steps) - 1 and bounds is None else work
            op(src, operand.for_(y, yw), out=dst)
            src = dst
        if bounds is not None:
            # check before clipping, which would hide an infinity
            if not np.isfinite(np.add.reduce(src, axis=None)):
                report(x, src.reshape(x.shape), row0 + rows.start)
            np.clip(src, *bounds, out=yw)
        elif src is not yw:
            yw[...] = src
        if not np.isfinite(column_reduce(np.add, y, k)).all():
            report(x, y, row0 + rows.start)

    def report(x, result, first_row):
        if out is X:  # from finite inputs only infinities arise, never NaN
            bad = np.flatnonzero(np.isinf(result).any(axis=1))
            if bad.size:
                raise _in_place_error(first_row + int(bad[0]), out.dtype)
        else:
            raise_non_finite(x, np.isnan(x), first_row, feature_names, result)

    for_each_block(X.shape[0], X.shape[1], run)
    return out


def redo_rows(X, out, rows, kernel, feature_names=None):
    """Run ``kernel(x, y)`` (a numpy kernel writing the map of the rows ``x``
    into ``y``) on the ``rows`` of ``X`` that a compiled loop left unwritten,
    and store the results in ``out``.  The rows are gathered a block at a
    time, so memory stays block-sized and, in place, the other rows -- done
    already -- are not scaled twice.  An infinity among them raises, naming
    its row in ``X``."""
    step = block_rows(X.shape[1])
    for start in range(0, len(rows), step):
        idx = rows[start:start + step]
        x = X[idx]
        inf = np.isinf(x).any(axis=1)
        if inf.any():
            i = int(idx[inf.argmax()])
            raise_non_finite(X[i:i + 1], np.isnan(X[i:i + 1]), i, feature_names)
        y = np.empty(x.shape, dtype=out.dtype)
        kernel(x, y)
        out[idx] = y


def grouped(X, out, n_groups, stats_fn, apply_fn, *, keep_stats=True, feature_names=None):
    """Per-sample map over ``n_groups`` groups of contiguous features.

    Each block of rows is viewed in float64 as ``(rows, n_groups, group_size)``;
    ``stats_fn(view)`` returns per-(row, group) statistics (an array or a
    tuple of arrays) and ``apply_fn(view, stats, work)`` writes the result
    into ``work``, a float64 array of the same shape (``out`` itself where it
    is float64).  With ``out=None`` only the statistics are computed.
    Returns ``out`` and, when ``keep_stats``, the statistics of all rows
    stacked along the first axis (else None: a transform need not hold them).
    """
    n_rows, n_features = X.shape
    # Row blocks of out are reshaped in place, which only a C-ordered out allows.
    direct = out is not None and out.dtype == np.float64 and out.flags.c_contiguous

    @np.errstate(over="ignore", invalid="ignore")  # finite checks below report
    def run(rows):
        x = X[rows]
        shape = (x.shape[0], n_groups, n_features // n_groups)
        if x.dtype != np.float64 or not x.flags.c_contiguous:
            x64 = scratch(x.shape, slot=1)
            x64[...] = x
            x = x64
        x = x.reshape(shape)
        stats = stats_fn(x)
        # Statistics of finite groups are finite: only a block whose
        # statistics are not needs the look for an infinity (NaN is allowed).
        if not all(np.isfinite(s).all() for s in (stats if isinstance(stats, tuple) else (stats,))):
            raise_non_finite(X[rows], np.isnan(X[rows]), rows.start, feature_names)
        if out is not None:
            work = out[rows] if direct else scratch(out[rows].shape, slot=2)
            apply_fn(x, stats, work.reshape(shape))
            if not direct:
                out[rows] = work
        return stats if keep_stats else None

    parts = for_each_block(n_rows, n_features, run)
    if not keep_stats:
        return out, None
    if isinstance(parts[0], tuple):
        return out, tuple(np.concatenate(p) for p in zip(*parts))
    return out, np.concatenate(parts)
