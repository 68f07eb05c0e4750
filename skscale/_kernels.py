"""The numpy kernels: the per-feature map and the per-sample map.

Two kernels serve every method, each walking its data once in the row blocks
of :mod:`skscale._blocks` and never allocating a temporary the size of ``X``:

* :func:`affine` -- the per-feature map ``y = (x - center) / scale + shift``
  that min-max, z-score, robust, decimal and batch-norm scaling all reduce
  to (:func:`affine_columns` is the same map on a DataFrame's columns);
* :func:`grouped` -- a per-sample map over groups of contiguous features,
  which serves unit norm and layer, instance and group normalization
  (:func:`group_inverse` undoes it, given each group's statistics).

Each hands its work to the compiled loops (:mod:`skscale._compiled`) where
they are wanted; ``docs/design.md`` lists which function implements each
algorithm on the numpy, compiled and device paths.
"""

import numpy as np

from . import _compiled
from ._blocks import (PerFeature, block_rows, column_reduce, fold, for_each_block, n_threads,
                      scratch, widen)
from ._errors import in_place_error, raise_non_finite


def check_finite(X, feature_names=None):
    """Raise if dense ``X`` holds an infinity (NaN is allowed), block by block."""
    @np.errstate(over="ignore", invalid="ignore")  # finite checks below report
    def run(rows):
        x = X[rows]
        if not np.isfinite(np.add.reduce(x, axis=None)):
            raise_non_finite(x, np.isnan(x), rows.start, feature_names)

    for_each_block(X.shape[0], X.shape[1], run)


def affine(X, out, center, scale, shift, *, inverse=False, bounds=None,
           feature_names=None):
    """Apply ``y = (x - center) / scale + shift`` per feature, block by block.

    With ``inverse=True`` apply ``x = (y - shift) * scale + center``.  Any of
    ``center``, ``scale`` and ``shift`` may be None (skipped); ``bounds``
    clips the result to ``(low, high)``.  Subtracting the center first keeps
    the result accurate to the last bit even far from zero (``x * a + b``
    loses ``|x * a| / |y|`` ulps to cancellation).  The arithmetic is float64
    whatever the dtypes, so a float32 result is the float32 rounding of the
    float64 one.  ``out`` may be ``X`` itself (in place).  An infinite input
    raises a ``ValueError`` naming its column; NaN passes through.  A feature
    with a NaN parameter (a training column that was all NaN) maps to NaN.
    """
    params, unknown = _known_parameters(X.shape[1], center, scale, shift)
    if unknown is not None:
        center, scale, shift = params
    if _compiled.wanted(X):
        row = _compiled.affine_loop(X, out, center, scale, shift, inverse, bounds, n_threads())
        if row >= 0:
            _report_row(X, out, row, center, scale, shift, inverse, feature_names)
    else:
        _affine_numpy(X, out, center, scale, shift, inverse, bounds, feature_names)
    if unknown is not None:
        out[:, unknown] = np.nan
    return out


def affine_columns(columns, out, center, scale, shift, *, inverse=False, bounds=None,
                   feature_names=None, nan_nulls=True):
    """:func:`affine` of a DataFrame's columns (:class:`skscale._frames.Columns`):
    column ``j`` into ``out[j]``, with the same float64 operations, so the
    results are those of the frame's 2-D array bit for bit.  A null of a
    column read with its validity bitmap maps to NaN, or, if not
    ``nan_nulls`` (the output keeps the bitmap), to what the map gives."""
    arrays = columns.arrays
    params, unknown = _known_parameters(len(arrays), center, scale, shift)
    params = [None if p is None else np.broadcast_to(np.asarray(p, np.float64), (len(arrays),))
              for p in params]
    left = [(j, slice(None)) for j in range(len(arrays))]
    if _compiled.wanted(columns):
        def run(js):
            found = []
            for j in range(js.start, js.stop):
                bad = _compiled.one_column_affine_loop(
                    arrays[j], columns.valid[j], out[j],
                    *(None if p is None else p[j] for p in params), inverse, bounds,
                    nan_nulls)
                if bad is not None:  # the numpy kernel below names the value
                    found.append((j, bad))
            return found

        # columns on threads (the loops run free of the GIL)
        left = [f for part in for_each_block(len(arrays), 1, run, rows_per_block=1) for f in part]
    for j, rows in left:
        _affine_numpy(columns.column(j)[rows, None], out[j][rows, None],
                      *(None if p is None else p[j] for p in params), inverse, bounds,
                      [j if feature_names is None else feature_names[j]],
                      row0=rows.start or 0)
        if rows.stop is not None:  # a compiled loop stopped there: this raised
            raise AssertionError("the compiled and numpy kernels disagree")  # pragma: no cover
    if unknown is not None:
        out[unknown] = np.nan
    return out


def _known_parameters(d, *params):
    """The affine parameters with the NaN of unknown features replaced by
    values that change nothing (so no check mistakes their NaN output for
    an overflow), and those features' indices; None when there are none."""
    arrays = [None if p is None else np.broadcast_to(np.asarray(p, np.float64), (d,))
              for p in params]
    nan = np.zeros(d, dtype=bool)
    for a in arrays:
        if a is not None:
            nan |= np.isnan(a)
    if not nan.any():
        return params, None
    neutral = (0.0, 1.0, 0.0)
    return [None if a is None else np.where(nan, v, a) for a, v in zip(arrays, neutral)], \
        np.flatnonzero(nan)


def _report_row(X, out, row, center, scale, shift, inverse, feature_names):
    """Raise the error of the numpy kernel for a row in which the compiled
    loop found an infinite input or an overflowing result."""
    if out is X:
        raise in_place_error(row, out.dtype)
    x = X[row:row + 1]
    _affine_numpy(x, np.empty(x.shape, out.dtype), center, scale, shift, inverse, None,
                  feature_names, row0=row)
    raise AssertionError("the compiled and numpy kernels disagree")  # pragma: no cover


def _affine_numpy(X, out, center, scale, shift, inverse, bounds, feature_names, row0=0):
    """:func:`affine` by numpy operations on row blocks; ``row0`` is the
    row number of ``X[0]`` in error messages."""
    k = fold(X.shape[1])
    direct = out.dtype == np.float64
    first, second = (shift, center) if inverse else (center, shift)
    steps = [(PerFeature(v, k, X.shape[1]), op) for v, op in (
        (first, np.subtract), (scale, np.multiply if inverse else np.divide),
        (second, np.add)) if v is not None]

    @np.errstate(over="ignore", invalid="ignore")  # finite checks below report
    def run(rows):
        x, y = X[rows], out[rows]
        xw, yw = widen(x, k), widen(y, k)
        if xw.shape != yw.shape:  # one side could not be widened
            xw, yw = x, y
        # Work in float64; the last operation writes (and so rounds) into out.
        work = yw if direct else scratch(yw.shape)
        src = xw
        for i, (operand, op) in enumerate(steps):
            dst = yw if i == len(steps) - 1 and bounds is None else work
            op(src, operand.for_(y, yw), out=dst)
            src = dst
        if bounds is not None:
            # check before clipping, which would hide an infinity
            if not np.isfinite(np.add.reduce(src, axis=None)):
                report(x, src.reshape(x.shape), row0 + rows.start)
            np.clip(src, *bounds, out=yw)
        elif src is not yw:
            yw[...] = src
        if not np.isfinite(column_reduce(np.add, y, k)).all():
            report(x, y, row0 + rows.start)

    def report(x, result, first_row):
        if out is X:  # from finite inputs only infinities arise, never NaN
            bad = np.flatnonzero(np.isinf(result).any(axis=1))
            if bad.size:
                raise in_place_error(first_row + int(bad[0]), out.dtype)
        else:
            raise_non_finite(x, np.isnan(x), first_row, feature_names, result)

    for_each_block(X.shape[0], X.shape[1], run)
    return out


def redo_rows(X, out, rows, kernel, feature_names=None):
    """Run ``kernel(x, y)`` (a numpy kernel writing the map of the rows ``x``
    into ``y``) on the ``rows`` of ``X`` that a compiled loop left unwritten,
    and store the results in ``out``.  The rows are gathered a block at a
    time, so memory stays block-sized and, in place, the other rows -- done
    already -- are not scaled twice.  An infinity among them raises, naming
    its row in ``X``."""
    step = block_rows(X.shape[1])
    for start in range(0, len(rows), step):
        idx = rows[start:start + step]
        x = X[idx]
        inf = np.isinf(x).any(axis=1)
        if inf.any():
            i = int(idx[inf.argmax()])
            raise_non_finite(X[i:i + 1], np.isnan(X[i:i + 1]), i, feature_names)
        y = np.empty(x.shape, dtype=out.dtype)
        kernel(x, y)
        out[idx] = y


def grouped(X, out, n_groups, stats_fn, apply_fn, *, keep_stats=True, feature_names=None):
    """Per-sample map over ``n_groups`` groups of contiguous features.

    Each block of rows is viewed in float64 as ``(rows, n_groups, group_size)``;
    ``stats_fn(view)`` returns per-(row, group) statistics (an array or a
    tuple of arrays) and ``apply_fn(view, stats, work)`` writes the result
    into ``work``, a float64 array of the same shape (``out`` itself where it
    is float64).  With ``out=None`` only the statistics are computed.
    Returns ``out`` and, when ``keep_stats``, the statistics of all rows
    stacked along the first axis (else None: a transform need not hold them).
    """
    n_rows, n_features = X.shape
    # Row blocks of out are reshaped in place, which only a C-ordered out allows.
    direct = out is not None and out.dtype == np.float64 and out.flags.c_contiguous

    @np.errstate(over="ignore", invalid="ignore")  # finite checks below report
    def run(rows):
        x = X[rows]
        shape = (x.shape[0], n_groups, n_features // n_groups)
        if x.dtype != np.float64 or not x.flags.c_contiguous:
            x64 = scratch(x.shape, slot=1)
            x64[...] = x
            x = x64
        x = x.reshape(shape)
        stats = stats_fn(x)
        # Statistics of finite groups are finite: only a block whose
        # statistics are not needs the look for an infinity (NaN is allowed).
        if not all(np.isfinite(s).all() for s in (stats if isinstance(stats, tuple) else (stats,))):
            raise_non_finite(X[rows], np.isnan(X[rows]), rows.start, feature_names)
        if out is not None:
            work = out[rows] if direct else scratch(out[rows].shape, slot=2)
            apply_fn(x, stats, work.reshape(shape))
            if not direct:
                out[rows] = work
        return stats if keep_stats else None

    parts = for_each_block(n_rows, n_features, run)
    if not keep_stats:
        return out, None
    if isinstance(parts[0], tuple):
        return out, tuple(np.concatenate(p) for p in zip(*parts))
    return out, np.concatenate(parts)


#: A per-sample scale -- a row's norm, a group's ``sqrt(var + eps)`` -- below
#: this is computed again on the values times ``2**k`` (exact), as is one that
#: overflowed: below about ``2**-511`` the squares lose bits to underflow, and
#: in the subnormal range the sums do; above it the underflow of any square
#: costs less than ``2**-175`` of the sum.
TINY_SCALE = 2.0 ** -450


def rescaling(x, scale, floor=0.0):
    """Which per-sample statistics to compute again on ``x * 2**k``, and ``k``.

    ``scale[i]`` is the statistic that the values ``x[i]`` (along the last
    axis) are divided by, computed on ``x``: from :data:`TINY_SCALE` up to a
    finite value it is as accurate as anywhere.  Returns a mask of the others
    that hold a nonzero finite value and no infinity (zeros keep their scale,
    an infinity is reported by the kernel, NaN alone gives NaN statistics) and,
    for each, the ``k`` that puts ``max(max|x|, floor)`` in ``[1/2, 1)``: then
    no sum or square overflows, and none that counts underflows.
    """
    redo = ~((scale >= TINY_SCALE) & (scale < np.inf))
    if not redo.any():
        return redo, np.zeros(0, dtype=np.int32)
    top = np.fmax.reduce(np.abs(x[redo]), axis=-1)  # NaN ignored
    keep = (top > 0) & (top < np.inf)
    redo[redo] = keep
    return redo, -np.frexp(np.fmax(top[keep], floor))[1]


def group_inverse(X, scale, center=None, gamma=None, beta=None, feature_names=None):
    """``x = (y - beta) / gamma * scale + center`` on the values ``y`` of
    each (row, group) of dense ``X``, with ``scale`` and ``center`` of
    shape ``(n_samples, n_groups)`` (``center``, ``gamma``, ``beta``: None
    to skip), in float64 row blocks rounded once into a fresh array.  An
    infinity, or a result beyond the range of the output type, raises a
    ``ValueError`` naming its row and column."""
    n_groups = scale.shape[1]
    out = np.empty(X.shape, dtype=X.dtype)
    direct = out.dtype == np.float64
    names = feature_names

    @np.errstate(over="ignore", invalid="ignore")  # the finite check below reports
    def run(rows):
        y = X[rows]
        x = (out[rows] if direct else scratch(y.shape)).reshape(len(y), n_groups, -1)
        s = scale[rows, :, None]
        c = None if center is None else center[rows, :, None]
        # (y - beta) / gamma * scale is x - center, which overflows where x
        # does not when both are near the float64 limit with opposite signs
        # (scale is then above 2**1000): there compute x / 2, and double it.
        big = np.abs(s[..., 0]) >= 2.0 ** 1000
        if big.any():
            s = np.where(big[..., None], s / 2, s)
            c = None if c is None else np.where(big[..., None], c / 2, c)
        src = y.reshape(x.shape)
        for op, operand in ((np.subtract, beta), (np.divide, gamma), (np.multiply, s),
                            (np.add, c)):
            if operand is not None:
                op(src, operand, out=x)
                src = x
        if big.any():
            x[big] *= 2.0
        if not direct:
            out[rows] = x.reshape(y.shape)
        # An infinite input gives a non-finite output too (names it first).
        if not np.isfinite(np.add.reduce(out[rows], axis=None)):  # (huge finite sums pass)
            raise_non_finite(y, np.isnan(y), rows.start, names, out[rows],
                             "the inverse with these sample_stats is not in it")

    for_each_block(X.shape[0], X.shape[1], run)
    return out
