"""First-call latency: what a fresh process pays before its first result.

Run it with ``make bench`` (after the main benchmark) or ``python
benchmarks/first_call.py``.  Every measurement is a new interpreter, timed
from inside it: ``import`` of the library, then the first
``fit_transform`` of a small (1,000 x 5) and of a large array, for

* scikit-learn's ``StandardScaler`` (the counterpart, in the same run);
* ``ZScoreScaler`` with the default ``compiled="auto"`` (small inputs take
  the numpy kernels, large ones the compiled loops);
* ``ZScoreScaler`` with the numpy kernels only (``SKSCALE_COMPILED=0``);
* the compiled loops forced on every input (``SKSCALE_COMPILED=1``), with a
  cold cache (an empty cache directory: numba compiles), a warm one (the
  same directory again: numba loads), and none (nowhere writable to cache:
  compiled in every process).

Each row is the median of ``--repeats`` fresh processes (a cold cache is
emptied before each).  Nothing here is a target check: it tells a user what
to expect.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = """
import time
t0 = time.perf_counter()
import numpy as np
{imports}
t1 = time.perf_counter()
X = np.random.default_rng(0).normal(size=({rows}, 5))
t2 = time.perf_counter()
{make}().fit_transform(X)
t3 = time.perf_counter()
{make}().fit_transform(X)
t4 = time.perf_counter()
print({{"import": t1 - t0, "first": t3 - t2, "second": t4 - t3}})
"""

SKLEARN = ("from sklearn.preprocessing import StandardScaler", "StandardScaler")
SKSCALE = ("from skscale import ZScoreScaler", "ZScoreScaler")


def run_once(lib, rows, env):
    code = CHILD.format(imports=lib[0], make=lib[1], rows=rows)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))


def measure(lib, rows, repeats, compiled=None, cache=None):
    """Median timings of ``repeats`` fresh processes; ``cache`` is "cold"
    (emptied each time), "warm" (kept) or "none" (unwritable)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SKSCALE_COMPILED", "SKSCALE_CACHE_DIR", "NUMBA_CACHE_DIR")}
    if compiled is not None:
        env["SKSCALE_COMPILED"] = compiled
    tmp = tempfile.mkdtemp(prefix="skscale-first-call-")
    try:
        if cache == "none":  # no writable cache: home and cache dir below a plain file
            open(os.path.join(tmp, "file"), "w").close()
            env["HOME"] = env["XDG_CACHE_HOME"] = os.path.join(tmp, "file", "home")
        elif cache is not None:
            env["SKSCALE_CACHE_DIR"] = os.path.join(tmp, "cache")
        if cache == "warm":
            run_once(lib, rows, env)  # fill the cache
        results = []
        for _ in range(repeats):
            if cache == "cold":
                shutil.rmtree(env["SKSCALE_CACHE_DIR"], ignore_errors=True)
            results.append(run_once(lib, rows, env))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per row")
    p.add_argument("--large", type=int, default=1_000_000,
                   help="rows of the large input (5 columns)")
    args = p.parse_args(argv)
    cases = [
        ("scikit-learn StandardScaler", SKLEARN, {}),
        ("ZScoreScaler, compiled=auto (default)", SKSCALE, {}),
        ("ZScoreScaler, numpy kernels (SKSCALE_COMPILED=0)", SKSCALE, {"compiled": "0"}),
        ("ZScoreScaler, compiled loops, cold cache", SKSCALE, {"compiled": "1", "cache": "cold"}),
        ("ZScoreScaler, compiled loops, warm cache", SKSCALE, {"compiled": "1", "cache": "warm"}),
        ("ZScoreScaler, compiled loops, no cache", SKSCALE, {"compiled": "1", "cache": "none"}),
    ]
    print(f"First call in a fresh process, median of {args.repeats} processes"
          f" (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)\n")
    print("| library and kernels | import | first fit_transform 1,000 x 5 | second |"
          f" first fit_transform {args.large:,} x 5 | second |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, lib, opts in cases:
        small = measure(lib, 1000, args.repeats, **opts)
        large = measure(lib, args.large, args.repeats, **opts)
        ms = lambda t: f"{t * 1e3:,.1f} ms"  # noqa: E731
        print(f"| {label} | {ms(small['import'])} | {ms(small['first'])} |"
              f" {ms(small['second'])} | {ms(large['first'])} | {ms(large['second'])} |",
              flush=True)


if __name__ == "__main__":
    main()
