"""MaxAbsScaler against scikit-learn's MaxAbsScaler."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn import preprocessing as skp

from skscale._maxabs import MaxAbsScaler

from reference import assert_close


def _data(seed=0, n=400, d=7, nan=True):
    """Random columns and adversarial ones: constant, all zero, at 1e8, near
    1e300, negative-only, all NaN (with ``nan``), ties."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d)
    X[:, 1] = 7.25
    X[:, 2] = 0.0
    X[:, 3] += 1e8
    X[:, 4] = rng.uniform(-1, 1, n) * 1e300
    X[:, 5] = -rng.exponential(size=n)
    X[: n // 2, 6] = 3.0
    if nan:
        X[rng.random((n, d)) < 0.1] = np.nan
        X = np.column_stack([X, np.full(n, np.nan)])
    return X


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("nan", [False, True])
def test_equals_sklearn(kernels, clip, nan):
    X, X_test = _data(nan=nan), 3 * _data(seed=1, nan=nan)
    ours, ref = MaxAbsScaler(clip=clip).fit(X), skp.MaxAbsScaler(clip=clip).fit(X)
    np.testing.assert_array_equal(ours.max_abs_, ref.max_abs_)
    np.testing.assert_array_equal(ours.scale_, ref.scale_)
    assert ours.n_samples_seen_ == ref.n_samples_seen_
    assert_close(ours.transform(X_test), ref.transform(X_test), rtol=1e-15)
    if not clip:
        assert_close(ours.inverse_transform(ours.transform(X_test)), X_test, rtol=1e-15)
        seen = slice(None, -1 if nan else None)  # (not the all-NaN column)
        np.testing.assert_array_equal(np.nanmax(np.abs(ours.transform(X)[:, seen]), axis=0),
                                      np.where(ref.max_abs_[seen] > 0, 1.0, 0.0))


def test_float32_kept_and_rounded_from_float64():
    X = _data(nan=True)
    X[:, 4] = 1e30  # within float32
    X32 = X.astype(np.float32)
    out = MaxAbsScaler().fit(X32).transform(X32)
    assert out.dtype == np.float32
    ref = skp.MaxAbsScaler().fit(X32.astype(np.float64)).transform(X32.astype(np.float64))
    np.testing.assert_array_equal(out, ref.astype(np.float32))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("clip", [False, True])
def test_sparse_equals_sklearn(fmt, clip):
    X = sp.random(300, 6, density=0.3, format=fmt, random_state=0) * 10 - \
        sp.random(300, 6, density=0.1, format=fmt, random_state=1) * 30
    ours, ref = MaxAbsScaler(clip=clip).fit(X), skp.MaxAbsScaler(clip=clip).fit(X)
    np.testing.assert_array_equal(ours.max_abs_, ref.max_abs_)
    Y, want = ours.transform(2 * X), ref.transform(2 * X)
    assert sp.issparse(Y) and Y.format == fmt
    np.testing.assert_allclose(Y.toarray(), want.toarray(), rtol=1e-15, atol=0)
    if not clip:
        np.testing.assert_allclose(ours.inverse_transform(Y).toarray(), 2 * X.toarray(),
                                   rtol=1e-15)


def test_partial_fit_is_fit_exactly():
    X = _data(nan=True)
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(1, len(X)), 6, replace=False))
    est = MaxAbsScaler()
    for part in np.split(X, cuts):
        est.partial_fit(part)
    ref = skp.MaxAbsScaler().fit(X)
    np.testing.assert_array_equal(est.max_abs_, ref.max_abs_)
    np.testing.assert_array_equal(est.scale_, MaxAbsScaler().fit(X).scale_)
    # (sparse statistics take the moments too, whose sums overflow at 1e300:
    # that column is left out here)
    Z = np.nan_to_num(np.delete(X, 4, axis=1))
    sparse = MaxAbsScaler()
    for part in np.split(Z, cuts):
        sparse.partial_fit(sp.csr_matrix(part))
    np.testing.assert_array_equal(sparse.max_abs_, skp.MaxAbsScaler().fit(Z).max_abs_)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_frames_keep_nulls(kind):
    X = _data(nan=False)[:, :4]
    names = list("abcd")
    if kind == "pandas":
        frame = pd.DataFrame(X, columns=names).astype("Float64")
        frame.iloc[3, 1] = pd.NA
    else:
        frame = pl.DataFrame(X, schema=names).with_columns(
            pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("b")).alias("b"))
    est = MaxAbsScaler().set_output(transform=kind).fit(frame)
    out = est.transform(frame)
    if kind == "pandas":
        assert out["b"].isna().tolist() == [i == 3 for i in range(len(X))]
        got = out.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        assert out["b"].is_null().to_list() == [i == 3 for i in range(len(X))]
        got = out.to_numpy()
    want_X = X.copy()
    want_X[3, 1] = np.nan
    assert_close(got, skp.MaxAbsScaler().fit(want_X).transform(want_X), rtol=1e-15)


def test_errors_name_the_column():
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [np.inf, 1.0]})
    with pytest.raises(ValueError, match="column 'b'"):
        MaxAbsScaler().fit(X)
