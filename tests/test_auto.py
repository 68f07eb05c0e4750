"""AutoScaler: each kind and each shape decision on a column built to trigger
it, with one row added, removed or altered (no decision may flip), the model
hints and overrides, the report, the sample decisions are made on (partial_fit,
Dask, devices), and the estimator plumbing (frames, persistence, errors).  The
methods themselves are checked against their own oracles elsewhere; here each
column's output must equal the output of the method the report names, fitted on
that column alone, and the log, power and squashing steps numpy's log,
scikit-learn's PowerTransformer and skrub's SquashingScaler."""

import io
import pickle
import re

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
from skscale import AutoScaler, Scaler, ZScoreScaler

N = 2000


def _columns(seed=0):
    """One column per kind and per diagnosis, named after what it is built to be."""
    rng = np.random.default_rng(seed)
    outliers = rng.normal(0, 1, N)
    outliers[rng.random(N) < 0.02] = 500.0  # 2% gross errors
    quarter = np.tile(np.repeat([1.0, 2, 3, 4], [51, 51, 51, 50]), N // 203 + 1)[:N]
    return {
        "empty": np.full(N, np.nan),
        "constant": np.full(N, 4.5),
        "binary": rng.integers(0, 2, N).astype(float),
        "yes_no": np.where(rng.random(N) < 0.3, 5.0, -2.0),  # two values, not 0/1
        "quarter": rng.permutation(quarter),  # a balanced 4-level code
        "children": rng.poisson(1.5, N).astype(float),  # few levels: a code, not a count
        "patient": rng.permutation(60000)[:N].astype(float),  # IDs, distinct and spread evenly
        "row": 1000.0 + np.arange(N),  # IDs in order
        "built": rng.integers(1950, 2020, N).astype(float),  # years, from the values alone
        "sale_month": rng.integers(1, 13, N).astype(float),  # a month, by its name
        "level": rng.integers(1, 13, N).astype(float),  # the same values, no name: a code
        "pixels": rng.integers(0, 256, N).astype(float),  # one column in 0..255: not 8-bit
        "sparse": np.where(rng.random(N) < 0.8, 0.0, rng.normal(3, 1, N)),
        "heavy_tail": rng.lognormal(1, 1, N),  # positive: plain log
        "wage": rng.lognormal(2.5, 0.55, N),  # a mild log-normal tail: still log
        "counts": rng.negative_binomial(1, 0.1, N).astype(float),  # zeros: log(1 + x)
        "waiting": rng.exponential(3, N),  # Box-Cox fits far better than log
        "outliers": outliers,
        "t3": rng.standard_t(3, N),  # symmetric heavy tails: no map fixes them
        "ordinary": rng.normal(100, 15, N),
        "uniform": rng.uniform(-3, 7, N),
        "visits": rng.poisson(30, N).astype(float),  # a count close to normal
        "negative_tail": -rng.lognormal(0, 1.5, N),  # a heavy tail, but negative
        "left_skew": 12 - rng.exponential(1, N),  # positive, skewed to the left
        "width": np.round(rng.normal(57.4, 2.2, N)),  # a measurement rounded: 16 levels, no code
    }


def _frame(seed=0):
    return pd.DataFrame(_columns(seed))


EXPECTED = {  # column -> (kind, diagnosis, method)
    "empty": ("empty", "empty", "passthrough"),
    "constant": ("constant", "constant", "zscore"),
    "binary": ("binary", "binary", "passthrough"), "yes_no": ("binary", "binary", "minmax"),
    "quarter": ("code", "code", "zscore"), "children": ("code", "code", "zscore"),
    "patient": ("id", "id", "zscore"), "row": ("id", "id", "zscore"),
    "built": ("calendar", "calendar", "zscore"), "sale_month": ("calendar", "calendar", "zscore"),
    "level": ("code", "code", "zscore"),
    "pixels": ("count", "ordinary", "zscore"),
    "sparse": ("continuous", "sparse", "zscore"),
    "heavy_tail": ("continuous", "heavy_tail", "log + zscore"),
    "wage": ("continuous", "heavy_tail", "log + zscore"),
    "counts": ("count", "heavy_tail", "log + zscore"),
    "waiting": ("continuous", "heavy_tail", "power"),
    "outliers": ("continuous", "outliers", "squashing"),
    "t3": ("continuous", "outliers", "squashing"),
    "ordinary": ("continuous", "ordinary", "zscore"),
    "uniform": ("continuous", "ordinary", "zscore"),
    "visits": ("count", "ordinary", "zscore"),
    "negative_tail": ("continuous", "skewed", "power"),
    "left_skew": ("continuous", "skewed", "power"),
    "width": ("count", "ordinary", "zscore"),
}
PARAMS = {"heavy_tail": "offset=0", "wage": "offset=0", "counts": "offset=1",
          "waiting": "method='box-cox'", "negative_tail": "method='yeo-johnson'",
          "left_skew": "method='yeo-johnson'", "sparse": "with_mean=False"}


def _decision(report, name):
    row = report.loc[name]
    return row["kind"], row["diagnosis"], row["method"], row["params"]


def test_each_kind_and_shape_on_a_column_built_to_trigger_it():
    report = AutoScaler().fit(_frame()).report_.set_index("column")
    for name, want in EXPECTED.items():
        assert _decision(report, name) == (*want, PARAMS.get(name, "")), \
            (name, report.loc[name, "reason"])


@pytest.mark.parametrize("seed", [1, 2])
def test_the_decisions_hold_on_other_draws(seed):
    report = AutoScaler().fit(_frame(seed)).report_.set_index("column")
    for name, want in EXPECTED.items():
        assert _decision(report, name)[:3] == want, (name, report.loc[name, "reason"])


def _perturbed(x, kind):
    """``x`` with one row added, removed or altered, in the ways that keep
    the column's kind (no third value for a binary column, no new sign)."""
    finite = x[~np.isnan(x)]
    if not finite.size:
        yield "drop the first", x[1:]
        yield "add a missing value", np.r_[x, np.nan]
        return
    lo, hi, mid = finite.min(), finite.max(), np.median(finite)
    top = np.argmax(np.where(np.isnan(x), -np.inf, x))
    bottom = np.argmin(np.where(np.isnan(x), np.inf, x))
    yield "drop the largest", np.delete(x, top)
    yield "drop the smallest", np.delete(x, bottom)
    yield "drop the first", x[1:]
    yield "repeat the largest", np.r_[x, hi]
    yield "repeat the smallest", np.r_[x, lo]
    if kind in ("empty", "constant", "binary"):
        return
    yield "add the median", np.r_[x, np.round(mid) if kind != "continuous" else mid]
    far = hi + 3 * (hi - lo) if hi > 0 or lo >= 0 else lo - 3 * (hi - lo)
    if kind == "calendar":
        far = hi  # (a year beyond the calendar would make it no year)
    yield "add a far value", np.r_[x, far]
    altered = x.copy()
    altered[bottom] = far
    yield "alter the smallest to a far value", altered
    altered = x.copy()
    altered[top] = mid if kind == "continuous" else np.round(mid)
    yield "alter the largest to the median", altered


@pytest.mark.parametrize("name", list(EXPECTED))
def test_no_decision_flips_on_one_row(name):
    x = _frame()[name].to_numpy()
    want = _decision(AutoScaler().fit(pd.DataFrame({name: x})).report_.set_index("column"),
                     name)
    assert want[:3] == EXPECTED[name]
    for how, y in _perturbed(x, EXPECTED[name][0]):
        got = AutoScaler().fit(pd.DataFrame({name: y})).report_.set_index("column")
        assert _decision(got, name) == want, (how, got.loc[name, "reason"])


def test_the_issue_cases_balanced_codes_and_small_ranges():
    # a balanced 4-level code is a code whichever level has one row fewer
    for counts in ([51, 51, 51, 50], [50, 50, 50, 50], [50, 51, 51, 51]):
        x = np.repeat([1.0, 2, 3, 4], counts)
        row = AutoScaler().fit(pd.DataFrame({"quarter": x})).report_.iloc[0]
        assert (row["kind"], row["method"], row["distinct"]) == ("code", "zscore", 4)
    # durations in days within 0..255 are counts, not pixels, with or without a 300
    rng = np.random.default_rng(3)
    days = rng.negative_binomial(2, 0.06, 600).astype(float)
    days = np.clip(days, 0, 255)
    a = AutoScaler().fit(days[:, None]).report_.iloc[0]
    b = AutoScaler().fit(np.r_[days, 300.0][:, None]).report_.iloc[0]
    assert a["diagnosis"] != "bounded"
    assert (a["kind"], a["diagnosis"], a["method"]) == (b["kind"], b["diagnosis"], b["method"])


def test_eight_bit_values_need_many_columns_sharing_the_range():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (500, 12)).astype(float)
    image[:, 0] = rng.integers(0, 40, 500)  # a dark corner of the same images
    report = AutoScaler().fit(image).report_
    assert set(report["diagnosis"]) == {"bounded"}
    assert set(report["params"]) == {"data_range=(0, 255)"}
    assert "12 columns of this table sharing 0..255 (8-bit values)" in report["reason"][0]
    # many count columns of different ranges share none
    counts = np.column_stack([rng.negative_binomial(1, p, 500) for p in np.linspace(0.01, 0.5, 10)])
    assert "bounded" not in set(AutoScaler().fit(counts.astype(float)).report_["diagnosis"])
    # the digits' pixels share 0..16: min-max over it, in fit and in partial_fit
    from sklearn.datasets import load_digits

    digits = load_digits().data
    report = AutoScaler().fit(digits).report_
    varying = np.array([np.unique(c).size > 2 for c in digits.T])  # (not constant or binary)
    assert set(report["params"][varying]) == {"data_range=(0, 16)"}
    streamed = AutoScaler()
    for i in range(0, len(digits), 600):
        streamed.partial_fit(digits[i:i + 600])
    pd.testing.assert_frame_equal(streamed.report_, report)
    np.testing.assert_allclose(streamed.transform(digits)[:, varying], digits[:, varying] / 16,
                               rtol=1e-12)
    one = AutoScaler().fit(np.column_stack([image[:, 1], rng.normal(0, 1, 500)])).report_
    assert one["diagnosis"][0] != "bounded"


def test_a_shared_range_does_not_flip_on_one_row():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (400, 10)).astype(float)
    image[:, :3] = rng.integers(0, 60, (400, 3))  # dark columns: their own shape, same unit
    want = AutoScaler().fit(image).report_[["kind", "diagnosis", "method", "params"]]
    assert set(want["params"]) == {"data_range=(0, 255)"}
    changed = image.copy()
    changed[0, 0] = 255.0  # one bright pixel in a dark column
    for how, X in (("drop a row", image[1:]), ("repeat a row", np.r_[image, image[:1]]),
                   ("alter a value", changed), ("add a black row", np.r_[image, np.zeros((1, 10))])):
        got = AutoScaler().fit(X).report_[["kind", "diagnosis", "method", "params"]]
        pd.testing.assert_frame_equal(got, want, obj=how)


def test_counts_get_log1p_and_positive_values_plain_log():
    X = _frame()
    auto = AutoScaler().fit(X[["heavy_tail", "counts"]])
    chains = {int(j): chain for cols, chain in auto.groups_ for j in cols}
    for j, (name, offset) in enumerate([("heavy_tail", 0.0), ("counts", 1.0)]):
        log, zscore = chains[j]
        assert log.offset == offset
        want = np.log(X[name].to_numpy() + offset)  # the oracle: numpy's log, then z-scores
        want = (want - want.mean()) / want.std()
        np.testing.assert_allclose(auto.transform(X[["heavy_tail", "counts"]])[:, j], want,
                                   rtol=1e-9, atol=1e-12)


def test_mild_skew_is_left_to_zscore_and_marked_skew_is_reshaped():
    # Gamma columns of known skewness (2 / sqrt(shape)), checked with scipy:
    # shape 32 (0.35) and 12 (0.58) are mild, shape 2 (1.41) and 1 (2) marked.
    from scipy.stats import skew
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.gamma(k, 1.0, 5000) for k in (32, 12, 2, 1)])
    assert np.allclose(skew(X), 2 / np.sqrt([32, 12, 2, 1]), rtol=0.2)
    report = AutoScaler().fit(X).report_
    assert list(report["method"][:2]) == ["zscore", "zscore"]
    assert set(report["method"][2:]) <= {"power", "log + zscore"}
    assert (report["normality"][:2] < 0.4).all() and (report["normality"][2:] > 0.6).all()
    # the threshold is a parameter: from 0.2 the milder columns get a map too
    assert (AutoScaler(shape=0.2).fit(X).report_["method"] != "zscore").sum() >= 3


def test_power_and_squashing_steps_agree_with_sklearn_and_skrub():
    from skrub import SquashingScaler
    from sklearn.preprocessing import PowerTransformer

    X = _frame()[["waiting", "negative_tail", "left_skew", "outliers"]]
    out = AutoScaler().fit_transform(X)
    for j, method in enumerate(["box-cox", "yeo-johnson", "yeo-johnson"]):
        want = PowerTransformer(method=method).fit_transform(X.iloc[:, [j]])[:, 0]
        np.testing.assert_allclose(out[:, j], want, rtol=1e-5, atol=1e-5, err_msg=method)
    want = SquashingScaler().fit_transform(X[["outliers"]].to_numpy())[:, 0]
    np.testing.assert_allclose(out[:, 3], want, rtol=1e-9, atol=1e-12)


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


def test_reasons_read_as_sentences_naming_what_decided():
    report = AutoScaler().fit(_frame()).report_.set_index("column")["reason"]
    assert report["constant"] == ("constant (every value is 4.5): mapped to 0; it carries no"
                                  " information")
    assert report["binary"] == "two values, 0 and 1: an indicator, left as it is"
    assert report["yes_no"] == "two values, -2 and 5: mapped to 0 and 1, an indicator"
    assert report["quarter"] == ("4 distinct integers, the twelve commonest holding 100% of"
                                 " the rows, a code or level: z-scored, as its values are levels,"
                                 " not quantities, only so that every column is on one scale"
                                 " whatever the model (model='linear' leaves it as it is)")
    assert report["row"].startswith("integers distinct in 100% of the rows and in order in 100%")
    assert report["patient"].startswith("integers distinct in 100% of the rows, spread evenly")
    assert report["built"].startswith("integers from 1950 to 2019, which read as years")
    assert report["sale_month"].startswith("integers from 1 to 12, a month field (named"
                                           " 'sale_month', and the values fit)")
    assert re.match(r"\d\d% zeros: divided by its standard deviation", report["sparse"])
    assert "after log(x)" in report["heavy_tail"] and "distance from a normal shape" in \
        report["heavy_tail"]
    assert "after log(1 + x)" in report["counts"]
    assert "after Box-Cox" in report["waiting"] and "log " in report["waiting"]
    assert report["negative_tail"].startswith("negative values and a left-skewed shape")
    assert "after Yeo-Johnson" in report["left_skew"]
    assert "of values beyond 3 IQR" in report["outliers"]
    for reason in report:
        assert not reason[0].isupper() and "nan" not in reason and ": " in reason


def test_report_holds_the_measures_it_decided_on():
    X = _frame()
    report = AutoScaler().fit(X).report_.set_index("column")
    ordinary = X["ordinary"]
    assert report.loc["ordinary", "count"] == N and report.loc["empty", "count"] == 0
    assert set(report["sample"]) == {N}
    np.testing.assert_allclose(report.loc["ordinary", "mean"], ordinary.mean(), rtol=1e-12)
    np.testing.assert_allclose(report.loc["ordinary", "std"], ordinary.std(ddof=0), rtol=1e-12)
    np.testing.assert_allclose(report.loc["ordinary", "p25"], np.percentile(ordinary, 25),
                               rtol=1e-12)
    for name in ("quarter", "children", "patient", "ordinary", "binary", "pixels"):
        assert report.loc[name, "distinct"] == X[name].nunique()
    iqr = np.subtract(*np.percentile(X["outliers"], [75, 25]))
    q1, q3 = np.percentile(X["outliers"], [25, 75])
    far = ((X["outliers"] < q1 - 3 * iqr) | (X["outliers"] > q3 + 3 * iqr)).mean()
    assert report.loc["outliers", "far_out"] == pytest.approx(far)
    assert report.loc["sparse", "zeros"] == pytest.approx((X["sparse"] == 0).mean())
    assert report.loc["pixels", "integral"] == 1 and report.loc["ordinary", "integral"] == 0
    p10, p50, p90 = np.percentile(X["heavy_tail"], [10, 50, 90])
    assert report.loc["heavy_tail", "skew"] == pytest.approx((p90 + p10 - 2 * p50) / (p90 - p10))
    # normality: about 0 for normal data, 0.5 for uniform data (the distance of the
    # standardized quantiles from the normal ones)
    assert report.loc["ordinary", "normality"] < 0.1
    assert 0.4 < report.loc["uniform", "normality"] < 0.6


def test_model_hints_adjust_the_rules():
    X = _frame()
    tree = AutoScaler(model="tree").fit(X)
    assert set(tree.report_["method"]) == {"passthrough"}
    np.testing.assert_array_equal(tree.transform(X), X.to_numpy())
    linear = AutoScaler(model="linear").fit(X).report_.set_index("column")
    for name in ("quarter", "patient", "row", "level"):  # codes and IDs: no scaling
        assert linear.loc[name, "method"] == "passthrough", name
        assert "left as it is" in linear.loc[name, "reason"]
    for model in (None, "distance", "neural"):
        report = AutoScaler(model=model).fit(X).report_.set_index("column")
        for name in ("quarter", "patient", "row", "level"):
            assert report.loc[name, "method"] == "zscore", (model, name)
            assert "on one scale" in report.loc[name, "reason"]
        assert report.loc["binary", "method"] == "passthrough"  # 0/1 kept: measured better
    neural = AutoScaler(model="neural").fit(X).report_.set_index("column")
    assert neural.loc["sparse", "params"] == ""  # centered
    # elsewhere the hints agree with none
    plain = AutoScaler().fit(X).report_.set_index("column")
    others = [c for c in X.columns if c not in ("quarter", "children", "patient", "row", "level")]
    pd.testing.assert_frame_equal(linear.loc[others], plain.loc[others])


def test_rules_override_a_diagnosis_and_thresholds_move_it():
    X = _frame()
    auto = AutoScaler(rules={"outliers": "zscore",
                             "heavy_tail": [("log", {"offset": 1.0}), "minmax"],
                             "binary": "passthrough", "code": "quantile"}).fit(X)
    report = auto.report_.set_index("column")
    assert report.loc["outliers", "method"] == "zscore"
    assert report.loc["outliers", "reason"].endswith("as rules['outliers'] says")
    assert report.loc["heavy_tail", "method"] == "log + minmax"
    assert report.loc["yes_no", "method"] == "passthrough"
    assert report.loc["quarter", "method"] == "quantile"
    assert AutoScaler(sparse_zeros=0.9).fit(X).report_.set_index(
        "column").loc["sparse", "diagnosis"] != "sparse"
    assert AutoScaler(shape=50.0).fit(X).report_.set_index(
        "column").loc["heavy_tail", "diagnosis"] != "heavy_tail"
    assert AutoScaler(far_out=0.05).fit(X).report_.set_index(
        "column").loc["outliers", "diagnosis"] != "outliers"
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


def test_partial_fit_decides_on_a_sample_of_every_batch():
    X = _frame()
    X = X.sort_values("heavy_tail", kind="stable").reset_index(drop=True)  # skewed batches
    auto = AutoScaler()
    for i in range(0, N, 250):
        auto.partial_fit(X.iloc[i:i + 250])
    fitted = AutoScaler().fit(X)
    pd.testing.assert_frame_equal(auto.report_, fitted.report_)
    got, want = auto.transform(X), fitted.transform(X)
    streamed = list(auto.report_["method"].isin(["power", "squashing"]))
    exact = ~np.array(streamed)  # (the others' statistics are exact in a stream too)
    np.testing.assert_allclose(got[:, exact], want[:, exact], rtol=1e-9, atol=1e-9)
    # a streamed lambda is found to the root's tolerance, squashing's quartiles from a
    # sketch within its rank error
    np.testing.assert_allclose(got[:, ~exact], want[:, ~exact], rtol=0, atol=0.02)
    # the first batch alone would have decided otherwise
    first = AutoScaler().fit(X.iloc[:250]).report_.set_index("column")
    assert first.loc["heavy_tail", "method"] != "log + zscore"
    # decided: later batches update the chosen estimators only
    decided = auto.report_.copy()
    later = X.iloc[:500].copy()
    later["binary"] = 7.0
    auto.partial_fit(later)
    pd.testing.assert_frame_equal(auto.report_, decided)
    j = list(X.columns).index("ordinary")
    cols, (zscore,) = next((cols, chain) for cols, chain in auto.groups_ if j in cols)
    assert type(zscore) is ZScoreScaler and zscore.n_samples_seen_ == N + 500
    np.testing.assert_allclose(zscore.mean_[list(cols).index(j)],
                               np.r_[X["ordinary"], later["ordinary"]].mean(), rtol=1e-12)


def test_partial_fit_samples_uniformly_beyond_sample_size():
    rng = np.random.default_rng(5)
    x = np.sort(rng.lognormal(0, 1, 20_000))[:, None]  # sorted: the first rows are small
    auto = AutoScaler(sample_size=2000)
    for i in range(0, 20_000, 1000):
        auto.partial_fit(x[i:i + 1000])
    row = auto.report_.iloc[0]
    assert (row["sample"], row["count"]) == (2000, 20_000)
    # a uniform sample: its median near the whole column's (the first batch's is far below)
    assert abs(row["p50"] - np.median(x)) < 0.1 * np.median(x)
    assert row["method"] == AutoScaler().fit(x).report_["method"][0] == "log + zscore"


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
    # saving a partial_fit still pending decides first: the file holds the chosen methods
    streamed = AutoScaler()
    for i in range(0, N, 500):
        streamed.partial_fit(X.iloc[i:i + 500])
    skscale.io.dump(streamed, tmp_path / "streamed.skops")
    assert not hasattr(streamed, "_pending")
    loaded = skscale.io.load(tmp_path / "streamed.skops")
    np.testing.assert_array_equal(loaded.transform(X), streamed.transform(X))
    pd.testing.assert_frame_equal(loaded.report_, streamed.report_)


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


def test_dask_fits_decide_on_a_sample_of_every_block():
    import dask.array as da
    import dask.dataframe as dd

    X = _frame().drop(columns=["empty"])
    X = X.sort_values("heavy_tail", kind="stable").reset_index(drop=True)
    for dX, mem in ((dd.from_pandas(X, npartitions=7), X),
                    (da.from_array(X.to_numpy(), chunks=(300, 5)), X.to_numpy())):
        want = AutoScaler().fit(mem)  # (an array has no names: sale_month is a code there)
        auto = AutoScaler().fit(dX)
        got = auto.report_
        pd.testing.assert_frame_equal(got, want.report_)
        out, expect = np.asarray(auto.transform(dX).compute()), want.transform(mem)
        exact = ~np.array(got["method"].isin(["squashing"]))  # (quartiles from sketches)
        np.testing.assert_allclose(out[:, exact], expect[:, exact], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(out[:, ~exact], expect[:, ~exact], rtol=0, atol=0.02)


_ACCELERATOR = __import__("os").environ.get("SKSCALE_TEST_DEVICE")  # e.g. "cuda"


@pytest.mark.parametrize("device", ["CPU_DEVICE", "device1", "no_float64", "torch-cpu"]
                         + ([f"torch-{_ACCELERATOR}"] if _ACCELERATOR else []))
def test_device_arrays_are_decided_on_a_host_sample_and_scaled_on_their_device(device):
    import array_api_strict
    import sklearn
    import torch
    from array_api_compat import device as device_of

    from skscale._array_api import to_numpy

    X = _frame().drop(columns=["empty", "sale_month"]).to_numpy()
    dtype = np.float32 if device == "no_float64" else np.float64
    X = X.astype(dtype)
    want = AutoScaler().fit(X)
    with sklearn.config_context(array_api_dispatch=True):
        Xd = torch.from_numpy(X).to(device[6:]) if device.startswith("torch-") else \
            array_api_strict.asarray(X, device=array_api_strict.Device(device))
        auto = AutoScaler().fit(Xd)
        out = auto.transform(Xd)
        back = auto.inverse_transform(out)
        small = AutoScaler(sample_size=500).fit(Xd).report_
    assert type(out) is type(Xd) and device_of(out) == device_of(Xd) and out.dtype == Xd.dtype
    pd.testing.assert_frame_equal(auto.report_, want.report_)
    tol = 1e-4 if dtype == np.float32 else 1e-9  # (float32: each step rounds to 6e-8)
    np.testing.assert_allclose(to_numpy(out), want.transform(X), rtol=tol, atol=tol)
    # (squashing's inverse far out loses about (z / 3)**2 ulps: as the numpy path does)
    np.testing.assert_allclose(to_numpy(back), want.inverse_transform(want.transform(X)),
                               rtol=tol, atol=tol)
    assert set(small["sample"]) == {500} and set(small["rows"]) == {N}
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


def test_streaming_squashed_columns_without_datasketches_names_them(monkeypatch):
    monkeypatch.setattr("skscale._quantiles.available", lambda: False)
    monkeypatch.setitem(__import__("sys").modules, "datasketches", None)
    X = _frame()[["outliers", "ordinary"]]
    auto = AutoScaler().fit(X)  # exact fits need nothing more
    with pytest.raises(ImportError, match=r"SquashingScaler for column 'outliers'.*sketch"):
        auto.partial_fit(X)
    streamed = AutoScaler().partial_fit(X)  # the candidates that could stream did
    for _ in range(2):  # (a failed decision stays pending: it fails again, the same way)
        with pytest.raises(ImportError, match=r"SquashingScaler for column 'outliers'.*sketch"):
            streamed.transform(X)


def test_a_declared_range_narrower_than_the_data_is_said_in_the_reason():
    X = _frame()[["uniform"]]  # -3 .. 7
    reason = AutoScaler(bounds={"uniform": (0, 5)}).fit(X).report_["reason"][0]
    assert reason.startswith("a known range 0..5 (though the training values reach -2.99")
