"""Batch normalization with running statistics (``torch.nn.BatchNorm1d``)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from . import _array_api, _dask, _spark, _torch
from ._base import fresh_like, partial_fit_context, unchanged_on_error
from ._columns import COLUMN_MAPS, COLUMN_STATS, ColumnScaler
from ._errors import named_column
from ._stats import ColumnStats


class BatchNormScaler(ColumnScaler):
    """Batch normalization: per-feature running statistics folded over mini-batches.

    Each training step (:meth:`partial_fit`, or one mini-batch of :meth:`fit`)
    takes a mini-batch ``B`` of ``n`` rows, its per-feature mean ``mu_B`` and
    biased variance ``var_B = mean((x - mu_B)**2)`` (float64, NaN values
    skipped: ``n`` is the feature's number of non-NaN values in the batch),
    and updates the running statistics exactly as ``torch.nn.BatchNorm1d``
    does in training mode::

        num_batches_tracked_ += 1
        f = momentum                       (or 1 / num_batches_tracked_ if None)
        running_mean_ = (1 - f) * running_mean_ + f * mu_B
        running_var_  = (1 - f) * running_var_  + f * var_B * n / (n - 1)

    starting from ``running_mean_ = 0`` and ``running_var_ = 1``.  The stored
    variance is the unbiased one.  With ``momentum=None`` (the default) every
    batch weighs the same whatever its size: ``running_mean_`` is the mean of
    the batch means and ``running_var_`` the mean of the unbiased batch
    variances, the inference statistics of Ioffe & Szegedy (2015, Alg. 2).
    They are not the whole data's mean and variance (the spread of the batch
    means is left out); :class:`ZScoreScaler` gives those.

    ``momentum`` is the weight of the *new* batch, as in PyTorch.  Keras uses
    the opposite convention, ``moving = moving * m + batch * (1 - m)``
    (default ``m = 0.99``, i.e. PyTorch's ``momentum=0.01``), with
    ``epsilon=1e-3`` and, in Keras 3, the biased variance.

    :meth:`transform` is inference with the running statistics::

        y = (x - running_mean_) / sqrt(running_var_ + eps) * scale + shift

    and :meth:`normalize_batch` is the training-stage output, a mini-batch
    normalized by its own statistics ``(x - mu_B) / sqrt(var_B + eps) * scale
    + shift``.  ``fit_transform`` is ``fit`` then ``transform`` (inference).
    With ``momentum=None`` a constant feature maps to ``shift``: ``eps`` keeps
    the divisor positive.  With a fixed momentum the start values (mean 0,
    variance 1) fade as ``(1 - momentum)**steps``, and it approaches ``shift``.
    N-D input is taken as torch's ``BatchNorm1d``/``2d``/``3d`` take it:
    ``(N, C, L)``, ``(N, C, H, W)``, ``(N, C, D, H, W)``, each of the ``C``
    channels (the axis ``channel_axis``) a feature, normalized over the batch
    and all positions; the output has the input's shape.  Then
    ``batch_size`` counts samples (mini-batches of ``batch_size * L`` values
    per channel), ``n_features_in_`` is ``C``, and the running statistics are
    per channel.  (``copy=False`` scales such input in place only where the
    channels are its last axis: otherwise its rows are a copy.)

    A feature with ``scale = 0`` maps exactly to ``shift`` (as in torch):
    pruned networks zero gamma, so it is accepted, here as in the per-sample
    normalizations; :meth:`inverse_transform` refuses it, naming the features,
    since their input cannot be recovered.

    :meth:`fit` resets the statistics and runs one training step per
    consecutive mini-batch of ``batch_size`` rows, in row order.  When the
    trailing remainder is a single row it joins the previous mini-batch (a
    batch of one row has no variance); a remainder of two rows or more is a
    mini-batch of its own.  So 513 rows with ``batch_size=256`` are batches
    of 256 and 257 rows, and 514 rows are batches of 256, 256 and 2.

    A training mini-batch with fewer than 2 rows, or with a feature that has
    fewer than 2 non-NaN values in it (an all-NaN feature included), raises a
    ``ValueError`` and changes nothing -- the step counter included (PyTorch
    increments its counter before raising).  NaN passes through
    :meth:`transform`.

    Parameters
    ----------
    momentum : float in [0, 1] or None, default=None
        Weight of each new batch in the running statistics; None for the
        cumulative average (weight ``1 / num_batches_tracked_``).
        PyTorch's default is 0.1.
    eps : float > 0, default=1e-5
        Added to the variance inside the square root.
    batch_size : int >= 2, default=256
        Rows per mini-batch in :meth:`fit`.
    scale : float or array-like of shape (n_features,), default=1.0
        The learned multiplier gamma (PyTorch's ``weight``); 0 maps its
        feature to ``shift`` and cannot be inverted.
    shift : float or array-like of shape (n_features,), default=0.0
        The learned offset beta (PyTorch's ``bias``).
    copy : bool, default=True
        False scales in place where the input is a writeable float array.
    channel_axis : int, default=1
        The axis of N-D input that holds the channels (torch's layout: 1;
        channels-last images: -1).  2-D input is ``(n_samples, n_features)``
        whatever its value.
    warm_start : bool, default=False
        False: :meth:`fit` starts the running statistics afresh.  True:
        :meth:`fit` continues the training steps from the statistics it holds
        (those of an earlier fit, or of a trained layer), as
        :meth:`partial_fit` on each of its mini-batches would.
        :meth:`from_torch` sets it, so that a scaler taken out of its
        ``FrozenEstimator`` continues the layer's training in a pipeline.

    Attributes
    ----------
    running_mean_ : ndarray of shape (n_features,)
        Running mean of the batch means.
    running_var_ : ndarray of shape (n_features,)
        Running mean of the unbiased batch variances.
    num_batches_tracked_ : int
        Number of training steps taken.
    n_samples_seen_ : int
        Number of rows seen in training steps.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    ZScoreScaler : standardization with the whole training set's statistics.

    References
    ----------
    S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift", ICML 2015.

    Examples
    --------
    >>> from skscale import BatchNormScaler
    >>> X = [[1.0, 10.0], [3.0, 20.0], [5.0, 30.0], [7.0, 40.0]]
    >>> bn = BatchNormScaler(batch_size=2).fit(X)
    >>> bn.running_mean_, bn.running_var_, bn.num_batches_tracked_
    (array([ 4., 25.]), array([ 2., 50.]), 2)
    >>> bn.transform([[4.0, 25.0], [6.0, 35.0]]).round(4)
    array([[0.    , 0.    ],
           [1.4142, 1.4142]])
    >>> bn.normalize_batch([[1.0, 10.0], [3.0, 30.0]]).round(6)
    array([[-0.999995, -1.      ],
           [ 0.999995,  1.      ]])
    >>> bn = BatchNormScaler(momentum=0.1).partial_fit([[1.0], [3.0]])
    >>> bn.running_mean_, bn.running_var_
    (array([0.2]), array([1.1]))
    """

    _stats_needed = ("moments",)

    _parameter_constraints = {
        "momentum": [None, Interval(Real, 0, 1, closed="both")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "scale": [Real, "array-like"],
        "shift": [Real, "array-like"],
        "copy": ["boolean"],
        "channel_axis": [Integral],
        "warm_start": ["boolean"],
    }

    _nd_layout = "per_channel"

    def __init__(self, *, momentum=None, eps=1e-5, batch_size=256, scale=1.0,
                 shift=0.0, copy=True, channel_axis=1, warm_start=False):
        self.momentum = momentum
        self.eps = eps
        self.batch_size = batch_size
        self.scale = scale
        self.shift = shift
        self.copy = copy
        self.channel_axis = channel_axis
        self.warm_start = warm_start

    def _drift_reference(self):
        from . import _drift

        return _drift.batch_norm(self)

    @classmethod
    def from_torch(cls, module, batch_size=256, *, frozen=True):
        """A fitted scaler from a trained ``torch.nn.BatchNorm1d`` (``2d``, ``3d``).

        It holds the layer's running statistics, step counter, ``eps``,
        ``momentum``, and its weight and bias as ``scale`` and ``shift``, so
        :meth:`transform` gives the layer's evaluation-mode output, on the
        layer's own input shapes (``(N, C)``, ``(N, C, L)``, ``(N, C, H,
        W)``).

        A trained layer stays trained: by default the scaler comes wrapped
        in scikit-learn's ``FrozenEstimator``, whose ``fit`` does nothing, so
        ``Pipeline.fit``, cross-validation and grid searches (whose clones
        of it are itself) leave its statistics as the layer had them; every
        other method is the scaler's.  To continue the layer's training
        instead, take the scaler out, ``frozen.estimator``, or ask for it
        unwrapped with ``frozen=False``: it has ``warm_start=True``, so its
        ``fit`` in a pipeline, like :meth:`partial_fit`, continues the
        training steps from the layer's statistics (a clone of it forgets
        them, as any scikit-learn clone does).

        An ``InstanceNorm1d``/``2d``/``3d`` with running statistics
        (``track_running_stats=True``) computes this same per-channel map in
        evaluation mode; it is taken too, frozen only, since instance
        normalization updates its statistics differently.  Any other module
        is refused, naming the estimator that represents it.

        Parameters
        ----------
        module : torch.nn.BatchNorm1d, BatchNorm2d or BatchNorm3d
            A layer with running statistics (``track_running_stats=True``).
        batch_size : int, default=256
            The scaler's ``batch_size`` for a later :meth:`fit`.
        frozen : bool, default=True
            Wrap the scaler in ``sklearn.frozen.FrozenEstimator``.

        Returns
        -------
        scaler : FrozenEstimator or BatchNormScaler
            Fitted.

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import BatchNormScaler
        >>> layer = torch.nn.BatchNorm1d(2, dtype=torch.float64)
        >>> _ = layer(torch.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=torch.float64))
        >>> _ = layer.eval()
        >>> scaler = BatchNormScaler.from_torch(layer)
        >>> scaler
        FrozenEstimator(estimator=BatchNormScaler(momentum=0.1, scale=array([1., 1.]),
                                                  shift=array([0., 0.]),
                                                  warm_start=True))
        >>> X = np.array([[2.0, 4.0]])
        >>> bool(np.allclose(scaler.transform(X), layer(torch.from_numpy(X)).detach().numpy()))
        True
        >>> from sklearn.pipeline import make_pipeline
        >>> _ = make_pipeline(scaler).fit(X * 100)         # a no-op: still the layer's
        >>> scaler.running_mean_
        array([0.2, 0.4])
        >>> batch = np.array([[10.0, 20.0], [30.0, 60.0]])
        >>> scaler.estimator.partial_fit(batch).running_mean_   # training continues
        array([2.18, 4.36])
        """
        return _torch.batch_norm_from_torch(cls, module, batch_size, frozen)

    @classmethod
    def from_stats(cls, running_mean, running_var, *, num_batches_tracked=1, n_samples=0,
                   feature_names=None, **params):
        """A fitted scaler from known running statistics.

        :meth:`transform` is inference with them, and :meth:`partial_fit`
        continues the training steps from them (:meth:`from_torch` reads
        them, and the rest, from a ``torch.nn.BatchNorm1d``).

        Parameters
        ----------
        running_mean : float or array-like of shape (n_features,)
            The running mean of each feature.
        running_var : float or array-like of shape (n_features,)
            Its running (unbiased) variance, at least 0.
        num_batches_tracked : int, default=1
            The training steps behind them, at least 1 (with
            ``momentum=None`` they weigh them against later steps).
        n_samples : int, default=0
            The rows behind them, if known.
        feature_names : list of str, default=None
            The names of the features (``feature_names_in_``).
        **params : dict
            Other parameters of the scaler (``momentum``, ``eps``, ``scale``,
            ``shift``, ...).

        Returns
        -------
        scaler : BatchNormScaler
            Fitted.

        Examples
        --------
        >>> from skscale import BatchNormScaler
        >>> bn = BatchNormScaler.from_stats(running_mean=[4.0], running_var=[4.0])
        >>> bn.transform([[6.0]]).round(6)
        array([[0.999999]])
        """
        from ._columns import known_arrays
        from ._decimal import _rows

        owner = f"{cls.__name__}.from_stats"
        given, names = known_arrays(owner, feature_names, running_mean=running_mean,
                                    running_var=running_var)
        if (given["running_var"] < 0).any():
            raise ValueError(f"{owner}: running_var must be at least 0.")
        steps = _rows(owner, num_batches_tracked)
        if steps < 1:
            raise ValueError(f"{owner}: num_batches_tracked must be at least 1; got {steps}.")
        est = cls(**params)
        est._validate_params()
        est.n_features_in_ = len(given["running_mean"])
        if names is not None:
            est.feature_names_in_ = names
        est._gamma_beta(est.n_features_in_)  # (a scale or shift of another length fails here)
        est._keep_state((given["running_mean"], given["running_var"], steps),
                        _rows(owner, n_samples))
        return est

    def to_torch(self, module=None):
        """This scaler as torch: a new module of its :meth:`transform`, or
        its statistics written into a batch normalization layer.

        Parameters
        ----------
        module : torch.nn.BatchNorm1d, BatchNorm2d or BatchNorm3d, default=None
            None: return a new ``torch.nn.Module`` whose forward is
            :meth:`transform` (see the user guide's "To torch").  A layer
            of as many features: write the running statistics, step
            counter, ``eps``, ``momentum``, ``scale`` and ``shift`` into it
            (in its own dtype and device), and return it.

        Returns
        -------
        module : torch.nn.Module

        Examples
        --------
        >>> import numpy as np, torch
        >>> from skscale import BatchNormScaler
        >>> scaler = BatchNormScaler(momentum=0.1).fit(np.array([[1.0, 2.0], [3.0, 6.0]]))
        >>> layer = scaler.to_torch(torch.nn.BatchNorm1d(2, dtype=torch.float64))
        >>> layer.running_mean.tolist(), int(layer.num_batches_tracked)
        ([0.2, 0.4], 1)
        """
        if module is None:
            return super().to_torch()
        check_is_fitted(self, "running_mean_")
        with _array_api.fitted_on_host(self, None):  # (read where they live)
            return _torch.batch_norm_to_torch(self, module)

    @classmethod
    def _merged(cls, parts):
        """The running statistics of the parts' training steps taken in the
        order given: each part's steps folded onto the state the earlier
        parts left, as :meth:`_fold` would have (the start values, mean 0
        and variance 1, are replaced by that state)."""
        est = fresh_like(parts[0])
        mean, var, steps = parts[0].running_mean_, parts[0].running_var_, \
            parts[0].num_batches_tracked_
        for p in parts[1:]:
            k = p.num_batches_tracked_
            if est.momentum is None:  # cumulative average: a weighted mean of the two
                w = k / (steps + k)
                mean = (1.0 - w) * mean + w * p.running_mean_
                var = (1.0 - w) * var + w * p.running_var_
            else:  # r_k = a r_0 + (what the steps add), with a = (1 - f)**k
                a = (1.0 - float(est.momentum)) ** k
                mean = a * mean + (p.running_mean_ - a * 0.0)
                var = a * var + (p.running_var_ - a * 1.0)
            steps += k
        est._keep_state((mean, var, steps), sum(p.n_samples_seen_ for p in parts))
        return est

    def _select_params(self, full, idx):
        # (a per-feature scale or shift is one value per column)
        for name in ("scale", "shift"):
            value = getattr(full, name)
            if np.ndim(value) == 1:
                setattr(self, name, np.asarray(value)[idx])

    def _reset(self):
        super()._reset()
        for attr in ("running_mean_", "running_var_", "num_batches_tracked_", "_inference_only"):
            self.__dict__.pop(attr, None)

    def _warm(self):
        """Whether :meth:`fit` continues from statistics held (``warm_start``)."""
        return getattr(self, "warm_start", False) and hasattr(self, "running_mean_")

    def _check_trainable(self):
        source = getattr(self, "_inference_only", None)
        if source is not None:
            raise ValueError(
                f"This scaler holds the running statistics of a torch {source}, which"
                " instance normalization updates from each sample's own variance: batch"
                " normalization's training steps would not continue them. Continue its"
                " training in torch, or fit afresh with warm_start=False.")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Reset, then take one training step per mini-batch of ``batch_size`` rows.

        A trailing remainder of one row joins the previous mini-batch.  With
        ``warm_start=True`` and statistics held, the steps continue from
        them instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, ...)
            Training data, n_samples >= 2. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        warm = self._warm()
        if warm:
            self._check_trainable()
        else:
            self._reset()  # (a fit that raises leaves the scaler unfitted)
        with unchanged_on_error(self):
            data = self._door(X, reset=not warm)
            with _array_api.fitted_on_host(self, data.ns, "update" if warm else "fit"):
                d = self.n_features_in_
                self._gamma_beta(d)  # a bad scale or shift fails before the work
                n, steps = BATCH_STEPS[data.kind](self, data)
                state = ((self.running_mean_, self.running_var_, self.num_batches_tracked_)
                         if warm else (np.zeros(d), np.ones(d), 0))
                for row0, stats in steps:
                    self._check_counts(stats, row0)
                    state = self._fold(state, stats)
                self._keep_state(state, n + (self.n_samples_seen_ if warm else 0))
        return self

    def _n_full(self, n, size=None):
        """How many whole mini-batches of ``size`` rows (default
        ``batch_size``) :meth:`fit` takes from ``n`` rows; the rest, if any,
        is one more (of 2 rows or more)."""
        _check_rows(n)
        return whole_batches(n, self.batch_size if size is None else size)

    def _stream_batches(self, blocks):
        """The training mini-batches of a stream of row blocks, as :meth:`fit`
        cuts its rows: one :meth:`partial_fit` each."""
        return minibatches(blocks, self.batch_size)

    def _steps(self, X, ns=None, per_sample=1):
        """``(n_samples, steps)``: ``steps`` yields the ``(first_row, stats)``
        of :meth:`fit`'s mini-batches of ``X`` in order, a stack of whole ones
        at a time; ``X`` is a numpy array, or one of the namespace ``ns``,
        reduced on its device.  Each sample is ``per_sample`` rows of ``X``
        (N-D input: its positions), and a mini-batch ``batch_size`` samples."""
        n, bs = X.shape[0], self.batch_size * per_sample
        names = self._feature_names()
        n_full = self._n_full(n, bs)
        # The statistics of a group of batches (five float64 fields per
        # feature each) are held at a time: about _STATS_BYTES whatever
        # the size of X.
        at_once = max(1, _STATS_BYTES // (5 * 8 * X.shape[1]))

        def steps():
            for first in range(0, n_full, at_once):
                last = min(n_full, first + at_once)
                rows = X[first * bs:last * bs, ...]
                yield first * bs, (
                    ColumnStats.per_batch(rows, bs, names, row0=first * bs) if ns is None else
                    ColumnStats.per_batch_on_device(rows, ns, bs, names, row0=first * bs))
            if n_full * bs < n:
                rest = X[n_full * bs:, ...]
                yield n_full * bs, (
                    ColumnStats.from_array(rest, feature_names=names, what=("moments",))
                    if ns is None else ColumnStats.from_device(rest, ns, feature_names=names))

        return n, steps()

    @partial_fit_context
    def partial_fit(self, X, y=None):
        """Take one training step on the mini-batch ``X``.

        On error nothing changes, the step counter included.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, ...)
            One mini-batch, n_samples >= 2, each feature with at least 2
            non-NaN values.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Updated scaler.
        """
        self._train_step(X, output=None)
        return self

    def normalize_batch(self, X, update=False, copy=None):
        """Normalize a mini-batch by its own statistics (training-stage output).

        ``y = (x - mu_B) / sqrt(var_B + eps) * scale + shift`` with the batch's
        per-feature mean and biased variance over its non-NaN values, as
        ``torch.nn.BatchNorm1d`` computes in training mode.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One mini-batch, n_samples >= 2, each feature with at least 2
            non-NaN values. NaN values pass through.
        update : bool, default=False
            Also take the training step of :meth:`partial_fit` with this
            batch (its statistics are computed once for both).
        copy : bool, default=None
            As in :meth:`transform`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Normalized batch, float32 for float32 input and float64 otherwise.
        """
        self._validate_params()
        copy = self.copy if copy is None else copy
        if update:
            return self._train_step(X, output=copy)
        # Unfitted, validate as a first fit would, on a throwaway clone.
        est = self if hasattr(self, "running_mean_") else clone(self)
        data = est._door(X, reset=est is not self)
        _array_api.check_same_namespace(self, data.ns, "normalize_batch")
        return data.shaped(est._normalize(data, est._batch_stats(data, 0), copy))

    def _train_step(self, X, output):
        """One training step; also return the batch normalized by its own
        statistics unless ``output`` (the copy flag) is None."""
        first = not hasattr(self, "running_mean_")
        self._check_trainable()
        with unchanged_on_error(self):
            data = self._door(X, reset=first)
            if output is not None:
                _array_api.check_same_namespace(self, data.ns, "normalize_batch")
            with _array_api.fitted_on_host(self, data.ns, "fit" if first else "update"):
                d = self.n_features_in_
                self._gamma_beta(d)  # a bad scale or shift fails before any change
                stats = self._batch_stats(data, 0)
                y = None if output is None else self._normalize(data, stats, output)
                state = ((np.zeros(d), np.ones(d), 0) if first else
                         (self.running_mean_, self.running_var_, self.num_batches_tracked_))
                self._keep_state(self._fold(state, stats),
                                 stats.n_rows + (0 if first else self.n_samples_seen_))
        return None if y is None else data.shaped(y)

    def _batch_stats(self, data, row0):
        """Statistics of one training batch starting at row ``row0`` of the
        input, refusing a batch or feature with fewer than 2 values."""
        stats = COLUMN_STATS[data.kind](self, data, None, None)
        _check_rows(stats.n_rows)
        self._check_counts(stats, row0)
        return stats

    def _check_counts(self, stats, row0):
        """Refuse a batch (of a stack, from ``row0`` on) in which some feature
        has fewer than 2 non-NaN values."""
        few = np.atleast_2d(stats.count) < 2
        if few.any():
            i, j = (int(v) for v in np.argwhere(few)[0])
            start = row0 + i * stats.n_rows
            raise ValueError(
                f"Batch normalization needs at least 2 non-NaN values per feature in"
                f" each training batch; {named_column(self, j)} has"
                f" {np.atleast_2d(stats.count)[i, j]:g} in the batch of rows"
                f" {start}..{start + stats.n_rows - 1}.")

    def _fold(self, state, stats):
        """The running-statistics update of ``torch.nn.BatchNorm1d``, for one
        batch's statistics or a stack of them (one training step each).

        Unrolled, K steps of ``r <- (1 - f_k) r + f_k s_k`` give
        ``r_K = a r_0 + sum_k w_k s_k``: with a constant momentum f,
        ``w_k = f (1 - f)**(K - k)`` and ``a = (1 - f)**K``; with the cumulative
        average (``f_k = 1 / (k0 + k)``) the product telescopes to
        ``w_k = 1 / (k0 + K)`` and ``a = k0 / (k0 + K)``.  One matrix-vector
        product replaces K small updates.
        """
        mean, var, k0 = state
        means, variances = np.atleast_2d(stats.mean), np.atleast_2d(stats.var(ddof=1))
        K = means.shape[0]
        if self.momentum is None:
            w, a = np.full(K, 1.0 / (k0 + K)), k0 / (k0 + K)
        else:
            f = float(self.momentum)
            w, a = f * (1.0 - f) ** np.arange(K - 1, -1, -1.0), (1.0 - f) ** K
        return a * mean + w @ means, a * var + w @ variances, k0 + K

    def _keep_state(self, state, n_samples):
        self.running_mean_, self.running_var_, self.num_batches_tracked_ = state
        self.n_samples_seen_ = int(n_samples)

    def _gamma_beta(self, n_features):
        """``scale`` and ``shift`` as float64 arrays of shape (n_features,)."""
        out = []
        for name in ("scale", "shift"):
            v = np.asarray(_array_api.host_value(getattr(self, name)), dtype=np.float64)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n_features):
                raise ValueError(f"{name} must be a number or have one value per"
                                 f" feature ({n_features}); got shape {v.shape}.")
            v = np.broadcast_to(v, (n_features,))
            if not np.isfinite(v).all():
                j = int(np.flatnonzero(~np.isfinite(v))[0])
                raise ValueError(f"{name} must be finite; got {v[j]} for {named_column(self, j)}.")
            out.append(v)
        return out

    def _map_for(self, mean, var):
        """(center, scale, shift) of the shared affine kernel.  A zero gamma
        gives an infinite scale: ``(x - center) / inf`` is 0 for finite ``x``
        (NaN stays NaN), so the feature maps to ``shift`` exactly."""
        gamma, beta = self._gamma_beta(mean.shape[0])
        with np.errstate(divide="ignore"):
            scale = np.sqrt(var + self.eps) / gamma
        return mean, scale, (beta if beta.any() else None)

    def _normalize(self, data, stats, copy):
        """``data`` normalized by the batch statistics ``stats``: the column
        skeleton's affine map, with the batch's parameters."""
        center, scale, shift = self._map_for(stats.mean, stats.var(ddof=0))
        return COLUMN_MAPS[data.kind](self, data, copy, False, (center, scale, shift, None))

    def _affine_map(self, inverse):
        check_is_fitted(self, "running_mean_")
        center, scale, shift = self._map_for(self.running_mean_, self.running_var_)
        if inverse:  # a zero scale is refused before anything is written
            zero = np.flatnonzero(self._gamma_beta(self.n_features_in_)[0] == 0)
            if zero.size:
                names = self._feature_names()
                which = zero.tolist() if names is None else names[zero].tolist()
                raise ValueError(
                    f"scale is 0 for columns {which}: their outputs are all equal to"
                    " shift whatever the input, so they cannot be inverted.")
        return center, scale, shift, None


_STATS_BYTES = 1 << 20


def _per_sample(data):
    """Rows of ``data.X`` per sample: the positions of N-D input, else 1."""
    return 1 if data.view is None else data.view.per_sample

#: kind -> ``(n_samples, steps)`` of :meth:`BatchNormScaler.fit`: the statistics
#: of its mini-batches in row order (see ``BatchNormScaler._steps``).
BATCH_STEPS = {
    "dense": lambda est, data: est._steps(data.X, per_sample=_per_sample(data)),
    "device": lambda est, data: est._steps(data.X, data.ns, _per_sample(data)),  # on the device
    "dask": lambda est, data: _dask.batch_steps(est, data.X),  # on the workers, folded here
    "spark": lambda est, data: _spark.batch_steps(est, data.X),  # on the executors, folded here
}


def whole_batches(n, size):
    """How many whole mini-batches of ``size`` rows ``n`` rows make, as
    :meth:`BatchNormScaler.fit` cuts them: consecutive, in row order, and a
    final remainder of one row joins the batch before it (a batch of one row
    has no variance); any other remainder is one more batch."""
    n_full = n // size
    if n - n_full * size == 1 and n_full:
        n_full -= 1
    return n_full


def minibatches(blocks, size):
    """``(first_row, rows)`` of the mini-batches of ``size`` rows that
    :func:`whole_batches` describes, cut from a stream of row blocks whose
    total length is not known ahead: the last whole batch is held back until
    the rows after it are known."""
    pending, start = [], 0
    for block in blocks:
        pending.append(block)
        held = sum(map(len, pending))
        if held < 2 * size + 1:  # (the last whole batch may yet take a 1-row tail)
            continue
        rows = np.concatenate(pending)
        ready = (held - size - 1) // size * size
        for i in range(0, ready, size):
            yield start, rows[i:i + size]
            start += size
        pending = [rows[ready:]]
    rows = np.concatenate(pending) if len(pending) > 1 else (pending[0] if pending else None)
    if rows is None or not len(rows):
        return
    n_full = whole_batches(len(rows), size)
    for i in range(n_full):
        yield start, rows[i * size:(i + 1) * size]
        start += size
    if n_full * size < len(rows):
        yield start, rows[n_full * size:]


def _check_rows(n):
    if n < 2:
        raise ValueError(
            f"Batch normalization needs at least 2 samples per training batch (a"
            f" batch's variance needs two values); got {n} sample"
            f"{'' if n == 1 else 's'}.")
