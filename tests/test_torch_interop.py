"""Trained torch normalization layers as skscale estimators and back: the
layer's own output (float64, CPU) is the oracle."""

import numpy as np
import pytest
import torch

from skscale import BatchNormScaler, GroupNormScaler, LayerNormScaler


def _trained_batch_norm(momentum=0.1, affine=True):
    torch.manual_seed(0)
    layer = torch.nn.BatchNorm1d(3, momentum=momentum, affine=affine, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(7):
            layer(torch.randn(32, 3, dtype=torch.float64) * 3 + 2)
        if affine:
            layer.weight.uniform_(0.5, 1.5)
            layer.bias.uniform_(-1, 1)
    return layer.eval()


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_from_torch_is_the_layer_in_eval_mode(momentum):
    layer = _trained_batch_norm(momentum)
    scaler = BatchNormScaler.from_torch(layer)
    X = np.random.default_rng(0).normal(size=(50, 3)) * 4
    want = layer(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(scaler.transform(X), want, rtol=1e-12, atol=1e-14)
    assert scaler.num_batches_tracked_ == 7 and scaler.momentum == momentum
    # and (N, C, L) input, each channel over the batch and its positions
    X3 = np.random.default_rng(1).normal(size=(4, 3, 6))
    rows = X3.transpose(0, 2, 1).reshape(-1, 3)
    got = scaler.transform(rows).reshape(4, 6, 3).transpose(0, 2, 1)
    np.testing.assert_allclose(got, layer(torch.from_numpy(X3)).detach().numpy(),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_training_continues_as_the_layer_does(momentum):
    layer = _trained_batch_norm(momentum).train()
    scaler = BatchNormScaler.from_torch(layer, frozen=False)
    batch = np.random.default_rng(2).normal(size=(16, 3))
    with torch.no_grad():
        want = layer(torch.from_numpy(batch)).numpy()
    got = scaler.normalize_batch(batch, update=True)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(scaler.running_mean_, layer.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(scaler.running_var_, layer.running_var.numpy(), rtol=1e-12)
    assert scaler.num_batches_tracked_ == int(layer.num_batches_tracked)


def test_batch_norm_round_trip_to_torch():
    X = np.random.default_rng(3).normal(size=(300, 3)) * 2 + 5
    scaler = BatchNormScaler(momentum=0.1, batch_size=64, scale=[1.0, 2.0, 0.5],
                             shift=[0.0, 1.0, -1.0]).fit(X)
    layer = scaler.to_torch(torch.nn.BatchNorm1d(3, dtype=torch.float64)).eval()
    want = layer(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(scaler.transform(X), want, rtol=1e-12, atol=1e-14)
    again = BatchNormScaler.from_torch(layer, batch_size=64)
    np.testing.assert_array_equal(again.running_var_, scaler.running_var_)
    assert again.num_batches_tracked_ == scaler.num_batches_tracked_


def test_batch_norm_needs_running_statistics():
    layer = torch.nn.BatchNorm1d(3, track_running_stats=False)
    with pytest.raises(ValueError, match="no running statistics"):
        BatchNormScaler.from_torch(layer)


def test_a_layer_without_affine_parameters_refuses_a_non_neutral_scale():
    scaler = BatchNormScaler(scale=2.0).fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ValueError, match="no affine parameters"):
        scaler.to_torch(torch.nn.BatchNorm1d(3, affine=False, dtype=torch.float64))


def test_layer_norm_from_torch():
    torch.manual_seed(1)
    layer = torch.nn.LayerNorm((3, 5), dtype=torch.float64)
    with torch.no_grad():
        layer.weight.uniform_(0.5, 2.0)
        layer.bias.uniform_(-1, 1)
    X = np.random.default_rng(4).normal(size=(6, 3, 5)) * 10
    want = layer(torch.from_numpy(X)).detach().numpy().reshape(6, -1)
    got = LayerNormScaler.from_torch(layer).transform(X.reshape(6, -1))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_group_norm_from_torch():
    torch.manual_seed(2)
    layer = torch.nn.GroupNorm(3, 6, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.uniform_(0.5, 2.0)
        layer.bias.uniform_(-1, 1)
    X = np.random.default_rng(5).normal(size=(4, 6, 2, 3))          # (N, C, H, W)
    want = layer(torch.from_numpy(X)).detach().numpy().reshape(4, -1)
    got = GroupNormScaler.from_torch(layer).transform(X.reshape(4, -1))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
