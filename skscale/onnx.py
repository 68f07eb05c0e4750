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
its reciprocal) and are bit-identical to ``transform``; the logarithm and
the per-sample statistics are computed with ONNX's own operators, within a
stated bound of ``transform`` (:data:`ACCURACY`).  Where ``transform``
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
    sqrt(var + eps) * gamma + beta``."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est, "_fit_layout")
    n_groups, _, gamma, beta = est._fit_layout
    d = est.n_features_in_
    zero, one = g.const(0.0), g.const(1.0)
    v = g.op("Reshape", x, g.const([-1, n_groups, d // n_groups], np.int64))
    nan = g.op("IsNaN", v)
    count = g.reduce("ReduceSum", g.op("Cast", g.op("Not", nan), to=_DOUBLE), 2)
    mean = g.op("Div", g.reduce("ReduceSum", g.where(nan, zero, v), 2), count)
    dev = g.where(nan, zero, g.op("Sub", v, mean))
    d_mean = g.op("Div", g.reduce("ReduceSum", dev, 2), count)
    var = g.op("Sub", g.op("Div", g.reduce("ReduceSum", g.op("Mul", dev, dev), 2), count),
               g.op("Mul", d_mean, d_mean))
    mean = g.op("Add", mean, d_mean)
    std = g.op("Sqrt", g.op("Add", g.op("Max", var, zero), g.const(float(est.eps))))
    std = g.where(g.op("Equal", std, zero), one, std)
    y = g.op("Div", g.op("Sub", v, mean), std)
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

    return {LogScaler: _log, UnitNormScaler: _unit_norm, _GroupStatsScaler: _group_stats,
            AutoScaler: _auto, Scaler: _scaler}


_EMITTERS = _emitters()
register()
