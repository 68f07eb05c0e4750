"""Device kernels: the statistics core's reduction and the maps, in an
array's own namespace, on its device.

Each function takes a device array and its :class:`~skscale._array_api.Namespace`
and returns plain arrays: the statistics as float64 numpy arrays (a few
numbers per feature, which the statistics core merges on the host), a map's
result in the input's namespace, device and dtype.  They compute in the
widest float the device has; on a float32-only device (Apple's MPS) each
block of :data:`FLOAT32_BLOCK` rows is reduced in float32 and the blocks are
merged in float64 on the host.  Where a result holds a non-finite value that
the input does not explain, or rows need rescaling by powers of two, the
numpy path runs on a host copy (``fallback``) and raises or computes there.
They know no estimator: the skeletons pass what each map needs.
"""

import math

import numpy as np
from sklearn import config_context

from ._array_api import numpy_dtype, to_numpy
from ._errors import check_overflow, raise_non_finite

#: Rows reduced at a time in float32 on a device without float64: the
#: blocks' statistics are merged in float64, so the error is that of a sum
#: of this many float32 values, not of the whole column.
FLOAT32_BLOCK = 1024
#: Rows reduced at a time in float64 (what bounds the temporaries' size).
FLOAT64_BLOCK = 1 << 16



def column_stats_on_device(X, ns, sample_weight=None, feature_names=None, row0=0):
    """The count, mean, M2, min and max of each column of the 2-D device
    array ``X``, per block of rows (the corrected two-pass moments of each
    block, on the device): a float64 numpy array of shape ``(5, n_blocks,
    n_features)``, which :meth:`~skscale._stats.ColumnStats.combine` merges.
    An infinity raises a ``ValueError`` naming its column and row."""
    rows = FLOAT64_BLOCK if ns.wide == ns.xp.float64 else FLOAT32_BLOCK
    w = None if sample_weight is None else ns.asarray(sample_weight)
    n = X.shape[0]
    parts = [_one_block(X[start:min(start + rows, n), ...],  # (the standard leaves slices
                          None if w is None else w[start:min(start + rows, n)],  # past the end
                          ns, row0 + start, feature_names)     # unspecified)
             for start in range(0, n, rows)]
    return np.stack(parts, axis=1) if parts else np.zeros((5, 0, X.shape[1]))


def _one_block(B, w, ns, row0, feature_names):
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
    return np.stack([count, mean, m2, lo, hi])


def log_on_device(X, ns, shift, base, split, offset, low, nan_below, *, inverse, fallback):
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


def affine_on_device(X, ns, center, scale, shift, bounds=None, *, inverse=False, fallback):
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
    ``X``) runs to raise its error, naming the value.  Without a
    ``fallback`` (a traced torch module, which cannot leave its graph),
    ``y`` as it is."""
    if fallback is None:
        return y
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


def unit_norm_on_device(X, ns, norm, host_call):
    """``(Y, norms)`` of :class:`~skscale.UnitNormScaler` on the device:
    each row divided by its l1, l2 or max norm of the non-NaN values (a zero
    row stays zero); ``host_call`` as in :func:`_rows_fallback`."""
    if host_call is not None and _needs_host(X, ns):
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


def group_norm_on_device(X, ns, n_groups, eps, gamma, beta, host_call, centered=True):
    """``(Y, (mean, std))`` of the group statistics scalers on the device:
    each (row, group) standardized by its mean and ``std = sqrt(var + eps)``
    of its non-NaN values (1 where that is 0), then ``* gamma + beta``;
    ``gamma`` and ``beta`` are None, a number, or one value per feature in
    the ``(n_groups, size)`` view of a row, as the numpy kernel takes them.
    Not ``centered``: divided by ``sqrt(mean(x**2) + eps)``, with ``mean``
    0 (RMS normalization).  ``host_call=None`` (a traced torch module)
    leaves no row to the host."""
    if host_call is not None and _needs_host(X, ns):
        return _rows_fallback(X, ns, host_call)
    xp = ns.xp
    n, d = X.shape
    v = xp.reshape(xp.astype(X, ns.wide), (n, n_groups, d // n_groups))
    nan = xp.isnan(v)
    present = xp.astype(xp.logical_not(nan), ns.wide)
    count = xp.sum(present, axis=2)
    safe = xp.where(count == 0, xp.ones_like(count), count)
    filled = xp.where(nan, xp.zeros_like(v), v)
    nothing = xp.asarray(math.nan, dtype=ns.wide, device=ns.device)
    if not centered:
        mean = xp.zeros_like(count)
        std = xp.sqrt(xp.sum(filled * filled, axis=2) / safe + eps)
        std = xp.where(count == 0, nothing, xp.where(std == 0, xp.ones_like(std), std))
        return _affine_groups(X, ns, v / std[..., None], gamma, beta), (mean, std)
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
    mean = xp.where(count == 0, nothing, mean)
    std = xp.sqrt(var + eps)
    std = xp.where(count == 0, nothing, xp.where(std == 0, xp.ones_like(std), std))
    return _affine_groups(X, ns, (v - mean[..., None]) / std[..., None], gamma, beta), (mean, std)


def _affine_groups(X, ns, y, gamma, beta):
    """``y * gamma + beta`` of the standardized groups ``y``, as rows of
    ``X``'s shape and dtype."""
    if gamma is not None:
        y = y * (ns.asarray(gamma) if not isinstance(gamma, float) else gamma)
    if beta is not None:
        y = y + (ns.asarray(beta) if not isinstance(beta, float) else beta)
    return ns.xp.astype(ns.xp.reshape(y, X.shape), X.dtype)


def row_inverse_on_device(Y, ns, n_groups, scale, center=None, gamma=None, beta=None):
    """``x = (y - beta) / gamma * scale + center`` per (row, group) of the
    device array ``Y``: the inverse of :func:`unit_norm_on_device` (``n_groups=1``,
    ``scale`` the norms) and of :func:`group_norm_on_device`."""
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
