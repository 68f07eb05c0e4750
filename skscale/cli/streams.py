"""Files streamed through estimators chunk by chunk: fit, and map to a new file.

It may touch what :mod:`.tables` reads and :mod:`.outputs` writes, the
estimator it is given (``fit``, ``partial_fit``, AutoScaler's first pass
``_observe`` and the call it is asked to map) and a progress bar on the
terminal's stderr.  How a stream of chunks is cut into ``partial_fit``
batches is the estimator's own ``_stream_batches``; every fit goes through
:func:`fit_stream`.
"""

import contextlib
import itertools
import os
import sys

import numpy as np

from sklearn.base import clone

from . import tables
from .columns import WideInteger, frame, to_matrix
from .errors import CLIError, NotANumber, in_rows, note
from .models import is_per_sample
from .outputs import output

#: Seconds before the progress bar appears: runs shorter than that stay silent.
PROGRESS_DELAY = 0.5


def progress(chunks, total, label, quiet):
    """``chunks`` with a progress bar on a terminal's stderr (tqdm, extra
    ``cli``; without it, or with ``--quiet``, no bar)."""
    bar = None
    if not quiet and sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            bar = tqdm(total=total, desc=label, unit="rows", unit_scale=True, delay=PROGRESS_DELAY,
                       leave=False, file=sys.stderr)
    try:
        for table in chunks:
            yield table
            if bar is not None:
                bar.update(table.num_rows)
    finally:
        if bar is not None:
            bar.close()


def matrices(data, args, columns, dtype, read=None, floats=None, text=False):
    """``(first_row, table, X, masks)`` per chunk of ``data``; refuses a
    file without rows.

    ``read`` limits the columns read (None: all); ``floats`` are the CSV
    columns to parse as float64 (None: ``columns``); ``text``: read the
    other CSV columns as text.
    """
    chunks = data.tables(args.chunk_rows, columns=read,
                         floats=columns if floats is None else floats, text=text)
    start = 0
    for table in progress(chunks, data.row_count(), os.path.basename(data.path), args.quiet):
        try:
            X, masks = to_matrix(table, columns, dtype, data)
        except WideInteger as err:
            raise err.at(start) from None
        yield start, table, X, masks
        start += table.num_rows
    if start == 0:
        raise CLIError(f"{data.path!r} has no rows")


def fit_stream(est, blocks, columns, path):
    """Fit ``est`` on ``blocks``, ``(first_row, X)`` in row order, the
    columns of ``X`` named ``columns``: every fit on a file comes here.

    A per-sample method learns nothing: the first block checks the layout
    and the others are only read (every value must still be a number).
    Other methods take ``partial_fit`` batches as they cut the stream.
    """
    def call(method, start, X):
        try:
            method(frame(X, columns))
        except ValueError as err:
            raise in_rows(path, start, len(X), err) from None

    if is_per_sample(est):
        start, X = next(blocks)
        call(est.fit, start, X)
        for _ in blocks:
            pass
        return est
    # (batch normalization re-cuts the chunks into its mini-batches)
    for start, X in est._stream_batches(X for _, X in blocks):
        call(est.partial_fit, start, X)
    return est


def sample_stream(est, blocks, columns, path):
    """A first pass of ``blocks`` for an estimator that decides on a sample
    of every row before it fits (AutoScaler): each block folded into its
    sample, then the decision."""
    for start, X in blocks:
        try:
            est._observe(frame(X, columns))
        except ValueError as err:
            raise in_rows(path, start, len(X), err) from None
    return est._decide_observed()


def fit_file(template, data, args, columns, left_out=None):
    """A clone of ``template`` fitted on ``data``'s ``columns``.

    Where the columns were chosen by default (``left_out`` is then a dict,
    column -> why), a CSV column found to hold a value that is neither a
    number nor missing is left out wherever that value lies, added to
    ``left_out``, and the fit starts again without it: the same file gives
    the same columns, whatever block the value is in.
    """
    while True:
        if not columns:
            raise CLIError(f"{data.path!r} has no numeric column to scale"
                           f"{data.delimiter_hint()}")
        est = clone(template)

        def read():
            blocks = ((start, X) for start, _, X, _ in matrices(
                data, args, columns, data.work_dtype(columns), read=columns))
            if is_per_sample(est) and data.fmt != "csv":  # (the types are the file's own)
                blocks = itertools.islice(blocks, 1)
            return blocks

        try:
            if hasattr(est, "_observe"):  # (AutoScaler: a first pass decides, on every row)
                sample_stream(est, read(), columns, data.path)
            return fit_stream(est, read(), columns, data.path)
        except NotANumber as err:
            if left_out is None or err.column not in columns:
                raise
            left_out[err.column] = err.reason
            columns = [c for c in columns if c != err.column]


def map_file(est, data, out, args, apply, added=(), dropped=(), record=None):
    """Write ``apply(frame, table)`` of every chunk of ``data`` to ``out``:
    ``apply`` returns the scaled columns and the arrays of ``added``
    columns; ``record`` goes into a Parquet output's metadata."""
    columns = list(est.feature_names_in_)
    out_fmt = tables.data_format(out, args)
    data.check_scalable([*columns, *dropped], why=", which the scaler needs")
    taken = [name for name in added if name in data.names]
    if taken:
        raise CLIError(f"{data.path!r} already has column {taken[0]!r}")
    dtype = data.work_dtype(columns)
    floats = [*columns, *dropped]
    text = data.fmt == "csv" and out_fmt == "csv"  # (CSV to CSV: the other columns as written)
    schema_out = tables.output_schema(data.schema_read(floats, text), columns, dtype, added,
                                      dropped, record)
    unscaled = [c for c in data.names if c not in floats and c not in data.index_columns()]
    if unscaled:
        note(args, f"{len(unscaled)} column{'s' * (len(unscaled) > 1)} of {data.path!r} passed"
             f" through unscaled (not in the model): {', '.join(map(repr, unscaled[:10]))}"
             + (", ..." if len(unscaled) > 10 else ""))
    with output(out) as sink, contextlib.closing(
            tables.open_writer(sink, out_fmt, schema_out, out, data.dialect)) as writer:
        for start, table, X, masks in matrices(data, args, columns, dtype, floats=floats,
                                               text=text):
            try:
                Y, extra = apply(frame(X, columns), table)
            except ValueError as err:
                raise in_rows(data.path, start, len(X), err) from None
            writer.write_table(tables.rebuild(table, schema_out, columns,
                                              Y.astype(dtype, copy=False), masks, extra))


def check_file(est, data, args):
    """The drift report of ``data``'s rows against ``est``'s training
    reference, each chunk summarized as it is read (memory stays flat)."""
    from .._drift import counts, reference, report

    columns = list(est.feature_names_in_)
    data.check_scalable(columns, why=", which the scaler needs")
    ref = reference(est)
    total = None
    for start, _, X, _ in matrices(data, args, columns, np.float64, read=columns):
        try:
            part = counts(est, X, ref)
        except ValueError as err:
            raise in_rows(data.path, start, len(X), err) from None
        total = part if total is None else total.merge(part)
    return report(est, total, ref)
