"""AutoScaler: each column's method chosen from the column itself, with reasons.

At ``fit`` every column is profiled (:mod:`skscale._profile`) on a uniform
sample of the rows (:mod:`skscale._sample`; every row while there are at most
``sample_size``), given a kind and a diagnosis by the rules of
:mod:`skscale._diagnose`, and the diagnosis becomes a method of
:data:`skscale.SCALERS` (or a log step then z-score, or no change) by a table
that the ``model`` hint adjusts and ``rules`` overrides.  Columns with the
same method and parameters share one estimator of that method, which does all
the work: this module decides and routes, and holds no method's arithmetic.
"""

import copy
import copy
import re
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn import get_config
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _array_api, _frames
from ._base import BaseScaler, partial_fit_context, unchanged_on_error
from ._columns import inverse_of_columns, select_columns
from ._diagnose import SHAPE_FROM, Diagnosis, kind_of, shape_of, shared_range
from ._errors import column_label, raise_non_finite
from ._profile import Profile
from ._registry import SCALERS, column_methods
from ._sample import Reservoir, uniform_rows

#: The diagnoses: a column's kind where the kind decides, else its shape.
DIAGNOSES = ("empty", "constant", "binary", "bounded", "id", "code", "calendar", "sparse",
             "heavy_tail", "skewed", "outliers", "ordinary")
MODELS = ("linear", "distance", "tree", "neural")
#: What report_ shows of the measures, in this order.
REPORTED = ("rows", "count", "missing", "sample", "distinct", "min", "max", "mean", "std", "p1",
            "p25", "p50", "p75", "p99", "zeros", "integral", "skew", "far_out", "normality")


class AutoScaler(BaseScaler):
    """Choose each column's scaling from the column's own data, and say why.

    At :meth:`fit`, every column is measured on a uniform sample of the rows
    (all of them, up to ``sample_size``): the number of distinct values, the
    share of integers, the share the twelve commonest values hold, the share of
    zeros, whether the values run in order, the quantiles, and what each
    shape-changing map (log, log(1 + x), Box-Cox, Yeo-Johnson) would make of
    the quantiles.  From these the column gets a **kind**, and, for counts
    and continuous measurements, a diagnosis of its **shape**:

    ==============  =====================================================  ==========================
    diagnosis       when                                                   method (``model=None``)
    ==============  =====================================================  ==========================
    ``empty``       no value at fit                                        unchanged
    ``constant``    minimum equals maximum                                 ``zscore`` (maps to 0)
    ``binary``      exactly two values                                     unchanged if 0 and 1, else
                                                                           ``minmax`` to 0 and 1
    ``bounded``     a range given in ``bounds`` (checked first), or        ``minmax`` with
                    integers sharing a range 0..top with at least 7 other  ``data_range`` the known
                    columns and half of the table, most reaching 90% of    range
                    top (pixels: 8-bit, or 0..16)
    ``calendar``    integers that read as years (1800..2100, spanning at   ``zscore``
                    most 150), or months, days, hours where the name says
                    so and the values fit
    ``id``          integers distinct in 98% of the rows, in order or      ``zscore`` (unchanged
                    spread evenly over their range                         for ``"linear"``)
    ``code``        small integers whose 12 commonest values hold 98% of   ``zscore`` (unchanged
                    the rows (levels, categories, few children)            for ``"linear"``)
    ``sparse``      at least ``sparse_zeros`` of the values are 0          ``zscore`` without
                                                                           centering (zeros stay 0)
    ``heavy_tail``  no negative value, far from a normal shape (distance   ``log`` (plain for
                    at least ``shape``) and a log, log(1 + x) or Box-Cox   positive values, log(1 +
                    map brings it near                                     x) for counts with zeros)
                                                                           then ``zscore``, or
                                                                           ``power`` (Box-Cox)
    ``skewed``      negative values or skewed to the left, and the         ``power`` (Yeo-Johnson)
                    Yeo-Johnson map brings it near a normal shape
    ``outliers``    at least ``far_out`` of the values beyond 3 IQR of     ``squashing``
                    the quartiles, before and after the best map
    ``ordinary``    none of the above                                      ``zscore``
    ==============  =====================================================  ==========================

    The **distance from a normal shape** compares the column's quantiles
    (mid-quantiles at 21 levels from 0.5% to 99.5%, centred on the median and
    divided by ``IQR / 1.349``) with the standard normal ones: 0 for a normal
    shape, 0.5 for a uniform one, 1 for an exponential one, 2 for a
    log-normal one of sigma 1.  Quantiles pass through monotone maps, so
    each map is judged on the same quantiles; a map is taken only where it
    brings the column within 0.6 of a normal shape and to at most 70% of
    where it was.  Each measure is a share of rows or a quantile, which one
    row more or less moves by about ``1 / n``: no decision flips on one row
    unless the column sits on a threshold's edge (or the row changes what
    the column can take, as a first negative value does).

    Kinds come from the values; a column's name is only a hint (a
    ``month`` column of integers 1..12 is a calendar field, without the name
    a code), and the reason says when the name decided.  Codes and IDs are
    not scaled as quantities (no log, no power): they are z-scored only so
    that every column is on one scale for whatever model follows.  The
    ``model`` hint changes the table where models differ: ``"tree"`` leaves
    every column unchanged (a tree splits on thresholds, which no monotone
    map moves); ``"linear"`` leaves codes and IDs unchanged (a linear model
    scales each column by its own coefficient); ``"neural"`` centers sparse
    columns.
    ``rules`` overrides any row.

    :meth:`partial_fit` fits every method a column may get, batch by batch,
    beside a uniform sample of all rows seen (a reservoir of ``sample_size``
    rows), and decides on that sample when the scaler is first used
    (:meth:`transform`, ``report_``); later batches update the chosen
    methods only.  A Dask collection or a Spark DataFrame is decided on a
    uniform sample of its rows, and each chosen method is then fitted on
    every block (on the executors); a device
    array (under array API dispatch) on a uniform sample copied to the host,
    and each chosen method is then fitted and applied on its device.

    Parameters
    ----------
    model : {"linear", "distance", "tree", "neural"} or None, default=None
        The kind of model that follows, to adjust the rules.
    rules : dict, default=None
        Method per diagnosis, overriding the table: a method name of
        :data:`skscale.SCALERS`, ``"passthrough"``, a ``(name, params)``
        pair, or a list of those applied in turn, e.g. ``{"outliers":
        "zscore", "heavy_tail": [("log", {"offset": 1.0}), "minmax"]}``.
    bounds : dict, default=None
        Known ranges, ``{column: (low, high)}`` by column name (or index
        for arrays): those columns are scaled by min-max over that range.
    sparse_zeros : float, default=0.5
        Share of zeros from which a column counts as sparse.
    shape : float, default=0.4
        Distance from a normal shape from which a shape-changing map is
        considered (0.4: about a gamma distribution of shape 8, moment
        skewness 0.7, or a log-normal one of sigma 0.23).
    far_out : float, default=0.01
        Share of values beyond 3 IQR of the quartiles (after the best map)
        from which a column counts as having outliers.
    sample_size : int, default=100_000
        Most rows the decisions are made on (a uniform sample of them).
    random_state : int, default=0
        Seed of the sample's draw.

    Attributes
    ----------
    report_ : pandas.DataFrame
        One row per column: its name, kind, what was measured (``sample``:
        the rows the decision saw; ``distinct``: distinct values among
        them; ``normality``: the distance from a normal shape), the
        diagnosis, the method and its parameters (in words; the fitted
        estimators, in ``groups_``, hold them exactly), and the reason in
        words, naming what decided.
    groups_ : list of (ndarray, list of estimators)
        The columns (indices) that share each method, with the fitted
        estimators applied to them in turn (none: unchanged).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import AutoScaler
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.normal(50, 5, 500),       # ordinary
    ...                      rng.lognormal(0, 1.5, 500),   # heavy right tail
    ...                      rng.integers(0, 2, 500),      # an indicator
    ...                      rng.integers(1, 6, 500)])     # a 5-level code
    >>> auto = AutoScaler(model="linear").fit(X)
    >>> auto.report_[["column", "kind", "diagnosis", "method"]]
      column        kind   diagnosis         method
    0      0  continuous    ordinary         zscore
    1      1  continuous  heavy_tail   log + zscore
    2      2      binary      binary    passthrough
    3      3        code        code    passthrough
    >>> print(auto.report_["reason"][3])
    5 distinct integers, the twelve commonest holding 100% of the rows, a code or level: left as it is; its values are levels, not quantities
    >>> np.allclose(auto.inverse_transform(auto.transform(X)), X)
    True
    """

    _parameter_constraints = {
        "model": [None, StrOptions(set(MODELS))],
        "rules": [None, dict],
        "bounds": [None, dict],
        "sparse_zeros": [Interval(Real, 0, 1, closed="right")],
        "shape": [Interval(Real, 0, None, closed="left")],
        "far_out": [Interval(Real, 0, 1, closed="right")],
        "sample_size": [Interval(Integral, 100, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    _learned = ("_report",)

    def __init__(self, *, model=None, rules=None, bounds=None, sparse_zeros=0.5, shape=SHAPE_FROM,
                 far_out=0.01, sample_size=100_000, random_state=0):
        self.model = model
        self.rules = rules
        self.bounds = bounds
        self.sparse_zeros = sparse_zeros
        self.shape = shape
        self.far_out = far_out
        self.sample_size = sample_size
        self.random_state = random_state

    def _drift_reference(self):
        from . import _drift

        return _drift.auto(self)

    def _drift_rows(self, X):
        return self._in_memory(X, False)

    def __setstate__(self, state):
        # (a scaler saved by 0.1.0 has the parameters of then: today's get their defaults)
        super().__setstate__(state)
        for name, default in (("shape", SHAPE_FROM), ("far_out", 0.01), ("sample_size", 100_000),
                              ("random_state", 0)):
            vars(self).setdefault(name, default)

    def __getstate__(self):
        # (saving decides: a file holds the chosen methods, never the candidates)
        self._settle()
        return super().__getstate__()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # (decided on a host sample, scaled on the device)
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "groups_") or hasattr(self, "_pending")

    def _restored(self):
        """A loaded model's groups must route every column once, each to
        column estimators of as many features."""
        from ._columns import ColumnScaler
        from ._persist import DamagedState

        if not hasattr(self, "groups_"):
            return
        n, seen = self.n_features_in_, []
        for group in self.groups_:
            cols, chain = group if isinstance(group, tuple) and len(group) == 2 else (None, None)
            if not (isinstance(cols, np.ndarray) and cols.dtype.kind in "iu" and cols.ndim == 1
                    and isinstance(chain, list)
                    and all(isinstance(e, ColumnScaler) and getattr(e, "n_features_in_", None)
                            == len(cols) for e in chain)):
                raise DamagedState("damaged AutoScaler: each of groups_ must be an array of"
                                   " column indices and column estimators fitted on as many")
            seen += cols.tolist()
        if sorted(seen) != list(range(n)) or len(getattr(self, "_report", ())) != n:
            raise DamagedState(f"damaged AutoScaler: groups_ and its report must cover its {n}"
                               " columns once each")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Diagnose every column, choose its method, and fit it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: numpy, pandas, polars, Dask, Spark or a device
            array. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        with unchanged_on_error(self, deep=True):
            self._forget()
            data = self._input(X, reset=True)
            if get_config().get("array_api_dispatch", False):  # (where transform must be called)
                self._fit_namespace = _array_api._key(data.ns)
            if data.kind == "dask":
                return self._fit_dask(data.X)
            if data.kind == "spark":
                return self._fit_spark(data.X)
            if data.kind == "device":
                return self._fit_device(data)
            X = data.X
            sample = uniform_rows(X, self.sample_size, self.random_state)
            stats = None if sample is X else Profile.stats_of(X, self._feature_names())
            self._decide(Profile.of(sample, self._feature_names(), stats))
            for cols, chain in self.groups_:
                _fit_chain(chain, X[:, cols], cols, self._feature_names(), "fit")
        return self

    @partial_fit_context
    def partial_fit(self, X, y=None):
        """Fit one more batch of rows.

        Until the decision, each column's candidate methods (every method
        its diagnosis could call for) are fitted on the batch and the rows
        join a uniform sample of the stream; the decision is made on that
        sample when the scaler is first used.  After it, only the chosen
        methods are updated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training rows. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Updated scaler.
        """
        with unchanged_on_error(self, deep=True):
            first = not self.__sklearn_is_fitted__()
            data = self._input(X, reset=first)
            if data.kind in ("dask", "spark", "device"):
                what = {"dask": "Dask collection", "spark": "Spark DataFrame",
                        "device": "device array"}[data.kind]
                raise TypeError(f"AutoScaler.partial_fit takes batches in host memory; fit a"
                                f" {what} with fit (it decides on a uniform sample of its rows).")
            X = data.X
            names = self._feature_names()
            if hasattr(self, "groups_"):  # decided: the chosen methods only
                Profile.stats_of(X, names)  # (an infinity raises, as at fit: squashing skips it)
                for cols, chain in self.groups_:
                    _fit_chain(chain, X[:, cols], cols, names, "partial_fit")
                return self
            if first:
                self._known_bounds()  # (refused now, not at the decision)
                self._check_rules()
                self._pending = _Pending(self, X.shape[1])
            self._pending.add(self, X)
        return self

    def _observe(self, X):
        """A first pass over a stream: fold the batch ``X`` into the sample
        and the statistics the decision is made on, and fit nothing; after
        the last batch, :meth:`_decide_observed` decides, and a second pass
        of :meth:`partial_fit` fits only the chosen methods (the command
        line, which can read its file twice, does so)."""
        with unchanged_on_error(self, deep=True):
            first = not self.__sklearn_is_fitted__()
            X = self._input(X, reset=first).X
            if first:
                self._known_bounds()
                self._check_rules()
                self._pending = _Pending(self, X.shape[1], candidates=False)
            self._pending.add(self, X)
        return self

    def _decide_observed(self):
        """Decide on what :meth:`_observe` gathered."""
        self._settle()
        return self

    def _forget(self):
        """Forget the last fit (restored by ``unchanged_on_error`` if this one fails)."""
        for attr in [a for a in vars(self)
                     if a.endswith("_") or a in ("_report", "_pending", "_fit_namespace")]:
            delattr(self, attr)

    def _input(self, X, reset, inverse=False):
        """``X`` through the door."""
        return self._door(X, reset=reset, inverse=inverse)

    def _in_memory(self, X, reset, inverse=False):
        """``X`` through the door as a host array (what the drift report
        reads), refusing Dask collections and device arrays."""
        data = self._input(X, reset, inverse)
        if data.kind not in ("dense",) or data.ns is not None:
            raise TypeError(
                f"this takes numpy, pandas or polars data; got {data.kind} input: pass a dense"
                " array in memory (X.compute() or a host copy), part by part if need be.")
        return data.X

    def _fit_device(self, data):
        """Decide on a uniform sample of the rows of the device array
        ``data.X``, copied to the host (with the statistics of every row
        reduced on the device), then fit each chosen method on the device."""
        from ._array_api import to_numpy
        from ._stats import ColumnStats

        X, ns, names = data.X, data.ns, self._feature_names()
        n = X.shape[0]
        if n <= self.sample_size:
            self._decide(Profile.of(to_numpy(X), names))
        else:
            keep = uniform_rows(np.arange(n)[:, None], self.sample_size, self.random_state)
            rows = ns.xp.asarray(keep[:, 0].astype(np.int64), device=ns.device)
            sample = to_numpy(ns.xp.take(X, rows, axis=0))
            self._decide(Profile.of(sample, names,
                                    ColumnStats.from_device(X, ns, feature_names=names)))
        for cols, chain in self.groups_:
            _fit_chain(chain, _columns_of(X, cols, ns), cols, names, "fit")
        return self

    def _fit_dask(self, X):
        """Decide on a uniform sample of the rows of the Dask collection ``X``
        (merged from every block), then fit each chosen method on every block."""
        from ._dask import merged_stats, reservoir

        names = self._feature_names()
        res = reservoir(self, X, self.sample_size, self.random_state)
        self._decide(Profile.of(res.rows, names,
                                merged_stats(self, X, what=("moments", "extremes"))))
        arr = X.to_dask_array(lengths=True) if hasattr(X, "to_dask_array") else X
        arr = arr.astype(np.float64) if arr.dtype not in (np.float32, np.float64) else arr
        for cols, chain in self.groups_:
            _fit_chain(chain, arr[:, cols], cols, names, "fit")
        return self

    def _fit_spark(self, X):
        """Decide on a uniform sample of the rows of the Spark DataFrame ``X``
        (drawn on the executors, every partition alike) beside the
        statistics of every row, then fit each chosen method on the frame's
        columns, each step on what the steps before it make of them
        (lazily)."""
        from . import _spark

        names = self._feature_names()
        sample = _spark.sample_rows(self, X, self.sample_size, seed=self.random_state)
        self._decide(Profile.of(sample.to_numpy(np.float64), names,
                                _spark.merged_stats(self, X, what=("moments", "extremes"))))
        for cols, chain in self.groups_:
            _fit_chain(chain, X.select(*[_spark.column(names[j]) for j in cols]), cols, names,
                       "fit")
        return self

    def transform(self, X):
        """Scale each column by the method chosen for it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to scale. NaN values pass through. A Dask collection is
            scaled block by block, a Spark DataFrame batch by batch, lazily.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Scaled data, float32 for float32 input and float64 otherwise.
        """
        return self._run(X, inverse=False)

    def inverse_transform(self, X, columns=None):
        """Map scaled data back to the original units, column by column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Scaled data; with ``columns``, only those columns, of shape
            (n_samples, len(columns)), or (n_samples,) for one.
        columns : list of str or int, str or int, default=None
            Map back only these columns (names where fit saw names, or
            indices), in this order.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Data in the original units; with ``columns``, of the shape of
            ``X``.
        """
        if columns is not None:
            check_is_fitted(self)
            self._settle()
            return inverse_of_columns(self, X, columns,
                                      lambda view, X: view._run(X, inverse=True))
        return self._run(X, inverse=True)

    # (each of these reads the chosen methods: a decision pending since partial_fit is made
    # first, as transform makes it)
    def to_dict(self):
        self._settle()
        return super().to_dict()

    def to_torch(self, module=None):
        self._settle()
        return super().to_torch(module)

    def check_drift(self, X):
        self._settle()
        return super().check_drift(X)

    to_dict.__doc__ = BaseScaler.to_dict.__doc__
    to_torch.__doc__ = BaseScaler.to_torch.__doc__
    check_drift.__doc__ = BaseScaler.check_drift.__doc__

    def _columns_view(self, idx):
        """This scaler restricted to its columns ``idx`` (in that order): each
        group's columns among them, with its estimators restricted alike."""
        view = copy.copy(self)
        names = self._feature_names()
        where = {int(j): i for i, j in enumerate(idx)}
        groups = []
        for cols, chain in self.groups_:
            local = [k for k, j in enumerate(cols) if int(j) in where]
            if local:
                groups.append((np.array([where[int(cols[k])] for k in local]),
                               [select_columns(est, np.array(local)) for est in chain]))
        view.groups_ = groups
        view.n_features_in_ = len(idx)
        if names is not None:
            view.feature_names_in_ = names[idx]
        return view

    def _run(self, X, inverse):
        check_is_fitted(self)
        self._settle()
        data = self._input(X, False, inverse)
        _array_api.check_same_namespace(self, data.ns, "inverse_transform" if inverse
                                        else "transform")
        if data.kind == "dask":
            step = self.inverse_transform if inverse else self.transform
            if hasattr(data.X, "map_partitions"):
                return data.X.map_partitions(step)
            return data.X.rechunk({1: -1}).map_blocks(
                step, dtype=np.float32 if data.X.dtype == np.float32 else np.float64)
        if data.kind == "spark":  # each method maps its columns, found by name, lazily
            out = data.X
            for cols, chain in self.groups_:
                with _named(cols, self._feature_names(), chain):
                    for est in (chain[::-1] if inverse else chain):
                        out = (est.inverse_transform if inverse else est.transform)(out)
            return out
        if data.kind == "device":
            return self._run_device(data, inverse)
        X = data.X
        if not inverse and np.isinf(X).any():  # (squashing alone would take it: be as strict
            raise_non_finite(X, np.isnan(X), 0, self._feature_names())  # as the others)
        out = np.empty(X.shape, dtype=X.dtype)
        for cols, chain in self.groups_:
            with _named(cols, self._feature_names(), chain):
                y = X[:, cols]
                for est in (chain[::-1] if inverse else chain):
                    y = (est.inverse_transform if inverse else est.transform)(y, copy=False)
                out[:, cols] = y
        if data.ns is not None:  # a CPU tensor: back to its namespace
            return data.ns.xp.asarray(out, device=data.ns.device)
        return out if inverse else _frames.like(data.source, out, self)

    def _run_device(self, data, inverse):
        """:meth:`_run` on a device array: each group's columns taken on the
        device, scaled by its chain, and put back in their order there."""
        from ._array_api import to_numpy

        X, ns, names = data.X, data.ns, self._feature_names()
        xp = ns.xp
        if not inverse and bool(xp.any(xp.isinf(X))):
            host = to_numpy(X)
            raise_non_finite(host, np.isnan(host), 0, names)
        parts, order = [], []
        for cols, chain in self.groups_:
            with _named(cols, names, chain):
                y = _columns_of(X, cols, ns)
                for est in (chain[::-1] if inverse else chain):
                    y = (est.inverse_transform if inverse else est.transform)(y)
            parts.append(y)
            order.extend(int(j) for j in cols)
        out = xp.concat(parts, axis=1)
        back = xp.asarray(np.argsort(np.array(order)).astype(np.int64), device=ns.device)
        return xp.take(out, back, axis=1)

    def _traced(self, X, ns, view):
        """:meth:`transform` of the tensor ``X`` (a torch module's forward):
        each group's columns through its chain of estimators, put back in
        order."""
        xp, parts, order = ns.xp, [], []
        for cols, chain in self.groups_:
            y = xp.take(X, ns.asarray(cols, dtype=xp.int64), axis=1)
            for est in chain:
                y = est._traced(y, ns, None)
            parts.append(y)
            order.extend(int(c) for c in cols)
        Y = xp.concat(parts, axis=1)
        return xp.take(Y, ns.asarray(np.argsort(order), dtype=xp.int64), axis=1)

    @property
    def report_(self):
        check_is_fitted(self)
        self._settle()
        return pd.DataFrame(self._report)

    def _settle(self):
        """Decide now, on the sample of every batch seen, where
        :meth:`partial_fit` left the decision pending."""
        if not hasattr(self, "groups_") and hasattr(self, "_pending"):
            with unchanged_on_error(self, deep=True):  # (a failed decision stays pending)
                self._settle_pending()

    def _settle_pending(self):
        """:meth:`_settle`'s decision: each column's chosen candidate (or,
        after :meth:`_observe`, the chosen methods unfitted)."""
        pending = self._pending
        names = self._feature_names()
        plans = self._decide(Profile.of(pending.reservoir.rows, names, pending.stats))
        if not pending.candidates:
            del self._pending
            return
        chosen = []
        for j, plan in enumerate(plans):
            fitted = pending.fitted.get((j, plan))
            if fitted is None and all(dict(params).get("data_range") for _, params in plan):
                # (a range found at the decision, as a shared 0..16: the fit is the range)
                fitted = _chain(plan)
                _fit_chain(fitted, pending.reservoir.rows[:, [j]], [j], names, "fit")
            if fitted is None:  # a method whose fit failed on a batch: its error
                raise pending.why.get((j, plan)) or ValueError(
                    f"AutoScaler chose {' + '.join(n for n, _ in plan)} for"
                    f" {column_label(j, names)} but could not fit it on the batches seen.")
            for message, category in pending.warned.get((j, plan), {}):
                warnings.warn(message, category, stacklevel=3)
            chosen.append((np.array([j]), fitted))
        self.groups_ = chosen
        del self._pending

    # ------------------------------------------------------------ the rules

    def _check_rules(self):
        unknown = sorted(set(self.rules or {}) - set(DIAGNOSES), key=str)
        if unknown:
            raise ValueError(f"rules names {', '.join(map(repr, unknown))}, which"
                             f" {'is not a diagnosis' if len(unknown) == 1 else 'are not diagnoses'};"
                             f" the diagnoses are {', '.join(DIAGNOSES)}.")
        for d, spec in (self.rules or {}).items():  # (each rule refused now, not when it applies)
            _plan(spec, d)

    def _diagnoses(self, measures):
        """A :class:`Diagnosis` per column."""
        names = self._feature_names()
        bounds = self._known_bounds()
        shared, top = shared_range(measures)
        out = []
        for j, m in enumerate(measures):
            name = None if names is None else names[j]
            if m["count"] and j in bounds:
                lo, hi = bounds[j]
                beyond = m["min"] < lo or m["max"] > hi
                out.append(Diagnosis("bounded", "bounded", f"a known range {lo:.6g}..{hi:.6g}" + (
                    f" (though the training values reach {m['min']:.6g}..{m['max']:.6g},"
                    " beyond it)" if beyond else ""), (lo, hi)))
                continue
            d = kind_of(m, name)
            if j in shared and d.kind in ("code", "count"):
                d = Diagnosis(d.kind, "bounded", f"integers from {m['min']:.0f} to"
                              f" {m['max']:.0f}, like {len(shared)} columns of this table"
                              f" sharing 0..{top:.0f}"
                              + (" (8-bit values)" if top == 255 else ""), (0.0, top))
            elif d.diagnosis is None:
                hint = d.hint
                d = shape_of(m, d.kind, sparse_zeros=self.sparse_zeros, far_out=self.far_out,
                             shape_from=self.shape)
                if hint:
                    d.measured += (f" (its name suggests {hint}s, but the values do not fit)")
            out.append(d)
        return out

    def _decide(self, profile):
        """Diagnose every column from ``profile``; build ``groups_``."""
        names = self._feature_names()
        self._check_rules()
        measures = profile.measures()
        rows, plans = [], []
        for j, (m, d) in enumerate(zip(measures, self._diagnoses(measures))):
            plan, why = self._method(d.diagnosis, d.extra)
            plans.append(plan)
            shapes = m.get("shapes") or {}
            rows.append({"column": str(j) if names is None else names[j], "kind": d.kind,
                         **{k: m.get(k) for k in REPORTED if k != "normality"},
                         "normality": shapes.get("none", {}).get("distance", np.nan),
                         "diagnosis": d.diagnosis,
                         "method": " + ".join(name for name, _ in plan) or "passthrough",
                         "params": _params_text(plan),
                         "reason": f"{d.measured}: {why}"})
        self._report = rows
        groups = {}
        for j, plan in enumerate(plans):
            groups.setdefault(plan, []).append(j)
        self.groups_ = [(np.array(cols), _chain(plan)) for plan, cols in groups.items()]
        return plans

    def _known_bounds(self):
        """``bounds`` by column index."""
        names = self._feature_names()
        known = {}
        for key, value in (self.bounds or {}).items():
            if names is not None and key in list(names):
                j = list(names).index(key)
            elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) \
                    and 0 <= key < self.n_features_in_:
                j = int(key)
            else:
                raise ValueError(f"bounds names {key!r}, which is not a column of the data"
                                 f" fitted ({self.n_features_in_} columns"
                                 f"{'' if names is None else ': ' + ', '.join(map(repr, names))}).")
            if not isinstance(value, (tuple, list)) or len(value) != 2 \
                    or not all(isinstance(v, Real) for v in value) or not value[0] < value[1]:
                raise ValueError(f"bounds[{key!r}] must be (low, high) with low < high;"
                                 f" got {value!r}.")
            known[j] = (float(value[0]), float(value[1]))
        return known

    def _candidates(self, j, bounds):
        """Every plan column ``j`` may get, whatever its data."""
        extras = {"binary": [(0.0, 1.0), (0.0, 2.0)],
                  "bounded": [bounds[j]] if j in bounds else [(0.0, 255.0)],
                  "heavy_tail": ["log", "log1p", "box-cox"], "skewed": ["yeo-johnson"]}
        plans = {self._method(d, extra)[0] for d in DIAGNOSES for extra in extras.get(d, [None])}
        return sorted(plans, key=repr)

    def _method(self, diagnosis, extra):
        """``(plan, why)``: the steps ``((name, params), ...)`` for a column of
        this diagnosis, and why, in words."""
        if self.rules and diagnosis in self.rules:
            return _plan(self.rules[diagnosis], diagnosis), f"as rules[{diagnosis!r}] says"
        model = self.model
        if model == "tree":
            return (), "left as it is; a tree splits on thresholds, which scaling does not move"
        if diagnosis == "empty":
            return (), "left as it is (NaN stays NaN)"
        if diagnosis == "constant":
            return (("zscore", ()),), "mapped to 0; it carries no information"
        if diagnosis == "binary":
            if extra == (0.0, 1.0):
                return (), "an indicator, left as it is"
            return (("minmax", ()),), "mapped to 0 and 1, an indicator"
        if diagnosis == "bounded":
            return ((("minmax", (("data_range", extra),)),),
                    "min-max over that known range, not this sample's")
        if diagnosis in ("id", "code"):
            what = "an identifier, not a quantity" if diagnosis == "id" else \
                "its values are levels, not quantities"
            if model in ("distance", "neural"):
                return (("zscore", ()),), (f"z-scored, as {what}, only so that every column is"
                                           f" on one scale for a {model} model")
            if model is None:
                return (("zscore", ()),), (f"z-scored, as {what}, only so that every column is"
                                           " on one scale whatever the model (model='linear'"
                                           " leaves it as it is)")
            return (), f"left as it is; {what}"
        if diagnosis == "calendar":
            return (("zscore", ()),), "z-score, a position in time with no shape to change"
        if diagnosis == "sparse":
            if model == "neural":
                return (("zscore", ()),), "z-scored; a network trains best on centered inputs"
            return ((("zscore", (("with_mean", False),)),),
                    "divided by its standard deviation without centering, so zeros stay zeros")
        if diagnosis == "heavy_tail":
            if extra == "box-cox":
                return ((("power", (("method", "box-cox"),)),),
                        "Box-Cox with its lambda fitted by maximum likelihood, then standardized")
            offset = 0.0 if extra == "log" else 1.0
            return ((("log", (("offset", offset),)), ("zscore", ())),
                    "a log step first (an affine map cannot change the shape), then z-score")
        if diagnosis == "skewed":
            return ((("power", (("method", "yeo-johnson"),)),),
                    "Yeo-Johnson with its lambda fitted by maximum likelihood, then"
                    " standardized")
        if diagnosis == "outliers":
            return (("squashing", ()),), ("centered on the median, divided by the"
                                          " inter-quartile range and softly clipped to (-3, 3),"
                                          " so outliers keep their order but not their leverage")
        return (("zscore", ()),), "z-score"


class _Pending:
    """What :meth:`AutoScaler.partial_fit` keeps until it decides: the
    statistics and a uniform sample of every row seen, and every candidate
    plan of every column, fitted on the batches (one column each; a plan
    whose fit fails on a batch, as a log step on a first negative value, is
    dropped with its error kept, and is chosen only to raise it)."""

    def __init__(self, est, n_features, candidates=True):
        self.reservoir = Reservoir(est.sample_size, n_features)
        self.stats = None
        self.batches = 0
        self.candidates = candidates
        bounds = est._known_bounds()
        self.fitted = {(j, plan): _chain(plan) for j in range(n_features)
                       for plan in est._candidates(j, bounds)} if candidates else {}
        self.why = {}
        self.warned = {}

    def add(self, est, X):
        names = est._feature_names()
        stats = Profile.stats_of(X, names)  # (an infinity raises here, naming its column)
        first = self.reservoir.n_rows
        self.reservoir = self.reservoir.add(*_keys(X, est.random_state, self.batches, first))
        self.stats = stats if self.stats is None else self.stats.merge(stats)
        self.batches += 1
        for (j, plan), chain in list(self.fitted.items()):
            try:
                # (a candidate's warnings are said only if it is chosen)
                with warnings.catch_warnings(record=True) as said:
                    warnings.simplefilter("always")
                    _fit_chain(chain, X[:, [j]], [j], names, "partial_fit")
            except (ValueError, ImportError) as err:
                del self.fitted[(j, plan)]
                self.why[(j, plan)] = err
                continue
            if said:
                self.warned[(j, plan)] = {(str(w.message), w.category): w for w in said}


def _keys(X, seed, batch, first):
    """``(rows, keys, positions)`` of batch number ``batch`` for a reservoir."""
    X = np.asarray(X, dtype=np.float64)
    keys = np.random.default_rng([int(seed), int(batch)]).random(X.shape[0])
    return X, keys, first + np.arange(X.shape[0], dtype=np.int64)


def _chain(plan):
    """Unfitted estimators of ``plan``, each with what its fit must keep for
    a later partial_fit to carry on (a robust fit's sketches)."""
    return [SCALERS[name](**{**SCALERS[name]._resumable_params, **dict(params)})
            for name, params in plan]


def _columns_of(X, cols, ns):
    """Columns ``cols`` of the device array ``X``, on its device."""
    return ns.xp.take(X, ns.xp.asarray(np.asarray(cols, dtype=np.int64), device=ns.device),
                      axis=1)


def _fit_chain(chain, y, cols, names, call):
    """``call`` ("fit" or "partial_fit") each estimator of ``chain`` on
    ``y``, each on what the ones before it make of it."""
    with _named(cols, names, chain):
        for i, est in enumerate(chain):
            getattr(est, call)(y)
            if i + 1 < len(chain):
                y = est.transform(y, copy=False)


def _params_text(plan):
    """A plan's parameters in words: ``"offset=1.5"``; each step's named
    where several steps have some."""
    def value(v):
        if isinstance(v, float):
            return f"{v:.6g}"
        if isinstance(v, tuple):
            return "(" + ", ".join(value(x) for x in v) + ")"
        return repr(v)

    texts = [(name, ", ".join(f"{k}={value(v)}" for k, v in params)) for name, params in plan]
    given = [(name, text) for name, text in texts if text]
    if len(given) == 1:
        return given[0][1]
    return "; ".join(f"{name}: {text}" for name, text in given)


def _plan(spec, diagnosis):
    """A rule's method as the steps ``((name, params), ...)``: column methods
    only (a per-sample one would mix the columns that share a diagnosis)."""
    methods = column_methods()
    steps = spec if isinstance(spec, list) else [spec]
    plan = []
    for step in steps:
        name, params = (step, {}) if isinstance(step, str) else (
            step if isinstance(step, tuple) and len(step) == 2 else (None, None))
        if name == "passthrough" and not params:
            continue
        if name not in methods or not isinstance(params, dict):
            raise ValueError(
                f"rules[{diagnosis!r}] must be a column method ({', '.join(methods)}),"
                " 'passthrough', a (name, params) pair or a list of them; got"
                f" {spec!r}.")
        plan.append((name, tuple(sorted((k, _frozen(v)) for k, v in params.items()))))
    return tuple(plan)


def _frozen(value):
    """``value`` with its lists as tuples, so that a plan can key a dict."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


class _named:
    """Re-raise a column estimator's error with its ``column k`` (of the
    columns it was given) named as the user's column, and with what to do
    where the cause is a choice AutoScaler made."""

    def __init__(self, cols, names, chain):
        self.cols, self.names, self.chain = cols, names, chain

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        labels = ", ".join(column_label(int(j), self.names) for j in self.cols)
        if kind is ImportError:  # a streamed rank statistic without DataSketches
            what = " + ".join(type(est).__name__ for est in self.chain)
            raise ImportError(f"AutoScaler chose {what} for {labels}: {err}") from err
        if kind is not ValueError:
            return False
        text = re.sub(r"\b([Cc])olumn (\d+)\b", self._label, str(err))
        cause = re.match(r"(.*?ha(?:s|ve) no logarithm\.)", text, re.S)
        if cause and any(type(est).__name__ == "LogScaler" for est in self.chain):
            text = (f"{cause.group(1)} AutoScaler chose a log step for it from"
                    " training values all at or above 0; refit on data that covers this value,"
                    " or pass rules={'heavy_tail': 'zscore'} (or another method).")
        if text != str(err):
            raise ValueError(text) from err
        return False

    def _label(self, m):
        k = int(m.group(2))
        if k >= len(self.cols):
            return m.group(0)
        label = column_label(int(self.cols[k]), self.names)
        return label[0].upper() + label[1:] if m.group(1) == "C" else label
