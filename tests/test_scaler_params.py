"""Scaler's nested ``params__<name>`` parameters, and its errors for wrong names."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skscale import GroupNormScaler, MinMaxScaler, Scaler, ZScoreScaler


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 8)) * rng.uniform(0.5, 5, 8) + rng.uniform(-3, 3, 8)
    y = (X[:, 0] + X[:, 5] > X[:, 0].mean() + X[:, 5].mean()).astype(int)
    return X, y


def _pipe(step):
    return Pipeline([("scale", step), ("clf", LogisticRegression(max_iter=2000))])


def test_pipeline_set_params_reaches_a_method_parameter(data):
    X, _ = data
    pipe = _pipe(Scaler("group_norm")).set_params(scale__params__num_groups=4)
    assert pipe[0].params == {"num_groups": 4}
    np.testing.assert_array_equal(pipe[0].fit_transform(X),
                                  GroupNormScaler(num_groups=4).fit_transform(X))


def test_set_params_merges_into_a_new_dict():
    given = {"n_channels": 4}
    scaler = Scaler("group_norm", params=given)
    scaler.set_params(params__num_groups=2)
    assert scaler.params == {"n_channels": 4, "num_groups": 2}
    assert given == {"n_channels": 4} and scaler.params is not given
    # in one call, the nested keys go over the params passed with them
    scaler.set_params(method="minmax", params={"clip": True}, params__feature_range=(-1, 1))
    assert scaler.method == "minmax"
    assert scaler.params == {"clip": True, "feature_range": (-1, 1)}
    copy = clone(scaler)
    assert copy.get_params() == scaler.get_params() and copy.params is not scaler.params


def test_grid_search_over_nested_params_scores_like_the_method_itself(data):
    X, y = data
    nested = GridSearchCV(_pipe(Scaler("group_norm")),
                          {"scale__params__num_groups": [1, 2, 4]}, cv=3, error_score="raise")
    direct = GridSearchCV(_pipe(GroupNormScaler()), {"scale__num_groups": [1, 2, 4]}, cv=3)
    nested.fit(X, y)
    direct.fit(X, y)
    np.testing.assert_array_equal(nested.cv_results_["mean_test_score"],
                                  direct.cv_results_["mean_test_score"])
    assert nested.best_params_ == {"scale__params__num_groups":
                                   direct.best_params_["scale__num_groups"]}
    assert nested.best_estimator_[0].params == {"num_groups": direct.best_params_[
        "scale__num_groups"]}


def test_flat_grid_mixing_methods_says_what_to_write_instead(data):
    X, y = data
    search = GridSearchCV(_pipe(Scaler()), {"scale__method": ["zscore", "group_norm"],
                                            "scale__params__num_groups": [1]},
                          cv=3, error_score="raise")
    with pytest.raises(ValueError) as info:
        search.fit(X, y)
    message = str(info.value)
    takes = ", ".join(repr(p) for p in sorted(ZScoreScaler().get_params()))
    assert "method='zscore'" in message and "'num_groups'" in message
    assert takes in message  # the parameters the method does take
    assert "list of grids, one per method" in message
    assert "{'method': ['group_norm'], 'params__num_groups': [...]}" in message


def test_misspelt_method_parameter_is_named():
    with pytest.raises(ValueError,
                       match=r"unexpected keyword argument 'dof'.*Did you mean 'ddof'\?"):
        Scaler("zscore", {"dof": 1}).fit([[1.0], [2.0]])


@pytest.mark.parametrize("name, suggestion", [
    ("standard", "'zscore'"),
    ("StandardScaler", "'zscore'"),
    ("min_max", "'minmax'"),
    ("MinMaxScaler", "'minmax'"),
    ("minmx", "'minmax'"),
    ("Normalizer", "'unit_norm'"),
    ("normalize", "'minmax' or 'unit_norm'"),
    ("BatchNorm1d", "'batch_norm'"),
    ("LayerNorm", "'layer_norm'"),
])
def test_unknown_method_suggests_the_skscale_name(name, suggestion):
    with pytest.raises(InvalidParameterError,
                       match=f"Got '{name}' instead. Did you mean {suggestion}\\?"):
        Scaler(name).fit([[1.0], [2.0]])


def test_unknown_method_without_a_close_name_suggests_nothing():
    with pytest.raises(InvalidParameterError) as info:
        Scaler("quantile_transformer_xyz").fit([[1.0], [2.0]])
    assert "Did you mean" not in str(info.value)


def test_method_parameters_still_validated_by_the_method():
    with pytest.raises(InvalidParameterError, match="feature_range"):
        Scaler("minmax", {"feature_range": "wide"}).fit([[1.0], [2.0]])
    assert type(Scaler("minmax", {"clip": True}).fit([[1.0], [2.0]]).scaler_) is MinMaxScaler
