"""ONNX converters for skscale's estimators, registered with skl2onnx.

Importing this module (the ``onnx`` extra: skl2onnx and onnx) registers a
shape calculator and a converter for every estimator of
:data:`skscale.SCALERS`, for :class:`~skscale.AutoScaler` and for
:class:`~skscale.Scaler`, so that :func:`skl2onnx.to_onnx` converts any
pipeline that holds them (a ``ColumnTransformer`` of skscale scalers, then
a model, say) into a graph that ONNX Runtime, a browser or a database can
run.  :func:`to_onnx` is the same call with the registration made sure of.

Each graph computes what ``transform`` computes, in float64 whatever the
input type (a float32 input is cast to float64 first and the result
rounded to float32 last, as skscale's kernels do), NaN passing through.
The affine maps divide by the scale as skscale does (never multiply by
its reciprocal) and are bit-identical to ``transform``, as are the
squashing map and the quantile map with uniform output; the logarithm, the
power transform, the normal quantile and the per-sample statistics are
computed with ONNX's own operators, within a stated bound of ``transform``
(:data:`ACCURACY`).  Where ``transform``
raises (a value outside a logarithm's domain), the graph gives NaN.

This module touches skl2onnx's registry of converters and nothing else;
it reads the fitted estimators it converts and changes none.
"""

import math

import numpy as np

__all__ = ["ACCURACY", "register", "to_onnx"]

#: Per method, how far the ONNX graph's output (run by ONNX Runtime) may be
#: from ``transform``'s, as the tests hold it: ``0`` means bit-identical;
#: otherwise a bound in units in the last place of the output type (float64
#: or float32), relative to the larger of the output and ``floor``.
ACCURACY = {
    "minmax": {"ulps": 0, "why": "the same float64 operations"},
    "zscore": {"ulps": 0, "why": "the same float64 operations"},
    "robust": {"ulps": 0, "why": "the same float64 operations"},
    "decimal": {"ulps": 0, "why": "the same float64 operations"},
    "maxabs": {"ulps": 0, "why": "the same float64 operations"},
    "squashing": {"ulps": 0, "why": "the same float64 operations (a square root is"
                                    " correctly rounded everywhere)"},
    "quantile": {"ulps": 0, "normal_ulps": 16, "floor": 0.0,
                 "why": "uniform output: the same interpolation, each value's segment found"
                        " by comparisons; normal output: the normal quantile by Wichura's"
                        " AS 241 where transform takes scipy's ndtri"},
    "power": {"ulps": 16, "floor": 1.0, "times": "a1", "exponent": True,
              "why": "log1p and expm1 from ONNX's Log and Exp (with the corrections of"
                     " Goldberg and Kahan), relative to the output or 1, times the"
                     " multiplier of the transform's exponential (at most 1000 where"
                     " transform takes exp rather than expm1) and times the magnitude of"
                     " its exponent, lambda times the logarithm, or 1 (the exponential's"
                     " condition number: a rounding of the logarithm is multiplied by it)"},
    "batch_norm": {"ulps": 0, "why": "the same float64 operations"},
    "log": {"ulps": 4, "floor": 0.0,
            "why": "log1p(a) as log(1 + a) * a / ((1 + a) - 1) (ONNX has no log1p), and"
                   " the base's logarithm by one more rounding"},
    "unit_norm": {"ulps": 4, "floor": 0.0,
                  "why": "the norm summed in another order; values whose squares overflow"
                         " or underflow (beyond about 1e154 or below 1e-154) are not"
                         " rescaled as transform rescales them"},
    "layer_norm": {"ulps": 64, "floor": 1.0,
                   "why": "the mean and variance summed in another order: relative to the"
                          " output or 1, whichever is larger (values that differ little"
                          " from their group's mean cancel)"},
    "instance_norm": {"ulps": 64, "floor": 1.0, "why": "as layer_norm"},
    "group_norm": {"ulps": 64, "floor": 1.0, "why": "as layer_norm"},
    "rms_norm": {"ulps": 16, "floor": 0.0,
                 "why": "the mean square summed in another order (its rounding grows with"
                        " the number of features summed); rows whose squares"
                        " overflow or underflow (values beyond about 1e154, or a root mean"
                        " square below 2**-450) are not rescaled as transform rescales them"},
}

_REGISTERED = False


def register():
    """Register skscale's converters with skl2onnx (done on import; again
    is harmless).

    Examples
    --------
    >>> import skscale.onnx
    >>> skscale.onnx.register()
    """
    global _REGISTERED
    if _REGISTERED:
        return
    try:
        from skl2onnx import update_registered_converter
    except ImportError as err:
        raise ImportError('skscale.onnx needs skl2onnx and onnx: pip install "skscale[onnx]"'
                          ) from err

    from . import _scaler  # noqa: F401  (loads every estimator class a model may be)
    from ._json import classes

    for name, cls in classes().items():
        update_registered_converter(cls, f"Skscale{name}", _shape, _convert, overwrite=True)
    _REGISTERED = True


def to_onnx(model, X, **kwargs):
    """:func:`skl2onnx.to_onnx` of ``model`` (a fitted skscale estimator, or a
    pipeline holding some), with skscale's converters registered.

    Parameters
    ----------
    model : estimator
        Fitted.
    X : array-like
        A few rows of the input, for its type and number of columns
        (float32 or float64: the graph takes and returns that type).
    **kwargs : dict
        Passed to :func:`skl2onnx.to_onnx` (``target_opset``, ...).

    Returns
    -------
    onnx.ModelProto
        The graph; ONNX Runtime runs it.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skscale import ZScoreScaler
    >>> from skscale.onnx import to_onnx
    >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> scaler = ZScoreScaler().fit(X)
    >>> session = ort.InferenceSession(to_onnx(scaler, X).SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> session.run(None, {session.get_inputs()[0].name: X})[0]
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    import skl2onnx

    register()
    return skl2onnx.to_onnx(model, X, **kwargs)


# ------------------------------------------------------------ skl2onnx hooks

def _shape(operator):
    """The output of every skscale estimator: its input's rows, one column per
    feature, in its input's float type (float64 for other inputs)."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    est = operator.raw_operator
    given = [i.type for i in operator.inputs]
    n = given[0].shape[0] if given[0].shape else None
    kind = (FloatTensorType if all(isinstance(t, FloatTensorType) for t in given)
            else DoubleTensorType)
    operator.outputs[0].type = kind([n, _n_features(est, given)])


def _n_features(est, given):
    n = getattr(est, "n_features_in_", None)
    if n is None and all(t.shape and len(t.shape) == 2 and t.shape[1] for t in given):
        n = sum(t.shape[1] for t in given)
    return n


def _convert(scope, operator, container):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    from ._array_api import fitted_on_host

    est = operator.raw_operator
    g = _Graph(scope, container)
    given = operator.inputs  # (a DataFrame's columns are one input each)
    dtype = np.dtype(np.float32 if all(isinstance(i.type, FloatTensorType) for i in given)
                     else np.float64)
    parts = [i.full_name if isinstance(i.type, DoubleTensorType) else g.op(
        "Cast", i.full_name, to=_DOUBLE) for i in given]
    x = parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=1)
    with fitted_on_host(est, None):
        y = emit(g, est, x, dtype)
    out = operator.outputs[0].full_name
    if dtype == np.float32:
        g.op("Cast", y, to=_FLOAT, out=out)
    else:
        g.op("Identity", y, out=out)


_DOUBLE, _FLOAT, _INT64, _BOOL = 11, 1, 7, 9  # onnx.TensorProto's element types


class _Graph:
    """Nodes and constants added to the graph skl2onnx is building."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container
        opset = container.target_opset
        self.opset = opset.get("", 0) if isinstance(opset, dict) else int(opset)
        if self.opset < 13:
            raise RuntimeError(f"skscale's ONNX graphs need opset 13 or later; got {self.opset}.")

    def const(self, value, dtype=np.float64, seed="skscale_const"):
        from onnx import numpy_helper

        name = self.scope.get_unique_variable_name(seed)
        tensor = numpy_helper.from_array(np.ascontiguousarray(value, dtype=dtype), name)
        self.container.add_initializer(name, tensor.data_type, list(tensor.dims), tensor)
        return name

    def op(self, op_type, *inputs, out=None, **attrs):
        out = out or self.scope.get_unique_variable_name(f"skscale_{op_type.lower()}")
        self.container.add_node(op_type, list(inputs), [out],
                                name=self.scope.get_unique_operator_name(f"Skscale{op_type}"),
                                **attrs)
        return out

    def reduce(self, op_type, x, axis):
        """``op_type`` (ReduceSum, ReduceMax) over ``axis``, kept."""
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, self.const([axis], np.int64), keepdims=1)
        return self.op(op_type, x, axes=[axis], keepdims=1)

    def where(self, cond, a, b):
        return self.op("Where", cond, a, b)

    def nan_to(self, x, value):
        """``x`` with NaN replaced by ``value`` (a constant's name)."""
        return self.where(self.op("IsNaN", x), value, x)


# ------------------------------------------------------------------ emitters

def emit(g, est, x, dtype):
    """The float64 tensor of ``est.transform`` of the float64 tensor ``x``,
    whose values came as ``dtype`` (what ``transform`` would have been given)."""
    for cls in type(est).__mro__:
        if cls in _EMITTERS:
            return _EMITTERS[cls](g, est, x, dtype)
    from ._columns import ColumnScaler

    if isinstance(est, ColumnScaler) and est._affine:
        return _affine(g, est, x, dtype)
    raise TypeError(f"skscale.onnx has no converter for {type(est).__name__}")


def _affine(g, est, x, dtype):
    """``(x - center) / scale + shift``, clipped where the method clips."""
    center, scale, shift, bounds = est._affine_map(False)
    d = est.n_features_in_
    y = x
    for value, op in ((center, "Sub"), (scale, "Div"), (shift, "Add")):
        if value is not None:
            y = g.op(op, y, g.const(np.broadcast_to(np.asarray(value, np.float64), (d,))))
    if bounds is not None:
        lo, hi = (g.const(b) for b in bounds)
        # (NaN compares false: it passes through both)
        y = g.where(g.op("Less", y, lo), lo, y)
        y = g.where(g.op("Greater", y, hi), hi, y)
    return y


def _log1p(g, a):
    """``log1p(a)`` from ONNX's ``Log``: ``log(u) * a / (u - 1)`` with ``u =
    1 + a`` rounded, which corrects the rounding of ``u`` (Goldberg 1991,
    Theorem 4); ``a`` itself where ``u`` rounds to 1."""
    one = g.const(1.0)
    u = g.op("Add", a, one)
    d = g.op("Sub", u, one)
    ratio = g.op("Div", a, d)
    ratio = g.where(g.op("IsInf", u), one, ratio)  # (a huge: log(u) is the whole answer)
    value = g.op("Mul", g.op("Log", u), ratio)
    return g.where(g.op("Equal", d, g.const(0.0)), a, value)


def _log(g, est, x, dtype):
    from ._log import _INV_LN, _LOGS

    policy = est._domain_policy()
    if policy == "clip":
        low = g.const(est._low.astype(dtype).astype(np.float64))  # (as transform: in x's type)
        x = g.where(g.op("Less", x, low), low, x)
    split = getattr(est, "_split", None)
    if split is None:
        shift = g.const(est._shift)
        a = g.op("Sub", x, shift)
        below = g.op("LessOrEqual", a, g.const(-1.0))
        z = _log1p(g, a)
    else:
        offset = g.const(est.offset_)
        s = g.op("Add", x, offset)  # TwoSum: s + e == x + offset exactly
        bb = g.op("Sub", s, x)
        e = g.op("Add", g.op("Sub", x, g.op("Sub", s, bb)), g.op("Sub", offset, bb))
        below = g.op("LessOrEqual", s, g.const(0.0))
        near = g.op("And", g.op("GreaterOrEqual", s, g.const(0.5)),
                    g.op("LessOrEqual", s, g.const(2.0)))
        z = g.where(near, _log1p(g, g.op("Add", g.op("Sub", s, g.const(1.0)), e)),
                    g.op("Add", g.op("Log", s), g.op("Div", e, s)))
    base = float(est.base)
    if base in _LOGS:
        z = g.op("Mul", z, g.const(_INV_LN[base]))
    elif base != math.e:
        z = g.op("Div", z, g.const(math.log(base)))
    return g.where(below, g.const(math.nan), z)  # (transform raises, or gives NaN)


def _expm1(g, z):
    """``expm1(z)`` from ONNX's ``Exp``: ``(u - 1) * z / log(u)`` with ``u =
    exp(z)`` rounded (Kahan), ``z`` itself where ``u`` rounds to 1, -1
    where it rounds to 0."""
    one = g.const(1.0)
    u = g.op("Exp", z)
    d = g.op("Sub", u, one)
    value = g.op("Div", g.op("Mul", d, z), g.op("Log", u))
    value = g.where(g.op("IsInf", u), u, value)
    value = g.where(g.op("Equal", u, g.const(0.0)), g.const(-1.0), value)
    return g.where(g.op("Equal", u, one), z, value)


def _soft_clip(g, est, x, dtype):
    """Squashing: ``z / sqrt(1 + (z / B)**2)`` with ``z = (x - center) / scale``,
    the operations of :func:`skscale._maps.soft_clip` in its order."""
    from ._maps import _SOFT_CLIP_MAX

    B = float(est.max_absolute_value)
    center, scale = est.center_, est.scale_
    special = ~(np.isfinite(scale) & np.isfinite(center))
    z = g.op("Div", g.op("Sub", x, g.const(np.where(special, 0.0, center))),
             g.const(np.where(special, 1.0, scale)))
    z = _clip(g, z, -B * _SOFT_CLIP_MAX, B * _SOFT_CLIP_MAX)
    t = g.op("Div", z, g.const(B))
    t = g.op("Sqrt", g.op("Add", g.op("Mul", t, t), g.const(1.0)))
    y = _clip(g, g.op("Div", z, t), -B, B)
    if special.any():  # constant at fit: 0; no value at fit: NaN; infinities: the bounds
        base = np.where(np.isinf(scale) & ~np.isnan(center), 0.0, np.nan)
        odd = g.where(g.op("IsInf", x), g.op("Mul", g.op("Sign", x), g.const(B)),
                      g.where(g.op("IsNaN", x), x, g.const(base)))
        y = g.where(g.const(special[None, :], np.bool_), odd, y)
    return y


def _clip(g, y, lo, hi):
    """``y`` clipped to ``[lo, hi]`` (constants), NaN passing through."""
    lo, hi = g.const(lo), g.const(hi)
    y = g.where(g.op("Less", y, lo), lo, y)
    return g.where(g.op("Greater", y, hi), hi, y)


#: Wichura's algorithm AS 241 (PPND16), Applied Statistics 37 (1988): the
#: normal quantile to about 1e-16, from rational functions of ``q = u - 1/2``
#: (``|q| <= 0.425``) and of ``r = sqrt(-log(min(u, 1 - u)))`` (``r <= 5``,
#: which the transform's clip at ``u = 1e-7`` keeps to).  Coefficients of
#: the numerator and denominator, highest degree first.
_AS241 = {
    "a": [2509.0809287301226727, 33430.575583588128105, 67265.770927008700853,
          45921.953931549871457, 13731.693765509461125, 1971.5909503065514427,
          133.14166789178437745, 3.387132872796366608],
    "b": [5226.495278852854561, 28729.085735721942674, 39307.89580009271061,
          21213.794301586595867, 5394.1960214247511077, 687.1870074920579083,
          42.313330701600911252, 1.0],
    "c": [7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177,
          1.27045825245236838258, 3.64784832476320460504, 5.7694972214606914055,
          4.6303378461565452959, 1.42343711074968357734],
    "d": [1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966,
          0.14810397642748007459, 0.68976733498510000455, 1.6763848301838038494,
          2.05319162663775882187, 1.0],
}


def _horner(g, coefficients, r):
    value = g.const(coefficients[0])
    for c in coefficients[1:]:
        value = g.op("Add", g.op("Mul", value, r), g.const(c))
    return value


def _normal_quantile(g, u):
    """``Phi^-1(u)`` for ``u`` in ``[1e-7 - eps, 1 - (1e-7 - eps)]`` (AS 241)."""
    half = g.const(0.5)
    q = g.op("Sub", u, half)
    r = g.op("Sub", g.const(0.180625), g.op("Mul", q, q))
    central = g.op("Div", g.op("Mul", q, _horner(g, _AS241["a"], r)), _horner(g, _AS241["b"], r))
    tail = g.op("Min", u, g.op("Sub", g.const(1.0), u))
    r = g.op("Sub", g.op("Sqrt", g.op("Neg", g.op("Log", tail))), g.const(1.6))
    value = g.op("Div", _horner(g, _AS241["c"], r), _horner(g, _AS241["d"], r))
    value = g.where(g.op("Less", q, g.const(0.0)), g.op("Neg", value), value)
    return g.where(g.op("LessOrEqual", g.op("Abs", q), g.const(0.425)), central, value)


def _quantile(g, est, x, dtype):
    """The quantile transform with the tables of :func:`skscale._maps.quantile_tables`:
    ``j`` the last quantile at or below ``x`` (counted by comparisons), then
    the same interpolation, in the same operations."""
    from scipy.special import ndtri

    from ._maps import BOUNDS_THRESHOLD

    t = est._map
    n, d = t["n"], est.n_features_in_
    q = t["q"]  # (d, n)
    zero, one = g.const(0.0), g.const(1.0)
    column = g.const((np.arange(d) * n)[None, :], np.int64)
    ahead = g.op("Cast", g.op("LessOrEqual", g.const(q[None]),
                              g.op("Unsqueeze", x, g.const([2], np.int64))), to=_INT64)
    count = g.op("ReduceSum", ahead, g.const([2], np.int64), keepdims=0)  # (N, d)
    last = g.op("Sub", count, g.const(1, np.int64))
    j = g.op("Add", g.op("Max", last, g.const(0, np.int64)), column)

    def at(table, index=j):
        return g.op("Gather", g.const(np.ravel(table)), index)

    qj = at(q)
    u = g.op("Add", at(np.tile(t["r"], d)),
             g.op("Mul", g.op("Sub", x, qj), at(t["inv"])))
    if t["ties"]:
        u = g.where(g.op("Equal", x, qj), at(t["tie"]), u)
    kinds = t["kind"]
    if kinds.any():
        u = g.where(g.const((kinds != 0)[None, :], np.bool_),
                    _quantile_special(g, est, x, count, last, column), u)
    u = g.where(g.op("Less", u, zero), zero, u)  # (below the first quantile; NaN stays)
    if est.output_distribution != "normal":
        return u
    eps = float(np.spacing(1))
    edge = BOUNDS_THRESHOLD - eps
    low, high = float(ndtri(edge)), float(ndtri(1 - edge))
    inside = _clip(g, u, edge, 1 - edge)
    y = _normal_quantile(g, inside)
    y = g.where(g.op("LessOrEqual", u, g.const(edge)), g.const(low), y)
    return g.where(g.op("GreaterOrEqual", u, g.const(1 - edge)), g.const(high), y)


def _quantile_special(g, est, x, count, last, column):
    """The columns without a table (:func:`skscale._maps._special_column`):
    constant, without values, or bisected."""
    t = est._map
    n = t["n"]
    q, r = t["q"], t["r"]
    d = q.shape[0]
    kinds = t["kind"]
    zero, one, half = g.const(0.0), g.const(1.0), g.const(0.5)
    flat_q, flat_r = np.ravel(q), np.tile(r, d)

    def at(table, index):
        return g.op("Gather", g.const(table), index)

    # kind 3: bisection (j clipped to n - 2), the interpolation by division
    hi_j = max(n - 2, 0)
    j = g.op("Add", g.op("Min", g.op("Max", last, g.const(0, np.int64)),
                         g.const(hi_j, np.int64)), column)
    j1 = g.op("Add", j, g.const(1 if n > 1 else 0, np.int64))
    q0, q1, r0, r1 = at(flat_q, j), at(flat_q, j1), at(flat_r, j), at(flat_r, j1)
    dq = g.op("Sub", q1, q0)
    step = g.op("Sub", r1, r0)
    positive = g.op("Greater", dq, zero)
    frac = g.where(positive, g.op("Div", g.op("Sub", x, q0), g.where(positive, dq, one)), zero)
    u = g.op("Add", r0, g.op("Mul", frac, step))
    wide = g.op("Add", r0, g.op("Mul", g.op("Div", g.op("Sub", g.op("Div", x, g.const(2.0)),
                                                        g.op("Div", q0, g.const(2.0))),
                                            g.op("Sub", g.op("Div", q1, g.const(2.0)),
                                                 g.op("Div", q0, g.const(2.0)))), step))
    u = g.where(g.op("IsInf", dq), wide, u)
    below = g.op("Cast", g.op("Less", g.const(q[None]),
                              g.op("Unsqueeze", x, g.const([2], np.int64))), to=_INT64)
    first = g.op("ReduceSum", below, g.const([2], np.int64), keepdims=0)  # searchsorted left
    safe_last = g.op("Add", g.op("Max", last, g.const(0, np.int64)), column)
    safe_first = g.op("Add", g.op("Min", first, g.const(n - 1, np.int64)), column)
    tied = g.op("And", g.op("And", g.op("GreaterOrEqual", last, g.const(0, np.int64)),
                            g.op("Less", first, g.const(n, np.int64))),
                g.op("Equal", at(flat_q, safe_last), x))
    u = g.where(tied, g.op("Mul", half, g.op("Add", at(flat_r, safe_first),
                                             at(flat_r, safe_last))), u)
    u = g.where(g.op("LessOrEqual", x, g.const(q[:, 0][None, :])), zero, u)
    u = g.where(g.op("GreaterOrEqual", x, g.const(q[:, -1][None, :])), one, u)
    u = _clip(g, u, 0.0, 1.0)
    # kind 1: constant (0 at or below its value, 1 above; 0 with one quantile)
    constant = g.op("Cast", g.op("Greater", x, g.const(q[:, -1][None, :])), to=_DOUBLE)
    if n < 2:
        constant = g.op("Mul", constant, zero)
    u = g.where(g.const((kinds == 1)[None, :], np.bool_), constant, u)
    u = g.where(g.const((kinds == 2)[None, :], np.bool_), g.const(np.nan), u)
    return g.where(g.op("IsNaN", x), x, u)


def _power(g, est, x, dtype):
    """The power transform of :func:`skscale._maps.power`: on the side of
    the reference point ``a1 * expm1(l1 * t) + b1`` (``exp`` then ``b1 -
    a1`` where transform takes that path), ``t = log1p((x - c) * pc)``; on
    the other ``a2 * expm1(l2 * u) + b2``, ``u = log1p|x|``."""
    from ._maps import _EXP_SAFE

    P = {k: np.asarray(v, np.float64) for k, v in est._map.items()}
    box_cox = est.method == "box-cox"
    known = np.isfinite(P["a1"])
    fast = bool((np.abs(P["a1"][known]) <= _EXP_SAFE).all())
    zero1, zero2 = P["l1"] == 0, P["l2"] == 0
    row = lambda a: g.const(np.asarray(a, np.float64)[None, :])  # noqa: E731
    t = _log1p(g, g.op("Mul", g.op("Sub", x, row(P["c"])), row(P["pc"])))
    lt = g.op("Mul", t, row(np.where(zero1, 1.0, P["l1"])))
    if fast:
        y1 = g.op("Add", g.op("Mul", g.op("Exp", lt), row(P["a1"])), row(P["b1"] - P["a1"]))
    else:
        y1 = g.op("Add", g.op("Mul", _expm1(g, lt), row(P["a1"])), row(P["b1"]))
    if zero1.any():
        y1 = g.where(g.const(zero1[None, :], np.bool_),
                     g.op("Add", g.op("Mul", t, row(P["a1"])), row(P["b1"])), y1)
    if box_cox:  # (transform refuses values that are not positive)
        return g.where(g.op("LessOrEqual", x, g.const(0.0)), g.const(np.nan), y1)
    u = _log1p(g, g.op("Abs", x))
    scaled = g.op("Mul", row(P["a2"]), _expm1(g, g.op("Mul", row(P["l2"]), u)))
    if zero2.any():
        scaled = g.where(g.const(zero2[None, :], np.bool_), g.op("Mul", row(P["a2"]), u),
                         scaled)
    y2 = g.op("Add", scaled, row(P["b2"]))
    far = g.op("Less", g.op("Mul", x, row(P["sign"])), g.const(0.0))
    return g.where(far, y2, y1)


def _unit_norm(g, est, x, dtype):
    zero, one = g.const(0.0), g.const(1.0)
    x0 = g.nan_to(x, zero)
    if est.norm == "l2":
        norm = g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", x0, x0), 1))
    else:
        norm = g.reduce("ReduceSum" if est.norm == "l1" else "ReduceMax", g.op("Abs", x0), 1)
    norm = g.where(g.op("Equal", norm, zero), one, norm)
    return g.op("Div", x, norm)


def _group_stats(g, est, x, dtype):
    """Layer, instance and group norm: per (row, group), the corrected
    two-pass mean and variance of the non-NaN values, then ``(x - mean) /
    sqrt(var + eps) * gamma + beta``; RMS norm (not centered): the mean of
    the squares, then ``x / sqrt(ms + eps) * gamma``."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est, "_fit_layout")
    n_groups, _, gamma, beta = est._fit_layout
    d = est.n_features_in_
    zero, one = g.const(0.0), g.const(1.0)
    v = g.op("Reshape", x, g.const([-1, n_groups, d // n_groups], np.int64))
    nan = g.op("IsNaN", v)
    count = g.reduce("ReduceSum", g.op("Cast", g.op("Not", nan), to=_DOUBLE), 2)
    if est._centered:
        mean = g.op("Div", g.reduce("ReduceSum", g.where(nan, zero, v), 2), count)
        dev = g.where(nan, zero, g.op("Sub", v, mean))
        d_mean = g.op("Div", g.reduce("ReduceSum", dev, 2), count)
        var = g.op("Sub", g.op("Div", g.reduce("ReduceSum", g.op("Mul", dev, dev), 2), count),
                   g.op("Mul", d_mean, d_mean))
        mean = g.op("Add", mean, d_mean)
    else:
        known = g.where(nan, zero, v)
        var = g.op("Div", g.reduce("ReduceSum", g.op("Mul", known, known), 2), count)
    eps = float(est._eps(np.dtype(dtype)))  # (None: the input type's epsilon, as torch)
    std = g.op("Sqrt", g.op("Add", g.op("Max", var, zero), g.const(eps)))
    std = g.where(g.op("Equal", std, zero), one, std)
    y = g.op("Div", g.op("Sub", v, mean) if est._centered else v, std)
    if gamma is not None:
        y = g.op("Mul", y, g.const(gamma))
    if beta is not None:
        y = g.op("Add", y, g.const(beta))
    return g.op("Reshape", y, g.const([-1, d], np.int64))


def _auto(g, est, x, dtype):
    """Each group of columns gathered, through its chain of estimators
    (rounded to the input's type between steps, as transform does), and
    the columns put back in their places."""
    parts, order = [], []
    for cols, chain in est.groups_:
        y = g.op("Gather", x, g.const(cols, np.int64), axis=1)
        for i, step in enumerate(chain):
            if i and dtype != np.float64:  # (transform hands the next step X's type)
                y = g.op("Cast", g.op("Cast", y, to=_FLOAT), to=_DOUBLE)
            y = emit(g, step, y, dtype)
        parts.append(y)
        order.extend(int(c) for c in cols)
    y = g.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]
    return g.op("Gather", y, g.const(np.argsort(order), np.int64), axis=1)


def _scaler(g, est, x, dtype):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    return emit(g, est.scaler_, x, dtype)


def _emitters():
    from ._auto import AutoScaler
    from ._group_norm import _GroupStatsScaler
    from ._log import LogScaler
    from ._scaler import Scaler
    from ._unit_norm import UnitNormScaler

    from ._power import PowerTransformer
    from ._quantile import QuantileTransformer
    from ._squashing import SquashingScaler

    return {LogScaler: _log, UnitNormScaler: _unit_norm, _GroupStatsScaler: _group_stats,
            AutoScaler: _auto, Scaler: _scaler, SquashingScaler: _soft_clip,
            QuantileTransformer: _quantile, PowerTransformer: _power}


_EMITTERS = _emitters()
register()
