"""The column-scaler skeleton: learn per-column parameters, apply a per-feature map.

Every column method is the same two halves, and each method module fills in
only what is its own:

* **learning** -- ``fit`` and ``partial_fit`` compute the statistics the
  method learns from, merged with the earlier ones, and the method's
  ``_learn(stats)`` turns them into fitted attributes and a map;
* **mapping** -- ``transform`` and ``inverse_transform`` apply that map:
  the affine map ``y = (x - center) / scale + shift`` of min-max, z-score,
  robust, decimal and batch-norm scaling (``_affine_map``), or a method's
  own nonlinear one (``_apply``; ``_device_map`` on a device).

The input's kind is decided once, at the door (:mod:`skscale._base`); then
one table per half says what each kind does, and every entry's work is in
its kind's room: :data:`COLUMN_STATS` and :data:`QUANTILES` for learning,
:data:`COLUMN_MAPS` for mapping.  This module holds no method's arithmetic.
"""

import copy as _copy
import dataclasses
import numbers
import types

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from . import _array_api, _dask, _device, _quantiles, _ranks, _spark
from ._base import (_FLOATS, BaseScaler, Input, fresh_like, has_callbacks, narrowest_dtype,
                    partial_fit_context, unchanged_on_error)
from ._kernels import affine, affine_columns
from ._stats import BOTH, ColumnStats

# ----------------------------------------------------------------- learning

def _weights(sample_weight, data):
    """``sample_weight`` checked against an in-memory or device input: float64,
    or the device's widest float on its device."""
    if sample_weight is None:
        return None
    return _check_sample_weight(sample_weight, data.X, ensure_non_negative=True,
                                dtype=np.float64 if data.ns is None else data.ns.wide)


def _sparse_stats(est, data, sample_weight, prior):
    stats = ColumnStats.from_sparse(data.X, _weights(sample_weight, data))
    return stats if prior is None else prior.merge(stats)


#: kind -> the :class:`~skscale._stats.ColumnStats` (those ``est._stats_needed``
#: names) of an input, merged with ``prior``: ``f(est, data, sample_weight, prior)``.
COLUMN_STATS = {
    "dense": lambda est, data, w, prior: ColumnStats.from_array(
        data.X, _weights(w, data), est._feature_names(), est._stats_needed, prior),
    "sparse": _sparse_stats,
    "frame": lambda est, data, w, prior: ColumnStats.from_columns(  # (no weights: see fit)
        data.X, est._feature_names(), est._stats_needed, prior),
    "dask": lambda est, data, w, prior: _dask.merged_stats(est, data.X, w, prior=prior),
    "spark": lambda est, data, w, prior: _spark.merged_stats(est, data.X, w, prior=prior),
    "device": lambda est, data, w, prior: ColumnStats.from_device(
        data.X, data.ns, _weights(w, data), est._feature_names(), prior),
}


def _host_ranks(est, data, q, exact, prior, keep_sketch):
    """:class:`~skscale._ranks.Ranks` of in-memory data: exact (and the
    sketches too where ``keep_sketch``), or the rows folded into ``prior``'s
    sketches."""
    return _ranks.of_memory(data.X, q, est._feature_names(), exactly=exact, prior=prior,
                            k=est.sketch_size, keep_sketch=keep_sketch,
                            skip_infinite=est._skips_infinite)


#: kind -> the per-column rank statistics (extremes, median, percentiles
#: ``q``) of an input, for the rank-based methods: exact in a fit in memory,
#: else from KLL sketches merged with ``prior``'s:
#: ``f(est, data, q, exact, prior, keep_sketch)``.
QUANTILES = {
    "dense": _host_ranks, "sparse": _host_ranks, "frame": _host_ranks,
    "dask": lambda est, data, q, exact, prior, keep_sketch: _ranks.from_sketches(
        _dask.merged_sketches(est, data.X, est.sketch_size), q, median=True, prior=prior),
    "spark": lambda est, data, q, exact, prior, keep_sketch: _ranks.from_sketches(
        _spark.merged_sketches(est, data.X, est.sketch_size), q, median=True, prior=prior),
    "device": lambda est, data, q, exact, prior, keep_sketch: _host_ranks(  # ranks: host
        est, Input("dense", _array_api.to_numpy(data.X), data.source), q, exact, prior,
        keep_sketch),
}


# ------------------------------------------------------------------ mapping

def _map_dense(est, data, copy, inverse, affine_map):
    """The map of a 2-D numpy array: into a fresh array, or in place (only
    once it is sure to succeed)."""
    X = data.X
    copy = est.copy if copy is None else copy
    if affine_map is None:  # the method's own map
        def apply(x, y):
            return est._apply(x, y, inverse)
    else:
        center, scale, shift, bounds = affine_map

        def apply(x, y):
            return affine(x, y, center, scale, shift, inverse=inverse, bounds=bounds,
                          feature_names=est._feature_names())
    out = est._output(X, copy)
    return est._in_place(X, apply) if out is X else apply(X, out)


def _map_sparse(est, data, copy, inverse, affine_map):
    X = data.X.copy() if (est.copy if copy is None else copy) else data.X
    est._apply_sparse(X, inverse)
    return X


def _map_frame(est, data, copy, inverse, affine_map):
    """A DataFrame's columns read in place, mapped column by column into one
    output buffer: a frame of the input's kind (or an array, inverted)."""
    columns = data.X
    out = columns.empty()
    affine_columns(columns, out, *affine_map[:3], inverse=inverse, bounds=affine_map[3],
                   feature_names=est._feature_names(),
                   nan_nulls=inverse or not columns.keeps_nulls(est))
    return out.T if inverse else columns.wrap(out, est)


def _map_block(est, x, inverse, affine_map):
    """The map of one block of rows of a distributed input, validated on its
    worker: a fresh array, never the block itself (shared among tasks)."""
    return _map_dense(est, Input("dense", x, x), True, inverse, affine_map)


def _map_device(est, data, copy, inverse, affine_map):
    """The map on the array's device; where it finds a value to report, the
    numpy path on a host copy raises (or computes) as for numpy input."""
    def fallback(x):
        return _map_dense(est, Input("dense", x, x), True, inverse, affine_map)

    if affine_map is not None:
        return _device.affine_on_device(data.X, data.ns, *affine_map, inverse=inverse, fallback=fallback)
    kernel, params = est._device_map(inverse)
    return kernel(data.X, data.ns, inverse=inverse, fallback=fallback, **params)


#: kind -> the per-feature map (``affine_map``, or None for the method's own
#: nonlinear map) of an input: ``f(est, data, copy, inverse, affine_map)``.
COLUMN_MAPS = {
    "dense": _map_dense,
    "sparse": _map_sparse,
    "frame": _map_frame,
    "dask": lambda est, data, copy, inverse, affine_map: _dask.map_rows(  # lazily, per block
        est, data.X, _map_block, inverse, affine_map, validated=True),
    "spark": lambda est, data, copy, inverse, affine_map: _spark.map_rows(  # lazily, per batch
        est, data.X, _map_block, inverse, affine_map, validated=True),
    "device": _map_device,
}


# ------------------------------------------------------------------ columns

def column_indices(est, columns):
    """The indices of ``columns`` (names where fit saw names, or indices)
    among ``est``'s features, in the order given; a ``ValueError`` names
    any that is not one of them, or is given twice."""
    names = getattr(est, "feature_names_in_", None)
    n = est.n_features_in_
    if isinstance(columns, (str, numbers.Integral)):
        columns = [columns]
    columns = list(columns)
    if not columns:
        raise ValueError("columns names no column; give at least one name or index.")
    idx = []
    for c in columns:
        if isinstance(c, str):
            if names is None or c not in list(names):
                known = ("it was fitted without column names: give indices" if names is None
                         else "its columns are " + ", ".join(map(repr, names)))
                raise ValueError(f"columns names {c!r}, which is not a column of this"
                                 f" {type(est).__name__}; {known}.")
            idx.append(list(names).index(c))
        elif isinstance(c, numbers.Integral) and not isinstance(c, bool) and -n <= c < n:
            idx.append(int(c) % n)
        else:
            raise ValueError(f"columns holds {c!r}, which is neither a column name nor an"
                             f" index of this {type(est).__name__}'s {n} columns.")
    twice = [c for i, c in enumerate(idx) if c in idx[:i]]
    if twice:
        raise ValueError(f"columns names column {_label(est, twice[0])} twice.")
    return np.array(idx, dtype=np.intp)


def _label(est, j):
    names = getattr(est, "feature_names_in_", None)
    return repr(names[j]) if names is not None else str(j)


def select_columns(est, idx):
    """A copy of the fitted column scaler ``est`` that knows only its columns
    ``idx`` (in that order), and its transforms of those columns are
    ``est``'s, bit for bit; ``est`` is left as it is.

    Its public arrays are taken at ``idx`` along the axes their class
    documents as ``n_features`` (:func:`skscale._persist.documented_shapes`);
    its private state (the map's parameters, the statistics, sketches) along
    the last axis of every array that has one value per feature there.  A
    method whose state holds more than that takes the rest in its own
    ``_select_params``."""
    from ._persist import documented_shapes

    n = est.n_features_in_
    params = est.get_params(deep=False)
    shapes = documented_shapes(type(est))
    view = _copy.copy(est)
    for key, value in vars(est).items():
        if key in params:
            continue
        if key in shapes and isinstance(value, np.ndarray):
            dims = shapes[key]
            if len(dims) == value.ndim:
                axes = tuple(idx if d == "n" else slice(None) for d in dims)
                view.__dict__[key] = value[axes]
            continue
        view.__dict__[key] = _take(value, idx, n)
    view.n_features_in_ = len(idx)
    view._select_params(est, idx)
    return view


def _take(value, idx, n):
    from ._lambdas import LambdaStats
    from ._quantiles import Sketches

    if isinstance(value, np.ndarray):
        return value[..., idx] if value.ndim and value.shape[-1] == n else value
    if isinstance(value, tuple):
        return tuple(_take(v, idx, n) for v in value)
    if isinstance(value, dict):  # (a rank scaler's statistics, held as plain data)
        return {k: _take(v, idx, n) for k, v in value.items()}
    if isinstance(value, Sketches):
        taken = value.copy()
        taken.data = [value.data[i] for i in idx]
        return taken
    if isinstance(value, LambdaStats):  # (its moments: columns on their third axis)
        return dataclasses.replace(
            value, c=value.c[idx], n=value.n[idx], S=value.S[idx], min=value.min[idx],
            max=value.max[idx], moments=value.moments[:, :, idx])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _take(getattr(value, f.name), idx, n)
                                             for f in dataclasses.fields(value)})
    return value


def inverse_of_columns(est, X, columns, invert):
    """``invert(view, X2)`` of the columns ``columns`` of ``X``, ``(n,)`` for
    one column or ``(n, k)``: the rows given in those columns alone, mapped
    back by a copy of ``est`` that knows only them (:func:`select_columns`)."""
    idx = column_indices(est, columns)
    one = getattr(X, "ndim", None) == 1 or (
        not hasattr(X, "shape") and np.ndim(X) == 1)
    if one:
        if len(idx) != 1:
            raise ValueError(f"X is one column of values, but columns names {len(idx)}"
                             " columns: pass an array of shape (n_samples, "
                             f"{len(idx)}).")
        X = np.asarray(X).reshape(-1, 1)
    out = invert(est._columns_view(idx), X)
    return out.reshape(-1) if one else out


# ------------------------------------------------------- known parameters

def known_arrays(owner, feature_names=None, **given):
    """The per-feature numbers a user gives a ``from_*`` constructor, checked:
    ``(arrays, feature_names)`` with every array float64 of shape
    ``(n_features,)`` (a single number stands for every feature) and the
    names an object array of as many distinct strings, or None.  A
    ``ValueError`` names the argument and what is wrong with it."""
    arrays, n = {}, None
    for name, value in given.items():
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{owner}: {name} must be numbers, one per feature; got"
                             f" {value!r}.") from None
        if a.ndim > 1:
            raise ValueError(f"{owner}: {name} must be one number per feature (a 1-D array);"
                             f" got shape {a.shape}.")
        if a.ndim == 1:
            if n is not None and a.shape[0] != n[1]:
                raise ValueError(f"{owner}: {name} has {a.shape[0]} values, but {n[0]} has"
                                 f" {n[1]}: give one per feature.")
            n = n or (name, a.shape[0])
        bad = ~np.isfinite(np.atleast_1d(a))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{owner}: {name} must be finite; got {np.atleast_1d(a)[j]} for"
                             f" feature {j}.")
        arrays[name] = a
    if feature_names is not None:
        names = list(feature_names) if not isinstance(feature_names, str) else [feature_names]
        if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
            raise ValueError(f"{owner}: feature_names must be distinct strings; got"
                             f" {feature_names!r}.")
        if n is not None and len(names) != n[1]:
            raise ValueError(f"{owner}: feature_names names {len(names)} features, but {n[0]}"
                             f" has {n[1]} values.")
        n = n or ("feature_names", len(names))
        feature_names = np.array(names, dtype=object)
    if n is not None and n[1] == 0:
        raise ValueError(f"{owner}: {n[0]} holds no feature.")
    d = 1 if n is None else n[1]
    return {k: np.broadcast_to(a, (d,)).copy() for k, a in arrays.items()}, feature_names


def counts(owner, n_samples, d, at_least=0):
    """``n_samples`` (a number, or one per feature) as float64 counts of
    shape ``(d,)`` and the number of rows, checked: at least ``at_least``
    plus one, and whole."""
    a = np.broadcast_to(np.asarray(n_samples, dtype=np.float64), (d,)) \
        if np.ndim(n_samples) == 0 else np.asarray(n_samples, dtype=np.float64)
    if a.shape != (d,) or not np.isfinite(a).all() or (a != np.round(a)).any() \
            or (a <= at_least).any():
        raise ValueError(f"{owner}: n_samples must be a whole number of values above"
                         f" {at_least} (or one per feature, {d}); got {n_samples!r}.")
    return a.copy(), int(a.max())


# ----------------------------------------------------------------- skeleton

def _renamed(method, decorated, owner, name, doc):
    """A copy of ``method`` (undecorated first where ``decorated``) whose code
    and function carry the qualified name ``owner.name``, with ``doc``."""
    base = method.__wrapped__ if decorated else method
    code = base.__code__
    if hasattr(code, "co_qualname"):  # Python 3.11 and later
        code = code.replace(co_qualname=f"{owner}.{name}")
    own = types.FunctionType(code, base.__globals__, name, base.__defaults__, base.__closure__)
    own.__kwdefaults__ = base.__kwdefaults__
    own.__qualname__ = f"{owner}.{name}"
    own.__doc__ = doc
    return own


class ColumnScaler(BaseScaler):
    """A scaler that learns per-column statistics and applies a per-feature map.

    Subclasses implement ``_learn(stats)``, which turns the accumulated
    statistics into fitted attributes and returns the ``(center, scale,
    shift)`` of the affine map ``y = (x - center) / scale + shift`` (any of
    them None to skip), or, for a nonlinear map, set ``_affine = False`` and
    implement ``_apply`` (numpy), ``_apply_sparse`` (where they take sparse
    input) and ``_device_map`` (the device kernel and its parameters).
    Methods that learn from other statistics than ``ColumnStats`` override
    ``_statistics``, ``_statistics_so_far`` and ``_keep`` (see
    :class:`RankScaler`).
    """

    _skeleton = True

    _clip_bounds = None  # (low, high) for output clipping, set by _learn
    #: The statistics _learn reads: "moments" (count, mean, M2), "extremes" (min, max).
    _stats_needed = BOTH
    #: Whether the map is affine (``_learn`` returns it): frames are then
    #: mapped column by column, in place.
    _affine = True
    #: Whether infinite training values are skipped, as NaN is (a method that
    #: maps them itself), rather than refused.
    _skips_infinite = False

    #: Private attributes that fit learns (public ones end in "_").
    _learned = ("_map", "_fit_dtype", "_clip_bounds", "_shift", "_learned_with",
                "_fit_namespace")

    #: How the docstrings of fit, partial_fit and the transforms describe X:
    #: sparse input only where the method keeps zeros at zero.
    _X_doc = "array-like"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The four public methods under the subclass's own name where it
        # inherits them: Python names the function in its errors
        # ("MinMaxScaler.fit() got an unexpected keyword argument
        # 'sample_weight'"), and help() then shows what X this method takes.
        for name, decorate in (("fit", _fit_context(prefer_skip_nested_validation=True)),
                               ("partial_fit", partial_fit_context),
                               ("transform", None), ("inverse_transform", None)):
            if name not in cls.__dict__:
                own = _renamed(getattr(cls, name), decorate is not None, cls.__name__, name,
                               ColumnScaler.__dict__[name].__doc__.replace(
                                   "array-like or sparse matrix", cls._X_doc))
                setattr(cls, name, decorate(own) if decorate else own)

    # --- learning: statistics in, parameters out

    def _drift_reference(self):
        from . import _drift

        return _drift.from_stats(self)

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
        return self._fit_rows(X, None, fit=True)

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
        return self._fit_rows(X, None, fit=False)

    def _fit_rows(self, X, sample_weight, fit):
        """Fold the rows ``X`` into the statistics (afresh with ``fit``) and
        relearn the parameters.  A ``partial_fit`` that raises changes
        nothing; a ``fit`` that raises leaves the scaler unfitted."""
        if fit:
            self._reset()
        with unchanged_on_error(self):
            first = not hasattr(self, "n_features_in_")
            data = self._door(X, reset=first, columns=sample_weight is None)
            with _array_api.fitted_on_host(self, data.ns, "fit" if first else "update"):
                callbacks = has_callbacks(self) and hasattr(self, "_init_callback_context")
                if callbacks:  # scikit-learn's callback API, as its counterpart has it
                    context = self._init_callback_context()
                    context.call_on_fit_task_begin(estimator=self, X=data.X,
                                                   metadata={"sample_weight": sample_weight})
                previous = self._statistics_so_far() if not first else None
                stats = self._statistics(data, sample_weight, previous, fit)
                self._store(stats, data.dtype, previous)
                if callbacks:
                    context.call_on_fit_task_end(estimator=self, X=data.X,
                                                 metadata={"sample_weight": sample_weight},
                                                 reconstruction_attributes={})
        return self

    def _statistics(self, data, sample_weight, prior, fit):
        """What this method learns from, of ``data`` and the earlier rows
        (``prior``): :class:`~skscale._stats.ColumnStats`."""
        return COLUMN_STATS[data.kind](self, data, sample_weight, prior)

    def _statistics_so_far(self):
        return self.stats_

    def _store(self, stats, dtype, previous):
        """Keep ``stats`` (of every row so far, the last batch of ``dtype``)
        and relearn the parameters; ``previous`` is what they replace."""
        self._keep(stats)
        self._note_dtype(dtype, first=previous is None)
        self.n_samples_seen_ = self._samples_seen()
        self._relearn(previous)

    def _keep(self, stats):
        """Hold ``stats`` as fitted attributes."""
        self.stats_ = stats

    def _note_dtype(self, dtype, first):
        """The narrowest float type of all batches: some parameters are
        settled in the arithmetic the training data will be transformed in.
        (A plain string: it persists everywhere, skops included.)"""
        dtype = dtype if dtype in _FLOATS else np.dtype(np.float64)
        if not first and np.dtype(self._fit_dtype).itemsize < dtype.itemsize:
            dtype = np.dtype(self._fit_dtype)
        self._fit_dtype = dtype.name

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
        inputs = (self._fit_dtype,
                  *(repr(getattr(self, name)) for name in self._parameter_constraints))
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

    # --- mapping: the learned per-feature map

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
        out, data = self._map_rows(X, copy, inverse=False)
        return data.output(out, self)

    def inverse_transform(self, X, copy=None, columns=None):
        """Map scaled data back to the original units.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Scaled data; with ``columns``, only those columns, of shape
            (n_samples, len(columns)), or (n_samples,) for one.
        copy : bool, default=None
            As in :meth:`transform`.
        columns : list of str or int, str or int, default=None
            Map back only these columns (names where fit saw names, or
            indices), in this order: a model's predicted target alone,
            say.  They come back as the same columns of the full inverse.

        Returns
        -------
        X_original : ndarray or sparse matrix of shape (n_samples, n_features)
            Data in the original units; with ``columns``, of the shape of
            ``X``.
        """
        if columns is not None:
            check_is_fitted(self)
            return inverse_of_columns(self, X, columns,
                                      lambda view, X: view.inverse_transform(X, copy))
        out, data = self._map_rows(X, copy, inverse=True)
        return data.shaped(out)

    @classmethod
    def _from_known(cls, stats, feature_names, params):
        """A scaler of ``params`` fitted as if its statistics so far were
        ``stats`` (of ``stats``' columns, named ``feature_names`` or not)."""
        est = cls(**params)
        est._validate_params()
        est.n_features_in_ = len(stats.count)
        if feature_names is not None:
            est.feature_names_in_ = feature_names
        est._store(stats, np.dtype(np.float64), None)
        return est

    @classmethod
    def _merged(cls, parts):
        """One scaler from fitted ``parts`` of this class, equal parameters and
        the same columns in the same order (see :func:`skscale.merge`): their
        statistics combined, the parameters learned from them."""
        est = fresh_like(parts[0])
        est._store(est._combined([p._statistics_so_far() for p in parts]),
                   narrowest_dtype(parts), None)
        return est

    def _combined(self, parts):
        """The statistics of all the rows of ``parts`` (their ``stats_``)."""
        return ColumnStats.combine(parts)

    def _columns_view(self, idx):
        """This scaler restricted to its columns ``idx``: :func:`select_columns`."""
        return select_columns(self, idx)

    def _select_params(self, full, idx):
        """Take the parameters that hold one value per feature at ``idx``, in
        a copy made by :func:`select_columns` (none here)."""

    def _map_rows(self, X, copy, inverse):
        """``(output, input)``: the learned map (or its inverse) of ``X``."""
        check_is_fitted(self)
        data = self._door(X, reset=False, columns=self._affine, inverse=inverse)
        method = "inverse_transform" if inverse else "transform"
        _array_api.check_same_namespace(self, data.ns, method)
        with _array_api.fitted_on_host(self, data.ns):
            return COLUMN_MAPS[data.kind](self, data, copy, inverse,
                                          self._affine_map(inverse)), data

    def _traced(self, X, ns, view):
        """The map of :meth:`transform` on the tensor ``X`` (a torch module's
        forward): the device kernel, with no fallback to the host."""
        affine_map = self._affine_map(False)
        if affine_map is not None:
            return _device.affine_on_device(X, ns, *affine_map, fallback=None)
        kernel, params = self._device_map(False)
        return kernel(X, ns, inverse=False, fallback=None, **params)

    def _affine_map(self, inverse):
        """``(center, scale, shift, bounds)`` of :func:`~skscale._kernels.affine`
        for this scaler's map (or its inverse); None for a map that is not
        affine, which the method applies itself (``_apply``)."""
        if not self._affine:
            return None
        return (*self._map, None if inverse else self._clip_bounds)

    def _in_place(self, X, apply):
        """``apply(X, X)`` once it is sure to succeed, so that a call that
        raises leaves the caller's ``X`` as it was.

        One read of ``X`` finds each column's extremes (and reports an
        infinity, naming it).  Every column map here is monotone in its
        input, rounding included, so a map that takes both extremes without
        error (no overflow, nothing outside a logarithm's domain) takes every
        value; otherwise the map runs into a fresh array, which raises.
        """
        ends = ColumnStats.from_array(X, feature_names=self._feature_names(), what=("extremes",))
        ends = np.vstack([ends.min, ends.max]).astype(X.dtype)
        try:
            apply(ends, np.empty_like(ends))
        except ValueError:
            X[...] = apply(X, np.empty_like(X))  # raises, naming the value
        else:
            apply(X, X)
        return X

    def _apply_sparse(self, X, inverse):
        """Scale the stored values of the CSR or CSC matrix ``X`` in place
        (only pure scalings, which keep zeros at zero, take sparse input)."""
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


class RankScaler(ColumnScaler):
    """A column scaler that learns rank statistics (:class:`~skscale._ranks.Ranks`:
    extremes, median, percentiles): exact in ``fit``, from KLL sketches in
    ``partial_fit`` and distributed fits, through :data:`QUANTILES`.

    Subclasses say which percentiles they need (``_percentiles``: a list,
    or a function of the number of rows) and may keep the statistics their
    own way (``_keep``, ``_statistics_so_far``); they have the parameters
    ``sketch_size`` and ``keep_sketch``.
    """

    _skeleton = True

    _learned = ColumnScaler._learned + ("_ranks", "_n_rows")

    def _percentiles(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _statistics(self, data, sample_weight, prior, fit):
        q = self._percentiles()
        if prior is not None and prior.sketches is None:
            if not _quantiles.available():
                _quantiles._datasketches()  # (raises, saying how to install it)
            raise ValueError(
                f"This {type(self).__name__} was fitted by fit with keep_sketch="
                f"{self.keep_sketch!r}, or built from known quantiles: its exact quantiles"
                " keep no sketch to add rows to."
                " Fit with keep_sketch=True (it needs DataSketches: pip install"
                " datasketches), or call partial_fit for every batch.")
        keep = self._keeps_sketch() if fit else True
        return QUANTILES[data.kind](self, data, q, fit, prior, keep)

    def _statistics_so_far(self):
        return _ranks.Ranks(**self._ranks, sketches=self.sketches_, n_rows=self._n_rows)

    def _keep(self, stats):
        self.sketches_ = stats.sketches
        self._ranks, self._n_rows = stats.plain(), stats.n_rows  # (plain data: it persists)

    def _keeps_sketch(self):
        if self.keep_sketch == "auto":
            return _quantiles.available()
        return self.keep_sketch

    def _combined(self, parts):
        """The rank statistics of the merged sketches of ``parts``; exact
        statistics without sketches do not merge."""
        if any(p.sketches is None for p in parts):
            raise ValueError(
                f"{type(self).__name__}s fitted by fit keep exact quantiles and no sketches,"
                " and exact quantiles of parts do not make those of the whole: fit each with"
                " keep_sketch=True (it needs DataSketches: pip install datasketches), or with"
                " partial_fit, to merge them.")
        sketches = parts[0].sketches.copy()
        for p in parts[1:]:
            sketches.merge(p.sketches)
        return _ranks.from_sketches(sketches, self._percentiles(), median=True)

    def _samples_seen(self):
        return int(self._n_rows)

    def _relearn(self, previous):
        self._map = self._learn(None)
