"""Log scaling: the one nonlinear column method."""

import functools
import math
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _blocks, _compiled, _device
from ._blocks import block_bounds, for_each_block
from ._columns import ColumnScaler
from ._errors import named_column, raise_non_finite, sparse_column

#: numpy's logarithms to the bases computed by _log1p_base.
_LOGS = {2.0: np.log2, 10.0: np.log10}
#: 1 / ln(base), correctly rounded: 1 / ln(10) rounds by 0.2 ulp, ln(10) by
#: 0.49, so multiplying by it is the more accurate of the two.
_INV_LN = {2.0: 1.4426950408889634, 10.0: 0.4342944819032518}
#: Every power of 10 that a float64 holds exactly.
_POW10 = np.array([float(10**k) for k in range(23)])
#: Below this |a|, log1p(a) = a - a**2 / 2 to within 2**-61 of it.
_SERIES = 2.0**-30


@functools.cache
def _exact_at_powers(base, log):
    """Whether ``log`` (numpy's log2 or log10, on this CPU) gives exactly
    ``k`` for every power ``base**k`` that a float64 holds."""
    if base == 2:
        k = np.arange(-1074, 1024)
        return bool((log(np.ldexp(1.0, k)) == k).all())
    return bool((log(_POW10) == np.arange(_POW10.size)).all())


def _log1p_base(a, base):
    """``log_base(1 + a)`` for base 2 or 10, written into the float64 array ``a``.

    ``log_base(u) + c / ln(base)`` with ``u = 1 + a`` rounded and ``c = (a -
    (u - 1)) / u``, the first-order correction for that rounding (as in
    fdlibm's log1p).  Where ``1 + a`` is ``base**k`` exactly, ``c`` is 0 and
    the result exactly ``k``.  Where ``|a| < 2**-30`` the two terms would
    nearly cancel, and ``(a - a**2 / 2) / ln(base)`` is more accurate.
    :class:`LogScaler` states the measured error.
    """
    log = _LOGS[base]
    tiny = np.abs(a) < _SERIES
    t = a[tiny] if tiny.any() else None
    u = a + 1.0
    c = u - 1.0
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, and the caller names the infinity
        np.subtract(a, c, out=c)
    np.divide(c, u, out=c)
    np.multiply(c, _INV_LN[base], out=c)
    if _exact_at_powers(base, log):
        y = log(u, out=u)
    else:
        # numpy's log2 and log10 are within 1 ulp, which some CPUs' SIMD code
        # spends at an exact power: set the integer it missed.
        y = log(u)
        k = np.rint(y)
        with np.errstate(invalid="ignore"):  # inf - inf
            near = np.abs(y - k) <= 1e-12
        k, u_near = k[near], u[near]
        if base == 2:
            power = np.ldexp(1.0, k.astype(np.int32))
        else:
            power = np.where((k >= 0) & (k <= 22), _POW10[np.clip(k, 0, 22).astype(np.intp)],
                             np.nan)
        y[near] = np.where(u_near == power, k, y[near])
    np.add(y, c, out=a)
    if t is not None:  # keeps the sign of zero too: log1p(-0.0) = -0.0
        a[tiny] = (t - 0.5 * t * t) * _INV_LN[base]
    return a


def _two_sum(a, b):
    """``(s, e)`` with ``s = a + b`` rounded and ``s + e == a + b`` exactly
    (Knuth's TwoSum), elementwise."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@np.errstate(divide="ignore", invalid="ignore")  # the callers check the domain
def _log_of_sum(x, offset):
    """``ln(x + offset)`` in float64 for any ``offset``, within about an ulp.

    ``x + offset`` is held exactly as ``s + e`` (:func:`_two_sum`).  Near 1
    (``s`` in [1/2, 2]) ``s - 1`` is exact and ``log1p((s - 1) + e)`` rounds
    only the argument it is accurate for; elsewhere ``log(s) + e / s``
    corrects the rounding of ``s`` to first order.  (``log1p(x - (1 -
    offset))`` would round ``1 - offset`` first: with ``offset = 1e-16`` the
    log of 0 + offset came out 0.3% off, and below 1e-17 the offset vanished.)
    """
    s, e = _two_sum(np.asarray(x, dtype=np.float64), offset)
    near = (s >= 0.5) & (s <= 2.0)
    return np.where(near, np.log1p((s - 1.0) + e), np.log(s) + e / s)


def _exp_minus(z, offset, one_minus):
    """``exp(z) - offset`` in float64, the inverse of :func:`_log_of_sum`:
    near ``exp(z) = 1``, ``expm1(z) + (1 - offset)`` with ``1 - offset``
    given exactly as the pair ``one_minus``."""
    hi, lo = one_minus
    with np.errstate(over="ignore"):  # the caller reports an overflow
        return np.where(np.abs(z) < _LN2, (np.expm1(z) + hi) + lo, np.exp(z) - offset)


_LN2 = math.log(2.0)


class LogScaler(ColumnScaler):
    """Compress each feature with a logarithm: ``y = log_base(x + offset)``.

    The map is evaluated as ``log1p(a) / ln(base)`` with ``a = x - (1 -
    offset)``, the same function written so that it stays accurate where
    ``x + offset`` is close to 1 (``log1p`` keeps the digits that ``log(1 +
    a)`` rounds away), wherever ``1 - offset`` is a float64 exactly (the
    learned offsets of ``"auto"``, and 1, 0.5, 3, ...).  Any other offset
    (``1e-16``, ``0.3``) is added exactly as a two-term sum first, so that
    ``log(x + offset)`` is within about an ulp whatever its size: 1e-300
    included.  Bases 2 and 10 use numpy's ``log2`` / ``log10`` of
    ``u = 1 + a`` with a correction for the rounding of ``u``, so that an
    exact power of the base maps exactly to its exponent (``999`` to ``3``,
    not ``2.9999999999999996``).  Against a correctly rounded reference
    (mpmath) over 3e5 values of ``a`` from 1e-300 to 1e300 in magnitude and
    to within 2**-53 of -1, their error is at most 1.3 ulp for base 2 and
    2.1 ulp for base 10 (the C library's ``log10`` is within 1.6 ulp); the
    tests hold both to 3 ulp.

    With ``offset="auto"`` the offset is learned per feature as ``1 -
    min(x)``, so the training minimum maps to ``log(1) = 0`` and nothing in
    the training data is out of the domain.  At transform, a value with ``x +
    offset <= 0`` raises a ``ValueError`` naming its column and value.  With
    ``offset=1`` zeros stay zero, so sparse input is accepted.

    Parameters
    ----------
    base : float, default=math.e
        Base of the logarithm; positive and not 1.
    offset : float or "auto", default=1.0
        Added to ``x`` before the logarithm, or learned as ``1 - min``.
    out_of_domain : {"raise", "nan", "clip"}, default="raise"
        What :meth:`transform` does with a value that has no logarithm
        (``x + offset <= 0``; under ``"auto"``, a value at or below the
        training minimum minus 1): ``"raise"`` a ``ValueError`` naming its
        column and value; ``"nan"`` maps it to NaN (a missing value, which
        later steps may impute); ``"clip"`` first raises every value below
        the training minimum to that minimum, so it maps to the training
        minimum's image (0 under ``"auto"``) and nothing leaves the domain.
        ``"clip"`` and ``"nan"`` cannot be undone for those values.  In a
        cross-validation, ``"raise"`` aborts the search on the first test
        fold that reaches below the training data; the other two keep it
        going.
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    offset_ : ndarray of shape (n_features,)
        The offset of each feature.
    stats_ : ColumnStats
        Accumulated column statistics.
    n_samples_seen_ : int
        Number of rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    numpy.log1p : the reference for the default ``offset=1``, ``base=e``.

    Examples
    --------
    >>> from skscale import LogScaler
    >>> LogScaler(base=10).fit_transform([[0, 9], [99, 999]])
    array([[0., 1.],
           [2., 3.]])
    >>> scaler = LogScaler(offset="auto").fit([[-5.0], [5.0]])
    >>> scaler.offset_
    array([6.])
    >>> scaler.inverse_transform(scaler.transform([[-5.0], [5.0]]))
    array([[-5.],
           [ 5.]])
    """

    _stats_needed = ("extremes",)

    _parameter_constraints = {
        "base": [Interval(Real, 0, None, closed="neither")],
        "offset": [StrOptions({"auto"}), Interval(Real, None, None, closed="neither")],
        "out_of_domain": [StrOptions({"raise", "nan", "clip"})],
        "copy": ["boolean"],
    }

    _learned = ColumnScaler._learned + ("_split", "_low")
    _affine = False  # a logarithm: frames go through their 2-D array

    def __init__(self, *, base=math.e, offset=1.0, out_of_domain="raise", copy=True):
        self.base = base
        self.offset = offset
        self.out_of_domain = out_of_domain
        self.copy = copy

    _X_doc = "array-like, or sparse matrix with offset=1,"

    def _clip_range(self):
        """The input range outside which the transform clips (see
        :meth:`check_drift`)."""
        return {"clip_low": self._low} if self._domain_policy() == "clip" else {}

    @classmethod
    def from_offsets(cls, offset, *, feature_names=None, n_samples=None, **params):
        """A fitted scaler from the known offset of each feature: ``y =
        log_base(x + offset)``.

        One offset for every feature is the ``offset`` parameter, fixed.
        Offsets that differ are those ``offset="auto"`` learns from training
        minima ``1 - offset``: the scaler is the one fitted on data of those
        minima, and :meth:`partial_fit` lowers them (so raises the offsets)
        with later rows below them.  Such an offset must be one that ``1 -
        (1 - offset)`` gives back exactly (any offset of at least 2**-52,
        about 2.2e-16, with no digits below 2**-53: 0.5, 3, 1e-3 rounded
        alike, ...).

        Parameters
        ----------
        offset : float or array-like of shape (n_features,)
            The offset of each feature.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        n_samples : int, default=None
            The number of rows behind the offsets, if known (else 0).
        **params : dict
            Other parameters of the scaler (``base``, ``out_of_domain``).

        Returns
        -------
        scaler : LogScaler
            Fitted.

        Examples
        --------
        >>> from skscale import LogScaler
        >>> scaler = LogScaler.from_offsets([1.0, 5.0], base=10)
        >>> scaler.offset_
        array([1., 5.])
        >>> scaler.transform([[9.0, 95.0]])
        array([[1., 2.]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows
        from ._stats import ColumnStats

        owner = f"{cls.__name__}.from_offsets"
        given, names = known_arrays(owner, feature_names, offset=offset)
        o = given["offset"]
        n_rows = _rows(owner, n_samples)
        unknown = np.full(o.shape, np.nan)
        if (o == o[0]).all():  # one offset: the parameter
            stats = ColumnStats(unknown, unknown.copy(), unknown.copy(), unknown.copy(),
                                unknown.copy(), n_rows)
            return cls._from_known(stats, names, {**params, "offset": float(o[0])})
        low = 1.0 - o
        inexact = (1.0 - low) != o
        if inexact.any():
            j = int(np.flatnonzero(inexact)[0])
            raise ValueError(f"{owner}: offset {float(o[j])!r} of feature {j} is not 1 - m for any"
                             " float64 m, as offsets that differ by feature must be (they are"
                             " learned as 1 - min); round it, e.g. to 1 - (1 - offset) ="
                             f" {float(1.0 - low[j])!r}.")
        stats = ColumnStats(unknown, unknown.copy(), unknown.copy(), low, unknown.copy(),
                            n_rows)
        return cls._from_known(stats, names, {**params, "offset": "auto"})

    def _accepts_sparse(self):
        # (clipping to the training minimum could move the implicit zeros)
        return self.offset != "auto" and self.offset == 1 and self.out_of_domain != "clip"

    def _sparse_hint(self):
        return "offset=1 maps 0 to 0 and accepts sparse input."

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A fixed offset bounds the domain from below; "auto" takes any data.
        tags.input_tags.positive_only = self.offset != "auto"
        return tags

    def _learn(self, stats):
        if self.base == 1 or not np.isfinite(self.base):
            raise ValueError(f"base={self.base} has no logarithm; use a finite positive"
                             " base other than 1.")
        if self.offset != "auto" and not np.isfinite(self.offset):
            raise ValueError(f"offset must be finite or 'auto'; got {self.offset}.")
        # What "clip" raises a lower value to (nothing where no value was seen).
        self._low = np.where(np.isnan(stats.min), -np.inf, stats.min)
        self._split = None
        if self.offset == "auto":
            self.offset_ = np.where(np.isnan(stats.min), 1.0, 1.0 - stats.min)
            self._shift = np.nan_to_num(stats.min)  # exactly the minimum: maps to 0
        else:
            offset = float(self.offset)
            self.offset_ = np.full(stats.min.shape, offset)
            self._shift = 1.0 - self.offset_
            hi, lo = _two_sum(1.0, -offset)
            # 1 - offset is no float64, or is 1 (offset 0: log1p(x - 1) would lose the
            # digits of a small x): add the offset exactly instead
            if lo != 0 or offset == 0:
                self._split = (hi, lo)
            self._check_domain(stats.min, "training data")
        return None

    def _below(self, x):
        """Where the float64 values ``x`` have no logarithm."""
        if getattr(self, "_split", None) is None:  # (files of 0.1.0 have none)
            return x - self._shift <= -1
        return x + self.offset_ <= 0

    def _check_domain(self, low, where, row=None):
        bad = np.flatnonzero(self._below(low))
        if bad.size:
            j = bad[0]
            at = "" if row is None else f" at row {row}"
            value = f"{named_column(self, j)} holds {low[j]:.17g}{at} in the {where}"
            if self.offset == "auto":
                # "auto" did what it can: offset_ = 1 - min of the training data.
                low_fit = self._shift[j]
                learned = (f"the training minimum is {low_fit:.17g}, and offset='auto'"
                           f" learned offset = 1 - min = {self.offset_[j]:.17g}: values"
                           f" at or below min - 1 = {low_fit - 1:.17g}")
                if np.isnan(self.stats_.min[j]):
                    learned = ("the training data held no value there, and offset='auto'"
                               " fell back to offset = 1: values at or below -1")
                raise ValueError(  # (a value below the training range: negative or not)
                    f"Values outside the logarithm's domain: {value}, but {learned} have no"
                    " logarithm."
                    f" Refit on data that covers {low[j]:.17g}, use a fixed offset"
                    f" larger than {-low[j]:.17g}, or pass out_of_domain='nan' or 'clip'.")
            raise ValueError(
                f"Negative values in data: {value}, so x + offset ="
                f" {low[j] + self.offset_[j]:.17g} <= 0 has no logarithm."
                f" Use a larger offset (more than {-low[j]:.17g}), offset='auto'"
                " to learn it from training data that covers such values, or"
                " out_of_domain='nan' or 'clip'.")

    def _device_map(self, inverse):
        policy = self._domain_policy()
        return _device.log_on_device, {"shift": self._shift, "base": self.base,
                             "split": getattr(self, "_split", None), "offset": self.offset_,
                             "low": self._low if policy == "clip" else None,
                             "nan_below": policy == "nan"}

    def _domain_policy(self):
        return getattr(self, "out_of_domain", "raise")  # (files of 0.1.0 have none)

    def _apply(self, X, out, inverse):
        # Compute in float64 blocks; integers in the exponent would be wrong.
        direct = out.dtype == np.float64
        log_base = None if self.base == math.e else math.log(self.base)
        shift, split = self._shift, getattr(self, "_split", None)
        policy = self._domain_policy()
        names = self._feature_names()

        # (the finite check below reports; log1p(-1) of a value "nan" masks is -inf)
        @np.errstate(over="ignore", invalid="ignore", divide="ignore")
        def run(rows):
            x = X[rows]
            y = out[rows] if direct else np.empty(x.shape)
            missing = None  # the inputs taken as missing (NaN, or out of the domain)
            if inverse:
                # expm1 maps -inf to -1: look for infinities in x itself
                if not np.isfinite(np.add.reduce(x, axis=0)).all():
                    raise_non_finite(x, np.isnan(x), rows.start, names)
                if split is None:
                    np.multiply(x, log_base or 1.0, out=y)
                    np.expm1(y, out=y)
                    np.add(y, shift, out=y)
                else:
                    y[...] = _exp_minus(np.multiply(x, log_base or 1.0, dtype=np.float64),
                                        self.offset_, split)
            else:
                if policy == "clip":
                    x = np.maximum(x, self._low.astype(x.dtype))  # (NaN stays NaN)
                # The domain check reads x before y (which may be x) is written.
                if self._below(np.fmin.reduce(x, axis=0)).any():
                    below = self._below(np.asarray(x, np.float64))
                    if policy != "nan":
                        i = int(np.flatnonzero(below.any(axis=1))[0])
                        self._check_domain(np.asarray(x[i], np.float64), "data", rows.start + i)
                    missing = np.isnan(x) | below
                if split is None:
                    np.subtract(x, shift, out=y)
                    if self.base in _LOGS:
                        _log1p_base(y, float(self.base))
                    else:
                        np.log1p(y, out=y)
                        if log_base:
                            np.divide(y, log_base, out=y)
                else:
                    z = _log_of_sum(x, self.offset_)
                    if self.base in _LOGS:
                        z *= _INV_LN[float(self.base)]
                    elif log_base:
                        z /= log_base
                    y[...] = z
                if missing is not None:
                    y[missing] = np.nan
            if not direct:  # check what the output type holds (float32 overflows sooner)
                out[rows] = y
                y = out[rows]
            if not np.isfinite(np.add.reduce(y, axis=0)).all():
                raise_non_finite(x, np.isnan(x) if missing is None else missing, rows.start,
                                 names, y, "its exponential is beyond that range" if inverse
                                 else "the logarithm of this value cannot be represented")

        # The compiled loop divides log1p by ln(base); bases 2 and 10 take their
        # exact path, and the other offsets and domain policies the numpy kernel.
        if not inverse and self.base not in _LOGS and split is None and policy == "raise" \
                and _compiled.wanted(X):
            n_threads = _blocks.n_threads()
            row = _compiled.log_loop(X, out, shift, log_base or 1.0,
                                          block_bounds(*X.shape), n_threads)
            if row >= 0:  # out of the domain, or an infinity: the numpy kernel says which
                run(slice(row, row + 1))
                raise AssertionError("the compiled and numpy kernels disagree")  # pragma: no cover
            return out
        for_each_block(X.shape[0], X.shape[1], run)
        return out

    def _apply_sparse(self, X, inverse):
        if inverse:
            with np.errstate(over="ignore", invalid="ignore"):  # reported below
                data = np.expm1(X.data * math.log(self.base)).astype(X.dtype)
            bad = ~np.isfinite(data) & ~np.isnan(X.data)
            if bad.any():
                at = np.flatnonzero(bad)[0]
                label = named_column(self, sparse_column(X, at))
                raise ValueError(
                    f"{label[0].upper()}{label[1:]}: {X.data[at]!r}"
                    f" maps back to {data[at]}, beyond the range of {X.dtype}.")
            X.data = data
        else:
            if (X.data <= -1).any() and self._domain_policy() == "nan":
                X.data = np.where(X.data <= -1, np.nan, X.data)
            elif (X.data <= -1).any():
                at = np.flatnonzero(X.data <= -1)[0]
                j = sparse_column(X, at)
                raise ValueError(
                    f"Negative values in data: {named_column(self, j)} holds"
                    f" {X.data[at]:.17g}, so x + 1 <= 0 has no logarithm.")
            data = X.data.astype(np.float64)
            if self.base in _LOGS:
                data = _log1p_base(data, float(self.base))
            else:
                data = np.log1p(data) / math.log(self.base)
            X.data = data.astype(X.dtype, copy=False)
