"""UnitNormScaler against scikit-learn's Normalizer, and its exact inverse."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import Normalizer

from skscale import UnitNormScaler
from skscale._kernels import block_rows


def _data(seed=0, n=None, d=7):
    rng = np.random.default_rng(seed)
    n = n or 2 * block_rows(d) + 11  # several blocks and a ragged end
    X = rng.normal(size=(n, d)) * rng.uniform(0.01, 1000, size=d)
    X[3] = 0.0  # a zero row stays zero
    return X


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_equals_sklearn_normalizer(norm, dtype):
    X = _data().astype(dtype)
    ours = UnitNormScaler(norm).fit(X).transform(X)
    ref = Normalizer(norm).fit(X).transform(X)
    assert ours.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 2e-7
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * np.abs(ref).max())
    np.testing.assert_array_equal(ours[3], 0.0)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_sparse_equals_sklearn_normalizer(norm):
    X = sp.random(300, 9, density=0.3, format="csr", random_state=1) * 50
    ours = UnitNormScaler(norm).fit(X).transform(X)
    ref = Normalizer(norm).fit(X).transform(X)
    np.testing.assert_allclose(ours.toarray(), ref.toarray(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_nan_is_ignored_in_the_norm_and_passed_through(norm):
    X = _data(n=50)
    X_nan = X.copy()
    X_nan[5, 2] = np.nan
    Xt = UnitNormScaler(norm).fit(X_nan).transform(X_nan)
    row = np.delete(X[5], 2)[None]
    np.testing.assert_allclose(np.delete(Xt[5], 2)[None], Normalizer(norm).transform(row),
                               rtol=1e-12)
    assert np.isnan(Xt[5, 2])


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_inverse_with_sample_stats_is_exact_to_rounding(norm):
    X = _data()
    scaler = UnitNormScaler(norm).fit(X)
    norms = scaler.sample_stats(X)
    expected = {"l1": np.abs(X).sum(axis=1), "l2": np.sqrt((X * X).sum(axis=1)),
                "max": np.abs(X).max(axis=1)}[norm]
    np.testing.assert_allclose(norms, expected, rtol=1e-13)
    back = scaler.inverse_transform(scaler.transform(X), sample_stats=norms)
    np.testing.assert_allclose(back, X, rtol=1e-14, atol=1e-14 * np.abs(X).max())
    with pytest.raises(ValueError, match="sample_stats"):
        scaler.inverse_transform(scaler.transform(X))
    with pytest.raises(ValueError, match="row norms"):
        scaler.inverse_transform(scaler.transform(X), sample_stats=norms[:-1])
