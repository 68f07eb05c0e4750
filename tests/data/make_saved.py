"""Write ``saved/``: every estimator fitted by skscale 0.1.0 and saved with
joblib and skops, for ``tests/test_saved.py`` to load with today's code.

Run with the release that should write them on ``sys.path``; the files are
committed, so this runs only when a release's files are added.  ``fit``
data are drawn from a fixed seed that the test draws again.
"""

import pathlib
import sys

import joblib
import numpy as np
import pandas as pd

import skscale
from skscale import io

HERE = pathlib.Path(__file__).parent


def train(seed=0, n=600):
    """Positive columns of different centres and spreads, a constant one,
    NaN in one; and a frame of them with names."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(50, 5, n), rng.lognormal(0, 1.5, n),
                         rng.uniform(0, 255, n).round(), np.full(n, 7.0),
                         rng.exponential(3, n), rng.normal(1e6, 1, n),
                         rng.integers(0, 2, n).astype(float), rng.uniform(1, 2, n)])
    X[rng.random(n) < 0.05, 1] = np.nan
    return X


ESTIMATORS = {
    "minmax": lambda: skscale.MinMaxScaler(feature_range=(-1, 1)),
    "minmax_clip": lambda: skscale.MinMaxScaler(clip=True),
    "zscore": lambda: skscale.ZScoreScaler(),
    "zscore_ddof": lambda: skscale.ZScoreScaler(ddof=1),
    "robust": lambda: skscale.RobustScaler(),
    "robust_unit": lambda: skscale.RobustScaler(quantile_range=(10.0, 90.0),
                                               unit_variance=True),
    "decimal": lambda: skscale.DecimalScaler(),
    "log": lambda: skscale.LogScaler(),
    "log_auto10": lambda: skscale.LogScaler(offset="auto", base=10),
    "log_small_offset": lambda: skscale.LogScaler(offset=0.3),
    "unit_norm": lambda: skscale.UnitNormScaler(norm="l1"),
    "layer_norm": lambda: skscale.LayerNormScaler(eps=1e-3),
    "instance_norm": lambda: skscale.InstanceNormScaler(n_channels=2),
    "group_norm": lambda: skscale.GroupNormScaler(num_groups=2, n_channels=4,
                                                  scale=np.arange(1.0, 5.0)),
    "batch_norm": lambda: skscale.BatchNormScaler(batch_size=64),
    "batch_norm_momentum": lambda: skscale.BatchNormScaler(momentum=0.1, batch_size=50),
    "scaler_minmax": lambda: skscale.Scaler("minmax", {"feature_range": (0, 10)}),
    "auto": lambda: skscale.AutoScaler(),
    "auto_distance": lambda: skscale.AutoScaler(model="distance"),
}


def new_rows(X):
    """Other rows of the same kind, within the training range (which a
    learned log offset needs)."""
    return np.clip(train(seed=1)[:100], np.nanmin(X, axis=0), np.nanmax(X, axis=0))


def frame(X):
    return pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])


def main():
    out = HERE / "saved" / skscale.__version__
    out.mkdir(parents=True, exist_ok=True)
    X = train()
    X_new = new_rows(X)
    outputs = {}
    with skscale.config_context(compiled=False):  # the numpy kernels, on any machine
        for name, make in ESTIMATORS.items():
            for kind, data, new in (("array", X, X_new), ("frame", frame(X), frame(X_new))):
                est = make().fit(data)
                joblib.dump(est, out / f"{name}-{kind}.joblib")
                io.dump(est, out / f"{name}-{kind}.skops")
                outputs[f"{name}-{kind}"] = np.asarray(est.transform(new))
    # What that release's transform gave the new rows.
    np.savez_compressed(out / "transforms.npz", **outputs)
    print(f"wrote {len(list(out.iterdir()))} files into {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
