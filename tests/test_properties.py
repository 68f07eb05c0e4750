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


# --- every method: round trips, row order, float32, row independence, threads -----------

from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from hypothesis import assume  # noqa: E402

from skscale import SCALERS  # noqa: E402

# Width-8 parameters every method takes: instance norm sees 4 channels of 2
# positions, group norm 2 groups of 4 channels; log takes any data ("auto").
WIDTH8 = {"instance_norm": {"n_channels": 4}, "group_norm": {"num_groups": 2, "n_channels": 4},
          "log": {"offset": "auto"}}
ROW_METHODS = ["unit_norm", "layer_norm", "instance_norm", "group_norm"]


def _make(name):
    return SCALERS[name](**WIDTH8.get(name, {}))


def _inverse(est, name, Y, X):
    if name in ROW_METHODS:
        return est.inverse_transform(Y, sample_stats=est.sample_stats(X))
    return est.inverse_transform(Y)


wide = arrays(np.float64, st.tuples(st.integers(2, 30), st.just(8)), elements=finite | st.just(np.nan))


@settings(max_examples=60, deadline=None)
@given(wide, st.sampled_from(["batch_norm", *ROW_METHODS]))
def test_inverse_round_trips_for_batch_norm_and_per_sample_scalers(X, name):
    # (the other column scalers: test_inverse_transform_round_trips above)
    if name == "batch_norm":  # a training batch needs 2 values per feature
        assume((~np.isnan(X)).sum(axis=0).min() >= 2)
    est = _make(name).fit(X)
    back = _inverse(est, name, est.transform(X), X)
    # Rounding in the map and back: a few ulps of the magnitudes involved.
    axis = 0 if name == "batch_norm" else 1
    span = np.nanmax(np.abs(X), axis=axis, keepdims=True, initial=0.0) + 1.0
    np.testing.assert_allclose(back / span, X / span, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrices, st.lists(st.integers(1, 39), max_size=4), st.sampled_from([0, 2, 3]))
def test_partial_fit_over_any_split_gives_the_same_map(X, cuts, which):
    # min-max, decimal and log learn from the extremes, which merge exactly:
    # the streamed map is the fitted one, bit for bit, however the batches
    # move the extremes (z-score's moments: test_partial_fit_over_any_split_equals_fit).
    X = _no_all_nan(X)
    whole = STREAMING[which]().fit(X)
    streamed = STREAMING[which]()
    for part in np.split(X, sorted({c for c in cuts if c < len(X)})):
        streamed.partial_fit(part)
    np.testing.assert_array_equal(streamed.transform(X), whole.transform(X))


@settings(max_examples=60, deadline=None)
@given(matrices, st.randoms(use_true_random=False),
       st.sampled_from(["minmax", "zscore", "decimal", "log", "batch_norm"]))
def test_row_order_does_not_change_the_column_statistics(X, rng, name):
    X = _no_all_nan(X)
    if name == "batch_norm":  # one batch (fewer rows than batch_size) of 2 values a feature
        assume((~np.isnan(X)).sum(axis=0).min() >= 2)
    order = list(range(len(X)))
    rng.shuffle(order)
    one, other = _make(name).fit(X), _make(name).fit(X[order])
    span = np.nanmax(np.abs(X), axis=0) + 1.0
    if name == "batch_norm":
        np.testing.assert_allclose(one.running_mean_ / span, other.running_mean_ / span,
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(one.running_var_ / span**2, other.running_var_ / span**2,
                                   rtol=0, atol=1e-12)
        return
    for field in ("count", "min", "max"):  # exact whatever the order
        np.testing.assert_array_equal(getattr(one.stats_, field), getattr(other.stats_, field))
    n = len(X)
    np.testing.assert_allclose(one.stats_.mean / span, other.stats_.mean / span, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.stats_.m2 / (n * span**2), other.stats_.m2 / (n * span**2),
                               rtol=0, atol=1e-12)
    if name != "zscore":  # learned from the extremes alone: the same map, bit for bit
        np.testing.assert_array_equal(one.transform(X), other.transform(X))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(2, 40), st.just(8)),
              elements=st.floats(-1e4, 1e4, width=32)),
       st.sampled_from(["batch_norm", *ROW_METHODS]))
def test_float32_agrees_with_float64_for_batch_norm_and_per_sample_scalers(X, name):
    # (the other column scalers: test_float32_is_float64_rounded above)
    # The documented contract: float32 in, float32 out, the float64 computation
    # rounded once -- at most half a float32 ulp, 2**-24 relative.  The float64
    # computations of the two dtypes may differ in their last bits (sums in
    # another order for float32 blocks); atol allows 1e-13 of the output's scale
    # for that, far below float32 precision.
    X64 = X.astype(np.float64)
    y32 = _make(name).fit(X).transform(X)
    y64 = _make(name).fit(X64).transform(X64)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=2.0**-24,
                               atol=1e-13 * max(1.0, np.abs(y64).max()))


TRAIN8 = np.random.default_rng(8).uniform(-5, 5, size=(40, 8))


@settings(max_examples=40, deadline=None)
@given(arrays(st.sampled_from([np.float64, np.float32]), st.tuples(st.integers(1, 30), st.just(8)),
              elements=st.floats(-1e6, 1e6, width=32) | st.just(np.nan)),
       st.sampled_from(sorted(SCALERS)))
def test_transform_of_a_row_does_not_depend_on_the_other_rows(X, name):
    est = _make(name).fit(TRAIN8)
    if name == "log":  # in the domain learned from TRAIN8
        X = np.abs(X) + TRAIN8.min()
    Y = est.transform(X)
    bits = np.int32 if X.dtype == np.float32 else np.int64
    for i in range(len(X)):  # row-wise kernels: the same bits alone as among the others
        np.testing.assert_array_equal(est.transform(X[i:i + 1]).view(bits), Y[i:i + 1].view(bits))


def test_rows_far_into_a_long_array_are_scaled_as_alone():
    # Rows past widened blocks and at their ragged end (fewer than a fold).
    from skscale._blocks import fold

    k = fold(8)
    X = np.random.default_rng(9).uniform(-4, 4, size=(2 * k + 37, 8))  # in log's domain
    rows = (0, 1, k - 1, k, 2 * k - 1, 2 * k, len(X) - 1)
    differ = {}
    for name in sorted(SCALERS):
        est = _make(name).fit(TRAIN8)
        Y = est.transform(X)
        differ[name] = [i for i in rows if not np.array_equal(
            est.transform(X[i:i + 1]).view(np.int64), Y[i:i + 1].view(np.int64))]
    differ = {name: rows for name, rows in differ.items() if rows}
    assert not differ, f"rows scaled otherwise alone, by method: {differ}"


def test_concurrent_transforms_equal_a_single_threaded_one():
    # Several row blocks (and, under SKSCALE_COMPILED=auto, the compiled loops),
    # called from 4 threads at once on one fitted estimator.
    X = np.random.default_rng(10).normal(3.0, 2.0, size=(300_000, 8))
    differ = []
    for name in sorted(SCALERS):
        est = _make(name).fit(X)
        alone = est.transform(X)
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: est.transform(X), range(4)))
        if not all(np.array_equal(got.view(np.int64), alone.view(np.int64)) for got in results):
            differ.append(name)
    assert not differ, f"concurrent transforms differ from a single-threaded one: {differ}"
