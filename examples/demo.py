"""skscale's main job, on data that ships with scikit-learn.

Every scaler learns its parameters on the training split only and applies the
very same transform to the test split.  This script

1. fits every method in ``skscale.SCALERS`` on the training split of the
   breast-cancer data set and prints what each one learned,
2. prints statistics of the scaled training and test sets side by side,
3. grid-searches the scaling method inside a ``Pipeline`` with a
   ``LogisticRegression`` and scores the best pipeline on the test split,
4. saves the best pipeline with joblib, loads it back and checks that the
   reloaded pipeline gives bit-identical output.

Run it with ``make demo`` or ``python examples/demo.py``.  It writes nothing
outside a temporary directory.
"""

import hashlib
import os
import tempfile
import time

import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

import skscale
from skscale import SCALERS, Scaler

RANDOM_STATE = 0
# Features shown in the table of learned parameters: three very different
# magnitudes (tens, thousands, tenths).
SHOWN = ["mean radius", "mean area", "mean smoothness"]

# The 30 breast-cancer features are 3 blocks of 10: the mean, the standard
# error and the worst value of 10 cell measurements.  Read channel-major, that
# is 3 channels of 10 positions, or 3 groups of 10 features: the layout the
# grouped per-sample methods need to be told.  (On this layout, group norm with
# 3 groups and instance norm with 3 channels compute the same thing.)  Every
# other method, including any registered later, runs with its defaults.
DEMO_PARAMS = {
    "group_norm": {"num_groups": 3},     # 30 one-feature channels in 3 groups
    "instance_norm": {"n_channels": 3},  # 3 channels of 10 positions
}

# Fitted attributes that are bookkeeping, not scaling parameters.
BOOKKEEPING = {"n_features_in_", "feature_names_in_", "n_samples_seen_", "stats_"}


def is_per_sample(scaler):
    """Row scalers learn nothing at fit; each sample has its own statistics."""
    return hasattr(scaler, "sample_stats") and not hasattr(scaler, "stats_")


def learned_parameters(scaler, columns):
    """Per-feature fitted arrays of ``scaler``, restricted to ``columns``."""
    index = [list(scaler.feature_names_in_).index(c) for c in columns]
    rows, seen = {}, []
    for attr, value in vars(scaler).items():
        if attr.startswith("_") or not attr.endswith("_") or attr in BOOKKEEPING:
            continue
        if np.ndim(value) == 0 and isinstance(value, (int, float, np.number)):
            rows[f"{attr} = {_fmt(value)}"] = ["", "", ""]  # e.g. a step counter
            continue
        if value is None or np.shape(value) != (scaler.n_features_in_,):
            continue
        value = np.asarray(value)
        if any(np.array_equal(value, other, equal_nan=True) for other in seen):
            continue  # e.g. min-max's scale_ equals data_range_ for range (0, 1)
        seen.append(value)
        rows[attr] = [_fmt(value[i]) for i in index]
    return rows


def _fmt(v):
    if np.issubdtype(np.asarray(v).dtype, np.integer):
        return f"{int(v)}"
    return f"{float(v):.6g}"


def summary(X):
    """Mean, std, min and max over every value of a scaled set."""
    X = np.asarray(X, dtype=np.float64)
    return np.nanmean(X), np.nanstd(X), np.nanmin(X), np.nanmax(X)


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def main():
    start = time.perf_counter()
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 20)

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=RANDOM_STATE)
    print(f"skscale {skscale.__version__}: {len(SCALERS)} methods registered:"
          f" {', '.join(SCALERS)}")
    print(f"breast cancer data: {X.shape[1]} features;"
          f" {len(X_train)} training rows, {len(X_test)} test rows (stratified split)\n")

    # 1 + 2. Fit every method on the training split only; apply it to both.
    params = {name: DEMO_PARAMS.get(name, {}) for name in SCALERS}
    learned, stats = [], []
    for name, cls in SCALERS.items():
        scaler = cls(**params[name]).fit(X_train)
        if is_per_sample(scaler):
            learned.append((name, "per-sample (nothing learned)", ["", "", ""]))
        else:
            for attr, values in learned_parameters(scaler, SHOWN).items():
                learned.append((name, attr, values))
        stats.append((name, *summary(scaler.transform(X_train)),
                      *summary(scaler.transform(X_test))))

    shown = {name: p for name, p in params.items() if p}
    if shown:
        print("demo parameters:", ", ".join(f"{n}={p}" for n, p in shown.items()), "\n")

    table = pd.DataFrame([values for _, _, values in learned], columns=SHOWN,
                         index=pd.MultiIndex.from_tuples([(m, a) for m, a, _ in learned],
                                                         names=["method", "learned"]))
    print("What each method learned on the training split (3 of the 30 features):")
    print(table.to_string(), "\n")

    columns = pd.MultiIndex.from_product([["train", "test"], ["mean", "std", "min", "max"]])
    table = pd.DataFrame([s[1:] for s in stats], index=[s[0] for s in stats],
                         columns=columns)
    table.index.name = "method"
    print("Scaled data, over all features (parameters from the training split only):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"), "\n")

    # 3. The scaling method as a hyperparameter.  Methods with parameters need
    # them in their own grid, so vary method and params together.
    pipe = Pipeline([("scale", Scaler()),
                     ("clf", LogisticRegression(max_iter=5000))])
    grid = [{"scale__method": [name], "scale__params": [params[name] or None]}
            for name in SCALERS]
    search = GridSearchCV(pipe, param_grid=grid, cv=5, n_jobs=2).fit(X_train, y_train)
    cv = pd.DataFrame({
        "method": [p["scale__method"] for p in search.cv_results_["params"]],
        "CV accuracy": search.cv_results_["mean_test_score"],
        "+/-": search.cv_results_["std_test_score"],
        "rank": search.cv_results_["rank_test_score"],
    }).set_index("method").sort_values("rank", kind="stable")
    print("GridSearchCV over the scaling method (5-fold CV on the training split):")
    print(cv.to_string(float_format=lambda v: f"{v:.4f}"))
    best = search.best_estimator_
    print(f"best: {search.best_params_['scale__method']!r};"
          f" test accuracy {best.score(X_test, y_test):.4f}\n")

    # 4. Persist the best pipeline and load it back.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "best_pipeline.joblib")
        joblib.dump(best, path)
        size = os.path.getsize(path)
        loaded = joblib.load(path)
    proba, proba_loaded = best.predict_proba(X_test), loaded.predict_proba(X_test)
    Z = best.named_steps["scale"].transform(X_test)
    Z_loaded = loaded.named_steps["scale"].transform(X_test)
    print(f"joblib round trip ({size} bytes, in a temporary directory):")
    print(f"  predict_proba identical: {np.array_equal(proba, proba_loaded)}"
          f"  sha256 {sha256(proba)} vs {sha256(proba_loaded)}")
    print(f"  transform identical:     {np.array_equal(Z, Z_loaded)}"
          f"  sha256 {sha256(Z)} vs {sha256(Z_loaded)}")
    print(f"\ndone in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
