"""DataFrames read and written column by column.

pandas and polars hold each column of a frame in a buffer of its own.  A
column scaler reads them there -- a view, where the column is float32 or
float64 with nothing missing -- and writes a frame of the same kind, instead
of first converting the frame to one 2-D array (a full copy) and its output
back (another).  Missing values (``NaN``, ``pd.NA``, polars nulls) are
ignored in fit and stay missing in the output, in the frame's own kind.
"""

import sys

import numpy as np
import pandas as pd
from sklearn.utils._set_output import _get_output_config

from ._blocks import for_each_block


class Columns:
    """The numeric columns of a pandas or polars DataFrame as 1-D arrays.

    Attributes
    ----------
    frame : DataFrame
        The frame read.
    arrays : list of ndarray of shape (n_samples,)
        Its columns, all of ``dtype``: views of the frame's buffers where a
        column has that dtype, else a converted copy of that column alone,
        with NaN where a value is missing -- except in a view of a polars
        column's values with nulls, whose ``valid`` mask says where they are.
    valid : list of (tuple or None)
        Per column, None or ``(bitmap, offset)``: the column's Arrow validity
        bitmap, whose bit ``offset + i`` is 0 where ``arrays[j][i]`` is a null
        (whatever value the buffer holds there).
    missing : list
        Per column, where a nullable column (a pandas extension dtype, a
        polars column with nulls) is missing, to restore in the output: a
        boolean array (pandas: True where missing), a boolean Series
        (polars: True where present), or None.
    dtype : numpy dtype
        float32 when every column is float32, float64 otherwise (as
        ``validate_data`` converts).
    """

    def __init__(self, frame, arrays, valid, missing, dtype):
        self.frame, self.arrays, self.valid = frame, arrays, valid
        self.missing, self.dtype = missing, dtype
        self.shape = (len(arrays[0]), len(arrays))
        self.size = self.shape[0] * self.shape[1]

    def column(self, j):
        """Column ``j`` with NaN wherever a value is missing."""
        if self.valid[j] is None:
            return self.arrays[j]
        bitmap, at = self.valid[j]
        n = self.shape[0]
        present = np.unpackbits(bitmap, count=at + n, bitorder="little")[at:].view(bool)
        return np.where(present, self.arrays[j], np.nan).astype(self.dtype)

    def empty(self):
        """The output: one ``(n_features, n_samples)`` C-ordered array, whose
        row ``j`` is column ``j``'s output; its transpose is a Fortran-ordered
        ``(n_samples, n_features)`` array, which pandas takes as a frame
        without a copy."""
        return np.empty(self.shape[::-1], dtype=self.dtype)

    def keeps_nulls(self, estimator):
        """Whether ``estimator.transform`` returns a polars frame whose columns
        share this one's validity bitmaps (each starting at a whole byte):
        then no value under a null need be NaN."""
        return (_is_polars(self.frame) and any(v is not None for v in self.valid)
                and all(v is None or v[1] % 8 == 0 for v in self.valid)
                and _get_output_config("transform", estimator)["dense"] == "polars")

    def wrap(self, out, estimator):
        """``out`` (from :meth:`empty`) as ``estimator.transform`` returns it:
        see :func:`like`."""
        return like(self.frame, out.T, estimator, self.missing, self.valid)


def like(frame, Y, estimator, missing=None, valid=None):
    """The transform ``Y`` of ``frame`` as ``estimator.transform`` returns it: a
    frame of ``frame``'s kind where ``set_output`` asks for that kind (built
    around ``Y``'s memory, ``frame``'s missing entries missing again), else
    ``Y`` itself (which scikit-learn's ``set_output`` wraps as it does any
    array).  ``missing`` and ``valid`` are :attr:`Columns.missing` (found
    here if None) and :attr:`Columns.valid`: a polars column whose bitmap
    starts at a whole byte shares it."""
    if not is_frame(frame):  # (the common case, at the cost of two isinstance)
        return Y
    kind = _get_output_config("transform", estimator)["dense"]
    if kind == "pandas" and isinstance(frame, pd.DataFrame):
        result = pd.DataFrame(Y, index=frame.index, columns=frame.columns, copy=False)
        for j, mask in enumerate(_missing(frame) if missing is None else missing):
            if mask is not None:  # pd.NA where it was
                result.isetitem(j, pd.arrays.FloatingArray(np.ascontiguousarray(Y[:, j]), mask))
        return result
    if kind == "polars" and _is_polars(frame):
        import polars as pl

        missing = _missing(frame) if missing is None else missing
        series, restore = [], []  # views of Y where its columns are contiguous
        for j, name in enumerate(frame.columns):
            bits = None if valid is None else valid[j]
            if bits is not None and bits[1] % 8 == 0:
                series.append(_with_bitmap(name, Y[:, j], *bits))
            else:
                series.append(pl.Series(name, Y[:, j]))
                if missing[j] is not None:  # nulls where they were
                    restore.append(pl.when(missing[j]).then(series[-1]))
        result = pl.DataFrame(series)
        return result.with_columns(restore) if restore else result
    return Y


def refuse_non_numbers(X):
    """Raise a ``ValueError`` naming the columns of the pandas or polars frame
    ``X`` that hold dates, times, durations or categories: numbers to numpy
    (nanoseconds, category codes), but no quantity to scale."""
    if isinstance(X, pd.DataFrame):
        bad = [(name, dtype) for name, dtype in X.dtypes.items() if _not_a_quantity(dtype)]
    elif _is_polars(X):
        bad = [(name, dtype) for name, dtype in X.schema.items()
               if dtype.is_temporal() or dtype.base_type().__name__ in ("Categorical", "Enum")]
    else:
        return
    if bad:
        listed = ", ".join(f"{name!r} ({dtype})" for name, dtype in bad)
        raise ValueError(
            f"Column{'s' if len(bad) > 1 else ''} {listed} hold{'' if len(bad) > 1 else 's'}"
            " dates, times, durations or categories, not quantities; skscale scales numbers"
            " only. Convert them first (e.g. the year or the days since a date; category"
            " codes only where their order means something), or leave them out with a"
            " ColumnTransformer.")


def _not_a_quantity(dtype):
    if isinstance(dtype, np.dtype):
        return dtype.kind in "mM"
    if isinstance(dtype, (pd.CategoricalDtype, pd.DatetimeTZDtype, pd.PeriodDtype,
                          pd.IntervalDtype)):
        return True
    arrow = getattr(dtype, "pyarrow_dtype", None)  # pd.ArrowDtype
    if arrow is not None:
        import pyarrow as pa

        return (pa.types.is_temporal(arrow) or pa.types.is_dictionary(arrow))
    return False


def is_frame(X):
    """Whether ``X`` is a pandas or polars DataFrame."""
    return isinstance(X, pd.DataFrame) or _is_polars(X)


def _missing(frame):
    """:attr:`Columns.missing` of ``frame``, without reading its values."""
    if isinstance(frame, pd.DataFrame):
        return [_missing_of(s) for _, s in frame.items()]
    return [_missing_of(s) for s in frame.get_columns()]


def _missing_of(s):
    """One column's entry of :attr:`Columns.missing`: None for a pandas column
    of a numpy dtype (its NaN stays NaN) and for one with nothing missing."""
    if isinstance(s, pd.Series):
        return None if isinstance(s.dtype, np.dtype) or not s.hasnans else s.isna().to_numpy()
    return s.is_not_null() if s.null_count() else None


def read(X):
    """:class:`Columns` of ``X``; None when ``X`` is not a pandas or polars
    DataFrame of numeric columns with at least one row and one column
    (``validate_data`` then converts it, or says what is wrong with it)."""
    if isinstance(X, pd.DataFrame):
        series = [s for _, s in X.items()]
        read_one = _pandas_column
    elif _is_polars(X):
        series = X.get_columns()
        read_one = _polars_column
    else:
        return None
    if not series or len(X) == 0:
        return None
    float32 = all(str(s.dtype).lower() == "float32" for s in series)
    dtype = np.dtype(np.float32 if float32 else np.float64)
    # Conversions of missing values run in the libraries' own kernels,
    # free of the GIL: several columns at once.
    got = [c for part in for_each_block(
        len(series), 1, lambda js: [read_one(series[j], dtype) for j in range(js.start, js.stop)],
        rows_per_block=1) for c in part]
    if any(c is None for c in got):
        return None
    return Columns(X, *([c[i] for c in got] for i in range(3)), dtype)


def _pandas_column(s, dtype):
    if isinstance(s.dtype, np.dtype):
        if s.dtype.kind not in "biuf" or s.dtype == np.float16:
            return None
        return s.to_numpy().astype(dtype, copy=False), None, None
    if getattr(s.dtype, "kind", "O") not in "biuf" or isinstance(s.dtype, pd.SparseDtype):
        return None
    # nullable (Float64, Int64, boolean) and Arrow-backed columns
    return s.to_numpy(dtype=dtype, na_value=np.nan), None, _missing_of(s)


def _polars_column(s, dtype):
    import polars as pl

    if not (s.dtype.is_float() or s.dtype.is_integer() or s.dtype == pl.Boolean) \
            or s.dtype == getattr(pl, "Float16", None):
        return None
    present = _missing_of(s)
    if s.dtype != pl.Float32 and s.dtype != pl.Float64:
        s = s.cast(pl.Float64)
    if present is None:
        return s.to_numpy().astype(dtype, copy=False), None, None
    if s.dtype == pl.Float64 if dtype == np.float64 else s.dtype == pl.Float32:
        buffers = _arrow_buffers(s, dtype)
        if buffers is not None:  # the values in place, and where the nulls are
            return (*buffers, present)
    # a copy with NaN for the nulls (the frame's own kernel), then a view of it
    return s.fill_null(float("nan")).to_numpy().astype(dtype, copy=False), None, present


def _arrow_buffers(s, dtype):
    """The values of a polars column of ``dtype`` with nulls and its validity
    bitmap with the bit offset, read in place through Arrow (pyarrow comes
    with the ``polars`` extra); None without pyarrow or for a column in
    several chunks (which Arrow would first copy into one)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    if s.n_chunks() != 1:
        return None
    array = s.to_arrow()
    bitmap, data = array.buffers()
    n, at = len(array), array.offset
    values = np.frombuffer(data, dtype=dtype, count=at + n)[at:]
    return values, (np.frombuffer(bitmap, np.uint8), at)


def _with_bitmap(name, values, bitmap, at):
    """A polars Series of the contiguous array ``values`` (a view) with the
    validity bitmap ``bitmap`` from bit ``at``, a multiple of 8 (shared)."""
    import polars as pl
    import pyarrow as pa

    n, first = len(values), at // 8
    buffers = [pa.py_buffer(bitmap[first:first + (n + 7) // 8]), pa.py_buffer(values)]
    array = pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), n, buffers)
    return pl.from_arrow(array).alias(name)


def _is_polars(X):
    pl = sys.modules.get("polars")  # never import polars for a check
    return pl is not None and isinstance(X, pl.DataFrame)
