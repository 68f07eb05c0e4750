"""Has new data drifted from what a scaler was fitted on?  A report per column.

New rows are summarized in one pass into :class:`Drift` counts, which merge
across batches (the command line's ``skscale check`` streams a file through
them): the statistics core's :class:`~skscale._stats.ColumnStats`, and per
column the number of values below the training minimum, above the training
maximum, and where the scaler clips.  :func:`report` sets them against the
scaler's training reference -- what it learned of each column: range,
mean, standard deviation, share of missing values -- which :func:`reference`
reads from the statistics each kind of scaler keeps.  What a method did not
learn (z-score keeps no range, min-max no mean) is NaN in the report.  This
module reads the fitted scalers it is given and changes none.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._blocks import for_each_block
from ._stats import BOTH, ColumnStats

#: The columns of a drift report, in order.
COLUMNS = ("column", "rows", "missing", "missing_fit", "below_min", "above_max", "outside",
           "clipped", "mean", "mean_fit", "std_fit", "mean_shift")


@dataclass
class Drift:
    """What new rows hold, per column, against a training reference.

    Attributes
    ----------
    stats : ColumnStats
        Count, mean, M2, min and max of the new rows.
    below, above, clipped : ndarray of shape (n_features,)
        How many values are below the training minimum, above the training
        maximum, and where the scaler clips.
    """

    stats: ColumnStats
    below: np.ndarray
    above: np.ndarray
    clipped: np.ndarray

    def merge(self, other):
        """The counts of the rows of both."""
        return Drift(self.stats.merge(other.stats), self.below + other.below,
                     self.above + other.above, self.clipped + other.clipped)


def reference(est):
    """``{min, max, mean, std, missing, clip_low, clip_high}``: per column,
    what ``est`` learned of its training data (NaN where it learned nothing
    of it) and the input range outside which its transform clips (infinite
    where it does not).  Each class says which of the references below is
    its own (``_drift_reference``); a per-sample scaler has none."""
    return est._drift_reference()


def no_reference(est):
    """The refusal of a scaler that learns nothing of its columns."""
    return TypeError(f"{type(est).__name__} scales each row by statistics of its own and"
                     " learns nothing of the columns' training data, so there is no reference"
                     " to check new data against.")


def _nothing(d):
    nan = np.full(d, np.nan)
    return {"min": nan, "max": nan.copy(), "mean": nan.copy(), "std": nan.copy(),
            "missing": nan.copy(), "clip_low": np.full(d, -np.inf),
            "clip_high": np.full(d, np.inf)}


def from_stats(est):
    """A column scaler's reference: its statistics core's."""
    s = est.stats_
    ref = _nothing(est.n_features_in_)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref.update(min=s.min, max=s.max, mean=s.mean, std=np.sqrt(s.var(0)),
                   missing=1.0 - s.count / s.n_rows if s.n_rows else ref["missing"])
    ref.update(est._clip_range())
    return ref


def ranked(est):
    """Quantile and squashing scaling: the count and extremes they rank."""
    r = est._ranks
    ref = _nothing(est.n_features_in_)
    with np.errstate(invalid="ignore", divide="ignore"):
        if est._n_rows:
            ref["missing"] = 1.0 - r["count"] / est._n_rows
    ref.update(min=r["min"], max=r["max"])
    ref.update(est._clip_range())
    return ref


def power(est):
    """A power transform: the count (and, with its grid statistics, the
    extremes) of the finite values."""
    ref = _nothing(est.n_features_in_)
    with np.errstate(invalid="ignore", divide="ignore"):
        if est._n_rows:
            ref["missing"] = 1.0 - est._state["n"] / est._n_rows
    if est.stats_ is not None:
        ref.update(min=est.stats_.min, max=est.stats_.max)
    return ref


def robust(est):
    """Robust scaling: the count, and the extremes its sketches keep."""
    ref = _nothing(est.n_features_in_)
    with np.errstate(invalid="ignore", divide="ignore"):
        if est._n_rows:
            ref["missing"] = 1.0 - est._count / est._n_rows
    if est.sketches_ is not None:  # a KLL sketch keeps its extremes exactly
        ends = [(s.get_min_value(), s.get_max_value()) if not s.is_empty() else (np.nan, np.nan)
                for s in est.sketches_._sketches()]
        ref["min"], ref["max"] = (np.array(e, dtype=np.float64) for e in zip(*ends))
    return ref


def batch_norm(est):
    """Batch normalization: its running mean and variance."""
    ref = _nothing(est.n_features_in_)
    ref.update(mean=est.running_mean_, std=np.sqrt(est.running_var_))
    return ref


def auto(est):
    """What AutoScaler measured of each column at fit, and where the first
    step chosen for it clips."""
    r = est._report
    ref = _nothing(est.n_features_in_)
    for key in ("min", "max", "mean", "std", "missing"):
        ref[key] = np.array([row[key] for row in r], dtype=np.float64)
    for cols, chain in est.groups_:
        if chain:
            for key, value in chain[0]._clip_range().items():
                ref[key][cols] = value
    return ref


def counts(est, X, ref=None):
    """:class:`Drift` of the dense 2-D float array ``X`` (its columns those
    ``est`` was fitted on) against ``ref`` (default: ``reference(est)``)."""
    ref = reference(est) if ref is None else ref
    names = getattr(est, "feature_names_in_", None)
    stats = ColumnStats.from_array(X, feature_names=names, what=BOTH)
    bounds = [(ref["min"], ref["max"]), (ref["clip_low"], ref["clip_high"])]

    def run(rows):
        x = X[rows]
        return [(x < lo).sum(axis=0) + (x > hi).sum(axis=0) if i else
                np.stack([(x < lo).sum(axis=0), (x > hi).sum(axis=0)])
                for i, (lo, hi) in enumerate(bounds)]

    parts = for_each_block(X.shape[0], X.shape[1], run)
    ends = np.sum([p[0] for p in parts], axis=0).astype(np.float64)
    clipped = np.sum([p[1] for p in parts], axis=0).astype(np.float64)
    return Drift(stats, ends[0], ends[1], clipped)


def report(est, drift, ref=None):
    """The drift report (a DataFrame, one row per column) of the counts
    ``drift`` against ``est``'s training reference."""
    ref = reference(est) if ref is None else ref
    s = drift.stats
    names = getattr(est, "feature_names_in_", None)
    d = len(s.count)
    rows = s.n_rows
    with np.errstate(invalid="ignore", divide="ignore"):
        seen = np.where(s.count > 0, s.count, np.nan)
        below, above = drift.below / seen, drift.above / seen
        unknown_range = np.isnan(ref["min"]) | np.isnan(ref["max"])
        below[np.isnan(ref["min"])] = np.nan
        above[np.isnan(ref["max"])] = np.nan
        outside = np.where(unknown_range, np.nan, below + above)
        clips = np.isfinite(ref["clip_low"]) | np.isfinite(ref["clip_high"])
        clipped = np.where(clips, drift.clipped / seen, np.nan)
        shift = (s.mean - ref["mean"]) / ref["std"]
        same = (s.mean == ref["mean"])
        shift = np.where(same, 0.0, shift)
    return pd.DataFrame({
        "column": [str(c) for c in (names if names is not None else range(d))],
        "rows": np.full(d, rows),
        "missing": 1.0 - s.count / rows if rows else np.full(d, np.nan),
        "missing_fit": ref["missing"],
        "below_min": below, "above_max": above, "outside": outside, "clipped": clipped,
        "mean": s.mean, "mean_fit": ref["mean"], "std_fit": ref["std"], "mean_shift": shift,
    }, columns=list(COLUMNS))


def check_drift(est, X):
    """``est.check_drift(X)``: the report of the rows ``X`` in memory (as
    ``est._drift_rows`` reads them)."""
    ref = reference(est)
    return report(est, counts(est, est._drift_rows(X), ref), ref)
