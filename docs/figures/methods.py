"""The user guide's small figures: what each method does to data.

A column method is drawn as its map from ``x`` to ``y``, learned on a
training sample (the dots) and extended to unseen values beyond it (the
dashed part); a per-sample method as a few samples before and after."""

import matplotlib.pyplot as plt
import numpy as np

from skscale import (BatchNormScaler, DecimalScaler, GroupNormScaler, LayerNormScaler,
                     LogScaler, MaxAbsScaler, MinMaxScaler, PowerTransformer,
                     QuantileTransformer, RobustScaler, SquashingScaler, UnitNormScaler,
                     ZScoreScaler)

RNG = np.random.default_rng(0)
TRAIN = RNG.lognormal(3.0, 0.6, size=(200, 1))  # positive, right-skewed


def _column_map(estimator, title, train=TRAIN):
    estimator.fit(train)
    lo, hi = train.min(), train.max()
    inside = np.linspace(lo, hi, 200)[:, None]
    beyond = np.linspace(max(lo - 0.3 * (hi - lo), 0.0), hi + 0.3 * (hi - lo), 300)[:, None]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.2, 2.6))
    ax.plot(beyond, estimator.transform(beyond), "--", color="#888888", label="unseen values")
    ax.plot(inside, estimator.transform(inside), color="#3465a4", lw=2, label="training range")
    ax.plot(train, estimator.transform(train), "o", ms=2.5, color="#204a87")
    ax.set_xlabel("x")
    ax.set_ylabel("y = transform(x)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    bx.hist(estimator.transform(train).ravel(), bins=30, color="#3465a4")
    bx.set_xlabel("y on the training data")
    bx.set_title("distribution after", fontsize=9)
    return fig


def minmax():
    return _column_map(MinMaxScaler(), "MinMaxScaler(): training range to [0, 1]")


def zscore():
    return _column_map(ZScoreScaler(), "ZScoreScaler(): mean 0, standard deviation 1")


def robust():
    train = np.vstack([TRAIN, [[300.0], [420.0]]])  # two far outliers
    return _column_map(RobustScaler(), "RobustScaler(): median 0, inter-quartile range 1",
                       train)


def decimal():
    return _column_map(DecimalScaler(), "DecimalScaler(): divide by 10**j")


def log():
    return _column_map(LogScaler(), "LogScaler(): log1p, the shape changes")


def maxabs():
    train = TRAIN - 25.0  # (both signs: the largest magnitude maps to ±1)
    return _column_map(MaxAbsScaler(), "MaxAbsScaler(): divide by max|x|", train)


def power():
    return _column_map(PowerTransformer(), "PowerTransformer(): Yeo-Johnson, then z-score")


def quantile():
    return _column_map(QuantileTransformer(n_quantiles=100),
                       "QuantileTransformer(): the empirical distribution, to uniform")


def squashing():
    train = np.vstack([TRAIN, [[300.0], [420.0]]])  # two far outliers
    return _column_map(SquashingScaler(), "SquashingScaler(): robust, then a soft clip to ±3",
                       train)


def batch_norm():
    return _column_map(BatchNormScaler(batch_size=20),
                       "BatchNormScaler(): z-score by running statistics")


def _rows(estimator, title, X, boundaries=()):
    Y = estimator.fit_transform(X)
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.4), sharey=False)
    for ax, data, label in zip(axes, (X, Y), ("before", "after")):
        for i, row in enumerate(data):
            ax.plot(np.arange(X.shape[1]), row, "o-", ms=3, label=f"sample {i}")
        ax.set_xlabel("feature")
        for b in boundaries:  # where one group ends and the next begins
            ax.axvline(b, color="#aaaaaa", ls=":")
        ax.set_title(f"{title}: {label}" if label == "after" else label, fontsize=9)
    axes[0].legend(fontsize=7)
    return fig


def unit_norm():
    X = RNG.normal(size=(12, 2)) * [3.0, 1.0]
    Y = UnitNormScaler().fit_transform(X)
    fig, ax = plt.subplots(figsize=(3.4, 3.2))
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(t), np.sin(t), color="#cccccc")
    for x, y in zip(X, Y):
        ax.annotate("", xy=y, xytext=x, arrowprops=dict(arrowstyle="->", color="#888888"))
    ax.plot(*X.T, "o", ms=4, label="samples")
    ax.plot(*Y.T, "o", ms=4, label="unit vectors")
    ax.set_aspect("equal")
    ax.legend(fontsize=7)
    ax.set_title("UnitNormScaler(): each row to length 1", fontsize=9)
    return fig


def group_norm():
    base = np.sin(np.linspace(0, 3, 8))
    X = np.stack([base * 2 + 10, base * 0.5 - 3, np.r_[base[:4] * 4, base[4:] + 20]])
    X += RNG.normal(scale=0.05, size=X.shape) * np.abs(X).max(axis=1, keepdims=True)
    return _rows(GroupNormScaler(num_groups=2, n_channels=4),
                 "GroupNormScaler(2, n_channels=4)", X, boundaries=(3.5,))


def layer_norm():
    base = np.sin(np.linspace(0, 3, 8))
    X = np.stack([base * 2 + 10, base * 0.5 - 3, base * 8])
    X += RNG.normal(scale=0.05, size=X.shape) * np.abs(X).max(axis=1, keepdims=True)
    return _rows(LayerNormScaler(), "LayerNormScaler()", X)
