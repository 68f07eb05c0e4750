"""The wording of skscale's errors: which column, which row, what is wrong.

Every message that names a column, a row or a value is written here, so
that the same mistake reads the same wherever it is found (validation,
the statistics core, the kernels on any backend).  This module raises; it
computes nothing but where the first bad value is.
"""

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import _get_feature_names


def column_label(j, feature_names=None):
    """How an error message names column ``j``."""
    if feature_names is not None:
        return f"column {feature_names[j]!r}"
    return f"column {j}"


def raise_non_finite(X, nan_mask, row0, feature_names, result=None,
                     reason="the fitted scale is far too small for this value"):
    """Raise a ``ValueError`` naming the first infinite value of block ``X``
    or, given the block's ``result``, the first finite value that scaled to a
    non-finite one (an overflow of the output type), and ``reason`` why."""
    inf = ~nan_mask & ~np.isfinite(X)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise ValueError(
            f"Input contains infinity ({float(X[i, j])}) in {column_label(j, feature_names)}"
            f" at row {row0 + i}; scaling needs finite values (NaN is allowed and"
            " passed through).")
    if result is not None:
        bad = ~nan_mask & ~np.isfinite(result)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            label = column_label(j, feature_names)
            raise ValueError(
                f"{label[0].upper()}{label[1:]} at row {row0 + i}: {float(X[i, j])!r}"
                f" scales to {float(result[i, j])}, beyond the range of {result.dtype};"
                f" {reason}.")


def in_place_error(row, dtype):
    # The row's inputs are overwritten by now: name the row only.
    return ValueError(
        f"Row {row} holds an infinity, or a value that scales beyond the range of"
        f" {dtype}; scaling needs finite values (NaN is allowed and passed through)."
        " With copy=False X has been scaled in place all the same.")


def check_overflow(mean, m2, count, feature_names):
    """Finite values whose sum or squared spread exceeds float64 (|x| ~ 1e154
    and beyond) cannot be summarized; say so rather than return inf or NaN."""
    bad = (count > 0) & ~(np.isfinite(mean) & np.isfinite(m2))
    if bad.any():
        j = int(np.argwhere(bad)[0][-1])
        raise ValueError(
            f"The values of {column_label(j, feature_names)} are too large for their"
            " sum or variance to fit in float64; divide them by a power of ten first.")


def check_column_order(X, fitted):
    """Name the first misplaced column of a frame holding the fitted columns
    in another order (scikit-learn's message names none)."""
    names = _get_feature_names(X)
    if names is None or len(names) != len(fitted) or (names == fitted).all() \
            or set(names) != set(fitted):
        return  # the same order, or other columns: validate_data says which
    i = int(np.flatnonzero(names != fitted)[0])
    raise ValueError(
        f"The columns are in another order than at fit: column {i} is {names[i]!r}, where"
        f" fit had {fitted[i]!r}. Select them in the fitted order:"
        " X[scaler.feature_names_in_].")


def explain_bad_values(X, err):
    """Re-raise a conversion failure of an array (not a frame) of objects,
    naming the first value that is not a number, by row and column."""
    # (a TypeError -- a dict, a list in a cell -- is scikit-learn's own, and stays)
    if not isinstance(err, ValueError) or hasattr(X, "columns") or sp.issparse(X) \
            or getattr(X, "dtype", object) != object:
        return
    try:
        A = np.asarray(X, dtype=object)
    except (TypeError, ValueError):
        return
    if A.ndim != 2:
        return
    for (i, j), value in np.ndenumerate(A):
        try:
            np.float64(value)  # as numpy converts (None is NaN)
        except ValueError:
            raise ValueError(
                f"The value {value!r} in column {j} at row {i} is not a number; skscale"
                " scales numbers only.") from err


def explain_bad_columns(X, err):
    """Re-raise a conversion failure naming the offending frame columns, and
    in each the first value that is not a number, with its row."""
    dtypes = getattr(X, "dtypes", None)
    columns = getattr(X, "columns", None)
    if dtypes is None or columns is None:
        return
    bad = []
    for j, (name, dtype) in enumerate(zip(columns, dtypes)):
        kind = getattr(dtype, "kind", None)  # numpy and pandas dtypes
        numeric = kind in "biuf" if kind else getattr(dtype, "is_numeric", lambda: False)()
        if not numeric:
            bad.append(f"{name!r} ({dtype}{first_non_number(X, j)})")
    if bad:
        raise ValueError(
            f"Columns {', '.join(bad)} are not numeric; skscale scales numbers only."
            " Drop or encode them first, e.g. with a ColumnTransformer.") from err


def first_non_number(X, j):
    """``": 'abc' at row 3"``: the first value of column ``j`` of a frame that
    is neither missing nor a number, as numpy converts; '' if none is found."""
    values = X.iloc[:, j] if hasattr(X, "iloc") else X.to_series(j)
    for i, value in enumerate(values.to_list() if hasattr(values, "to_list") else values):
        if value is None or value is pd.NA:
            continue
        try:
            np.float64(value)
        except (TypeError, ValueError):
            return f": {value!r} at row {i}"
    return ""


def sparse_column(X, at):
    """The column of the ``at``-th stored value of a CSR or CSC matrix."""
    if X.format == "csr":
        return int(X.indices[at])
    return int(np.searchsorted(X.indptr, at, side="right") - 1)


def named_column(est, j):
    """Column ``j`` of ``est``'s input as an error message names it: by its
    name where fit saw names, else by its index."""
    return column_label(j, getattr(est, "feature_names_in_", None))


#: "row 5", "Row 5", "rows 5..9": how the messages here name rows.
_ROWS = re.compile(r"\b([Rr]ows? )(\d+)(?:\.\.(\d+))?")


def shift_rows(message, offset):
    """``message`` (one of this module's) with each row number it names
    counted ``offset`` rows further: an error found in a block of rows,
    numbered from the start of what holds the block (a Spark partition)."""
    if not offset:
        return message

    def shifted(m):
        end = f"..{int(m.group(3)) + offset}" if m.group(3) else ""
        return f"{m.group(1)}{int(m.group(2)) + offset}{end}"

    return _ROWS.sub(shifted, message)


def spark_columns_refused(bad):
    """Refuse the Spark columns ``bad`` (``(name, type)`` pairs) that hold no numbers."""
    listed = ", ".join(f"{name!r} ({kind})" for name, kind in bad)
    raise ValueError(
        f"Column{'s' if len(bad) > 1 else ''} {listed} of the Spark DataFrame"
        f" hold{'' if len(bad) > 1 else 's'} no numbers; skscale scales numbers only. Fit on"
        " the numeric columns, e.g. scaler.fit(df.select(cols)); the transforms then scale"
        " those columns of any frame and pass the others through.")
