"""Row blocks: how every kernel walks its data, on a few threads.

Scaling is memory-bound, so every kernel walks the data once in blocks of
rows small enough to stay in cache while a handful of in-place numpy
operations run on them, and never allocates a temporary the size of ``X``.
Blocks run on a small thread pool: numpy releases the GIL inside its loops.
This module cuts the rows into blocks (the same blocks whatever the number
of threads, so reductions give the same bits anywhere), runs a function on
each, and lends each thread reusable scratch buffers and widened views of
narrow blocks.  It knows nothing of what the functions compute.
"""

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

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


def n_threads():
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
    threads = min(n_threads(), len(slices)) if len(slices) > 1 else 1
    if threads == 1:
        return [fn(s) for s in slices]
    global _POOL
    with _POOL_LOCK:  # callers on several threads share one pool
        if _POOL is None or _POOL._max_workers < threads:
            # (the old pool finishes what it holds; calls that took it keep it)
            _POOL = ThreadPoolExecutor(threads, thread_name_prefix="skscale")
        pool = _POOL
    # One task per thread, each a contiguous run of blocks: a task costs tens
    # of microseconds of hand-offs, a block's loop iteration only its own work.
    runs = np.array_split(np.arange(len(slices)), threads)
    futures = [pool.submit(lambda run: [fn(slices[i]) for i in run], run) for run in runs]
    # Wait for every run before raising: a run still writing into the
    # caller's array after the call has raised would be a surprise.
    wait(futures)
    return [result for future in futures for result in future.result()]
