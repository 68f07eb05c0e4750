"""
Before and after: what each method does to the features
========================================================

Four features of scikit-learn's breast-cancer data set differ in magnitude by
four orders (from hundredths to thousands), and two of them have long right tails.
This example fits each column method of skscale (``minmax``, ``zscore``,
``decimal``, ``log``) on the training split, transforms both splits, and
draws the per-feature distributions side by side with the unscaled data.  It
then shows a per-sample method, ``unit_norm``, which scales each row instead
of each column.
"""

# %%
# Data and split
# --------------
#
# The four features are ``mean area`` (hundreds to thousands), ``area error``
# (tens to hundreds, with a long right tail), ``mean texture`` (tens) and
# ``mean smoothness`` (tenths).  Every scaler below is fitted on the training
# split only.

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import skew
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from skscale import SCALERS, UnitNormScaler

features = ["mean area", "area error", "mean texture", "mean smoothness"]
short = ["area", "area err.", "texture", "smooth."]

data = load_breast_cancer(as_frame=True)
X = data.data[features].to_numpy()
y = data.target.to_numpy()
X_train, X_test = train_test_split(X, stratify=y, random_state=0)
print(f"train: {X_train.shape}, test: {X_test.shape}")
for name, lo, hi in zip(features, X_train.min(axis=0), X_train.max(axis=0)):
    print(f"{name:>16}: {lo:9.4f} .. {hi:9.4f}")

# %%
# Fit each column method on the training split
# ---------------------------------------------
#
# ``skscale.SCALERS`` maps each method's name to its estimator class; each is
# used here with its default parameters.

column_methods = ["minmax", "zscore", "decimal", "log"]
scalers = {m: SCALERS[m]().fit(X_train) for m in column_methods}
train = {"none": X_train, **{m: s.transform(X_train) for m, s in scalers.items()}}
test = {"none": X_test, **{m: s.transform(X_test) for m, s in scalers.items()}}

print("decimal digits_ j per feature:", scalers["decimal"].digits_)
print("log offset_:", scalers["log"].offset_)

# %%
# Location and scale: box plots
# -----------------------------
#
# Without scaling, ``mean area`` alone sets the axis and the other features
# are squeezed against its bottom.  ``minmax`` puts every training
# feature into ``[0, 1]`` and ``zscore`` centres each on 0 with unit standard
# deviation.  ``decimal`` divides each feature by its own power of ten
# (``digits_`` above), so every training value lies in ``(-1, 1)``, but the
# features keep different spreads.  ``log`` compresses the large values the most.

methods = ["none", *column_methods]
fig, axes = plt.subplots(1, len(methods), figsize=(15, 3.8), layout="constrained")
for ax, method in zip(axes, methods):
    ax.boxplot(train[method], tick_labels=short)
    ax.set_title(method)
    ax.tick_params(axis="x", labelrotation=45)
fig.suptitle("Training split, per feature, under each column method")

# %%
# Shape: histograms
# -----------------
#
# ``minmax``, ``zscore`` and ``decimal`` are per-feature affine maps
# ``y = (x - center) / scale + shift``: they move and stretch a distribution
# but do not change its shape.  Each histogram below is drawn over its own
# range with the same 30 bins, so the first four columns (no scaling and the
# three affine methods) look identical apart from the axis values.  ``log``
# changes the shape.

fig, axes = plt.subplots(
    len(features), len(methods), figsize=(15, 9), layout="constrained"
)
for j, method in enumerate(methods):
    for i, name in enumerate(features):
        ax = axes[i, j]
        ax.hist(train[method][:, i], bins=30, color=f"C{j}")
        if i == 0:
            ax.set_title(method)
        if j == 0:
            ax.set_ylabel(name)
fig.suptitle("Training split: histogram of each feature (rows) under each method (columns)")

# %%
# The skewness measures it.  An affine map with a positive scale leaves the
# skewness unchanged up to rounding.  The log, with its default ``offset=1``,
# is ``log1p``: it reduces the skewness of the three larger features to below
# 1, and barely changes that of ``mean smoothness``, whose values are so small
# that ``log1p(x)`` is close to ``x`` on them.

print(f"{'skewness':>16}" + "".join(f"{m:>9}" for m in methods))
skewness = {m: skew(train[m], axis=0) for m in methods}
for i, name in enumerate(features):
    print(f"{name:>16}" + "".join(f"{skewness[m][i]:9.3f}" for m in methods))
affine = ["minmax", "zscore", "decimal"]
largest = max(np.max(np.abs(skewness[m] - skewness["none"])) for m in affine)
print(f"largest change of skewness under an affine method: {largest:.1e}")

# %%
# Unseen data can leave the training range
# ----------------------------------------
#
# The test split is transformed with the minimum and maximum learned on the
# training split.  Every training value is in ``[0, 1]``; test values below the
# training minimum or above the training maximum are not.  (Pass
# ``clip=True`` to :class:`skscale.MinMaxScaler` to clip them.)

minmax_train, minmax_test = train["minmax"], test["minmax"]
print("train min/max:", minmax_train.min(), minmax_train.max())
outside = (minmax_test < 0) | (minmax_test > 1)
for i, name in enumerate(features):
    print(
        f"{name:>16}: test range {minmax_test[:, i].min():7.4f} .. "
        f"{minmax_test[:, i].max():6.4f}, {outside[:, i].sum()} value(s) outside [0, 1]"
    )

rng = np.random.default_rng(0)
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.axhspan(0, 1, color="0.9", label="training range [0, 1]")
for i in range(len(features)):
    jitter = i + rng.uniform(-0.25, 0.25, size=len(minmax_test))
    inside = ~outside[:, i]
    ax.scatter(jitter[inside], minmax_test[inside, i], s=8, color="C0")
    ax.scatter(jitter[~inside], minmax_test[~inside, i], s=20, color="C3")
ax.scatter([], [], s=8, color="C0", label="test value in [0, 1]")
ax.scatter([], [], s=20, color="C3", label="test value outside [0, 1]")
ax.set_xticks(range(len(features)), features)
ax.set_ylabel("minmax-scaled value")
ax.set_title("Test split after minmax fitted on the training split")
ax.legend(loc="upper left")

# %%
# A per-sample method: unit norm acts on rows
# -------------------------------------------
#
# :class:`skscale.UnitNormScaler` divides each *row* by its own norm (``l2``
# by default): it learns nothing at fit, and a sample's output depends on
# that sample alone, not on the training split.  The column plots above do
# not describe it; what it guarantees is that every nonzero row has norm 1.

unit = UnitNormScaler().fit(X_train)
U_test = unit.transform(X_test)
norms = unit.sample_stats(X_test)  # the norm each row was divided by
print("row norms after unit_norm: min", np.linalg.norm(U_test, axis=1).min(),
      "max", np.linalg.norm(U_test, axis=1).max())
print("sample_stats equals each row's l2 norm:",
      np.allclose(norms, np.linalg.norm(X_test, axis=1)))
print("a row transformed alone gives the same output:",
      np.array_equal(unit.transform(X_test[:1]), U_test[:1]))

# %%
# On features of such different magnitudes, a row's norm is almost that of
# its largest feature, so ``mean area`` ends up close to 1 in every row and
# the others far below it.  Unit norm suits rows whose features share a unit
# (counts, frequencies, embeddings), or features already scaled per column:
# the right panel applies it after ``zscore``, where no feature dominates the
# norm.

print("mean area after unit_norm, test split: min", U_test[:, 0].min().round(4),
      "max", U_test[:, 0].max().round(4))
print("largest other feature after unit_norm:", U_test[:, 1:].max().round(4))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
axes[0].boxplot(U_test, tick_labels=short)
axes[0].set_title("unit_norm on the raw features (test split)")
U_z = UnitNormScaler().fit_transform(test["zscore"])
axes[1].boxplot(U_z, tick_labels=short)
axes[1].set_title("unit_norm after zscore (test split)")
for ax in axes:
    ax.set_ylabel("value")

plt.show()
