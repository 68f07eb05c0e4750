"""Column scalers against independent oracles: scikit-learn and hand-worked values."""

import math

import mpmath
import numpy as np
import pytest
from sklearn import preprocessing as skp

from skscale import DecimalScaler, LogScaler, MinMaxScaler, ZScoreScaler
from skscale._blocks import block_rows

from reference import LOG1P_ULPS, assert_close, correctly_rounded, ulps

RTOL = 1e-12


def _data(seed=0, n=300, d=6, nan=True, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, d)) * rng.uniform(0.1, 100, size=d)
    X[:, 2] = 7.25  # constant column
    if nan:
        X[rng.random((n, d)) < 0.1] = np.nan
    return X


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("feature_range", [(0, 1), (-3, 5.5)])
def test_minmax_equals_sklearn(nan, feature_range):
    X, X_test = _data(nan=nan), _data(seed=1, nan=nan)
    ours = MinMaxScaler(feature_range).fit(X)
    ref = skp.MinMaxScaler(feature_range=feature_range).fit(X)
    for attr in ("data_min_", "data_max_", "data_range_"):
        np.testing.assert_array_equal(getattr(ours, attr), getattr(ref, attr))
    for attr in ("scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=RTOL)
    assert_close(ours.transform(X_test), ref.transform(X_test))
    assert_close(ours.inverse_transform(X_test), ref.inverse_transform(X_test))


@pytest.mark.parametrize("seed", range(30))
def test_minmax_training_data_never_leaves_range(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(rng.uniform(-1e6, 1e6), rng.uniform(1e-3, 1e3), size=(200, 20))
    lo, hi = rng.uniform(-10, 0), rng.uniform(0.1, 10)
    for dtype in (np.float64, np.float32):
        Xt = MinMaxScaler((lo, hi)).fit_transform(X.astype(dtype))
        assert Xt.min() >= dtype(lo) and Xt.max() <= dtype(hi)
        assert (Xt.min(axis=0) == dtype(lo)).all()


def test_minmax_data_range_for_pixels():
    X = np.array([[0, 10], [128, 200]], dtype=np.uint8)
    Xt = MinMaxScaler(data_range=(0, 255)).fit_transform(X)
    np.testing.assert_allclose(Xt, X / 255.0, rtol=1e-15)
    assert Xt.dtype == np.float64


def test_minmax_clip_and_constant_feature():
    scaler = MinMaxScaler(clip=True).fit([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_array_equal(scaler.transform([[10.0, 5.0], [-4.0, 7.0]]),
                                  [[1.0, 0.0], [0.0, 1.0]])
    # constant feature maps to the low end, like scikit-learn
    np.testing.assert_array_equal(MinMaxScaler().fit_transform([[5.0], [5.0]]), [[0.0], [0.0]])


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_zscore_equals_sklearn(nan, with_mean, with_std):
    X, X_test = _data(nan=nan), _data(seed=1, nan=nan)
    ours = ZScoreScaler(with_mean=with_mean, with_std=with_std).fit(X)
    ref = skp.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    if ref.mean_ is not None:
        np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=RTOL)
    if with_std:
        np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-11, atol=0)
        np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=RTOL)
    assert_close(ours.transform(X_test), ref.transform(X_test))
    assert_close(ours.inverse_transform(X_test), ref.inverse_transform(X_test))


def test_zscore_hand_worked_and_ddof():
    np.testing.assert_allclose(ZScoreScaler().fit_transform([[1], [3], [5]]).ravel(),
                               [-np.sqrt(1.5), 0, np.sqrt(1.5)], rtol=1e-15)
    assert ZScoreScaler(ddof=1).fit([[1], [3], [5]]).var_[0] == 4.0


def test_zscore_sample_weight_equals_repeated_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 4))
    w = rng.integers(0, 4, size=50)
    weighted = ZScoreScaler(ddof=1).fit(X, sample_weight=w)
    repeated = ZScoreScaler(ddof=1).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.mean_, repeated.mean_, rtol=1e-13)
    np.testing.assert_allclose(weighted.var_, repeated.var_, rtol=1e-13)
    ref = skp.StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(ZScoreScaler().fit(X, sample_weight=w).var_, ref.var_,
                               rtol=1e-12)


def test_zscore_large_offset_float64_exact():
    rng = np.random.default_rng(4)
    X = 1e8 + rng.normal(size=(5000, 3))
    ours = ZScoreScaler().fit(X)
    # exactly rounded sums as the oracle (numpy's own mean is off by ulps here)
    ref_mean = np.array([math.fsum(col) for col in X.T]) / len(X)
    ref_var = np.array([math.fsum(col) for col in ((X - ref_mean) ** 2).T]) / len(X)
    np.testing.assert_allclose(ours.mean_, ref_mean, rtol=2.3e-16)  # within an ulp
    # block means are held in float64, so the spread between blocks carries
    # ulp(1e8) / std ~ 1e-8 relative noise into M2 terms of ~1/n: ~1e-11 here
    np.testing.assert_allclose(ours.var_, ref_var, rtol=1e-10)
    np.testing.assert_allclose(ours.transform(X), (X - ref_mean) / np.sqrt(ref_var),
                               atol=1e-7)


@pytest.mark.usefixtures("kernels")
def test_zscore_large_offset_with_nan_beside_is_as_exact():
    # A NaN anywhere in a row block sends the whole block down the path that
    # skips missing values; its mean and M2 must keep the two-pass
    # correction there too (without it, the variance at mean 1e8 was 1e-9
    # off, against 1e-11 for clean blocks).
    rng = np.random.default_rng(6)
    X = 1e8 + rng.normal(size=(4 * block_rows(2) + 3, 2))
    X[::97, 1] = np.nan
    ours = ZScoreScaler().fit(X)
    for j in range(2):
        col = X[~np.isnan(X[:, j]), j]
        mean = math.fsum(col) / len(col)
        var = math.fsum((col - mean) ** 2) / len(col)
        assert abs(ours.mean_[j] - mean) <= np.spacing(mean)
        np.testing.assert_allclose(ours.var_[j], var, rtol=1e-10)


def test_zscore_float32_is_rounded_float64():
    rng = np.random.default_rng(5)
    X = (1e3 + rng.normal(size=(20000, 4))).astype(np.float32)
    ours = ZScoreScaler().fit(X)
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(ours.mean_, X64.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(ours.var_, X64.var(axis=0), rtol=1e-12)
    Xt = ours.transform(X)
    assert Xt.dtype == np.float32
    exact = ((X64 - X64.mean(axis=0)) / X64.std(axis=0)).astype(np.float32)
    ulps = np.abs(Xt - exact) / np.spacing(np.abs(exact).astype(np.float32) + 1e-3)
    assert ulps.max() <= 2


def test_zscore_constant_column_is_exactly_zero():
    X = np.full((7, 1), 0.1)
    scaler = ZScoreScaler().fit(X)
    assert scaler.scale_[0] == 1.0 and scaler.var_[0] == 0.0
    np.testing.assert_array_equal(scaler.transform(X), 0.0)


def test_zscore_ddof_too_large_is_a_clear_error():
    with pytest.raises(ValueError, match="ddof=2 needs more than 2 non-NaN values in column 0"):
        ZScoreScaler(ddof=2).fit([[1.0], [2.0]])


def test_decimal_hand_worked():
    X = np.array([[-991.0, 0.05, 10, 0, 1000], [50, 0.002, 999, 0, -3]])
    scaler = DecimalScaler().fit(X)
    np.testing.assert_array_equal(scaler.digits_, [3, -1, 3, 0, 4])
    np.testing.assert_array_equal(scaler.transform(X), X / 10.0 ** np.array([3, -1, 3, 0, 4]))
    assert np.abs(scaler.transform(X)).max() < 1
    np.testing.assert_array_equal(DecimalScaler(digits=2).fit_transform(X), X / 100.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decimal_powers_of_ten_land_strictly_inside(dtype):
    peaks = np.array([10.0 ** k for k in range(-6, 12)] + [0.99999999, 9.999999999])
    X = np.vstack([peaks, -peaks / 2]).astype(dtype)
    Xt = DecimalScaler().fit_transform(X)
    assert np.abs(Xt).max() < 1
    assert (np.abs(Xt).max(axis=0) >= 0.1 - 1e-7).all()  # j is the smallest such integer


def test_log_hand_worked():
    X = np.array([[0.0, 9.0], [99.0, 999.0]])
    np.testing.assert_allclose(LogScaler(base=10).fit_transform(X), [[0, 1], [2, 3]],
                               atol=1e-15)
    assert ulps(LogScaler().fit_transform(X), correctly_rounded(mpmath.log1p, X)).max() \
        <= LOG1P_ULPS
    np.testing.assert_allclose(LogScaler(base=2, offset=3).fit_transform([[1.0], [5.0]]),
                               [[2.0], [3.0]], rtol=1e-15)


def test_log_auto_offset_maps_min_to_zero():
    X = np.array([[-5.0, 2.0], [5.0, 3.0], [0.0, np.nan]])
    scaler = LogScaler(offset="auto").fit(X)
    np.testing.assert_array_equal(scaler.offset_, [6.0, -1.0])
    Xt = scaler.transform(X)
    np.testing.assert_allclose(Xt, np.log(X + scaler.offset_), rtol=1e-15)
    assert Xt[0, 0] == 0.0 and Xt[0, 1] == 0.0 and np.isnan(Xt[2, 1])
    np.testing.assert_allclose(scaler.inverse_transform(Xt), X, rtol=1e-15)


def test_log_out_of_domain_names_column_and_value():
    scaler = LogScaler().fit([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"column 1 holds -3 at row 1.*x \+ offset = -2"):
        scaler.transform([[0.0, 1.0], [0.0, -3.0]])
    with pytest.raises(ValueError, match="column 0 holds -1 .*training data"):
        LogScaler().fit([[-1.0]])


@pytest.mark.parametrize("cls", [MinMaxScaler, ZScoreScaler, DecimalScaler, LogScaler])
def test_blocks_and_threads_do_not_change_results(cls, monkeypatch):
    """Row blocks (and the threads they run on) are an implementation detail."""
    X = np.abs(_data(seed=7, n=3 * block_rows(6) + 17))
    one_block = cls().fit(X).transform(X)
    import skscale._blocks as k
    monkeypatch.setattr(k, "BLOCK_BYTES", 8 * 6 * 5)  # five rows a block, many blocks
    np.testing.assert_allclose(cls().fit(X).transform(X), one_block, rtol=1e-14, atol=1e-14)
    monkeypatch.setattr(k, "n_threads", lambda: 8)  # more threads than cores
    np.testing.assert_allclose(cls().fit(X).transform(X), one_block, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("X", [[[1e308], [1e308], [-1e308]], [[1e200], [-1e200]]])
def test_overflowing_statistics_are_a_clear_error(X):
    with pytest.raises(ValueError, match="column 0 are too large"):
        ZScoreScaler().fit(X)


@pytest.mark.parametrize("seed", range(20))
def test_constant_columns_scale_to_exactly_zero(seed):
    """M2 of a constant column is exactly 0 and its mean exactly the constant,
    over any number of rows and blocks, with no min/max to lean on."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3 * block_rows(3)))
    X = np.repeat(rng.normal(size=3) * 10.0 ** rng.integers(-8, 9, size=3), n).reshape(3, n).T
    for dtype in (np.float64, np.float32):
        Xd = np.ascontiguousarray(X, dtype=dtype)
        scaler = ZScoreScaler().fit(Xd)
        np.testing.assert_array_equal(scaler.var_, 0.0)
        np.testing.assert_array_equal(scaler.transform(Xd), 0.0)


def test_decimal_subnormal_data_stop_at_the_smallest_normal_power():
    X = np.array([[5e-324], [0.0], [-2e-310]])
    scaler = DecimalScaler().fit(X)
    assert scaler.digits_[0] == -307
    np.testing.assert_array_equal(scaler.transform(X), X / 1e-307)
    np.testing.assert_array_equal(scaler.inverse_transform(scaler.transform(X)), X)
