"""BatchNormScaler against torch.nn.BatchNorm1d (float64) as the oracle."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from skscale import SCALERS, BatchNormScaler, _compiled, _config
from skscale._blocks import block_rows
from skscale._stats import ColumnStats

U32, U64 = 2.0**-24, 2.0**-53


def torch_train(batches, momentum, eps=1e-5, gamma=None, beta=None):
    """A float64 BatchNorm1d in train mode fed ``batches``; returns it and its outputs."""
    c = batches[0].shape[1]
    m = torch.nn.BatchNorm1d(c, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        if gamma is not None:
            m.weight.copy_(torch.from_numpy(np.broadcast_to(gamma, (c,)).astype(np.float64)))
        if beta is not None:
            m.bias.copy_(torch.from_numpy(np.broadcast_to(beta, (c,)).astype(np.float64)))
        m.train()
        outs = [m(torch.from_numpy(np.asarray(b, dtype=np.float64))).numpy() for b in batches]
    return m, outs


def torch_eval(m, X):
    m.eval()
    with torch.no_grad():
        return m(torch.from_numpy(np.asarray(X, dtype=np.float64))).numpy()


def bound(ref, X, var, eps, gamma, beta, u):
    """NORMS.md error bound: 16 u ((1 + |γ|max + |β|max) κ + |ref|)."""
    kappa = 1 + np.abs(X).max() / np.sqrt(np.asarray(var) + eps).min()
    return 16 * u * ((1 + np.abs(gamma).max() + np.abs(beta).max()) * kappa + np.abs(ref))


def data(n, c=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(np.arange(c) * 3.0 - 2, np.arange(1, c + 1) * 0.7, size=(n, c))


def split(X, sizes):
    return np.split(X, np.cumsum(sizes)[:-1])


def assert_state(bn, m, rtol=1e-12):
    assert_allclose(bn.running_mean_, m.running_mean.numpy(), rtol=rtol, atol=1e-13)
    assert_allclose(bn.running_var_, m.running_var.numpy(), rtol=rtol, atol=1e-13)
    assert bn.num_batches_tracked_ == m.num_batches_tracked.item()


def test_registered():
    assert SCALERS["batch_norm"] is BatchNormScaler


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_steps_match_torch(momentum):
    sizes = [7, 2, 30, 13, 5, 64]
    batches = split(data(sum(sizes)), sizes)
    m, outs = torch_train(batches, momentum)
    bn, ref = BatchNormScaler(momentum=momentum), BatchNormScaler(momentum=momentum)
    for k, (b, out) in enumerate(zip(batches, outs), 1):
        # Training-stage output: the batch normalized by its own statistics.
        assert_allclose(bn.normalize_batch(b, update=True), out, rtol=1e-12, atol=1e-12)
        ref.partial_fit(b)
        assert bn.num_batches_tracked_ == ref.num_batches_tracked_ == k
    assert_state(bn, m)
    for attr in ("running_mean_", "running_var_"):  # both paths do the same step
        assert_array_equal(getattr(bn, attr), getattr(ref, attr))
    assert bn.n_samples_seen_ == sum(sizes)
    X_new = data(50, seed=1)
    assert_allclose(bn.transform(X_new), torch_eval(m, X_new), rtol=1e-12, atol=1e-12)


def test_running_stats_by_hand():
    # Independent of torch: the documented update formulas, momentum None.
    batches = split(data(30), [10, 4, 16])
    bn = BatchNormScaler()
    for b in batches:
        bn.partial_fit(b)
    assert_allclose(bn.running_mean_, np.mean([b.mean(0) for b in batches], 0), rtol=1e-13)
    assert_allclose(bn.running_var_, np.mean([b.var(0, ddof=1) for b in batches], 0),
                    rtol=1e-13)


def test_normalize_batch_without_update_leaves_state():
    X = data(20)
    bn = BatchNormScaler(momentum=0.1)
    m, (out,) = torch_train([X], 0.1)
    assert_allclose(bn.normalize_batch(X), out, rtol=1e-12, atol=1e-12)
    assert not hasattr(bn, "running_mean_")  # unfitted, still unfitted
    bn.partial_fit(X)
    before = bn.running_mean_.copy(), bn.running_var_.copy()
    assert_allclose(bn.normalize_batch(X), out, rtol=1e-12, atol=1e-12)
    assert_array_equal(bn.running_mean_, before[0])
    assert_array_equal(bn.running_var_, before[1])
    assert bn.num_batches_tracked_ == 1


def test_normalize_batch_update_computes_statistics_once(monkeypatch):
    calls = []
    orig = ColumnStats.from_array
    monkeypatch.setattr(ColumnStats, "from_array", classmethod(
        lambda cls, *a, **k: calls.append(1) or orig(*a, **k)))
    BatchNormScaler().normalize_batch(data(10), update=True)
    assert len(calls) == 1


@pytest.mark.parametrize("gamma, beta", [
    ([2.0, -0.5, 1.5, 0.25], [0.1, -3.0, 7.0, 0.0]),
    (3.0, -1.0),
])
def test_scale_shift_match_torch(gamma, beta):
    batches = split(data(60), [25, 35])
    m, outs = torch_train(batches, 0.1, gamma=gamma, beta=beta)
    bn = BatchNormScaler(momentum=0.1, scale=gamma, shift=beta)
    for b, out in zip(batches, outs):
        assert_allclose(bn.normalize_batch(b, update=True), out, rtol=1e-12, atol=1e-12)
    assert_state(bn, m)
    X_new = data(40, seed=2)
    assert_allclose(bn.transform(X_new), torch_eval(m, X_new), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("momentum", [None, 0.1])
@pytest.mark.parametrize("n, sizes", [
    (48, [16, 16, 16]),
    (49, [16, 16, 17]),      # a 1-row tail joins the previous batch
    (50, [16, 16, 16, 2]),   # a tail of 2 or more rows is its own batch
    (63, [16, 16, 16, 15]),
    (17, [17]),
    (10, [10]),
    (2, [2]),
])
def test_fit_matches_torch_batch_sequence(n, sizes, momentum):
    X = data(n)
    m, _ = torch_train(split(X, sizes), momentum)
    bn = BatchNormScaler(momentum=momentum, batch_size=16).fit(X)
    assert_state(bn, m)
    assert bn.n_samples_seen_ == n
    assert_allclose(bn.transform(X), torch_eval(m, X), rtol=1e-12, atol=1e-12)
    # fit resets: a second fit after more steps gives the same state.
    bn.partial_fit(X[:5])
    bn.fit(X)
    assert_state(bn, m)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 60), batch_size=st.integers(2, 20),
       momentum=st.sampled_from([None, 0.3]))
def test_fit_equals_partial_fit_over_documented_split(n, batch_size, momentum):
    X = data(n, c=3)
    sizes = [batch_size] * (n // batch_size)
    if n % batch_size == 1:
        sizes[-1] += 1
    elif n % batch_size:
        sizes.append(n % batch_size)
    fitted = BatchNormScaler(momentum=momentum, batch_size=batch_size).fit(X)
    stepped = BatchNormScaler(momentum=momentum)
    for b in split(X, sizes):
        stepped.partial_fit(b)
    assert fitted.num_batches_tracked_ == stepped.num_batches_tracked_ == len(sizes)
    # fit folds all steps in one closed-form sum: equal to rounding
    assert_allclose(fitted.running_mean_, stepped.running_mean_, rtol=1e-14, atol=1e-15)
    assert_allclose(fitted.running_var_, stepped.running_var_, rtol=1e-14, atol=1e-15)


def test_float32_within_norms_bound():
    gamma, beta = np.array([1.5, -2.0, 0.5, 1.0]), np.array([0.5, 1.0, -1.0, 0.0])
    X = (data(300) + 1e3).astype(np.float32)   # offset data float32 can hold
    sizes = [100, 100, 100]  # what fit(batch_size=100) takes, checked below
    m, outs = torch_train(split(X, sizes), 0.1, gamma=gamma, beta=beta)
    bn = BatchNormScaler(momentum=0.1, batch_size=100, scale=gamma, shift=beta)
    for b, out in zip(split(X, sizes), outs):
        y = bn.normalize_batch(b, update=True)
        assert y.dtype == np.float32
        var = b.astype(np.float64).var(0)
        assert (np.abs(y - out) <= bound(out, b, var, 1e-5, gamma, beta, U32)).all()
    assert_state(bn, m)
    X_new = (data(200, seed=3) + 1e3).astype(np.float32)
    y, ref = bn.transform(X_new), torch_eval(m, X_new)
    assert y.dtype == np.float32
    assert (np.abs(y - ref) <= bound(ref, X_new, bn.running_var_, 1e-5, gamma, beta, U32)).all()
    back = bn.inverse_transform(y)
    assert back.dtype == np.float32
    assert_allclose(back, X_new, rtol=1e-5)
    # fit on float32 matches torch on the same values as float64.
    assert_state(BatchNormScaler(momentum=0.1, batch_size=100).fit(X), m)


@pytest.mark.parametrize("momentum", [None, 0.1])
def test_large_offset_float64(momentum):
    # Mean 1e8, std 1: one-pass E[x^2] - E[x]^2 would lose every digit.
    rng = np.random.default_rng(4)
    X = 1e8 + rng.standard_normal((1000, 3)) * [1.0, 0.5, 2.0]
    batches = split(X, [300, 700])
    m, outs = torch_train(batches, momentum)
    bn = BatchNormScaler(momentum=momentum)
    for b, out in zip(batches, outs):
        y = bn.normalize_batch(b, update=True)
        assert (np.abs(y - out) <= bound(out, b, b.var(0), 1e-5, 1, 0, U64)).all()
    rm = m.running_mean.numpy()
    assert (np.abs(bn.running_mean_ - rm) <= 16 * U64 * np.abs(rm)).all()
    assert_allclose(bn.running_var_, m.running_var.numpy(), rtol=1e-12)
    ref = torch_eval(m, X)
    assert (np.abs(bn.transform(X) - ref) <= bound(ref, X, bn.running_var_, 1e-5, 1, 0,
                                                   U64)).all()


def test_constant_columns():
    X = data(40)
    X[:, 0], X[:, 2] = 5.0, 0.0
    m, outs = torch_train(split(X, [20, 20]), None, beta=2.0)
    bn = BatchNormScaler(shift=2.0, batch_size=20)
    y = bn.normalize_batch(X[:20], update=True)
    assert_array_equal(y[:, [0, 2]], 2.0)   # a constant feature maps to shift
    bn.partial_fit(X[20:])
    assert_state(bn, m)
    assert_array_equal(bn.running_var_[[0, 2]], 0.0)
    y = bn.transform(X)
    assert_array_equal(y[:, [0, 2]], 2.0)
    assert_allclose(y, torch_eval(m, X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("momentum", [None, 0.1])
def test_nan_values_ignored(momentum):
    X = data(60, c=3)
    X[[0, 3, 4, 25, 26, 27, 59], 1] = np.nan
    sizes = [20, 25, 15]
    batches = split(X, sizes)
    # Torch on the NaN-free columns; the NaN column by hand with nanmean/nanvar.
    m, outs = torch_train([b[:, [0, 2]] for b in batches], momentum)
    rm, rv = 0.0, 1.0
    bn = BatchNormScaler(momentum=momentum)
    for k, (b, out) in enumerate(zip(batches, outs), 1):
        y = bn.normalize_batch(b, update=True)
        assert_allclose(y[:, [0, 2]], out, rtol=1e-12, atol=1e-12)
        col = b[:, 1]
        expected = (col - np.nanmean(col)) / np.sqrt(np.nanvar(col) + 1e-5)
        assert_allclose(y[:, 1], expected, rtol=1e-12, atol=1e-12)  # NaN in place
        f = 1 / k if momentum is None else momentum
        rm = (1 - f) * rm + f * np.nanmean(col)
        rv = (1 - f) * rv + f * np.nanvar(col, ddof=1)
    assert_allclose(bn.running_mean_[[0, 2]], m.running_mean.numpy(), rtol=1e-12)
    assert_allclose(bn.running_var_[[0, 2]], m.running_var.numpy(), rtol=1e-12)
    assert_allclose(bn.running_mean_[1], rm, rtol=1e-12)
    assert_allclose(bn.running_var_[1], rv, rtol=1e-12)
    y = bn.transform(X)
    assert_array_equal(np.isnan(y), np.isnan(X))


def _state(bn):
    return (bn.running_mean_.copy(), bn.running_var_.copy(), bn.num_batches_tracked_,
            bn.n_samples_seen_)


def _assert_same_state(bn, state):
    for a, b in zip(_state(bn), state):
        assert_array_equal(a, b)


@pytest.mark.parametrize("n_valid", [0, 1])
def test_too_few_values_in_a_column_is_an_error(n_valid):
    X = data(20)
    bn = BatchNormScaler().partial_fit(X)
    state = _state(bn)
    bad = data(6, seed=5)
    bad[n_valid:, 2] = np.nan
    msg = f"column 2 has {n_valid} in the batch"
    for step in (bn.partial_fit, lambda b: bn.normalize_batch(b, update=True)):
        with pytest.raises(ValueError, match=msg):
            step(bad)
        _assert_same_state(bn, state)
    with pytest.raises(ValueError, match=msg):
        bn.normalize_batch(bad)
    frame = pd.DataFrame(bad, columns=list("abcd"))
    with pytest.raises(ValueError, match=f"column 'c' has {n_valid} in the batch"):
        BatchNormScaler().fit(frame)
    # In fit the message names the failing batch's rows; the fit is undone.
    long = np.vstack([X, bad])
    bn = BatchNormScaler(batch_size=20)
    with pytest.raises(ValueError, match="rows 20..25"):
        bn.fit(long)
    with pytest.raises(NotFittedError):
        bn.transform(X)


def test_infinity_is_an_error_and_changes_nothing():
    bn = BatchNormScaler().partial_fit(data(10))
    state = _state(bn)
    bad = data(5)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity.*column 1"):
        bn.partial_fit(bad)
    _assert_same_state(bn, state)


def test_one_row_batch_is_an_error_and_changes_nothing():
    X = data(10)
    bn = BatchNormScaler(momentum=0.1).partial_fit(X).partial_fit(X[:4])
    state = _state(bn)
    for step in (bn.partial_fit, lambda b: bn.normalize_batch(b, update=True),
                 bn.normalize_batch):
        with pytest.raises(ValueError, match="got 1 sample"):
            step(X[:1])
        _assert_same_state(bn, state)
    # torch refuses it too (but counts the step first, which we do not copy).
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch_train([X[:1]], 0.1)
    # A first step of one row leaves the scaler unfitted.
    bn = BatchNormScaler()
    with pytest.raises(ValueError, match="got 1 sample"):
        bn.partial_fit(X[:1])
    assert not hasattr(bn, "n_features_in_")
    with pytest.raises(NotFittedError):
        bn.transform(X)


def test_single_sample_fit_is_an_error():
    bn = BatchNormScaler()
    with pytest.raises(ValueError, match="at least 2 samples.*got 1 sample"):
        bn.fit(data(1))
    with pytest.raises(NotFittedError):
        bn.transform(data(3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inverse_round_trip(dtype):
    X = (data(100) * 10 + 100).astype(dtype)
    bn = BatchNormScaler(momentum=0.3, batch_size=32, scale=[2.0, -0.5, 1.0, 3.0],
                         shift=[1.0, 0.0, -2.0, 0.5]).fit(X)
    y = bn.transform(X)
    back = bn.inverse_transform(y)
    assert back.dtype == dtype
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    assert_allclose(back, X, rtol=rtol, atol=rtol * np.abs(X).max())
    # copy=False works in place.
    Z = X.copy()
    out = bn.transform(Z, copy=False)
    assert out is Z
    assert_array_equal(out, y)


def test_bad_scale_or_shift_is_an_error():
    X = data(10)
    with pytest.raises(ValueError, match="scale must be finite; got nan for column 1"):
        BatchNormScaler(scale=[1.0, np.nan, 2.0, 1.0]).fit(X)
    with pytest.raises(ValueError, match="one value per feature"):
        BatchNormScaler(shift=[1.0, 2.0]).fit(X)
    with pytest.raises(ValueError, match="shift must be finite"):
        BatchNormScaler(shift=np.nan).fit(X)
    with pytest.raises(ValueError, match="scale must be finite"):
        BatchNormScaler(scale=np.inf).normalize_batch(X)
    bn = BatchNormScaler().fit(X).set_params(scale=[1.0, 2.0])
    for method in (bn.transform, bn.inverse_transform):
        with pytest.raises(ValueError, match="one value per feature"):
            method(X)


@pytest.mark.parametrize("params, match", [
    ({"scale": [1.0, 2.0]}, r"scale must be a number or have one value per feature \(4\)"),
    ({"scale": [1.0, np.nan, 1.0, 1.0]}, "scale must be finite; got nan for column 1"),
    ({"shift": np.ones(5)}, r"shift must be a number or have one value per feature \(4\)"),
    ({"shift": [0.0, 0.0, 0.0, -np.inf]}, "shift must be finite; got -inf for column 3"),
])
def test_training_steps_check_scale_and_shift_before_any_change(params, match):
    X = data(20)
    # A first step leaves the scaler unfitted.
    for step in ("partial_fit", "normalize_batch"):
        bn = BatchNormScaler(**params)
        with pytest.raises(ValueError, match=match):
            bn.partial_fit(X) if step == "partial_fit" else bn.normalize_batch(X, update=True)
        assert not hasattr(bn, "n_features_in_")
        with pytest.raises(NotFittedError):
            bn.transform(X)
    # A later step leaves the running statistics as they were.
    bn = BatchNormScaler(momentum=0.1).partial_fit(X)
    state = _state(bn)
    bn.set_params(**params)
    for step in (bn.partial_fit, lambda b: bn.normalize_batch(b, update=True)):
        with pytest.raises(ValueError, match=match):
            step(data(6, seed=1))
        _assert_same_state(bn, state)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_scale_maps_to_shift_like_torch(kernels, dtype):
    """Pruned networks set gamma = 0: the feature is then beta, whatever x."""
    gamma, beta = np.array([2.0, 0.0, -1.0, 0.0]), np.array([0.5, -3.0, 0.0, 0.0])
    X = (data(60) * [1.0, 1e3, 1.0, 1e-3] + [0.0, 1e8, 0.0, 0.0]).astype(dtype)
    batches = split(X, [30, 30])
    m, outs = torch_train([b.astype(np.float64) for b in batches], 0.1, gamma=gamma, beta=beta)
    bn = BatchNormScaler(momentum=0.1, scale=gamma, shift=beta)
    u = U64 if dtype == np.float64 else U32
    for b, out in zip(batches, outs):
        y = bn.normalize_batch(b, update=True)
        assert_array_equal(y[:, [1, 3]], np.broadcast_to(beta[[1, 3]], (30, 2)))  # exactly
        assert (np.abs(y - out) <= bound(out, b, b.astype(np.float64).var(0), 1e-5, gamma,
                                         beta, u)).all()
    assert_state(bn, m)
    X_new = data(40, seed=2).astype(dtype)
    X_new[5, 1] = X_new[7, 0] = np.nan
    ref = torch_eval(m, X_new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = bn.transform(X_new)
    assert y.dtype == dtype
    assert_array_equal(np.isnan(y), np.isnan(ref))  # NaN passes through
    expected = np.broadcast_to(beta[[1, 3]], (40, 2)).copy()
    expected[5, 0] = np.nan
    assert_array_equal(y[:, [1, 3]], expected)
    assert (np.abs(y - ref) <= bound(ref, np.nan_to_num(X_new), bn.running_var_, 1e-5, gamma,
                                     beta, u))[~np.isnan(ref)].all()


def test_zero_scale_cannot_be_inverted_and_nothing_is_written():
    X = data(20)
    bn = BatchNormScaler(scale=[1.0, 0.0, 2.0, 0.0]).fit(X)
    Y = bn.transform(X)
    before = Y.copy()
    with pytest.raises(ValueError, match=r"scale is 0 for columns \[1, 3\].*cannot be inverted"):
        bn.inverse_transform(Y, copy=False)
    assert_array_equal(Y, before)
    frame = pd.DataFrame(X, columns=list("abcd"))
    bn = BatchNormScaler(scale=0.0).fit(frame)
    with pytest.raises(ValueError, match=r"scale is 0 for columns \['a', 'b', 'c', 'd'\]"):
        bn.inverse_transform(frame)


def test_batches_larger_than_a_kernel_block():
    c = 4
    rows = block_rows(c)
    sizes = [2 * rows + 123, rows + 1, 77]
    batches = split(data(sum(sizes), c=c, seed=6), sizes)
    m, outs = torch_train(batches, 0.1)
    bn = BatchNormScaler(momentum=0.1)
    for b, out in zip(batches, outs):
        assert_allclose(bn.normalize_batch(b, update=True), out, rtol=1e-12, atol=1e-12)
    assert_state(bn, m)
    X_new = data(rows + 5, c=c, seed=7)
    assert_allclose(bn.transform(X_new), torch_eval(m, X_new), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("momentum", [None, 0.1])
def test_fit_over_more_batches_than_held_at_once_matches_torch(momentum):
    """fit folds its batches in groups; the groups must chain like single steps."""
    from skscale._batch_norm import _STATS_BYTES

    at_once = _STATS_BYTES // (5 * 8 * 3)  # batches held at once for 3 features
    n = 2 * (2 * at_once + 37) + 1  # odd: the last batch takes 3 rows
    X = np.random.default_rng(11).normal(5.0, 2.0, size=(n, 3))
    bn = BatchNormScaler(momentum=momentum, batch_size=2).fit(X)
    layer = torch.nn.BatchNorm1d(3, momentum=momentum, dtype=torch.float64).train()
    sizes = [2] * (n // 2)
    sizes[-1] += 1
    with torch.no_grad():
        for b in split(X, sizes):
            layer(torch.from_numpy(b))
    assert bn.num_batches_tracked_ == layer.num_batches_tracked.item() == len(sizes)
    assert_allclose(bn.running_mean_, layer.running_mean.numpy(), rtol=1e-12)
    assert_allclose(bn.running_var_, layer.running_var.numpy(), rtol=1e-12)


def test_failing_normalize_batch_in_place_leaves_its_input_as_it_was():
    bn = BatchNormScaler().fit(np.random.default_rng(5).normal(size=(100, 3)))
    X = np.random.default_rng(6).normal(size=(30_000, 3))  # several row blocks
    X[-1, 1] = np.inf
    before = X.copy()
    for update in (False, True):
        with pytest.raises(ValueError, match="infinity.*column 1 at row 29999"):
            bn.normalize_batch(X, update=update, copy=False)
        np.testing.assert_array_equal(X, before)
    assert bn.num_batches_tracked_ == 1 + 100 // 256
