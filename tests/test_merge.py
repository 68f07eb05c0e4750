"""Merges of scalers fitted on parts of the rows (oracle: one fit on all of
them), the inverse of chosen columns (oracle: the full inverse's columns) and
scalers built from known parameters (oracle: the formulas, worked by hand)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import CASES, NAMES, frame, make, new_rows, train
from skscale import (AutoScaler, BatchNormScaler, DecimalScaler, LogScaler, MaxAbsScaler,
                     MinMaxScaler, PowerTransformer, QuantileTransformer, RobustScaler, Scaler,
                     SquashingScaler, UnitNormScaler, ZScoreScaler, merge)
from skscale._columns import ColumnScaler


@pytest.fixture(scope="module")
def X():
    return train(n=512)


def _splits(n, k, draw):
    cuts = sorted(draw(st.lists(st.integers(1, n - 1), min_size=k - 1, max_size=k - 1,
                                unique=True)))
    return [slice(a, b) for a, b in zip([0, *cuts], [*cuts, n])]


# ------------------------------------------------------------------ merges

@settings(max_examples=15, deadline=None)
@given(st.data())
@pytest.mark.parametrize("make_scaler", [
    MinMaxScaler, lambda: MinMaxScaler(clip=True, feature_range=(-1, 1)), DecimalScaler,
    lambda: LogScaler(offset="auto", base=10), MaxAbsScaler, lambda: MaxAbsScaler(clip=True)],
    ids=["minmax", "minmax_clip", "decimal", "log", "maxabs", "maxabs_clip"])
def test_merged_extremes_are_those_of_one_fit_exactly(make_scaler, X, data):
    parts = _splits(len(X), data.draw(st.integers(2, 4)), data.draw)
    merged = merge([make_scaler().fit(X[p]) for p in parts])
    whole = make_scaler().fit(X)
    Y = new_rows(X)
    np.testing.assert_array_equal(merged.stats_.min, whole.stats_.min)
    np.testing.assert_array_equal(merged.stats_.max, whole.stats_.max)
    np.testing.assert_array_equal(merged.transform(Y), whole.transform(Y))
    assert merged.n_samples_seen_ == whole.n_samples_seen_


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_merged_moments_are_those_of_one_fit_to_rounding(X, data):
    parts = _splits(len(X), data.draw(st.integers(2, 5)), data.draw)
    weights = np.random.default_rng(0).uniform(0, 3, len(X))
    merged = merge([ZScoreScaler(ddof=1).fit(X[p], sample_weight=weights[p]) for p in parts])
    whole = ZScoreScaler(ddof=1).fit(X, sample_weight=weights)
    np.testing.assert_allclose(merged.mean_, whole.mean_, rtol=1e-14)
    # (the column at mean 1e8 with unit spread keeps 8 digits fewer in its M2:
    # each part's mean is known to an ulp of 1e8, 1.5e-8 of the spread)
    np.testing.assert_allclose(merged.var_, whole.var_, rtol=1e-8)
    np.testing.assert_allclose(merged.n_samples_seen_, whole.n_samples_seen_, rtol=1e-14)


@settings(max_examples=10, deadline=None)
@given(st.data())
@pytest.mark.parametrize("make_scaler", [
    lambda: RobustScaler(sketch_size=32),
    lambda: QuantileTransformer(sketch_size=32, n_quantiles=9),
    lambda: SquashingScaler(sketch_size=32, quantile_range=(10.0, 90.0))],
    ids=["robust", "quantile", "squashing"])
def test_merged_quantiles_are_within_the_rank_error(make_scaler, X, data):
    parts = _splits(len(X), data.draw(st.integers(2, 4)), data.draw)
    merged = merge([make_scaler().partial_fit(X[p]) for p in parts])
    assert merged.rank_error_ > 0  # (the sketches compacted: not exact)
    if isinstance(merged, QuantileTransformer):
        percents = 100 * merged.references_
    else:
        percents = merged.quantile_range
    for j in range(X.shape[1]):
        values = np.sort(X[~np.isnan(X[:, j]), j])
        for q, got in zip(percents, merged.quantiles_[:, j]):
            lo = np.searchsorted(values, got, "left") / len(values)
            hi = np.searchsorted(values, got, "right") / len(values)
            assert lo - merged.rank_error_ <= q / 100 <= hi + merged.rank_error_


@settings(max_examples=8, deadline=None)
@given(st.data())
@pytest.mark.parametrize("make_scaler", [
    lambda: QuantileTransformer(keep_sketch=True, n_quantiles=200),
    lambda: QuantileTransformer(keep_sketch=True, output_distribution="normal"),
    lambda: SquashingScaler(keep_sketch=True, quantile_range=(10.0, 90.0))],
    ids=["quantile", "quantile_normal", "squashing"])
def test_merged_rank_scalers_that_hold_every_value_are_one_fit(make_scaler, X, data):
    # (sketches of fewer values than their size hold them all: exact)
    parts = _splits(len(X), data.draw(st.integers(2, 4)), data.draw)
    merged = merge([make_scaler().fit(X[p]) for p in parts])
    whole = make_scaler().fit(X)
    assert merged.rank_error_ == 0.0
    np.testing.assert_array_equal(merged.quantiles_, whole.quantiles_)
    Y = new_rows(X)
    np.testing.assert_array_equal(merged.transform(Y), whole.transform(Y))


def test_merged_sketches_that_hold_every_value_are_exact(X):
    merged = merge([RobustScaler(keep_sketch=True).fit(X[:200]),
                    RobustScaler(keep_sketch=True).fit(X[200:])])
    whole = RobustScaler().fit(X)
    np.testing.assert_allclose(merged.quantiles_, whole.quantiles_, rtol=1e-15)
    np.testing.assert_array_equal(merged.center_, whole.center_)


@settings(max_examples=10, deadline=None)
@given(st.data())
@pytest.mark.parametrize("momentum", [None, 0.1])
def test_merged_batch_norm_takes_the_parts_steps_in_order(momentum, X, data):
    # Parts of whole mini-batches: the steps of one fit, in the order given.
    steps = len(X) // 64
    cuts = sorted(data.draw(st.lists(st.integers(1, steps - 1), min_size=1, max_size=3,
                                     unique=True)))
    parts = [slice(a * 64, b * 64) for a, b in zip([0, *cuts], [*cuts, steps])]
    merged = merge([BatchNormScaler(momentum=momentum, batch_size=64).fit(X[p]) for p in parts])
    whole = BatchNormScaler(momentum=momentum, batch_size=64).fit(X)
    assert merged.num_batches_tracked_ == whole.num_batches_tracked_ == steps
    np.testing.assert_allclose(merged.running_mean_, whole.running_mean_, rtol=1e-13)
    np.testing.assert_allclose(merged.running_var_, whole.running_var_, rtol=1e-12)


def test_columns_match_by_name_and_the_merge_carries_on(X):
    F = frame(X)
    shuffled = F[NAMES[::-1]]
    merged = merge([ZScoreScaler().fit(F[:100]), ZScoreScaler().fit(shuffled[100:300])])
    assert list(merged.feature_names_in_) == NAMES
    merged.partial_fit(F[300:])
    whole = ZScoreScaler().fit(F)
    np.testing.assert_allclose(merged.mean_, whole.mean_, rtol=1e-14)
    np.testing.assert_allclose(merged.scale_, whole.scale_, rtol=1e-9)  # (see above)
    again = merge([merged, ZScoreScaler().fit(F[:10])])  # a merged scaler merges again
    assert again.n_samples_seen_ is not None


def test_scalers_and_per_sample_scalers_merge(X):
    merged = merge([Scaler("minmax").fit(X[:100]), Scaler("minmax").fit(X[100:])])
    np.testing.assert_array_equal(merged.transform(X), Scaler("minmax").fit(X).transform(X))
    norm = merge([UnitNormScaler("l1").fit(X[:10]), UnitNormScaler("l1").fit(X[10:])])
    np.testing.assert_array_equal(norm.transform(X), UnitNormScaler("l1").fit(X).transform(X))


def test_merge_refuses_what_does_not_merge(X):
    F = frame(X)
    with pytest.raises(ValueError, match="one method; got MinMaxScaler, ZScoreScaler"):
        merge([ZScoreScaler().fit(X), MinMaxScaler().fit(X)])
    with pytest.raises(ValueError, match="different parameters: ddof=0 in the first, ddof=1"):
        merge([ZScoreScaler().fit(X), ZScoreScaler(ddof=1).fit(X)])
    merge([ZScoreScaler().fit(X), ZScoreScaler(copy=False).fit(X)])  # (copy is no difference)
    with pytest.raises(ValueError, match="'big', 'small' only in the first"):
        merge([ZScoreScaler().fit(F), ZScoreScaler().fit(F[NAMES[:4]])])
    with pytest.raises(ValueError, match="of 6 and 4 columns"):
        merge([ZScoreScaler().fit(X), ZScoreScaler().fit(X[:, :4])])
    with pytest.raises(ValueError, match="with column names and scalers fitted without"):
        merge([ZScoreScaler().fit(F), ZScoreScaler().fit(X)])
    with pytest.raises(ValueError, match="keep exact quantiles and no sketches"):
        merge([RobustScaler().fit(X), RobustScaler().fit(X)])
    with pytest.raises(ValueError, match="PowerTransformers do not merge: each measures"):
        merge([PowerTransformer(keep_stats=True).fit(X[:200]),
               PowerTransformer(keep_stats=True).fit(X[200:])])
    with pytest.raises(ValueError, match="QuantileTransformers fitted by fit keep exact"):
        merge([QuantileTransformer().fit(X), QuantileTransformer().fit(X)])
    with pytest.raises(ValueError, match="AutoScaler chose each column's method"):
        merge([AutoScaler().fit(X), AutoScaler().fit(X)])
    with pytest.raises(ValueError, match="at least one"):
        merge([])
    with pytest.raises(Exception, match="not fitted"):
        merge([ZScoreScaler(), ZScoreScaler().fit(X)])


def test_merge_changes_none_of_the_scalers(X):
    a, b = MinMaxScaler().fit(X[:100]), MinMaxScaler().fit(X[100:])
    before = a.data_max_.copy(), b.data_max_.copy()
    merge([a, b])
    np.testing.assert_array_equal(a.data_max_, before[0])
    np.testing.assert_array_equal(b.data_max_, before[1])


# ------------------------------------------------- inverse of chosen columns

COLUMN_CASES = [c for c in CASES if not hasattr(make(c), "sample_stats")]


@settings(max_examples=8, deadline=None)
@given(st.data())
@pytest.mark.parametrize("case", COLUMN_CASES)
def test_the_inverse_of_chosen_columns_is_those_of_the_full_inverse(case, data):
    X = train(n=300)
    est = make(case).fit(frame(X))
    Z = np.asarray(est.transform(frame(new_rows(X))))
    full = np.asarray(est.inverse_transform(Z))
    idx = data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True))
    by_name = data.draw(st.booleans())
    columns = [NAMES[j] for j in idx] if by_name else idx
    got = est.inverse_transform(Z[:, idx], columns=columns)
    np.testing.assert_array_equal(got, full[:, idx])
    one = est.inverse_transform(Z[:, idx[0]], columns=columns[0])  # a target alone: (n,)
    assert one.shape == (len(Z),)
    np.testing.assert_array_equal(one, full[:, idx[0]])
    named = est.inverse_transform(pd.DataFrame(Z[:, idx], columns=[NAMES[j] for j in idx]),
                                  columns=[NAMES[j] for j in idx])
    np.testing.assert_array_equal(np.asarray(named), full[:, idx])


def test_the_inverse_of_chosen_columns_refuses_what_is_not_one_of_them():
    est = ZScoreScaler().fit(frame(train()))
    Z = np.zeros((3, 1))
    with pytest.raises(ValueError, match="columns names 'nope', which is not a column"):
        est.inverse_transform(Z, columns=["nope"])
    with pytest.raises(ValueError, match="neither a column name nor an index"):
        est.inverse_transform(Z, columns=[6])
    with pytest.raises(ValueError, match="twice"):
        est.inverse_transform(np.zeros((3, 2)), columns=["big", 4])
    with pytest.raises(ValueError, match="X has 1 features, but ZScoreScaler is expecting 2"):
        est.inverse_transform(Z, columns=["big", "small"])
    with pytest.raises(ValueError, match="one column of values, but columns names 2"):
        est.inverse_transform(np.zeros(3), columns=["big", "small"])
    unnamed = ZScoreScaler().fit(train())
    with pytest.raises(ValueError, match="fitted without column names: give indices"):
        unnamed.inverse_transform(Z, columns=["big"])


@pytest.mark.parametrize("case", [c for c in CASES if c not in COLUMN_CASES])
def test_per_sample_scalers_refuse_the_inverse_of_chosen_columns(case):
    est = make(case).fit(train())
    with pytest.raises(ValueError, match="statistics of all its columns, so it maps back whole"
                                         " rows"):
        est.inverse_transform(np.zeros((2, 1)), sample_stats=np.ones(2), columns=[0])


# --------------------------------------------------- from known parameters

def test_z_score_from_known_statistics():
    mean, std = np.array([10.0, -3.0, 0.1]), np.array([2.0, 0.3, 0.0])
    est = ZScoreScaler.from_stats(mean, std, n_samples=50, feature_names=["a", "b", "c"])
    X = pd.DataFrame([[12.0, -2.4, 7.0], [10.0, -3.0, 0.1]], columns=["a", "b", "c"])
    # by hand: (12 - 10) / 2 = 1, (-2.4 + 3) / 0.3 = 2, a constant feature maps to x - mean
    np.testing.assert_allclose(est.transform(X), [[1.0, 2.0, 6.9], [0.0, 0.0, 0.0]],
                               rtol=1e-15)
    assert (est.scale_ == [2.0, 0.3, 1.0]).all() and (est.mean_ == mean).all()
    assert est.n_samples_seen_ == 50


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 150), st.integers(0, 1))
def test_z_score_from_statistics_continues_as_one_fit(cut, ddof):
    X = train(n=202)[:, :2]
    X = X[~np.isnan(X).any(axis=1)]  # (about 190 rows left)
    first = X[:cut]
    known = ZScoreScaler.from_stats(first.mean(axis=0), first.std(axis=0, ddof=ddof),
                                    n_samples=len(first), ddof=ddof)
    known.partial_fit(X[cut:])
    whole = ZScoreScaler(ddof=ddof).fit(X)
    np.testing.assert_allclose(known.mean_, whole.mean_, rtol=1e-13)
    np.testing.assert_allclose(known.scale_, whole.scale_, rtol=1e-10)


def test_min_max_decimal_robust_log_and_batch_norm_from_known_parameters():
    X = np.array([[5.0, 0.5], [20.0, 0.05]])
    est = MinMaxScaler.from_range([0.0, 0.0], [10.0, 1.0], feature_range=(-1, 1))
    np.testing.assert_allclose(est.transform(X), [[0.0, 0.0], [3.0, -0.9]], rtol=1e-15)
    est.partial_fit(X)  # later rows widen the range, as in one fit
    np.testing.assert_array_equal(est.data_max_, [20.0, 1.0])
    est = DecimalScaler.from_digits([2, -1])
    np.testing.assert_array_equal(est.transform(X), X / [100.0, 0.1])
    est = RobustScaler.from_quantiles(median=[10.0, 0.5], q_min=[5.0, 0.25], q_max=[25.0, 0.75])
    np.testing.assert_array_equal(est.transform(X), (X - [10.0, 0.5]) / [20.0, 0.5])
    est = LogScaler.from_offsets([1.0, 0.5], base=2)
    ref = np.array([[math.log2(6.0), 0.0], [math.log2(21.0), math.log2(0.55)]])
    np.testing.assert_allclose(est.transform(X), ref, rtol=4e-16)
    np.testing.assert_array_equal(est.offset_, [1.0, 0.5])
    one = LogScaler.from_offsets(3.0)
    assert one.offset == 3.0 and one.transform([[0.0]])[0, 0] == pytest.approx(math.log(3.0))
    est = BatchNormScaler.from_stats([4.0, 1.0], [9.0, 0.25], eps=1e-300, shift=1.0)
    # by hand: (5 - 4) / 3 + 1, (0.5 - 1) / 0.5 + 1; (20 - 4) / 3 + 1, (0.05 - 1) / 0.5 + 1
    np.testing.assert_allclose(est.transform(X), [[4 / 3, 0.0], [19 / 3, -0.9]], rtol=1e-15,
                               atol=1e-16)


def test_known_parameters_are_checked():
    with pytest.raises(ValueError, match="std has 3 values, but mean has 2"):
        ZScoreScaler.from_stats([1, 2], [1, 2, 3], n_samples=5)
    with pytest.raises(ValueError, match="std must be finite; got nan for feature 1"):
        ZScoreScaler.from_stats([1, 2], [1, np.nan], n_samples=5)
    with pytest.raises(ValueError, match="std must be at least 0"):
        ZScoreScaler.from_stats([1, 2], [1, -1], n_samples=5)
    with pytest.raises(ValueError, match="n_samples must be a whole number of values above 1"):
        ZScoreScaler.from_stats([1, 2], [1, 2], n_samples=1, ddof=1)
    with pytest.raises(ValueError, match="one number per feature \\(a 1-D array\\)"):
        ZScoreScaler.from_stats([[1, 2]], [1, 2], n_samples=5)
    with pytest.raises(ValueError, match="feature_names names 1 features, but mean has 2"):
        ZScoreScaler.from_stats([1, 2], [1, 2], n_samples=5, feature_names=["a"])
    with pytest.raises(ValueError, match="feature_names must be distinct strings"):
        ZScoreScaler.from_stats([1, 2], [1, 2], n_samples=5, feature_names=["a", "a"])
    with pytest.raises(ValueError, match="data_min must be at most data_max; feature 1"):
        MinMaxScaler.from_range([0, 2], [1, 1])
    with pytest.raises(ValueError, match="q_min <= median <= q_max"):
        RobustScaler.from_quantiles([1], [2], [3])
    with pytest.raises(ValueError, match="digits must be whole numbers from -307 to 308"):
        DecimalScaler.from_digits([1.5])
    with pytest.raises(ValueError, match="is not 1 - m for any float64 m"):
        LogScaler.from_offsets([1e-16, 1.0])
    with pytest.raises(ValueError, match="num_batches_tracked must be at least 1"):
        BatchNormScaler.from_stats([0.0], [1.0], num_batches_tracked=0)
    with pytest.raises(ValueError, match="scale must be a number or have one value per"):
        BatchNormScaler.from_stats([0.0], [1.0], scale=[1.0, 2.0])
    with pytest.raises(ValueError, match="ddof"):
        ZScoreScaler.from_stats([0.0], [1.0], n_samples=3, ddof=-1)


def test_every_column_scaler_has_a_constructor_from_known_parameters():
    from skscale import SCALERS

    for cls in SCALERS.values():
        if issubclass(cls, ColumnScaler):
            assert any(name.startswith("from_") and name != "from_dict" and name != "from_torch"
                       for name in cls.__dict__), cls.__name__


def test_max_abs_power_quantile_and_squashing_from_known_parameters():
    # oracles: scikit-learn's MaxAbsScaler, PowerTransformer and
    # QuantileTransformer, and skrub's SquashingScaler, fitted on the rows
    # whose parameters are given
    import skrub
    from sklearn import preprocessing as sk

    X = train(n=400)
    X = X[~np.isnan(X).any(axis=1)][:, [0, 1, 3]]  # (columns that every oracle takes)
    Y = new_rows(X)
    Y = Y[~np.isnan(Y).any(axis=1)]
    ref = sk.MaxAbsScaler().fit(X)
    est = MaxAbsScaler.from_max_abs(ref.max_abs_, feature_names=["a", "b", "c"])
    np.testing.assert_array_equal(est.transform(pd.DataFrame(Y, columns=["a", "b", "c"])),
                                  ref.transform(Y))
    est = MaxAbsScaler.from_max_abs(np.abs(X[:100]).max(axis=0), n_samples=100)
    est.partial_fit(X[100:])  # (later rows widen the extremes, as in one fit)
    np.testing.assert_array_equal(est.max_abs_, ref.max_abs_)
    assert est.n_samples_seen_ == len(X)
    for method, Z in (("yeo-johnson", X - 20.0), ("box-cox", X + 1.0)):
        ref = sk.PowerTransformer(method=method).fit(Z)
        est = PowerTransformer.from_lambdas(ref.lambdas_, ref._scaler.mean_,
                                            ref._scaler.scale_, method=method)
        W = Y - 20.0 if method == "yeo-johnson" else Y + 1.0
        np.testing.assert_allclose(est.transform(W), ref.transform(W), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(est.inverse_transform(est.transform(W)), W, rtol=1e-10)
        raw = PowerTransformer.from_lambdas(ref.lambdas_, method=method, standardize=False)
        plain = sk.PowerTransformer(method=method, standardize=False).fit(Z)
        np.testing.assert_allclose(raw.transform(W), plain.transform(W), rtol=1e-12,
                                   atol=1e-12)
    for output in ("uniform", "normal"):
        ref = sk.QuantileTransformer(n_quantiles=100, output_distribution=output).fit(X)
        est = QuantileTransformer.from_quantiles(ref.quantiles_, output_distribution=output)
        np.testing.assert_allclose(est.transform(Y), ref.transform(Y), rtol=1e-12, atol=1e-12)
        assert est.n_quantiles == 100
    ref = skrub.SquashingScaler(quantile_range=(10.0, 90.0)).fit(X)
    lo, m, hi = np.percentile(X, [10, 50, 90], axis=0)
    est = SquashingScaler.from_quantiles(m, lo, hi, data_min=X.min(axis=0),
                                         data_max=X.max(axis=0), quantile_range=(10.0, 90.0))
    np.testing.assert_allclose(est.transform(Y), ref.transform(Y), rtol=0, atol=1e-12)
    # a binary column's quartiles coincide: the scale is then half the range
    flat = np.array([[0.0]] + [[1.0]] * 7)
    ref = skrub.SquashingScaler().fit(flat)
    est = SquashingScaler.from_quantiles([1.0], [1.0], [1.0], data_min=[0.0], data_max=[1.0])
    np.testing.assert_allclose(est.transform([[0.0], [3.0]]), ref.transform([[0.0], [3.0]]),
                               rtol=0, atol=1e-12)


def test_known_parameters_of_the_rank_and_power_methods_are_checked():
    with pytest.raises(ValueError, match="max_abs must be at least 0"):
        MaxAbsScaler.from_max_abs([1.0, -2.0])
    with pytest.raises(ValueError, match="standardize=True needs the mean and std"):
        PowerTransformer.from_lambdas([0.5])
    with pytest.raises(ValueError, match="std has 2 values, but lambdas has 1"):
        PowerTransformer.from_lambdas([0.5], [0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="std must be at least 0"):
        PowerTransformer.from_lambdas([0.5], [0.0], [-1.0])
    with pytest.raises(ValueError, match="shape \\(n_quantiles, n_features\\)"):
        QuantileTransformer.from_quantiles([0.0, 1.0])
    with pytest.raises(ValueError, match="the quantiles of feature 1 must not decrease"):
        QuantileTransformer.from_quantiles([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="quantiles must be finite"):
        QuantileTransformer.from_quantiles([[0.0], [np.inf]])
    with pytest.raises(ValueError, match="n_quantiles=5, but quantiles holds 2"):
        QuantileTransformer.from_quantiles([[0.0], [1.0]], n_quantiles=5)
    with pytest.raises(ValueError, match="feature 0 must have data_min <= q_min <= median"):
        SquashingScaler.from_quantiles([2.0], [3.0], [4.0])
    with pytest.raises(ValueError, match="feature 0 has q_min == q_max.*give data_min"):
        SquashingScaler.from_quantiles([1.0], [1.0], [1.0])
    # what holds no statistics to add rows to says so, and merges refuse
    X = train(n=50)
    for est, why in ((PowerTransformer.from_lambdas([1.0] * 6, standardize=False),
                      "built by from_lambdas, and keeps no statistics"),
                     (QuantileTransformer.from_quantiles(
                         np.nanpercentile(X, [0, 50, 100], axis=0)),
                      "built from known quantiles: its exact quantiles keep no sketch")):
        with pytest.raises(ValueError, match=why):
            est.partial_fit(X)
        with pytest.raises(ValueError):
            merge([est, est])
