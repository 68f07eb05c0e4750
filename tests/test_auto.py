"""AutoScaler: each rule on a column built to trigger it, the model hints and
overrides, the report, and the estimator plumbing (frames, persistence,
partial_fit, errors).  The methods themselves are checked against their own
oracles elsewhere; here each column's output must equal the output of the
method the report names, fitted on that column alone."""

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skscale
from skscale import (AutoScaler, LogScaler, MinMaxScaler, RobustScaler, Scaler,
                     ZScoreScaler)

N = 2000


def _columns(seed=0):
    """One column per diagnosis, named after it."""
    rng = np.random.default_rng(seed)
    outliers = rng.normal(0, 1, N)
    outliers[rng.random(N) < 0.02] = 500.0  # 2% gross errors
    return {
        "empty": np.full(N, np.nan),
        "constant": np.full(N, 4.5),
        "binary": rng.integers(0, 2, N).astype(float),
        "yes_no": np.where(rng.random(N) < 0.3, 5.0, -2.0),  # two values, not 0/1
        "pixels": rng.integers(0, 256, N).astype(float),
        "sparse": np.where(rng.random(N) < 0.8, 0.0, rng.normal(3, 1, N)),
        "heavy_tail": rng.lognormal(1, 1, N),
        "counts": rng.negative_binomial(1, 0.1, N).astype(float),  # geometric: skewed
        "outliers": outliers,
        "ordinary": rng.normal(100, 15, N),
        "uniform": rng.uniform(-3, 7, N),
        "negative_tail": -rng.lognormal(0, 1.5, N),  # a heavy tail, but negative: no log
    }


def _frame(seed=0):
    return pd.DataFrame(_columns(seed))


EXPECTED = {  # column -> (diagnosis, method)
    "empty": ("empty", "passthrough"), "constant": ("constant", "zscore"),
    "binary": ("binary", "passthrough"), "yes_no": ("binary", "minmax"),
    "pixels": ("bounded", "minmax"), "sparse": ("sparse", "zscore"),
    "heavy_tail": ("heavy_tail", "log + zscore"), "outliers": ("outliers", "robust"),
    "ordinary": ("ordinary", "zscore"), "uniform": ("ordinary", "zscore"),
    "negative_tail": ("outliers", "robust"),
}


def test_each_rule_on_a_column_built_to_trigger_it():
    report = AutoScaler().fit(_frame()).report_.set_index("column")
    for name, (diagnosis, method) in EXPECTED.items():
        assert (report.loc[name, "diagnosis"], report.loc[name, "method"]) == \
            (diagnosis, method), (name, report.loc[name, "reason"])


def test_counts_get_log1p_and_skewness_shrinks():
    report = AutoScaler().fit(_frame()).report_.set_index("column")
    assert report.loc["counts", "diagnosis"] == "heavy_tail"
    assert report.loc["counts", "params"] == "offset=1"  # 5th percentile of the positive counts
    heavy = AutoScaler().fit(_frame()[["heavy_tail"]])
    (_, (log, _)), = heavy.groups_
    assert log.offset == np.percentile(_frame()["heavy_tail"], 5)  # all positive


def test_each_column_is_what_its_named_method_gives_on_it_alone():
    X = _frame()
    auto = AutoScaler().fit(X)
    out = auto.transform(X)
    chains = {j: chain for cols, chain in auto.groups_ for j in cols}
    for j, row in auto.report_.iterrows():
        col = X[[row["column"]]].to_numpy()
        steps = [clone(est) for est in chains[j]]
        assert " + ".join(type(e).__name__ for e in steps) == " + ".join(
            type(skscale.SCALERS[m]()).__name__ for m in row["method"].split(" + ")
            if m != "passthrough")
        want = col
        for est in steps:
            want = est.fit_transform(want)
        np.testing.assert_allclose(out[:, j], want[:, 0], rtol=1e-12, atol=1e-12,
                                   err_msg=row["column"])
    np.testing.assert_allclose(auto.inverse_transform(out), X.to_numpy(), rtol=1e-12,
                               atol=1e-9)


def test_reasons_read_as_sentences_with_the_measured_numbers():
    report = AutoScaler().fit(_frame()).report_.set_index("column")["reason"]
    assert report["constant"] == ("constant (every value is 4.5): mapped to 0; it carries no"
                                  " information")
    assert report["binary"] == "two values, 0 and 1: an indicator, left as it is"
    assert report["yes_no"] == "two values, -2 and 5: mapped to 0 and 1, an indicator"
    assert report["pixels"].startswith("integers from 0 to 255 within 0..255 (8-bit values)")
    assert report["sparse"].startswith("80% zeros: divided by its standard deviation")
    assert "quantile skewness" in report["heavy_tail"] and "after log(x + " in report["heavy_tail"]
    assert "of values beyond 3 IQR" in report["outliers"]
    for reason in report:
        assert not reason[0].isupper() and "nan" not in reason and ": " in reason


def test_report_holds_the_measures_it_decided_on():
    X = _frame()
    report = AutoScaler().fit(X).report_.set_index("column")
    ordinary = X["ordinary"]
    assert report.loc["ordinary", "count"] == N and report.loc["empty", "count"] == 0
    np.testing.assert_allclose(report.loc["ordinary", "mean"], ordinary.mean(), rtol=1e-12)
    np.testing.assert_allclose(report.loc["ordinary", "std"], ordinary.std(ddof=0), rtol=1e-12)
    np.testing.assert_allclose(report.loc["ordinary", "p25"], np.percentile(ordinary, 25),
                               rtol=1e-12)
    iqr = np.subtract(*np.percentile(X["outliers"], [75, 25]))
    q1, q3 = np.percentile(X["outliers"], [25, 75])
    far = ((X["outliers"] < q1 - 3 * iqr) | (X["outliers"] > q3 + 3 * iqr)).mean()
    assert report.loc["outliers", "far_out"] == pytest.approx(far)
    assert report.loc["sparse", "zeros"] == pytest.approx((X["sparse"] == 0).mean())
    assert report.loc["pixels", "integral"] and not report.loc["ordinary", "integral"]
    p10, p50, p90 = np.percentile(X["heavy_tail"], [10, 50, 90])
    assert report.loc["heavy_tail", "skew"] == pytest.approx((p90 + p10 - 2 * p50) / (p90 - p10))


def test_model_hints_adjust_the_rules():
    X = _frame()
    tree = AutoScaler(model="tree").fit(X)
    assert set(tree.report_["method"]) == {"passthrough"}
    np.testing.assert_array_equal(tree.transform(X), X.to_numpy())
    distance = AutoScaler(model="distance").fit(X).report_.set_index("column")
    assert distance.loc["binary", "method"] == "zscore"
    neural = AutoScaler(model="neural").fit(X).report_.set_index("column")
    assert neural.loc["sparse", "params"] == ""  # centered
    linear = AutoScaler(model="linear").fit(X).report_
    pd.testing.assert_frame_equal(linear, AutoScaler().fit(X).report_)


def test_rules_override_a_diagnosis_and_thresholds_move_it():
    X = _frame()
    auto = AutoScaler(rules={"outliers": "zscore",
                             "heavy_tail": [("log", {"offset": 1.0}), "minmax"],
                             "binary": "passthrough"}).fit(X)
    report = auto.report_.set_index("column")
    assert report.loc["outliers", "method"] == "zscore"
    assert report.loc["outliers", "reason"].endswith("as rules['outliers'] says")
    assert report.loc["heavy_tail", "method"] == "log + minmax"
    assert report.loc["yes_no", "method"] == "passthrough"
    assert AutoScaler(sparse_zeros=0.9).fit(X).report_.set_index(
        "column").loc["sparse", "diagnosis"] != "sparse"
    assert AutoScaler(skew=5.0).fit(X).report_.set_index(
        "column").loc["heavy_tail", "diagnosis"] != "heavy_tail"
    with pytest.raises(ValueError, match=r"rules\['outliers'\] must be a column method"):
        AutoScaler(rules={"outliers": "median"}).fit(X)


def test_bounds_declare_a_known_range():
    X = _frame()
    auto = AutoScaler(bounds={"uniform": (-10, 10)}).fit(X)
    row = auto.report_.set_index("column").loc["uniform"]
    assert (row["diagnosis"], row["params"]) == ("bounded", "data_range=(-10, 10)")
    j = list(X.columns).index("uniform")
    np.testing.assert_allclose(auto.transform(X)[:, j], (X["uniform"] + 10) / 20, rtol=1e-12)
    arr = AutoScaler(bounds={j: (-10, 10)}).fit(X.to_numpy())
    assert arr.report_["diagnosis"][j] == "bounded"
    with pytest.raises(ValueError, match="bounds names 'nope'"):
        AutoScaler(bounds={"nope": (0, 1)}).fit(X)


def test_partial_fit_decides_on_the_first_batch_only():
    X = _frame()
    first = X.iloc[:500]
    auto = AutoScaler().partial_fit(first)
    decided = auto.report_.copy()
    later = X.iloc[500:].copy()
    later["binary"] = 7.0  # no longer binary; the decision stands
    auto.partial_fit(later)
    pd.testing.assert_frame_equal(auto.report_, decided)
    # each column's estimator has seen every row
    j = list(X.columns).index("ordinary")
    for est in (auto, AutoScaler().fit(first).partial_fit(later)):  # fit, then more rows
        cols, (zscore,) = next((cols, chain) for cols, chain in est.groups_ if j in cols)
        assert type(zscore) is ZScoreScaler and zscore.n_samples_seen_ == N
        np.testing.assert_allclose(zscore.mean_[list(cols).index(j)], X["ordinary"].mean(),
                                   rtol=1e-12)
        robust = next(chain[0] for _, chain in est.groups_ if chain and
                      type(chain[0]) is RobustScaler)
        assert robust.n_samples_seen_ == N


def test_frames_in_and_out():
    X = _frame()
    out = AutoScaler().set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == list(X.columns) and out.index.equals(X.index)
    out = AutoScaler().set_output(transform="polars").fit_transform(pl.from_pandas(X))
    assert isinstance(out, pl.DataFrame) and out.columns == list(X.columns)
    np.testing.assert_array_equal(AutoScaler().fit(X).get_feature_names_out(), X.columns)
    f32 = AutoScaler().fit(X.astype(np.float32)).transform(X.astype(np.float32))
    assert f32.dtype == np.float32


def test_persists_with_joblib_pickle_and_skops(tmp_path):
    X = _frame()
    auto = AutoScaler().fit(X)
    want = auto.transform(X)
    buf = io.BytesIO()
    joblib.dump(auto, buf)
    buf.seek(0)
    np.testing.assert_array_equal(joblib.load(buf).transform(X), want)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(auto)).transform(X), want)
    path = tmp_path / "auto.skops"
    skscale.io.dump(auto, path)
    loaded = skscale.io.load(path)
    np.testing.assert_array_equal(loaded.transform(X), want)
    pd.testing.assert_frame_equal(loaded.report_, auto.report_)


def test_errors_name_the_users_column():
    X = _frame()
    auto = AutoScaler().fit(X)
    bad = X.copy()
    bad.loc[3, "outliers"] = np.inf
    with pytest.raises(ValueError, match="infinity.*'outliers'"):
        auto.transform(bad)
    with pytest.raises(ValueError, match="infinity.*'outliers'"):
        AutoScaler().fit(bad)
    arr = X.to_numpy().copy()
    arr[3, 8] = np.inf
    with pytest.raises(ValueError, match=r"infinity.*column 8\b"):
        AutoScaler().fit(X.to_numpy()).transform(arr)
    before = pickle.dumps(auto)
    with pytest.raises(ValueError):
        auto.partial_fit(bad)
    assert pickle.dumps(auto) == before  # a failed partial_fit changes nothing


def test_refuses_dask_and_device_arrays_with_what_to_do():
    import dask.array as da
    import sklearn
    import torch

    with pytest.raises(TypeError, match="sample.*map_partitions"):
        AutoScaler().fit(da.from_array(_frame().to_numpy()))
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match=r"X\.cpu\(\)\.numpy\(\)"):
            AutoScaler().fit(torch.zeros(5, 2, dtype=torch.float64))


def test_scaler_auto_in_a_grid_search():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.lognormal(0, 1, 300), rng.normal(0, 1, 300)])
    y = (np.log(X[:, 0]) + X[:, 1] > 0).astype(int)
    grid = GridSearchCV(make_pipeline(Scaler(), LogisticRegression()),
                        {"scaler__method": ["zscore", "auto"]}, cv=3).fit(X, y)
    assert grid.best_params_ == {"scaler__method": "auto"}  # the log step makes it linear
    assert type(grid.best_estimator_[0].scaler_) is AutoScaler


def test_bounds_come_before_every_other_rule():
    X = pd.DataFrame({"pct": [20.0, 40.0] * 10, "level": [3.0] * 20})
    auto = AutoScaler(bounds={"pct": (0, 100), "level": (0, 10)}).fit(X)
    assert list(auto.report_["diagnosis"]) == ["bounded", "bounded"]
    np.testing.assert_allclose(auto.transform(X)[:2], [[0.2, 0.3], [0.4, 0.3]], rtol=1e-12)
    for bad in ({True: (0, 1)}, {0: 5}, {"pct": (3, 1)}):
        with pytest.raises(ValueError, match="bounds"):
            AutoScaler(bounds=bad).fit(X)


def test_eight_bit_needs_the_full_scale_and_ids_are_not_bounded():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"id": rng.permutation(60000)[:2000].astype(float),
                      "fahrenheit": rng.integers(10, 130, 2000).astype(float),
                      "counts": rng.negative_binomial(1, 0.05, 2000).astype(float)})
    report = AutoScaler().fit(X).report_.set_index("column")
    assert "bounded" not in set(report["diagnosis"]), report["reason"].tolist()


def test_rules_are_checked_when_fit_starts():
    X = _frame()
    with pytest.raises(ValueError, match="'outlier', which is not a diagnosis"):
        AutoScaler(rules={"outlier": "zscore"}).fit(X)
    with pytest.raises(ValueError, match=r"rules\['empty'\] must be a column method"):
        AutoScaler(rules={"empty": "nonsense"}).fit(X[["ordinary"]])  # no empty column here
    with pytest.raises(ValueError, match="column method"):
        AutoScaler(rules={"ordinary": "unit_norm"}).fit(X)  # it would mix the columns
    listed = AutoScaler(rules={"ordinary": ("minmax", {"data_range": [-500, 500]}),
                               "outliers": ["passthrough", "robust"]}).fit(X)
    row = listed.report_.set_index("column").loc["ordinary"]
    assert (row["method"], row["params"]) == ("minmax", "data_range=(-500, 500)")


def test_a_failed_refit_leaves_the_fit_it_had():
    X = _frame()
    auto = AutoScaler().fit(X)
    before = pickle.dumps(auto)
    bad = X.copy()
    bad.loc[5, "ordinary"] = np.inf
    with pytest.raises(ValueError, match="'ordinary' at row 5"):
        auto.fit(bad)
    assert pickle.dumps(auto) == before


def test_missing_values_stay_missing_in_frame_output():
    X = _frame()[["ordinary", "heavy_tail", "binary"]].iloc[:300]
    frame = pl.from_pandas(X).with_columns(pl.when(pl.int_range(pl.len()) % 7 == 0)
                                           .then(None).otherwise(pl.col("ordinary"))
                                           .alias("ordinary"))
    out = AutoScaler().set_output(transform="polars").fit_transform(frame)
    assert out["ordinary"].null_count() == frame["ordinary"].null_count() > 0
    assert not out["ordinary"].is_nan().any()
    nullable = X.astype("Float64")
    nullable.iloc[3, 1] = pd.NA
    out = AutoScaler().set_output(transform="pandas").fit_transform(nullable)
    assert out["heavy_tail"].isna().sum() == 1 and pd.isna(out.iloc[3, 1])


def test_column_estimators_errors_name_the_users_column_and_what_to_do():
    X = _frame()[["heavy_tail", "ordinary"]]
    auto = AutoScaler().fit(X)
    rng = np.random.default_rng(1)
    small = pd.DataFrame({"a": rng.normal(0, 1, 100), "tiny": rng.normal(0, 1e-3, 100)})
    big = small.copy()
    big.loc[0, "tiny"] = 1e308  # scales past float64 (an error message that starts "Column")
    with pytest.raises(ValueError, match=r"^Column 'tiny' at row 0"):
        AutoScaler().fit(small).transform(big)
    below = X.copy()
    below.loc[0, "heavy_tail"] = -1e6
    with pytest.raises(ValueError, match=r"'heavy_tail'.*AutoScaler chose a log step.*rules="):
        auto.transform(below)


def test_streaming_robust_columns_without_datasketches_names_them(monkeypatch):
    monkeypatch.setattr("skscale._quantiles.available", lambda: False)
    monkeypatch.setitem(__import__("sys").modules, "datasketches", None)
    X = _frame()[["outliers", "ordinary"]]
    auto = AutoScaler().fit(X)  # exact fits need nothing more
    for call in (auto.partial_fit, AutoScaler().partial_fit):
        with pytest.raises(ImportError, match=r"robust scaling for column 'outliers'.*sketch"):
            call(X)


def test_a_declared_range_narrower_than_the_data_is_said_in_the_reason():
    X = _frame()[["uniform"]]  # -3 .. 7
    reason = AutoScaler(bounds={"uniform": (0, 5)}).fit(X).report_["reason"][0]
    assert reason.startswith("a known range 0..5 (though the training values reach -2.99")
