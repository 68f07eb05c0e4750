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

from ._array_api import _compat, numpy_dtype, to_numpy
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


def _on_host(X, ns, fallback):
    """The numpy path's result for the device array ``X``, on a host copy,
    back on its device in its dtype (for a map, or part of one, that has no
    kernel in the array API standard)."""
    with config_context(array_api_dispatch=False):
        return ns.asarray(fallback(to_numpy(X)), dtype=X.dtype)


def soft_clip_on_device(X, ns, center, scale, bound, *, inverse, fallback):
    """:class:`~skscale.SquashingScaler`'s map (or its inverse) on the
    device: ``y = z / sqrt(1 + (z / B)**2)`` with ``z = (x - center) /
    scale``, ``±inf`` to ``±B``; inverting, ``z = y / sqrt((1 - y/B)(1 +
    y/B))``.  A constant column maps finite values to 0 (and back to its
    value), one without training values to NaN, as the numpy kernel does;
    a value outside ``[-B, B]`` sends the inverse to the numpy path on a
    host copy, which names it."""
    xp = ns.xp
    B = float(bound)
    x = xp.astype(X, ns.wide)
    if inverse and fallback is not None and bool(xp.any(xp.abs(x) > B)):
        return _on_host(X, ns, fallback)
    constant = np.isinf(scale) & np.isfinite(center)
    empty = ~np.isfinite(center)
    c = ns.asarray(np.where(constant | empty, 0.0, center))
    s = ns.asarray(np.where(constant | empty, 1.0, scale))
    nan = xp.asarray(math.nan, dtype=ns.wide, device=ns.device)
    signed_b = xp.where(x > 0, ns.asarray(B), ns.asarray(-B))
    if inverse:
        r = x / B
        y = (x / xp.sqrt((1.0 - r) * (1.0 + r))) * s + c
        base = ns.asarray(np.where(constant, center, np.nan))
        at_b = xp.abs(x) == B
        special = xp.where(at_b, xp.where(x > 0, ns.asarray(math.inf), ns.asarray(-math.inf)),
                           xp.where(xp.isnan(x), nan, base))
    else:
        limit = B * 1e150  # (the square of z / B stays finite; beyond it rounds to ±B)
        z = xp.clip((x - c) / s, -limit, limit)
        t = z / B
        y = xp.clip(z / xp.sqrt(1.0 + t * t), -B, B)
        y = xp.where(xp.isinf(x), signed_b, y)
        base = ns.asarray(np.where(constant, 0.0, np.nan))
        special = xp.where(xp.isinf(x), signed_b, xp.where(xp.isnan(x), nan, base))
    y = xp.where(ns.asarray(constant | empty, dtype=xp.bool), special, y)
    return xp.astype(y, X.dtype)  # (infinities are values here: nothing left to report)


def quantile_on_device(X, ns, tables, normal, *, inverse, fallback):
    """:class:`~skscale.QuantileTransformer`'s uniform map (or its inverse) on
    the device: per column, the quantiles around each value found by
    ``searchsorted``, the references interpolated between them, tied
    quantiles given the middle of their references, 0 and 1 beyond the
    first and last (a column constant at fit: 0 at or below its value, 1
    above; one without training values: NaN).  The normal output needs the
    normal distribution's quantile function, which the array API standard
    does not have: it takes the numpy path on a host copy, as do an
    infinity (which that path names) and a float32-only device (the gaps
    between neighbouring quantiles can be a few float32 ulps: interpolating
    across them in float32 would lose the output's digits).  Without a
    ``fallback`` (a traced torch module) nothing goes to the host: the normal
    output takes torch's own quantile function."""
    xp = ns.xp
    x = xp.astype(X, ns.wide)
    if fallback is None:
        ndtri = _ndtri(xp) if normal and not inverse else None
        if normal and ndtri is None:
            raise NotImplementedError("the normal quantile map needs torch's special.ndtri")
    elif normal or ns.wide != xp.float64 or bool(xp.any(xp.isinf(x))):
        return _on_host(X, ns, fallback)
    r = ns.asarray(tables["r"])
    n = tables["r"].size
    cols = []
    for c in range(X.shape[1]):
        q, v, kind = ns.asarray(tables["q"][c]), x[:, c], tables["kind"][c]
        if kind == 2 or (inverse and n < 2):  # no value at fit; a single quantile
            u = xp.full_like(v, math.nan) if kind == 2 else xp.full_like(v, tables["q"][c][0])
        elif inverse:
            j = xp.clip(xp.searchsorted(r, v, side="right") - 1, 0, n - 2)
            lo_r, hi_r = xp.take(r, j), xp.take(r, j + 1)
            lo_q, hi_q = xp.take(q, j), xp.take(q, j + 1)
            u = lo_q + (v - lo_r) / (hi_r - lo_r) * (hi_q - lo_q)
            u = xp.where(v <= 0, q[0], xp.where(v >= 1, q[n - 1], u))
        elif kind == 1:  # constant at fit: 0 at or below its value, 1 above
            u = xp.astype(v > q[n - 1], ns.wide) if n > 1 else xp.zeros_like(v)
        else:
            last = xp.searchsorted(q, v, side="right") - 1
            first = xp.searchsorted(q, v, side="left")
            j = xp.clip(last, 0, n - 2)
            lo_q, hi_q = xp.take(q, j), xp.take(q, j + 1)
            lo_r, hi_r = xp.take(r, j), xp.take(r, j + 1)
            dq = hi_q - lo_q
            u = lo_r + xp.where(dq > 0, (v - lo_q) / xp.where(dq > 0, dq, 1.0), 0.0) * (
                hi_r - lo_r)
            at = (last >= 0) & (xp.take(q, xp.clip(last, 0, n - 1)) == v)
            tie = 0.5 * (xp.take(r, xp.clip(first, 0, n - 1)) +
                         xp.take(r, xp.clip(last, 0, n - 1)))
            u = xp.where(at, tie, u)
            u = xp.clip(xp.where(v <= q[0], 0.0, xp.where(v >= q[n - 1], 1.0, u)), 0.0, 1.0)
        cols.append(xp.where(xp.isnan(v), v, u))
    u = xp.stack(cols, axis=1)
    if normal:  # (traced only: scikit-learn's margin, as skscale._maps)
        from scipy.special import ndtri as host_ndtri

        from ._maps import BOUNDS_THRESHOLD

        margin = BOUNDS_THRESHOLD - np.spacing(1)
        u = xp.clip(ndtri(xp.clip(u, 0.0, None)), float(host_ndtri(margin)),
                    float(host_ndtri(1 - margin)))
    return _checked(X, xp.astype(u, X.dtype), ns, fallback)


def _ndtri(xp):
    """The normal distribution's quantile function of ``xp``'s library,
    where it has one (torch's), else None."""
    if _compat().is_torch_namespace(xp):
        import torch

        return torch.special.ndtri
    return None


#: The per-feature arrays of :func:`skscale._maps.power`.
_POWER_KEYS = ("c", "pc", "l1", "a1", "b1", "l2", "a2", "b2", "sign", "y0")


def power_on_device(X, ns, params, box_cox, *, inverse, fallback):
    """:class:`~skscale.PowerTransformer`'s map (or its inverse) on the
    device, as :func:`skscale._maps.power` computes it: on the reference
    point's side ``a1 * expm1(l1 * log1p((x - c) * pc)) + b1``, on the other
    ``a2 * expm1(l2 * log1p(|x|)) + b2`` (the ``l = 0`` limits where a
    lambda is 0).  A value the numpy path refuses (Box-Cox's non-positive
    values, one outside the inverse's range, an overflow) sends the call to
    it, on a host copy, to raise."""
    xp = ns.xp
    P = {k: np.asarray(params[k], np.float64) for k in _POWER_KEYS}
    unknown = np.isnan(P["l1"])  # (columns without a training value: NaN out)
    zero1, zero2 = P["l1"] == 0, P["l2"] == 0
    p = {k: ns.asarray(np.nan_to_num(v, nan=0.0)) for k, v in P.items()}
    l1 = ns.asarray(np.where(zero1, 1.0, P["l1"]))
    l2 = ns.asarray(np.where(zero2 | np.isnan(P["l2"]), 1.0, P["l2"]))
    z1, z2 = ns.asarray(zero1, dtype=xp.bool), ns.asarray(zero2, dtype=xp.bool)
    x = xp.astype(X, ns.wide)
    if box_cox and not inverse and fallback is not None and bool(xp.any(x <= 0)):
        return _on_host(X, ns, fallback)
    zero = xp.zeros_like(x)
    if inverse:
        side = (x - p["y0"]) * p["sign"] < 0 if not box_cox else xp.zeros_like(x, dtype=xp.bool)
        # (each branch sees only its own side's values: no log of a negative)
        v = xp.where(side, zero, (x - p["b1"]) / p["a1"])
        t = xp.where(z1, v, xp.log1p(v) / l1)
        near = xp.expm1(t) / p["pc"] + p["c"]
        if box_cox:  # (one side only)
            far = near
        else:
            w = xp.where(side, (x - p["b2"]) / p["a2"], zero)
            u = xp.where(z2, w, xp.log1p(w) / l2)
            far = -p["sign"] * xp.expm1(u)
    else:
        side = x * p["sign"] < 0 if not box_cox else xp.zeros_like(x, dtype=xp.bool)
        t = xp.log1p(xp.where(side, zero, (x - p["c"]) * p["pc"]))
        near = xp.where(z1, p["a1"] * t + p["b1"], p["a1"] * xp.expm1(l1 * t) + p["b1"])
        if box_cox:
            far = near
        else:
            u = xp.log1p(xp.abs(x))
            far = xp.where(z2, p["a2"] * u, p["a2"] * xp.expm1(l2 * u)) + p["b2"]
    y = xp.where(side, far, near)
    if unknown.any():
        nothing = ns.asarray(unknown, dtype=xp.bool)
        y = xp.where(nothing, xp.full_like(y, math.nan), y)
        X = xp.where(nothing, xp.full_like(X, math.nan), X)  # (taken as missing below)
    return _checked(X, xp.astype(y, X.dtype), ns, fallback)
