"""Weight standardization and weight normalization for neural-network weights.

These are reparametrizations of a layer's *weights*, not of its data: deep-learning
frameworks apply them to a weight array before every forward pass. The functions here
are pure NumPy versions, useful to inspect or precompute what a network sees, to port
weights between frameworks, and as a float64 reference when testing an implementation.

* :func:`standardize_weights` -- weight standardization (Qiao et al. 2019): each output
  unit's weights are shifted to mean 0 and scaled to standard deviation 1.
* :func:`weight_norm` and :func:`weight_from_norm` -- weight normalization (Salimans &
  Kingma 2016): ``w = g * v / ||v||`` decouples a unit's length ``g`` from its direction
  ``v``. :func:`weight_norm` gives the ``(g, v)`` that
  ``torch.nn.utils.parametrizations.weight_norm`` starts from; :func:`weight_from_norm`
  maps ``(g, v)`` back to ``w``, as the forward pass does.
* :func:`fold_batch_norm` and :func:`fold_batch_norm_into` -- a batch normalization in
  evaluation mode folded into the linear or convolution layer before it, for inference:
  one layer that computes what the two computed.

Weights follow the PyTorch layout: the output unit is axis 0, e.g. ``(out, in)`` for a
linear layer and ``(out, in, kh, kw)`` for a 2-D convolution. All statistics are computed
in float64; float32 and float64 input keep their dtype, other real input gives float64.
Tensors (and the arrays of any array API library) give tensors, on their device and in
their dtype; a tensor that requires grad is read detached, with a warning: the result is
outside autograd.

Examples
--------
>>> import numpy as np
>>> from skscale.weights import standardize_weights, weight_norm, weight_from_norm
>>> W = np.array([[1.0, 2.0, 3.0], [0.0, 3.0, 4.0]])
>>> g, v = weight_norm(W)
>>> print(np.round(g.ravel(), 4))
[3.7417 5.    ]
>>> bool(np.allclose(weight_from_norm(g, v), W))
True
"""

import functools
import math
import numbers
import warnings

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import _array_api

__all__ = ["standardize_weights", "weight_norm", "weight_from_norm", "fold_batch_norm",
           "fold_batch_norm_into"]


def _foreign(a):
    """Whether ``a`` is an array of another library than numpy (a tensor)."""
    return not isinstance(a, (np.ndarray, np.generic)) and \
        _array_api._compat().is_array_api_obj(a)


def _tensors_back(func):
    """``func`` of numpy arrays, for the arrays of any library: its arrays
    read on the host (detached, with a warning, where they require grad), and
    its results returned as arrays of the first one's library, device and
    dtype."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        given = [a for a in (*args, *kwargs.values()) if _foreign(a)]
        if not given:
            return func(*args, **kwargs)
        if any(getattr(a, "requires_grad", False) is True for a in given):
            warnings.warn(f"{func.__name__} reads tensors that require grad detached: its"
                          " result is outside autograd.", UserWarning, stacklevel=2)
        result = func(*(_array_api.host_value(a) for a in args),
                      **{k: _array_api.host_value(v) for k, v in kwargs.items()})
        compat = _array_api._compat()
        like = given[0]
        xp, device = compat.array_namespace(like), compat.device(like)

        def back(r):
            return xp.astype(xp.asarray(np.ascontiguousarray(r), device=device), like.dtype)

        return tuple(map(back, result)) if isinstance(result, tuple) else back(result)

    return wrapper


def _as_float64(a, name):
    """Validate a real, finite array; return it as float64 and the dtype to return in."""
    a = np.asarray(a)
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}.")
    out_dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    a64 = a.astype(np.float64)
    if not np.all(np.isfinite(a64)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return a64, out_dtype


def _axis(axis, ndim, name):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {axis!r}.")
    # Raises numpy.exceptions.AxisError, a ValueError, when out of range.
    return normalize_axis_index(int(axis), ndim, msg_prefix=name)


def _l2(x, axes):
    """Euclidean norm over ``axes`` (dims kept), in float64.

    Each unit is divided by its largest magnitude first, so squaring neither overflows
    (|x| > 1e154) nor underflows to a zero norm for a nonzero unit (|x| < 1e-162).
    """
    s = np.max(np.abs(x), axis=axes, keepdims=True)
    s = np.where(s > 0, s, 1.0)  # all-zero unit: x / 1 = 0, norm 0
    with np.errstate(over="ignore"):
        norm = s * np.sqrt(np.sum(np.square(x / s), axis=axes, keepdims=True))
    if not np.all(np.isfinite(norm)):
        raise ValueError("A norm overflows float64.")
    return norm


def _norm_axes(ndim, dim):
    """Axes reduced by weight normalization: all but ``dim``; all of them for None."""
    if dim is None:
        return tuple(range(ndim))
    dim = _axis(dim, ndim, "dim")
    return tuple(i for i in range(ndim) if i != dim)


@_tensors_back
def standardize_weights(W, *, ddof=1, eps=1e-5, eps_inside=False, axis=0):
    r"""Weight standardization: zero mean, unit standard deviation per output unit.

    For each output unit (each index along ``axis``), with mean :math:`\mu` and
    variance :math:`\sigma^2 = \sum (w - \mu)^2 / (n - \mathrm{ddof})` over the unit's
    :math:`n` weights (all other axes):

    .. math::

        \hat W = \frac{W - \mu}{\sigma + \epsilon} \quad (\text{eps\_inside=False}),
        \qquad
        \hat W = \frac{W - \mu}{\sqrt{\sigma^2 + \epsilon}} \quad (\text{eps\_inside=True}).

    The defaults (``ddof=1, eps=1e-5, eps_inside=False``) are those of the authors'
    PyTorch code (Qiao et al. 2019, "Micro-Batch Training with Batch-Channel
    Normalization and Weight Standardization"): unbiased standard deviation, eps added
    outside the square root. timm's ``StdConv2d`` uses the biased variance with eps
    inside the square root; get it with
    ``standardize_weights(W, ddof=0, eps=1e-6, eps_inside=True)``.

    Parameters
    ----------
    W : array_like of shape (out, ...)
        Real, finite weights with at least two dimensions, e.g. ``(out, in)`` or
        ``(out, in, kh, kw)``.
    ddof : int or float, default=1
        Delta degrees of freedom: the variance divides by ``n - ddof``. Must satisfy
        ``0 <= ddof < n``.
    eps : float, default=1e-5
        Non-negative constant that keeps the denominator away from zero.
    eps_inside : bool, default=False
        Add ``eps`` to the variance inside the square root (True) or to the standard
        deviation (False).
    axis : int, default=0
        Axis that indexes the output units; negative values count from the end.

    Returns
    -------
    W_std : ndarray
        Standardized weights, same shape as ``W``; float32 stays float32, other input
        gives float64. Computed in float64 with a two-pass variance.

    Notes
    -----
    A unit whose weights are all equal maps to exactly 0, for every ``eps``: with
    ``eps=0`` its formula is 0/0, and a computed mean can differ from the common value
    by rounding, which would otherwise turn a constant unit into rounding noise of
    magnitude 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale.weights import standardize_weights
    >>> W = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    >>> print(np.round(standardize_weights(W), 4))
    [[-1. 0. 1.]
     [ 0. 0. 0.]]
    >>> print(np.round(standardize_weights(W, ddof=0, eps=1e-6, eps_inside=True), 4))
    [[-1.2247  0.      1.2247]
     [ 0.      0.      0.    ]]
    """
    W64, out_dtype = _as_float64(W, "W")
    if W64.ndim < 2:
        raise ValueError(
            f"W must have at least 2 dimensions, got shape {W64.shape}: with one "
            "dimension each output unit has a single weight, whose standardization "
            "is undefined."
        )
    axis = _axis(axis, W64.ndim, "axis")
    axes = tuple(i for i in range(W64.ndim) if i != axis)
    n = math.prod(W64.shape[i] for i in axes)  # weights per unit
    if not 0 <= ddof < n:
        raise ValueError(f"ddof must satisfy 0 <= ddof < n = {n} weights per unit, got {ddof}.")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be finite and non-negative, got {eps}.")

    dev = W64 - np.mean(W64, axis=axes, keepdims=True)
    constant = np.max(W64, axis=axes, keepdims=True) == np.min(W64, axis=axes, keepdims=True)
    dev = np.where(constant, 0.0, dev)
    std = _l2(dev, axes) / np.sqrt(n - ddof)
    # hypot(std, sqrt(eps)) is sqrt(var + eps) without squaring std.
    denom = np.hypot(std, np.sqrt(eps)) if eps_inside else std + eps
    # denom is 0 only for a constant unit with eps=0; its dev is 0 and it maps to 0.
    out = np.divide(dev, denom, out=np.zeros_like(dev), where=denom > 0)
    return out.astype(out_dtype, copy=False)


@_tensors_back
def weight_norm(W, dim=0):
    r"""Weight-normalization decomposition ``W = g * v / ||v||`` at initialization.

    Returns :math:`g = \|W\|_2` over every axis except ``dim`` (dims kept) and
    :math:`v = W`, exactly the ``(original0, original1)`` with which
    ``torch.nn.utils.parametrizations.weight_norm(module, dim=dim)`` initializes its
    parametrization (Salimans & Kingma 2016, "Weight Normalization").

    Parameters
    ----------
    W : array_like of shape (out, ...)
        Real, finite weights with at least one dimension.
    dim : int or None, default=0
        Axis kept by the norm, so that each index along it gets its own ``g``. Negative
        values count from the end as in NumPy: ``dim=-1`` is the last axis. None: one
        ``g``, the Frobenius norm of the whole array.

        Unlike this function, torch's ``weight_norm`` treats ``dim=-1`` as ``dim=None``
        (it uses -1 internally to mean "no dim"); its other negative dims count from
        the end. To reproduce torch's ``dim=-1``, pass ``dim=None``.

    Returns
    -------
    g : ndarray
        The norms. For ``dim=0`` and ``W`` of shape ``(out, in, kh, kw)``, shape
        ``(out, 1, 1, 1)``; in general ``W``'s shape with every axis but ``dim`` set
        to 1. For ``dim=None``, a 0-d array (torch's shape ``()``).
    v : ndarray
        A copy of ``W``.

    Both keep float32/float64 dtype (other input gives float64); norms are computed in
    float64.

    See Also
    --------
    weight_from_norm : The inverse map ``(g, v) -> W``.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale.weights import weight_norm
    >>> W = np.array([[3.0, 4.0], [6.0, 8.0]])
    >>> g, v = weight_norm(W)
    >>> print(g)
    [[ 5.]
     [10.]]
    >>> print(np.round(weight_norm(W, dim=1)[0], 4))
    [[6.7082 8.9443]]
    >>> print(np.round(weight_norm(W, dim=None)[0], 4))
    11.1803
    """
    W64, out_dtype = _as_float64(W, "W")
    if W64.ndim < 1:
        raise ValueError("W must have at least 1 dimension.")
    g = _l2(W64, _norm_axes(W64.ndim, dim))
    if dim is None:
        g = g.reshape(())
    return g.astype(out_dtype, copy=False), W64.astype(out_dtype)


@_tensors_back
def weight_from_norm(g, v, dim=0):
    r"""Weight from its weight-normalization parameters: ``w = g * v / ||v||``.

    The norm :math:`\|v\|_2` is taken over every axis except ``dim``; this is the
    forward pass of ``torch.nn.utils.parametrizations.weight_norm``
    (``torch._weight_norm(v, g, dim)``). Inverse of :func:`weight_norm`.

    Parameters
    ----------
    g : array_like
        Real, finite magnitudes with the shape :func:`weight_norm` returns: ``v``'s
        shape with every axis but ``dim`` set to 1, or shape ``()`` for ``dim=None``.
        Negative values are allowed and flip the unit's direction.
    v : array_like of shape (out, ...)
        Real, finite directions with at least one dimension.
    dim : int or None, default=0
        As in :func:`weight_norm` (NumPy convention: ``dim=-1`` is the last axis).

    Returns
    -------
    w : ndarray
        Weights of ``v``'s shape; float32 if both inputs are float32, else float64.

    Notes
    -----
    A unit whose ``v`` is all zero has no direction. torch returns NaN for it, even
    when ``g`` is 0 as :func:`weight_norm` sets it for a zero unit; here it gives
    zeros, so a zero unit survives ``weight_from_norm(*weight_norm(W))``. Its
    ``||w|| = |g|`` then fails when ``g`` is nonzero.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale.weights import weight_from_norm
    >>> v = np.array([[3.0, 4.0], [0.0, 2.0]])
    >>> print(weight_from_norm(np.array([[10.0], [3.0]]), v))
    [[6. 8.]
     [0. 3.]]
    >>> print(weight_from_norm(np.array([[1.0], [1.0]]), np.zeros((2, 2))))
    [[0. 0.]
     [0. 0.]]
    """
    v64, v_dtype = _as_float64(v, "v")
    g64, g_dtype = _as_float64(g, "g")
    if v64.ndim < 1:
        raise ValueError("v must have at least 1 dimension.")
    axes = _norm_axes(v64.ndim, dim)
    expected = tuple(1 if i in axes else s for i, s in enumerate(v64.shape))
    if dim is None:
        expected = ()
    if g64.shape != expected:
        raise ValueError(f"g must have shape {expected} for v of shape {v64.shape} "
                         f"and dim={dim}, got {g64.shape}.")
    norm = _l2(v64, axes)
    unit = np.divide(v64, norm, out=np.zeros_like(v64), where=norm > 0)
    return (g64 * unit).astype(np.result_type(g_dtype, v_dtype), copy=False)


@_tensors_back
def fold_batch_norm(weight, bias, batch_norm, *, axis=0):
    r"""Fold a batch normalization into the weights of the layer before it.

    A linear or convolution layer ``z = W x + b`` followed by a batch
    normalization in evaluation mode, ``y = (z - mean) / sqrt(var + eps) *
    gamma + beta`` per output unit, is one layer of weights ``W' = W * s`` and
    bias ``b' = (b - mean) * s + beta``, with ``s = gamma / sqrt(var + eps)``
    per unit: the same output, one layer fewer at inference.  The folding is
    computed in float64.

    Parameters
    ----------
    weight : array_like of shape (out, ...)
        The layer's weights, the output units along ``axis``: ``(out, in)``
        for ``torch.nn.Linear``, ``(out, in, kh, kw)`` for ``Conv2d``.
    bias : array_like of shape (out,) or None
        The layer's bias (None: none, i.e. zeros).
    batch_norm : BatchNormScaler or torch.nn.BatchNorm1d, 2d, 3d
        A fitted :class:`~skscale.BatchNormScaler` (frozen or not), or a
        trained torch batch normalization with running statistics, with one
        feature per output unit.
    axis : int, default=0
        The axis of ``weight`` that indexes the output units (1 for a
        ``ConvTranspose``).

    Returns
    -------
    weight, bias : ndarray
        The folded weights (``weight``'s shape) and bias (``(out,)``), in
        ``weight``'s dtype for float32 and float64, else float64; tensors for
        tensors, on their device.

    See Also
    --------
    fold_batch_norm_into : The same, for torch layers: a new layer.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import BatchNormScaler
    >>> from skscale.weights import fold_batch_norm
    >>> W, b = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([0.5, -1.0])
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0], [1.0, 1.0]])
    >>> bn = BatchNormScaler().fit(X @ W.T + b)
    >>> W2, b2 = fold_batch_norm(W, b, bn)
    >>> bool(np.allclose(X @ W2.T + b2, bn.transform(X @ W.T + b)))
    True
    """
    W64, out_dtype = _as_float64(weight, "weight")
    axis = _axis(axis, W64.ndim, "axis")
    mean, var, eps, gamma, beta = _batch_norm_values(batch_norm)
    n = W64.shape[axis]
    if mean.shape != (n,):
        raise ValueError(f"The batch normalization has {mean.shape[0]} features; the weights"
                         f" have {n} output units along axis {axis}.")
    b64 = np.zeros(n) if bias is None else _as_float64(bias, "bias")[0]
    if b64.shape != (n,):
        raise ValueError(f"bias must hold one value per output unit ({n}); got shape"
                         f" {b64.shape}.")
    s = gamma / np.sqrt(var + eps)
    shape = [1] * W64.ndim
    shape[axis] = n
    return ((W64 * s.reshape(shape)).astype(out_dtype, copy=False),
            ((b64 - mean) * s + beta).astype(out_dtype, copy=False))


def fold_batch_norm_into(layer, batch_norm):
    """A copy of the torch ``layer`` with ``batch_norm`` folded into it.

    ``fold_batch_norm_into(conv, bn)(x)`` is ``bn(conv(x))`` with ``bn`` in
    evaluation mode (see :func:`fold_batch_norm`), computed in float64 and
    stored in the layer's dtype, on its device.

    Parameters
    ----------
    layer : torch.nn.Linear, Conv1d, Conv2d, Conv3d or ConvTranspose1d, 2d, 3d
        The layer the batch normalization follows; a bias is added where it
        has none.
    batch_norm : BatchNormScaler or torch.nn.BatchNorm1d, 2d, 3d
        As in :func:`fold_batch_norm`.

    Returns
    -------
    layer : torch.nn.Module
        A new layer (``layer`` is left as it was).

    Examples
    --------
    >>> import torch
    >>> from skscale.weights import fold_batch_norm_into
    >>> _ = torch.manual_seed(0)
    >>> conv = torch.nn.Conv2d(3, 4, 3, dtype=torch.float64)
    >>> bn = torch.nn.BatchNorm2d(4, dtype=torch.float64)
    >>> x = torch.randn(8, 3, 6, 6, dtype=torch.float64)
    >>> _ = bn(conv(x)).detach(); _ = bn.eval()
    >>> fused = fold_batch_norm_into(conv, bn)
    >>> bool(torch.allclose(fused(x), bn(conv(x)), rtol=1e-12, atol=1e-12))
    True
    """
    import copy

    import torch

    transposed = isinstance(layer, torch.nn.modules.conv._ConvTransposeNd)
    if not isinstance(layer, (torch.nn.Linear, torch.nn.modules.conv._ConvNd)):
        raise TypeError(f"fold_batch_norm_into folds into a torch.nn.Linear or a convolution;"
                        f" got {layer!r}. fold_batch_norm folds into weight arrays.")
    if transposed and layer.groups > 1:
        raise ValueError(
            f"fold_batch_norm_into does not fold into a grouped transposed convolution"
            f" ({layer!r}): its weight holds each group's output channels along axis 1 for"
            " that group's input channels only. Fold into an ungrouped layer, or apply the"
            " batch normalization after it.")
    weight = layer.weight.detach()
    bias = None if layer.bias is None else layer.bias.detach()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a batch norm's parameters require grad)
        W, b = fold_batch_norm(weight, bias, batch_norm, axis=1 if transposed else 0)
    fused = copy.deepcopy(layer)
    with torch.no_grad():
        fused.weight.copy_(W)
        if fused.bias is None:
            fused.bias = torch.nn.Parameter(b.to(weight.dtype))
        else:
            fused.bias.copy_(b)
    return fused


def _batch_norm_values(batch_norm):
    """``(mean, var, eps, gamma, beta)`` in float64 of a fitted
    :class:`~skscale.BatchNormScaler` (frozen or not) or of a torch batch
    normalization with running statistics: its evaluation-mode map."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.utils.validation import check_is_fitted

    from . import _torch
    from ._batch_norm import BatchNormScaler

    if isinstance(batch_norm, FrozenEstimator):
        batch_norm = batch_norm.estimator
    if isinstance(batch_norm, BatchNormScaler):
        check_is_fitted(batch_norm, "running_mean_")
        with _array_api.fitted_on_host(batch_norm, None):
            gamma, beta = batch_norm._gamma_beta(batch_norm.n_features_in_)
            return (np.asarray(batch_norm.running_mean_, dtype=np.float64),
                    np.asarray(batch_norm.running_var_, dtype=np.float64),
                    float(batch_norm.eps), np.array(gamma), np.array(beta))
    return _torch.batch_norm_layer_values(batch_norm)
