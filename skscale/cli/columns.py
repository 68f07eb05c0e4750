"""Which columns are scaled, and their values as one float array.

It may touch the chunks that :mod:`.tables` reads (never a file itself): it
picks the columns to scale, turns them into one 2-D float array with their
null masks, and refuses integers that a float64 would round.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import CLIError

#: Integers beyond this magnitude do not all have a float64 of their own.
EXACT_INTEGERS = 2**53


def select_columns(data, requested=None):
    """``(columns, left_out)``: the columns to scale, ``requested`` (checked)
    or every numeric column (not a pandas index stored as a column); and,
    for the default, the names of the columns left out."""
    if requested is None:
        index = data.index_columns()
        columns, left_out = [], []
        for f in data.schema:
            if f.name not in index:
                (columns if data.is_numeric(f.name) else left_out).append(f.name)
        return columns, left_out
    twice = sorted({c for c in requested if requested.count(c) > 1})
    if twice:
        raise CLIError(f"--columns names {', '.join(map(repr, twice))} more than once")
    data.check_scalable(requested)
    return list(requested), []


def to_matrix(table, columns, dtype, data):
    """``(X, masks)``: the columns as one 2-D array (nulls as NaN), and each
    column's null mask (None where it has none), to restore the nulls on
    output.  Integers beyond 2**53, which float64 would round, are refused."""
    X = np.empty((table.num_rows, len(columns)), dtype=dtype, order="F")
    masks = []
    for j, name in enumerate(columns):
        col = table.column(name)
        try:
            col = pc.cast(col, pa.from_numpy_dtype(dtype))
        except pa.ArrowInvalid:  # (pyarrow's safe cast refuses inexact integers)
            _refuse_wide_integers(col.fill_null(0).to_numpy(), name, data)
            raise
        X[:, j] = col.to_numpy()  # nulls come back as NaN
        if data.fmt == "csv" and pa.types.is_integer(data.schema.field(name).type):
            _refuse_wide_integers(X[:, j], name, data)  # (parsed as floats: see tables)
        masks.append(col.is_null().to_numpy() if col.null_count else None)
    return X, masks


def _refuse_wide_integers(values, name, data):
    with np.errstate(invalid="ignore"):
        if values.dtype.kind in "iu":
            wide = np.flatnonzero(np.abs(values) > EXACT_INTEGERS)
        else:  # parsed as a float already: 2**53 + 1 reads as 2**53
            wide = np.flatnonzero(np.abs(values) >= EXACT_INTEGERS)
    if wide.size:
        i = int(wide[0])
        value = values[i] if values.dtype.kind in "iu" else f"about {values[i]:.17g}"
        raise WideInteger(data.path, name, value, i)


class WideInteger(CLIError):
    """An integer a float64 would round; its row counted within the chunk."""

    def __init__(self, path, column, value, row):
        self.path, self.column, self.value, self.row = path, column, value, row
        super().__init__(self._text(row))

    def _text(self, row):
        return (f"{self.path!r}: column {self.column!r} holds the integer {self.value} at row"
                f" {row}, beyond 2**53, where float64 cannot hold every integer: skscale scales"
                " in floating point and will not round it silently; convert the column to"
                " floats first if rounding is acceptable")

    def at(self, start):
        """The same error with its row counted in the file."""
        return CLIError(self._text(start + self.row))


def frame(X, columns):
    """``X`` as a pandas frame without a copy, so the estimator sees the names."""
    return pd.DataFrame(X, columns=columns, copy=False)
