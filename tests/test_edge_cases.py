"""Edge cases: memory layouts, failed fits, overflow, and parameters that cannot work."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from skscale import (SCALERS, BatchNormScaler, DecimalScaler, LogScaler, MinMaxScaler,
                     Scaler, UnitNormScaler, ZScoreScaler)
from skscale._blocks import block_rows, fold

COLUMN = [MinMaxScaler, ZScoreScaler, DecimalScaler, LogScaler, BatchNormScaler]


@pytest.mark.parametrize("cls", COLUMN)
@pytest.mark.parametrize("layout", ["F", "strided", "pandas"])
def test_any_memory_layout_with_many_rows(cls, layout):
    n = 2 * block_rows(4) + fold(4) + 3  # widened blocks and a ragged end
    X = np.random.default_rng(0).uniform(1, 5, size=(n, 8))
    data = {"F": np.asfortranarray(X[:, :4]), "strided": X[:, ::2],
            "pandas": pd.DataFrame(X[:, :4].copy(order="F"))}[layout]
    plain = np.ascontiguousarray(np.asarray(data))
    np.testing.assert_allclose(cls().fit(data).transform(data),
                               cls().fit(plain).transform(plain), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ZScoreScaler().fit(data).var_, StandardScaler().fit(plain).var_,
                               rtol=1e-12)


def test_polars_float32_stays_float32():
    df = pl.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, 1.0, 0.5]}).cast(pl.Float32)
    for cls in SCALERS.values():
        assert cls().fit(df).transform(df).dtype == np.float32, cls


def test_clip_does_not_hide_infinity():
    scaler = MinMaxScaler(clip=True).fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="infinity"):
        scaler.transform([[np.inf]])


@pytest.mark.parametrize("make, X", [
    (lambda: MinMaxScaler().fit([[0.0], [1e-300]]), [[1e10]]),
    (lambda: ZScoreScaler().fit(np.array([[0.0], [1e-3]], dtype=np.float32)),
     np.array([[3e38]], dtype=np.float32)),
])
def test_finite_input_that_overflows_the_output_is_an_error(make, X):
    with pytest.raises(ValueError, match="Column 0 at row 0: .* scales to inf, beyond the range"):
        make().transform(X)


def test_unit_norm_l2_does_not_overflow():
    Xt = UnitNormScaler().fit_transform([[1e200, 1e200]])
    np.testing.assert_allclose(Xt, [[np.sqrt(0.5), np.sqrt(0.5)]], rtol=1e-15)


@pytest.mark.parametrize("fit", [
    lambda: MinMaxScaler(feature_range=(1, 0)).fit([[1.0]]),
    lambda: LogScaler().fit([[-5.0]]),
])
def test_failed_fit_leaves_the_estimator_unfitted(fit):
    with pytest.raises(ValueError):
        fit()


def test_failed_fit_or_partial_fit_changes_nothing():
    scaler = LogScaler().fit([[1.0], [2.0]])
    before = scaler.transform([[3.0]])
    with pytest.raises(ValueError):
        scaler.partial_fit([[-5.0]])
    assert scaler.n_samples_seen_ == 2
    np.testing.assert_array_equal(scaler.transform([[3.0]]), before)
    with pytest.raises(ValueError):
        scaler.fit([[-5.0]])
    with pytest.raises(NotFittedError):
        scaler.transform([[3.0]])
    z = ZScoreScaler(ddof=3).partial_fit([[0.0], [0.0]])
    with pytest.raises(ValueError, match="ddof=3"):
        z.partial_fit([[1.0]])
    assert z.n_samples_seen_ == 2 and z.mean_[0] == 0.0


def test_log_in_place_error_reports_the_input_value():
    with pytest.raises(ValueError, match="holds -3 at row 0"):
        LogScaler(offset=2.0, copy=False).fit([[0.0]]).transform(np.array([[-3.0]]))


def test_sparse_unit_norm_ignores_nan_like_dense():
    X = np.array([[3.0, np.nan, 4.0]])
    dense = UnitNormScaler().fit_transform(X)
    sparse = UnitNormScaler().fit_transform(sp.csr_matrix(X)).toarray()
    np.testing.assert_array_equal(np.isnan(sparse), np.isnan(dense))
    np.testing.assert_allclose(sparse[:, [0, 2]], dense[:, [0, 2]], rtol=1e-15)


def test_batch_norm_names_the_right_row_far_into_fit():
    X = np.ones((3000, 2)) + np.arange(3000)[:, None] % 3
    X[2500, 1] = np.inf
    with pytest.raises(ValueError, match="column 1 at row 2500"):
        BatchNormScaler(batch_size=2).fit(X)


def test_normalize_batch_validates_parameters():
    with pytest.raises(ValueError, match="momentum"):
        BatchNormScaler(momentum=5.0).normalize_batch([[1.0], [3.0]], update=True)


def test_negative_sample_weight_is_refused():
    with pytest.raises(ValueError, match="[Nn]egative"):
        ZScoreScaler().fit([[0.0], [1.0], [2.0]], sample_weight=[1, -5, 1])


def test_decimal_keeps_float32_guarantee_over_mixed_batches():
    x32 = np.float32(1e11)
    scaler = DecimalScaler().partial_fit(np.array([[0.0]])).partial_fit(np.array([[x32]]))
    assert np.abs(scaler.transform(np.array([[x32]]))).max() < 1


@pytest.mark.parametrize("make", [
    lambda: LogScaler(offset=np.nan), lambda: LogScaler(offset=np.inf),
    lambda: MinMaxScaler(feature_range=(0, np.inf)),
    lambda: MinMaxScaler(feature_range=(0, 10 ** 400)),  # an int beyond float64
])
def test_non_finite_parameters_are_refused(make):
    with pytest.raises(ValueError):
        make().fit([[1.0], [2.0]])


def test_scaler_partial_fit_follows_parameter_changes():
    s = Scaler("minmax")
    s.partial_fit([[0.0], [2.0]])
    s.set_params(method="zscore")
    s.partial_fit([[0.0], [2.0]])
    assert isinstance(s.scaler_, ZScoreScaler) and s.scaler_.n_samples_seen_ == 2


def test_scaler_exposes_sample_stats_of_per_sample_methods():
    X = np.array([[3.0, 4.0]])
    s = Scaler("unit_norm").fit(X)
    np.testing.assert_array_equal(s.sample_stats(X), [5.0])
    assert not hasattr(Scaler("zscore"), "sample_stats")


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_errors_name_the_column(fmt):
    X = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]))
    bad = X.copy()
    bad[1, 2] = np.inf
    bad = bad.asformat(fmt)
    with pytest.raises(ValueError, match="infinity in column 2"):
        DecimalScaler().fit(bad)
    neg = X.copy()
    neg[1, 2] = -4.0
    with pytest.raises(ValueError, match="column 2 holds -4"):
        LogScaler().fit(X).transform(neg.asformat(fmt))


@pytest.mark.parametrize("make, change, new_value", [
    (MinMaxScaler, "feature_range", (-1.0, 1.0)),
    (DecimalScaler, "digits", 2),
    (lambda: LogScaler(offset=2.0), "offset", 3.0),
])
def test_partial_fit_relearns_when_only_the_parameters_change(make, change, new_value):
    # A later batch inside the extremes leaves the statistics' min and max as
    # they were; a changed parameter must still change the map.
    X = np.array([[1.0, 10.0], [3.0, 50.0]])
    scaler = make().partial_fit(X)
    scaler.set_params(**{change: new_value})
    scaler.partial_fit(X[:1])
    expected = make().set_params(**{change: new_value}).fit(np.vstack([X, X[:1]]))
    np.testing.assert_array_equal(scaler.transform(X), expected.transform(X))


def test_partial_fit_relearns_when_the_dtype_narrows():
    # 0.99999999 needs no digit in float64 but rounds to 1.0 in float32; a
    # float32 batch inside the extremes must settle the digits again in float32.
    x = np.array([[0.5], [0.99999999]])
    scaler = DecimalScaler().partial_fit(x)
    assert scaler.digits_[0] == 0
    scaler.partial_fit(np.array([[0.75]], dtype=np.float32))
    assert scaler.digits_[0] == 1
    assert np.abs(scaler.transform(x.astype(np.float32))).max() < 1


def test_extremes_of_huge_values_beside_an_all_nan_column():
    # Only the extremes are learned: a sum that would overflow is no error.
    X = np.array([[1e308, np.nan], [9e307, np.nan]])
    np.testing.assert_array_equal(MinMaxScaler().fit(X).data_min_, [9e307, np.nan])
