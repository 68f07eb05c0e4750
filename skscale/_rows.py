"""The per-sample skeleton: unit, layer, instance and group normalization.

Nothing is learned: each sample is scaled by statistics of its own (a norm,
or a mean and standard deviation per group of features), which
``sample_stats`` returns so that ``inverse_transform`` can undo the scaling.
Each method module supplies the computation on each kind of input
(``_compute`` on numpy arrays, ``_compute_sparse`` where it takes sparse
input, ``_device_compute`` on a device, and their inverses); the input's
kind is decided once at the door (:mod:`skscale._base`), and the tables
below say which of them runs.
"""

import numpy as np
from sklearn.base import _fit_context, clone

from . import _array_api, _dask, _spark
from ._base import BaseScaler, unchanged_on_error
from ._kernels import check_finite


def _transform_dense(est, data, copy):
    X = data.X
    out = est._output_for_rows(X, copy)
    if out is X:  # a transform that raises must leave X as it was
        check_finite(X, est._feature_names())
    return est._compute(X, out, keep_stats=False)[0]


def _transform_sparse(est, data, copy):
    return est._compute_sparse(data.X, data.X.copy() if copy else data.X, keep_stats=False)[0]


#: kind -> the rows scaled by their own statistics: ``f(est, data, copy)``.
ROW_TRANSFORM = {
    "dense": _transform_dense,
    "sparse": _transform_sparse,
    "dask": lambda est, data, copy: _dask.map_rows(est, data.X, "transform", True),  # lazily
    "spark": lambda est, data, copy: _spark.map_rows(est, data.X, "transform"),  # lazily
    "device": lambda est, data, copy: est._device_compute(data.X, data.ns)[0],
}

#: kind -> the rows' own statistics: ``f(est, data)``.
ROW_STATS = {
    "dense": lambda est, data: est._compute(data.X, None)[1],
    "sparse": lambda est, data: est._compute_sparse(data.X, None)[1],
    "dask": lambda est, data: _dask.sample_stats(est, data.X),  # lazily
    "spark": lambda est, data: _spark.sample_stats(est, data.X),  # lazily, as added columns
    "device": lambda est, data: est._device_compute(data.X, data.ns)[1],
}

#: kind -> the scaled rows mapped back by their statistics: ``f(est, data, stats)``.
ROW_INVERSE = {
    "dense": lambda est, data, stats: est._invert(data.X, stats),
    "sparse": lambda est, data, stats: est._invert_sparse(data.X, stats),
    "dask": lambda est, data, stats: _dask.map_rows(  # each block with its rows of stats
        est, data.X, "inverse_transform", sample_stats=stats),
    "spark": lambda est, data, stats: _spark.map_rows(  # stats: the names of X's columns
        est, data.X, "inverse_transform", sample_stats=stats),
    "device": lambda est, data, stats: est._device_invert(data.X, stats, data.ns),
}


def _check_device(est, data):
    xp = data.ns.xp
    if bool(xp.any(xp.isinf(data.X))):  # to the host only to report it
        check_finite(_array_api.to_numpy(data.X), est._feature_names())


#: kind -> what fit checks of the values (their number and names of
#: features are the door's): an infinity is refused.
FIT_CHECK = {
    "dense": lambda est, data: check_finite(data.X, est._feature_names()),
    "sparse": lambda est, data: None,  # (the door refuses a sparse infinity)
    "dask": lambda est, data: None,  # (the metadata only)
    "spark": lambda est, data: None,  # (the schema only)
    "device": _check_device,
}


def _channels(data):
    return None if data.view is None else data.view.channels


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

    _skeleton = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def _restored(self):
        # (the layout follows from the parameters: rebuilt, not read from a file)
        if hasattr(self, "n_features_in_"):
            self._fit_layout = self._layout(self.n_features_in_)

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
        with unchanged_on_error(self):
            data = self._fit_shape(X)
            if data.ns is not None:  # where fit's data lives, for later calls to match
                self._fit_namespace = data.ns.key
            else:
                self.__dict__.pop("_fit_namespace", None)
            FIT_CHECK[data.kind](self, data)
        return self

    def _fit_shape(self, X):
        """The door's :class:`~skscale._base.Input` of ``X``, as a first fit
        checks it, with its layout stored."""
        data = self._door(X, reset=True)
        self._fit_layout = self._layout(self.n_features_in_, _channels(data))
        return data

    def _layout(self, n_features, channels=None):
        """What the parameters make of rows of ``n_features`` features
        (``channels``: the channel count of N-D input, or None), checked
        (None: nothing for unit norm)."""
        return None

    def _stats_names(self):
        """Names of the arrays that :meth:`sample_stats` returns per row, in
        order (the command line's statistics columns)."""
        return ["norm"]

    def _check_layout(self, channels):
        """Refuse N-D input of ``channels`` channels that the fitted layout
        does not have."""

    def _ready(self, X):
        """``(scaler, data)``: ``X`` through the door, and the scaler to compute
        with -- ``self`` once fitted; unfitted, a throwaway clone that has
        checked its parameters against ``X`` as a fit would (so ``self``
        stores nothing)."""
        if hasattr(self, "_fit_layout"):
            data = self._door(X, reset=False)
            if _channels(data) is not None:
                self._check_layout(_channels(data))
            return self, data
        scaler = clone(self)
        scaler._validate_params()
        return scaler, scaler._fit_shape(X)

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
        scaler, data = self._ready(X)
        _array_api.check_same_namespace(self, data.ns, "transform")
        copy = getattr(self, "copy", True) if copy is None else copy
        out = ROW_TRANSFORM[data.kind](scaler, data, copy)
        # a frame's missing values stay missing in a frame of its kind
        return data.output(out, self)

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
        scaler, data = self._ready(X)
        _array_api.check_same_namespace(self, data.ns, "sample_stats")
        return data.back(ROW_STATS[data.kind](scaler, data))

    def inverse_transform(self, X, sample_stats=None, columns=None):
        """Undo :meth:`transform` given the per-sample statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformed data.
        sample_stats : ndarray or tuple of ndarrays
            What :meth:`sample_stats` returned for the original rows.
        columns : None
            Refused: a per-sample scaler scales each row by statistics of
            all its columns (see the error's message).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The original data, to rounding.
        """
        if columns is not None:
            raise ValueError(
                f"{type(self).__name__} scales each row by statistics of all its columns, so"
                " it maps back whole rows: invert them with the rows' sample_stats and take"
                " the columns you need, e.g. scaler.inverse_transform(X_new,"
                " sample_stats=stats)[:, columns].")
        if sample_stats is None:
            raise ValueError(
                f"{type(self).__name__} scales every sample by statistics of its own,"
                " which the output alone does not hold. Keep them when transforming:"
                " stats = scaler.sample_stats(X); X_new = scaler.transform(X); then"
                " scaler.inverse_transform(X_new, sample_stats=stats).")
        scaler, data = self._ready(X)
        _array_api.check_same_namespace(self, data.ns, "inverse_transform")
        return data.shaped(ROW_INVERSE[data.kind](scaler, data, sample_stats))

    def _check_traceable(self):
        """A per-sample scaler becomes a module fitted or not."""

    def _traced(self, X, ns, view):
        """:meth:`transform` of the tensor ``X`` (a torch module's forward):
        the device kernel, with no rows left to the host."""
        channels = None if view is None else view.channels
        scaler = self
        if hasattr(self, "_fit_layout"):
            if channels is not None:
                self._check_layout(channels)
        else:  # the layout of these rows, on a throwaway clone
            scaler = clone(self)
            scaler._fit_layout = scaler._layout(X.shape[1], channels)
        return scaler._device_compute(X, ns, host=False)[0]

    def _output_for_rows(self, X, copy):
        # The grouped kernel reshapes row blocks, which needs C order.
        if not copy and X.flags.writeable and X.flags.c_contiguous:
            return X
        return np.empty(X.shape, dtype=X.dtype)
