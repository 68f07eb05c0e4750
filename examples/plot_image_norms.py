"""
Layer, instance and group normalization on images
=================================================

:class:`~skscale.LayerNormScaler`, :class:`~skscale.InstanceNormScaler` and
:class:`~skscale.GroupNormScaler` standardize each sample by statistics of its
own: layer normalization over all of the sample's features, instance
normalization over each channel, group normalization over each group of
channels. This example builds 4-channel images from scikit-learn's 8 x 8
digits, shows what each method does to them, and shows which brightness and
contrast changes each method removes, unlike the column scalers
:class:`~skscale.ZScoreScaler` and :class:`~skscale.BatchNormScaler`, whose
statistics are per feature across samples.
"""

# %%
# Images with four channels
# -------------------------
#
# Each digit becomes an image of four channels:
#
# 0. the digit itself (values 0 to 16),
# 1. a copy with three times the contrast and 20 more brightness
#    (``3 * x + 20``),
# 2. its horizontal gradient,
# 3. its vertical gradient.
#
# Channels 0 and 1 are intensities and channels 2 and 3 are gradients, so two
# groups of two contiguous channels are natural for group normalization.
# skscale reads a sample's ``C * L`` features as ``C`` channels of ``L``
# positions, channel-major, i.e. as ``X.reshape(n_samples, C, L)`` does: the
# ``(N, C, 8, 8)`` array is flattened to ``(N, C * 64)``.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skscale import (BatchNormScaler, GroupNormScaler, InstanceNormScaler,
                     LayerNormScaler, ZScoreScaler)

digits = load_digits().images  # (1797, 8, 8)
images = np.stack([
    digits,
    3.0 * digits + 20.0,
    np.gradient(digits, axis=2),
    np.gradient(digits, axis=1),
], axis=1)  # (N, C, 8, 8)
channel_names = ["digit", "3 x digit + 20", "d/dx", "d/dy"]
n_samples, C = images.shape[:2]
X = images.reshape(n_samples, -1)  # channel-major: (N, C * 64)
print(f"images {images.shape} -> X {X.shape}")

scalers = {
    "layer norm": LayerNormScaler(),
    "instance norm": InstanceNormScaler(n_channels=C),
    "group norm, G=2": GroupNormScaler(num_groups=2, n_channels=C),
}
outputs = {"input": X}
for name, scaler in scalers.items():
    outputs[name] = scaler.fit_transform(X)

# %%
# What each method does to two images
# -----------------------------------
#
# Rows are the methods, columns the four channels of two digits. Each row
# shares one color scale.
#
# - **Layer norm** uses one mean and one standard deviation for all 256 values
#   of a sample. The bright copy (channel 1) dominates both, so the digit
#   channel ends up mostly below 0 and the gradients are squeezed near a
#   constant: the differences of level and spread between channels remain.
# - **Instance norm** standardizes each channel on its own. Channels 0 and 1
#   differ only by a positive affine map, so they become identical; the two
#   gradients are each stretched to standard deviation 1.
# - **Group norm with G=2** standardizes the intensities together and the
#   gradients together. Within a group the channels keep their relative level
#   and spread: the bright copy stays above the digit, and a gradient that
#   varies more than the other in the input still does (see the statistics
#   below).

shown = [0, 3]
fig, axes = plt.subplots(len(outputs), C * len(shown), figsize=(12, 6.6),
                         constrained_layout=True)
for row, (name, Y) in enumerate(outputs.items()):
    panels = Y[shown].reshape(len(shown), C, 8, 8)
    if name == "input":
        norm = dict(cmap="viridis", vmin=panels.min(), vmax=panels.max())
    else:
        lim = np.abs(panels).max()
        norm = dict(cmap="RdBu_r", vmin=-lim, vmax=lim)
    for i in range(len(shown)):
        for c in range(C):
            ax = axes[row, i * C + c]
            im = ax.imshow(panels[i, c], **norm)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"image {shown[i]}\n{channel_names[c]}", fontsize="small")
    axes[row, 0].set_ylabel(name)
    fig.colorbar(im, ax=axes[row, :], shrink=0.9, pad=0.01)
fig.suptitle("Each row shares a color scale")

# %%
# The statistics behind it, for image 0: the mean and standard deviation of
# each channel after each method. Layer norm makes only the sample as a whole
# mean 0 and standard deviation 1; instance norm does it for each channel;
# group norm for each group (channels 0-1 and 2-3) taken together.


def channel_stats(Y, i):
    y = Y[i].reshape(C, -1)
    means = y.mean(axis=1).round(2) + 0.0  # + 0.0: no "-0.00"
    return " ".join(f"{m:6.2f} {s:5.2f} " for m, s in zip(means, y.std(axis=1)))


print(f"{'image 0':16s}" + "".join(f"{'channel ' + str(c):>14s}" for c in range(C))
      + f"{'whole sample':>14s}")
print(f"{'':16s}" + f"{'mean   std':>14s}" * (C + 1))
for name, Y in outputs.items():
    print(f"{name:16s}{channel_stats(Y, 0)}  {Y[0].mean().round(2) + 0.0:6.2f}"
          f" {Y[0].std():5.2f}")
groups = outputs["group norm, G=2"][0].reshape(2, -1)
print("group norm, channels 0-1 and 2-3: mean",
      ", ".join(f"{m:.2f}" for m in groups.mean(axis=1).round(2) + 0.0),
      "| std", ", ".join(f"{v:.2f}" for v in groups.std(axis=1)))

# %%
# ``sample_stats`` returns the statistics each method used, one (mean, std)
# per sample and group. They undo the transform:

inorm = scalers["instance norm"]
mean, std = inorm.sample_stats(X)
print(f"instance norm sample_stats shapes: {mean.shape}, {std.shape}")
print("image 0, per channel: mean", mean[0].round(2), "std", std[0].round(2))
print("inverse_transform recovers X:",
      np.allclose(inorm.inverse_transform(outputs["instance norm"], sample_stats=(mean, std)), X))

# %%
# Brightness and contrast
# -----------------------
#
# Each of these three per-sample methods removes any change of brightness (``+ b``) and of
# positive contrast (``* a``) over the statistics it pools: ``a * x + b`` has
# mean ``a * mean + b`` and standard deviation ``a * std``, so it is
# standardized to the same values. The column scalers learn one mean and
# standard deviation per pixel across the training images and apply them to
# every image, so a change of the image passes through.
#
# Here the four channels of one digit are changed by six combinations of
# contrast and brightness, the same for all channels. Only channel 0 is shown.
# :class:`~skscale.ZScoreScaler` and :class:`~skscale.BatchNormScaler` are
# fitted on the unchanged images. Each row's color scale is that of the
# unchanged image (first column); values beyond it saturate.
#
# Layer and instance normalization give the same output in every column; the
# column scalers let every change through.

column_scalers = {
    "z-score": ZScoreScaler().fit(X),
    "batch norm": BatchNormScaler().fit(X),
}
changes = [(1.0, 0.0), (0.5, 0.0), (2.0, 0.0), (1.0, 8.0), (0.5, 8.0), (2.0, -8.0)]
versions = np.stack([a * X[0] + b for a, b in changes])  # (6, C * 64)

methods = {"input": None, **column_scalers, "layer norm": scalers["layer norm"],
           "instance norm": scalers["instance norm"]}
fig, axes = plt.subplots(len(methods), len(changes), figsize=(9.5, 8),
                         constrained_layout=True)
for row, (name, scaler) in enumerate(methods.items()):
    Y = versions if scaler is None else scaler.transform(versions)
    panels = Y.reshape(len(changes), C, 8, 8)[:, 0]
    lim = np.abs(panels[0]).max()  # the unchanged image's range
    norm = (dict(cmap="viridis", vmin=panels.min(), vmax=panels.max()) if scaler is None
            else dict(cmap="RdBu_r", vmin=-lim, vmax=lim))
    for j, (a, b) in enumerate(changes):
        ax = axes[row, j]
        im = ax.imshow(panels[j], **norm)
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(f"{a:g} x + {b:g}".replace("+ -", "- "), fontsize="small")
    axes[row, 0].set_ylabel(name)
    fig.colorbar(im, ax=axes[row, :], shrink=0.9, pad=0.01,
                 extend="neither" if scaler is None else "both")
fig.suptitle("Channel 0 of one image under six brightness and contrast changes")

# %%
# Which change each method removes
# --------------------------------
#
# Each image in the data set now gets random changes of three kinds, with
# contrast ``a`` in [0.5, 2] and brightness ``b`` in [-10, 10]:
#
# - the same ``a, b`` for the whole image,
# - the same ``a, b`` within each group of channels (0-1 and 2-3),
# - a different ``a, b`` for each channel.
#
# The table gives the median and the largest absolute difference, over all
# images and features, between the output for the changed images and for the
# original ones. A per-sample method removes a change when its statistics are
# pooled over values that all got the same change. The small differences
# left then come from ``eps`` (``1e-5``, added to the variance): contrast
# scales the variance but not ``eps``. With ``eps=0`` (last row) they are
# rounding errors.

rng = np.random.default_rng(0)


def changed(X, per):
    """``a * X + b`` with one random (a, b) per sample and per block of ``per`` channels."""
    a = np.repeat(rng.uniform(0.5, 2.0, size=(n_samples, C // per)), per * 64, axis=1)
    b = np.repeat(rng.uniform(-10.0, 10.0, size=(n_samples, C // per)), per * 64, axis=1)
    return a * X + b


kinds = {"whole image": changed(X, C), "per group": changed(X, 2), "per channel": changed(X, 1)}
all_scalers = {**column_scalers, **scalers,
               "instance, eps=0": InstanceNormScaler(n_channels=C, eps=0).fit(X)}
print(f"{'|difference|':18s}" + "".join(f"{k:>20s}" for k in kinds))
print(f"{'':18s}" + f"{'median':>11s}{'max':>9s}" * len(kinds))
for name, scaler in all_scalers.items():
    reference = scaler.transform(X)
    cells = []
    for Xc in kinds.values():
        d = np.abs(scaler.transform(Xc) - reference)
        cells.append(f"{np.median(d):11.2g}{d.max():9.2g}")
    print(f"{name:18s}" + "".join(cells))

# %%
# The column scalers' largest differences are far above their median. They
# are at pixels that are (almost) constant over the training images, such as
# the border: a tiny standard deviation magnifies any change. Batch
# normalization divides by ``sqrt(running_var_ + eps)``, which is
# ``sqrt(1e-5)`` where the variance is 0, while
# :class:`~skscale.ZScoreScaler` gives an exactly constant feature a scale of
# 1.

train_std = X.std(axis=0)
for name, scaler in column_scalers.items():
    d = np.abs(scaler.transform(kinds["whole image"]) - scaler.transform(X))
    j = np.unravel_index(d.argmax(), d.shape)[1]
    print(f"{name}: largest difference at channel {j // 64}, pixel {j % 64};"
          f" its training std is {train_std[j]:.3g}")

# %%
# Layer normalization removes only a change of the whole image, group
# normalization also one per group, and instance normalization one per
# channel. What they remove is information too: after instance normalization
# the digit and its bright copy cannot be told apart, which layer and group
# normalization still allow. The column scalers remove none of these changes.

plt.show()
