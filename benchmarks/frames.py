"""skscale on pandas and polars DataFrames beside the frame libraries' own
expressions and scikit-learn, against memory references of the same data.

Run it with ``python benchmarks/frames.py`` (``--help`` for the flags; a
report, not a test).  For float64 and float32, without and with missing
values (1% of the entries: NaN in pandas, nulls in polars), it builds one
``rows x cols`` array ``X`` and the pandas and polars frames of it, and
measures in the same run:

* the references ``R = X.sum(axis=0)`` and ``C = X.copy()`` on the array;
* ``ZScoreScaler().fit(frame)`` beside ``StandardScaler().fit(frame)``
  (target: <= 1.5 R);
* ``transform(frame)`` with ``set_output`` of the frame's kind, so a frame
  comes in and the same kind comes out, beside the frame library's own
  z-score expression -- ``(df - df.mean()) / df.std(ddof=0)`` in pandas,
  ``(pl.all() - pl.all().mean()) / pl.all().std(ddof=0)`` in polars -- and
  ``StandardScaler`` with the same ``set_output`` (target: <= 1.2 C);
* the peak extra memory of the skscale calls beyond their output, as
  ``tracemalloc`` sees numpy's allocations (polars allocates in Rust, which
  it does not see): a full-size temporary would show as 100% of X.

Each time is the median of ``--repeats`` calls after one untimed call.
Times are wall clock on whatever else the machine is doing: compare rows of
one run, not runs.
"""

import argparse
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd
import polars as pl
from sklearn.preprocessing import StandardScaler

from skscale import ZScoreScaler

FIT_MAX_R = 1.5
TRANSFORM_MAX_C = 1.2
MISSING_SHARE = 0.01


def timed(call, repeats):
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def extra_memory(call, output_bytes=0):
    """Peak bytes numpy allocated during ``call`` beyond ``output_bytes``."""
    tracemalloc.start()
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return max(peak - output_bytes, 0)


def frames_of(X, missing):
    names = [f"x{j}" for j in range(X.shape[1])]
    polars = pl.DataFrame(X, schema=names)
    if missing:
        polars = polars.fill_nan(None)  # polars marks missing values as nulls
    return {"pandas": pd.DataFrame(X, columns=names), "polars": polars}


def expression(kind, df):
    if kind == "pandas":
        return lambda: (df - df.mean()) / df.std(ddof=0)
    z = (pl.all() - pl.all().mean()) / pl.all().std(ddof=0)
    return lambda: df.select(z)


def run(dtype, missing, args):
    rng = np.random.default_rng(0)
    X = rng.normal(1e3, 1.0, size=(args.rows, args.cols)).astype(dtype)
    if missing:
        X[rng.random(X.shape) < MISSING_SHARE] = np.nan
    rows = []
    for kind, df in frames_of(X, missing).items():
        ours = ZScoreScaler().set_output(transform=kind)
        theirs = StandardScaler().set_output(transform=kind)
        # each reference just before what it measures, so that both see
        # the same state of the machine (memory held, pages free)
        R = timed(lambda: X.sum(axis=0), args.repeats)
        fit = timed(lambda: ours.fit(df), args.repeats)
        theirs_fit = timed(lambda: theirs.fit(df), args.repeats)
        fit_mem = extra_memory(lambda: ours.fit(df))
        C = timed(lambda: X.copy(), args.repeats)
        transform = timed(lambda: ours.transform(df), args.repeats)
        theirs_transform = timed(lambda: theirs.transform(df), args.repeats)
        own = timed(expression(kind, df), args.repeats)
        transform_mem = extra_memory(lambda: ours.transform(df), X.nbytes)  # the output's own
        rows.append((kind, R, C, fit / R, theirs_fit / R, fit_mem / X.nbytes,
                     transform / C, own / C, theirs_transform / C, transform_mem / X.nbytes))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"## DataFrames: {args.rows:,} x {args.cols}, ZScoreScaler, median of"
          f" {args.repeats}\n")
    print("| data | frame | fit | StandardScaler fit | fit extra memory | transform |"
          " frame expression | StandardScaler transform | transform extra memory |"
          " targets |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for dtype in (np.float64, np.float32):
        for missing in (False, True):
            data = f"{np.dtype(dtype).name}{', 1% missing' if missing else ''}"
            for kind, R, C, fit, sk_fit, fit_mem, tr, own, sk_tr, tr_mem in run(
                    dtype, missing, args):
                ok = fit <= FIT_MAX_R and tr <= TRANSFORM_MAX_C
                failed = [t for t, bad in ((f"fit > {FIT_MAX_R} R", fit > FIT_MAX_R),
                                           (f"transform > {TRANSFORM_MAX_C} C",
                                            tr > TRANSFORM_MAX_C)) if bad]
                print(f"| {data} | {kind} (R {R * 1e3:.1f} ms, C {C * 1e3:.1f} ms) | {fit:.2f} R | {sk_fit:.2f} R | {fit_mem:.1%} |"
                      f" {tr:.2f} C | {own:.2f} C | {sk_tr:.2f} C | {tr_mem:.1%} |"
                      f" {'met' if ok else 'NOT MET: ' + ', '.join(failed)} |")


if __name__ == "__main__":
    main()
