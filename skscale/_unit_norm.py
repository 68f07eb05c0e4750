"""Unit-norm scaling of each sample, and the skeleton of every per-sample scaler."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.extmath import row_norms
from sklearn.utils.sparsefuncs import inplace_row_scale

from . import _array_api, _blocks, _compiled, _dask, _frames
from ._base import BaseScaler
from ._blocks import for_each_block, scratch
from ._errors import raise_non_finite
from ._kernels import check_finite, grouped, redo_rows

#: A per-sample scale -- a row's norm, a group's ``sqrt(var + eps)`` -- below
#: this is computed again on the values times ``2**k`` (exact), as is one that
#: overflowed: below about ``2**-511`` the squares lose bits to underflow, and
#: in the subnormal range the sums do; above it the underflow of any square
#: costs less than ``2**-175`` of the sum.
TINY_SCALE = 2.0 ** -450


def rescaling(x, scale, floor=0.0):
    """Which per-sample statistics to compute again on ``x * 2**k``, and ``k``.

    ``scale[i]`` is the statistic that the values ``x[i]`` (along the last
    axis) are divided by, computed on ``x``: from :data:`TINY_SCALE` up to a
    finite value it is as accurate as anywhere.  Returns a mask of the others
    that hold a nonzero finite value and no infinity (zeros keep their scale,
    an infinity is reported by the kernel, NaN alone gives NaN statistics) and,
    for each, the ``k`` that puts ``max(max|x|, floor)`` in ``[1/2, 1)``: then
    no sum or square overflows, and none that counts underflows.
    """
    redo = ~((scale >= TINY_SCALE) & (scale < np.inf))
    if not redo.any():
        return redo, np.zeros(0, dtype=np.int32)
    top = np.fmax.reduce(np.abs(x[redo]), axis=-1)  # NaN ignored
    keep = (top > 0) & (top < np.inf)
    redo[redo] = keep
    return redo, -np.frexp(np.fmax(top[keep], floor))[1]


def _nan_ignoring(norm):
    """``norm`` of each row, recomputed with NaN as 0 on the rows that hold one."""
    def rows_norm(x):
        result = norm(x)
        nan = np.isnan(result)
        if nan.any():
            result[nan] = norm(np.nan_to_num(x[nan], nan=0.0))
        return result
    return rows_norm


def _magnitudes(x):
    # |x| in a reused buffer: a fresh block-sized one is new pages every time
    return np.abs(x, out=scratch(x.shape, slot=3))


# (einsum and reduce sum each row in an order that depends on its length
# alone: a row is scaled alike among any others)
_NORMS = {
    "l1": _nan_ignoring(lambda x: np.add.reduce(_magnitudes(x), axis=-1)),
    "l2": _nan_ignoring(lambda x: np.sqrt(np.einsum("ij,ij->i", x, x))),
    "max": lambda x: np.fmax.reduce(_magnitudes(x), axis=-1),
}


def _row_norms(norm, x):
    """``(norms, k)``: the ``norm`` of each row of ``x`` times ``2**k``, with
    ``k = 0`` unless the norm of ``x`` itself is tiny or overflows (see
    :func:`rescaling`)."""
    norms = norm(x)
    redo, k_redo = rescaling(x, norms)
    k = np.zeros(norms.shape, dtype=np.int32)
    if k_redo.size:
        norms[redo] = norm(np.ldexp(x[redo], k_redo[:, None]))
        k[redo] = k_redo
    return norms, k


_SPARSE_NORMS = {
    "l1": lambda X: np.asarray(abs(X).sum(axis=1), dtype=np.float64).ravel(),
    "l2": lambda X: row_norms(X).astype(np.float64),
    "max": lambda X: abs(X).max(axis=1).toarray().astype(np.float64).ravel(),
}


class RowScaler(BaseScaler):
    """Shared skeleton of the per-sample scalers.

    Nothing is learned: each sample is scaled by statistics of its own, which
    :meth:`sample_stats` returns.  Like scikit-learn's ``Normalizer`` the
    scalers are stateless (tag ``requires_fit=False``): ``transform``,
    ``sample_stats`` and ``inverse_transform`` work without ``fit``, checking
    the parameters against the ``X`` they are given and storing nothing.
    After ``fit`` they check ``X`` against the number and names of features
    seen there.  The output alone cannot be mapped back, so
    ``inverse_transform`` needs the statistics.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and record its number and names of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        before = dict(self.__dict__)
        try:
            ns = _array_api.namespace(X)
            X = self._fit_shape(X)
            if ns is not None:  # where fit's data lives, for later calls to match
                self._fit_namespace = (ns.xp.__name__, str(ns.device))
            else:
                self.__dict__.pop("_fit_namespace", None)
            if ns is not None and not ns.host:  # on the device: to the host only to report
                if bool(ns.xp.any(ns.xp.isinf(X))):
                    check_finite(_array_api.to_numpy(X), self._feature_names())
            elif not (sp.issparse(X) or _dask.is_dask(X)):  # (dask: the metadata only)
                check_finite(X, self._feature_names())
        except BaseException:  # a failed fit leaves the scaler as it was
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit_shape(self, X):
        """Validate ``X`` as a first fit does and store its layout."""
        X = self._validate(X, reset=True)
        self._fit_layout = self._layout(X.shape[1])
        return X

    def _layout(self, n_features):
        """What the parameters make of rows of ``n_features`` features,
        checked (None: nothing for unit norm)."""
        return None

    def _ready(self, X):
        """``(scaler, X)``: ``X`` validated, and the scaler to compute with --
        ``self`` once fitted; unfitted, a throwaway clone that has checked its
        parameters against ``X`` as a fit would (so ``self`` stores nothing)."""
        if hasattr(self, "_fit_layout"):
            return self, self._validate(X, reset=False)
        scaler = clone(self)
        scaler._validate_params()
        return scaler, scaler._fit_shape(X)

    @_array_api.through_host
    def transform(self, X, copy=None):
        """Scale each sample by its own statistics.

        Works without :meth:`fit`: nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to scale. NaN values are ignored in the statistics and pass
            through.
        copy : bool, default=None
            Ignored unless the estimator has a ``copy`` parameter, which it
            overrides.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Scaled data, float32 for float32 input and float64 otherwise.
        """
        _array_api.check_same_namespace(self, X, "transform")
        scaler, Xv = self._ready(X)
        if _dask.is_dask(Xv):  # lazily, block by block, never in place
            return _dask.map_rows(scaler, Xv, "transform", True)
        ns = _array_api.namespace(Xv)
        if ns is not None:  # on the array's device
            return scaler._device_compute(Xv, ns)[0]
        copy = getattr(self, "copy", True) if copy is None else copy
        if sp.issparse(Xv):
            out = Xv.copy() if copy else Xv
        else:
            out = self._output_for_rows(Xv, copy)
            if out is Xv:  # a transform that raises must leave X as it was
                check_finite(Xv, scaler._feature_names())
        # a frame's missing values stay missing in a frame of its kind
        return _frames.like(X, scaler._compute(Xv, out, keep_stats=False)[0], self)

    @_array_api.through_host
    def sample_stats(self, X):
        """The per-sample statistics that :meth:`transform` divides by.

        Keep them beside the transformed data to undo the scaling exactly
        with ``inverse_transform(X_new, sample_stats=...)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data that is (or was) transformed.

        Returns
        -------
        stats : ndarray or tuple of ndarrays
            See the class documentation for their shape.
        """
        _array_api.check_same_namespace(self, X, "sample_stats")
        scaler, X = self._ready(X)
        if _dask.is_dask(X):  # lazily, block by block
            return _dask.sample_stats(scaler, X)
        ns = _array_api.namespace(X)
        if ns is not None:  # on the array's device
            return scaler._device_compute(X, ns)[1]
        return scaler._compute(X, None)[1]

    def _output_for_rows(self, X, copy):
        # The grouped kernel reshapes row blocks, which needs C order.
        if not copy and X.flags.writeable and X.flags.c_contiguous:
            return X
        return np.empty(X.shape, dtype=X.dtype)

    @_array_api.through_host
    def inverse_transform(self, X, sample_stats=None):
        """Undo :meth:`transform` given the per-sample statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformed data.
        sample_stats : ndarray or tuple of ndarrays
            What :meth:`sample_stats` returned for the original rows.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The original data, to rounding.
        """
        if sample_stats is None:
            raise ValueError(
                f"{type(self).__name__} scales every sample by statistics of its own,"
                " which the output alone does not hold. Keep them when transforming:"
                " stats = scaler.sample_stats(X); X_new = scaler.transform(X); then"
                " scaler.inverse_transform(X_new, sample_stats=stats).")
        _array_api.check_same_namespace(self, X, "inverse_transform")
        scaler, X = self._ready(X)
        if _dask.is_dask(X):  # lazily, each block with its rows of sample_stats
            return _dask.map_rows(scaler, X, "inverse_transform", sample_stats=sample_stats)
        ns = _array_api.namespace(X)
        if ns is not None:  # on the array's device
            return scaler._device_invert(X, sample_stats, ns)
        return scaler._invert(X, sample_stats)

    def _inverse(self, X, scale, center=None, gamma=None, beta=None):
        """``x = (y - beta) / gamma * scale + center`` on the values ``y`` of
        each (row, group) of dense ``X``, with ``scale`` and ``center`` of
        shape ``(n_samples, n_groups)`` (``center``, ``gamma``, ``beta``: None
        to skip), in float64 row blocks rounded once into a fresh array.  An
        infinity, or a result beyond the range of the output type, raises a
        ``ValueError`` naming its row and column."""
        n_groups = scale.shape[1]
        out = np.empty(X.shape, dtype=X.dtype)
        direct = out.dtype == np.float64
        names = self._feature_names()

        @np.errstate(over="ignore", invalid="ignore")  # the finite check below reports
        def run(rows):
            y = X[rows]
            x = (out[rows] if direct else scratch(y.shape)).reshape(len(y), n_groups, -1)
            s = scale[rows, :, None]
            c = None if center is None else center[rows, :, None]
            # (y - beta) / gamma * scale is x - center, which overflows where x
            # does not when both are near the float64 limit with opposite signs
            # (scale is then above 2**1000): there compute x / 2, and double it.
            big = np.abs(s[..., 0]) >= 2.0 ** 1000
            if big.any():
                s = np.where(big[..., None], s / 2, s)
                c = None if c is None else np.where(big[..., None], c / 2, c)
            src = y.reshape(x.shape)
            for op, operand in ((np.subtract, beta), (np.divide, gamma), (np.multiply, s),
                                (np.add, c)):
                if operand is not None:
                    op(src, operand, out=x)
                    src = x
            if big.any():
                x[big] *= 2.0
            if not direct:
                out[rows] = x.reshape(y.shape)
            # An infinite input gives a non-finite output too (names it first).
            if not np.isfinite(np.add.reduce(out[rows], axis=None)):  # (huge finite sums pass)
                raise_non_finite(y, np.isnan(y), rows.start, names, out[rows],
                                 "the inverse with these sample_stats is not in it")

        for_each_block(X.shape[0], X.shape[1], run)
        return out


class UnitNormScaler(RowScaler):
    """Scale each sample to unit norm: ``y = x / ||x||``.

    ``||x||`` is the l1 norm ``sum|x|``, the l2 norm ``sqrt(sum x**2)`` or the
    max norm ``max|x|`` of the sample, ignoring NaN (which passes through).
    A sample whose norm is zero stays zero.  A dense sample whose norm is
    below ``2**-450`` (subnormal values among them) or whose sum overflows
    (values near the float64 limit) is computed on its values times a power
    of 2, exactly: it too comes out as a unit vector to rounding.  Sparse
    input is accepted.  Nothing is learned: like scikit-learn's
    ``Normalizer``, this scaler is stateless, and ``transform`` works without
    ``fit`` (which only records and checks the number and names of features).

    Per-sample scaling cannot be undone from its output alone:
    :meth:`sample_stats` returns the norms of shape ``(n_samples,)`` and
    ``inverse_transform(X_new, sample_stats=norms)`` multiplies them back.
    ``sample_stats`` raises for a sample whose norm itself is beyond the
    range of float64, and ``inverse_transform`` for a result that is.

    Parameters
    ----------
    norm : {"l1", "l2", "max"}, default="l2"
        The norm each sample is divided by.
    copy : bool, default=True
        False scales in place where the input is a writeable float array.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.Normalizer : the scikit-learn counterpart.

    Examples
    --------
    >>> from skscale import UnitNormScaler
    >>> X = [[3.0, 4.0], [0.0, 0.0], [1.0, -3.0]]
    >>> scaler = UnitNormScaler().fit(X)
    >>> scaler.transform(X)
    array([[ 0.6       ,  0.8       ],
           [ 0.        ,  0.        ],
           [ 0.31622777, -0.9486833 ]])
    >>> norms = scaler.sample_stats(X)
    >>> norms
    array([5.        , 0.        , 3.16227766])
    >>> scaler.inverse_transform(scaler.transform(X), sample_stats=norms)
    array([[ 3.,  4.],
           [ 0.,  0.],
           [ 1., -3.]])
    """

    _parameter_constraints = {
        "norm": [StrOptions(set(_NORMS))],
        "copy": ["boolean"],
    }

    def __init__(self, norm="l2", *, copy=True):
        self.norm = norm
        self.copy = copy

    def _accepts_sparse(self):
        return True

    def _compute(self, X, out, keep_stats=True):
        """``(out, norms)``: the scaled rows written into ``out`` (skipped when
        it is None) and the row norms (None unless ``keep_stats``)."""
        if sp.issparse(X):
            nan = np.isnan(X.data)
            if nan.any():  # NaN is ignored in the norm, as for dense input
                X = X.copy()
                X.data[nan] = 0.0
            norms = _SPARSE_NORMS[self.norm](X)
            if out is not None:
                inplace_row_scale(out, 1.0 / np.where(norms == 0, 1.0, norms))
            return out, norms
        # keep_stats=None: not kept, and the numpy kernel only (the compiled
        # loop's leftover rows)
        if out is not None and keep_stats is False and _compiled.wanted(X):
            left = _compiled.unit_norm(X, out, self.norm, _blocks.n_threads())
            if left.size:
                redo_rows(X, out, left, lambda x, y: self._compute(x, y, keep_stats=None),
                          self._feature_names())
            return out, None
        norm = _NORMS[self.norm]

        def divide(x, stats, y):
            norms, k = stats
            # Rows whose norm is that of x * 2**k, read before y (x itself, in
            # place) is written.
            scaled = k != 0
            x_scaled = np.ldexp(x[scaled], k[scaled, None, None]) if scaled.any() else None
            np.divide(x, np.where(norms == 0, 1.0, norms)[:, None, None], out=y)
            if x_scaled is not None:
                y[scaled] = x_scaled / norms[scaled, None, None]

        out, stats = grouped(X, out, 1, lambda x: _row_norms(norm, x[:, 0, :]), divide,
                             keep_stats=keep_stats, feature_names=self._feature_names())
        if stats is None:
            return out, None
        norms, k = stats
        with np.errstate(over="ignore"):  # reported below
            norms = np.ldexp(norms, -k)
        if np.isinf(norms).any():
            i = int(np.flatnonzero(np.isinf(norms))[0])
            raise ValueError(
                f"Row {i}: its {self.norm} norm is beyond the range of float64 (its values"
                " are near that limit), so sample_stats cannot return it; transform still"
                " scales the row.")
        return out, norms

    def _device_compute(self, X, ns):
        """``(Y, norms)`` of the device array ``X`` (rows the device kernel
        leaves go through :meth:`_compute` on the host)."""
        return _array_api.unit_norm(X, ns, self.norm, lambda x: self._compute(
            x, np.empty_like(x), keep_stats=True))

    def _device_invert(self, X, norms, ns):
        if tuple(norms.shape) != (X.shape[0],):
            raise ValueError(f"sample_stats must be the {X.shape[0]} row norms that"
                             f" sample_stats(X) returned; got shape {tuple(norms.shape)}.")
        return _array_api.row_inverse(X, ns, 1, norms)

    def _invert(self, X, norms):
        norms = np.asarray(norms, dtype=np.float64)
        if norms.shape != (X.shape[0],):
            raise ValueError(f"sample_stats must be the {X.shape[0]} row norms that"
                             f" sample_stats(X) returned; got shape {norms.shape}.")
        if sp.issparse(X):
            X = X.copy()
            inplace_row_scale(X, norms.astype(X.dtype))
            return X
        return self._inverse(X, norms[:, None])
