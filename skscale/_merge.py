"""Scalers fitted on different rows of the same columns, merged into one.

A column scaler keeps mergeable statistics (:class:`~skscale._stats.ColumnStats`,
KLL :class:`~skscale._quantiles.Sketches`, batch normalization's running
statistics), so the scalers of shards, folds or sites merge into the one a
fit on all their rows gives.  This module checks that the scalers can merge
(one class, the same parameters, the same columns, matched by name where
they have names) and hands their statistics, in the first one's column
order, to the method's own ``_merged``; it holds no method's arithmetic
and changes none of the scalers it is given.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted


def merge(scalers):
    """One scaler equal to a fit on all the rows the ``scalers`` were fitted on.

    Each scaler was fitted (or ``partial_fit``) on other rows of the same
    columns, with the same method and parameters; the result is what one
    fit on all those rows gives: to rounding for means and variances,
    exactly for minima and maxima (min-max, max-abs, decimal and log
    scaling), and within the sketches' rank error for quantiles (robust,
    quantile and squashing scaling, which need the sketches: fitted with
    ``partial_fit``, on Dask, or with ``keep_sketch=True``).  Batch
    normalization's running statistics merge as if the scalers' mini-batches
    had been taken in the order given.  The merged scaler continues with
    ``partial_fit`` and merges again.  Power transforms do not merge (each
    measures its moments from a point its own first rows chose): fit one on
    the first part and ``partial_fit`` it on the others.

    Columns are matched by name where the scalers were fitted with names,
    in the first scaler's order; otherwise by position.  ``Scaler`` merges
    the scalers it holds; per-sample scalers learn nothing from rows, and
    merge into a copy of the first.

    Parameters
    ----------
    scalers : list of fitted estimators
        Of one class of :data:`skscale.SCALERS` (or ``Scaler``s of one
        method), with equal parameters (``copy`` aside).

    Returns
    -------
    merged : estimator
        A new fitted estimator; the given ones are left as they were.

    Raises
    ------
    ValueError
        Where the scalers are of different methods or parameters, have
        different columns, are not fitted, or their method cannot merge
        what they learned (the message says why).

    Examples
    --------
    >>> import numpy as np
    >>> from skscale import ZScoreScaler, merge
    >>> X = np.array([[1.0], [2.0], [4.0], [9.0]])
    >>> a, b = ZScoreScaler().fit(X[:1]), ZScoreScaler().fit(X[1:])
    >>> merged = merge([a, b])
    >>> merged.mean_, ZScoreScaler().fit(X).mean_
    (array([4.]), array([4.]))
    >>> bool(np.allclose(merged.scale_, ZScoreScaler().fit(X).scale_))
    True
    """
    from ._auto import AutoScaler
    from ._rows import RowScaler
    from ._scaler import Scaler

    scalers = list(scalers)
    if not scalers:
        raise ValueError("merge needs at least one fitted scaler.")
    first = scalers[0]
    kinds = {type(s) for s in scalers}
    if len(kinds) > 1:
        raise ValueError("merge takes scalers of one method; got "
                         + ", ".join(sorted(k.__name__ for k in kinds)) + ".")
    if isinstance(first, AutoScaler):
        raise ValueError(
            "AutoScaler chose each column's method from its own rows, so AutoScalers fitted"
            " on different rows may differ in what they are: fit one AutoScaler on the first"
            " part and partial_fit it on the others, or merge column scalers.")
    for s in scalers:
        check_is_fitted(s)
    _check_params(scalers)
    if isinstance(first, Scaler):
        merged = clone(first)
        merged.scaler_ = merge([s.scaler_ for s in scalers])
        merged._built_with = (first.method, first.params)
        merged._copy_input_attributes()
        return merged
    parts = _in_first_order(scalers)
    if isinstance(first, RowScaler):
        import copy

        return copy.deepcopy(first)
    return type(first)._merged(parts)


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.all(np.asarray(a) == np.asarray(b)))
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _check_params(scalers):
    first = scalers[0].get_params(deep=False)
    for s in scalers[1:]:
        other = s.get_params(deep=False)
        differ = [k for k in first if k != "copy" and not _same(first[k], other[k])]
        if differ:
            k = differ[0]
            raise ValueError(
                f"cannot merge {type(s).__name__}s of different parameters: {k}={first[k]!r}"
                f" in the first, {k}={other[k]!r} in another. Scalers merge only when they"
                " scale alike.")


def _in_first_order(scalers):
    """The scalers, each restricted to the first one's columns in its order
    (by name where they have names), refused where the columns differ."""
    from ._columns import select_columns
    from ._rows import RowScaler

    first = scalers[0]
    n, names = first.n_features_in_, getattr(first, "feature_names_in_", None)
    out = [first]
    for s in scalers[1:]:
        other = getattr(s, "feature_names_in_", None)
        if (names is None) != (other is None):
            raise ValueError("cannot merge scalers fitted with column names and scalers fitted"
                             " without them: columns match by name, or by position where none"
                             " has names.")
        if names is None:
            if s.n_features_in_ != n:
                raise ValueError(f"cannot merge scalers of {n} and {s.n_features_in_} columns.")
            out.append(s)
            continue
        missing = [c for c in names if c not in set(other)]
        extra = [c for c in other if c not in set(names)]
        if missing or extra:
            raise ValueError(
                "cannot merge scalers of different columns:"
                + (f" {', '.join(map(repr, missing))} only in the first" if missing else "")
                + (";" if missing and extra else "")
                + (f" {', '.join(map(repr, extra))} only in another" if extra else "") + ".")
        if list(other) == list(names) or isinstance(s, RowScaler):
            out.append(s)
        else:
            order = {c: j for j, c in enumerate(other)}
            out.append(select_columns(s, np.array([order[c] for c in names])))
    return out
