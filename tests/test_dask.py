"""Dask input: every estimator against its own in-memory fit, on a real
two-process cluster.

The oracle is the same estimator fitted and applied in memory: fitted
attributes agree to 1e-12 relative (NaN where NaN), outputs to 1e-12 of
their magnitude, and outputs stay lazy, with the input's chunks.
"""

import subprocess
import sys

import dask  # the test extra installs dask and distributed
import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from skscale import (SCALERS, BatchNormScaler, MinMaxScaler, Scaler, UnitNormScaler,
                     ZScoreScaler)

#: Parameters that make every method take 6 features.
# (robust: the in-memory fit keeps the sketches that a Dask fit is made of)
PARAMS = {"group_norm": {"num_groups": 2}, "instance_norm": {"n_channels": 3},
          "batch_norm": {"batch_size": 64}, "robust": {"keep_sketch": True},
          # (a Dask fit is sketched: the in-memory one keeps its sketches too)
          "quantile": {"keep_sketch": True}, "squashing": {"keep_sketch": True}}
#: The power transform's lambda is the root of the likelihood's slope, found
#: to its rounding noise, which the order of the sums (blocks, or pieces of a
#: column) moves: a Dask fit agrees with the in-memory one to this.
RTOL = {"power": 1e-8}
#: Every method, and Scaler (which delegates) over a column, a streaming and a per-sample one.
CASES = [(name, False) for name in SCALERS] + [
    (name, True) for name in ("minmax", "batch_norm", "group_norm")]
ROW_CHUNKS = (100, 150, 97, 253)  # no block boundary on a batch boundary of 64
NAMES = ["a", "b", "c", "d", "e", "f"]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.run(lambda: __import__("skscale"))  # the workers' imports, once
        yield c


def make(name, wrapped):
    """The estimator of method ``name``, itself or inside :class:`Scaler`."""
    params = PARAMS.get(name, {})
    return Scaler(name, params) if wrapped else SCALERS[name](**params)


def data(name, n=600):
    """Positive data (log scaling's domain) with a far-off column, a constant
    one, one with a single NaN and one mostly NaN (all NaN but for batch
    norm, which refuses a batch without two values)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(1, 10, n), 1e3 + rng.normal(size=n), np.full(n, 3.0),
                         rng.uniform(0, 5, n), rng.uniform(0, 1, n), rng.normal(50, 5, n)])
    X[7, 3] = np.nan
    X[:, 4] = np.nan
    if name == "batch_norm":
        X[::2, 4] = rng.uniform(0, 1, X[::2].shape[0])
    return X


def fitted(est):
    """The fitted attributes of ``est`` (of the method's estimator in a Scaler)."""
    est = getattr(est, "scaler_", est)
    out = {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}
    stats = out.pop("stats_", None)
    sketches = out.pop("sketches_", None)
    if sketches is not None:  # (the quantiles they give are compared as quantiles_)
        out.update({"sketches_.count": sketches.count, "sketches_.n_rows": sketches.n_rows})
    if stats is not None:
        out.update({f"stats_.{f}": getattr(stats, f)
                    for f in ("count", "mean", "m2", "min", "max", "n_rows")})
    return out


def assert_same_fit(got, want, rtol=1e-12):
    a, b = fitted(got), fitted(want)
    assert a.keys() == b.keys()
    for key, value in b.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            np.testing.assert_allclose(a[key], value, rtol=rtol, atol=0, err_msg=key)
        else:
            np.testing.assert_array_equal(a[key], value, err_msg=key)


def assert_close(got, want, rtol=1e-12):
    """Equal to ``rtol`` of the magnitude of ``want``, NaN where it is NaN."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    scale = np.nanmax(np.abs(want)) if np.isfinite(want).any() else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(scale, 1.0))


def per_sample(est):
    return hasattr(est, "sample_stats")


@pytest.mark.parametrize("name, wrapped", CASES,
                         ids=[f"{'Scaler-' if w else ''}{n}" for n, w in CASES])
def test_array_fit_and_transforms_match_in_memory(client, name, wrapped):
    X = data(name)
    dX = da.from_array(X, chunks=(ROW_CHUNKS, (4, 2)))  # columns rechunked whole inside
    est, ref = make(name, wrapped).fit(dX), make(name, wrapped).fit(X)
    rtol = RTOL.get(name, 1e-12)
    assert_same_fit(est, ref, rtol)
    lazy, want = {"Y": est.transform(dX)}, {"Y": ref.transform(X)}
    assert_close(est.transform(X), want["Y"], rtol)  # fitted on dask, applied in memory
    if per_sample(est):  # also with the statistics in memory
        stats, want_stats = est.sample_stats(dX), ref.sample_stats(X)
        lazy["stats"] = stats if isinstance(stats, tuple) else (stats,)
        want["stats"] = want_stats if isinstance(want_stats, tuple) else (want_stats,)
        lazy["back"] = est.inverse_transform(lazy["Y"], sample_stats=stats)
        lazy["back_numpy"] = est.inverse_transform(lazy["Y"], sample_stats=want_stats)
        want["back"] = want["back_numpy"] = ref.inverse_transform(want["Y"],
                                                                  sample_stats=want_stats)
        assert all(s.chunks[0] == ROW_CHUNKS for s in lazy["stats"])
    else:
        lazy["back"], want["back"] = est.inverse_transform(lazy["Y"]), ref.inverse_transform(
            want["Y"])
    for key in ("Y", "back"):
        assert isinstance(lazy[key], da.Array) and lazy[key].chunks == dX.chunks
    (got,) = dask.compute(lazy)
    for key, value in want.items():
        for g, w in zip(*((v if isinstance(v, tuple) else (v,)) for v in (got[key], value))):
            assert_close(g, w, rtol)


@pytest.mark.parametrize("name", SCALERS)
def test_dataframe_keeps_names_index_and_partitions(client, name):
    frame = pd.DataFrame(data(name), columns=NAMES, index=np.arange(600) * 2)
    dframe = dd.from_pandas(frame, npartitions=4)
    est, ref = make(name, False).fit(dframe), make(name, False).fit(frame)
    rtol = RTOL.get(name, 1e-12)
    assert_same_fit(est, ref, rtol)
    assert list(est.feature_names_in_) == NAMES
    Y = est.transform(dframe)
    if per_sample(est):
        stats = est.sample_stats(dframe)
        parts = stats if isinstance(stats, tuple) else (stats,)
        assert all(isinstance(s, (dd.DataFrame, dd.Series)) for s in parts)
        back = est.inverse_transform(Y, sample_stats=stats)
    else:
        back = est.inverse_transform(Y)
    for lazy in (Y, back):
        assert isinstance(lazy, dd.DataFrame) and list(lazy.columns) == NAMES
        assert lazy.npartitions == dframe.npartitions and lazy.divisions == dframe.divisions
    got, got_back = dask.compute(Y, back)
    pd.testing.assert_index_equal(got.index, frame.index)
    assert_close(got.to_numpy(), ref.transform(frame), rtol)
    assert_close(got_back.to_numpy(), frame.to_numpy())


# (batch norm folds batches with a momentum; the power transform's stream
# interpolates lambda on its grid, within the tolerance tests/test_power.py states)
@pytest.mark.parametrize("name", [n for n in SCALERS if hasattr(SCALERS[n], "partial_fit")
                                  and n not in ("batch_norm", "power")])
def test_partial_fit_over_dask_batches_is_fit_on_all_rows(client, name):
    X = data(name)
    est = make(name, False)
    for part in (X[:250], X[250:]):
        est.partial_fit(da.from_array(part, chunks=70))
    assert_same_fit(est, make(name, False).fit(X))


def test_zscore_sample_weight_in_memory_or_dask(client):
    X = data("zscore")
    w = np.random.default_rng(1).uniform(0, 3, X.shape[0])
    dX = da.from_array(X, chunks=(ROW_CHUNKS, 6))
    ref = ZScoreScaler().fit(X, sample_weight=w)
    assert_same_fit(ZScoreScaler().fit(dX, sample_weight=w), ref)
    assert_same_fit(ZScoreScaler().fit(dX, sample_weight=da.from_array(w, chunks=111)), ref)


@pytest.mark.parametrize("n, batch_size, chunks, momentum", [
    (1000, 64, 170, None), (1000, 64, 64, 0.1), (513, 256, 100, 0.1), (514, 256, 257, None),
    (3, 2, 1, None), (1000, 300, 1000, 0.1)])
def test_batch_norm_running_statistics_across_blocks(client, n, batch_size, chunks, momentum):
    X = np.random.default_rng(2).normal(3, 2, size=(n, 3))
    X[1, 0] = np.nan
    make_bn = lambda: BatchNormScaler(batch_size=batch_size, momentum=momentum)  # noqa: E731
    est, ref = make_bn().fit(da.from_array(X, chunks=(chunks, 3))), make_bn().fit(X)
    assert est.num_batches_tracked_ == ref.num_batches_tracked_
    assert est.n_samples_seen_ == n
    np.testing.assert_allclose(est.running_mean_, ref.running_mean_, rtol=1e-12)
    np.testing.assert_allclose(est.running_var_, ref.running_var_, rtol=1e-12)


def test_batch_norm_partial_fit_and_normalize_batch(client):
    X = data("batch_norm")
    dX = da.from_array(X, chunks=(ROW_CHUNKS, 6))
    est, ref = BatchNormScaler(momentum=0.1), BatchNormScaler(momentum=0.1)
    for a, b in ((X[:300], dX[:300]), (X[300:], dX[300:])):
        ref.partial_fit(a)
        est.partial_fit(b)
    assert_same_fit(est, ref)
    Y = est.normalize_batch(dX)
    assert isinstance(Y, da.Array) and Y.chunks == dX.chunks
    assert_close(Y.compute(), ref.normalize_batch(X))
    Y = est.normalize_batch(dX, update=True)  # one more training step, and its output
    assert isinstance(Y, da.Array)
    assert_close(Y.compute(), ref.normalize_batch(X, update=True))
    assert_same_fit(est, ref)


def test_far_from_zero_the_merge_agrees_to_rounding(client):
    # Each block's mean is rounded to ulps of 1e8, which the merge's spread
    # term multiplies by the deviations of the means: the variance agrees to
    # 1e-12 of the squared magnitude (as partial_fit does), not of itself.
    X = 1e8 + np.random.default_rng(3).normal(size=(600, 2))
    est, ref = ZScoreScaler().fit(da.from_array(X, chunks=(ROW_CHUNKS, 2))), ZScoreScaler().fit(X)
    np.testing.assert_allclose(est.mean_, ref.mean_, rtol=1e-15)
    np.testing.assert_allclose(est.var_ / 1e16, ref.var_ / 1e16, rtol=0, atol=1e-12)


def test_one_nan_does_not_make_a_column_nan(client):
    X = data("minmax")
    est = MinMaxScaler().fit(da.from_array(X, chunks=(ROW_CHUNKS, 6)))
    assert np.isfinite(est.data_min_[3]) and np.isfinite(est.scale_[3])
    assert np.isnan(est.transform(da.from_array(X, chunks=100))[7, 3].compute())


def test_pipeline_and_stateless_transform(client):
    X = data("zscore")
    dX = da.from_array(X, chunks=(ROW_CHUNKS, 6))

    def pipe():
        return Pipeline([("scale", ZScoreScaler()), ("norm", UnitNormScaler())])
    Y = pipe().fit_transform(dX)
    unfitted = UnitNormScaler()  # per-sample: no fit needed, and nothing stored
    Z = unfitted.transform(dX)
    assert not hasattr(unfitted, "n_features_in_")
    assert isinstance(Y, da.Array) and Y.chunks == dX.chunks
    got, got_z = dask.compute(Y, Z)
    assert_close(got, pipe().fit_transform(X))
    assert_close(got_z, UnitNormScaler().transform(X))


def test_empty_blocks_and_float32(client):
    X = data("batch_norm").astype(np.float32)
    dX = da.from_array(X, chunks=((100, 0, 500), 6))
    names = ("zscore", "batch_norm", "layer_norm")
    fits = [(make(name, False).fit(dX), make(name, False).fit(X)) for name in names]
    for est, ref in fits:
        assert_same_fit(est, ref)
    lazy = [est.transform(dX) for est, _ in fits]
    assert all(Y.dtype == np.float32 and Y.chunks == dX.chunks for Y in lazy)
    for got, (_, ref) in zip(dask.compute(*lazy), fits):
        assert_close(got, ref.transform(X))


def test_errors_name_the_column_and_the_block(client):
    X = data("zscore")
    X[420, 2] = np.inf
    dX = da.from_array(X, chunks=(ROW_CHUNKS, 6))
    with pytest.raises(ValueError, match=r"dask block 3 \(rows 347\.\.599\).*column 2 at row 73"):
        ZScoreScaler().fit(dX)
    est = ZScoreScaler().fit(dX[:400])
    with pytest.raises(ValueError, match="infinity"):  # lazy: raised at compute
        est.transform(dX).compute()
    with pytest.raises(ValueError, match="features"):  # metadata: raised at once
        est.transform(dX[:, :4])
    with pytest.raises(ValueError, match="2-D"):
        ZScoreScaler().fit(dX[:, 0])
    frame = dd.from_pandas(pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]}), npartitions=1)
    with pytest.raises(ValueError, match="'s'.*not numeric"):
        MinMaxScaler().fit(frame)


def test_dask_is_imported_only_for_dask_input():
    code = ("import sys, numpy as np, skscale\n"
            "for cls in skscale.SCALERS.values():\n"
            "    cls().fit_transform(np.ones((4, 4)) + np.eye(4))\n"
            "assert 'dask' not in sys.modules, 'dask was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_set_output_leaves_dask_results_lazy():
    # scikit-learn's set_output would collect a Dask result into a pandas
    # frame in memory: the lazy collection comes back instead, its blocks
    # scaled as in memory.
    X = np.random.default_rng(5).normal(size=(400, 3)) * [1, 10, 100]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    want = ZScoreScaler().fit(X).transform(X)
    for data in (da.from_array(X, chunks=(100, 3)), dd.from_pandas(frame, npartitions=4)):
        est = ZScoreScaler().set_output(transform="pandas").fit(data)
        for out in (est.transform(data), est.fit_transform(data)):
            assert dask.is_dask_collection(out)
            np.testing.assert_allclose(np.asarray(out.compute()), want, rtol=1e-12, atol=1e-12)
