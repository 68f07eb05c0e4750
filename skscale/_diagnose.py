"""AutoScaler's rules: a column's kind, then its shape, from its profile.

Reads the measures of :mod:`skscale._profile` (and a column's name, only as
a hint that the reason states) and returns a :class:`Diagnosis`: the kind of
column, the diagnosis that picks a method, what decided it in words, and the
parameters the method needs.  It touches no data and no estimator.

Every threshold here is on a share of rows or on a quantile-based measure,
each of which one row more or less moves by about ``1 / n``: a decision
changes with one row only where a column sits on a threshold's edge (or the
row changes what the column can take, as a first negative value does).
"""

import re
from dataclasses import dataclass

import numpy as np

#: The kinds of column, in the order they are told apart.
KINDS = ("empty", "constant", "binary", "id", "code", "calendar", "count", "continuous")

#: A share of integers from which a column counts as integer-valued (a stray
#: non-integer value, as a data-entry slip, does not change the kind).
INTEGRAL = 0.99
#: Codes: the twelve commonest values (twelve: months) hold at least this
#: share of the rows ...
CODE_TOP = 0.98
#: ... and the distinct values are at most this share of the rows, and the
#: values are small: from ``CODE_LOW`` (1st percentile) to twice the number of
#: levels plus one (99th percentile), as levels numbered from 0 or 1 are
#: (a measurement rounded to integers, as 50..70, is no code).
CODE_DISTINCT, CODE_LOW = 0.2, -2
#: IDs: integers distinct in at least this share of the rows ...
ID_DISTINCT = 0.98
#: ... and either in order (this share of steps one way, in stream order) ...
ID_MONOTONE = 0.98
#: ... or spread evenly over their range (deciles this close to even).
ID_EVEN = 0.1
#: IDs and codes need this many values to be told from a quantity.
MIN_ROWS = 20
#: Years told from the values alone: integers in this range, spanning at most
#: ``YEAR_SPAN``.
YEARS, YEAR_SPAN = (1800, 2100), 150
#: Calendar fields the name may hint at, with the range their values must keep.
CALENDAR = (("year", r"year|yr", YEARS), ("month", r"month|mon\b|mnth", (1, 12)),
            ("weekday", r"weekday|dow\b|day_?of_?week|wday", (0, 7)),
            ("day", r"day|dom\b|mday", (1, 31)), ("hour", r"hour|hr\b|^h$", (0, 24)))
#: A shared range: at least this many columns (and half of the table) of
#: integers within 0..top, most of them reaching this share of top.
SHARED_COLUMNS, SHARED_REACH = 8, 0.9
#: Shape: a map is taken only where the column is this far from a normal shape
#: (a gamma of shape 8, moment skewness 0.7; milder skew moved no model's
#: score beyond noise, and each reshaping is one more fitted step) ...
SHAPE_FROM = 0.4
#: ... and the map brings it within this distance ...
SHAPE_TO = 0.6
#: ... at most this share of where it was.
SHAPE_RATIO = 0.7
#: Plain log (log1p for counts with zeros) is preferred over a fitted power
#: while within this distance of the best.
PREFER_LOG = 0.1


@dataclass
class Diagnosis:
    """What the rules decided for one column.

    ``kind`` is one of :data:`KINDS`; ``diagnosis`` picks the method;
    ``measured`` says in words what decided it; ``extra`` is what the method
    needs (a range, the two values of a binary column, a shape's family);
    ``hint`` is what the name suggested, if anything."""

    kind: str
    diagnosis: str
    measured: str
    extra: object = None
    hint: str = ""


def shared_range(measures):
    """``(columns, top)``: the columns that share one range of integers
    ``0..top`` with many others -- at least :data:`SHARED_COLUMNS` of them
    and half of the table, most reaching :data:`SHARED_REACH` of ``top``
    (the pixels of an image, 0..255 or 0..16; a questionnaire's items) --
    or ``(set(), None)``.  One column in 0..255 is not evidence: counts,
    days and IDs lie there too; nor are many integer columns of different
    ranges (a table of counts)."""
    cols = [j for j, m in enumerate(measures)
            if m["count"] and m["integral"] >= 1.0 and m["min"] >= 0 and m["max"] > m["min"]]
    if not cols or len(cols) < max(SHARED_COLUMNS, len(measures) / 2):
        return set(), None
    top = max(measures[j]["max"] for j in cols)
    if sum(measures[j]["max"] >= SHARED_REACH * top for j in cols) < len(cols) / 2:
        return set(), None
    return set(cols), float(top)


def name_hint(name):
    """``(field, (low, high))`` of the calendar field the column's name
    suggests, or None."""
    if name is None:
        return None
    text = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name)).lower()
    for field, pattern, span in CALENDAR:
        if re.search(pattern, text):
            return field, span
    return None


def kind_of(m, name=None):
    """``Diagnosis`` of the kind of a column with measures ``m`` (its
    diagnosis the kind itself for empty, constant, binary, id, code and
    calendar; ``None`` for counts and continuous, whose shape decides)."""
    if m["count"] == 0:
        return Diagnosis("empty", "empty", "no value at fit")
    if m["min"] == m["max"]:
        return Diagnosis("constant", "constant", f"constant (every value is {m['min']:.6g})")
    if m["distinct"] == 2 or (m["values"] is not None and len(m["values"]) == 2):
        a, b = m["values"]
        return Diagnosis("binary", "binary", f"two values, {a:.6g} and {b:.6g}", (a, b))
    n = m["n"]
    integral = m["integral"] >= INTEGRAL
    hint = name_hint(name)
    said = f"; its name suggests {hint[0]}s" if hint else ""
    if integral and hint and hint[1][0] <= m["min"] and m["max"] <= hint[1][1]:
        return Diagnosis("calendar", "calendar",
                         f"integers from {m['min']:.0f} to {m['max']:.0f}, a {hint[0]} field"
                         f" (named {name!r}, and the values fit)", hint[0], hint[0])
    if integral and YEARS[0] <= m["min"] and m["max"] <= YEARS[1] \
            and m["max"] - m["min"] <= YEAR_SPAN and m["distinct"] > 2:
        return Diagnosis("calendar", "calendar",
                         f"integers from {m['min']:.0f} to {m['max']:.0f}, which read as years"
                         + said, "year", hint[0] if hint else "")
    if integral and n >= MIN_ROWS and m["distinct"] >= ID_DISTINCT * n:
        if m["monotone"] >= ID_MONOTONE:
            return Diagnosis("id", "id", f"integers distinct in {m['distinct'] / n:.0%} of the"
                             f" rows and in order in {m['monotone']:.0%} of steps, an"
                             " identifier" + said, None, hint[0] if hint else "")
        if m["uneven"] <= ID_EVEN:
            return Diagnosis("id", "id", f"integers distinct in {m['distinct'] / n:.0%} of the"
                             f" rows, spread evenly from {m['min']:.0f} to {m['max']:.0f}, an"
                             " identifier" + said, None, hint[0] if hint else "")
    if integral and n >= MIN_ROWS and m["top12"] >= CODE_TOP \
            and m["distinct"] <= CODE_DISTINCT * n and CODE_LOW <= m["p1"] \
            and m["p99"] <= 2 * m["levels"] + 1:
        return Diagnosis("code", "code", f"{m['distinct']} distinct integers, the twelve"
                         f" commonest holding {m['top12']:.0%} of the rows, a code or level" + said,
                         None, hint[0] if hint else "")
    kind = "count" if integral and m["min"] >= 0 else "continuous"
    return Diagnosis(kind, None, "", None, hint[0] if hint else "")


def shape_of(m, kind, *, sparse_zeros, far_out, shape_from=SHAPE_FROM):
    """``Diagnosis`` of a count or continuous column by its shape: sparse,
    heavy_tail (log, log1p or Box-Cox), skewed (Yeo-Johnson), outliers
    (squashing) or ordinary, with ``extra`` the shape's ``(family,
    lambda)`` for the first two."""
    if m["zeros"] >= sparse_zeros:
        return Diagnosis(kind, "sparse", f"{m['zeros']:.0%} zeros")
    shapes = m["shapes"]
    none = shapes["none"]
    d0 = none["distance"]
    family, best = _best_map(shapes, kind, m["min"])
    before = f"distance from a normal shape {_num(d0)}"
    if family is not None and d0 >= shape_from and best["distance"] <= SHAPE_TO \
            and best["distance"] <= SHAPE_RATIO * d0:
        after = best["far"] / m["n"]
        words = {"log": "log(x)", "log1p": "log(1 + x)",
                 "box-cox": f"Box-Cox (lambda near {best['lam']:.2g})",
                 "yeo-johnson": f"Yeo-Johnson (lambda near {best['lam']:.2g})"}[family]
        if after < far_out:
            others = ", ".join(f"{f} {_num(s['distance'])}" for f, s in shapes.items()
                               if f not in ("none", family))
            side = "left" if none["skew"] < 0 else "right"
            why = (f"{'negative values and ' if m['min'] < 0 else ''}a {side}-skewed shape"
                   f" ({before}, {best['distance']:.2f} after {words}"
                   + (f"; {others}" if others else "") + ")")
            diagnosis = "heavy_tail" if family in ("log", "log1p", "box-cox") else "skewed"
            return Diagnosis(kind, diagnosis, why, family)
    far = min(none["far"], best["far"] if best is not None else none["far"]) / m["n"]
    if far >= far_out:
        return Diagnosis(kind, "outliers",
                         f"{far:.1%} of values beyond 3 IQR of the quartiles"
                         + (" even after the best power map" if best is not None
                            and family is not None else "")
                         + f" ({before})")
    return Diagnosis(kind, "ordinary", f"close enough to a normal shape ({before}"
                     + (f"; no power map brings it much closer: {family}"
                        f" {_num(best['distance'])}" if family is not None and d0 >= shape_from
                        else "") + ")")


def _best_map(shapes, kind, low):
    """``(family, measures)`` of the shape-changing map for a column:
    Yeo-Johnson where values are negative or the skew is to the left; else
    plain log (strictly positive) or log1p (counts with zeros) while within
    :data:`PREFER_LOG` of the power map (Box-Cox for positive values,
    Yeo-Johnson where there are zeros), otherwise that map."""
    none = shapes["none"]
    if low < 0 or none["skew"] < 0:
        return ("yeo-johnson", shapes["yeo-johnson"]) if "yeo-johnson" in shapes \
            else (None, None)
    fitted = [f for f in (("box-cox",) if low > 0 else ("yeo-johnson",)) if f in shapes]
    best = min(fitted, key=lambda f: shapes[f]["distance"]) if fitted else None
    plain = "log" if "log" in shapes else ("log1p" if "log1p" in shapes and kind == "count"
                                           else None)
    if plain is not None and (best is None or shapes[plain]["distance"]
                              <= shapes[best]["distance"] + PREFER_LOG):
        return plain, shapes[plain]
    if best is None:
        return None, None
    return best, shapes[best]


def _num(v):
    return f"{v:.2f}" if np.isfinite(v) and v < 100 else ("over 100" if np.isfinite(v) else "inf")
