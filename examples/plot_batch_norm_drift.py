"""
Batch norm on a drifting stream
===============================

:class:`~skscale.BatchNormScaler` keeps running estimates of each feature's
mean and variance, folded in one mini-batch at a time by
:meth:`~skscale.BatchNormScaler.partial_fit`. How it folds them is set by
``momentum``, the weight of the *new* batch (PyTorch's convention):
``momentum=None`` gives every batch the same weight (the cumulative average),
while a fixed ``momentum`` forgets old batches geometrically. This example
feeds the same stream, stationary at first and then drifting, to both kinds
and checks how well each one's statistics normalize the batch that comes next.
"""

# %%
# A stream that drifts
# --------------------
#
# The stream has 300 mini-batches of 64 rows and one feature. For the first
# 100 batches it is stationary (mean 1, standard deviation 0.5). Over the
# next 100 its mean rises linearly to 6 and its standard deviation to 2, and
# for the last 100 it is stationary again at the new values.

import matplotlib.pyplot as plt
import numpy as np

from skscale import BatchNormScaler, ZScoreScaler

rng = np.random.default_rng(0)
n_batches, batch_size = 300, 64
t = np.arange(n_batches)
ramp = np.clip((t - 100) / 100, 0, 1)  # 0 before batch 100, 1 from batch 200 on
true_mean = 1.0 + 5.0 * ramp
true_std = 0.5 + 1.5 * ramp
batches = [rng.normal(m, s, size=(batch_size, 1)) for m, s in zip(true_mean, true_std)]

# %%
# Feeding it batch by batch
# -------------------------
#
# Each scaler takes one training step per batch. After step ``k`` its running
# statistics are recorded, and batch ``k + 1``, not seen yet, is transformed
# with them: well-estimated statistics give it mean 0 and standard deviation 1.
#
# For comparison, a :class:`~skscale.ZScoreScaler` is fitted on the whole
# stream at once. It uses the mean and variance of all 19,200 rows, something
# no streaming scaler can know in advance.

scalers = {
    "momentum=None": BatchNormScaler(momentum=None),
    "momentum=0.1": BatchNormScaler(momentum=0.1),
    "momentum=0.01": BatchNormScaler(momentum=0.01),
}
running_mean = {name: np.empty(n_batches) for name in scalers}
running_var = {name: np.empty(n_batches) for name in scalers}
next_mean = {name: np.full(n_batches, np.nan) for name in scalers}
next_std = {name: np.full(n_batches, np.nan) for name in scalers}

for k, batch in enumerate(batches):
    for name, bn in scalers.items():
        bn.partial_fit(batch)
        running_mean[name][k] = bn.running_mean_[0]
        running_var[name][k] = bn.running_var_[0]
        if k + 1 < n_batches:
            y = bn.transform(batches[k + 1])
            next_mean[name][k + 1] = y.mean()
            next_std[name][k + 1] = y.std()

whole = ZScoreScaler().fit(np.vstack(batches))
whole_next = [whole.transform(b) for b in batches]
next_mean["ZScoreScaler, whole stream"] = np.array([y.mean() for y in whole_next])
next_std["ZScoreScaler, whole stream"] = np.array([y.std() for y in whole_next])
print(f"ZScoreScaler on the whole stream: mean_ = {whole.mean_[0]:.3f}, "
      f"var_ = {whole.var_[0]:.3f}")
print(f"steps taken by each batch-norm scaler: "
      f"{scalers['momentum=None'].num_batches_tracked_}")

# %%
# The running statistics against the truth
# ----------------------------------------
#
# The running statistics start at mean 0 and variance 1. With
# ``momentum=None`` the first step replaces them entirely (its weight is
# ``1 / 1``), so the estimate is right from the start of the stationary phase
# and becomes steadier with every batch. ``momentum=0.1`` takes some 20
# batches to forget its start and then follows each batch's noise.
# ``momentum=0.01`` still carries :math:`0.99^{100} \approx 0.37` of its
# starting values after 100 batches: its mean is still climbing from 0 and its
# variance falling from 1.
#
# Once the stream drifts, the roles swap. ``momentum=None`` averages over
# everything seen so far, so it lags further and further behind, and after
# the drift it does not catch up: at the end it sits between the old and the
# new regime. ``momentum=0.1`` tracks the drift with a short lag;
# ``momentum=0.01`` lags by many batches.

colors = {"momentum=None": "C0", "momentum=0.1": "C1", "momentum=0.01": "C2",
          "ZScoreScaler, whole stream": "C3"}
fig, (ax_mean, ax_var) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True,
                                      constrained_layout=True)
ax_mean.plot(t, true_mean, "k", lw=2, label="true mean")
ax_var.plot(t, true_std**2, "k", lw=2, label="true variance")
for name in scalers:
    ax_mean.plot(t, running_mean[name], color=colors[name], label=name)
    ax_var.plot(t, running_var[name], color=colors[name], label=name)
ax_mean.axhline(whole.mean_[0], color=colors["ZScoreScaler, whole stream"], ls="--",
                label="ZScoreScaler, whole stream")
ax_var.axhline(whole.var_[0], color=colors["ZScoreScaler, whole stream"], ls="--",
               label="ZScoreScaler, whole stream")
for ax in (ax_mean, ax_var):
    ax.axvspan(100, 200, color="0.9", zorder=0)
ax_mean.set_ylabel("running_mean_")
ax_var.set_ylabel("running_var_")
ax_var.set_xlabel("batch (shaded: drift)")
ax_mean.legend(loc="upper left", fontsize="small")
ax_mean.set_title("Running statistics after each training step")

# %%
# How well the next batch is normalized
# -------------------------------------
#
# The useful test of the statistics is the batch that comes next. Its mean
# after the transform is ``(true mean - running mean) / running std`` up to
# sampling noise, so any lag shows up directly. The z-score fitted on the
# whole stream is off in the other way: its single mean is too high for the
# early batches and too low for the late ones.

fig, (ax_m, ax_s) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True,
                                 constrained_layout=True)
for name in next_mean:
    style = "--" if name.startswith("ZScore") else "-"
    ax_m.plot(t, next_mean[name], style, color=colors[name], label=name)
    ax_s.plot(t, next_std[name], style, color=colors[name], label=name)
for ax, target in ((ax_m, 0.0), (ax_s, 1.0)):
    ax.axhline(target, color="k", lw=1)
    ax.axvspan(100, 200, color="0.9", zorder=0)
ax_m.set_ylabel("mean of transformed batch")
ax_s.set_ylabel("std of transformed batch")
ax_s.set_xlabel("batch (shaded: drift)")
ax_m.legend(loc="upper left", fontsize="small")
ax_m.set_title("Each batch transformed with the statistics learned before it")

# %%
# In numbers
# ----------
#
# First the estimates themselves, over each phase: the root-mean-square error
# of ``running_mean_`` in units of the true standard deviation, and of
# ``running_var_`` relative to the true variance. The stationary phase is
# taken from batch 50 on, once every scaler has seen 50 batches.

phases = {"stationary 50-99": slice(50, 100), "drift 100-199": slice(100, 200),
          "after 200-299": slice(200, 300)}


def rms(values):
    return np.sqrt(np.nanmean(np.square(values)))


print(f"{'RMS error: mean | variance':26s}" + "".join(f"{p:>20s}" for p in phases))
for name in scalers:
    cells = [f"{rms((running_mean[name][s] - true_mean[s]) / true_std[s]):9.3f} |"
             f"{rms(running_var[name][s] / true_std[s] ** 2 - 1):7.3f}" for s in phases.values()]
    print(f"{name:26s}" + "".join(f"{c:>20s}" for c in cells))

# %%
# Then their effect: the root-mean-square mean of the transformed next batch.
# Even the true statistics do not give exactly 0, because each batch's own
# mean varies: the row ``true statistics`` is that floor, whose expected value
# is ``1 / sqrt(64) = 0.125``.
#
# In the stationary phase the cumulative average's estimates have about half
# the error of ``momentum=0.1``'s in this run; both are close to the floor for the
# next batch. During the drift ``momentum=0.1`` is by far the best of the
# three, and after it, it alone returns to the floor. The z-score fitted on
# the whole stream is far from the floor in every phase.

next_mean["true statistics"] = np.array(
    [((b - m) / s).mean() for b, m, s in zip(batches, true_mean, true_std)])
print(f"{'RMS of next-batch mean':26s}" + "".join(f"{p:>20s}" for p in phases))
for name, values in next_mean.items():
    print(f"{name:26s}" + "".join(f"{rms(values[s]):20.3f}" for s in phases.values()))

# %%
# The cumulative average and the whole data's statistics
# ------------------------------------------------------
#
# ``momentum=None`` averages the batch means and the (unbiased) batch
# variances. On a stationary stream this is the data's mean and variance, up
# to sampling noise. On a drifting stream the averaged *within-batch*
# variance leaves out how much the batch means themselves move, so it stays
# well below the variance of all rows that :class:`~skscale.ZScoreScaler`
# computes:

first = np.vstack(batches[:100])
z_first = ZScoreScaler().fit(first)
bn_first = BatchNormScaler(momentum=None)
for b in batches[:100]:
    bn_first.partial_fit(b)
bn_all = scalers["momentum=None"]
print(f"{'':28s}{'mean':>10s}{'variance':>10s}")
print(f"{'batches 0-99, momentum=None':28s}{bn_first.running_mean_[0]:10.3f}"
      f"{bn_first.running_var_[0]:10.3f}")
print(f"{'batches 0-99, ZScoreScaler':28s}{z_first.mean_[0]:10.3f}{z_first.var_[0]:10.3f}")
print(f"{'all batches, momentum=None':28s}{bn_all.running_mean_[0]:10.3f}"
      f"{bn_all.running_var_[0]:10.3f}")
print(f"{'all batches, ZScoreScaler':28s}{whole.mean_[0]:10.3f}{whole.var_[0]:10.3f}")

# %%
# Which to use
# ------------
#
# - ``momentum=None`` when the stream is stationary: every batch counts the
#   same, the estimate is unbiased from the first batch on and its noise
#   shrinks as batches accumulate. For the exact mean and variance of all rows, use
#   :class:`~skscale.ZScoreScaler` (its ``partial_fit`` merges batches
#   exactly).
# - A fixed ``momentum`` when the stream drifts: the statistics follow it with
#   a lag of about ``1 / momentum`` batches. A larger momentum lags less but is
#   noisier. Keras's ``momentum=0.99`` is ``BatchNormScaler(momentum=0.01)``
#   here.

plt.show()
