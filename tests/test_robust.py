"""RobustScaler against scikit-learn's RobustScaler, and its sketches against
exact ranks of the data they summarize."""

import dask.array as da
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn import preprocessing as skp

from skscale import RobustScaler
from skscale._quantiles import Sketches

from reference import assert_close

RTOL = 1e-12


def _data(seed=0, n=500, d=6, nan=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 100, d) + [0, 1e8, -3, 0, 5, 0]
    X[:, 2] = 7.25  # constant
    X[: n // 10, 3] = 1e6  # a tenth of the rows are outliers
    X[: int(n * 0.6), 5] = 0.0  # most values equal: the quartiles coincide
    if nan:
        X[rng.random((n, d)) < 0.1] = np.nan
    return X


@pytest.mark.parametrize("params", [
    {}, {"unit_variance": True}, {"quantile_range": (10.0, 90.0)}, {"quantile_range": (0, 100)},
    {"quantile_range": (30.0, 30.0)}, {"with_centering": False}, {"with_scaling": False}])
@pytest.mark.parametrize("nan", [False, True])
def test_fit_equals_sklearn(params, nan):
    X, X_test = _data(nan=nan), _data(seed=1, nan=nan)
    ours, ref = RobustScaler(**params).fit(X), skp.RobustScaler(**params).fit(X)
    for name in ("center_", "scale_"):
        want = getattr(ref, name)
        if want is None:
            assert getattr(ours, name) is None
        else:
            np.testing.assert_allclose(getattr(ours, name), want, rtol=RTOL, atol=0)
    assert_close(ours.transform(X_test), ref.transform(X_test))
    assert_close(ours.inverse_transform(ours.transform(X_test)), X_test)
    assert ours.rank_error_ == 0.0


def test_float32_agrees_to_float32_rounding():
    X = _data(nan=True)
    ours = RobustScaler().fit(X.astype(np.float32))
    out = ours.transform(X.astype(np.float32))
    assert out.dtype == np.float32
    ref = skp.RobustScaler().fit(X.astype(np.float32).astype(np.float64))
    assert_close(out.astype(np.float64), ref.transform(X.astype(np.float32).astype(np.float64)),
           rtol=2e-7)


def test_sparse_without_centering_equals_sklearn():
    X = sp.random(300, 5, density=0.3, format="csr", random_state=0) * 10
    ours = RobustScaler(with_centering=False).fit(X)
    ref = skp.RobustScaler(with_centering=False).fit(X)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=RTOL)
    out = ours.transform(X)
    assert sp.issparse(out)
    np.testing.assert_allclose(out.toarray(), ref.transform(X).toarray(), rtol=RTOL)
    stream = RobustScaler(with_centering=False).partial_fit(X[:100]).partial_fit(X[100:])
    np.testing.assert_allclose(stream.scale_, ref.scale_, rtol=RTOL)  # (exact: small sketches)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_frames_are_read_column_by_column_like_arrays(kind):
    X = _data(nan=True)
    names = [f"c{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names) if kind == "pandas" else pl.DataFrame(X, schema=names)
    ours = RobustScaler().fit(frame)
    np.testing.assert_allclose(ours.center_, skp.RobustScaler().fit(X).center_, rtol=RTOL)
    np.testing.assert_array_equal(ours.feature_names_in_, names)


def test_small_streams_are_exact_and_equal_fit():
    # While each sketch holds every value, partial_fit over any split is fit.
    X = _data(nan=True)
    stream = RobustScaler()
    for part in np.array_split(X, 7):
        stream.partial_fit(part)
    fit = RobustScaler().fit(X)
    assert stream.rank_error_ == 0.0 and stream.n_samples_seen_ == len(X)
    np.testing.assert_allclose(stream.center_, fit.center_, rtol=RTOL)
    np.testing.assert_allclose(stream.scale_, fit.scale_, rtol=RTOL)


def _rank_within(values, data, q, eps):
    """Each ``values[j]``'s rank in ``data[:, j]`` (non-NaN) is within ``eps``
    of ``q`` (a fraction): some rank between those of the values below and
    at or below it is."""
    for j, v in enumerate(values):
        col = np.sort(data[:, j][~np.isnan(data[:, j])])
        below = np.searchsorted(col, v, "left") / col.size
        at_or_below = np.searchsorted(col, v, "right") / col.size
        assert below - eps <= q <= at_or_below + eps, (j, q, below, at_or_below, eps)


def _million(seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.standard_normal(10**6), rng.lognormal(0, 2, 10**6),
                         rng.standard_t(1, 10**6)])  # Cauchy: no mean, no variance
    X[rng.random(X.shape) < 0.01] = np.nan
    return X


@pytest.mark.parametrize("k", [200, 1000])
def test_streamed_quantiles_stay_within_the_stated_rank_error(k):
    X = _million()
    est = RobustScaler(sketch_size=k, quantile_range=(10.0, 90.0))
    for part in np.array_split(X, 13):
        est.partial_fit(part)
    eps = est.rank_error_
    assert eps == pytest.approx(Sketches(1, k).rank_error) and 0 < eps < 0.02
    _rank_within(est.center_, X, 0.5, eps)
    _rank_within(est.quantiles_[0], X, 0.10, eps)
    _rank_within(est.quantiles_[1], X, 0.90, eps)
    assert est.n_samples_seen_ == 10**6


def test_dask_fit_stays_within_the_stated_rank_error():
    X = _million(seed=1)
    est = RobustScaler().fit(da.from_array(X, chunks=(70_000, 3)))
    eps = est.rank_error_
    assert 0 < eps < 0.003
    _rank_within(est.center_, X, 0.5, eps)
    _rank_within(est.quantiles_[0], X, 0.25, eps)
    _rank_within(est.quantiles_[1], X, 0.75, eps)
    np.testing.assert_array_equal(est.sketches_.count, (~np.isnan(X)).sum(axis=0))


def test_partial_fit_continues_a_fit_through_its_sketches():
    X = _data(nan=True)
    est = RobustScaler(keep_sketch=True).fit(X[:200]).partial_fit(X[200:])
    np.testing.assert_allclose(est.center_, RobustScaler().fit(X).center_, rtol=RTOL)
    # a plain fit pays for no sketch, and says how to keep one
    with pytest.raises(ValueError, match="keep_sketch=False.*no sketch.*keep_sketch=True"):
        RobustScaler().fit(X).partial_fit(X)
    assert RobustScaler().fit(X).sketches_ is None


def test_errors_name_the_column():
    X = _data(nan=False)
    X[3, 4] = np.inf
    for call in ("fit", "partial_fit"):
        with pytest.raises(ValueError, match="infinity.*column 4"):
            getattr(RobustScaler(), call)(X)
    with pytest.raises(ValueError, match="Invalid quantile range"):
        RobustScaler(quantile_range=(80, 20)).fit(_data())
    with pytest.raises(ValueError, match="with_centering=False"):
        RobustScaler().fit(sp.random(10, 2, density=0.5, format="csr"))


def test_all_nan_and_constant_columns():
    X = np.array([[np.nan, 3.0], [np.nan, 3.0], [np.nan, 3.0]])
    est = RobustScaler().fit(X)
    assert np.isnan(est.center_[0]) and est.scale_[1] == 1.0
    out = est.transform(X)
    assert np.isnan(out[:, 0]).all() and (out[:, 1] == 0).all()


def test_without_datasketches_fit_works_and_partial_fit_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "datasketches", None)
    monkeypatch.setattr("skscale._quantiles.available", lambda: False)
    X = _data()
    est = RobustScaler().fit(X)
    assert est.sketches_ is None
    with pytest.raises(ImportError, match=r"pip install datasketches"):
        RobustScaler().partial_fit(X)


def test_rank_error_is_the_merged_sketches_own_bound():
    X = _million()[:200_000]
    est = RobustScaler(sketch_size=4000).partial_fit(X[:100_000])
    est.set_params(sketch_size=200).partial_fit(X[100_000:])
    assert est.rank_error_ == pytest.approx(Sketches(1, 200).rank_error)


def test_unit_variance_needs_inner_percentiles():
    for q in [(0.0, 100.0), (30.0, 30.0), (0.0, 75.0)]:
        with pytest.raises(ValueError, match="unit_variance=True.*0 < q_min < q_max < 100"):
            RobustScaler(unit_variance=True, quantile_range=q).fit(_data())


def test_fit_names_the_row_of_an_infinity():
    X = _data(nan=True)
    X[17, 2] = -np.inf
    with pytest.raises(ValueError, match=r"infinity \(-inf\) in column 2 at row 17"):
        RobustScaler().fit(X)
