"""DataFrames read column by column: the same results as the frame's 2-D array,
missing values kept in the frame's own kind, and no copy of the frame."""

import tracemalloc

import numpy as np
import pandas as pd
import polars as pl
import pytest

from skscale import SCALERS, BatchNormScaler, MinMaxScaler, ZScoreScaler
from skscale._kernels import affine_columns



def _data(dtype=np.float64, seed=0, n=3000):
    """Columns of very different centres and spreads, a constant one, and NaN."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) * [1.0, 10.0, 1e3, 0.0] + [0.0, -5.0, 1e6, 7.0]
    X[rng.random(X.shape) < 0.05] = np.nan
    return np.abs(X).astype(dtype)  # a logarithm needs no negative values


def _estimator(name):
    return SCALERS[name](**({"batch_size": 100} if name == "batch_norm" else {}))


def _frame(X, kind):
    names = [f"x{j}" for j in range(X.shape[1])]
    if kind == "pandas":
        return pd.DataFrame(X, columns=names)
    return pl.DataFrame(X, schema=names).fill_nan(None)  # polars: nulls, not NaN


def _close(got, want, dtype):
    """Equal to rounding: relative to each column's largest output, as a
    difference of the fitted centre by an ulp moves every output alike."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    tol = (1e-12 if dtype == np.float64 else 1e-6) * np.fmax(np.nanmax(np.abs(want), axis=0), 1)
    err = np.nan_to_num(np.abs(got - want))
    assert (err <= tol).all(), f"off by {np.max(err / tol):.3g} tolerances"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["pandas", "polars"])
@pytest.mark.parametrize("name", list(SCALERS))
def test_frames_give_the_array_results(kernels, name, kind, dtype):
    X = _data(dtype)
    df = _frame(X, kind)
    array = _estimator(name).fit(X)
    est = _estimator(name).fit(df).set_output(transform=kind)
    out = est.transform(df)
    assert type(out) is type(df) and list(out.columns) == list(df.columns)
    assert out.to_numpy().dtype == dtype
    _close(out.to_numpy(), array.transform(X), dtype)
    for attr in ("mean_", "scale_", "data_min_", "data_max_", "running_mean_"):
        if hasattr(array, attr):
            np.testing.assert_allclose(getattr(est, attr), getattr(array, attr), rtol=1e-12)
    if hasattr(est, "sample_stats"):  # per-sample scalers invert with each sample's stats
        kw = {"sample_stats": est.sample_stats(df)}
        kw_array = {"sample_stats": array.sample_stats(X)}
    else:
        kw = kw_array = {}
    back = est.inverse_transform(out, **kw)
    _close(back, array.inverse_transform(array.transform(X), **kw_array), dtype)
    if kind == "polars":  # nulls stay nulls (and NaN stays NaN: none here)
        assert out.null_count().row(0) == df.null_count().row(0)
        assert out.select(pl.all().is_nan().sum()).row(0) == (0,) * 4


@pytest.mark.parametrize("name", ["minmax", "zscore", "decimal", "log"])
def test_partial_fit_over_frame_batches(kernels, name):
    X = _data()
    est = _estimator(name)
    for rows in np.array_split(np.arange(len(X)), 7):
        est.partial_fit(pd.DataFrame(X[rows], columns=list("abcd")))
    _close(est.transform(pd.DataFrame(X, columns=list("abcd"))),
           _estimator(name).fit(X).transform(X), np.float64)


def test_pandas_index_and_nullable_columns_kept(kernels):
    df = pd.DataFrame({"i": pd.array([1, None, 3, 4], dtype="Int64"),
                       "f": pd.array([0.5, 2.5, None, 1.0], dtype="Float64"),
                       "g": np.array([2.0, np.nan, 1.0, 4.0])},
                      index=["w", "x", "y", "z"])
    est = ZScoreScaler().set_output(transform="pandas").fit(df)
    out = est.transform(df)
    assert list(out.index) == ["w", "x", "y", "z"]
    assert [str(t) for t in out.dtypes] == ["Float64", "Float64", "float64"]
    assert out["i"].isna().tolist() == [False, True, False, False]
    assert out["f"].isna().tolist() == [False, False, True, False]
    # the hand-worked z-scores of column i: 1, 3, 4 have mean 8/3 and
    # population variance 14/9
    want = (np.array([1.0, 3.0, 4.0]) - 8 / 3) / np.sqrt(14 / 9)
    np.testing.assert_allclose(out["i"].dropna().to_numpy(dtype=float), want, rtol=1e-15)


def test_mixed_column_types_are_float64(kernels):
    n = 50
    rng = np.random.default_rng(3)
    df = pl.DataFrame({"i": rng.integers(0, 9, n), "f": rng.random(n).astype(np.float32),
                       "b": rng.random(n) < 0.5, "d": rng.random(n)})
    est = MinMaxScaler().set_output(transform="polars").fit(df)
    out = est.transform(df)
    assert out.dtypes == [pl.Float64] * 4
    plain = df.to_numpy().astype(np.float64)
    np.testing.assert_array_equal(out.to_numpy(), MinMaxScaler().fit(plain).transform(plain))


def test_errors_name_the_frame_column(kernels):
    df = pd.DataFrame(_data()[:, :3], columns=[10, 20, 30])  # names that are not strings
    est = ZScoreScaler().fit(df)
    df.iloc[123, 1] = -np.inf
    with pytest.raises(ValueError, match=r"infinity \(-inf\) in column 1 at row 123"):
        ZScoreScaler().fit(df)
    with pytest.raises(ValueError, match=r"infinity \(-inf\) in column 1 at row 123"):
        est.transform(df)
    named = pl.DataFrame({"x": [1.0, 2.0], "y": [1.0, 1e300]})
    with pytest.raises(ValueError, match="Column 'y' at row 1: 1e\\+300 scales to inf"):
        MinMaxScaler().fit(pl.DataFrame({"x": [1.0, 2.0], "y": [0.0, 1e-300]})).transform(named)


def test_copy_false_never_writes_into_the_frame(kernels):
    X = _data()
    df = pd.DataFrame(X.copy(), columns=list("abcd"))
    ZScoreScaler(copy=False).fit(df).transform(df)
    np.testing.assert_array_equal(df.to_numpy(), X)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_no_full_size_temporary(kernels, kind):
    # numpy reports its allocations to tracemalloc: beyond the output, fit and
    # transform allocate a fraction of one copy of the frame (block-sized
    # work buffers at most), where a conversion to one 2-D array is a copy.
    X = np.random.default_rng(0).standard_normal((200_000, 10))
    df = _frame(X, kind)
    est = ZScoreScaler().set_output(transform=kind)
    tracemalloc.start()
    try:
        est.fit(df)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        out = est.transform(df)
        transform_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fit_peak < 0.25 * X.nbytes
    assert transform_peak < 1.25 * X.nbytes
    _close(out.to_numpy(), ZScoreScaler().fit(X).transform(X), np.float64)


def test_affine_columns_is_the_2d_kernel_bit_for_bit(kernels):
    from skscale._frames import read
    from skscale._kernels import affine

    X = _data()
    center, scale, shift = np.nanmean(X, axis=0), np.array([2.0, 3.0, 0.5, 1.0]), 0.25
    cols = read(pd.DataFrame(X))
    out = cols.empty()
    affine_columns(cols, out, center, scale, shift, bounds=(-3.0, 3.0))
    want = affine(X, np.empty_like(X), center, scale, shift, bounds=(-3.0, 3.0))
    np.testing.assert_array_equal(out.T, want)


def test_batch_norm_zero_scale_refuses_inverse_of_a_frame():
    df = pd.DataFrame(_data()[:, :2], columns=["a", "b"])
    est = BatchNormScaler(batch_size=100, scale=[1.0, 0.0]).fit(df)
    with pytest.raises(ValueError, match=r"scale is 0 for columns \['b'\]"):
        est.inverse_transform(est.transform(df))


def test_polars_column_in_several_chunks(kernels):
    # Arrow would copy such a column into one chunk: it is read with its
    # nulls filled by polars instead, with the same results.
    X = _data()
    parts = [_frame(X[:1000], "polars"), _frame(X[1000:], "polars")]
    df = pl.concat(parts, rechunk=False)
    assert df.n_chunks() == 2
    est = ZScoreScaler().set_output(transform="polars").fit(df)
    out = est.transform(df)
    assert out.null_count().row(0) == df.null_count().row(0)
    _close(out.to_numpy(), ZScoreScaler().fit(X).transform(X), np.float64)


@pytest.mark.parametrize("start", [3, 8])
def test_polars_slice_with_nulls(kernels, start):
    # a slice of a polars frame starts within its Arrow buffers (bit `start`
    # of the validity bitmap), on a byte boundary or not
    X = _data()
    df = _frame(X, "polars").slice(start)
    est = ZScoreScaler().set_output(transform="polars").fit(df)
    out = est.transform(df)
    assert out.null_count().row(0) == df.null_count().row(0)
    _close(out.to_numpy(), ZScoreScaler().fit(X[start:]).transform(X[start:]), np.float64)


def test_what_a_polars_buffer_holds_under_nulls_is_ignored(kernels):
    # Arrow leaves the values under nulls undefined: here infinities and a
    # value that would overflow, which must neither raise nor count.
    import pyarrow as pa
    values = np.tile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 300)
    values[[1, 3, 5]] = np.inf, 1e308, -np.inf
    present = np.ones(values.size, dtype=bool)
    present[[1, 3, 5]] = False
    bitmap = pa.py_buffer(np.packbits(present, bitorder="little"))
    column = pa.Array.from_buffers(pa.float64(), values.size, [bitmap, pa.py_buffer(values)])
    df = pl.from_arrow(pa.table({"x": column}))
    assert df["x"].null_count() == 3
    plain = np.where(present, values, np.nan)[:, None]
    for cls in (MinMaxScaler, ZScoreScaler):
        est = cls().fit(df)
        want = cls().fit(plain)
        _close(est.transform(df), want.transform(plain), np.float64)  # NaN at the nulls
        out = est.set_output(transform="polars").transform(df)
        assert out["x"].is_null().to_list() == (~present).tolist()


def test_polars_output_outlives_its_input(kernels):
    # the output's columns share the input's validity bitmaps and view the
    # kernel's buffer: both must stay alive as long as the output does
    import gc
    X = _data()
    df = _frame(X, "polars")
    out = ZScoreScaler().set_output(transform="polars").fit_transform(df)
    del df
    gc.collect()
    _ = [np.ones(X.size) for _ in range(20)]  # reuse of freed memory would show
    assert out.null_count().row(0) == tuple(np.isnan(X).sum(axis=0))
    _close(out.to_numpy(), ZScoreScaler().fit(X).transform(X), np.float64)


@pytest.mark.parametrize("method", ["zscore", "minmax", "log", "unit_norm", "auto"])
def test_scaler_by_name_keeps_missing_values_as_its_method_does(method):
    # Scaler(method) is the estimator the docs recommend for grid search: its
    # output keeps pd.NA and polars nulls exactly as the method's own does.
    from skscale import AutoScaler, Scaler

    own = AutoScaler if method == "auto" else SCALERS[method]
    pdf = pd.DataFrame({"i": pd.array([1, None, 3, 4, 9], dtype="Int64"),
                        "f": pd.array([0.5, 2.5, None, 1.0, 3.0], dtype="Float64")})
    want = own().set_output(transform="pandas").fit(pdf).transform(pdf)
    got = Scaler(method).set_output(transform="pandas").fit(pdf).transform(pdf)
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes] == ["Float64"] * 2
    assert got.isna().equals(want.isna()) and got.isna().to_numpy().sum() == 2
    pd.testing.assert_frame_equal(got, want)
    plf = pl.from_pandas(pdf)
    want = own().set_output(transform="polars").fit(plf).transform(plf)
    got = Scaler(method).set_output(transform="polars").fit(plf).transform(plf)
    assert got["i"].null_count() == got["f"].null_count() == 1
    assert got.equals(want)


def test_scaler_by_name_shows_its_methods_fitted_attributes():
    from skscale import Scaler

    X = np.array([[1.0, 10.0], [3.0, 30.0], [8.0, 20.0], [2.0, 40.0]])
    fitted = Scaler("zscore").fit(X)
    np.testing.assert_array_equal(fitted.mean_, fitted.scaler_.mean_)
    np.testing.assert_allclose(fitted.mean_, X.mean(axis=0), rtol=1e-15)
    auto = Scaler("auto").fit(X)
    assert auto.report_.equals(auto.scaler_.report_)
    with pytest.raises(AttributeError, match="'Scaler' object has no attribute 'mean_'"):
        Scaler("zscore").mean_  # not fitted
    with pytest.raises(AttributeError, match="has no attribute 'report_'"):
        fitted.report_  # zscore has none
