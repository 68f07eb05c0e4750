"""LogScaler: exact powers and accuracy for bases 2 and 10, and its domain errors."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.sparse as sp

import skscale
from skscale import LogScaler
from skscale import _log

#: The bound LogScaler's docstring states for bases 2 and 10.
ULP_BOUND = 3.0


def _exact_powers(base, offset):
    """(x, k) with x + offset == base**k exactly, for k in -10..20."""
    xs, ks = [], []
    for k in range(-10, 21):
        x = Fraction(base) ** k - Fraction(offset)
        if Fraction(float(x)) == x:
            xs.append(float(x))
            ks.append(float(k))
    return np.array(xs), np.array(ks)


@pytest.mark.parametrize("base", [2, 10])
@pytest.mark.parametrize("offset", [1.0, 3.0, 0.5, "auto"])
@pytest.mark.parametrize("compiled", [False, True])
def test_exact_powers_map_exactly_to_their_exponent(base, offset, compiled):
    low = -5.0  # the training minimum under "auto": offset_ = 1 - low
    x, k = _exact_powers(base, 1 - low if offset == "auto" else offset)
    # base 2: all 31; base 10: at least 10**0 .. 10**15 (larger ones minus the
    # offset are seldom floats)
    assert len(x) >= (31 if base == 2 else 16)
    with skscale.config_context(compiled=compiled):
        train = np.r_[low, x.max()] if offset == "auto" else x
        scaler = LogScaler(base=base, offset=offset).fit(train[:, None])
        np.testing.assert_array_equal(scaler.transform(x[:, None]).ravel(), k)
        # float64 blocks written into float32 output give k rounded, i.e. k
        x32 = x[x.astype(np.float32) == x]
        np.testing.assert_array_equal(
            scaler.transform(x32[:, None].astype(np.float32)).ravel(),
            k[x.astype(np.float32) == x].astype(np.float32))


@pytest.mark.parametrize("base", [2, 10])
def test_sparse_input_maps_exact_powers_exactly(base):
    x, k = _exact_powers(base, 1.0)
    X = sp.csr_matrix(np.c_[x, np.zeros_like(x)])
    out = LogScaler(base=base).fit(X).transform(X).toarray()
    np.testing.assert_array_equal(out[:, 0], k)
    assert (out[:, 1] == 0).all()


@pytest.mark.parametrize("base", [2, 10])
def test_exact_powers_survive_a_log_that_misses_them(base, monkeypatch):
    # numpy's log2 / log10 are within 1 ulp, and some CPUs' SIMD code might
    # spend it at an exact power: a log 1 ulp low everywhere stands for it.
    real = _log._LOGS[base]

    def low(u, out=None):
        return np.nextafter(real(u), -np.inf, out=out)

    monkeypatch.setitem(_log._LOGS, float(base), low)
    x, k = _exact_powers(base, 1.0)
    np.testing.assert_array_equal(LogScaler(base=base).fit_transform(x[:, None]).ravel(), k)
    y = LogScaler(base=base).fit(x[:, None]).transform([[1.5]])
    assert y[0, 0] == low(np.array([2.5]))[0]  # elsewhere the log is used as it is


def _spread(rng, n):
    """Values of a = x - shift in (-1, inf) over every magnitude."""
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    a = np.concatenate([
        10.0 ** rng.uniform(-300, 300, n),                 # positive, 1e-300 .. 1e300
        -(10.0 ** rng.uniform(-300, 0, n)),                # in (-1, 0)
        -1 + 2.0 ** -rng.uniform(1, 53, n),                # near -1: 1 + a down to 2**-53
        sign * 2.0 ** rng.uniform(-60, -1, n),             # near 0, where 1 + a rounds
        rng.uniform(-1, 100, n),
        [2.0**-1074, -(2.0**-1074), 0.0, -0.0],
    ])
    return a[a > -1]


def _ulp_errors(a, y, base):
    """|y - log_base(1 + a)| in ulps of the correctly rounded value (mpmath)."""
    ln_base = mpmath.log(base)
    errors = []
    for ai, yi in zip(a.tolist(), y.tolist()):
        exact = mpmath.log1p(mpmath.mpf(ai)) / ln_base
        rounded = float(exact)
        if rounded == 0.0:
            assert yi == 0.0 and math.copysign(1, yi) == math.copysign(1, ai)
            continue
        errors.append(float(abs(mpmath.mpf(yi) - exact) / math.ulp(rounded)))
    return np.array(errors)


@pytest.mark.parametrize("base", [2, 10])
def test_accuracy_against_a_correctly_rounded_reference(base):
    a = _spread(np.random.default_rng(base), 4000)
    with mpmath.workprec(160):
        # offset=1: the map is log_base(1 + x) of x itself
        errors = _ulp_errors(a, LogScaler(base=base).fit([[0.0]]).transform(a[:, None]).ravel(),
                             base)
    assert errors.size > 19_000
    assert errors.max() <= ULP_BOUND, (errors.max(), a[np.argmax(errors)])


def test_other_bases_keep_log1p_over_ln_base():
    x = np.array([[0.0], [2.0], [26.0], [0.25]])
    np.testing.assert_allclose(LogScaler(base=3).fit_transform(x).ravel(),
                               [0.0, 1.0, 3.0, math.log1p(0.25) / math.log(3)], rtol=4e-16)


@pytest.mark.parametrize("base", [2, 10])
def test_round_trip_for_bases_2_and_10(base):
    rng = np.random.default_rng(3)
    X = np.c_[rng.uniform(-5, 1e4, 500), 10.0 ** rng.uniform(-8, 8, 500)]
    scaler = LogScaler(base=base, offset="auto").fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    np.testing.assert_allclose(back, X, rtol=1e-12, atol=1e-12)


def test_auto_offset_error_explains_the_learned_domain():
    scaler = LogScaler(offset="auto").fit([[-5.0], [5.0]])
    with pytest.raises(ValueError) as info:
        scaler.transform([[0.0], [-7.0]])
    message = str(info.value)
    assert "holds -7 at row 1" in message
    assert "training minimum is -5" in message and "min - 1 = -6" in message
    assert "Refit on data that covers -7" in message and "larger than 7" in message
    assert "Use offset='auto'" not in message  # it already is "auto"
    # values above min - 1 are in the domain, even below the training minimum
    assert np.isfinite(scaler.transform([[-5.9]])).all()


def test_auto_offset_error_for_a_column_without_training_values():
    scaler = LogScaler(offset="auto").fit([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(ValueError, match="held no value there.*at or below -1 have no"):
        scaler.transform([[1.0, -1.0]])


def test_fixed_offset_error_suggests_a_larger_or_learned_offset():
    with pytest.raises(ValueError, match=r"x \+ offset = -1 <= 0.*larger offset \(more than 3\)"
                       r".*offset='auto'"):
        LogScaler(offset=2.0).fit([[0.0]]).transform([[-3.0]])


def _log_reference(x, offset, base):
    """log_base(x + offset), correctly rounded: the sum is exact at 2,300
    bits (1e300 + 1e-300 spans about 2,000), and so is what the log sees."""
    with mpmath.workprec(2300):
        return np.array([float(mpmath.log(mpmath.mpf(float(v)) + mpmath.mpf(offset))
                               / mpmath.log(base)) for v in x])


@pytest.mark.usefixtures("kernels")
@pytest.mark.parametrize("base", [math.e, 2, 10, 3])
def test_any_offset_from_1_to_1e_300_is_accurate(base):
    # Offsets whose 1 - offset is no float64 (1e-16 rounded it to 1 - 1.1e-16,
    # and from 1e-17 on to 1): the log of x + offset must not notice.
    x = np.r_[0.0, 1e-310, 1e-300, 1e-20, 1e-16, 1e-8, 0.25, 0.5 - 2**-54, 0.75,
              1 - 2**-53, 1.0, 1 + 2**-52, 1.5, 2.0, 3.0, 1e3, 1e15, 1e300]
    for k in [0, 1, 3, 8, 15, 16, 17, 20, 50, 100, 200, 300]:
        for offset in (10.0 ** -k, 0.3 * 10.0 ** -k, 7.0 * 10.0 ** -k):
            scaler = LogScaler(base=base, offset=offset).fit(x[:, None])
            y = scaler.transform(x[:, None]).ravel()
            expected = _log_reference(x, offset, base)
            ulps = np.abs(y - expected) / np.spacing(np.abs(expected))
            ulps[expected == 0] = np.abs(y[expected == 0]) / 5e-324
            assert ulps.max() <= ULP_BOUND, (offset, x[ulps.argmax()], ulps.max())
            back = scaler.inverse_transform(y[:, None]).ravel()
            # The inverse, to the rounding of y: an ulp of y is an error of
            # |ln(x + offset)| ulps in exp(y), which is x + offset.
            total = x + offset
            tol = 4 * np.finfo(float).eps * (1 + np.abs(np.log(total))) * total
            assert (np.abs(back - x) <= tol).all(), (offset, x[np.argmax(np.abs(back - x) - tol)])


def test_auto_scaler_log_step_keeps_small_units():
    # Data in units of 1e-15: AutoScaler's log offset is itself about 1e-15.
    rng = np.random.default_rng(3)
    X = rng.lognormal(0, 1.5, size=(2000, 1)) * 1e-15
    auto = skscale.AutoScaler().fit(X)
    assert auto.report_["method"][0] == "log + zscore"
    log_step = auto.groups_[0][1][0]
    y = log_step.transform(X).ravel()
    expected = _log_reference(X.ravel()[:50], log_step.offset_[0], math.e)
    np.testing.assert_allclose(y[:50], expected, rtol=3e-16)


@pytest.mark.usefixtures("kernels")
@pytest.mark.parametrize("offset", ["auto", 1.0, 1e-3])
def test_out_of_domain_values_raise_or_become_nan_or_are_clipped(offset):
    train = np.array([[0.0, 5.0], [2.0, 9.0], [10.0, 7.0]])
    test = np.array([[-3.0, 5.0], [np.nan, 2.0], [1.0, 4.0]])  # -3 and 2 below their ranges
    with pytest.raises(ValueError, match="logarithm.*out_of_domain='nan' or 'clip'"):
        LogScaler(offset=offset).fit(train).transform(test)
    plain = LogScaler(offset=offset).fit(train)
    nan = LogScaler(offset=offset, out_of_domain="nan").fit(train).transform(test)
    # what has a logarithm is the same; what has none is NaN
    has_log = ~np.isnan(test) & (test + plain.offset_ > 0)
    expected = plain.transform(np.where(has_log, test, train[[0]]))
    # (to rounding: the compiled loop evaluates log1p by its own polynomial)
    np.testing.assert_allclose(nan[has_log], expected[has_log], rtol=4e-16)
    assert np.isnan(nan[~has_log]).all() and not has_log[0, 0]
    clipped = LogScaler(offset=offset, out_of_domain="clip").fit(train).transform(test)
    # every value below the training minimum takes the minimum's image
    low = train.min(axis=0)
    np.testing.assert_allclose(clipped, plain.transform(np.maximum(test, low)), rtol=4e-16)
    np.testing.assert_allclose(clipped[0, 0], plain.transform(train[[0]])[0, 0], rtol=4e-16)


def test_out_of_domain_nan_keeps_a_grid_search_going():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.impute import SimpleImputer

    X = np.r_[np.arange(40.0), -np.arange(1.0, 11.0)][:, None]  # the last fold is below the rest
    y = np.arange(50.0)
    pipe = make_pipeline(LogScaler(offset="auto"), SimpleImputer(), Ridge())
    grid = {"logscaler__out_of_domain": ["nan", "clip"]}
    search = GridSearchCV(pipe, grid, cv=KFold(5), error_score="raise").fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="logarithm"):
        GridSearchCV(pipe, {"logscaler__out_of_domain": ["raise"]}, cv=KFold(5),
                     error_score="raise").fit(X, y)
