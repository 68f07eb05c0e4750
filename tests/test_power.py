"""PowerTransformer against scikit-learn's PowerTransformer and scipy's
likelihood, against a correctly computed (mpmath) likelihood and transform
where float64 defeats them, and its streamed lambdas against the exact fit."""

import warnings

import mpmath
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from scipy import stats
from sklearn import preprocessing as skp

from skscale import _lambdas
from skscale._power import PowerTransformer

from reference import assert_close

METHODS = ["yeo-johnson", "box-cox"]


def _columns(method, n=1500, seed=0):
    """Skewed, heavy-tailed, left-skewed, negative-only (Yeo-Johnson), small
    and large scales, ties."""
    rng = np.random.default_rng(seed)
    cols = [rng.lognormal(0, 1, n), rng.exponential(1, n), rng.beta(5, 1, n),
            rng.chisquare(3, n) * 100, rng.lognormal(0, 1, n) * 1e6, rng.beta(5, 1, n) * 0.1,
            np.round(rng.lognormal(0, 1, n) * 3) + 1]
    if method == "yeo-johnson":
        cols += [-rng.exponential(1, n), rng.standard_t(3, n), rng.normal(size=n),
                 -rng.lognormal(0, 1, n) * 1e6]
    return np.column_stack(cols)


def _llf(method):
    return stats.yeojohnson_llf if method == "yeo-johnson" else stats.boxcox_llf


def _sklearn_at(method, lambdas, X, standardize=True):
    """scikit-learn's transformer with the given lambdas (its own transform
    and standardization of X): the oracle of the map itself."""
    ref = skp.PowerTransformer(method=method, standardize=standardize)
    ref.fit(X[:5] if method == "yeo-johnson" else X[:5])  # (shape, names)
    ref.lambdas_ = np.asarray(lambdas, dtype=np.float64)
    if standardize:
        fn = stats.yeojohnson if method == "yeo-johnson" else stats.boxcox
        psi = np.column_stack([fn(X[:, j], lmbda=lam) for j, lam in enumerate(lambdas)])
        ref._scaler = skp.StandardScaler().fit(psi)
    return ref


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("standardize", [True, False])
def test_lambdas_and_outputs_equal_sklearn(method, standardize):
    X = _columns(method)
    ours = PowerTransformer(method, standardize=standardize).fit(X)
    ref = skp.PowerTransformer(method=method, standardize=standardize).fit(X)
    # lambda to 1e-6 relative, or a likelihood at least as high (scipy's, to
    # its rounding): scipy's search stops at 1.5e-8.
    rel = np.abs(ours.lambdas_ - ref.lambdas_) / np.maximum(1, np.abs(ref.lambdas_))
    for j in np.flatnonzero(rel > 1e-6):
        llf = _llf(method)
        assert llf(ours.lambdas_[j], X[:, j]) >= llf(ref.lambdas_[j], X[:, j]) - 1e-9
    # Outputs to 1e-10 of their magnitude, given the same lambdas.
    X_new = X * np.random.default_rng(1).uniform(0.5, 1.5, X.shape)
    if method == "yeo-johnson":
        X_new[::5] *= -1
    want = _sklearn_at(method, ours.lambdas_, X, standardize)
    assert_close(ours.transform(X_new), want.transform(X_new), rtol=1e-10)
    # Inverses, to rounding: of y (an ulp of its magnitude, through the
    # slope of the map at x) and of x.
    Y = ours.transform(X_new)
    _assert_inverse(ours, X_new, Y, standardize)


@pytest.mark.parametrize("method", METHODS)
def test_search_started_from_a_subsample_finds_the_maximum(method):
    # Long enough columns start the exact search from a subsample's root:
    # the lambdas are still scikit-learn's (or as likely), and each is the
    # maximum of scipy's likelihood to within 1e-5 either side (where it
    # falls by far more than scipy's rounding, about 1e-11).
    X = _columns(method, n=5 * _lambdas.SAMPLE, seed=3)
    assert X.shape[0] // _lambdas.SAMPLE >= 4  # (the subsample is taken)
    ours = PowerTransformer(method).fit(X)
    ref = skp.PowerTransformer(method=method).fit(X)
    llf = _llf(method)
    rel = np.abs(ours.lambdas_ - ref.lambdas_) / np.maximum(1, np.abs(ref.lambdas_))
    for j in np.flatnonzero(rel > 1e-6):
        assert llf(ours.lambdas_[j], X[:, j]) >= llf(ref.lambdas_[j], X[:, j]) - 1e-9
    for j, lam in enumerate(ours.lambdas_):
        step = 1e-5 * max(1.0, abs(lam))
        here = llf(lam, X[:, j])
        assert here >= max(llf(lam - step, X[:, j]), llf(lam + step, X[:, j])) - 1e-8


def _assert_inverse(pt, X, Y, standardize):
    """The round trip within 64 ulps of x, and of y carried back through the
    slope of the map at x (the conditioning of the map, measured)."""
    h = 1e-6 * np.maximum(np.abs(X), 1e-3)
    dydx = (pt.transform(X + h) - pt.transform(X - h)) / (2 * h)
    y_terms = np.abs(Y) + np.abs(pt._map["b1"]) + np.abs(np.nan_to_num(pt._map["b2"]))
    tol = 64 * np.finfo(float).eps * (np.abs(X) + y_terms / np.abs(dydx))
    back = pt.inverse_transform(Y)
    assert (np.abs(back - X) <= tol).all(), np.max(np.abs(back - X) / tol)


def test_data_far_from_zero_mpmath():
    # At 1e8 with unit spread scipy's likelihood and scikit-learn's
    # standardization lose half their digits; the reference is mpmath at
    # 4,000 bits on the same (small) sample.
    x = np.random.default_rng(0).normal(1e8, 1, 60)
    ours = PowerTransformer().fit(x[:, None])
    ref = skp.PowerTransformer().fit(x[:, None])
    lam_ours, lam_ref = float(ours.lambdas_[0]), float(ref.lambdas_[0])

    def llf(lam):
        with mpmath.workprec(4000):
            lam = mpmath.mpf(lam)
            psi = [((1 + mpmath.mpf(float(v))) ** lam - 1) / lam for v in x]
            mean = sum(psi) / len(psi)
            var = sum((p - mean) ** 2 for p in psi) / len(psi)
            return -len(x) / 2 * mpmath.log(var) + (lam - 1) * sum(
                mpmath.log1p(mpmath.mpf(float(v))) for v in x), psi, mean, var

    best, psi, mean, var = llf(lam_ours)
    assert best >= llf(lam_ref)[0]
    with mpmath.workprec(4000):
        want = np.array([float((p - mean) / mpmath.sqrt(var)) for p in psi])
    got = ours.transform(x[:, None]).ravel()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    # scikit-learn's standardization of the same map, at our lambda, is off by far more.
    sk = _sklearn_at("yeo-johnson", ours.lambdas_, x[:, None]).transform(x[:, None]).ravel()
    assert np.abs(sk - want).max() > 1e-9


# (the oracle's own overflow, which this test shows, warns)
@pytest.mark.filterwarnings("ignore::RuntimeWarning:sklearn", "ignore::UserWarning:scipy")
def test_no_overflow_where_sklearn_gives_nan():
    # scipy's issue 18389 (scikit-learn's 23319): years. Box-Cox's lambda is
    # pulled back only to keep the transformed values below max / 1e4, whose
    # variance then overflows in scikit-learn's standardization.
    x = np.array([2003.0, 1950.0, 1997.0, 2000.0, 2009.0, 2009.0, 1980.0, 1999.0, 2007.0,
                  1991.0])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(skp.PowerTransformer(method="box-cox").fit_transform(x)).all()
    for method in METHODS:
        pt = PowerTransformer(method).fit(x)
        Y = pt.transform(x)
        assert np.isfinite(Y).all()
        np.testing.assert_allclose([Y.mean(), Y.std()], [0, 1], atol=1e-12)
        np.testing.assert_allclose(pt.inverse_transform(Y), x, rtol=1e-13)
        # the same map as scikit-learn's at this lambda (its transformed values
        # are finite here; only its lambda search overflows)
        assert_close(Y, _sklearn_at(method, pt.lambdas_, x).transform(x), rtol=1e-10)


def test_huge_values_stay_finite():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.lognormal(0, 1, 500) * 1e300, -rng.lognormal(0, 1, 500) * 1e300])
    pt = PowerTransformer().fit(X)
    lo, hi = _lambdas.bounds("yeo-johnson", X[:, 0].min(), X[:, 0].max())
    assert lo <= pt.lambdas_[0] <= hi < 1
    Y = pt.transform(X)
    np.testing.assert_allclose(Y.std(axis=0), 1, atol=1e-12)
    assert_close(pt.inverse_transform(Y), X, rtol=1e-12)


def test_standardize_false_beyond_float64_is_named():
    x = np.array([[1.0], [2.0], [3.0], [4.0], [50.0]])
    pt = PowerTransformer("box-cox", standardize=False).fit(x)
    assert pt.lambdas_[0] < 0  # (a bounded map: its inverse has a limit)
    with pytest.raises(ValueError, match="Column 0 at row 0: 1000000.0 is outside the range"):
        pt.inverse_transform([[1e6]])


def test_constant_and_empty_columns():
    X = np.column_stack([np.full(20, 3.5), np.arange(1.0, 21.0), np.full(20, np.nan)])
    for method in METHODS:
        pt = PowerTransformer(method).fit(X)
        assert pt.lambdas_[0] == 1.0 and np.isnan(pt.lambdas_[2])
        Y = pt.transform(X)
        np.testing.assert_array_equal(Y[:, 0], 0.0)
        assert np.isnan(Y[:, 2]).all()
        np.testing.assert_array_equal(pt.inverse_transform(Y)[:, 0], 3.5)
    # scikit-learn: the same constant column for Yeo-Johnson, an error for the rest
    ref = skp.PowerTransformer().fit(X[:, :2])
    np.testing.assert_allclose(ref.transform(X[:, :2])[:, 0], 0.0, atol=1e-12)


def test_nan_ignored_and_passed_through():
    X = _columns("yeo-johnson")[:, :4]
    Xn = X.copy()
    Xn[::7, 1] = np.nan
    ours = PowerTransformer().fit(Xn)
    ref = skp.PowerTransformer().fit(Xn)
    rel = np.abs(ours.lambdas_ - ref.lambdas_) / np.maximum(1, np.abs(ref.lambdas_))
    assert (rel < 1e-6).all()
    Y = ours.transform(Xn)
    np.testing.assert_array_equal(np.isnan(Y), np.isnan(Xn))


def test_float32_kept():
    X = _columns("yeo-johnson")[:, [0, 1, 2, 7, 8]].astype(np.float32)
    ours = PowerTransformer().fit(X)
    Y = ours.transform(X)
    assert Y.dtype == np.float32
    ref = skp.PowerTransformer().fit(X)
    rel = np.abs(ours.lambdas_ - ref.lambdas_) / np.maximum(1, np.abs(ref.lambdas_))
    assert (rel < 1e-5).all()  # (scikit-learn works in float32 here)
    want = _sklearn_at("yeo-johnson", ours.lambdas_, X.astype(np.float64)).transform(
        X.astype(np.float64))
    np.testing.assert_allclose(Y, want, rtol=0, atol=2e-6)


@pytest.mark.parametrize("method", METHODS)
def test_partial_fit_within_the_stated_tolerance(method):
    X = _columns(method, n=4000)
    if method == "yeo-johnson":  # (mixed signs: each side of 0 interpolated apart)
        X = np.column_stack([X, np.random.default_rng(5).normal(-50, 60, len(X)),
                             np.random.default_rng(6).standard_cauchy(len(X))])
    exact = PowerTransformer(method).fit(X)
    stream = PowerTransformer(method)
    for part in np.array_split(X, 5):
        stream.partial_fit(part)
    rel = np.abs(stream.lambdas_ - exact.lambdas_) / np.maximum(1, np.abs(exact.lambdas_))
    assert rel.max() < 3e-5, rel
    assert_close(stream.transform(X), exact.transform(X), rtol=1e-4)
    assert stream.n_samples_seen_ == len(X)


def test_streamed_lambda_at_the_grid_edge_warns():
    x = np.random.default_rng(0).normal(1e8, 1, 300)[:, None]  # (flat: rises to the bound)
    with pytest.warns(UserWarning, match="edge"):
        PowerTransformer().partial_fit(x)


def test_partial_fit_after_fit_needs_keep_stats():
    X = _columns("yeo-johnson")[:, :3]
    with pytest.raises(ValueError, match="keep_stats"):
        PowerTransformer().fit(X).partial_fit(X)
    kept = PowerTransformer(keep_stats=True).fit(X[:700]).partial_fit(X[700:])
    exact = PowerTransformer().fit(X)
    rel = np.abs(kept.lambdas_ - exact.lambdas_) / np.maximum(1, np.abs(exact.lambdas_))
    assert rel.max() < 3e-5


def test_box_cox_refuses_non_positive_values_naming_the_column():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 0.0, 2.0]})
    with pytest.raises(ValueError, match="column 'b' holds 0"):
        PowerTransformer("box-cox").fit(X)
    pt = PowerTransformer("box-cox").fit(X.assign(b=[1.0, 2.0, 4.0]))
    with pytest.raises(ValueError, match="Column 'b' at row 1: -1.0 is not positive"):
        pt.transform(X.assign(b=[1.0, -1.0, 2.0]))


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_frames_keep_nulls(kind):
    X = _columns("yeo-johnson")[:, :3]
    names = ["a", "b", "c"]
    if kind == "pandas":
        frame = pd.DataFrame(X, columns=names).astype("Float64")
        frame.iloc[4, 1] = pd.NA
    else:
        frame = pl.DataFrame(X, schema=names).with_columns(
            pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("b")).alias("b"))
    pt = PowerTransformer().set_output(transform=kind).fit(frame)
    out = pt.transform(frame)
    nulls = out["b"].isna().tolist() if kind == "pandas" else out["b"].is_null().to_list()
    assert nulls == [i == 4 for i in range(len(X))]


def test_sparse_refused():
    with pytest.raises(TypeError, match="dense"):
        PowerTransformer().fit(sp.random(10, 2, density=0.5, format="csr"))
