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
``device``  an array of another namespace, on its device:
            :mod:`skscale._device`
==========  =================================================================

Nothing after the door asks again: each skeleton (:mod:`skscale._columns`,
:mod:`skscale._rows`) looks up what to do for ``Input.kind`` in a table of
its own, whose entries live in those rooms.  A new kind of input is a new
branch here and new entries in those tables.

The backend protocol
--------------------
What the rooms may call on an estimator (and nothing else):

* ``_validate(X, reset=False, columns=False)`` -- the door's checks and
  conversion of one block of rows (Dask blocks, Spark batches), returning
  the in-memory data;
* ``_feature_names()`` -- the names errors give the columns (None: indices);
* ``_stats_needed`` -- which :class:`~skscale._stats.ColumnStats` a column
  scaler learns from;
* the public methods (``transform``, ``inverse_transform``, ``sample_stats``,
  ``partial_fit``) and ``_normalize``, which a distributed backend runs on
  each block of rows with the fitted estimator;
* batch normalization's ``batch_size`` and ``_n_full`` (how its rows make
  mini-batches).

This module also holds what every estimator shares: tags, the failed-call
rule (:func:`unchanged_on_error`) and the first-call validation of
``partial_fit``.
"""

import functools
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import _check_feature_names, _check_n_features, validate_data

from . import _array_api, _dask, _frames
from ._errors import (check_column_order, column_label, explain_bad_columns, explain_bad_values,
                      sparse_column)
from ._persist import VersionStampMixin

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))


class Input:
    """One call's input, classified at the door.

    Attributes
    ----------
    kind : {"dense", "sparse", "frame", "dask", "device"}
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
    """

    __slots__ = ("kind", "X", "source", "ns", "dtype")

    def __init__(self, kind, X, source, ns=None, dtype=None):
        self.kind, self.X, self.source, self.ns = kind, X, source, ns
        self.dtype = _array_api.numpy_dtype(X.dtype) if dtype is None else dtype

    def back(self, result):
        """``result`` of the numpy path as the caller's kind: a CPU tensor's
        result (an array, or a tuple of them) as tensors again."""
        return self.ns.back(result) if self.ns is not None and self.ns.host else result

    def output(self, result, est):
        """A transform's ``result`` as the caller gets it: a frame of the
        input's kind where ``est``'s ``set_output`` asks for one (missing
        values missing again), a CPU tensor's as a tensor, else itself."""
        if self.kind == "dense":  # (a frame converted at the door; "frame" maps build theirs)
            result = _frames.like(self.source, result, est)
        return self.back(result)


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


class BaseScaler(VersionStampMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """The door, tags and conventions common to all skscale estimators."""

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
        if _dask.is_dask(X):  # its metadata here; each block is validated on its worker
            return Input("dask", X, source, dtype=_dask.validate(self, X, reset))
        ns = _array_api.namespace(X)
        if ns is not None and not ns.host:  # stays in its namespace, on its device
            X = validate_data(self, X.detach() if hasattr(X, "detach") else X,
                              reset=reset, dtype=ns.dtypes, ensure_all_finite=False)
            return Input("device", X, source, ns)
        if ns is not None:  # a CPU tensor: the numpy path, on a view of it
            X = _array_api.host_view(X)
        _frames.refuse_non_numbers(X)
        frame = _frames.read(X) if columns else None
        if frame is not None:  # what validate_data checks of a frame, without converting it
            if not reset and hasattr(self, "feature_names_in_"):
                check_column_order(X, self.feature_names_in_)
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            return Input("frame", frame, source)
        X = self._convert(X, reset, inverse)
        return Input("sparse" if sp.issparse(X) else "dense", X, source, ns)

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
