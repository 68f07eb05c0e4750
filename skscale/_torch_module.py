"""An estimator's transform as a torch module.

This module imports torch: only ``to_torch()`` imports it.  The module
holds a copy of the fitted estimator (its arrays in numpy) and its forward
runs the estimator's device kernels (:mod:`skscale._device`) in torch's
namespace on the input's device, without the checks that would leave the
graph: the same arithmetic as :meth:`transform` under array API dispatch, in
operations that autograd differentiates and ``torch.export`` traces.
"""

import copy

import torch

from . import _array_api


class ScalerModule(torch.nn.Module):
    """``forward(x)`` is ``scaler.transform(x)`` for a tensor ``x``.

    The same shapes as ``transform`` (2-D, and N-D where the method takes
    it), the same dtype out as in (computed in float64), NaN passed through.
    Inputs that ``transform`` refuses with an error (an infinity, a value
    outside a logarithm's domain, a result beyond the dtype's range) come out
    non-finite here: a traced graph cannot stop to say which value it was.
    The parameters are constants of the module (made on the input's
    device at each call), not buffers: ``module.half()`` cannot round them.

    Parameters
    ----------
    scaler : skscale estimator
        Fitted (a per-sample scaler need not be); a copy of it is kept.
    """

    def __init__(self, scaler):
        super().__init__()
        scaler._check_traceable()
        self.scaler = _array_api.on_host(copy.deepcopy(scaler))

    def forward(self, x):
        return self.scaler._forward(x)

    def extra_repr(self):
        return repr(self.scaler)
