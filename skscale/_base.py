"""The door of every estimator: what an input is, decided once per call.

A public call (``fit``, ``partial_fit``, ``transform``, ...) hands its input
to :meth:`BaseScaler._door`, which validates it and classifies it into one
of a few kinds, returned as an :class:`Input`:

==========  =================================================================
kind        what ``Input.X`` holds, and the room that computes on it
==========  =================================================================
``dense``   a 2-D float32/float64 numpy array (a CPU tensor's view included):
            :mod:`skscale._stats`, :mod:`skscale._kernels`
``sparse``  a CSR or CSC matrix: :mod:`skscale._stats`, the method's
            ``_apply_sparse``
``frame``   a pandas or polars DataFrame's columns read in place
            (:class:`skscale._frames.Columns`): :mod:`skscale._frames`,
            :func:`skscale._kernels.affine_columns`
``dask``    a dask array or DataFrame, its metadata checked: :mod:`skscale._dask`
``spark``   a Spark DataFrame, its schema checked (the scaled columns found by
            name, the others passed through): :mod:`skscale._spark`
``device``  an array of another namespace, on its device:
            :mod:`skscale._device`
==========  =================================================================

Nothing after the door asks again: each skeleton (:mod:`skscale._columns`,
:mod:`skscale._rows`) looks up what to do for ``Input.kind`` in a table of
its own, whose entries live in those rooms.  A new kind of input is a new
branch here and new entries in those tables.

N-D input (images, sequences, tokens) is seen here as the 2-D rows of the
method's layout (:data:`ND_LAYOUTS`, named by the estimator's
``_nd_layout``), a :class:`View` that ``Input.output`` undoes; a method
without a layout refuses it, with the reshape to use.

The backend protocol
--------------------
What the rooms may call on an estimator (and nothing else):

* ``_validate(X, reset=False, columns=False)`` -- the door's checks and
  conversion of one block of rows (Dask blocks, Spark batches), returning
  the in-memory data (a Spark batch's is checked by its schema first);
* ``_feature_names()`` -- the names errors give the columns (None: indices);
* ``_stats_needed`` -- which :class:`~skscale._stats.ColumnStats` a column
  scaler learns from;
* a per-sample scaler's ``_stats_names()`` (what :meth:`sample_stats` returns
  per row, for the command line's columns);
* the public methods (``transform``, ``inverse_transform``, ``sample_stats``,
  ``partial_fit``) and ``_normalize``, which a distributed backend runs on
  each block of rows with the fitted estimator;
* batch normalization's ``batch_size`` and ``_n_full`` (how its rows make
  mini-batches);
* ``_check_traceable()`` and ``_forward(X)``, which :mod:`skscale._torch_module`
  calls: a tensor's transform in torch operations only (each skeleton's
  ``_traced``).

This module also holds what every estimator shares: tags, the failed-call
rule (:func:`unchanged_on_error`) and the first-call validation of
``partial_fit``.
"""

import functools
import math
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.base import (BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context,
                          clone)
from sklearn.utils.validation import (_check_feature_names, _check_n_features, check_is_fitted,
                                      validate_data)

from . import _array_api, _dask, _frames, _spark
from ._errors import (check_column_order, column_label, explain_bad_columns, explain_bad_values,
                      sparse_column)
from ._persist import VersionStampMixin

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))


class Input:
    """One call's input, classified at the door.

    Attributes
    ----------
    kind : {"dense", "sparse", "frame", "dask", "spark", "device"}
        See the module's table.
    X : object
        The validated input, in the form its kind's room computes on.
    source : object
        The input as the caller gave it (a frame's output is a frame of its
        kind, where ``set_output`` asks for one).
    ns : Namespace or None
        The namespace of a device array, or of a CPU tensor that the numpy
        path reads as a view (``kind`` "dense" or "sparse"); else None.
    dtype : numpy dtype
        The float type of the arithmetic and of the output.
    view : View or None
        How an N-D input became the 2-D rows ``X``; None for 2-D input.
    """

    __slots__ = ("kind", "X", "source", "ns", "dtype", "view")

    def __init__(self, kind, X, source, ns=None, dtype=None, view=None):
        self.kind, self.X, self.source, self.ns, self.view = kind, X, source, ns, view
        self.dtype = _array_api.numpy_dtype(X.dtype) if dtype is None else dtype

    def back(self, result):
        """``result`` of the numpy path as the caller's kind: a CPU tensor's
        result (an array, or a tuple of them) as tensors again."""
        return self.ns.back(result) if self.ns is not None and self.ns.host else result

    def shaped(self, result):
        """A map's ``result`` (rows like ``X``) in the caller's shape and kind."""
        if self.view is not None:
            on_device = self.ns is not None and not self.ns.host
            result = self.view.restore(result, self.ns.xp if on_device else np)
        return self.back(result)

    def output(self, result, est):
        """A transform's ``result`` as the caller gets it: a frame of the
        input's kind where ``est``'s ``set_output`` asks for one (missing
        values missing again), a CPU tensor's as a tensor, an N-D input's
        in its shape, else itself."""
        if self.kind == "dense" and self.view is None:  # (a frame converted at the door)
            result = _frames.like(self.source, result, est)
        return self.shaped(result)


class View:
    """An N-D array seen as the 2-D rows a method computes on, and back.

    The input's axes are permuted by ``axes`` (None: as they are), then
    reshaped to ``rows``.  ``channels`` is the number of channels of a
    per-sample layout (else None), ``per_sample`` the number of rows that
    one sample (the first axis) makes.  Numpy and array API namespaces
    (torch's included) alike: ``xp`` is the namespace of the arrays.
    """

    __slots__ = ("shape", "axes", "rows", "channels", "per_sample")

    def __init__(self, shape, axes, rows, channels=None, per_sample=1):
        self.shape, self.axes, self.rows = shape, axes, rows
        self.channels, self.per_sample = channels, per_sample

    def of(self, X, xp=np):
        if self.axes is not None:
            X = _permute(xp, X, self.axes)
        return xp.reshape(X, self.rows)

    def restore(self, Y, xp=np):
        if self.axes is None:
            return xp.reshape(Y, self.shape)
        Y = xp.reshape(Y, tuple(self.shape[a] for a in self.axes))
        return _permute(xp, Y, tuple(int(i) for i in np.argsort(self.axes)))


def _permute(xp, X, axes):
    return xp.transpose(X, axes) if xp is np else xp.permute_dims(X, axes)


def _channel_axis(est, shape):
    axis = est.channel_axis
    if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
        raise ValueError(
            f"{type(est).__name__}: channel_axis={axis} is not a channel axis of X of shape"
            f" {shape} (the first axis holds the samples).")
    return axis % len(shape)


def _per_channel(est, shape):
    """Batch normalization: each channel over the batch and all positions,
    ``(N, C, *S)`` as ``(N * prod(S), C)`` rows (the channel axis last)."""
    c = _channel_axis(est, shape)
    axes = (*(a for a in range(len(shape)) if a != c), c)
    per = math.prod(shape[a] for a in axes[1:-1])
    return View(shape, axes, (shape[0] * per, shape[c]), per_sample=per)


def _per_sample(est, shape):
    """Instance and group normalization: each sample, its channels in
    order, ``(N, C, *S)`` as ``(N, C * prod(S))`` rows."""
    c = _channel_axis(est, shape)
    axes = None if c == 1 else (0, c, *(a for a in range(1, len(shape)) if a != c))
    return View(shape, axes, (shape[0], math.prod(shape[1:])), channels=shape[c])


def _trailing(est, shape):
    """Layer and RMS normalization: over the trailing ``normalized_shape``
    axes, ``(..., *D)`` as ``(-1, prod(D))`` rows (None: all axes but the
    first, each sample)."""
    if est.normalized_shape is None:
        k = len(shape) - 1
    else:
        wanted = normalized_shape(est.normalized_shape)
        k = len(wanted)
        if k >= len(shape) or tuple(shape[-k:]) != wanted:
            raise ValueError(
                f"{type(est).__name__}: X of shape {shape} does not end with"
                f" normalized_shape={wanted}, the axes each normalization runs over.")
    return View(shape, None, (math.prod(shape[:-k]), math.prod(shape[-k:])),
                per_sample=math.prod(shape[1:-k]))


def normalized_shape(value):
    """A ``normalized_shape`` parameter (an int or a sequence of them) as a tuple."""
    return (int(value),) if np.ndim(value) == 0 else tuple(int(v) for v in value)


#: layout -> the :class:`View` of N-D input of a shape: ``f(est, shape)``.
#: An estimator names its layout in ``_nd_layout`` (None: 2-D input only).
ND_LAYOUTS = {"per_channel": _per_channel, "per_sample": _per_sample, "trailing": _trailing}

#: Estimators that take N-D input, for the refusal of the others.
_ND_TAKERS = ("BatchNormScaler (per channel), InstanceNormScaler, GroupNormScaler (per"
              " sample), LayerNormScaler and RMSNormScaler (over the trailing axes)")


@contextmanager
def unchanged_on_error(est, deep=False):
    """A block that leaves ``est`` exactly as it was if it raises (any
    exception, KeyboardInterrupt included).  ``deep`` for estimators whose
    block changes objects they hold in place (AutoScaler's column
    estimators); a shallow copy of the attributes suffices where every
    update assigns new values."""
    import copy

    before = copy.deepcopy(est.__dict__) if deep else dict(est.__dict__)
    try:
        yield
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(before)
        raise


def _set_output_wrapped(method):
    """Whether ``method`` is scikit-learn's ``set_output`` wrapper (its code
    is the one that wraps ``TransformerMixin.fit_transform``)."""
    return getattr(method, "__code__", None) is TransformerMixin.fit_transform.__code__


def _lazy_as_they_are(wrapped):
    """``wrapped`` (scikit-learn's ``set_output`` wrapper of a transform),
    except for Dask and Spark input: their lazy results come back as they
    are, never collected into a pandas or polars frame in memory."""
    inner = wrapped.__wrapped__

    @functools.wraps(inner)
    def method(self, X, *args, **kwargs):
        if _dask.is_dask(X) or _spark.is_spark(X):
            return inner(self, X, *args, **kwargs)
        return wrapped(self, X, *args, **kwargs)

    return method


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
        if hasattr(self, "n_features_in_") and not has_callbacks(self):
            return method(self, *args, **kwargs)
        return first(self, *args, **kwargs)

    return partial_fit


def has_callbacks(est):
    """Whether scikit-learn callbacks are set on ``est`` or propagated to it."""
    return "_skl_callbacks" in est.__dict__ or "_parent_callback_ctx" in est.__dict__


def _caller():
    """The ``stacklevel`` of a warning that names the first caller outside
    skscale and scikit-learn (whose wrappers sit between)."""
    import os
    import sys

    import sklearn

    ours = (os.path.dirname(__file__), os.path.dirname(sklearn.__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(ours):
        frame, level = frame.f_back, level + 1
    return level


def _detached(est, X):
    """The tensor ``X``, which requires grad, outside autograd, said once
    per call: the scaling is numpy (or device kernels), so no gradient
    flows through it.  A CPU tensor is copied, so that no transform writes
    into a leaf's memory behind autograd's back."""
    warnings.warn(
        f"{type(est).__name__} reads a tensor that requires grad detached: its result is"
        " outside autograd, and no gradient flows through the scaling. For a"
        " differentiable step, use the module that to_torch() returns; pass"
        " X.detach() to silence this warning.", UserWarning, stacklevel=_caller())
    X = X.detach()
    return X.clone() if getattr(X.device, "type", None) == "cpu" else X


class BaseScaler(VersionStampMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """The door, tags and conventions common to all skscale estimators."""

    _skeleton = True  # (no model file names it: see skscale._json.classes)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)  # (scikit-learn wraps transform for set_output)
        for name in ("transform", "fit_transform"):
            method = cls.__dict__.get(name)
            if _set_output_wrapped(method):
                setattr(cls, name, _lazy_as_they_are(method))

    #: Parameters under which ``fit`` keeps what a later ``partial_fit`` needs
    #: to carry on where that is not the default (a robust fit's sketches).
    _resumable_params = {}

    #: What a method's refusal of sparse input raises (scikit-learn's type for
    #: the same mistake: TypeError where dense data is required).
    _sparse_error = TypeError

    #: Private attributes that fit learns, which a saved model carries
    #: (public ones end in "_").
    _learned = ()

    def to_dict(self):
        """This estimator as plain JSON data: the ``skscale-model`` schema.

        The dict holds the class, the parameters and everything fit learned
        (feature names, the fitted arrays, the statistics behind them and
        any quantile sketches, as base64), so that :meth:`from_dict` gives
        back an estimator whose transforms are bit-identical and which
        continues with ``partial_fit`` and merges as this one would.
        ``docs/persistence.md`` describes the schema.

        Returns
        -------
        data : dict
            Only JSON types: :func:`json.dumps` writes it as it is.

        See Also
        --------
        skscale.io.dump_json : the same, written to a file.

        Examples
        --------
        >>> from skscale import ZScoreScaler
        >>> scaler = ZScoreScaler().fit([[1.0], [3.0]])
        >>> data = scaler.to_dict()
        >>> data["class"], data["fitted"]["mean_"]
        ('ZScoreScaler', {'ndarray': {'dtype': 'float64', 'shape': [1], 'data': [2.0]}})
        >>> ZScoreScaler.from_dict(data).transform([[5.0]])
        array([[3.]])
        """
        from . import _json

        return _json.to_dict(self)

    @classmethod
    def from_dict(cls, data):
        """The estimator that :meth:`to_dict` described, fitted as it was.

        Nothing in ``data`` runs as code: only skscale's estimator classes
        are built, and the fitted arrays are checked as a loaded pickle's
        are (one value per feature where the class documents so).

        Parameters
        ----------
        data : dict
            What :meth:`to_dict` returned (or :func:`json.loads` of it).

        Returns
        -------
        estimator : instance of this class (or of a subclass)

        Raises
        ------
        ValueError
            Where ``data`` is not a skscale model, holds a class this
            version does not know (or one that is not this class), has a
            schema version this version does not read, or is damaged.

        Examples
        --------
        >>> from skscale import MinMaxScaler
        >>> data = MinMaxScaler().fit([[0.0], [4.0]]).to_dict()
        >>> MinMaxScaler.from_dict(data).transform([[1.0]])
        array([[0.25]])
        """
        from . import _json

        return _json.from_dict(data, expected=cls)

    def check_drift(self, X):
        """How new data stands against the data this scaler was fitted on.

        One row per column: the share of its values outside the training
        range, the share the transform clips, its share of missing values
        against training's, and how far its mean moved, in training
        standard deviations.  Each is set against what the scaler learned
        of the column; what its method did not learn is NaN (z-score keeps
        no range, min-max and log scaling no mean, robust scaling no mean
        and a range only with its sketches; batch normalization's reference
        is its running mean and variance).  :class:`AutoScaler` measured
        everything at fit.  ``skscale check`` does the same for a file, in
        a stream.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data, with the columns of fit (in memory).

        Returns
        -------
        report : pandas.DataFrame
            One row per column:

            - ``column``: its name (or index);
            - ``rows``: the number of rows of ``X``;
            - ``missing``, ``missing_fit``: its share of NaN in ``X`` and at fit;
            - ``below_min``, ``above_max``, ``outside``: the share of its
              non-NaN values below the training minimum, above the training
              maximum, and either;
            - ``clipped``: the share the transform clips (NaN where the
              method does not clip);
            - ``mean``, ``mean_fit``, ``std_fit``: its mean in ``X``, and
              the training mean and standard deviation;
            - ``mean_shift``: ``(mean - mean_fit) / std_fit``.

        Raises
        ------
        TypeError
            For a per-sample scaler, which learns nothing of the columns.

        Examples
        --------
        >>> import numpy as np
        >>> from skscale import MinMaxScaler
        >>> scaler = MinMaxScaler(clip=True).fit([[0.0], [10.0]])
        >>> report = scaler.check_drift([[5.0], [12.0], [np.nan], [-1.0]])
        >>> report[["column", "missing", "below_min", "above_max", "clipped"]]
          column  missing  below_min  above_max   clipped
        0      0     0.25   0.333333   0.333333  0.666667
        """
        from . import _drift

        return _drift.check_drift(self, X)

    def _drift_reference(self):
        """What :meth:`check_drift` sets new data against
        (:func:`skscale._drift.reference`); a per-sample scaler has none."""
        from . import _drift

        raise _drift.no_reference(self)

    def _clip_range(self):
        """``{clip_low, clip_high}`` where the transform clips, else empty."""
        return {}

    def _drift_rows(self, X):
        """``X`` as :meth:`check_drift` reads it: rows in memory."""
        data = self._door(X, reset=False)
        if data.kind not in ("dense",):
            raise TypeError(
                f"check_drift takes numpy, pandas or polars data; got {data.kind} input:"
                " pass a dense array in memory (X.toarray(), X.compute() or a host copy),"
                " part by part if need be.")
        return data.X

    def _restored(self):
        """Rebuild what a model file does not hold, after its state is set
        (nothing to rebuild here)."""

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

    def _door(self, X, *, reset, columns=False, inverse=False):
        """``X`` checked and classified: the :class:`Input` of this call.

        Checks as scikit-learn's ``validate_data`` does (number and names of
        features, dtypes), without a copy where none is needed.  Infinite
        values are left to the kernels, which find them in the same pass
        that does the work and name their column.  With ``columns``, a
        pandas or polars DataFrame of numeric columns is read in place
        (kind "frame") instead of converted to one 2-D array.  With
        ``inverse``, an array without column names is taken without
        scikit-learn's warning about them (a transform's output has none),
        as scikit-learn's scalers take it in ``inverse_transform``.
        """
        if (not reset and type(X) is np.ndarray and X.dtype in _FLOATS and X.ndim == 2
                and X.shape[0] > 0 and X.shape[1] == getattr(self, "n_features_in_", None)
                and not hasattr(self, "feature_names_in_")):
            # What validate_data would return unchanged, at a hundredth of its
            # cost: it matters for partial_fit and transform on small batches.
            return Input("dense", X, X)
        source = X
        if getattr(X, "requires_grad", False) is True:
            X = _detached(self, X)
        view = None
        if getattr(X, "ndim", 2) > 2:
            view = self._view(X)
        if _dask.is_dask(X):  # its metadata here; each block is validated on its worker
            return Input("dask", X, source, dtype=_dask.validate(self, X, reset))
        if _spark.is_spark(X):  # its schema here; the executors read the rows
            return Input("spark", X, source, dtype=_spark.validate(self, X, reset))
        ns = _array_api.namespace(X)
        if ns is not None and not ns.host:  # stays in its namespace, on its device
            X = X.detach() if hasattr(X, "detach") else X
            X = X if view is None else view.of(X, ns.xp)
            X = validate_data(self, X, reset=reset, dtype=ns.dtypes, ensure_all_finite=False)
            return Input("device", X, source, ns, view=view)
        if ns is not None:  # a CPU tensor: the numpy path, on a view of it
            X = _array_api.host_view(X)
        if view is not None:  # (a tensor without dispatch: numpy, as for 2-D ones)
            X = view.of(np.asarray(X))
        _frames.refuse_non_numbers(X)
        frame = _frames.read(X) if columns else None
        if frame is not None:  # what validate_data checks of a frame, without converting it
            if not reset and hasattr(self, "feature_names_in_"):
                check_column_order(X, self.feature_names_in_)
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            return Input("frame", frame, source)
        X = self._convert(X, reset, inverse)
        return Input("sparse" if sp.issparse(X) else "dense", X, source, ns, view=view)

    #: How N-D input (images, sequences, tokens) becomes rows: a key of
    #: :data:`ND_LAYOUTS`, or None for 2-D input only.
    _nd_layout = None

    def _view(self, X):
        """The :class:`View` of the N-D input ``X``, or the refusal of a
        method that takes 2-D input only, with the reshape to use."""
        name = type(self).__name__
        if _dask.is_dask(X):
            raise ValueError(
                f"{name} takes a Dask array of 2-D rows; got {X.ndim} dimensions. Reshape"
                " it to the method's rows first (the user guide's 'Images, sequences and tokens').")
        shape = tuple(X.shape)  # (a traced tensor's may be symbolic: never int() here)
        if self._nd_layout is None:
            raise ValueError(
                f"{name} takes 2-D input (n_samples, n_features); got X of shape {shape}."
                " One feature per value: X.reshape(len(X), -1); one feature per channel"
                " (axis 1): X.swapaxes(1, -1).reshape(-1, X.shape[1]), and back with"
                " Y.reshape(X.swapaxes(1, -1).shape).swapaxes(1, -1) (numpy arrays and"
                f" torch tensors alike). N-D input is taken by {_ND_TAKERS}.")
        return ND_LAYOUTS[self._nd_layout](self, shape)

    def to_torch(self, module=None):
        """This estimator's :meth:`transform` as a ``torch.nn.Module``.

        Its forward takes what ``transform`` takes as a tensor (2-D, and the
        N-D shapes of the methods that take them), on any device, and
        returns what ``transform`` returns: the same dtype, computed in
        float64, NaN passed through.  It is made of torch operations, so
        gradients flow through it and ``torch.export.export`` accepts it.
        Values that ``transform`` refuses with an error (an infinity, a value
        outside a logarithm's domain) come out non-finite instead: a traced
        graph cannot stop to name them.  It holds a copy of the estimator,
        whose arrays are constants of the module (not buffers that
        ``module.half()`` would round).

        Parameters
        ----------
        module : None
            Batch, layer, instance, group and RMS normalization can write
            their parameters into a torch layer of their kind instead; the
            other methods have none.

        Returns
        -------
        module : torch.nn.Module

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import ZScoreScaler
        >>> X = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 50.0]])
        >>> scaler = ZScoreScaler().fit(X)
        >>> module = scaler.to_torch()
        >>> module(torch.from_numpy(X))
        tensor([[-1.2247, -1.2247],
                [ 0.0000,  0.0000],
                [ 1.2247,  1.2247]], dtype=torch.float64)
        >>> exported = torch.export.export(module, (torch.from_numpy(X),))
        """
        if module is not None:
            raise TypeError(
                f"{type(self).__name__}.to_torch() builds a module of its own and writes into"
                " none: only batch, layer, instance, group and RMS normalization write their"
                " parameters into a torch layer of their kind.")
        from ._torch_module import ScalerModule

        return ScalerModule(self)

    def _check_traceable(self):
        """Refuse what cannot become a module (an unfitted estimator)."""
        check_is_fitted(self)

    def _forward(self, X):
        """:meth:`transform` of the tensor ``X`` in torch operations only:
        the N-D view of the door, then the method's device kernel without
        the checks that would leave a traced graph (``_traced``)."""
        ns = _array_api.Namespace(X)
        view = self._view(X) if X.ndim > 2 else None
        Y = self._traced(X if view is None else view.of(X, ns.xp), ns, view)
        return Y if view is None else view.restore(Y, ns.xp)

    def _traced(self, X, ns, view):  # pragma: no cover - each skeleton has its own
        raise NotImplementedError

    def _convert(self, X, reset, inverse):
        """``validate_data`` of anything but a device array, a dask collection
        or a frame read in place, with its failures explained."""
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

    def _validate(self, X, *, reset, columns=False, inverse=False):
        """The door's validated data alone: for one block of rows of a
        distributed input, which its backend computes on in memory."""
        return self._door(X, reset=reset, columns=columns, inverse=inverse).X

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


# BaseScaler's own fit_transform is TransformerMixin's, wrapped for set_output.
BaseScaler.fit_transform = _lazy_as_they_are(TransformerMixin.fit_transform)


def narrowest_dtype(parts):
    """The narrowest ``_fit_dtype`` of the parts (as fit notes it)."""
    return min((np.dtype(p._fit_dtype) for p in parts), key=lambda d: d.itemsize)


def fresh_like(first):
    """An unfitted clone of ``first`` that knows its columns, ready to be
    given merged statistics."""
    est = clone(first)
    est.n_features_in_ = first.n_features_in_
    if hasattr(first, "feature_names_in_"):
        est.feature_names_in_ = first.feature_names_in_.copy()
    return est
