"""The ``skscale`` console script: fit, transform, inverse and info on files.

Parquet and CSV files are streamed in record batches with pyarrow (extra
``cli``), so peak memory stays flat however long the file: ``fit`` feeds each
batch to the estimator's ``partial_fit``, ``transform`` and ``inverse`` write
each batch as soon as it is scaled.  The selected columns reach the estimator
as a pandas frame, so the saved model carries their names
(``feature_names_in_``) like one fitted in Python, and every error names the
column.  This module touches files only: how each method learns and scales
stays in its own module.

Every failure the user can cause (a bad file, column, method or parameter)
prints one line, ``skscale: error: ...``, and exits with status 2; an output
is written beside its final path and moved there only once complete.
"""

import argparse
import ast
import contextlib
import difflib
import json
import os
import re
import secrets
import sys
import warnings

import numpy as np
import pandas as pd

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
except ImportError:  # main() says what to install
    pa = None

__all__ = ["main"]

#: Prefix of the columns that ``transform --keep-stats`` adds for per-sample methods.
STATS_PREFIX = "_skscale_"
DATA_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
MODEL_FORMATS = {".skops": "skops", ".joblib": "joblib", ".pkl": "joblib", ".pickle": "joblib"}
#: Seconds before the progress bar appears: runs shorter than that stay silent.
PROGRESS_DELAY = 0.5


class CLIError(Exception):
    """A mistake in the command, its files or its columns: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage too: one line is the promise
        raise CLIError(f"{message} (see '{self.prog} --help')")


# ---------------------------------------------------------------- formats

def _formats(args):
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
    forced = _formats(args)[0]
    if forced:
        return forced
    fmt = DATA_FORMATS.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise CLIError(f"cannot tell the format of {path!r} from its extension;"
                       " pass --format parquet or --format csv")
    return fmt


def model_format(path, args):
    """The model format of ``path``: ``--format``, else its extension, else skops."""
    return _formats(args)[1] or MODEL_FORMATS.get(os.path.splitext(path)[1].lower(), "skops")


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

@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path`` and move it onto ``path`` only
    when the block succeeds: a failed run leaves no half-written output, and
    an existing file stays as it was."""
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"cannot write {path!r}: no folder {folder!r}")
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def open_writer(tmp, fmt, schema, path):
    """A Parquet or CSV writer into ``tmp``, on its way to ``path``."""
    try:
        if fmt == "parquet":
            return pq.ParquetWriter(tmp, schema)
        return pcsv.CSVWriter(tmp, schema)
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


# ---------------------------------------------------------------- models

def method_class(name):
    from ._registry import suggest
    from ._scaler import METHODS  # the methods, and "auto"

    if name not in METHODS:
        hint = suggest(name, METHODS)
        raise CLIError(f"unknown method {name!r}; the methods are {', '.join(METHODS)}"
                       + (f". {hint}" if hint else ""))
    return METHODS[name]


def method_name(est):
    from ._registry import name_of
    from ._scaler import METHODS

    return name_of(est, METHODS)


def parse_params(items, cls):
    """``--param k=v`` as keyword arguments: each value a Python literal
    (``(-1, 1)``, ``None``, ``0.1``), or else a string (``norm=l1``)."""
    takes = cls._get_param_names()
    params = {}
    for item in items or ():
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise CLIError(f"--param takes name=value, got {item!r}")
        if key not in takes:
            close = difflib.get_close_matches(key, takes, n=1)
            raise CLIError(f"{cls.__name__} has no parameter {key!r}"
                           + (f"; did you mean {close[0]!r}?" if close else "")
                           + f" Its parameters: {', '.join(takes)}")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    est = cls(**params)
    est._validate_params()  # a bad value fails before any data is read
    return est


def save_model(est, path, fmt):
    import joblib

    from . import io

    with atomic_output(path) as tmp:
        if fmt == "joblib":
            joblib.dump(est, tmp)
        else:
            io.dump(est, tmp)


def load_model(path, args):
    """A fitted skscale scaler with column names; skops files through the
    safe loader, joblib files (pickles: trusted files only) through joblib."""
    from . import io
    from ._scaler import METHODS

    if not os.path.isfile(path):
        raise CLIError(f"cannot read {path!r}: no such file")
    fmt = model_format(path, args)
    try:
        if fmt == "joblib":
            import joblib

            est = joblib.load(path)
        else:
            est = io.load(path)
    except ImportError:
        raise
    except Exception as err:  # a wrong or damaged file can fail in many ways
        raise CLIError(f"cannot load {path!r} as a {fmt} model: {err}") from None
    if type(est) not in METHODS.values():
        raise CLIError(f"{path!r} holds a {type(est).__name__}, not a scaler that"
                       " 'skscale fit' writes")
    if not hasattr(est, "feature_names_in_"):
        raise CLIError(f"the scaler in {path!r} was fitted without column names; fit it"
                       " with 'skscale fit', or in Python on a DataFrame")
    return est


def is_per_sample(est):
    return hasattr(est, "sample_stats")


def stats_columns(est):
    """Names of the per-sample statistics columns of ``transform --keep-stats``."""
    if not hasattr(est, "n_groups_"):  # unit norm: one norm per row
        return [f"{STATS_PREFIX}norm"]
    groups = range(est.n_groups_)
    return [f"{STATS_PREFIX}mean_{g}" for g in groups] + [f"{STATS_PREFIX}std_{g}" for g in groups]


def sample_stats_arrays(est, F):
    stats = est.sample_stats(F)
    if isinstance(stats, tuple):  # (mean, std), each (n_samples, n_groups)
        return [s[:, g] for s in stats for g in range(s.shape[1])]
    return [stats]


def sample_stats_from(table, est):
    names = stats_columns(est)
    arrays = [pc.cast(table.column(n), pa.float64()).to_numpy() for n in names]
    if len(arrays) == 1:
        return arrays[0]
    half = len(arrays) // 2
    return np.column_stack(arrays[:half]), np.column_stack(arrays[half:])


# ---------------------------------------------------------------- streaming

def progress(tables, total, label, quiet):
    """``tables`` with a progress bar on a terminal's stderr (tqdm, extra
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
        for table in tables:
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
    tables = read_tables(path, fmt, args.chunk_rows, columns=read,
                         floats=columns if floats is None else floats)
    start = 0
    for table in progress(tables, row_count(path, fmt), os.path.basename(path), args.quiet):
        yield start, table, *to_matrix(table, columns, dtype)
        start += table.num_rows
    if start == 0:
        raise CLIError(f"{path!r} has no rows")


def in_rows(path, start, n, err):
    """An estimator's error on rows ``start..start + n - 1`` of the file, with
    the row numbers it gives (counted within those rows) counted in the file."""
    text, found = re.subn(r"\brow(s?) (\d+)(\.\.(\d+))?", lambda m: (
        f"row{m[1]} {start + int(m[2])}" + (f"..{start + int(m[4])}" if m[3] else "")), str(err))
    return CLIError(f"{path!r}: {text}" if found else f"{path!r}, rows {start}..{start + n - 1}:"
                    f" {text}")


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
                est.fit(frame(X, columns))
            else:
                est.partial_fit(frame(X, columns))
        except ValueError as err:
            raise in_rows(path, start, len(X), err) from None
        first = False
    return est


def map_stream(est, args, path, out, apply, added=(), dropped=()):
    """Write ``apply(frame, table)`` of every chunk of ``path`` to ``out``:
    ``apply`` returns the scaled columns and the arrays of ``added`` columns."""
    columns = list(est.feature_names_in_)
    fmt, out_fmt = data_format(path, args), data_format(out, args)
    schema = read_schema(path, fmt)
    check_columns(schema, path, [*columns, *dropped], why=", which the scaler needs")
    taken = [name for name in added if name in schema.names]
    if taken:
        raise CLIError(f"{path!r} already has column {taken[0]!r}")
    dtype = work_dtype(schema, columns)
    schema_out = output_schema(schema, columns, dtype, added, dropped)
    with atomic_output(out) as tmp, \
            contextlib.closing(open_writer(tmp, out_fmt, schema_out, out)) as writer:
        for start, table, X, masks in matrices(path, fmt, args, columns, dtype,
                                               floats=[*columns, *dropped]):
            try:
                Y, extra = apply(frame(X, columns), table)
            except ValueError as err:
                raise in_rows(path, start, len(X), err) from None
            writer.write_table(rebuild(table, schema_out, columns, Y.astype(dtype, copy=False),
                                  masks, extra))


# ---------------------------------------------------------------- commands

def cmd_fit(args):
    est = parse_params(args.param, method_class(args.method))
    fmt = data_format(args.data, args)
    schema = read_schema(args.data, fmt)
    requested = None if args.columns is None else [c.strip() for c in args.columns.split(",")]
    columns = select_columns(schema, args.data, requested)
    fit_stream(est, args.data, fmt, args, columns, work_dtype(schema, columns))
    save_model(est, args.output, model_format(args.output, args))


def cmd_transform(args):
    est = load_model(args.model, args)
    added = []
    if args.keep_stats:
        if not is_per_sample(est):
            raise CLIError(f"--keep-stats is for per-sample methods; {method_name(est)}"
                           " learns its parameters at fit and inverts without them")
        added = stats_columns(est)

    def apply(F, table):
        return est.transform(F), (sample_stats_arrays(est, F) if added else [])

    map_stream(est, args, args.data, args.output, apply, added=added)


def cmd_inverse(args):
    est = load_model(args.model, args)
    dropped = []
    if is_per_sample(est):
        dropped = stats_columns(est)
        schema = read_schema(args.data, data_format(args.data, args))
        if not set(dropped) <= set(schema.names):
            raise CLIError(
                f"{method_name(est)} scales each row by statistics of its own, which"
                f" {args.data!r} does not hold: transform with --keep-stats to keep them"
                f" (columns {', '.join(dropped)}), and inverse reads them back")

    def apply(F, table):
        if dropped:
            return est.inverse_transform(F, sample_stats=sample_stats_from(table, est)), []
        return est.inverse_transform(F), []

    map_stream(est, args, args.data, args.output, apply, dropped=dropped)


def _number(v):
    """An integer as such, a float in the shortest form that reads back exactly."""
    v = v.item() if isinstance(v, np.generic) else v
    return str(v) if isinstance(v, int) else repr(float(v))


def learned(est):
    """``(per_column, scalars)``: the fitted attributes ending in ``_`` with one
    value per column, and those with one number."""
    per_column, scalars = {}, {}
    for name in sorted(dir(est)):
        if not name.endswith("_") or name.startswith("_") or name in (
                "feature_names_in_", "n_features_in_"):
            continue
        try:
            value = getattr(est, name)
        except Exception:  # a property that does not apply to this fit
            continue
        if isinstance(value, np.ndarray) and value.shape == (est.n_features_in_,):
            per_column[name] = value
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            scalars[name] = value
    return per_column, scalars


def table_text(header, rows):
    widths = [max(map(len, col)) for col in zip(header, *rows)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in [header, *rows])


def cmd_info(args):
    est = load_model(args.model, args)
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(est.get_params().items()))
    per_column, scalars = learned(est)
    lines = [f"method: {method_name(est)} ({type(est).__name__})", f"parameters: {params}",
             *(f"{name}: {_number(v)}" for name, v in scalars.items())]
    if is_per_sample(est):
        lines.append("learned: nothing per column (each row is scaled by statistics of its own)")
    if hasattr(est, "report_"):  # AutoScaler: what it chose per column, and why
        report = est.report_[["column", "diagnosis", "method", "params", "reason"]]
        print("\n".join(lines) + "\n\n" + table_text(
            list(report.columns), [[str(v) for v in r] for r in report.itertuples(index=False)]))
        return
    names = [str(c) for c in est.feature_names_in_]
    rows = [[c, *(_number(v[j]) for v in per_column.values())] for j, c in enumerate(names)]
    print("\n".join(lines) + "\n\n" + table_text(["column", *per_column], rows))


# ---------------------------------------------------------------- entry point

def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", action="append", choices=["parquet", "csv", "skops", "joblib"],
                        help="read and write data as parquet or csv, and the model as skops or"
                             " joblib, whatever the extensions say (may be given twice)")
    common.add_argument("--chunk-rows", type=_positive, default=65536, metavar="N",
                        help="rows read, fitted and written at a time (default: 65536)")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    parser = _Parser(prog="skscale", description="Fit skscale's scalers on Parquet or CSV"
                     " files and apply them, streaming the files in chunks of rows.")
    from ._scaler import METHODS
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"skscale {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fit = sub.add_parser("fit", parents=[common], help="learn a scaler from a data file")
    fit.add_argument("data", help="training data (.parquet or .csv)")
    fit.add_argument("-o", "--output", required=True, help="model file (.skops, or .joblib)")
    fit.add_argument("--method", default="zscore", help=f"one of {', '.join(METHODS)}"
                     " (default: zscore)")
    fit.add_argument("--param", action="append", metavar="NAME=VALUE",
                     help="a parameter of the method, as a Python literal or a string;"
                          " repeat for more (e.g. --param 'feature_range=(-1, 1)')")
    fit.add_argument("--columns", metavar="A,B,...",
                     help="columns to scale (default: every numeric column)")

    for name, text in (("transform", "scale a data file with a fitted scaler"),
                       ("inverse", "map scaled data back to the original units")):
        cmd = sub.add_parser(name, parents=[common], help=text)
        cmd.add_argument("model", help="model file written by 'skscale fit'")
        cmd.add_argument("data", help="data file (.parquet or .csv)")
        cmd.add_argument("-o", "--output", required=True, help="output data file")
    sub.choices["transform"].add_argument(
        "--keep-stats", action="store_true",
        help=f"per-sample methods: add each row's statistics as {STATS_PREFIX}* columns,"
             " which 'inverse' needs")

    info = sub.add_parser("info", parents=[common], help="what a fitted scaler learned")
    info.add_argument("model", help="model file written by 'skscale fit'")
    return parser


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


COMMANDS = {"fit": cmd_fit, "transform": cmd_transform, "inverse": cmd_inverse, "info": cmd_info}


def _one_line(err):
    return " ".join(str(err).split()) or type(err).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"skscale: warning: {_one_line(message)}", file=sys.stderr)


def main(argv=None):
    """Run the ``skscale`` command line; return its exit status.

    ::

        skscale fit --method zscore [--param k=v ...] [--columns a,b] train.parquet -o scaler.skops
        skscale transform scaler.skops test.parquet -o out.parquet [--keep-stats]
        skscale inverse scaler.skops out.parquet -o back.parquet
        skscale info scaler.skops

    Files are Parquet or CSV by extension (``--format`` overrides), read and
    written ``--chunk-rows`` rows at a time.  Columns not scaled pass through
    unchanged and in place; nulls stay null; scaled integer columns become
    float64.  Models are saved with skops (loaded with
    :func:`skscale.io.load`), or joblib for a ``.joblib`` path or
    ``--format joblib`` (a pickle: load only files you trust).  Per-sample
    methods (unit, layer, instance and group norm) learn nothing at fit,
    which records the columns; ``inverse`` needs each row's statistics, which
    ``transform --keep-stats`` writes as extra columns.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; 2 after a mistake in the command or its files (one
        line ``skscale: error: ...`` on stderr, no output written); 1 after
        an unexpected failure.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skscale.cli import main
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     train, model, out = (os.path.join(folder, f) for f in ("a.csv", "m.skops", "b.csv"))
    ...     pd.DataFrame({"x": [1, 2, 3], "name": ["a", "b", "c"]}).to_csv(train, index=False)
    ...     main(["fit", "--method", "minmax", train, "-o", model])
    ...     main(["transform", model, train, "-o", out])
    ...     print(open(out).read())
    0
    0
    "x","name"
    0,"a"
    0.5,"b"
    1,"c"
    """
    if pa is None:
        print('skscale: error: the command line needs pyarrow: pip install "skscale[cli]"',
              file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            args = build_parser().parse_args(argv)
            COMMANDS[args.command](args)
        except (CLIError, ValueError, TypeError, OSError, ImportError, pa.ArrowException) as err:
            # (pyarrow's errors are ValueError or OSError)
            print(f"skscale: error: {_one_line(err)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("skscale: interrupted", file=sys.stderr)
            return 130
        except Exception as err:  # a bug, but still no traceback for the user
            print(f"skscale: error: unexpected {type(err).__name__}: {_one_line(err)}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
