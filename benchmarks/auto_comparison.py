"""AutoScaler against z-score, scikit-learn's PowerTransformer, skrub's
SquashingScaler and the best single method, by cross-validated score, on
scikit-learn's bundled datasets and on generated tables whose columns are of
known kinds.

For each dataset and model (linear, k-nearest neighbours, RBF SVM), the
pipelines are scored by the same outer 5-fold cross-validation, repeated 5
times with different shuffles (stratified for classification, fixed seeds):
25 fits per pipeline, because one 5-fold run's mean moves by one to three
samples from one shuffle to the next on these small datasets, enough to
reorder pipelines that differ by less: ``ZScoreScaler``,
scikit-learn's ``PowerTransformer`` (Yeo-Johnson, standardized), skrub's
``SquashingScaler``, the best single method (a ``GridSearchCV`` over
skscale's column methods inside each outer training fold, 3-fold: nested, so
its score is not the maximum of several), and ``AutoScaler`` with the
model's hint.  It then checks three criteria: AutoScaler's mean at least
z-score's in 90% of the pairs; within half a fold standard deviation of the
best of z-score, PowerTransformer and SquashingScaler in 90%; the best mean
rank of those four.  ``--write`` puts the table in docs/auto.md between its
markers.

    python benchmarks/auto_comparison.py [--write] [--jobs 1]
"""

import argparse
import pathlib
import re
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import rankdata
from skrub import SquashingScaler
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits, load_iris,
                              load_wine)
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (GridSearchCV, KFold, RepeatedKFold,
                                     RepeatedStratifiedKFold, StratifiedKFold, cross_validate)
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PowerTransformer
from sklearn.svm import SVC, SVR

from skscale import Scaler

#: The single methods the grid search chooses among.
GRID = [{"scale__method": ["minmax", "zscore", "robust", "maxabs", "squashing"]},
        {"scale__method": ["power"], "scale__params": [{"method": "yeo-johnson"}]},
        {"scale__method": ["quantile"], "scale__params": [{"output_distribution": "normal"}]},
        {"scale__method": ["log"], "scale__params": [{"offset": "auto",
                                                      "out_of_domain": "clip"}]}]
COMPARED = ("zscore", "power", "squashing", "auto")
LABELS = {"zscore": "z-score", "power": "PowerTransformer", "squashing": "SquashingScaler",
          "best": "best single method (chosen per fold)", "auto": "AutoScaler"}
DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "auto.md"
SEED = 0
#: Outer folds, and how many times they are drawn.
FOLDS, REPEATS = 5, 5


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


def gems(n=1500, seed=SEED + 1):
    """A table like a price list: log-normal sizes and prices, integer-coded
    grades, near-normal proportions, a stock count, a catalogue number; the
    target is the log price."""
    rng = np.random.default_rng(seed)
    carat = np.round(rng.lognormal(-0.4, 0.55, n), 2)
    cut = rng.choice([1, 2, 3, 4, 5], n, p=[0.05, 0.1, 0.2, 0.25, 0.4]).astype(float)
    color = rng.integers(1, 8, n).astype(float)
    clarity = rng.choice(np.arange(1, 9), n).astype(float)
    depth = rng.normal(61.7, 1.4, n)
    table = np.round(rng.normal(57.4, 2.2, n))
    stock = rng.negative_binomial(1, 0.08, n).astype(float)
    sku = rng.permutation(90_000)[:n].astype(float) + 10_000
    log_price = 8.4 + 1.7 * np.log(carat) + 0.08 * cut - 0.07 * color + 0.06 * clarity \
        - 0.02 * np.abs(depth - 61.7) + rng.normal(0, 0.15, n)
    X = pd.DataFrame({"carat": carat, "cut": cut, "color": color, "clarity": clarity,
                      "depth": depth, "table": table, "stock": stock, "sku": sku})
    return X, log_price


def survey(n=1500, seed=SEED + 2):
    """A table like a household survey: age (a count of years), a survey
    year, education and occupation codes, number of children, hours worked
    (a mode at 40 and a left tail), wage (log-normal), capital gains
    (mostly zero) and a net worth that can be negative; the target is
    whether the household is above the median of a latent welfare."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    year = rng.choice([2008, 2012, 2016, 2020], n).astype(float)
    education = rng.choice(np.arange(1, 7), n, p=[0.05, 0.1, 0.35, 0.2, 0.2, 0.1]).astype(float)
    occupation = rng.integers(1, 10, n).astype(float)
    children = rng.poisson(1.3, n).astype(float)
    hours = np.clip(np.where(rng.random(n) < 0.6, 40.0, 40 - rng.gamma(2, 6, n)), 1, None)
    hours = np.round(hours)
    wage = rng.lognormal(2.8 + 0.1 * education, 0.55, n)
    gains = np.where(rng.random(n) < 0.9, 0.0, rng.lognormal(8, 1.2, n))
    worth = rng.standard_t(3, n) * 20_000 + 50_000 * (education - 3)
    latent = np.log(wage * hours) + 0.3 * np.log1p(gains) / 8 + 0.005 * (age - 45) \
        - 0.1 * children + worth / 200_000 + rng.normal(0, 0.3, n)
    X = pd.DataFrame({"age": age, "year": year, "education": education,
                      "occupation": occupation, "children": children, "hours": hours,
                      "wage": wage, "capital_gains": gains, "net_worth": worth})
    return X, (latent > np.median(latent)).astype(int)


def datasets():
    yield "iris", *load_iris(return_X_y=True), "classification"
    yield "wine", *load_wine(return_X_y=True), "classification"
    yield "breast cancer", *load_breast_cancer(return_X_y=True), "classification"
    yield "digits", *load_digits(return_X_y=True), "classification"
    yield "diabetes", *load_diabetes(return_X_y=True), "regression"
    yield "generated mixed", *synthetic(), "classification"
    yield "generated mixed", *synthetic(task="regression"), "regression"
    yield "generated price list", *gems(), "regression"
    yield "generated survey", *survey(), "classification"


def models(task):
    if task == "classification":
        return [("linear", "logistic regression", LogisticRegression(max_iter=5000)),
                ("distance", "k-nearest neighbours", KNeighborsClassifier()),
                ("distance", "SVM (RBF)", SVC())]
    return [("linear", "ridge", Ridge()),
            ("distance", "k-nearest neighbours", KNeighborsRegressor()),
            ("distance", "SVM (RBF)", SVR())]


def score(name, X, y, task, hint, label, model):
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=FitFailedWarning)
    warnings.filterwarnings("ignore", message="Scoring failed")
    warnings.filterwarnings("ignore", message="One or more of the test scores are non-finite")
    outer = (RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=REPEATS, random_state=SEED)
             if task == "classification"
             else RepeatedKFold(n_splits=FOLDS, n_repeats=REPEATS, random_state=SEED))
    inner = (StratifiedKFold(3, shuffle=True, random_state=SEED) if task == "classification"
             else KFold(3, shuffle=True, random_state=SEED))

    def cv(scaler):
        return cross_validate(Pipeline([("scale", scaler), ("model", model)]), X, y,
                              cv=outer, return_estimator=True)

    start = time.perf_counter()
    row = {"dataset": name, "task": task, "model": label}
    for key, scaler in (("zscore", Scaler("zscore")), ("power", PowerTransformer()),
                        ("squashing", SquashingScaler())):
        row[key] = cv(scaler)["test_score"]
    result = cv(Scaler("auto", {"model": hint}))
    row["auto"] = result["test_score"]
    methods = result["estimator"][0]["scale"].scaler_.report_["method"]
    row["auto_methods"] = ", ".join(f"{k} {v}" for k, v in methods.value_counts().items())
    # the hint measured: the same without it (for a distance model the hint changes nothing)
    row["unhinted"] = cv(Scaler("auto"))["test_score"] if hint == "linear" else None
    best = GridSearchCV(Pipeline([("scale", Scaler()), ("model", model)]), GRID, cv=inner)
    result = cross_validate(best, X, y, cv=outer, return_estimator=True)
    row["best"] = result["test_score"]
    picked = [search.best_params_["scale__method"] for search in result["estimator"]]
    row["picked"] = "/".join(sorted(set(picked), key=picked.index))
    row["seconds"] = time.perf_counter() - start
    return row


def criteria(rows):
    """The three criteria, each ``(met, figure in words)``."""
    n = len(rows)
    at_least = sum(r["auto"].mean() >= r["zscore"].mean() for r in rows)
    near = 0
    for r in rows:
        top = max(("zscore", "power", "squashing"), key=lambda k: r[k].mean())
        near += r["auto"].mean() >= r[top].mean() - 0.5 * r[top].std()
    ranks = np.array([rankdata([-r[k].mean() for k in COMPARED]) for r in rows])
    mean_rank = dict(zip(COMPARED, ranks.mean(axis=0)))
    best_rank = min(mean_rank, key=mean_rank.get)
    return [
        (at_least >= 0.9 * n, f"AutoScaler's mean score at least z-score's in {at_least} of"
                              f" {n} pairs ({at_least / n:.0%}; 90% asked)"),
        (near >= 0.9 * n, f"within half a fold standard deviation of the best of z-score,"
                          f" PowerTransformer and SquashingScaler in {near} of {n} pairs"
                          f" ({near / n:.0%}; 90% asked)"),
        (best_rank == "auto" and sorted(mean_rank.values())[0] < sorted(mean_rank.values())[1],
         "mean rank among the four (1 best): " + ", ".join(
             f"{LABELS[k]} {v:.2f}" for k, v in sorted(mean_rank.items(), key=lambda kv: kv[1]))),
    ]


def markdown(rows):
    def cell(s):
        return f"{s.mean():.3f} ± {s.std():.3f}"

    keys = ("zscore", "power", "squashing", "best", "auto")
    lines = ["| dataset | score | model | " + " | ".join(LABELS[k] for k in keys)
             + " | AutoScaler without the hint | AutoScaler's methods (first fold) |",
             "|---|---|---|" + "---:|" * (len(keys) + 1) + "---|"]
    for r in rows:
        metric = "accuracy" if r["task"] == "classification" else "R²"
        top = max(r[k].mean() for k in keys)
        cells = [f"**{cell(r[k])}**" if r[k].mean() == top else cell(r[k]) for k in keys]
        cells[3] += f" ({r['picked']})"
        unhinted = "" if r["unhinted"] is None else cell(r["unhinted"])
        lines.append(f"| {r['dataset']} | {metric} | {r['model']} | " + " | ".join(cells)
                     + f" | {unhinted} | {r['auto_methods']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/auto.md")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    tasks = [(name, X, y, task, *m) for name, X, y, task in datasets() for m in models(task)]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.jobs)(delayed(score)(*t) for t in tasks)
    table = markdown(rows)
    print(table)
    gain = np.array([r["auto"].mean() - r["zscore"].mean() for r in rows])
    hinted = [r["auto"].mean() - r["unhinted"].mean() for r in rows if r["unhinted"] is not None]
    lines = [f"- {'met' if met else '**not met**'}: {text}" for met, text in criteria(rows)]
    summary = ("\n".join(lines) + f"\n\nAutoScaler minus z-score: median {np.median(gain):+.3f},"
               f" from {gain.min():+.3f} to {gain.max():+.3f}. The `linear` hint"
               f" (codes and IDs unchanged) against none (z-scored): higher in"
               f" {sum(d > 0 for d in hinted)}, equal in {sum(d == 0 for d in hinted)}, lower in"
               f" {sum(d < 0 for d in hinted)} of {len(hinted)} pairs. Measured in"
               f" {time.perf_counter() - start:.0f} s on {args.jobs} process"
               f"{'es' if args.jobs > 1 else ''}.")
    print("\n" + summary)
    if args.write:
        text = DOC.read_text()
        block = f"<!-- comparison -->\n{table}\n\n{summary}\n<!-- /comparison -->"
        DOC.write_text(re.sub(r"<!-- comparison -->.*<!-- /comparison -->", lambda _: block,
                              text, flags=re.S))


if __name__ == "__main__":
    main()
