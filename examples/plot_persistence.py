"""
Saving and loading a fitted pipeline
====================================

A fitted skscale scaler is an ordinary scikit-learn estimator, so a pipeline
that holds one saves with joblib and with skops.  This example saves a fitted
pipeline both ways, loads it back, and checks that the reloaded pipeline
gives bit-identical output.  It then shows what makes skops' format safer:
loading checks every type in the file against a list of trusted types, and
:func:`skscale.io.load` adds exactly skscale's own to skops' defaults.
"""

# %%
# A fitted pipeline
# -----------------
#
# Log scaling (``log(x + 0.01)``, as every feature here is at least 0),
# then z-score standardization, then a logistic regression, fitted on the
# training split of scikit-learn's breast-cancer data set.

import os
import tempfile
import time
import zipfile

import joblib
import matplotlib.pyplot as plt
import numpy as np
import skops.io
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import skscale.io
from skscale import LogScaler, ZScoreScaler

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = Pipeline([
    ("log", LogScaler(offset=0.01)),
    ("zscore", ZScoreScaler()),
    ("model", LogisticRegression(solver="newton-cholesky")),
]).fit(X_train, y_train)

scaled = pipe[:-1].transform(X_test)  # output of the two scalers
proba = pipe.predict_proba(X_test)
print(f"test accuracy: {pipe.score(X_test, y_test):.4f}")

# %%
# Save and load with joblib and with skops
# ----------------------------------------
#
# A joblib file is a pickle: loading one can run arbitrary code, so load it
# only from a source you trust.  :func:`skscale.io.dump` writes skops' format
# (it calls :func:`skops.io.dump`); :func:`skscale.io.load` reads it back.
# Every file goes to a temporary directory, removed at the end of the
# example.

folder = tempfile.TemporaryDirectory()
joblib_file = os.path.join(folder.name, "pipe.joblib")
skops_file = os.path.join(folder.name, "pipe.skops")

joblib.dump(pipe, joblib_file)
skscale.io.dump(pipe, skops_file)

from_joblib = joblib.load(joblib_file)
from_skops = skscale.io.load(skops_file)

for name, loaded in [("joblib", from_joblib), ("skops", from_skops)]:
    same_scaled = np.array_equal(loaded[:-1].transform(X_test), scaled)
    same_proba = np.array_equal(loaded.predict_proba(X_test), proba)
    print(f"{name:>6}: scaled output identical: {same_scaled}, "
          f"probabilities identical: {same_proba}")

# %%
# What skops checks when loading
# ------------------------------
#
# :func:`skops.io.get_untrusted_types` lists the types in a file that skops
# does not trust by default.  For this file they are skscale's two scalers and
# the column statistics each one stores, all of them in
# :func:`skscale.io.trusted_types`:

untrusted = skops.io.get_untrusted_types(file=skops_file)
print("not trusted by skops' defaults:", untrusted)
print("all in skscale.io.trusted_types():", set(untrusted) <= set(skscale.io.trusted_types()))

# %%
# So a plain :func:`skops.io.load` refuses the file, while
# :func:`skscale.io.load` (above) loads it:

try:
    skops.io.load(skops_file)
except skops.io.exceptions.UntrustedTypesFoundException as err:
    print(f"skops.io.load: {type(err).__name__}: {err}")

# %%
# A file with a type from elsewhere
# ---------------------------------
#
# :func:`skscale.io.load` trusts nothing beyond skops' defaults and skscale's
# own types.  Here a ``FunctionTransformer`` clips each feature to its 1st and
# 99th training percentiles before scaling; it stores the function
# ``numpy.clip``, which neither trusts.

low, high = np.percentile(X_train, [1, 99], axis=0)
clipped = Pipeline([
    ("clip", FunctionTransformer(np.clip, kw_args={"a_min": low, "a_max": high})),
    *clone(pipe).steps,  # unfitted copies of the three steps
]).fit(X_train, y_train)
clipped_file = os.path.join(folder.name, "clipped.skops")
skscale.io.dump(clipped, clipped_file)

print("not trusted by skops' defaults:", skops.io.get_untrusted_types(file=clipped_file))
try:
    skscale.io.load(clipped_file)
except skops.io.exceptions.UntrustedTypesFoundException as err:
    print(f"skscale.io.load: {type(err).__name__}: {err}")

# %%
# After reviewing the list, pass the types you trust:

reloaded = skscale.io.load(clipped_file, trusted=["numpy.clip"])
print("probabilities identical:",
      np.array_equal(reloaded.predict_proba(X_test), clipped.predict_proba(X_test)))

# %%
# File sizes and load times
# -------------------------
#
# :func:`skscale.io.dump` writes skops' archive uncompressed, each array an
# ``.npy`` member.  Both libraries can compress: ``joblib.dump(...,
# compress=3)``, and :func:`skops.io.dump` with a ``zipfile`` compression
# method, a file that :func:`skscale.io.load` reads as it reads any other.
# The load time is the median of 20 loads of each file, measured in this run.


def median_load_seconds(load, file, repeat=20):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        load(file)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


joblib_small = os.path.join(folder.name, "pipe-compressed.joblib")
skops_small = os.path.join(folder.name, "pipe-compressed.skops")
joblib.dump(pipe, joblib_small, compress=3)
skops.io.dump(pipe, skops_small, compression=zipfile.ZIP_DEFLATED)
for name, loaded in [("joblib", joblib.load(joblib_small)),
                     ("skops", skscale.io.load(skops_small))]:
    print(f"compressed {name} file, probabilities identical:",
          np.array_equal(loaded.predict_proba(X_test), proba))

formats = {
    "joblib": (joblib_file, joblib.load),
    "joblib\ncompress=3": (joblib_small, joblib.load),
    "skops": (skops_file, skscale.io.load),
    "skops\ndeflated": (skops_small, skscale.io.load),
}
sizes_kib = {name: os.path.getsize(file) / 1024 for name, (file, _) in formats.items()}
load_ms = {name: 1000 * median_load_seconds(load, file)
           for name, (file, load) in formats.items()}
for name in formats:
    print(f"{name.replace(chr(10), ' '):>17}: {sizes_kib[name]:5.1f} KiB,"
          f" median load {load_ms[name]:5.2f} ms")

fig, (ax_size, ax_time) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
colors = ["C0", "C0", "C1", "C1"]
ax_size.bar(list(sizes_kib), list(sizes_kib.values()), color=colors)
ax_size.set_ylabel("file size (KiB)")
ax_size.set_title("File size")
ax_time.bar(list(load_ms), list(load_ms.values()), color=colors)
ax_time.set_ylabel("median load time (ms)")
ax_time.set_title("Load time (median of 20)")
fig.suptitle("The fitted pipeline, saved with joblib and with skops")

folder.cleanup()
plt.show()
