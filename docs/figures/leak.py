"""What fitting the scaler on all the data leaks into cross-validation: the
same folds, scored with the scaler fit on all rows and with the scaler inside
the pipeline (fit on each training fold only), and the share of each test
fold's values that the training fold's range does not cover."""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline

from skscale import MinMaxScaler

SIZES = (40, 80, 160, 320)
REPEATS = 30


def measure():
    X, y = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(0)
    leaked, honest, beyond = [], [], []
    for n in SIZES:
        gaps = []
        for _ in range(REPEATS):
            rows = rng.choice(len(X), n, replace=False)
            Xs, ys = X[rows], y[rows]
            cv = KFold(5, shuffle=True, random_state=int(rng.integers(1 << 30)))
            model = KNeighborsRegressor(5)
            inside = cross_val_score(make_pipeline(MinMaxScaler(), model), Xs, ys, cv=cv)
            outside = cross_val_score(model, MinMaxScaler().fit_transform(Xs), ys, cv=cv)
            gaps.append((outside.mean(), inside.mean(), _outside_share(Xs, cv)))
        gaps = np.array(gaps)
        leaked.append(gaps[:, 0])
        honest.append(gaps[:, 1])
        beyond.append(gaps[:, 2])
    return np.array(leaked), np.array(honest), np.array(beyond)


def _outside_share(X, cv):
    """Share of the test folds' values outside [0, 1] once scaled by their
    training fold alone (fit on all rows, it is 0 by construction)."""
    out = [np.mean((s < 0) | (s > 1)) for train, test in cv.split(X)
           for s in [MinMaxScaler().fit(X[train]).transform(X[test])]]
    return np.mean(out)


def draw():
    leaked, honest, beyond = measure()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    x = np.arange(len(SIZES))
    for k, (scores, label) in enumerate([(leaked, "scaler fit on all rows (leaks)"),
                                         (honest, "scaler inside the pipeline")]):
        mean = scores.mean(axis=1)
        sem = scores.std(axis=1) / np.sqrt(REPEATS)
        ax.errorbar(x + (k - 0.5) * 0.12, mean, yerr=sem, fmt="o-", capsize=3, label=label)
    ax.set_xticks(x, [str(n) for n in SIZES])
    ax.set_xlabel("rows in the data set (5-fold cross-validation)")
    ax.set_ylabel(f"mean R² over {REPEATS} random subsets")
    ax.set_title("k-nearest neighbours on diabetes, min-max scaled", fontsize=10)
    ax.legend(fontsize=8)
    bx.bar(x, 100 * beyond.mean(axis=1), color="#c17d11")
    bx.set_xticks(x, [str(n) for n in SIZES])
    bx.set_xlabel("rows in the data set")
    bx.set_ylabel("test values outside [0, 1] (%)")
    bx.set_title("what the training folds did not cover", fontsize=10)
    return fig



def report():
    """The figures of :func:`draw` in numbers, per size: the mean scores, their
    gap with its standard error, and the test values the training range missed."""
    leaked, honest, beyond = measure()
    for n, a, b, c in zip(SIZES, leaked, honest, beyond):
        d = a - b
        print(f"{n} rows: leaked {a.mean():.4f}, honest {b.mean():.4f}, gap {d.mean():.4f}"
              f" +- {d.std() / np.sqrt(REPEATS):.4f}; test values outside {c.mean():.2%}")
