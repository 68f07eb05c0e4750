"""QuantileTransformer against scikit-learn's QuantileTransformer(subsample=None),
its exact selection against numpy, and its sketches against the exact fit."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn import preprocessing as skp

from skscale import _ranks
from skscale._quantile import QuantileTransformer

from reference import assert_close


def _data(seed=0, n=3000, nan=True):
    """Random and adversarial columns: normal, heavy right tail, ties, constant,
    at 1e8, near 1e300, negative-only, Cauchy (both tails), scale 1e-9."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(size=n), rng.lognormal(0, 3, n), np.round(rng.normal(size=n) * 2),
        np.full(n, 7.0), rng.normal(size=n) + 1e8, rng.uniform(-1, 1, n) * 1e300,
        -rng.exponential(size=n), rng.standard_cauchy(n), rng.normal(size=n) * 1e-9])
    if nan:
        X[rng.random(X.shape) < 0.05] = np.nan
        X = np.column_stack([X, np.full(n, np.nan)])
    return X


def _unseen(X, seed=1):
    """Rows of X, rows beyond its range on both sides, and exact ties with it."""
    rng = np.random.default_rng(seed)
    wide = np.nan_to_num(X, nan=0.0) * rng.uniform(-3, 3, X.shape)
    return np.vstack([X, wide, X[::7]])


@pytest.mark.parametrize("output", ["uniform", "normal"])
@pytest.mark.parametrize("n_quantiles", [1000, 100, 7])
def test_equals_sklearn_without_subsampling(output, n_quantiles):
    X = _data()
    X[:, 8] *= 1e9  # (scikit-learn's normal output mistreats a scale of 1e-9: see below)
    ours = QuantileTransformer(n_quantiles=n_quantiles, output_distribution=output).fit(X)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):  # (all-NaN column)
        ref = skp.QuantileTransformer(n_quantiles=n_quantiles, output_distribution=output,
                                      subsample=None).fit(X)
    np.testing.assert_array_equal(ours.quantiles_, ref.quantiles_)  # numpy's, to the bit
    np.testing.assert_array_equal(ours.references_, ref.references_)
    assert ours.n_quantiles_ == ref.n_quantiles_ and ours.rank_error_ == 0.0
    X_new = _unseen(X)
    Y = ours.transform(X_new)
    np.testing.assert_allclose(Y, ref.transform(X_new), rtol=0, atol=1e-12)
    # Inverses: scikit-learn's interpolation back, to rounding.
    assert_close(ours.inverse_transform(Y), ref.inverse_transform(Y), rtol=1e-12)


def test_ties_take_the_middle_of_their_references():
    X = np.array([[1.0], [2.0], [2.0], [2.0], [3.0]])
    qt = QuantileTransformer(n_quantiles=5).fit(X)
    # Quantiles 1, 2, 2, 2, 3 at references 0, .25, .5, .75, 1: a 2 sits in the middle.
    np.testing.assert_array_equal(qt.transform([[2.0], [1.0], [3.0], [0.0], [4.0], [2.5]]),
                                  [[0.5], [0.0], [1.0], [0.0], [1.0], [0.875]])


def test_constant_and_empty_columns_as_sklearn():
    X = np.column_stack([np.full(50, 3.0), np.arange(50.0)])
    X_new = np.array([[2.0, 1.0], [3.0, 1.0], [4.0, 1.0], [np.nan, 1.0]])
    for output in ("uniform", "normal"):
        ours = QuantileTransformer(n_quantiles=10, output_distribution=output).fit(X)
        ref = skp.QuantileTransformer(n_quantiles=10, output_distribution=output,
                                      subsample=None).fit(X)
        np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), atol=1e-12)
    one = QuantileTransformer().fit([[5.0, 1.0]])  # one row: one quantile, output 0
    np.testing.assert_array_equal(one.transform([[4.0, 9.0], [6.0, 0.0]]),
                                  skp.QuantileTransformer(n_quantiles=1).fit([[5.0, 1.0]])
                                  .transform([[4.0, 9.0], [6.0, 0.0]]))
    empty = QuantileTransformer().fit(np.column_stack([np.full(5, np.nan), np.arange(5.0)]))
    assert np.isnan(empty.transform([[1.0, 1.0]])[0, 0])


def test_normal_output_is_scale_free_where_sklearn_is_not():
    # scikit-learn sends every value within 1e-7 *in the data's units* of the
    # training extremes to the bounds; here only the extremes themselves go.
    # The oracle: scikit-learn on the same data at a scale where 1e-7 is nothing.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 1))
    ours = QuantileTransformer(output_distribution="normal").fit(x * 1e-9)
    ref = skp.QuantileTransformer(output_distribution="normal", subsample=None).fit(x)
    np.testing.assert_allclose(ours.transform(x * 1e-9), ref.transform(x), atol=1e-12)
    bad = skp.QuantileTransformer(output_distribution="normal", subsample=None).fit(x * 1e-9)
    assert np.ptp(bad.transform(x * 1e-9)) == 0  # (every value on one bound)


def test_float32_kept_and_rounded():
    X = _data(nan=True)[:, :5]
    X32 = X.astype(np.float32)
    ours = QuantileTransformer(n_quantiles=200).fit(X32)
    Y = ours.transform(X32)
    assert Y.dtype == np.float32
    ref = skp.QuantileTransformer(n_quantiles=200, subsample=None).fit(
        X32.astype(np.float64))
    np.testing.assert_allclose(Y, ref.transform(X32.astype(np.float64)), rtol=0, atol=6e-8)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_frames_keep_nulls(kind):
    X = _data(nan=False)[:, :3]
    names = ["a", "b", "c"]
    if kind == "pandas":
        frame = pd.DataFrame(X, columns=names).astype("Float64")
        frame.iloc[4, 1] = pd.NA
    else:
        frame = pl.DataFrame(X, schema=names).with_columns(
            pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("b")).alias("b"))
    out = QuantileTransformer().set_output(transform=kind).fit(frame).transform(frame)
    nulls = out["b"].isna().tolist() if kind == "pandas" else out["b"].is_null().to_list()
    assert nulls == [i == 4 for i in range(len(X))]
    want_X = X.copy()
    want_X[4, 1] = np.nan
    want = skp.QuantileTransformer(subsample=None).fit(want_X).transform(want_X)
    got = out.to_numpy(dtype=np.float64, na_value=np.nan) if kind == "pandas" else out.to_numpy()
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("dist", ["normal", "lognormal", "ties", "cauchy", "sorted", "tiny"])
@pytest.mark.parametrize("n", [5, 1000, 200_001, 200_002])
def test_selection_is_numpy_percentile_to_the_bit(dist, n):
    rng = np.random.default_rng(n)
    x = {"normal": lambda: rng.normal(size=n) + 1e3, "lognormal": lambda: rng.lognormal(0, 3, n),
         "ties": lambda: np.round(rng.normal(size=n) * 3),
         "cauchy": lambda: rng.standard_cauchy(n), "sorted": lambda: np.sort(rng.normal(size=n)),
         "tiny": lambda: rng.normal(size=n) * 1e-300}[dist]()
    for q in (np.linspace(0, 100, 1000), [25.0, 75.0], [50.0], [0.0, 100.0], [30.0, 30.0]):
        median, values = _ranks.percentiles(x.copy(), q, median=True)
        np.testing.assert_array_equal(values, np.percentile(x, q))
        assert median == np.median(x)


def test_partial_fit_within_the_rank_error():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=60_000), rng.lognormal(0, 2, 60_000),
                         np.round(rng.normal(size=60_000) * 5)])
    exact = QuantileTransformer().fit(X)
    stream = QuantileTransformer()
    for part in np.array_split(X, 12):
        stream.partial_fit(part)
    assert 0 < stream.rank_error_ < 0.003 and stream.n_samples_seen_ == len(X)
    # The uniform output moves by at most the rank error and the spacing of
    # the references on either side (see the class notes).
    bound = stream.rank_error_ + 2 / (exact.n_quantiles_ - 1)
    assert np.abs(stream.transform(X) - exact.transform(X)).max() <= bound
    # Each streamed quantile is a value whose rank is within the rank error.
    for j in range(X.shape[1]):
        col = np.sort(X[:, j])
        lo = np.searchsorted(col, stream.quantiles_[:, j], side="left") / len(col)
        hi = np.searchsorted(col, stream.quantiles_[:, j], side="right") / len(col)
        want = stream.references_
        miss = np.maximum(lo - want, want - hi)
        assert miss.max() <= stream.rank_error_ + 1 / len(col)


def test_small_partial_fit_is_exact():
    X = _data(nan=True)[:500, :8]
    stream = QuantileTransformer(n_quantiles=100)
    for part in np.array_split(X, 3):
        stream.partial_fit(part)
    exact = QuantileTransformer(n_quantiles=100).fit(X)
    np.testing.assert_array_equal(stream.quantiles_, exact.quantiles_)
    assert stream.rank_error_ == 0.0


def test_fit_refuses_partial_fit_without_sketches_and_keeps_them_when_asked():
    X = _data(nan=False)[:800, :2]  # (fewer values than a sketch holds exactly)
    with pytest.raises(ValueError, match="keep_sketch"):
        QuantileTransformer().fit(X).partial_fit(X)
    kept = QuantileTransformer(keep_sketch=True).fit(X[:300]).partial_fit(X[300:])
    np.testing.assert_array_equal(kept.quantiles_, QuantileTransformer().fit(X).quantiles_)


def test_sparse_refused_and_infinity_named():
    with pytest.raises(TypeError, match="dense"):
        QuantileTransformer().fit(sp.random(10, 2, density=0.5, format="csr"))
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, np.inf, 2.0]})
    with pytest.raises(ValueError, match="column 'b'"):
        QuantileTransformer().fit(X)
    fitted = QuantileTransformer().fit(X[["a"]].assign(b=[1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="column 'b' at row 1"):
        fitted.transform(X)
