"""SquashingScaler against skrub's SquashingScaler, its inverse against a
correctly rounded reference, and its sketches against the exact fit."""

import mpmath
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
import skrub

from skscale._squashing import SquashingScaler

from reference import assert_close


def _data(seed=0, n=600, nan=True):
    """Random and adversarial columns: normal, outliers, most values equal
    (the min-max fallback), constant, at 1e8, near 1e300, negative-only, ties."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(size=n), rng.standard_t(1.5, n) * 10, np.where(rng.random(n) < 0.8, 2.0,
                                                                   rng.normal(size=n)),
        np.full(n, 7.25), rng.normal(size=n) + 1e8, rng.uniform(-1, 1, n) * 1e300,
        -rng.exponential(size=n), np.round(rng.normal(size=n) * 2)])
    if nan:
        X[rng.random(X.shape) < 0.05] = np.nan
        X[3, 0], X[4, 0], X[5, 2] = np.inf, -np.inf, np.inf  # (ignored in fit, to ±B)
        X = np.column_stack([X, np.full(n, np.nan)])
    return X


def _skrub(X, **params):
    with np.errstate(invalid="ignore", over="ignore"), \
            pytest.warns(RuntimeWarning) if np.isnan(X).all(axis=0).any() else _nothing():
        est = skrub.SquashingScaler(**params).fit(X)
        return est, est.transform(X)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


@pytest.mark.parametrize("params", [{}, {"max_absolute_value": 1.5},
                                    {"quantile_range": (10.0, 90.0)}, {"quantile_range": (0, 100)},
                                    {"quantile_range": (40.0, 60.0)}])
@pytest.mark.parametrize("nan", [False, True])
# (skrub's median of the all-NaN column warns)
@pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")
def test_equals_skrub(params, nan):
    X, X_new = _data(nan=nan), 4 * _data(seed=1, nan=nan)
    X_new[:, 5] /= 4  # (within float64 at 1e300)
    ours = SquashingScaler(**params).fit(X)
    ref = skrub.SquashingScaler(**params).fit(X)
    with np.errstate(invalid="ignore", over="ignore"):
        want, want_fit = ref.transform(X_new), ref.transform(X)
    np.testing.assert_allclose(ours.transform(X_new), want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.transform(X), want_fit, rtol=0, atol=1e-12)
    assert ours.rank_error_ == 0.0


def test_inverse_is_exact_on_the_open_interval():
    X = _data(nan=True)
    est = SquashingScaler().fit(X)
    Y = est.transform(X)
    back = est.inverse_transform(Y)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(X))
    np.testing.assert_array_equal(back[np.isinf(X)], X[np.isinf(X)])  # ±B back to ±inf
    # A round trip loses about (1 + (z/B)**2)**1.5 ulps of z, the slope of
    # the soft clip: the conditioning of the map, not the inverse's error.
    finite = np.isfinite(X) & np.isfinite(est.scale_) & np.isfinite(est.center_)
    with np.errstate(invalid="ignore"):
        z = (X - est.center_) / est.scale_
    with np.errstate(invalid="ignore"):
        tolerance = 8 * np.spacing(np.abs(X) + np.abs(est.center_) + est.scale_ * np.abs(z)) * \
            (1 + (z / 3) ** 2) ** 1.5
    with np.errstate(invalid="ignore"):
        assert (np.abs(back - X)[finite] <= tolerance[finite]).all()
    # Constant columns map back to their value, and y = ±B to ±inf.
    np.testing.assert_array_equal(back[np.isfinite(X[:, 3]), 3], 7.25)


def test_inverse_against_a_correctly_rounded_reference():
    est = SquashingScaler(max_absolute_value=3).fit(np.arange(100.0)[:, None])
    y = np.concatenate([np.linspace(-2.999999, 2.999999, 201), [3 - 1e-15, -3 + 1e-15]])
    got = est.inverse_transform(y[:, None]).ravel()
    with mpmath.workprec(200):
        want = [float(mpmath.mpf(v) / mpmath.sqrt(1 - (mpmath.mpf(v) / 3) ** 2) *
                      mpmath.mpf(float(est.scale_[0])) + mpmath.mpf(float(est.center_[0])))
                for v in y]
    # Rounding y / B costs an ulp of it, which 1 - |y / B| magnifies by
    # 1 / (1 - |y / B|): the inverse's conditioning near the bound.
    z = np.abs(y) / np.sqrt(1 - (y / 3) ** 2) * est.scale_[0]
    bound = 4 * np.finfo(float).eps * (z * (1 + 1 / (1 - np.abs(y) / 3)) + np.abs(want))
    assert (np.abs(got - np.array(want)) <= bound).all()


def test_beyond_the_bound_is_an_error_naming_the_column():
    est = SquashingScaler(max_absolute_value=2).fit(pd.DataFrame({"a": [1.0, 2.0, 5.0]}))
    with pytest.raises(ValueError, match="Column 'a' at row 1: 2.5"):
        est.inverse_transform(pd.DataFrame({"a": [0.0, 2.5]}))


def test_huge_values_squash_to_the_bound_where_skrubs_square_overflows():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    est = SquashingScaler().fit(X)
    np.testing.assert_array_equal(est.transform([[1e200], [1e308], [-1e308]]),
                                  [[3.0], [3.0], [-3.0]])
    with np.errstate(invalid="ignore", over="ignore"):  # skrub: z / sqrt(inf) = 0
        assert skrub.SquashingScaler().fit(X).transform(np.array([[1e200]]))[0, 0] == 0.0


def test_float32_kept_and_rounded():
    X = _data(nan=True)[:, [0, 1, 2, 3, 6, 7]]
    X32 = X.astype(np.float32)
    ours = SquashingScaler().fit(X32)
    Y = ours.transform(X32)
    assert Y.dtype == np.float32
    with np.errstate(invalid="ignore"):
        want = skrub.SquashingScaler().fit(X32.astype(np.float64)).transform(
            X32.astype(np.float64))
    np.testing.assert_allclose(Y, want, rtol=0, atol=4e-7)


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
    est = SquashingScaler().set_output(transform=kind).fit(frame)
    out = est.transform(frame)
    nulls = out["b"].isna().tolist() if kind == "pandas" else out["b"].is_null().to_list()
    assert nulls == [i == 4 for i in range(len(X))]
    want_X = X.copy()
    want_X[4, 1] = np.nan
    got = out.to_numpy(dtype=np.float64, na_value=np.nan) if kind == "pandas" else out.to_numpy()
    np.testing.assert_allclose(got, skrub.SquashingScaler().fit(want_X).transform(want_X),
                               atol=1e-12)


def test_copy_false_in_place_with_infinities():
    X = _data(nan=True)
    want = SquashingScaler().fit(X).transform(X)
    Xc = X.copy()
    out = SquashingScaler(copy=False).fit(X).transform(Xc)
    assert out is Xc
    np.testing.assert_array_equal(out, want)


def test_partial_fit_within_the_rank_error():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=40_000), rng.standard_t(2, 40_000),
                         np.where(rng.random(40_000) < 0.9, 1.0, rng.normal(size=40_000))])
    exact = SquashingScaler().fit(X)
    stream = SquashingScaler()
    for part in np.array_split(X, 8):
        stream.partial_fit(part)
    assert 0 < stream.rank_error_ < 0.003
    np.testing.assert_array_equal(stream.data_min_, exact.data_min_)  # extremes: exact
    np.testing.assert_array_equal(stream.data_max_, exact.data_max_)
    # Each streamed percentile (and the median) is a value whose rank is
    # within the rank error of the one asked for.
    for j in range(X.shape[1]):
        col = np.sort(X[:, j])
        for value, level in [(stream.center_[j], 0.5), (stream.quantiles_[0, j], 0.25),
                             (stream.quantiles_[1, j], 0.75)]:
            lo = np.searchsorted(col, value, side="left") / len(col)
            hi = np.searchsorted(col, value, side="right") / len(col)
            assert max(lo - level, level - hi) <= stream.rank_error_ + 1 / len(col)


def test_small_partial_fit_is_exact():
    X = _data(nan=True)
    stream = SquashingScaler()
    for part in np.array_split(X, 3):
        stream.partial_fit(part)
    exact = SquashingScaler().fit(X)
    for name in ("center_", "scale_", "quantiles_", "data_min_", "data_max_"):
        np.testing.assert_array_equal(getattr(stream, name), getattr(exact, name), err_msg=name)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="quantile range"):
        SquashingScaler(quantile_range=(75, 25)).fit([[1.0], [2.0]])
    with pytest.raises(ValueError, match="max_absolute_value"):
        SquashingScaler(max_absolute_value=np.inf).fit([[1.0], [2.0]])
    with pytest.raises(TypeError, match="dense"):
        SquashingScaler().fit(sp.random(10, 2, density=0.5, format="csr"))
