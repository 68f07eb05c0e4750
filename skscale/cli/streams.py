"""Files streamed through estimators chunk by chunk: fit, and map to a new file.

It may touch what :mod:`.tables` reads and :mod:`.outputs` writes, and the
estimator it is given (``partial_fit``, ``fit``, and the call it is asked to
map); a progress bar on the terminal's stderr.  How a stream of chunks is cut
into ``partial_fit`` batches is the estimator's own ``_stream_batches``.
"""

import contextlib
import os
import sys

from . import tables
from .errors import CLIError, in_rows
from .models import is_per_sample
from .outputs import atomic_output

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


def matrices(path, fmt, args, columns, dtype, read=None, floats=None):
    """``(first_row, table, X, masks)`` per chunk of the file; refuses an empty file.

    ``read`` limits the columns read (None: all); ``floats`` are the CSV
    columns to parse as float64 (None: ``columns``).
    """
    chunks = tables.read_tables(path, fmt, args.chunk_rows, columns=read,
                                floats=columns if floats is None else floats)
    start = 0
    for table in progress(chunks, tables.row_count(path, fmt), os.path.basename(path),
                          args.quiet):
        yield start, table, *tables.to_matrix(table, columns, dtype)
        start += table.num_rows
    if start == 0:
        raise CLIError(f"{path!r} has no rows")


def fit_stream(est, path, fmt, args, columns, dtype):
    """Fit ``est`` on the file's ``columns`` chunk by chunk."""
    chunks = matrices(path, fmt, args, columns, dtype, read=columns)
    if is_per_sample(est):  # learns nothing: the first chunk checks the layout
        start, _, X, _ = next(chunks)
        steps = [(start, X)]
        chunks.close()
    else:
        # (batch normalization re-cuts the chunks into its mini-batches)
        steps = est._stream_batches(X for _, _, X, _ in chunks)
    first = True
    for start, X in steps:
        try:
            if first and is_per_sample(est):
                est.fit(tables.frame(X, columns))
            else:
                est.partial_fit(tables.frame(X, columns))
        except ValueError as err:
            raise in_rows(path, start, len(X), err) from None
        first = False
    return est


def map_stream(est, args, path, out, apply, added=(), dropped=()):
    """Write ``apply(frame, table)`` of every chunk of ``path`` to ``out``:
    ``apply`` returns the scaled columns and the arrays of ``added`` columns."""
    columns = list(est.feature_names_in_)
    fmt, out_fmt = tables.data_format(path, args), tables.data_format(out, args)
    schema = tables.read_schema(path, fmt)
    tables.check_columns(schema, path, [*columns, *dropped], why=", which the scaler needs")
    taken = [name for name in added if name in schema.names]
    if taken:
        raise CLIError(f"{path!r} already has column {taken[0]!r}")
    dtype = tables.work_dtype(schema, columns)
    schema_out = tables.output_schema(schema, columns, dtype, added, dropped)
    with atomic_output(out) as tmp, \
            contextlib.closing(tables.open_writer(tmp, out_fmt, schema_out, out)) as writer:
        for start, table, X, masks in matrices(path, fmt, args, columns, dtype,
                                               floats=[*columns, *dropped]):
            try:
                Y, extra = apply(tables.frame(X, columns), table)
            except ValueError as err:
                raise in_rows(path, start, len(X), err) from None
            writer.write_table(tables.rebuild(table, schema_out, columns,
                                              Y.astype(dtype, copy=False), masks, extra))
