"""The GPU check: skscale's array-API tests on a CUDA device, then its
timings beside torch's own layers on that device, in one run.

Run it with ``make gpu-check`` (or ``SCIPY_ARRAY_API=1 python
benchmarks/gpu_check.py``) on a machine with a CUDA GPU and torch built for
it; CuPy, where installed, is tested too.  On a machine without one it says
so in one line and stops.  Each time is the median of ``--repeats`` calls
after one untimed call, with the device synchronized around each call.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch


def timed(call, repeats, device):
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    call()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def table(rows, cols, repeats, dtype, device):
    import sklearn

    from skscale import BatchNormScaler, GroupNormScaler, LayerNormScaler, MinMaxScaler, \
        ZScoreScaler

    X = torch.randn(rows, cols, device=device, dtype=dtype) * 3 + 1
    sklearn.set_config(array_api_dispatch=True)
    bn = torch.nn.BatchNorm1d(cols, device=device, dtype=dtype).eval()
    ln = torch.nn.LayerNorm(cols, elementwise_affine=False, device=device, dtype=dtype)
    gn = torch.nn.GroupNorm(4, cols, affine=False, device=device, dtype=dtype)
    fitted_bn = BatchNormScaler.from_torch(bn)
    zscore, minmax = ZScoreScaler().fit(X), MinMaxScaler().fit(X)
    copy = timed(lambda: X.clone(), repeats, device)
    where = torch.cuda.get_device_name() if device == "cuda" else "the CPU"
    print(f"## skscale on {where}: {rows:,} x {cols} {dtype},"
          f" median of {repeats} (C = X.clone(), {copy * 1e3:.2f} ms)\n")
    print("| call | skscale | torch | skscale / torch |")
    print("|---|---:|---:|---:|")
    pairs = [
        ("ZScoreScaler.fit / (X.mean(0), X.std(0))", lambda: ZScoreScaler().fit(X),
         lambda: (X.mean(0), X.std(0))),
        ("MinMaxScaler.fit / X.aminmax(dim=0)", lambda: MinMaxScaler().fit(X),
         lambda: torch.aminmax(X, dim=0)),
        ("ZScoreScaler.transform / (X - m) / s", lambda: zscore.transform(X),
         lambda: (X - X.mean(0)) / X.std(0)),
        ("MinMaxScaler.transform / (X - lo) / (hi - lo)", lambda: minmax.transform(X),
         lambda: (X - X.amin(0)) / (X.amax(0) - X.amin(0))),
        ("BatchNormScaler.transform / BatchNorm1d (eval)", lambda: fitted_bn.transform(X),
         lambda: bn(X)),
        ("LayerNormScaler.transform / LayerNorm", lambda: LayerNormScaler().transform(X),
         lambda: ln(X)),
        ("GroupNormScaler(4).transform / GroupNorm(4)",
         lambda: GroupNormScaler(4, n_channels=cols).transform(X), lambda: gn(X)),
    ]
    with torch.no_grad():
        for name, ours, theirs in pairs:
            a, b = timed(ours, repeats, device), timed(theirs, repeats, device)
            print(f"| {name} | {a * 1e3:.2f} ms ({a / copy:.1f} C) | {b * 1e3:.2f} ms"
                  f" ({b / copy:.1f} C) | {a / b:.2f} |")
    sklearn.set_config(array_api_dispatch=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--table-on-cpu", action="store_true",
                        help="only the timing table, on CPU tensors (no tests)")
    args = parser.parse_args()
    if args.table_on_cpu:
        table(args.rows, args.cols, args.repeats, torch.float64, "cpu")
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device: torch.cuda.is_available() is False here, so there is nothing"
              " to check; run `make gpu-check` on a machine with a CUDA GPU.")
        return 0
    os.environ.setdefault("SCIPY_ARRAY_API", "1")
    env = dict(os.environ, SKSCALE_TEST_DEVICE="cuda")
    print(f"CUDA device: {torch.cuda.get_device_name()} (torch {torch.__version__});"
          f" CuPy {'found' if _has('cupy') else 'not installed: pip install cupy-cuda12x to test it too'}")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_array_api.py",
                            "tests/test_common.py", "-k", "array_api"], env=env)
    for dtype in (torch.float32, torch.float64):
        table(args.rows, args.cols, args.repeats, dtype, "cuda")
        print()
    return tests.returncode


def _has(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    np.random.seed(0)
    sys.exit(main())
