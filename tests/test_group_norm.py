"""Layer, instance and group normalization against PyTorch (float64 oracle)."""

import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skscale import GroupNormScaler, InstanceNormScaler, LayerNormScaler, Scaler, _compiled, _config
from skscale._blocks import block_bounds, block_rows

U64, U32 = 2.0**-53, 2.0**-24


def torch_norm(kind, X, *, C=None, G=None, scale=1.0, shift=0.0, eps=1e-5):
    """The torch layer the scaler must equal, in float64, on X viewed (N, C, L)."""
    X = np.asarray(X, dtype=np.float64)
    N, D = X.shape
    x = torch.from_numpy(X.copy())
    if kind == "layer":
        n_affine, layer = D, torch.nn.LayerNorm(D, eps=eps, dtype=torch.float64)
    elif kind == "group":
        n_affine, layer = C, torch.nn.GroupNorm(G, C, eps=eps, dtype=torch.float64)
        x = x.reshape(N, C, -1)
    else:
        n_affine, x = C, x.reshape(N, C, -1)
        layer = torch.nn.InstanceNorm1d(C, eps=eps, affine=True, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.broadcast_to(scale, n_affine).astype(np.float64)))
        layer.bias.copy_(torch.from_numpy(np.broadcast_to(shift, n_affine).astype(np.float64)))
        return layer(x).reshape(N, D).numpy()


def group_std(X, G, eps):
    """sqrt(biased var + eps) per (sample, group), NaN ignored (the hand computation)."""
    x = np.asarray(X, dtype=np.float64).reshape(len(X), G, -1)
    return np.sqrt(np.nanvar(x, axis=-1) + eps)


def assert_within_bound(got, ref, X, G, scale, shift, eps, u):
    """NORMS.md 'Numerics': |got - ref| <= 16 u ((1 + |gamma| + |beta|) kappa + |ref|),
    kappa = 1 + max|x| / min sqrt(var + eps)."""
    kappa = 1 + np.nanmax(np.abs(X)) / np.nanmin(group_std(X, G, eps))
    affine = 1 + np.max(np.abs(scale)) + np.max(np.abs(shift))
    bound = 16 * u * (affine * kappa + np.abs(ref))
    err = np.abs(np.asarray(got, dtype=np.float64) - ref)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert np.nanmax(err - bound) <= 0, f"max error {np.nanmax(err)}, kappa {kappa}"


def affine_params(kind, n, rng):
    """(scale, shift) of each kind: torch's defaults, scalars, or one per channel."""
    if kind == "default":
        return 1.0, 0.0
    if kind == "scalar":
        return -1.7, 0.25
    return rng.uniform(0.5, 2, n) * rng.choice([-1, 1], n), rng.normal(size=n)


def data(rng, n, d, offset=3.0, spread=2.0):
    return rng.normal(offset, spread, size=(n, d)) * rng.uniform(0.5, 2, size=(n, 1))


AFFINE = ["default", "scalar", "per_channel"]


def exact_group_norm(X, G, C, eps, scale, shift):
    """Group normalization of each row of X with exact sums (fractions) and the
    square root and division at 300 bits (mpmath): the correctly rounded
    output, and each group's mean and sqrt(var + eps).  A zero divisor (eps = 0,
    a constant group) is taken as 1, as documented."""
    X = np.asarray(X, dtype=np.float64)
    N, D = X.shape
    gamma, beta = (np.repeat(np.broadcast_to(np.asarray(v, dtype=np.float64), (C,)), D // C)
                   for v in (scale, shift))
    y, mean, std = np.empty((N, D)), np.empty((N, G)), np.empty((N, G))
    with mpmath.workprec(300):
        for i, g in np.ndindex(N, G):
            xs = [Fraction(float(v)) for v in np.split(X[i], G)[g]]
            mu = sum(xs) / len(xs)
            var = sum((v - mu) ** 2 for v in xs) / len(xs) + Fraction(eps)
            sd = mpmath.sqrt(mpmath.mpf(var.numerator) / var.denominator) if var else 1
            mean[i, g], std[i, g] = float(mu), float(sd)
            for k, v in enumerate(xs, start=g * len(xs)):
                d = mpmath.mpf((v - mu).numerator) / (v - mu).denominator
                y[i, k] = float(d / sd * gamma[k] + beta[k])
    return y, mean, std


def assert_exact_within_bound(got, ref, X, ref_std, scale, shift, u):
    """NORMS.md's bound 16 u ((1 + |gamma| + |beta|) kappa + |ref|), with kappa
    from the exact standard deviations (numpy's underflow at tiny values)."""
    kappa = 1 + np.abs(X).max() / ref_std.min()
    bound = 16 * u * ((1 + np.max(np.abs(scale)) + np.max(np.abs(shift))) * kappa + np.abs(ref))
    err = np.abs(np.asarray(got, dtype=np.float64) - ref)
    assert (err <= bound).all(), f"max error {err.max()}, kappa {kappa}"


# --- agreement with torch --------------------------------------------------------

@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("n_features", [1, 5, 64])
@pytest.mark.parametrize("eps", [1e-5, 0.3])
def test_layer_norm_matches_torch(affine, n_features, eps):
    rng = np.random.default_rng(n_features)
    X = data(rng, 9, n_features)
    scale, shift = affine_params(affine, n_features, rng)
    got = LayerNormScaler(eps=eps, scale=scale, shift=shift).fit_transform(X)
    ref = torch_norm("layer", X, scale=scale, shift=shift, eps=eps)
    assert_within_bound(got, ref, X, 1, scale, shift, eps, U64)


@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("C, L, G", [(4, 1, 1), (4, 1, 2), (4, 1, 4), (6, 3, 1), (6, 3, 2),
                                     (6, 3, 3), (6, 3, 6), (8, 5, 4), (3, 7, 3), (1, 9, 1)])
def test_group_norm_matches_torch(affine, C, L, G):
    rng = np.random.default_rng(100 * C + 10 * L + G)
    X = data(rng, 11, C * L)
    scale, shift = affine_params(affine, C, rng)
    n_channels = None if L == 1 and C == 4 else C  # None: every feature is a channel
    scaler = GroupNormScaler(G, n_channels=n_channels, scale=scale, shift=shift).fit(X)
    ref = torch_norm("group", X, C=C, G=G, scale=scale, shift=shift)
    assert_within_bound(scaler.transform(X), ref, X, G, scale, shift, 1e-5, U64)
    assert (scaler.n_groups_, scaler.n_channels_) == (G, C)
    mean, std = scaler.sample_stats(X)
    grouped = X.reshape(len(X), G, -1)
    np.testing.assert_allclose(mean, grouped.mean(axis=-1), rtol=1e-14)
    np.testing.assert_allclose(std, np.sqrt(grouped.var(axis=-1) + 1e-5), rtol=1e-13)


@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("C, L", [(1, 5), (3, 4), (2, 17), (5, 2)])
def test_instance_norm_matches_torch(affine, C, L):
    rng = np.random.default_rng(10 * C + L)
    X = data(rng, 6, C * L)
    scale, shift = affine_params(affine, C, rng)
    got = InstanceNormScaler(C, scale=scale, shift=shift).fit_transform(X)
    ref = torch_norm("instance", X, C=C, scale=scale, shift=shift)
    assert_within_bound(got, ref, X, C, scale, shift, 1e-5, U64)


def test_instance_norm_defaults_are_torch_affine_off():
    X = data(np.random.default_rng(0), 4, 12)
    ref = torch.nn.InstanceNorm1d(3, dtype=torch.float64)(torch.from_numpy(X.reshape(4, 3, 4)))
    assert_within_bound(InstanceNormScaler(3).fit_transform(X), ref.reshape(4, 12).numpy(),
                        X, 3, 1.0, 0.0, 1e-5, U64)


@pytest.mark.parametrize("kind", ["layer", "group", "instance"])
def test_single_sample(kind):
    X = data(np.random.default_rng(1), 1, 12)
    scaler = {"layer": LayerNormScaler(), "group": GroupNormScaler(2, n_channels=4),
              "instance": InstanceNormScaler(4)}[kind]
    G = {"layer": 1, "group": 2, "instance": 4}[kind]
    ref = torch_norm(kind, X, C=4, G=2)
    assert_within_bound(scaler.fit_transform(X), ref, X, G, 1.0, 0.0, 1e-5, U64)


# --- one computation -------------------------------------------------------------

def test_group_norm_one_group_is_layer_norm():
    rng = np.random.default_rng(2)
    X = data(rng, 20, 12)
    scale, shift = affine_params("per_channel", 12, rng)
    layer = LayerNormScaler(scale=scale, shift=shift).fit(X)
    group = GroupNormScaler(1, scale=scale, shift=shift).fit(X)
    np.testing.assert_array_equal(group.transform(X), layer.transform(X))
    for a, b in zip(group.sample_stats(X), layer.sample_stats(X)):
        np.testing.assert_array_equal(a, b)


def test_group_norm_one_group_per_channel_is_instance_norm():
    rng = np.random.default_rng(3)
    X = data(rng, 20, 15)
    scale, shift = affine_params("per_channel", 5, rng)
    inst = InstanceNormScaler(5, scale=scale, shift=shift).fit(X)
    group = GroupNormScaler(5, n_channels=5, scale=scale, shift=shift).fit(X)
    np.testing.assert_array_equal(group.transform(X), inst.transform(X))
    for a, b in zip(group.sample_stats(X), inst.sample_stats(X)):
        np.testing.assert_array_equal(a, b)


def test_scaler_by_name():
    X = data(np.random.default_rng(4), 5, 8)
    np.testing.assert_array_equal(
        Scaler("group_norm", params={"num_groups": 2, "n_channels": 4}).fit_transform(X),
        GroupNormScaler(2, n_channels=4).fit_transform(X))


# --- float32, integers, large offsets ------------------------------------------------

@pytest.mark.parametrize("offset", [0.0, 1e3])
@pytest.mark.parametrize("kind", ["layer", "group", "instance"])
def test_float32_is_the_rounding_of_float64(kind, offset):
    rng = np.random.default_rng(5)
    X32 = rng.normal(offset, 1.0, size=(50, 24)).astype(np.float32)
    scale, shift = affine_params("per_channel", 24 if kind == "layer" else 6, rng)
    make = {"layer": lambda: LayerNormScaler(scale=scale, shift=shift),
            "group": lambda: GroupNormScaler(3, n_channels=6, scale=scale, shift=shift),
            "instance": lambda: InstanceNormScaler(6, scale=scale, shift=shift)}[kind]
    got = make().fit_transform(X32)
    assert got.dtype == np.float32
    X64 = X32.astype(np.float64)
    np.testing.assert_array_equal(got, make().fit_transform(X64).astype(np.float32))
    ref = torch_norm(kind, X64, C=6, G=3, scale=scale, shift=shift)
    assert_within_bound(got, ref, X64, {"layer": 1, "group": 3, "instance": 6}[kind],
                        scale, shift, 1e-5, U32)


def test_integers_give_float64():
    X = np.arange(12, dtype=np.int64).reshape(2, 6) ** 2
    got = GroupNormScaler(2).fit_transform(X)
    assert got.dtype == np.float64
    assert_within_bound(got, torch_norm("group", X, C=6, G=2), X.astype(float), 2,
                        1.0, 0.0, 1e-5, U64)


def test_large_offset_float64():
    """Rows at mean 1e8, std 1: one-pass E[x^2] - E[x]^2 loses everything here."""
    rng = np.random.default_rng(6)
    X = 1e8 + rng.normal(size=(8, 32))
    scale, shift = affine_params("per_channel", 8, rng)
    scaler = GroupNormScaler(2, n_channels=8, scale=scale, shift=shift).fit(X)
    # X - 1e8 is exact (Sterbenz), so this reference is accurate to float64 rounding.
    exact = torch_norm("group", X - 1e8, C=8, G=2, scale=scale, shift=shift)
    assert_within_bound(scaler.transform(X), exact, X, 2, scale, shift, 1e-5, U64)
    assert_within_bound(torch_norm("group", X, C=8, G=2, scale=scale, shift=shift),
                        exact, X, 2, scale, shift, 1e-5, U64)
    mean, std = scaler.sample_stats(X)
    np.testing.assert_allclose(std, group_std(X - 1e8, 2, 1e-5), rtol=1e-9)
    # The bound is tight enough to catch the one-pass formula.
    x = X.reshape(8, 2, -1)
    var = (x * x).mean(-1) - x.mean(-1) ** 2
    one_pass = ((x - x.mean(-1, keepdims=True)) / np.sqrt(np.abs(var) + 1e-5)[..., None])
    one_pass = one_pass.reshape(8, 8, 4) * scale[:, None] + shift[:, None]
    with pytest.raises(AssertionError):
        assert_within_bound(one_pass.reshape(8, 32), exact, X, 2, scale, shift, 1e-5, U64)


# --- constant rows and groups ------------------------------------------------------

@pytest.mark.parametrize("eps", [1e-5, 0.0])
@pytest.mark.parametrize("n_features", [1, 2, 3, 7, 1000, 4097])
def test_constant_rows_give_exactly_shift(n_features, eps):
    values = np.array([0.0, 0.1, 1 / 3, -7.3e5, 1e8 + 0.1, 1e-300, 2.5e150, -np.pi, 1.7e308,
                       -1e306, 5e-324])
    X = np.repeat(values[:, None], n_features, axis=1)
    shift = np.random.default_rng(7).normal(size=n_features)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaler = LayerNormScaler(eps=eps, scale=3.0, shift=shift).fit(X)
        np.testing.assert_array_equal(scaler.transform(X), np.broadcast_to(shift, X.shape))
        mean, std = scaler.sample_stats(X)
    np.testing.assert_array_equal(mean[:, 0], values)
    np.testing.assert_array_equal(std, np.sqrt(eps) if eps else 1.0)


@given(value=st.floats(-1e150, 1e150), n=st.integers(1, 3000),
       eps=st.sampled_from([0.0, 1e-5]))
@settings(max_examples=60, deadline=None)
def test_constant_row_is_exactly_shift_property(value, n, eps):
    X = np.full((2, n), value)
    np.testing.assert_array_equal(LayerNormScaler(eps=eps, shift=0.5).fit_transform(X), 0.5)


@pytest.mark.parametrize("eps", [1e-5, 0.0])
def test_constant_group_beside_varying_ones(eps):
    rng = np.random.default_rng(8)
    X = data(rng, 5, 24)  # C = 6 channels of L = 4, G = 3 groups of 8
    X[:, 8:16] = 0.1  # the middle group is constant
    X[2, :] = -4.2  # and one whole row
    scale, shift = affine_params("per_channel", 6, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = GroupNormScaler(3, n_channels=6, eps=eps, scale=scale, shift=shift).fit_transform(X)
    np.testing.assert_array_equal(got[:, 8:16], np.broadcast_to(np.repeat(shift[2:4], 4), (5, 8)))
    np.testing.assert_array_equal(got[2], np.repeat(shift, 4))
    varying = [0, 1, 3, 4]
    ref = torch_norm("group", X[varying], C=6, G=3, scale=scale, shift=shift, eps=eps)
    keep = np.r_[0:8, 16:24]
    np.testing.assert_allclose(got[varying][:, keep], ref[:, keep], rtol=1e-12, atol=1e-12)


def test_eps_zero_tiny_values_do_not_look_constant():
    """With eps = 0, squares of values near 1e-300 underflow; still normalized."""
    X = np.array([[1.0, 2.0, 4.0, 8.0]]) * 1e-300
    got = LayerNormScaler(eps=0.0).fit_transform(X)
    np.testing.assert_allclose(got, LayerNormScaler(eps=0.0).fit_transform(X * 1e300), rtol=1e-14)


# Deviations near 1e-156 and smaller have subnormal squares, which lose bits or
# vanish; in the subnormal range (1e-310, 1e-318) the mean loses them too.
TINY = [1e-150, 1e-156, 1e-158, 1e-161, 1e-300, 1e-310, 1e-318]


@pytest.mark.parametrize("magnitude", TINY)
@pytest.mark.parametrize("size", [8, 40])  # compiled: summed across tiles / along rows
@pytest.mark.parametrize("tiny_eps", [False, True])
def test_tiny_values_are_as_accurate_as_any(kernels, magnitude, size, tiny_eps):
    rng = np.random.default_rng(size)
    X = rng.normal(3.0, 2.0, size=(3, 2 * size)) * magnitude  # C = 4 channels, G = 2 groups
    X[1] -= 2.5 * magnitude  # values of both signs around 0
    eps = max(magnitude**2, 2.0**-1074) if tiny_eps else 0.0  # a subnormal one, mostly
    scale, shift = rng.uniform(0.5, 2, 4) * [1, -1, 1, -1], rng.normal(size=4)
    scaler = GroupNormScaler(2, n_channels=4, eps=eps, scale=scale, shift=shift)
    ref, ref_mean, ref_std = exact_group_norm(X, 2, 4, eps, scale, shift)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = scaler.fit_transform(X)
        mean, std = scaler.sample_stats(X)
        in_place = X.copy()
        scaler.transform(in_place, copy=False)
    assert_exact_within_bound(got, ref, X, ref_std, scale, shift, U64)
    np.testing.assert_array_equal(in_place, got)
    # the statistics to rounding (absolute 2**-1074 where they are subnormal)
    np.testing.assert_allclose(mean, ref_mean, rtol=4 * U64, atol=2.0**-1074)
    np.testing.assert_allclose(std, ref_std, rtol=4 * U64, atol=2.0**-1074)


@pytest.mark.parametrize("magnitude", [1e-30, 1e-40, 1e-42])  # float32 subnormal below 1.2e-38
@pytest.mark.parametrize("eps", [0.0, 1e-80])
def test_tiny_float32_values(kernels, magnitude, eps):
    rng = np.random.default_rng(3)
    X = (rng.normal(3.0, 2.0, size=(3, 40)) * magnitude).astype(np.float32)
    got = LayerNormScaler(eps=eps, shift=0.5).fit_transform(X)
    assert got.dtype == np.float32
    ref, _, ref_std = exact_group_norm(X, 1, 1, eps, 1.0, 0.5)
    assert_exact_within_bound(got, ref, X.astype(np.float64), ref_std, 1.0, 0.5, U32)


def test_compiled_loops_leave_tiny_and_huge_groups_to_numpy():
    assert _compiled._load() is not None, "numba is a test dependency"
    from skscale import _kernels, _loops

    assert _loops._TINY_STD == _kernels.TINY_SCALE == 2.0**-450  # (about 3.5e-136)
    rng = np.random.default_rng(4)
    spread = np.array([1.0, 1e-130, 1e-140, 1e-300, 1e3, 1e-150, 1e153, 1e200, 1e300])
    for size in (8, 40):  # across tiles, along rows
        assert (size >= _compiled.LONG_GROUP) == (size == 40)
        X = rng.normal(3.0, 2.0, size=(len(spread), 2 * size)) * spread[:, None]
        X[-1, 1::2] *= -1  # values of both signs: the sum does not overflow, the squares do
        out = np.zeros_like(X)
        left = _compiled.group_norm_loop(X, out, block_bounds(*X.shape), 2, 0.0,
                                    np.ones(2 * size), np.zeros(2 * size), 1)
        # std below 2**-450; squares (1e200, 1e300) that overflow
        np.testing.assert_array_equal(left, [2, 3, 5, 7, 8])
        np.testing.assert_array_equal(out[left], 0.0)  # left unwritten


def test_zero_scale_maps_exactly_to_shift(kernels):
    """Pruned networks set gamma = 0: that channel is beta whatever the input, as in torch."""
    rng = np.random.default_rng(5)
    X = data(rng, 7, 24, offset=1e8)  # C = 6 channels of L = 4, G = 3 groups
    X[2, 5] = X[4, 20] = np.nan
    scale, shift = np.array([1.5, 0.0, -2.0, 0.0, 0.0, 1.0]), rng.normal(size=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = GroupNormScaler(3, n_channels=6, scale=scale, shift=shift).fit_transform(X)
    expected = np.broadcast_to(np.repeat(shift, 4), X.shape).copy()
    expected[np.isnan(X)] = np.nan
    zero = np.repeat(scale == 0, 4)
    np.testing.assert_array_equal(got[:, zero], expected[:, zero])  # NaN passes through
    clean = ~np.isnan(X).any(axis=1)
    exact = torch_norm("group", X[clean] - 1e8, C=6, G=3, scale=scale, shift=shift)
    assert_within_bound(got[clean], exact, X[clean], 3, scale, shift, 1e-5, U64)
    np.testing.assert_array_equal(torch_norm("group", X[clean], C=6, G=3, scale=scale,
                                             shift=shift)[:, zero], expected[clean][:, zero])


# --- NaN -----------------------------------------------------------------------------

def test_nan_ignored_in_layer_norm_and_passed_through():
    rng = np.random.default_rng(9)
    X = data(rng, 6, 10)
    X[1, [2, 7]] = np.nan
    X[4, 0] = np.nan
    scale, shift = affine_params("per_channel", 10, rng)
    scaler = LayerNormScaler(scale=scale, shift=shift).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = scaler.transform(X)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(X))
    for i, row in enumerate(X):
        keep = ~np.isnan(row)
        # torch on the row with its NaN (and their gamma, beta) dropped
        ref = torch_norm("layer", row[keep][None], scale=scale[keep], shift=shift[keep])
        np.testing.assert_allclose(got[i, keep], ref[0], rtol=1e-12, atol=1e-12)


def test_nan_in_groups_against_nanmean():
    rng = np.random.default_rng(10)
    X = data(rng, 5, 12)  # C = 6, L = 2, G = 3 groups of 4
    X[0, 1] = X[3, [4, 5, 6]] = np.nan
    X[2, 8:12] = np.nan  # an all-NaN group
    scale, shift = affine_params("per_channel", 6, rng)
    scaler = GroupNormScaler(3, n_channels=6, scale=scale, shift=shift).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = scaler.transform(X)
        mean, std = scaler.sample_stats(X)
    x = X.reshape(5, 3, 4)
    with warnings.catch_warnings():  # numpy's own warnings for the all-NaN group
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_mean, ref_std = np.nanmean(x, axis=-1), group_std(X, 3, 1e-5)
    ref = ((x - ref_mean[..., None]) / ref_std[..., None]).reshape(5, 6, 2)
    ref = (ref * scale[:, None] + shift[:, None]).reshape(5, 12)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(X))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-14)
    np.testing.assert_allclose(std, ref_std, rtol=1e-13)
    # Rows without NaN are torch's exactly as ever.
    np.testing.assert_allclose(got[[1, 4]], torch_norm("group", X[[1, 4]], C=6, G=3, scale=scale,
                                                       shift=shift), rtol=1e-12, atol=1e-12)


# --- blocks and in-place ---------------------------------------------------------

def test_across_row_blocks():
    n_features = 48
    rows = block_rows(n_features)
    n = 3 * rows + rows // 2  # three full blocks and a partial one
    rng = np.random.default_rng(11)
    X = data(rng, n, n_features)
    X[rows - 1 : rows + 1, 5] = np.nan  # NaN on both sides of a block boundary
    scale, shift = affine_params("per_channel", 12, rng)
    scaler = GroupNormScaler(4, n_channels=12, scale=scale, shift=shift).fit(X)
    got = scaler.transform(X)
    clean = ~np.isnan(X).any(axis=1)
    ref = torch_norm("group", X[clean], C=12, G=4, scale=scale, shift=shift)
    assert_within_bound(got[clean], ref, X[clean], 4, scale, shift, 1e-5, U64)
    mean, std = scaler.sample_stats(X)
    assert mean.shape == std.shape == (n, 4)
    np.testing.assert_allclose(std, group_std(X, 4, 1e-5), rtol=1e-13)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(scaler.transform(X32),
                                  scaler.transform(X32.astype(np.float64)).astype(np.float32))


def test_transform_in_place():
    rng = np.random.default_rng(12)
    X = data(rng, 3 * block_rows(10) + 5, 10)
    expected = LayerNormScaler().fit_transform(X)
    scaler = LayerNormScaler().fit(X)
    Xt = scaler.transform(X, copy=False)
    assert Xt is X
    np.testing.assert_array_equal(X, expected)


# --- inverse -----------------------------------------------------------------------

@pytest.mark.parametrize("scaler", [LayerNormScaler(scale=-2.0, shift=0.5),
                                    GroupNormScaler(2, n_channels=4, scale=[1, -3, 0.5, 2],
                                                    shift=[0, 1, 2, 3]),
                                    InstanceNormScaler(4, eps=0.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inverse_round_trip(scaler, dtype):
    rng = np.random.default_rng(13)
    X = data(rng, 3 * block_rows(12) + 7, 12, offset=50.0).astype(dtype)
    X[3, 2] = np.nan
    X[5, 0:6] = 7.0  # a constant group for group and instance norm (not layer norm)
    X[6] = -1.5  # a constant row
    scaler.fit(X)
    stats = scaler.sample_stats(X)
    Xt = scaler.transform(X)
    back = scaler.inverse_transform(Xt, sample_stats=stats)
    assert back.dtype == dtype
    u = U64 if dtype == np.float64 else U32
    np.testing.assert_allclose(back, X, rtol=64 * u, atol=0)
    constant = [6] if isinstance(scaler, LayerNormScaler) else [5, 6]
    np.testing.assert_array_equal(back[constant, 0:6], X[constant, 0:6])  # exactly


@given(seed=st.integers(0, 2**32 - 1), C=st.sampled_from([1, 2, 4]), L=st.integers(2, 9),
       offset=st.floats(-1e6, 1e6), spread=st.floats(1e-3, 1e3))
@settings(max_examples=40, deadline=None)
def test_inverse_round_trip_property(seed, C, L, offset, spread):
    X = data(np.random.default_rng(seed), 5, C * L, offset, spread)
    scaler = GroupNormScaler(max(C // 2, 1), n_channels=C, scale=-0.7, shift=2.0).fit(X)
    Xt = scaler.transform(X)
    mean, std = scaler.sample_stats(X)
    back = scaler.inverse_transform(Xt, sample_stats=(mean, std))
    # Rounding in y = (x - mean) / std * gamma + beta and back, about |x| + std |y - beta| / |gamma|.
    atol = 16 * U64 * (2 * np.abs(X).max() + std.max() * (np.abs(Xt).max() + 2.0) / 0.7)
    np.testing.assert_allclose(back, X, rtol=0, atol=atol)


# --- errors ------------------------------------------------------------------------

@pytest.mark.parametrize("scaler, n_features, match", [
    (GroupNormScaler(3, n_channels=4), 8, "num_groups=3 does not divide .* C=4"),
    (GroupNormScaler(3), 4, "num_groups=3 does not divide .* C=4"),
    (GroupNormScaler(2, n_channels=4), 10, "n_features=10 is not a multiple of n_channels=4"),
    (InstanceNormScaler(3), 10, "n_features=10 is not a multiple of n_channels=3"),
    (InstanceNormScaler(3), 3, "Expected more than 1 spatial element.*n_features=3"),
    (InstanceNormScaler(), 1, "n_features=1"),
    (GroupNormScaler(2, n_channels=4, scale=[1, 2, 3]), 8, r"one value per channel \(4\); got shape \(3,\)"),
    (LayerNormScaler(shift=np.ones(4)), 5, r"shift .* one value per feature \(5\); got shape \(4,\)"),
    (InstanceNormScaler(2, scale=[[1, 2]]), 8, r"per channel \(2\); got shape \(1, 2\)"),
    (LayerNormScaler(scale=np.nan), 3, "scale must be finite"),
    (InstanceNormScaler(2, shift=[0, np.inf]), 8, r"shift must be finite; channels \[1\]"),
])
def test_layout_errors_at_fit(scaler, n_features, match):
    with pytest.raises(ValueError, match=match):
        scaler.fit(np.ones((3, n_features)))


def test_inverse_needs_sample_stats():
    X = data(np.random.default_rng(14), 4, 6)
    scaler = GroupNormScaler(3).fit(X)
    with pytest.raises(ValueError, match=r"sample_stats\(X\).*inverse_transform\(X_new, sample_stats"):
        scaler.inverse_transform(scaler.transform(X))
    mean, std = scaler.sample_stats(X)
    with pytest.raises(ValueError, match=r"\(mean, std\) pair .* shape \(4, 3\); got shapes \(4, 3\) and \(3, 3\)"):
        scaler.inverse_transform(X, sample_stats=(mean, std[:3]))
    with pytest.raises(ValueError, match=r"\(mean, std\) pair"):
        scaler.inverse_transform(X, sample_stats=mean)


def test_inverse_refuses_zero_scale():
    X = data(np.random.default_rng(15), 4, 8)
    scaler = InstanceNormScaler(4, scale=[1.0, 0.0, 2.0, 0.0]).fit(X)
    with pytest.raises(ValueError, match=r"scale is 0 for channels \[1, 3\]"):
        scaler.inverse_transform(scaler.transform(X), sample_stats=scaler.sample_stats(X))
    scaler = LayerNormScaler(scale=0.0).fit(X)
    with pytest.raises(ValueError, match=r"scale is 0 for features \[0, 1, 2, 3, 4, 5, 6, 7\]"):
        scaler.inverse_transform(scaler.transform(X), sample_stats=scaler.sample_stats(X))


def test_infinity_names_its_column():
    X = pd.DataFrame(np.ones((3, 4)), columns=["a", "b", "c", "d"])
    scaler = GroupNormScaler(2).fit(X)
    X.loc[1, "c"] = np.inf
    with pytest.raises(ValueError, match="infinity .* column 'c' at row 1"):
        scaler.transform(X)


# Values whose sums or squares overflow (1e154 and up) are computed on x * 2**k too.
HUGE = [1e154, 1e200, 1e300, 1.6e308]


@pytest.mark.parametrize("magnitude", HUGE)
@pytest.mark.parametrize("size", [8, 40])  # compiled: summed across tiles / along rows
def test_huge_values_are_as_accurate_as_any(kernels, magnitude, size):
    rng = np.random.default_rng(size)
    X = rng.uniform(-1.0, 1.0, size=(4, 2 * size)) * magnitude  # C = 4 channels, G = 2 groups
    X[1] = np.abs(X[1])  # one sign: near the limit the sums overflow
    X[2, ::2] *= 1e-10  # small values among huge ones
    X[3, :size] = 0.75 * magnitude  # a constant group
    scale, shift = rng.uniform(0.5, 2, 4) * [1, -1, 1, -1], rng.normal(size=4)
    scaler = GroupNormScaler(2, n_channels=4, scale=scale, shift=shift)
    ref, ref_mean, ref_std = exact_group_norm(X, 2, 4, 1e-5, scale, shift)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = scaler.fit_transform(X)
        mean, std = scaler.sample_stats(X)
        back = scaler.inverse_transform(got, sample_stats=(mean, std))
        in_place = X.copy()
        scaler.transform(in_place, copy=False)
    np.testing.assert_array_equal(in_place, got)
    # (the bound's kappa is for varying groups: the constant one is exactly shift)
    np.testing.assert_array_equal(got[3, :size], np.repeat(shift[:2], size // 2))
    assert_exact_within_bound(got[:3], ref[:3], X[:3], ref_std[:3], scale, shift, U64)
    assert_exact_within_bound(got[3, size:], ref[3, size:], X[3, size:], ref_std[3, 1:],
                              scale, shift, U64)
    # the mean to rounding of the values summed, the std to rounding
    np.testing.assert_allclose(mean, ref_mean, rtol=0, atol=16 * U64 * magnitude)
    np.testing.assert_allclose(std, ref_std, rtol=4 * U64)
    np.testing.assert_allclose(back, X, rtol=0, atol=32 * U64 * magnitude)


def test_inverse_near_the_float64_limit():
    """x - mean overflows where x does not (both near the limit, of opposite
    signs); a result that does not fit raises, naming its row and column."""
    X = np.array([[1.79e308, -1.79e308, -1.79e308, -1.79e308],
                  [-1.7e308, 1.7e308, 1.7e308, 3.0]])
    scaler = LayerNormScaler(shift=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, std = scaler.sample_stats(X)
        Y = scaler.transform(X)
        np.testing.assert_allclose(scaler.inverse_transform(Y, sample_stats=(mean, std)), X,
                                   rtol=4 * U64, atol=4 * U64 * 1.7e308)
        with pytest.raises(ValueError, match=r"^Column 1 at row 1: 3\.0 scales to inf, beyond"
                                             r" the range of float64"):
            scaler.inverse_transform([[0.5] * 4, [0.5, 3.0, 0.5, 0.5]],
                                     sample_stats=(np.zeros((2, 1)), np.full((2, 1), 1e308)))
        with pytest.raises(ValueError, match=r"^Column 2 at row 0: .* beyond the range of float32"):
            scaler.inverse_transform(np.array([[0.5, 0.5, 4.0, 0.5]], dtype=np.float32),
                                     sample_stats=([[0.0]], [[1e38]]))
        with pytest.raises(ValueError, match=r"infinity \(inf\) in column 3 at row 1"):
            scaler.inverse_transform([[0.5] * 4, [0.5, 0.5, 0.5, np.inf]],
                                     sample_stats=(np.zeros((2, 1)), np.ones((2, 1))))


@pytest.mark.parametrize("size", [2, 5, 8, 10, 16, 50])
def test_a_row_is_scaled_alike_among_any_rows(kernels, size):
    """A row's sums run in an order set by its length alone (a BLAS product's
    order depends on the number of rows and the alignment of the block)."""
    rng = np.random.default_rng(size)
    X = data(rng, block_rows(4 * size) + 9, 4 * size, offset=10.0)  # two blocks
    X[5, 1] = np.nan  # its block takes the NaN path; the other rows must not notice
    scaler = GroupNormScaler(4, shift=0.25)  # G = 4 groups of `size` channels
    Y, (mean, std) = scaler.transform(X), scaler.sample_stats(X)
    for i in (0, 4, 5, 6, len(X) // 2, len(X) - 1):
        for x in (X[i:i + 1], X[i].copy()[None], np.repeat(X[i:i + 1], 3, axis=0)[1:]):
            np.testing.assert_array_equal(scaler.transform(x)[0].view(np.int64),
                                          Y[i].view(np.int64))
            m, s = scaler.sample_stats(x)
            np.testing.assert_array_equal(m[0], mean[i])
            np.testing.assert_array_equal(s[0], std[i])
