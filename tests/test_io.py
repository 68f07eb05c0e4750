"""skscale.io: skops files loaded trusting exactly skscale's types; version warnings."""

import importlib
import io
import json
import os
import pickle
import re
import sys
import warnings
import zipfile

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import skscale
from skscale._lambdas import LambdaStats
from skscale._quantiles import Sketches
from skscale import SCALERS, GroupNormScaler, LogScaler, Scaler, ZScoreScaler
from skscale.io import InconsistentVersionWarning, load


class Foreign(TransformerMixin, BaseEstimator):
    """A type neither skops nor skscale trusts."""

    def fit(self, X, y=None):
        self.seen_ = len(X)
        return self

    def transform(self, X):
        return X


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = np.abs(rng.normal(size=(90, 8))) * rng.uniform(0.5, 20, 8)
    y = (X[:, 1] > np.median(X[:, 1])).astype(int)
    return X[:60], y[:60], X[60:]


# The instances a test fits: each class in SCALERS, and Scaler over it.
_GROUP = {"num_groups": 2, "n_channels": 4}  # 8 features: 2 groups of 2 channels of 2


def _estimators():
    for name, cls in SCALERS.items():
        params = _GROUP if cls is GroupNormScaler else {}
        yield pytest.param(cls(**params), id=name)
        yield pytest.param(Scaler(name, dict(params) or None), id=f"Scaler-{name}")


@pytest.mark.parametrize("estimator", list(_estimators()))
def test_every_scaler_in_a_pipeline_loads_with_skscale_io(estimator, data, tmp_path):
    X, y, X_new = data
    pipe = Pipeline([("scale", estimator), ("clf", LogisticRegression(max_iter=2000))])
    pipe.fit(X, y)
    sio.dump(pipe, tmp_path / "pipe.skops")
    # skops alone refuses the file: its skscale types are not trusted by default
    with pytest.raises(TypeError, match="skscale"):
        sio.load(tmp_path / "pipe.skops")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no InconsistentVersionWarning
        loaded = load(tmp_path / "pipe.skops")
    np.testing.assert_array_equal(loaded[0].transform(X_new), pipe[0].transform(X_new))
    np.testing.assert_array_equal(loaded.predict_proba(X_new), pipe.predict_proba(X_new))
    assert "_skscale_version" not in vars(loaded[0])


def test_foreign_type_is_refused_and_listed(data, tmp_path):
    X, y, _ = data
    pipe = Pipeline([("foreign", Foreign()), ("scale", ZScoreScaler()),
                     ("clf", LogisticRegression())]).fit(X, y)
    skscale.io.dump(pipe, tmp_path / "pipe.skops")
    name = f"{Foreign.__module__}.Foreign"
    assert sio.get_untrusted_types(file=tmp_path / "pipe.skops") == sorted(
        [name, "skscale._stats.ColumnStats", "skscale._zscore.ZScoreScaler"])
    with pytest.raises(TypeError) as info:
        load(tmp_path / "pipe.skops")
    assert name in str(info.value) and "skscale." not in str(info.value)
    for trusted in ([name], [Foreign], name):
        loaded = load(tmp_path / "pipe.skops", trusted=trusted)
        assert loaded[0].seen_ == len(X)
    with pytest.raises(TypeError, match="bool"):
        load(tmp_path / "pipe.skops", trusted=True)


def test_trusted_types_name_the_classes_skscale_defines():
    expected = {f"{cls.__module__}.{cls.__qualname__}"
                for cls in [*SCALERS.values(), Scaler, skscale.AutoScaler, skscale.ColumnStats,
                            Sketches, LambdaStats]}
    assert set(skscale.io.trusted_types()) == expected
    assert all(name.startswith("skscale._") for name in expected)


def test_importing_skscale_io_does_not_import_skops(monkeypatch):
    monkeypatch.setitem(sys.modules, "skops", None)  # import skops raises ImportError
    monkeypatch.setitem(sys.modules, "skops.io", None)
    importlib.reload(skscale.io)  # runs the module again: it must not need skops
    assert skscale.io.InconsistentVersionWarning is InconsistentVersionWarning


def test_load_without_skops_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "skops", None)  # import skops raises ImportError
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r'pip install "skscale\[skops\]"'):
        load(tmp_path / "missing.skops")


def _written_by(version, monkeypatch, dump):
    """What ``dump`` writes while skscale says it is ``version``."""
    with monkeypatch.context() as patch:
        patch.setattr(skscale._version, "__version__", version)
        return dump()


@pytest.mark.parametrize("estimator", [LogScaler(offset="auto"), Scaler("minmax")],
                         ids=["LogScaler", "Scaler"])
def test_pickle_from_another_version_warns_with_both_versions(estimator, monkeypatch):
    X = np.array([[1.0, -2.0], [3.0, 5.0], [4.0, 0.5]])
    estimator.fit(X)
    blob = _written_by("0.0.1", monkeypatch, lambda: pickle.dumps(estimator))
    with pytest.warns(InconsistentVersionWarning) as caught:
        loaded = pickle.loads(blob)
    names = [type(estimator).__name__] + (["MinMaxScaler"] if type(estimator) is Scaler else [])
    assert sorted(w.message.estimator_name for w in caught) == sorted(names)
    for w in caught:
        assert w.message.original_version == "0.0.1"
        assert w.message.current_version == skscale.__version__ != "0.0.1"
        assert "0.0.1" in str(w.message) and skscale.__version__ in str(w.message)
    assert "_skscale_version" not in vars(loaded)
    np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))


def test_same_version_loads_silently_and_keeps_the_state(monkeypatch, tmp_path):
    est = ZScoreScaler().fit([[1.0], [2.0], [4.0]])
    joblib.dump(est, tmp_path / "est.joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = joblib.load(tmp_path / "est.joblib")
    assert vars(loaded).keys() == vars(est).keys()
    # the stamp is written fresh on every dump, never kept in the instance
    assert "_skscale_version" not in vars(est)
    assert pickle.loads(pickle.dumps(est)).__getstate__()["_skscale_version"] == \
        skscale.__version__


def test_joblib_and_skops_files_from_another_version_warn(monkeypatch, tmp_path):
    est = GroupNormScaler(**_GROUP).fit(np.arange(16.0).reshape(2, 8))
    _written_by("9.9", monkeypatch, lambda: joblib.dump(est, tmp_path / "est.joblib"))
    with pytest.warns(InconsistentVersionWarning, match=r"version 9\.9 when using version "
                      + skscale.__version__.replace(".", r"\.")):
        joblib.load(tmp_path / "est.joblib")
    blob = _written_by("9.9", monkeypatch, lambda: sio.dumps(est))
    (tmp_path / "est.skops").write_bytes(blob)
    with pytest.warns(InconsistentVersionWarning, match=r"GroupNormScaler .*version 9\.9"):
        load(tmp_path / "est.skops")


def test_state_without_a_stamp_warns_unknown_version():
    est = ZScoreScaler().fit([[1.0], [2.0]])
    state = {k: v for k, v in est.__getstate__().items() if k != "_skscale_version"}
    with pytest.warns(InconsistentVersionWarning, match="version unknown"):
        ZScoreScaler().__setstate__(state)


def test_sklearn_version_stamp_still_written_for_sklearn_estimators(data):
    X, y, _ = data
    pipe = Pipeline([("scale", ZScoreScaler()), ("clf", LogisticRegression())]).fit(X, y)
    loaded = pickle.loads(pickle.dumps(pipe))
    assert "_sklearn_version" in pipe[1].__getstate__()
    assert "_sklearn_version" not in loaded[0].__getstate__()  # sklearn stamps only its own
    assert loaded[0].__getstate__()["_skscale_version"] == skscale.__version__


# ---------------------------------------------------------------- damaged, inflating, foreign files

def _fitted_kinds(X):
    """A scaler of every kind of fitted state: per-feature arrays, column
    statistics, sketches (a streamed robust fit), chosen estimators (auto)."""
    yield ZScoreScaler().fit(X)
    yield skscale.RobustScaler().partial_fit(X[:30]).partial_fit(X[30:])
    yield skscale.AutoScaler().fit(X)
    yield Scaler("batch_norm").fit(X)


def test_the_checks_on_load_pass_every_real_fit(data, tmp_path):
    X = data[0]
    for est in _fitted_kinds(X):
        sio.dump(est, tmp_path / "m.skops")
        joblib.dump(est, tmp_path / "m.joblib")
        for loaded in (load(tmp_path / "m.skops"), joblib.load(tmp_path / "m.joblib")):
            np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def _saved_unchecked(est, path):
    """``est`` saved with skops as it is, its own checks bypassed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(est), "__getstate__",
                      lambda self: {**vars(self), "_skscale_version": skscale.__version__})
        sio.dump(est, path)


@pytest.mark.parametrize("attribute, value, words", [
    ("mean_", np.zeros(3), "mean_ has shape (3,), but it was fitted on 8 features"),
    ("var_", np.zeros((8, 2)), "var_ has shape (8, 2)"),
    ("scale_", np.array(["a"] * 8, dtype=object), "scale_ holds object values, not numbers"),
    ("n_features_in_", -1, "n_features_in_ is -1, not a positive integer"),
])
def test_fitted_arrays_that_disagree_with_n_features_in_are_refused(attribute, value, words,
                                                                    data, tmp_path):
    est = ZScoreScaler().fit(data[0])
    setattr(est, attribute, value)
    _saved_unchecked(est, tmp_path / "m.skops")
    with pytest.raises(ValueError, match=re.escape(f"damaged ZScoreScaler: {words}")):
        load(tmp_path / "m.skops")
    blob = pickle.dumps(est)  # pickles are checked as they load too
    with pytest.raises(ValueError, match=re.escape(words)):
        pickle.loads(blob)


def test_column_statistics_and_sketches_of_other_columns_are_refused(data, tmp_path):
    X = data[0]
    est = ZScoreScaler().fit(X)
    est.stats_.m2 = est.stats_.m2[:5]
    with pytest.raises(ValueError, match=re.escape("stats_.m2 has shape (5,), but it was"
                                                   " fitted on 8 features")):
        pickle.loads(pickle.dumps(est))
    robust = skscale.RobustScaler().partial_fit(X)
    robust.sketches_.data = robust.sketches_.data[:7]
    with pytest.raises(ValueError, match="sketches_ holds 7 columns, but it was fitted on 8"):
        pickle.loads(pickle.dumps(robust))


def test_sketch_bytes_are_checked_against_their_digest(data):
    sketches = skscale.RobustScaler().partial_fit(data[0]).sketches_
    state = sketches.__getstate__()
    assert pickle.loads(pickle.dumps(sketches)) == sketches
    for j, byte in [(0, 8), (3, len(state["data"][3]) // 2), (7, -1)]:
        damaged = {**state, "data": list(state["data"])}
        b = bytearray(damaged["data"][j])
        b[byte] ^= 0x01
        damaged["data"][j] = bytes(b)
        with pytest.raises(ValueError, match="damaged quantile sketches: their bytes do not"
                                             " match the digest"):
            Sketches.__new__(Sketches).__setstate__(damaged)


def test_sketches_saved_without_a_digest_still_load(data):
    X = data[0]
    robust = skscale.RobustScaler().partial_fit(X)
    state = robust.sketches_.__getstate__()
    del state["digest"]  # as files written before the digest hold them
    old = Sketches.__new__(Sketches)
    old.__setstate__(state)
    assert old == robust.sketches_
    np.testing.assert_array_equal(old.quantiles([25.0, 75.0])[1],
                                  robust.sketches_.quantiles([25.0, 75.0])[1])
    state["data"] = [b"\x00" * 8] + state["data"][1:]  # not a sketch at all
    with pytest.raises(ValueError, match="damaged quantile sketches"):
        Sketches.__new__(Sketches).__setstate__(state)


def test_a_file_that_would_inflate_beyond_the_bound_is_refused_unread(tmp_path, monkeypatch):
    sio.dump(ZScoreScaler().fit([[1.0], [2.0]]), tmp_path / "m.skops")
    path = tmp_path / "bomb.skops"
    with zipfile.ZipFile(tmp_path / "m.skops") as src, zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("zeros.npy", bytes(64 * 2**20))  # 64 MiB in about 64 kB
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: read.append(a) or b"")
    monkeypatch.setattr(skscale.io, "MAX_INFLATED", 32 * 2**20)
    size = os.path.getsize(path)
    for file in (path, io.BytesIO(path.read_bytes())):
        with pytest.raises(ValueError, match=rf"would inflate to [\d,]+ bytes from a file of"
                                             rf" {size:,} bytes; skscale.io loads at most"
                                             rf" {32 * 2**20:,}"):
            load(file)
    assert read == []  # refused before any member was read


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04 broken"])
def test_a_file_that_is_no_skops_file_says_so(content, tmp_path):
    (tmp_path / "bad.skops").write_bytes(content)
    with pytest.raises(ValueError, match="it is not a skops file"):
        load(tmp_path / "bad.skops")


def test_a_damaged_schema_is_one_clear_error_not_a_key_error(tmp_path):
    sio.dump(ZScoreScaler().fit([[1.0], [2.0]]), tmp_path / "m.skops")
    with zipfile.ZipFile(tmp_path / "m.skops") as src, zipfile.ZipFile(
            tmp_path / "bad.skops", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "schema.json":
                schema = json.loads(data)
                del schema["__loader__"]
                data = json.dumps(schema).encode()
            dst.writestr(info, data)
    with pytest.raises(ValueError, match=r"cannot load '.*bad.skops': it is not a skops file of a"
                                         r" skscale model, or it is damaged \(KeyError"):
        load(tmp_path / "bad.skops")
