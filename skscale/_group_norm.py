"""Layer, instance and group normalization of each sample.

The three are one computation.  A sample's ``n_features = C * L`` features
are ``C`` channels of ``L`` positions, channel-major (C order, as
``X.reshape(n_samples, C, L)`` reads them).  The channels fall into ``G``
groups of ``C / G`` contiguous channels; every (sample, group) is
standardized by its own mean and biased standard deviation, and then each
channel gets its own affine map ``gamma``, ``beta``.  Layer normalization is
``G = 1`` with every feature a channel, instance normalization is ``G = C``,
group normalization is any ``G`` dividing ``C``.

:class:`_GroupStatsScaler` is that computation, on the shared per-sample
kernel :func:`~skscale._kernels.grouped`; the public classes only say how
many groups and channels there are.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn import config_context
from sklearn.utils._param_validation import Interval

from . import _array_api, _blocks, _compiled, _device, _torch
from ._blocks import block_bounds, scratch
from ._base import normalized_shape
from ._kernels import group_inverse, grouped, redo_rows, rescaling
from ._rows import RowScaler

#: Groups of at least this many values are summed along each group by
#: einsum (vectorized); shorter ones column after column, each operation
#: across all groups at once (numpy's loops along a group of 5 cost more than
#: their work).  Either way a group's sums run in an order set by its length
#: alone, so a row's statistics -- and its output -- do not depend on the
#: rows around it.  (A BLAS product with a vector of ones, up to twice as fast
#: on groups of 10 to 50, sums in an order that depends on the number of rows
#: and on the alignment of the block.)
SUM_ALONG = 10


def _group_sums(a):
    """Sum of each group of ``a``, of shape ``(rows, n_groups, size)``."""
    if a.shape[-1] >= SUM_ALONG:
        return np.einsum("ijk->ij", a)
    total = a[..., 0].copy()
    for j in range(1, a.shape[-1]):
        total += a[..., j]
    return total


def _group_moments(x):
    """Mean and biased variance per (row, group) of a float64 block view
    ``x`` of shape ``(rows, n_groups, group_size)``, NaN ignored.

    Corrected two-pass (Chan, Golub & LeVeque 1983): with ``mu0`` the plain
    mean and ``d = x - mu0``, ``mean = mu0 + mean(d)`` and
    ``var = mean(d**2) - mean(d)**2``.  Unlike one-pass ``E[x**2] - E[x]**2``
    it keeps full accuracy far from zero (mean 1e8, std 1), and it is exact on
    a constant group: there ``d`` is the same few-bit multiple of an ulp
    everywhere, so every sum of ``d`` and ``d**2`` is exact, ``mean`` is the
    constant and ``var`` is 0 -- which makes the output exactly ``beta``.
    Values near the float64 limit overflow a sum or a square, and tiny ones
    underflow their squares: :meth:`_GroupStatsScaler._stats` computes those
    groups again, rescaled.
    """
    size = x.shape[-1]
    # Overflow and an all-NaN group's 0/0 set floating-point flags; the
    # callers handle both, so keep numpy quiet.  (The arithmetic is in place
    # where it can be: fresh temporaries of a block's size come from the
    # kernel as new pages, which cost more than the work on them.)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        n, nan = size, None
        mean = _group_sums(x)
        if np.isnan(mean).any():
            # The same sums with NaN as 0: a row without NaN gets the bits of
            # a block without NaN.
            nan = np.isnan(x)
            n = size - nan.sum(axis=-1)  # 0 for an all-NaN group: NaN stats, NaN output
            mean = _group_sums(np.where(nan, 0.0, x))
        mean /= n  # the plain mean, mu0
        if size >= SUM_ALONG:
            d = np.subtract(x, mean[..., None], out=scratch(x.shape, slot=3))
            if nan is not None:
                d[nan] = 0.0
            d_mean, var = np.einsum("ijk->ij", d), np.einsum("ijk,ijk->ij", d, d)
        else:
            d_mean, var = np.zeros(mean.shape), np.zeros(mean.shape)
            d, d2 = scratch(mean.shape, slot=3), scratch(mean.shape, slot=4)
            for j in range(size):
                np.subtract(x[..., j], mean, out=d)
                if nan is not None:
                    d[nan[..., j]] = 0.0
                d_mean += d
                var += np.multiply(d, d, out=d2)
        d_mean /= n
        var /= n
        var -= np.multiply(d_mean, d_mean, out=scratch(mean.shape, slot=4))
        mean += d_mean
        return mean, var


class _GroupStatsScaler(RowScaler):
    """Group statistics per sample, then a per-channel affine map.

    Subclasses say how their parameters lay out ``n_features``:
    ``_groups_and_channels(n_features) -> (n_groups, n_channels)``.
    Everything else -- validation, statistics, the map and its inverse --
    lives here.
    """

    _channel_word = "channel"  # how error messages name what gamma/beta index
    #: Whether each group is centered on its mean (False: root mean square).
    _centered = True

    def _groups_and_channels(self, n_features, channels):  # pragma: no cover - abstract
        raise NotImplementedError

    def _channel_count(self, channels):
        """``n_channels``, or the ``channels`` of N-D input where it is None;
        a parameter that differs from them is refused."""
        if channels is not None and self.n_channels not in (None, channels):
            raise ValueError(
                f"{type(self).__name__}: n_channels={self.n_channels}, but X has {channels}"
                f" channels on its axis {self.channel_axis} (channel_axis).")
        return self.n_channels if channels is None else channels

    def _check_layout(self, channels):
        if channels != self.n_channels_:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self.n_channels_} channels; X has"
                f" {channels} on its axis {self.channel_axis} (channel_axis).")

    def _stats_names(self):
        groups = range(self.n_groups_)
        return [f"mean_{g}" for g in groups] + [f"std_{g}" for g in groups]

    def _eps(self, dtype):
        """The ``eps`` of the arithmetic for input of ``dtype``."""
        return self.eps

    def _moments(self, x):
        """Center and mean square about it, per (row, group) of ``x``."""
        return _group_moments(x)

    def _layout(self, n_features, channels=None):
        """``(n_groups, n_channels, gamma, beta)`` for rows of ``n_features``
        features (N-D input: of ``channels`` channels), checked; ``gamma``
        and ``beta`` as :meth:`_per_feature` gives them."""
        name = type(self).__name__
        n_groups, n_channels = self._groups_and_channels(n_features, channels)
        if n_features % n_channels:
            raise ValueError(
                f"{name}: n_features={n_features} is not a multiple of"
                f" n_channels={n_channels}; the features must be n_channels"
                " channel-major blocks of equal length, as X.reshape(n_samples,"
                " n_channels, -1) reads them.")
        if n_channels % n_groups:
            raise ValueError(
                f"{name}: num_groups={n_groups} does not divide the number of"
                f" channels C={n_channels} (torch: 'num_channels must be divisible"
                " by num_groups').")
        positions = n_features // n_channels
        shape = (n_groups, n_features // n_groups)  # the kernel's view of a row
        return (n_groups, n_channels,
                self._per_feature("scale", self.scale, n_channels, positions, shape, 1.0),
                self._per_feature("shift", getattr(self, "shift", 0.0), n_channels, positions,
                                  shape, 0.0))

    @property
    def n_groups_(self):
        """Number of groups G each sample is split into (set by fit)."""
        return self._fit_layout[0]

    @property
    def n_channels_(self):
        """Number of channels C (set by fit)."""
        return self._fit_layout[1]

    def _per_feature(self, param, value, n_channels, positions, shape, neutral):
        """``scale``/``shift`` as the kernel applies them: None when it is the
        neutral value (nothing to do), a float when scalar, else one value per
        channel repeated over its positions, shaped like a row's group view."""
        value = np.asarray(_array_api.host_value(value), dtype=np.float64)
        if value.ndim == 0:
            if not np.isfinite(value):
                raise ValueError(f"{param} must be finite; got {value}.")
            return None if value == neutral else float(value)
        if value.shape != (n_channels,):
            raise ValueError(
                f"{type(self).__name__}: {param} must be a number or hold one value"
                f" per {self._channel_word} ({n_channels}); got shape {value.shape}.")
        if not np.isfinite(value).all():
            bad = np.flatnonzero(~np.isfinite(value))
            raise ValueError(f"{param} must be finite; {self._channel_word}s {bad.tolist()}"
                             f" hold {value[bad].tolist()}.")
        return np.repeat(value, positions).reshape(shape)

    def _stats(self, x, eps):
        """``(mean, std, k)`` per (row, group): the mean and divisor of the
        group's values times ``2**k``, with ``k = 0`` unless the divisor of
        the values themselves is tiny or overflows (see
        :func:`~skscale._kernels.rescaling`)."""
        mean, std = self._moments(x)
        # The corrected variance can round a hair below 0 (never for a constant group).
        np.maximum(std, 0.0, out=std)
        std += eps
        np.sqrt(std, out=std)
        k = np.zeros(std.shape, dtype=np.int32)
        redo, k_redo = rescaling(x, std, floor=np.sqrt(eps))
        if k_redo.size:
            m, v = self._moments(np.ldexp(x[redo], k_redo[:, None])[:, None])
            m, v = m[:, 0], v[:, 0]
            sd = np.sqrt(np.maximum(v, 0.0) + np.ldexp(eps, 2 * k_redo))
            # A constant group (var exactly 0) is taken as it is: its mean is
            # the constant, its divisor sqrt(eps).
            flat = v == 0
            mean[redo] = np.where(flat, np.ldexp(m, -k_redo), m)
            std[redo] = np.where(flat, np.sqrt(eps), sd)
            k[redo] = np.where(flat, 0, k_redo)
        std[std == 0] = 1.0  # eps = 0 and a constant group: 1 instead of 0/0, so it maps to beta
        return mean, std, k

    def _compute(self, X, out, keep_stats=True):
        n_groups, _, gamma, beta = self._fit_layout
        eps = self._eps(X.dtype)
        # keep_stats=None: not kept, and the numpy kernel only (the compiled
        # loop's leftover rows); root mean squares have no compiled loop
        if out is not None and keep_stats is False and self._centered and _compiled.wanted(X):
            def per_feature(value, neutral):  # None, a float, or (groups, size)
                value = neutral if value is None else value
                return np.ascontiguousarray(
                    np.broadcast_to(np.ravel(value), (X.shape[1],)), dtype=np.float64)

            n_threads = _blocks.n_threads()
            # It leaves rows with an unusual group (a tiny one among them) to numpy.
            left = _compiled.group_norm_loop(X, out, block_bounds(*X.shape),
                                        n_groups, eps, per_feature(gamma, 1.0),
                                        per_feature(beta, 0.0), n_threads)
            if left.size:
                redo_rows(X, out, left, lambda x, y: self._compute(x, y, keep_stats=None),
                          self._feature_names())
            return out, None

        def apply(x, stats, y):
            mean, std, k = stats
            # Groups whose statistics are those of x * 2**k, read before y
            # (x itself, in place) is written.
            scaled = k != 0
            x_scaled = np.ldexp(x[scaled], k[scaled][:, None]) if scaled.any() else None
            np.subtract(x, mean[..., None], out=y)
            if x_scaled is not None:
                y[scaled] = x_scaled - mean[scaled][:, None]
            np.divide(y, std[..., None], out=y)
            if gamma is not None:
                np.multiply(y, gamma, out=y)
            if beta is not None:
                np.add(y, beta, out=y)

        out, stats = grouped(X, out, n_groups, lambda x: self._stats(x, eps), apply,
                             keep_stats=keep_stats, feature_names=self._feature_names())
        if stats is not None:  # in the units of X
            mean, std, k = stats
            stats = np.ldexp(mean, -k), np.ldexp(std, -k)
        return out, stats

    def _device_compute(self, X, ns, host=True):
        """``(Y, (mean, std))`` of the device array ``X`` (rows the device
        kernel leaves go through :meth:`_compute` on the host; none without
        ``host``)."""
        n_groups, _, gamma, beta = self._fit_layout
        return _device.group_norm_on_device(
            X, ns, n_groups, self._eps(X.dtype), gamma, beta,
            (lambda x: self._compute(x, np.empty_like(x))) if host else None,
            centered=self._centered)

    def _device_invert(self, X, sample_stats, ns):
        n_groups, _, gamma, beta = self._fit_layout
        mean, std = sample_stats
        want = (X.shape[0], n_groups)
        if tuple(mean.shape) != want or tuple(std.shape) != want:
            raise ValueError(f"sample_stats must be the (mean, std) pair that sample_stats(X)"
                             f" returned, each of shape {want}.")
        if gamma is not None and np.any(gamma == 0):  # the numpy path names the channels
            with config_context(array_api_dispatch=False):
                self._invert(_array_api.to_numpy(X), (_array_api.to_numpy(mean),
                                                      _array_api.to_numpy(std)))
        return _device.row_inverse_on_device(X, ns, n_groups, std, mean, gamma, beta)

    def _invert(self, X, sample_stats):
        n_rows = X.shape[0]
        n_groups, n_channels, gamma, beta = self._fit_layout
        want = f"the (mean, std) pair that sample_stats(X) returned, each of shape ({n_rows}, {n_groups})"
        try:
            mean, std = (np.asarray(s, dtype=np.float64) for s in sample_stats)
        except (TypeError, ValueError):
            raise ValueError(f"sample_stats must be {want}.") from None
        if mean.shape != (n_rows, n_groups) or std.shape != (n_rows, n_groups):
            raise ValueError(f"sample_stats must be {want}; got shapes {mean.shape}"
                             f" and {std.shape}.")
        if gamma is not None and np.any(gamma == 0):
            per_channel = np.resize(gamma, X.shape[1]).reshape(n_channels, -1)[:, 0]
            raise ValueError(
                f"scale is 0 for {self._channel_word}s {np.flatnonzero(per_channel == 0).tolist()}:"
                " their outputs are all equal to shift whatever the input, so they"
                " cannot be inverted.")
        return group_inverse(X, std, mean, gamma, beta, self._feature_names())


_AFFINE_CONSTRAINTS = {
    "eps": [Interval(Real, 0, None, closed="left")],
    "scale": [Real, "array-like"],
    "shift": [Real, "array-like"],
}

_SAMPLE_STATS_DOC = """
    Nothing is learned: like scikit-learn's ``Normalizer``, this scaler is
    stateless, and ``transform`` works without ``fit`` (which only records
    and checks the number and names of features).

    Per-sample scaling cannot be undone from its output alone:
    :meth:`sample_stats` returns ``(mean, std)``, each of shape
    ``(n_samples, n_groups_)``, with ``std = sqrt(var + eps)`` the divisor
    actually used, and ``inverse_transform(X_new, sample_stats=(mean, std))``
    computes ``x = (y - beta) / gamma * std + mean``.  A ``gamma`` of 0 (as
    pruned networks have) maps its {what} exactly to ``beta``, as in torch;
    ``inverse_transform`` refuses it, naming the {what}s, since their input
    cannot be recovered; it raises too, naming the row and column, for a
    result beyond the range of the output type.

    NaN values are ignored in the statistics and pass through.  A constant
    group maps exactly to ``beta``; with ``eps=0`` its divisor is taken as 1
    (not 0/0), so it still maps to ``beta`` and ``sample_stats`` reports
    ``std = 1`` there.  This is where ``eps=0`` departs from torch, which
    returns NaN.  A group whose ``std`` is below ``2**-450`` (values near
    1e-150 and smaller, subnormal ones included, with a tiny ``eps``), or
    whose sums or squares overflow (values near 1e154 and larger, up to the
    float64 limit), is computed on its values times a power of 2, exactly:
    its output is as accurate as at any other scale.  Float32 input gives
    float32 output, the rounding of the float64 computation; other input
    gives float64.
"""

_AFFINE_PARAMS_DOC = """eps : float, default=1e-5
        Added to the variance inside the square root.
    scale : float or array-like of shape ({n}), default=1.0
        ``gamma``, the weight of the torch layer: one number, or one per
        {what}.  0 is allowed (see above).
    shift : float or array-like of shape ({n}), default=0.0
        ``beta``, the bias of the torch layer: one number, or one per {what}."""

_CHANNEL_AXIS_DOC = """channel_axis : int, default=1
        The axis of N-D input that holds the channels (torch's layout: 1;
        channels-last images: -1).  2-D input is ``(n_samples, n_features)``
        whatever its value."""

_NORMALIZED_SHAPE_DOC = """normalized_shape : int, tuple of int or None, default=None
        The trailing axes of N-D input that each normalization runs over, as
        torch's ``normalized_shape``: ``E`` normalizes each token of
        ``(N, T, E)`` embeddings; ``(C, L)`` each sample of ``(N, C, L)``.
        None: all axes but the first (each sample).  2-D input is
        ``(n_samples, n_features)`` with ``n_features`` the product of
        ``normalized_shape`` (its axes flattened) where it is given."""

_ND_DOC = """
    N-D input is taken as torch takes it, and keeps its shape: {how}
"""

_ATTRIBUTES_DOC = """n_groups_ : int
        Number of groups G each sample is split into.
    n_channels_ : int
        Number of channels C.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names."""


class GroupNormScaler(_GroupStatsScaler):
    """Group normalization of each sample, as ``torch.nn.GroupNorm``.

    The ``n_features = C * L`` features of a sample are ``C`` channels of
    ``L`` positions, channel-major (``X.reshape(n_samples, C, L)``).  Group
    ``g`` is channels ``[g*C/G, (g+1)*C/G)`` with all their positions; each
    (sample, group) is standardized by its own mean and biased variance::

        y = (x - mean_g) / sqrt(var_g + eps) * gamma_c + beta_c

    This equals ``torch.nn.GroupNorm(num_groups, C, eps)`` applied to
    ``X.reshape(n_samples, C, L)`` with ``weight=scale`` and ``bias=shift``.
    ``num_groups=1`` is layer normalization over the whole sample
    (:class:`LayerNormScaler` with per-channel ``gamma``); ``num_groups=C`` is
    instance normalization (:class:`InstanceNormScaler`).
    {nd}{sample_stats}
    Parameters
    ----------
    num_groups : int, default=1
        Number of groups G; it must divide the number of channels.  torch has
        no default; 1 (layer normalization) makes ``GroupNormScaler()`` a valid
        estimator, as scikit-learn requires.
    n_channels : int, default=None
        Number of channels C; ``n_features`` must be a multiple of it.  None
        makes every feature a channel (``L = 1``), or, for N-D input, takes
        the channels of its ``channel_axis``.
    {params}
    {channel_axis}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    torch.nn.GroupNorm : the PyTorch layer this reproduces.
    LayerNormScaler : one group.
    InstanceNormScaler : one group per channel.

    Examples
    --------
    Two samples of C = 4 channels with L = 2 positions each, in G = 2 groups:

    >>> import numpy as np
    >>> from skscale import GroupNormScaler
    >>> X = np.array([[0., 1., 2., 3., 10., 10., 10., 10.],
    ...               [1., 1., 1., 1., 1., 1., 5., 5.]])
    >>> scaler = GroupNormScaler(2, n_channels=4, eps=0.0, shift=[0, 0, 0, 100]).fit(X)
    >>> scaler.transform(X)
    array([[ -1.34164079,  -0.4472136 ,   0.4472136 ,   1.34164079,
              0.        ,   0.        , 100.        , 100.        ],
           [  0.        ,   0.        ,   0.        ,   0.        ,
             -1.        ,  -1.        , 101.        , 101.        ]])
    >>> mean, std = scaler.sample_stats(X)
    >>> mean
    array([[ 1.5, 10. ],
           [ 1. ,  3. ]])
    >>> std
    array([[1.11803399, 1.        ],
           [1.        , 2.        ]])
    >>> scaler.inverse_transform(scaler.transform(X), sample_stats=(mean, std))
    array([[ 0.,  1.,  2.,  3., 10., 10., 10., 10.],
           [ 1.,  1.,  1.,  1.,  1.,  1.,  5.,  5.]])
    """

    _parameter_constraints = {
        "num_groups": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left"), None],
        **_AFFINE_CONSTRAINTS,
        "channel_axis": [Integral],
    }

    _nd_layout = "per_sample"

    def __init__(self, num_groups=1, *, n_channels=None, eps=1e-5, scale=1.0, shift=0.0,
                 channel_axis=1):
        self.num_groups = num_groups
        self.n_channels = n_channels
        self.eps = eps
        self.scale = scale
        self.shift = shift
        self.channel_axis = channel_axis

    @classmethod
    def from_torch(cls, module):
        """The scaler of a trained ``torch.nn.GroupNorm``: its groups,
        channels, ``eps``, and weight and bias as ``scale`` and ``shift``.
        It takes the layer's input, ``(N, C, ...)``, or its rows flattened
        channel-major, ``X.reshape(N, -1)``.  Any other module is refused,
        naming the estimator that represents it.

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import GroupNormScaler
        >>> layer = torch.nn.GroupNorm(2, 4, dtype=torch.float64)
        >>> X = np.random.default_rng(0).normal(size=(3, 4, 5))          # (N, C, L)
        >>> want = layer(torch.from_numpy(X)).detach().numpy()
        >>> bool(np.allclose(GroupNormScaler.from_torch(layer).transform(X), want))
        True
        """
        return _torch.group_norm_from_torch(cls, module)

    def to_torch(self, module=None):
        """A new module of :meth:`transform` (None), or ``eps``, ``scale`` and
        ``shift`` written into a ``torch.nn.GroupNorm`` of the same groups
        and channels (returned)."""
        return super().to_torch() if module is None else \
            _torch.per_sample_to_torch(self, module, "group_norm")

    def _groups_and_channels(self, n_features, channels):
        n_channels = self._channel_count(channels)
        return self.num_groups, n_features if n_channels is None else n_channels


class LayerNormScaler(_GroupStatsScaler):
    """Layer normalization of each sample, as ``torch.nn.LayerNorm``.

    Each sample is standardized by the mean and biased variance of all its
    features::

        y = (x - mean) / sqrt(var + eps) * gamma_j + beta_j

    This equals ``torch.nn.LayerNorm(n_features, eps)`` with
    ``weight=scale`` and ``bias=shift``.  It is group normalization with one
    group and every feature its own channel.
    {nd}{sample_stats}
    Parameters
    ----------
    {normalized_shape}
    {params}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    torch.nn.LayerNorm : the PyTorch layer this reproduces.
    GroupNormScaler : the general case.

    Examples
    --------
    >>> from skscale import LayerNormScaler
    >>> X = [[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]]
    >>> scaler = LayerNormScaler(eps=0.0, shift=[0.0, 0.0, 10.0]).fit(X)
    >>> scaler.transform(X)
    array([[-1.22474487,  0.        , 11.22474487],
           [ 0.        ,  0.        , 10.        ]])
    >>> mean, std = scaler.sample_stats(X)
    >>> mean.ravel(), std.ravel()
    (array([2., 4.]), array([0.81649658, 1.        ]))
    >>> scaler.inverse_transform(scaler.transform(X), sample_stats=(mean, std))
    array([[1., 2., 3.],
           [4., 4., 4.]])
    """

    _parameter_constraints = {
        "normalized_shape": [None, Interval(Integral, 1, None, closed="left"), tuple, list],
        **_AFFINE_CONSTRAINTS,
    }
    _channel_word = "feature"
    _nd_layout = "trailing"

    def __init__(self, normalized_shape=None, *, eps=1e-5, scale=1.0, shift=0.0):
        self.normalized_shape = normalized_shape
        self.eps = eps
        self.scale = scale
        self.shift = shift

    @classmethod
    def from_torch(cls, module):
        """The scaler of a trained ``torch.nn.LayerNorm``: its
        ``normalized_shape``, its ``eps``, and its weight and bias
        (flattened) as ``scale`` and ``shift``.  It takes the layer's input
        (a transformer's ``LayerNorm(E)`` on ``(N, T, E)`` tokens normalizes
        each token), or 2-D rows of the ``normalized_shape`` flattened.  Any
        other module (an ``RMSNorm``, a ``GroupNorm``, a ``BatchNorm1d``) is
        refused, naming the estimator that represents it.

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import LayerNormScaler
        >>> layer = torch.nn.LayerNorm(4, dtype=torch.float64)
        >>> tokens = np.random.default_rng(0).normal(size=(2, 3, 4))     # (N, T, E)
        >>> want = layer(torch.from_numpy(tokens)).detach().numpy()
        >>> scaler = LayerNormScaler.from_torch(layer)
        >>> scaler
        LayerNormScaler(normalized_shape=(4,), scale=array([1., 1., 1., 1.]),
                        shift=array([0., 0., 0., 0.]))
        >>> bool(np.allclose(scaler.transform(tokens), want))
        True
        """
        return _torch.layer_norm_from_torch(cls, module)

    def to_torch(self, module=None):
        """A new module of :meth:`transform` (None), or ``eps``, ``scale`` and
        ``shift`` written into a ``torch.nn.LayerNorm`` of the same
        ``normalized_shape`` (returned)."""
        return super().to_torch() if module is None else \
            _torch.per_sample_to_torch(self, module, "layer_norm")

    def _groups_and_channels(self, n_features, channels):
        check_normalized_size(self, n_features)
        return 1, n_features  # one group; gamma and beta per feature


class InstanceNormScaler(_GroupStatsScaler):
    """Instance normalization of each sample, as ``torch.nn.InstanceNorm1d``.

    The ``n_features = C * L`` features of a sample are ``C`` channels of
    ``L > 1`` positions, channel-major (``X.reshape(n_samples, C, L)``; a
    flattened ``(C, H, W)`` image is ``L = H * W``).  Each (sample, channel)
    is standardized by its own mean and biased variance::

        y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c

    This equals ``torch.nn.InstanceNorm1d(C, eps, affine=True)`` (or
    ``InstanceNorm2d`` on the unflattened image) with ``weight=scale``,
    ``bias=shift``; the defaults ``scale=1``, ``shift=0`` are torch's
    ``affine=False``.  It is group normalization with one group per channel.
    {nd}{sample_stats}
    Parameters
    ----------
    n_channels : int, default=None
        Number of channels C; ``n_features`` must be a multiple of it, with
        more than one position per channel (torch: "Expected more than 1
        spatial element").  None takes the channels of N-D input's
        ``channel_axis``, and 1 for 2-D input (then this is layer
        normalization of the whole sample): torch has no default, and
        ``InstanceNormScaler()`` must be a valid estimator, as scikit-learn
        requires.
    {params}
    {channel_axis}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    torch.nn.InstanceNorm1d : the PyTorch layer this reproduces.
    GroupNormScaler : the general case.

    Examples
    --------
    Two samples of C = 2 channels with L = 3 positions each:

    >>> from skscale import InstanceNormScaler
    >>> X = [[1.0, 2.0, 3.0, 5.0, 5.0, 5.0],
    ...      [0.0, 0.0, 3.0, -1.0, 0.0, 1.0]]
    >>> scaler = InstanceNormScaler(2, eps=0.0, scale=[1.0, 2.0]).fit(X)
    >>> scaler.transform(X)
    array([[-1.22474487,  0.        ,  1.22474487,  0.        ,  0.        ,  0.        ],
           [-0.70710678, -0.70710678,  1.41421356, -2.44948974,  0.        ,  2.44948974]])
    >>> mean, std = scaler.sample_stats(X)
    >>> mean
    array([[2., 5.],
           [1., 0.]])
    """

    _parameter_constraints = {
        "n_channels": [Interval(Integral, 1, None, closed="left"), None],
        **_AFFINE_CONSTRAINTS,
        "channel_axis": [Integral],
    }

    _nd_layout = "per_sample"

    def __init__(self, n_channels=None, *, eps=1e-5, scale=1.0, shift=0.0, channel_axis=1):
        self.n_channels = n_channels
        self.eps = eps
        self.scale = scale
        self.shift = shift
        self.channel_axis = channel_axis

    @classmethod
    def from_torch(cls, module):
        """The scaler of a ``torch.nn.InstanceNorm1d`` (``2d``, ``3d``): its
        channels, ``eps``, and weight and bias (where ``affine=True``) as
        ``scale`` and ``shift``.  It takes the layer's input, ``(N, C, L)`` or
        ``(N, C, H, W)``.

        A layer with running statistics (``track_running_stats=True``) in
        evaluation mode normalizes each channel by those instead of each
        sample by its own: it is refused here, and
        :meth:`BatchNormScaler.from_torch` represents that map (in training
        mode, the layer's output is this scaler's).  Any other module is
        refused, naming the estimator that represents it.

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import InstanceNormScaler
        >>> layer = torch.nn.InstanceNorm2d(3, affine=True, dtype=torch.float64)
        >>> images = np.random.default_rng(0).normal(size=(2, 3, 4, 4))  # (N, C, H, W)
        >>> want = layer(torch.from_numpy(images)).detach().numpy()
        >>> bool(np.allclose(InstanceNormScaler.from_torch(layer).transform(images), want))
        True
        """
        return _torch.instance_norm_from_torch(cls, module)

    def to_torch(self, module=None):
        """A new module of :meth:`transform` (None), or ``eps``, ``scale`` and
        ``shift`` written into a ``torch.nn.InstanceNorm1d`` (``2d``, ``3d``)
        of as many channels (returned)."""
        return super().to_torch() if module is None else \
            _torch.per_sample_to_torch(self, module, "instance_norm")

    def _groups_and_channels(self, n_features, channels):
        n_channels = self._channel_count(channels) or 1
        return n_channels, n_channels

    def _layout(self, n_features, channels=None):
        layout = super()._layout(n_features, channels)
        if n_features == layout[1]:
            raise ValueError(
                f"InstanceNormScaler needs more than one position per channel (torch:"
                f" 'Expected more than 1 spatial element'); n_features={n_features} with"
                f" n_channels={layout[1]} leaves one.")
        return layout


def check_normalized_size(est, n_features):
    """Refuse rows of ``n_features`` that are not ``est.normalized_shape``
    flattened."""
    if est.normalized_shape is not None:
        shape = normalized_shape(est.normalized_shape)
        if math.prod(shape) != n_features:
            raise ValueError(
                f"{type(est).__name__}: normalized_shape={shape} holds {math.prod(shape)}"
                f" values; X has {n_features} features (2-D input is taken as"
                " normalized_shape flattened).")


def fill_docs(cls, what, n, nd, params=_AFFINE_PARAMS_DOC, sample_stats=_SAMPLE_STATS_DOC):
    cls.__doc__ = cls.__doc__.format(
        sample_stats=sample_stats.format(what=what),
        params=params.format(what=what, n=n),
        attributes=_ATTRIBUTES_DOC, nd=_ND_DOC.format(how=nd),
        channel_axis=_CHANNEL_AXIS_DOC, normalized_shape=_NORMALIZED_SHAPE_DOC)


_PER_SAMPLE = """``(N, C, L)``, ``(N, C, H, W)``
    and so on are ``N`` samples of ``C`` channels (``channel_axis``), each
    sample normalized with its channels in order."""
_TRAILING = """each normalization runs over the
    trailing ``normalized_shape`` axes: ``(N, T, E)`` tokens with
    ``normalized_shape=E`` are normalized token by token, as a
    transformer's layer does; ``normalized_shape=None`` normalizes each
    sample over all its axes."""

fill_docs(GroupNormScaler, "channel", "n_channels,", _PER_SAMPLE)
fill_docs(LayerNormScaler, "feature", "n_features,", _TRAILING)
fill_docs(InstanceNormScaler, "channel", "n_channels,", _PER_SAMPLE)
