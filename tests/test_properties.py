"""Properties that hold for any data: round trips, streaming = batch, float32 = float64."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skscale import DecimalScaler, LogScaler, MinMaxScaler, ZScoreScaler

STREAMING = [MinMaxScaler, ZScoreScaler, DecimalScaler, lambda: LogScaler(offset="auto")]

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
matrices = arrays(np.float64, st.tuples(st.integers(2, 40), st.integers(1, 4)),
                  elements=finite | st.just(np.nan))


def _no_all_nan(X):
    X = X.copy()
    X[0, np.isnan(X).all(axis=0)] = 1.0
    return X


@settings(max_examples=60, deadline=None)
@given(matrices, st.sampled_from(range(len(STREAMING))))
def test_inverse_transform_round_trips(X, which):
    X = _no_all_nan(X)
    scaler = STREAMING[which]().fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    span = np.nanmax(np.abs(X), axis=0) + 1.0
    np.testing.assert_allclose(back / span, X / span, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrices, st.lists(st.integers(1, 39), max_size=4), st.sampled_from(range(len(STREAMING))))
def test_partial_fit_over_any_split_equals_fit(X, cuts, which):
    X = _no_all_nan(X)
    cuts = sorted({c for c in cuts if c < len(X)})
    whole = STREAMING[which]().fit(X)
    streamed = STREAMING[which]()
    for part in np.split(X, cuts):
        streamed.partial_fit(part)
    span = np.nanmax(np.abs(X), axis=0) + 1.0
    n = len(X)
    if "moments" in whole._stats_needed:
        np.testing.assert_allclose(whole.stats_.mean / span, streamed.stats_.mean / span,
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(whole.stats_.m2 / (n * span**2),
                                   streamed.stats_.m2 / (n * span**2), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(whole.stats_.count, streamed.stats_.count)
    if "extremes" in whole._stats_needed:
        np.testing.assert_array_equal(whole.stats_.min, streamed.stats_.min)
        np.testing.assert_array_equal(whole.stats_.max, streamed.stats_.max)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(2, 40), st.just(3)),
              elements=st.floats(-1e4, 1e4, width=32)),
       st.sampled_from(range(len(STREAMING))))
def test_float32_is_float64_rounded(X, which):
    ours32 = STREAMING[which]().fit(X)
    ours64 = STREAMING[which]().fit(X.astype(np.float64))
    for field in ("mean", "m2", "min", "max", "count"):  # NaN where not computed
        np.testing.assert_array_equal(getattr(ours32.stats_, field),
                                      getattr(ours64.stats_, field))
    Xt32 = ours32.transform(X)
    assert Xt32.dtype == np.float32
    # the same fitted map: its float32 output is its float64 output, rounded
    np.testing.assert_array_equal(Xt32, ours32.transform(X.astype(np.float64)).astype(np.float32))
