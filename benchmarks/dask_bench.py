"""Time skscale's estimators on a Dask cluster beside dask-ml's counterparts.

Run it with ``python benchmarks/dask_bench.py`` (``--help`` for the flags;
it needs the ``dask`` extra and dask-ml).  It starts a
``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)``, builds one chunked ``rows x cols`` array ``X`` drawn from
Normal(1000, 1) on the workers and keeps it there (``persist``), then
measures, in the same run:

* the reference ``R = X.sum(axis=0)``: one read pass over ``X``, run on the
  cluster like everything else;
* ``fit`` of each estimator -- skscale's ``ZScoreScaler`` and
  ``MinMaxScaler`` beside dask-ml's ``StandardScaler`` and ``MinMaxScaler``,
  and skscale's ``BatchNormScaler`` and ``LayerNormScaler`` (no
  counterpart);
* ``transform``, as ``transform(X).sum(axis=0)``, so that the output is
  produced on the workers but never sent to the client (the sum's own pass
  is what R costs).

Each time is the median of ``--repeats`` calls after two untimed calls: the
first loads what the workers load once (the compiled loops), the second is
the one whose memory is measured -- the peak a worker used during the call
beyond what it held before (its share of ``X``): Linux's peak resident size
of the worker process, reset before the call through
``/proc/self/clear_refs``.  A last section fits both libraries'
min-max and z-score scalers on a small array with one NaN, and on data far
from zero, and says whether they agree with scikit-learn in memory.

Times are wall clock on whatever else the machine is doing: compare rows of
one run, not runs.
"""

import argparse
import platform
import statistics
import time

import numpy as np

import dask
import dask.array as da
import distributed

import skscale

try:
    import dask_ml
    import dask_ml.preprocessing as dml
except ImportError:  # pragma: no cover - depends on the environment
    dask_ml = dml = None


def reset_peak():
    """On a worker: forget its peak resident size; return its current size (bytes)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status("VmRSS")


def peak():
    """On a worker: its peak resident size since :func:`reset_peak` (bytes)."""
    return _status("VmHWM")


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(client, call, repeats):
    """``(median seconds, peak extra bytes of any worker)`` of ``call()``.

    A first call loads what the workers load once (the compiled loops); the
    second, untimed, is the one whose memory is measured."""
    call()
    before = client.run(reset_peak)
    call()
    after = client.run(peak)
    extra = max(after[w] - before[w] for w in before)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), extra


def estimators():
    """``(name, library, factory)`` of every estimator timed."""
    rows = [("z-score", "skscale", skscale.ZScoreScaler),
            ("min-max", "skscale", skscale.MinMaxScaler)]
    if dml is not None:
        rows += [("z-score", "dask-ml", dml.StandardScaler),
                 ("min-max", "dask-ml", dml.MinMaxScaler)]
    rows += [("batch norm", "skscale", skscale.BatchNormScaler),
             ("layer norm", "skscale", skscale.LayerNormScaler)]
    return sorted(rows, key=lambda r: r[0])


#: Targets: skscale's fit at least this many times faster than dask-ml's,
#: and a worker's peak extra memory during a fit at most this many chunks.
FIT_MIN_SPEEDUP = 2.0
FIT_MAX_CHUNKS = 1.5


def targets(results, chunk):
    """Lines checking the targets on ``results[(name, library, call)] =
    (seconds, worker peak bytes)``; ``chunk`` is the bytes of one chunk."""
    lines = []
    for name in ("min-max", "z-score"):
        ours, theirs = results[name, "skscale", "fit"], results.get((name, "dask-ml", "fit"))
        if theirs is not None:
            speedup = theirs[0] / ours[0]
            lines.append(f"target {name} fit >= {FIT_MIN_SPEEDUP}x faster than dask-ml:"
                         f" {speedup:.1f}x, {'met' if speedup >= FIT_MIN_SPEEDUP else 'NOT MET'}")
        chunks = ours[1] / chunk
        lines.append(f"target {name} fit worker peak <= {FIT_MAX_CHUNKS} chunks: {chunks:.2f},"
                     f" {'met' if chunks <= FIT_MAX_CHUNKS else 'NOT MET'}")
    return lines


def agreement():
    """Lines saying whether each library's fit matches scikit-learn's in memory
    on data with one NaN and on data far from zero."""
    from sklearn import preprocessing as skp

    rng = np.random.default_rng(1)
    cases = {"one NaN in a column": rng.normal(size=(10_000, 3)),
             "mean 1e8, std 1": 1e8 + rng.normal(size=(10_000, 3))}
    cases["one NaN in a column"][17, 1] = np.nan
    pairs = [("min-max", "data_min_", skp.MinMaxScaler, skscale.MinMaxScaler,
              dml and dml.MinMaxScaler),
             ("z-score", "var_", skp.StandardScaler, skscale.ZScoreScaler,
              dml and dml.StandardScaler)]
    lines = []
    for case, X in cases.items():
        dX = da.from_array(X, chunks=(1000, 3))
        for method, attr, oracle, ours, theirs in pairs:
            want = getattr(oracle().fit(X), attr)
            for library, make in (("skscale", ours), ("dask-ml", theirs)):
                if make is None:
                    continue
                got = np.asarray(getattr(make().fit(dX), attr))
                err = np.max(np.abs(got - want) / np.abs(want))
                lines.append(f"{case:20} {method:8} {library:8} {attr:10} max rel. error"
                             f" vs scikit-learn: {err:.1e}"
                             f"{'  (NaN!)' if np.isnan(got).any() else ''}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of X")
    parser.add_argument("--cols", type=int, default=50, help="columns of X")
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="rows per chunk")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--small", action="store_true",
                        help="a quick run: 200,000 rows in chunks of 20,000")
    args = parser.parse_args()
    if args.small:
        args.rows, args.chunk_rows = 200_000, 20_000

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        X = da.random.default_rng(0).normal(1000.0, 1.0, size=(args.rows, args.cols),
                                            chunks=(args.chunk_rows, args.cols))
        X = X.persist()
        distributed.wait(X)
        client.run(lambda: __import__("skscale"))
        size = X.nbytes
        print(f"skscale {skscale.__version__}, dask {dask.__version__}, distributed"
              f" {distributed.__version__}, dask-ml {getattr(dask_ml, '__version__', 'absent')}"
              f" | {platform.python_version()}, {platform.machine()}")
        print(f"X: {args.rows:,} x {args.cols} float64 ({size / 2**20:,.0f} MiB) in chunks of"
              f" {args.chunk_rows:,} rows; 2 worker processes, 1 thread each; median of"
              f" {args.repeats}\n")
        r, r_mem = measure(client, lambda: X.sum(axis=0).compute(), args.repeats)
        print(f"{'estimator':12} {'library':8} {'call':10} {'seconds':>8} {'x R':>6}"
              f" {'worker peak':>12} {'% of X':>7}")
        print(f"{'R':12} {'numpy':8} {'X.sum':10} {r:8.3f} {1:6.2f}"
              f" {r_mem / 2**20:9.0f} MiB {100 * r_mem / size:6.1f}%")
        results = {}
        for name, library, make in estimators():
            fitted = make().fit(X)
            for call, fn in (("fit", lambda: make().fit(X)),
                             ("transform", lambda: fitted.transform(X).sum(axis=0).compute())):
                t, mem = measure(client, fn, args.repeats)
                results[name, library, call] = t, mem
                print(f"{name:12} {library:8} {call:10} {t:8.3f} {t / r:6.2f}"
                      f" {mem / 2**20:9.0f} MiB {100 * mem / size:6.1f}%")
        print()
        chunk = args.chunk_rows * args.cols * 8
        for line in targets(results, chunk):
            print(line)
        print()
        for line in agreement():
            print(line)


if __name__ == "__main__":
    main()
