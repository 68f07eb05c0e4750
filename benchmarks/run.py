"""Time every skscale estimator beside memory references and its counterparts.

Run it with ``make bench`` (or ``python benchmarks/run.py --help``).  For
each dtype it builds one ``rows x cols`` array ``X`` and measures, in the
same process and run:

* the references ``R = X.sum(axis=0)`` (one read pass), ``C = X.copy()``
  (one read and one fresh write) and ``S = StandardScaler().fit(X)``;
* every estimator of ``skscale.SCALERS``: ``fit``, ``transform`` (fresh
  output), ``transform(copy=False)``, ``fit_transform``, ``partial_fit``
  over 100 chunks and ``inverse_transform`` -- whichever it has;
* scikit-learn's counterpart of the same call where one exists
  (``QuantileTransformer(subsample=None)``, exact, for the quantile
  transform), skrub's ``SquashingScaler`` for squashing, numpy's
  ``log1p``/``expm1`` for log scaling, and torch's layer where torch is
  installed.

Each time is the median of ``--repeats`` calls after one untimed call; that
untimed call is also the one whose peak extra memory is measured with
``tracemalloc`` (numpy reports its buffers to it), so tracing never slows a
timed call.  Every row is checked against the performance targets, and a
last line checks that float32 statistics are exact.  The exit code is 0 even
when targets fail: this is a report, not a test.
"""

import argparse
import datetime
import gc
import math
import os
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sklearn
from sklearn.base import clone

try:  # torch is optional: its layers are counterparts only
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

import skscale
from skscale import SCALERS

# --------------------------------------------------------------------------
# Targets (float64 and float32; medians of the same run)
# --------------------------------------------------------------------------
FIT_MAX_R = 3.0            # column fit <= 3 x R
FIT_MIN_SPEEDUP_S = 4.0    # column fit >= 4x faster than StandardScaler.fit
MEM_MAX = 0.01             # extra memory (beyond any fresh output) <= 1% of X
TRANSFORM_MAX_C = 1.0      # column transform, fresh output <= 1.0 x C
INPLACE_MAX_C = 0.6        # column transform, copy=False <= 0.6 x C
ROW_TRANSFORM_MAX_C = 1.5  # row scaler transform (fresh or in place) <= 1.5 x C
PARTIAL_MAX_FIT = 1.2      # partial_fit over 100 chunks <= 1.2 x fit
EXACT_MAX_REL = 1e-12      # float32 mean / variance vs the exact float64 values
#: Methods that learn quantiles: the fit targets above are for one pass of
#: moments and extremes, and do not apply to them (their transforms' do).
RANK_BASED = {"robust"}
#: Methods whose fits and maps are not one pass of moments and an affine map:
#: their own targets below replace the generic ones.
NONLINEAR = {"power", "quantile", "squashing"}
#: Per-method targets: "fit_max_r" / "transform_max_c" (times R or C) and
#: "fit_speedup" / "transform_speedup" (the counterpart's time / ours, at least).
METHOD_TARGETS = {
    "maxabs": {"fit_max_r": 1.0, "transform_max_c": 1.0},
    "power": {"fit_speedup": 10.0, "transform_max_c": 3.0},
    "quantile": {"fit_speedup": 3.0, "transform_speedup": 10.0},
}

DEFAULT_ROWS, DEFAULT_COLS = 2_000_000, 50  # the size the targets are set for
N_CHUNKS = 100             # chunks of partial_fit
TORCH_BATCH = 256          # rows per training batch (torch BatchNorm1d and ours)
DATA_LOC = 1e3             # X ~ Normal(1e3, 1): positive, so log scaling applies
EXACT_ROWS = 200_000       # size of the exactness check


# --------------------------------------------------------------------------
# Estimators: construction parameters and kinds
# --------------------------------------------------------------------------
def _divisor_at_most(n, limit, min_quotient=1):
    """Largest divisor d <= limit of n with n // d >= min_quotient (1 if none)."""
    for d in range(min(limit, n), 0, -1):
        if n % d == 0 and n // d >= min_quotient:
            return d
    return 1


def layout(method, cols):
    """(n_channels, n_groups) for the channel-structured row methods."""
    if method == "group_norm":
        return cols, _divisor_at_most(cols, 5)
    if method == "instance_norm":
        channels = _divisor_at_most(cols, 10, min_quotient=2)
        return channels, channels
    return cols, 1


def make_params(method, cols):
    """Construction parameters of skscale's ``method`` in this benchmark."""
    if method == "log":
        return {"offset": "auto"}
    if method == "batch_norm":
        return {"batch_size": TORCH_BATCH}
    if method == "group_norm":
        channels, groups = layout(method, cols)
        return {"num_groups": groups, "n_channels": channels}
    if method == "instance_norm":
        return {"n_channels": layout(method, cols)[0]}
    return {}


def make_estimator(method, cols):
    cls = SCALERS[method]
    est = cls()
    known = est.get_params()
    params = {k: v for k, v in make_params(method, cols).items() if k in known}
    return est.set_params(**params), params


def is_row_scaler(est):
    """Row (per-sample) scalers report their statistics and learn nothing."""
    return hasattr(est, "sample_stats")


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------
def _fresh_nbytes(result, args):
    """Size of ``result`` if it is a fresh array (shares nothing with the inputs)."""
    if not isinstance(result, np.ndarray):
        return 0
    for a in args:
        if isinstance(a, np.ndarray) and np.may_share_memory(result, a):
            return 0
    return result.nbytes


def measure(setup, call, repeats, memory, refs=()):
    """Median seconds of ``call(*setup())``, its peak extra bytes, and the
    median seconds of each reference in ``refs``, a sequence of (setup, call).

    ``setup`` runs outside the timed region before every call (fresh copies
    for in-place calls live there).  The first call is untimed: a warm-up,
    and the one traced for memory when ``memory`` is true.  Extra memory is
    the traced peak less the size of the result when that is a fresh array.
    Each timed call follows one timed call of every reference, so that a
    slow spell of a shared machine slows both sides of a ratio alike.
    The garbage collector is off while measuring, as in ``timeit``.
    """
    def timed(setup, call):
        args = setup()
        t0 = time.perf_counter()
        result = call(*args)
        elapsed = time.perf_counter() - t0
        del result, args
        return elapsed

    gc.collect()
    gc.disable()
    try:
        args = setup()
        extra = None
        if memory:
            tracemalloc.start()
            try:
                result = call(*args)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            extra = max(0, peak - _fresh_nbytes(result, args))
        else:
            result = call(*args)
        del result, args
        times, ref_times = [], [[] for _ in refs]
        for _ in range(repeats):
            for ref, spent in zip(refs, ref_times):
                spent.append(timed(*ref))
            times.append(timed(setup, call))
    finally:
        gc.enable()
    return statistics.median(times), extra, [statistics.median(t) for t in ref_times]


def chunk_slices(n, k=N_CHUNKS):
    bounds = np.linspace(0, n, min(k, n) + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def batch_slices(n, size):
    """Consecutive training batches; a 1-row tail joins the previous batch
    (as BatchNormScaler.fit does: a batch of one row has no variance)."""
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [slice(a, b) for a, b in zip(starts, starts[1:] + [n])]


# --------------------------------------------------------------------------
# Operations of one estimator: op name -> (setup, call)
# --------------------------------------------------------------------------
OPS = ["fit", "transform", "transform copy=False", "fit_transform",
       f"partial_fit x{N_CHUNKS}", "inverse_transform"]
OP_FIT, OP_TRANSFORM, OP_INPLACE, OP_FIT_TRANSFORM, OP_PARTIAL, OP_INVERSE = OPS


def skscale_ops(proto, X, inverse_input, row):
    """The calls of skscale estimator ``proto`` on ``X``.

    ``inverse_input()`` returns the arguments inverse_transform starts from:
    the transformed data (and, for row scalers, the per-sample statistics).
    """
    ops = {}
    fitted = clone(proto).fit(X)
    has_copy = "copy" in proto.get_params()
    if not row:
        ops[OP_FIT] = (lambda: (clone(proto), X), lambda est, X: est.fit(X))
    ops[OP_TRANSFORM] = (lambda: (X,), lambda X: fitted.transform(X, copy=True)
                         if has_copy else fitted.transform(X))
    if has_copy:
        ops[OP_INPLACE] = (lambda: (X.copy(),), lambda Xc: fitted.transform(Xc, copy=False))
    ops[OP_FIT_TRANSFORM] = (lambda: (clone(proto), X), lambda est, X: est.fit_transform(X))
    if not row and hasattr(proto, "partial_fit"):
        ops[OP_PARTIAL] = partial_fit_op(proto, X)
    if hasattr(proto, "inverse_transform"):
        if row:
            ops[OP_INVERSE] = (inverse_input,
                               lambda Y, s: fitted.inverse_transform(Y, sample_stats=s))
        else:
            ops[OP_INVERSE] = (inverse_input, lambda Y: fitted.inverse_transform(Y))
    return ops


def partial_fit_op(proto, X):
    """(setup, call) of partial_fit over the benchmark's row chunks of X."""
    slices = chunk_slices(X.shape[0])

    def partial(est, X):
        for s in slices:
            est.partial_fit(X[s])
        return est
    return (lambda: (clone(proto), X), partial)


def sklearn_ops(method, X, inverse_input):
    """scikit-learn's counterpart: (name, {op: (setup, call)}) or None."""
    from sklearn.preprocessing import (MaxAbsScaler, MinMaxScaler, Normalizer, PowerTransformer,
                                       QuantileTransformer, RobustScaler, StandardScaler)

    cls = {"minmax": MinMaxScaler, "zscore": StandardScaler, "robust": RobustScaler,
           "unit_norm": Normalizer, "maxabs": MaxAbsScaler, "power": PowerTransformer,
           "quantile": QuantileTransformer}.get(method)
    if cls is None:
        return None
    # (the quantile transform without subsampling: exact, as ours)
    proto = cls(subsample=None) if method == "quantile" else cls()
    fitted = clone(proto).fit(X)
    in_place = clone(proto).set_params(copy=False).fit(X)
    ops = {
        OP_TRANSFORM: (lambda: (X,), lambda X: fitted.transform(X)),
        OP_INPLACE: (lambda: (X.copy(),), lambda Xc: in_place.transform(Xc)),
        OP_FIT_TRANSFORM: (lambda: (clone(proto), X), lambda est, X: est.fit_transform(X)),
    }
    if method != "unit_norm":  # Normalizer's fit only validates: not a counterpart
        ops[OP_FIT] = (lambda: (clone(proto), X), lambda est, X: est.fit(X))
    if hasattr(proto, "partial_fit"):
        ops[OP_PARTIAL] = partial_fit_op(proto, X)
    if hasattr(proto, "inverse_transform"):
        ops[OP_INVERSE] = (lambda: inverse_input()[:1], lambda Y: fitted.inverse_transform(Y))
    name = f"sklearn {cls.__name__}" + ("(subsample=None)" if method == "quantile" else "")
    return name, ops


def skrub_ops(method, X):
    """skrub's ``SquashingScaler`` as counterpart of squashing: (name, {op:
    (setup, call)}) or None (it has no inverse and no partial_fit)."""
    if method != "squashing":
        return None
    try:
        from skrub import SquashingScaler
    except ImportError:  # pragma: no cover - skrub is a test dependency only
        return None
    proto = SquashingScaler()
    fitted = clone(proto).fit(X)
    return "skrub SquashingScaler", {
        OP_FIT: (lambda: (clone(proto), X), lambda est, X: est.fit(X)),
        OP_TRANSFORM: (lambda: (X,), lambda X: fitted.transform(X)),
        OP_FIT_TRANSFORM: (lambda: (clone(proto), X), lambda est, X: est.fit_transform(X)),
    }


def numpy_ops(method, X, inverse_input):
    """numpy's own ufunc as counterpart of log scaling: ``np.log1p`` (the map
    of ``LogScaler()``) and ``np.expm1``; (name, {op: (setup, call)}) or None."""
    if method != "log":
        return None
    return "numpy log1p", {
        OP_TRANSFORM: (lambda: (X,), np.log1p),
        OP_INPLACE: (lambda: (X.copy(),), lambda Xc: np.log1p(Xc, out=Xc)),
        OP_INVERSE: (lambda: inverse_input()[:1], np.expm1),
    }


def torch_ops(method, X):
    """torch's layer as counterpart: (name, {op: (setup, call)}) or None.

    Forward passes run on ``torch.from_numpy`` views under ``torch.no_grad()``
    with torch's default number of threads.
    """
    if torch is None:
        return None
    n, cols = X.shape
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    channels, groups = layout(method, cols)
    length = cols // channels

    def forward_op(module, shape):
        module = module.to(dtype).eval()

        def call(X):
            with torch.no_grad():
                return module(torch.from_numpy(X).reshape(shape))
        return (lambda: (X,), call)

    if method == "batch_norm":
        batches = batch_slices(n, TORCH_BATCH)
        chunks = chunk_slices(n)

        def new():
            return torch.nn.BatchNorm1d(cols, momentum=None, dtype=dtype)

        def train(module, X, slices):
            module.train()
            xt = torch.from_numpy(X)
            with torch.no_grad():
                for s in slices:
                    module(xt[s])
            return module

        fitted = train(new(), X, chunks)  # any running statistics serve eval timing

        def fit_transform(module, X):
            train(module, X, batches).eval()
            with torch.no_grad():
                return module(torch.from_numpy(X))

        return "torch BatchNorm1d", {
            OP_FIT: (lambda: (new(), X), lambda m, X: train(m, X, batches)),
            OP_TRANSFORM: forward_op(fitted, (n, cols)),
            OP_FIT_TRANSFORM: (lambda: (new(), X), fit_transform),
            OP_PARTIAL: (lambda: (new(), X), lambda m, X: train(m, X, chunks)),
        }
    if method == "layer_norm":
        name, module, shape = "torch LayerNorm", torch.nn.LayerNorm(cols), (n, cols)
    elif method == "group_norm":
        name, module = "torch GroupNorm", torch.nn.GroupNorm(groups, channels)
        shape = (n, channels, length)
    elif method == "instance_norm":
        name, module = "torch InstanceNorm1d", torch.nn.InstanceNorm1d(channels)
        shape = (n, channels, length)
    else:
        return None
    op = forward_op(module, shape)
    # A row layer learns nothing: its fit_transform is one forward pass.
    return name, {OP_TRANSFORM: op, OP_FIT_TRANSFORM: op}


# --------------------------------------------------------------------------
# Rows and targets
# --------------------------------------------------------------------------
@dataclass
class Row:
    method: str
    op: str
    time: float = None
    ref: str = ""          # what ratio compares with: R, C, R+C, fit
    ratio: float = None
    mem: float = None      # extra memory as a fraction of X.nbytes
    cp_name: str = ""
    cp_time: float = None
    vs_s: float = None     # StandardScaler.fit time / ours (column fit only)
    failures: list = field(default_factory=list)  # short reasons
    has_target: bool = False
    error: str = ""


def reference_for(op, ref_ops, fit_op):
    """(label, [(setup, call), ...]) of the references an op's time is
    divided by: the sum of their medians, timed alternately with the op."""
    if op == OP_FIT:
        return "R", [ref_ops["R"]]
    if op == OP_FIT_TRANSFORM:
        return "R+C", [ref_ops["R"], ref_ops["C"]]
    if op == OP_PARTIAL:
        return "fit", [fit_op]
    return "C", [ref_ops["C"]]


def check_targets(row, kind):
    """Fill ``row.has_target`` and ``row.failures`` from the targets."""
    fails = []

    def need(ok, text):
        if not ok:
            fails.append(text)

    if row.time is None:
        return
    own = METHOD_TARGETS.get(row.method, {})
    if own and row.op in (OP_FIT, OP_TRANSFORM):
        key = "fit" if row.op == OP_FIT else "transform"
        if f"{key}_max_{'r' if key == 'fit' else 'c'}" in own:
            limit = own[f"{key}_max_{'r' if key == 'fit' else 'c'}"]
            row.has_target = True
            need(row.ratio <= limit, f"time {row.ratio:.2f} {row.ref} > {limit:g} {row.ref}")
        if f"{key}_speedup" in own and row.cp_time is not None:
            want = own[f"{key}_speedup"]
            row.has_target = True
            got = row.cp_time / row.time
            need(got >= want, f"only {got:.2f}x faster than {row.cp_name} (< {want:g}x)")
        if row.method in NONLINEAR or row.has_target:
            row.failures = fails
            return
    if row.method in NONLINEAR:
        row.failures = []  # (their own targets, above, where the issue sets any)
        return
    if row.method in RANK_BASED and row.op not in (OP_TRANSFORM, OP_INPLACE):
        row.failures = []  # (its fit sorts: the one-pass targets do not apply)
        return
    mem_ok = row.mem is None or row.mem <= MEM_MAX
    mem_text = f"memory {fmt_mem(row.mem)} > {MEM_MAX:.0%}"
    if kind == "column" and row.op == OP_FIT:
        row.has_target = True
        need(row.ratio <= FIT_MAX_R, f"time {row.ratio:.2f} R > {FIT_MAX_R:g} R")
        need(row.vs_s >= FIT_MIN_SPEEDUP_S,
             f"only {row.vs_s:.2f}x faster than StandardScaler.fit (< {FIT_MIN_SPEEDUP_S:g}x)")
        need(mem_ok, mem_text)
    elif kind == "column" and row.op in (OP_TRANSFORM, OP_INPLACE):
        row.has_target = True
        limit = TRANSFORM_MAX_C if row.op == OP_TRANSFORM else INPLACE_MAX_C
        need(row.ratio <= limit, f"time {row.ratio:.2f} C > {limit:g} C")
        need(mem_ok, mem_text)
    elif kind == "row" and row.op in (OP_TRANSFORM, OP_INPLACE):
        row.has_target = True
        need(row.ratio <= ROW_TRANSFORM_MAX_C,
             f"time {row.ratio:.2f} C > {ROW_TRANSFORM_MAX_C:g} C")
        need(mem_ok, mem_text)
    elif kind == "column" and row.op == OP_FIT_TRANSFORM:
        row.has_target = True
        need(row.ratio <= 1.0, f"time {row.ratio:.2f} (R+C) > R+C")
    elif kind == "column" and row.op == OP_PARTIAL and row.ratio is not None:
        row.has_target = True
        need(row.ratio <= PARTIAL_MAX_FIT,
             f"time {row.ratio:.2f} x fit > {PARTIAL_MAX_FIT:g} x fit")
    row.failures = fails


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------
DASH = "\u2014"


def fmt_time(t):
    return DASH if t is None else f"{t * 1e3:.1f} ms"


def fmt_mem(m):
    return DASH if m is None else f"{m:.2%}"


def target_cell(row):
    if row.error:
        return "ERROR"
    if not row.has_target:
        return ""
    return "FAIL" if row.failures else "PASS"


def row_cells(row):
    speedup = (f"{row.cp_time / row.time:.2f}x"
               if row.cp_time is not None and row.time else DASH)
    return [
        row.method,
        row.op,
        fmt_time(row.time),
        DASH if row.ratio is None else f"{row.ratio:.2f} {row.ref}",
        fmt_mem(row.mem),
        row.cp_name or DASH,
        fmt_time(row.cp_time),
        speedup,
        DASH if row.vs_s is None else f"{row.vs_s:.2f}x",
        target_cell(row),
    ]


HEADERS = ["method", "op", "time", "vs ref", "extra mem", "counterpart",
           "its time", "speed-up", "vs S", "target"]
WIDTHS = [14, 22, 11, 10, 10, 24, 11, 9, 8, 6]
RIGHT = {2, 3, 4, 6, 7, 8}


def fixed(cells):
    out = []
    for i, (c, w) in enumerate(zip(cells, WIDTHS)):
        out.append(c.rjust(w) if i in RIGHT else c.ljust(w))
    return "  ".join(out).rstrip()


def markdown_table(rows):
    lines = ["| " + " | ".join(HEADERS) + " |",
             "|" + "|".join("---:" if i in RIGHT else "---" for i in range(len(HEADERS))) + "|"]
    for row in rows:
        cells = row_cells(row)
        if row.error:
            cells[2] = f"error: {row.error}"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


# --------------------------------------------------------------------------
# Machine description
# --------------------------------------------------------------------------
def machine_info():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        usable = os.cpu_count()
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        mine = [i for i in infos if "numpy" in i.get("filepath", "")] or infos
        if mine:
            i = mine[0]
            blas = (f"{i.get('internal_api')} {i.get('version')}"
                    f" ({i.get('threading_layer', '?')}, {i.get('num_threads')} threads)")
    except Exception:  # noqa: BLE001 - description only
        pass
    try:
        from skscale._blocks import n_threads

        sk_threads = str(n_threads())
    except Exception:  # noqa: BLE001 - private helper, may move
        sk_threads = "?"
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores ({usable} usable)",
        "RAM": DASH if ram is None else f"{ram / 2**30:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "numpy": f"{np.__version__} (BLAS: {blas})",
        "scikit-learn": sklearn.__version__,
        "torch": (DASH + " (not installed)" if torch is None else
                  f"{torch.__version__} ({torch.get_num_threads()} threads)"),
        "skscale": f"{getattr(skscale, '__version__', '?')} ({sk_threads} block threads)",
    }


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------
def make_data(rows, cols, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, cols), dtype=dtype)
    X += dtype(DATA_LOC)
    return X


def warm_up(dtypes, cols, methods):
    """Run every call once on a small array, so that one-time costs (lazy
    imports, thread pools, torch's kernels) fall in no measurement; then
    freeze the objects alive so far out of the garbage collector's passes."""
    for dtype in dtypes:
        X = make_data(4 * N_CHUNKS * 10, cols, dtype)
        for method in methods:
            try:
                proto, _ = make_estimator(method, cols)
                row = is_row_scaler(proto)
                fitted = clone(proto).fit(X)
                Y = fitted.transform(X)
                inv = (Y, fitted.sample_stats(X)) if row else (Y,)
                groups = [skscale_ops(proto, X, lambda: inv, row)]
                for build in (sklearn_ops, torch_ops, skrub_ops):
                    cp = (build(method, X, lambda: inv) if build is sklearn_ops
                          else build(method, X))
                    if cp is not None:
                        groups.append(cp[1])
                for ops in groups:
                    for setup, call in ops.values():
                        call(*setup())
            except Exception:  # noqa: BLE001 - the measurement reports errors
                pass
    gc.collect()
    gc.freeze()


def run_dtype(dtype, args, methods, emit):
    X = make_data(args.rows, args.cols, dtype)
    nbytes = X.nbytes
    from sklearn.preprocessing import StandardScaler

    ref_ops = {"R": (lambda: (X,), lambda X: X.sum(axis=0)),
               "C": (lambda: (X,), lambda X: X.copy())}
    refs = {
        "R": measure(*ref_ops["R"], args.repeats, False)[0],
        "C": measure(*ref_ops["C"], args.repeats, False)[0],
        "S": measure(lambda: (StandardScaler(), X), lambda est, X: est.fit(X),
                     args.repeats, False)[0],
    }
    title = (f"{np.dtype(dtype).name}: X is {args.rows:,} x {args.cols} "
             f"({nbytes / 1e6:.1f} MB), median of {args.repeats}")
    ref_line = (f"R = X.sum(axis=0): {fmt_time(refs['R'])}   C = X.copy(): "
                f"{fmt_time(refs['C'])}   S = StandardScaler().fit(X): {fmt_time(refs['S'])}")
    emit("")
    emit(title)
    emit(ref_line)
    emit(fixed(HEADERS))
    emit(fixed(["-" * w for w in WIDTHS]))

    rows = []
    for method in methods:
        try:
            proto, _ = make_estimator(method, args.cols)
            row_kind = is_row_scaler(proto)
        except Exception as err:  # noqa: BLE001 - report, keep going
            r = Row(method, "(construct)", error=f"{type(err).__name__}: {err}")
            rows.append(r)
            emit(f"{method:<14}  error: {r.error}")
            continue
        kind = "row" if row_kind else "column"

        # inverse_transform (ours and the counterpart's: the same map) starts
        # from our transform's output, computed once per method.
        cache = {}

        def inverse_input(_proto=proto, _row=row_kind):
            if "Y" not in cache:
                fitted = clone(_proto).fit(X)
                Y = fitted.transform(X)
                cache["Y"] = (Y, fitted.sample_stats(X)) if _row else (Y,)
            return cache["Y"]

        try:
            ours = skscale_ops(proto, X, inverse_input, row_kind)
        except Exception as err:  # noqa: BLE001
            r = Row(method, "(fit)", error=f"{type(err).__name__}: {err}")
            rows.append(r)
            emit(f"{method:<14}  error: {r.error}")
            continue
        counterparts = []
        for build in (lambda: sklearn_ops(method, X, inverse_input),
                      lambda: torch_ops(method, X),
                      lambda: numpy_ops(method, X, inverse_input),
                      lambda: skrub_ops(method, X)):
            try:
                cp = build()
            except Exception as err:  # noqa: BLE001
                emit(f"{method:<14}  (counterpart unavailable: {type(err).__name__}: {err})")
                cp = None
            if cp is not None:
                counterparts.append(cp)

        for op in OPS:
            if op not in ours and not any(op in ops for _, ops in counterparts):
                continue
            row = Row(method, op)
            if op in ours:
                row.ref, paired = reference_for(op, ref_ops, ours.get(OP_FIT))
                try:
                    row.time, extra, base = measure(*ours[op], args.repeats, True, paired)
                    row.mem = extra / nbytes
                    row.ratio = row.time / sum(base)
                except Exception as err:  # noqa: BLE001
                    row.error = f"{type(err).__name__}: {err}"
            if row.time is not None:
                if op == OP_FIT:
                    row.vs_s = refs["S"] / row.time
            for name, ops in counterparts:
                if op in ops:
                    try:
                        row.cp_time = measure(*ops[op], args.repeats, False)[0]
                        row.cp_name = name
                    except Exception as err:  # noqa: BLE001
                        row.cp_name = f"{name} (error: {type(err).__name__})"
                    break
            check_targets(row, kind)
            rows.append(row)
            line = fixed(row_cells(row))
            if row.error:
                line += f"   error: {row.error}"
            emit(line)
            gc.collect()
        cache.clear()
        del ours, counterparts
        gc.collect()
    del X
    gc.collect()
    return title, ref_line, refs, rows


def exactness(rows=EXACT_ROWS, cols=None):
    """Max relative error of ZScoreScaler's float32 statistics against the
    exact ones, for ``fit`` and ``partial_fit`` over 100 chunks.

    The reference is exact to float64 rounding: ``x - c`` (``c`` a float32
    near the column mean) and its square are exact in float64 for this data,
    ``math.fsum`` sums them correctly rounded, and the variance is finished
    in rationals.
    """
    cols = cols or 50
    rng = np.random.default_rng(1)
    X = rng.normal(DATA_LOC, 1.0, size=(rows, cols)).astype(np.float32)
    X64 = X.astype(np.float64)
    n = rows
    ref_mean = np.empty(cols)
    ref_var = np.empty(cols)
    for j in range(cols):
        col = X64[:, j]
        c = float(np.float32(col.mean()))
        d = col - c
        s1, s2 = Fraction(math.fsum(d)), Fraction(math.fsum(d * d))
        ref_mean[j] = float(Fraction(c) + s1 / n)
        ref_var[j] = float((s2 - s1 * s1 / n) / n)

    def stats_of(est):
        st = getattr(est, "stats_", None)
        if st is not None:
            return np.asarray(st.mean, np.float64), np.asarray(st.var(0), np.float64)
        return np.asarray(est.mean_, np.float64), np.asarray(est.var_, np.float64)

    def rel(a, b):
        return float(np.max(np.abs(a - b) / np.abs(b)))

    cls = SCALERS["zscore"]
    results = {}
    fitted = cls().fit(X)
    results["fit"] = stats_of(fitted)
    est = cls()
    for s in chunk_slices(rows):
        est.partial_fit(X[s])
    results[f"partial_fit x{N_CHUNKS}"] = stats_of(est)
    out = []
    for name, (mean, var) in results.items():
        out.append((name, rel(mean, ref_mean), rel(var, ref_var)))
    return out


def write_markdown(path, header, sections, summary):
    start, end = "<!-- bench-results:start -->", "<!-- bench-results:end -->"
    body = [start, ""] + header + [""]
    for title, ref_line, table, _ in sections:
        body += [f"**{title}**", "", ref_line, ""] + table + [""]
    body += summary + ["", end]
    text = "\n".join(body) + "\n"
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if old is not None and start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + "\n".join(body) + after
    with open(path, "w") as f:
        f.write(text)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Time every skscale estimator against R = X.sum(axis=0), "
                    "C = X.copy() and its scikit-learn / numpy / torch counterparts.")
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                   help=f"rows of X (default {DEFAULT_ROWS:,})")
    p.add_argument("--cols", type=int, default=DEFAULT_COLS,
                   help=f"columns of X (default {DEFAULT_COLS})")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed calls per measurement; the median is reported (default 3)")
    p.add_argument("--dtypes", default="float64,float32",
                   help="comma-separated dtypes (default float64,float32)")
    p.add_argument("--only", default=None, metavar="NAME[,NAME]",
                   help="only these methods (keys of skscale.SCALERS)")
    p.add_argument("--markdown", default=None, metavar="PATH",
                   help="also write the results as markdown; if PATH already holds the"
                        " bench-results markers, only the text between them is replaced")
    args = p.parse_args(argv)
    if args.rows < 2 * N_CHUNKS or args.cols < 2:
        p.error(f"need --rows >= {2 * N_CHUNKS} and --cols >= 2")
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    try:
        args.dtypes = [np.dtype(d.strip()).type for d in args.dtypes.split(",") if d.strip()]
    except TypeError as err:
        p.error(f"--dtypes: {err}")
    if any(d not in (np.float64, np.float32) for d in args.dtypes):
        p.error("--dtypes takes float64 and/or float32")
    if args.only:
        args.only = [m.strip() for m in args.only.split(",") if m.strip()]
        unknown = [m for m in args.only if m not in SCALERS]
        if unknown:
            p.error(f"unknown method(s) {', '.join(unknown)}; "
                    f"available: {', '.join(SCALERS)}")
    return args


def main(argv=None):
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace", line_buffering=True)
    args = parse_args(argv)
    methods = args.only or list(SCALERS)
    command = ("python benchmarks/run.py "
               + shlex.join(sys.argv[1:] if argv is None else argv)).strip()
    stamp = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
    info = machine_info()
    started = time.perf_counter()

    def emit(line):
        print(line, flush=True)

    warm_up(args.dtypes, args.cols, methods)
    emit(f"skscale benchmark  {stamp}")
    for k, v in info.items():
        emit(f"  {k + ':':<14}{v}")
    emit(f"  {'command:':<14}{command}")
    emit("Times are medians; 'vs ref' divides by the median of R (fit), C (transforms),"
         " R+C (fit_transform) or the method's own fit (partial_fit), timed alternately"
         " with the call; 'speed-up' is the"
         " counterpart's time / ours; 'vs S' is StandardScaler.fit's time / ours;"
         " 'extra mem' is the peak beyond a fresh output, as a share of X.")

    sections, failures, errors = [], [], []
    for dtype in args.dtypes:
        title, ref_line, refs, rows = run_dtype(dtype, args, methods, emit)
        sections.append((title, ref_line, markdown_table(rows), len(rows)))
        name = np.dtype(dtype).name
        for r in rows:
            if r.error:
                errors.append(f"{name} {r.method} {r.op}: {r.error}")
            if r.failures:
                failures.append(f"{name} {r.method} {r.op}: {'; '.join(r.failures)}")

    exact = exactness(cols=args.cols)
    exact_ok = all(m <= EXACT_MAX_REL and v <= EXACT_MAX_REL for _, m, v in exact)
    exact_line = ("exactness (float32 X at mean 1e3, "
                  f"{EXACT_ROWS:,} x {args.cols}, ZScoreScaler vs exact float64): "
                  + "; ".join(f"{n}: mean {m:.1e}, var {v:.1e}" for n, m, v in exact)
                  + f" (max relative error; target <= {EXACT_MAX_REL:g}) "
                  + ("PASS" if exact_ok else "FAIL"))
    if not exact_ok:
        failures.append("exactness: " + exact_line)

    n_checked = sum(n for *_, n in sections)
    notes = [exact_line]
    if args.rows * args.cols < DEFAULT_ROWS * DEFAULT_COLS:
        notes.append(f"note: the targets are set for X of {DEFAULT_ROWS:,} x {DEFAULT_COLS};"
                     " on a smaller X fixed per-call costs weigh more.")
    summary = list(notes)
    if failures:
        summary.append(f"TARGETS: {len(failures)} FAIL (one line per measured row)")
        summary += [f"  FAIL {f}" for f in failures]
    else:
        summary.append("TARGETS: all PASS")
    if errors:
        summary.append(f"ERRORS: {len(errors)}")
        summary += [f"  ERROR {e}" for e in errors]
    summary.append(f"({n_checked} rows, {time.perf_counter() - started:.0f} s)")
    emit("")
    for line in summary:
        emit(line)

    if args.markdown:
        header = [f"Run on {stamp}.", "", "| | |", "|---|---|"]
        header += [f"| {k} | {v} |" for k, v in info.items()]
        header.append(f"| command | `{command}` |")
        md_summary = []
        for line in notes:
            md_summary += [line, ""]
        if failures:
            md_summary += [f"**{len(failures)} fail their targets:**", ""]
            md_summary += [f"- {f}" for f in failures]
        else:
            md_summary.append("**All targets pass.**")
        if errors:
            md_summary += ["", f"**{len(errors)} errors:**", ""] + [f"- {e}" for e in errors]
        write_markdown(args.markdown, header, sections, md_summary)
        emit(f"markdown written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
