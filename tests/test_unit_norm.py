"""UnitNormScaler against scikit-learn's Normalizer, and its exact inverse; all
per-sample scalers are stateless."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import Normalizer

from skscale import GroupNormScaler, InstanceNormScaler, LayerNormScaler, UnitNormScaler
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


# --- stateless, as sklearn's Normalizer -------------------------------------------------

ROW_SCALERS = [
    lambda: UnitNormScaler("l1"),
    lambda: LayerNormScaler(shift=0.5),
    lambda: GroupNormScaler(2, n_channels=4, scale=[1.0, 0.5, -2.0, 3.0]),
    lambda: InstanceNormScaler(4, eps=0.0),
]


@pytest.mark.parametrize("make", ROW_SCALERS)
def test_per_sample_scalers_work_without_fit_and_store_nothing(make):
    X = _data(n=40, d=8)
    frame = pd.DataFrame(X, columns=list("abcdefgh"))
    scaler = make()
    assert scaler.__sklearn_tags__().requires_fit is False
    params = dict(vars(scaler))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names, but ... fitted without"
        got, stats = scaler.transform(frame), scaler.sample_stats(frame)
        back = scaler.inverse_transform(got, sample_stats=stats)
    assert vars(scaler) == params  # nothing stored
    fitted = make().fit(X)
    np.testing.assert_array_equal(got, fitted.transform(X))
    np.testing.assert_array_equal(np.asarray(stats), np.asarray(fitted.sample_stats(X)))
    np.testing.assert_allclose(back, X, rtol=1e-13, atol=1e-13 * np.abs(X).max())
    # Unfitted, X's own width and names are what errors speak of.
    frame.loc[3, "c"] = np.inf
    with pytest.raises(ValueError, match="infinity .* column 'c' at row 3"):
        scaler.transform(frame)
    assert vars(scaler) == params
    # Fitted, X must have the width seen in fit.
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 8"):
        fitted.transform(X[:, :4])


@pytest.mark.parametrize("scaler, match", [
    (GroupNormScaler(3), "num_groups=3 does not divide .* C=8"),
    (InstanceNormScaler(3), "n_features=8 is not a multiple of n_channels=3"),
    (InstanceNormScaler(8), "Expected more than 1 spatial element"),
    (LayerNormScaler(scale=np.ones(5)), r"one value per feature \(8\)"),
    (LayerNormScaler(eps=-1.0), "'eps' parameter"),
    (UnitNormScaler("l3"), "'norm' parameter"),
])
def test_unfitted_transform_checks_parameters_against_X(scaler, match):
    params = dict(vars(scaler))
    for method in (scaler.transform, scaler.sample_stats):
        with pytest.raises(ValueError, match=match):
            method(np.ones((3, 8)))
    assert vars(scaler) == params


def test_failed_fit_keeps_the_previous_one():
    X = _data(n=10, d=8)
    scaler = GroupNormScaler(2).fit(X)
    expected = scaler.transform(X)
    with pytest.raises(ValueError, match="num_groups=2 does not divide"):
        scaler.fit(np.ones((3, 5)))
    assert (scaler.n_features_in_, scaler.n_groups_, scaler.n_channels_) == (8, 2, 8)
    np.testing.assert_array_equal(scaler.transform(X), expected)
