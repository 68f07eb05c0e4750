"""Trained PyTorch normalization layers as skscale estimators, and back.

A network's ``BatchNorm1d``, ``LayerNorm``, ``GroupNorm``, ``InstanceNorm2d``
or ``RMSNorm`` becomes the estimator that computes the same thing, with the
layer's learned values, so it can run in a scikit-learn pipeline; each
``from_torch`` first checks that the layer is one it represents, and names
the estimator to use where it is not.  The other way, an estimator's
parameters are written into a given layer of its kind (:func:`write_into`);
``to_torch()`` without a layer builds a module of the estimator's own
transform (:mod:`skscale._torch_module`).  torch is imported only here and
there, when a layer is given or a module asked for.
"""

import numpy as np


def _values(tensor):
    """A float64 numpy copy of a torch tensor (or None), wherever it lives."""
    return None if tensor is None else tensor.detach().cpu().double().numpy().copy()


def _affine(module):
    """``(scale, shift)`` of a layer: its weight and bias, or 1 and 0."""
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    return (1.0 if weight is None else _values(weight).ravel(),
            0.0 if bias is None else _values(bias).ravel())


def _kind(module):
    """The skscale method of a torch normalization layer (None: not one)."""
    import torch

    for cls, kind in ((torch.nn.modules.batchnorm._BatchNorm, "batch_norm"),
                      (torch.nn.modules.instancenorm._InstanceNorm, "instance_norm"),
                      (torch.nn.LayerNorm, "layer_norm"), (torch.nn.GroupNorm, "group_norm"),
                      (torch.nn.RMSNorm, "rms_norm")):
        if isinstance(module, cls):
            return kind
    return None


#: method -> (estimator, the layers it takes)
_HOMES = {
    "batch_norm": ("BatchNormScaler", "torch.nn.BatchNorm1d, 2d or 3d"),
    "instance_norm": ("InstanceNormScaler", "torch.nn.InstanceNorm1d, 2d or 3d"),
    "layer_norm": ("LayerNormScaler", "torch.nn.LayerNorm"),
    "group_norm": ("GroupNormScaler", "torch.nn.GroupNorm"),
    "rms_norm": ("RMSNormScaler", "torch.nn.RMSNorm"),
}


def _running(module):
    return getattr(module, "running_mean", None) is not None


def _expect(module, kind, call="from_torch"):
    """Refuse a ``module`` that is not a layer of ``kind``, naming what
    takes it."""
    name, takes = _HOMES[kind]
    got = _kind(module)
    if got == kind:
        return
    what = f"{name}.{call} takes a {takes}; got {module!r}."
    if got is None:
        raise TypeError(f"{what} skscale has no estimator for {type(module).__name__}.")
    home = _HOMES[got][0]
    if got == "batch_norm" and not _running(module):
        raise TypeError(f"{what} It normalizes each batch by its own statistics (no running"
                        f" statistics): {home}(...).normalize_batch(X) computes that.")
    if call == "to_torch":
        raise TypeError(f"{what} Write it from a {home} instead.")
    raise TypeError(f"{what} Use {home}.from_torch(layer) for it.")


def _refuse_no_running(module, remedy):
    raise ValueError(
        f"{module!r} keeps no running statistics (track_running_stats=False): it normalizes"
        f" every batch by the batch's own statistics, in evaluation mode too. {remedy}")


def batch_norm_from_torch(cls, module, batch_size, frozen):
    """A fitted ``cls`` (:class:`~skscale.BatchNormScaler`) holding the
    running statistics, step counter, ``eps``, ``momentum`` and affine
    parameters of the trained ``torch.nn.BatchNorm1d`` (or ``2d``/``3d``:
    per channel) ``module``; an ``InstanceNorm`` with running statistics
    gives its evaluation-mode map (frozen only).  Wrapped in
    ``sklearn.frozen.FrozenEstimator`` where ``frozen``."""
    from sklearn.frozen import FrozenEstimator

    instance = _kind(module) == "instance_norm" and _running(module)
    if not instance:
        _expect(module, "batch_norm")
    if not _running(module):
        _refuse_no_running(module, "BatchNormScaler(scale=..., shift=...).normalize_batch(X)"
                           " computes that for one batch; from_torch needs the statistics"
                           " of a trained layer.")
    if instance and not frozen:
        raise ValueError(
            f"{module!r} updates its running statistics from each sample's own variance,"
            " which batch normalization's training steps do not compute: its map is taken"
            " for inference only (frozen=True); continue its training in torch.")
    scale, shift = _affine(module)
    est = cls(momentum=module.momentum, eps=module.eps, batch_size=batch_size,
              scale=scale, shift=shift, channel_axis=1, warm_start=True)
    est.running_mean_ = _values(module.running_mean)
    est.running_var_ = _values(module.running_var)
    est.num_batches_tracked_ = int(module.num_batches_tracked)
    est.n_features_in_ = est.running_mean_.shape[0]
    est.n_samples_seen_ = 0  # the layer does not count them
    if instance:
        est._inference_only = type(module).__name__
    return FrozenEstimator(est) if frozen else est


def instance_norm_from_torch(cls, module):
    """``cls`` (:class:`~skscale.InstanceNormScaler`) for a
    ``torch.nn.InstanceNorm1d`` (``2d``, ``3d``): its channels, ``eps`` and
    affine parameters.  A layer with running statistics in evaluation mode
    normalizes by those, per channel: refused, naming what computes that."""
    _expect(module, "instance_norm")
    if _running(module) and not module.training:
        raise ValueError(
            f"{module!r} is in evaluation mode with running statistics: it normalizes each"
            " channel by the running mean and variance, not each sample by its own."
            " BatchNormScaler.from_torch(layer) represents that map (on (N, C, ...) input);"
            " InstanceNormScaler.from_torch(layer.train()) gives the per-sample"
            " normalization it computes in training mode.")
    scale, shift = _affine(module)
    return cls(n_channels=module.num_features, eps=module.eps, scale=scale, shift=shift)


def layer_norm_from_torch(cls, module):
    """``cls`` (:class:`~skscale.LayerNormScaler`) for ``torch.nn.LayerNorm``:
    its ``normalized_shape``, ``eps``, and weight and bias flattened."""
    _expect(module, "layer_norm")
    scale, shift = _affine(module)
    return cls(normalized_shape=tuple(module.normalized_shape), eps=module.eps,
               scale=scale, shift=shift)


def rms_norm_from_torch(cls, module):
    """``cls`` (:class:`~skscale.RMSNormScaler`) for ``torch.nn.RMSNorm``:
    its ``normalized_shape``, ``eps`` (None: the input dtype's machine
    epsilon, as torch) and weight flattened."""
    _expect(module, "rms_norm")
    scale, _ = _affine(module)
    return cls(normalized_shape=tuple(module.normalized_shape), eps=module.eps, scale=scale)


def group_norm_from_torch(cls, module):
    """``cls`` (:class:`~skscale.GroupNormScaler`) for ``torch.nn.GroupNorm``."""
    _expect(module, "group_norm")
    scale, shift = _affine(module)
    return cls(num_groups=module.num_groups, n_channels=module.num_channels,
               eps=module.eps, scale=scale, shift=shift)


def batch_norm_to_torch(est, module):
    """Write ``est``'s running statistics, counter and affine parameters into
    the ``torch.nn.BatchNorm1d`` (``2d``, ``3d``) ``module`` (in its dtype, on
    its device)."""
    _expect(module, "batch_norm", "to_torch")
    d = est.n_features_in_
    if not _running(module):
        raise ValueError(f"{type(module).__name__} has no running statistics"
                         " (track_running_stats=False) to receive the scaler's.")
    if module.num_features != d:
        raise ValueError(f"{type(module).__name__} has {module.num_features} features;"
                         f" the scaler has {d}.")
    gamma, beta = est._gamma_beta(d)
    _write(module, {"running_mean": est.running_mean_, "running_var": est.running_var_},
           gamma, beta)
    import torch

    with torch.no_grad():
        module.num_batches_tracked.fill_(int(est.num_batches_tracked_))
    module.eps, module.momentum = est.eps, est.momentum
    return module


def _write(module, values, gamma, beta):
    """Copy ``values`` (name -> array) and the affine parameters into
    ``module``'s tensors; a layer without affine parameters takes only
    neutral ones."""
    import torch

    with torch.no_grad():
        for name, value in (*values.items(), ("weight", gamma), ("bias", beta)):
            target = getattr(module, name, None)
            value = np.asarray(value, dtype=np.float64)
            if target is None:
                if name in ("weight", "bias") and np.any(value != (1.0 if name == "weight" else 0.0)):
                    raise ValueError(f"the scaler's {'scale' if name == 'weight' else 'shift'}"
                                     " is not neutral, and the layer has no affine parameters"
                                     f" to hold it (its {name} is None).")
                continue
            target.copy_(torch.as_tensor(np.broadcast_to(value, target.shape).copy()))


def per_sample_to_torch(est, module, kind):
    """Write the per-sample scaler ``est``'s ``eps`` and affine parameters
    into the torch layer ``module`` of its ``kind``, checked against its
    shape."""
    _expect(module, kind, "to_torch")
    if kind == "group_norm":
        shape, channels = (module.num_channels,), module.num_channels
        if est.num_groups != module.num_groups or est.n_channels not in (None, channels):
            raise ValueError(f"{module!r} has {module.num_groups} groups of {channels} channels;"
                             f" the scaler has num_groups={est.num_groups},"
                             f" n_channels={est.n_channels}.")
    elif kind == "instance_norm":
        if _running(module):
            raise ValueError(f"{module!r} keeps running statistics, which replace each"
                             " sample's own in evaluation mode: the scaler's map is that of"
                             " an InstanceNorm without them (track_running_stats=False).")
        shape = (module.num_features,)
        if est.n_channels not in (None, module.num_features):
            raise ValueError(f"{module!r} has {module.num_features} channels; the scaler has"
                             f" n_channels={est.n_channels}.")
    else:
        shape = tuple(module.normalized_shape)
        if est.normalized_shape is not None and _shape(est.normalized_shape) != shape:
            raise ValueError(f"{module!r} normalizes shape {shape}; the scaler has"
                             f" normalized_shape={est.normalized_shape!r}.")
    n = int(np.prod(shape))

    def shaped(param, neutral):  # a number, or one value per feature in the layer's shape
        value = est._per_feature(param, getattr(est, param, neutral), n, 1, (n,), neutral)
        return neutral if value is None else np.reshape(value, shape) if np.ndim(value) else value

    _write(module, {}, shaped("scale", 1.0), shaped("shift", 0.0))
    module.eps = est.eps
    return module


def batch_norm_layer_values(batch_norm):
    """``(mean, var, eps, gamma, beta)`` in float64 of a torch batch
    normalization with running statistics: its evaluation-mode map."""
    if _kind(batch_norm) not in ("batch_norm", "instance_norm"):
        raise TypeError(f"batch_norm must be a fitted BatchNormScaler or a torch"
                        f" BatchNorm1d, 2d or 3d; got {batch_norm!r}.")
    if not _running(batch_norm):
        _refuse_no_running(batch_norm, "Its evaluation-mode output depends on the batch, so"
                           " no fixed weights compute it.")
    if batch_norm.training:  # (as torch's own fuse_conv_bn_eval asks)
        raise ValueError(
            f"{batch_norm!r} is in training mode: it normalizes each batch by that batch's"
            " statistics, which no fixed weights compute. Folding gives its evaluation-mode"
            " map: call batch_norm.eval() first.")
    mean, var = _values(batch_norm.running_mean), _values(batch_norm.running_var)
    scale, shift = _affine(batch_norm)
    return (mean, var, float(batch_norm.eps), np.broadcast_to(scale, mean.shape),
            np.broadcast_to(shift, mean.shape))


def _shape(value):
    """A ``normalized_shape`` as a tuple of ints."""
    return (int(value),) if np.ndim(value) == 0 else tuple(int(v) for v in value)

