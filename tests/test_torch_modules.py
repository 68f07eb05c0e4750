"""to_torch(): every estimator's transform as a torch module, checked
against transform itself, against torch's own layers, and through
torch.export."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skscale import (SCALERS, AutoScaler, BatchNormScaler, GroupNormScaler, InstanceNormScaler,
                     LayerNormScaler, LogScaler, RMSNormScaler, Scaler, ZScoreScaler)

F64 = torch.float64
PARAMS = {"batch_norm": {"batch_size": 50, "scale": [1.0, 2.0] * 4, "shift": 0.5},
          "group_norm": {"num_groups": 2, "n_channels": 4, "shift": [0.0, 1.0, 2.0, 3.0]},
          "instance_norm": {"n_channels": 2}, "layer_norm": {"scale": np.arange(1.0, 9.0)},
          "minmax": {"clip": True}, "log": {"base": 10.0}}


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = np.abs(rng.standard_normal((n, 8))) * [1, 10, 100, 1e3, 1e-3, 5, 50, 0.5] + 0.1
    X[:, 5] = 7.0  # a constant feature
    X[rng.random(X.shape) < 0.05] = np.nan
    X[3] = np.nan  # a row of NaN
    return X


def _estimators():
    for name in SCALERS:
        yield name, SCALERS[name](**PARAMS.get(name, {}))
    yield "quantile-normal", SCALERS["quantile"](n_quantiles=50, output_distribution="normal")
    yield "power-box-cox", SCALERS["power"](method="box-cox")
    yield "Scaler", Scaler("robust")
    yield "AutoScaler", AutoScaler()
    yield "AutoScaler-neural", AutoScaler(model="neural", rules={"ordinary": "minmax"})


ESTIMATORS = dict(_estimators())


def _close(got, want, dtype):
    """Equal to rounding, relative to the largest value of the same column or row."""
    got = got.detach().numpy().astype(np.float64)
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    size = np.nan_to_num(np.abs(want))
    size = np.fmax(np.fmax(size.max(axis=0)[None, :], size.max(axis=1)[:, None]), 1)
    tol = (1e-12 if dtype == np.float64 else 2 ** -23) * size
    assert (np.nan_to_num(np.abs(got - want)) <= tol).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_forward_is_transform_and_torch_export_takes_it(name, dtype):
    X = _data().astype(dtype)
    est = ESTIMATORS[name].fit(X)
    module = est.to_torch()
    assert isinstance(module, torch.nn.Module)
    x = torch.from_numpy(X)
    got = module(x)
    assert got.dtype == x.dtype and got.shape == x.shape
    _close(got, est.transform(X), dtype)
    exported = torch.export.export(module, (x,))
    again = exported.module()(x)
    torch.testing.assert_close(again, got, rtol=0, atol=0, equal_nan=True)


def test_a_frozen_layer_and_scaler_of_a_method_make_modules():
    layer = torch.nn.BatchNorm1d(3, dtype=F64)
    with torch.no_grad():
        layer(torch.randn(20, 3, dtype=F64) * 2 + 1)
    X = torch.randn(7, 3, dtype=F64)
    module = BatchNormScaler.from_torch(layer).to_torch()
    torch.testing.assert_close(module(X), layer.eval()(X).detach(), rtol=1e-12, atol=1e-12)
    est = Scaler("log", {"offset": "auto"}).fit(X.numpy())
    _close(est.to_torch()(X), est.transform(X.numpy()), np.float64)


# (estimator, shape, torch layer computing the same)
N_D = {
    "batch_norm-NCHW": (lambda X: BatchNormScaler(batch_size=4).fit(X), (10, 3, 4, 5)),
    "instance_norm-NCL": (lambda X: InstanceNormScaler(shift=[0.0, 1.0, 2.0]), (6, 3, 7)),
    "group_norm-NCHW-last": (lambda X: GroupNormScaler(3, channel_axis=-1), (6, 4, 5, 6)),
    "layer_norm-NTE": (lambda X: LayerNormScaler(5).fit(X), (6, 4, 5)),
    "rms_norm-NTE": (lambda X: RMSNormScaler(5), (6, 4, 5)),
}


@pytest.mark.parametrize("name", list(N_D))
def test_n_d_forward_keeps_the_shape(name):
    make, shape = N_D[name]
    X = np.random.default_rng(1).normal(size=shape) * 2 + 1
    est = make(X)
    module = est.to_torch()
    got = module(torch.from_numpy(X))
    assert got.shape == shape
    _close(got.reshape(shape[0], -1), est.transform(X).reshape(shape[0], -1), np.float64)
    torch.export.export(module, (torch.from_numpy(X),))


@pytest.mark.parametrize("make,layer", [
    (lambda: LayerNormScaler(scale=np.linspace(0.5, 2, 6), shift=0.25),
     torch.nn.LayerNorm(6, dtype=F64)),
    (lambda: RMSNormScaler(scale=np.linspace(0.5, 2, 6), eps=1e-6), torch.nn.RMSNorm(6, dtype=F64)),
    (lambda: GroupNormScaler(3, scale=np.linspace(0.5, 2, 6)), torch.nn.GroupNorm(3, 6, dtype=F64)),
    (lambda: InstanceNormScaler(6, shift=np.linspace(-1, 1, 6)),
     torch.nn.InstanceNorm1d(6, affine=True, dtype=F64)),
])
def test_written_into_a_torch_layer_and_its_module_agree_with_torch(make, layer):
    est = make()
    shape = (5, 6) if isinstance(layer, (torch.nn.LayerNorm, torch.nn.RMSNorm)) else (5, 6, 4)
    x = torch.randn(*shape, dtype=F64) * 3 + 1
    assert est.to_torch(layer) is layer
    want = layer(x).detach()
    torch.testing.assert_close(torch.from_numpy(est.transform(x.numpy())), want,
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(est.to_torch()(x), want, rtol=1e-12, atol=1e-12)
    # and back again
    again = type(est).from_torch(layer)
    np.testing.assert_array_equal(again.transform(x.numpy()), est.transform(x.numpy()))


def test_gradients_flow_through_the_module_as_through_torchs_layer():
    torch.manual_seed(0)
    layer = torch.nn.LayerNorm(6, dtype=F64)
    with torch.no_grad():
        layer.weight.uniform_(0.5, 1.5)
        layer.bias.uniform_(-1, 1)
    module = LayerNormScaler.from_torch(layer).to_torch()
    x = torch.randn(4, 3, 6, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad((module(x) ** 3).sum(), x)
    (want,) = torch.autograd.grad((layer(x) ** 3).sum(), x)
    torch.testing.assert_close(grad, want, rtol=1e-10, atol=1e-12)


def test_what_transform_refuses_comes_out_non_finite():
    est = LogScaler().fit([[0.0], [5.0]])
    with pytest.raises(ValueError, match="no logarithm"):
        est.transform([[-2.0]])
    assert not torch.isfinite(est.to_torch()(torch.tensor([[-2.0]], dtype=F64))).any()
    z = ZScoreScaler().fit([[0.0], [5.0]])
    assert torch.isinf(z.to_torch()(torch.tensor([[np.inf]], dtype=F64))).all()


def test_an_unfitted_column_scaler_has_no_module_and_others_take_no_layer():
    with pytest.raises(NotFittedError):
        ZScoreScaler().to_torch()
    with pytest.raises(TypeError, match="writes into none"):
        ZScoreScaler().fit([[0.0], [1.0]]).to_torch(torch.nn.BatchNorm1d(1))
    with pytest.raises(TypeError, match=r"takes a torch.nn.LayerNorm; got RMSNorm.*Write it from"
                       r" a RMSNormScaler"):
        LayerNormScaler().to_torch(torch.nn.RMSNorm(4))
    with pytest.raises(ValueError, match="normalizes shape"):
        LayerNormScaler(3).to_torch(torch.nn.LayerNorm(4))
    with pytest.raises(ValueError, match="keeps running statistics"):
        InstanceNormScaler(3).to_torch(torch.nn.InstanceNorm1d(3, track_running_stats=True))
    with pytest.raises(TypeError, match="BatchNormScaler"):
        BatchNormScaler().fit([[0.0], [1.0]]).to_torch(torch.nn.LayerNorm(1))


def test_the_module_survives_a_half_cast_and_a_device_move():
    X = _data()
    est = ZScoreScaler().fit(X)
    module = est.to_torch().half().to("cpu")  # (no buffers to round)
    _close(module(torch.from_numpy(X)), est.transform(X), np.float64)


@pytest.mark.parametrize("name", ["zscore", "log", "layer_norm", "rms_norm", "batch_norm-NCHW",
                                  "instance_norm-NCL", "AutoScaler"])
def test_export_with_a_dynamic_batch(name):
    if name in N_D:
        make, shape = N_D[name]
        X = np.random.default_rng(2).normal(size=shape) + 3
        est = make(X)
    else:
        X = _data()
        est = ESTIMATORS[name].fit(X)
    module = est.to_torch()
    batch = torch.export.Dim("batch", min=2)
    program = torch.export.export(module, (torch.from_numpy(X),), dynamic_shapes=({0: batch},))
    fewer = torch.from_numpy(X[:5])
    torch.testing.assert_close(program.module()(fewer), module(fewer), rtol=0, atol=0,
                               equal_nan=True)
