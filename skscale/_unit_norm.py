"""Unit-norm scaling of each sample."""

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.extmath import row_norms
from sklearn.utils.sparsefuncs import inplace_row_scale

from . import _blocks, _compiled, _device
from ._blocks import scratch
from ._kernels import group_inverse, grouped, redo_rows, rescaling
from ._rows import RowScaler


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

    def _compute_sparse(self, X, out, keep_stats=True):
        """:meth:`_compute` of a CSR or CSC matrix (``out`` a copy of it, or
        itself)."""
        nan = np.isnan(X.data)
        if nan.any():  # NaN is ignored in the norm, as for dense input
            X = X.copy()
            X.data[nan] = 0.0
        norms = _SPARSE_NORMS[self.norm](X)
        if out is not None:
            inplace_row_scale(out, 1.0 / np.where(norms == 0, 1.0, norms))
        return out, norms

    def _compute(self, X, out, keep_stats=True):
        """``(out, norms)``: the scaled rows of the dense ``X`` written into
        ``out`` (skipped when it is None) and the row norms (None unless
        ``keep_stats``)."""
        # keep_stats=None: not kept, and the numpy kernel only (the compiled
        # loop's leftover rows)
        if out is not None and keep_stats is False and _compiled.wanted(X):
            left = _compiled.unit_norm_loop(X, out, self.norm, _blocks.n_threads())
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

    def _device_compute(self, X, ns, host=True):
        """``(Y, norms)`` of the device array ``X`` (rows the device kernel
        leaves go through :meth:`_compute` on the host; none without
        ``host``)."""
        return _device.unit_norm_on_device(X, ns, self.norm, (lambda x: self._compute(
            x, np.empty_like(x), keep_stats=True)) if host else None)

    def _device_invert(self, X, norms, ns):
        if tuple(norms.shape) != (X.shape[0],):
            raise ValueError(f"sample_stats must be the {X.shape[0]} row norms that"
                             f" sample_stats(X) returned; got shape {tuple(norms.shape)}.")
        return _device.row_inverse_on_device(X, ns, 1, norms)

    def _invert(self, X, norms):
        return group_inverse(X, self._norms(X, norms)[:, None],
                             feature_names=self._feature_names())

    def _invert_sparse(self, X, norms):
        X = X.copy()
        inplace_row_scale(X, self._norms(X, norms).astype(X.dtype))
        return X

    def _norms(self, X, norms):
        """``sample_stats`` as the float64 row norms of ``X``, checked."""
        norms = np.asarray(norms, dtype=np.float64)
        if norms.shape != (X.shape[0],):
            raise ValueError(f"sample_stats must be the {X.shape[0]} row norms that"
                             f" sample_stats(X) returned; got shape {norms.shape}.")
        return norms
