"""Where users rely on scikit-learn's behaviour, skscale's column scalers give
the same: cases found by running scikit-learn's own preprocessing tests
against them, each checked against scikit-learn itself."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import preprocessing as skp

from skscale import BatchNormScaler, DecimalScaler, LogScaler, MinMaxScaler, ZScoreScaler

NAN = np.nan


@pytest.mark.parametrize("ours, theirs", [(MinMaxScaler, skp.MinMaxScaler),
                                          (ZScoreScaler, skp.StandardScaler)])
def test_all_nan_training_column_maps_finite_values_to_nan(ours, theirs):
    X = np.array([[NAN, 1.0], [NAN, 2.0], [NAN, 4.0]])
    new = np.array([[3.0, 3.0], [NAN, 0.0]])
    with warnings.catch_warnings():  # scikit-learn warns of its all-NaN column
        warnings.simplefilter("ignore", RuntimeWarning)
        a, b = ours().fit(X), theirs().fit(X)
    for method in ("transform", "inverse_transform"):
        np.testing.assert_allclose(getattr(a, method)(new), getattr(b, method)(new),
                                   rtol=1e-15)


def _log_auto(**kw):
    return LogScaler(offset="auto", **kw)


@pytest.mark.parametrize("make, bad, methods", [
    *[(make, bad, ("transform", "inverse_transform"))
      for make in (MinMaxScaler, ZScoreScaler, DecimalScaler, BatchNormScaler, _log_auto)
      for bad in ("inf", "inf beside a NaN column")],
    # a finite value that a spread of 1e-150 scales beyond float64 (batch
    # norm's eps and a logarithm cannot overflow)
    *[(make, "overflow", ("transform",)) for make in (MinMaxScaler, ZScoreScaler, DecimalScaler)],
    (_log_auto, "below the domain", ("transform",)),
])
def test_a_failing_in_place_transform_leaves_its_input_as_it_was(make, bad, methods):
    rng = np.random.default_rng(0)
    spread = [1, 1, 1e-150]
    est = make(copy=False).fit(rng.uniform(1, 2, size=(50, 3)) * spread)
    X = rng.uniform(1, 2, size=(30_000, 3)) * spread  # several row blocks
    if bad.startswith("inf"):
        X[-1, 0] = np.inf
    if bad == "inf beside a NaN column":
        X[:, 1] = NAN
    if bad == "overflow":
        X[-1, 2] = 1e300
    if bad == "below the domain":
        X[-1, 1] = -5.0
    before = X.copy()
    for method in methods:
        with pytest.raises(ValueError, match="infinity|scales to|no logarithm"):
            getattr(est, method)(X)
        np.testing.assert_array_equal(X, before)


def test_in_place_transform_that_succeeds_writes_into_its_input():
    X = np.random.default_rng(1).normal(size=(20_000, 4))
    expected = skp.StandardScaler().fit(X).transform(X)
    out = ZScoreScaler(copy=False).fit(X).transform(X)
    assert out is X
    np.testing.assert_allclose(X, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_float32_with_sample_weight(fmt):
    rng = np.random.default_rng(2)
    X = sp.random(40, 5, density=0.4, format=fmt, random_state=3, dtype=np.float32)
    w = rng.uniform(0.5, 2, size=40)
    ours = ZScoreScaler(with_mean=False).fit(X, sample_weight=w)
    theirs = skp.StandardScaler(with_mean=False).fit(X.astype(np.float64), sample_weight=w)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-12)
    assert ours.transform(X).dtype == np.float32


def test_sparse_constant_column_with_weights_has_scale_one():
    X = sp.csr_matrix(np.array([[0.1, 1.0], [0.1, 0.0], [0.1, 3.0]]))
    w = np.array([1.0, 7.0, 0.3])
    ours = ZScoreScaler(with_mean=False).fit(X, sample_weight=w)
    dense = ZScoreScaler(with_mean=False).fit(X.toarray(), sample_weight=w)
    assert ours.var_[0] == 0.0 and ours.scale_[0] == 1.0 and ours.mean_[0] == 0.1
    np.testing.assert_array_equal(ours.scale_[:1], dense.scale_[:1])


def test_sparse_partial_fit_recovers_from_a_batch_with_an_all_nan_column():
    first = sp.csr_matrix(np.array([[NAN, 1.0], [NAN, 2.0]]))
    second = sp.csr_matrix(np.array([[1.0, 0.0], [3.0, 4.0]]))
    ours = ZScoreScaler(with_mean=False).partial_fit(first).partial_fit(second)
    dense = np.vstack([first.toarray(), second.toarray()])
    theirs = skp.StandardScaler(with_mean=False).fit(dense)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-15)


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_n_samples_seen_as_standard_scaler(nan, weighted):
    X = np.array([[1.0, 5.0], [2.0, 3.0], [4.0, 7.0], [0.5, 1.0]])
    if nan:
        X[1, 0] = NAN
    w = np.array([1.0, 2.5, 0.5, 3.0]) if weighted else None
    ours = ZScoreScaler().fit(X, sample_weight=w)
    theirs = skp.StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.n_samples_seen_, theirs.n_samples_seen_)
    assert np.shape(ours.n_samples_seen_) == np.shape(theirs.n_samples_seen_)
    ours.partial_fit(X, sample_weight=w)
    theirs.partial_fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.n_samples_seen_, theirs.n_samples_seen_)


@pytest.mark.parametrize("cls", [MinMaxScaler, ZScoreScaler, DecimalScaler, LogScaler,
                                 BatchNormScaler])
def test_float16_stays_float16(cls):
    X = np.array([[1.0, 20.0], [3.0, 40.0], [2.0, 10.0]], dtype=np.float16)
    est = cls().fit(X)
    Xt = est.transform(X)
    assert Xt.dtype == np.float16
    # the float64 computation, rounded once to float16
    np.testing.assert_array_equal(Xt, cls().fit(X.astype(np.float64))
                                  .transform(X.astype(np.float64)).astype(np.float16))
    assert est.inverse_transform(Xt).dtype == np.float16


class RecordingCallback:
    """A callback of scikit-learn's FitCallback protocol that records its hooks."""

    def __init__(self):
        self.record = []

    def setup(self, estimator, context):
        self.record.append({"name": "setup"})

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.record.append({"name": "on_fit_task_begin"})

    def on_fit_task_end(self, estimator, context, **kwargs):
        self.record.append({"name": "on_fit_task_end",
                            "fitted": kwargs.get("fitted_estimator", estimator)})

    def teardown(self, estimator, context):
        self.record.append({"name": "teardown"})


def test_callbacks_as_standard_scaler():
    X = np.random.default_rng(4).normal(size=(10, 2))
    for method in ("fit", "partial_fit"):
        calls = {}
        for est in (ZScoreScaler(), skp.StandardScaler()):
            callback = RecordingCallback()
            getattr(est.set_callbacks(callback), method)(X)
            getattr(est, "partial_fit")(X)  # a later batch too
            calls[type(est).__name__] = [r["name"] for r in callback.record]
        assert calls["ZScoreScaler"] == calls["StandardScaler"]
        assert "on_fit_task_end" in calls["ZScoreScaler"]


def test_centering_sparse_input_is_a_value_error_as_in_scikit_learn():
    X = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match="Cannot center sparse"):
        skp.StandardScaler().fit(X)
    with pytest.raises(ValueError, match="with_mean=False"):
        ZScoreScaler().fit(X)
    for ours, theirs in ((MinMaxScaler(), skp.MinMaxScaler()),):
        for est in (ours, theirs):
            with pytest.raises(TypeError):
                est.fit(X)


@pytest.mark.parametrize("cls", [MinMaxScaler, DecimalScaler, LogScaler])
def test_an_unsupported_fit_parameter_names_the_public_class(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.fit\(\) got an unexpected"):
        cls().fit([[1.0]], sample_weight=[1.0])
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.partial_fit\(\) got an unexpected"):
        cls().partial_fit([[1.0]], sample_weight=[1.0])


def test_docstrings_offer_sparse_input_only_where_it_is_taken():
    assert "sparse" not in MinMaxScaler.fit.__doc__.split("y :")[0]
    assert "sparse" not in BatchNormScaler.transform.__doc__.split("copy :")[0]
    assert "sparse matrix" in DecimalScaler.fit.__doc__
    assert "with_mean=False" in ZScoreScaler.fit.__doc__
