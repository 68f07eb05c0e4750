"""Per-column values, and the mergeable KLL sketches of rank statistics.

The rank statistics (:mod:`skscale._ranks`) read the columns of any
in-memory input through :func:`column` (a copy of one column, never of the
whole input) and, where they stream, fold them into :class:`Sketches`: one
KLL sketch per column (Apache DataSketches, the ``sketch`` extra), which
merge across batches and Dask blocks and answer within a stated rank error.
It knows nothing of any method.
"""

import hashlib
import importlib.util

import numpy as np
import scipy.sparse as sp

from ._blocks import for_each_block
from ._errors import raise_non_finite
from ._kernels import check_finite

#: The sketch size (KLL's ``k``) unless a method is given another.
SKETCH_SIZE = 1000


def column(X, j, dtype=np.float64):
    """Column ``j`` of a dense array, a :class:`~skscale._frames.Columns` or
    a CSC matrix (its zeros filled in) as a fresh 1-D array of ``dtype``,
    NaN where a value is missing."""
    if sp.issparse(X):
        out = np.zeros(X.shape[0], dtype=dtype)
        at = slice(X.indptr[j], X.indptr[j + 1])
        out[X.indices[at]] = X.data[at]
        return out
    if hasattr(X, "column"):  # a frame's columns
        return np.array(X.column(j), dtype=dtype)
    return np.array(X[:, j], dtype=dtype)


def by_column(X):
    """``X`` in a form :func:`column` reads: a sparse matrix as CSC."""
    return X.tocsc() if sp.issparse(X) else X


def for_columns(X, fn):
    """``[fn(j) for j in range(n_features)]``, columns spread over threads
    (numpy's partitions run free of the GIL)."""
    def run(js):
        return [fn(j) for j in range(js.start, js.stop)]

    parts = for_each_block(X.shape[1], 1, run, rows_per_block=1)
    return [r for part in parts for r in part]


def finite_values(X, j, feature_names=None):
    """Column ``j``'s non-NaN values as float64 (a copy of that column alone);
    an infinity raises a ``ValueError`` naming the column."""
    x = column(X, j)
    nan = np.isnan(x)
    if np.isinf(x).any():
        raise_non_finite(x[:, None], nan[:, None], 0,
                         [j if feature_names is None else feature_names[j]])
    return x[~nan]


def percentiles(x, q):
    """``(median, numpy.percentile(x, q))`` of the 1-D float64 array ``x``,
    which this may reorder; NaN for an empty ``x``."""
    if x.size == 0:
        return np.nan, np.full(len(q), np.nan)
    # (near the float64 limit a difference can overflow: the caller names it)
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.percentile(x, q, overwrite_input=True)
        # np.median halves the sum of the middle two values, where the 50th
        # percentile interpolates between them: take scikit-learn's choice.
        return float(np.median(x, overwrite_input=True)), p


def available():
    """Whether DataSketches is installed."""
    return importlib.util.find_spec("datasketches") is not None


def _datasketches():
    try:
        import datasketches
    except ImportError as err:
        raise ImportError(
            "Quantiles that stream (partial_fit, Dask) need Apache DataSketches:"
            " pip install datasketches (in skscale's environment; the extra"
            " 'sketch' installs it too).") from err
    return datasketches


class Sketches:
    """One KLL quantile sketch per column, mergeable and picklable.

    While a sketch holds every value it was given (fewer than about ``k``
    of them) its quantiles are exact, :func:`percentiles` computes them; after
    that, each quantile is a value whose rank is within
    :attr:`rank_error` of the one asked for, with 99% confidence (the
    sketch's published bound).  The sketches are held serialized (bytes):
    they pickle, copy and persist as any Python data.

    Parameters
    ----------
    n_features : int
        Number of columns.
    k : int, default=SKETCH_SIZE
        KLL's size parameter: rank error about ``2.3 / k**0.97``.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale._quantiles import Sketches
    >>> s = Sketches(1, k=200)
    >>> s.update(np.array([[1.0], [2.0], [np.nan], [4.0]]))
    >>> s.count, s.quantiles([50.0])
    (array([3.]), (array([2.]), array([[2.]])))
    """

    def __init__(self, n_features, k=SKETCH_SIZE):
        self.k, self.n_rows = int(k), 0
        self.data = [_kll()(self.k).serialize()] * n_features

    def __eq__(self, other):
        return type(other) is Sketches and vars(self) == vars(other)

    __hash__ = None

    @property
    def n_features(self):
        """Number of columns (one sketch each)."""
        return len(self.data)

    # The serialized sketches travel with a digest (pickle, joblib, skops):
    # DataSketches takes many damaged byte strings for sketches, so loading
    # checks them against it.  A state without one (older files) is checked
    # by deserializing each sketch, which catches most damage.
    def __getstate__(self):
        return {**vars(self), "digest": _digest(self.data)}

    def __setstate__(self, state):
        from ._persist import DamagedState

        state = dict(state)
        digest = state.pop("digest", None)
        data, k, n_rows = state.get("data"), state.get("k"), state.get("n_rows")
        if not (isinstance(data, list) and all(isinstance(b, bytes) for b in data)
                and isinstance(k, int) and isinstance(n_rows, int)):
            raise DamagedState("damaged quantile sketches: their fields have the wrong types")
        if digest is not None and digest != _digest(data):
            raise DamagedState("damaged quantile sketches: their bytes do not match the digest"
                               " saved with them")
        if digest is None:
            try:
                for b in data:
                    _kll().deserialize(b)
            except (RuntimeError, ValueError, MemoryError) as err:
                raise DamagedState(f"damaged quantile sketches: {err}") from None
        self.__dict__.update(state)

    def _sketches(self):
        return [_kll().deserialize(b) for b in self.data]

    def copy(self):
        """An independent copy."""
        other = Sketches.__new__(Sketches)
        other.__dict__.update(self.__dict__, data=list(self.data))
        return other

    @property
    def rank_error(self):
        """The normalized rank error bound of one quantile (99% confidence)
        of sketches of size ``k``."""
        return _kll().get_normalized_rank_error(self.k, False)

    def rank_error_now(self):
        """The largest bound of the sketches as they are (a merge keeps the
        smaller size of the two), or 0.0 while every one holds all its values."""
        errors = [s.normalized_rank_error(False) for s in self._sketches()
                  if s.is_estimation_mode()]
        return max(errors, default=0.0)

    @property
    def count(self):
        """Number of non-NaN values seen per column."""
        return np.array([s.n for s in self._sketches()], dtype=np.float64)

    def update(self, X, feature_names=None):
        """Fold the rows of ``X`` (dense, frame columns or sparse) in; an
        infinity raises, naming its column, before any sketch changes."""
        X = by_column(X)
        if isinstance(X, np.ndarray):
            check_finite(X, feature_names)
        else:
            for_columns(X, lambda j: finite_values(X, j, feature_names))
        sketches = self._sketches()
        for j, s in enumerate(sketches):
            s.update(column(X, j))  # (the sketch skips NaN)
        self.data = [s.serialize() for s in sketches]
        self.n_rows += X.shape[0]

    def update_column(self, j, x):
        """Fold the finite values ``x`` of column ``j`` in (not :attr:`n_rows`,
        which the exact pass counts)."""
        s = _kll().deserialize(self.data[j])
        s.update(x)
        self.data[j] = s.serialize()

    def merge(self, other):
        """Fold ``other`` (of the same columns) into this one; returns self."""
        sketches = self._sketches()
        for s, t in zip(sketches, other._sketches()):
            s.merge(t)
        self.data = [s.serialize() for s in sketches]
        self.n_rows += other.n_rows
        return self

    def quantiles(self, q):
        """``(median, quantiles)`` as :func:`percentiles` gives them, NaN for a
        column without values."""
        results = [self._one(s, q) for s in self._sketches()]
        return (np.array([r[0] for r in results], dtype=np.float64),
                np.array([r[1] for r in results], dtype=np.float64).reshape(-1, len(q)).T)

    @staticmethod
    def _one(s, q):
        if s.is_empty():
            return np.nan, np.full(len(q), np.nan)
        if not s.is_estimation_mode():  # it holds every value: exact
            return percentiles(np.array([v for v, _ in s], dtype=np.float64), q)
        return s.get_quantile(0.5), np.array([s.get_quantile(p / 100) for p in q])


def _kll():
    return _datasketches().kll_doubles_sketch


def _digest(data):
    h = hashlib.sha256()
    for b in data:
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()
