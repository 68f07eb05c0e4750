"""scikit-learn's own estimator checks, for every estimator in SCALERS and AutoScaler."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skscale import SCALERS, AutoScaler, Scaler
from skscale._rows import RowScaler

# scikit-learn's sparse-input checks special-case any estimator *named*
# "Scaler" as if it were its StandardScaler and call set_params(with_mean=False).
# Our Scaler takes a method's own parameters as params={"with_mean": False}, so
# that call is refused.  The sparse path itself is checked through every
# method's own class above and in test_sparse.py.
_SCALER_NAME_CLASH = {
    "check_estimator_sparse_array": "sklearn's check calls set_params(with_mean=False)"
    " on estimators named 'Scaler'; ours takes params={'with_mean': False}.",
    "check_estimator_sparse_matrix": "same as check_estimator_sparse_array.",
}


# Per-sample scalers cannot invert from their output alone; the issue asks that
# plain inverse_transform(X_new) raise an error saying how (pass sample_stats),
# and this check calls exactly that.
_ROW_INVERSE = {
    "check_array_api_input": "calls inverse_transform(X_new) without the per-sample"
    " statistics, which a per-sample scaler must refuse with an explanation.",
    "check_array_api_mixed_inputs": "the same call as check_array_api_input.",
}


# An exact fit of these keeps no streaming statistics by default (they would
# cost more than the fit itself); partial_fit after fit then refuses, saying
# to fit with keep_sketch=True / keep_stats=True. This check calls exactly that.
_EXACT_FIT_ONLY = {
    "check_fit_score_takes_y": "calls partial_fit after fit, which this estimator refuses"
    " by default (fit keeps no streaming statistics; keep_sketch/keep_stats=True keeps them).",
}


# The namespace error names the method's own estimator ("PowerTransformer.transform()
# must use the same namespace..."); scikit-learn's check looks for
# "Scaler.transform()" in it, which only the names ending in "Scaler" contain.
_NOT_NAMED_SCALER = {
    "check_array_api_same_namespace": "the error names the method's estimator"
    " (e.g. 'QuantileTransformer.transform()'), where the check looks for 'Scaler.transform()'.",
}


def _instances():
    for name, cls in SCALERS.items():
        yield cls()
        yield Scaler(method=name)
    yield AutoScaler()
    yield AutoScaler(model="distance")
    yield Scaler(method="auto")


def _expected_failures(estimator):
    expected = dict(_SCALER_NAME_CLASH) if type(estimator) is Scaler else {}
    inner = estimator._make() if type(estimator) is Scaler else estimator
    if type(estimator) is Scaler and not type(inner).__name__.endswith("Scaler"):
        expected.update(_NOT_NAMED_SCALER)
    if isinstance(inner, RowScaler):
        expected.update(_ROW_INVERSE)
    if getattr(inner, "keep_stats", True) is False or getattr(inner, "keep_sketch", True) is False:
        expected.update(_EXACT_FIT_ONLY)
    return expected


@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", sorted(SCALERS))
def test_registry_names_match_scaler(name):
    est = Scaler(method=name).fit([[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 5.0, 8.0]])
    assert type(est.scaler_) is SCALERS[name]
