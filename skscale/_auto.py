"""AutoScaler: each column's method chosen from the column itself, with reasons.

At ``fit`` every column is profiled in one pass (:mod:`skscale._profile`),
given one diagnosis by the rules below, and the diagnosis becomes a method of
:data:`skscale.SCALERS` (or a log step then z-score, or no change) by a table
that the ``model`` hint adjusts and ``rules`` overrides.  Columns with the same
method and parameters share one estimator of that method, which does all the
work: this module decides and routes, and holds no method's arithmetic.
"""

import copy
import re
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _frames
from ._base import BaseScaler, partial_fit_context, unchanged_on_error
from ._columns import inverse_of_columns, select_columns
from ._errors import column_label
from ._profile import Profile, skew_after_log
from ._registry import SCALERS, column_methods

#: The diagnoses, in the order the rules try them.
DIAGNOSES = ("empty", "constant", "binary", "bounded", "sparse", "heavy_tail", "outliers",
             "ordinary")
MODELS = ("linear", "distance", "tree", "neural")
#: Integer ranges taken as known without being told: 8-bit values (declare
#: others, such as 16-bit images, with ``bounds``).
KNOWN_RANGES = ((255, "8-bit"),)


class AutoScaler(BaseScaler):
    """Choose each column's scaling from the column's own data, and say why.

    At :meth:`fit`, one pass measures every column (count, mean, standard
    deviation, extremes, quantiles, the share of zeros, integrality, the
    number of distinct values) and the first rule that applies gives its
    diagnosis:

    ==============  =====================================================  ==========================
    diagnosis       when                                                   method (``model=None``)
    ==============  =====================================================  ==========================
    ``empty``       no value at fit                                        unchanged
    ``constant``    minimum equals maximum                                 ``zscore`` (maps to 0)
    ``binary``      exactly two values                                     unchanged if 0 and 1, else
                                                                           ``minmax`` to 0 and 1
    ``bounded``     a range given in ``bounds`` (checked first), or        ``minmax`` with
                    integers in 0..255 from below 32 to 230 or more        ``data_range`` the known
                    (8-bit values)                                         range
    ``sparse``      at least ``sparse_zeros`` of the values are 0          ``zscore`` without
                                                                           centering (zeros stay 0)
    ``heavy_tail``  no negative value, quantile skewness at least          ``log`` with offset the
                    ``skew``, and less skewed after the logarithm          5th percentile of the
                                                                           positive values, then
                                                                           ``zscore``
    ``outliers``    standard deviation at least ``outlier_spread`` times   ``robust``
                    the one the quartiles imply for normal data
                    (``iqr / 1.349``)
    ``ordinary``    none of the above                                      ``zscore``
    ==============  =====================================================  ==========================

    The quantile skewness is ``(p90 + p10 - 2 * p50) / (p90 - p10)``: 0 for
    a symmetric column, 0.47 for an exponential one, and not moved by a few
    extreme values.  An affine map (every method here but the logarithm)
    leaves skewness as it is, so skewness decides only whether a log step
    comes first; outliers, zeros and known bounds choose among the affine
    methods.

    The ``model`` hint changes the table where models differ: ``"tree"``
    leaves every column unchanged (a tree splits on thresholds, which no
    monotone map moves); ``"distance"`` z-scores binary columns too, so every
    column weighs the same in a distance; ``"neural"`` centers sparse columns
    (gradient descent trains best on centered inputs); ``"linear"`` and None
    keep the table.  ``rules`` overrides any row.

    Decisions are made once: :meth:`partial_fit` decides on its first batch
    and afterwards only updates each column's estimator; :meth:`fit` decides
    afresh.

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
    skew : float, default=0.3
        Quantile skewness from which a non-negative column gets a log step.
    outlier_spread : float, default=2.0
        Ratio of the standard deviation to ``iqr / 1.349`` from which a
        column counts as having heavy outliers.

    Attributes
    ----------
    report_ : pandas.DataFrame
        One row per column: its name, what was measured, the diagnosis, the
        method and its parameters (in words; the fitted estimators, in
        ``groups_``, hold them exactly), and the reason in words.
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
    ...                      rng.integers(0, 256, 500)])   # 8-bit pixels
    >>> auto = AutoScaler().fit(X)
    >>> auto.report_[["column", "diagnosis", "method"]]
      column   diagnosis         method
    0      0    ordinary         zscore
    1      1  heavy_tail   log + zscore
    2      2      binary    passthrough
    3      3     bounded         minmax
    >>> print(auto.report_["reason"][3])
    integers from 0 to 255 within 0..255 (8-bit values): min-max over that known range, not this sample's
    >>> np.allclose(auto.inverse_transform(auto.transform(X)), X)
    True
    """

    _parameter_constraints = {
        "model": [None, StrOptions(set(MODELS))],
        "rules": [None, dict],
        "bounds": [None, dict],
        "sparse_zeros": [Interval(Real, 0, 1, closed="right")],
        "skew": [Interval(Real, 0, None, closed="left")],
        "outlier_spread": [Interval(Real, 1, None, closed="left")],
    }

    _learned = ("_report",)

    def __init__(self, *, model=None, rules=None, bounds=None, sparse_zeros=0.5, skew=0.3,
                 outlier_spread=2.0):
        self.model = model
        self.rules = rules
        self.bounds = bounds
        self.sparse_zeros = sparse_zeros
        self.skew = skew
        self.outlier_spread = outlier_spread

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = False  # (numpy, pandas and polars only)
        return tags

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
            Training data. NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        return self._update(X, "fit")

    @partial_fit_context
    def partial_fit(self, X, y=None):
        """Update each column's estimator with one more batch of rows; the
        first batch also decides the methods.

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
        return self._update(X, "partial_fit")

    def _in_memory(self, X, reset, inverse=False):
        """``X`` through the door, refusing what the column routing cannot take."""
        data = self._door(X, reset=reset, inverse=inverse)
        if data.kind == "spark":
            raise TypeError(
                "AutoScaler takes data in memory (numpy, pandas, polars), not a Spark"
                " DataFrame: fit it on a uniform sample of the rows, e.g."
                " df.sample(fraction=0.01).toPandas() (df.limit(n) would read the first"
                " partitions only), and transform with df.mapInPandas.")
        if data.kind == "dask":
            raise TypeError(
                "AutoScaler takes data in memory (numpy, pandas, polars), not a Dask"
                " collection: fit it on a uniform sample of the rows, e.g."
                " X.sample(frac=0.05).compute() for a DataFrame (X.head() would read the"
                " first partition only), and transform"
                " block by block with X.map_partitions(scaler.transform).")
        if data.ns is not None:
            raise TypeError(
                "AutoScaler takes numpy, pandas and polars data, not arrays of"
                f" {type(X).__module__.partition('.')[0]}: convert them first, e.g."
                " X.cpu().numpy() for a torch tensor.")
        return data.X

    def _update(self, X, call):
        # (deep: the column estimators change in place)
        with unchanged_on_error(self, deep=True):
            if call == "fit":  # forget the last fit (restored below if this one fails)
                for attr in [a for a in vars(self) if a.endswith("_") or a == "_report"]:
                    delattr(self, attr)
            first = not hasattr(self, "groups_")
            X = self._in_memory(X, first)
            names = self._feature_names()
            if first:
                self._decide(Profile.of(X, names))
            for cols, chain in self.groups_:
                with _named(cols, names, chain):
                    y = X[:, cols]
                    for i, est in enumerate(chain):
                        getattr(est, call)(y)
                        if i + 1 < len(chain):
                            y = est.transform(y, copy=False)
        return self

    def transform(self, X):
        """Scale each column by the method chosen for it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to scale. NaN values pass through.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Scaled data, float32 for float32 input and float64 otherwise.
        """
        return _frames.like(X, self._run(X, inverse=False), self)

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
            return inverse_of_columns(self, X, columns,
                                      lambda view, X: view._run(X, inverse=True))
        return self._run(X, inverse=True)

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
        X = self._in_memory(X, False, inverse)
        out = np.empty(X.shape, dtype=X.dtype)
        for cols, chain in self.groups_:
            with _named(cols, self._feature_names(), chain):
                y = X[:, cols]
                for est in (chain[::-1] if inverse else chain):
                    y = (est.inverse_transform if inverse else est.transform)(y, copy=False)
                out[:, cols] = y
        return out

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
        return pd.DataFrame(self._report)

    # ------------------------------------------------------------ the rules

    def _decide(self, profile):
        """Diagnose every column from ``profile``; build ``groups_``."""
        names = self._feature_names()
        bounds = self._known_bounds()
        unknown = sorted(set(self.rules or {}) - set(DIAGNOSES), key=str)
        if unknown:
            raise ValueError(f"rules names {', '.join(map(repr, unknown))}, which"
                             f" {'is not a diagnosis' if len(unknown) == 1 else 'are not diagnoses'};"
                             f" the diagnoses are {', '.join(DIAGNOSES)}.")
        for d, spec in (self.rules or {}).items():  # (each rule refused now, not when it applies)
            _plan(spec, d)
        rows, plans = [], []
        for j, m in enumerate(profile.measures()):
            diagnosis, measured, extra = self._diagnose(m, bounds.get(j))
            plan, why = self._method(diagnosis, m, extra)
            plans.append(plan)
            rows.append({"column": str(j) if names is None else names[j],
                         **{k: m[k] for k in ("count", "missing", "min", "max", "mean", "std",
                                              "p1", "p25", "p50", "p75", "p99", "zeros",
                                              "integral", "skew", "spread", "far_out")},
                         "diagnosis": diagnosis,
                         "method": " + ".join(name for name, _ in plan) or "passthrough",
                         "params": _params_text(plan),
                         "reason": f"{measured}: {why}"})
        self._report = rows
        groups = {}
        for j, plan in enumerate(plans):
            groups.setdefault(plan, []).append(j)
        # (each with what its fit must keep for a later partial_fit to carry on,
        # which AutoScaler promises: a robust fit's sketches)
        self.groups_ = [(np.array(cols), [SCALERS[name](**{**SCALERS[name]._resumable_params,
                                                            **dict(params)})
                                          for name, params in plan])
                        for plan, cols in groups.items()]

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

    def _diagnose(self, m, bounds):
        """``(diagnosis, what was measured in words, parameters it implies)``."""
        if m["count"] == 0:
            return "empty", "no value at fit", None
        if bounds is not None:
            beyond = m["min"] < bounds[0] or m["max"] > bounds[1]
            return "bounded", f"a known range {bounds[0]:.6g}..{bounds[1]:.6g}" + (
                f" (though the training values reach {m['min']:.6g}..{m['max']:.6g}, beyond it)"
                if beyond else ""), bounds
        if m["min"] == m["max"]:
            return "constant", f"constant (every value is {m['min']:.6g})", None
        if m["n_values"] == 2:
            a, b = m["values"]
            return "binary", f"two values, {a:.6g} and {b:.6g}", (a, b)
        if m["integral"] and m["min"] >= 0:
            for top, bits in KNOWN_RANGES:
                if m["min"] < (top + 1) / 8 and 0.9 * top <= m["max"] <= top:
                    return ("bounded", f"integers from {m['min']:.0f} to {m['max']:.0f} within"
                            f" 0..{top} ({bits} values)", (0.0, float(top)))
        if m["zeros"] >= self.sparse_zeros:
            return "sparse", f"{m['zeros']:.0%} zeros", None
        if m["min"] >= 0 and m["skew"] >= self.skew:
            offset = float(m["offset"])
            after = skew_after_log(m, offset)
            if abs(after) < m["skew"]:
                return ("heavy_tail", f"no negative value and a heavy right tail (quantile"
                        f" skewness {m['skew']:.2f}; {after:.2f} after log(x + {offset:.3g}))",
                        offset)
        if m["iqr"] > 0 and m["spread"] >= self.outlier_spread:
            return ("outliers", f"heavy outliers (standard deviation {m['spread']:.1f} times"
                    f" what the quartiles imply for normal data; {m['far_out']:.1%} of values"
                    " beyond 3 IQR of the quartiles)", None)
        return "ordinary", "nothing unusual (no known range, many zeros, heavy tail or outliers)", None

    def _method(self, diagnosis, m, extra):
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
            if model == "distance":
                return (("zscore", ()),), ("z-scored like every column, so that it weighs as"
                                           " much in a distance")
            if extra == (0.0, 1.0):
                return (), "an indicator, left as it is"
            return (("minmax", ()),), "mapped to 0 and 1, an indicator"
        if diagnosis == "bounded":
            return ((("minmax", (("data_range", extra),)),),
                    "min-max over that known range, not this sample's")
        if diagnosis == "sparse":
            if model == "neural":
                return (("zscore", ()),), "z-scored; a network trains best on centered inputs"
            return ((("zscore", (("with_mean", False),)),),
                    "divided by its standard deviation without centering, so zeros stay zeros")
        if diagnosis == "heavy_tail":
            return ((("log", (("offset", extra),)), ("zscore", ())),
                    "a log step first (an affine map cannot change skewness), then z-score")
        if diagnosis == "outliers":
            return (("robust", ()),), ("centered on the median and divided by the"
                                       " inter-quartile range, which outliers hardly move")
        return (("zscore", ()),), "z-score"


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
        if kind is ImportError:  # a streamed robust scaling without DataSketches
            raise ImportError(f"AutoScaler chose robust scaling for {labels}: {err}") from err
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
