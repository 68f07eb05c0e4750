"""scikit-learn plumbing shared by every skscale estimator.

Input validation, tags and the column-scaler skeleton live here so that each
method module holds only what is particular to its method: how the learned
statistics become parameters, and (for the nonlinear ones) the map itself.
"""

import functools
import types
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import (_check_feature_names, _check_n_features,
                                      _check_sample_weight, _get_feature_names,
                                      check_is_fitted, validate_data)

from . import _array_api, _dask, _frames
from ._errors import (check_column_order, column_label, explain_bad_columns,
                      explain_bad_values, sparse_column)
from ._kernels import affine, affine_columns
from ._persist import VersionStampMixin
from ._stats import BOTH, ColumnStats


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))


def partial_fit_context(method):
    """scikit-learn's ``_fit_context`` for the first call of ``partial_fit``.

    Later calls go straight to ``method``: scikit-learn skips their parameter
    validation too, and its context managers would cost more than the
    statistics of a small batch.
    """
    first = _fit_context(prefer_skip_nested_validation=True)(method)

    @functools.wraps(method)
    def partial_fit(self, *args, **kwargs):
        # (callbacks need the full context: it tears them down)
        if hasattr(self, "n_features_in_") and not _has_callbacks(self):
            return method(self, *args, **kwargs)
        return first(self, *args, **kwargs)

    return partial_fit


def _has_callbacks(est):
    """Whether scikit-learn callbacks are set on ``est`` or propagated to it."""
    return "_skl_callbacks" in est.__dict__ or "_parent_callback_ctx" in est.__dict__


class BaseScaler(VersionStampMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Validation and tags common to all skscale estimators."""

    #: Parameters under which ``fit`` keeps what a later ``partial_fit`` needs
    #: to carry on where that is not the default (a robust fit's sketches).
    _resumable_params = {}

    #: What a method's refusal of sparse input raises (scikit-learn's type for
    #: the same mistake: TypeError where dense data is required).
    _sparse_error = TypeError

    def _accepts_sparse(self):
        """Whether this instance, with its current parameters, keeps zeros at
        zero and so may take scipy sparse input."""
        return False

    def _sparse_hint(self):
        return "Pass a dense array, e.g. X.toarray(), if it fits in memory."

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = self._accepts_sparse()
        tags.transformer_tags.preserves_dtype = ["float64", "float32", "float16"]
        tags.array_api_support = True
        return tags

    def _validate(self, X, *, reset, columns=False, inverse=False):
        """Checked 2-D float64/float32 array (or sparse matrix) without a copy
        where none is needed.  Infinite values are left to the kernels, which
        find them in the same pass that does the work and name their column.
        With ``columns``, a pandas or polars DataFrame of numeric columns is
        returned as :class:`skscale._frames.Columns` instead, read in place.
        With ``inverse``, an array without column names is taken without
        scikit-learn's warning about them (a transform's output has none),
        as scikit-learn's scalers take it in ``inverse_transform``."""
        if (not reset and type(X) is np.ndarray and X.dtype in _FLOATS and X.ndim == 2
                and X.shape[0] > 0 and X.shape[1] == getattr(self, "n_features_in_", None)
                and not hasattr(self, "feature_names_in_")):
            # What validate_data would return unchanged, at a hundredth of its
            # cost: it matters for partial_fit and transform on small batches.
            return X
        if _dask.is_dask(X):  # its metadata here; each block is validated on its worker
            return _dask.validate(self, X, reset)
        ns = _array_api.namespace(X)
        if ns is not None and ns.host:  # a CPU tensor: the numpy path, on a view of it
            X = _array_api.host_view(X)
        elif ns is not None:  # stays in its namespace, on its device (outside autograd)
            return validate_data(self, X.detach() if hasattr(X, "detach") else X,
                                 reset=reset, dtype=ns.dtypes, ensure_all_finite=False)
        _frames.refuse_non_numbers(X)
        frame = _frames.read(X) if columns else None
        if frame is not None:  # what validate_data checks of a frame, without converting it
            if not reset and hasattr(self, "feature_names_in_"):
                check_column_order(X, self.feature_names_in_)
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            return frame
        sparse = ["csr", "csc"] if self._accepts_sparse() else False
        # A frame of float32 columns stays float32 (validate_data keeps that
        # for numpy and pandas, not for polars).
        dtypes = getattr(X, "dtypes", None)
        float32 = dtypes is not None and len(dtypes) > 0 and all(
            str(t).lower() == "float32" for t in dtypes)
        if not reset and hasattr(self, "feature_names_in_"):
            check_column_order(X, self.feature_names_in_)
        try:
            with warnings.catch_warnings():
                if inverse:
                    warnings.filterwarnings("ignore", "X does not have valid feature names")
                X = validate_data(self, X, reset=reset, accept_sparse=sparse,
                                  dtype=np.float32 if float32 else list(_FLOATS),
                                  ensure_all_finite=False)
        except (TypeError, ValueError) as err:
            explain_bad_columns(X, err)
            explain_bad_values(X, err)
            if sp.issparse(X) and not sparse:
                raise self._sparse_error(f"{type(self).__name__} with these parameters would turn"
                                f" the zeros of sparse input into other values. "
                                f"{self._sparse_hint()}") from err
            raise
        if sp.issparse(X) and np.isinf(X.data).any():
            j = sparse_column(X, np.flatnonzero(np.isinf(X.data))[0])
            raise ValueError(
                f"Input contains infinity in {column_label(j, self._feature_names())};"
                " scaling needs finite values (NaN is allowed and passed through).")
        return X

    def _feature_names(self):
        return getattr(self, "feature_names_in_", None)

    def _stream_batches(self, blocks):
        """``(first_row, rows)`` of the batches that :meth:`partial_fit` takes
        one at a time from a stream of row blocks: the blocks as they come
        (a method with batches of its own re-cuts them)."""
        start = 0
        for block in blocks:
            yield start, block
            start += len(block)

    def _output(self, X, copy):
        """Where a transform writes: ``X`` itself when ``copy`` is False and
        that is possible, else one fresh array."""
        if not copy and X.flags.writeable:
            return X
        return np.empty(X.shape, dtype=X.dtype)


class ColumnScaler(BaseScaler):
    """A scaler that learns per-column statistics and applies a per-feature map.

    Subclasses implement ``_learn(stats)``, which turns the accumulated
    :class:`~skscale._stats.ColumnStats` into fitted attributes and returns the
    ``(center, scale, shift)`` of the affine map
    ``y = (x - center) / scale + shift`` (any of them None to skip), or
    override ``_apply`` for a nonlinear map.
    """

    _clip_bounds = None  # (low, high) for output clipping, set by _learn
    #: The statistics _learn reads: "moments" (count, mean, M2), "extremes" (min, max).
    _stats_needed = BOTH

    #: Private attributes that fit learns (public ones end in "_").
    _learned = ("_map", "_fit_dtype", "_clip_bounds", "_shift", "_learned_with",
                "_fit_namespace")

    #: How the docstrings of fit, partial_fit and the transforms describe X:
    #: sparse input only where the method keeps zeros at zero.
    _X_doc = "array-like"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Inherited methods under the subclass's own name: Python names the
        # function in its errors ("MinMaxScaler.fit() got an unexpected
        # keyword argument 'sample_weight'"), and help() then shows what X
        # this method takes.
        for name, decorate in (("fit", _fit_context(prefer_skip_nested_validation=True)),
                               ("partial_fit", partial_fit_context),
                               ("transform", None), ("inverse_transform", None)):
            if name in cls.__dict__:
                continue
            method = getattr(cls, name)
            base = method.__wrapped__ if decorate else method
            code = base.__code__
            if hasattr(code, "co_qualname"):  # Python 3.11 and later
                code = code.replace(co_qualname=f"{cls.__name__}.{name}")
            own = types.FunctionType(code, base.__globals__, name, base.__defaults__,
                                     base.__closure__)
            own.__kwdefaults__ = base.__kwdefaults__
            own.__qualname__ = f"{cls.__name__}.{name}"
            own.__doc__ = ColumnScaler.__dict__[name].__doc__.replace(
                "array-like or sparse matrix", cls._X_doc)
            setattr(cls, name, decorate(own) if decorate else own)

    def _samples_seen(self):
        """``n_samples_seen_``: the number of rows seen."""
        return self.stats_.n_rows

    def _relearn(self, previous):
        """``_learn`` from ``self.stats_``, unless only the extremes count and
        neither they (``previous`` holds the last ones), nor the parameters,
        nor the arithmetic's dtype changed since the last time: later batches
        seldom move a column's minimum or maximum, and relearning costs tens
        of microseconds of small numpy calls, most of a small batch's cost."""
        stats = self.stats_
        if self._stats_needed != ("extremes",):  # the mean moves with every batch
            self._map = self._learn(stats)
            return
        inputs = (self._fit_dtype, *(repr(getattr(self, name)) for name in self._parameter_constraints))
        if (previous is not None and getattr(self, "_learned_with", None) == inputs
                # the same bits (a tenth of the cost of np.array_equal)
                and previous.min.tobytes() == stats.min.tobytes()
                and previous.max.tobytes() == stats.max.tobytes()):
            return
        self._map = self._learn(stats)
        self._learned_with = inputs

    def _reset(self):
        """Forget everything fit learned; parameters and scikit-learn's own
        private state (set_output's settings, callbacks) stay."""
        for attr in list(self.__dict__):
            if (attr.endswith("_") and not attr.startswith("_")) or attr in self._learned:
                del self.__dict__[attr]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the scaling parameters from the training data ``X``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Training data. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        self._reset()
        return self._update(X, None)

    @partial_fit_context
    def partial_fit(self, X, y=None):
        """Update the scaling parameters with one more batch of rows.

        Any split of the rows into batches gives the parameters of one
        :meth:`fit` on all of them, to rounding.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            A batch of training rows. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Updated scaler.
        """
        return self._update(X, None)

    @_array_api.host_attributes("update")
    def _update(self, X, sample_weight):
        """Fold a batch into the statistics and relearn the parameters; on any
        error the estimator is left exactly as it was."""
        before = dict(self.__dict__)
        try:
            first = not hasattr(self, "stats_")
            X = self._validate(X, reset=first, columns=sample_weight is None)
            if _dask.is_dask(X):  # statistics per block on the workers, merged in a tree
                self.stats_ = _dask.column_stats(self, X, sample_weight,
                                                 prior=None if first else self.stats_)
                self._absorb(_dask.dtype(self, X), None if first else before["stats_"])
                return self
            if sample_weight is not None:
                ns = _array_api.namespace(X)  # (weights on X's device, in its widest float)
                sample_weight = _check_sample_weight(
                    sample_weight, X, dtype=np.float64 if ns is None else ns.wide,
                    ensure_non_negative=True)
            callbacks = _has_callbacks(self) and hasattr(self, "_init_callback_context")
            if callbacks:  # scikit-learn's callback API, as its counterpart has it
                context = self._init_callback_context()
                context.call_on_fit_task_begin(estimator=self, X=X,
                                               metadata={"sample_weight": sample_weight})
            if sp.issparse(X):
                stats = ColumnStats.from_sparse(X, sample_weight)
                self.stats_ = stats if first else self.stats_.merge(stats)
            elif isinstance(X, _frames.Columns):  # each column in its own buffer
                self.stats_ = ColumnStats.from_columns(
                    X, self._feature_names(), self._stats_needed,
                    prior=None if first else self.stats_)
            else:
                self.stats_ = ColumnStats.from_array(
                    X, sample_weight, self._feature_names(), self._stats_needed,
                    prior=None if first else self.stats_)
            self._absorb(X.dtype, None if first else before["stats_"])
            if callbacks:
                context.call_on_fit_task_end(estimator=self, X=X,
                                             metadata={"sample_weight": sample_weight},
                                             reconstruction_attributes={})
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _absorb(self, dtype, previous):
        """Relearn the parameters once ``stats_`` holds a batch of ``dtype``
        too; ``previous`` is ``stats_`` before it (None for the first batch)."""
        # The narrowest float type of all batches: some parameters are
        # settled in the arithmetic the training data will be transformed in.
        # (a plain string: it persists everywhere, skops included)
        dtype = _array_api.numpy_dtype(dtype)  # (a namespace's dtype: numpy's of its name)
        dtype = dtype if dtype in _FLOATS else np.dtype(np.float64)
        if previous is not None and np.dtype(self._fit_dtype).itemsize < dtype.itemsize:
            dtype = np.dtype(self._fit_dtype)
        self._fit_dtype = dtype.name
        self.n_samples_seen_ = self._samples_seen()
        self._relearn(previous)

    def transform(self, X, copy=None):
        """Scale ``X`` with the parameters learned in fit.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Data to scale. NaN values pass through.
        copy : bool, default=None
            Write into a fresh array (True) or into ``X`` where possible
            (False). None uses the estimator's ``copy`` parameter.

        Returns
        -------
        X_new : ndarray or sparse matrix of shape (n_samples, n_features)
            Scaled data, float32 for float32 input and float64 otherwise.
        """
        _array_api.check_same_namespace(self, X, "transform")
        out = self._run(X, copy, inverse=False)
        return out if _frames.is_frame(out) else _frames.like(X, out, self)

    def inverse_transform(self, X, copy=None):
        """Map scaled data back to the original units.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Scaled data.
        copy : bool, default=None
            As in :meth:`transform`.

        Returns
        -------
        X_original : ndarray or sparse matrix of shape (n_samples, n_features)
            Data in the original units.
        """
        _array_api.check_same_namespace(self, X, "inverse_transform")
        return self._run(X, copy, inverse=True)

    @_array_api.host_attributes()
    @_array_api.through_host
    def _run(self, X, copy, inverse):
        check_is_fitted(self)
        affine_map = self._affine_map(inverse)
        X = self._validate(X, reset=False, columns=affine_map is not None, inverse=inverse)
        ns = _array_api.namespace(X)
        if ns is not None:  # on the array's device, in its namespace
            return _array_api.apply(self, X, ns, inverse)
        if _dask.is_dask(X):  # lazily, block by block, never in place
            return _dask.map_rows(self, X, "inverse_transform" if inverse else "transform", True)
        if isinstance(X, _frames.Columns):  # column by column, into a frame of its kind
            out = X.empty()
            affine_columns(X, out, *affine_map[:3], inverse=inverse, bounds=affine_map[3],
                           feature_names=self._feature_names(),
                           nan_nulls=inverse or not X.keeps_nulls(self))
            return out.T if inverse else X.wrap(out, self)
        copy = self.copy if copy is None else copy
        if sp.issparse(X):
            X = X.copy() if copy else X
            self._apply_sparse(X, inverse)
            return X
        out = self._output(X, copy)
        if out is X:
            return self._in_place(X, lambda x, y: self._apply(x, y, inverse))
        return self._apply(X, out, inverse)

    def _in_place(self, X, apply):
        """``apply(X, X)`` once it is sure to succeed, so that a call that
        raises leaves the caller's ``X`` as it was.

        One read of ``X`` finds each column's extremes (and reports an
        infinity, naming it).  Every column map here is monotone in its
        input, rounding included, so a map that takes both extremes without
        error (no overflow, nothing outside a logarithm's domain) takes every
        value; otherwise the map runs into a fresh array, which raises.
        """
        ends = ColumnStats.from_array(X, feature_names=self._feature_names(),
                                      what=("extremes",))
        ends = np.vstack([ends.min, ends.max]).astype(X.dtype)
        try:
            apply(ends, np.empty_like(ends))
        except ValueError:
            X[...] = apply(X, np.empty_like(X))  # raises, naming the value
        else:
            apply(X, X)
        return X

    def _affine_map(self, inverse):
        """``(center, scale, shift, bounds)`` of :func:`~skscale._kernels.affine`
        for this scaler's map (or its inverse); None for a map that is not
        affine, which overrides :meth:`_apply`."""
        return (*self._map, None if inverse else self._clip_bounds)

    def _device_map(self, inverse):
        """``(kind, parameters)`` of this scaler's map for
        :func:`skscale._array_api.apply`: ``("affine", _affine_map(inverse))``,
        or the logarithm's parameters for :class:`~skscale.LogScaler`."""
        return "affine", self._affine_map(inverse)

    def _apply(self, X, out, inverse):
        center, scale, shift, bounds = self._affine_map(inverse)
        return affine(X, out, center, scale, shift, inverse=inverse, bounds=bounds,
                      feature_names=self._feature_names())

    def _apply_sparse(self, X, inverse):
        center, scale, shift = self._map
        assert center is None and shift is None, "sparse input needs a pure scaling"
        if scale is None:
            return
        # Stored values of CSR/CSC belong to the column given by indices / indptr.
        cols = X.indices if X.format == "csr" else np.repeat(
            np.arange(X.shape[1]), np.diff(X.indptr))
        if inverse:
            X.data *= scale[cols]
        else:
            X.data /= scale[cols]


