"""Tests for skscale.weights, with PyTorch (float64) as the independent oracle."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from numpy.testing import assert_allclose, assert_array_equal
from torch.nn.utils.parametrizations import weight_norm as torch_weight_norm

from skscale.weights import standardize_weights, weight_from_norm, weight_norm

SHAPES = [(8,), (6, 4), (5, 3, 3, 3)]
RTOL = 1e-12


class Holder(torch.nn.Module):
    """Minimal module holding one parameter named ``weight``."""

    def __init__(self, W):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor(W, dtype=torch.float64))


def torch_parametrized(W, dim):
    return torch_weight_norm(Holder(W), name="weight", dim=dim)


def as_np(t):
    return t.detach().numpy()


def make_weights(shape, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(offset, 1.0, size=shape)


def weight_norm_cases():
    for shape in SHAPES:
        for dim in (0, 1, -1, None):
            if dim == 1 and len(shape) == 1:
                continue  # out of range in both libraries; see test_bad_dim
            yield shape, dim


def torch_dim(dim, ndim):
    # torch's weight_norm reads dim=-1 as "whole tensor" (its encoding of None), so
    # our dim=-1 (the last axis) is its ndim - 1.
    return ndim - 1 if dim == -1 else dim


# ---------------------------------------------------------------- weight_norm


@pytest.mark.parametrize(("shape", "dim"), list(weight_norm_cases()))
def test_weight_norm_matches_torch_init(shape, dim):
    W = make_weights(shape, seed=1)
    module = torch_parametrized(W, torch_dim(dim, len(shape)))
    original0 = as_np(module.parametrizations.weight.original0)
    original1 = as_np(module.parametrizations.weight.original1)

    g, v = weight_norm(W, dim=dim)
    assert g.shape == original0.shape
    assert_allclose(g, original0, rtol=RTOL, atol=0)
    assert_array_equal(v, original1)
    assert v is not W and not np.shares_memory(v, W)
    assert_allclose(weight_from_norm(g, v, dim=dim), as_np(module.weight), rtol=RTOL, atol=0)
    assert_allclose(weight_from_norm(g, v, dim=dim), W, rtol=RTOL, atol=0)


@pytest.mark.parametrize(("shape", "dim"), list(weight_norm_cases()))
def test_weight_from_norm_matches_torch_forward(shape, dim):
    W = make_weights(shape, seed=2)
    module = torch_parametrized(W, torch_dim(dim, len(shape)))
    g, _ = weight_norm(W, dim=dim)
    rng = np.random.default_rng(3)
    new_v = rng.normal(size=shape)  # a direction unrelated to W
    for new_g in (2.5 * g, rng.uniform(0.1, 3.0, size=g.shape), -g):
        with torch.no_grad():
            module.parametrizations.weight.original0.copy_(torch.as_tensor(np.asarray(new_g)))
            module.parametrizations.weight.original1.copy_(torch.from_numpy(new_v))
        expected = as_np(module.weight)
        assert_allclose(weight_from_norm(new_g, new_v, dim=dim), expected, rtol=RTOL, atol=0)


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_minus_one_is_our_none(shape):
    # The documented divergence: torch's dim=-1 is the Frobenius norm, our dim=None.
    W = make_weights(shape, seed=4)
    original0 = as_np(torch_parametrized(W, -1).parametrizations.weight.original0)
    g, _ = weight_norm(W, dim=None)
    assert g.shape == original0.shape == ()
    assert_allclose(g, original0, rtol=RTOL, atol=0)
    assert_allclose(g, np.linalg.norm(W.ravel()), rtol=RTOL, atol=0)


def test_weight_norm_conv_shapes():
    W = make_weights((5, 3, 3, 3))
    assert weight_norm(W)[0].shape == (5, 1, 1, 1)
    assert weight_norm(W, dim=1)[0].shape == (1, 3, 1, 1)
    assert weight_norm(W, dim=-1)[0].shape == (1, 1, 1, 3)
    assert weight_norm(W, dim=-4)[0].shape == (5, 1, 1, 1)


def test_zero_unit_gives_zeros_where_torch_gives_nan():
    W = make_weights((4, 3), seed=5)
    W[2] = 0.0
    module = torch_parametrized(W, 0)
    torch_w = as_np(module.weight)
    assert np.isnan(torch_w[2]).all()  # what our Notes section says torch does

    g, v = weight_norm(W)
    assert g[2, 0] == 0.0
    w = weight_from_norm(g, v)
    assert_array_equal(w[2], 0.0)
    assert_allclose(np.delete(w, 2, axis=0), np.delete(torch_w, 2, axis=0), rtol=RTOL, atol=0)
    # A nonzero g cannot give a zero direction a length: still zeros.
    assert_array_equal(weight_from_norm(np.ones((4, 1)), v)[2], 0.0)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_norms_do_not_overflow_or_underflow(scale):
    W = np.array([[3.0, 4.0], [-6.0, 8.0]]) * scale
    g, v = weight_norm(W)
    assert_allclose(g.ravel(), [5.0 * scale, 10.0 * scale], rtol=RTOL)
    assert_allclose(weight_from_norm(np.ones((2, 1)), v), [[0.6, 0.8], [-0.6, 0.8]], rtol=RTOL)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip_property(data):
    W = data.draw(arrays(np.float64, array_shapes(min_dims=1, max_dims=4, max_side=5),
                         elements=st.floats(-1e3, 1e3)))
    dim = data.draw(st.none() | st.integers(-W.ndim, W.ndim - 1))
    assert_allclose(weight_from_norm(*weight_norm(W, dim=dim), dim=dim), W,
                    rtol=RTOL, atol=1e-300)


# -------------------------------------------------------- standardize_weights


def torch_ws_authors(W, eps=1e-5):
    # Qiao et al.'s WS Conv2d, generalized from dims [1, 2, 3] to all non-output dims.
    w = torch.tensor(np.ascontiguousarray(W), dtype=torch.float64)
    w = w - w.mean(dim=list(range(1, w.ndim)), keepdim=True)
    std = w.view(w.size(0), -1).std(dim=1).view(-1, *[1] * (w.ndim - 1)) + eps
    return (w / std).numpy()


def torch_ws_timm(W, eps=1e-6):
    # timm's StdConv2d.
    w = torch.tensor(W, dtype=torch.float64)
    out = w.shape[0]
    return torch.nn.functional.batch_norm(
        w.reshape(1, out, -1), None, None, training=True, momentum=0.0, eps=eps
    ).reshape_as(w).numpy()


@pytest.mark.parametrize("shape", [(5, 3, 3, 3), (6, 4)])
@pytest.mark.parametrize("offset", [0.0, 10.0])
def test_standardize_authors_convention(shape, offset):
    W = make_weights(shape, seed=6, offset=offset) * 0.2
    assert_allclose(standardize_weights(W), torch_ws_authors(W), rtol=RTOL, atol=RTOL)
    assert_allclose(standardize_weights(W, eps=0.0), torch_ws_authors(W, eps=0.0),
                    rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("shape", [(5, 3, 3, 3), (6, 4)])
@pytest.mark.parametrize("offset", [0.0, 10.0])
def test_standardize_timm_convention(shape, offset):
    # Small weights so that eps matters: the two conventions then differ visibly.
    W = make_weights(shape, seed=7, offset=offset) * 1e-3
    ours = standardize_weights(W, ddof=0, eps=1e-6, eps_inside=True)
    assert_allclose(ours, torch_ws_timm(W), rtol=RTOL, atol=RTOL)
    assert not np.allclose(ours, standardize_weights(W), rtol=1e-3)


def test_standardize_axis():
    W = make_weights((3, 5, 4), seed=8)
    expected = np.moveaxis(torch_ws_authors(np.moveaxis(W, 1, 0)), 0, 1)
    assert_allclose(standardize_weights(W, axis=1), expected, rtol=RTOL, atol=RTOL)
    assert_allclose(standardize_weights(W, axis=-2), expected, rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize(("kwargs", "reference"), [
    ({"eps": 0.0}, lambda W: torch_ws_authors(W, eps=0.0)),
    ({"eps": 0.0, "eps_inside": True}, lambda W: torch_ws_authors(W, eps=0.0)),
    ({}, torch_ws_authors),
    ({"ddof": 0, "eps": 1e-6, "eps_inside": True}, torch_ws_timm),
])
def test_constant_unit_maps_to_zero(kwargs, reference):
    W = make_weights((3, 3, 3, 3), seed=9)
    W[1] = 0.1
    # The data must make a naive mean inexact, else the test proves nothing.
    assert np.any(W[1] - W[1].mean() != 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = standardize_weights(W, **kwargs)
    assert_array_equal(out[1], 0.0)
    assert_allclose(np.delete(out, 1, 0), np.delete(reference(W), 1, 0), rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_standardize_extreme_scales(scale):
    W = make_weights((4, 6), seed=10)
    assert_allclose(standardize_weights(W * scale, eps=0.0), standardize_weights(W, eps=0.0),
                    rtol=RTOL, atol=RTOL)


# ----------------------------------------------------------------------- dtypes


def test_float32_stays_float32():
    W32 = make_weights((5, 3, 3, 3), seed=11).astype(np.float32)
    W64 = W32.astype(np.float64)
    ws = standardize_weights(W32)
    assert ws.dtype == np.float32
    # Computed in float64 and rounded once: exactly the rounded float64 result.
    assert_array_equal(ws, standardize_weights(W64).astype(np.float32))
    assert_allclose(ws, torch_ws_authors(W64), rtol=2**-23, atol=2**-23)

    g, v = weight_norm(W32)
    assert g.dtype == v.dtype == np.float32
    assert_array_equal(g, weight_norm(W64)[0].astype(np.float32))
    w = weight_from_norm(g, v)
    assert w.dtype == np.float32
    assert_allclose(w, W32, rtol=4 * 2**-24)
    assert weight_from_norm(g.astype(np.float64), v).dtype == np.float64


def test_integer_input_gives_float64():
    Wi = np.arange(24).reshape(4, 6) % 5
    ws = standardize_weights(Wi)
    assert ws.dtype == np.float64
    assert_allclose(ws, torch_ws_authors(Wi.astype(np.float64)), rtol=RTOL, atol=RTOL)
    g, v = weight_norm(Wi)
    assert g.dtype == v.dtype == np.float64
    assert_array_equal(v, Wi)
    assert weight_from_norm(g.astype(np.int64), Wi).dtype == np.float64


# ----------------------------------------------------------------------- errors


def test_standardize_rejects_1d():
    with pytest.raises(ValueError, match="at least 2 dimensions.*single weight"):
        standardize_weights(np.arange(4.0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(bad):
    W = make_weights((3, 4))
    W[1, 2] = bad
    for call in (lambda: standardize_weights(W), lambda: weight_norm(W),
                 lambda: weight_from_norm(np.ones((3, 1)), W)):
        with pytest.raises(ValueError, match="NaN or infinity"):
            call()
    g = np.ones((3, 1))
    g[0, 0] = bad
    with pytest.raises(ValueError, match="g contains NaN"):
        weight_from_norm(g, make_weights((3, 4)))


@pytest.mark.parametrize("kwargs", [{"ddof": 4}, {"ddof": 5}, {"ddof": -1},
                                    {"eps": -1e-5}, {"eps": np.nan}, {"eps": np.inf}])
def test_standardize_bad_parameters(kwargs):
    with pytest.raises(ValueError, match="ddof|eps"):
        standardize_weights(make_weights((3, 4)), **kwargs)


def test_standardize_ddof_just_valid():
    out = standardize_weights(make_weights((3, 4)), ddof=3, eps=0.0)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("dim", [2, -3])
def test_bad_dim_out_of_range(dim):
    W = make_weights((3, 4))
    with pytest.raises(ValueError, match="out of bounds"):
        weight_norm(W, dim=dim)
    with pytest.raises(ValueError, match="out of bounds"):
        weight_from_norm(np.ones((3, 1)), W, dim=dim)
    with pytest.raises(ValueError, match="out of bounds"):
        standardize_weights(W, axis=dim)
    with pytest.raises(ValueError, match="out of bounds"):
        weight_norm(np.ones(3), dim=1)


@pytest.mark.parametrize("dim", [1.0, True, "0"])
def test_bad_dim_type(dim):
    with pytest.raises(TypeError, match="must be an int"):
        weight_norm(make_weights((3, 4)), dim=dim)


def test_g_shape_checked():
    v = make_weights((3, 4))
    for g in (np.ones(3), np.ones((1, 4)), np.ones((3, 1, 1))):
        with pytest.raises(ValueError, match=r"g must have shape \(3, 1\)"):
            weight_from_norm(g, v)
    with pytest.raises(ValueError, match=r"g must have shape \(\)"):
        weight_from_norm(np.ones((1, 1)), v, dim=None)


@pytest.mark.parametrize("W", [np.ones((2, 2), dtype=bool), np.ones((2, 2), dtype=complex),
                               np.array([["a", "b"]])])
def test_non_real_rejected(W):
    with pytest.raises(TypeError, match="real numeric"):
        weight_norm(W)
    with pytest.raises(TypeError, match="real numeric"):
        standardize_weights(W)


def test_scalar_rejected():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        weight_norm(3.0)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        weight_from_norm(1.0, 3.0, dim=None)


# ------------------------------------------------------------ tensors in, out


def test_tensors_in_tensors_out_in_their_dtype():
    W = make_weights((5, 3, 2, 2))
    for dtype in (torch.float64, torch.float32, torch.float16):
        t = torch.from_numpy(W).to(dtype)
        got = standardize_weights(t)
        assert isinstance(got, torch.Tensor) and got.dtype == dtype and got.device == t.device
        assert_allclose(got.double().numpy(), standardize_weights(t.double().numpy()),
                        rtol=1e-3 if dtype == torch.float16 else 1e-6)
        g, v = weight_norm(t)
        assert g.dtype == v.dtype == dtype and g.shape == (5, 1, 1, 1)
        w = weight_from_norm(g, v)
        assert isinstance(w, torch.Tensor) and w.dtype == dtype
    # a layer's parameter: read detached, and said so
    layer = torch.nn.Linear(3, 4, dtype=torch.float64)
    with pytest.warns(UserWarning, match="require grad detached"):
        g, v = weight_norm(layer.weight)
    assert not g.requires_grad
    want = torch_parametrized(layer.weight.detach().numpy(), 0).parametrizations.weight.original0
    assert_allclose(as_np(g), as_np(want), rtol=RTOL)


# ------------------------------------------------------- batch norm folding

def _trained_bn(cls, n, shape):
    torch.manual_seed(3)
    bn = cls(n, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(4):
            bn(torch.randn(*shape, dtype=torch.float64) * 3 + 1)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    return bn.eval()


@pytest.mark.parametrize("kind", ["linear", "conv2d", "conv1d-no-bias", "convtranspose2d"])
def test_folding_a_batch_norm_gives_the_unfolded_networks_output(kind):
    from skscale import BatchNormScaler
    from skscale.weights import fold_batch_norm, fold_batch_norm_into

    torch.manual_seed(1)
    f64 = torch.float64
    layer, bn, x = {
        "linear": lambda: (torch.nn.Linear(5, 4, dtype=f64),
                           _trained_bn(torch.nn.BatchNorm1d, 4, (16, 4)),
                           torch.randn(9, 5, dtype=f64)),
        "conv2d": lambda: (torch.nn.Conv2d(3, 4, 3, dtype=f64),
                           _trained_bn(torch.nn.BatchNorm2d, 4, (8, 4, 5, 5)),
                           torch.randn(6, 3, 7, 7, dtype=f64)),
        "conv1d-no-bias": lambda: (torch.nn.Conv1d(3, 4, 3, bias=False, dtype=f64),
                                   _trained_bn(torch.nn.BatchNorm1d, 4, (8, 4, 5)),
                                   torch.randn(6, 3, 9, dtype=f64)),
        "convtranspose2d": lambda: (torch.nn.ConvTranspose2d(3, 4, 2, dtype=f64),
                                    _trained_bn(torch.nn.BatchNorm2d, 4, (8, 4, 5, 5)),
                                    torch.randn(6, 3, 4, 4, dtype=f64)),
    }[kind]()
    with torch.no_grad():
        want = bn(layer(x))
        for folded_with in (bn, BatchNormScaler.from_torch(bn)):
            fused = fold_batch_norm_into(layer, folded_with)
            torch.testing.assert_close(fused(x), want, rtol=1e-12, atol=1e-12)
    # the arrays' form, numpy in and out
    if kind == "linear":
        W, b = fold_batch_norm(layer.weight.detach().numpy(), layer.bias.detach().numpy(), bn)
        assert isinstance(W, np.ndarray)
        assert_allclose(x.numpy() @ W.T + b, want.numpy(), rtol=1e-12, atol=1e-12)


def test_folding_refuses_what_it_cannot_fold():
    from skscale.weights import fold_batch_norm, fold_batch_norm_into

    with pytest.raises(ValueError, match="4 features; the weights have 3 output units"):
        fold_batch_norm(np.ones((3, 2)), None, _trained_bn(torch.nn.BatchNorm1d, 4, (8, 4)))
    with pytest.raises(ValueError, match="no running statistics"):
        fold_batch_norm(np.ones((3, 2)), None,
                        torch.nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(TypeError, match="BatchNormScaler or a torch"):
        fold_batch_norm(np.ones((3, 2)), None, torch.nn.LayerNorm(3))
    with pytest.raises(TypeError, match="Linear or a convolution"):
        fold_batch_norm_into(torch.nn.LayerNorm(3), torch.nn.BatchNorm1d(3))
    in_training = _trained_bn(torch.nn.BatchNorm1d, 4, (8, 4)).train()
    with pytest.raises(ValueError, match=r"training mode.*batch_norm\.eval\(\)"):
        fold_batch_norm_into(torch.nn.Linear(3, 4, dtype=torch.float64), in_training)
    with pytest.raises(ValueError, match="grouped transposed convolution"):
        fold_batch_norm_into(torch.nn.ConvTranspose2d(4, 6, 3, groups=2, dtype=torch.float64),
                             _trained_bn(torch.nn.BatchNorm2d, 6, (8, 6, 5, 5)))
