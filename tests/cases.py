"""The estimators the export tests fit (every method of SCALERS, AutoScaler,
Scaler, and variants whose fitted state or map differs), and their data."""

import numpy as np
import pandas as pd

from skscale import (SCALERS, AutoScaler, BatchNormScaler, DecimalScaler, GroupNormScaler,
                     InstanceNormScaler, LayerNormScaler, LogScaler, MaxAbsScaler, MinMaxScaler,
                     PowerTransformer, QuantileTransformer, RMSNormScaler, RobustScaler, Scaler,
                     SquashingScaler, UnitNormScaler, ZScoreScaler)

NAMES = ["normal", "skewed", "binary", "pixels", "big", "small"]

#: Parameters a method needs for six features.
NEEDS = {"group_norm": {"num_groups": 3, "n_channels": 6}, "instance_norm": {"n_channels": 3}}

VARIANTS = {
    "minmax_clip": lambda: MinMaxScaler(feature_range=(-1, 1), clip=True),
    "zscore_ddof": lambda: ZScoreScaler(ddof=1, with_mean=False),
    "robust_sketch": lambda: RobustScaler(keep_sketch=True, unit_variance=True,
                                          quantile_range=(10.0, 90.0)),
    "decimal_fixed": lambda: DecimalScaler(digits=2),
    "log_auto10": lambda: LogScaler(offset="auto", base=10),
    "log_split_nan": lambda: LogScaler(offset=1e-3, base=2, out_of_domain="nan"),
    "log_clip": lambda: LogScaler(offset="auto", out_of_domain="clip", base=3.0),
    "maxabs_clip": lambda: MaxAbsScaler(clip=True),
    "power_kept": lambda: PowerTransformer(keep_stats=True, standardize=False),
    "quantile_normal": lambda: QuantileTransformer(output_distribution="normal", n_quantiles=50,
                                                   keep_sketch=True),
    "squashing_kept": lambda: SquashingScaler(2.0, quantile_range=(10.0, 90.0),
                                              keep_sketch=True),
    "batch_norm_momentum": lambda: BatchNormScaler(momentum=0.1, batch_size=64, scale=2.0,
                                                   shift=np.arange(6.0)),
    "unit_norm_l1": lambda: UnitNormScaler("l1"),
    "unit_norm_max": lambda: UnitNormScaler("max"),
    "layer_norm_affine": lambda: LayerNormScaler(scale=0.5, shift=np.linspace(-1, 1, 6)),
    "group_norm_affine": lambda: GroupNormScaler(2, n_channels=2, scale=[1.0, 3.0],
                                                 shift=[0.0, -2.0]),
    "instance_norm_2": lambda: InstanceNormScaler(2, eps=0.0),
    "rms_norm_scale": lambda: RMSNormScaler(eps=1e-6, scale=np.linspace(0.5, 2.0, 6)),
    "auto": lambda: AutoScaler(),
    "auto_rules": lambda: AutoScaler(rules={
        "ordinary": "squashing", "binary": ("minmax", {"clip": True}), "bounded": "maxabs",
        "heavy_tail": [("log", {"offset": "auto", "out_of_domain": "clip"}), "quantile"]}),
    "auto_power": lambda: AutoScaler(rules={
        "ordinary": "power", "heavy_tail": ["robust", "decimal"]}),
    "scaler_robust": lambda: Scaler("robust"),
    "scaler_auto": lambda: Scaler("auto"),
}


def make(name):
    """A new, unfitted estimator of the case ``name``."""
    if name in SCALERS:
        return SCALERS[name](**NEEDS.get(name, {}))
    return VARIANTS[name]()


CASES = [*SCALERS, *VARIANTS]


def train(n=600, seed=0):
    """Training rows: a normal, a skewed, a binary, an 8-bit, a large-offset and
    a tiny column, all at least 0, with missing values."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(50, 5, n), rng.lognormal(0, 1, n) + 0.5,
                         rng.integers(0, 2, n), rng.integers(0, 256, n),
                         rng.normal(1e8, 1, n), rng.uniform(0, 1e-3, n)]).astype(np.float64)
    X[rng.random(X.shape) < 0.02] = np.nan
    return X


def new_rows(X, n=300, seed=1):
    """Rows like ``X``'s, drawn again with a little noise (none below a
    column's minimum minus 1: every logarithm here takes them), and NaN."""
    rng = np.random.default_rng(seed)
    rows = X[rng.integers(0, len(X), n)]
    noise = rng.normal(0, 0.1, rows.shape) * np.nanstd(X, axis=0)
    Y = np.maximum(rows + noise, 0.0)
    Y[rng.random(Y.shape) < 0.03] = np.nan
    return Y


def frame(X):
    return pd.DataFrame(X, columns=NAMES)
