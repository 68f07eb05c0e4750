"""Dask arrays and DataFrames: statistics on the workers, transforms per block.

This module may touch dask collections and call the estimators' own
in-memory methods on their blocks; it holds no method's logic.  A fit
computes one :class:`~skscale._stats.ColumnStats` per block of whole rows on
the workers and merges them in a tree of :meth:`ColumnStats.combine` calls,
so only statistics reach the client; the estimator then learns its
parameters from them exactly as in memory.  Rank statistics (the robust scaler's quantiles) are KLL sketches per block,
merged in the same tree.  Batch normalization computes the
statistics of its mini-batches on the workers and folds them, in row order,
on the client.  ``transform``, ``inverse_transform`` and ``sample_stats`` are
lazy: the estimator's own in-memory method mapped over the blocks, with the
input's chunks (a DataFrame keeps its index and column names).

dask is imported only here, and only once an input is a dask collection;
:func:`is_dask` tells one without importing it.  The estimators call in with
a line or two in each of ``BaseScaler._validate`` (the metadata), ``ColumnScaler``'s
``_update`` and ``_run``, ``BatchNormScaler``'s ``fit``, ``_batch_stats`` and
``_normalize``, and ``RowScaler``'s ``fit``, ``transform``, ``sample_stats``
and ``inverse_transform``.

Blocks are never written in place (dask may hand the same block to other
tasks), so ``copy=False`` copies.  An error found in a block is the
in-memory error, prefixed with the block it is in; its row numbers count
from the block's first row.  Lazy results raise theirs at ``compute()``.
"""

import functools
import itertools
import math

import numpy as np

from . import _ranks
from ._quantiles import Sketches
from ._stats import ColumnStats

#: Statistics merged per node of the tree (dask's own default for reductions).
SPLIT_EVERY = 8


def is_dask(X):
    """Whether ``X`` is a dask collection, told without importing dask."""
    return type(X).__module__.partition(".")[0] in ("dask", "dask_expr")


def validate(est, X, reset):
    """Check ``X``'s metadata as ``est._validate`` checks an in-memory batch:
    the number of features, their names and order, the dtypes (a frame's
    non-numeric columns are named) -- on one row of stand-in values, reading
    no data.  Returns the dtype ``est`` computes ``X`` in (and its
    transforms return)."""
    return est._validate(_probe(X), reset=reset).dtype


def dtype(est, X):
    """The dtype that ``est`` computes ``X`` in (and its transforms return)."""
    return est._validate(_probe(X), reset=False).dtype


def merged_stats(est, X, sample_weight=None, what=None, prior=None):
    """:class:`ColumnStats` of all rows of ``X``, merged with ``prior``.

    One ``ColumnStats.from_array`` per block of whole rows on the workers
    (the statistics ``what`` names, by default those ``est`` learns from),
    merged in a tree; the client receives only the merged statistics.

    Parameters
    ----------
    est : ColumnScaler
        The estimator, its metadata validated (it validates each block).
    X : dask.array.Array or dask.dataframe.DataFrame
        The rows.
    sample_weight : array-like or dask collection of shape (n_samples,), default=None
        Non-negative row weights; an in-memory one is split along ``X``'s
        row blocks, a dask one rechunked to them.
    what : tuple of str, default=None
        ``"moments"`` and/or ``"extremes"``; None for ``est._stats_needed``.
    prior : ColumnStats, default=None
        Statistics of earlier rows.

    Returns
    -------
    stats : ColumnStats
    """
    import dask

    blocks, where = _row_blocks(X)
    weights = _weight_blocks(sample_weight, X, blocks)
    what = est._stats_needed if what is None else what
    stats_of = dask.delayed(_stats_of_block, pure=True)
    parts = [stats_of(est, b, w, what, at) for b, w, at in zip(blocks, weights, where)]
    (stats,) = dask.compute(_tree(parts))
    if stats is None:  # no rows at all: the in-memory refusal of an empty array
        est._validate(_probe(X, rows=0), reset=False)
        raise ValueError(f"{type(est).__name__} got a dask collection with no rows.")
    return stats if prior is None else prior.merge(stats)


def reduce(est, X, summarize, merge, *args):
    """``summarize(est, x, *args)`` of each block ``x`` of whole rows of
    ``X`` on the workers (validated as ``est`` validates an in-memory batch,
    a frame's columns read in place), merged two at a time by
    ``merge(a, b)`` in a tree; the client receives only the merged summary.
    An error in a block names the block.  For statistics other than
    :class:`ColumnStats` (:func:`merged_stats` also takes weights)."""
    import dask

    blocks, where = _row_blocks(X)
    summary_of = dask.delayed(_summary_of_block, pure=True)
    parts = [summary_of(est, b, summarize, args, at) for b, at in zip(blocks, where)]
    (merged,) = dask.compute(_tree(parts, functools.partial(_merge_pairwise, merge)))
    if merged is None:  # no rows at all: the in-memory refusal of an empty array
        est._validate(_probe(X, rows=0), reset=False)
        raise ValueError(f"{type(est).__name__} got a dask collection with no rows.")
    return merged


def merged_sketches(est, X, k):
    """:class:`~skscale._quantiles.Sketches` of size ``k`` of all rows of
    ``X``, one per column (what :func:`skscale._ranks.sketch` folds in,
    infinities skipped where ``est._skips_infinite``): per block on the
    workers, merged in a tree."""
    return reduce(est, X, _sketches_of_block, _merged_copy, k)


def batch_steps(est, X):
    """``(n_samples, steps)`` of ``BatchNormScaler.fit`` on ``X``.

    ``steps`` yields ``(first_row, stats)`` in row order: the statistics of
    one mini-batch, or a stack of consecutive whole ones, as ``_fold``
    takes them.  Each block computes the batches inside it at once
    (``ColumnStats.per_batch``) and the pieces of those that cross its edges
    (merged here, exactly, with the pieces from the next block), so no row
    moves between workers.  The mini-batches are those of the in-memory fit
    (``est._n_full``: the 1-row tail rule); the row count is the one pass
    over the data beyond the statistics, and only where the chunk sizes
    are unknown (always for a DataFrame).
    """
    import dask

    blocks, where = _row_blocks(X)
    lengths = _lengths(X, blocks)
    n = sum(lengths)
    n_full = est._n_full(n)
    starts = itertools.accumulate(lengths[:-1], initial=0)
    pieces_of = dask.delayed(_batch_pieces, pure=True)
    pieces = dask.compute(*[pieces_of(est, b, int(r0), n_full, at)
                            for b, r0, at in zip(blocks, starts, where)])
    return n, _batches(itertools.chain.from_iterable(pieces), est.batch_size)


def map_rows(est, X, method, *args, sample_stats=None, validated=False):
    """``est.<method>(block, *args)`` on each block of whole rows, lazily.

    Parameters
    ----------
    est : BaseScaler
        The estimator whose in-memory method runs on the blocks.
    X : dask.array.Array or dask.dataframe.DataFrame
        The rows, their metadata validated.
    method : str or callable
        The method's name, or a function called as ``method(est, block, *args)``.
    *args
        Its further arguments.
    sample_stats : array, tuple of arrays, or dask collections, default=None
        Per-sample statistics aligned with ``X``'s rows, passed (one block's
        rows of them) as the method's second argument.
    validated : bool, default=False
        Whether the method wants each block validated first (as the private
        methods do).

    Returns
    -------
    dask.array.Array or dask.dataframe.DataFrame
        ``X``'s chunks (a DataFrame: its index and columns), in the dtype
        of ``est``'s transforms.
    """
    out = _map(X, sample_stats, est=est, method=method, args=args, validated=validated,
               out_dtype=dtype(est, X), width=X.shape[1], flat=False)
    return out if _is_frame(X) else out.rechunk(X.chunks)


def sample_stats(est, X):
    """A per-sample scaler's ``sample_stats`` of ``X``, lazily: what the
    in-memory method returns (an array, or a tuple of them), each a dask
    array with ``X``'s row chunks -- or, for a DataFrame, a dask Series or
    DataFrame (columns 0, 1, ...) with its index."""
    probe = est.sample_stats(_probe(X))  # the structure: how many arrays, how wide
    parts = probe if isinstance(probe, tuple) else (probe,)
    widths = [int(np.prod(p.shape[1:])) for p in parts]
    # All of them side by side, from one call per block; then cut apart.
    flat = _map(X, est=est, method="sample_stats", args=(), validated=False,
                out_dtype=np.result_type(*parts), width=sum(widths), flat=True)
    ends = list(itertools.accumulate(widths, initial=0))
    out = []
    for a, b, p in zip(ends, ends[1:], parts):
        if not _is_frame(X):
            out.append(flat[:, a] if p.ndim == 1 else flat[:, a:b])
        else:
            out.append(flat[a] if p.ndim == 1 else
                       flat[list(range(a, b))].rename(columns=lambda c, a=a: c - a))
    return tuple(out) if isinstance(probe, tuple) else out[0]


def _map(X, sample_stats=None, **kw):
    """:func:`_on_block` (an array) or :func:`_on_partition` (a DataFrame) on
    each block of whole rows: a collection of ``kw["width"]`` columns."""
    if _is_frame(X):
        import pandas as pd

        aligned, kw["layout"] = _aligned_frames(sample_stats, X)
        meta = pd.DataFrame(np.empty((0, kw["width"]), kw["out_dtype"]), index=X._meta.index,
                            columns=None if kw["flat"] else X._meta.columns)
        return X.map_partitions(_on_partition, *aligned, meta=meta, **kw)
    whole = X.rechunk({1: -1})  # a row of features must be whole in its block
    aligned, kw["layout"] = _aligned_arrays(sample_stats, whole)
    return whole.map_blocks(_on_block, *aligned, dtype=kw["out_dtype"],
                            chunks=(whole.chunks[0], (kw["width"],)),
                            meta=np.empty((0, 0), kw["out_dtype"]), **kw)


# --------------------------------------------------------------------------
# Blocks and what runs on them (on the workers)
# --------------------------------------------------------------------------
def _is_frame(X):
    return hasattr(X, "columns") and hasattr(X, "map_partitions")


def _probe(X, rows=1):
    """``rows`` rows in ``X``'s dtypes and columns (ones for an array, dask's
    stand-in values for a frame), made without reading ``X``."""
    if _is_frame(X):
        from dask.dataframe.utils import meta_nonempty

        return meta_nonempty(X._meta).iloc[:rows]
    shape = getattr(X, "shape", ())
    if len(shape) == 2 and not math.isnan(shape[1]) and hasattr(X, "rechunk"):
        return np.ones((rows, shape[1]), dtype=X.dtype)
    raise ValueError(
        f"skscale takes a 2-D dask array or a dask DataFrame; got a {type(X).__name__}"
        f"{f' of shape {shape}' if shape else ''}. Reshape an array of one feature"
        " with X.reshape(-1, 1), a Series with X.to_frame().")


def _row_blocks(X):
    """``(blocks, where)``: ``X``'s blocks of whole rows as delayed objects,
    and how an error message names each."""
    if _is_frame(X):
        blocks = list(X.to_delayed())
        return blocks, [f"dask partition {i}" for i in range(len(blocks))]
    X = X.rechunk({1: -1})  # a row of features must be whole in its block
    rows = X.chunks[0]
    if any(math.isnan(r) for r in rows):
        where = [f"dask block {i}" for i in range(len(rows))]
    else:
        ends = list(itertools.accumulate(rows, initial=0))
        where = [f"dask block {i} (rows {a}..{b - 1})" for i, (a, b) in
                 enumerate(zip(ends, ends[1:]))]
    return list(X.to_delayed()[:, 0]), where


def _lengths(X, blocks):
    """The number of rows of each block: from the chunks where dask knows
    them, else counted on the workers."""
    if not _is_frame(X) and not any(math.isnan(r) for r in X.chunks[0]):
        return list(X.chunks[0])
    import dask

    return list(dask.compute(*[dask.delayed(len, pure=True)(b) for b in blocks]))


def _weight_blocks(sample_weight, X, blocks):
    """``sample_weight`` split along ``X``'s row blocks (None for each without)."""
    if sample_weight is None:
        return [None] * len(blocks)
    lengths = _lengths(X, blocks)
    n = sum(lengths)
    if is_dask(sample_weight):
        w = sample_weight
        if hasattr(w, "to_dask_array"):  # a dask Series
            w = w.to_dask_array(lengths=True)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)!")
        return list(w.rechunk((tuple(lengths),)).to_delayed())
    from sklearn.utils.validation import _check_sample_weight

    w = _check_sample_weight(sample_weight, np.empty((n, 0)), dtype=np.float64,
                             ensure_non_negative=True)
    return np.split(w, np.cumsum(lengths)[:-1])


class _Located:
    """Re-raise a ``ValueError`` from a block with the block's name in front
    (its subclasses, which callers may catch by type, pass unchanged)."""

    def __init__(self, where):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if kind is ValueError:
            raise ValueError(f"In {self.where} (row numbers count from its first row):"
                             f" {err}") from err


def _stats_of_block(est, block, w, what, where):
    """A block's ``ColumnStats`` (None for an empty block: validation refuses
    empty input, and an empty block is no error)."""
    if len(block) == 0:
        return None
    from sklearn.utils.validation import _check_sample_weight

    with _Located(where):
        x = est._validate(block, reset=False)  # the in-memory conversion and checks
        if w is not None:
            w = _check_sample_weight(w, x, dtype=np.float64, ensure_non_negative=True)
        return ColumnStats.from_array(x, w, est._feature_names(), what)


def _summary_of_block(est, block, summarize, args, where):
    """:func:`reduce`'s summary of one block (None for an empty block:
    validation refuses empty input, and an empty block is no error)."""
    if len(block) == 0:
        return None
    with _Located(where):
        x = est._validate(block, reset=False, columns=True)
        return summarize(est, x, *args)


def _merge_pairwise(merge, parts):
    parts = [p for p in parts if p is not None]
    return functools.reduce(merge, parts[1:], parts[0]) if parts else None


def _sketches_of_block(est, x, k):
    return _ranks.sketch(x, Sketches(x.shape[1], k), est._feature_names(),
                         skip_infinite=est._skips_infinite)


def _merged_copy(a, b):
    return a.copy().merge(b)


def _combine(parts):
    parts = [p for p in parts if p is not None]
    return ColumnStats.combine(parts) if parts else None


def _tree(parts, merge=_combine):
    """The merge of ``parts`` (delayed ColumnStats, or other mergeable
    statistics, or None) as a tree of ``merge`` calls (by default
    ``ColumnStats.combine``) of :data:`SPLIT_EVERY` parts each."""
    import dask

    combine = dask.delayed(merge, pure=True)
    while len(parts) > 1:
        parts = [combine(parts[i:i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


def _batch_pieces(est, block, row0, n_full, where):
    """The statistics of the mini-batches in one block whose first row is row
    ``row0`` of the whole: a list of ``(batch, stats, whole)`` in row order,
    ``whole`` for a stack of consecutive whole batches (``per_batch``), else
    the moments of a piece of batch ``batch`` (it crosses the block's edge).
    Batches ``0 .. n_full - 1`` hold ``batch_size`` rows; batch ``n_full``
    is the rest."""
    if len(block) == 0:
        return []
    bs, names, pieces = est.batch_size, est._feature_names(), []
    with _Located(where):
        x = est._validate(block, reset=False)
        at, stop = row0, row0 + x.shape[0]
        while at < stop:
            k = min(at // bs, n_full)
            m = min((stop - at) // bs, n_full - k) if at == k * bs else 0
            if m:
                rows = x[at - row0:at - row0 + m * bs]
                pieces.append((k, ColumnStats.per_batch(rows, bs, names, row0=at - row0), True))
                at += m * bs
            else:
                end = stop if k == n_full else min(stop, (k + 1) * bs)
                piece = ColumnStats.from_array(x[at - row0:end - row0], feature_names=names,
                                               what=("moments",))
                pieces.append((k, piece, False))
                at = end
    return pieces


def _batches(pieces, batch_size):
    """``(first_row, stats)`` of each stack of whole batches and each batch
    assembled from its pieces, in row order."""
    pending = []  # the pieces of one batch, in row order
    for k, stats, whole in pieces:
        if pending and pending[0][0] != k:
            yield pending[0][0] * batch_size, ColumnStats.combine([s for _, s in pending])
            pending = []
        if whole:
            yield k * batch_size, stats
        else:
            pending.append((k, stats))
    if pending:
        yield pending[0][0] * batch_size, ColumnStats.combine([s for _, s in pending])


def _aligned_arrays(sample_stats, X):
    """``(arrays, layout)``: per-sample statistics as 2-D dask arrays with
    ``X``'s row chunks (so each block meets its own rows), and what
    :func:`_rebuild` needs to give them back their shapes."""
    if sample_stats is None:
        return (), None
    import dask.array as da

    parts = sample_stats if isinstance(sample_stats, tuple) else (sample_stats,)
    n, arrays = X.shape[0], []
    if math.isnan(n):
        raise ValueError("X's row chunk sizes are unknown (X.compute_chunk_sizes() finds them);"
                         " inverse_transform needs them to give each block its rows of"
                         " sample_stats.")
    for s in parts:
        if hasattr(s, "to_dask_array"):  # a dask Series or DataFrame
            s = s.to_dask_array(lengths=True)
        s = s if is_dask(s) else da.asarray(np.asarray(s, dtype=np.float64))
        if s.ndim not in (1, 2) or s.shape[0] != n:
            raise ValueError(
                f"sample_stats must be what sample_stats(X) returned for these {n} rows;"
                f" got an array of shape {s.shape}.")
        arrays.append((s[:, None] if s.ndim == 1 else s).rechunk((X.chunks[0], -1)))
    return arrays, (isinstance(sample_stats, tuple), [s.ndim for s in parts])


def _aligned_frames(sample_stats, X):
    """``(frames, layout)``: per-sample statistics of a DataFrame's rows, which
    must be dask collections with its partitions (as ``sample_stats(X)``
    returns them)."""
    if sample_stats is None:
        return (), None
    parts = sample_stats if isinstance(sample_stats, tuple) else (sample_stats,)
    if not all(getattr(s, "npartitions", None) == X.npartitions for s in parts):
        raise ValueError(
            "With a dask DataFrame, pass as sample_stats what sample_stats(X) returned"
            f" for it: dask collections of {X.npartitions} partitions, like X's.")
    return parts, (isinstance(sample_stats, tuple), None)


def _rebuild(stats, layout):
    """One block's rows of per-sample statistics, shaped as the method takes them."""
    as_tuple, ndims = layout
    if ndims is not None:  # 2-D blocks of arrays that were 1-D
        stats = [s[:, 0] if d == 1 else s for s, d in zip(stats, ndims)]
    return tuple(stats) if as_tuple else stats[0]


def _call(x, stats, est, method, args, validated, layout, flat, where):
    """``est.<method>`` on one block: with its rows of ``stats``, its result
    flattened to one 2-D float array when ``flat``."""
    if stats:
        args = (_rebuild(stats, layout), *args)
    with _Located(where):
        if validated:
            x = est._validate(x, reset=False)
        out = method(est, x, *args) if callable(method) else getattr(est, method)(x, *args)
    if flat:
        parts = out if isinstance(out, tuple) else (out,)
        out = np.column_stack([p.reshape(p.shape[0], -1) for p in parts])
    return out


def _on_block(x, *stats, out_dtype, width, flat, block_info=None, **kw):
    """:func:`_call` on a block of a dask array."""
    if x.shape[0] == 0:  # validation refuses empty input; an empty block is no error
        return np.empty((0, width), out_dtype)
    rows = block_info[0]["array-location"][0]
    where = f"dask block {block_info[0]['chunk-location'][0]} (rows {rows[0]}..{rows[1] - 1})"
    return _call(x, stats, flat=flat, where=where, **kw)


def _on_partition(part, *stats, out_dtype, width, flat, partition_info=None, **kw):
    """:func:`_call` on a partition of a dask DataFrame: a frame with its index
    (and columns, unless ``flat``)."""
    import pandas as pd

    columns = None if flat else part.columns
    if len(part) == 0:
        return pd.DataFrame(np.empty((0, width), out_dtype), index=part.index, columns=columns)
    where = f"dask partition {(partition_info or {}).get('number', '?')}"
    out = _call(part, stats, flat=flat, where=where, **kw)
    return pd.DataFrame(out, index=part.index, columns=columns)


def reservoir(est, X, size, seed):
    """The :class:`~skscale._sample.Reservoir` of ``size`` rows of ``X``: a
    uniform sample of all its rows, each block's drawn on its worker (keys
    seeded by ``seed`` and the block's number, positions in block order),
    merged in a tree."""
    import dask

    blocks, where = _row_blocks(X)
    sample_of = dask.delayed(_reservoir_of_block, pure=True)
    parts = [sample_of(est, b, size, seed, i, at) for i, (b, at) in enumerate(zip(blocks, where))]
    (merged,) = dask.compute(_tree(parts, functools.partial(_merge_pairwise, _merged_reservoir)))
    if merged is None:
        est._validate(_probe(X, rows=0), reset=False)
        raise ValueError(f"{type(est).__name__} got a dask collection with no rows.")
    return merged


def _reservoir_of_block(est, block, size, seed, part, where):
    from ._sample import PART_SHIFT, Reservoir

    if len(block) == 0:
        return None
    with _Located(where):
        x = est._validate(block, reset=False)
        return Reservoir.of(x, size, seed, part=part, first=part << PART_SHIFT)


def _merged_reservoir(a, b):
    return a.merge(b)
