"""Parquet and CSV files as tables of rows, and tables back into files.

It may touch the data files named on the command line (read with pyarrow,
in chunks of rows, never whole) and the writers it opens on the targets that
:mod:`.outputs` hands it.  It knows nothing of estimators; :mod:`.columns`
turns the columns to scale into one float array, and scaled arrays come back
here as columns.

What a CSV column holds is read from the file's first block (about 1 MiB),
as pyarrow infers it; the columns to scale are then parsed as float64 to the
end, and a value that is neither a number nor a missing-value token is found
and named wherever it is (:class:`~.errors.NotANumber`).
"""

import codecs
import contextlib
import csv
import json
import os
import re
import shlex

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .errors import CLIError, NotANumber
from .options import formats

DATA_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
#: The tokens pyarrow reads as missing in a CSV file ("", "NA", "NaN", "null", ...).
NULL_TOKENS = tuple(pcsv.ConvertOptions().null_values)
#: The Parquet key-value metadata key of the record of what wrote a file.
RECORD_KEY = b"skscale"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DELIMITERS = (",", ";", "\t", "|")


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


class Dialect:
    """How CSV files are read and written: ``--delimiter``, ``--encoding``
    (of input; output is UTF-8), ``--header``/``--no-header`` (None: a first
    line that reads as numbers is refused as a header) and ``--na-values``
    (tokens read as missing on top of pyarrow's)."""

    def __init__(self, delimiter=",", encoding="utf8", header=None, na_values=()):
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise CLIError(f"--delimiter takes one character, got {delimiter!r}")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CLIError(f"--encoding: unknown encoding {encoding!r}") from None
        self.delimiter, self.encoding, self.header = delimiter, encoding, header
        self.nulls = [*NULL_TOKENS, *(t for t in na_values if t not in NULL_TOKENS)]

    @classmethod
    def from_args(cls, args):
        tokens = [t for item in args.na_values or () for t in item.split(",")]
        return cls(args.delimiter, args.encoding, args.header, tokens)


def _describe(dtype):
    """What a column of a non-numeric type holds, in words."""
    for test, words in ((pa.types.is_duration, "time spans"),
                        (pa.types.is_temporal, "dates or times"),
                        (pa.types.is_dictionary, "categories"),
                        (pa.types.is_boolean, "true/false values"),
                        (pa.types.is_null, "no value at all"),
                        (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "text")):
        if test(dtype):
            return f"{words} ({dtype})"
    return str(dtype)


def is_numeric(dtype):
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)


class DataFile:
    """A Parquet or CSV file to read in chunks, checked when opened: it
    exists, is not empty, and has unique column names (and, for CSV, names
    that are not numbers unless ``--header`` says so, and UTF-8 text or the
    ``--encoding`` given).

    ``schema`` holds the columns and their types, for CSV as inferred from
    the first block, which is what the streaming reader uses.
    """

    def __init__(self, path, fmt, dialect=None):
        self.path, self.fmt, self.dialect = path, fmt, dialect or Dialect()
        if os.path.isdir(path):
            raise CLIError(f"cannot read {path!r}: it is a folder")
        if not os.path.exists(path):
            raise CLIError(f"cannot read {path!r}: no such file")
        if not os.path.isfile(path):
            raise CLIError(f"cannot read {path!r}: it is not a regular file (skscale reads its"
                           " data more than once: save it to a file first)")
        if os.path.getsize(path) == 0:
            raise CLIError(f"{path!r} is empty")
        self._names = None  # the names a file without a header gets
        try:
            if fmt == "parquet":
                self.schema = pq.ParquetFile(path).schema_arrow
            else:
                if self.dialect.header is False:
                    with self._open_csv(ReadOptions=dict(autogenerate_column_names=True)) as r:
                        self._names = [f"c{j}" for j in range(len(r.schema))]
                with self._open_csv() as reader:
                    self.schema = reader.schema
        except (OSError, pa.ArrowException) as err:
            raise self._unreadable(err) from None
        try:
            self.schema.names
        except UnicodeDecodeError:  # (pyarrow keeps the header's bytes as they were)
            raise self._not_utf8(where="its first line") from None
        self._categories = self._pandas_categories()
        self._check_names()

    # ------------------------------------------------------------ opening

    def _open_csv(self, types=None, include=None, strings_can_be_null=False, ReadOptions=None):
        d = self.dialect
        read = pcsv.ReadOptions(encoding=d.encoding, column_names=self._names,
                                **(ReadOptions or {}))
        convert = pcsv.ConvertOptions(column_types=types or {}, include_columns=include or [],
                                      null_values=d.nulls, strings_can_be_null=strings_can_be_null)
        return pcsv.open_csv(self.path, read_options=read, convert_options=convert,
                             parse_options=pcsv.ParseOptions(delimiter=d.delimiter))

    def _unreadable(self, err):
        text = str(err)
        if "UTF8" in text or "UTF-8" in text:
            return self._not_utf8(_csv_column_in(text, self._file_names()))
        hint = self.delimiter_hint() if self.fmt == "csv" else ""
        return CLIError(f"cannot read {self.path!r} as {self.fmt}:"
                        f" {self._named(text)}{hint}")

    def _not_utf8(self, column=None, where=None):
        where = f" (column {column!r})" if column else f" ({where})" if where else ""
        return CLIError(f"cannot read {self.path!r} as {self.dialect.encoding} text{where}:"
                        " pass --encoding with the file's encoding, e.g. --encoding latin-1"
                        " or --encoding cp1252")

    def _file_names(self):
        if getattr(self, "schema", None) is not None:
            return self.schema.names
        return self._names or []

    def _named(self, text):
        """pyarrow's CSV errors count columns from 0 ("In CSV column #3"): name it."""
        found = re.search(r"In CSV column #(\d+)", text)
        names = self._file_names()
        if found and int(found.group(1)) < len(names):
            return text.replace(found.group(0), f"In column {names[int(found.group(1))]!r}")
        return text

    def _check_names(self):
        names = self.schema.names
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise CLIError(f"{self.path!r} has more than one column named"
                           f" {', '.join(map(repr, twice))}; skscale needs unique names:"
                           " rename them" + (" (or pass --no-header to name the columns c0,"
                                             " c1, ...)" if self.fmt == "csv" else ""))
        if self.fmt != "csv":
            return
        binary = [f.name for f in self.schema if pa.types.is_binary(f.type)]
        if binary:
            raise self._not_utf8(binary[0])
        if self.dialect.header is None and all(_NUMBER.fullmatch(n.strip()) for n in names):
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            raise CLIError(
                f"the first line of {self.path!r} ({shown}) looks like data, not column names:"
                " pass --no-header to read every line as data (the columns are then named c0,"
                " c1, ...), or --header to take that line as the names")

    def delimiter_hint(self):
        """``"; it looks separated by ';': pass --delimiter ';'"`` where the
        first lines of a CSV file agree on another delimiter, else ''."""
        if self.fmt != "csv":
            return ""
        try:
            with open(self.path, encoding=self.dialect.encoding, errors="replace",
                      newline="") as f:
                sample = f.read(65536)
            dialect = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS))
        except (OSError, csv.Error):
            return ""
        found = dialect.delimiter
        if found == self.dialect.delimiter:
            return ""
        shown = "'\\t'" if found == "\t" else shlex.quote(found)
        return f"; it looks separated by {shown}: pass --delimiter {shown}"

    # ------------------------------------------------------------ what it holds

    @property
    def names(self):
        return self.schema.names

    def _pandas_categories(self):
        """Columns that pandas wrote as categories (of numbers, they are stored
        as plain integer or float columns: only pandas' metadata tells)."""
        meta = (self.schema.metadata or {}).get(b"pandas")
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            return {c.get("field_name") for c in json.loads(meta).get("columns", [])
                    if c.get("pandas_type") == "categorical"} if meta else set()
        return set()

    def is_numeric(self, name):
        """Whether column ``name`` holds numbers to scale (not categories)."""
        return is_numeric(self.schema.field(name).type) and name not in self._categories

    def index_columns(self):
        """Columns that hold a pandas index (not data to scale)."""
        meta = (self.schema.metadata or {}).get(b"pandas")
        index = json.loads(meta).get("index_columns", []) if meta else []
        return {c for c in index if isinstance(c, str)}

    def record(self):
        """The record of the command that wrote this file (Parquet), or None."""
        raw = (self.schema.metadata or {}).get(RECORD_KEY)
        with contextlib.suppress(ValueError, TypeError):
            record = json.loads(raw) if raw else None
            return record if isinstance(record, dict) else None
        return None

    def row_count(self):
        """Rows in the file where that is known without reading it (Parquet)."""
        return pq.ParquetFile(self.path).metadata.num_rows if self.fmt == "parquet" else None

    def why_not_numeric(self, name):
        """Why the column ``name``, not numeric in :attr:`schema`, cannot be
        scaled: its first value that is not a number (CSV), or its type."""
        dtype = self.schema.field(name).type
        if name in self._categories:
            return f"holds categories (a pandas categorical of {dtype}), not numbers"
        if self.fmt == "csv" and not pa.types.is_null(dtype):
            found = self.first_non_number(name)
            if found is not None:
                return NotANumber(self.path, name, *found).reason
        if self.fmt == "csv":
            return f"holds no value in the first block of {self.path!r}"
        return f"holds {_describe(dtype)}, not numbers"

    def first_non_number(self, name):
        """``(row, text)`` of the first value of CSV column ``name`` that is
        neither a number nor missing, or None."""
        row = 0
        try:
            with self._open_csv(types={name: pa.string()}, include=[name],
                                strings_can_be_null=True) as reader:
                for batch in reader:
                    values = pc.utf8_trim_whitespace(batch.column(0))  # as the reader does
                    bad = _first_not_float(values)
                    if bad is not None:
                        return row + bad, values[bad].as_py()
                    row += batch.num_rows
        except (OSError, pa.ArrowException):
            return None
        return None

    def check_scalable(self, columns, why=""):
        """Refuse columns this file lacks or holds as anything but numbers."""
        missing = [c for c in columns if c not in self.names]
        if missing:
            raise CLIError(f"{self.path!r} has no column {', '.join(map(repr, missing))}{why}"
                           f" (its columns: {', '.join(self.names)}){self.delimiter_hint()}")
        for c in columns:
            dtype = self.schema.field(c).type
            if self.is_numeric(c) or (self.fmt == "csv" and pa.types.is_null(dtype)):
                continue  # (a CSV column empty in the first block may hold numbers)
            found = self.first_non_number(c) if self.fmt == "csv" else None
            if found is not None:  # (as it would be named further on in the file)
                raise NotANumber(self.path, c, *found)
            raise CLIError(f"{self.path!r}: column {c!r} {self.why_not_numeric(c)};"
                           " skscale scales numbers only")

    def work_dtype(self, columns):
        """float32 where every scaled column is float32 (the estimators keep
        it), else float64."""
        return (np.float32 if all(self.schema.field(c).type == pa.float32() for c in columns)
                else np.float64)

    # ------------------------------------------------------------ reading

    def read_types(self, floats, text):
        """The types the chunks of :meth:`tables` give (CSV): ``floats`` as
        float64; the others as text where ``text``, else as first inferred,
        except that a column empty in the first block is read as text."""
        types = {}
        for f in self.schema:
            if f.name in floats:
                types[f.name] = pa.float64()
            elif text or pa.types.is_null(f.type):
                types[f.name] = pa.string()
        return types

    def schema_read(self, floats=(), text=False):
        """The schema of the chunks of :meth:`tables` with these arguments."""
        if self.fmt != "csv":
            return self.schema
        types = self.read_types(floats, text)
        return pa.schema([f.with_type(types.get(f.name, f.type)) for f in self.schema],
                         metadata=self.schema.metadata)

    def tables(self, rows, columns=None, floats=(), text=False):
        """Consecutive tables of ``rows`` rows (the last one shorter).

        ``columns`` limits what is read (None: all); CSV columns in
        ``floats`` are parsed as float64 (inference sees only the first
        block, and an integer column may hold a decimal further on), the
        other CSV columns as text where ``text`` (they pass through as
        written).
        """
        try:
            if self.fmt == "parquet":
                # pre_buffer (pyarrow's default) would read the whole file
                # ahead of the batches: memory would grow with the file
                batches = pq.ParquetFile(self.path, pre_buffer=False).iter_batches(
                    batch_size=rows, columns=columns)
            else:
                types = self.read_types(floats, text)
                if columns is not None:
                    types = {c: t for c, t in types.items() if c in columns}
                batches = self._open_csv(types=types, include=columns)
            yield from _rechunk(batches, rows)
        except (OSError, pa.ArrowException) as err:
            raise self._conversion_error(err, floats) from None

    def _conversion_error(self, err, floats):
        text = str(err)
        found = re.search(r"In CSV column #(\d+): CSV conversion error to (\w+)", text)
        if self.fmt != "csv" or not found or "UTF8" in text:
            return self._unreadable(err)
        name = self.names[int(found.group(1))]
        if name in floats:
            where = self.first_non_number(name)
            if where is not None:
                return NotANumber(self.path, name, *where)
        return CLIError(f"cannot read {self.path!r}: column {name!r} changes type after its first"
                        f" block ({self.schema.field(name).type} there): {self._named(text)}")


def _csv_column_in(text, names):
    found = re.search(r"In CSV column #(\d+)", text)
    return names[int(found.group(1))] if found and int(found.group(1)) < len(names) else None


def _first_not_float(values):
    """Index of the first non-null string of ``values`` that does not parse
    as a float64, or None: a halving search with pyarrow's own parser."""
    try:
        pc.cast(values, pa.float64())
        return None
    except pa.ArrowInvalid:
        pass
    lo, hi = 0, len(values)  # the first bad value is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pc.cast(values.slice(lo, mid - lo), pa.float64())
            lo = mid
        except pa.ArrowInvalid:
            hi = mid
    return lo


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


# ---------------------------------------------------------------- writing

def open_writer(sink, fmt, schema, path, dialect):
    """A Parquet or CSV writer into ``sink`` (a path or a binary file), on
    its way to ``path``; CSV with the input's delimiter and header choice."""
    try:
        if fmt == "parquet":
            return pq.ParquetWriter(sink, schema)
        options = pcsv.WriteOptions(delimiter=dialect.delimiter,
                                    include_header=dialect.header is not False)
        return pcsv.CSVWriter(sink, schema, write_options=options)
    except BrokenPipeError:  # (the reader has gone: not a mistake of the user's)
        raise
    except (OSError, pa.ArrowException) as err:
        raise CLIError(f"cannot write {path!r}: {err}") from None


def output_schema(schema, columns, dtype, added=(), dropped=(), record=None):
    """``schema`` with the scaled columns as floats of ``dtype``, ``dropped``
    removed, float64 ``added`` at the end and ``record`` (what wrote the
    file) in its metadata.  pandas' metadata is updated to match: pandas
    would otherwise restore the old types (an ``Int64`` column holding
    scaled values)."""
    kind = pa.from_numpy_dtype(dtype)
    fields = [f.with_type(kind) if f.name in columns else f
              for f in schema if f.name not in dropped]
    fields += [pa.field(name, pa.float64()) for name in added]
    metadata = dict(schema.metadata or {})
    metadata.pop(RECORD_KEY, None)
    if record is not None:
        metadata[RECORD_KEY] = json.dumps(record).encode()
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
