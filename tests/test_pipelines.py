"""skscale estimators as pipeline steps: grid search, column transformer, persistence."""

import io

import joblib
import mpmath
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from skscale import SCALERS, DecimalScaler, LogScaler, MinMaxScaler, Scaler, ZScoreScaler

from reference import LOG1P_ULPS, correctly_rounded, ulps


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _pipe():
    return Pipeline([("scale", Scaler()), ("clf", LogisticRegression(max_iter=2000))])


def test_grid_search_over_methods_in_parallel(wine):
    X_train, X_test, y_train, y_test = wine
    methods = list(SCALERS)  # every method, the deep-learning ones included
    search = GridSearchCV(_pipe(), {"scale__method": methods}, cv=3, n_jobs=2)
    search.fit(X_train, y_train)
    assert list(search.cv_results_["param_scale__method"]) == methods
    # each candidate's score is what fitting that method by hand gives
    for method, score in zip(methods, search.cv_results_["mean_test_score"]):
        by_hand = GridSearchCV(
            Pipeline([("scale", SCALERS[method]()), ("clf", LogisticRegression(max_iter=2000))]),
            {}, cv=3).fit(X_train, y_train)
        assert score == pytest.approx(by_hand.best_score_, abs=1e-12)
    assert search.score(X_test, y_test) > 0.9
    grid = [{"scale__method": ["group_norm"], "scale__params": [{"num_groups": 1},
                                                                {"n_channels": 13}]},
            {"scale__method": ["instance_norm"], "scale__params": [{"n_channels": 1}]},
            {"scale__method": ["batch_norm"], "scale__params": [{"batch_size": 32},
                                                                {"momentum": 0.1}]}]
    search = GridSearchCV(_pipe(), grid, cv=3, n_jobs=2, error_score="raise")
    search.fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 5


def test_grid_search_reaches_method_parameters(wine):
    X_train, _, y_train, _ = wine
    grid = [{"scale__method": ["minmax"],
             "scale__params": [{"feature_range": (0, 1)}, {"feature_range": (-1, 1)}]},
            {"scale__method": ["zscore"], "scale__params": [{"ddof": 1}]}]
    search = GridSearchCV(_pipe(), grid, cv=3).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 3
    fitted = search.best_estimator_.named_steps["scale"].scaler_
    assert type(fitted) in (MinMaxScaler, ZScoreScaler)


def test_joblib_round_trip_is_bit_identical(wine, tmp_path):
    X_train, X_test, y_train, _ = wine
    for method in SCALERS:
        pipe = _pipe().set_params(scale__method=method).fit(X_train, y_train)
        joblib.dump(pipe, tmp_path / "pipe.joblib")
        loaded = joblib.load(tmp_path / "pipe.joblib")
        np.testing.assert_array_equal(loaded.predict_proba(X_test), pipe.predict_proba(X_test))
        np.testing.assert_array_equal(loaded[0].transform(X_test), pipe[0].transform(X_test))


def test_column_transformer_gives_columns_different_methods(wine):
    X_train, X_test, _, _ = wine
    ct = ColumnTransformer([
        ("minmax", MinMaxScaler(), ["alcohol", "ash"]),
        ("log", LogScaler(), ["proline", "magnesium"]),
        ("decimal", DecimalScaler(), ["hue"]),
    ], remainder=ZScoreScaler()).set_output(transform="pandas")
    out = ct.fit(X_train).transform(X_test)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:5]) == ["minmax__alcohol", "minmax__ash", "log__proline",
                                     "log__magnesium", "decimal__hue"]
    # numpy's own log1p differs by an ulp from one CPU to another: compare with
    # the correctly rounded value instead.
    expected = correctly_rounded(mpmath.log1p, X_test["proline"].to_numpy(dtype=float))
    assert ulps(out["log__proline"], expected).max() <= LOG1P_ULPS
    np.testing.assert_array_equal(
        out[["minmax__alcohol", "minmax__ash"]],
        MinMaxScaler().fit(X_train[["alcohol", "ash"]]).transform(X_test[["alcohol", "ash"]]))


def test_scaler_delegates_everything():
    X = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 50.0]])
    s = Scaler("zscore", params={"ddof": 1}).fit(X)
    direct = ZScoreScaler(ddof=1).fit(X)
    np.testing.assert_array_equal(s.transform(X), direct.transform(X))
    np.testing.assert_array_equal(s.inverse_transform(s.transform(X)),
                                  direct.inverse_transform(direct.transform(X)))
    streamed = Scaler("minmax")
    streamed.partial_fit(X[:2])
    streamed.partial_fit(X[2:])
    np.testing.assert_array_equal(streamed.transform(X), MinMaxScaler().fit_transform(X))
    assert not hasattr(Scaler("unit_norm"), "partial_fit")
    with pytest.raises(ValueError, match="'method' parameter of Scaler must be"):
        Scaler("nope").fit(X)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        Scaler("zscore", params={"nope": 1}).fit(X)
    buf = io.BytesIO()
    joblib.dump(s, buf)
    buf.seek(0)
    np.testing.assert_array_equal(joblib.load(buf).transform(X), s.transform(X))
