"""RMS normalization of each sample, as ``torch.nn.RMSNorm``.

Layer normalization without the centering: each sample (or each group of
its trailing axes) is divided by the root of its mean square.  It is the
group-statistics computation of :mod:`skscale._group_norm` with the center
held at 0 (``_centered = False``); this module says only how the mean square
is taken, what ``eps`` defaults to, and that the per-sample statistic is
one number.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from . import _torch
from ._blocks import scratch
from ._group_norm import _AFFINE_CONSTRAINTS, _group_sums, _GroupStatsScaler, check_normalized_size


def _group_mean_square(x):
    """Mean of the squares per (row, group) of a float64 block view ``x`` of
    shape ``(rows, n_groups, group_size)``, NaN ignored (an all-NaN group
    gives NaN).  Summed along each group in an order set by its length
    alone, as :func:`~skscale._group_norm._group_moments` sums."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # the caller rescales
        n = x.shape[-1]
        nan = np.isnan(x)
        if nan.any():
            n = x.shape[-1] - nan.sum(axis=-1)
            x = np.where(nan, 0.0, x)
        return _group_sums(np.multiply(x, x, out=scratch(x.shape, slot=3))) / n


class RMSNormScaler(_GroupStatsScaler):
    """Root-mean-square normalization of each sample, as ``torch.nn.RMSNorm``.

    Each sample is divided by the root of the mean square of its features
    (not centered: the norm of most current transformers)::

        y = x / sqrt(mean(x**2) + eps) * gamma_j

    This equals ``torch.nn.RMSNorm(n_features, eps)`` with ``weight=scale``,
    and ``torch.nn.functional.rms_norm``.  N-D input is taken as torch takes
    it, and keeps its shape: each normalization runs over the trailing
    ``normalized_shape`` axes, so ``(N, T, E)`` tokens with
    ``normalized_shape=E`` are normalized token by token;
    ``normalized_shape=None`` normalizes each sample over all its axes.

    ``eps=None`` (torch's default) is the machine epsilon of the input's
    arithmetic: ``2**-52`` for float64 input, ``2**-23`` for float32 and
    float16 (torch computes float16 in float32).  The statistics are
    computed in float64 whatever the input (torch computes float32 in
    float32), and a float32 result is the rounding of the float64 one.

    Nothing is learned: like scikit-learn's ``Normalizer``, this scaler is
    stateless, and ``transform`` works without ``fit`` (which only records
    and checks the number and names of features).

    Per-sample scaling cannot be undone from its output alone:
    :meth:`sample_stats` returns the divisors ``sqrt(mean(x**2) + eps)``, one
    per row (per token of N-D input), and
    ``inverse_transform(X_new, sample_stats=rms)`` computes
    ``x = y / gamma * rms``.  A ``gamma`` of 0 maps its feature exactly to
    0, as in torch, and ``inverse_transform`` refuses it, naming the
    features.  NaN values are ignored in the statistics and pass through.  A
    row of zeros maps to zeros; with ``eps=0`` its divisor is taken as 1
    (torch returns NaN there).  Rows whose values are near 1e154 and larger,
    or whose divisor is below ``2**-450``, are computed on their values times
    a power of 2, exactly.

    Parameters
    ----------
    normalized_shape : int, tuple of int or None, default=None
        The trailing axes of N-D input that each normalization runs over, as
        torch's ``normalized_shape``: ``E`` normalizes each token of
        ``(N, T, E)`` embeddings.  None: all axes but the first (each
        sample).  2-D input is ``(n_samples, n_features)``, with
        ``n_features`` the product of ``normalized_shape`` where it is given.
    eps : float or None, default=None
        Added to the mean square inside the square root; None for the
        machine epsilon of the input's arithmetic, as torch.
    scale : float or array-like of shape (n_features,), default=1.0
        ``gamma``, the weight of the torch layer: one number, or one per
        feature.

    Attributes
    ----------
    n_groups_ : int
        Number of groups each sample is split into (1).
    n_channels_ : int
        Number of features that ``scale`` indexes.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    torch.nn.RMSNorm : the PyTorch layer this reproduces.
    LayerNormScaler : the centered normalization.

    Examples
    --------
    >>> from skscale import RMSNormScaler
    >>> X = [[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]]
    >>> scaler = RMSNormScaler(eps=0.0).fit(X)
    >>> scaler.transform(X)
    array([[ 0.84852814,  1.13137085],
           [ 0.        ,  0.        ],
           [ 1.        , -1.        ]])
    >>> rms = scaler.sample_stats(X)
    >>> rms
    array([3.53553391, 1.        , 1.        ])
    >>> scaler.inverse_transform(scaler.transform(X), sample_stats=rms)
    array([[ 3.,  4.],
           [ 0.,  0.],
           [ 1., -1.]])
    """

    _parameter_constraints = {
        "normalized_shape": [None, Interval(Integral, 1, None, closed="left"), tuple, list],
        "eps": [None, Interval(Real, 0, None, closed="left")],
        "scale": _AFFINE_CONSTRAINTS["scale"],
    }
    _channel_word = "feature"
    _nd_layout = "trailing"
    _centered = False

    def __init__(self, normalized_shape=None, *, eps=None, scale=1.0):
        self.normalized_shape = normalized_shape
        self.eps = eps
        self.scale = scale

    @classmethod
    def from_torch(cls, module):
        """The scaler of a ``torch.nn.RMSNorm``: its ``normalized_shape``,
        ``eps`` (None as None) and weight (flattened) as ``scale``.  It takes
        the layer's input.  Any other module (a ``LayerNorm`` among them) is
        refused, naming the estimator that represents it.

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import RMSNormScaler
        >>> layer = torch.nn.RMSNorm(4, dtype=torch.float64)
        >>> tokens = np.random.default_rng(0).normal(size=(2, 3, 4))     # (N, T, E)
        >>> want = layer(torch.from_numpy(tokens)).detach().numpy()
        >>> bool(np.allclose(RMSNormScaler.from_torch(layer).transform(tokens), want))
        True
        """
        return _torch.rms_norm_from_torch(cls, module)

    def to_torch(self, module=None):
        """A new module of :meth:`transform` (None), or ``eps`` and ``scale``
        written into a ``torch.nn.RMSNorm`` of the same ``normalized_shape``
        (returned)."""
        return super().to_torch() if module is None else \
            _torch.per_sample_to_torch(self, module, "rms_norm")

    def _stats_names(self):
        return ["rms"]

    def _eps(self, dtype):
        if self.eps is not None:
            return self.eps
        # torch: the epsilon of the arithmetic's type (float32 for float16 and bfloat16)
        return float(np.finfo(np.float64 if "float64" in str(dtype) else np.float32).eps)

    def _moments(self, x):
        square = _group_mean_square(x)
        return np.zeros(square.shape), square

    def _groups_and_channels(self, n_features, channels):
        check_normalized_size(self, n_features)
        return 1, n_features

    def _compute(self, X, out, keep_stats=True):
        out, stats = super()._compute(X, out, keep_stats)
        return out, None if stats is None else stats[1][:, 0]

    def _device_compute(self, X, ns, host=True):
        Y, stats = super()._device_compute(X, ns, host)
        return Y, stats[1][:, 0] if isinstance(stats, tuple) else stats  # (host rows: already)

    def _rms(self, X, rms):
        """``sample_stats`` as the ``(mean, std)`` pair of the group kernels."""
        if tuple(getattr(rms, "shape", np.shape(rms))) != (X.shape[0],):
            raise ValueError(f"sample_stats must be the {X.shape[0]} row divisors that"
                             f" sample_stats(X) returned; got shape"
                             f" {tuple(getattr(rms, 'shape', np.shape(rms)))}.")
        return rms

    def _invert(self, X, rms):
        rms = np.asarray(self._rms(X, rms), dtype=np.float64)
        return super()._invert(X, (np.zeros((X.shape[0], 1)), rms[:, None]))

    def _device_invert(self, X, rms, ns):
        rms = ns.xp.reshape(self._rms(X, rms), (X.shape[0], 1))
        return super()._device_invert(X, (ns.xp.zeros_like(rms), rms), ns)
