"""
Export a scaler to JSON and ONNX, and check new data for drift
==============================================================

A fitted model leaves Python in two forms here: its scaler as a JSON file,
plain text that any language reads (and that skscale loads without running
code from it), and the whole pipeline as an ONNX graph, which ONNX Runtime
serves.  Then a batch of new data arrives in which two measurements have
been recalibrated, and the scaler's drift report finds them.
"""

# %%
# Fit a pipeline
# --------------
#
# :class:`~skscale.AutoScaler` chooses each column's scaling from the column
# itself, then a logistic regression classifies the breast-cancer data set.

import io
import json

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import pandas as pd
import skl2onnx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

import skscale.io
import skscale.onnx  # registers skscale's ONNX converters with skl2onnx
from skscale import AutoScaler

data = load_breast_cancer(as_frame=True)
X, y = data.data, data.target
X_train, X_new, y_train, y_new = train_test_split(X, y, stratify=y, random_state=0)

pipe = Pipeline([("scale", AutoScaler()),
                 ("model", LogisticRegression(max_iter=1000))]).fit(X_train, y_train)
print(pipe[0].report_["method"].value_counts().to_string())

# %%
# The scaler as JSON
# ------------------
#
# :func:`skscale.io.dump_json` writes the class, the parameters, the
# feature names, the fitted arrays and the statistics behind them, floats in
# the shortest form that reads back to the same bits: the loaded scaler
# transforms bit for bit as the fitted one.

text = io.StringIO()
skscale.io.dump_json(pipe[0], text)
print(f"{len(text.getvalue()):,} characters of JSON")
model = json.loads(text.getvalue())
print(model["class"], model["schema"], list(model["fitted"])[:4])

loaded = skscale.io.load_json(io.StringIO(text.getvalue()))
print("identical transform:",
      np.array_equal(loaded.transform(X_new), pipe[0].transform(X_new)))

# %%
# The pipeline as ONNX, served by ONNX Runtime
# --------------------------------------------
#
# With :mod:`skscale.onnx` imported, :func:`skl2onnx.to_onnx` converts the
# pipeline, scaler included.  The graph takes float64 rows and returns the
# labels and the probabilities.

onnx_model = skl2onnx.to_onnx(pipe, X_train.to_numpy()[:1],
                              options={LogisticRegression: {"zipmap": False}})
session = ort.InferenceSession(onnx_model.SerializeToString(),
                               providers=["CPUExecutionProvider"])
labels, proba = session.run(None, {session.get_inputs()[0].name: X_new.to_numpy()})
gap = np.abs(proba - pipe.predict_proba(X_new)).max()
print(f"largest difference from predict_proba: {gap:.1e}")

# %%
# Check new data for drift
# ------------------------
#
# A new batch in which "mean radius" is now recorded in another unit (times
# 1.3) and "worst texture" by a sensor that reads 4 units high.  The
# scaler's drift report sets each column against what it measured at fit:
# how far its mean moved, in training standard deviations, and the share of
# its values outside the training range.

drifted = X_new.copy()
drifted["mean radius"] *= 1.3
drifted["worst texture"] += 4.0
report = pipe[0].check_drift(drifted).set_index("column")
before = pipe[0].check_drift(X_new).set_index("column")
print(report.loc[["mean radius", "worst texture", "mean area"],
                 ["mean_shift", "outside", "missing"]].round(2))

fig, ax = plt.subplots(figsize=(8, 6))
order = np.argsort(report["mean_shift"].abs().to_numpy())
ypos = np.arange(len(order))
ax.barh(ypos - 0.2, before["mean_shift"].to_numpy()[order], height=0.4, label="test split")
ax.barh(ypos + 0.2, report["mean_shift"].to_numpy()[order], height=0.4,
        label="recalibrated batch")
ax.set_yticks(ypos, report.index[order], fontsize=6)
ax.axvline(0, color="k", lw=0.5)
ax.set_xlabel("shift of the mean, in training standard deviations")
ax.set_title("check_drift: two recalibrated columns stand out")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# The same report streams a file through ``skscale check model.json
# new.parquet``, a chunk at a time, and a JSON model loads in the command
# line as a skops file does.
