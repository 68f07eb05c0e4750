"""Trained PyTorch normalization layers as skscale estimators, and back.

A network's ``BatchNorm1d``, ``LayerNorm`` or ``GroupNorm`` becomes the
estimator that computes the same thing, with the layer's learned values,
so it can run in a scikit-learn pipeline; :func:`batch_norm_to_torch` hands
a batch normalization's running statistics back to a layer.  torch is only
read here, never imported: the module passed in is all that is needed.
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


def batch_norm_from_torch(cls, module, batch_size):
    """A fitted ``cls`` (:class:`~skscale.BatchNormScaler`) holding the
    running statistics, step counter, ``eps``, ``momentum`` and affine
    parameters of the trained ``torch.nn.BatchNorm1d`` (or ``2d``/``3d``:
    per channel) ``module``."""
    if getattr(module, "running_mean", None) is None:
        raise ValueError(f"{type(module).__name__} has no running statistics"
                         " (track_running_stats=False): there is nothing to transform with.")
    scale, shift = _affine(module)
    est = cls(momentum=module.momentum, eps=module.eps, batch_size=batch_size,
              scale=scale, shift=shift)
    est.running_mean_ = _values(module.running_mean)
    est.running_var_ = _values(module.running_var)
    est.num_batches_tracked_ = int(module.num_batches_tracked)
    est.n_features_in_ = est.running_mean_.shape[0]
    est.n_samples_seen_ = 0  # the layer does not count them
    return est


def batch_norm_to_torch(est, module):
    """Write ``est``'s running statistics, counter and affine parameters into
    the ``torch.nn.BatchNorm1d`` ``module`` (in its dtype, on its device)."""
    import torch

    d = est.n_features_in_
    if getattr(module, "running_mean", None) is None:
        raise ValueError(f"{type(module).__name__} has no running statistics"
                         " (track_running_stats=False) to receive the scaler's.")
    if module.num_features != d:
        raise ValueError(f"{type(module).__name__} has {module.num_features} features;"
                         f" the scaler has {d}.")
    gamma, beta = est._gamma_beta(d)
    with torch.no_grad():
        for name, value in (("running_mean", est.running_mean_), ("running_var", est.running_var_),
                            ("weight", gamma), ("bias", beta)):
            target = getattr(module, name, None)
            if target is None:
                if name in ("weight", "bias") and np.any(value != (1.0 if name == "weight" else 0.0)):
                    raise ValueError(f"the scaler's {'scale' if name == 'weight' else 'shift'}"
                                     " is not neutral, and the layer has no affine parameters.")
                continue
            target.copy_(torch.tensor(np.asarray(value, dtype=np.float64)))  # (a copy)
        module.num_batches_tracked.fill_(int(est.num_batches_tracked_))
    module.eps, module.momentum = est.eps, est.momentum
    return module


def layer_norm_from_torch(cls, module):
    """``cls`` (:class:`~skscale.LayerNormScaler`) for ``torch.nn.LayerNorm``:
    rows are the layer's ``normalized_shape`` flattened."""
    scale, shift = _affine(module)
    return cls(eps=module.eps, scale=scale, shift=shift)


def group_norm_from_torch(cls, module):
    """``cls`` (:class:`~skscale.GroupNormScaler`) for ``torch.nn.GroupNorm``:
    rows are ``(C, L)`` channel-major flattened."""
    scale, shift = _affine(module)
    return cls(num_groups=module.num_groups, n_channels=module.num_channels,
               eps=module.eps, scale=scale, shift=shift)
