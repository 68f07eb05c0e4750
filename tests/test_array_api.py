"""Array API inputs under scikit-learn's array_api_dispatch: torch tensors and
array_api_strict arrays (a float32-only device among them) give the numpy
path's results, in the input's namespace, on its device, in its dtype.

``SKSCALE_TEST_DEVICE=cuda`` (what ``make gpu-check`` sets) adds torch on
that device, and CuPy where it is installed; without it, the accelerator
cases are not generated."""

import importlib.util
import os

import array_api_strict
import array_api_compat
import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone

from skscale import SCALERS, BatchNormScaler, LogScaler, Scaler, ZScoreScaler
from skscale import MinMaxScaler, UnitNormScaler
from skscale._array_api import to_numpy
from skscale._rows import RowScaler


def _cases():
    """``(id, make)`` pairs: ``make(numpy array)`` gives the array of a namespace."""
    yield "torch-cpu", lambda a: torch.from_numpy(np.ascontiguousarray(a))
    # CPU_DEVICE; device1, a float64 device that refuses np.asarray, as a GPU's
    # memory would; no_float64, a float32-only device
    for device in ("CPU_DEVICE", "device1", "no_float64"):
        yield f"strict-{device}", lambda a, d=device: array_api_strict.asarray(
            a, device=array_api_strict.Device(d))
    wanted = os.environ.get("SKSCALE_TEST_DEVICE")
    if wanted:  # an accelerator: its absence then fails the cases, loudly
        yield f"torch-{wanted}", lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(wanted)
        if importlib.util.find_spec("cupy") is not None:
            import cupy

            yield "cupy", lambda a: cupy.asarray(a)


CASES = dict(_cases())


def _float32_only(case):
    return case == "strict-no_float64"


def _estimator(name):
    kw = {"batch_norm": {"batch_size": 50}, "group_norm": {"num_groups": 2, "n_channels": 4},
          "instance_norm": {"n_channels": 2}}.get(name, {})
    return SCALERS[name](**kw)


def _data(dtype, n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = np.abs(rng.standard_normal((n, 8))) * [1, 10, 100, 1e3, 1e-3, 5, 50, 0.5] + 0.1
    X[:, 5] = 7.0  # a constant feature
    X[rng.random(X.shape) < 0.03] = np.nan
    return X.astype(dtype)


def _namespace_and_device(a):
    from array_api_compat import array_namespace, device

    return array_namespace(a).__name__, str(device(a))


def _same_place(got, like):
    assert _namespace_and_device(got) == _namespace_and_device(like)
    assert str(got.dtype) == str(like.dtype)


def _close(got, want, dtype):
    """Equal to rounding, relative to the largest value of the same column or
    row: a per-sample scaler computes with its row's statistics, and on a
    float32-only device rounds them in float32."""
    got = to_numpy(got).astype(np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    size = np.nan_to_num(np.abs(want.astype(np.float64)))  # (a row of NaN counts as 0)
    size = np.fmax(np.fmax(size.max(axis=0)[None, :], size.max(axis=1)[:, None]), 1)
    tol = (1e-12 if dtype == np.float64 else 2e-6) * size
    err = np.nan_to_num(np.abs(got - want))
    assert (err <= tol).all(), f"off by {np.max(err / tol):.3g} tolerances"


@pytest.fixture(autouse=True)
def _dispatch():
    with sklearn.config_context(array_api_dispatch=True):
        yield


# (a float32-only device holds no float64 data)
_CASE_DTYPES = [(c, d) for c in CASES for d in (np.float64, np.float32)
                if not (_float32_only(c) and d == np.float64)]


@pytest.mark.parametrize("case,dtype", _CASE_DTYPES)
@pytest.mark.parametrize("name", list(SCALERS) + ["Scaler"])
def test_same_results_namespace_device_and_dtype(name, case, dtype):
    X = _data(dtype)
    Xd = CASES[case](X)
    est = _estimator("zscore") if name == "Scaler" else _estimator(name)
    est = Scaler("zscore") if name == "Scaler" else est
    with sklearn.config_context(array_api_dispatch=False):
        ref = clone(est).fit(X)
        want = ref.transform(X)
    fitted = clone(est).fit(Xd)
    got = fitted.transform(Xd)
    _same_place(got, Xd)
    _close(got, want, dtype)
    # fitted arrays live where the data does, and hold the numpy fit's values
    inner = fitted.scaler_ if name == "Scaler" else fitted
    for key, value in vars(inner).items():
        if not key.endswith("_") or key.startswith("_") or key == "stats_":
            continue
        if value is None or isinstance(value, (int, float, np.generic)) \
                or not array_api_compat.is_array_api_obj(value):  # (a sketch)
            continue
        assert _namespace_and_device(value) == _namespace_and_device(Xd), key
        reference = getattr(ref.scaler_ if name == "Scaler" else ref, key)
        np.testing.assert_allclose(to_numpy(value), reference,
                                   rtol=1e-12 if not _float32_only(case) else 1e-6)
    if isinstance(inner, RowScaler):
        stats = fitted.sample_stats(Xd)
        back = fitted.inverse_transform(got, sample_stats=stats)
    else:
        back = fitted.inverse_transform(got)
    _same_place(back, Xd)
    with sklearn.config_context(array_api_dispatch=False):
        ref_back = (ref.inverse_transform(want, sample_stats=ref.sample_stats(X))
                    if isinstance(inner, RowScaler) else ref.inverse_transform(want))
    _close(back, ref_back, dtype)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", ["minmax", "zscore", "decimal", "log", "batch_norm"])
def test_partial_fit_on_the_device(name, case):
    dtype = np.float32 if _float32_only(case) else np.float64
    X = _data(dtype, n=400)
    if name == "batch_norm" and _float32_only(case):
        # Running statistics held in float32 between steps: a constant
        # feature's output, (x - running_mean) / sqrt(eps), multiplies their
        # rounding by 1 / sqrt(eps) = 316 (documented); a varying one here.
        X[:, 5] = X[:, 0]
    est = _estimator(name)
    for part in np.array_split(X, 4):
        est.partial_fit(CASES[case](part))
    with sklearn.config_context(array_api_dispatch=False):
        ref = _estimator(name)
        for part in np.array_split(X, 4):
            ref.partial_fit(part)
    got = est.transform(CASES[case](X))
    with sklearn.config_context(array_api_dispatch=False):
        _close(got, ref.transform(X), dtype)


def test_float32_only_device_statistics_are_accurate():
    # Blocks of FLOAT32_BLOCK rows reduced in float32, merged in float64:
    # the mean and standard deviation of 10**5 values at mean 1e4 and unit
    # spread, against the float64 ones.
    rng = np.random.default_rng(1)
    X = (1e4 + rng.standard_normal((100_000, 3))).astype(np.float32)
    est = ZScoreScaler().fit(CASES["strict-no_float64"](X))
    exact = X.astype(np.float64)
    mean_err = np.abs(to_numpy(est.mean_) - exact.mean(axis=0)) / exact.std(axis=0)
    std_err = np.abs(to_numpy(est.scale_) / exact.std(axis=0) - 1)
    # the mean is within its own float32 rounding (half an ulp of 1e4 is 4.9e-4)
    assert mean_err.max() < 5e-4 and std_err.max() < 1e-5, (mean_err, std_err)


@pytest.mark.parametrize("case", list(CASES))
def test_infinity_is_refused_naming_its_place(case):
    X = _data(np.float32 if _float32_only(case) else np.float64)
    X[7, 2] = np.inf
    with pytest.raises(ValueError, match="column 2"):
        ZScoreScaler().fit(CASES[case](X))
    fitted = ZScoreScaler().fit(CASES[case](_data(X.dtype)))
    with pytest.raises(ValueError, match="row 7"):
        fitted.transform(CASES[case](X))


def test_a_log_domain_error_is_the_numpy_one():
    est = LogScaler().fit(CASES["torch-cpu"](np.array([[1.0], [2.0]])))
    with pytest.raises(ValueError, match="x \\+ offset"):
        est.transform(CASES["torch-cpu"](np.array([[-3.0]])))


def test_another_namespace_at_transform_is_refused():
    est = ZScoreScaler().fit(CASES["torch-cpu"](_data(np.float64)))
    with pytest.raises(ValueError, match="must use the same namespace"):
        est.transform(_data(np.float64))
    rows = UnitNormScaler().fit(CASES["strict-device1"](_data(np.float64)))
    for method in (rows.transform, rows.sample_stats):
        with pytest.raises(ValueError, match=f"{method.__name__}\\(\\) must use the same"):
            method(CASES["torch-cpu"](_data(np.float64)))
    bn = BatchNormScaler(batch_size=50).fit(CASES["torch-cpu"](_data(np.float64)))
    with pytest.raises(ValueError, match="normalize_batch\\(\\) must use the same"):
        bn.normalize_batch(_data(np.float64))


def test_without_dispatch_nothing_changes():
    X = _data(np.float64)
    with sklearn.config_context(array_api_dispatch=False):
        out = ZScoreScaler().fit(torch.from_numpy(X)).transform(torch.from_numpy(X))
        want = ZScoreScaler().fit(X).transform(X)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, want)


def test_a_numpy_fit_is_not_moved_by_a_tensor():
    X = _data(np.float64)
    est = ZScoreScaler().fit(X)
    mean = est.mean_
    with pytest.raises(ValueError, match="must use the same namespace"):
        est.transform(CASES["torch-cpu"](X))
    assert est.mean_ is mean
    np.testing.assert_array_equal(est.transform(X), ZScoreScaler().fit(X).transform(X))


def test_a_failed_partial_fit_changes_nothing():
    X = _data(np.float64)
    est = ZScoreScaler().fit(CASES["strict-device1"](X))
    mean, seen = est.mean_, est.n_samples_seen_
    bad = X.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.partial_fit(CASES["strict-device1"](bad))
    with pytest.raises(ValueError, match="must use the same namespace"):
        est.partial_fit(CASES["torch-cpu"](X))
    assert est.mean_ is mean and est.n_samples_seen_ is seen


def test_parameters_stay_as_given():
    scale = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    est = BatchNormScaler(scale=scale, batch_size=50).fit(CASES["strict-device1"](_data(np.float64)))
    assert est.scale is scale
    est.normalize_batch(CASES["strict-device1"](_data(np.float64)))  # reads it on the host


@pytest.mark.parametrize("case", ["torch-cpu", "strict-device1"])
def test_weighted_fit_on_the_device(case):
    X = _data(np.float64)
    w = np.random.default_rng(3).uniform(0, 2, size=X.shape[0])
    est = ZScoreScaler().fit(CASES[case](X), sample_weight=CASES[case](w))
    with sklearn.config_context(array_api_dispatch=False):
        ref = ZScoreScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(to_numpy(est.mean_), ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(est.scale_), ref.scale_, rtol=1e-12)


@pytest.mark.parametrize("case", ["torch-cpu", "strict-device1"])
def test_clipping_on_the_device(case):
    X = _data(np.float64)
    est = MinMaxScaler(clip=True).fit(CASES[case](X))
    Xn = X * 3 - 5
    got = est.transform(CASES[case](Xn))
    with sklearn.config_context(array_api_dispatch=False):
        want = MinMaxScaler(clip=True).fit(X).transform(Xn)
    _close(got, want, np.float64)


@pytest.mark.parametrize("case", ["torch-cpu", "strict-device1"])
def test_rows_of_nan_and_of_extreme_values(case):
    X = _data(np.float64)
    X[4] = np.nan  # a row with nothing: NaN statistics, as the numpy path's
    X[5] *= 1e200  # squares beyond float64: rescaled on the host
    X[6] *= 1e-200
    for est in (UnitNormScaler("max"), UnitNormScaler("l2"), _estimator("group_norm")):
        got, stats = est.transform(CASES[case](X)), est.sample_stats(CASES[case](X))
        with sklearn.config_context(array_api_dispatch=False):
            want, want_stats = est.transform(X), est.sample_stats(X)
        _close(got, want, np.float64)
        for a, b in zip(stats if isinstance(stats, tuple) else (stats,),
                        want_stats if isinstance(want_stats, tuple) else (want_stats,)):
            _close(a if a.ndim == 2 else a[:, None], b if b.ndim == 2 else b[:, None], np.float64)


def test_tensors_that_require_grad_are_left_alone():
    X = torch.from_numpy(_data(np.float64)).requires_grad_()
    before = X.detach().clone()
    with pytest.warns(UserWarning, match="requires grad detached"):
        est = ZScoreScaler(copy=False).fit(X)
    with pytest.warns(UserWarning, match="requires grad detached"):
        Y = est.transform(X)
    assert not Y.requires_grad
    # not scaled in place behind autograd's back
    torch.testing.assert_close(X.detach(), before, rtol=0, atol=0, equal_nan=True)


def test_float16_and_bfloat16_tensors():
    X = _data(np.float64)
    half = torch.from_numpy(X).to(torch.float16)
    assert ZScoreScaler().fit(half).transform(half).dtype == torch.float16
    # a dtype numpy lacks: the device kernels, and float64 out (as for integers)
    brain = torch.from_numpy(X).to(torch.bfloat16)
    out = ZScoreScaler().fit(brain).transform(brain)
    assert out.dtype == torch.float64
    with sklearn.config_context(array_api_dispatch=False):
        exact = brain.double().numpy()
        _close(out, ZScoreScaler().fit(exact).transform(exact), np.float64)


def test_dask_input_keeps_its_own_path():
    import dask.array as da

    X = _data(np.float64)
    est = ZScoreScaler().fit(da.from_array(X, chunks=(100, 8)))
    assert isinstance(est.mean_, np.ndarray)
    out = est.transform(da.from_array(X, chunks=(100, 8)))
    with sklearn.config_context(array_api_dispatch=False):
        _close(out.compute(), ZScoreScaler().fit(X).transform(X), np.float64)


def test_to_torch_after_a_fit_on_the_device():
    est = BatchNormScaler(momentum=0.1, batch_size=50).fit(CASES["strict-device1"](_data(np.float64)))
    mean = est.running_mean_
    layer = est.to_torch(torch.nn.BatchNorm1d(8, dtype=torch.float64))
    np.testing.assert_allclose(layer.running_mean.numpy(), to_numpy(mean), rtol=1e-15)
    assert est.running_mean_ is mean


def test_batch_norm_training_step_on_the_device():
    X = _data(np.float64, n=64)
    est = BatchNormScaler(momentum=0.1)
    Y = est.normalize_batch(CASES["torch-cpu"](X), update=True)
    with sklearn.config_context(array_api_dispatch=False):
        ref = BatchNormScaler(momentum=0.1)
        want = ref.normalize_batch(X, update=True)
    _same_place(Y, CASES["torch-cpu"](X))
    _close(Y, want, np.float64)
    np.testing.assert_allclose(to_numpy(est.running_var_), ref.running_var_, rtol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if not _float32_only(c)])
@pytest.mark.parametrize("params", [{"offset": 1e-16}, {"offset": 0.3},
                                    {"offset": "auto", "out_of_domain": "nan"},
                                    {"offset": 1.0, "out_of_domain": "clip"}])
def test_log_offsets_and_domain_policies_on_the_device(case, params):
    train = _data(np.float64)
    test = _data(np.float64, seed=1) - 0.6  # some values below the training range
    if params.get("out_of_domain") is None:
        test = np.abs(test)
    est = LogScaler(**params).fit(CASES[case](train))
    with sklearn.config_context(array_api_dispatch=False):
        ref = LogScaler(**params).fit(train)
        want = ref.transform(test)
    got = est.transform(CASES[case](test))
    _same_place(got, CASES[case](test))
    _close(got, want, np.float64)
    if params.get("out_of_domain") is None:  # (the other two cannot be undone)
        back = est.inverse_transform(got)
        with sklearn.config_context(array_api_dispatch=False):
            _close(back, ref.inverse_transform(want), np.float64)


@pytest.mark.parametrize("case", [c for c in CASES if not _float32_only(c)])
@pytest.mark.parametrize("make", [
    lambda: SCALERS["squashing"](), lambda: SCALERS["quantile"](n_quantiles=60),
    lambda: SCALERS["power"](), lambda: SCALERS["power"](method="box-cox")],
    ids=["squashing", "quantile", "yeo-johnson", "box-cox"])
def test_nonlinear_maps_run_on_the_device(case, make, monkeypatch):
    # Their transforms and inverses computed by the device kernels, not a
    # host copy, and equal to the numpy path's to rounding; constant and
    # empty columns, ties and NaN included.
    from skscale import _device

    X = _data(np.float64)
    X[:, 2] = np.round(X[:, 2]) + 1  # ties (and positive, for Box-Cox)
    X[:, 4] = np.nan  # a column without values
    with sklearn.config_context(array_api_dispatch=False):
        ref = make().fit(X)
        want = ref.transform(X)
        want_back = ref.inverse_transform(want)
    est = make().fit(CASES[case](X))

    def no_host_copy(*args):
        raise AssertionError("the map went through a host copy")

    monkeypatch.setattr(_device, "_on_host", no_host_copy)
    got = est.transform(CASES[case](X))
    _same_place(got, CASES[case](X))
    _close(got, want, np.float64)
    back = est.inverse_transform(got)
    _close(back, want_back, np.float64)
