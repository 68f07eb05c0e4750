"""
Choosing a method by cross-validation
=====================================

:class:`skscale.Scaler` takes the method as a parameter, ``Scaler(method,
params)``, so ``GridSearchCV`` can choose it like any other hyperparameter.
This example cross-validates every column method, log scaling with three
offsets and unit norm with three norms, each in front of three classifiers,
on scikit-learn's breast-cancer data set, and scores the best pipeline on a
held-out test split.
"""

# %%
# Data and pipeline
# -----------------
#
# The 30 breast-cancer features take values from 0 to a few thousand.  A
# quarter of the rows is held out for the final test; the search sees only the
# rest.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skscale import LogScaler, Scaler

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print(f"train: {X_train.shape}, test: {X_test.shape}")
print(f"feature ranges: min {X_train.min():.3g}, max {X_train.max():.4g}")

pipe = Pipeline([("scale", Scaler()), ("model", LogisticRegression())])

# %%
# The parameter grid
# ------------------
#
# A method's parameters belong to that method only, so the grid is a list of
# dicts, one per method with its own parameters.  ``scale__params__<name>``
# sets one parameter of the chosen method:
#
# * ``"passthrough"`` (no scaling) is the baseline;
# * ``minmax``, ``zscore`` and ``decimal`` with their defaults;
# * ``log`` with ``offset`` 0.01, 0.1 and 1: ``log(x + offset)`` bends small
#   values the more, the smaller the offset (``offset=1`` is ``log1p``);
# * ``unit_norm`` with the ``l1``, ``l2`` and ``max`` norms.
#
# The model is a step of the pipeline too, so one search covers all three
# classifiers: the grid repeats the scaling grids once per model.  The
# logistic regression uses the ``newton-cholesky`` solver, which converges in
# a few iterations with or without scaling.

scaling_grids = [
    {"scale": ["passthrough"]},
    {"scale__method": ["minmax", "zscore", "decimal"]},
    {"scale__method": ["log"], "scale__params__offset": [0.01, 0.1, 1.0]},
    {"scale__method": ["unit_norm"], "scale__params__norm": ["l1", "l2", "max"]},
]
models = {
    "LogisticRegression": LogisticRegression(solver="newton-cholesky"),
    "KNeighborsClassifier": KNeighborsClassifier(),
    "SVC": SVC(),
}
param_grid = [{**grid, "model": [model]} for model in models.values() for grid in scaling_grids]

# %%
# ``offset="auto"`` is left out of the grid.  It learns ``offset_ = 1 - min``
# per feature, so the training minimum maps to 0; data more than 1 below that
# minimum has no logarithm, and transforming it raises.  The test split here
# holds such a value:

try:
    LogScaler(offset="auto").fit(X_train).transform(X_test)
except ValueError as err:
    print(f"{type(err).__name__}: {err}")

# %%
# The search
# ----------
#
# Five stratified folds with a fixed shuffle; every candidate sees the same
# folds.

cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
search = GridSearchCV(pipe, param_grid, cv=cv).fit(X_train, y_train)
print(f"{len(search.cv_results_['params'])} candidates x {cv.get_n_splits()} folds")


def scaling_label(params):
    """A short name for the scaling step of one candidate."""
    if params.get("scale") == "passthrough":
        return "none"
    method = params["scale__method"]
    extra = {k.removeprefix("scale__params__"): v for k, v in params.items()
             if k.startswith("scale__params__")}
    return method + "".join(f"\n{k}={v}" for k, v in extra.items())


results = pd.DataFrame({
    "model": [type(p["model"]).__name__ for p in search.cv_results_["params"]],
    "scaling": [scaling_label(p) for p in search.cv_results_["params"]],
    "mean": search.cv_results_["mean_test_score"],
    "std": search.cv_results_["std_test_score"],
})

# %%
# Mean CV accuracy per method and model
# -------------------------------------
#
# Each point is the mean accuracy over the five validation folds, and its
# error bar the standard deviation over the folds.

labels = list(dict.fromkeys(results["scaling"]))
x = np.arange(len(labels))
fig, ax = plt.subplots(figsize=(11, 4.5), layout="constrained")
for k, name in enumerate(models):
    rows = results[results["model"] == name].set_index("scaling").loc[labels]
    ax.errorbar(x + (k - 1) * 0.22, rows["mean"], yerr=rows["std"], fmt="o",
                capsize=3, label=name)
ax.set_xticks(x, labels)
ax.set_ylabel("CV accuracy (mean ± std over 5 folds)")
ax.set_title("Scaling method in front of each classifier, breast-cancer training split")
ax.grid(axis="y", alpha=0.4)
ax.legend(loc="lower left")

# %%
# On these folds, SVC and k-nearest neighbours score lower without scaling
# than with ``minmax`` or ``zscore``: both compare rows by distances, which the
# largest features dominate when unscaled.  ``unit_norm`` scores lowest for
# every model: it divides all features of a row by the same number, so it
# leaves their magnitudes as unequal as they were.  For reference, the share
# of the majority class in the training split:

print(f"majority-class share: {np.bincount(y_train).max() / len(y_train):.4f}")

# %%
# The best scaling for each model, by mean CV accuracy (ties go to the
# candidate listed first in the grid):

best = results.loc[results.groupby("model", sort=False)["mean"].idxmax()]
for row in best.itertuples():
    print(f"{row.model:>20}: {row.scaling.replace(chr(10), ', '):<16}"
          f" CV accuracy {row.mean:.4f} ± {row.std:.4f}")

# %%
# The best pipeline overall
# -------------------------
#
# ``GridSearchCV`` refits the best candidate on the whole training split.
# Its score on the held-out test split is the estimate of how it does on new
# data; the CV score that chose it is optimistic, having been maximised over
# all candidates.

print("best parameters:", search.best_params_)
print(f"best mean CV accuracy: {search.best_score_:.4f}")
print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.4f}")

plt.show()
