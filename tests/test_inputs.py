"""What goes in and what comes out: frames, sparse, dtypes, copies and bad input."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn import preprocessing as skp

from skscale import (SCALERS, DecimalScaler, LogScaler, MinMaxScaler, SquashingScaler,
                     UnitNormScaler, ZScoreScaler)

COLUMN = [MinMaxScaler, ZScoreScaler, DecimalScaler, LogScaler]
ALL = list(SCALERS.values())


def _frame(seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(1, 10, size=(40, 4)), columns=["a", "b", "c", "d"])


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("out", ["pandas", "polars"])
def test_set_output_frames(cls, out):
    df = _frame()
    Xt = cls().set_output(transform=out).fit(df).transform(df)
    expected = cls().fit(df.to_numpy()).transform(df.to_numpy())
    assert list(Xt.columns) == ["a", "b", "c", "d"]
    # a frame's statistics are summed column by column, in another order
    # than the array's: equal to rounding
    np.testing.assert_allclose(Xt.to_numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", COLUMN)
def test_polars_input(cls):
    df = _frame()
    ours = cls().fit(pl.from_pandas(df))
    np.testing.assert_array_equal(ours.get_feature_names_out(), ["a", "b", "c", "d"])
    np.testing.assert_allclose(ours.transform(pl.from_pandas(df)),
                               cls().fit(df.to_numpy()).transform(df.to_numpy()),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", COLUMN)
def test_pandas_nullable_dtypes_treat_na_as_nan(cls):
    df = pd.DataFrame({"i": pd.array([1, None, 3, 4], dtype="Int64"),
                       "f": pd.array([0.5, 2.5, None, 1.0], dtype="Float64")})
    Xt = cls().fit(df).transform(df)
    plain = np.array([[1, 0.5], [np.nan, 2.5], [3, np.nan], [4, 1.0]])
    np.testing.assert_allclose(Xt, cls().fit(plain).transform(plain), rtol=1e-12, atol=1e-12)
    assert np.isnan(Xt[1, 0]) and np.isnan(Xt[2, 1])


@pytest.mark.parametrize("cls", ALL)
def test_dtypes(cls):
    X = np.random.default_rng(1).uniform(1, 5, size=(30, 4))
    assert cls().fit_transform(X.astype(np.float32)).dtype == np.float32
    assert cls().fit_transform(X).dtype == np.float64
    Xi = np.arange(1, 121).reshape(30, 4)
    Xt = cls().fit_transform(Xi)
    assert Xt.dtype == np.float64
    np.testing.assert_array_equal(Xt, cls().fit_transform(Xi.astype(np.float64)))


@pytest.mark.parametrize("cls", COLUMN)
def test_copy_false_works_in_place(cls):
    X = np.random.default_rng(2).uniform(1, 5, size=(30, 3))
    expected = cls().fit(X).transform(X)
    scaler = cls(copy=False).fit(X)
    Xt = scaler.transform(X)
    assert Xt is X
    np.testing.assert_array_equal(X, expected)
    back = scaler.inverse_transform(X)
    assert back is X


@pytest.mark.parametrize("cls", COLUMN)
def test_copy_true_leaves_input_alone(cls):
    X = np.random.default_rng(2).uniform(1, 5, size=(30, 3))
    before = X.copy()
    cls().fit(X).transform(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("cls", COLUMN)
def test_nan_ignored_in_fit_and_passed_through(cls):
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 5, size=(50, 3))
    X_nan = X.copy()
    X_nan[::7, 1] = np.nan
    fitted = cls().fit(X_nan)
    reference = cls().fit(np.delete(X, np.s_[::7], axis=0)[:, [1]])  # same column, rows dropped
    Xt = fitted.transform(X_nan)
    assert np.isnan(Xt[::7, 1]).all() and not np.isnan(np.delete(Xt, np.s_[::7], 0)).any()
    np.testing.assert_allclose(Xt[1:7, 1:2], reference.transform(X[1:7, 1:2]), rtol=1e-14)


def test_sparse_matches_dense_where_zeros_stay_zero():
    rng = np.random.default_rng(4)
    dense = sp.random(60, 5, density=0.3, random_state=5, format="csr").toarray() * 100
    for est in (ZScoreScaler(with_mean=False), DecimalScaler(), LogScaler(),
                UnitNormScaler("l1"), UnitNormScaler("max")):
        for fmt in ("csr", "csc"):
            Xs = sp.csr_matrix(dense) if fmt == "csr" else sp.csc_matrix(dense)
            Xt = est.fit(Xs).transform(Xs)
            assert sp.issparse(Xt)
            np.testing.assert_allclose(Xt.toarray(), est.fit(dense).transform(dense),
                                       rtol=1e-14, err_msg=f"{est} {fmt}")
    ref = skp.StandardScaler(with_mean=False).fit(sp.csr_matrix(dense))
    ours = ZScoreScaler(with_mean=False).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    del rng


# The exception types are scikit-learn's for the same mistake: centering sparse
# data is a ValueError (StandardScaler), dense-only input a TypeError.
@pytest.mark.parametrize("est, error, hint", [(ZScoreScaler(), ValueError, "with_mean=False"),
                                              (MinMaxScaler(), TypeError, "dense array"),
                                              (LogScaler(offset="auto"), TypeError, "offset=1")])
def test_sparse_refused_where_zeros_would_move(est, error, hint):
    with pytest.raises(error, match=f"zeros of sparse input.*{hint}"):
        est.fit(sp.random(5, 3, density=0.5, format="csr", random_state=0))


# The squashing scaler's definition (skrub's) takes infinities: ignored in
# fit, mapped to the bounds by transform.
@pytest.mark.parametrize("cls", [c for c in ALL if c is not SquashingScaler])
def test_infinity_is_a_clear_error_naming_the_column(cls):
    df = _frame()
    scaler = cls().fit(df)
    df.loc[3, "c"] = np.inf
    with pytest.raises(ValueError, match="infinity.*column 'c'"):
        scaler.transform(df)
    with pytest.raises(ValueError, match="infinity.*column 'c'"):
        cls().fit(df)


def test_squashing_takes_infinity_to_its_bound():
    df = _frame()
    scaler = SquashingScaler().fit(df)
    df.loc[3, "c"] = np.inf
    assert scaler.transform(df)[3, 2] == scaler.max_absolute_value
    np.testing.assert_array_equal(SquashingScaler().fit(df).center_,  # (ignored, as NaN)
                                  SquashingScaler().fit(df.replace(np.inf, np.nan)).center_)


@pytest.mark.parametrize("cls", ALL)
def test_strings_are_a_clear_error_naming_the_column(cls):
    df = _frame()
    df["name"] = "x"
    with pytest.raises(ValueError, match="'name' \\(.*\\) are not numeric"):
        cls().fit(df)
    with pytest.raises(ValueError, match="'a' in column 0 at row 0 is not a number"):
        cls().fit([["a", 1.0]])


@pytest.mark.parametrize("cls", ALL)
def test_one_bad_cell_of_a_frame_is_named_with_its_row(cls):
    # as the array path names it: the value and its row, in its column
    df = _frame()
    df["b"] = df["b"].astype(object)
    df.loc[df.index[4], "b"] = "1,5"
    with pytest.raises(ValueError, match=r"'b' \(object: '1,5' at row 4\) are not numeric"):
        cls().fit(df)
    polars = pl.from_pandas(df.astype({"b": str}))
    with pytest.raises(ValueError, match=r"'b' \(String: '1,5' at row 4\)"):
        cls().fit(polars)


@pytest.mark.parametrize("cls", ALL)
def test_empty_wrong_width_and_renamed_columns(cls):
    with pytest.raises(ValueError, match="0 sample"):
        cls().fit(np.empty((0, 3)))
    df = _frame()
    scaler = cls().fit(df)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"), \
            pytest.warns(UserWarning, match="does not have valid feature names"):
        scaler.transform(df.to_numpy()[:, :3])
    with pytest.raises(ValueError, match="feature names should match"):
        scaler.transform(df.rename(columns={"b": "B"}))


def test_bad_parameters_are_clear_errors():
    with pytest.raises(ValueError, match="feature_range must be two finite numbers"):
        MinMaxScaler((1, 0)).fit([[1.0]])
    with pytest.raises(ValueError, match="'norm' parameter of UnitNormScaler"):
        UnitNormScaler("l3").fit([[1.0]])
    with pytest.raises(ValueError, match="base=1"):
        LogScaler(base=1).fit([[1.0]])


@pytest.mark.parametrize("cls", ALL)
def test_input_is_never_modified(cls):
    from skscale._blocks import block_rows

    X = np.random.default_rng(6).uniform(1, 5, size=(3 * block_rows(4) + 5, 4))
    before = X.copy()
    est = cls().fit(X)
    if hasattr(est, "partial_fit"):  # (a stream of two batches: the merge too)
        cls().partial_fit(X).partial_fit(X)
    est.transform(X)
    np.testing.assert_array_equal(X, before)


STREAMING = [cls for cls in ALL if hasattr(cls, "partial_fit")]


@pytest.mark.parametrize("cls", STREAMING)
def test_later_batches_are_checked_like_the_first(cls):
    # Later partial_fit and transform calls on plain float arrays skip
    # scikit-learn's validation; what it would catch must still be caught.
    from sklearn.utils._param_validation import InvalidParameterError

    X = _frame().to_numpy()
    est = cls().partial_fit(X)
    for call in (est.partial_fit, est.transform):
        with pytest.raises(ValueError, match="has 3 features, but .* is expecting 4"):
            call(X[:, :3])
        with pytest.raises(ValueError, match="Expected 2D array"):
            call(X[0])
        with pytest.raises(ValueError, match="0 sample"):
            call(X[:0])
    named = cls().partial_fit(_frame())
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        named.partial_fit(X)
    np.testing.assert_array_equal(cls().partial_fit(X).partial_fit(X.astype(int)).n_samples_seen_,
                                  2 * len(X))
    with pytest.raises(InvalidParameterError):  # parameters are checked on the first batch
        cls(copy="yes").partial_fit(X)
