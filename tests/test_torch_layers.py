"""Trained torch layers as estimators: each from_torch takes only what it
represents, a trained layer stays trained in a pipeline unless asked to go
on training, and images and tokens keep their shape.  torch (float64, CPU)
is the oracle throughout."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skscale import (BatchNormScaler, GroupNormScaler, InstanceNormScaler, LayerNormScaler,
                     RMSNormScaler, ZScoreScaler)

F64 = torch.float64


def _train(layer, shape, steps=5, seed=0):
    """``layer`` after a few training steps on offset data, with random
    affine parameters where it has them; in evaluation mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(steps):
            layer(torch.randn(*shape, generator=gen, dtype=F64) * 3 + 2)
        for name, (lo, hi) in (("weight", (0.5, 1.5)), ("bias", (-1.0, 1.0))):
            p = getattr(layer, name, None)
            if p is not None:
                p.copy_(torch.rand(p.shape, generator=gen, dtype=F64) * (hi - lo) + lo)
    return layer.eval()


def _out(layer, X):
    with torch.no_grad():
        return layer(torch.from_numpy(X)).numpy()


# ------------------------------------------------------- what each takes

# (from_torch, module, error, what the message must name)
REFUSED = [
    (LayerNormScaler, lambda: torch.nn.RMSNorm(4), TypeError, r"RMSNormScaler\.from_torch"),
    (LayerNormScaler, lambda: torch.nn.GroupNorm(2, 4), TypeError, r"GroupNormScaler\.from_torch"),
    (LayerNormScaler, lambda: _train(torch.nn.BatchNorm1d(4, dtype=F64), (16, 4)), TypeError,
     r"BatchNormScaler\.from_torch"),
    (LayerNormScaler, lambda: torch.nn.InstanceNorm1d(4), TypeError,
     r"InstanceNormScaler\.from_torch"),
    (LayerNormScaler, lambda: torch.nn.Linear(4, 4), TypeError, r"no estimator for Linear"),
    (RMSNormScaler, lambda: torch.nn.LayerNorm(4), TypeError, r"LayerNormScaler\.from_torch"),
    (GroupNormScaler, lambda: torch.nn.LayerNorm(4), TypeError, r"LayerNormScaler\.from_torch"),
    (GroupNormScaler, lambda: torch.nn.InstanceNorm2d(4), TypeError,
     r"InstanceNormScaler\.from_torch"),
    (InstanceNormScaler, lambda: torch.nn.GroupNorm(4, 4), TypeError,
     r"GroupNormScaler\.from_torch"),
    (InstanceNormScaler, lambda: torch.nn.BatchNorm2d(4), TypeError,
     r"BatchNormScaler\.from_torch"),
    # a mode it does not represent
    (InstanceNormScaler, lambda: torch.nn.InstanceNorm2d(4, track_running_stats=True).eval(),
     ValueError, r"BatchNormScaler\.from_torch\(layer\).*layer\.train\(\)"),
    (BatchNormScaler, lambda: torch.nn.BatchNorm1d(4, track_running_stats=False), ValueError,
     r"no running statistics.*normalize_batch"),
    (BatchNormScaler, lambda: torch.nn.LayerNorm(4), TypeError, r"LayerNormScaler\.from_torch"),
    (BatchNormScaler, lambda: torch.nn.InstanceNorm1d(4), TypeError,
     r"InstanceNormScaler\.from_torch"),
    (BatchNormScaler, lambda: torch.nn.RMSNorm(4), TypeError, r"RMSNormScaler\.from_torch"),
    (LayerNormScaler, lambda: torch.nn.BatchNorm1d(4, track_running_stats=False), TypeError,
     r"normalize_batch"),
]


@pytest.mark.parametrize("cls,make,error,names", REFUSED,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_) in enumerate(REFUSED)])
def test_a_module_it_does_not_represent_is_refused_naming_what_to_use(cls, make, error, names):
    with pytest.raises(error, match=names):
        cls.from_torch(make())


def test_instance_norm_with_running_statistics_in_training_mode_is_per_sample():
    layer = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True, dtype=F64)
    X = np.random.default_rng(0).normal(size=(4, 3, 9)) * 2 + 1
    want = _out(layer.train(), X)  # (its running statistics move; its output is per sample)
    np.testing.assert_allclose(InstanceNormScaler.from_torch(layer).transform(X), want,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dims", [1, 2])
def test_instance_norm_with_running_statistics_in_eval_mode_is_a_per_channel_map(dims):
    layer = torch.nn.InstanceNorm1d if dims == 1 else torch.nn.InstanceNorm2d
    layer = _train(layer(3, affine=True, track_running_stats=True, dtype=F64),
                   (8, 3, 5) if dims == 1 else (8, 3, 4, 4))
    X = np.random.default_rng(1).normal(size=(5, 3, 6) if dims == 1 else (5, 3, 4, 2)) * 3
    scaler = BatchNormScaler.from_torch(layer)
    np.testing.assert_allclose(scaler.transform(X), _out(layer, X), rtol=1e-12, atol=1e-12)
    # instance normalization trains its statistics otherwise: never continued here
    with pytest.raises(ValueError, match="inference only"):
        BatchNormScaler.from_torch(layer, frozen=False)
    before = scaler.estimator.running_var_.copy()
    with pytest.raises(ValueError, match="each sample's own variance"):
        scaler.estimator.partial_fit(X)
    np.testing.assert_array_equal(scaler.estimator.running_var_, before)
    y = (X.reshape(len(X), -1)[:, 0] > 0).astype(int)
    Pipeline([("norm", scaler), ("flat", FunctionTransformer(lambda a: a.reshape(len(a), -1))),
              ("clf", LogisticRegression())]).fit(X, y)
    np.testing.assert_array_equal(scaler.running_var_, before)


def test_data_of_another_shape_than_the_layer_is_refused():
    with pytest.raises(ValueError, match=r"does not end with normalized_shape=\(3, 5\)"):
        LayerNormScaler.from_torch(torch.nn.LayerNorm((3, 5))).transform(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match="normalized_shape=.* holds 15 values; X has 12"):
        LayerNormScaler.from_torch(torch.nn.LayerNorm((3, 5))).transform(np.ones((2, 12)))
    with pytest.raises(ValueError, match="n_channels=4, but X has 6 channels"):
        GroupNormScaler.from_torch(torch.nn.GroupNorm(2, 4)).transform(np.ones((2, 6, 3)))
    with pytest.raises(ValueError, match="3 features"):
        BatchNormScaler.from_torch(_train(torch.nn.BatchNorm1d(3, dtype=F64), (8, 3))
                                   ).transform(np.ones((2, 4, 5)))


# ------------------------------------------------- trained stays trained

def _digits_like(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4)) * [1.0, 5.0, 0.5, 2.0] - 6.7
    return X, (X[:, 0] + rng.normal(size=300) > -6.7).astype(int)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_a_trained_batch_norm_stays_trained_in_a_pipeline(momentum):
    layer = _train(torch.nn.BatchNorm1d(4, momentum=momentum, dtype=F64), (32, 4))
    mean, var = layer.running_mean.clone(), layer.running_var.clone()
    X, y = _digits_like()
    pipe = Pipeline([("bn", BatchNormScaler.from_torch(layer)),
                     ("clf", LogisticRegression())]).fit(X, y)
    bn = pipe.named_steps["bn"]
    assert isinstance(bn, FrozenEstimator)
    np.testing.assert_array_equal(bn.running_mean_, mean.numpy())
    np.testing.assert_array_equal(bn.running_var_, var.numpy())
    assert bn.num_batches_tracked_ == int(layer.num_batches_tracked)
    np.testing.assert_allclose(pipe[:-1].transform(X), _out(layer, X), rtol=1e-12, atol=1e-12)
    # clones (a cross-validation's) are the frozen scaler itself
    assert clone(pipe).named_steps["bn"] is bn
    cross_val_score(pipe, X, y, cv=3)
    np.testing.assert_array_equal(bn.running_mean_, mean.numpy())


@pytest.mark.parametrize("unfreeze", ["frozen=False", "estimator"])
def test_training_continues_in_a_pipeline_only_when_asked(unfreeze):
    layer = _train(torch.nn.BatchNorm1d(4, momentum=0.1, dtype=F64), (32, 4))
    scaler = (BatchNormScaler.from_torch(layer, batch_size=64, frozen=False)
              if unfreeze == "frozen=False" else
              BatchNormScaler.from_torch(layer, batch_size=64).estimator)
    X, y = _digits_like(1)
    Pipeline([("bn", scaler), ("clf", LogisticRegression())]).fit(X, y)
    # torch's own training steps on the same mini-batches (the last 44 rows one more)
    layer.train()
    with torch.no_grad():
        for start in range(0, 300, 64):
            layer(torch.from_numpy(X[start:start + 64]))
    np.testing.assert_allclose(scaler.running_mean_, layer.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(scaler.running_var_, layer.running_var.numpy(), rtol=1e-12)
    assert scaler.num_batches_tracked_ == int(layer.num_batches_tracked)


def test_warm_start_off_fits_afresh():
    layer = _train(torch.nn.BatchNorm1d(4, momentum=0.1, dtype=F64), (32, 4))
    scaler = BatchNormScaler.from_torch(layer, frozen=False).set_params(warm_start=False)
    X, _ = _digits_like(2)
    want = BatchNormScaler(momentum=0.1).fit(X)
    np.testing.assert_array_equal(scaler.fit(X).running_mean_, want.running_mean_)
    assert scaler.num_batches_tracked_ == want.num_batches_tracked_


PER_SAMPLE = [
    (LayerNormScaler, lambda: torch.nn.LayerNorm(6, dtype=F64), (6,)),
    (RMSNormScaler, lambda: torch.nn.RMSNorm(6, dtype=F64), (6,)),
    (GroupNormScaler, lambda: torch.nn.GroupNorm(2, 6, dtype=F64), (6, 4)),
    (InstanceNormScaler, lambda: torch.nn.InstanceNorm1d(6, affine=True, dtype=F64), (6, 4)),
]


@pytest.mark.parametrize("cls,make,shape", PER_SAMPLE, ids=[c.__name__ for c, *_ in PER_SAMPLE])
def test_a_per_sample_layer_keeps_its_parameters_through_a_pipeline(cls, make, shape):
    layer = _train(make(), (4, *shape), steps=0)
    scaler = cls.from_torch(layer)
    params = {k: np.copy(v) for k, v in scaler.get_params().items()}
    X = np.random.default_rng(3).normal(size=(200, *shape)) * 4 + 3
    flat = X.reshape(200, -1)
    y = (flat[:, 0] > 3).astype(int)
    pipe = Pipeline([("norm", scaler), ("clf", LogisticRegression())]).fit(flat, y)
    for k, v in pipe.named_steps["norm"].get_params().items():
        np.testing.assert_array_equal(np.asarray(v), params[k])
    np.testing.assert_allclose(pipe[:-1].transform(flat), _out(layer, X).reshape(200, -1),
                               rtol=1e-12, atol=1e-12)


# ------------------------------------------------ images, sequences, tokens

def _f32_bound(X, want, gamma, beta, divisor):
    """The float32 bound of shared/NORMS: 16 u ((1 + |gamma| + |beta|) kappa + |ref|)."""
    u = 2.0 ** -24
    kappa = 1 + np.abs(X).max() / divisor
    return 16 * u * ((1 + np.abs(gamma).max() + np.abs(beta).max()) * kappa + np.abs(want))


# (name, torch layer, estimator, input shape, the smallest divisor of the data)
def _layouts():
    yield "BatchNorm1d-NCL", lambda: _train(torch.nn.BatchNorm1d(4, dtype=F64), (8, 4, 5)), \
        BatchNormScaler.from_torch, (6, 4, 7)
    yield "BatchNorm2d-NCHW", lambda: _train(torch.nn.BatchNorm2d(4, dtype=F64), (8, 4, 3, 3)), \
        BatchNormScaler.from_torch, (6, 4, 5, 3)
    yield "InstanceNorm1d-NCL", lambda: _train(
        torch.nn.InstanceNorm1d(4, affine=True, dtype=F64), (2, 4, 5), steps=0), \
        InstanceNormScaler.from_torch, (6, 4, 7)
    yield "InstanceNorm2d-NCHW", lambda: _train(
        torch.nn.InstanceNorm2d(4, affine=True, dtype=F64), (2, 4, 3, 3), steps=0), \
        InstanceNormScaler.from_torch, (6, 4, 5, 3)
    yield "GroupNorm-NCL", lambda: _train(torch.nn.GroupNorm(2, 4, dtype=F64), (2, 4, 3), 0), \
        GroupNormScaler.from_torch, (6, 4, 7)
    yield "GroupNorm-NCHW", lambda: _train(torch.nn.GroupNorm(2, 4, dtype=F64), (2, 4, 3), 0), \
        GroupNormScaler.from_torch, (6, 4, 5, 3)
    yield "LayerNorm-NTE", lambda: _train(torch.nn.LayerNorm(8, dtype=F64), (2, 8), 0), \
        LayerNormScaler.from_torch, (6, 5, 8)
    yield "LayerNorm-NCL", lambda: _train(torch.nn.LayerNorm((4, 7), dtype=F64), (2, 4, 7), 0), \
        LayerNormScaler.from_torch, (6, 4, 7)
    yield "LayerNorm-NCHW", lambda: _train(
        torch.nn.LayerNorm((4, 5, 3), dtype=F64), (2, 4, 5, 3), 0), \
        LayerNormScaler.from_torch, (6, 4, 5, 3)
    yield "RMSNorm-NTE", lambda: _train(torch.nn.RMSNorm(8, dtype=F64), (2, 8), 0), \
        RMSNormScaler.from_torch, (6, 5, 8)
    yield "RMSNorm-NCL", lambda: _train(torch.nn.RMSNorm((4, 7), dtype=F64), (2, 4, 7), 0), \
        RMSNormScaler.from_torch, (6, 4, 7)
    yield "RMSNorm-NCHW", lambda: _train(torch.nn.RMSNorm((4, 5, 3), eps=1e-6, dtype=F64),
                                         (2, 4, 5, 3), 0), RMSNormScaler.from_torch, (6, 4, 5, 3)


LAYOUTS = {name: rest for name, *rest in _layouts()}


def _divisor(layer, X):
    """The smallest divisor the layer's map uses on ``X`` (for kappa)."""
    if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
        return float(np.sqrt(layer.running_var.numpy() + layer.eps).min())
    flat = X.reshape(len(X), -1)
    if isinstance(layer, torch.nn.RMSNorm):
        return float(np.sqrt((X ** 2).reshape(-1, int(np.prod(layer.normalized_shape))).mean(1)
                             + np.finfo(np.float32).eps).min())
    return float(np.sqrt(flat.reshape(len(X), 4 if X.ndim > 2 else 1, -1).var(-1).min()
                         + layer.eps))


@pytest.mark.parametrize("kind", ["numpy", "tensor", "tensor-dispatch"])
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_images_sequences_and_tokens_equal_the_torch_layer(name, kind):
    make, from_torch, shape = LAYOUTS[name]
    layer = make()
    scaler = from_torch(layer)
    X = np.random.default_rng(4).normal(size=shape) * 3 + 2
    X[0, 1] = 50.0  # a sample of another scale
    for dtype, layer_dtype in ((np.float64, F64), (np.float32, torch.float32)):
        x = X.astype(dtype)
        with torch.no_grad():
            want = layer.to(layer_dtype)(torch.from_numpy(x)).numpy().astype(np.float64)
        given = x if kind == "numpy" else torch.from_numpy(x.copy())
        with sklearn.config_context(array_api_dispatch=kind == "tensor-dispatch"):
            got = scaler.transform(given)
        if kind == "tensor-dispatch":
            assert isinstance(got, torch.Tensor) and got.dtype == given.dtype
            got = got.numpy()
        assert isinstance(got, np.ndarray) and got.shape == shape and got.dtype == dtype
        if dtype == np.float64:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        else:
            weight = layer.weight.detach().double().numpy() if layer.weight is not None else 1.0
            bias = getattr(layer, "bias", None)
            bias = bias.detach().double().numpy() if bias is not None else 0.0
            bound = _f32_bound(X, want, weight, bias, _divisor(layer, X))
            assert (np.abs(got - want) <= bound).all(), np.max(np.abs(got - want) / bound)
        layer.to(F64)


def test_n_d_inverse_and_sample_stats_keep_the_rows():
    X = np.random.default_rng(5).normal(size=(3, 4, 5, 2))
    for scaler in (GroupNormScaler(2), InstanceNormScaler(), LayerNormScaler(),
                   RMSNormScaler((5, 2))):
        stats = scaler.sample_stats(X)
        back = scaler.inverse_transform(scaler.transform(X), sample_stats=stats)
        assert back.shape == X.shape
        np.testing.assert_allclose(back, X, rtol=1e-12, atol=1e-12)
    bn = BatchNormScaler(batch_size=2).fit(X)
    assert bn.running_mean_.shape == (4,)
    np.testing.assert_allclose(bn.inverse_transform(bn.transform(X)), X, rtol=1e-12, atol=1e-12)


def test_batch_norm_of_tokens_per_embedding_dimension():
    rng = np.random.default_rng(9)
    tokens = rng.normal(size=(12, 5, 6)) * 2 + 1                     # (N, T, E)
    layer = torch.nn.BatchNorm1d(6, momentum=0.1, dtype=F64)           # over (N, E, T)
    with torch.no_grad():
        for start in range(0, 12, 4):
            layer(torch.from_numpy(tokens[start:start + 4]).transpose(1, 2))
    scaler = BatchNormScaler(momentum=0.1, batch_size=4, channel_axis=-1).fit(tokens)
    np.testing.assert_allclose(scaler.running_var_, layer.running_var.numpy(), rtol=1e-12)
    want = _out(layer.eval(), tokens.transpose(0, 2, 1).copy()).transpose(0, 2, 1)
    np.testing.assert_allclose(scaler.transform(tokens), want, rtol=1e-12, atol=1e-12)


def test_channels_last_and_batch_size_in_samples():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(10, 4, 3, 5)) * 2 + 1                # (N, C, H, W)
    last = np.ascontiguousarray(np.moveaxis(X, 1, -1))       # (N, H, W, C)
    layer = torch.nn.BatchNorm2d(4, momentum=None, dtype=F64)
    with torch.no_grad():
        for start in range(0, 10, 4):  # torch's steps on 4 images at a time
            layer(torch.from_numpy(X[start:start + 4]))
    for data, axis in ((X, 1), (last, -1)):
        scaler = BatchNormScaler(batch_size=4, channel_axis=axis).fit(data)
        np.testing.assert_allclose(scaler.running_mean_, layer.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(scaler.running_var_, layer.running_var.numpy(), rtol=1e-12)
    gn = torch.nn.GroupNorm(2, 4, dtype=F64)
    got = GroupNormScaler(2, channel_axis=-1).transform(last)
    np.testing.assert_allclose(np.moveaxis(got, -1, 1), _out(gn, X), rtol=1e-12, atol=1e-12)


def test_a_per_sample_fit_refuses_other_channels():
    scaler = InstanceNormScaler().fit(np.ones((2, 3, 4)))
    assert scaler.n_channels_ == 3
    with pytest.raises(ValueError, match="fitted on 3 channels; X has 4"):
        scaler.transform(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="channel_axis=0 is not a channel axis"):
        GroupNormScaler(channel_axis=0).transform(np.ones((2, 3, 4)))


@pytest.mark.parametrize("X", [np.ones((2, 3, 4)), torch.ones(2, 3, 4, dtype=F64)])
def test_other_methods_refuse_n_d_input_with_a_reshape_that_works(X):
    with pytest.raises(ValueError, match=r"takes 2-D input .*shape \(2, 3, 4\).*swapaxes"):
        ZScoreScaler().fit(X)
    # the recipe of the message, on numpy arrays and tensors alike
    rows = X.swapaxes(1, -1).reshape(-1, X.shape[1])
    Y = ZScoreScaler().fit_transform(np.asarray(rows))
    Y = (torch.from_numpy(Y) if isinstance(X, torch.Tensor) else Y)
    back = Y.reshape(X.swapaxes(1, -1).shape).swapaxes(1, -1)
    assert tuple(back.shape) == (2, 3, 4)


# ---------------------------------------------- parameters given as tensors

def test_parameters_given_as_tensors():
    X = np.random.default_rng(7).normal(size=(5, 4))
    want = LayerNormScaler(scale=np.arange(1.0, 5.0), shift=0.5).fit(X).transform(X)
    weight = torch.nn.Parameter(torch.arange(1.0, 5.0, dtype=F64))  # (requires grad)
    got = LayerNormScaler(scale=weight, shift=torch.tensor(0.5)).fit(X).transform(X)
    np.testing.assert_array_equal(got, want)
    with sklearn.config_context(array_api_dispatch=True):
        got = LayerNormScaler(scale=weight).fit(X).transform(X)
        bn = BatchNormScaler(scale=torch.ones(4, dtype=F64)).fit(X)
        bn.transform(X)  # a numpy fit, numpy data: not "fitted on torch arrays"


def test_a_tensor_that_requires_grad_warns_once_per_call():
    X = torch.from_numpy(np.random.default_rng(8).normal(size=(6, 4))).requires_grad_()
    for dispatch in (False, True):
        with sklearn.config_context(array_api_dispatch=dispatch):
            with pytest.warns(UserWarning, match="requires grad detached") as caught:
                Y = LayerNormScaler().transform(X)
            assert len(caught) == 1 and caught[0].filename == __file__
            assert not getattr(Y, "requires_grad", False)
