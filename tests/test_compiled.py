"""The compiled loops (numba, when installed) against the numpy kernels: bit for
bit where they do the same operations in the same order, to rounding elsewhere."""

import numpy as np
import pytest

from skscale import _blocks, _compiled, _config, _kernels


def test_numba_is_installed_for_the_tests():
    # numba is a test dependency: without it these comparisons would test nothing.
    assert _compiled._load() is not None


def _both(monkeypatch, X, out_dtype, in_place=False, **kw):
    """The affine map by the compiled loop and by the numpy kernel, into a
    fresh array or (``in_place``) into a copy of ``X`` itself."""
    results = []
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        if in_place:
            out = X.copy(order="K")
            results.append(_kernels.affine(out, out, **kw))
        else:
            out = np.empty(X.shape, dtype=out_dtype)
            results.append(_kernels.affine(X, out, **kw))
    return results


def _bits(a):
    return a.view(np.int32 if a.dtype == np.float32 else np.int64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("parts", [(1, 1, 1), (1, 1, 0), (0, 1, 0), (1, 0, 1), (0, 0, 1)])
@pytest.mark.parametrize("in_place", [False, True])
def test_same_bits_as_numpy_kernel(monkeypatch, dtype, layout, inverse, parts, in_place):
    rng = np.random.default_rng(0)
    n = 2 * _blocks.block_rows(6) + 7
    base = rng.normal(1e3, 5.0, size=(n, 12))
    base[rng.random(base.shape) < 0.05] = np.nan
    base[0, 0] = -0.0
    X = {"C": base[:, :6].copy(), "F": np.asfortranarray(base[:, :6]),
         "strided": base[:, ::2]}[layout].astype(dtype)
    center, scale, shift = rng.normal(1e3, 1, 6), rng.uniform(0.1, 3, 6), rng.normal(size=6)
    kw = dict(center=center if parts[0] else None, scale=scale if parts[1] else None,
              shift=(2.5 if parts[0] else shift) if parts[2] else None, inverse=inverse)
    fast, slow = _both(monkeypatch, X, dtype, in_place=in_place, **kw)
    np.testing.assert_array_equal(_bits(fast), _bits(slow))


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("clip", [False, True])
def test_float32_overflow_is_found_at_its_exact_threshold(monkeypatch, in_place, clip):
    # The largest float32 plus half its ulp rounds (to even) to infinity; just
    # below it rounds to the largest float32.  Clipped results (clipping works
    # on the float64 value) cannot overflow.
    edge = 2.0 ** 128 - 2.0 ** 103
    X = np.zeros((3, 2), dtype=np.float32)
    X[1, 1] = 1.0
    bounds = (-1.0, 1.0) if clip else None
    for scale in (1 / np.nextafter(edge, 0), 1 / edge):
        kw = dict(center=None, scale=np.full(2, scale), shift=None, bounds=bounds)
        if scale == 1 / edge and not clip:
            msg = ("Row 1 holds an infinity, or a value that scales beyond the range of float32"
                   if in_place else "Column 1 at row 1: 1.0 scales to inf")
            for compiled in (True, False):
                monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
                out = X.copy() if in_place else np.empty_like(X)
                with pytest.raises(ValueError, match=msg):
                    _kernels.affine(out if in_place else X, out, **kw)
        else:
            fast, slow = _both(monkeypatch, X, np.float32, in_place=in_place, **kw)
            np.testing.assert_array_equal(_bits(fast), _bits(slow))
            assert np.isfinite(fast).all()


def test_same_bits_with_bounds_and_the_same_errors(monkeypatch):
    X = np.random.default_rng(1).normal(size=(500, 4))
    fast, slow = _both(monkeypatch, X, np.float64, center=np.zeros(4), scale=np.full(4, 0.5),
                       shift=None, bounds=(-1.0, 1.0))
    np.testing.assert_array_equal(_bits(fast), _bits(slow))
    X[321, 2] = np.inf
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        with pytest.raises(ValueError, match="infinity.*column 2 at row 321"):
            _kernels.affine(X, np.empty_like(X), None, np.ones(4), None, bounds=(-1.0, 1.0))
    X[321, 2] = 1e300  # finite, but scales past float64: clipping must not hide that
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        with pytest.raises(ValueError, match="Column 2 at row 321: 1e.300 scales to inf"):
            _kernels.affine(X, np.empty_like(X), None, np.full(4, 1e-10), None,
                            bounds=(-1.0, 1.0))


_GROUP_NORMS = [
    # groups of 12, 4 and 2 features: summed across transposed tiles of rows
    (lambda: __import__("skscale").LayerNormScaler(scale=2.0, shift=-1.0), 12),
    (lambda: __import__("skscale").GroupNormScaler(3, n_channels=6, shift=np.arange(6.0)), 12),
    (lambda: __import__("skscale").InstanceNormScaler(6, scale=np.linspace(0.5, 2, 6), eps=0.0), 12),
    # groups of 40 and 32 features (LONG_GROUP and up): summed along each row
    (lambda: __import__("skscale").LayerNormScaler(shift=0.5), 40),
    (lambda: __import__("skscale").GroupNormScaler(2, n_channels=4, scale=np.arange(1.0, 5.0)), 64),
]


def _group_norm_both(monkeypatch, scaler, X, in_place):
    """transform by the compiled loop (the rows it leaves to the numpy kernel
    recorded) and by the numpy kernel alone."""
    left = []
    loop = _compiled.group_norm_loop

    def recording(*args):
        left.append(loop(*args))
        return left[-1]

    monkeypatch.setattr(_compiled, "group_norm_loop", recording)
    results = []
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        Xc = X.copy()
        results.append(scaler.transform(Xc, copy=not in_place))
        assert (results[-1] is Xc) == in_place
    return (*results, left[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, n_features", _GROUP_NORMS)
@pytest.mark.parametrize("in_place", [False, True])
def test_group_norm_loop_agrees_with_numpy_kernel(monkeypatch, dtype, make, n_features, in_place):
    rng = np.random.default_rng(2)
    # several row blocks, each tile full but a ragged last one
    n_rows = 3 * _blocks.block_rows(n_features) + 5
    X = rng.normal(1e4, 3.0, size=(n_rows, n_features)).astype(dtype)
    # (a float32 group of 2 can hold one value twice; with eps=0 that is a
    # zero spread, which goes to numpy: the next test has those)
    scaler = make().fit(X)
    scaler.set_params(eps=max(scaler.eps, 1e-12))
    assert (n_features // scaler.n_groups_ >= _compiled.LONG_GROUP) == (n_features > 12)
    fast, slow, left = _group_norm_both(monkeypatch, scaler, X, in_place)
    assert left.size == 0  # the compiled loop did every row
    assert fast.dtype == slow.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(fast, slow, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, n_features", _GROUP_NORMS)
@pytest.mark.parametrize("in_place", [False, True])
def test_group_norm_loop_leaves_unusual_rows_to_numpy(monkeypatch, dtype, make, n_features,
                                                      in_place):
    rng = np.random.default_rng(5)
    n_rows = 2 * _blocks.block_rows(n_features) + 3
    X = rng.normal(1e4, 3.0, size=(n_rows, n_features))
    X[7, 3] = np.nan                  # ignored in its group's statistics
    X[9, :] = 5.0                     # constant row: exactly beta (eps=0: the numpy kernel's rule)
    X[11, n_features // 2:] = np.nan  # an all-NaN group
    X[n_rows - 1, 0] = np.nan         # in the last tile
    X = X.astype(dtype)
    scaler = make().fit(X)
    fast, slow, left = _group_norm_both(monkeypatch, scaler, X, in_place)
    # only the rows with NaN (and, without eps, those with a constant group,
    # row 9 among them) went to numpy: in place, the rows the loop did are
    # not scaled a second time
    groups = X.reshape(n_rows, scaler.n_groups_, -1)
    constant = (groups.max(axis=-1) == groups.min(axis=-1)).any(axis=1)
    expected = np.flatnonzero(np.isnan(X).any(axis=1) | (constant & (scaler.eps == 0)))
    assert {7, 11, n_rows - 1} <= set(expected.tolist())
    np.testing.assert_array_equal(left, expected)
    assert fast.dtype == slow.dtype == dtype
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(fast, slow, rtol=tol, atol=tol)
    np.testing.assert_array_equal(fast[9], slow[9])


@pytest.mark.parametrize("in_place", [False, True])
def test_group_norm_infinity_is_reported_at_its_row(monkeypatch, in_place):
    from skscale import GroupNormScaler

    X = np.random.default_rng(6).normal(size=(3 * _blocks.block_rows(8), 8))
    scaler = GroupNormScaler(2, n_channels=4).fit(X)
    X[5000, 6], X[7, 1] = -np.inf, np.nan
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        with pytest.raises(ValueError, match=r"infinity \(-inf\) in column 6 at row 5000"):
            scaler.transform(X.copy(), copy=not in_place)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows", [1, 2, 130, 1000])
@pytest.mark.parametrize("n_threads", [1, 2, 5])
@pytest.mark.parametrize("n_groups", [25, 1])
def test_group_norm_loops_on_tile_and_block_edges(monkeypatch, dtype, n_rows, n_threads, n_groups):
    # One row, a tile and a ragged tile, more threads than blocks; no unusual
    # group, so the compiled loops do all of the work (none is left over).
    rng = np.random.default_rng(n_rows)
    X = rng.normal(-3.0, 2.0, size=(n_rows, 50)).astype(dtype)
    gamma, beta = rng.uniform(0.5, 2, 50), rng.normal(size=50)
    bounds = _blocks.block_bounds(n_rows, 50)
    monkeypatch.setattr(_compiled, "TILE_BYTES", 8 * 50 * 7)  # 7-row tiles
    out = np.empty_like(X)
    assert _compiled.group_norm_loop(X, out, bounds, n_groups, 1e-5, gamma, beta, n_threads).size == 0
    x = X.astype(np.float64).reshape(n_rows, n_groups, -1)
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    expected = ((x - mean) / np.sqrt(var + 1e-5)).reshape(n_rows, 50) * gamma + beta
    tol = 1e-13 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out, expected.astype(dtype), rtol=tol, atol=tol)


@pytest.mark.parametrize("n_groups", [10, 5, 1])
def test_group_norm_loops_keep_the_variance_far_from_zero(n_groups):
    # Groups of 5 and 10 (summed in one pass from each group's first value)
    # and of 50 (two passes along the row), at mean 1e8 and std 1: E[x**2] -
    # E[x]**2 would lose every digit there.  With eps = 0 every normalized
    # group has a biased variance of exactly 1.
    X = 1e8 + np.random.default_rng(9).normal(size=(3000, 50))
    out = np.empty_like(X)
    bounds = _blocks.block_bounds(*X.shape)
    left = _compiled.group_norm_loop(X, out, bounds, n_groups, 0.0, np.ones(50), np.zeros(50), 2)
    assert left.size == 0
    groups = out.astype(np.longdouble).reshape(len(X), n_groups, -1)
    np.testing.assert_allclose(groups.var(axis=-1).astype(np.float64), 1.0, rtol=1e-13)
    # and a mean of 0, but for the rounding of the mean near 1e8 (half an ulp,
    # 2**-27, here with a factor 2 to spare) over the group's own std
    std = X.astype(np.longdouble).reshape(groups.shape).std(axis=-1)
    assert (np.abs(groups.mean(axis=-1)) * std < 2.0 ** -26).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_unit_norm_loop_agrees_with_numpy_kernel(monkeypatch, dtype, norm):
    from skscale import UnitNormScaler

    rng = np.random.default_rng(3)
    X = rng.normal(size=(2 * _blocks.block_rows(9) + 3, 9)) * 1e3
    X[4] = 0.0                # stays zero
    X[5, 2] = np.nan          # ignored in the norm, passed through
    X[6] = 1e200 if dtype == np.float64 else 1e30  # l2: squares overflow (float64 rows)
    X = X.astype(dtype)
    scaler = UnitNormScaler(norm).fit(X)
    results = []
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        results.append(scaler.transform(X))
        Xc = X.copy()  # in place: the rows left to numpy are not scaled twice
        np.testing.assert_array_equal(scaler.transform(Xc, copy=False), results[-1])
    fast, slow = results
    if norm == "l2":
        assert_ = np.testing.assert_array_equal
        left = _compiled.unit_norm_loop(X, np.empty_like(X), norm, 2)
        assert_(left, [6] if dtype == np.float64 else [])  # overflowing squares
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    tol = 1e-13 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(fast, slow, rtol=tol, atol=tol)
    np.testing.assert_array_equal(fast[4], 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_moments_loop_agrees_with_numpy_kernel(monkeypatch, dtype):
    from skscale import ColumnStats

    rng = np.random.default_rng(4)
    X = (1e6 + rng.normal(size=(64 * 50, 7))).astype(dtype)
    X[:64, 3] = 2.5  # a constant batch column: mean exact, M2 exactly 0
    results = []
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        results.append(ColumnStats.per_batch(X, 64))
    fast, slow = results
    np.testing.assert_allclose(fast.mean, slow.mean, rtol=1e-15)
    np.testing.assert_allclose(fast.m2, slow.m2, rtol=1e-9, atol=1e-9)
    assert fast.mean[0, 3] == 2.5 and fast.m2[0, 3] == 0.0
    np.testing.assert_array_equal(fast.count, slow.count)


def _stats_both(monkeypatch, fn):
    results = []
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        results.append(fn())
    return results


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("what", [("moments",), ("extremes",), ("moments", "extremes")])
@pytest.mark.parametrize("n_rows", [1, 2, 3 * 409 + 1, 7 * 409 - 5])
@pytest.mark.parametrize("n_threads", [1, 2, 5])
def test_column_stats_loops_agree_with_numpy_kernel(monkeypatch, dtype, what, n_rows, n_threads):
    # 409 rows of 640 features are about one 2 MiB block: several blocks, a
    # ragged last one, a single row, and more threads than blocks.
    from skscale import ColumnStats, _stats

    monkeypatch.setattr(_blocks, "n_threads", lambda: n_threads)
    rng = np.random.default_rng(5)
    X = (1e6 + rng.normal(size=(n_rows, 640))).astype(dtype)
    X[:, 3] = 2.5  # a constant column: mean exact, M2 exactly 0
    prior = ColumnStats.from_array(rng.normal(size=(10, 640)), what=what)
    for args in ({}, {"prior": prior}):
        fast, slow = _stats_both(monkeypatch, lambda: ColumnStats.from_array(X, what=what, **args))
        assert fast.n_rows == slow.n_rows == n_rows + (10 if args else 0)
        for field in ("count", "min", "max"):
            np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))
        np.testing.assert_allclose(fast.mean, slow.mean, rtol=1e-15)
        np.testing.assert_allclose(fast.m2, slow.m2, rtol=1e-9, atol=1e-9)
        if "moments" in what and not args:
            assert fast.mean[3] == 2.5 and fast.m2[3] == 0.0


@pytest.mark.parametrize("what", [("moments",), ("extremes",)])
def test_column_stats_loops_skip_nan_and_report_like_numpy(monkeypatch, what):
    from skscale import ColumnStats

    X = np.random.default_rng(6).normal(size=(5000, 4))
    X[10, 1] = np.nan
    X[:, 2] = np.nan  # no value at all: NaN statistics
    fast, slow = _stats_both(monkeypatch, lambda: ColumnStats.from_array(X, what=what))
    for field in ("count", "mean", "m2", "min", "max"):
        np.testing.assert_allclose(getattr(fast, field), getattr(slow, field), rtol=1e-13)
    X[4321, 3] = -np.inf
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        with pytest.raises(ValueError, match="infinity.*column 3 at row 4321"):
            ColumnStats.from_array(X, what=what)
    if what == ("moments",):
        X[4321, 3] = 0.0
        X[:, 0] = np.resize([1e160, -1e160], 5000)  # squares overflow float64
        for compiled in (True, False):
            monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
            with pytest.raises(ValueError, match="column 0 are too large"):
                ColumnStats.from_array(X, what=what)


def test_merge_loop_has_the_bits_of_the_numpy_merge(monkeypatch):
    from skscale import ColumnStats

    rng = np.random.default_rng(7)
    for _ in range(200):
        d, parts = 4, []
        for _ in range(rng.integers(1, 6)):
            n = rng.integers(0, 4)
            if n == 0:  # an empty part
                parts.append(ColumnStats(np.zeros(d), np.full(d, np.nan), np.zeros(d),
                                         np.full(d, np.nan), np.full(d, np.nan), 0))
                continue
            X = rng.normal(rng.choice([0.0, 1e3, 1e8]), 1.0, size=(n, d))
            X[:, 0] = np.nan if rng.random() < 0.3 else X[:, 0]
            X[:, 1] = 0.1 if rng.random() < 0.3 else X[:, 1]
            what = [("moments", "extremes"), ("extremes",)][int(rng.random() < 0.2)]
            parts.append(ColumnStats.from_array(X, what=what))
        if len({np.isnan(p.count).all() for p in parts}) > 1:
            continue  # parts of one estimator all carry moments, or none do
        fast, slow = _stats_both(monkeypatch, lambda: ColumnStats.combine(parts))
        for field in ("count", "mean", "m2", "min", "max"):
            np.testing.assert_array_equal(_bits(getattr(fast, field)),
                                          _bits(getattr(slow, field)))


def _log1p_arguments(rng):
    """Arguments of log1p over its whole domain: every binade from subnormal
    to huge, the cancelling range near 0, and down to just above -1."""
    n = 200_000
    return np.concatenate([
        10.0 ** rng.uniform(-320, 308, n), -(10.0 ** rng.uniform(-320, -1e-4, n)),
        rng.uniform(-0.35, 0.5, n), rng.normal(1000.0, 1.0, n),
        np.nextafter(-1.0, 0.0) + rng.uniform(0, 1e-12, n),
        [0.0, -0.0, 1e-300, 5e-324, -5e-324, np.sqrt(2) - 1, np.sqrt(0.5) - 1, 2.0 ** 54,
         2.0 ** 54 + 2, 1.7e308, np.nan],
    ])


def test_log1p_loop_is_within_one_ulp_like_numpy():
    a = _log1p_arguments(np.random.default_rng(7))
    X = a.reshape(-1, 1)
    out = np.empty_like(X)
    row = _compiled.log_loop(X, out, np.zeros(1), 1.0, np.array([0, len(a)]), 2)
    assert row == -1
    got, numpy_ = out[:, 0], np.log1p(a)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(a))
    finite = ~np.isnan(a)
    np.testing.assert_array_equal(np.signbit(got[finite]), np.signbit(numpy_[finite]))
    ulp = np.spacing(np.abs(numpy_[finite]))
    if np.finfo(np.longdouble).precision > np.finfo(np.float64).precision:
        # extended precision: the error in ulps of the exact value
        exact = np.log1p(a[finite].astype(np.longdouble))
        assert float(np.max(np.abs(got[finite] - exact) / ulp)) < 0.9
    # numpy's log1p (the C library's, or a vectorized one on some CPUs) is
    # within a few ulps too
    assert np.max(np.abs(got[finite] - numpy_[finite]) / ulp) <= 4.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("base, offset", [(np.e, 1.0), (10.0, "auto"), (2.0, 3.5), (0.5, 1.0)])
@pytest.mark.parametrize("in_place", [False, True])
def test_log_loop_agrees_with_numpy_kernel(monkeypatch, dtype, base, offset, in_place):
    from skscale import LogScaler

    rng = np.random.default_rng(4)
    X = rng.lognormal(2.0, 3.0, size=(3 * _blocks.block_rows(7) + 5, 7)).astype(dtype)
    X[5, 2] = np.nan  # passed through
    X[6, 0], X[6, 1] = 0.0, -0.0  # signed zeros, also after a negative log base
    scaler = LogScaler(base=base, offset=offset, copy=not in_place).fit(X)
    results = []
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        Xc = X.copy()
        results.append(scaler.transform(Xc))
        assert (results[-1] is Xc) == in_place
    fast, slow = results
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    if dtype == np.float32:  # float32 roundings of float64 values within an ulp
        np.testing.assert_allclose(fast, slow, rtol=2 ** -23, atol=0)
    else:
        np.testing.assert_array_max_ulp(fast, slow, maxulp=4)
    np.testing.assert_array_equal(np.signbit(fast), np.signbit(slow))  # zeros included


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("bad, message", [(-7.0, "holds -7 at row 2000 in the data"),
                                          (np.inf, "infinity \\(inf\\) in column 1 at row 2000")])
def test_log_loop_errors_name_the_input_like_numpy(monkeypatch, in_place, bad, message):
    from skscale import LogScaler

    X = np.ones((3 * _blocks.block_rows(3), 3))
    scaler = LogScaler(copy=not in_place).fit(X)
    X[2000, 1], X[2 * _blocks.block_rows(3) + 1, 0] = bad, -9.0  # the first is named
    for compiled in (True, False):
        monkeypatch.setitem(_config._CONFIG, "compiled", compiled)
        Xc = X.copy()
        with pytest.raises(ValueError, match=message):
            scaler.transform(Xc)
        assert Xc[2000, 1] == bad  # the bad row itself is never overwritten


@pytest.mark.parametrize("method", ["yeo-johnson", "box-cox"])
def test_power_loop_agrees_with_numpy_kernel(method):
    from skscale import PowerTransformer
    from skscale._maps import power

    rng = np.random.default_rng(9)
    n = 2 * _blocks.block_rows(6) + 11
    X = np.column_stack([rng.normal(1000, 1, n), rng.lognormal(0, 1, n),
                         rng.normal(0, 3, n), rng.exponential(2, n), np.full(n, 5.0),
                         rng.uniform(1, 2, n)])
    if method == "box-cox":
        X = np.abs(X) + 0.1
    X[rng.random(X.shape) < 0.01] = np.nan
    est = PowerTransformer(method=method).fit(X)
    # far-side values (column 2, both signs) and lambdas of 0 leave rows to numpy
    with _config.config_context(compiled=False):
        want = est.transform(X)
    left = _compiled.power_loop(X, np.empty_like(X), est._map, method == "box-cox",
                                _blocks.block_bounds(*X.shape), 2)
    assert 0 < left.size < n if method == "yeo-johnson" else left.size < n
    fresh, same = np.empty_like(X), X.copy()  # in place: the rows left stay as they were
    bounds = _blocks.block_bounds(*X.shape)
    _compiled.power_loop(X, fresh, est._map, method == "box-cox", bounds, 2)
    np.testing.assert_array_equal(
        _compiled.power_loop(same, same, est._map, method == "box-cox", bounds, 2), left)
    done = np.setdiff1d(np.arange(n), left)
    np.testing.assert_array_equal(same[left], X[left])
    np.testing.assert_array_equal(same[done], fresh[done])
    with _config.config_context(compiled=True):
        got = est.transform(X)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    # expm1 and log1p within an ulp each: to 1e-12 of the unit
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    if method == "box-cox":  # a value the map refuses is named by its row in X
        bad = X.copy()
        bad[n - 5, 3] = -1.0
        with _config.config_context(compiled=True), \
                pytest.raises(ValueError, match=f"at row {n - 5}: -1.0 is not positive"):
            est.transform(bad)


@pytest.mark.parametrize("in_place", [False, True])
def test_power_loop_leaves_float32_overflow_to_numpy(in_place):
    # ((x + 1)**3 - 1) / 3 at x = 1e14 is beyond float32's range: an error
    # naming the row on both kernels, never an infinity
    from skscale import PowerTransformer

    X = np.random.default_rng(11).uniform(0, 10, (3 * _blocks.block_rows(2) + 5, 2))
    X = X.astype(np.float32)
    X[2000, 1] = 1e14
    est = PowerTransformer.from_lambdas([3.0, 3.0], standardize=False, copy=not in_place)
    for compiled in (True, False):
        with _config.config_context(compiled=compiled), \
                pytest.raises(ValueError, match="olumn 1 at row 2000: .* beyond the range"):
            est.transform(X.copy())
    X[2000, 1] = 1e12  # within range: the kernels agree
    with _config.config_context(compiled=True):
        got = est.transform(X.copy())
    with _config.config_context(compiled=False):
        want = est.transform(X.copy())
    np.testing.assert_allclose(got, want, rtol=2 ** -23, atol=0)


@pytest.mark.parametrize("method", ["box-cox", "yeo-johnson"])
def test_power_loop_leaves_float64_overflow_to_numpy(method):
    # A column of spread 1e-9 standardized: a value far out maps beyond
    # float64's range (w below 700, the result above 1.8e308): an error on
    # both kernels, never an infinity
    from skscale import PowerTransformer

    X = np.random.default_rng(0).normal(3, 1e-9, (1000, 1))
    est = PowerTransformer(method=method).fit(X)
    P = est._map
    x = P["c"][0] + np.expm1(695 / P["l1"][0]) / P["pc"][0]
    for compiled in (True, False):
        with _config.config_context(compiled=compiled), \
                pytest.raises(ValueError, match="beyond the range of float64"):
            est.transform(np.full((2 * _blocks.block_rows(1), 1), x))


def test_expm1_of_the_power_moments_is_within_one_ulp():
    # The power fit's compiled expm1 (fdlibm's reduction and quotient),
    # against a correctly rounded reference over the exponents it takes.
    import mpmath
    from reference import correctly_rounded

    loops = _compiled._load()
    rng = np.random.default_rng(10)
    w = np.concatenate([rng.uniform(-60, 709, 3000), rng.uniform(-1, 1, 3000),
                        rng.normal(0, 1e-8, 500) * 10.0 ** rng.uniform(-290, 0, 500),
                        [0.0, -0.0, 709.0, -60.0, 0.34657359, -0.34657359, 1e-300]])
    r, rest, scale, got = (np.empty(w.size) for _ in range(4))
    loops._expm1_chunk(w, 1.0, r, rest, scale.view(np.int64), scale, got)
    exact = correctly_rounded(mpmath.expm1, w)
    assert np.max(np.abs(got - exact) / np.spacing(np.abs(exact))) <= 1.0


@pytest.mark.parametrize("method", ["yeo-johnson", "box-cox"])
def test_power_fit_by_compiled_moments_agrees_with_numpy(method):
    # The likelihood's moments at one lambda, and the lambdas found from
    # them, by the compiled loop and by numpy: to rounding, and within the
    # search's tolerance.
    from skscale import PowerTransformer, _lambdas

    rng = np.random.default_rng(11)
    n = 3 * _blocks.block_rows(4) + 7
    X = np.column_stack([rng.lognormal(0, 1, n), rng.normal(1000, 1, n),
                         rng.standard_t(3, n), rng.exponential(2, n) * 1e6])
    if method == "box-cox":
        X = np.abs(X) + 0.1
    for j in range(X.shape[1]):
        frame = _lambdas.Frame.at(method, X[:, j].mean())
        split = frame.split(X[:, j])
        for lam in (-3.0, -0.5, 0.0, 1e-7, 0.5, 1.0, 2.5):
            want = np.ravel(_lambdas.moments(frame, split, [lam]))
            got = np.ravel(_lambdas.moments(frame, split, [lam], compiled=True))
            # (the mean, near 0 by construction, to rounding of the spread)
            spread = np.sqrt(want[2] / want[0])
            assert abs(got[1] - want[1]) <= 1e-12 * spread
            np.testing.assert_allclose(got[[0, 2, 3, 4]], want[[0, 2, 3, 4]], rtol=1e-12)
    with _config.config_context(compiled=False):
        want = PowerTransformer(method=method).fit(X).lambdas_
    with _config.config_context(compiled=True):
        got = PowerTransformer(method=method).fit(X).lambdas_
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_a_stream_of_small_batches_takes_the_compiled_loops_once_it_is_large(monkeypatch):
    # Under compiled="auto", batches below MIN_SIZE values take the numpy
    # kernels until the stream has seen MIN_SIZE values in all; then the
    # compiled loops, and the statistics still agree with numpy's own.
    from skscale import ZScoreScaler, _compiled, _stats

    monkeypatch.setitem(_config._CONFIG, "compiled", "auto")
    monkeypatch.setattr(_compiled, "MIN_SIZE", 4_000)
    took = []
    real = _stats._compiled_stats
    monkeypatch.setattr(_stats, "_compiled_stats",
                        lambda X, what, prior: took.append(len(X)) or real(X, what, prior))
    X = np.random.default_rng(5).normal(1e3, 2.0, (1_000, 10))
    scaler = ZScoreScaler()
    for batch in np.array_split(X, 10):  # 1,000 values each
        scaler.partial_fit(batch)
    assert len(took) == 7  # batches 4 to 10: with their own, 4,000 values or more
    ZScoreScaler().fit(X[:300])  # a fit of 3,000 values alone stays on numpy
    assert len(took) == 7
    from fractions import Fraction  # the oracle: exact rational mean and variance

    for j in range(X.shape[1]):
        x = [Fraction(v) for v in X[:, j]]
        mean = sum(x) / len(x)
        var = sum((v - mean) ** 2 for v in x) / len(x)
        assert abs(scaler.mean_[j] - float(mean)) <= 1e-14 * float(mean)
        assert abs(scaler.var_[j] - float(var)) <= 1e-12 * float(var)
