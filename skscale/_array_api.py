"""Array API inputs: torch tensors, CuPy arrays, ``array_api_strict`` ...

Under scikit-learn's ``set_config(array_api_dispatch=True)``, an estimator
given an array of another library than numpy computes on that array's
device, in its namespace, and returns the same namespace, device and dtype.
The estimators only choose the path (validation, and which kernel); all the
arithmetic on such arrays is here, in two parts, as the design asks:

* the statistics core: :func:`column_stats` reduces each block of rows on the
  device to the five per-column statistics, which come to the host as a
  :class:`~skscale._stats.ColumnStats` (a few numbers per feature), so every
  method turns them into parameters with its one numpy implementation;
* the kernels: :func:`apply` maps the data by those parameters on the device.

Between calls the fitted array attributes live on the device of the data
(:func:`on_device`); :func:`host_attributes` brings them to the host while
an estimator's own numpy logic runs.  Namespaces are found with
array-api-compat, the library scikit-learn builds on (its vendored copy
where the package is not installed).  Statistics accumulate in float64 where
the device has it; on a float32-only device (Apple's MPS) each block of
:data:`FLOAT32_BLOCK` rows is reduced in float32 and the blocks are merged in
float64 on the host.
"""

import functools
import math

import numpy as np
from sklearn import config_context, get_config

#: Rows reduced at a time in float32 on a device without float64: the
#: blocks' statistics are merged in float64, so the error is that of a sum
#: of this many float32 values, not of the whole column.
FLOAT32_BLOCK = 1024
#: Rows reduced at a time in float64 (what bounds the temporaries' size).
FLOAT64_BLOCK = 1 << 16


def _compat():
    try:
        import array_api_compat
    except ImportError:  # scikit-learn's own copy of it
        from sklearn.externals import array_api_compat
    return array_api_compat


class Namespace:
    """The namespace, device and widest float dtype of an array."""

    def __init__(self, X):
        compat = _compat()
        self.xp = compat.array_namespace(X)
        self.device = compat.device(X)
        floats = _floats(self.xp, self.device)
        self.wide = self.xp.float64 if "float64" in floats else self.xp.float32
        self.dtypes = tuple(getattr(self.xp, name) for name in ("float64", "float32", "float16")
                            if name in floats or (name == "float16" and hasattr(self.xp, name)))
        # A tensor in the CPU's memory goes through the numpy kernels on a
        # view of it (no copy either way), and its result comes back as one;
        # a dtype numpy lacks (bfloat16) stays with the device kernels.
        self.host = (compat.is_torch_array(X) and self.device.type == "cpu"
                     and str(X.dtype) != "torch.bfloat16")
        self.key = (self.xp.__name__, str(self.device))

    def back(self, result):
        """``result`` of the numpy kernels (an array or a tuple of them) as
        this namespace's arrays, sharing their memory where it can."""
        if isinstance(result, tuple):
            return tuple(self.back(r) for r in result)
        return self.xp.asarray(result) if isinstance(result, np.ndarray) else result

    def asarray(self, a, dtype=None):
        """``a`` (numpy, a number, or an array of this namespace) on this
        device, as ``dtype`` (default: the widest float)."""
        dtype = self.wide if dtype is None else dtype
        if not isinstance(a, (np.ndarray, np.generic, int, float)):
            return self.xp.astype(a, dtype)  # already here: never through numpy
        return self.xp.asarray(np.asarray(a), dtype=dtype, device=self.device)


_FLOATS = {}


def _floats(xp, device):
    """The names of the real float dtypes ``device`` has (asked once per
    namespace and device: some libraries allocate to answer)."""
    key = (xp.__name__, str(device))
    if key not in _FLOATS:
        _FLOATS[key] = tuple(xp.__array_namespace_info__().dtypes(kind="real floating",
                                                                  device=device))
    return _FLOATS[key]


#: Where numpy input (or an estimator fitted on it) lives.
NUMPY = ("numpy", "cpu")


def namespace(X):
    """:class:`Namespace` of ``X`` when array API dispatch is on and ``X`` is
    an array of a library other than numpy (nor a Dask collection, which
    has its own path); else None."""
    if isinstance(X, np.ndarray) or not get_config().get("array_api_dispatch", False):
        return None
    compat = _compat()
    if not compat.is_array_api_obj(X) or compat.is_numpy_array(X) or compat.is_dask_array(X):
        return None
    return Namespace(X)


def host_view(X):
    """A numpy view of the CPU tensor ``X`` (:attr:`Namespace.host`), detached
    from autograd; a copy for a tensor that requires grad, whose own values
    an in-place transform must not change behind autograd's back."""
    view = np.from_dlpack(X.detach())
    return view.copy() if X.requires_grad else view


def through_host(method):
    """``method`` of an estimator, with its first argument's namespace
    restored on the result where that argument is a CPU tensor that the
    numpy kernels took as a view (:attr:`Namespace.host`)."""
    @functools.wraps(method)
    def run(est, X, *args, **kwargs):
        ns = namespace(X)
        result = method(est, X, *args, **kwargs)
        return ns.back(result) if ns is not None and ns.host else result
    return run


def to_numpy(a):
    """A numpy copy (or view) of the device array ``a``."""
    if hasattr(a, "detach"):  # torch: outside autograd
        a = a.detach()
    try:
        return np.from_dlpack(a)
    except (BufferError, RuntimeError, TypeError, ValueError, AttributeError):
        pass
    if hasattr(a, "get"):  # CuPy
        return a.get()
    return np.from_dlpack(_compat().to_device(a, "cpu"))


def numpy_dtype(dtype):
    """The numpy dtype of a namespace's dtype (numpy's own, or the one of the
    same name: ``torch.float32`` is float32)."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, type) and issubclass(dtype, np.generic):  # CuPy's are numpy's
        return np.dtype(dtype)
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


def _device_arrays(est):
    return {k: v for k, v in vars(est).items()
            if not isinstance(v, (np.ndarray, np.generic)) and _compat().is_array_api_obj(v)}


def on_device(est, ns):
    """Move the numeric numpy arrays that ``est`` learned (its attributes
    other than its parameters) to the device of ``ns``, float64 ones as
    float32 where the device has no float64."""
    params = est.get_params(deep=False)
    for key, value in list(vars(est).items()):
        if key not in params and isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            dtype = ns.wide if value.dtype.kind == "f" else getattr(ns.xp, value.dtype.name)
            est.__dict__[key] = ns.xp.asarray(value, dtype=dtype, device=ns.device)


def _fitted_where(est):
    """Where ``est``'s fit data lived (``(namespace, device)``), or None when
    that is not known (unfitted, or fitted without array API dispatch)."""
    held = _device_arrays(est)
    if held:
        return Namespace(next(iter(held.values()))).key
    return getattr(est, "_fit_namespace", None)


def host_attributes(learns=None):
    """Run a method with ``est``'s learned arrays on the host as numpy, so
    each method's numpy logic serves every namespace.

    ``learns`` says what the method does with the call's ``X``: ``"fit"``
    (learns from it afresh), ``"update"`` (adds it to what was learned:
    refused from another namespace), or None (only reads what was learned).
    After a call that learns, the arrays go to the device of ``X`` and
    ``est._fit_namespace`` notes it; after any other call, or one that
    raises, the estimator holds the very arrays it held before.  Without
    array API dispatch this costs one ``get_config``."""
    def decorate(method):
        @functools.wraps(method)
        def run(est, *args, **kwargs):
            if not get_config().get("array_api_dispatch", False):
                return method(est, *args, **kwargs)
            X = args[0] if args else kwargs.get("X")
            ns = namespace(X)
            if learns == "update" and _fitted_where(est) not in (None, _key(ns)):
                check_same_namespace(est, X, "partial_fit")
            held = _device_arrays(est)
            for key, value in held.items():
                est.__dict__[key] = to_numpy(value)
            try:
                result = method(est, *args, **kwargs)
            except BaseException:
                est.__dict__.update(held)
                raise
            if learns is None:
                est.__dict__.update(held)
            else:
                if ns is not None:
                    on_device(est, ns)
                est._fit_namespace = _key(ns)
            return result
        return run
    return decorate


def _key(ns):
    return NUMPY if ns is None else ns.key


def check_same_namespace(est, X, method):
    """Refuse ``X`` of another namespace or device than the data ``est`` was
    fitted on (as scikit-learn's estimators do)."""
    if not get_config().get("array_api_dispatch", False):
        return
    fitted = _fitted_where(est)
    given = namespace(X)
    if fitted is None or fitted == _key(given):
        return
    called = "a numpy array" if given is None else f"{given.xp.__name__} arrays on {given.device}"
    raise ValueError(
        f"{type(est).__name__}.{method}() must use the same namespace and device as fit:"
        f" it was fitted on {fitted[0]} arrays on {fitted[1]}, and called with {called}.")


def column_stats(X, ns, sample_weight=None, feature_names=None, prior=None, row0=0):
    """:class:`~skscale._stats.ColumnStats` of the 2-D device array ``X``:
    the corrected two-pass moments and the extremes of each block of rows,
    on the device, merged on the host."""
    from ._stats import ColumnStats

    rows = FLOAT64_BLOCK if ns.wide == ns.xp.float64 else FLOAT32_BLOCK
    w = None if sample_weight is None else ns.asarray(sample_weight)
    parts = [] if prior is None else [prior]
    n = X.shape[0]
    for start in range(0, n, rows):
        stop = min(start + rows, n)  # (the standard leaves slices past the end unspecified)
        parts.append(_block_stats(X[start:stop, ...], None if w is None else w[start:stop],
                                  ns, row0 + start, feature_names))
    if not parts:
        return ColumnStats.from_array(np.empty((0, X.shape[1])))
    return ColumnStats.combine(parts)


def _block_stats(B, w, ns, row0, feature_names):
    from ._errors import check_overflow, raise_non_finite
    from ._stats import ColumnStats

    xp = ns.xp
    B = xp.astype(B, ns.wide)
    nan = xp.isnan(B)
    if bool(xp.any(xp.isinf(B))):  # the numpy path names the column and row
        host = to_numpy(B)
        raise_non_finite(host, np.isnan(host), row0, feature_names)
    present = xp.astype(xp.logical_not(nan), ns.wide)
    weight = present if w is None else present * w[:, None]
    count = xp.sum(weight, axis=0)
    filled = xp.where(nan, xp.zeros_like(B), B)
    empty = count == 0
    safe = xp.where(empty, xp.ones_like(count), count)
    mean = xp.sum(weight * filled, axis=0) / safe
    dev = xp.where(nan, xp.zeros_like(B), B - mean)
    resid = xp.sum(weight * dev, axis=0)
    m2 = xp.sum(weight * dev * dev, axis=0) - resid * resid / safe
    mean = mean + resid / safe
    big = xp.asarray(math.inf, dtype=ns.wide, device=ns.device)
    lo = xp.min(xp.where(nan, big, B), axis=0)
    hi = xp.max(xp.where(nan, -big, B), axis=0)
    count, mean, m2, lo, hi = (to_numpy(a).astype(np.float64) for a in (count, mean, m2, lo, hi))
    empty = count == 0
    constant = lo == hi  # exactly the value, spread exactly 0 (as the numpy core)
    mean = np.where(empty, np.nan, np.where(constant, lo, mean))
    m2 = np.where(empty | constant, 0.0, np.maximum(m2, 0.0))
    lo, hi = np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)
    check_overflow(mean, m2, count, feature_names)
    return ColumnStats(count, mean, m2, lo, hi, B.shape[0])


def apply(est, X, ns, inverse):
    """``est``'s transform (or inverse) of the device array ``X``, on its
    device and in its dtype: the affine map of the column scalers, or the
    logarithm of :class:`~skscale.LogScaler`.  Where the result holds a
    non-finite value that the input does not explain, or the input an
    infinity, the numpy path runs on a host copy to raise its error."""
    kind, params = est._device_map(inverse)
    method = est.inverse_transform if inverse else est.transform
    if kind == "affine":
        return affine(X, ns, *params, inverse=inverse, fallback=method)
    return log(X, ns, inverse=inverse, fallback=method, **params)


def log(X, ns, shift, base, split, offset, low, nan_below, *, inverse, fallback):
    """:class:`~skscale.LogScaler`'s map of the device array ``X`` (or its
    inverse): ``log1p(x - shift) / ln(base)``, or, where ``split`` holds
    ``1 - offset`` as an exact pair, ``log(x + offset)`` with the sum held
    exactly (see ``skscale._log``); ``low`` (or None) clips below, and
    ``nan_below`` maps values without a logarithm to NaN."""
    xp = ns.xp
    x = xp.astype(X, ns.wide)
    ln_base = ns.asarray(math.log(base))
    if inverse:
        z = x * ln_base
        if split is None:
            y = xp.expm1(z) + ns.asarray(shift)
        else:
            near = xp.abs(z) < math.log(2.0)
            y = xp.where(near, (xp.expm1(z) + split[0]) + split[1],
                         xp.exp(z) - ns.asarray(offset))
        return _checked(X, xp.astype(y, X.dtype), ns, fallback)
    if low is not None:
        x = xp.maximum(x, ns.asarray(low))
    if split is None:
        a = x - ns.asarray(shift)
        below = a <= -1
        y = xp.log1p(a)
    else:
        c = ns.asarray(offset)
        s = x + c
        bb = s - x
        e = (x - (s - bb)) + (c - bb)
        below = s <= 0
        near = xp.logical_and(s >= 0.5, s <= 2.0)
        y = xp.where(near, xp.log1p((s - 1.0) + e), xp.log(s) + e / s)
    if base != math.e:
        y = y / ln_base
    if nan_below:
        nothing = xp.asarray(math.nan, dtype=ns.wide, device=ns.device)
        y = xp.where(below, nothing, y)
        X = xp.where(below, xp.astype(nothing, X.dtype), X)  # (taken as missing below)
    return _checked(X, xp.astype(y, X.dtype), ns, fallback)


def affine(X, ns, center, scale, shift, bounds=None, *, inverse=False, fallback):
    """``y = (x - center) / scale + shift`` (or its inverse) of the device
    array ``X`` by numpy parameters (None to skip), computed in the widest
    float the device has and rounded once to ``X``'s dtype; ``fallback`` is
    the numpy call that reports a bad value (see :func:`_checked`)."""
    xp = ns.xp
    first, second = (shift, center) if inverse else (center, shift)
    y = xp.astype(X, ns.wide)
    if first is not None:
        y = y - ns.asarray(first)
    if scale is not None:
        y = y * ns.asarray(scale) if inverse else y / ns.asarray(scale)
    if second is not None:
        y = y + ns.asarray(second)
    if bounds is not None:
        lo, hi = (float(numpy_dtype(X.dtype).type(b)) for b in bounds)
        y = xp.clip(y, lo, hi)
    return _checked(X, xp.astype(y, X.dtype), ns, fallback)


def _checked(X, y, ns, fallback):
    """``y``, unless it holds a non-finite value where ``X`` is finite, or
    ``X`` an infinity: then ``fallback`` (the numpy path, on a host copy of
    ``X``) runs to raise its error, naming the value."""
    xp = ns.xp
    if bool(xp.any(xp.logical_and(xp.isfinite(X), xp.logical_not(xp.isfinite(y))))) or \
            bool(xp.any(xp.isinf(X))):
        with config_context(array_api_dispatch=False):
            y = ns.asarray(fallback(to_numpy(X)), dtype=X.dtype)
    return y


#: Beyond these magnitudes (float64; float32) a row's squares or spread leave
#: the range of the device's widest float: such rows take the numpy kernels,
#: which rescale them by powers of two.
_BOUNDS = {"float64": (1e150, 1e-150), "float32": (1e18, 1e-18)}


def _rows_fallback(X, ns, host_call):
    """``(Y, stats)`` of ``host_call(numpy X)``, run with dispatch off and
    moved back to the device: for rows the device kernels leave to numpy
    (infinities, which it reports; values so large or small that a norm or
    spread needs rescaling by powers of two)."""
    with config_context(array_api_dispatch=False):
        y, stats = host_call(to_numpy(X))
    stats = tuple(ns.asarray(s) for s in stats) if isinstance(stats, tuple) \
        else ns.asarray(stats)
    return ns.asarray(y, dtype=X.dtype), stats


def _needs_host(X, ns):
    """Whether ``X`` holds an infinity, or a nonzero magnitude beyond the
    :data:`_BOUNDS` of the device's widest float."""
    xp = ns.xp
    huge, tiny = _BOUNDS[numpy_dtype(ns.wide).name]
    a = xp.abs(xp.astype(X, ns.wide))
    return bool(xp.any(xp.isinf(a))) or bool(xp.any(a > huge)) or \
        bool(xp.any(xp.logical_and(a < tiny, a > 0)))


def unit_norm(X, ns, norm, host_call):
    """``(Y, norms)`` of :class:`~skscale.UnitNormScaler` on the device:
    each row divided by its l1, l2 or max norm of the non-NaN values (a zero
    row stays zero); ``host_call`` as in :func:`_rows_fallback`."""
    if _needs_host(X, ns):
        return _rows_fallback(X, ns, host_call)
    xp = ns.xp
    x = xp.astype(X, ns.wide)
    nan = xp.isnan(x)
    a = xp.where(nan, xp.zeros_like(x), xp.abs(x))
    if norm == "l1":
        norms = xp.sum(a, axis=1)
    elif norm == "l2":
        norms = xp.sqrt(xp.sum(a * a, axis=1))
    else:  # the maximum of nothing (a row of NaN) is NaN, as numpy's
        nothing = xp.asarray(math.nan, dtype=ns.wide, device=ns.device)
        norms = xp.where(xp.all(nan, axis=1), nothing, xp.max(a, axis=1))
    y = x / xp.where(norms == 0, xp.ones_like(norms), norms)[:, None]
    return xp.astype(y, X.dtype), norms


def group_norm(X, ns, n_groups, eps, gamma, beta, host_call):
    """``(Y, (mean, std))`` of the group statistics scalers on the device:
    each (row, group) standardized by its mean and ``std = sqrt(var + eps)``
    of its non-NaN values (1 where that is 0), then ``* gamma + beta``;
    ``gamma`` and ``beta`` are None, a number, or one value per feature in
    the ``(n_groups, size)`` view of a row, as the numpy kernel takes them."""
    if _needs_host(X, ns):
        return _rows_fallback(X, ns, host_call)
    xp = ns.xp
    n, d = X.shape
    v = xp.reshape(xp.astype(X, ns.wide), (n, n_groups, d // n_groups))
    nan = xp.isnan(v)
    present = xp.astype(xp.logical_not(nan), ns.wide)
    count = xp.sum(present, axis=2)
    safe = xp.where(count == 0, xp.ones_like(count), count)
    filled = xp.where(nan, xp.zeros_like(v), v)
    mean = xp.sum(filled, axis=2) / safe
    dev = xp.where(nan, xp.zeros_like(v), v - mean[..., None])
    resid = xp.sum(dev, axis=2)
    var = (xp.sum(dev * dev, axis=2) - resid * resid / safe) / safe
    mean = mean + resid / safe
    big = xp.asarray(math.inf, dtype=ns.wide, device=ns.device)
    lo, hi = xp.min(xp.where(nan, big, v), axis=2), xp.max(xp.where(nan, -big, v), axis=2)
    constant = lo == hi  # exactly the value, spread exactly 0
    mean = xp.where(constant, lo, mean)
    var = xp.where(constant, xp.zeros_like(var), xp.clip(var, 0.0, None))
    nothing = xp.asarray(math.nan, dtype=ns.wide, device=ns.device)
    mean = xp.where(count == 0, nothing, mean)
    std = xp.sqrt(var + eps)
    std = xp.where(count == 0, nothing, xp.where(std == 0, xp.ones_like(std), std))
    y = (v - mean[..., None]) / std[..., None]
    if gamma is not None:
        y = y * (ns.asarray(gamma) if not isinstance(gamma, float) else gamma)
    if beta is not None:
        y = y + (ns.asarray(beta) if not isinstance(beta, float) else beta)
    return xp.astype(xp.reshape(y, (n, d)), X.dtype), (mean, std)


def row_inverse(Y, ns, n_groups, scale, center=None, gamma=None, beta=None):
    """``x = (y - beta) / gamma * scale + center`` per (row, group) of the
    device array ``Y``: the inverse of :func:`unit_norm` (``n_groups=1``,
    ``scale`` the norms) and of :func:`group_norm`."""
    xp = ns.xp
    n, d = Y.shape
    v = xp.reshape(xp.astype(Y, ns.wide), (n, n_groups, d // n_groups))
    if beta is not None:
        v = v - (ns.asarray(beta) if not isinstance(beta, float) else beta)
    if gamma is not None:
        v = v / (ns.asarray(gamma) if not isinstance(gamma, float) else gamma)
    v = v * xp.reshape(xp.astype(scale, ns.wide), (n, n_groups))[..., None]
    if center is not None:
        v = v + xp.reshape(xp.astype(center, ns.wide), (n, n_groups))[..., None]
    return xp.astype(xp.reshape(v, (n, d)), Y.dtype)
