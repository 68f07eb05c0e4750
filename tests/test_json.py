"""JSON model files: a round trip gives the same estimator bit for bit, and
loading refuses what it does not know, runs no code and checks what it reads."""

import copy
import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.utils.validation import check_is_fitted

import skscale.io
from cases import CASES, frame, make, new_rows, train
from skscale import MinMaxScaler, RobustScaler, ZScoreScaler
from skscale import _json
from skscale._columns import ColumnScaler


@pytest.fixture(scope="module")
def data():
    X = train()
    return X, new_rows(X), new_rows(X, seed=2)


def _through_text(est):
    """``est`` written as JSON text and read back."""
    text = json.dumps(est.to_dict(), allow_nan=False)
    return type(est).from_dict(json.loads(text))


def _same_state(a, b, where=""):
    """The public and private fitted state of ``a`` and ``b`` are equal, bit
    for bit, type for type."""
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype.kind == "f":  # the same bits (any NaN for a NaN)
            nan = np.isnan(a)
            assert (np.isnan(b) == nan).all(), where
            assert np.where(nan, 0, a).tobytes() == np.where(nan, 0, b).tobytes(), where
        else:
            assert (a == b).all(), where
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same_state(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same_state(a[k], b[k], f"{where}.{k}")
    elif hasattr(a, "get_params"):
        assert repr(a.get_params(deep=False)) == repr(b.get_params(deep=False)), where
        _same_state({k: v for k, v in vars(a).items() if k in _json.saved_state(a)},
                    {k: v for k, v in vars(b).items() if k in _json.saved_state(b)}, where)
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _same_state(vars(a), vars(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def _equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("case", CASES)
def test_a_json_round_trip_transforms_bit_for_bit(case, data):
    X, Y, more = data
    est = make(case).fit(frame(X))
    loaded = _through_text(est)
    _same_state(est, loaded)
    for dtype in (np.float64, np.float32):
        y = frame(Y.astype(dtype))
        assert _equal(loaded.transform(y), est.transform(y))
    if hasattr(est, "sample_stats"):  # per-sample: the statistics, and the inverse by them
        stats = est.sample_stats(frame(Y))
        Z = frame(np.asarray(est.transform(frame(Y))))
        assert _equal(loaded.inverse_transform(Z, sample_stats=stats),
                      est.inverse_transform(Z, sample_stats=stats))
        return
    Z = np.asarray(est.transform(frame(Y)))
    assert _equal(loaded.inverse_transform(Z), est.inverse_transform(Z))
    # The statistics travel too: both continue alike.
    # (sketches here hold every value; those that compact are the next test's)
    try:
        est.partial_fit(frame(more))
    except ValueError as err:  # an exact fit that keeps nothing to add rows to: alike
        with pytest.raises(ValueError, match="keeps? no"):
            loaded.partial_fit(frame(more))
        assert "keeps no" in str(err) or "keep no" in str(err)
        return
    loaded.partial_fit(frame(more))
    assert _equal(loaded.transform(frame(Y)), est.transform(frame(Y)))


def test_a_streamed_robust_scaler_round_trips_its_sketches(data):
    X, Y, more = data
    est = RobustScaler(sketch_size=16).partial_fit(frame(X))
    loaded = _through_text(est)
    assert loaded.sketches_ == est.sketches_ and loaded.rank_error_ == est.rank_error_
    assert _equal(loaded.transform(frame(Y)), est.transform(frame(Y)))
    # KLL's compactions flip coins, so two copies of one sketch fed the same
    # rows differ: the loaded one keeps its promise, each quantile's rank
    # within the rank error of the one asked for.
    loaded.partial_fit(frame(more))
    both = np.vstack([X, more])
    for j in range(both.shape[1]):
        values = np.sort(both[~np.isnan(both[:, j]), j])
        for q, got in zip((25, 75), loaded.quantiles_[:, j]):
            lo = np.searchsorted(values, got, "left") / len(values)
            hi = np.searchsorted(values, got, "right") / len(values)
            assert lo - loaded.rank_error_ <= q / 100 <= hi + loaded.rank_error_


def test_an_unfitted_estimator_and_set_output_round_trip():
    est = MinMaxScaler(feature_range=(-2, 3), clip=True).set_output(transform="pandas")
    loaded = _through_text(est)
    assert loaded.get_params() == est.get_params()
    assert isinstance(loaded.get_params()["feature_range"], tuple)
    try:
        check_is_fitted(loaded)
        raise AssertionError("an unfitted estimator came back fitted")
    except Exception as err:
        assert type(err).__name__ == "NotFittedError"
    out = loaded.fit(frame(train())).transform(frame(train()))
    assert hasattr(out, "columns")


finite = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 20),
                  elements=st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)),
       hnp.arrays(np.float32, st.integers(1, 5), elements=st.floats(width=32)))
def test_every_float_reads_back_to_the_same_bits(values, narrow):
    for a in (values, narrow):
        text = json.dumps(_json.encode(a), allow_nan=False)
        back = _json.decode(json.loads(text), "test")
        assert back.dtype == a.dtype
        nan = np.isnan(a)
        assert (np.isnan(back) == nan).all()
        assert np.array_equal(back[~nan].view(np.uint8 if a.dtype == np.float32 else np.uint64),
                              a[~nan].view(np.uint8 if a.dtype == np.float32 else np.uint64))
    for x in (0.1, -0.0, 5e-324, 1.7976931348623157e308, float("inf"), np.float32(0.1),
              np.float64(1 / 3), np.int64(-7), True, None, (1, 2.5), {"a": [1]}, {3: "x"}):
        back = _json.decode(json.loads(json.dumps(_json.encode(x), allow_nan=False)), "x")
        assert type(back) is type(x) and repr(back) == repr(x)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, 3, elements=finite.filter(lambda v: abs(v) < 1e300)),
       hnp.arrays(np.float64, 3, elements=st.floats(0, 1e150, allow_subnormal=True)))
def test_known_statistics_round_trip_exactly(mean, std):
    est = ZScoreScaler.from_stats(mean, std, n_samples=10)
    loaded = _through_text(est)
    assert np.array_equal(loaded.mean_.view(np.uint64), mean.view(np.uint64))
    _same_state(est, loaded)


def test_dump_json_and_load_json_through_a_file(tmp_path, data):
    X, Y, _ = data
    est = make("auto").fit(frame(X))
    path = tmp_path / "model.json"
    skscale.io.dump_json(est, path, indent=1)
    assert path.read_text().startswith('{\n "format": "skscale-model"')
    assert _equal(skscale.io.load_json(path).transform(frame(Y)), est.transform(frame(Y)))
    skscale.io.dump_json(est, str(path))
    assert _equal(skscale.io.load_json(str(path)).transform(frame(Y)), est.transform(frame(Y)))


@pytest.fixture
def model():
    return ZScoreScaler().fit(frame(train())).to_dict()


def _refused(data, match, cls=None):
    with pytest.raises(ValueError, match=match):
        (cls or ZScoreScaler).from_dict(json.loads(json.dumps(data)))


def test_unknown_classes_schemas_and_formats_are_refused(model):
    _refused({**model, "class": "Pipeline"}, "unknown class 'Pipeline'; the classes are")
    _refused({**model, "class": "os.system"}, "unknown class 'os.system'")
    _refused({**model, "schema": 2}, r"schema 2 \(written by skscale .*\) is not one skscale")
    _refused({**model, "format": "pickle"}, "not a skscale model")
    _refused([1, 2], "not a skscale model")
    _refused({**model, "extra": 1}, "unknown fields")
    _refused(model, "the model is a ZScoreScaler, not a MinMaxScaler", MinMaxScaler)


def test_damaged_files_are_refused_naming_what_is_wrong(model):
    bad = copy.deepcopy(model)
    bad["fitted"]["mean_"]["ndarray"].update(shape=[2], data=[1.0, 2.0])
    _refused(bad, "damaged ZScoreScaler: mean_ has shape \\(2,\\), but it was fitted on 6")
    bad = copy.deepcopy(model)
    bad["fitted"]["mean_"]["ndarray"]["shape"] = [7]
    _refused(bad, "does not hold 6 values")
    bad = copy.deepcopy(model)
    bad["fitted"]["transform"] = 1
    _refused(bad, "'transform' is not fitted state of ZScoreScaler")
    bad = copy.deepcopy(model)
    bad["fitted"]["mean_"] = {"pickle": "gASV"}
    _refused(bad, "mean_ has unknown type 'pickle'")
    bad = copy.deepcopy(model)
    bad["fitted"]["stats_"]["object"]["class"] = "Popen"
    _refused(bad, "object of unknown class 'Popen'")
    bad = copy.deepcopy(model)
    bad["params"]["ddof"] = -1
    _refused(bad, "ddof")
    bad = copy.deepcopy(model)
    bad["params"]["shell"] = True
    _refused(bad, "has no parameter 'shell'")
    bad = copy.deepcopy(model)
    bad["fitted"]["mean_"]["ndarray"]["dtype"] = "object"
    _refused(bad, "unknown dtype 'object'")
    bad = copy.deepcopy(model)
    bad["fitted"]["mean_"]["ndarray"]["data"][0] = "1e3"
    _refused(bad, "cannot be read")


def test_a_quantile_model_holds_its_quantiles_and_not_the_tables_built_from_them(data):
    X, Y, _ = data
    est = make("quantile").fit(X)
    model = est.to_dict()
    assert "_map" not in model["fitted"] and "quantiles_" in model["fitted"]
    loaded = type(est).from_dict(json.loads(json.dumps(model)))
    assert _equal(loaded.transform(Y), est.transform(Y))
    bad = copy.deepcopy(model)
    bad["fitted"]["quantiles_"]["ndarray"].update(shape=[2, 6], data=[0.0] * 12)
    _refused(bad, "quantiles_", type(est))


def test_sketches_are_checked_against_their_digest():
    data = RobustScaler(sketch_size=16).partial_fit(train()).to_dict()
    state = data["fitted"]["sketches_"]["object"]["state"]
    first = state["data"][0]["bytes"]
    raw = bytearray(__import__("base64").b64decode(first))
    raw[-1] ^= 1
    state["data"][0]["bytes"] = __import__("base64").b64encode(bytes(raw)).decode()
    with pytest.raises(ValueError, match="do not match the digest"):
        RobustScaler.from_dict(data)


def test_load_json_names_the_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot load .*m.json.*: it is not JSON text"):
        skscale.io.load_json(path)
    path.write_text(json.dumps({"format": "skscale-model", "schema": 1, "class": "Nope"}))
    with pytest.raises(ValueError, match="cannot load .*m.json.*: skscale model of unknown"):
        skscale.io.load_json(path)


def test_a_model_of_an_estimator_that_cannot_be_written_is_refused():
    est = ZScoreScaler().fit(train())
    est.stats_ = warnings  # (not a type a model file holds)
    with pytest.raises(TypeError, match="cannot write a builtins.module"):
        est.to_dict()


def test_every_column_scaler_declares_what_it_learns():
    # A private attribute a fit sets but does not declare would be lost in a
    # model file: every one a fit sets is declared in _learned.
    X = frame(train())
    for case in CASES:
        est = make(case).fit(X)
        inner = getattr(est, "scaler_", est)
        if isinstance(inner, ColumnScaler):
            private = {k for k in vars(inner) if k.startswith("_") and not k.startswith("__")
                       and k not in ("_sklearn_output_config",)}
            assert private <= set(type(inner)._learned), (case, private - set(inner._learned))
