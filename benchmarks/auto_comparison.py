"""AutoScaler against z-score and against the best single method, by
cross-validated score, on scikit-learn's bundled datasets and on synthetic
columns whose characteristics are known.

For each dataset and model, three pipelines are scored by the same outer
5-fold cross-validation (stratified for classification, shuffled with a
fixed seed): no scaling, ``ZScoreScaler``, the best single method (a
``GridSearchCV`` over the column methods inside each outer training fold,
3-fold: nested, so its score is not the maximum of several), and
``AutoScaler`` with the model's hint.  ``--write`` puts the table in
docs/auto.md between its markers.

    python benchmarks/auto_comparison.py [--write] [--jobs 2]
"""

import argparse
import pathlib
import re
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits, load_iris,
                              load_wine)
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (GridSearchCV, KFold, StratifiedKFold, cross_val_score,
                                     cross_validate)
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, SVR

from skscale import AutoScaler, Scaler

#: The methods the grid search chooses among (the column methods).
GRID = [{"scale__method": ["minmax", "zscore", "robust", "decimal"]},
        {"scale__method": ["log"], "scale__params": [{"offset": "auto"}]}]
DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "auto.md"
SEED = 0


def synthetic(n=1000, task="classification", seed=SEED):
    """Columns of each kind AutoScaler tells apart, and a target that depends
    on them through the scale each kind calls for."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 1, n)  # positive, heavy right tail
    visits = rng.negative_binomial(1, 0.2, n).astype(float)  # counts
    sensor = rng.normal(0, 1, n)
    sensor_err = sensor.copy()
    glitch = rng.random(n) < 0.03
    sensor_err[glitch] = rng.normal(0, 300, glitch.sum())  # 3% gross errors
    pixel = rng.integers(0, 256, n).astype(float)
    member = rng.integers(0, 2, n).astype(float)
    bonus = np.where(rng.random(n) < 0.8, 0.0, rng.gamma(2, 50, n))  # mostly zeros
    noise = rng.normal(50, 10, (n, 3))
    X = np.column_stack([income, visits, sensor_err, pixel, member, bonus, noise])
    signal = (np.log(income) - 10) + 0.6 * np.log1p(visits) + np.clip(sensor, -3, 3) \
        + (pixel - 128) / 74 + member - 0.5 + (bonus > 0)
    if task == "regression":
        return X, signal + rng.normal(0, 0.5, n)
    return X, (signal + rng.normal(0, 0.5, n) > np.median(signal)).astype(int)


def datasets():
    yield "iris", *load_iris(return_X_y=True), "classification"
    yield "wine", *load_wine(return_X_y=True), "classification"
    yield "breast cancer", *load_breast_cancer(return_X_y=True), "classification"
    yield "digits", *load_digits(return_X_y=True), "classification"
    yield "diabetes", *load_diabetes(return_X_y=True), "regression"
    yield "synthetic mixed", *synthetic(), "classification"
    yield "synthetic mixed", *synthetic(task="regression"), "regression"


def models(task):
    if task == "classification":
        return [("linear", "logistic regression", LogisticRegression(max_iter=5000)),
                ("distance", "k-nearest neighbours", KNeighborsClassifier()),
                ("distance", "SVM (RBF)", SVC()),
                ("neural", "MLP", MLPClassifier(hidden_layer_sizes=(64,), max_iter=500, random_state=SEED))]
    return [("linear", "ridge", Ridge()),
            ("distance", "k-nearest neighbours", KNeighborsRegressor()),
            ("distance", "SVM (RBF)", SVR()),
            ("neural", "MLP", MLPRegressor(hidden_layer_sizes=(64,), max_iter=2000, random_state=SEED))]


def score(name, X, y, task, hint, label, model):
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # log scaling with offset="auto" refuses test values below the training
    # minimum: that candidate then scores NaN in its fold and is not chosen
    warnings.filterwarnings("ignore", category=FitFailedWarning)
    warnings.filterwarnings("ignore", message="Scoring failed")
    warnings.filterwarnings("ignore", message="One or more of the test scores are non-finite")
    outer = (StratifiedKFold(5, shuffle=True, random_state=SEED) if task == "classification"
             else KFold(5, shuffle=True, random_state=SEED))
    inner = (StratifiedKFold(3, shuffle=True, random_state=SEED) if task == "classification"
             else KFold(3, shuffle=True, random_state=SEED))

    def cv(scaler):
        steps = ([("scale", scaler)] if scaler is not None else []) + [("model", model)]
        return cross_val_score(Pipeline(steps), X, y, cv=outer)

    start = time.perf_counter()
    row = {"dataset": name, "task": task, "model": label,
           "none": cv(None), "zscore": cv(Scaler("zscore")),
           "auto": cv(Scaler("auto", {"model": hint}))}
    best = GridSearchCV(Pipeline([("scale", Scaler()), ("model", model)]), GRID, cv=inner)
    result = cross_validate(best, X, y, cv=outer, return_estimator=True)
    row["best"] = result["test_score"]
    picked = [search.best_params_["scale__method"] for search in result["estimator"]]
    row["picked"] = "/".join(sorted(set(picked), key=picked.index))
    row["seconds"] = time.perf_counter() - start
    return row


def markdown(rows):
    def cell(s):
        return f"{s.mean():.3f} ± {s.std():.3f}"

    lines = ["| dataset | score | model | no scaling | z-score | best single method"
             " (chosen per fold) | AutoScaler |", "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        metric = "accuracy" if r["task"] == "classification" else "R²"
        top = max(r[k].mean() for k in ("zscore", "best", "auto"))
        cells = [cell(r[k]) for k in ("none", "zscore", "best", "auto")]
        cells = [f"**{c}**" if k != "none" and r[k].mean() == top else c
                 for c, k in zip(cells, ("none", "zscore", "best", "auto"))]
        lines.append(f"| {r['dataset']} | {metric} | {r['model']} | {cells[0]} | {cells[1]} |"
                     f" {cells[2]} ({r['picked']}) | {cells[3]} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/auto.md")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    tasks = [(name, X, y, task, *m) for name, X, y, task in datasets() for m in models(task)]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.jobs)(delayed(score)(*t) for t in tasks)
    table = markdown(rows)
    print(table)
    wins = {k: sum(r[k].mean() == max(r[j].mean() for j in ("zscore", "best", "auto"))
                   for r in rows) for k in ("zscore", "best", "auto")}
    gain = np.array([r["auto"].mean() - r["zscore"].mean() for r in rows])
    summary = (f"Over {len(rows)} dataset-model pairs: highest mean score for z-score in"
               f" {wins['zscore']}, for the best single method in {wins['best']}, for"
               f" AutoScaler in {wins['auto']} (ties count for each); AutoScaler minus z-score:"
               f" median {np.median(gain):+.3f}, from {gain.min():+.3f} to {gain.max():+.3f}."
               f" Measured in {time.perf_counter() - start:.0f} s on {args.jobs} processes.")
    print("\n" + summary)
    if args.write:
        text = DOC.read_text()
        block = f"<!-- comparison -->\n{table}\n\n{summary}\n<!-- /comparison -->"
        DOC.write_text(re.sub(r"<!-- comparison -->.*<!-- /comparison -->", lambda _: block,
                              text, flags=re.S))


if __name__ == "__main__":
    main()
