"""Bad input, case by case: what every estimator gives for every call.

``CASES`` is the table (docs/bad_input.md shows it, and a test below keeps the
two in step).  Each case builds an input, names its default outcome for every
method and call, and lists the exceptions, keyed ``"methods:calls"`` (either
part may be empty, meaning all).  An outcome is

* ``NUMBERS`` -- the right numbers, from the exact oracle below (Decimal
  arithmetic at 80 digits on the exact values of the floats; ``math.log1p``
  and ``math.expm1`` for the logarithm), float64, NaN where the oracle has NaN;
* ``Raises(exc, pattern, gist)`` -- that exception, its message matching
  ``pattern`` (for frames the column is named by name, for arrays by index);
* ``numbers_or_error(column)`` -- near the float64 limit: the right numbers,
  or a ValueError naming the column (or, per sample, the row); never a silent inf, NaN or 0.  Where
  the right numbers do not fit in float64 only the error will do.

Every call runs on an estimator already fitted on clean training data of the
same kind (array or frame), so a failure can also be checked for what it
leaves behind: a failed ``partial_fit``, ``transform`` or
``inverse_transform`` changes nothing in the estimator, a failed ``fit``
leaves it as it was or unfitted (never a mix), and a failed
``transform(X, copy=False)`` / ``inverse_transform(X, copy=False)`` leaves the
caller's array as it was.

``fit`` and ``partial_fit`` are judged by ``transform(X)`` afterwards (the
oracle fitted on ``X``, or on the training data and ``X``); per-sample scalers
invert with ``sample_stats=`` made up here (the oracle uses the same).
"""

import copy
import dataclasses
import inspect
import math
import pathlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, localcontext, Context
from typing import Callable

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn import preprocessing as skp
from sklearn.base import BaseEstimator, clone

from skscale import SCALERS, Scaler

# Parameters that suit width-8 data: instance norm sees 4 channels of 2
# positions, group norm 2 groups of 4 channels of 2 positions.
PARAMS = {"minmax": {}, "zscore": {}, "decimal": {}, "log": {}, "maxabs": {},
          # (fits that partial_fit may continue)
          "robust": {"keep_sketch": True}, "power": {"keep_stats": True},
          "quantile": {"keep_sketch": True}, "squashing": {"keep_sketch": True},
          "unit_norm": {},
          "layer_norm": {}, "instance_norm": {"n_channels": 4},
          "group_norm": {"num_groups": 2, "n_channels": 4}, "rms_norm": {"eps": 1e-5},
          "batch_norm": {}}
GROUPS = {"unit_norm": 1, "layer_norm": 1, "instance_norm": 4, "group_norm": 2, "rms_norm": 1}
ROW = set(GROUPS)
METHODS = list(PARAMS)
CALLS = ("fit", "partial_fit", "transform", "inverse_transform")
EPS = Decimal(1e-5)  # the default eps of batch, layer, instance and group norm (RMS: set)

N, D = 20, 8
NAMES = [f"f{j}" for j in range(D)]
T = np.random.default_rng(0).uniform(1, 10, size=(N, D))  # clean training data


def _estimator(est_id):
    if est_id.startswith("Scaler("):
        method = est_id[7:-1]
        return method, Scaler(method, PARAMS[method] or None)
    return est_id, SCALERS[est_id](**PARAMS[est_id])


# ---------------------------------------------------------------- outcomes

@dataclass(frozen=True)
class Numbers:
    def doc(self):
        return "numbers"


@dataclass(frozen=True)
class Raises:
    exc: type
    pattern: str
    gist: str

    def doc(self):
        return f"{self.exc.__name__}: {self.gist}"


@dataclass(frozen=True)
class NumbersOrError:
    pattern: str
    gist: str
    tol: float = 1e-12

    def doc(self):
        return f"numbers, or ValueError: {self.gist}"


NUMBERS = Numbers()


@dataclass(frozen=True)
class Approx:
    """The right numbers to ``tol``: a streamed power transform standardizes
    by the moments interpolated at its lambda (test_power.py states how near)."""
    tol: float

    def doc(self):
        return f"numbers (to {self.tol:g})"


STREAMED_POWER = {"power:partial_fit": Approx(1e-7)}


def numbers_or_error(col, tol=1e-12):
    return NumbersOrError(rf"(?i)\bcolumn {col}\b", f"names column {col}", tol)


def numbers_or_error_row(col):
    return NumbersOrError(rf"(?i)\bcolumn {col}\b|\brow \d+", f"names column {col} or the row")


def value_error(pattern, gist):
    return Raises(ValueError, pattern, gist)


SPARSE_REFUSED = Raises(TypeError, "sparse", "sparse input refused (zeros would move)")
EMPTY = value_error("0 sample", "0 samples")


# ---------------------------------------------------------------- inputs

def _frame(A=T):
    return pd.DataFrame(A, columns=NAMES)


def _with(A=T, at=(), value=np.nan):
    X = A.copy()
    for ij in at:
        X[ij] = value
    return X


def _unseen():
    return T[::-1] * 1.25 - 0.5  # other rows than the training rows, partly below their minimum


def _all_nan_column():
    return _with(_unseen(), [(slice(None), 3)])


def _huge(a, b):
    X = _unseen()
    X[:, 2] = np.resize([a, b], N)
    return X


def _subnormal():
    X = _unseen()
    X[:, 2] = np.resize([5e-324, 1e-310, 0.0, -1e-310], N)
    X[0] = [1e-310, -5e-324, 2e-310, 0.0, 3e-310, -1e-310, 5e-324, 1e-310]
    return X


def _frame_with(column, values):
    df = _frame(_unseen())
    df[column] = values
    return df


def _nullable():
    X = _unseen()
    X[:, 1] = np.round(X[:, 1] * 10)
    X[1, 0] = X[2, 1] = np.nan
    df = _frame(X)
    df["f0"] = pd.array([None if np.isnan(v) else v for v in X[:, 0]], dtype="Float64")
    df["f1"] = pd.array([None if np.isnan(v) else int(v) for v in X[:, 1]], dtype="Int64")
    return df, X


def _polars_nulls():
    X = _nullable()[1]
    data = {c: [None if np.isnan(v) else v for v in X[:, j]] for j, c in enumerate(NAMES)}
    data["f1"] = [None if np.isnan(v) else int(v) for v in X[:, 1]]
    return pl.DataFrame(data, schema={c: pl.Int64 if c == "f1" else pl.Float64 for c in NAMES}), X


def _renamed(names):
    df = _frame(_unseen())
    df.columns = names
    return df


def _sparse():
    X = _unseen() * (np.arange(N * D).reshape(N, D) % 3 == 0)
    return sp.csr_matrix(X), X


@dataclass
class Case:
    id: str
    input: str  # what the input is, for the docs
    build: Callable  # () -> X, or (X, float64 equivalent for the oracle)
    default: object
    exceptions: dict = field(default_factory=dict)
    calls: tuple = CALLS
    train: str = "array"  # what the estimator is fitted on first: "array", "pandas", "polars"

    def outcome(self, method, call):
        for key, outcome in self.exceptions.items():
            methods, _, calls = key.partition(":")
            if (not methods or method in methods.split()) and (not calls or call in calls.split()):
                return outcome
        return self.default


ROWS = "unit_norm layer_norm instance_norm group_norm rms_norm"
NAMES_CALLS = ("partial_fit", "transform", "inverse_transform")
# The squashing scaler's output lies in (-3, 3): the inverse of values beyond
# (most inputs here) is an error; infinities are values it maps to ±3.
BEYOND = {"squashing:inverse_transform": value_error(
    r"(?i)column \S+ at row \d+: .* is outside \[-3, 3\]", "names the value beyond ±3"),
    **STREAMED_POWER}
# Near the float64 limit: the soft clip's inverse as above; the streamed power
# transform's numbers to its tolerance, or an error naming the column.
HUGE = {"squashing:inverse_transform": BEYOND["squashing:inverse_transform"],
        "power:partial_fit": numbers_or_error(2, 1e-7)}
TAKES_INF = {"squashing:fit partial_fit transform": NUMBERS,
             "squashing:inverse_transform": BEYOND["squashing:inverse_transform"]}

CASES = [
    Case("all_nan_column", "column 3 all NaN", _all_nan_column, NUMBERS,
         {"batch_norm:fit partial_fit": value_error(
             r"at least 2 non-NaN.*column 3 has 0", "column 3 has no value in the batch"),
          **BEYOND}),
    Case("pos_inf", "+inf at row 2, column 5 (array)", lambda: _with(_unseen(), [(2, 5)], np.inf),
         value_error(r"infinity.*column 5\b", "infinity in column 5"), TAKES_INF),
    Case("neg_inf_frame", "-inf at row 2 of column 'f5' (pandas)",
         lambda: _frame(_with(_unseen(), [(2, 5)], -np.inf)),
         value_error(r"(?i)inf.*column 'f5'|column 'f5'.*-inf", "-inf in column 'f5'"),
         TAKES_INF, train="pandas"),
    Case("huge_1e300", "column 2 alternates +1e300, -1e300", lambda: _huge(1e300, -1e300),
         numbers_or_error(2),
         {"log:fit partial_fit transform": value_error(
             r"column 2 holds -1\.?0*1?e\+300", "column 2 holds -1e300 (x + 1 <= 0)"),
          ROWS: numbers_or_error_row(2), **HUGE}),
    Case("huge_1.7e308", "column 2 alternates +1.7e308, -1.7e308",
         lambda: _huge(1.7e308, -1.7e308), numbers_or_error(2),
         {"log:fit partial_fit transform": value_error(
             r"column 2 holds -1\.(7|69+)\d*e\+308", "column 2 holds -1.7e308 (x + 1 <= 0)"),
          ROWS: numbers_or_error_row(2), **HUGE}),
    Case("huge_positive", "column 2 alternates 1.7e308, 1.7e307",
         lambda: _huge(1.7e308, 1.7e307), numbers_or_error(2),
         {ROWS: numbers_or_error_row(2), **HUGE}),
    Case("subnormal", "column 2 cycles 5e-324, 1e-310, 0, -1e-310; row 0 all subnormal",
         _subnormal, NUMBERS, BEYOND),
    Case("zero_rows", "shape (0, 8)", lambda: np.empty((0, D)), EMPTY),
    Case("zero_features", "shape (20, 0)", lambda: np.empty((N, 0)),
         value_error("0 feature", "0 features")),
    Case("one_sample", "one row", lambda: _unseen()[:1], NUMBERS,
         {"batch_norm:fit partial_fit": value_error(
             "at least 2 samples", "a training batch needs 2 rows"), **BEYOND}),
    Case("bool", "bool array", lambda: (_unseen() > 5, (_unseen() > 5).astype(float)), NUMBERS,
         STREAMED_POWER),
    Case("complex", "complex128 array", lambda: _unseen().astype(complex),
         value_error("[Cc]omplex", "complex data")),
    Case("complex_frame", "complex128 column 'f3' (pandas)",
         lambda: _frame_with("f3", _unseen()[:, 3].astype(complex)),
         value_error("'f3'.*complex", "names column 'f3', complex128"), train="pandas"),
    Case("string_array", "'abc' at row 3, column 4 of an object array",
         lambda: _with(_unseen().astype(object), [(3, 4)], "abc"),
         value_error(r"column 4\b", "names column 4, not a number")),
    Case("string_frame", "string column 'f4' (pandas)", lambda: _frame_with("f4", ["x"] * N),
         value_error("'f4'.*(numeric|object|str)", "names column 'f4', not numeric"),
         train="pandas"),
    Case("categorical", "categorical column 'f1' (pandas)",
         lambda: _frame_with("f1", pd.Categorical(["lo", "hi"] * (N // 2))),
         value_error("'f1'.*categor", "names column 'f1', categorical"), train="pandas"),
    Case("datetime", "datetime64 column 'f2' (pandas)",
         lambda: _frame_with("f2", pd.date_range("2020-01-01", periods=N)),
         value_error("'f2'.*datetime", "names column 'f2', datetime"), train="pandas"),
    Case("numeric_categorical", "categorical column 'f1' of integers (pandas)",
         lambda: _frame_with("f1", pd.Categorical([3, 1] * (N // 2))),
         value_error("'f1'.*categor", "names column 'f1', categorical"), train="pandas"),
    Case("timedelta", "timedelta64 column 'f2' (pandas)",
         lambda: _frame_with("f2", pd.to_timedelta(np.arange(N), unit="D")),
         value_error("'f2'.*timedelta", "names column 'f2', timedelta"), train="pandas"),
    Case("polars_datetime", "Datetime column 'f2' (polars)",
         lambda: pl.from_pandas(_frame_with("f2", pd.date_range("2020-01-01", periods=N))),
         value_error("'f2'.*Datetime", "names column 'f2', Datetime"), train="polars"),
    Case("nullable", "Float64 'f0' and Int64 'f1' holding pd.NA (pandas)", _nullable, NUMBERS,
         BEYOND, train="pandas"),
    Case("polars_nulls", "Float64 'f0' and Int64 'f1' holding null (polars)", _polars_nulls,
         NUMBERS, BEYOND, train="polars"),
    Case("duplicate_names", "columns f0 f1 f2 f2 f4 ... (pandas)",
         lambda: _renamed(NAMES[:3] + ["f2"] + NAMES[4:]),
         value_error(r"(?is)(duplicate|unique).*'f2'", "column 'f2' is duplicated"),
         train="pandas"),
    Case("renamed", "column 'f3' renamed 'g3' (pandas)",
         lambda: _renamed(NAMES[:3] + ["g3"] + NAMES[4:]),
         value_error(r"\bg3\b", "names column 'g3' (unseen at fit)"),
         calls=NAMES_CALLS, train="pandas"),
    Case("reordered", "columns 'f1' and 'f5' swapped (pandas)",
         lambda: _frame(_unseen())[["f0", "f5", "f2", "f3", "f4", "f1", "f6", "f7"]],
         value_error(r"(?s)order.*\bf[15]\b|\bf[15]\b.*order", "names 'f1' or 'f5', wrong order"),
         calls=NAMES_CALLS, train="pandas"),
    Case("dropped_column", "column 'f7' missing (pandas)", lambda: _frame(_unseen()).iloc[:, :7],
         value_error(r"\bf7\b", "names missing column 'f7'"), calls=NAMES_CALLS, train="pandas"),
    Case("wrong_width", "7 columns, fitted on 8 (array)", lambda: _unseen()[:, :7],
         value_error("7 features.*expecting 8", "7 features, expecting 8"), calls=NAMES_CALLS),
    Case("negative", "-5 at row 4, column 6", lambda: _with(_unseen(), [(4, 6)], -5.0), NUMBERS,
         {"log:fit partial_fit": value_error(r"column 6 holds -5\b", "column 6 holds -5"),
          "log:transform": value_error(r"column 6 holds -5 at row 4", "column 6 holds -5 at row 4"),
          **BEYOND}),
    Case("minus_one", "-1 at row 4, column 6 (log(0))", lambda: _with(_unseen(), [(4, 6)], -1.0),
         NUMBERS,
         {"log:fit partial_fit": value_error(r"column 6 holds -1\b", "column 6 holds -1"),
          "log:transform": value_error(r"column 6 holds -1 at row 4", "column 6 holds -1 at row 4"),
          **BEYOND}),
    Case("zero_row", "row 3 all zeros", lambda: _with(_unseen(), [(3, slice(None))], 0.0), NUMBERS,
         BEYOND),
    Case("sparse", "scipy CSR, two thirds zeros", _sparse, SPARSE_REFUSED,
         {"decimal log maxabs unit_norm": NUMBERS,  # zscore: as StandardScaler's "Cannot center"
          "zscore": value_error("sparse.*with_mean=False", "sparse input needs with_mean=False"),
          "robust": value_error("sparse.*with_centering=False",
                                "sparse input needs with_centering=False")}),
]


# ---------------------------------------------------------------- the oracle

CTX = Context(prec=80, Emin=-10 ** 6, Emax=10 ** 6)


def _dec(A):
    return [[None if v != v else Decimal(v) for v in row] for row in np.asarray(A, float).tolist()]


def _float(v):
    return np.nan if v is None else float(v)


def _mean_var(values, ddof=0):
    n = len(values)
    mean = sum(values, Decimal(0)) / n
    return mean, sum(((v - mean) ** 2 for v in values), Decimal(0)) / (n - ddof)


def _column_maps(method, batches):
    """Per column, ``(center, scale)`` of ``y = (x - center) / scale``, or None
    for a column with no training value."""
    rows = [r for b in batches for r in _dec(b)]
    maps = []
    for j in range(len(rows[0])):
        vals = [r[j] for r in rows if r[j] is not None]
        if method == "batch_norm":  # cumulative average of the batch means and unbiased variances
            per = [_mean_var(v, ddof=1) for v in
                   ([r[j] for r in _dec(b) if r[j] is not None] for b in batches)]
            mean = sum(m for m, _ in per) / len(per)
            var = sum(v for _, v in per) / len(per)
            maps.append((mean, (var + EPS).sqrt()))
        elif not vals:
            maps.append(None)
        elif method == "minmax":
            lo, hi = min(vals), max(vals)
            maps.append((lo, (hi - lo) or Decimal(1)))
        elif method == "zscore":
            mean, var = _mean_var(vals)
            # (documented: a variance that underflows to 0 in float64, as on
            # subnormal data, counts as a constant feature, as in StandardScaler)
            maps.append((mean, var.sqrt() if float(var) else Decimal(1)))
        elif method == "robust":  # numpy's linear percentiles; the median halves the middle two
            v = sorted(vals)
            q1, q3 = (_percentile(v, p) for p in (25, 75))
            maps.append(((v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2, (q3 - q1) or Decimal(1)))
        elif method == "decimal":
            peak = max(abs(v) for v in vals)
            j_ = max(peak.adjusted() + 1, -307) if peak else 0
            maps.append((Decimal(0), Decimal(10) ** j_))
        elif method == "maxabs":
            maps.append((Decimal(0), max(abs(v) for v in vals) or Decimal(1)))
    return maps


def _training(batches, j, finite=True):
    """The training values of column ``j`` (Decimal; finite ones only)."""
    vals = [r[j] for b in batches for r in _dec(b) if r[j] is not None]
    return [v for v in vals if v.is_finite()] if finite else vals


def _squash(batches, X, inverse, B=Decimal(3)):
    """skrub's definition: median, the quartiles' range (or half the full
    range plus float32's tiny, or 0 for a constant column), the soft clip."""
    rows = _dec(X)
    out = []
    for j in range(X.shape[1]):
        v = sorted(_training(batches, j))
        col = []
        for r in rows:
            x = r[j]
            if x is None:
                col.append(None)
                continue
            if not v:
                col.append((B if x > 0 else -B) if not x.is_finite() and not inverse else None)
                continue
            med = (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
            q1, q3 = _percentile(v, 25), _percentile(v, 75)
            s = q3 - q1 if q3 != q1 else (v[-1] - v[0] + Decimal(float(np.finfo(np.float32).tiny))) / 2
            if inverse:
                z = x / (1 - (x / B) ** 2).sqrt()
                col.append(med if v[0] == v[-1] else z * s + med)
            elif not x.is_finite():
                col.append(B if x > 0 else -B)
            elif v[0] == v[-1]:
                col.append(Decimal(0))
            else:
                z = (x - med) / s
                col.append(z / (1 + (z / B) ** 2).sqrt())
        out.append(col)
    return [list(r) for r in zip(*out)]


def _quantile(batches, X, inverse):
    """scikit-learn's quantile transform with exact quantiles: the
    references between the quantiles around x, the middle of a run of tied
    quantiles, 0 and 1 at and beyond the extremes (a single quantile: 0)."""
    rows = [[None if x is None else +x for x in r] for r in _dec(X)]  # (+: to the context)
    n_rows = sum(len(b) for b in batches)
    n = max(1, min(1000, n_rows))
    levels = np.linspace(0, 1, n)  # numpy's own levels and virtual indices, then exact
    refs = [Decimal(float(r)) for r in levels]
    out = []
    for j in range(X.shape[1]):
        v = sorted(+a for a in _training(batches, j, finite=False))
        q = [_numpy_percentile(v, p) for p in levels * 100] if v else []
        col = []
        for r in rows:
            x = r[j]
            if x is None or not q:
                col.append(None)
            elif inverse:
                if x <= 0 or n == 1:
                    col.append(q[0])
                elif x >= 1:
                    col.append(q[-1])
                else:
                    k = min(int(x * (n - 1)), n - 2)
                    col.append(q[k] + (x - refs[k]) * (q[k + 1] - q[k]) / (refs[k + 1] - refs[k]))
            elif n == 1 or x <= q[0]:
                col.append(Decimal(0))
            elif x >= q[-1]:
                col.append(Decimal(1))
            elif x in q:
                col.append((refs[q.index(x)] + refs[len(q) - 1 - q[::-1].index(x)]) / 2)
            else:
                k = max(i for i in range(n) if q[i] < x)
                col.append(refs[k] + (x - q[k]) * (refs[k + 1] - refs[k]) / (q[k + 1] - q[k]))
        out.append(col)
    return [list(r) for r in zip(*out)]


def _numpy_percentile(v, p):
    """``numpy.percentile`` of the sorted Decimal values ``v`` at the float
    ``p``: numpy's float virtual index and weight, then exact arithmetic."""
    vi = (len(v) - 1) * np.true_divide(p, 100)
    i = min(int(np.floor(vi)), len(v) - 1)
    gamma = Decimal(float(vi - i))
    return v[i] if gamma == 0 or i + 1 == len(v) else v[i] + gamma * (v[i + 1] - v[i])


def _yeo_johnson(x, lam, inverse=False):
    one = Decimal(1)
    if not inverse:
        if x >= 0:
            return ((one + x) ** lam - 1) / lam if lam else (one + x).ln()
        return -((one - x) ** (2 - lam) - 1) / (2 - lam) if lam != 2 else -(one - x).ln()
    if x >= 0:
        return (one + lam * x) ** (one / lam) - 1 if lam else x.exp() - 1
    return one - (one - (2 - lam) * x) ** (one / (2 - lam)) if lam != 2 else one - (-x).exp()


def _power(batches, X, inverse, lambdas):
    """Yeo-Johnson at the estimator's lambdas (their search is checked
    against scikit-learn and scipy in test_power.py), standardized over the
    training values."""
    rows = _dec(X)
    out = []
    for j in range(X.shape[1]):
        lam = lambdas[j]
        v = _training(batches, j)
        col = [None] * len(rows)
        if v and lam == lam:
            lam = Decimal(float(lam))
            psi = [_yeo_johnson(x, lam) for x in v]
            mean, var = _mean_var(psi)
            sd = var.sqrt() if var else Decimal(1)
            for i, r in enumerate(rows):
                x = r[j]
                if x is not None:
                    col[i] = (_yeo_johnson(x * sd + mean, lam, inverse=True) if inverse
                              else (_yeo_johnson(x, lam) - mean) / sd)
        out.append(col)
    return [list(r) for r in zip(*out)]


def _percentile(v, p):
    """The ``p``-th percentile of the sorted values ``v``, linearly interpolated."""
    h = Decimal(p) / 100 * (len(v) - 1)
    i = int(h)
    return v[i] if i + 1 == len(v) else v[i] + (h - i) * (v[i + 1] - v[i])


def _log(x, inverse):
    if x is None:
        return None
    try:
        return (math.expm1 if inverse else math.log1p)(float(x))
    except OverflowError:
        return math.inf


def oracle(method, batches, X, inverse=False, stats=None, lambdas=None):
    """What ``method`` fitted on ``batches`` gives for ``X`` (dense float64)."""
    with localcontext(CTX):
        rows = _dec(X)
        if method == "log":
            return np.array([[_log(x, inverse) for x in r] for r in rows], float).reshape(X.shape)
        if method in ("squashing", "quantile", "power"):
            out = (_squash(batches, X, inverse) if method == "squashing" else
                   _quantile(batches, X, inverse) if method == "quantile" else
                   _power(batches, X, inverse, lambdas))
            return np.array([[_float(v) for v in r] for r in out], float).reshape(X.shape)
        if method in ROW:
            out = []
            for i, r in enumerate(rows):
                size = len(r) // GROUPS[method]
                row = []
                for g in range(GROUPS[method]):
                    xs = r[g * size:(g + 1) * size]
                    vals = [x for x in xs if x is not None]
                    if inverse:
                        center, scale = ((0, Decimal(stats[i])) if method in _ONE_STAT else
                                         (Decimal(stats[0][i, g]), Decimal(stats[1][i, g])))
                    elif method == "unit_norm":
                        center, scale = 0, sum((v * v for v in vals), Decimal(0)).sqrt() or 1
                    elif method == "rms_norm":
                        center, scale = 0, (sum((v * v for v in vals), Decimal(0)) / len(vals)
                                            + EPS).sqrt()
                    elif vals:
                        mean, var = _mean_var(vals)
                        center, scale = mean, (var + EPS).sqrt()
                    row += [None if x is None else x * scale + center if inverse
                            else (x - center) / scale for x in xs]
                out.append(row)
        else:
            maps = _column_maps(method, batches)
            out = [[None if x is None or m is None else
                    x * m[1] + m[0] if inverse else (x - m[0]) / m[1]
                    for x, m in zip(r, maps)] for r in rows]
        return np.array([[_float(v) for v in r] for r in out], float).reshape(X.shape)


#: Per-sample methods whose sample_stats is one number per row.
_ONE_STAT = ("unit_norm", "rms_norm")


def made_up_stats(method, n):
    """``sample_stats`` for inverting ``n`` rows (the values do not matter)."""
    if method in _ONE_STAT:
        return 1.0 + np.arange(n)
    g = GROUPS[method]
    mean = 0.5 * np.arange(n * g).reshape(n, g)
    return mean, 1.0 + mean


# ---------------------------------------------------------------- the test

def _same(a, b):
    """Equality that looks inside arrays, dataclasses, dicts and estimators."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(
            a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, BaseEstimator):
        return _same(a.__dict__, b.__dict__)
    if dataclasses.is_dataclass(a):
        return _same(dataclasses.asdict(a), dataclasses.asdict(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _train(kind):
    return {"array": lambda: T, "pandas": _frame, "polars": lambda: pl.DataFrame(
        T, schema=NAMES)}[kind]()


def _call(est, method, call, X, **kwargs):
    """Run ``call``; return what a fit or partial_fit makes of ``X`` (its
    transform), or the output of a transform or inverse_transform."""
    if call in ("fit", "partial_fit"):
        getattr(est, call)(X)
        return None
    if call == "inverse_transform" and method in ROW:
        kwargs["sample_stats"] = made_up_stats(method, X.shape[0])
    return getattr(est, call)(X, **kwargs)


def _takes_copy(est, call):
    inner = est.scaler_ if isinstance(est, Scaler) else est
    return "copy" in inspect.signature(getattr(inner, call)).parameters


def _check_left_alone(est, before, call):
    after = est.__dict__
    if call == "fit":  # as it was, or unfitted
        assert _same(after, before) or _same(after, clone(est).__dict__), \
            "a failed fit left the estimator half-updated"
    else:
        assert _same(after, before), f"a failed {call} changed the estimator"


def _params():
    return list(_each_param())


def _each_param():
    for case in CASES:
        for call in case.calls:
            for method in METHODS:
                if call == "partial_fit" and not hasattr(SCALERS[method], "partial_fit"):
                    continue
                for est_id in (method, f"Scaler({method})"):
                    yield pytest.param(case, call, est_id, id=f"{case.id}-{call}-{est_id}")


@pytest.mark.parametrize("case, call, est_id", _params())
def test_bad_input(case, call, est_id):
    method, est = _estimator(est_id)
    built = case.build()
    X, plain = built if isinstance(built, tuple) else (built, built)
    est.fit(_train(case.train))
    expected = case.outcome(method, call)

    before, stage, error = copy.deepcopy(est.__dict__), call, None
    try:
        result = _call(est, method, call, X)
        if result is None:  # a fit or partial_fit: judged by what it makes of X
            before, stage = copy.deepcopy(est.__dict__), "transform"
            result = est.transform(X)
    except Exception as err:  # judged below
        error = err

    tol = expected.tol if isinstance(expected, (Approx, NumbersOrError)) else 1e-12
    if isinstance(expected, Raises) or (isinstance(expected, NumbersOrError) and error):
        exc = expected.exc if isinstance(expected, Raises) else ValueError
        if error is None:
            pytest.fail(f"expected {exc.__name__} /{expected.pattern}/, got numbers")
        if not (isinstance(error, exc) and re.search(expected.pattern, str(error))):
            raise AssertionError(f"expected {exc.__name__} /{expected.pattern}/ from"
                                 f" {call}") from error
        assert stage == call or isinstance(expected, NumbersOrError), (
            f"{call} passed; the transform after it raised")
        _check_left_alone(est, before, stage)
        if (call in ("transform", "inverse_transform") and isinstance(X, np.ndarray)
                and X.dtype.kind == "f" and _takes_copy(est, call)):
            mine = X.copy()
            with pytest.raises(exc, match=expected.pattern):
                _call(est, method, call, mine, copy=False)
            np.testing.assert_array_equal(mine, X, err_msg="a failed copy=False call"
                                          " modified the caller's array")
        return

    if error is not None:
        raise AssertionError(f"expected {expected.doc()} from {call}") from error
    batches = {"fit": [plain], "partial_fit": [T, plain]}.get(call, [T])
    stats = made_up_stats(method, plain.shape[0]) if method in ROW else None
    inner = est.scaler_ if isinstance(est, Scaler) else est
    want = oracle(method, batches, plain, call == "inverse_transform", stats,
                  getattr(inner, "lambdas_", None))
    if isinstance(expected, NumbersOrError):
        assert np.isfinite(want[~np.isnan(plain)]).all(), (
            f"{call} gave numbers, but the right ones do not fit in float64:"
            " only an error will do")
    assert sp.issparse(result) == sp.issparse(X)
    result = result.toarray() if sp.issparse(result) else result
    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    np.testing.assert_allclose(result, want, rtol=tol, atol=tol)


# ---------------------------------------------------------------- the table's own checks

def test_every_method_is_in_the_table():
    assert set(PARAMS) == set(SCALERS)


@pytest.mark.parametrize("method, reference", [
    ("minmax", skp.MinMaxScaler()), ("zscore", skp.StandardScaler()),
    ("robust", skp.RobustScaler()), ("unit_norm", skp.Normalizer())])
def test_oracle_agrees_with_scikit_learn(method, reference):
    X = _unseen()
    X[:3, 2] = X[5, 6] = np.nan  # scikit-learn's column scalers, too, ignore NaN
    if method == "unit_norm":
        X = _unseen()
    want = reference.fit(T).transform(X)
    np.testing.assert_allclose(oracle(method, [T], X), want, rtol=1e-13, atol=1e-14)


def markdown_table():
    """The table as docs/bad_input.md shows it."""
    short = {"inverse_transform": "inverse"}
    lines = ["| case | input | " + " | ".join(f"`{m}`" for m in METHODS) + " |",
             "|---|---|" + "---|" * len(METHODS)]
    for case in CASES:
        cells = []
        for method in METHODS:
            calls = [c for c in case.calls
                     if c != "partial_fit" or hasattr(SCALERS[method], "partial_fit")]
            by = {}
            for c in calls:
                by.setdefault(case.outcome(method, c).doc(), []).append(short.get(c, c))
            cells.append(next(iter(by)) if len(by) == 1 else "; ".join(
                f"{', '.join(cs)}: {text}" for text, cs in by.items()))
        only = "" if case.calls == CALLS else " (" + ", ".join(
            short.get(c, c) for c in case.calls) + " only)"
        lines.append(f"| `{case.id}` | {case.input}{only} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_docs_show_this_table():
    page = pathlib.Path(__file__).parents[1] / "docs" / "bad_input.md"
    assert markdown_table() in page.read_text(), (
        "docs/bad_input.md is out of step with CASES; paste markdown_table()")
