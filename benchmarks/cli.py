"""The ``skscale`` command line on Parquet files: time and peak memory.

Run it with ``python benchmarks/cli.py`` (a report, not a test).  It writes
Parquet files of 1x, 4x and 16x ``--chunk-rows`` rows of ``--cols`` float64
columns to a temporary folder and measures, in the same run:

* time: ``skscale transform`` (``main([...])`` in this process, so the
  imports are not counted) of the 16x file against the floor of pyarrow
  reading and writing the same file in the same chunks with no scaling
  (``iter_batches`` without pre-buffering, as skscale reads, and
  ``ParquetWriter``); ``skscale fit`` against reading alone; and the 4x
  file as CSV (with a text column, which a CSV-to-CSV transform passes
  through as text) against pyarrow's streaming CSV reader and writer.
  Each is the median of ``--repeats`` runs, taken alternately.
* peak RSS of a fresh process doing each job on each file, read in a
  wrapper process with ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``.
  Streaming keeps it flat as the file grows; the imports alone are the
  first row.

Prints markdown tables.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

# Runs one command in a child and prints the child's peak RSS (KiB on Linux).
WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

IMPORTS = ("import skscale.cli, skscale.io, skops.io, pyarrow.parquet, pyarrow.csv,"
           " pyarrow.compute, tqdm")


def write_file(path, rows, cols, chunk):
    """``rows`` x ``cols`` Normal(1000, 1) float64, written chunk by chunk."""
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"c{j}", pa.float64()) for j in range(cols)])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, chunk):
            X = rng.normal(1000, 1, size=(min(chunk, rows - start), cols))
            writer.write_table(pa.table({f"c{j}": X[:, j] for j in range(cols)}, schema=schema))


def write_csv(src, dst):
    """The Parquet file ``src`` as CSV, with a text column ``id`` added."""
    table = pq.read_table(src)
    table = table.append_column("id", pa.array([f"row {i}" for i in range(table.num_rows)]))
    pcsv.write_csv(table, dst)


def floor_csv(src, dst):
    with pcsv.open_csv(src) as reader, pcsv.CSVWriter(dst, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def floor_copy(src, dst, rows):
    pf = pq.ParquetFile(src, pre_buffer=False)  # as skscale reads
    with pq.ParquetWriter(dst, pf.schema_arrow) as writer:
        for batch in pf.iter_batches(batch_size=rows):
            writer.write_batch(batch)


def read_only(src, rows):
    for _ in pq.ParquetFile(src, pre_buffer=False).iter_batches(batch_size=rows):
        pass


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_times(jobs, repeats):
    """Median seconds of each job, the jobs run alternately ``repeats`` times."""
    times = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, fn in jobs.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def peak_rss_mib(argv):
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


def cli_argv(*args):
    return [sys.executable, "-m", "skscale.cli", *map(str, args)]


def run(args):
    from skscale.cli import main

    chunk = args.chunk_rows
    with tempfile.TemporaryDirectory() as folder:
        def at(name):
            return os.path.join(folder, name)

        sizes = {k: at(f"x{k}.parquet") for k in (1, 4, 16)}
        for k, path in sizes.items():
            write_file(path, k * chunk, args.cols, chunk)
        model = at("m.skops")
        big, opts = sizes[16], ["--chunk-rows", str(chunk), "-q"]
        assert main(["fit", big, "-o", model, *opts]) == 0  # also warms the imports
        text = at("x4.csv")
        write_csv(sizes[4], text)

        jobs = {
            "skscale transform": lambda: main(["transform", model, big, "-o", at("o.parquet"),
                                               *opts]),
            "floor: read + write": lambda: floor_copy(big, at("f.parquet"), chunk),
            "skscale fit (zscore)": lambda: main(["fit", big, "-o", at("m2.skops"), *opts]),
            "floor: read": lambda: read_only(big, chunk),
            "skscale transform, CSV (4x)": lambda: main(["transform", model, text,
                                                         "-o", at("o.csv"), *opts]),
            "floor: CSV read + write (4x)": lambda: floor_csv(text, at("f.csv")),
        }
        t = median_times(jobs, args.repeats)
        mib = os.path.getsize(big) / 2**20
        print(f"Time, {16 * chunk:,} rows x {args.cols} float64 ({mib:.0f} MiB Parquet),"
              f" chunks of {chunk:,} rows, median of {args.repeats}:\n")
        print("| job | seconds | / floor |\n|---|---|---|")
        csv_floor = "floor: CSV read + write (4x)"
        for name, floor in (("skscale transform", "floor: read + write"),
                            ("floor: read + write", "floor: read + write"),
                            ("skscale fit (zscore)", "floor: read"), ("floor: read", "floor: read"),
                            ("skscale transform, CSV (4x)", csv_floor), (csv_floor, csv_floor)):
            print(f"| {name} | {t[name]:.3f} | {t[name] / t[floor]:.2f} |")

        print(f"\nPeak RSS of a fresh process (MiB), chunks of {chunk:,} rows:\n")
        print("| rows | file MiB | imports only | skscale fit | skscale transform |"
              " floor: read + write |\n|---|---|---|---|---|---|")
        base = peak_rss_mib([sys.executable, "-c", IMPORTS])
        for k, path in sizes.items():
            fit = peak_rss_mib(cli_argv("fit", path, "-o", at("m3.skops"), *opts))
            transform = peak_rss_mib(cli_argv("transform", model, path, "-o", at("o.parquet"),
                                              *opts))
            floor = peak_rss_mib([sys.executable, __file__, "--floor", path, at("f.parquet"),
                                  "--chunk-rows", str(chunk)])
            print(f"| {k * chunk:,} ({k}x) | {os.path.getsize(path) / 2**20:.0f} | {base:.0f} |"
                  f" {fit:.0f} | {transform:.0f} | {floor:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunk-rows", type=int, default=65536)
    parser.add_argument("--cols", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--floor", nargs=2, metavar=("SRC", "DST"),
                        help="only copy SRC to DST with pyarrow (the floor, in a child)")
    args = parser.parse_args()
    if args.floor:
        floor_copy(*args.floor, args.chunk_rows)
    else:
        run(args)
