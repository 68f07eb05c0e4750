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

Weights follow the PyTorch layout: the output unit is axis 0, e.g. ``(out, in)`` for a
linear layer and ``(out, in, kh, kw)`` for a 2-D convolution. All statistics are computed
in float64; float32 and float64 input keep their dtype, other real input gives float64.

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

import math
import numbers

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

__all__ = ["standardize_weights", "weight_norm", "weight_from_norm"]


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
