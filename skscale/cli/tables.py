"""Parquet and CSV files as tables of rows, and tables back into files.

It may touch the data files named on the command line (read with pyarrow,
in chunks of rows) and the writers it opens on the targets that
:mod:`.outputs` hands it.  It knows nothing of estimators: the columns to
scale leave as one float array, and scaled arrays come back as columns.
"""

import contextlib
import json
import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .errors import CLIError

DATA_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def formats(args):
    """``(data_format, model_format)`` from the ``--format`` options (None: by extension)."""
    given = args.format or []
    data = [f for f in given if f in ("parquet", "csv")]
    model = [f for f in given if f in ("skops", "joblib")]
    if len(data) > 1 or len(model) > 1:
        raise CLIError("--format takes one data format (parquet, csv) and one model"
                       f" format (skops, joblib); got {', '.join(given)}")
    return (data or [None])[0], (model or [None])[0]


def data_format(path, args):
    """The data format of ``path``: ``--format``, else its extension."""
    forced = formats(args)[0]
    if forced:
        return forced
    fmt = DATA_FORMATS.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise CLIError(f"cannot tell the format of {path!r} from its extension;"
                       " pass --format parquet or --format csv")
    return fmt


# ---------------------------------------------------------------- reading

def _unreadable(path, fmt, err):
    return CLIError(f"cannot read {path!r} as {fmt}: {err}")


def read_schema(path, fmt):
    """The columns of a data file and their types (for CSV, as inferred from
    its first block, which is what the streaming reader will use)."""
    if os.path.isdir(path):
        raise CLIError(f"cannot read {path!r}: it is a folder")
    if not os.path.isfile(path):
        raise CLIError(f"cannot read {path!r}: no such file")
    if os.path.getsize(path) == 0:
        raise CLIError(f"{path!r} is empty")
    try:
        if fmt == "parquet":
            return pq.ParquetFile(path).schema_arrow
        with pcsv.open_csv(path) as reader:
            return reader.schema
    except (OSError, pa.ArrowException) as err:
        raise _unreadable(path, fmt, err) from None


def read_tables(path, fmt, rows, columns=None, floats=()):
    """Consecutive tables of ``rows`` rows (the last one shorter) of a data file.

    ``columns`` limits what is read; CSV columns in ``floats`` are parsed as
    float64 (type inference sees only the first block, and an integer column
    may hold a decimal further on).
    """
    try:
        if fmt == "parquet":
            # pre_buffer (pyarrow's default) would read the whole file ahead
            # of the batches: memory would grow with the file
            batches = pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=rows,
                                                                          columns=columns)
        else:
            convert = pcsv.ConvertOptions(column_types={c: pa.float64() for c in floats},
                                          include_columns=columns or [])
            batches = pcsv.open_csv(path, convert_options=convert)
        yield from _rechunk(batches, rows)
    except (OSError, pa.ArrowException) as err:
        raise _unreadable(path, fmt, _csv_column_named(path, fmt, err)) from None


def _csv_column_named(path, fmt, err):
    """pyarrow's CSV errors count columns from 0 ("In CSV column #3"): name it."""
    found = re.search(r"In CSV column #(\d+)", str(err)) if fmt == "csv" else None
    if not found:
        return err
    with contextlib.suppress(Exception):
        name = read_schema(path, fmt).names[int(found.group(1))]
        return str(err).replace(found.group(0), f"In column {name!r}")
    return err


def _rechunk(batches, rows):
    """Tables of exactly ``rows`` rows from record batches of any size: the
    CSV reader cuts its batches by bytes, the Parquet reader at row groups."""
    held, n_held = [], 0
    for batch in batches:
        held.append(batch)
        n_held += batch.num_rows
        if n_held < rows:
            continue
        table = pa.Table.from_batches(held)
        full = n_held - n_held % rows
        for start in range(0, full, rows):
            yield table.slice(start, rows)
        held, n_held = table.slice(full).to_batches(), n_held - full
    if n_held:
        yield pa.Table.from_batches(held)


def row_count(path, fmt):
    """Rows in the file where that is known without reading it (Parquet)."""
    return pq.ParquetFile(path).metadata.num_rows if fmt == "parquet" else None


def _is_numeric(dtype):
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)


def _pandas_index_columns(schema):
    meta = (schema.metadata or {}).get(b"pandas")
    index = json.loads(meta).get("index_columns", []) if meta else []
    return {c for c in index if isinstance(c, str)}


def select_columns(schema, path, requested=None):
    """The columns to scale: ``requested`` (checked), or every numeric column
    (not a pandas index stored as a column)."""
    if requested is None:
        index = _pandas_index_columns(schema)
        columns = [f.name for f in schema if _is_numeric(f.type) and f.name not in index]
        if not columns:
            raise CLIError(f"{path!r} has no numeric column to scale")
        return columns
    check_columns(schema, path, requested)
    twice = sorted({c for c in requested if requested.count(c) > 1})
    if twice:
        raise CLIError(f"--columns names {', '.join(map(repr, twice))} more than once")
    return list(requested)


def check_columns(schema, path, columns, why=""):
    """Refuse columns that ``schema`` lacks or holds as anything but numbers.
    A CSV column empty in the first block is inferred as null: it may hold numbers."""
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise CLIError(f"{path!r} has no column {', '.join(map(repr, missing))}{why}"
                       f" (its columns: {', '.join(schema.names)})")
    bad = [f"{c!r} ({schema.field(c).type})" for c in columns
           if not (_is_numeric(schema.field(c).type) or pa.types.is_null(schema.field(c).type))]
    if bad:
        raise CLIError(f"column {', '.join(bad)} of {path!r} is not numeric;"
                       " skscale scales numbers only")


def work_dtype(schema, columns):
    """float32 where every scaled column is float32 (the estimators keep it), else float64."""
    return np.float32 if all(schema.field(c).type == pa.float32() for c in columns) else np.float64


def to_matrix(table, columns, dtype):
    """``(X, masks)``: the columns as one 2-D array (nulls as NaN), and each
    column's null mask (None where it has none), to restore the nulls on output."""
    X = np.empty((table.num_rows, len(columns)), dtype=dtype, order="F")
    masks = []
    for j, name in enumerate(columns):
        col = pc.cast(table.column(name), pa.from_numpy_dtype(dtype))
        X[:, j] = col.to_numpy()  # nulls come back as NaN
        masks.append(col.is_null().to_numpy() if col.null_count else None)
    return X, masks


def frame(X, columns):
    """``X`` as a pandas frame without a copy, so the estimator sees the names."""
    return pd.DataFrame(X, columns=columns, copy=False)


# ---------------------------------------------------------------- writing

def open_writer(sink, fmt, schema, path):
    """A Parquet or CSV writer into ``sink``, on its way to ``path``."""
    try:
        if fmt == "parquet":
            return pq.ParquetWriter(sink, schema)
        return pcsv.CSVWriter(sink, schema)
    except (OSError, pa.ArrowException) as err:
        raise CLIError(f"cannot write {path!r}: {err}") from None


def output_schema(schema, columns, dtype, added=(), dropped=()):
    """``schema`` with the scaled columns as floats of ``dtype``, ``dropped``
    removed and float64 ``added`` at the end.  pandas' metadata is updated to
    match: pandas would otherwise restore the old types (an ``Int64`` column
    holding scaled values)."""
    kind = pa.from_numpy_dtype(dtype)
    fields = [f.with_type(kind) if f.name in columns else f
              for f in schema if f.name not in dropped]
    fields += [pa.field(name, pa.float64()) for name in added]
    metadata = dict(schema.metadata or {})
    if b"pandas" in metadata:
        meta = json.loads(metadata[b"pandas"])
        meta["columns"] = [c for c in meta.get("columns", []) if c.get("field_name") not in dropped]
        for c in meta["columns"]:
            if c.get("field_name") in columns:
                c.update(pandas_type=np.dtype(dtype).name, numpy_type=np.dtype(dtype).name,
                         metadata=None)
        metadata[b"pandas"] = json.dumps(meta).encode()
    return pa.schema(fields, metadata=metadata or None)


def rebuild(table, schema, columns, Y, masks, added=()):
    """The output table: ``table``'s columns as ``schema`` lists them, the
    scaled ones taken from ``Y`` with their input's nulls, then ``added``."""
    arrays, extra, position = [], iter(added), {c: j for j, c in enumerate(columns)}
    for field in schema:
        if field.name in position:
            j = position[field.name]
            arrays.append(pa.array(np.ascontiguousarray(Y[:, j]), type=field.type, mask=masks[j]))
        elif field.name in table.column_names:
            arrays.append(table.column(field.name))
        else:
            arrays.append(pa.array(next(extra), type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
