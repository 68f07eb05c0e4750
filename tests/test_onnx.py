"""ONNX graphs of every estimator, run by ONNX Runtime (the oracle), against
``transform``: bit for bit for the affine maps, within the bound
``skscale.onnx.ACCURACY`` states for the others; and whole pipelines."""

import sys

import numpy as np
import onnxruntime as ort
import pytest
import skl2onnx
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

import skscale.onnx
from cases import CASES, NAMES, frame, make, new_rows, train
from skscale import AutoScaler, LogScaler, MinMaxScaler, RobustScaler, Scaler, ZScoreScaler
from skscale._registry import name_of


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def data():
    X = train()
    Y = new_rows(X)
    Y[0] = np.nanmin(X, axis=0)  # the training minima (0 after an 'auto' log), and NaN
    Y[1] = np.nan
    return X, Y


def _spacing(y, dtype, floor=0.0):
    return np.spacing(np.maximum(np.abs(y), floor).astype(dtype)).astype(np.float64)


def _bound(est, X, want, dtype):
    """The documented bound of ``est``'s graph on ``X`` (whose transform is
    ``want``), element by element."""
    if isinstance(est, Scaler):
        return _bound(est.scaler_, X, want, dtype)
    if isinstance(est, AutoScaler):  # each column by its steps
        tol = np.zeros(want.shape)
        for cols, chain in est.groups_:
            y, t = X[:, cols], np.zeros((len(X), len(cols)))
            for step in chain:
                out = step.transform(y)
                if t.any():  # every column map is monotone: an input off by t moves
                    # the output at most as far as the ends of [y - t, y + t] do,
                    # and the graph rounds once more
                    lo, hi = (step.transform((y + s * t).astype(dtype)) for s in (-1, 1))
                    t = np.fmax(np.abs(lo - out), np.abs(hi - out)) + _spacing(out, dtype)
                t = np.nan_to_num(t + _bound(step, y, out, dtype))  # (and its own)
                y = out
            tol[:, cols] = t
        return tol
    accuracy = skscale.onnx.ACCURACY[name_of(est)]
    ulps = accuracy["ulps"]
    if getattr(est, "output_distribution", None) == "normal":
        ulps = accuracy["normal_ulps"]
    tol = ulps * _spacing(want, dtype, accuracy.get("floor", 0.0))
    if accuracy.get("times"):  # (per unit of the map's multiplier, column by column)
        tol = tol * np.maximum(1.0, np.abs(est._map[accuracy["times"]]))
    if accuracy.get("exponent"):  # (times the magnitude of the exponential's argument)
        tol = tol * np.maximum(1.0, np.nan_to_num(np.abs(_exponent(est, X)), nan=1.0))
    return tol


def _exponent(est, X):
    """The power transform's exponent ``l1 * log1p((x - c) * pc)`` on the
    reference point's side, ``l2 * log1p(|x|)`` on the other."""
    p = {k: np.asarray(v, np.float64) for k, v in est._map.items()}
    x = X.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        near = p["l1"] * np.log1p((x - p["c"]) * p["pc"])
        far = p["l2"] * np.log1p(np.abs(x))
    return np.where(x * p["sign"] < 0, far, near) if est.method == "yeo-johnson" else near


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_onnx_runtime_gives_transform_within_the_documented_bound(case, dtype, data):
    X, Y = data
    est = make(case).fit(X)
    x = Y.astype(dtype)
    want = est.transform(x)
    got, = _run(skl2onnx.to_onnx(est, x[:1]), x)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    tol = _bound(est, x, want, dtype)
    ok = ~np.isnan(want)
    if not tol.any():
        np.testing.assert_array_equal(got, want)
    else:
        err = np.abs(got.astype(np.float64) - want.astype(np.float64))
        assert (err[ok] <= tol[ok]).all(), f"{(err[ok] / np.maximum(tol[ok], 1e-300)).max()}"


def test_the_logarithm_is_within_its_bound_far_and_near_the_offset():
    # log1p's hard cases: arguments a hair above the offset's point, large
    # ones, and exact powers of the base.
    a = np.concatenate([np.ldexp(1.0, -np.arange(1, 60)), 10.0 ** np.arange(-300, 300, 7.0),
                        np.linspace(-0.99, 3, 500), [9.0, 99.0, 999.0, 1e6 - 1]])
    X = a[:, None]
    for est in (LogScaler(offset=1.0), LogScaler(offset=1.0, base=10),
                LogScaler(offset=1.0, base=2), LogScaler(offset=1e-300, base=7)):
        x = X if est.offset == 1 else X[a > 0]
        est.fit(x)
        want = est.transform(x)
        got, = _run(skl2onnx.to_onnx(est, x[:1]), x)
        ulps = skscale.onnx.ACCURACY["log"]["ulps"]
        assert (np.abs(got - want) <= ulps * np.spacing(np.abs(want))).all(), est


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["yeo-johnson", "box-cox"])
@pytest.mark.parametrize("standardize", [True, False])
def test_the_power_transform_is_within_its_bound_far_into_the_tails(method, standardize, dtype):
    # Cauchy columns across ten orders of magnitude: lambdas far from 1 and
    # exponents in the hundreds, where the exponential magnifies the
    # logarithm's rounding
    rng = np.random.default_rng(3)
    X = rng.standard_cauchy((4000, 4)) * 10.0 ** np.arange(-5, 5, 3)
    X[:, 3] = rng.lognormal(0, 2, 4000)
    if method == "box-cox":
        X = np.abs(X) + 1e-3
    est = skscale.PowerTransformer(method=method, standardize=standardize).fit(X[:2000])
    x = X[2000:].astype(dtype)
    x[rng.random(x.shape) < 0.02] = np.nan
    if dtype == np.float32:
        # rows whose transform is beyond float32's range: an error naming the
        # column and row (the graph would give inf); the others are compared
        with np.errstate(over="ignore"):
            beyond = ~np.isfinite(est.transform(x.astype(np.float64)).astype(dtype))
        beyond &= ~np.isnan(x)
        if beyond.any():
            i, j = np.argwhere(beyond)[0]
            with pytest.raises(ValueError, match=fr"olumn {j} at row 0: .* beyond the range"
                                                 " of float32"):
                est.transform(x[i:i + 1])
            x = x[~beyond.any(axis=1)]
    want = est.transform(x)
    got, = _run(skl2onnx.to_onnx(est, x[:1]), x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want) & (got != want)  # (equal: the infinities of float32 included)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert (err[ok] <= _bound(est, x, want, dtype)[ok]).all()


def test_where_transform_raises_or_gives_nan_out_of_the_domain_the_graph_gives_nan():
    X = np.array([[1.0], [5.0]])
    below = np.array([[-3.0], [2.0], [np.nan]])
    for policy in ("raise", "nan"):
        est = LogScaler(out_of_domain=policy).fit(X)
        got, = _run(skl2onnx.to_onnx(est, X[:1]), below)
        assert np.isnan(got[0, 0]) and np.isnan(got[2, 0])
        assert got[1, 0] == pytest.approx(np.log(3.0), rel=1e-15)
    est = LogScaler(offset="auto", out_of_domain="clip").fit(X)
    got, = _run(skl2onnx.to_onnx(est, X[:1]), below)
    np.testing.assert_array_equal(got, est.transform(below))


def test_a_data_frame_converts_with_one_input_per_column(data):
    X, Y = data
    for est in (make("zscore"), make("log_auto10"), make("auto")):
        est.fit(frame(X))
        session = ort.InferenceSession(skl2onnx.to_onnx(est, frame(X)[:1]).SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == NAMES
        got, = session.run(None, {c: frame(Y)[[c]].to_numpy() for c in NAMES})
        want = est.transform(frame(Y))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_a_row_of_zeros_stays_zero_in_the_unit_norm_graph():
    X = np.array([[0.0, 0.0], [3.0, -4.0]])
    for norm in ("l1", "l2", "max"):
        est = skscale.UnitNormScaler(norm).fit(X)
        got, = _run(skl2onnx.to_onnx(est, X[:1]), X)
        np.testing.assert_array_equal(got, est.transform(X))


def test_a_column_transformer_of_skscale_scalers_then_a_model_runs_in_onnx_runtime():
    X, y = load_breast_cancer(return_X_y=True)
    columns = ColumnTransformer([
        ("zscore", ZScoreScaler(), list(range(0, 6))),
        ("log", LogScaler(offset="auto"), list(range(6, 12))),
        ("robust", RobustScaler(), list(range(12, 15))),
        ("minmax", MinMaxScaler(clip=True), [15, 16]),
        ("maxabs", skscale.MaxAbsScaler(), [17, 18]),
        ("power", skscale.PowerTransformer(), [19, 20]),
        ("quantile", skscale.QuantileTransformer(output_distribution="normal"), [21, 22]),
        ("squashing", skscale.SquashingScaler(), [23, 24]),
        ("auto", AutoScaler(), [25, 26, 27]),
        ("rms", skscale.RMSNormScaler(), [28, 29]),
    ])
    pipe = Pipeline([("scale", columns), ("model", LogisticRegression(max_iter=5000))])
    pipe.fit(X, y)
    for dtype in (np.float64, np.float32):
        model = skl2onnx.to_onnx(pipe, X[:1].astype(dtype),
                                 options={LogisticRegression: {"zipmap": False}})
        labels, proba = _run(model, X.astype(dtype))
        np.testing.assert_allclose(proba, pipe.predict_proba(X.astype(dtype)), rtol=0,
                                   atol=1e-6)
        assert (labels == pipe.predict(X.astype(dtype))).mean() > 0.99


def test_a_pipeline_of_skscale_steps_converts_with_the_wrapper():
    X = train()
    pipe = make_pipeline(LogScaler(offset="auto"), Scaler("zscore")).fit(X)
    got, = _run(skscale.onnx.to_onnx(pipe, X[:1]), X)
    np.testing.assert_allclose(got, pipe.transform(X), rtol=0, atol=1e-13)


def test_the_accuracy_table_covers_every_method():
    from skscale import SCALERS

    assert set(skscale.onnx.ACCURACY) == set(SCALERS)


def test_without_skl2onnx_the_module_says_what_to_install(monkeypatch):
    monkeypatch.setattr(skscale.onnx, "_REGISTERED", False)
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match=r'pip install "skscale\[onnx\]"'):
        skscale.onnx.register()
