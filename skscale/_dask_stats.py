"""Dask reductions of the statistics that the quantile, squashing and power
scalers learn from: one per block of whole rows on the workers, merged in a
tree, only the merged statistics on the client.

A thin layer over :mod:`skscale._dask`'s blocks and tree, for statistics
other than :class:`~skscale._stats.ColumnStats` and plain sketches; it holds
no method's logic (each method passes the function that summarizes one
block and the one that merges two summaries).
"""

import functools

from . import _dask


def reduce(est, X, summarize, merge, *args):
    """``summarize(est, x, *args)`` on each block ``x`` of whole rows of the
    dask collection ``X`` (validated as ``est`` validates an in-memory
    batch, frames as columns), merged by ``merge(a, b)``; the client gets
    the merged summary.  An error in a block names the block."""
    import dask

    blocks, where = _dask._row_blocks(X)
    of = dask.delayed(_summary, pure=True)
    parts = [of(est, b, summarize, args, at) for b, at in zip(blocks, where)]
    (merged,) = dask.compute(_dask._tree(parts, functools.partial(_merge_all, merge)))
    if merged is None:  # no rows at all: the in-memory refusal of an empty array
        est._validate(_dask._probe(X, rows=0), reset=False)
        raise ValueError(f"{type(est).__name__} got a dask collection with no rows.")
    return merged


def _summary(est, block, summarize, args, where):
    if len(block) == 0:
        return None
    with _dask._Located(where):
        x = est._validate(block, reset=False, columns=True)
        return summarize(est, x, *args)


def _merge_all(merge, parts):
    parts = [p for p in parts if p is not None]
    return functools.reduce(merge, parts[1:], parts[0]) if parts else None
