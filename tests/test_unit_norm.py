"""UnitNormScaler against scikit-learn's Normalizer, and its exact inverse; all
per-sample scalers are stateless."""

import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import Normalizer

from skscale import GroupNormScaler, InstanceNormScaler, LayerNormScaler, UnitNormScaler
from skscale import _compiled, _config
from skscale._blocks import block_rows

U64 = 2.0**-53


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


def exact_unit_norm(X, norm):
    """Each row's norm (NaN ignored) and the row divided by it, from the exact
    values at 400 bits (mpmath keeps any exponent): the correctly rounded
    results.  A zero row stays zero."""
    norms, Y = np.empty(len(X)), np.empty(X.shape)
    with mpmath.workprec(400):
        for i, row in enumerate(X):
            xs = [mpmath.mpf(float(v)) for v in row if v == v]
            n = {"l1": lambda: mpmath.fsum(abs(v) for v in xs),
                 "l2": lambda: mpmath.sqrt(mpmath.fsum(v * v for v in xs)),
                 "max": lambda: max(abs(v) for v in xs)}[norm]()
            norms[i] = float(n) if n < 2**1024 else np.inf
            Y[i] = [v if v != v else float(mpmath.mpf(float(v)) / (n or 1)) for v in row]
    return norms, Y


TINY_AND_HUGE = np.array([
    [1e-310, -5e-324, 2e-310, 0.0, 3e-310, -1e-310, 5e-324, 1e-310],  # subnormal
    [5e-324] * 8,  # the smallest float: every square is 0
    np.linspace(-3, 5, 8) * 1e-160,  # subnormal squares
    np.linspace(-3, 5, 8) * 1e-200,  # squares that vanish
    np.linspace(-3, 5, 8) * 1e-140,  # a norm below 2**-450
    [1e-300, np.nan, 0.0, 0.0, 0.0, 0.0, 0.0, 2e-300],
    [0.0, 0.0, np.nan, 0.0, 0.0, 0.0, 0.0, 0.0],  # stays zero, NaN passes
    np.linspace(-3, 5, 8) * 1e200,  # squares that overflow
    [1.7e308, 1e308, 0.0, -1.0, 0.0, 0.0, 3e-310, 1.0],  # a sum that overflows
])


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_tiny_and_huge_rows_are_scaled_exactly(kernels, norm):
    """Rows whose norm underflows or overflows are computed on x * 2**k: the
    subnormal row is the unit vector, not the row itself; the huge ones are not 0."""
    X = TINY_AND_HUGE
    ref_norms, ref = exact_unit_norm(X, norm)
    scaler = UnitNormScaler(norm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = scaler.fit_transform(X)
        in_place = X.copy()
        assert scaler.transform(in_place, copy=False) is in_place
    np.testing.assert_allclose(got, ref, rtol=8 * U64, atol=0)
    np.testing.assert_array_equal(in_place, got)
    big = np.isinf(ref_norms)  # l1 and l2 of the last row: beyond float64
    assert big.any() == (norm != "max")
    if big.any():
        with pytest.raises(ValueError, match=rf"Row {len(X) - 1}: its {norm} norm is beyond"):
            scaler.sample_stats(X)
    norms = scaler.sample_stats(X[~big])
    # a subnormal norm is rounded to its 2**-1074 grid
    np.testing.assert_allclose(norms, ref_norms[~big], rtol=8 * U64, atol=2.0**-1074)
    back = scaler.inverse_transform(got[~big], sample_stats=norms)
    # (3e-310 beside 1.7e308 scales to 0: what is lost is below the row's scale times 2**-1074)
    span = np.nanmax(np.abs(X[~big]), axis=1, keepdims=True)
    np.testing.assert_array_less(np.abs(back - X[~big]),
                                 8 * U64 * np.abs(X[~big]) + 8 * U64 * span + 2.0**-1074)


def test_compiled_loop_leaves_tiny_rows_to_numpy():
    assert _compiled._load() is not None, "numba is a test dependency"
    X = np.vstack([TINY_AND_HUGE, np.zeros(8), np.linspace(-3, 5, 8) * 1e-130,
                   [np.inf] + [1.0] * 7])
    for norm in ("l1", "l2", "max"):
        out = np.full_like(X, 7.0)
        left = _compiled.unit_norm_loop(X, out, norm, 1)
        # subnormal, 1e-160, 1e-200, 1e-140 and 1e-300 rows (norms below 2**-450),
        # the huge rows whose sum overflows, and the infinity
        expected = [0, 1, 2, 3, 4, 5] + ([] if norm == "max" else [8]) + [11]
        if norm == "l2":
            expected.insert(6, 7)  # its squares overflow
        np.testing.assert_array_equal(left, expected)
        np.testing.assert_array_equal(out[left], 7.0)  # left unwritten
        np.testing.assert_array_equal(out[[6, 9]], [[0.0, 0.0, np.nan] + [0.0] * 5, [0.0] * 8])


def test_inverse_names_an_infinity_and_an_overflow():
    X = _data(n=30, d=5)
    scaler = UnitNormScaler().fit(X)
    Y, norms = scaler.transform(X), scaler.sample_stats(X)
    Y[17, 2] = -np.inf
    with pytest.raises(ValueError, match=r"infinity \(-inf\) in column 2 at row 17"):
        scaler.inverse_transform(Y, sample_stats=norms)
    Y[17, 2] = 2.5  # not a unit vector's: 2.5 * 1e308 is beyond float64
    norms[17] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"at row 17: .* beyond the range of float64"):
            scaler.inverse_transform(Y, sample_stats=norms)
        # float32 overflows sooner
        with pytest.raises(ValueError, match=r"row 17: .* beyond the range of float32"):
            scaler.inverse_transform(Y.astype(np.float32), sample_stats=np.where(
                np.arange(30) == 17, 1e39, norms))
        # rows near the limit come back as they were (their l2 norm, 1.6e308, fits)
        X[3] = [1.1e308, -1.1e308, 5e307, 0.0, 5.0]
        Y, norms = scaler.transform(X), scaler.sample_stats(X)
        back = scaler.inverse_transform(Y, sample_stats=norms)
    np.testing.assert_allclose(back[3], X[3], rtol=8 * U64, atol=8 * U64 * 1.1e308)


# --- stateless, as sklearn's Normalizer -------------------------------------------------

ROW_SCALERS = [
    lambda: UnitNormScaler("l1"),
    lambda: LayerNormScaler(shift=0.5),
    lambda: GroupNormScaler(2, n_channels=4, scale=[1.0, 0.5, -2.0, 3.0]),
    lambda: InstanceNormScaler(4, eps=0.0),
]


@pytest.mark.parametrize("make", ROW_SCALERS)
def test_failed_in_place_transform_leaves_X_as_it_was(kernels, make):
    X = _data(d=8)  # several row blocks
    X[-2, 5] = np.inf
    before = X.copy()
    with pytest.raises(ValueError, match=rf"infinity \(inf\) in column 5 at row {len(X) - 2}"):
        make().transform(X, copy=False)
    np.testing.assert_array_equal(X, before)
    X[-2, 5] = 1.0
    expected = make().transform(X)
    assert make().transform(X, copy=False) is X
    np.testing.assert_array_equal(X, expected)


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
