"""Time today's skscale beside an earlier release, in one process, interleaved.

Run it with ``python benchmarks/against_release.py OLD`` where ``OLD`` is the
``skscale/`` package directory of an earlier checkout (for example one made
with ``git worktree add /tmp/v010 v0.1.0``).  The old package is copied
under the name ``skscale_release`` (its imports are relative, so it runs
beside today's), both fit and transform the same arrays, and every call of
one is followed by the same call of the other, so that both see the same
load: on a shared machine, separate runs differ by more than any change
this compares.  Each figure is the median of ``--repeats`` pairs after one
untimed pair; the ratio is today's time over the release's.
"""

import argparse
import importlib
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
from sklearn.base import clone


def load_release(path):
    """The package at ``path`` imported as ``skscale_release``."""
    where = pathlib.Path(tempfile.mkdtemp(prefix="skscale-release-"))
    shutil.copytree(path, where / "skscale_release",
                    ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(where))
    return importlib.import_module("skscale_release")


def calls(est, X):
    """``{operation: call}`` of one estimator on ``X`` (whichever it has)."""
    step = -(-X.shape[0] // 100)
    chunks = [X[i:i + step] for i in range(0, X.shape[0], step)]
    out = {}
    if hasattr(est, "fit"):
        out["fit"] = lambda: est.fit(X)
    out["transform"] = lambda: est.transform(X)
    # (the copy that keeps X intact is in both sides of the comparison)
    fresh = X.clone if hasattr(X, "clone") else X.copy  # (polars: clone)
    out["transform copy=False"] = lambda: est.transform(fresh(), copy=False)
    if hasattr(est, "partial_fit"):
        def partial():  # (a fresh estimator: partial_fit after fit continues that fit)
            fresh = clone(est)
            for c in chunks:
                fresh.partial_fit(c)
        out["partial_fit x100"] = partial
    if hasattr(est, "inverse_transform") and not hasattr(est, "sample_stats"):
        Y = est.fit(X).transform(X) if hasattr(est, "fit") else None
        out["inverse_transform"] = lambda: est.inverse_transform(Y)
    return out


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the skscale/ package directory of the earlier release")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default=None, help="comma-separated methods")
    parser.add_argument("--input", choices=["array", "pandas", "polars"], default="array",
                        help="what X is: a numpy array or a DataFrame of its columns")
    args = parser.parse_args()

    import skscale
    release = load_release(args.old)
    X = np.random.default_rng(0).lognormal(size=(args.rows, args.cols))
    if args.input != "array":
        frames = importlib.import_module(args.input)
        X = frames.DataFrame({f"x{j}": X[:, j] for j in range(args.cols)})
    names = [m for m in release.SCALERS if m in skscale.SCALERS and m != "auto"]
    if args.only:
        names = [m for m in names if m in args.only.split(",")]
    print(f"today {skscale.__version__} vs release {release.__version__}: {args.rows:,} x"
          f" {args.cols} float64 ({args.input}), median of {args.repeats} interleaved pairs")
    print(f"{'method':<14} {'operation':<22} {'release':>10} {'today':>10} {'ratio':>6}")
    for name in names:
        new, old = skscale.SCALERS[name](), release.SCALERS[name]()
        if hasattr(new, "fit"):
            new.fit(X[:1000]), old.fit(X[:1000])  # (rows of an array or a frame alike)
        ops_new, ops_old = calls(new, X), calls(old, X)
        for op in ops_new:
            if op not in ops_old:
                continue
            ops_new[op](), ops_old[op]()  # (untimed: first calls load what they need)
            t_new, t_old = [], []
            for _ in range(args.repeats):
                t_old.append(timed(ops_old[op]))
                t_new.append(timed(ops_new[op]))
            a, b = statistics.median(t_old), statistics.median(t_new)
            print(f"{name:<14} {op:<22} {a * 1e3:8.1f}ms {b * 1e3:8.1f}ms {b / a:6.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
